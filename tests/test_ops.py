"""Probes, request ids and JSON logs: what an operator and a load balancer rely on."""
import io
import json
import logging
import os

import pytest

from bench.gunicorn import Gunicorn
from bench.processes import free_port
from tracker import create_app
from tracker.db import dispose_engines
from tracker.logs import log_handler


def test_healthz_answers_without_a_learner_or_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers  # a probe must not mint anonymous learners


def test_readyz_reports_database_and_content(client, demo, app):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["database"]) == ("ready", "ok")
    assert body["content"]["modules"] == len(demo.modules)
    assert body["content"]["fingerprint"] == app.extensions["tracker.content"].loaded_fingerprint
    assert body["content"]["last_reload_error"] is None


def test_readyz_shows_a_refused_content_reload_and_stays_ready(database_url, editable_content):
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url, "TRACKER_CONTENT_DIR": str(editable_content),
        "TRACKER_CONTENT_CHECK_S": 0, "SECRET_KEY": "test", "TESTING": True,
    })
    try:
        store = app.extensions["tracker.content"]
        served = store.loaded_fingerprint
        broken = sorted(editable_content.rglob("*.md"))[0]
        broken.write_text("---\nid: not-a-uuid\n---\n")
        assert store.reload_if_changed() is False
        body = app.test_client().get("/readyz").get_json()
        assert body["status"] == "ready"  # the previous content is still served
        assert body["content"]["fingerprint"] == served
        assert broken.name in body["content"]["last_reload_error"]
    finally:
        dispose_engines(app)


def test_readyz_is_503_when_the_database_is_unreachable(content_dir):
    # Nothing listens on this port: the connection is refused at once.
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none",
        "TRACKER_CONTENT_DIR": str(content_dir), "SECRET_KEY": "test", "TESTING": True,
    })
    try:
        client = app.test_client()
        response = client.get("/readyz")
        assert response.status_code == 503
        body = response.get_json()
        assert (body["status"], body["database"]) == ("unavailable", "unreachable")
        assert client.get("/healthz").status_code == 200  # alive, just not ready: don't restart it
    finally:
        dispose_engines(app)


def test_a_usable_request_id_is_echoed_and_logged(client, app):
    stream = io.StringIO()
    handler = log_handler("json", stream)
    logger = logging.getLogger("tracker.test_ops")
    logger.addHandler(handler)

    @app.get("/_log_probe")
    def log_probe():
        logger.warning("inside the request")
        return "ok"

    try:
        response = client.get("/_log_probe", headers={"X-Request-ID": "edge-42.a"})
    finally:
        logger.removeHandler(handler)
    assert response.headers["X-Request-ID"] == "edge-42.a"
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["request_id"] == "edge-42.a"
    assert (line["level"], line["logger"], line["message"]) == ("WARNING", "tracker.test_ops", "inside the request")
    assert "time" in line


@pytest.mark.parametrize("offered", ["", "x" * 129, "bad id", "<script>", "a/../b", "ü"])
def test_an_unusable_request_id_is_replaced(client, offered):
    response = client.get("/healthz", headers={"X-Request-ID": offered})
    request_id = response.headers["X-Request-ID"]
    assert request_id != offered and len(request_id) == 32 and int(request_id, 16) >= 0


def test_every_response_carries_a_request_id_even_errors(client):
    assert client.get("/no/such/page").headers["X-Request-ID"]
    assert client.post("/api/progress/time", data="{").headers["X-Request-ID"]


def test_production_gunicorn_config_serves_json_access_logs(tmp_path, sqlite_url, content_dir):
    """gunicorn.conf.py as scripts/serve uses it: gthread workers, JSON lines with the request id."""
    port = free_port()
    env = {
        **os.environ, "PORT": str(port), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2",
        "DATABASE_URL": sqlite_url, "SECRET_KEY": "test", "TRACKER_CONTENT_DIR": str(content_dir),
    }
    server = Gunicorn(["-c", "gunicorn.conf.py", "wsgi:app"], port=port, env=env,
                      log=tmp_path / "access.log", errors=tmp_path / "error.log")
    try:
        # Polled until it answers: a liveness guard while gunicorn boots, not a speed check.
        body = server.wait_ready("/readyz", status=200, headers={"X-Request-ID": "probe-1"})
        assert json.loads(body)["status"] == "ready"
    finally:
        stopped = server.stop()
    assert stopped, "gunicorn did not stop within 30 s of SIGTERM"
    access_lines = [json.loads(line) for line in (tmp_path / "access.log").read_text().splitlines()]
    probe = [line for line in access_lines if line["request_id"] == "probe-1"]
    assert probe and probe[0]["path"] == "/readyz" and probe[0]["status"] == "200"
    assert probe[0]["method"] == "GET" and probe[0]["duration_ms"] >= 0
    error_lines = [json.loads(line) for line in (tmp_path / "error.log").read_text().splitlines() if line]
    assert any("Using worker: gthread" in line["message"] for line in error_lines)
