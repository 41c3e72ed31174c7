"""Secrets at rest: private files and folders (forum.private_files), and the
sign-on and hook secrets stored sealed (forum.secretbox), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import stat

import pytest
from flask import Flask
from flask_mailman import Mail
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from forum import config as forum_config
from forum import create_app, secretbox
from forum.extensions import db
from forum.models import CommentStatus, Role, User
from forum.private_files import before_sqlite_connect, private_folder
from forum.services import settings
from forum.services.discussion import sites
from forum.services.notify import outbox, transports
from forum.services.notify.messages import OutboxEmail
from tests.conftest import AuthActions, _empty_tables
from tests.services.accounts.test_sso import NEWS, exchange, refused, sign
from tests.services.moderation.test_rules import Hook, configure, post

OTHER_KEY = "another secret key"
PLAIN = "p" * 43  # as long as the secrets the forum makes


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    """A umask that would leave new files readable by everyone."""
    before = os.umask(0o002)
    yield
    os.umask(before)


@pytest.fixture
def app(app_with):
    return app_with(FORUM_EMBED_ORIGINS=NEWS)


@pytest.fixture
def rekeyed(app, app_with):
    """The same database served with another SECRET_KEY (a changed key, or a
    backup restored onto another server)."""
    return app_with(FORUM_EMBED_ORIGINS=NEWS, SECRET_KEY=OTHER_KEY)


def raw(app, sql: str, **params):
    with app.app_context(), db.engine.connect() as connection:
        return connection.execute(text(sql), params).scalar()


# -- the box itself -------------------------------------------------------------------------


def test_seal_and_unseal():
    sealed = secretbox.seal("hunter2", "key one")
    assert sealed.startswith(secretbox.PREFIX) and "hunter2" not in sealed
    assert secretbox.seal("hunter2", "key one") != sealed  # a fresh IV each time
    assert secretbox.unseal(sealed, "key one") == "hunter2"
    assert secretbox.unseal(sealed, b"key one") == "hunter2"
    # A plain value stored before sealing began reads as it is.
    assert secretbox.unseal("plain from before", "key one") == "plain from before"
    for unreadable in (
        secretbox.seal("hunter2", "key two"),  # another SECRET_KEY
        sealed[:-4],  # damaged
        secretbox.PREFIX + "ünicode",
    ):
        with pytest.raises(secretbox.SecretUnreadable, match="set it again"):
            secretbox.unseal(unreadable, "key one")


def test_a_retired_key_in_secret_key_fallbacks_still_opens_secrets():
    sealed = secretbox.seal("hunter2", "the old key")
    rotated = Flask("rotated")
    rotated.secret_key = "the new key"
    rotated.config["SECRET_KEY_FALLBACKS"] = ["the old key"]
    with rotated.app_context():
        assert secretbox.unseal(sealed) == "hunter2"
        rotated.config["SECRET_KEY_FALLBACKS"] = []
        with pytest.raises(secretbox.SecretUnreadable):
            secretbox.unseal(sealed)


def test_the_key_derivation_never_changes():
    # Sealed in 2026: changing HKDF's labels would make every stored secret unreadable.
    sealed = (
        "sealed1:gAAAAABrFwmEnJlo2oLBA-9cNhm0w9ECTUuWMIYOlOeJOV_DnwlDuODJxZa0HT_awq2d9_3ueTCG"
        "sKP7t2Jj3P7UryPlbXHzOBqHBo3ncr65woZvvhLnP4g="
    )
    assert secretbox.unseal(sealed, "the key of 2026") == "a secret from before"


# -- files and folders ----------------------------------------------------------------------


def test_the_instance_folder_is_made_private(tmp_path, loose_umask):
    app = Flask("forum", instance_path=str(tmp_path / "instance"))
    forum_config.load(app, {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert mode(tmp_path / "instance") == 0o700
    assert mode(tmp_path / "instance" / "secret_key") == 0o600


def test_an_instance_folder_open_to_others_is_tightened(tmp_path, caplog):
    folder = tmp_path / "instance"
    folder.mkdir()
    folder.chmod(0o755)
    app = Flask("forum", instance_path=str(folder))
    with caplog.at_level(logging.WARNING, logger="forum.private_files"):
        forum_config.load(app, {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    assert mode(folder) == 0o700
    assert "was open to other users (mode 755)" in caplog.text


def test_the_apps_own_instance_folder_is_private(app):
    assert mode(app.instance_path) == 0o700


def test_a_sqlite_database_and_its_wal_are_private(tmp_path, loose_umask):
    path = tmp_path / "site.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "x"})
    with app.app_context():
        db.create_all()  # the first connection
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1 FROM users"))
            assert {f.name: mode(f) for f in tmp_path.iterdir()} == {
                "site.sqlite": 0o600,
                "site.sqlite-wal": 0o600,
                "site.sqlite-shm": 0o600,
            }
        db.engine.dispose()


def test_a_sqlite_database_open_to_others_is_tightened(tmp_path, caplog):
    path = tmp_path / "old.sqlite"
    path.touch(mode=0o644)
    path.chmod(0o644)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "x"})
    with caplog.at_level(logging.WARNING, logger="forum.private_files"), app.app_context():
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        db.engine.dispose()
    assert mode(path) == 0o600
    assert f"{path} was open to other users" in caplog.text


def test_in_memory_and_other_databases_are_left_alone(tmp_path, monkeypatch):
    class Dialect:
        def __init__(self, name):
            self.name = name

    monkeypatch.chdir(tmp_path)
    before_sqlite_connect(Dialect("sqlite"), None, [":memory:"], {})
    before_sqlite_connect(Dialect("sqlite"), None, ["file:x?mode=memory"], {"uri": True})
    before_sqlite_connect(Dialect("postgresql"), None, ["forum.sqlite"], {})
    assert list(tmp_path.iterdir()) == []
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    with app.app_context():
        db.create_all()
        assert db.session.execute(text("SELECT count(*) FROM users")).scalar() == 0


def test_a_folder_without_its_parent_is_left_to_sqlite(tmp_path):
    path = tmp_path / "missing" / "site.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "x"})
    with app.app_context(), pytest.raises(OperationalError, match="unable to open database file"):
        db.engine.connect()
    assert not path.parent.exists()


def test_eml_files_and_their_folder_are_private(app, make, tmp_path, loose_umask):
    folder = tmp_path / "outbox"
    app.config.update(FORUM_OUTBOX_DIR=str(folder), FORUM_SMTP_URL=None)
    reader = make.user()
    with app.test_request_context("/"):
        account = db.session.get(User, reader.id)
        outbox.enqueue_account_email(account, account.email, "Reset", "A live reset link")
        db.session.commit()
    with app.app_context():
        assert outbox.send_due().sent == 1
    (eml,) = folder.iterdir()
    assert eml.suffix == ".eml" and mode(eml) == 0o600
    assert mode(folder) == 0o700


def test_the_default_outbox_folder_is_tightened_a_named_one_is_not(tmp_path):
    default, named = tmp_path / "instance" / "outbox", tmp_path / "shared"
    for folder in (default, named):
        folder.mkdir(parents=True)
        folder.chmod(0o755)
    app = Flask("forum", instance_path=str(tmp_path / "instance"))
    Mail(app)
    app.config.update(FORUM_SMTP_URL=None, FORUM_OUTBOX_DIR=None)
    with app.app_context():
        transports.make_transport(app).send(_email())
        app.config["FORUM_OUTBOX_DIR"] = str(named)
        transports.make_transport(app).send(_email())
    assert (mode(default), mode(named)) == (0o700, 0o755)
    assert [mode(f) for f in [*default.iterdir(), *named.iterdir()]] == [0o600, 0o600]


def _email() -> OutboxEmail:
    return OutboxEmail(
        subject="Reset",
        body="A live reset link",
        from_email="forum <noreply@localhost>",
        to=["alice@example.org"],
        headers={"Message-ID": "<outbox.1.2@localhost>"},
    )


def test_private_folder_makes_parents_and_keeps_owner_bits(tmp_path, loose_umask):
    private_folder(tmp_path / "a" / "b")
    assert mode(tmp_path / "a" / "b") == 0o700
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o555)
    private_folder(read_only)
    assert mode(read_only) == 0o500
    read_only.chmod(0o700)


# -- the secrets, sealed --------------------------------------------------------------------


def new_secret(app) -> str:
    with app.app_context():
        secret = sites.new_sso_secret(None, NEWS)
        db.session.commit()
        return secret


@pytest.fixture
def alice(make):
    make.article("a-story", "A story")
    return make.user("alice")


def test_stored_secrets_are_sealed(app):
    secret = new_secret(app)
    configure(app, hook_secret="hook s3cret")
    stored_sso = raw(app, "SELECT sso_secret FROM embed_sites")
    stored_hook = raw(app, "SELECT value FROM settings WHERE key = 'hook_secret'")
    for stored, plain in ((stored_sso, secret), (str(stored_hook), "hook s3cret")):
        assert secretbox.PREFIX in stored and plain not in stored
    with app.app_context():
        assert sites.sso_secret_of(sites.site_for(NEWS)) == secret
        assert settings.secret(settings.current(), "hook_secret") == "hook s3cret"


def test_saving_the_same_hook_secret_again_changes_nothing(app):
    configure(app, hook_secret="k")
    with app.app_context():
        assert settings.save({"hook_secret": "k"}) == {}
        assert set(settings.save({"hook_secret": "k2"})) == {"hook_secret"}


def test_sso_works_with_the_sealed_secret(app, client):
    secret = new_secret(app)
    response = exchange(client, sign(secret))
    assert response.status_code == 201, response.json
    assert response.json["user"]["username"] == "ada"


def test_a_plain_secret_from_before_still_works(app, client):
    new_secret(app)
    with app.app_context():
        sites.site_for(NEWS).sso_secret = PLAIN
        db.session.commit()
    assert exchange(client, sign(PLAIN)).status_code == 201


def test_hook_is_signed_with_the_sealed_secret(app, client, alice):
    with Hook({"action": "hold", "reason": "checked"}) as hook:
        configure(app, hook_url=hook.url, hook_secret="s3cret")
        response = post(client, "alice", "a remark")
    assert response.json["comment"]["status"] == "pending"
    body, signature = hook.received[0]
    assert signature == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()


def test_a_changed_secret_key_refuses_sso_clearly(app, rekeyed):
    secret = new_secret(app)
    response = exchange(rekeyed.test_client(), sign(secret))
    refused(response, f"{NEWS}'s sign-on secret must be set again")
    # The admin's page still works, and a new secret made with this key is good.
    fresh = new_secret(rekeyed)
    assert exchange(rekeyed.test_client(), sign(fresh)).status_code == 201


def test_a_changed_secret_key_makes_the_hook_give_no_opinion(app, rekeyed, alice, caplog):
    with Hook({"action": "refuse", "reason": "no"}) as hook:
        configure(app, hook_url=hook.url, hook_secret="s3cret")
        with caplog.at_level(logging.WARNING, logger="forum.services.moderation.rules"):
            response = post(rekeyed.test_client(), "alice", "hello there")
        assert response.status_code == 201, response.json
        assert response.json["comment"]["status"] == CommentStatus.APPROVED.value
        assert hook.received == []
        assert "signing secret must be set again" in caplog.text
        # Entering it again (the old one cannot be read, so it is not "the same").
        configure(rekeyed, hook_secret="s3cret")
        assert post(rekeyed.test_client(), "alice", "again").status_code == 422


def test_admin_pages_work_with_a_changed_secret_key(app, rekeyed, make):
    new_secret(app)
    configure(app, hook_secret="s3cret")
    make.user("root", role=Role.ADMIN)
    client = rekeyed.test_client()
    assert AuthActions(client).login("root").status_code == 302
    assert client.get("/moderation/embedding/").status_code == 200
    assert client.get("/moderation/settings").status_code == 200


# -- backups --------------------------------------------------------------------------------


def test_a_backup_is_private_and_holds_secrets_only_sealed(app, runner, tmp_path):
    secret = new_secret(app)
    configure(app, hook_secret="hook s3cret")
    for name in ("full.json", "full.json.gz"):
        path = tmp_path / name
        result = runner.invoke(args=["export", str(path), "--with-secrets"])
        assert result.exit_code == 0, result.output
        assert mode(path) == 0o600
    content = (tmp_path / "full.json").read_text()
    assert secret not in content and "hook s3cret" not in content
    tables = json.loads(content)["tables"]
    sso = tables["embed_sites"]["columns"].index("sso_secret")
    assert tables["embed_sites"]["rows"][0][sso].startswith(secretbox.PREFIX)


def test_a_backup_restored_with_another_secret_key_needs_the_secrets_again(app, rekeyed, tmp_path):
    secret = new_secret(app)
    path = tmp_path / "full.json"
    assert app.test_cli_runner().invoke(args=["export", str(path), "--with-secrets"]).exit_code == 0

    for target, works in ((rekeyed, False), (app, True)):
        with target.app_context():
            db.session.remove()
            _empty_tables()
        result = target.test_cli_runner().invoke(args=["import-backup", str(path)])
        assert result.exit_code == 0, result.output
        response = exchange(target.test_client(), sign(secret))
        if works:
            assert response.status_code == 201, response.json
        else:
            refused(response, "sign-on secret must be set again")


# -- the migration --------------------------------------------------------------------------


def test_the_migration_seals_plain_secrets(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "migrated"})
    with app.app_context():
        upgrade(revision="0010")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO embed_sites (id, origin, allowed, sso_secret, created_at) "
                    "VALUES (1, :a, true, :plain, CURRENT_TIMESTAMP), "
                    "(2, :b, true, NULL, CURRENT_TIMESTAMP)"
                ),
                {"a": NEWS, "b": "https://two.example", "plain": PLAIN},
            )
            connection.execute(
                text("INSERT INTO settings (key, value) VALUES ('hook_secret', :v)"),
                {"v": json.dumps("old hook")},
            )
        upgrade()

        def stored():
            with db.engine.connect() as connection:
                return (
                    connection.execute(
                        text("SELECT sso_secret FROM embed_sites ORDER BY id")
                    ).all(),
                    connection.execute(
                        text("SELECT value FROM settings WHERE key = 'hook_secret'")
                    ).scalar(),
                )

        (first, second), hook = stored()
        hook = json.loads(hook) if isinstance(hook, str) and hook.startswith('"') else hook
        assert secretbox.is_sealed(first[0]) and second[0] is None
        assert secretbox.unseal(first[0]) == PLAIN
        assert secretbox.is_sealed(hook) and secretbox.unseal(hook) == "old hook"

        upgrade()  # sealed values are not sealed twice
        assert stored()[0][0][0] == first[0]

        downgrade(revision="0010")
        (first, _), hook = stored()
        hook = json.loads(hook) if isinstance(hook, str) and hook.startswith('"') else hook
        assert (first[0], hook) == (PLAIN, "old hook")
        db.engine.dispose()
