"""Compare the schema libraries considered for forum/views/api/schemas/.

Import cost (a fresh interpreter each time, median of 7) and the cost of
validating a 100-comment list, the API's largest answer, plus how each one
reports an unknown field.  It needs the candidates, which the project does
not install; run it in a scratch virtualenv:

    python -m venv /tmp/schemas && /tmp/schemas/bin/pip install pydantic marshmallow \
        apispec flask-openapi3 spectree jsonschema jsonschema-rs
    /tmp/schemas/bin/python bench/api_schema_libraries.py

Measured 2026-12-07 on the shared 2-core machine, two runs (load average ~10,
so noisy): imports pydantic 142-355 ms, marshmallow+apispec 90-283 ms,
flask-openapi3 685-1603 ms and spectree 685-1052 ms (both import Flask, itself
552-728 ms); a 100-comment list validated by pydantic 1.6 ms, marshmallow
18.6-24.6 ms, jsonschema-rs 0.14-0.15 ms, jsonschema 81-112 ms.
Chosen: pydantic, for the request bodies (about 4 us a request; it names each
unknown field) and the generated document.  Answers are not validated at run
time (the serializers stay as fast as before) but in the tests, against the
document.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Literal

STATUSES = ["approved", "pending", "rejected", "spam", "deleted"]


def import_ms(statement: str) -> float:
    program = f"import time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)"
    runs = []
    for _ in range(7):
        done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
        runs.append(float(done.stdout))
    return statistics.median(runs) * 1000


def comment(n: int) -> dict:
    return {
        "id": n,
        "thread_key": "k",
        "parent_id": None,
        "author": {"username": "u", "display_name": "U"},
        "html": "<p>hello there</p>" * 5,
        "created_at": datetime.now(UTC).isoformat(),
        "edited_at": None,
        "status": "approved",
        "score": 3,
        "is_theory": False,
        "theory_title": None,
        "theory_status": None,
        "spoiler": False,
        "featured": False,
        "replies": [],
    }


PAGE = [comment(n) for n in range(100)]


def per_page_us(validate, rounds: int = 200) -> float:
    validate()
    start = time.perf_counter()
    for _ in range(rounds):
        validate()
    return (time.perf_counter() - start) / rounds * 1e6


def pydantic_validator():
    from pydantic import BaseModel, ConfigDict, TypeAdapter

    class Author(BaseModel):
        model_config = ConfigDict(extra="forbid")
        username: str
        display_name: str

    class Comment(BaseModel):
        model_config = ConfigDict(extra="forbid")
        id: int
        thread_key: str
        parent_id: int | None
        author: Author | None
        html: str
        created_at: datetime
        edited_at: datetime | None
        status: Literal["approved", "pending", "rejected", "spam", "deleted"]
        score: int
        is_theory: bool
        theory_title: str | None
        theory_status: str | None
        spoiler: bool
        featured: bool
        replies: list[Comment]

    return TypeAdapter(list[Comment])


def marshmallow_schema():
    import marshmallow as ma

    class Author(ma.Schema):
        username = ma.fields.Str(required=True)
        display_name = ma.fields.Str(required=True)

    class Comment(ma.Schema):
        class Meta:
            unknown = ma.RAISE

        id = ma.fields.Int(required=True)
        thread_key = ma.fields.Str()
        parent_id = ma.fields.Int(allow_none=True)
        author = ma.fields.Nested(Author, allow_none=True)
        html = ma.fields.Str()
        created_at = ma.fields.AwareDateTime()
        edited_at = ma.fields.AwareDateTime(allow_none=True)
        status = ma.fields.Str(validate=ma.validate.OneOf(STATUSES))
        score = ma.fields.Int()
        is_theory = ma.fields.Bool()
        theory_title = ma.fields.Str(allow_none=True)
        theory_status = ma.fields.Str(allow_none=True)
        spoiler = ma.fields.Bool()
        featured = ma.fields.Bool()
        replies = ma.fields.List(ma.fields.Nested(lambda: Comment()))

    return Comment(many=True)


def main() -> None:
    for name, statement in [
        ("pydantic", "import pydantic; pydantic.BaseModel"),
        ("marshmallow+apispec", "from apispec.ext.marshmallow import MarshmallowPlugin"),
        ("flask-openapi3 (with Flask)", "import flask_openapi3"),
        ("spectree (with Flask)", "from spectree.plugins import flask_plugin"),
        ("Flask alone", "import flask"),
    ]:
        print(f"import {name}: {import_ms(statement):.0f} ms")

    adapter = pydantic_validator()
    print(f"pydantic: {per_page_us(lambda: adapter.validate_python(PAGE)):.0f} us a page")
    schema = marshmallow_schema()
    print(f"marshmallow: {per_page_us(lambda: schema.validate(PAGE)):.0f} us a page")
    import jsonschema
    import jsonschema_rs

    fast = jsonschema_rs.validator_for(adapter.json_schema())
    print(f"jsonschema-rs: {per_page_us(lambda: fast.is_valid(PAGE)):.0f} us a page")
    slow = jsonschema.Draft202012Validator(adapter.json_schema())
    print(f"jsonschema: {per_page_us(lambda: slow.is_valid(PAGE), rounds=20):.0f} us a page")

    # The contract's error object wants {field: why}: both name an unknown field.
    from pydantic import BaseModel, ConfigDict, ValidationError

    class Flag(BaseModel):
        model_config = ConfigDict(extra="forbid")
        reason: Literal["spam", "other"]

    try:
        Flag.model_validate({"reason": "x", "close_after_days": 3})
    except ValidationError as error:
        print("pydantic:", [(e["type"], e["loc"]) for e in error.errors()])


if __name__ == "__main__":
    main()
