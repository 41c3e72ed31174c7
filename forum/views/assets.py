"""The stylesheet and scripts: every url_for('static', ...) carries a hash of the
file's content (?v=…), and such an address is kept by browsers for a year, so a
changed file is fetched again at once and an unchanged one never.  Modules a
script imports by relative path ("./comment-dom.js") go without: they are
revalidated by ETag as before."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, request

YEAR = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    folder = Path(app.static_folder)
    versions: dict[str, str] = {}

    def version(filename: str) -> str | None:
        if filename not in versions or app.debug:  # edited files show at once in debug
            path = (folder / filename).resolve()
            if not path.is_file() or folder.resolve() not in path.parents:
                return None
            versions[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return versions[filename]

    @app.url_defaults
    def fingerprint(endpoint, values):
        if endpoint == "static" and "v" not in values:
            found = version(values.get("filename", ""))
            if found:
                values["v"] = found

    @app.after_request
    def keep_fingerprinted(response):
        if request.endpoint == "static" and response.status_code == 200:
            wanted = request.args.get("v")
            if wanted and wanted == version(request.view_args.get("filename", "")):
                response.cache_control.public = True
                response.cache_control.max_age = YEAR
                response.cache_control.immutable = True
                response.cache_control.no_cache = None
        return response
