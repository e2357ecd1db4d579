"""Moderator accounts: argon2 password hashes, roles, disabling, and the failed-login lockout.

`Accounts(engine=...)` is used by both the console and `faqbot moderators ...`. Disabling an
account or resetting its password deletes its sessions in the same transaction, so it is logged
out at once. Five failed logins for a name (known or not) lock that name for 15 minutes; while
it is locked even the right password is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from faqbot.moderate_models import LoginAttempt, Moderator, ModeratorSession
from faqbot.store_db import writer
from faqbot.store_models import as_aware_utc, utc_now

Clock = Callable[[], dt.datetime]
MIN_PASSWORD = 12
MAX_PASSWORD = 256  # argon2 accepts more; a bound keeps hashing cheap for junk input
MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")
LoginStatus = Literal["ok", "bad", "locked"]


class AccountError(ValueError):
    """An account operation was refused (bad name, weak password, duplicate, unknown account)."""


class Account(BaseModel):
    """A moderator account as pages and the CLI show it (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    is_admin: bool
    disabled: bool
    created_at: dt.datetime
    password_changed_at: dt.datetime

    @property
    def role(self) -> str:
        """ "admin" or "moderator"."""
        return "admin" if self.is_admin else "moderator"


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a login attempt: ok (with the account), bad credentials, or locked."""

    status: LoginStatus
    account: Account | None = None
    locked_until: dt.datetime | None = None


def check_username(username: str) -> str:
    """The name, or AccountError: 2-64 letters, digits and . _ @ - (starting with a letter/digit)."""
    if not USERNAME.match(username):
        raise AccountError(
            "user names are 2 to 64 characters: letters, digits and . _ @ - "
            "(starting with a letter or digit)"
        )
    return username


def check_password(password: str) -> str:
    """The password, or AccountError when it is too short or too long."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"passwords need at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"passwords may have at most {MAX_PASSWORD} characters")
    return password


class Accounts:
    """Create, list, disable and re-password moderator accounts; check logins with lockout."""

    def __init__(
        self, *, engine: Engine, hasher: PasswordHasher | None = None, clock: Clock = utc_now
    ) -> None:
        self.engine = engine
        self.hasher = hasher or PasswordHasher()
        self.clock = clock
        self._dummy_hash: str | None = None

    # ------------------------------------------------------------------ reading
    def list(self) -> list[Account]:
        """Every account, by name."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(Moderator).order_by(Moderator.username)).all()
        return [Account.model_validate(row._mapping) for row in rows]

    def get(self, account_id: int) -> Account | None:
        """One account by id, or None."""
        return self._one(select(Moderator).where(Moderator.id == account_id))

    def by_name(self, username: str) -> Account | None:
        """One account by user name, or None."""
        return self._one(select(Moderator).where(Moderator.username == username))

    def _one(self, query: object) -> Account | None:
        with self.engine.connect() as connection:
            row = connection.execute(query).first()  # type: ignore[call-overload]
        return Account.model_validate(row._mapping) if row else None

    # ------------------------------------------------------------------ changing
    def create(self, username: str, password: str, *, admin: bool = False) -> Account:
        """A new enabled account (AccountError for a bad name, weak password or duplicate)."""
        check_username(username)
        now = self.clock()
        values = {
            "username": username,
            "password_hash": self.hasher.hash(check_password(password)),
            "is_admin": admin,
            "disabled": False,
            "created_at": now,
            "password_changed_at": now,
        }
        try:
            with writer(self.engine).begin() as connection:
                connection.execute(insert(Moderator).values(**values))
        except IntegrityError:
            raise AccountError(f"an account named {username!r} already exists") from None
        account = self.by_name(username)
        assert account is not None
        return account

    def set_disabled(self, account_id: int, disabled: bool) -> Account:
        """Disable (ending every session at once) or re-enable an account."""
        with writer(self.engine).begin() as connection:
            self._update(connection, account_id, disabled=disabled)
            if disabled:
                end_sessions(connection, account_id)
        return self._required(account_id)

    def reset_password(self, account_id: int, password: str) -> Account:
        """Set a new password and end every session of the account."""
        hashed = self.hasher.hash(check_password(password))
        with writer(self.engine).begin() as connection:
            self._update(
                connection, account_id, password_hash=hashed, password_changed_at=self.clock()
            )
            end_sessions(connection, account_id)
        return self._required(account_id)

    def _update(self, connection: Connection, account_id: int, **values: object) -> None:
        statement = update(Moderator).where(Moderator.id == account_id).values(**values)
        if connection.execute(statement).rowcount == 0:
            raise AccountError(f"there is no account #{account_id}")

    def _required(self, account_id: int) -> Account:
        account = self.get(account_id)
        if account is None:
            raise AccountError(f"there is no account #{account_id}")
        return account

    # ------------------------------------------------------------------ logging in
    def authenticate(self, username: str, password: str) -> LoginResult:
        """Check a login: refused while the name is locked; the 5th failure locks it."""
        locked = self.locked_until(username)
        if locked is not None:
            return LoginResult("locked", locked_until=locked)
        account = self._verify(username, password)
        if account is None:
            locked = self._count_failure(username)
            return LoginResult("locked" if locked else "bad", locked_until=locked)
        self._clear_failures(username)
        return LoginResult("ok", account)

    def locked_until(self, username: str) -> dt.datetime | None:
        """When the lock on this name ends, or None when it is not locked now."""
        with self.engine.connect() as connection:
            until = connection.execute(
                select(LoginAttempt.locked_until).where(LoginAttempt.username == username)
            ).scalar()
        return until if until is not None and as_aware_utc(until) > self.clock() else None

    def _verify(self, username: str, password: str) -> Account | None:
        """The enabled account when the password matches (always one hash check: no timing leak)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(Moderator).where(Moderator.username == username)
            ).first()
        stored = row.password_hash if row is not None else self._dummy()
        try:
            self.hasher.verify(stored, password[:MAX_PASSWORD])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled:
            return None
        if self.hasher.check_needs_rehash(stored):
            self._rehash(row.id, password)
        return Account.model_validate(row._mapping)

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash("not-a-real-password-for-timing")
        return self._dummy_hash

    def _rehash(self, account_id: int, password: str) -> None:
        hashed = self.hasher.hash(password)
        with writer(self.engine).begin() as connection:
            connection.execute(
                update(Moderator).where(Moderator.id == account_id).values(password_hash=hashed)
            )

    def _count_failure(self, username: str) -> dt.datetime | None:
        """Add one failure for the name (atomically); lock it on the 5th; the lock's end or None."""
        now = self.clock()
        row = LoginAttempt.username == username
        with writer(self.engine).begin() as connection:
            connection.execute(first_attempt(connection.dialect.name, username))
            connection.execute(
                update(LoginAttempt)
                .where(row)
                .values(failed_count=LoginAttempt.failed_count + 1, locked_until=None)
            )
            failures = connection.execute(select(LoginAttempt.failed_count).where(row)).scalar()
            if (failures or 0) < MAX_FAILURES:
                return None
            until = now + LOCKOUT
            connection.execute(
                update(LoginAttempt).where(row).values(failed_count=0, locked_until=until)
            )
        return until

    def _clear_failures(self, username: str) -> None:
        with writer(self.engine).begin() as connection:
            connection.execute(delete(LoginAttempt).where(LoginAttempt.username == username))


def first_attempt(dialect: str, username: str) -> Any:
    """INSERT a zero-failure row for the name unless one exists (safe under concurrency)."""
    insert_into = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert_into(LoginAttempt).values(username=username, failed_count=0)
    return statement.on_conflict_do_nothing(index_elements=["username"])


def end_sessions(connection: Connection, account_id: int) -> int:
    """Delete every session of an account (inside the caller's transaction); how many."""
    statement = delete(ModeratorSession).where(ModeratorSession.moderator_id == account_id)
    return int(connection.execute(statement).rowcount)


__all__ = [
    "LOCKOUT",
    "MAX_FAILURES",
    "MIN_PASSWORD",
    "Account",
    "AccountError",
    "Accounts",
    "LoginResult",
    "check_password",
    "check_username",
]
