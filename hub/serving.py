"""The HTTP protocol `hub serve` runs: uvicorn's own, with Nagle's algorithm off on every connection.

With more than one worker, uvicorn binds the listening socket itself, with protocol number 0,
and hands it to the workers. asyncio turns Nagle's algorithm off only on accepted sockets that
report IPPROTO_TCP, so on those connections it stayed on. A response is written as two writes,
headers then body, and the body then waited for the client's delayed ACK: about 40 ms per
request on a kept-alive connection on Linux, whatever the request cost. One worker was not
affected, because asyncio binds that socket from getaddrinfo, which gives IPPROTO_TCP.
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


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol (the one it picks itself), with TCP_NODELAY on each connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)
