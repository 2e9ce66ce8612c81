"""A synchronous view of the async resolver, for pyspf and dkimpy.

pyspf and dkimpy look DNS up synchronously, one query at a time, while the
product's :class:`~deliverability.dns.Resolver` is async. A
:class:`ResolverBridge` is created on the event loop that owns the resolver.
The library then runs in a worker thread, and each of its lookups is handed
back to that loop with :func:`asyncio.run_coroutine_threadsafe`. So every
query still goes through the one resolver, with its cache and its counters,
and the loop stays free to serve other work while the library waits.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

from ..dns import Answer, Resolver, Status
from ..errors import InvalidDomainError

__all__ = ["ResolverBridge", "run_in_worker"]

T = TypeVar("T")


class ResolverBridge:
    """Answer synchronous lookups from a worker thread through an async resolver.

    :param resolver: the resolver every lookup goes to.
    :param loop: the running loop that owns ``resolver``.
    :param timeout: seconds to wait for one lookup before it counts as failed;
        the resolver's own timeouts normally end a lookup well before this.
    """

    def __init__(
        self,
        resolver: Resolver,
        loop: asyncio.AbstractEventLoop,
        *,
        timeout: float = 60.0,
    ) -> None:
        self.resolver = resolver
        self._loop = loop
        self._timeout = timeout
        self._loop_thread = threading.get_ident()

    def lookup(self, name: str, rdtype: str) -> Answer:
        """Look ``name`` up for ``rdtype`` and wait for the answer.

        SPF macros can build names with octets a host name may not hold
        (``foo:bar/baz.example.com``); DNS allows them (RFC 2181, section 11),
        so they are looked up too. A name DNS cannot carry (an empty label, a
        label over 63 octets) comes back as NXDOMAIN. Raises ``RuntimeError``
        when called on the loop's own thread, where waiting would deadlock.
        """
        if threading.get_ident() == self._loop_thread:
            raise RuntimeError("ResolverBridge.lookup must run in a worker thread")
        future = asyncio.run_coroutine_threadsafe(
            self._resolve(name, rdtype), self._loop
        )
        try:
            return future.result(self._timeout)
        except TimeoutError:
            future.cancel()
            return Answer(
                name.lower(),
                rdtype,
                Status.FAILED,
                error=f"no answer within {self._timeout:g} s",
            )

    async def _resolve(self, name: str, rdtype: str) -> Answer:
        try:
            return await self.resolver.resolve(name, rdtype, any_name=True)
        except InvalidDomainError:
            return Answer(name.rstrip(".").lower(), rdtype, Status.NXDOMAIN)


def _is_wire_name(name: str) -> bool:
    """Return True when ``name`` fits DNS: printable ASCII, labels 1 to 63 octets."""
    if not name.isascii() or not name.isprintable() or len(name) > 253:
        return False
    return all(0 < len(label) <= 63 for label in name.split("."))


async def run_in_worker(resolver: Resolver, work: Callable[[ResolverBridge], T]) -> T:
    """Run ``work(bridge)`` in a worker thread and return its result.

    The bridge sends the worker's lookups to ``resolver`` on the running loop.
    """
    bridge = ResolverBridge(resolver, asyncio.get_running_loop())
    return await asyncio.to_thread(work, bridge)
