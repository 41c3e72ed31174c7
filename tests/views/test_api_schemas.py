"""The API's schemas are the ones the code checks: unknown fields are refused on
every JSON body, every enum member is accepted and documented, and the
revision moderators send back stops a decision on a comment that changed."""

import pytest

from forum.forms import FlagForm
from forum.models import FlagReason, ModerationAction, ModerationMode, Role
from forum.services.moderation import decisions
from tests.conftest import PASSWORD, AuthActions, token_for


@pytest.fixture
def people(make, article):
    """Bearer headers by name; bob wrote comment "cid" in a-story."""
    make.user("alice")
    bob = make.user("bob")
    make.user("mona", role=Role.MODERATOR)
    make.user("max", role=Role.MODERATOR)
    make.user("ada", role=Role.ADMIN)
    return bob


def bearer(client, name):
    return {"Authorization": f"Bearer {token_for(client, name)}"}


def spec(client):
    return client.get("/api/v1/openapi.json").json


# -- unknown fields --------------------------------------------------------------------

# Every operation with a JSON body: who calls it, a body it accepts, and what it
# answers that body. tests below add a field the request does not have.
UNKNOWN_FIELD_TABLE = [
    ("post", "/session", None, {"username": "alice", "password": PASSWORD}, 200),
    ("post", "/tokens", None, {"username": "alice", "password": PASSWORD}, 201),
    ("post", "/tokens", None, {"sso": "not.a.token"}, 422),
    (
        "post",
        "/users",
        None,
        {"username": "newbie", "email": "newbie@example.org", "password": "long password!"},
        201,
    ),
    ("post", "/threads/{key}/comments", "alice", {"body": "hello"}, 201),
    ("patch", "/comments/{id}", "bob", {"body": "edited"}, 200),
    ("post", "/comments/{id}/votes", "alice", {"value": 1}, 200),
    ("post", "/comments/{id}/flags", "alice", {"reason": "spam"}, 201),
    ("post", "/moderation/comments/{id}", "mona", {"action": "feature"}, 200),
    ("post", "/moderation/users/{username}/ban", "mona", {"reason": "rude"}, 200),
    ("post", "/moderation/users/{username}/notes", "mona", {"body": "watch"}, 201),
    ("patch", "/moderation/threads/{key}", "mona", {"status": "closed"}, 200),
    ("patch", "/moderation/settings", "ada", {"max_links": 3}, 200),
    ("post", "/notifications/read", "alice", {}, 200),
    ("patch", "/admin/users/{username}", "ada", {"role": "moderator"}, 200),
    ("delete", "/account", "alice", {"password": PASSWORD}, 204),
    ("delete", "/admin/users/{username}", "ada", {"reason": "asked by email"}, 204),
]


def test_the_table_covers_every_operation_with_a_body(client):
    with_body = {
        (method, path)
        for path, operations in spec(client)["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    assert {(method, path) for method, path, *_ in UNKNOWN_FIELD_TABLE} == with_body


@pytest.mark.parametrize(
    ("method", "path", "caller", "accepted", "status"),
    UNKNOWN_FIELD_TABLE,
    ids=[f"{m} {p} {sorted(b)}" for m, p, _, b, _ in UNKNOWN_FIELD_TABLE],
)
def test_a_field_the_request_does_not_have_is_refused(
    app, client, make, people, method, path, caller, accepted, status
):
    cid = make.comment(people, "a-story", "Bob's words")
    url = "/api/v1" + path.format(key="a-story", id=cid, username="bob")
    headers = bearer(client, caller) if caller else {}
    send = getattr(client, method)

    refused = send(url, json={**accepted, "close_after_days": 3}, headers=headers)

    assert refused.status_code == 422, refused.json
    error = refused.json["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == ["close_after_days"]
    thread = client.get("/api/v1/threads/a-story").json
    assert thread["status"] == "open" and thread["comment_count"] == 1  # nothing was done
    # The same body without it is answered as usual: the field alone was refused.
    assert send(url, json=accepted, headers=headers).status_code == status


def test_wrong_types_and_values_name_their_field(client, people, make):
    cid = make.comment(people, "a-story")
    alice = bearer(client, "alice")
    cases = [
        (f"/api/v1/comments/{cid}/votes", {"value": True}, "value"),
        (f"/api/v1/comments/{cid}/votes", {"value": "1"}, "value"),
        (f"/api/v1/comments/{cid}/flags", {"reason": "boring"}, "reason"),
        ("/api/v1/threads/a-story/comments", {"body": "x", "spoiler": "yes"}, "spoiler"),
        ("/api/v1/threads/a-story/comments", {"body": ["x"]}, "body"),
        ("/api/v1/notifications/read", {"ids": [1, "2"]}, "ids"),
    ]
    for url, body, field in cases:
        response = client.post(url, json=body, headers=alice)
        assert response.status_code == 422, (body, response.json)
        assert list(response.json["error"]["fields"]) == [field]
    assert client.get("/api/v1/threads/a-story").json["comment_count"] == 1


def test_a_body_of_many_unknown_fields_gets_a_short_answer(client, people):
    body = {f"field_{n}": n for n in range(5000)}
    response = client.post("/api/v1/notifications/read", json=body, headers=bearer(client, "alice"))
    assert response.status_code == 422
    assert len(response.json["error"]["fields"]) == 20
    assert len(response.data) < 2000


# -- enums: one definition, accepted and documented -------------------------------------


def test_every_moderation_action_is_accepted_and_documented(client, people, make):
    document = spec(client)
    schemas = document["components"]["schemas"]
    assert schemas["ModerationAction"]["enum"] == [action.value for action in ModerationAction]
    assert schemas["ModerationRequest"]["properties"]["action"] == {
        "$ref": "#/components/schemas/ModerationAction"
    }
    assert set(decisions._APPLY) == set(ModerationAction)
    mona = bearer(client, "mona")
    for action in ModerationAction:
        cid = make.comment(people, "a-story", theory_title="A theory")
        response = client.post(
            f"/api/v1/moderation/comments/{cid}", json={"action": action.value}, headers=mona
        )
        # Done, or refused for this comment's state (restore on an approved one): never
        # a validation error, and never a 500.
        assert response.status_code in (200, 409), (action, response.json)


def test_every_flag_reason_is_accepted_offered_and_documented(app, client, make, people):
    schemas = spec(client)["components"]["schemas"]
    assert schemas["FlagReason"]["enum"] == [reason.value for reason in FlagReason]
    assert schemas["FlagRequest"]["properties"]["reason"] == {
        "$ref": "#/components/schemas/FlagReason"
    }
    with app.test_request_context():
        assert [value for value, *_ in FlagForm().reason.iter_choices()] == [
            reason.value for reason in FlagReason
        ]
    alice = bearer(client, "alice")
    for reason in FlagReason:
        cid = make.comment(people, "a-story")
        response = client.post(
            f"/api/v1/comments/{cid}/flags", json={"reason": reason.value}, headers=alice
        )
        assert response.status_code == 201, response.json
        assert response.json["flag"]["reason"] == reason.value


def test_every_moderation_mode_is_accepted_offered_and_documented(app, client, people):
    schemas = spec(client)["components"]["schemas"]
    modes = [mode.value for mode in ModerationMode]
    assert schemas["ModerationMode"]["enum"] == modes
    assert schemas["Thread"]["properties"]["moderation"] == {
        "$ref": "#/components/schemas/ModerationMode"
    }
    change = schemas["ThreadChange"]["properties"]["moderation"]["anyOf"][0]
    assert change["enum"] == [*modes, "default"]
    moderator_page = app.test_client()
    AuthActions(moderator_page).login("mona")
    page = moderator_page.get("/articles/a-story").get_data(as_text=True)
    mona = bearer(client, "mona")
    for mode in modes:
        assert f'<option value="{mode}"' in page
        response = client.patch(
            "/api/v1/moderation/threads/a-story", json={"moderation": mode}, headers=mona
        )
        assert response.status_code == 200 and response.json["moderation"] == mode


# -- revision: a decision on what the moderator saw ----------------------------------------


def test_an_approve_on_a_stale_revision_does_not_undo_another_moderators_rejection(
    app, client, people, make
):
    app.config["FORUM_MODERATION"] = "pre"
    cid = make.comment(people, "a-story", "Held words")
    a, b = bearer(client, "mona"), bearer(client, "max")

    item = client.get("/api/v1/moderation/queue/pending", headers=a).json["items"][0]
    seen = item["revision"]
    assert client.get(f"/api/v1/comments/{cid}", headers=a).json["comment"]["revision"] == seen

    rejected = client.post(
        f"/api/v1/moderation/comments/{cid}",
        json={"action": "reject", "reason": "Off topic", "revision": seen},
        headers=b,
    )
    assert rejected.status_code == 200
    assert rejected.json["comment"]["revision"] > seen

    late = client.post(
        f"/api/v1/moderation/comments/{cid}",
        json={"action": "approve", "revision": seen},
        headers=a,
    )
    assert late.status_code == 409
    assert late.json["error"]["code"] == "conflict"
    now = client.get(f"/api/v1/comments/{cid}", headers=a).json["comment"]
    assert now["status"] == "rejected" and now["moderation_reason"] == "Off topic"


def test_readers_are_not_shown_the_revision(client, people, make):
    cid = make.comment(people, "a-story")
    for headers in ({}, bearer(client, "alice"), bearer(client, "bob")):
        assert (
            "revision" not in client.get(f"/api/v1/comments/{cid}", headers=headers).json["comment"]
        )


def test_a_sign_in_without_credentials_is_wrong_credentials(client, people):
    # The contract: 401 on bad credentials; a missing name or password is one.
    for sent in ({}, {"username": "alice"}, {"password": PASSWORD}):
        answer = client.post("/api/v1/session", json=sent)
        assert answer.status_code == 401, sent
        assert answer.json["error"]["code"] == "unauthorized"
    # A name that is not text is a malformed body, named.
    answer = client.post("/api/v1/session", json={"username": 5, "password": PASSWORD})
    assert answer.status_code == 422
    assert "username" in answer.json["error"]["fields"]
