"""/readyz (for a load balancer: store, index fingerprint, feedback database) next to /healthz (liveness)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.settings import Settings


@pytest.fixture()
def app_and_assistant(tmp_path: Path):
    from assistant.answer import Assistant
    from assistant.api import create_app

    settings = Settings.from_env(environ={}, embedder="fake", data_dir=tmp_path / "data")
    assistant = Assistant.create(settings)
    return TestClient(create_app(settings, assistant)), assistant, settings


def test_readyz_is_200_with_every_check_ok(app_and_assistant) -> None:
    client, _, _ = app_and_assistant
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"store": "ok", "index": "ok", "feedback": "ok"}}


def test_readyz_is_503_when_the_stored_index_has_another_fingerprint(app_and_assistant) -> None:
    client, assistant, _ = app_and_assistant
    handle = assistant.retriever.collection
    handle.collection.modify(metadata={"fingerprint": "building", "embedder": "fake"})  # e.g. a build under way
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {
        "detail": "服务尚未就绪，请稍后再试。",
        "checks": {"store": "ok", "index": f"索引版本不符（building，应为 {handle.fingerprint}）", "feedback": "ok"},
    }
    assert client.get("/healthz").status_code == 200


def test_readyz_is_503_when_the_feedback_database_is_unreadable(app_and_assistant) -> None:
    client, _, settings = app_and_assistant
    settings.feedback_db.unlink()
    settings.feedback_db.mkdir()  # a folder where the database file should be: sqlite cannot open it
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["feedback"] == "反馈数据库不可用（OperationalError）"
