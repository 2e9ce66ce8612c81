"""Tests of the BIMI check on zone data and hand-built DMARC results."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from deliverability.audit.bimi import check_bimi, dmarc_blockers
from deliverability.audit.model import CheckResult
from deliverability.dns import Answer, Status, ZoneResolver

LOGO = "https://example.com/logo.svg"
VMC = "https://example.com/vmc.pem"
GOOD = f"v=BIMI1; l={LOGO}; a={VMC}"


class FailingResolver(ZoneResolver):
    """Zone data, except that the listed (name, type) lookups fail."""

    def __init__(self, body: str, fail: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(texts={"example.com": "$TTL 300\n@ A 192.0.2.1\n" + body})
        self.fail = set(fail)

    async def _query(self, qname: str, rdtype: str) -> Answer:
        if (qname, rdtype) in self.fail:
            return Answer(qname, rdtype, Status.FAILED, error="timed out")
        return await super()._query(qname, rdtype)


def dmarc(
    p: str | None = "reject",
    *,
    sp: str | None = None,
    pct: int = 100,
    t: str = "n",
    record: bool = True,
    complete: bool = True,
) -> CheckResult:
    """A DMARC result shaped like the DMARC check's: record, policy, effective."""
    if not record:
        details: dict[str, Any] = {"record": None, "policy": None, "effective": None}
        return CheckResult("dmarc", details=details, complete=complete)
    text = f"v=DMARC1; p={p}" + (f"; sp={sp}" if sp else "") + f"; pct={pct}; t={t}"
    effective = {"p": p, "sp": sp or p, "np": sp or p, "pct": pct, "t": t}
    published: dict[str, Any] = {
        "p": p,
        "sp": sp,
        "np": None,
        "pct": pct,
        "t": t,
        "rua": [],
    }
    details = {"record": text, "policy": published, "effective": effective}
    return CheckResult("dmarc", details=details, complete=complete)


async def run(
    record: str | None,
    *,
    policy: CheckResult | None = None,
    fail: Iterable[tuple[str, str]] = (),
    domain: str = "example.com",
    selector: str = "default",
) -> CheckResult:
    body = "" if record is None else f'default._bimi TXT "{record}"\n'
    return await check_bimi(
        domain,
        resolver=FailingResolver(body, fail),
        dmarc=policy or dmarc(),
        selector=selector,
    )


def codes(result: CheckResult) -> list[str]:
    return [f.code for f in result.findings]


async def test_bimi_valid() -> None:
    result = await run(GOOD)
    assert codes(result) == ["bimi.assets_not_checked"]
    assert result.findings[0].severity == "info"
    assert result.details == {
        "record": GOOD,
        "selector": "default",
        "location": "default._bimi.example.com",
        "logo": LOGO,
        "authority": VMC,
        "dmarc_ready": True,
    }


async def test_bimi_missing() -> None:
    result = await run(None)
    assert codes(result) == ["bimi.missing"]
    assert result.findings[0].severity == "info"
    assert result.details["dmarc_ready"] is None


async def test_bimi_other_selector() -> None:
    result = await run(GOOD, selector="brand")
    assert codes(result) == ["bimi.missing"]
    assert result.findings[0].location == "brand._bimi.example.com TXT"


async def test_bimi_org_domain_fallback() -> None:
    result = await run(GOOD, domain="news.example.com")
    assert codes(result) == ["bimi.assets_not_checked"]
    assert result.details["location"] == "default._bimi.example.com"


async def test_bimi_multiple_records() -> None:
    body = f'default._bimi TXT "{GOOD}"\ndefault._bimi TXT "v=BIMI1; l={LOGO}"\n'
    result = await check_bimi(
        "example.com", resolver=FailingResolver(body), dmarc=dmarc()
    )
    assert codes(result) == ["bimi.multiple_records"]
    assert result.findings[0].severity == "error"


async def test_bimi_invalid_record() -> None:
    result = await run(f"v=BIMI1; l={LOGO}; l={LOGO}; a={VMC}; avp=other; junk")
    assert codes(result)[0] == "bimi.invalid_record"
    message = result.findings[0].message
    assert "l= is given more than once" in message
    assert "avp='other'" in message
    assert "'junk' has no '='" in message


async def test_bimi_logo_tag_required() -> None:
    result = await run(f"v=BIMI1; a={VMC}")
    assert codes(result) == ["bimi.invalid_record", "bimi.assets_not_checked"]
    assert "l= tag is missing" in result.findings[0].message


async def test_bimi_empty_logo_with_certificate() -> None:
    result = await run(f"v=BIMI1; l=; a={VMC}")
    assert codes(result) == ["bimi.assets_not_checked"]
    assert result.details["logo"] is None
    assert result.details["dmarc_ready"] is True


async def test_bimi_loose_spacing_valid() -> None:
    result = await run(f"v = BIMI1 ; l = {LOGO} ; a = {VMC} ;")
    assert codes(result) == ["bimi.assets_not_checked"]


async def test_bimi_invalid_logo() -> None:
    result = await run(f"v=BIMI1; l=http://example.com/logo.svg; a={VMC}")
    assert codes(result) == ["bimi.invalid_logo", "bimi.assets_not_checked"]
    assert result.findings[0].severity == "error"


async def test_bimi_two_logos_invalid() -> None:
    result = await run(f"v=BIMI1; l={LOGO},{LOGO}; a={VMC}")
    assert codes(result)[0] == "bimi.invalid_logo"


async def test_bimi_invalid_authority() -> None:
    result = await run(f"v=BIMI1; l={LOGO}; a=ftp://example.com/vmc.pem")
    assert codes(result) == ["bimi.invalid_authority", "bimi.assets_not_checked"]


async def test_bimi_declined() -> None:
    result = await run("v=BIMI1; l=; a=;", policy=dmarc("none"))
    assert codes(result) == ["bimi.declined"]
    assert result.details["logo"] is None
    assert result.details["dmarc_ready"] is None


async def test_bimi_no_authority() -> None:
    result = await run(f"v=BIMI1; l={LOGO}")
    assert codes(result) == ["bimi.no_authority", "bimi.assets_not_checked"]
    assert result.findings[0].severity == "warning"


async def test_bimi_dmarc_none() -> None:
    result = await run(GOOD, policy=dmarc("none"))
    assert "bimi.dmarc_not_enforced" in codes(result)
    finding = result.findings[-1]
    assert finding.severity == "error"
    assert "logo will not be shown" in finding.message.lower()
    assert result.details["dmarc_ready"] is False


async def test_bimi_dmarc_missing() -> None:
    result = await run(GOOD, policy=dmarc(record=False))
    assert "bimi.dmarc_not_enforced" in codes(result)
    assert result.details["dmarc_ready"] is False


async def test_bimi_dmarc_unknown() -> None:
    result = await run(GOOD, policy=dmarc(record=False, complete=False))
    assert "bimi.dmarc_not_enforced" not in codes(result)
    assert result.details["dmarc_ready"] is None


async def test_bimi_lookup_failed() -> None:
    result = await run(GOOD, fail=[("default._bimi.example.com", "TXT")])
    assert codes(result) == ["dns.lookup_failed"]
    assert not result.complete
    assert result.details["record"] is None


def test_blockers_quarantine_full() -> None:
    assert dmarc_blockers(dmarc("quarantine")) == []


def test_blockers_quarantine_partial() -> None:
    problems = dmarc_blockers(dmarc("quarantine", pct=50))
    assert problems is not None
    assert any("pct=50" in p for p in problems)


def test_blockers_reject_partial_allowed() -> None:
    assert dmarc_blockers(dmarc("reject", pct=50)) == []


def test_blockers_subdomain_none() -> None:
    problems = dmarc_blockers(dmarc("reject", sp="none"))
    assert problems is not None
    assert any("sp=none" in p for p in problems)


def test_blockers_test_mode_quarantine() -> None:
    problems = dmarc_blockers(dmarc("quarantine", t="y"))
    assert problems is not None
    assert any("t=y" in p for p in problems)


def test_blockers_test_mode_reject() -> None:
    assert dmarc_blockers(dmarc("reject", t="y")) == []


def test_blockers_no_policy_applied() -> None:
    problems = dmarc_blockers(dmarc(None))
    assert problems is not None
    assert any("p=none" in p for p in problems)
