"""A new account is given the language it signed up in (forum.i18n.current()),
whichever door it came through: the registration page, the API, a guest's first
comment.  Outside a request (the command line), or while only one language
ships, it gets none, and follows the browser.  Refusals reach JSON as plain
text, whatever language they are in.

Until catalogs ship, the locales are configured by hand (as in
tests/views/test_languages.py): the words stay English, the choosing is tested."""

from __future__ import annotations

import pytest
from flask_babel import lazy_gettext
from sqlalchemy import select

from forum.errors import NotFound, ValidationError
from forum.extensions import db
from forum.models import User
from forum.services.accounts import accounts, proof
from forum.services.discussion import threads
from tests.conftest import PASSWORD

SPANISH = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}


@pytest.fixture
def app(app_with):
    return app_with(
        FORUM_LOCALES=["en", "es"],
        FORUM_GUESTS="on",
        FORUM_SETTINGS_DEFAULTS={"guest_proof_bits": 8, "guest_min_seconds": 0},
    )


def locale_of(app, username: str) -> str | None:
    with app.app_context():
        return db.session.scalar(select(User.locale).where(User.username == username))


def test_registering_on_the_page_keeps_the_browsers_language(app):
    response = app.test_client().post(
        "/auth/register",
        data={"username": "lucia", "email": "lucia@example.org", "password": PASSWORD},
        headers=SPANISH,
    )
    assert response.status_code == 302
    assert locale_of(app, "lucia") == "es"


def test_registering_through_the_api_keeps_the_chosen_language(app):
    client = app.test_client()
    response = client.post(
        "/api/v1/users?lang=es",
        json={"username": "mateo", "email": "mateo@example.org", "password": PASSWORD},
    )
    assert response.status_code == 201
    assert locale_of(app, "mateo") == "es"
    english = client.post(
        "/api/v1/users?lang=en",
        json={"username": "oliver", "email": "oliver@example.org", "password": PASSWORD},
    )
    assert english.status_code == 201
    assert locale_of(app, "oliver") == "en"


def test_a_guest_is_written_to_in_the_language_they_commented_in(app):
    with app.app_context():
        threads.save_article("a-story", "A story", "Text.")
        db.session.commit()
    client = app.test_client()
    answer = client.get("/api/v1/guest-challenge").json
    response = client.post(
        "/api/v1/threads/a-story/comments",
        json={
            "body": "Qué giro.",
            "guest_name": "Wren",
            "guest_email": "wren@example.org",
            "guest_proof": {
                "challenge": answer["challenge"],
                "nonce": proof.solve(answer["challenge"], answer["bits"]),
            },
        },
        headers=SPANISH,
    )
    assert response.status_code == 201, response.json
    with app.app_context():
        guest = db.session.scalar(select(User).where(User.is_guest.is_(True)))
        assert guest.locale == "es"


def test_an_account_made_outside_a_request_follows_the_browser(app):
    with app.app_context():
        accounts.register("cli_made", "cli@example.org", PASSWORD)
        db.session.commit()
    assert locale_of(app, "cli_made") is None


def test_with_one_language_shipped_nothing_is_chosen_for_the_reader(app_with):
    app = app_with(FORUM_LOCALES=["en"])
    response = app.test_client().post(
        "/api/v1/users",
        json={"username": "solo", "email": "solo@example.org", "password": PASSWORD},
        headers=SPANISH,
    )
    assert response.status_code == 201
    assert locale_of(app, "solo") is None


def test_refusals_carry_plain_text_for_json():
    refused = ValidationError(fields={"body": lazy_gettext("Write something first.")})
    assert type(refused.message) is str and refused.message == "Some fields need another look."
    body = refused.fields["body"]
    assert type(body) is str and body == "Write something first."
    assert type(NotFound().message) is str and str(NotFound()) == "There is nothing here."
