"""The resolver seam: every DNS lookup in the product goes through a Resolver.

A :class:`Resolver` adds, on top of a source of answers, what every source
needs: name normalization, a per-run cache that keeps negative answers too,
sharing of identical lookups that are in flight at once, bounded concurrency
and counters. Sources implement :meth:`Resolver._query`.

Create one resolver per run; its cache is the run's cache.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import contextvars
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from .answer import Answer, Status
from .names import normalize_any_name, normalize_domain

__all__ = [
    "QueryCounter",
    "Resolver",
    "ResolverStats",
    "SUPPORTED_TYPES",
    "counting_queries",
    "DEFAULT_CACHE_SIZE",
]

SUPPORTED_TYPES = frozenset(
    {
        "A",
        "AAAA",
        "TXT",
        "MX",
        "PTR",
        "CNAME",
        "NS",
        "SOA",
        "SPF",
        "TLSA",
        "DS",
        "DNSKEY",
        "CAA",
    }
)


#: Answers a resolver keeps by default. A bulk audit makes about 35 lookups
#: per domain with 32 domains at once, and shared provider records stay
#: because every hit moves them to the young end, so 20,000 answers keep
#: nearly every repeated lookup cached while memory stays flat.
DEFAULT_CACHE_SIZE = 20_000


@dataclass(slots=True)
class QueryCounter:
    """Queries sent to a source while a :func:`counting_queries` block runs."""

    queries: int = 0


_current_counter: contextvars.ContextVar[QueryCounter | None] = contextvars.ContextVar(
    "deliverability_query_counter", default=None
)


@contextlib.contextmanager
def counting_queries() -> Iterator[QueryCounter]:
    """Count the queries of this task and of the tasks it starts.

    Tasks copy the context when they are created, so lookups in tasks
    gathered inside the block are counted too; cache hits are not.
    """
    counter = QueryCounter()
    token = _current_counter.set(counter)
    try:
        yield counter
    finally:
        _current_counter.reset(token)


@dataclass(slots=True)
class ResolverStats:
    """Counters of one resolver; ``queries`` counts lookups sent to the source."""

    lookups: int = 0
    """Calls to :meth:`Resolver.resolve`, cached or not."""
    queries: int = 0
    """Lookups that reached the source (cache misses)."""
    cache_hits: int = 0
    failures: int = 0
    """Queries whose outcome was ``FAILED``."""

    def to_dict(self) -> dict[str, int]:
        return {
            "lookups": self.lookups,
            "queries": self.queries,
            "cache_hits": self.cache_hits,
            "failures": self.failures,
        }


class Resolver(abc.ABC):
    """Base of every DNS source, with cache, counters and a concurrency bound.

    :param concurrency: the most queries sent to the source at once.
    :param cache_size: the most answers kept; the oldest are dropped first, so
        memory stays flat on long bulk runs.
    """

    #: True when the source may send packets to the network.
    online: bool = True

    def __init__(
        self, *, concurrency: int = 64, cache_size: int = DEFAULT_CACHE_SIZE
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.stats = ResolverStats()
        self._cache: OrderedDict[tuple[str, str], Answer] = OrderedDict()
        self._cache_size = cache_size
        self._inflight: dict[tuple[str, str], asyncio.Future[Answer]] = {}
        self._concurrency = concurrency
        self._semaphore: asyncio.Semaphore | None = None

    async def resolve(
        self, name: str, rdtype: str, *, any_name: bool = False
    ) -> Answer:
        """Look up ``name`` (any form, IDN allowed) for ``rdtype``.

        Never raises for DNS outcomes: a timeout or SERVFAIL comes back as an
        answer with status ``FAILED``. Raises
        :class:`~deliverability.errors.InvalidDomainError` for a malformed name
        and ``ValueError`` for an unsupported type. With ``any_name``, labels
        may hold any printable ASCII character, as names built by SPF macro
        expansion can (RFC 7208, section 7.3); only lengths are checked.
        """
        rdtype = rdtype.upper()
        if rdtype not in SUPPORTED_TYPES:
            raise ValueError(f"unsupported record type {rdtype!r}")
        qname = normalize_any_name(name) if any_name else normalize_domain(name)
        key = (qname, rdtype)
        self.stats.lookups += 1
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            self.stats.cache_hits += 1
            return cached
        pending = self._inflight.get(key)
        if pending is not None:
            self.stats.cache_hits += 1
            return await asyncio.shield(pending)
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            answer = await self._bounded_query(qname, rdtype)
        except BaseException as exc:
            future.set_exception(exc)
            # Mark the exception retrieved so an unawaited future does not warn.
            future.exception()
            raise
        finally:
            del self._inflight[key]
        if not future.done():
            future.set_result(answer)
        self._store(key, answer)
        return answer

    async def _bounded_query(self, qname: str, rdtype: str) -> Answer:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self._concurrency)
        async with self._semaphore:
            self.stats.queries += 1
            counter = _current_counter.get()
            if counter is not None:
                counter.queries += 1
            answer = await self._query(qname, rdtype)
        if answer.status is Status.FAILED:
            self.stats.failures += 1
        return answer

    def _store(self, key: tuple[str, str], answer: Answer) -> None:
        self._cache[key] = answer
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def describe(self) -> str:
        """Return a phrase naming the source, for reports."""
        return type(self).__name__

    async def aclose(self) -> None:  # noqa: B027 - optional for subclasses
        """Release sockets or other resources; the base holds none."""

    @abc.abstractmethod
    async def _query(self, qname: str, rdtype: str) -> Answer:
        """Ask the source once; ``qname`` is already normalized."""
