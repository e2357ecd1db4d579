"""How `faqbot serve` runs uvicorn: Nagle off on every connection, one listening socket per worker.

TCP_NODELAY: asyncio turns Nagle's algorithm off only for sockets whose `proto` is IPPROTO_TCP.
With `--workers N` uvicorn binds the listening socket itself as `socket.socket(AF_INET)` (proto 0),
so accepted connections kept Nagle on. h11 writes a response's head and body in two `send`s; Nagle
held the body until the client acknowledged the head, and the client delays that ACK by ~40 ms:
every keep-alive request to a 2-worker server, even /healthz, waited about 44 ms.

Per-worker sockets: uvicorn gives all workers one shared listening socket. Every worker wakes on a
new connection and the first to run accepts the whole queue, so a burst of connections (16 clients
connecting at once) all landed on one worker while the other idled (measured: 16 and 0). Here each
worker binds its own socket with SO_REUSEPORT and the kernel spreads connections over them.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.supervisors import multiprocess

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


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) with SO_REUSEPORT, so each worker can bind its own."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class OwnSocketProcess(multiprocess.Process):
    """A uvicorn worker that listens on a socket of its own instead of the shared one."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:
        del sockets  # the supervisor passes none (it binds nothing for its workers)
        super().target([reuseport_socket(self.config.host, self.config.port)])


def run_workers(workers: int, **options: Any) -> None:
    """uvicorn's multi-process supervisor (restarts, signals) with per-worker listening sockets.

    The parent binds the address too (without listening, so it is never handed a connection):
    a port that is taken fails here, once, with a clear error, instead of in every worker.
    """
    if not hasattr(socket, "SO_REUSEPORT"):  # not Linux/BSD: uvicorn's shared socket
        uvicorn.run(workers=workers, **options)
        return
    config = uvicorn.Config(workers=workers, **options)
    try:
        reserved = reuseport_socket(config.host, config.port)
    except OSError as exc:
        raise SystemExit(f"cannot listen on {config.host}:{config.port}: {exc.strerror}") from exc
    logging.getLogger("uvicorn.error").info(
        "Uvicorn running on http://%s:%d, %d workers with a listening socket each",
        config.host,
        config.port,
        workers,
    )
    shared_socket_process = multiprocess.Process

    multiprocess.Process = OwnSocketProcess  # type: ignore[misc]  # the class the supervisor starts
    try:
        multiprocess.Multiprocess(config, sockets=[]).run()
    finally:
        multiprocess.Process = shared_socket_process  # type: ignore[misc]
        reserved.close()
