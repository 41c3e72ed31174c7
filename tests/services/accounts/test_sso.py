"""Single sign-on: a publisher's signed token becomes one of our accounts, once.

Through POST /api/v1/tokens {"sso", "site"} (forum.services.accounts.sso); the publisher's
side is docs/sso/, which is run here too so that the README cannot rot.
"""

import base64
import hashlib
import hmac
import importlib.util
import json
import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Role, SsoIdentity, SsoTokenUse, User, utcnow
from forum.services.accounts import accounts
from forum.services.discussion import sites
from forum.services.moderation import bans
from tests.conftest import PASSWORD, ROOT

NEWS = "https://news.example"
TWO = "https://two.example"
OMIT = object()


@pytest.fixture
def app(app_with):
    return app_with(FORUM_EMBED_ORIGINS=f"{NEWS} {TWO}")


def new_secret(app, origin=NEWS) -> str:
    with app.app_context():
        secret = sites.new_sso_secret(None, origin)
        db.session.commit()
        return secret


@pytest.fixture
def secret(app):
    return new_secret(app)


def sign(secret, headers=None, **changes) -> str:
    now = int(time.time())
    claims = {
        "sub": "reader-42",
        "username": "ada",
        "email": "ada@news.example",
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        **changes,
    }
    claims = {key: value for key, value in claims.items() if value is not OMIT}
    return jwt.encode(claims, secret, algorithm="HS256", headers=headers)


def exchange(client, token, site=NEWS):
    payload = {"sso": token} if site is OMIT else {"sso": token, "site": site}
    return client.post("/api/v1/tokens", json=payload)


def refused(response, words: str, field: str = "sso") -> None:
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert words in error["fields"][field], error["fields"]


def user_row(app, username) -> User | None:
    with app.app_context():
        user = accounts.find_user(username)
        if user is not None:
            db.session.expunge(user)
        return user


def segment(data) -> str:
    raw = json.dumps(data).encode() if not isinstance(data, bytes) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# -- accounts ---------------------------------------------------------------------------------


def test_first_token_creates_an_account_and_later_ones_find_it(app, client, secret):
    response = exchange(client, sign(secret, name="Ada Lovelace"))
    assert response.status_code == 201, response.json
    assert response.json["token"].startswith("fpt_") and response.json["expires_at"]
    user = response.json["user"]
    assert (user["username"], user["display_name"], user["role"]) == (
        "ada",
        "Ada Lovelace",
        "reader",
    )
    assert user["email"] == "ada@news.example"  # shown to its owner

    # The token works like any other bearer token.
    me = client.get(
        "/api/v1/session", headers={"Authorization": f"Bearer {response.json['token']}"}
    )
    assert me.json["user"]["username"] == "ada"

    # Same sub, new token, new name and address: the same account, updated.
    again = exchange(client, sign(secret, name="Ada L.", email="ada@new.example"))
    assert again.status_code == 201
    assert again.json["user"]["username"] == "ada"
    assert again.json["user"]["display_name"] == "Ada L."
    assert again.json["user"]["email"] == "ada@new.example"
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 1
        identity = db.session.scalar(select(SsoIdentity))
        assert (identity.subject, identity.user.username) == ("reader-42", "ada")
        assert identity.user.password_hash == "!"


def test_the_account_has_no_password_anyone_can_use(app, client, secret):
    assert exchange(client, sign(secret)).status_code == 201
    for password in ("!", "", PASSWORD):
        response = client.post("/api/v1/tokens", json={"username": "ada", "password": password})
        assert response.status_code == 401


def test_display_name_defaults_to_the_username_and_is_one_line(client, secret):
    assert exchange(client, sign(secret)).json["user"]["display_name"] == "ada"
    named = exchange(client, sign(secret, sub="other", username="bo", name="  Bo\n\tB.\x00 "))
    assert named.json["user"]["display_name"] == "Bo B."


def test_a_taken_username_gets_a_suffix(app, client, make, secret):
    make.user("ada")
    make.user("Bob-2")
    first = exchange(client, sign(secret, sub="1"))
    assert first.json["user"]["username"] == "ada-2"
    second = exchange(client, sign(secret, sub="2"))
    assert second.json["user"]["username"] == "ada-3"
    bob = exchange(client, sign(secret, sub="3", username="bob"))
    assert bob.json["user"]["username"] == "bob"
    bob2 = exchange(client, sign(secret, sub="4", username="BOB"))
    assert bob2.json["user"]["username"] == "BOB-3"  # bob and Bob-2 are both taken


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ("Jane Doe", "Jane_Doe"),
        ("jane.doe@corp", "jane_doe_corp"),
        ("José", "Jose"),
        ("李", "reader"),
        ("x" * 80, "x" * 24),
        (OMIT, "reader"),
        (12, "reader"),
        (["ada"], "reader"),
    ],
)
def test_a_username_that_is_not_one_of_ours_is_made_into_one(client, secret, claim, expected):
    response = exchange(client, sign(secret, username=claim))
    assert response.status_code == 201
    assert response.json["user"]["username"] == expected


def test_an_address_already_in_use_is_not_linked_nor_taken(app, client, make, secret):
    carol = make.user("carol")  # carol@example.org
    response = exchange(client, sign(secret, sub="c", username="carol", email="Carol@Example.org"))
    assert response.status_code == 201
    assert response.json["user"]["username"] == "carol-2"
    assert "email" not in response.json["user"] or response.json["user"]["email"] is None
    assert user_row(app, "carol-2").email is None
    assert user_row(app, "carol").email == carol.email  # untouched
    with app.app_context():
        identity = db.session.scalar(select(SsoIdentity))
        assert identity.user_id != carol.id

    # A later token cannot move the address onto the linked account either.
    exchange(client, sign(secret, sub="c", email="carol@example.org"))
    assert user_row(app, "carol-2").email is None


@pytest.mark.parametrize("email", ["not an address", 5, "", OMIT])
def test_an_unusable_address_is_left_out(app, client, secret, email):
    assert exchange(client, sign(secret, email=email)).status_code == 201
    assert user_row(app, "ada").email is None


def test_a_banned_account_signs_in_but_may_not_post(app, client, make, secret, article):
    admin = make.user("root", role=Role.ADMIN)
    exchange(client, sign(secret))
    with app.app_context():
        bans.ban(db.session.get(User, admin.id), accounts.find_user("ada"), "Spam.")
        db.session.commit()
    response = exchange(client, sign(secret))
    assert response.status_code == 201
    posted = client.post(
        "/api/v1/threads/a-story/comments",
        json={"body": "let me in"},
        headers={"Authorization": f"Bearer {response.json['token']}"},
    )
    assert posted.status_code == 403
    assert posted.json["error"]["code"] == "banned"


# -- time -------------------------------------------------------------------------------------


def test_expired_tokens_are_refused_after_a_small_leeway(client, secret):
    now = int(time.time())
    assert exchange(client, sign(secret, exp=now - 10)).status_code == 201
    refused(exchange(client, sign(secret, exp=now - 120)), "expired")


def test_tokens_not_valid_yet_are_refused(client, secret):
    now = int(time.time())
    refused(exchange(client, sign(secret, nbf=now + 120)), "not valid yet")
    refused(exchange(client, sign(secret, iat=now + 120)), "not valid yet")
    assert exchange(client, sign(secret, nbf=now + 10, iat=now + 10)).status_code == 201


def test_long_lived_tokens_are_refused(client, secret):
    now = int(time.time())
    refused(exchange(client, sign(secret, exp=now + 7200)), "an hour at most")
    refused(exchange(client, sign(secret, exp=10**12)), "an hour at most")
    assert exchange(client, sign(secret, exp=now + 3600)).status_code == 201


# -- signatures and algorithms ----------------------------------------------------------------


def test_forged_signature_is_refused(client, secret):
    refused(exchange(client, sign("k" * 43)), "not signed with https://news.example")
    genuine = sign(secret)
    header, claims, _ = genuine.split(".")
    tampered = segment({**jwt.decode(genuine, options={"verify_signature": False}), "sub": "x"})
    refused(exchange(client, f"{header}.{tampered}.{genuine.split('.')[2]}"), "not signed")
    refused(exchange(client, f"{header}.{claims}."), "not signed")


def test_only_hs256_is_accepted(client, secret):
    claims = segment({"sub": "s", "jti": "j", "exp": int(time.time()) + 60})
    unsigned = f"{segment({'alg': 'none', 'typ': 'JWT'})}.{claims}."
    refused(exchange(client, unsigned), "must be signed with HS256")
    # The classic confusion: the secret passed off as an RSA "public key".
    header = segment({"alg": "RS256", "typ": "JWT"})
    refused(exchange(client, f"{header}.{claims}.{segment(b'x' * 32)}"), "HS256")
    # HS512 with the right secret: still not the algorithm we pin.
    header = segment({"alg": "HS512", "typ": "JWT"})
    mac = hmac.new(secret.encode(), f"{header}.{claims}".encode(), hashlib.sha512).digest()
    refused(exchange(client, f"{header}.{claims}.{segment(mac)}"), "HS256")


def test_a_new_secret_retires_the_old_one(app, client, secret):
    old_token = sign(secret)
    fresh = new_secret(app)
    assert fresh != secret
    refused(exchange(client, old_token), "current secret")
    assert exchange(client, sign(fresh)).status_code == 201


# -- sites ------------------------------------------------------------------------------------


def test_a_token_for_one_site_is_refused_for_another(app, client, secret):
    new_secret(app, TWO)
    refused(exchange(client, sign(secret), site=TWO), "not signed with https://two.example")
    # The audience, when given, must be the site it is presented for.
    two = new_secret(app, TWO)
    refused(exchange(client, sign(two, aud=NEWS), site=TWO), "another audience")
    assert exchange(client, sign(two, aud=TWO + "/"), site=TWO).status_code == 201
    assert exchange(client, sign(two, sub="b", aud=[NEWS, TWO]), site=TWO).status_code == 201


def test_the_same_sub_on_two_sites_is_two_accounts(app, client, secret):
    two = new_secret(app, TWO)
    first = exchange(client, sign(secret))
    second = exchange(client, sign(two), site=TWO)
    assert first.json["user"]["username"] == "ada"
    assert second.json["user"]["username"] == "ada-2"


def test_sites_that_may_not_sign_in_are_refused(app, client, secret):
    # Not on the list at all.
    refused(exchange(client, sign(secret), site="https://evil.example"), "not allowed")
    # On the list but without a secret.
    refused(exchange(client, sign(secret), site=TWO), "not set up for https://two.example")
    # Switched off by an admin: its secret no longer counts.
    with app.app_context():
        sites.set_allowed(None, NEWS, False)
        db.session.commit()
    refused(exchange(client, sign(secret)), "not allowed")
    # A secret removed.
    with app.app_context():
        sites.set_allowed(None, NEWS, True)
        sites.remove_sso_secret(None, NEWS)
        db.session.commit()
    refused(exchange(client, sign(secret)), "not set up")


def test_the_site_comes_from_the_body_the_kid_or_the_only_candidate(app, client, secret):
    assert exchange(client, sign(secret, sub="1"), site=OMIT).status_code == 201  # the only one
    two = new_secret(app, TWO)
    refused(exchange(client, sign(two, sub="2"), site=OMIT), 'Send "site"', field="site")
    kid = sign(two, sub="3", headers={"kid": TWO})
    assert exchange(client, kid, site=OMIT).status_code == 201
    # The body wins over the header's hint.
    refused(exchange(client, sign(two, sub="4", headers={"kid": TWO})), "not signed")


@pytest.mark.parametrize("site", ["news.example", "https://news.example/path", "", 5, []])
def test_a_malformed_site_is_a_clear_error(client, secret, site):
    refused(exchange(client, sign(secret), site=site), "origin", field="site")


def test_no_site_set_up_at_all(client):
    refused(exchange(client, "a.b.c", site=OMIT), "not set up on this forum")


# -- replays ----------------------------------------------------------------------------------


def test_a_token_is_exchanged_once(app, client, secret):
    token = sign(secret)
    assert exchange(client, token).status_code == 201
    refused(exchange(client, token), "already used")
    # Its jti is per site: another site's token may reuse the value.
    two = new_secret(app, TWO)
    jti = jwt.decode(token, secret, algorithms=["HS256"])["jti"]
    assert exchange(client, sign(two, jti=jti), site=TWO).status_code == 201


def test_two_exchanges_of_one_token_at_once_one_wins(app, secret):
    token = sign(secret)
    start = threading.Barrier(2)
    statuses = []

    def attempt():
        client = app.test_client()
        start.wait()
        statuses.append(exchange(client, token).status_code)

    workers = [threading.Thread(target=attempt) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(statuses) == [201, 422]
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 1
        assert db.session.scalar(select(func.count(SsoTokenUse.id))) == 1


def test_used_token_ids_are_forgotten_once_expired(app, client, secret):
    with app.app_context():
        site = sites.site_for(NEWS)
        db.session.add(SsoTokenUse(site_id=site.id, jti="old", expires_at=utcnow() - timedelta(1)))
        db.session.add(SsoTokenUse(site_id=site.id, jti="live", expires_at=utcnow() + timedelta(1)))
        db.session.commit()
    assert exchange(client, sign(secret)).status_code == 201
    with app.app_context():
        left = set(db.session.scalars(select(SsoTokenUse.jti)))
    assert "old" not in left and "live" in left and len(left) == 2


# -- malformed input --------------------------------------------------------------------------


@pytest.mark.parametrize("claim", ["exp", "sub", "jti"])
def test_required_claims(client, secret, claim):
    refused(exchange(client, sign(secret, **{claim: OMIT})), f"'{claim}'")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"sub": 5}, ""),
        ({"sub": ""}, "'sub'"),
        ({"sub": "x" * 256}, "'sub'"),
        ({"sub": "a\x00b"}, "'sub'"),
        ({"sub": "\ud800"}, ""),
        ({"jti": 7}, ""),
        ({"jti": "j\n"}, "'jti'"),
        ({"exp": "9999999999"}, "'exp'"),
        ({"exp": 1.5e300}, ""),
        ({"exp": True}, ""),
        ({"aud": 5}, "audience"),
        ({"nbf": "soon"}, ""),
    ],
)
def test_claims_of_the_wrong_shape(client, secret, changes, words):
    refused(exchange(client, sign(secret, **changes)), words)


GARBAGE = [
    None,
    5,
    [],
    {},
    "",
    "abc",
    "a.b.c",
    "...",
    "x" * 9000,
    "é.é.é",
    "\x00",
    "\ud800",
    f"{segment(b'not json')}.{segment({})}.sig",
    f"{segment([1, 2])}.{segment({})}.sig",
    f"{segment({'alg': 'HS256', 'kid': 5})}.{segment(b'[1]')}.sig",
    f"{segment({'alg': 'HS256'})}.{segment(b'not json')}.sig",
]


@pytest.mark.parametrize("token", GARBAGE)
@pytest.mark.parametrize("site", [NEWS, OMIT])
def test_garbage_is_refused_clearly(client, secret, token, site):
    response = exchange(client, token, site=site)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert "sso" in response.json["error"]["fields"]


def test_the_exchange_is_rate_limited(app_with):
    limited = app_with(FORUM_EMBED_ORIGINS=NEWS, FORUM_RATELIMIT="on")
    client = limited.test_client()
    statuses = [exchange(client, "a.b.c").status_code for _ in range(21)]
    assert statuses[:20] == [422] * 20
    assert statuses[20] == 429


# -- the publisher's side, as documented --------------------------------------------------------


def _python_example():
    spec = importlib.util.spec_from_file_location("sign_token", ROOT / "docs/sso/sign_token.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.sign_token


def test_the_python_example_signs_a_token_we_accept(client, secret):
    sign_token = _python_example()
    token = sign_token(secret, NEWS, 42, "ada", name="Ada", email="ada@news.example")
    response = exchange(client, token, site=OMIT)  # the example names its site in kid
    assert response.status_code == 201, response.json
    assert response.json["user"]["display_name"] == "Ada"
    refused(exchange(client, token), "already used")
    assert exchange(client, sign_token(secret, NEWS, 43, "bob")).status_code == 201


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_javascript_example_signs_a_token_we_accept(client, secret):
    script = (
        f"import {{ signToken }} from {json.dumps(str(ROOT / 'docs/sso/sign_token.mjs'))};"
        "console.log(signToken(process.env.SECRET, process.env.SITE,"
        " { id: 42, username: 'ada', name: 'Ada L.', email: 'ada@news.example' }));"
    )
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        env={**os.environ, "SECRET": secret, "SITE": NEWS},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    response = exchange(client, result.stdout.strip(), site=OMIT)
    assert response.status_code == 201, response.json
    assert response.json["user"]["display_name"] == "Ada L."


def _readme_blocks(language: str) -> list[str]:
    """The code blocks of the README's "Single sign-on" section in `language`."""
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"^#+ Single sign-on\n(.*?)(?=^#+ )", readme, re.M | re.S)
    if section is None:
        return []
    return re.findall(rf"```{language}\n(.*?)```", section.group(1), re.S)


@pytest.mark.parametrize(
    ("language", "name"), [("python", "sign_token.py"), ("js", "sign_token.mjs")]
)
def test_the_readme_shows_the_examples_as_they_are(language, name):
    """Every line the README shows is in the file the tests above run, in order
    (blank lines aside: the README may pack the example tighter)."""
    blocks = _readme_blocks(language)
    assert blocks, f"README.md's Single sign-on section has no {language} example"
    example = _lines((ROOT / "docs/sso" / name).read_text())
    for block in blocks:
        shown = _lines(block)
        runs = (example[i : i + len(shown)] for i in range(len(example)))
        assert shown in runs, f"README.md shows lines that docs/sso/{name} does not have"


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]
