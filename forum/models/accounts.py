"""Readers' accounts: users, their sessions, API tokens, single sign-on identities, mutes."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.markup import name_key
from forum.models.columns import PERMANENT, UTCDateTime, _enum, utcnow
from forum.models.enums import AlertFrequency, Role


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(30))
    # Lower-cased username: the unique key, so "Ada" and "ada" cannot both exist.
    username_key: Mapped[str] = mapped_column(String(30), unique=True)
    # No email: an author imported from another system (a guest name) or a
    # single-sign-on account whose address already belongs to another account.
    email: Mapped[str | None] = mapped_column(String(254))
    # Not unique: registration must not reveal which addresses have accounts, so
    # one address may hold several (a password reset lists them all).
    email_key: Mapped[str | None] = mapped_column(String(254), index=True)
    display_name: Mapped[str] = mapped_column(String(50))
    # forum.markup.name_key(display_name), kept by the listener below: guests'
    # names are checked against it so that none passes for a reader.
    display_key: Mapped[str] = mapped_column(String(50), index=True, default="")
    # The same of the username.
    handle_key: Mapped[str] = mapped_column(String(50), index=True, default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    # Indexed: a held comment alerts the moderators, found among every reader.
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.READER, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A ban in force until this time (PERMANENT for good); its history is in the audit log.
    banned_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ban_reason: Mapped[str | None] = mapped_column(String(500))
    # A few words about oneself, shown escaped on the profile.
    bio: Mapped[str] = mapped_column(String(300), default="")
    # The notification kinds this reader asked to receive by email (opt-in).
    email_kinds: Mapped[list] = mapped_column(JSON, default=list)
    # Unread notifications, kept with them, so the header needs no query of its own.
    unread_count: Mapped[int] = mapped_column(Integer, default=0)
    # A name that came with imported comments: nobody can sign in as it.
    is_guest: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the owner proved the address is theirs (a link we emailed); None: not yet.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the account was deleted (by its owner or an admin): it can no longer
    # sign in, its comments' text is gone and its name shows as "deleted".
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Short labels a publisher's sign-on vouched for (e.g. "subscriber"), shown
    # beside the name; set at each sign-on from a site an admin allowed to.
    badges: Mapped[list] = mapped_column(JSON, default=list)
    # The language the reader chose (a shipped locale such as "es" or "pt-BR"); None
    # follows the browser.  Emails go out in it (else in the one they signed up in).
    locale: Mapped[str | None] = mapped_column(String(16))
    # Moderators only: how often they are emailed about comments waiting for them.
    moderation_alerts: Mapped[AlertFrequency] = mapped_column(
        _enum(AlertFrequency), default=AlertFrequency.DAILY, server_default="daily"
    )

    def is_banned(self, now: datetime) -> bool:
        return self.banned_until is not None and self.banned_until > now

    @property
    def ban_is_permanent(self) -> bool:
        return self.banned_until is not None and self.banned_until >= PERMANENT

    def __repr__(self) -> str:
        return f"<User {self.username}>"


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
def _keep_display_key(_mapper, _connection, user: User) -> None:
    user.display_key = name_key(user.display_name)
    user.handle_key = name_key(user.username)


class UserSession(db.Model):
    """One signed-in browser. The session cookie carries its key; signing out,
    or changing the password (for the others), revokes it here, so a copied
    cookie stops working too."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the random key in the cookie (a database leak is no sign-in).
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When its holder last proved who they are (see accounts.issue_token); None:
    # a token from before this was kept, never recent enough for reauth.
    signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class SsoIdentity(db.Model):
    """A publisher's account (their `sub`) linked to one of ours."""

    __tablename__ = "sso_identities"
    __table_args__ = (UniqueConstraint("site_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("embed_sites.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The role this site's `role` claim raised the account to ("moderator"), so
    # that the site can take back what it gave and never what an admin gave.
    granted_role: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship()


class ExternalIdentity(db.Model):
    """An account at an OpenID Connect or OAuth 2 provider (GitHub, Google, an
    operator's own issuer) that signs in to one of ours. Linked when the reader
    first signs in through it, never by matching email addresses."""

    __tablename__ = "external_identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The provider's name in the configuration ("github", "google", "oidc", ...).
    provider: Mapped[str] = mapped_column(String(40))
    # The provider's stable id for the person (OIDC `sub`, GitHub's numeric id).
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The address the provider gave at the last sign-in, for the owner's record.
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class SpentToken(db.Model):
    """A single-use signed link already used (emailed sign-in links, guests'
    address confirmations), kept until it would have expired anyway."""

    __tablename__ = "spent_tokens"
    __table_args__ = (UniqueConstraint("purpose", "jti"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))
    jti: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SsoTokenUse(db.Model):
    """A single-sign-on token already exchanged (its `jti`), kept until it expires
    so that the same token cannot be exchanged twice."""

    __tablename__ = "sso_token_uses"
    __table_args__ = (UniqueConstraint("site_id", "jti"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("embed_sites.id", ondelete="CASCADE"))
    jti: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Mute(db.Model):
    """A reader mutes another: the muted one's comments collapse for them."""

    __tablename__ = "mutes"
    __table_args__ = (UniqueConstraint("user_id", "muted_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    muted_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
