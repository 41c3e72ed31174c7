"""The demo site, configuration, rate limits and the CLI re-render."""

import os
import re
import stat

import pytest

from forum import config as forum_config
from forum import create_app
from forum.extensions import db
from forum.models import Article, Comment, User
from tests.conftest import PASSWORD


def test_demo_load_is_idempotent_and_pages_work(runner, client, app):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0 and "loaded" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0 and "nothing to do" in second.output
    assert "Demo moderator" not in second.output  # its password is shown once only
    with app.app_context():
        assert db.session.query(Article).count() == 3
        comments = db.session.query(Comment).count()
        assert comments >= 12
        assert db.session.query(User).count() == 8
    page = client.get("/articles/welcome-to-the-forum")
    assert page.status_code == 200
    lantern = client.get("/articles/the-lantern-coast-season-two-first-look").get_data(as_text=True)
    assert "Share your theories below" in lantern
    assert 'class="comments replies"' in lantern
    assert "Editors’ picks" in lantern and "Contains spoilers — show" in lantern
    assert "||" not in lantern  # the inline spoiler became markup, not text
    theories = client.get(
        "/articles/the-lantern-coast-season-two-first-look?tab=theories"
    ).get_data(as_text=True)
    assert theories.count('class="theory-card"') == 3
    index = client.get("/").get_data(as_text=True)
    assert "Welcome to the forum" in index and "The Lantern Coast" in index
    # One article in another language, with its discussion, never translated.
    reloj = client.get("/articles/el-reloj-de-cadiz-tercera-temporada").get_data(as_text=True)
    assert "Dejad vuestras teorías abajo" in reloj
    assert "El reloj guarda la hora del crimen" in reloj
    assert "El reloj de Cádiz" in index
    # Demo readers cannot be signed into with a guessable password.
    assert (
        client.post(
            "/api/v1/tokens", json={"username": "harbourlight", "password": PASSWORD}
        ).status_code
        == 401
    )


def test_rerender_rebuilds_stored_html(runner, app, make, reader):
    make.article("a-story")
    cid = make.comment(reader, "a-story", "**strong**")
    with app.app_context():
        db.session.get(Comment, cid).html = "stale"
        db.session.commit()
    result = runner.invoke(args=["rerender"])
    assert result.exit_code == 0
    assert make.get(Comment, cid).html == "<p><strong>strong</strong></p>"


def test_environment_overrides(monkeypatch, database):
    monkeypatch.setenv("FORUM_MODERATION", "PRE")
    monkeypatch.setenv("FORUM_EDIT_WINDOW_MINUTES", "30")
    monkeypatch.setenv("FORUM_RATELIMIT", "off")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "x"})
    assert app.config["FORUM_MODERATION"] == "pre"
    assert app.config["FORUM_EDIT_WINDOW_MINUTES"] == 30
    assert app.config["RATELIMIT_ENABLED"] is False


def test_bad_moderation_setting_fails_clearly(monkeypatch):
    monkeypatch.setenv("FORUM_MODERATION", "sometimes")
    with pytest.raises(ValueError, match="FORUM_MODERATION"):
        create_app({"SECRET_KEY": "x"})


def test_secret_key_is_generated_once_and_private(tmp_path, monkeypatch):
    key = forum_config._instance_secret(tmp_path)
    path = tmp_path / "secret_key"
    assert len(key) == 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert forum_config._instance_secret(tmp_path) == key


def test_rate_limit_answers_429_with_retry_after(app_with):
    client = app_with(FORUM_RATELIMIT="on").test_client()
    statuses = [client.post("/api/v1/users", json={"username": "x"}).status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
    response = client.post("/api/v1/users", json={"username": "x"})
    assert response.json["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0
    page = client.post("/auth/register", data={"username": "x"})
    assert page.status_code == 422  # the HTML form has its own counter: not limited yet


def test_https_setting_secures_cookies_and_sends_hsts(app_with, make):
    app = app_with(FORUM_HTTPS="1")
    client = app.test_client()
    response = client.get("/")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    plain = app_with().test_client().get("/")
    assert "Strict-Transport-Security" not in plain.headers


def test_the_demo_moderator_has_work_waiting(runner, app):
    loaded = runner.invoke(args=["demo", "load"])
    password = re.search(r"demo_moderator with the password (\S+) ", loaded.output).group(1)
    moderator = app.test_client()
    signed_in = moderator.post(
        "/auth/login", data={"username": "demo_moderator", "password": password}
    )
    assert signed_in.status_code == 302
    pending = moderator.get("/moderation/queue/pending").get_data(as_text=True)
    assert "cheap-episodes.example" in pending
    reported = moderator.get("/moderation/queue/reported").get_data(as_text=True)
    assert "should not be allowed near a mystery" in reported
