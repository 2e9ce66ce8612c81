"""The synchronous bridge from pyspf and dkimpy to the async resolver."""

from __future__ import annotations

import asyncio

import pytest

from deliverability.auth.bridge import ResolverBridge, run_in_worker
from deliverability.dns import Status, ZoneResolver

ZONE = (
    "$ORIGIN example.com.\n"
    "@ 3600 IN SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 60\n"
    '@ IN TXT "v=spf1 -all"\n'
)


def _resolver() -> ZoneResolver:
    return ZoneResolver(texts={"example.com": ZONE})


async def test_lookup_from_worker() -> None:
    resolver = _resolver()
    answer = await run_in_worker(resolver, lambda b: b.lookup("example.com", "TXT"))
    assert answer.texts == ["v=spf1 -all"]
    assert resolver.stats.queries == 1


async def test_lookups_cached() -> None:
    resolver = _resolver()

    def twice(bridge: ResolverBridge) -> None:
        bridge.lookup("example.com", "TXT")
        bridge.lookup("EXAMPLE.com.", "TXT")

    await run_in_worker(resolver, twice)
    assert resolver.stats.queries == 1
    assert resolver.stats.cache_hits == 1


async def test_lookup_on_loop_thread_refused() -> None:
    bridge = ResolverBridge(_resolver(), asyncio.get_running_loop())
    with pytest.raises(RuntimeError, match="worker thread"):
        bridge.lookup("example.com", "TXT")


async def test_unusual_name_looked_up() -> None:
    resolver = _resolver()
    answer = await run_in_worker(
        resolver, lambda b: b.lookup("foo:bar/baz.example.com", "A")
    )
    assert answer.status is Status.NXDOMAIN
    assert resolver.stats.queries == 1


async def test_overlong_label_is_nxdomain() -> None:
    resolver = _resolver()
    answer = await run_in_worker(resolver, lambda b: b.lookup("a" * 64 + ".com", "A"))
    assert answer.status is Status.NXDOMAIN
    assert resolver.stats.queries == 0
