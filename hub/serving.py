"""The HTTP protocol `hub serve` runs: uvicorn's own, with Nagle's algorithm off on every connection
and the writes of one turn of the event loop sent as one.

With more than one worker, uvicorn binds the listening socket itself, with protocol number 0,
and hands it to the workers. asyncio turns Nagle's algorithm off only on accepted sockets that
report IPPROTO_TCP, so on those connections it stayed on. A response is written as two writes,
headers then body, and the body then waited for the client's delayed ACK: about 40 ms per
request on a kept-alive connection on Linux, whatever the request cost. One worker was not
affected, because asyncio binds that socket from getaddrinfo, which gives IPPROTO_TCP.

uvicorn writes a response's head as soon as the application starts it, and its body when it
comes: two system calls, and with Nagle's algorithm off two packets, for every small response.
Writes made in the same turn of the event loop are joined and sent once that turn ends.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol

# What `hub serve` passes to uvicorn as its HTTP protocol (imported by each worker process).
HTTP_PROTOCOL = "hub.serving:NoDelayHTTPProtocol"


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Turn Nagle's algorithm off on the transport's TCP socket, if it has one."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # the connection is already gone; the protocol finds out on its own
            pass


class JoinedWrites:
    """A transport whose writes in one turn of the event loop reach the socket as one write.

    Everything else is the transport's own; closing it sends what is waiting first (aborting it
    does not, as aborting any transport drops what it has not sent)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._waiting: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._waiting:
            self._loop.call_soon(self._send)
        self._waiting.append(data)

    def writelines(self, lines) -> None:
        for data in lines:
            self.write(data)

    def _send(self) -> None:
        waiting, self._waiting = self._waiting, []
        if waiting and not self._transport.is_closing():
            self._transport.write(waiting[0] if len(waiting) == 1 else b"".join(waiting))

    def close(self) -> None:
        self._send()
        self._transport.close()

    def write_eof(self) -> None:
        self._send()
        self._transport.write_eof()

    def __getattr__(self, name: str):
        return getattr(self._transport, name)


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol (the one it picks itself), with TCP_NODELAY on each connection and
    each turn's writes joined."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)
        self.transport = JoinedWrites(transport, asyncio.get_running_loop())
