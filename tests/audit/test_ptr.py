"""Tests of the PTR check (forward-confirmed reverse DNS) on zone data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest

from deliverability.audit.model import CheckResult
from deliverability.audit.ptr import check_ptr
from deliverability.dns import Answer, Status, ZoneResolver
from deliverability.errors import InputError

FORWARD = """$TTL 300
mail A 192.0.2.1
mail AAAA 2001:db8::1
other A 192.0.2.99
dyn-192-0-2-4 A 192.0.2.4
mx A 192.0.2.5
mx2 A 192.0.2.6
second A 192.0.2.7
"""
REVERSE_V4 = """$TTL 300
1 PTR mail.example.com.
2 PTR other.example.com.
4 PTR dyn-192-0-2-4.example.com.
6 PTR other.example.com.
7 PTR first-wrong.example.com.
7 PTR second.example.com.
8 PTR bad\\@name.example.com.
"""
REVERSE_V6 = """$TTL 300
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 PTR mail.example.com.
"""


class FailingResolver(ZoneResolver):
    """Zone data, except that the listed (name, type) lookups fail."""

    def __init__(self, fail: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(
            texts={
                "example.com": FORWARD,
                "2.0.192.in-addr.arpa": REVERSE_V4,
                "8.b.d.0.1.0.0.2.ip6.arpa": REVERSE_V6,
            }
        )
        self.fail = set(fail)

    async def _query(self, qname: str, rdtype: str) -> Answer:
        if (qname, rdtype) in self.fail:
            return Answer(qname, rdtype, Status.FAILED, error="timed out")
        return await super()._query(qname, rdtype)


async def run(
    ips: Sequence[tuple[str, str]] = (),
    mx_hosts: Sequence[str] = (),
    fail: Iterable[tuple[str, str]] = (),
) -> CheckResult:
    return await check_ptr(
        "example.com", resolver=FailingResolver(fail), ips=ips, mx_hosts=mx_hosts
    )


def codes(result: CheckResult) -> list[str]:
    return [f.code for f in result.findings]


async def test_ptr_confirmed() -> None:
    result = await run([("192.0.2.1", "given")])
    assert codes(result) == []
    entry = result.details["addresses"][0]
    assert entry["ip"] == "192.0.2.1"
    assert entry["source"] == "given"
    assert entry["ptr_names"] == ["mail.example.com"]
    assert entry["forward_confirmed"] is True
    assert entry["confirmed_name"] == "mail.example.com"
    assert entry["generic"] is False
    assert entry["status"] == "pass"


async def test_ptr_ipv6_confirmed() -> None:
    result = await run([("2001:db8:0::1", "given")])
    entry = result.details["addresses"][0]
    assert entry["ip"] == "2001:db8::1"
    assert entry["forward_confirmed"] is True
    assert codes(result) == []


async def test_ptr_missing_sending_ip() -> None:
    result = await run([("192.0.2.3", "given")])
    assert codes(result) == ["ptr.missing"]
    assert result.findings[0].severity == "error"
    assert result.findings[0].location == "3.2.0.192.in-addr.arpa PTR"
    assert result.details["addresses"][0]["forward_confirmed"] is False
    assert result.details["addresses"][0]["status"] == "no_ptr"


async def test_ptr_missing_spf_ip() -> None:
    result = await run([("192.0.2.3", "spf")])
    assert codes(result) == ["ptr.missing"]
    assert result.findings[0].severity == "error"
    assert "SPF-listed" in result.findings[0].message


async def test_ptr_missing_mx_address() -> None:
    result = await run([("192.0.2.1", "given")], mx_hosts=["mx.example.com"])
    assert codes(result) == ["ptr.missing"]
    assert result.findings[0].severity == "warning"
    sources = [e["source"] for e in result.details["addresses"]]
    assert sources == ["given", "mx:mx.example.com"]


async def test_ptr_not_confirmed_sending_ip() -> None:
    result = await run([("192.0.2.2", "given")])
    assert codes(result) == ["ptr.not_confirmed"]
    assert result.findings[0].severity == "error"
    entry = result.details["addresses"][0]
    assert entry["forward_confirmed"] is False
    assert entry["status"] == "not_confirmed"


async def test_ptr_not_confirmed_mx_address() -> None:
    result = await run([("192.0.2.1", "given")], mx_hosts=["mx2.example.com"])
    assert codes(result) == ["ptr.not_confirmed"]
    assert result.findings[0].severity == "warning"


async def test_ptr_second_name_confirms() -> None:
    result = await run([("192.0.2.7", "given")])
    assert codes(result) == ["ptr.multiple_names"]
    assert result.findings[0].severity == "info"
    assert result.details["addresses"][0]["confirmed_name"] == "second.example.com"


async def test_ptr_invalid_name_not_confirmed() -> None:
    result = await run([("192.0.2.8", "given")])
    assert codes(result) == ["ptr.not_confirmed"]


async def test_ptr_generic_sending_ip() -> None:
    result = await run([("192.0.2.4", "given")])
    assert codes(result) == ["ptr.generic"]
    assert result.findings[0].severity == "warning"
    entry = result.details["addresses"][0]
    assert entry["generic"] is True
    assert entry["forward_confirmed"] is True
    assert entry["status"] == "generic"


async def test_ptr_generic_mx_address_info() -> None:
    resolver = ZoneResolver(
        texts={
            "example.com": "$TTL 300\n@ MX 10 mx\nmx A 192.0.2.4\n"
            "dyn-192-0-2-4 A 192.0.2.4\n",
            "2.0.192.in-addr.arpa": REVERSE_V4,
        }
    )
    result = await check_ptr(
        "example.com",
        resolver=resolver,
        ips=[("192.0.2.1", "spf")],
        mx_hosts=["mx.example.com"],
    )
    generic = [f for f in result.findings if f.code == "ptr.generic"]
    assert len(generic) == 1
    assert generic[0].severity == "info"


async def test_ptr_invalid_given_ip() -> None:
    with pytest.raises(InputError, match="192.0.2.300"):
        await run([("192.0.2.300", "given")])


async def test_ptr_invalid_spf_ip_skipped() -> None:
    result = await run([("not-an-ip", "spf"), ("192.0.2.1", "spf")])
    assert [e["ip"] for e in result.details["addresses"]] == ["192.0.2.1"]


async def test_ptr_duplicate_ip_once() -> None:
    result = await run(
        [("192.0.2.1", "given"), ("192.0.2.1", "spf")], mx_hosts=["mail.example.com"]
    )
    entries = result.details["addresses"]
    assert [(e["ip"], e["source"]) for e in entries] == [
        ("192.0.2.1", "given"),
        ("2001:db8::1", "mx:mail.example.com"),
    ]


async def test_ptr_no_sending_ips() -> None:
    result = await run([], mx_hosts=["mail.example.com"])
    assert codes(result) == ["ptr.no_sending_ips"]
    assert result.findings[0].severity == "info"
    assert len(result.details["addresses"]) == 2


async def test_ptr_lookup_failed() -> None:
    result = await run(
        [("192.0.2.1", "given")], fail=[("1.2.0.192.in-addr.arpa", "PTR")]
    )
    assert codes(result) == ["dns.lookup_failed"]
    assert not result.complete
    entry = result.details["addresses"][0]
    assert entry["forward_confirmed"] is None
    assert entry["status"] == "unknown"


async def test_ptr_forward_lookup_failed() -> None:
    result = await run([("192.0.2.1", "given")], fail=[("mail.example.com", "A")])
    assert codes(result) == ["dns.lookup_failed"]
    assert not result.complete
    assert result.details["addresses"][0]["forward_confirmed"] is None


async def test_ptr_mx_host_lookup_failed() -> None:
    result = await run(
        [("192.0.2.1", "given")],
        mx_hosts=["mx.example.com"],
        fail=[("mx.example.com", "A")],
    )
    assert codes(result) == ["dns.lookup_failed"]
    assert not result.complete


async def test_ptr_null_and_bad_mx_skipped() -> None:
    result = await run([("192.0.2.1", "given")], mx_hosts=[".", "bad\\@host"])
    assert codes(result) == []
    assert len(result.details["addresses"]) == 1
