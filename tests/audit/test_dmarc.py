"""Tests of the DMARC check on zone data."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from deliverability.audit import dmarc as dmarc_check
from deliverability.audit import dmarc_record
from deliverability.audit.dmarc import check_dmarc
from deliverability.audit.model import CheckResult
from deliverability.dns import Answer, Status, ZoneResolver
from deliverability.findings import Rule, Severity

GOOD = "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"


class FailingResolver(ZoneResolver):
    """Zone data, except that lookups of the listed names fail."""

    def __init__(self, texts: dict[str, str], fail: Iterable[str] = ()) -> None:
        super().__init__(texts=texts)
        self.fail = set(fail)

    async def _query(self, qname: str, rdtype: str) -> Answer:
        if qname in self.fail:
            return Answer(qname, rdtype, Status.FAILED, error="timed out")
        return await super()._query(qname, rdtype)


def resolver(com: str, net: str = "", *, fail: Iterable[str] = ()) -> FailingResolver:
    """Zones example.com (``com``) and example.net (``net``)."""
    texts = {"example.com": "$ORIGIN example.com.\n$TTL 300\n@ A 192.0.2.1\n" + com}
    texts["example.net"] = "$ORIGIN example.net.\n$TTL 300\n@ A 192.0.2.2\n" + net
    return FailingResolver(texts, fail)


async def run(
    com: str, net: str = "", *, domain: str = "example.com", fail: Iterable[str] = ()
) -> CheckResult:
    return await check_dmarc(domain, resolver=resolver(com, net, fail=fail))


def dmarc(text: str, owner: str = "_dmarc") -> str:
    return f'{owner} TXT "{text}"\n'


def codes(result: CheckResult) -> list[str]:
    return sorted(f.code for f in result.findings)


def finding(result: CheckResult, code: str) -> str:
    matches = [f for f in result.findings if f.code == code]
    assert len(matches) == 1, codes(result)
    return matches[0].message


async def test_good_record_has_no_findings() -> None:
    result = await run(dmarc(GOOD))
    assert codes(result) == []
    assert result.complete


async def test_details_shape() -> None:
    result = await run(dmarc(GOOD + "; sp=quarantine; pct=100"))
    details = result.details
    assert details["record"] == GOOD + "; sp=quarantine; pct=100"
    assert details["location"] == "_dmarc.example.com"
    assert details["policy_domain"] == "example.com"
    assert details["policy"]["p"] == "reject"
    assert details["policy"]["sp"] == "quarantine"
    assert details["policy"]["np"] is None
    assert details["policy"]["pct"] == 100
    assert details["policy"]["rua"] == ["mailto:dmarc@example.com"]
    assert details["effective"]["np"] == "quarantine"
    assert details["effective"]["adkim"] == "r"
    assert details["org_domain_psl"] == "example.com"
    assert details["org_domain_tree_walk"] == "example.com"
    assert details["discovery"] == ["_dmarc.example.com", "_dmarc.com"]
    json.dumps(result.to_dict())


async def test_no_record() -> None:
    result = await run("")
    assert codes(result) == ["dmarc.no_record"]
    assert result.details["record"] is None
    assert result.details["policy"]["p"] is None
    assert result.details["effective"]["p"] is None
    assert result.complete


async def test_failed_lookup_is_not_missing_record() -> None:
    result = await run("", fail=["_dmarc.example.com"])
    assert codes(result) == ["dns.lookup_failed"]
    assert not result.complete


async def test_failed_parent_lookup_incomplete() -> None:
    result = await run(dmarc(GOOD), fail=["_dmarc.com"])
    assert codes(result) == ["dns.lookup_failed"]
    assert result.details["record"] == GOOD
    assert not result.complete


async def test_multiple_records() -> None:
    result = await run(dmarc(GOOD) + dmarc("v=DMARC1; p=none"))
    assert codes(result) == ["dmarc.multiple_records"]
    assert result.details["record"] is None
    assert result.findings[0].severity is Severity.ERROR


async def test_unrelated_record_ignored() -> None:
    result = await run(dmarc(GOOD) + dmarc("v=spf1 include:example.net -all"))
    assert codes(result) == ["dmarc.unrelated_record"]
    assert "SPF record" in finding(result, "dmarc.unrelated_record")
    assert result.details["record"] == GOOD


async def test_leading_whitespace_record() -> None:
    result = await run(dmarc(" v=DMARC1; p=reject"))
    assert codes(result) == ["dmarc.invalid_version"]
    assert result.details["record"] is None


async def test_record_at_apex() -> None:
    result = await run(dmarc(GOOD, owner="@"))
    assert codes(result) == ["dmarc.no_record", "dmarc.wrong_location"]
    assert "_dmarc.example.com" in finding(result, "dmarc.wrong_location")


async def test_invalid_sp_reported() -> None:
    result = await run(dmarc("v=DMARC1; p=reject; sp=bogus"))
    assert codes(result) == ["dmarc.invalid_tag_value", "dmarc.no_policy"]
    assert "'bogus'" in finding(result, "dmarc.invalid_tag_value")
    assert result.details["policy"]["sp"] == "bogus"
    assert result.details["effective"]["p"] is None


async def test_invalid_sp_with_rua_is_none() -> None:
    result = await run(dmarc(GOOD + "; sp=bogus"))
    assert codes(result) == ["dmarc.invalid_tag_value", "dmarc.policy_none"]
    assert result.details["effective"]["p"] == "none"


async def test_duplicate_tags_no_policy() -> None:
    result = await run(dmarc("v=DMARC1; p=reject; p=none"))
    assert codes(result) == ["dmarc.duplicate_tag"]
    assert result.details["record"] is None


async def test_policy_none() -> None:
    result = await run(dmarc("v=DMARC1; p=none; rua=mailto:d@example.com"))
    assert codes(result) == ["dmarc.policy_none"]
    assert result.findings[0].severity is Severity.WARNING


async def test_policy_quarantine() -> None:
    result = await run(dmarc("v=DMARC1; p=quarantine; rua=mailto:d@example.com"))
    assert codes(result) == ["dmarc.policy_quarantine"]
    assert result.findings[0].severity is Severity.INFO


async def test_weak_sp() -> None:
    result = await run(dmarc(GOOD + "; sp=none"))
    assert codes(result) == ["dmarc.weak_subdomain_policy"]
    assert "sp=none" in finding(result, "dmarc.weak_subdomain_policy")


async def test_weak_np() -> None:
    result = await run(dmarc(GOOD + "; np=quarantine"))
    assert codes(result) == ["dmarc.weak_subdomain_policy"]
    assert "non-existent" in finding(result, "dmarc.weak_subdomain_policy")


async def test_stronger_np_is_fine() -> None:
    result = await run(
        dmarc("v=DMARC1; p=quarantine; np=reject; rua=mailto:d@example.com")
    )
    assert codes(result) == ["dmarc.policy_quarantine"]


async def test_test_mode() -> None:
    result = await run(dmarc(GOOD + "; t=y"))
    assert codes(result) == ["dmarc.testing"]


async def test_test_mode_on_none_policy_is_silent() -> None:
    result = await run(dmarc("v=DMARC1; p=none; t=y; rua=mailto:d@example.com"))
    assert codes(result) == ["dmarc.policy_none"]


async def test_partial_pct() -> None:
    result = await run(dmarc(GOOD + "; pct=50"))
    assert codes(result) == ["dmarc.pct_partial", "dmarc.removed_tag"]
    assert result.details["policy"]["pct"] == 50
    assert result.details["effective"]["pct"] == 50


async def test_missing_rua() -> None:
    result = await run(dmarc("v=DMARC1; p=reject"))
    assert codes(result) == ["dmarc.no_rua"]


async def test_external_destination_unauthorized() -> None:
    result = await run(dmarc("v=DMARC1; p=reject; rua=mailto:agg@reports.example.net"))
    assert codes(result) == ["dmarc.external_unauthorized"]
    fixes = [f.fix for f in result.findings]
    assert fixes == [
        "Ask the operator of reports.example.net to publish this record (or a "
        "wildcard *._report._dmarc.reports.example.net): "
        'example.com._report._dmarc.reports.example.net. IN TXT "v=DMARC1"'
    ]


async def test_external_destination_authorized() -> None:
    net = dmarc("v=DMARC1", owner="example.com._report._dmarc.reports")
    result = await run(
        dmarc("v=DMARC1; p=reject; rua=mailto:agg@reports.example.net"), net
    )
    assert codes(result) == []


async def test_external_destination_wildcard() -> None:
    net = dmarc("v=DMARC1", owner="*._report._dmarc")
    result = await run(
        dmarc("v=DMARC1; p=reject; rua=mailto:a@example.net; ruf=mailto:f@example.net"),
        net,
    )
    assert codes(result) == []


async def test_external_authorization_needs_dmarc_record() -> None:
    net = dmarc("hello", owner="example.com._report._dmarc")
    result = await run(dmarc("v=DMARC1; p=reject; rua=mailto:a@example.net"), net)
    assert codes(result) == ["dmarc.external_unauthorized"]


async def test_external_authorization_lookup_failed() -> None:
    result = await run(
        dmarc("v=DMARC1; p=reject; rua=mailto:a@example.net"),
        fail=["example.com._report._dmarc.example.net"],
    )
    assert codes(result) == ["dns.lookup_failed"]
    assert not result.complete


async def test_same_org_destination_needs_no_authorization() -> None:
    result = await run(dmarc("v=DMARC1; p=reject; rua=mailto:a@reports.example.com"))
    assert codes(result) == []


async def test_inherited_policy() -> None:
    result = await run(dmarc(GOOD + "; sp=quarantine"), domain="news.example.com")
    assert codes(result) == ["dmarc.inherited_policy", "dmarc.weak_subdomain_policy"]
    assert "sp=quarantine" in finding(result, "dmarc.inherited_policy")
    assert result.details["location"] == "_dmarc.example.com"
    assert result.details["policy_domain"] == "example.com"
    assert result.details["policy_source"] == "organizational"


async def test_subdomain_record_without_parent() -> None:
    result = await run(dmarc(GOOD, owner="_dmarc.news"), domain="news.example.com")
    assert codes(result) == ["dmarc.org_domain_differs"]
    assert result.details["org_domain_tree_walk"] == "news.example.com"
    assert result.details["org_domain_psl"] == "example.com"


async def test_discovery_differs() -> None:
    result = await run(dmarc(GOOD, owner="_dmarc.b"), domain="a.b.example.com")
    assert codes(result) == [
        "dmarc.discovery_differs",
        "dmarc.inherited_policy",
        "dmarc.org_domain_differs",
    ]
    assert result.details["location"] == "_dmarc.b.example.com"
    assert result.details["location_psl"] is None
    assert result.details["discovery"] == [
        "_dmarc.a.b.example.com",
        "_dmarc.b.example.com",
        "_dmarc.example.com",
        "_dmarc.com",
    ]


async def test_public_suffix_policy() -> None:
    texts = {
        "bank.example": (
            "$ORIGIN bank.example.\n$TTL 300\n"
            '_dmarc TXT "v=DMARC1; p=reject; psd=y; rua=mailto:d@bank.example"\n'
            "giant A 192.0.2.3\n"
        )
    }
    result = await check_dmarc("giant.bank.example", resolver=ZoneResolver(texts=texts))
    assert "dmarc.psd_policy" in codes(result)
    assert result.details["policy_source"] == "public-suffix"
    assert result.details["org_domain_tree_walk"] == "giant.bank.example"


async def test_psd_n_at_subdomain() -> None:
    com = dmarc(GOOD + "; psd=n", owner="_dmarc.news") + dmarc(GOOD)
    result = await run(com, domain="a.news.example.com")
    assert result.details["org_domain_tree_walk"] == "news.example.com"
    assert result.details["location"] == "_dmarc.news.example.com"
    assert result.details["discovery"] == [
        "_dmarc.a.news.example.com",
        "_dmarc.news.example.com",
        "_dmarc.example.com",
    ]
    assert "dmarc.discovery_differs" in codes(result)


async def test_record_split_over_strings() -> None:
    result = await run('_dmarc TXT "v=DMARC1; p=reject; " "rua=mailto:d@example.com"\n')
    assert codes(result) == []
    assert result.details["policy"]["rua"] == ["mailto:d@example.com"]


async def test_findings_name_location() -> None:
    result = await run(dmarc("v=DMARC1; p=none"))
    assert {f.location for f in result.findings} == {"_dmarc.example.com"}
    assert all(f.evidence == "v=DMARC1; p=none" for f in result.findings)


def test_every_code_tested() -> None:
    here = Path(__file__).parent
    sources = "".join(p.read_text("utf-8") for p in here.glob("test_dmarc*.py"))
    for module in (dmarc_check, dmarc_record):
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, Rule):
                assert f'"{value.code}"' in sources, value.code


def corpus_resolver(corpus: Path, names: dict[str, str]) -> ZoneResolver:
    """One zone per owner name, holding the TXT records real-dns lists for it.

    ``names`` maps each owner name to the key of its entry: the entry's
    ``TXT`` list, or its ``_dmarc TXT`` list when the owner is ``_dmarc.*``.
    """
    data = json.loads((corpus / "real-dns" / "records.json").read_text("utf-8"))
    texts = {}
    for owner, entry_name in names.items():
        entry = data[entry_name]
        records = entry["_dmarc TXT"] if owner.startswith("_dmarc.") else entry["TXT"]
        lines = [f'@ TXT "{text}"' for text in records]
        texts[owner] = f"$ORIGIN {owner}.\n$TTL 300\n" + "\n".join(lines) + "\n"
    return ZoneResolver(texts=texts)


async def test_real_authorized_destinations(corpus_dir: Path) -> None:
    auth = "swedavia.se._report._dmarc."
    names = {
        "_dmarc.swedavia.se": "swedavia.se",
        auth + "rep.dmarcanalyzer.com": auth + "rep.dmarcanalyzer.com",
        auth + "forensics.dmarc-report.com": auth + "forensics.dmarc-report.com",
    }
    result = await check_dmarc(
        "swedavia.se", resolver=corpus_resolver(corpus_dir, names)
    )
    assert codes(result) == []
    assert result.details["policy"]["p"] == "reject"


async def test_real_public_suffix_record(corpus_dir: Path) -> None:
    names = {"_dmarc.fbi.gov": "fbi.gov", "_dmarc.gov": "gov"}
    resolver = corpus_resolver(corpus_dir, names)
    own = await check_dmarc("fbi.gov", resolver=resolver)
    assert own.details["org_domain_tree_walk"] == "fbi.gov"
    assert own.details["location"] == "_dmarc.fbi.gov"
    assert "dmarc.external_unauthorized" in codes(own)
    other = await check_dmarc("agency.gov", resolver=resolver)
    assert other.details["policy_source"] == "public-suffix"
    assert other.details["effective"]["np"] == "reject"
    assert "dmarc.psd_policy" in codes(other)
