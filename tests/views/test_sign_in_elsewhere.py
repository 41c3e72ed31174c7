"""Signing in with an account elsewhere, against a real OpenID provider on
loopback (tests/oidc_provider.py): the forum discovers it, sends the reader
there, and takes the code back over real HTTP.  The reader's browser is the
test client on our side and `requests` on the provider's.

What a reader notices: a first sign-in asks for a username and makes the
account then; the next lands on the same account; an account here with the
same email is never taken over; every forged or broken answer (state, replayed
code, audience, expiry, nonce, signature, issuer) is a refusal page, nobody
signed in and no account made.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from forum import create_app
from forum.extensions import db
from forum.models import ExternalIdentity, OutboxMessage, User, utcnow
from forum.services.accounts import accounts, external, oidc_client
from tests.conftest import PASSWORD, AuthActions, _test_config
from tests.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    new_key,
    provider_config,
    running_provider,
)
from tests.views.test_xss_corpus import CORPUS, browser_safe, escaped, page_problems, report


@pytest.fixture(scope="module")
def provider_server():
    with running_provider() as provider:
        yield provider


@pytest.fixture
def provider(provider_server):
    """The module's provider, its test-made changes undone before each test."""
    fresh = type(provider_server)()
    for name in ("user", "github_user", "github_emails", "id_token_changes", "id_token_omits"):
        setattr(provider_server, name, getattr(fresh, name))
    provider_server.signing_key = fresh.signing_key
    return provider_server


@pytest.fixture
def app(app_with, provider):
    return app_with(FORUM_SIGN_IN_PROVIDERS=provider_config(provider))


def signed_in_as(client) -> str | None:
    user = client.get("/api/v1/session").json["user"]
    return user["username"] if user else None


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def to_provider_and_back(client, start="/auth/external/oidc?next=/articles/here") -> str:
    """Press the button, let the provider approve over HTTP; the callback path
    (with code and state) the provider sends the browser back to."""
    started = client.get(start)
    assert started.status_code == 302, started.text
    approval = requests.get(started.headers["Location"], allow_redirects=False, timeout=10)
    assert approval.status_code == 302, approval.text
    back = approval.headers["Location"]
    assert back.startswith("http://localhost/auth/external/oidc/callback?")
    return local(back)


def sign_in(client, username="chosen-name", start="/auth/external/oidc?next=/articles/here"):
    """The whole first sign-in; the answer to the username form."""
    back = client.get(to_provider_and_back(client, start))
    assert back.status_code == 302 and back.headers["Location"] == "/auth/choose-username"
    return client.post("/auth/choose-username", data={"username": username})


def account_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def refused(response) -> bool:
    return response.status_code == 400 and "Signing in did not work" in response.text


# -- the flow ------------------------------------------------------------------------------


def test_the_sign_in_request_carries_pkce_state_and_nonce_and_our_own_address(
    app, client, provider
):
    started = client.get("/auth/external/oidc")
    location = urlsplit(started.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{provider.issuer}/authorize"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) >= 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["scope"] == "openid email profile" and query["client_id"]
    assert query["redirect_uri"] == "http://localhost/auth/external/oidc/callback"
    # A Host header of someone else's never becomes the redirect address.
    other = app.test_client().get("/auth/external/oidc", headers={"Host": "evil.example"})
    assert other.status_code == 400


def test_a_first_sign_in_asks_for_a_username_and_the_second_lands_on_the_same_account(
    app, client, provider
):
    back = client.get(to_provider_and_back(client))
    assert back.headers["Location"] == "/auth/choose-username"
    assert signed_in_as(client) is None and account_count(app) == 0  # nothing made yet
    form = client.get("/auth/choose-username")
    assert form.status_code == 200
    assert 'value="provreader"' in form.text and "Provider Reader" in form.text
    taken = client.post("/auth/choose-username", data={"username": "x"})
    assert taken.status_code == 422 and account_count(app) == 0
    done = client.post("/auth/choose-username", data={"username": "chosen-name"})
    assert done.status_code == 302 and done.headers["Location"] == "/articles/here"
    assert signed_in_as(client) == "chosen-name"
    with app.app_context():
        user = db.session.scalar(select(User))
        identity = db.session.scalar(select(ExternalIdentity))
        assert (user.username, user.display_name) == ("chosen-name", "Provider Reader")
        assert user.email == "reader@provider.example" and user.email_verified_at is not None
        assert (identity.provider, identity.subject, identity.user_id) == (
            "oidc",
            "subject-1",
            user.id,
        )
    # No password works for it (it has none).
    assert AuthActions(app.test_client()).login("chosen-name", "!").status_code == 401

    again = app.test_client()
    back = again.get(to_provider_and_back(again, "/auth/external/oidc?next=/elsewhere"))
    assert back.status_code == 302 and back.headers["Location"] == "/elsewhere"
    assert signed_in_as(again) == "chosen-name" and account_count(app) == 1


def test_a_suggested_name_already_taken_is_made_unique(app, make, client, provider):
    make.user("provreader")
    client.get(to_provider_and_back(client))
    assert 'value="provreader-2"' in client.get("/auth/choose-username").text
    assert client.post("/auth/choose-username", data={"username": "provreader"}).status_code == 422


def test_an_account_here_with_the_same_email_is_not_taken_over(app, make, client, provider):
    alice = make.user("alice")
    provider.user = {**provider.user, "email": "alice@example.org", "email_verified": True}
    back = client.get(to_provider_and_back(client))
    assert back.headers["Location"] == "/auth/choose-username"
    assert signed_in_as(client) is None
    client.post("/auth/choose-username", data={"username": "newcomer"})
    assert signed_in_as(client) == "newcomer"
    with app.app_context():
        identity = db.session.scalar(select(ExternalIdentity))
        assert identity.user_id != alice.id
        assert db.session.get(User, alice.id).password_hash == alice.password_hash


def test_an_unverified_address_is_kept_but_not_confirmed(app, client, provider):
    provider.user = {**provider.user, "email_verified": False}
    sign_in(client)
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "reader@provider.example" and user.email_verified_at is None
        # The usual confirmation link goes to it, as at registration.
        (subject,) = db.session.scalars(select(OutboxMessage.subject)).all()
        assert subject == "Confirm your email address"


def test_a_verified_address_needs_no_confirmation_mail(app, client, provider):
    sign_in(client)
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage)).all() == []


def test_the_address_comes_from_userinfo_when_the_id_token_has_none(app, client, provider):
    provider.id_token_omits = {"email", "email_verified"}
    sign_in(client)
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "reader@provider.example" and user.email_verified_at is not None


def test_next_stays_on_this_site(app, client, provider):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        fresh = app.test_client()
        provider.user = {**provider.user, "sub": f"s-{target}"}
        answer = sign_in(
            fresh, f"u{abs(hash(target)) % 10**6}", f"/auth/external/oidc?next={target}"
        )
        assert answer.status_code == 302 and answer.headers["Location"] == "/"


# -- refusals --------------------------------------------------------------------------------


def test_a_forged_state_is_refused(app, client, provider):
    back = to_provider_and_back(client)
    forged = back.replace("state=", "state=forged")
    assert refused(client.get(forged))
    # The pending sign-in is gone: the genuine answer no longer works either.
    assert refused(client.get(back))
    # Someone else's browser cannot use a code meant for this one.
    stranger = app.test_client()
    assert refused(stranger.get(to_provider_and_back(client)))
    assert signed_in_as(client) is None and signed_in_as(stranger) is None
    assert account_count(app) == 0


def test_a_replayed_code_is_refused(app, client, provider):
    first = to_provider_and_back(client)
    client.get(first)
    client.post("/auth/choose-username", data={"username": "chosen-name"})
    # The same code again, in a browser that started a sign-in of its own (so the
    # state matches): the provider refuses it, and so do we.
    attacker = app.test_client()
    own = parse_qs(urlsplit(to_provider_and_back(attacker)).query)
    code = parse_qs(urlsplit(first).query)["code"][0]
    requests_before = provider.token_requests
    replay = attacker.get(f"/auth/external/oidc/callback?code={code}&state={own['state'][0]}")
    assert refused(replay) and "used already" in replay.text
    assert provider.token_requests == requests_before + 1
    assert signed_in_as(attacker) is None


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"aud": "another-client"}, id="wrong-audience"),
        pytest.param({"aud": ["forum-test-client", "other"], "azp": "other"}, id="wrong-azp"),
        pytest.param({"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}, id="expired"),
        pytest.param({"nonce": "not-the-one-we-sent"}, id="wrong-nonce"),
        pytest.param({"iss": "http://127.0.0.1:1"}, id="wrong-issuer"),
        pytest.param({"sub": None}, id="no-subject"),
    ],
)
def test_an_id_token_failing_a_check_is_refused(app, client, provider, changes):
    provider.id_token_changes = changes
    answer = client.get(to_provider_and_back(client))
    assert refused(answer)
    assert client.get("/auth/choose-username").status_code == 400
    assert signed_in_as(client) is None and account_count(app) == 0


def test_an_id_token_signed_by_another_key_is_refused(app, client, provider):
    provider.signing_key = new_key()  # same kid, another key: the JWKS keeps the real one
    assert refused(client.get(to_provider_and_back(client)))
    assert account_count(app) == 0


def test_a_provider_saying_no_is_a_refusal_page(app, client, provider):
    start = urlsplit(client.get("/auth/external/oidc").headers["Location"])
    state = parse_qs(start.query)["state"][0]
    answer = client.get(f"/auth/external/oidc/callback?error=access_denied&state={state}")
    assert refused(answer) and "did not sign you in" in answer.text


def test_a_closed_account_cannot_sign_in_this_way(app, client, provider):
    sign_in(client)
    with app.app_context():
        db.session.scalar(select(User)).deleted_at = utcnow()
        db.session.commit()
    other = app.test_client()
    assert refused(other.get(to_provider_and_back(other)))
    assert signed_in_as(other) is None


def test_unknown_providers_are_not_found(app, client):
    assert client.get("/auth/external/nobody").status_code == 404
    assert client.get("/auth/external/nobody/callback").status_code == 404


# -- buttons -----------------------------------------------------------------------------------


def test_buttons_on_the_sign_in_and_register_pages_keep_next(app, client):
    for page in ("/auth/login", "/auth/register"):
        text = client.get(f"{page}?next=/embed/auth%3Fsite%3Dx").text
        assert "Continue with Test ID" in text
        assert 'href="/auth/external/oidc?next=/embed/auth?site%3Dx"' in text


def test_no_buttons_without_providers(app_with):
    client = app_with().test_client()
    assert "Continue with" not in client.get("/auth/login").text


# -- linking from the account's security page ---------------------------------------------------


def link(client, provider_name="oidc"):
    started = client.post(f"/auth/external/{provider_name}/link")
    assert started.status_code == 302
    approval = requests.get(started.headers["Location"], allow_redirects=False, timeout=10)
    return client.get(local(approval.headers["Location"]))


def test_a_signed_in_reader_links_and_unlinks_a_provider(app, make, client, provider):
    make.user("alice")
    AuthActions(client).login("alice")
    security = client.get("/account/security").text
    assert "Link Test ID" in security
    done = link(client)
    assert done.status_code == 302 and done.headers["Location"] == "/account/security"
    security = client.get("/account/security").text
    assert "Unlink Test ID" in security and "reader@provider.example" in security
    other = app.test_client()
    assert other.get(to_provider_and_back(other)).headers["Location"] == "/articles/here"
    assert signed_in_as(other) == "alice"
    with app.app_context():
        identity_id = db.session.scalar(select(ExternalIdentity.id))
    assert client.post(f"/auth/external/identities/{identity_id}/unlink").status_code == 302
    assert account_count(app) == 1
    with app.app_context():
        assert db.session.scalar(select(ExternalIdentity)) is None


def test_an_identity_linked_to_someone_cannot_be_linked_to_another(app, make, client, provider):
    sign_in(client, "first-owner")
    make.user("alice")
    alice = app.test_client()
    AuthActions(alice).login("alice")
    answer = link(alice)
    assert answer.headers["Location"] == "/account/security"
    assert "already signs in to another account" in alice.get("/account/security").text
    with app.app_context():
        owner = db.session.scalar(select(ExternalIdentity)).user
        assert owner.username == "first-owner"


def test_the_only_way_in_cannot_be_unlinked(app, make, client, provider):
    # No password, and an address the provider did not vouch for: no emailed link either.
    provider.user = {**provider.user, "email_verified": False}
    sign_in(client)
    with app.app_context():
        identity_id = db.session.scalar(select(ExternalIdentity.id))
    page = client.get("/account/security").text
    assert "Your only way to sign in" in page and "Unlink Test ID" not in page
    client.post(f"/auth/external/identities/{identity_id}/unlink")
    assert "This is your only way to sign in" in client.get("/account/security").text
    with app.app_context():
        assert db.session.scalar(select(ExternalIdentity.id)) == identity_id
    # Nor can anyone else unlink it.
    make.user("mallory")
    mallory = app.test_client()
    AuthActions(mallory).login("mallory", PASSWORD)
    mallory.post(f"/auth/external/identities/{identity_id}/unlink")
    with app.app_context():
        assert db.session.scalar(select(ExternalIdentity.id)) == identity_id


# -- GitHub's preset, against the provider's GitHub-shaped side ---------------------------------


@pytest.fixture
def github(app_with, provider, monkeypatch):
    monkeypatch.setattr(oidc_client, "GITHUB_AUTHORIZE", f"{provider.issuer}/login/oauth/authorize")
    monkeypatch.setattr(oidc_client, "GITHUB_TOKEN", f"{provider.issuer}/login/oauth/access_token")
    monkeypatch.setattr(oidc_client, "GITHUB_API", provider.issuer)

    return app_with(FORUM_GITHUB_CLIENT_ID=CLIENT_ID, FORUM_GITHUB_CLIENT_SECRET=CLIENT_SECRET)


def github_sign_in(client):
    started = client.get("/auth/external/github")
    approval = requests.get(started.headers["Location"], allow_redirects=False, timeout=10)
    return client.get(local(approval.headers["Location"]))


def test_github_signs_in_by_its_numeric_id_with_the_primary_verified_address(github, provider):
    client = github.test_client()
    assert "Continue with GitHub" in client.get("/auth/login").text
    assert github_sign_in(client).headers["Location"] == "/auth/choose-username"
    assert 'value="octoreader"' in client.get("/auth/choose-username").text
    client.post("/auth/choose-username", data={"username": "octo"})
    with github.app_context():
        identity = db.session.scalar(select(ExternalIdentity))
        assert (identity.provider, identity.subject) == ("github", "4242")
        assert identity.user.email == "octo@provider.example"
        assert identity.user.email_verified_at is not None
    provider.github_user = {**provider.github_user, "login": "renamed"}
    again = github.test_client()
    github_sign_in(again)
    assert signed_in_as(again) == "octo"


def test_an_unverified_github_address_is_not_confirmed(github, provider):
    provider.github_emails = [
        {"email": "octo@provider.example", "primary": True, "verified": False}
    ]
    client = github.test_client()
    github_sign_in(client)
    client.post("/auth/choose-username", data={"username": "octo"})
    with github.app_context():
        assert db.session.scalar(select(User.email_verified_at)) is None


def test_github_without_addresses_still_signs_in(github, provider):
    provider.github_emails = None
    client = github.test_client()
    github_sign_in(client)
    client.post("/auth/choose-username", data={"username": "octo"})
    assert signed_in_as(client) == "octo"
    with github.app_context():
        assert db.session.scalar(select(User.email)) is None


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"FORUM_OIDC_ISSUER": "https://id.example"}, "FORUM_OIDC_CLIENT_ID"),
        ({"FORUM_GITHUB_CLIENT_ID": "abc"}, "FORUM_GITHUB_CLIENT_SECRET"),
        ({"FORUM_GOOGLE_CLIENT_SECRET": "abc"}, "FORUM_GOOGLE_CLIENT_ID"),
        (
            {"FORUM_SIGN_IN_PROVIDERS": {"work": {"client_id": "a", "client_secret": "b"}}},
            "['work']['issuer']",
        ),
        (
            {"FORUM_OIDC_ISSUER": "http://id.example", "FORUM_OIDC_CLIENT_ID": "a"},
            "https",
        ),
        ({"FORUM_SIGN_IN_PROVIDERS": {"Bad Name": {}}}, "lower-case"),
        ({"FORUM_SIGN_IN_PROVIDERS": {"x": {"secret": "b"}}}, "unknown keys"),
    ],
)
def test_a_half_configured_provider_stops_the_start(database, settings, message):
    if "FORUM_OIDC_CLIENT_ID" in settings:
        settings = {**settings, "FORUM_OIDC_CLIENT_SECRET": "s"}
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        create_app({**_test_config(database), **settings})


def test_providers_from_the_environment(database, monkeypatch):
    monkeypatch.setenv("FORUM_OIDC_ISSUER", "https://id.example.org/realm/")
    monkeypatch.setenv("FORUM_OIDC_CLIENT_ID", "forum")
    monkeypatch.setenv("FORUM_OIDC_CLIENT_SECRET", "s3cret")
    monkeypatch.setenv("FORUM_OIDC_NAME", "Example ID")
    monkeypatch.setenv("FORUM_GOOGLE_CLIENT_ID", "g")
    monkeypatch.setenv("FORUM_GOOGLE_CLIENT_SECRET", "gs")
    app = create_app(_test_config(database))
    found = app.config["FORUM_PROVIDERS"]
    assert found["oidc"].issuer == "https://id.example.org/realm/"
    assert found["oidc"].label == "Example ID"
    assert found["google"].issuer == "https://accounts.google.com"
    text = app.test_client().get("/auth/login").text
    assert "Continue with Example ID" in text and "Continue with Google" in text


def test_a_confirmed_address_is_another_way_in(app, client, provider):
    sign_in(client)  # the provider vouched for the address: emailed links reach it
    with app.app_context():
        identity_id = db.session.scalar(select(ExternalIdentity.id))
    client.post(f"/auth/external/identities/{identity_id}/unlink")
    assert "no longer signs in here" in client.get("/account/security").text


# -- the hostile corpus as the provider's names and addresses ----------------------------------


def test_the_xss_corpus_as_provider_names_and_emails(app, provider):
    """Each vector of tests/data/xss_vectors.json as the provider's name,
    preferred username and email: the username page, the new account's profile
    and its security page hold no live markup, the name shows escaped as one
    normalized line, the suggested username is one a reader could type, and an
    address that is not one is not kept."""
    failures: dict[str, list[str]] = {}
    for item in CORPUS:
        vector = browser_safe(item["vector"])  # no JSON encoder sends lone surrogates
        provider.user = {
            "sub": f"xss-{item['id']}",
            "name": vector,
            "preferred_username": vector,
            "email": vector,
            "email_verified": True,
        }
        client = app.test_client()
        problems = []
        back = client.get(to_provider_and_back(client))
        choose = client.get("/auth/choose-username")
        if back.status_code != 302 or choose.status_code != 200:
            failures[item["id"]] = [f"answered {back.status_code}, then {choose.status_code}"]
            continue
        problems += page_problems(choose.text)
        cookie = client.get_cookie("session")
        if cookie is None or len(cookie.value) > 3800:  # browsers drop cookies over 4 KB
            problems.append("the pending sign-in does not fit in a cookie")
        name = external.clean_name(vector)
        if name and f"<strong>{escaped(name)}</strong>" not in choose.text:
            problems.append("the username page does not show the name escaped")
        suggested = re.search(r'name="username"[^>]*value="([^"]*)"', choose.text).group(1)
        if accounts.check_username(suggested):
            problems.append(f"suggested an unusable username {suggested!r}")
        done = client.post("/auth/choose-username", data={"username": suggested})
        if done.status_code != 302:
            problems.append(f"creating the account answered {done.status_code}")
        else:
            profile = client.get(f"/users/{suggested}").text
            security = client.get("/account/security").text
            problems += page_problems(profile) + page_problems(security)
            shown = name or suggested
            if f'<h1 dir="auto">{escaped(shown)}</h1>' not in profile:
                problems.append("the profile does not show the display name escaped")
            with app.app_context():
                user = accounts.find_user(suggested)
                if user.display_name != shown or "\n" in user.display_name:
                    problems.append(f"display name stored as {user.display_name!r}")
                if user.email is not None and accounts.normalize_email(user.email)[1]:
                    problems.append(f"kept an address that is not one: {user.email!r}")
        if problems:
            failures[item["id"]] = problems
    assert not failures, report(failures)


# -- the edges: CSRF, rate limits, the site's own address, a provider that is down -------------


def test_forms_without_a_csrf_token_are_refused(app_with, make, provider):
    app = app_with(WTF_CSRF_ENABLED=True, FORUM_SIGN_IN_PROVIDERS=provider_config(provider))
    client = app.test_client()
    client.get(to_provider_and_back(client))
    assert client.post("/auth/choose-username", data={"username": "chosen"}).status_code == 400
    assert account_count(app) == 0
    assert client.post("/auth/email-link", data={"email": "a@example.org"}).status_code == 400
    make.user("alice")
    page = client.get("/auth/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/auth/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in_as(client) == "alice"
    assert client.post("/auth/external/oidc/link").status_code == 400
    assert client.post("/auth/external/identities/1/unlink").status_code == 400


def test_the_provider_endpoints_are_rate_limited(app_with, provider):
    app = app_with(FORUM_RATELIMIT="on", FORUM_SIGN_IN_PROVIDERS=provider_config(provider))
    client = app.test_client()
    starts = [client.get("/auth/external/oidc").status_code for _ in range(21)]
    assert starts == [302] * 20 + [429]
    callbacks = [client.get("/auth/external/oidc/callback").status_code for _ in range(21)]
    assert callbacks == [400] * 20 + [429]


def test_the_redirect_address_comes_from_the_base_url(app_with, provider):
    app = app_with(
        FORUM_BASE_URL="https://talk.example.org", FORUM_SIGN_IN_PROVIDERS=provider_config(provider)
    )
    started = app.test_client().get("/auth/external/oidc", headers={"Host": "localhost"})
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    assert query["redirect_uri"] == ["https://talk.example.org/auth/external/oidc/callback"]


def test_a_provider_that_cannot_be_reached_is_a_page_not_a_500(app_with):
    unreachable = {"down": {"issuer": "http://127.0.0.1:9", "client_id": "a", "client_secret": "b"}}
    client = app_with(FORUM_SIGN_IN_PROVIDERS=unreachable).test_client()
    answer = client.get("/auth/external/down")
    assert refused(answer) and "could not be reached" in answer.text
