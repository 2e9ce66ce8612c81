"""Tests of the mailbox-provider verdicts on hand-built domain reports."""

from __future__ import annotations

from typing import Any

from deliverability.audit.model import CheckResult, DomainReport, ProviderVerdict
from deliverability.audit.providers import RULE_SETS, provider_verdicts
from deliverability.findings import Finding, Severity


def finding(code: str, severity: Severity = Severity.ERROR) -> Finding:
    check = code.split(".")[0]
    return Finding(code=code, check=check, severity=severity, message=code)


def spf(
    record: str | None = "v=spf1 -all", *findings: Finding, complete: bool = True
) -> CheckResult:
    return CheckResult("spf", list(findings), {"record": record}, complete)


def dkim(
    *keys: dict[str, Any], findings: tuple[Finding, ...] = (), complete: bool = True
) -> CheckResult:
    return CheckResult("dkim", list(findings), {"keys": list(keys)}, complete)


def dmarc(
    p: str | None = "none", *findings: Finding, complete: bool = True
) -> CheckResult:
    record = None if p is None else f"v=DMARC1; p={p}"
    effective = None if p is None else {"p": p, "sp": p, "pct": 100}
    details = {"record": record, "policy": effective, "effective": effective}
    return CheckResult("dmarc", list(findings), details, complete)


def ptr(
    *entries: dict[str, Any], findings: tuple[Finding, ...] = (), complete: bool = True
) -> CheckResult:
    return CheckResult("ptr", list(findings), {"addresses": list(entries)}, complete)


def address(
    ip: str = "192.0.2.1",
    source: str = "given",
    confirmed: bool | None = True,
    generic: bool = False,
) -> dict[str, Any]:
    return {
        "ip": ip,
        "source": source,
        "forward_confirmed": confirmed,
        "generic": generic,
    }


RSA_2048 = {"selector": "s1", "status": "valid", "bits": 2048}


def report(**checks: CheckResult) -> DomainReport:
    defaults = {
        "spf": spf(),
        "dkim": dkim(RSA_2048),
        "dmarc": dmarc(),
        "ptr": ptr(address()),
    }
    defaults.update(checks)
    return DomainReport("example.com", "example.com", checks=defaults)


def verdict(rep: DomainReport, provider: str) -> ProviderVerdict:
    return next(v for v in provider_verdicts(rep) if v.provider == provider)


def status(rep: DomainReport, requirement: str) -> tuple[str, tuple[str, ...]]:
    provider = requirement.rsplit(".", 1)[0]
    for item in verdict(rep, provider).requirements:
        if item.id == requirement:
            return item.status, item.codes
    raise KeyError(requirement)


def test_verdicts_all_rule_sets() -> None:
    providers = [v.provider for v in provider_verdicts(report())]
    assert providers == ["gmail-yahoo-bulk-2024", "gmail-all-2024", "outlook-2025"]


def test_verdicts_all_met() -> None:
    for item in provider_verdicts(report()):
        assert item.status == "met", item.to_dict()


def test_bulk_not_checked_rows() -> None:
    rep = report()
    for key in ("tls", "one-click-unsubscribe", "spam-rate"):
        assert status(rep, f"gmail-yahoo-bulk-2024.{key}") == ("not_checked", ())


def test_requirement_ids_unique() -> None:
    ids = [row[0] for rule_set in RULE_SETS for row in rule_set.rows]
    for rule_set in RULE_SETS:
        keys = [row[0] for row in rule_set.rows]
        assert len(keys) == len(set(keys)), rule_set.id
    assert ids


def test_spf_broken_not_met() -> None:
    rep = report(spf=spf("v=spf1 " + "include:a " * 11, finding("spf.lookup_limit")))
    assert status(rep, "gmail-yahoo-bulk-2024.spf") == (
        "not_met",
        ("spf.lookup_limit",),
    )
    assert verdict(rep, "outlook-2025").status == "not_met"
    assert status(rep, "gmail-yahoo-bulk-2024.alignment")[0] == "met"


def test_spf_warning_still_met() -> None:
    rep = report(spf=spf("v=spf1 ?all", finding("spf.neutral_all", Severity.WARNING)))
    assert status(rep, "outlook-2025.spf") == ("met", ())


def test_spf_missing_not_met() -> None:
    rep = report(spf=spf(None, finding("spf.missing", Severity.WARNING)))
    assert status(rep, "outlook-2025.spf") == ("not_met", ("spf.missing",))


def test_spf_incomplete_unknown() -> None:
    rep = report(spf=spf(None, finding("dns.lookup_failed"), complete=False))
    assert status(rep, "outlook-2025.spf") == ("unknown", ("dns.lookup_failed",))
    assert verdict(rep, "outlook-2025").status == "unknown"


def test_spf_tree_failure_unknown() -> None:
    rep = report(
        spf=spf("v=spf1 include:x -all", finding("dns.lookup_failed"), complete=False)
    )
    assert status(rep, "outlook-2025.spf")[0] == "unknown"


def test_dkim_missing_not_met() -> None:
    rep = report(dkim=dkim(findings=(finding("dkim.no_key", Severity.WARNING),)))
    assert status(rep, "gmail-yahoo-bulk-2024.dkim") == ("not_met", ("dkim.no_key",))
    assert verdict(rep, "gmail-yahoo-bulk-2024").status == "not_met"
    assert verdict(rep, "gmail-all-2024").status == "met"


def test_dkim_weak_key_not_met() -> None:
    rep = report(dkim=dkim({"selector": "s1", "status": "valid", "bits": 512}))
    assert status(rep, "outlook-2025.dkim")[0] == "not_met"


def test_dkim_ed25519_only_not_met() -> None:
    key = {"selector": "ed", "status": "valid", "bits": 256, "key_type": "ed25519"}
    rep = report(dkim=dkim(key))
    assert status(rep, "outlook-2025.dkim")[0] == "not_met"


def test_dkim_revoked_not_met() -> None:
    rep = report(dkim=dkim({"selector": "s1", "status": "revoked", "bits": None}))
    assert status(rep, "outlook-2025.dkim")[0] == "not_met"


def test_dkim_incomplete_unknown() -> None:
    rep = report(dkim=dkim(findings=(finding("dns.lookup_failed"),), complete=False))
    assert status(rep, "outlook-2025.dkim") == ("unknown", ("dns.lookup_failed",))


def test_dkim_incomplete_but_key_found_met() -> None:
    rep = report(
        dkim=dkim(RSA_2048, findings=(finding("dns.lookup_failed"),), complete=False)
    )
    assert status(rep, "outlook-2025.dkim") == ("met", ())


def test_dmarc_missing_not_met() -> None:
    rep = report(dmarc=dmarc(None, finding("dmarc.missing")))
    assert status(rep, "gmail-yahoo-bulk-2024.dmarc") == ("not_met", ("dmarc.missing",))
    assert verdict(rep, "gmail-all-2024").status == "met"


def test_dmarc_reject_met() -> None:
    assert status(report(dmarc=dmarc("reject")), "outlook-2025.dmarc") == ("met", ())


def test_dmarc_incomplete_unknown() -> None:
    rep = report(dmarc=dmarc(None, finding("dns.lookup_failed"), complete=False))
    assert status(rep, "outlook-2025.dmarc")[0] == "unknown"


def test_alignment_needs_spf_or_dkim() -> None:
    rep = report(spf=spf(None, finding("spf.missing", Severity.WARNING)), dkim=dkim())
    assert status(rep, "outlook-2025.alignment")[0] == "not_met"
    assert status(rep, "gmail-all-2024.spf-or-dkim")[0] == "not_met"
    assert verdict(rep, "gmail-all-2024").status == "not_met"


def test_alignment_via_dkim_only() -> None:
    rep = report(spf=spf(None, finding("spf.missing", Severity.WARNING)))
    assert status(rep, "outlook-2025.alignment") == ("met", ())
    assert status(rep, "gmail-all-2024.spf-or-dkim") == ("met", ())


def test_alignment_unknown() -> None:
    rep = report(spf=spf(None, complete=False), dkim=dkim(complete=False))
    assert status(rep, "outlook-2025.alignment")[0] == "unknown"


def test_fcrdns_not_met() -> None:
    rep = report(
        ptr=ptr(address(confirmed=False), findings=(finding("ptr.not_confirmed"),))
    )
    assert status(rep, "gmail-all-2024.fcrdns") == ("not_met", ("ptr.not_confirmed",))
    assert verdict(rep, "gmail-all-2024").status == "not_met"
    assert verdict(rep, "outlook-2025").status == "met"


def test_fcrdns_spf_address_counts() -> None:
    rep = report(
        ptr=ptr(
            address(),
            address("192.0.2.2", "spf", confirmed=False),
            findings=(finding("ptr.missing"),),
        )
    )
    assert status(rep, "gmail-all-2024.fcrdns") == ("not_met", ("ptr.missing",))


def test_fcrdns_mx_address_ignored() -> None:
    rep = report(
        ptr=ptr(
            address(),
            address("192.0.2.5", "mx:mx.example.com", False),
            findings=(finding("ptr.missing", Severity.WARNING),),
        )
    )
    assert status(rep, "gmail-all-2024.fcrdns") == ("met", ())


def test_fcrdns_no_sending_ips() -> None:
    rep = report(ptr=ptr(address("192.0.2.5", "mx:mx.example.com")))
    assert status(rep, "gmail-all-2024.fcrdns") == ("not_checked", ())
    assert verdict(rep, "gmail-all-2024").status == "met"


def test_fcrdns_unknown() -> None:
    rep = report(
        ptr=ptr(
            address(confirmed=None),
            findings=(finding("dns.lookup_failed"),),
            complete=False,
        )
    )
    assert status(rep, "gmail-all-2024.fcrdns") == ("unknown", ("dns.lookup_failed",))
    assert verdict(rep, "gmail-all-2024").status == "unknown"


def test_ptr_generic_not_met() -> None:
    rep = report(
        ptr=ptr(
            address(generic=True), findings=(finding("ptr.generic", Severity.WARNING),)
        )
    )
    assert status(rep, "gmail-yahoo-bulk-2024.ptr-name") == (
        "not_met",
        ("ptr.generic",),
    )
    assert status(rep, "gmail-yahoo-bulk-2024.fcrdns") == ("met", ())


def test_checks_absent_not_checked() -> None:
    rep = DomainReport("example.com", "example.com")
    for item in verdict(rep, "gmail-yahoo-bulk-2024").requirements:
        assert item.status == "not_checked", item.id


def test_verdict_json_shape() -> None:
    data = verdict(report(), "outlook-2025").to_dict()
    assert data["status"] == "met"
    assert [r["id"] for r in data["requirements"]] == [
        "outlook-2025.spf",
        "outlook-2025.dkim",
        "outlook-2025.dmarc",
        "outlook-2025.alignment",
    ]
