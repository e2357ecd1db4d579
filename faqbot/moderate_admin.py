"""Account management pages for admins: list, create, disable/enable, reset a password.

These routes sit on a sub-router whose dependency refuses moderators (403), inside the private
router (live session + CSRF). Every change is written to the audit log; disabling an account or
resetting its password ends that account's sessions at once (see faqbot.moderate_accounts).
"""

# No `from __future__ import annotations`: FastAPI must evaluate the route signatures'
# closure-local `Annotated[..., Depends(...)]` aliases at definition time.

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException
from starlette.responses import RedirectResponse, Response

from faqbot.moderate_accounts import Account, AccountError
from faqbot.moderate_auth import ModeratorSessionInfo
from faqbot.moderate_views import render, secured

if TYPE_CHECKING:
    from faqbot.moderate import Console

ACCOUNTS_PATH = "/moderate/accounts"
FormText = Annotated[str, Form()]


def accounts_page(
    console: "Console", me: ModeratorSessionInfo, *, error: str = "", status: int = 200
) -> Response:
    """The accounts table, the create form and recent account changes."""
    return render(
        console.env,
        "accounts.html",
        status,
        me=me,
        accounts=console.accounts.list(),
        changes=console.triage.recent(limit=20),
        error=error,
    )


def matching(password: str, again: str) -> str:
    """The password when both entries match (AccountError otherwise)."""
    if password != again:
        raise AccountError("the two passwords differ")
    return password


def add_account_routes(
    router: APIRouter,
    console_dep: Callable[..., "Console"],
    moderator_dep: Callable[..., ModeratorSessionInfo],
) -> None:
    """Register the admin-only account routes on `router`."""
    ConsoleDep = Annotated[Any, Depends(console_dep)]
    Me = Annotated[ModeratorSessionInfo, Depends(moderator_dep)]

    def require_admin(me: Me) -> None:
        if not me.is_admin:
            raise HTTPException(403, "Only admins manage accounts.")

    admin = APIRouter(dependencies=[Depends(require_admin)])

    @admin.get(ACCOUNTS_PATH)
    def accounts(console: ConsoleDep, me: Me) -> Response:
        """Every account with its role and state."""
        return accounts_page(console, me)

    @admin.post(ACCOUNTS_PATH)
    def create_account(
        console: ConsoleDep,
        me: Me,
        username: FormText = "",
        password: FormText = "",
        password_again: FormText = "",
        role: FormText = "moderator",
    ) -> Response:
        """Create an account (role moderator or admin)."""
        return guarded(
            console,
            me,
            lambda: console.accounts.create(
                username.strip(), matching(password, password_again), admin=role == "admin"
            ),
            "account.create",
        )

    @admin.post(ACCOUNTS_PATH + "/{account_id}/disable")
    def disable(account_id: int, console: ConsoleDep, me: Me) -> Response:
        """Disable an account; its sessions end at once."""
        if account_id == me.moderator_id:
            return accounts_page(
                console, me, error="You cannot disable your own account.", status=400
            )
        return change_state(console, me, account_id, disabled=True)

    @admin.post(ACCOUNTS_PATH + "/{account_id}/enable")
    def enable(account_id: int, console: ConsoleDep, me: Me) -> Response:
        """Enable a disabled account again."""
        return change_state(console, me, account_id, disabled=False)

    @admin.post(ACCOUNTS_PATH + "/{account_id}/password")
    def reset_password(
        account_id: int,
        console: ConsoleDep,
        me: Me,
        password: FormText = "",
        password_again: FormText = "",
    ) -> Response:
        """Set a new password; the account's sessions end at once."""
        return guarded(
            console,
            me,
            lambda: console.accounts.reset_password(account_id, matching(password, password_again)),
            "account.password",
        )

    router.include_router(admin)


def guarded(
    console: "Console", me: ModeratorSessionInfo, change: Callable[[], Account], action: str
) -> Response:
    """Apply an account change and audit it; the accounts page with the error when refused."""
    try:
        account = change()
    except AccountError as exc:
        return accounts_page(console, me, error=str(exc), status=400)
    after = account.role if action == "account.create" else None
    console.triage.record(moderator=me.username, action=action, after=after, note=account.username)
    return back()


def change_state(
    console: "Console", me: ModeratorSessionInfo, account_id: int, *, disabled: bool
) -> Response:
    """Disable or enable an account and audit it."""
    try:
        account = console.accounts.set_disabled(account_id, disabled)
    except AccountError as exc:
        return accounts_page(console, me, error=str(exc), status=404)
    states = ("enabled", "disabled") if disabled else ("disabled", "enabled")
    console.triage.record(
        moderator=me.username,
        action="account.disable" if disabled else "account.enable",
        before=states[0],
        after=states[1],
        note=account.username,
    )
    return back()


def back() -> Response:
    """Post/redirect/get to the accounts page."""
    return secured(RedirectResponse(ACCOUNTS_PATH, 303))


__all__ = ["add_account_routes"]
