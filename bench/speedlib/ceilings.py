"""The ceilings our server is measured against, served by the same gunicorn.

- flask_constant: one Flask view returning fixed bytes (our 500-comment API
  response, captured beforehand, with its Content-Type) at our API's URL;
- wsgi_constant: the same bytes from a bare WSGI callable;
- flask_hello: Flask's hello world.

BENCH_CONSTANT_FILE and BENCH_CONSTANT_TYPE name the bytes and their type.
"""

import os
from pathlib import Path

from flask import Flask, Response

BODY = Path(os.environ["BENCH_CONSTANT_FILE"]).read_bytes()
CONTENT_TYPE = os.environ["BENCH_CONSTANT_TYPE"]

flask_constant = Flask("flask_constant")


@flask_constant.get("/api/v1/threads/<key>/comments")
def constant(key):
    return Response(BODY, content_type=CONTENT_TYPE)


def wsgi_constant(environ, start_response):
    start_response("200 OK", [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(BODY)))])
    return [BODY]


flask_hello = Flask("flask_hello")


@flask_hello.get("/")
def hello():
    return "Hello, World!"
