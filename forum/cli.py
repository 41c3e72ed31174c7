"""flask --app forum users create / demo load / rerender / mail send / import /
export / import-backup."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from forum.addresses import normalize_origin
from forum.errors import Conflict, ForumError, ValidationError
from forum.extensions import db
from forum.markup import render_article, render_comment
from forum.models import Article, Comment, CommentStatus, Role, utcnow
from forum.ops import backup, demo
from forum.ops.imports import disqus, isso, items, loader
from forum.services.accounts import accounts, erasure, staff
from forum.services.notify import alerts, outbox


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo_group)
    app.cli.add_command(rerender)
    app.cli.add_command(mail_group)
    app.cli.add_command(import_group)
    app.cli.add_command(export_command)
    app.cli.add_command(import_backup_command)


users = AppGroup("users", help="Manage accounts.")


@users.command("create")
@click.argument("username")
@click.option("--email", prompt="Email address")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default="reader")
def create_user(username, email, password, role):
    """Create an account (reader, moderator or admin)."""
    try:
        user = accounts.register(username, email, password, role=Role(role))
    except (ValidationError, Conflict) as error:
        db.session.rollback()
        detail = "; ".join(f"{k}: {v}" for k, v in error.fields.items()) or error.message
        raise click.ClickException(detail) from None
    user.email_verified_at = utcnow()  # the operator vouches for the address
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.username}.")


def _account(username):
    user = accounts.find_user(username)
    if user is None:
        raise click.ClickException(f"There is no account named {username!r}.")
    return user


def _refused(error: ForumError) -> click.ClickException:
    db.session.rollback()
    detail = "; ".join(f"{k}: {v}" for k, v in error.fields.items()) or error.message
    return click.ClickException(detail)


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.option("--reason", help="For the audit log.")
def set_role(username, role, reason):
    """Make an account a reader, moderator or admin (audited)."""
    user = _account(username)
    try:
        changed = staff.set_role(None, user, role, reason)
    except ForumError as error:
        raise _refused(error) from None
    db.session.commit()
    click.echo(f"{user.username} is {'now' if changed else 'already'} {role}.")


@users.command("delete")
@click.argument("username")
@click.option("--reason", help="For the audit log.")
@click.option("--yes", is_flag=True, help="Do not ask, even at a terminal.")
def delete_user(username, reason, yes):
    """Delete an account: it cannot sign in again and its comments' words are erased
    (replies stay under tombstones). Cannot be undone. At a terminal it asks first;
    from a script (no terminal) it does as told, as the other commands do."""
    user = _account(username)
    if not yes and at_terminal():
        click.confirm(
            f"Delete {user.username} and erase all of their comments' text? This cannot be undone",
            abort=True,
        )
    name = user.username
    try:
        erasure.delete_account(user, actor=None, reason=reason)
    except ForumError as error:
        raise _refused(error) from None
    db.session.commit()
    click.echo(f"Deleted {name}.")


def at_terminal() -> bool:
    """Whether someone is there to answer a question (stdin is a terminal)."""
    return sys.stdin is not None and sys.stdin.isatty()


@users.command("list")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None)
@click.option("--search", default=None, help="Start of a username or email, or part of a name.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=200, show_default=True)
def list_users(role, search, limit):
    """List live accounts in username order: username, role, display name, email."""
    try:
        page = staff.search(search, role, limit=limit)
    except ForumError as error:
        raise _refused(error) from None
    for user in page.people:
        click.echo(f"{user.username}\t{user.role.value}\t{user.display_name}\t{user.email or '-'}")
    if page.next_after:
        click.echo(f"(more: narrow with --search or raise --limit past {limit})", err=True)


demo_group = AppGroup("demo", help="The demo site.")


@demo_group.command("load")
def demo_load():
    """Load the demo articles and discussions (safe to run again)."""
    created = demo.load()
    password = demo.load_moderation()
    db.session.commit()
    click.echo("Demo site loaded." if created else "Demo site already there; nothing to do.")
    if password:
        # Shown once, here, to the operator: the demo moderator has work waiting.
        click.echo(
            f"Demo moderator: sign in as {demo.MODERATOR} with the password {password} "
            "(shown only now) to see the queues."
        )


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
    """Deliver the queued emails and webhook calls that are due, after writing the
    moderators' digests that are due (one pass; safe beside running workers)."""
    try:
        digests = alerts.queue_digests()
        result = outbox.send_due(limit=limit)
    except Exception as error:  # the database itself: say so in one line
        db.session.rollback()
        raise click.ClickException(f"Could not read the outbox: {error}") from None
    if digests:
        click.echo(f"Queued {digests} moderators' digest(s).")
    click.echo(str(result))


import_group = AppGroup("import", help="Import the discussions of another comment system.")


@import_group.command("disqus")
@click.argument("file")
def import_disqus_command(file):
    """Import a Disqus export (the XML file from Disqus's Export page).

    Safe to run again, also after an interruption: nothing is imported twice.
    """
    _import(disqus.SOURCE, disqus.LABEL, file, lambda: disqus.read(file))


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
    _import(isso.SOURCE, isso.LABEL, file, lambda: isso.read(file, origin))


PROGRESS_EVERY = 10_000


def _import(source: str, label: str, file: str, open_archive) -> None:
    shown = [0]

    def progress(report: items.ImportReport) -> None:
        done = report.comments_imported + report.comments_already + report.skipped_count
        if done >= shown[0] + PROGRESS_EVERY:
            shown[0] = done
            click.echo(f"... {done:,} comments read", err=True)

    try:
        report = loader.run(source, label, open_archive(), db.session.commit, progress)
    except items.ArchiveError as error:
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


def _report_lines(label: str, file: str, report: items.ImportReport) -> list[str]:
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


def _tallies(tallies: dict[str, items.Tally]) -> list[str]:
    lines = []
    for reason, tally in sorted(tallies.items(), key=lambda pair: -pair[1].count):
        more = ", ..." if tally.count > len(tally.examples) else ""
        lines.append(f"  {reason}: {tally.count:,} (ids {', '.join(tally.examples)}{more})")
    return lines


# -- backups ----------------------------------------------------------------------------


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--with-secrets",
    is_flag=True,
    help="Also password hashes, sign-on and hook secrets, API tokens and sessions: "
    "a restore that everyone can go on using as before.",
)
@with_appcontext
def export_command(file, with_secrets):
    """Write the whole site to FILE (JSON; gzip-compressed if FILE ends in .gz).

    Every table from one snapshot, safe while the site runs; `import-backup`
    restores it into an empty database of the same schema. Without
    --with-secrets the file leaves out what would let its reader sign in as
    someone (listed at the end). The file is readable by its owner only.
    """
    if with_secrets:
        click.echo(
            "Warning: the file will hold secrets (password hashes, sign-on and hook secrets, "
            "API tokens, sessions): keep it as safe as the database.",
            err=True,
        )
    try:
        summary = backup.export_to(file, with_secrets=with_secrets)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"Cannot write {file}: {error.strerror or error}") from None
    except SQLAlchemyError as error:
        raise click.ClickException(f"Cannot read the database: {_first_line(error)}") from None
    size = os.path.getsize(file)
    click.echo(
        f"Exported {summary.rows:,} rows to {file} ({size / 2**20:,.1f} MB) in "
        f"{summary.seconds:.1f} s, schema {summary.schema}"
        f"{', with secrets' if with_secrets else ''}."
    )
    _echo_counts(summary)


@click.command("import-backup")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_backup_command(file):
    """Restore a file of `export` into this database, which must be empty
    (`flask --app forum db upgrade` on a new database). All or nothing."""
    try:
        summary = backup.restore_from(file)
        db.session.commit()
    except backup.BackupError as error:
        db.session.rollback()
        raise click.ClickException(f"{error} Nothing was restored.") from None
    except SQLAlchemyError as error:
        db.session.rollback()
        raise click.ClickException(
            f"The database failed: {_first_line(error)}. Nothing was restored."
        ) from None
    click.echo(
        f"Restored {summary.rows:,} rows from {file} in {summary.seconds:.1f} s, "
        f"schema {summary.schema}{', with secrets' if summary.with_secrets else ''}."
    )
    _echo_counts(summary)


def _first_line(error: SQLAlchemyError) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0].rstrip(".")


def _echo_counts(summary: backup.Summary) -> None:
    for table, count in summary.counts.items():
        click.echo(f"  {table}: {count:,}")
    if summary.left_out:
        click.echo("Not in the backup:")
        for name, why in summary.left_out.items():
            click.echo(f"  {name}: {why}")
