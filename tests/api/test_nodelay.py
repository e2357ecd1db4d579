"""Every connection the server accepts has Nagle's algorithm off, however the socket was bound.

`--workers N` makes uvicorn bind `socket.socket(AF_INET)` (proto 0), for which asyncio leaves
Nagle on; with it, each keep-alive response waited ~40 ms for the client's delayed ACK.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest
import uvicorn

from faqbot.serving import HTTP_PROTOCOL


async def hello(scope, receive, send):  # a minimal ASGI app: the protocol is under test
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def server_side_nodelay(http: str) -> int:
    """Serve one keep-alive request on a socket bound the way uvicorn's workers bind it."""
    sock = socket.socket(family=socket.AF_INET)  # proto 0, as uvicorn.Config.bind_socket does
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(hello, http=http, log_level="warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
            time.sleep(0.02)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert client.get("/").text == "ok"
            (connection,) = server.server_state.connections  # still open: keep-alive
            accepted = connection.transport.get_extra_info("socket")
            return accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def test_faqbot_protocol_turns_nagle_off_on_worker_sockets() -> None:
    assert server_side_nodelay(HTTP_PROTOCOL) != 0


def test_plain_uvicorn_leaves_nagle_on_there_which_is_what_this_fixes() -> None:
    if server_side_nodelay("h11") != 0:
        pytest.skip("this uvicorn/asyncio already sets TCP_NODELAY on worker sockets")


def test_serve_passes_the_protocol_to_uvicorn(monkeypatch) -> None:
    from typer.testing import CliRunner

    from faqbot import cli_serve  # noqa: F401 - registers the command
    from faqbot.cli import app

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    assert seen["http"] == HTTP_PROTOCOL


def test_a_taken_port_fails_once_with_the_reason(monkeypatch) -> None:
    from faqbot.serving import run_workers

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit, match=f"cannot listen on 127.0.0.1:{port}"):
            run_workers(2, app="faqbot.api:app_factory", factory=True, host="127.0.0.1", port=port)
