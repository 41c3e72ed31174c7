"""flask --app forum users create / demo load / rerender / mail send / import."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from forum.errors import Conflict, ValidationError
from forum.extensions import db
from forum.markup import render_article, render_comment
from forum.models import Article, Comment, CommentStatus, Role
from forum.services import accounts, demo, import_disqus, import_isso, import_items, imports
from forum.services.sites import normalize_origin


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo_group)
    app.cli.add_command(rerender)
    app.cli.add_command(mail_group)
    app.cli.add_command(import_group)


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


import_group = AppGroup("import", help="Import the discussions of another comment system.")


@import_group.command("disqus")
@click.argument("file")
def import_disqus_command(file):
    """Import a Disqus export (the XML file from Disqus's Export page).

    Safe to run again, also after an interruption: nothing is imported twice.
    """
    _import(import_disqus.SOURCE, import_disqus.LABEL, file, lambda: import_disqus.read(file))


@import_group.command("isso")
@click.argument("file")
@click.option(
    "--site",
    metavar="ORIGIN",
    help="The site Isso served, e.g. https://blog.example: gives the threads their pages' "
    "addresses (Isso keeps only paths).",
)
def import_isso_command(file, site):
    """Import an Isso database (its SQLite file; it is only read).

    Safe to run again, also after an interruption: nothing is imported twice.
    """
    origin = None
    if site is not None:
        origin = normalize_origin(site)
        if origin is None:
            raise click.ClickException(
                f"--site: {site!r} is not an origin like https://blog.example"
            )
    _import(import_isso.SOURCE, import_isso.LABEL, file, lambda: import_isso.read(file, origin))


PROGRESS_EVERY = 10_000


def _import(source: str, label: str, file: str, open_archive) -> None:
    shown = [0]

    def progress(report: import_items.ImportReport) -> None:
        done = report.comments_imported + report.comments_already + report.skipped_count
        if done >= shown[0] + PROGRESS_EVERY:
            shown[0] = done
            click.echo(f"... {done:,} comments read", err=True)

    try:
        report = imports.run(source, label, open_archive(), db.session.commit, progress)
    except import_items.ArchiveError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    except SQLAlchemyError as error:
        db.session.rollback()
        detail = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise click.ClickException(
            f"The database refused a batch ({detail}); the batches before it are kept, "
            "and running the import again continues from there."
        ) from None
    db.session.commit()
    for line in _report_lines(label, file, report):
        click.echo(line)


def _report_lines(label: str, file: str, report: import_items.ImportReport) -> list[str]:
    tombstones = (
        f", {report.comments_tombstones:,} deleted kept for their replies"
        if report.comments_tombstones
        else ""
    )
    pending = (
        f", {report.comments_pending:,} held for moderation" if report.comments_pending else ""
    )
    lines = [
        f"Imported from {label} ({file}) in {report.seconds:.1f} s.",
        f"Threads: {report.threads_created:,} created, {report.threads_existing:,} existing, "
        f"{report.threads_empty:,} without comments (not created).",
        f"Comments: {report.comments_imported:,} imported{pending}{tombstones}; "
        f"{report.comments_already:,} already imported.",
        f"Guests: {report.guests_created:,} created.",
        f"Skipped: {report.skipped_count:,}.",
    ]
    lines += _tallies(report.skipped)
    if report.notes:
        lines.append("Imported with a change:")
        lines += _tallies(report.notes)
    return lines


def _tallies(tallies: dict[str, import_items.Tally]) -> list[str]:
    lines = []
    for reason, tally in sorted(tallies.items(), key=lambda pair: -pair[1].count):
        more = ", ..." if tally.count > len(tally.examples) else ""
        lines.append(f"  {reason}: {tally.count:,} (ids {', '.join(tally.examples)}{more})")
    return lines
