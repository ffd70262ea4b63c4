"""`hub serve`'s connections have Nagle's algorithm off, also with several workers (a socket
bound by uvicorn itself), so a response is not held back waiting for the client's delayed ACK."""

from __future__ import annotations

import asyncio
import socket

import uvicorn

from hub import cli
from hub.serving import HTTP_PROTOCOL, NoDelayHTTPProtocol


async def _app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _accepted_no_delay(http) -> list[int]:
    """TCP_NODELAY of the server's side of each open connection, on a listening socket bound the
    way uvicorn binds it for several workers."""
    config = uvicorn.Config(_app, host="127.0.0.1", port=0, http=http, lifespan="off", log_level="warning")
    listening = config.bind_socket()
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection(*listening.getsockname()[:2])
        for _ in range(2):  # kept alive: the second request rides the same connection
            writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            await reader.readuntil(b"\r\n\r\nok")
        flags = [protocol.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                 for protocol in server.server_state.connections]
        writer.close()
        return flags
    finally:
        server.should_exit = True
        await serving


def test_connections_on_a_socket_bound_for_workers_have_nagle_off():
    flags = asyncio.run(_accepted_no_delay(NoDelayHTTPProtocol))
    assert flags and all(flags), flags


def test_hub_serve_runs_that_protocol(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    # Set here so that serving several workers leaves this test process's environment as it was.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_MINISTRY_URL", "sqlite+aiosqlite:///unused-ministry.db")
    monkeypatch.setenv("HUB_CITY_URL", "sqlite+aiosqlite:///unused-city.db")
    monkeypatch.setenv("HUB_STORE_URL", "sqlite+aiosqlite:///unused-store.db")
    assert cli.main(["serve", "--workers", "2", "--port", "1"]) == 0
    assert seen["http"] == HTTP_PROTOCOL and seen["workers"] == 2
    assert uvicorn.importer.import_from_string(HTTP_PROTOCOL) is NoDelayHTTPProtocol
