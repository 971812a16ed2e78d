"""Settings: defaults, XIHU_* overrides, the CHROMA_* aliases."""

from pathlib import Path

from assistant.settings import Settings


def test_defaults_bind_loopback_and_use_the_embedded_store():
    settings = Settings.from_env(environ={})
    assert (settings.host, settings.port, settings.chroma_host) == ("127.0.0.1", 7860, "")
    assert settings.embedder == "sentence-transformers"


def test_env_overrides_are_typed():
    settings = Settings.from_env(environ={"XIHU_PORT": "8080", "XIHU_DATA_DIR": "/tmp/x", "XIHU_LLM_TIMEOUT_S": "2.5"})
    assert (settings.port, settings.data_dir, settings.llm_timeout_s) == (8080, Path("/tmp/x"), 2.5)


def test_chroma_aliases_and_prefixed_names():
    assert Settings.from_env(environ={"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": "9000"}).chroma_port == 9000
    both = Settings.from_env(environ={"CHROMA_HOST": "a", "XIHU_CHROMA_HOST": "b"})
    assert both.chroma_host == "b"


def test_every_setting_is_described():
    assert all(help_text for _env, _value, help_text in Settings().describe())
