"""The Knot DNS test server: zone completion, answers, and names outside its zones."""

from __future__ import annotations

import asyncio
from typing import Any

import dns.name
import dns.rdatatype
import dns.zone
import pytest

from deliverability.dns import Answer, LiveResolver, Status

from ..knot import complete_zone

pytestmark = [pytest.mark.knot]

ZONE = {"a.example": 'www IN A 192.0.2.1\n@ IN TXT "v=spf1 -all"\n'}


def parse(origin: str, text: str) -> dns.zone.Zone:
    return dns.zone.from_text(text, origin=origin, relativize=False)


def resolve(nameserver: tuple[str, int], name: str, rdtype: str) -> Answer:
    async def run() -> Answer:
        resolver = LiveResolver([nameserver], timeout=1.0, retries=0)
        try:
            return await resolver.resolve(name, rdtype)
        finally:
            await resolver.aclose()

    return asyncio.run(run())


@pytest.fixture(scope="module")
def nameserver(knot: Any) -> tuple[str, int]:
    address, port = knot(ZONE).nameserver
    return address, port


def test_complete_zone_adds_soa() -> None:
    zone = parse("a.example", complete_zone("a.example", ZONE["a.example"]))
    assert zone.get_rdataset("a.example.", "SOA") is not None


def test_complete_zone_adds_ns() -> None:
    zone = parse("a.example", complete_zone("a.example", ZONE["a.example"]))
    assert zone.get_rdataset("a.example.", "NS") is not None


def test_complete_zone_keeps_given_soa() -> None:
    text = "@ IN SOA ns1.a.example. admin.a.example. 7 1 1 1 1\n@ IN NS ns1\n"
    zone = parse("a.example", complete_zone("a.example", text))
    soa = zone.get_rdataset(dns.name.from_text("a.example."), dns.rdatatype.SOA)
    assert soa is not None
    assert [rdata.serial for rdata in soa] == [7]


def test_knot_serves_txt(nameserver: tuple[str, int]) -> None:
    answer = resolve(nameserver, "a.example", "TXT")
    assert answer.texts == ["v=spf1 -all"]


def test_knot_serves_address(nameserver: tuple[str, int]) -> None:
    answer = resolve(nameserver, "www.a.example", "A")
    assert list(answer.records) == ["192.0.2.1"]


def test_knot_missing_name_nxdomain(nameserver: tuple[str, int]) -> None:
    answer = resolve(nameserver, "nothere.a.example", "TXT")
    assert answer.status is Status.NXDOMAIN


def test_knot_outside_name_nxdomain(nameserver: tuple[str, int]) -> None:
    answer = resolve(nameserver, "other.test", "TXT")
    assert answer.status is Status.NXDOMAIN


def test_knot_without_root_zone_fails(knot: Any) -> None:
    # Knot replies REFUSED outside its zones, which must never read as absent.
    server = knot(ZONE, root_zone=False)
    answer = resolve(server.nameserver, "other.test", "TXT")
    assert answer.status is Status.FAILED
