"""A publisher's `role` and `badges` claims (forum.services.accounts.sso), honoured
only for a site an admin switched on (EmbedSite.sso_roles, Moderation → Embedding).

Rules under test: a site may make a reader a moderator, never an admin; what it
gave it takes back (its token stops claiming it, or the switch goes off); what our
admins gave is never lowered; badges are checked, normalized and replaced at each
exchange; from a site without the switch both claims are ignored.
"""

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import AuditEntry, Role, SsoIdentity, User
from forum.services.accounts import sso
from forum.services.discussion import sites
from tests.conftest import AuthActions
from tests.services.accounts.test_sso import NEWS, TWO, exchange, new_secret, refused, sign


@pytest.fixture
def app(app_with):
    return app_with(FORUM_EMBED_ORIGINS=f"{NEWS} {TWO}")


@pytest.fixture
def secret(app):
    return new_secret(app)


def honour(app, origin=NEWS, on=True) -> int:
    with app.app_context():
        _, changed = sites.set_sso_roles(None, origin, on)
        db.session.commit()
        return changed


def account(app, username="ada") -> tuple[Role, list, str | None]:
    """(role, badges, the role the site gave) of the account."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        identity = db.session.scalar(select(SsoIdentity).where(SsoIdentity.user_id == user.id))
        return user.role, user.badges, identity.granted_role if identity else None


def set_role(app, username, role) -> None:
    """An admin of ours changing the role (the way the admin tools write it)."""
    with app.app_context():
        db.session.scalar(select(User).where(User.username == username)).role = role
        db.session.commit()


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def signed_in(client, token, site=NEWS):
    response = exchange(client, token, site)
    assert response.status_code == 201, response.json
    return response.json


# -- a site without the switch -----------------------------------------------------------------


def test_a_site_without_the_switch_has_both_claims_ignored(app, client, secret):
    answer = signed_in(client, sign(secret, role="moderator", badges=["Subscriber"]))
    assert answer["user"]["role"] == "reader"
    assert account(app) == (Role.READER, [], None)
    # Not even checked: a site that is not trusted with them cannot fail on them.
    signed_in(client, sign(secret, role="admin", badges="nonsense"))
    assert account(app) == (Role.READER, [], None)
    assert actions(app) == ["sso_secret_generated"]


# -- a site with the switch --------------------------------------------------------------------


def test_an_allowed_site_makes_a_moderator_and_gives_badges(app, client, secret):
    honour(app)
    answer = signed_in(
        client, sign(secret, role="moderator", badges=["Subscriber", " Since  2019 "])
    )
    assert answer["user"]["role"] == "moderator"
    assert account(app) == (Role.MODERATOR, ["Subscriber", "Since 2019"], "moderator")
    # The forum token it got is a moderator's: the moderation queue opens.
    bearer = {"Authorization": f"Bearer {answer['token']}"}
    assert client.get("/api/v1/moderation/queue/pending", headers=bearer).status_code == 200
    with app.app_context():
        granted = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "sso_role_granted")
        )
        assert granted.actor_id is None and NEWS in granted.reason
        assert granted.after == {"role": "moderator", "site": NEWS}


def test_badges_are_replaced_at_each_exchange(app, client, secret):
    honour(app)
    signed_in(client, sign(secret, badges=["Subscriber", "Founding member"]))
    assert account(app)[1] == ["Subscriber", "Founding member"]
    signed_in(client, sign(secret, badges=["Patron"]))
    assert account(app)[1] == ["Patron"]
    signed_in(client, sign(secret))  # none sent: none kept
    assert account(app)[1] == []
    # Repeats (in any case) count once; letters of any script are letters.
    signed_in(client, sign(secret, badges=["Abonné", "abonné", "Ｐａｔｒｏｎ"]))
    assert account(app)[1] == ["Abonné", "Patron"]


@pytest.mark.parametrize(
    "badges",
    [
        "Subscriber",  # not a list
        ["a", "b", "c", "d"],  # too many
        ["x" * 21],  # too long
        [""],
        ["   "],
        [42],
        [None],
        ["<b>bold</b>"],
        ["under_score"],
        ["nul\x00byte"],
        ["emoji 🎉"],
        {"name": "Subscriber"},
        ["Moderator"],  # the forum's own marks
        ["STAFF"],
        ["Subscriber", "admin"],
    ],
)
def test_malformed_badges_refuse_the_token_without_spending_it(app, client, secret, badges):
    honour(app)
    signed_in(client, sign(secret, badges=["Subscriber"]))
    token = sign(secret, badges=badges)
    refused(exchange(client, token), "badge")
    assert account(app)[1] == ["Subscriber"]  # unchanged
    # The site can fix its claims and send a token again: nothing was spent.
    with app.app_context():
        site = sites.site_for(NEWS)
        site.sso_roles = False
        db.session.commit()
    assert exchange(client, token).status_code == 201


@pytest.mark.parametrize("role", ["admin", "Admin", "editor", "", 1, ["moderator"], True])
def test_no_role_but_moderator_or_reader_is_accepted(app, client, secret, role):
    honour(app)
    response = exchange(client, sign(secret, role=role))
    refused(response, "cannot make an admin" if role == "admin" else "'role' claim must be")
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_a_role_the_site_gave_is_taken_back_when_the_claim_stops(app, client, secret):
    honour(app)
    signed_in(client, sign(secret, role="moderator"))
    assert account(app) == (Role.MODERATOR, [], "moderator")
    signed_in(client, sign(secret, role="moderator"))  # still claimed: kept
    assert account(app)[0] is Role.MODERATOR
    answer = signed_in(client, sign(secret))  # the claim is gone
    assert answer["user"]["role"] == "reader"
    assert account(app) == (Role.READER, [], None)
    signed_in(client, sign(secret, role="moderator"))  # and may come back
    signed_in(client, sign(secret, role="reader"))  # "reader" says the same as nothing
    assert account(app) == (Role.READER, [], None)
    assert actions(app)[1:] == [
        "sso_roles_on",
        "sso_role_granted",
        "sso_role_withdrawn",
        "sso_role_granted",
        "sso_role_withdrawn",
    ]


def test_a_role_our_admins_gave_is_never_lowered_by_a_site(app, client, secret):
    honour(app)
    signed_in(client, sign(secret))
    set_role(app, "ada", Role.MODERATOR)  # ours, not the site's
    signed_in(client, sign(secret, role="moderator"))  # nothing to give...
    assert account(app) == (Role.MODERATOR, [], None)
    signed_in(client, sign(secret))  # ...so nothing to take back
    assert account(app) == (Role.MODERATOR, [], None)

    # An admin of ours made the site's moderator an admin: the site cannot undo that.
    signed_in(client, sign(secret, sub="reader-7", username="bea", role="moderator"))
    assert account(app, "bea") == (Role.MODERATOR, [], "moderator")
    set_role(app, "bea", Role.ADMIN)
    signed_in(client, sign(secret, sub="reader-7", username="bea"))
    assert account(app, "bea") == (Role.ADMIN, [], None)


def test_a_role_an_admin_confirms_by_hand_is_ours_from_then_on(app, client, secret):
    honour(app)
    signed_in(client, sign(secret, role="moderator"))
    with app.app_context():
        # What the admin tools call when an admin sets a role (users' admin page, CLI).
        sso.forget_granted_role(db.session.scalar(select(User).where(User.username == "ada")))
        db.session.commit()
    signed_in(client, sign(secret))
    assert account(app) == (Role.MODERATOR, [], None)


def test_switching_off_takes_back_at_once_what_the_site_gave(app, client, secret):
    honour(app)
    signed_in(client, sign(secret, role="moderator", badges=["Subscriber"]))
    signed_in(client, sign(secret, sub="reader-7", username="bea", badges=["Patron"]))
    signed_in(client, sign(secret, sub="reader-8", username="cyd"))
    set_role(app, "cyd", Role.MODERATOR)  # ours
    # Another site's readers keep what their site gave.
    two_secret = new_secret(app, TWO)
    honour(app, TWO)
    signed_in(client, sign(two_secret, sub="t-1", username="dee", role="moderator"), TWO)

    assert honour(app, on=False) == 2  # ada (role and badge) and bea (badge)
    assert account(app) == (Role.READER, [], None)
    assert account(app, "bea") == (Role.READER, [], None)
    assert account(app, "cyd") == (Role.MODERATOR, [], None)
    assert account(app, "dee") == (Role.MODERATOR, [], "moderator")
    with app.app_context():
        off = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "sso_roles_off"))
        assert off.after == {"origin": NEWS, "sso_roles": False, "accounts_changed": 2}

    # From then on the claims are ignored again.
    signed_in(client, sign(secret, role="moderator", badges=["Subscriber"]))
    assert account(app) == (Role.READER, [], None)


def test_switching_twice_records_one_change(app):
    new_secret(app)
    honour(app)
    honour(app)
    honour(app, on=False)
    honour(app, on=False)
    assert actions(app) == ["sso_secret_generated", "sso_roles_on", "sso_roles_off"]


def test_a_badge_cannot_pass_for_the_forums_own_marks(app, client, secret):
    honour(app)
    response = exchange(client, sign(secret, badges=["Mod"]))
    refused(response, "'Mod' is a mark of the forum's own")


def test_badges_helper_normalizes_spaces_and_width():
    assert sso.badges_from(["  Long   time\treader "]) == ["Long time reader"]
    assert sso.badges_from(["Ｖ－１"]) == ["V-1"]
    assert sso.badges_from(None) == []


# -- the admin page ------------------------------------------------------------------------------


@pytest.fixture
def admin_client(app, make):
    make.user("root", role=Role.ADMIN)
    client = app.test_client()
    AuthActions(client).login("root")
    return client


def test_the_admin_page_switches_roles_and_badges_on_and_off(app, admin_client, secret, client):
    page = admin_client.get("/moderation/embedding/").get_data(as_text=True)
    assert "claims ignored" in page and "Honour roles and badges" in page
    response = admin_client.post(
        "/moderation/embedding/origins/roles", data={"origin": NEWS, "sso_roles": "1"}
    )
    assert response.status_code == 302
    page = admin_client.get("/moderation/embedding/").get_data(as_text=True)
    assert "may now make moderators and give badges" in page
    assert "claims honoured" in page and "Ignore roles and badges" in page
    with app.app_context():
        assert sites.site_for(NEWS).sso_roles is True

    signed_in(client, sign(secret, role="moderator"))
    admin_client.post(
        "/moderation/embedding/origins/roles", data={"origin": NEWS, "sso_roles": "0"}
    )
    page = admin_client.get("/moderation/embedding/").get_data(as_text=True)
    assert "ignored from now on (1 account(s) lost a role or badges it gave)" in page
    assert account(app)[0] is Role.READER
    log = admin_client.get("/moderation/log?action=sso_roles_off").get_data(as_text=True)
    assert "sso roles off" in log and NEWS in log


def test_the_switch_is_for_admins_only_and_known_sites(app, make, admin_client, secret):
    make.user("mona", role=Role.MODERATOR)
    moderator = app.test_client()
    AuthActions(moderator).login("mona")
    path = "/moderation/embedding/origins/roles"
    assert moderator.post(path, data={"origin": NEWS, "sso_roles": "1"}).status_code == 403
    with app.app_context():
        assert sites.site_for(NEWS).sso_roles is False
    # An origin nobody set up, or none at all: a message, not an error page.
    for data in ({"origin": "https://else.example", "sso_roles": "1"}, {"sso_roles": "1"}):
        response = admin_client.post(path, data=data, follow_redirects=True)
        assert response.status_code == 200
        assert "not on the list" in response.get_data(as_text=True) or "origin" in (
            response.get_data(as_text=True)
        )


def test_the_admin_tools_make_a_confirmed_role_ours(app, client, secret, runner):
    """The site made ada a moderator; an operator sets that same role with
    `flask users set-role`: a later token without the claim leaves it."""
    honour(app)
    signed_in(client, sign(secret, role="moderator"))
    result = app.test_cli_runner().invoke(args=["users", "set-role", "ada", "moderator"])
    assert result.exit_code == 0, result.output
    signed_in(client, sign(secret))
    assert account(app) == (Role.MODERATOR, [], None)
