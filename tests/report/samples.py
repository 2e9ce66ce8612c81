"""Hand-built audit reports for the renderer tests.

The findings are built directly as ``Finding`` values, not through ``rule()``,
so the tests add nothing to the registry that docs/checks.md is generated from.
"""

from __future__ import annotations

from typing import Any

from deliverability.audit import audit
from deliverability.audit.model import (
    CheckResult,
    DomainReport,
    ProviderVerdict,
    Requirement,
)
from deliverability.dns import ZoneResolver
from deliverability.findings import Finding, Severity

SCRIPT_TAG = "<script>alert(1)</script>"
ATTRIBUTE_BREAK = '"><img src=x onerror=alert(2)>'
# Set the window title, clear the screen, then turn the text red.
TERMINAL_ATTACK = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred"

SPF_RECORD = (
    "v=spf1 ip4:192.0.2.10 include:_spf.google.com include:sendgrid.net "
    "include:spf.protection.outlook.com include:servers.mcsv.net ~all"
)


def _spf_node(
    domain: str,
    record: str | None,
    lookups: int,
    *,
    term: str | None = None,
    status: str = "ok",
    void: int = 0,
    error: str | None = None,
    children: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "domain": domain,
        "record": record,
        "lookups": lookups,
        "void_lookups": void,
        "status": status,
        "children": children or [],
    }
    if term is not None:
        node["term"] = term
    if error is not None:
        node["error"] = error
    return node


def spf_tree() -> dict[str, Any]:
    """The include tree of SPF_RECORD: 12 lookups, one of them void."""
    google = _spf_node(
        "_spf.google.com",
        "v=spf1 include:_netblocks.google.com include:_netblocks2.google.com "
        "include:_netblocks3.google.com ~all",
        3,
        term="include:_spf.google.com",
        children=[
            _spf_node(
                f"_netblocks{suffix}.google.com",
                f"v=spf1 ip4:172.217.{index}.0/24 ~all",
                0,
                term=f"include:_netblocks{suffix}.google.com",
            )
            for index, suffix in enumerate(["", "2", "3"])
        ],
    )
    outlook = _spf_node(
        "spf.protection.outlook.com",
        "v=spf1 include:spfa.protection.outlook.com -all",
        1,
        term="include:spf.protection.outlook.com",
        children=[
            _spf_node(
                "spfa.protection.outlook.com",
                None,
                0,
                term="include:spfa.protection.outlook.com",
                status="none",
                void=1,
                error="no such domain (NXDOMAIN)",
            )
        ],
    )
    sendgrid = _spf_node(
        "sendgrid.net",
        "v=spf1 ip4:167.89.0.0/17 ~all",
        0,
        term="include:sendgrid.net",
    )
    mailchimp = _spf_node(
        "servers.mcsv.net",
        "v=spf1 ip4:205.201.128.0/20 ~all",
        0,
        term="include:servers.mcsv.net",
    )
    return _spf_node(
        "news.example.com",
        SPF_RECORD,
        4,
        children=[google, sendgrid, outlook, mailchimp],
    )


def _spf_result() -> CheckResult:
    return CheckResult(
        "spf",
        findings=[
            Finding(
                "spf.lookup_limit",
                "spf",
                Severity.ERROR,
                "The SPF record of news.example.com needs 12 DNS lookups, more "
                "than the limit of 10, so receivers return permerror.",
                evidence=SPF_RECORD,
                fix="Remove includes you no longer send through, or replace an "
                "include with the ip4/ip6 ranges it lists.",
                reference="RFC 7208, section 4.6.4",
                location="news.example.com TXT",
            ),
            Finding(
                "spf.softfail_all",
                "spf",
                Severity.INFO,
                "The record ends with ~all, which asks receivers to accept "
                "unlisted senders as suspicious.",
                evidence="~all",
                fix="Use -all once every sending service is listed.",
                reference="RFC 7208, section 5.1",
            ),
        ],
        details={
            "record": SPF_RECORD,
            "strings": [SPF_RECORD],
            "dns_lookups": 12,
            "void_lookups": 1,
            "sending_ips": ["192.0.2.10"],
            "tree": spf_tree(),
            "redirect": None,
        },
    )


def _dmarc_result() -> CheckResult:
    record = "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com; fo=1"
    return CheckResult(
        "dmarc",
        findings=[
            Finding(
                "dmarc.policy_none",
                "dmarc",
                Severity.WARNING,
                "The DMARC policy is p=none, so receivers take no action on mail "
                "that fails authentication.",
                evidence=record,
                fix="Move to p=quarantine, then p=reject, once the aggregate "
                "reports show only your own sources.",
                reference="RFC 7489, section 6.3",
                location="_dmarc.example.com TXT",
            )
        ],
        details={
            "record": record,
            "location": "_dmarc.example.com",
            "policy": {
                "p": "none",
                "sp": None,
                "adkim": "r",
                "aspf": "r",
                "rua": ["mailto:dmarc-reports@example.com"],
                "fo": "1",
            },
            "org_domain_psl": "example.com",
            "org_domain_tree_walk": "example.com",
        },
    )


def _dkim_result() -> CheckResult:
    return CheckResult(
        "dkim",
        findings=[
            Finding(
                "dkim.weak_key",
                "dkim",
                Severity.WARNING,
                "The DKIM key at google._domainkey.news.example.com is RSA with "
                "1024 bits; 2048 bits is the current minimum for new keys.",
                fix="Generate a 2048-bit key, publish it under a new selector and "
                "switch signing to it.",
                reference="RFC 8301, section 3.2",
                location="google._domainkey.news.example.com TXT",
            ),
            Finding(
                "dkim.testing",
                "dkim",
                Severity.INFO,
                "The key at s1._domainkey.news.example.com has t=y (testing).",
                evidence="v=DKIM1; t=y; k=rsa; p=MIIBIjANBgkqh",
                fix="Remove t=y once signing works.",
                reference="RFC 6376, section 3.6.1",
            ),
        ],
        details={
            "keys": [
                {
                    "selector": "google",
                    "name": "google._domainkey.news.example.com",
                    "status": "found",
                    "key_type": "rsa",
                    "bits": 1024,
                    "testing": False,
                },
                {
                    "selector": "s1",
                    "name": "s1._domainkey.news.example.com",
                    "status": "found",
                    "key_type": "rsa",
                    "bits": 2048,
                    "testing": True,
                },
            ]
        },
    )


def _mx_result() -> CheckResult:
    return CheckResult(
        "mx",
        details={
            "hosts": [
                {
                    "exchange": "mx1.mail.example.net",
                    "preference": 10,
                    "addresses": ["198.51.100.25", "2001:db8::25"],
                },
                {
                    "exchange": "mx2.mail.example.net",
                    "preference": 20,
                    "addresses": ["198.51.100.26"],
                },
            ]
        },
    )


def _ptr_result() -> CheckResult:
    return CheckResult(
        "ptr",
        findings=[
            Finding(
                "ptr.generic_name",
                "ptr",
                Severity.WARNING,
                "The PTR name of 192.0.2.10, 10-2-0-192.dyn.example.net, looks "
                "like a dynamic pool address.",
                evidence="10-2-0-192.dyn.example.net",
                fix="Ask the network owner for a PTR name under your domain.",
                reference="RFC 1912, section 2.1",
                location="10.2.0.192.in-addr.arpa PTR",
            )
        ],
        details={
            "addresses": [
                {
                    "ip": "192.0.2.10",
                    "source": "spf",
                    "ptr_names": ["10-2-0-192.dyn.example.net"],
                    "forward_confirmed": True,
                    "generic": True,
                }
            ]
        },
    )


def _verdicts() -> list[ProviderVerdict]:
    gmail = ProviderVerdict(
        "gmail-yahoo-bulk-2024",
        "Gmail and Yahoo bulk sender rules (2024)",
        (
            Requirement(
                "gmail-bulk.spf", "A valid SPF record", "not_met", ("spf.lookup_limit",)
            ),
            Requirement("gmail-bulk.dkim", "A DKIM key", "met"),
            Requirement(
                "gmail-bulk.dmarc", "A DMARC record, p=none or stricter", "met"
            ),
            Requirement("gmail-bulk.ptr", "Forward-confirmed reverse DNS", "met"),
        ),
    )
    outlook = ProviderVerdict(
        "outlook-2025",
        "Outlook.com high-volume sender rules (2025)",
        (
            Requirement("outlook.spf", "SPF passes", "not_met", ("spf.lookup_limit",)),
            Requirement("outlook.dmarc", "A DMARC record", "met"),
        ),
    )
    return [gmail, outlook]


def build_report() -> DomainReport:
    """A domain with an SPF error, warnings, info findings and two verdicts."""
    bimi = CheckResult("bimi", details={"record": None, "selector": "default"})
    results = [
        _spf_result(),
        _dmarc_result(),
        _dkim_result(),
        _mx_result(),
        _ptr_result(),
        bimi,
    ]
    return DomainReport(
        domain="news.example.com",
        display_name="news.example.com",
        checks={result.check: result for result in results},
        verdicts=_verdicts(),
        queries=27,
        source="zone files (3 zones, offline)",
    )


def build_hostile_report() -> DomainReport:
    """A report whose DNS values carry markup and terminal escape sequences."""
    record = f"v=spf1 {SCRIPT_TAG} {ATTRIBUTE_BREAK} {TERMINAL_ATTACK} -all"
    spf = CheckResult(
        "spf",
        findings=[
            Finding(
                "spf.syntax",
                "spf",
                Severity.ERROR,
                f"The SPF record has an unknown term: {SCRIPT_TAG}{TERMINAL_ATTACK}",
                evidence=record,
                fix="Correct the term.",
                reference="RFC 7208, section 4.6.1",
                location="evil.example TXT",
            )
        ],
        details={
            "record": record,
            "strings": [record],
            "dns_lookups": 1,
            "void_lookups": 0,
            "sending_ips": [],
            "tree": _spf_node(
                "evil.example",
                record,
                1,
                status="error",
                children=[
                    _spf_node(
                        "inc.evil.example",
                        ATTRIBUTE_BREAK,
                        0,
                        term=f"include:{ATTRIBUTE_BREAK}",
                    )
                ],
            ),
            "raw_text": f"{ATTRIBUTE_BREAK}{TERMINAL_ATTACK}",
        },
    )
    dkim = CheckResult(
        "dkim",
        details={
            "keys": [
                {
                    "selector": SCRIPT_TAG,
                    "name": f"x._domainkey.evil.example{TERMINAL_ATTACK}",
                    "status": "invalid",
                    "key_type": None,
                    "bits": None,
                    "testing": False,
                }
            ]
        },
    )
    verdict = ProviderVerdict(
        "gmail-yahoo-bulk-2024",
        f"Rules {SCRIPT_TAG}",
        (Requirement("gmail-bulk.spf", ATTRIBUTE_BREAK, "not_met", ("spf.syntax",)),),
    )
    return DomainReport(
        domain="evil.example",
        display_name="evil.example",
        checks={"spf": spf, "dkim": dkim},
        verdicts=[verdict],
        queries=3,
        source=f"zone files {TERMINAL_ATTACK}",
    )


def build_incomplete_report() -> DomainReport:
    """A domain whose DKIM lookups timed out; nothing else is wrong."""
    failed = Finding(
        "dns.lookup_failed",
        "dns",
        Severity.ERROR,
        "The lookup of TXT google._domainkey.slow.example for the DKIM key failed "
        "(timed out), so it could not be checked.",
        fix="Check that the domain's nameservers answer, then run the audit again.",
        reference="RFC 7208, section 2.6.6",
        location="google._domainkey.slow.example TXT",
    )
    spf = CheckResult(
        "spf",
        details={
            "record": "v=spf1 -all",
            "strings": ["v=spf1 -all"],
            "dns_lookups": 0,
            "void_lookups": 0,
            "sending_ips": [],
            "tree": _spf_node("slow.example", "v=spf1 -all", 0),
        },
    )
    dkim = CheckResult("dkim", findings=[failed], details={"keys": []}, complete=False)
    return DomainReport(
        domain="slow.example",
        display_name="slow.example",
        checks={"spf": spf, "dkim": dkim},
        queries=9,
        source="nameserver 127.0.0.1:5353",
    )


def build_passing_report(domain: str = "good.example") -> DomainReport:
    """A domain with only info findings."""
    spf = CheckResult(
        "spf",
        findings=[
            Finding(
                "spf.record_found",
                "spf",
                Severity.INFO,
                "The domain publishes an SPF record.",
                evidence="v=spf1 mx -all",
            )
        ],
        details={
            "record": "v=spf1 mx -all",
            "strings": ["v=spf1 mx -all"],
            "dns_lookups": 1,
            "void_lookups": 0,
            "sending_ips": [],
            "tree": _spf_node(domain, "v=spf1 mx -all", 1),
        },
    )
    return DomainReport(
        domain=domain,
        display_name=domain,
        checks={"spf": spf},
        queries=6,
        source="zone files (1 zone, offline)",
    )


def build_idn_report() -> DomainReport:
    """An internationalised domain that could not be audited at all."""
    return DomainReport(
        domain="xn--bcher-kva.example",
        display_name="bücher.example",
        queries=1,
        source="nameserver 127.0.0.1:5353",
        error="The nameservers of bücher.example did not answer (timed out).",
    )


# Zone-file escapes: \" is a quote, \027 is ESC, \007 is BEL.
HOSTILE_ZONE = r"""$ORIGIN hostile.example.
$TTL 300
@ IN SOA ns1 hostmaster 1 3600 600 86400 300
@ IN NS ns1
ns1 IN A 192.0.2.53
@ IN TXT "v=spf1 ip4:192.0.2.10 include:<script>alert(1)</script>.example -all"
_dmarc IN TXT ( "v=DMARC1; p=reject; rua=mailto:\"><img src=x onerror=alert(2)>"
    "@hostile.example; ruf=mailto:a@hostile.example\027]0;pwned\007" )
@ IN MX 10 mail
mail IN A 192.0.2.25
"""


def audit_hostile_zone() -> DomainReport:
    """Run the real audit over HOSTILE_ZONE, served offline by ZoneResolver."""
    resolver = ZoneResolver(texts={"hostile.example": HOSTILE_ZONE})
    return audit("hostile.example", resolver=resolver)
