"""flask --app forum users create / demo load / rerender."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from forum.errors import Conflict, ValidationError
from forum.extensions import db
from forum.markup import render_article, render_comment
from forum.models import Article, Comment, CommentStatus, Role
from forum.services import accounts, demo


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo_group)
    app.cli.add_command(rerender)
    app.cli.add_command(mail_group)


users = AppGroup("users", help="Manage accounts.")


@users.command("create")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default="reader")
def create_user(username, email, password, role):
    """Create an account (reader, moderator or admin)."""
    try:
        user = accounts.register(username, email, password, role=Role(role))
    except (ValidationError, Conflict) as error:
        db.session.rollback()
        detail = "; ".join(f"{k}: {v}" for k, v in error.fields.items()) or error.message
        raise click.ClickException(detail) from None
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.username}.")


demo_group = AppGroup("demo", help="The demo site.")


@demo_group.command("load")
def demo_load():
    """Load the demo articles and discussions (safe to run again)."""
    created = demo.load()
    db.session.commit()
    click.echo("Demo site loaded." if created else "Demo site already there; nothing to do.")


@click.command()
@with_appcontext
def rerender():
    """Rebuild stored HTML from the Markdown sources (after the allowlist changes)."""
    count = 0
    for article in db.session.scalars(select(Article)):
        article.body_html = render_article(article.body)
        count += 1
    for comment in db.session.scalars(
        select(Comment).where(Comment.status != CommentStatus.DELETED)
    ):
        comment.html = render_comment(comment.body)
        count += 1
    db.session.commit()
    click.echo(f"Re-rendered {count} texts.")


mail_group = AppGroup("mail", help="Email notifications.")


@mail_group.command("send")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many.")
def mail_send(limit):
    """Deliver the queued emails that are due (one pass; safe beside running workers)."""
    from forum.services import mailer

    try:
        result = mailer.send_due(limit=limit)
    except Exception as error:  # the database itself: say so in one line
        db.session.rollback()
        raise click.ClickException(f"Could not read the outbox: {error}") from None
    click.echo(str(result))
