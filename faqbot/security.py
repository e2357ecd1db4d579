"""HTTP hardening: security headers, body limit (413), JSON-only API (415), no stack traces,
CORS for the API only, and the client address behind trusted proxies.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("faqbot.http")
BODY_METHODS = {"POST", "PUT", "PATCH"}
DOCS_PREFIX = "/docs"


def error_body(code: str, message: str) -> dict[str, str]:
    """The JSON shape of every error response."""
    return {"error": code, "message": message}


def error_response(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    """A JSON error response."""
    return JSONResponse(error_body(code, message), status_code=status, headers=headers or None)


def content_security_policy(path: str, origins: Iterable[str]) -> str:
    """The CSP for a path: strict everywhere; the offline API docs also need inline styles."""
    connect = " ".join(["'self'", *origins])
    style = "'self' 'unsafe-inline'" if path.startswith(DOCS_PREFIX) else "'self'"
    return (
        f"default-src 'self'; script-src 'self'; style-src {style}; img-src 'self' data:; "
        f"connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
        "object-src 'none'"
    )


def is_json_type(content_type: str | None) -> bool:
    """True for application/json (with parameters) and +json types."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class HardeningMiddleware:
    """Outermost middleware: reject early, add security headers, turn crashes into JSON 500s."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        cors_origins: Iterable[str] = (),
        debug_headers: bool = False,
        on_error: Any = None,
    ) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.origins = list(cors_origins)
        self.worker = str(os.getpid()) if debug_headers else None
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: list[int] = []
        extra = self.headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
            await send(message)

        try:
            await self.dispatch(scope, receive, send_with_headers)
        except Exception:  # noqa: BLE001 - never a stack trace to a client
            log.exception("unhandled error", extra={"path": scope["path"]})
            if self.on_error is not None:
                self.on_error()
            if not status:
                response = error_response(
                    500, "internal_error", "Something went wrong on our side."
                )
                await response(scope, receive, send_with_headers)
        finally:
            self.log_request(scope, status, started)

    async def dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Reject oversize or non-JSON requests; otherwise run the app with a counted body."""
        rejection = self.reject(scope)
        if rejection is not None:
            await rejection(scope, receive, send)
            return
        await self.app(scope, self.limited(receive), send)

    def reject(self, scope: Scope) -> JSONResponse | None:
        """A 413 or 415 response when the request headers already show it is unacceptable."""
        headers = Headers(scope=scope)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            return self.too_large()
        path: str = scope["path"]
        if (
            scope["method"] in BODY_METHODS
            and path.startswith("/api/")
            and not is_json_type(headers.get("content-type"))
        ):
            return error_response(
                415, "unsupported_media_type", "Send the request body as application/json."
            )
        return None

    def too_large(self) -> JSONResponse:
        """The 413 response."""
        return error_response(
            413, "body_too_large", f"The request body is larger than {self.max_body} bytes."
        )

    def limited(self, receive: Receive) -> Receive:
        """`receive` that stops a streamed body once it passes the limit."""
        total = 0

        async def receive_limited() -> Message:
            nonlocal total
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > self.max_body:
                    raise HTTPException(
                        413, f"The request body is larger than {self.max_body} bytes."
                    )
            return message

        return receive_limited

    def headers_for(self, path: str) -> dict[str, str]:
        """Security headers (and the debug worker header) for a response to `path`."""
        headers = {
            "Content-Security-Policy": content_security_policy(path, self.origins),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        if self.worker:
            headers["X-Faqbot-Worker"] = self.worker
        return headers

    @staticmethod
    def log_request(scope: Scope, status: list[int], started: float) -> None:
        """One JSON log line per request (no client address: it is personal data)."""
        log.info(
            "request",
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "status": status[0] if status else None,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )


class ApiCors:
    """CORS for /api/ only: site origins from the allowlist may call the API from a browser."""

    def __init__(self, app: ASGIApp, *, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send API requests through CORS, everything else straight on."""
        api = scope["type"] == "http" and scope["path"].startswith("/api/")
        await (self.cors if api else self.app)(scope, receive, send)


class TrustedProxies:
    """Which peers may tell us the client address in X-Forwarded-For."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.networks = [ipaddress.ip_network(e.strip(), strict=False) for e in entries]

    def trusts(self, address: str) -> bool:
        """True when `address` is one of the configured proxies."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    def client_ip(self, peer: str | None, forwarded_for: str | None) -> str:
        """The client: the socket peer, or the nearest untrusted hop when the peer is a proxy."""
        if not peer or not self.trusts(peer):
            return peer or "unknown"
        hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer


def client_key(address: str, secret: str) -> str:
    """A keyed hash of a client address (for rate-limit keys; never the raw address)."""
    return hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]
