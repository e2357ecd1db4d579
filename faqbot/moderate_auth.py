"""Moderator login sessions in the database, cookie flags and CSRF tokens.

A session is a random token in an HttpOnly, SameSite=Strict cookie; the database keeps only its
SHA-256 (the row id), so every server process shares sessions. Each login starts a NEW session
(the one the browser came with is deleted: no session fixation). A session ends after
`moderator_idle_minutes` without a request, after 12 hours in any case, at logout, and when its
account is disabled or its password reset. Every state-changing form carries the session's
CSRF token; the login form, which has no session yet, uses a signed double-submit cookie.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, or_, select, update

from faqbot.moderate_accounts import Clock
from faqbot.moderate_models import Moderator, ModeratorSession
from faqbot.store_db import writer
from faqbot.store_models import utc_now

SESSION_COOKIE = "faqbot_moderator"
LOGIN_COOKIE = "faqbot_login_csrf"
COOKIE_PATH = "/moderate"
MAX_AGE = dt.timedelta(hours=12)
TOUCH_EVERY = dt.timedelta(seconds=60)  # write last_seen at most once a minute per session
LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


@dataclass(frozen=True)
class ModeratorSessionInfo:
    """Who a valid session belongs to, and the CSRF token its forms must carry."""

    key: str
    moderator_id: int
    username: str
    is_admin: bool
    csrf_token: str

    @property
    def role(self) -> str:
        """ "admin" or "moderator"."""
        return "admin" if self.is_admin else "moderator"


def new_token() -> str:
    """A random URL-safe token (256 bits)."""
    return secrets.token_urlsafe(32)


def token_key(token: str) -> str:
    """The database key of a session token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time equality of two tokens; False when either is missing or empty."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


class Sessions:
    """Start, look up, touch and end moderator sessions stored in the database."""

    def __init__(self, *, engine: Engine, idle_minutes: int, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.idle = dt.timedelta(minutes=idle_minutes)
        self.clock = clock

    def start(self, moderator_id: int, *, replacing: str | None = None) -> str:
        """A new session for the account; the token to put in the cookie.

        `replacing` (the token the browser came with) is deleted, as are expired sessions.
        """
        token, now = new_token(), self.clock()
        with writer(self.engine).begin() as connection:
            if replacing:
                connection.execute(
                    delete(ModeratorSession).where(ModeratorSession.id == token_key(replacing))
                )
            connection.execute(delete(ModeratorSession).where(self._expired(now)))
            connection.execute(
                insert(ModeratorSession).values(
                    id=token_key(token),
                    moderator_id=moderator_id,
                    created_at=now,
                    last_seen=now,
                    csrf_token=new_token(),
                )
            )
        return token

    def _expired(self, now: dt.datetime):  # type: ignore[no-untyped-def]
        return or_(
            ModeratorSession.last_seen < now - self.idle,
            ModeratorSession.created_at < now - MAX_AGE,
        )

    def load(self, token: str | None) -> ModeratorSessionInfo | None:
        """The live session for a cookie token (touched), or None; a dead one is deleted."""
        if not token:
            return None
        key, now = token_key(token), self.clock()
        query = (
            select(ModeratorSession, Moderator.username, Moderator.is_admin, Moderator.disabled)
            .join(Moderator, Moderator.id == ModeratorSession.moderator_id)
            .where(ModeratorSession.id == key)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        if row.disabled or row.last_seen < now - self.idle or row.created_at < now - MAX_AGE:
            self.end(token)
            return None
        if now - row.last_seen >= TOUCH_EVERY:
            self._touch(key, now)
        return ModeratorSessionInfo(
            key, row.moderator_id, row.username, bool(row.is_admin), row.csrf_token
        )

    def _touch(self, key: str, now: dt.datetime) -> None:
        with writer(self.engine).begin() as connection:
            connection.execute(
                update(ModeratorSession).where(ModeratorSession.id == key).values(last_seen=now)
            )

    def end(self, token: str | None) -> None:
        """Delete the session of this token (logout); nothing when there is none."""
        if not token:
            return
        with writer(self.engine).begin() as connection:
            connection.execute(
                delete(ModeratorSession).where(ModeratorSession.id == token_key(token))
            )

    def count(self, moderator_id: int) -> int:
        """How many sessions an account has (live or not yet pruned)."""
        query = select(ModeratorSession.id).where(ModeratorSession.moderator_id == moderator_id)
        with self.engine.connect() as connection:
            return len(connection.execute(query).all())


# ---------------------------------------------------------------------- cookies
def is_loopback_host(host: str | None) -> bool:
    """True for localhost and loopback addresses (IPv4 127/8, IPv6 ::1)."""
    if not host:
        return False
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def secure_cookies(setting: bool | None, host: str | None) -> bool:
    """The cookies' Secure flag: the setting when given, else on unless served on loopback."""
    return setting if setting is not None else not is_loopback_host(host)


# ---------------------------------------------------------------------- login CSRF
def login_secret(ip_hash_key: str) -> bytes:
    """The key that signs login-form CSRF cookies (derived from the deployment's secret)."""
    return hashlib.sha256(b"faqbot moderate login csrf\x00" + ip_hash_key.encode()).digest()


def sign(secret: bytes, token: str) -> str:
    """`token.signature`: the cookie value of a login-form CSRF token."""
    mac = hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()
    return f"{token}.{mac}"


def login_token_from(secret: bytes, cookie: str | None) -> str | None:
    """The token in a login CSRF cookie whose signature is valid, else None."""
    if not cookie or "." not in cookie:
        return None
    token = cookie.rsplit(".", 1)[0]
    return token if hmac.compare_digest(sign(secret, token), cookie) else None


__all__ = [
    "COOKIE_PATH",
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "ModeratorSessionInfo",
    "Sessions",
    "is_loopback_host",
    "login_secret",
    "login_token_from",
    "new_token",
    "same_token",
    "secure_cookies",
    "sign",
    "token_key",
]
