"""Accounts through the HTML forms, the services and the CLI."""

import pytest

from forum.addresses import local_path
from forum.extensions import db
from forum.models import Role, User
from forum.services.accounts import accounts
from tests.conftest import PASSWORD


def test_register_logs_in_and_returns_to_next(client):
    response = client.post(
        "/auth/register",
        data={
            "username": "Newcomer",
            "email": "new@example.org",
            "password": "a long password",
            "next": "/articles/a-story?sort=top",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/articles/a-story?sort=top"
    page = client.get("/").get_data(as_text=True)
    assert "<strong>Newcomer</strong></a>" in page and "Signed in as" in page


def test_register_shows_every_problem_and_keeps_input(client):
    response = client.post(
        "/auth/register", data={"username": "x", "email": "nope", "password": "short"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Use 3 to 30 letters" in page
    assert "Enter a valid email address." in page
    assert "Use at least 10 characters." in page
    assert 'value="nope"' in page
    assert 'aria-invalid="true"' in page


def test_register_taken_username_case_insensitive(client, make):
    make.user("Alice")
    response = client.post(
        "/auth/register",
        data={"username": "aLiCe", "email": "other@example.org", "password": "a long password"},
    )
    assert response.status_code == 422
    assert "That username is taken." in response.get_data(as_text=True)


def test_passwords_are_argon2id(ctx):
    user = accounts.register("hashy", "hashy@example.org", "a long password")
    assert user.password_hash.startswith("$argon2id$")
    assert "a long password" not in user.password_hash


def test_login_and_logout(client, reader):
    response = client.post("/auth/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Signed in as" in client.get("/").get_data(as_text=True)
    assert client.get("/auth/logout").status_code == 200  # a confirmation page, not an action
    assert "Signed in as" in client.get("/").get_data(as_text=True)
    response = client.post("/auth/logout")
    assert response.status_code == 302
    assert "Signed in as" not in client.get("/").get_data(as_text=True)


def test_login_wrong_password(client, reader):
    response = client.post("/auth/login", data={"username": "alice", "password": "wrong one!!"})
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)
    response = client.post("/auth/login", data={"username": "ghost", "password": PASSWORD})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/%0d%0aSet-Cookie:x",
        "/\tevil",
        "",
    ],
)
def test_login_next_never_leaves_the_site(client, reader, target):
    response = client.post(
        "/auth/login", data={"username": "alice", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "evil" not in location or location.startswith("/%")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/articles/x#c1", "/articles/x#c1"),
        ("/?a=1", "/?a=1"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil", "/"),
        ("/ok\r\n", "/"),
        (None, "/"),
        (["/"], "/"),
    ],
)
def test_local_path(target, expected):
    assert local_path(target) == expected


def test_cli_users_create(runner, app):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "boss",
            "--email",
            "boss@example.org",
            "--password",
            PASSWORD,
            "--role",
            "admin",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "boss"))
        assert user.role == Role.ADMIN
        assert user.email_verified_at is not None  # the operator vouches for it
    again = runner.invoke(
        args=["users", "create", "BOSS", "--email", "b2@example.org", "--password", PASSWORD]
    )
    assert again.exit_code == 1
    assert "That username is taken." in again.output
    assert len(again.output.strip().splitlines()) == 1


def test_cli_users_create_rejects_bad_input(runner):
    result = runner.invoke(args=["users", "create", "x", "--email", "bad", "--password", "short"])
    assert result.exit_code == 1
    assert "username" in result.output and "password" in result.output
