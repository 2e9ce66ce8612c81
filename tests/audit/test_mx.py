"""Tests of the MX check on zone data."""

from __future__ import annotations

from collections.abc import Iterable

from deliverability.audit.model import CheckResult
from deliverability.audit.mx import check_mx
from deliverability.dns import Answer, Status, ZoneResolver


class FailingResolver(ZoneResolver):
    """Zone data, except that the listed (name, type) lookups fail."""

    def __init__(self, texts: dict[str, str], fail: Iterable[tuple[str, str]]):
        super().__init__(texts=texts)
        self.fail = set(fail)

    async def _query(self, qname: str, rdtype: str) -> Answer:
        if (qname, rdtype) in self.fail:
            return Answer(qname, rdtype, Status.FAILED, error="timed out")
        return await super()._query(qname, rdtype)


def resolver(body: str, *, fail: Iterable[tuple[str, str]] = ()) -> ZoneResolver:
    """Zones example.com (``body``) and example.net (one host)."""
    return FailingResolver(
        {
            "example.com": "$TTL 300\n" + body,
            "example.net": "$TTL 300\nmx1 A 198.51.100.1\n",
        },
        fail,
    )


async def run(body: str, **kwargs: Iterable[tuple[str, str]]) -> CheckResult:
    return await check_mx("example.com", resolver=resolver(body, **kwargs))


def codes(result: CheckResult) -> list[str]:
    return [f.code for f in result.findings]


async def test_mx_valid_hosts() -> None:
    result = await run(
        "@ MX 10 mail\n@ MX 20 mx1.example.net.\nmail A 192.0.2.1\n"
        "mail AAAA 2001:db8::1\n"
    )
    assert codes(result) == []
    assert result.complete
    hosts = result.details["hosts"]
    assert [h["exchange"] for h in hosts] == ["mail.example.com", "mx1.example.net"]
    assert hosts[0]["addresses"] == ["192.0.2.1", "2001:db8::1"]
    assert hosts[0]["status"] == "ok"
    assert hosts[0]["cname_target"] is None
    assert result.details["null_mx"] is False
    assert result.details["implicit"] is False


async def test_mx_implicit_via_a() -> None:
    result = await run('@ A 192.0.2.7\n@ TXT "v=spf1 -all"\n')
    assert codes(result) == ["mx.implicit"]
    assert result.findings[0].severity == "warning"
    assert result.details["implicit"] is True
    assert result.details["implicit_addresses"] == ["192.0.2.7"]


async def test_mx_missing_without_a() -> None:
    result = await run('@ TXT "v=spf1 -all"\n')
    assert codes(result) == ["mx.missing"]
    assert result.findings[0].severity == "error"
    assert result.details["implicit"] is False


async def test_mx_domain_nxdomain() -> None:
    result = await check_mx("nope.example.net", resolver=resolver("@ A 192.0.2.1\n"))
    assert codes(result) == ["mx.missing"]
    assert "NXDOMAIN" in result.findings[0].message


async def test_mx_null_mx() -> None:
    result = await run("@ MX 0 .\n")
    assert codes(result) == ["mx.null_mx"]
    assert result.findings[0].severity == "info"
    assert result.details["null_mx"] is True
    assert result.details["hosts"] == []


async def test_mx_null_mx_mixed() -> None:
    result = await run("@ MX 0 .\n@ MX 10 mail\nmail A 192.0.2.1\n")
    assert codes(result) == ["mx.null_mx_mixed"]
    assert result.findings[0].severity == "error"
    assert [h["exchange"] for h in result.details["hosts"]] == ["mail.example.com"]


async def test_mx_null_mx_preference() -> None:
    result = await run("@ MX 10 .\n")
    assert codes(result) == ["mx.null_mx_preference"]
    assert result.findings[0].severity == "error"


async def test_mx_cname_target() -> None:
    result = await run("@ MX 10 alias\nalias CNAME mail\nmail A 192.0.2.1\n")
    assert codes(result) == ["mx.cname_target"]
    host = result.details["hosts"][0]
    assert host["cname_target"] == "mail.example.com"
    assert host["status"] == "cname"
    assert host["addresses"] == ["192.0.2.1"]


async def test_mx_cname_to_nothing() -> None:
    result = await run("@ MX 10 alias\nalias CNAME gone.example.net.\n")
    assert codes(result) == ["mx.cname_target", "mx.target_nxdomain"]


async def test_mx_ip_literal() -> None:
    result = await run("@ MX 10 192.0.2.9.\n")
    assert codes(result) == ["mx.ip_literal"]
    assert result.details["hosts"][0]["status"] == "ip_literal"


async def test_mx_invalid_host() -> None:
    result = await run("@ MX 10 bad\\@host\n")
    assert codes(result) == ["mx.invalid_host"]
    assert result.details["hosts"][0]["status"] == "invalid"


async def test_mx_no_address() -> None:
    result = await run('@ MX 10 mail\nmail TXT "no address here"\n')
    assert codes(result) == ["mx.no_address"]
    assert result.details["hosts"][0]["status"] == "no_address"


async def test_mx_target_nxdomain() -> None:
    result = await run("@ MX 10 gone.example.net.\n")
    assert codes(result) == ["mx.target_nxdomain"]
    assert result.details["hosts"][0]["status"] == "nxdomain"


async def test_mx_duplicate_host() -> None:
    result = await run("@ MX 10 mail\n@ MX 20 mail\nmail A 192.0.2.1\n")
    assert codes(result) == ["mx.duplicate_host"]
    assert "2 times" in result.findings[0].message


async def test_mx_too_many_hosts() -> None:
    body = "".join(f"@ MX {i} mx{i}\nmx{i} A 192.0.2.{i}\n" for i in range(1, 12))
    result = await run(body)
    assert codes(result) == ["mx.too_many_hosts"]
    assert len(result.details["hosts"]) == 11


async def test_mx_ten_hosts_allowed() -> None:
    body = "".join(f"@ MX {i} mx{i}\nmx{i} A 192.0.2.{i}\n" for i in range(1, 11))
    result = await run(body)
    assert codes(result) == []


async def test_mx_lookup_failed() -> None:
    result = await run("@ MX 10 mail\n", fail=[("example.com", "MX")])
    assert codes(result) == ["dns.lookup_failed"]
    assert not result.complete
    assert result.details["hosts"] == []


async def test_mx_host_lookup_failed() -> None:
    fail = [("mail.example.com", "A"), ("mail.example.com", "AAAA")]
    result = await run("@ MX 10 mail\nmail A 192.0.2.1\n", fail=fail)
    assert codes(result) == ["dns.lookup_failed", "dns.lookup_failed"]
    assert not result.complete
    assert result.details["hosts"][0]["status"] == "lookup_failed"


async def test_mx_half_failed_keeps_address() -> None:
    fail = [("mail.example.com", "AAAA")]
    result = await run("@ MX 10 mail\nmail A 192.0.2.1\n", fail=fail)
    assert codes(result) == ["dns.lookup_failed"]
    assert not result.complete
    assert result.details["hosts"][0]["addresses"] == ["192.0.2.1"]


async def test_mx_implicit_lookup_failed() -> None:
    fail = [("example.com", "A"), ("example.com", "AAAA")]
    result = await run('@ TXT "x"\n', fail=fail)
    assert codes(result) == ["dns.lookup_failed", "dns.lookup_failed"]
    assert not result.complete
    assert "mx.missing" not in codes(result)
