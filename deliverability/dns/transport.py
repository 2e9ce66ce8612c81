"""Query transports: one shared UDP socket per nameserver, and TCP for large replies.

Many queries share one connected UDP socket; replies are matched to queries
by message id and question, so a thousand lookups in flight need one file
descriptor, not a thousand.
"""

from __future__ import annotations

import asyncio
import random
import struct

__all__ = ["TransportError", "UDPChannel", "exchange_tcp"]

_ID_SPACE = 1 << 16


class TransportError(OSError):
    """A query could not be sent or its reply could not be read."""


class _ReplyProtocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.pending: dict[int, asyncio.Future[bytes]] = {}
        self.closed: Exception | None = None

    def datagram_received(self, data: bytes, addr: object) -> None:
        if len(data) < 12:
            return
        waiter = self.pending.get(int.from_bytes(data[:2], "big"))
        if waiter is not None and not waiter.done():
            waiter.set_result(data)

    def error_received(self, exc: Exception) -> None:
        # An ICMP error (port unreachable) on a connected socket: it cannot be
        # tied to one query, so every query in flight fails with it.
        for waiter in self.pending.values():
            if not waiter.done():
                waiter.set_exception(TransportError(str(exc)))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = exc or TransportError("socket closed")
        self.error_received(self.closed)


class UDPChannel:
    """A connected UDP socket to one nameserver, shared by concurrent queries."""

    def __init__(self, address: str, port: int) -> None:
        self.address = address
        self.port = port
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol: _ReplyProtocol | None = None
        self._opening: asyncio.Lock | None = None
        self._random = random.SystemRandom()

    async def _ensure_open(self) -> _ReplyProtocol:
        if self._protocol is not None and self._protocol.closed is None:
            return self._protocol
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._protocol is None or self._protocol.closed is not None:
                loop = asyncio.get_running_loop()
                transport, protocol = await loop.create_datagram_endpoint(
                    _ReplyProtocol, remote_addr=(self.address, self.port)
                )
                self._transport = transport
                self._protocol = protocol
        assert self._protocol is not None
        return self._protocol

    def new_id(self) -> int:
        """Return a message id that no query in flight uses."""
        pending = self._protocol.pending if self._protocol else {}
        while True:
            candidate = self._random.randrange(_ID_SPACE)
            if candidate not in pending:
                return candidate

    async def exchange(self, query_id: int, wire: bytes, timeout: float) -> bytes:
        """Send ``wire`` and return the first reply carrying ``query_id``.

        Raises ``TimeoutError`` when no reply comes within ``timeout``
        seconds and :class:`TransportError` when the socket fails.
        """
        protocol = await self._ensure_open()
        if query_id in protocol.pending:
            raise TransportError(f"message id {query_id} is already in flight")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bytes] = loop.create_future()
        protocol.pending[query_id] = waiter
        timer = loop.call_later(timeout, _expire, waiter)
        try:
            assert self._transport is not None
            self._transport.sendto(wire)
            return await waiter
        finally:
            timer.cancel()
            protocol.pending.pop(query_id, None)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self._transport = None
        self._protocol = None


def _expire(waiter: asyncio.Future[bytes]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


async def exchange_tcp(address: str, port: int, wire: bytes, timeout: float) -> bytes:
    """Send one query over TCP (RFC 1035, section 4.2.2) and return the reply."""

    async def run() -> bytes:
        reader, writer = await asyncio.open_connection(address, port)
        try:
            writer.write(struct.pack("!H", len(wire)) + wire)
            await writer.drain()
            (size,) = struct.unpack("!H", await reader.readexactly(2))
            return await reader.readexactly(size)
        finally:
            writer.close()

    try:
        return await asyncio.wait_for(run(), timeout)
    except asyncio.IncompleteReadError as exc:
        raise TransportError(f"TCP reply cut short: {exc}") from None
