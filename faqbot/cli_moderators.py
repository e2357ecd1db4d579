"""`faqbot moderators ...` and `faqbot gaps`: moderator accounts and the content gap report.

Passwords are prompted twice (hidden) on a terminal; when stdin is not a terminal they are read
as two lines from stdin, so scripts can create accounts: `printf 'pw\\npw\\n' | faqbot moderators
add ann`. Account changes made here are written to the audit log as moderator "(cli)".
"""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from faqbot.cli import JsonOpt, app, emit_json, fail
from faqbot.cli_store import one_line, open_cli_store
from faqbot.config import Settings

if TYPE_CHECKING:
    from faqbot.moderate_accounts import Account, Accounts
    from faqbot.store import EscalationStore

moderators_app = typer.Typer(no_args_is_help=True, help="Manage moderator console accounts.")
app.add_typer(moderators_app, name="moderators")

NameArg = Annotated[str, typer.Argument(help="The account's user name.")]
CLI_ACTOR = "(cli)"


def read_password() -> str:
    """A new password, entered twice: hidden prompts on a terminal, else two stdin lines."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password again: ")
    else:
        first, second = (sys.stdin.readline().rstrip("\r\n") for _ in range(2))
    if not first:
        raise fail("no password given")
    if first != second:
        raise fail("the two passwords differ")
    return first


def account_json(account: Account) -> dict[str, Any]:
    """An account as JSON (never the hash)."""
    data: dict[str, Any] = account.model_dump(mode="json")
    data["role"] = account.role
    return data


class AccountsCli:
    """The store and account manager for one command, closed afterwards."""

    def __enter__(self) -> Accounts:
        from faqbot.moderate_accounts import Accounts

        self.store: EscalationStore = open_cli_store(retention=False)
        return Accounts(engine=self.store.engine)

    def __exit__(self, *exc: object) -> None:
        self.store.close()

    def audit(self, action: str, username: str, **change: str) -> None:
        """Write the change to the audit log."""
        from faqbot.moderate_triage import Triage

        Triage(engine=self.store.engine).record(
            moderator=CLI_ACTOR, action=action, note=username, **change
        )


def existing(accounts: Accounts, username: str) -> Account:
    """The named account, or a one-line error."""
    account = accounts.by_name(username)
    if account is None:
        raise fail(f"there is no account named {username!r}")
    return account


@moderators_app.command("add")
def moderators_add(
    username: NameArg,
    admin: Annotated[bool, typer.Option("--admin", help="Also manages accounts.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create an account; the password is asked twice (or read as two lines from stdin)."""
    from faqbot.moderate_accounts import AccountError, check_username

    try:
        check_username(username)
    except AccountError as exc:
        raise fail(str(exc)) from None
    password = read_password()
    session = AccountsCli()
    with session as accounts:
        try:
            account = accounts.create(username, password, admin=admin)
        except AccountError as exc:
            raise fail(str(exc)) from None
        session.audit("account.create", account.username, after=account.role)
    if as_json:
        emit_json(account_json(account))
    else:
        typer.echo(f"created {account.role} {account.username!r}")


@moderators_app.command("list")
def moderators_list(as_json: JsonOpt = False) -> None:
    """Every account: name, role, state and when its password last changed."""
    with AccountsCli() as accounts:
        found = accounts.list()
    if as_json:
        emit_json([account_json(a) for a in found])
        return
    for account in found:
        state = "disabled" if account.disabled else "active"
        changed = account.password_changed_at.strftime("%Y-%m-%d")
        typer.echo(f"{account.username}\t{account.role}\t{state}\tpassword set {changed}")
    typer.echo(f"{len(found)} account(s)", err=True)


@moderators_app.command("disable")
def moderators_disable(username: NameArg) -> None:
    """Disable an account; its console sessions end at once."""
    session = AccountsCli()
    with session as accounts:
        accounts.set_disabled(existing(accounts, username).id, True)
        session.audit("account.disable", username, before="enabled", after="disabled")
    typer.echo(f"disabled {username!r}; its sessions have ended")


@moderators_app.command("enable")
def moderators_enable(username: NameArg) -> None:
    """Enable a disabled account again."""
    session = AccountsCli()
    with session as accounts:
        accounts.set_disabled(existing(accounts, username).id, False)
        session.audit("account.enable", username, before="disabled", after="enabled")
    typer.echo(f"enabled {username!r}")


@moderators_app.command("reset-password")
def moderators_reset_password(username: NameArg) -> None:
    """Set a new password (asked twice, or two stdin lines); the account's sessions end."""
    from faqbot.moderate_accounts import AccountError

    session = AccountsCli()
    with session as accounts:
        account = existing(accounts, username)
        password = read_password()
        try:
            accounts.reset_password(account.id, password)
        except AccountError as exc:
            raise fail(str(exc)) from None
        session.audit("account.password", username)
    typer.echo(f"new password set for {username!r}; its sessions have ended")


# ---------------------------------------------------------------------- gaps
@app.command()
def gaps(
    days: Annotated[int, typer.Option("--days", min=1, help="Look back this many days.")] = 30,
    as_json: JsonOpt = False,
) -> None:
    """Unanswered questions of the last N days grouped by meaning: what to write next."""
    from faqbot.errors import StoreError
    from faqbot.gaps import gap_report

    settings = Settings()
    encoder, index, kb = load_gap_tools(settings)
    store = open_cli_store(retention=False)
    try:
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        records = store.list_unanswered(since=since)
    except StoreError as exc:
        raise fail(one_line(exc)) from None
    finally:
        store.close()
    groups = gap_report(records, encoder=encoder, index=index, kb=kb)
    if as_json:
        emit_json(
            {"days": days, "questions": len(records), "groups": [g.as_json() for g in groups]}
        )
        return
    for group in groups:
        typer.echo(f"{group.size:>5}  {group.example}")
        if group.nearest_entry_id:
            typer.echo(
                f"       nearest entry: {group.nearest_entry_id} ({group.nearest_score:.2f}) "
                f"{group.nearest_question}"
            )
        for question in group.questions:
            typer.echo(f"       also: {question}")
    typer.echo(f"{len(records)} question(s) in {len(groups)} group(s), last {days} days", err=True)


def load_gap_tools(settings: Settings) -> tuple[Any, Any, Any]:
    """The encoder, index and knowledge base the gap report groups with (or a one-line error)."""
    from faqbot.encoder import load_encoder
    from faqbot.errors import FaqbotError
    from faqbot.index import load_index
    from faqbot.kb import KnowledgeBase

    try:
        kb = KnowledgeBase.from_path(settings.knowledge_dir)
        encoder = load_encoder(
            settings.encoder, data_dir=settings.data_dir, threads=settings.encoder_threads
        )
        index = load_index(settings.data_dir, kb, encoder.name)
    except FaqbotError as exc:
        raise fail(f"{one_line(exc)}; run `faqbot index build` first") from None
    return encoder, index, kb
