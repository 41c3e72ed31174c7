"""Schemathesis against /api/v1/openapi.json, in process (WSGI).

Every documented operation is fuzzed from its own schema, with a fresh database
each time: as a visitor, as a reader and as an admin (bearer tokens issued by
the API itself), with data that fits the schema and, as the admin, data that
does not.  Each response must be no server error, have a documented status and
match the documented body schema.

Generated path parameters rarely name anything that exists, so half the cases
use real ones (the seeded thread, comments and account) to reach past the 404s.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from forum.models import Role
from forum.views.api.openapi import document
from tests.conftest import token_for

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]

EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,  # the same cases every run
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)

SPEC = document()
OPERATIONS = [(method, path) for path, item in SPEC["paths"].items() for method in item]


def _negatable(method: str, path: str) -> bool:
    """Whether any part of the request can be made to break its schema: a body,
    or a parameter that is more than a free string."""
    operation = SPEC["paths"][path][method]
    parameters = operation.get("parameters", [])
    return "requestBody" in operation or any(p["schema"] != {"type": "string"} for p in parameters)


def _cases(schema, method: str, path: str, mode: GenerationMode, headers: dict, seeds):
    operation = schema[path][method.upper()]
    names = {p.name for p in operation.path_parameters}
    generated = operation.as_strategy(generation_mode=mode, headers=headers or None)
    choices = [{name: value for name, value in seed.items() if name in names} for seed in seeds]
    choices = [seed for seed in choices if seed and set(seed) == names]
    if not choices:
        return generated
    seeded = st.sampled_from(choices).flatmap(
        lambda seed: operation.as_strategy(
            generation_mode=mode, headers=headers or None, path_parameters=seed
        )
    )
    return st.one_of(generated, seeded)


RUNS = [
    ("visitor", GenerationMode.POSITIVE),
    ("reader", GenerationMode.POSITIVE),
    ("admin", GenerationMode.POSITIVE),
    ("visitor", GenerationMode.NEGATIVE),
    ("admin", GenerationMode.NEGATIVE),
]
IDENTITIES = {"visitor": None, "reader": "alice", "admin": "ada"}


def _params():
    for method, path in OPERATIONS:
        for who, mode in RUNS:
            if mode is GenerationMode.NEGATIVE and not _negatable(method, path):
                continue
            yield pytest.param(method, path, who, mode, id=f"{method.upper()} {path} {who} {mode}")


@pytest.mark.parametrize(("method", "path", "who", "mode"), list(_params()))
def test_operation_conforms_to_its_schema(app, make, client, method, path, who, mode):
    make.user("alice")
    make.user("ada", role=Role.ADMIN)
    bob = make.user("bob")
    make.article("a-story", "A story")
    bobs = make.comment(bob, "a-story", "Bob's **theory**, see https://example.org")
    username = IDENTITIES[who]
    headers = {}
    seeds = [{"key": "a-story", "id": bobs, "username": "bob"}]
    if username:
        headers = {"Authorization": f"Bearer {token_for(client, username)}"}
        own = client.post(
            "/api/v1/threads/a-story/comments", json={"body": "mine"}, headers=headers
        ).json["comment"]["id"]
        seeds.append({"key": "a-story", "id": own, "username": username})

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

    @EXAMPLES
    @given(case=_cases(schema, method, path, mode, headers, seeds))
    def run(case):
        case.call_and_validate(checks=CHECKS)

    run()
