"""/api/v1/openapi.json says what the server does: the same routes, and real
responses that validate against the documented schemas."""

import re

import pytest
from jsonschema import Draft202012Validator

from forum.models import Role
from tests.conftest import PASSWORD


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def test_documented_operations_are_exactly_the_routes(app, spec):
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        path = path.replace("{comment_id}", "{id}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method.lower()))
    documented = {
        (path, method) for path, operations in spec["paths"].items() for method in operations
    }
    assert served == documented


def test_spec_is_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    Draft202012Validator.check_schema({"$defs": spec["components"]["schemas"]})


def check(spec, method, path, response):
    """The response's status is documented for this operation and its body fits."""
    operation = spec["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {path} answered undocumented {status}"
    answer = operation["responses"][status]
    if "content" not in answer:
        assert response.data == b""
        return
    schema = {
        **answer["content"]["application/json"]["schema"],
        "components": spec["components"],
    }
    errors = list(Draft202012Validator(schema).iter_errors(response.json))
    assert not errors, f"{method} {path} {status}: {errors[0].message}"


def test_real_responses_match_the_spec(client, spec, make, article):
    make.user("alice")
    check(
        spec,
        "post",
        "/users",
        client.post(
            "/api/v1/users",
            json={"username": "newbie", "email": "n@example.org", "password": "long password!"},
        ),
    )
    check(spec, "post", "/users", client.post("/api/v1/users", json={"username": "x"}))
    check(
        spec,
        "post",
        "/users",
        client.post(
            "/api/v1/users",
            json={"username": "newbie", "email": "n2@example.org", "password": "long password!"},
        ),
    )
    check(spec, "get", "/session", client.get("/api/v1/session"))
    check(
        spec,
        "post",
        "/session",
        client.post("/api/v1/session", json={"username": "alice", "password": "wrong password"}),
    )
    check(
        spec,
        "post",
        "/session",
        client.post("/api/v1/session", json={"username": "alice", "password": PASSWORD}),
    )
    check(spec, "get", "/session", client.get("/api/v1/session"))
    check(spec, "delete", "/session", client.delete("/api/v1/session"))

    issued = client.post("/api/v1/tokens", json={"username": "alice", "password": PASSWORD})
    check(spec, "post", "/tokens", issued)
    check(spec, "post", "/tokens", client.post("/api/v1/tokens", json={"sso": "x"}))
    bearer = {"Authorization": f"Bearer {issued.json['token']}"}

    check(spec, "get", "/threads/{key}", client.get("/api/v1/threads/a-story"))
    check(spec, "get", "/threads/{key}", client.get("/api/v1/threads/missing"))
    posted = client.post(
        "/api/v1/threads/a-story/comments",
        json={"body": "a theory", "theory_title": "Who did it"},
        headers=bearer,
    )
    check(spec, "post", "/threads/{key}/comments", posted)
    cid = posted.json["comment"]["id"]
    reply = client.post(
        "/api/v1/threads/a-story/comments", json={"body": "reply", "parent_id": cid}, headers=bearer
    )
    check(spec, "post", "/threads/{key}/comments", reply)
    check(
        spec,
        "post",
        "/threads/{key}/comments",
        client.post("/api/v1/threads/a-story/comments", json={"body": ""}, headers=bearer),
    )
    check(
        spec,
        "post",
        "/threads/{key}/comments",
        client.post("/api/v1/threads/a-story/comments", json={"body": "x"}),
    )
    check(
        spec,
        "get",
        "/threads/{key}/comments",
        client.get("/api/v1/threads/a-story/comments", headers=bearer),
    )
    check(
        spec,
        "get",
        "/threads/{key}/comments",
        client.get("/api/v1/threads/a-story/comments?limit=0"),
    )
    check(spec, "get", "/comments/{id}", client.get(f"/api/v1/comments/{cid}"))
    check(
        spec,
        "patch",
        "/comments/{id}",
        client.patch(f"/api/v1/comments/{cid}", json={"body": "edited"}, headers=bearer),
    )
    check(
        spec,
        "patch",
        "/comments/{id}",
        client.patch(f"/api/v1/comments/{cid}", json={"body": ""}, headers=bearer),
    )
    check(
        spec, "delete", "/comments/{id}", client.delete(f"/api/v1/comments/{cid}", headers=bearer)
    )
    check(spec, "get", "/threads/{key}/comments", client.get("/api/v1/threads/a-story/comments"))
    check(spec, "get", "/comments/{id}", client.get("/api/v1/comments/424242"))
    check(spec, "get", "/counts", client.get("/api/v1/counts?keys=a-story,other"))
    check(spec, "get", "/counts", client.get("/api/v1/counts"))
    check(
        spec, "delete", "/tokens/current", client.delete("/api/v1/tokens/current", headers=bearer)
    )
    check(spec, "delete", "/tokens/current", client.delete("/api/v1/tokens/current"))
    stale = {"Authorization": "Bearer fpt_revoked-or-never-issued"}
    check(spec, "get", "/threads/{key}", client.get("/api/v1/threads/a-story", headers=stale))
    check(spec, "get", "/session", client.get("/api/v1/session", headers=stale))
    huge = b'{"body": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    check(
        spec,
        "post",
        "/threads/{key}/comments",
        client.post("/api/v1/threads/a-story/comments", data=huge, content_type="application/json"),
    )


def test_moderation_responses_match_the_spec(app, client, spec, make, article):
    make.user("alice")
    make.user("mona", role=Role.MODERATOR)
    make.user("ada", role=Role.ADMIN)
    token = {
        name: {
            "Authorization": "Bearer "
            + client.post("/api/v1/tokens", json={"username": name, "password": PASSWORD}).json[
                "token"
            ]
        }
        for name in ("alice", "mona", "ada")
    }
    app.config["FORUM_MODERATION"] = "pre"
    cid = client.post(
        "/api/v1/threads/a-story/comments", json={"body": "held"}, headers=token["alice"]
    ).json["comment"]["id"]
    check(
        spec,
        "get",
        "/moderation/queue/{name}",
        client.get("/api/v1/moderation/queue/pending", headers=token["mona"]),
    )
    check(
        spec,
        "get",
        "/moderation/queue/{name}",
        client.get("/api/v1/moderation/queue/pending", headers=token["alice"]),
    )
    check(
        spec,
        "post",
        "/moderation/comments/{id}",
        client.post(
            f"/api/v1/moderation/comments/{cid}", json={"action": "approve"}, headers=token["mona"]
        ),
    )
    check(
        spec,
        "post",
        "/moderation/comments/{id}",
        client.post(
            f"/api/v1/moderation/comments/{cid}", json={"action": "approve"}, headers=token["mona"]
        ),
    )
    check(
        spec,
        "post",
        "/comments/{id}/votes",
        client.post(f"/api/v1/comments/{cid}/votes", json={"value": 1}, headers=token["mona"]),
    )
    check(
        spec,
        "post",
        "/comments/{id}/flags",
        client.post(
            f"/api/v1/comments/{cid}/flags", json={"reason": "spam"}, headers=token["mona"]
        ),
    )
    check(
        spec,
        "post",
        "/moderation/users/{username}/notes",
        client.post(
            "/api/v1/moderation/users/alice/notes", json={"body": "n"}, headers=token["mona"]
        ),
    )
    check(
        spec,
        "post",
        "/moderation/users/{username}/ban",
        client.post(
            "/api/v1/moderation/users/alice/ban", json={"reason": "x"}, headers=token["mona"]
        ),
    )
    check(
        spec,
        "get",
        "/moderation/users/{username}",
        client.get("/api/v1/moderation/users/alice", headers=token["mona"]),
    )
    check(
        spec,
        "delete",
        "/moderation/users/{username}/ban",
        client.delete("/api/v1/moderation/users/alice/ban", headers=token["mona"]),
    )
    check(
        spec,
        "patch",
        "/moderation/threads/{key}",
        client.patch(
            "/api/v1/moderation/threads/a-story", json={"status": "closed"}, headers=token["mona"]
        ),
    )
    check(
        spec,
        "get",
        "/moderation/settings",
        client.get("/api/v1/moderation/settings", headers=token["ada"]),
    )
    check(
        spec,
        "patch",
        "/moderation/settings",
        client.patch("/api/v1/moderation/settings", json={"max_links": 3}, headers=token["ada"]),
    )
    check(
        spec, "get", "/moderation/log", client.get("/api/v1/moderation/log", headers=token["ada"])
    )
    check(
        spec,
        "get",
        "/moderation/history",
        client.get("/api/v1/moderation/history", headers=token["mona"]),
    )


def test_every_documented_body_refuses_other_fields(spec):
    """The request schemas are the ones the endpoints validate against
    (forum.views.api.schemas), and they admit no field they do not name."""
    schemas = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            for choice in schema.get("oneOf", [schema]):
                named = schemas[choice["$ref"].rsplit("/", 1)[1]]
                assert named["additionalProperties"] is False, (method, path)
