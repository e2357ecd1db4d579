"""The moderator console at /moderate: `moderation_router(settings=..., store=...)`.

Wiring (one line in `create_app`): `app.include_router(moderation_router(settings=settings,
store=store))`. With `store=None` (the app opens its store in the lifespan) each request uses
`app.state.faqbot.store`; the gap report uses the app's Bot (its encoder and index) the same way.

Only two paths are public: the login page and the console's stylesheet (PUBLIC_PATHS). Every
other route sits on a router whose dependencies demand a live session (anonymous GET -> 303 to
the login page, anything else -> 401) and, for every method but GET/HEAD, the session's CSRF
token in the form (missing or wrong -> 403). A route added later inherits both.
"""

# No `from __future__ import annotations`: FastAPI must evaluate the route signatures'
# closure-local `Annotated[..., Depends(...)]` aliases at definition time.

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import jinja2
from argon2 import PasswordHasher
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from starlette.responses import FileResponse, RedirectResponse, Response

from faqbot.config import PROJECT_ROOT, Settings
from faqbot.moderate_accounts import Accounts, Clock
from faqbot.moderate_auth import (
    COOKIE_PATH,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    ModeratorSessionInfo,
    Sessions,
    login_secret,
    login_token_from,
    new_token,
    same_token,
    secure_cookies,
    sign,
)
from faqbot.moderate_triage import Triage
from faqbot.moderate_views import environment, render, secured
from faqbot.store_models import utc_now

log = logging.getLogger("faqbot.moderate")
LOGIN_PATH = "/moderate/login"
CSS_PATH = "/moderate/static/console.css"
PUBLIC_PATHS = frozenset({LOGIN_PATH, CSS_PATH})
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
FormText = Annotated[str, Form()]


@dataclass
class Console:
    """What one request of the console works with."""

    settings: Settings
    store: Any
    accounts: Accounts
    sessions: Sessions
    triage: Triage
    env: jinja2.Environment
    clock: Clock
    bot: Any = None

    def now(self) -> dt.datetime:
        """The console's clock (injectable for tests of timeouts and lockouts)."""
        return self.clock()


class ConsoleSource:
    """Builds the Console for a request from the given store, or the app's own (lazily)."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: Any,
        clock: Clock,
        web_dir: Path,
        bot: Any = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.bot = bot
        self.web_dir = web_dir
        self.env = environment(web_dir / "templates" / "moderate")
        self.hasher = hasher or PasswordHasher()
        self._cached: tuple[Any, Console] | None = None

    def __call__(self, request: Request) -> Console:
        """The Console (503 while the app has no store yet)."""
        app_state = getattr(request.app.state, "faqbot", None)
        store = self.store if self.store is not None else getattr(app_state, "store", None)
        if store is None or not hasattr(store, "engine"):
            raise HTTPException(503, "The moderation console has no database.")
        if self._cached is None or self._cached[0] is not store:
            self._cached = (store, self._build(store))
        console = self._cached[1]
        console.bot = self.bot if self.bot is not None else getattr(app_state, "bot", None)
        return console

    def _build(self, store: Any) -> Console:
        engine = store.engine
        return Console(
            settings=self.settings,
            store=store,
            accounts=Accounts(engine=engine, hasher=self.hasher, clock=self.clock),
            sessions=Sessions(
                engine=engine, idle_minutes=self.settings.moderator_idle_minutes, clock=self.clock
            ),
            triage=Triage(engine=engine, clock=self.clock),
            env=self.env,
            clock=self.clock,
        )


def login_required(request: Request) -> HTTPException:
    """303 to the login page for a page view, 401 for anything else."""
    if request.method in ("GET", "HEAD"):
        return HTTPException(303, "Log in first.", headers={"Location": LOGIN_PATH})
    return HTTPException(401, "Log in at /moderate/login first.")


def session_guards(
    console_dep: Callable[..., Console],
) -> tuple[Callable[..., ModeratorSessionInfo], Callable[..., Any]]:
    """The dependencies `current_moderator` (a live session) and `csrf_protected`."""

    def current_moderator(
        request: Request, console: Annotated[Console, Depends(console_dep)]
    ) -> ModeratorSessionInfo:
        info = console.sessions.load(request.cookies.get(SESSION_COOKIE))
        if info is None:
            raise login_required(request)
        return info

    async def csrf_protected(
        request: Request, me: Annotated[ModeratorSessionInfo, Depends(current_moderator)]
    ) -> None:
        if request.method in SAFE_METHODS:
            return
        token = (await request.form()).get("csrf_token")
        if not isinstance(token, str) or not same_token(me.csrf_token, token):
            raise HTTPException(403, "The form's security token is missing or wrong; reload it.")

    return current_moderator, csrf_protected


def set_cookie(response: Response, name: str, value: str, *, secure: bool, path: str) -> None:
    """An HttpOnly, SameSite=Strict cookie (Secure as decided for this request)."""
    response.set_cookie(name, value, path=path, secure=secure, httponly=True, samesite="strict")


def cookie_secure(console: Console, request: Request) -> bool:
    """The Secure flag for this request's cookies."""
    return secure_cookies(console.settings.secure_cookies, request.url.hostname)


def login_page(
    console: Console, request: Request, *, status: int = 200, error: str = "", username: str = ""
) -> Response:
    """The login form with a fresh signed double-submit CSRF cookie."""
    token = new_token()
    response = render(
        console.env, "login.html", status, csrf_token=token, error=error, username=username, me=None
    )
    secret = login_secret(console.settings.ip_hash_key)
    set_cookie(
        response,
        LOGIN_COOKIE,
        sign(secret, token),
        secure=cookie_secure(console, request),
        path=LOGIN_PATH,
    )
    return response


def public_router(console_dep: Callable[..., Console], web_dir: Path) -> APIRouter:
    """The only routes open to anonymous users: the login form and the stylesheet."""
    router = APIRouter(include_in_schema=False)
    ConsoleDep = Annotated[Console, Depends(console_dep)]

    @router.get(CSS_PATH)
    def console_css() -> Response:
        """The console's stylesheet (no inline styles anywhere)."""
        response = FileResponse(
            web_dir / "moderate" / "console.css", media_type="text/css; charset=utf-8"
        )
        secured(response).headers["Cache-Control"] = "no-cache"
        return response

    @router.get(LOGIN_PATH)
    def login_form(request: Request, console: ConsoleDep) -> Response:
        """The login form (also when logged in: logging in again replaces the session)."""
        return login_page(console, request)

    @router.post(LOGIN_PATH)
    def login_submit(
        request: Request,
        console: ConsoleDep,
        username: FormText = "",
        password: FormText = "",
        csrf_token: FormText = "",
    ) -> Response:
        """Check the CSRF token, then the credentials; start a NEW session on success."""
        secret = login_secret(console.settings.ip_hash_key)
        if not same_token(login_token_from(secret, request.cookies.get(LOGIN_COOKIE)), csrf_token):
            return login_page(
                console, request, status=403, error="The login form expired. Please try again."
            )
        username = username.strip()[:64]
        result = console.accounts.authenticate(username, password)
        if result.status == "locked":
            log.warning("moderator login refused: name locked")
            until = result.locked_until.strftime("%H:%M UTC") if result.locked_until else "later"
            error = f"Too many failed logins for this name. Try again after {until}."
            return login_page(console, request, status=429, error=error, username=username)
        if result.account is None:
            return login_page(
                console,
                request,
                status=401,
                error="Wrong user name or password.",
                username=username,
            )
        return start_session(console, request, result.account.id)

    return router


def start_session(console: Console, request: Request, account_id: int) -> Response:
    """Replace any session the browser had with a new one; go to the queue."""
    token = console.sessions.start(account_id, replacing=request.cookies.get(SESSION_COOKIE))
    response = secured(RedirectResponse("/moderate", 303))
    secure = cookie_secure(console, request)
    set_cookie(response, SESSION_COOKIE, token, secure=secure, path=COOKIE_PATH)
    response.delete_cookie(
        LOGIN_COOKIE, path=LOGIN_PATH, secure=secure, httponly=True, samesite="strict"
    )
    return response


def moderation_router(
    *,
    settings: Settings,
    store: Any = None,
    bot: Any = None,
    clock: Clock = utc_now,
    web_dir: Path | None = None,
    hasher: PasswordHasher | None = None,
) -> APIRouter:
    """Every /moderate route: login (public), queue, detail, triage, exports, overview, gaps,
    accounts (admin). `store`/`bot` default to the app's own; `clock` and `hasher` (argon2
    parameters) may be injected, e.g. by tests."""
    from faqbot.moderate_admin import add_account_routes
    from faqbot.moderate_pages import add_review_routes

    web = web_dir or PROJECT_ROOT / "web"
    source = ConsoleSource(
        settings=settings, store=store, clock=clock, web_dir=web, bot=bot, hasher=hasher
    )
    current_moderator, csrf_protected = session_guards(source)
    private = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protected)])
    add_review_routes(private, source, current_moderator)
    add_account_routes(private, source, current_moderator)

    @private.post("/moderate/logout")
    def logout(request: Request, console: Annotated[Console, Depends(source)]) -> Response:
        """End this session and forget its cookie."""
        console.sessions.end(request.cookies.get(SESSION_COOKIE))
        response = secured(RedirectResponse(LOGIN_PATH, 303))
        response.delete_cookie(
            SESSION_COOKIE,
            path=COOKIE_PATH,
            secure=cookie_secure(console, request),
            httponly=True,
            samesite="strict",
        )
        return response

    router = APIRouter(include_in_schema=False)
    router.include_router(public_router(source, web))
    router.include_router(private)
    return router


__all__ = ["PUBLIC_PATHS", "Console", "moderation_router"]
