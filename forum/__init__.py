"""forum: reader comments and speculation for articles.

create_app() is the application factory and the WSGI entry point
(gunicorn 'forum:create_app()').
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, session
from flask_babel import lazy_gettext
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from forum import cli, config, i18n, permissions, private_files
from forum.extensions import cache, csrf, db, limiter, login_manager, mail, migrate
from forum.models import include_search_objects, render_migration_item
from forum.services.accounts import accounts
from forum.services.notify.background_sender import start_background_sender
from forum.views import (
    account,
    api,
    assets,
    auth,
    avatars,
    comment_moderation,
    comments,
    embed,
    embedding_admin,
    feeds,
    formatting,
    guests,
    languages,
    moderation,
    negotiation,
    own_data,
    pages,
    people,
    people_admin,
    search,
    sign_in,
)

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    config.load(app, overrides)
    if hops := app.config["FORUM_PROXY_HOPS"]:
        # Trust exactly this many proxies for the client address, scheme and host.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,  # SQLite alters tables by copying them
        render_item=render_migration_item,
        include_name=include_search_objects,  # the full-text index: see search_index
    )
    csrf.init_app(app)
    limiter.init_app(app)
    # One Limiter serves every app the process makes (the tests make many). Its
    # "storage is down, count in memory" state belongs to the app whose storage
    # failed: a new app starts on its own storage, or the first hits of a window
    # would land in the stand-in and be forgotten when a health check switched back.
    limiter._storage_dead = False  # Flask-Limiter keeps it private; no public reset
    cache.init_app(app)
    login_manager.init_app(app)
    mail.init_app(app)
    login_manager.login_view = "auth.login"
    # Flashed in the reader's language (str() when it is flashed, not at import).
    login_manager.login_message = lazy_gettext("Please sign in to take part.")
    login_manager.localize_callback = str
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        # Only while the session's record is live (signing out revokes it).
        return accounts.session_user(user_id, session.get(accounts.SESSION_KEY))

    app.register_blueprint(pages.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(comments.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(moderation.bp)
    app.register_blueprint(comment_moderation.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(avatars.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(people.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(guests.bp)
    app.register_blueprint(embedding_admin.bp)
    app.register_blueprint(sign_in.bp)
    app.register_blueprint(own_data.bp)
    app.register_blueprint(people_admin.bp)
    app.register_blueprint(languages.bp)
    app.register_blueprint(search.bp)

    formatting.init_app(app)
    assets.init_app(app)

    i18n.init_app(app)
    negotiation.init_app(app)
    cli.init_app(app)
    start_background_sender(app)
    app.jinja_env.globals.update(permissions.TEMPLATE_GLOBALS)
    app.after_request(_security_headers)
    if not app.config["FORUM_BASE_URL"] and not app.testing:
        app.logger.warning(
            "FORUM_BASE_URL is not set: this server answers only requests addressed to %s, "
            "and links in emails and feeds point there. In production set FORUM_BASE_URL "
            "to the site's public address, e.g. https://comments.example.org.",
            " or ".join(app.config["TRUSTED_HOSTS"]),
        )
    return app


def _security_headers(response):
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if "frame-ancestors 'none'" in headers["Content-Security-Policy"]:
        # Embed pages name the publishers that may frame them instead.
        headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config.get("SESSION_COOKIE_SECURE"):  # FORUM_HTTPS=1
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


# A SQLite database file is made 0600 before it is opened (its -wal and -shm follow).
event.listen(Engine, "do_connect", private_files.before_sqlite_connect)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # SQLite leaves foreign keys off and fails at once on a locked database.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
