"""No input, however malformed, produces a 500: every API operation is sent
wrong types, wrong shapes and odd identifiers, signed in and not."""

import itertools

import pytest

from tests.conftest import token_for

JUNK_VALUES = [
    None,
    True,
    0,
    -1,
    2**70,
    1.5,
    "",
    " ",
    "x" * 20_000,
    [],
    [1],
    {},
    {"a": 1},
    "\x00",
    "\ud800",
    "<script>",
]
FIELDS = [
    "body",
    "parent_id",
    "theory_title",
    "spoiler",
    "username",
    "password",
    "email",
    "sso",
    "value",
    "reason",
]
PATH_IDS = [
    "1", "0", "-1", "2147483648", "99999999999999999999999", "abc", "%00", "..", "a%2Fb",
    "\u00b2",
]  # fmt: skip


def payloads():
    yield from ([], "text", 5, None)
    for field, value in itertools.product(FIELDS, JUNK_VALUES):
        yield {field: value}
    yield {field: "ok" for field in FIELDS}


@pytest.fixture
def headers(client, make, article):
    make.user("alice")
    return {"Authorization": f"Bearer {token_for(client, 'alice')}"}


def odd_paths():
    for ident in PATH_IDS:
        yield "post", f"/api/v1/threads/{ident}/comments"
        yield "get", f"/api/v1/threads/{ident}/comments"
        yield "get", f"/api/v1/threads/{ident}"
        yield "patch", f"/api/v1/comments/{ident}"
        yield "delete", f"/api/v1/comments/{ident}"
        yield "get", f"/api/v1/comments/{ident}"


def requests(comment_id):
    """Every odd path with a few bodies; every writing operation with every body."""
    writers = [
        ("post", "/api/v1/threads/a-story/comments"),
        ("patch", f"/api/v1/comments/{comment_id}"),
        ("post", "/api/v1/users"),
        ("post", "/api/v1/tokens"),
        ("post", "/api/v1/session"),
    ]
    yield from itertools.product(writers, payloads())
    for operation in odd_paths():  # last: one of these deletes the target
        for payload in ([], {"body": "ok"}, {"body": None}):
            yield operation, payload


def test_no_payload_makes_a_500(client, headers):
    comment_id = client.post(
        "/api/v1/threads/a-story/comments", json={"body": "target"}, headers=headers
    ).json["comment"]["id"]
    seen = set()
    for (method, path), payload in requests(comment_id):
        for auth in (headers, {}):
            response = getattr(client, method)(path, json=payload, headers=auth)
            assert response.status_code < 500, (method, path, payload, response.json)
            assert response.status_code == 204 or response.is_json, (method, path)
            seen.add(response.status_code)
    assert {201, 401, 404, 422} <= seen


@pytest.mark.parametrize(
    "query",
    [
        "sort=%00",
        "limit=1e3",
        "limit=%EF%BC%91",  # a full-width digit one
        "limit=99999999999999999999999",
        "cursor=%00",
        "cursor=" + "%FF" * 10,
        "cursor=W10",  # base64 of []
        "cursor=WyJvbGRlc3QiLDEsIjIwMjYtMDEtMDFUMDA6MDA6MDAiLDFd",  # naive time
        "cursor=WyJvbGRlc3QiLHRydWUsIjIwMjYtMDEtMDFUMDA6MDA6MDArMDA6MDAiLDFd",  # bool score
        "sort=top&sort=newest",
    ],
)
def test_odd_queries_are_client_errors(client, article, query):
    response = client.get(f"/api/v1/threads/a-story/comments?{query}")
    assert response.status_code in (200, 422), query


@pytest.mark.parametrize(
    "path",
    [
        "/articles/a-story?comment=%00",
        "/articles/a-story?cursor=%FF%FF",
        "/articles/a-story?sort=%00",
        "/articles/A-STORY",
        "/articles/%00",
        "/articles/a-story/comments?cursor=zz",
        "/comments/99999999999999999999999",
        "/comments/0/reply",
        "/api/v1/counts?keys=%00,a-story",
        "/api/v1/counts?keys=,,,",
    ],
)
def test_odd_page_requests_are_not_500(client, article, path):
    assert client.get(path).status_code < 500


def test_odd_form_posts_are_not_500(reader_client, article):
    for data in (
        {"body": "\x00"},
        {"parent_id": "１"},
        {"parent_id": "-3", "body": "x"},
        {"parent_id": "99999999999999999999999", "body": "x"},
        {},
    ):
        response = reader_client.post("/articles/a-story/comments", data=data)
        assert response.status_code < 500, data


def test_ids_past_the_integer_column_are_not_found(client, headers):
    """PostgreSQL's INTEGER ends at 2**31 - 1; a larger id must never reach a query."""
    for path in (
        "/api/v1/comments/2147483648",
        "/comments/2147483648/reply",
        "/articles/a-story?comment=2147483648",
    ):
        assert client.get(path, headers=headers).status_code in (200, 302, 404), path
    marked = client.post("/api/v1/notifications/read", json={"ids": [2**31]}, headers=headers)
    assert marked.status_code == 422
