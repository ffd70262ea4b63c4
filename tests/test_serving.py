"""`hub serve`'s connections have Nagle's algorithm off, also with several workers (a socket
bound by uvicorn itself), so a response is not held back waiting for the client's delayed ACK;
and what one turn of the event loop writes to a connection is sent in one write."""

from __future__ import annotations

import asyncio
import socket

import uvicorn

from hub import cli
from hub.serving import HTTP_PROTOCOL, NoDelayHTTPProtocol


async def _app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/stream":  # a body in parts, the event loop turning between them
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"9")]})
        for part in (b"one", b"two", b"333"):
            await asyncio.sleep(0.01)
            await send({"type": "http.response.body", "body": part, "more_body": part != b"333"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


class Served:
    """A uvicorn server with the hub's HTTP protocol on a socket bound as for several workers."""

    def __init__(self, http=NoDelayHTTPProtocol) -> None:
        self.config = uvicorn.Config(_app, host="127.0.0.1", port=0, http=http, lifespan="off", log_level="warning")

    async def __aenter__(self):
        self.listening = self.config.bind_socket()
        self.server = uvicorn.Server(self.config)
        self.serving = asyncio.create_task(self.server.serve(sockets=[self.listening]))
        while not self.server.started:
            await asyncio.sleep(0.01)
        return self

    async def connect(self):
        return await asyncio.open_connection(*self.listening.getsockname()[:2])

    async def __aexit__(self, *exc):
        self.server.should_exit = True
        await self.serving


async def _accepted_no_delay(http) -> list[int]:
    """TCP_NODELAY of the server's side of each open connection, on a listening socket bound the
    way uvicorn binds it for several workers."""
    async with Served(http) as served:
        reader, writer = await served.connect()
        for _ in range(2):  # kept alive: the second request rides the same connection
            writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            await reader.readuntil(b"\r\n\r\nok")
        flags = [protocol.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                 for protocol in served.server.server_state.connections]
        writer.close()
        return flags


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


def test_a_response_is_one_write_and_streams_and_closes_whole():
    async def run():
        async with Served() as served:
            reader, writer = await served.connect()
            writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            await reader.readuntil(b"\r\n\r\nok")
            [protocol] = served.server.server_state.connections
            socket_writes = []
            real = protocol.transport._transport
            write = real.write
            real.write = lambda data: (socket_writes.append(data), write(data))[1]
            for _ in range(3):  # kept alive: each response, head and body, in one write
                writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200") and await reader.readexactly(2) == b"ok"
            assert len(socket_writes) == 3 and all(w.endswith(b"\r\n\r\nok") for w in socket_writes), socket_writes
            # A body sent in parts arrives whole and in order.
            writer.write(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
            await reader.readuntil(b"\r\n\r\n")
            assert await reader.readexactly(9) == b"onetwo333"
            # Asked to close: the whole response is sent before the connection closes.
            writer.write(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            rest = await asyncio.wait_for(reader.read(), 5)
            assert rest.startswith(b"HTTP/1.1 200") and rest.endswith(b"\r\n\r\nok"), rest
            writer.close()

    asyncio.run(run())
