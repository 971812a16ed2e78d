"""Shared fixtures: a tiny fixture notice, the real notice's chunks, and an Assistant on the fake embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.settings import PROJECT_ROOT, Settings

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def mini_notice_text() -> str:
    return (FIXTURES / "mini_notice.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def notice_text() -> str:
    return (PROJECT_ROOT / "knowledge" / "xihu-2024-high-quality-development.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def chunks(notice_text: str):
    from assistant.notice import parse_notice

    return parse_notice(notice_text)


@pytest.fixture(scope="session")
def fake_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The real knowledge folder, the fake embedder, a throwaway data dir."""
    return Settings.from_env(environ={}, embedder="fake", data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def fake_assistant(fake_settings: Settings):
    from assistant.answer import Assistant

    return Assistant.create(fake_settings)


@pytest.fixture()
def mini_settings(tmp_path: Path, mini_notice_text: str) -> Settings:
    """A knowledge folder holding the fixture notice (plus the real lexicon, scope and rules)."""
    knowledge = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", knowledge)
    (knowledge / "xihu-2024-high-quality-development.txt").write_text(mini_notice_text, encoding="utf-8")
    return Settings.from_env(environ={}, embedder="fake", knowledge_dir=knowledge, data_dir=tmp_path / "data")
