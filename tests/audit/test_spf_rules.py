"""The DNS-free SPF rules, and a zone that triggers each declared finding code."""

from __future__ import annotations

from types import ModuleType

import pytest

from deliverability.audit import spf, spf_lint, spf_syntax, spf_tree
from deliverability.audit.spf import check_spf
from deliverability.audit.spf_lint import lint_record
from deliverability.audit.spf_syntax import SPFRecord
from deliverability.dns import Answer, Status, TXTRecord, ZoneResolver
from deliverability.findings import Finding, Rule

HEADER = "$TTL 300\n@ SOA ns.example.com. host.example.com. 1 7200 900 1209600 300\n"


def lint(text: str) -> list[Finding]:
    return lint_record(SPFRecord.from_text(text))


def lint_codes(text: str) -> list[str]:
    return [f.code for f in lint(text)]


def test_clean_record() -> None:
    assert lint_codes("v=spf1 ip4:198.51.99.0/24 include:_spf.example.com -all") == []


@pytest.mark.parametrize("term", ["all", "+all"])
def test_plus_all(term: str) -> None:
    assert lint_codes(f"v=spf1 {term}") == ["spf.plus_all"]


def test_softfail_all_fine() -> None:
    assert lint_codes("v=spf1 mx ~all") == []


def test_neutral_all() -> None:
    assert lint_codes("v=spf1 mx ?all") == ["spf.neutral_all"]


def test_no_all() -> None:
    assert lint_codes("v=spf1 mx") == ["spf.no_all"]


def test_redirect_without_all_fine() -> None:
    assert lint_codes("v=spf1 mx redirect=_spf.example.com") == []


def test_redirect_ignored() -> None:
    assert lint_codes("v=spf1 -all redirect=_spf.example.com") == [
        "spf.redirect_ignored"
    ]


def test_after_all() -> None:
    findings = lint("v=spf1 -all include:_spf.example.com ip4:198.51.99.1")
    assert [f.code for f in findings] == ["spf.after_all"]
    assert "include:_spf.example.com ip4:198.51.99.1" in findings[0].message


def test_second_all_after_all() -> None:
    assert lint_codes("v=spf1 -all +all") == ["spf.after_all"]


def test_modifier_after_all_fine() -> None:
    assert lint_codes("v=spf1 -all exp=explain.example.com") == []


def test_ptr() -> None:
    assert lint_codes("v=spf1 ptr -all") == ["spf.ptr"]


def test_ptr_with_domain() -> None:
    assert lint_codes("v=spf1 ptr:other.example -all") == ["spf.ptr"]


def test_duplicate_include() -> None:
    findings = lint("v=spf1 include:a.example.com include:A.example.com -all")
    assert [f.code for f in findings] == ["spf.duplicate_mechanism"]
    assert "2 times" in findings[0].message


def test_same_name_other_cidr_fine() -> None:
    assert lint_codes("v=spf1 a a/24 -all") == []


@pytest.mark.parametrize("name", ["include", "a", "mx", "ip4", "ip6", "exists", "ptr"])
def test_mistyped_mechanism(name: str) -> None:
    findings = lint(f"v=spf1 {name}=example.org -all")
    assert [f.code for f in findings] == ["spf.mistyped_mechanism"]
    assert findings[0].severity == "error"
    assert f"'{name}:example.org'" in (findings[0].fix or "")


def test_unknown_modifier_info() -> None:
    findings = lint("v=spf1 -all MS=83859DAEBD1978F9A7A67D3")
    assert [(f.code, f.severity) for f in findings] == [
        ("spf.unknown_modifier", "info")
    ]


@pytest.mark.parametrize("modifier", ["ra=postmaster", "rp=10", "rr=all"])
def test_rfc6652_modifiers_known(modifier: str) -> None:
    assert lint_codes(f"v=spf1 -all {modifier}") == []


def test_macro_p() -> None:
    assert lint_codes("v=spf1 exists:%{p}.example.com -all") == ["spf.macro_p"]


def test_invalid_domain() -> None:
    assert lint_codes("v=spf1 include:a..example.com -all") == ["spf.invalid_domain"]


def test_long_label() -> None:
    assert lint_codes(f"v=spf1 a:{'x' * 64}.example.com -all") == ["spf.invalid_domain"]


@pytest.mark.parametrize(
    ("term", "kind"),
    [
        ("ip4:10.1.2.3", "private"),
        ("ip4:172.16.5.0/24", "private"),
        ("ip4:192.168.1.0/24", "private"),
        ("ip4:127.0.0.1", "loopback"),
        ("ip4:169.254.1.1", "link-local"),
        ("ip4:192.0.2.1", "documentation"),
        ("ip4:203.0.113.0/24", "documentation"),
        ("ip4:0.0.0.0", "this network"),
        ("ip4:100.64.1.1", "carrier-grade"),
        ("ip4:240.0.0.1", "reserved"),
        ("ip4:224.0.0.1", "multicast"),
        ("ip6:::1", "loopback"),
        ("ip6:::", "unspecified"),
        ("ip6:fd00::1", "unique local"),
        ("ip6:fe80::1", "link-local"),
        ("ip6:2001:db8::1", "documentation"),
        ("ip6:::ffff:198.51.99.1", "IPv4-mapped"),
    ],
)
def test_special_range(term: str, kind: str) -> None:
    findings = lint(f"v=spf1 {term} -all")
    assert [f.code for f in findings] == ["spf.special_range"]
    assert kind in findings[0].message


@pytest.mark.parametrize("term", ["ip4:198.51.99.1", "ip4:11.0.0.0/8", "ip6:2a00::1"])
def test_public_address_fine(term: str) -> None:
    assert "spf.special_range" not in lint_codes(f"v=spf1 {term} -all")


@pytest.mark.parametrize(
    ("term", "severity"),
    [
        ("ip4:0.0.0.0/0", "error"),
        ("ip4:11.0.0.0/7", "error"),
        ("ip4:11.0.0.0/8", "warning"),
        ("ip4:11.0.0.0/15", "warning"),
        ("ip6:2000::/3", "error"),
        ("ip6:2a00::/15", "error"),
        ("ip6:2a00::/16", "warning"),
        ("ip6:2a00::/31", "warning"),
        ("a/7", "error"),
        ("mx//20", "warning"),
    ],
)
def test_broad_range(term: str, severity: str) -> None:
    findings = [f for f in lint(f"v=spf1 {term} -all") if f.code == "spf.broad_range"]
    assert [f.severity for f in findings] == [severity]


@pytest.mark.parametrize(
    "term", ["ip4:11.0.0.0/16", "ip6:2a00::/32", "a/16", "mx//32", "a:x.example.com"]
)
def test_narrow_range_fine(term: str) -> None:
    assert "spf.broad_range" not in lint_codes(f"v=spf1 {term} -all")


def test_findings_carry_evidence() -> None:
    finding = lint_record(
        SPFRecord.from_text("v=spf1 +all"), evidence="v=spf1 +all", location="x TXT"
    )[0]
    assert finding.evidence == "v=spf1 +all"
    assert finding.location == "x TXT"
    assert finding.reference == "RFC 7208, section 5.1"
    assert finding.fix


# One zone per finding code: every code the SPF modules declare must appear.

ZONES: dict[str, str] = {
    "spf.syntax": '@ TXT "v=spf1 exists -all"',
    "spf.plus_all": '@ TXT "v=spf1 +all"',
    "spf.neutral_all": '@ TXT "v=spf1 ?all"',
    "spf.no_all": '@ TXT "v=spf1 ip4:198.51.99.1"',
    "spf.ptr": '@ TXT "v=spf1 ptr -all"',
    "spf.redirect_ignored": '@ TXT "v=spf1 -all redirect=r.example.com"',
    "spf.after_all": '@ TXT "v=spf1 -all ip4:198.51.99.1"',
    "spf.duplicate_mechanism": '@ TXT "v=spf1 ip4:198.51.99.1 ip4:198.51.99.1 -all"',
    "spf.mistyped_mechanism": '@ TXT "v=spf1 include=example.org -all"',
    "spf.unknown_modifier": '@ TXT "v=spf1 -all foo=bar"',
    "spf.macro_p": '@ TXT "v=spf1 exists:%{p}.example.com -all"',
    "spf.invalid_domain": '@ TXT "v=spf1 a:x..example.com -all"',
    "spf.special_range": '@ TXT "v=spf1 ip4:10.0.0.1 -all"',
    "spf.broad_range": '@ TXT "v=spf1 ip4:11.0.0.0/8 -all"',
    "spf.lookup_limit": '@ TXT "v=spf1 ' + "a " * 11 + '-all"\n@ A 198.51.99.1',
    "spf.void_limit": '@ TXT "v=spf1 a mx a:x.example.com -all"',
    "spf.mx_limit": '@ TXT "v=spf1 mx -all"\n'
    + "".join(f"@ MX 1 m{i}.example.com.\n" for i in range(11)),
    "spf.include_loop": '@ TXT "v=spf1 include:example.com -all"',
    "spf.redirect_loop": '@ TXT "v=spf1 redirect=example.com"',
    "spf.include_missing": '@ TXT "v=spf1 include:gone.example.com -all"',
    "spf.redirect_missing": '@ TXT "v=spf1 redirect=gone.example.com"',
    "spf.target_invalid": '@ TXT "v=spf1 include:t.example.com -all"\n'
    't TXT "v=spf1 bad -all"',
    "spf.tree_truncated": '@ TXT "v=spf1 include:n0.example.com -all"\n'
    + "".join(
        f'n{i} TXT "v=spf1 include:n{i + 1}.example.com '
        f'include:n{i + 1}.example.com -all"\n'
        for i in range(12)
    ),
    "spf.missing": '@ TXT "hello"',
    "spf.nxdomain": "",
    "spf.multiple_records": '@ TXT "v=spf1 -all"\n@ TXT "v=spf1 ~all"',
    "spf.ignored_txt": '@ TXT " v=spf1 -all"',
    "spf.type99": '@ TXT "v=spf1 -all"\n@ SPF "v=spf1 -all"',
    "spf.string_too_long": "",
    "spf.record_too_long": '@ TXT "v=spf1 " '
    + " ".join(f'"ip4:198.51.{i}.0/24 "' for i in range(30))
    + ' "-all"',
    "spf.udp_size": '@ TXT "v=spf1 -all"\n'
    + "".join(f'@ TXT "token-{i}={"x" * 60}"\n' for i in range(8)),
}


class LongStringResolver(ZoneResolver):
    """Zone data, with a TXT string that no zone file could hold."""

    async def _query(self, qname: str, rdtype: str) -> Answer:
        if qname == "long.example.com" and rdtype == "TXT":
            raw = b"v=spf1 " + b"a" * 300 + b".example.com -all"
            return Answer(qname, rdtype, Status.ANSWER, (TXTRecord((raw,)),))
        return self.lookup_now(qname, rdtype)


def _declared_codes(*modules: ModuleType) -> set[str]:
    return {
        value.code
        for module in modules
        for value in vars(module).values()
        if isinstance(value, Rule)
    }


def test_every_code_has_zone() -> None:
    assert _declared_codes(spf, spf_lint, spf_syntax, spf_tree) == set(ZONES)


@pytest.mark.parametrize("code", sorted(ZONES))
async def test_code_triggered(code: str) -> None:
    resolver = LongStringResolver(texts={"example.com": HEADER + ZONES[code] + "\n"})
    domain = {
        "spf.nxdomain": "gone.example.com",
        "spf.string_too_long": "long.example.com",
    }.get(code, "example.com")
    result = await check_spf(domain, resolver=resolver)
    assert code in [f.code for f in result.findings]


@pytest.mark.parametrize("code", sorted(ZONES))
def test_rule_documented(code: str) -> None:
    from deliverability.findings import get_rule

    declared = get_rule(code)
    assert declared.title
    assert declared.fix
    assert (declared.reference or "").startswith("RFC ")
