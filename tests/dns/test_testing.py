from __future__ import annotations

from deliverability.dns import Status
from deliverability.testing import FAIL, TableResolver


async def test_table_resolver_outcomes() -> None:
    resolver = TableResolver({
        ("example.com", "TXT"): ["v=spf1 -all"],
        ("example.com", "MX"): [(10, "mail.example.com.")],
        ("slow.example.com", "TXT"): FAIL,
    })
    txt = await resolver.resolve("example.com", "TXT")
    assert txt.texts == ["v=spf1 -all"]
    mx = await resolver.resolve("example.com", "MX")
    assert mx.records[0].exchange == "mail.example.com"
    assert (await resolver.resolve("example.com", "A")).status is Status.NODATA
    assert (await resolver.resolve("other.example", "A")).status is Status.NXDOMAIN
    assert (await resolver.resolve("slow.example.com", "TXT")).status is Status.FAILED
