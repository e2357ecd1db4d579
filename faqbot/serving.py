"""uvicorn's HTTP/1.1 protocol with TCP_NODELAY on every connection, whatever made the socket.

asyncio turns Nagle's algorithm off only for sockets whose `proto` is IPPROTO_TCP. With
`--workers N` uvicorn binds the listening socket itself as `socket.socket(AF_INET)` (proto 0), so
accepted connections keep Nagle on. h11 writes a response's head and body in two `send`s; Nagle
holds the body until the client acknowledges the head, and the client delays that ACK by ~40 ms.
Measured before this fix: every keep-alive request to a 2-worker server, even /healthz, waited
about 44 ms (benchmarks/RESULTS.md, HTTP).
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

# The import string uvicorn's `http=` option takes (a string pickles into worker processes).
HTTP_PROTOCOL = "faqbot.serving:NoDelayH11Protocol"


def set_nodelay(transport: asyncio.BaseTransport) -> bool:
    """Turn Nagle off on a TCP transport's socket; False for sockets where it does not apply."""
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:  # the peer already went away: nothing to speed up
        return False
    return True


class NoDelayH11Protocol(H11Protocol):
    """H11Protocol that sets TCP_NODELAY before serving the connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)
