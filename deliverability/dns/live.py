"""Live DNS: the system's resolvers or given nameservers, over UDP with TCP fallback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable, Sequence
from typing import Any

import dns.rcode

from ..errors import InputError
from .answer import Answer, Status
from .convert import sort_records
from .resolver import DEFAULT_CACHE_SIZE, Resolver
from .transport import TransportError, UDPChannel, exchange_tcp
from .wire import TYPE_CODES, Reply, WireError, decode_reply, encode_query

__all__ = ["LiveResolver", "parse_nameserver"]

_MAX_CNAME_HOPS = 8
_CNAME_CODE = TYPE_CODES["CNAME"]


def parse_nameserver(text: str) -> tuple[str, int]:
    """Parse ``ADDR``, ``ADDR:PORT``, ``[V6]:PORT`` or ``V6`` into (address, port).

    Raises :class:`InputError` when the address is not an IP address or the
    port is not 1 to 65535.
    """
    raw = text.strip()
    host, port_text = raw, "53"
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        if not sep:
            raise InputError(f"invalid nameserver {text!r}: missing ']'")
        if rest:
            if not rest.startswith(":"):
                raise InputError(f"invalid nameserver {text!r}: expected [ADDR]:PORT")
            port_text = rest[1:]
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            break
        except OSError:
            continue
    else:
        raise InputError(
            f"invalid nameserver {text!r}: give an IP address such as 127.0.0.1 "
            "or 127.0.0.1:5353, not a host name"
        )
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise InputError(f"invalid nameserver {text!r}: port must be 1 to 65535")
    return host, int(port_text)


def system_nameservers() -> list[tuple[str, int]]:
    """Return the nameservers of the system's resolver configuration."""
    # Imported here: dns.resolver pulls in every dnspython transport, which
    # costs more start-up time than the rest of the audit's imports together.
    import dns.resolver

    try:
        config = dns.resolver.Resolver(configure=True)
    except dns.resolver.NoResolverConfiguration as exc:
        raise InputError(
            f"no system DNS configuration ({exc}); give --nameserver or --zone"
        ) from None
    return [(str(ns), config.port) for ns in config.nameservers]


class LiveResolver(Resolver):
    """Send queries to nameservers and map each outcome to an :class:`Answer`.

    :param nameservers: ``(address, port)`` pairs; ``None`` reads the system's
        configuration when the first query is sent.
    :param timeout: seconds to wait for one reply.
    :param retries: further tries after the first, over all nameservers.
    """

    def __init__(
        self,
        nameservers: Iterable[tuple[str, int]] | None = None,
        *,
        timeout: float = 2.0,
        retries: int = 1,
        concurrency: int = 64,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        super().__init__(concurrency=concurrency, cache_size=cache_size)
        if timeout <= 0:
            raise InputError(f"invalid timeout {timeout}: give a positive number")
        if retries < 0:
            raise InputError(f"invalid retries {retries}: give 0 or more")
        self._nameservers = list(nameservers) if nameservers is not None else None
        self.timeout = timeout
        self.retries = retries
        self._channels: dict[tuple[str, int], UDPChannel] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def nameservers(self) -> Sequence[tuple[str, int]]:
        if self._nameservers is None:
            self._nameservers = system_nameservers()
        return self._nameservers

    def describe(self) -> str:
        servers = ", ".join(f"{a}:{p}" if p != 53 else a for a, p in self.nameservers)
        return f"live DNS ({servers})"

    async def aclose(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def _channel(self, server: tuple[str, int]) -> UDPChannel:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Sockets belong to one event loop; a new loop needs new ones.
            self._channels.clear()
            self._loop = loop
        channel = self._channels.get(server)
        if channel is None:
            channel = self._channels[server] = UDPChannel(*server)
        return channel

    async def _query(self, qname: str, rdtype: str) -> Answer:
        name = qname
        cnames: list[str] = []
        for _ in range(_MAX_CNAME_HOPS + 1):
            outcome = await self._ask(name, rdtype)
            if isinstance(outcome, str):
                return Answer(
                    qname, rdtype, Status.FAILED, cnames=tuple(cnames), error=outcome
                )
            status, records, chain = _read_reply(outcome, name, rdtype)
            cnames.extend(chain)
            if status is not Status.NODATA or not chain:
                return Answer(qname, rdtype, status, records, tuple(cnames))
            # The reply ended at an alias whose target it did not answer (an
            # authoritative server for another zone); ask for the target.
            name = chain[-1]
            if cnames.count(name) > 1 or name == qname:
                return Answer(
                    qname,
                    rdtype,
                    Status.FAILED,
                    cnames=tuple(cnames),
                    error=f"CNAME loop at {name}",
                )
        return Answer(
            qname,
            rdtype,
            Status.FAILED,
            cnames=tuple(cnames),
            error=f"more than {_MAX_CNAME_HOPS} CNAME hops",
        )

    async def _ask(self, name: str, rdtype: str) -> Reply | str:
        """Return the reply, or a phrase saying why every try failed."""
        last_error = "no nameserver"
        for _attempt in range(self.retries + 1):
            for server in self.nameservers:
                try:
                    reply = await self._exchange(server, name, rdtype)
                except TimeoutError:
                    last_error = f"timed out after {self.timeout:g} s at {server[0]}"
                    continue
                except (OSError, WireError) as exc:
                    last_error = f"{type(exc).__name__} from {server[0]}: {exc}"
                    continue
                if reply.rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                    return reply
                rcode = dns.rcode.to_text(dns.rcode.Rcode(reply.rcode))
                last_error = f"{rcode} from {server[0]}"
        tries = self.retries + 1
        return f"{last_error} ({tries} {'try' if tries == 1 else 'tries'})"

    async def _exchange(self, server: tuple[str, int], name: str, rdtype: str) -> Reply:
        channel = self._channel(server)
        expected = (name, TYPE_CODES[rdtype])
        for _ in range(3):
            query_id = channel.new_id()
            wire = encode_query(query_id, name, rdtype)
            reply = decode_reply(await channel.exchange(query_id, wire, self.timeout))
            if reply.truncated:
                data = await exchange_tcp(*server, wire, self.timeout)
                reply = decode_reply(data)
            if reply.question is None or reply.question == expected:
                return reply
            # A late reply to an earlier query that reused the id: ask again.
        raise TransportError(f"replies from {server[0]} do not match the question")


def _read_reply(
    reply: Reply, name: str, rdtype: str
) -> tuple[Status, tuple[Any, ...], list[str]]:
    """Walk the answer section from ``name`` through any CNAMEs."""
    expected_code = TYPE_CODES[rdtype]
    current = name
    chain: list[str] = []
    for _ in range(_MAX_CNAME_HOPS + 1):
        found = [
            value
            for owner, code, value in reply.answers
            if owner == current and code == expected_code
        ]
        if found:
            return Status.ANSWER, sort_records(rdtype, found), chain
        alias = [
            value
            for owner, code, value in reply.answers
            if owner == current and code == _CNAME_CODE
        ]
        if not alias or expected_code == _CNAME_CODE:
            break
        current = alias[0]
        chain.append(current)
    if reply.rcode == dns.rcode.NXDOMAIN:
        return Status.NXDOMAIN, (), chain
    return Status.NODATA, (), chain
