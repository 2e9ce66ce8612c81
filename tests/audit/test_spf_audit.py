"""The SPF check over zone data: discovery, sizes, the lookup tree, findings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deliverability.audit.model import CheckResult
from deliverability.audit.spf import check_spf, estimate_response_size
from deliverability.audit.spf_tree import MAX_RECORDS
from deliverability.dns import Answer, Status, TXTRecord, ZoneResolver

HEADER = "$TTL 300\n@ SOA ns.example.com. host.example.com. 1 7200 900 1209600 300\n"


class PatchedResolver(ZoneResolver):
    """A zone resolver that returns fixed results for some lookups."""

    def __init__(self, zone: str, patches: Mapping[tuple[str, str], Answer]) -> None:
        super().__init__(texts={"example.com": HEADER + zone})
        self.patches = dict(patches)

    async def _query(self, qname: str, rdtype: str) -> Answer:
        patched = self.patches.get((qname, rdtype))
        return patched if patched is not None else self.lookup_now(qname, rdtype)


def failed(name: str, rdtype: str) -> Answer:
    return Answer(name, rdtype, Status.FAILED, error="timed out after 2 tries")


async def check(
    zone: str,
    domain: str = "example.com",
    patches: Mapping[tuple[str, str], Answer] | None = None,
) -> CheckResult:
    resolver = PatchedResolver(zone, patches or {})
    return await check_spf(domain, resolver=resolver)


def codes(result: CheckResult) -> list[str]:
    return [f.code for f in result.findings]


def find(result: CheckResult, code: str) -> Any:
    matches = [f for f in result.findings if f.code == code]
    assert matches, f"no {code} among {codes(result)}"
    return matches[0]


# Discovery


async def test_good_record() -> None:
    result = await check('@ TXT "v=spf1 ip4:198.51.99.1 -all"\n')
    assert codes(result) == []
    assert result.complete
    assert result.details["record"] == "v=spf1 ip4:198.51.99.1 -all"
    assert result.details["records_found"] == 1


async def test_missing() -> None:
    result = await check('@ TXT "google-site-verification=abc"\n')
    assert codes(result) == ["spf.missing"]
    assert result.details["record"] is None
    assert result.details["tree"]["status"] == "none"


async def test_nodata_missing() -> None:
    result = await check("@ A 198.51.99.1\n")
    assert codes(result) == ["spf.missing"]


async def test_nxdomain() -> None:
    result = await check("", domain="nowhere.example.com")
    assert codes(result) == ["spf.nxdomain"]
    assert result.complete


async def test_root_lookup_failed() -> None:
    result = await check(
        "", patches={("example.com", "TXT"): failed("example.com", "TXT")}
    )
    assert codes(result) == ["dns.lookup_failed"]
    assert not result.complete
    assert result.details["tree"]["status"] == "failed"


async def test_multiple_records() -> None:
    result = await check('@ TXT "v=spf1 -all"\n@ TXT "v=spf1 +all"\n')
    assert codes(result) == ["spf.multiple_records"]
    assert result.details["records_found"] == 2
    assert result.details["record"] is None


async def test_leading_space_ignored() -> None:
    result = await check('@ TXT " v=spf1 -all"\n')
    assert codes(result) == ["spf.ignored_txt", "spf.missing"]


async def test_version_case_insensitive() -> None:
    result = await check('@ TXT "V=SPF1 -ALL"\n')
    assert codes(result) == []


async def test_version_suffix_ignored() -> None:
    result = await check('@ TXT "v=spf10 -all"\n')
    assert "spf.missing" in codes(result)


async def test_strings_joined() -> None:
    result = await check(
        '@ TXT "v=spf1 ip4:198.51.99.1 " "include:x.example.com -all"\n'
        'x TXT "v=spf1 -all"\n'
    )
    assert result.details["record"] == (
        "v=spf1 ip4:198.51.99.1 include:x.example.com -all"
    )
    assert result.details["strings"] == [
        "v=spf1 ip4:198.51.99.1 ",
        "include:x.example.com -all",
    ]


async def test_strings_joined_without_space() -> None:
    result = await check('@ TXT "v=spf1 ip4:198.51.99.1" "-all"\n')
    assert result.details["record"] == "v=spf1 ip4:198.51.99.1-all"
    assert codes(result) == ["spf.syntax"]


async def test_type99_published() -> None:
    result = await check('@ TXT "v=spf1 -all"\n@ SPF "v=spf1 -all"\n')
    assert codes(result) == ["spf.type99"]


async def test_type99_lookup_failed() -> None:
    patches = {("example.com", "SPF"): failed("example.com", "SPF")}
    result = await check('@ TXT "v=spf1 -all"\n', patches=patches)
    assert codes(result) == ["dns.lookup_failed"]
    assert not result.complete


# Syntax through the check


async def test_syntax_error_named() -> None:
    result = await check('@ TXT "v=spf1 ip4:192.0.2.1~all"\n')
    finding = find(result, "spf.syntax")
    assert "'ip4:192.0.2.1~all'" in finding.message


async def test_syntax_error_skips_lint() -> None:
    result = await check('@ TXT "v=spf1 exists ?all"\n')
    assert codes(result) == ["spf.syntax"]
    assert result.details["tree"]["status"] == "error"


async def test_mistyped_include() -> None:
    result = await check('@ TXT "v=spf1 include=example.org -all"\n')
    finding = find(result, "spf.mistyped_mechanism")
    assert finding.severity == "error"
    assert "'include:example.org'" in finding.message


# Lookup counting


async def test_void_a_mx_reach_limit() -> None:
    result = await check('@ TXT "v=spf1 a mx -all"\n')
    assert result.details["dns_lookups"] == 2
    assert result.details["void_lookups"] == 2
    assert codes(result) == []


async def test_three_voids_error() -> None:
    zone = '@ TXT "v=spf1 a mx exists:nothing.example.com -all"\n'
    result = await check(zone)
    assert result.details["void_lookups"] == 3
    assert "3 of 2" in find(result, "spf.void_limit").message


async def test_void_not_for_aaaa_only() -> None:
    result = await check('@ TXT "v=spf1 a -all"\n@ AAAA 2001:db8::25\n')
    assert result.details["void_lookups"] == 0


async def test_mx_hosts_without_address_void() -> None:
    zone = '@ TXT "v=spf1 mx -all"\n@ MX 10 mail.example.com.\nmail TXT "x"\n'
    result = await check(zone)
    assert result.details["void_lookups"] == 1


async def test_null_mx_void() -> None:
    result = await check('@ TXT "v=spf1 mx -all"\n@ MX 0 .\n')
    assert result.details["void_lookups"] == 1


async def test_mx_host_failed() -> None:
    zone = '@ TXT "v=spf1 mx -all"\n@ MX 10 mail.example.com.\n'
    patches = {("mail.example.com", "A"): failed("mail.example.com", "A")}
    result = await check(zone, patches=patches)
    assert not result.complete
    assert result.details["void_lookups"] == 0
    assert codes(result) == ["dns.lookup_failed"]


async def test_mx_with_address_not_void() -> None:
    zone = '@ TXT "v=spf1 mx -all"\n@ MX 10 mail.example.com.\nmail A 198.51.99.25\n'
    result = await check(zone)
    assert result.details["void_lookups"] == 0
    assert result.details["dns_lookups"] == 1


async def test_include_cname_counted_twice() -> None:
    zone = (
        '@ TXT "v=spf1 include:a.example.com include:b.example.com -all"\n'
        'a TXT "v=spf1 a -all"\n'
        "b CNAME a.example.com.\n"
    )
    result = await check(zone)
    assert result.details["dns_lookups"] == 4
    assert "spf.lookup_limit" not in codes(result)
    assert "spf.include_loop" not in codes(result)
    children = result.details["tree"]["children"]
    assert [c["record"] for c in children] == ["v=spf1 a -all", "v=spf1 a -all"]


def _wide_zone(includes: int, per_include: int) -> str:
    names = [f"p{i}.example.com" for i in range(includes)]
    lines = ['@ TXT "v=spf1 ' + " ".join(f"include:{n}" for n in names) + ' -all"']
    terms = " ".join(f"exists:e{j}.example.com" for j in range(per_include))
    lines += [f'p{i} TXT "v=spf1 {terms} -all"' for i in range(includes)]
    lines += [f"e{j} A 198.51.99.{j + 1}" for j in range(per_include)]
    return "\n".join(lines) + "\n"


async def test_lookup_limit_reached() -> None:
    result = await check(_wide_zone(5, 1))
    assert result.details["dns_lookups"] == 10
    assert "spf.lookup_limit" not in codes(result)


async def test_lookup_limit_exceeded() -> None:
    result = await check(_wide_zone(3, 3))
    assert result.details["dns_lookups"] == 12
    assert "12 of 10" in find(result, "spf.lookup_limit").message


async def test_thirteen_lookups() -> None:
    zone = (
        '@ TXT "v=spf1 include:p.example.com include:p.example.com a -all"\n'
        'p TXT "v=spf1 a mx exists:e.example.com ptr include:q.example.com -all"\n'
        'q TXT "v=spf1 -all"\n'
        "e A 198.51.99.1\n"
        "p A 198.51.99.2\n"
        "@ A 198.51.99.3\n"
    )
    result = await check(zone)
    assert result.details["dns_lookups"] == 13
    assert "13 of 10" in find(result, "spf.lookup_limit").message


async def test_terms_after_all_not_counted() -> None:
    result = await check('@ TXT "v=spf1 -all include:x.example.com"\n')
    assert result.details["dns_lookups"] == 0


async def test_redirect_counted() -> None:
    zone = '@ TXT "v=spf1 redirect=r.example.com"\nr TXT "v=spf1 a -all"\nr A 1.1.1.1\n'
    result = await check(zone)
    assert result.details["dns_lookups"] == 2
    assert result.details["tree"]["children"][0]["term"] == "redirect=r.example.com"


async def test_macro_counted_not_followed() -> None:
    zone = (
        '@ TXT "v=spf1 exists:%{i}._spf.example.com include:%{d}.x.example.com -all"\n'
    )
    result = await check(zone)
    assert result.details["dns_lookups"] == 2
    assert result.details["void_lookups"] == 0
    assert result.details["tree"]["children"] == []


async def test_mx_limit() -> None:
    hosts = "".join(
        f"@ MX 10 m{i}.example.com.\nm{i} A 198.51.99.{i}\n" for i in range(11)
    )
    result = await check('@ TXT "v=spf1 mx -all"\n' + hosts)
    assert "11 MX hosts" in find(result, "spf.mx_limit").message
    assert result.details["dns_lookups"] == 1


async def test_ten_mx_hosts_fine() -> None:
    hosts = "".join(
        f"@ MX 10 m{i}.example.com.\nm{i} A 198.51.99.{i}\n" for i in range(10)
    )
    result = await check('@ TXT "v=spf1 mx -all"\n' + hosts)
    assert "spf.mx_limit" not in codes(result)


# The tree


async def test_tree_shape() -> None:
    zone = (
        '@ TXT "v=spf1 include:i.example.com -all"\n'
        'i TXT "v=spf1 a:nothing.example.com -all"\n'
    )
    result = await check(zone)
    tree = result.details["tree"]
    assert tree["domain"] == "example.com"
    assert tree["lookups"] == 1
    child = tree["children"][0]
    assert child == {
        "domain": "i.example.com",
        "term": "include:i.example.com",
        "record": "v=spf1 a:nothing.example.com -all",
        "status": "ok",
        "lookups": 1,
        "void_lookups": 1,
        "children": [],
    }


async def test_include_loop() -> None:
    zone = (
        '@ TXT "v=spf1 include:l.example.com -all"\n'
        'l TXT "v=spf1 include:example.com -all"\n'
    )
    result = await check(zone)
    assert "spf.include_loop" in codes(result)
    loop = result.details["tree"]["children"][0]["children"][0]
    assert loop["status"] == "loop"


async def test_self_include_loop() -> None:
    result = await check('@ TXT "v=spf1 include:example.com"\n')
    assert "spf.include_loop" in codes(result)


async def test_redirect_loop() -> None:
    result = await check('@ TXT "v=spf1 redirect=example.com"\n')
    assert "spf.redirect_loop" in codes(result)


async def test_include_nxdomain() -> None:
    result = await check('@ TXT "v=spf1 include:gone.example.com -all"\n')
    assert "NXDOMAIN" in find(result, "spf.include_missing").message
    assert result.details["void_lookups"] == 1
    assert result.details["tree"]["children"][0]["status"] == "none"


async def test_include_without_spf() -> None:
    zone = '@ TXT "v=spf1 include:t.example.com -all"\nt TXT "hello"\n'
    result = await check(zone)
    assert "spf.include_missing" in codes(result)
    assert result.details["void_lookups"] == 0


async def test_redirect_missing() -> None:
    result = await check('@ TXT "v=spf1 redirect=gone.example.com"\n')
    assert "spf.redirect_missing" in codes(result)


async def test_include_failed() -> None:
    zone = '@ TXT "v=spf1 include:slow.example.com -all"\n'
    patches = {("slow.example.com", "TXT"): failed("slow.example.com", "TXT")}
    result = await check(zone, patches=patches)
    assert not result.complete
    assert codes(result) == ["dns.lookup_failed"]
    assert result.details["tree"]["children"][0]["status"] == "failed"
    assert result.details["void_lookups"] == 0


async def test_failed_a_lookup_not_void() -> None:
    patches = {("example.com", "A"): failed("example.com", "A")}
    result = await check('@ TXT "v=spf1 a -all"\n', patches=patches)
    assert not result.complete
    assert result.details["void_lookups"] == 0
    assert result.details["tree"]["status"] == "failed"
    assert codes(result) == ["dns.lookup_failed"]


async def test_include_target_syntax_error() -> None:
    zone = '@ TXT "v=spf1 include:t.example.com -all"\nt TXT "v=spf1 ip4:1.2.3 -all"\n'
    result = await check(zone)
    assert "syntax error" in find(result, "spf.target_invalid").message
    assert result.details["tree"]["children"][0]["status"] == "error"


async def test_include_target_two_records() -> None:
    zone = (
        '@ TXT "v=spf1 include:t.example.com -all"\n'
        't TXT "v=spf1 -all"\nt TXT "v=spf1 ~all"\n'
    )
    result = await check(zone)
    assert "several SPF records" in find(result, "spf.target_invalid").message


async def test_include_passes_all() -> None:
    zone = '@ TXT "v=spf1 include:t.example.com -all"\nt TXT "v=spf1 +all"\n'
    result = await check(zone)
    assert "t.example.com" in find(result, "spf.plus_all").message


async def test_redirect_target_linted() -> None:
    zone = (
        '@ TXT "v=spf1 redirect=r.example.com"\nr TXT "v=spf1 ip4:198.51.99.1 ?all"\n'
    )
    result = await check(zone)
    assert find(result, "spf.neutral_all").location == "r.example.com TXT"


async def test_tree_truncated() -> None:
    count = MAX_RECORDS + 5
    lines = [
        f'l{i} TXT "v=spf1 include:l{i + 1}.example.com -all"' for i in range(count)
    ]
    zone = '@ TXT "v=spf1 include:l0.example.com -all"\n' + "\n".join(lines) + "\n"
    result = await check(zone)
    assert "spf.tree_truncated" in codes(result)
    assert "at least" in find(result, "spf.lookup_limit").message


async def test_exponential_tree_bounded() -> None:
    lines = [
        f'n{i} TXT "v=spf1 include:n{i + 1}.example.com '
        f'include:n{i + 1}.example.com -all"'
        for i in range(30)
    ]
    zone = '@ TXT "v=spf1 include:n0.example.com -all"\n' + "\n".join(lines) + "\n"
    result = await check(zone)
    assert "spf.tree_truncated" in codes(result)


# Sending IPs


async def test_sending_ips() -> None:
    zone = (
        '@ TXT "v=spf1 ip4:198.51.99.1 ip4:198.51.99.2/32 ip4:198.51.99.0/24 '
        "ip6:2001:DB8::1 ip6:2001:db8::2/128 ip6:2001:db8::/64 -ip4:198.51.99.9 "
        'ip4:198.51.99.1 -all"\n'
    )
    result = await check(zone)
    assert result.details["sending_ips"] == [
        "198.51.99.1",
        "198.51.99.2",
        "2001:db8::1",
        "2001:db8::2",
    ]


# Sizes


def _txt(*strings: bytes) -> TXTRecord:
    return TXTRecord(tuple(strings))


async def test_string_too_long() -> None:
    long = b"v=spf1 " + b"ip4:198.51.99.1 " * 17 + b"-all"
    answer = Answer("example.com", "TXT", Status.ANSWER, (_txt(long),))
    result = await check("", patches={("example.com", "TXT"): answer})
    assert f"{len(long)} bytes" in find(result, "spf.string_too_long").message


async def test_record_too_long() -> None:
    parts = [f'"ip4:198.51.{i}.0/24 "' for i in range(30)]
    result = await check('@ TXT "v=spf1 " ' + " ".join(parts) + ' "-all"\n')
    assert "spf.record_too_long" in codes(result)
    assert "spf.string_too_long" not in codes(result)


async def test_udp_size() -> None:
    tokens = "".join(f'@ TXT "token-{i}={"x" * 60}"\n' for i in range(8))
    result = await check('@ TXT "v=spf1 -all"\n' + tokens)
    assert codes(result) == ["spf.udp_size"]


def test_response_size_estimate() -> None:
    answer = Answer("example.com", "TXT", Status.ANSWER, (_txt(b"v=spf1 -all"),))
    # 12 header + 13 name + 4 question + 12 record + 12 rdata
    assert estimate_response_size(answer) == 53


# DNS-free rules reported by the check


async def test_plus_all() -> None:
    result = await check('@ TXT "v=spf1 all"\n')
    assert codes(result) == ["spf.plus_all"]


async def test_no_all() -> None:
    result = await check('@ TXT "v=spf1 ip4:198.51.99.1"\n')
    assert codes(result) == ["spf.no_all"]
