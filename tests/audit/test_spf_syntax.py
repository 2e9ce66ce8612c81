"""The SPF parser: grammar of RFC 7208, section 12, macros and round-trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deliverability.audit.spf_syntax import (
    InvalidTerm,
    Mechanism,
    Modifier,
    NotSPFRecordError,
    SPFRecord,
    is_spf_record,
    macro_errors,
    syntax_findings,
)


def parse(text: str) -> SPFRecord:
    return SPFRecord.from_text(text)


def reasons(text: str) -> list[str]:
    record = parse(text)
    return [t.reason for t in record.invalid_terms] + list(record.errors)


# Discovery of the version


@pytest.mark.parametrize(
    "text", ["v=spf1", "v=spf1 -all", "V=SPF1 -ALL", "v=spf1  a   -all  "]
)
def test_version_accepted(text: str) -> None:
    assert is_spf_record(text)


@pytest.mark.parametrize(
    "text", [" v=spf1 -all", "\tv=spf1", "v=spf10 -all", "v=spf1foo", "v=spf1\n", ""]
)
def test_version_rejected(text: str) -> None:
    assert not is_spf_record(text)


def test_from_text_rejects_non_spf() -> None:
    with pytest.raises(NotSPFRecordError, match="v=spf1"):
        parse("spf2.0/pra -all")


# Terms


def test_terms_parsed_in_order() -> None:
    record = parse("v=spf1 ip4:192.0.2.0/24 -include:_spf.example.com ~all exp=x.org")
    assert record.terms == (
        Mechanism("", "ip4", "192.0.2.0", 24),
        Mechanism("-", "include", "_spf.example.com"),
        Mechanism("~", "all"),
        Modifier("exp", "x.org"),
    )


def test_names_ignore_case() -> None:
    record = parse("v=spf1 IP4:147.75.8.208 -ALL")
    assert [m.name for m in record.mechanisms] == ["ip4", "all"]


def test_dual_cidr_a_mx() -> None:
    record = parse("v=spf1 a/24//64 mx:mail.example.com/28 a:example.org//48")
    assert record.mechanisms == [
        Mechanism("", "a", None, 24, 64),
        Mechanism("", "mx", "mail.example.com", 28),
        Mechanism("", "a", "example.org", None, 48),
    ]


def test_missing_space_before_all_is_one_term() -> None:
    record = parse("v=spf1 ip4:192.0.2.1~all")
    assert len(record.terms) == 1
    assert not record.valid
    assert "space" in record.invalid_terms[0].reason


def test_exists_needs_domain() -> None:
    assert reasons("v=spf1 exists -all") == [
        "'exists' needs a domain, as in 'exists:example.com'"
    ]


def test_include_needs_domain() -> None:
    assert not parse("v=spf1 include -all").valid


def test_empty_include_domain() -> None:
    record = parse("v=spf1 mx include: trustpilotservice.com ~all")
    assert [t.text for t in record.invalid_terms] == [
        "include:",
        "trustpilotservice.com",
    ]


def test_two_redirects_invalid() -> None:
    record = parse("v=spf1 redirect=a.example redirect=b.example")
    assert record.errors == ("'redirect=' appears 2 times; it may appear only once",)


def test_two_exp_invalid() -> None:
    assert not parse("v=spf1 -all exp=a.example.com exp=b.example.com").valid


def test_include_equals_is_modifier() -> None:
    record = parse("v=spf1 include=example.org -all")
    assert record.valid
    assert record.terms[0] == Modifier("include", "example.org")


def test_unknown_mechanism() -> None:
    assert reasons("v=spf1 foo -all") == ["'foo' is not a known mechanism"]


def test_unknown_modifier_valid() -> None:
    assert parse("v=spf1 -all MS=83859DAEBD1978F9A7A67D3").valid


def test_qualifier_on_modifier() -> None:
    assert reasons("v=spf1 -redirect=example.com") == [
        "a modifier may not have a qualifier"
    ]


@pytest.mark.parametrize("term", ["all:example.com", "all/24", "-all//64"])
def test_all_with_value(term: str) -> None:
    assert reasons(f"v=spf1 {term}") == ["'all' takes no value"]


@pytest.mark.parametrize("term", ["ptr/24", "ptr:example.com/24"])
def test_ptr_without_cidr(term: str) -> None:
    assert not parse(f"v=spf1 {term} -all").valid


def test_empty_redirect() -> None:
    assert not parse("v=spf1 redirect=").valid


def test_lone_qualifier() -> None:
    assert not parse("v=spf1 - all").valid


def test_tab_is_not_separator() -> None:
    assert not parse("v=spf1 a\t-all").valid


def test_non_ascii_term() -> None:
    assert not parse("v=spf1 \ud800 -all").valid


def test_domain_must_end_in_toplabel() -> None:
    assert not parse("v=spf1 include:localhost -all").valid


def test_domain_numeric_toplabel() -> None:
    assert "use 'ip4:'" in reasons("v=spf1 a:192.0.2.1 -all")[0]


def test_domain_trailing_dot() -> None:
    assert parse("v=spf1 include:_spf.example.com. -all").valid


# Addresses and prefix lengths


@pytest.mark.parametrize(
    "term",
    [
        "ip4:192.0.2.1",
        "ip4:192.0.2.0/0",
        "ip4:192.0.2.0/32",
        "ip6:2001:db8::1",
        "ip6:2001:db8::/0",
        "ip6:2001:db8::/128",
        "ip6:::ffff:192.0.2.1",
        "a/0",
        "a/32//128",
        "mx//0",
    ],
)
def test_cidr_valid(term: str) -> None:
    assert parse(f"v=spf1 {term} -all").valid


@pytest.mark.parametrize(
    ("term", "fault"),
    [
        ("ip4:192.0.2.0/33", "longer than 32"),
        ("ip4:192.0.2.0/024", "leading zero"),
        ("ip4:192.0.2.0/00", "leading zero"),
        ("ip4:192.0.2.0/", "not a number"),
        ("ip4:192.0.2.0/x", "not a number"),
        ("ip6:2001:db8::/129", "longer than 128"),
        ("ip6:2001:db8::/064", "leading zero"),
        ("a/33", "longer than 32"),
        ("mx//129", "longer than 128"),
        ("a/08", "leading zero"),
    ],
)
def test_cidr_invalid(term: str, fault: str) -> None:
    assert fault in reasons(f"v=spf1 {term} -all")[0]


@pytest.mark.parametrize(
    ("term", "fault"),
    [
        ("ip4:1200:0000:AB00:1234:0000:2552:7777:1313", "use 'ip6:'"),
        ("ip6:78.46.96.236", "use 'ip4:'"),
        ("ip4:relay.mailchannels.net", "not a valid IPv4"),
        ("ip4:192.0.2.256", "not a valid IPv4"),
        ("ip4:192.0.02.1", "not a valid IPv4"),
        ("ip6:1200:0000:AB00:1234:O000:2552:7777:1313", "not a valid IPv6"),
        ("ip4:", "needs an address"),
        ("ip6", "needs an address"),
        ("ip4:%{i}", "not a valid IPv4"),
        ("ip6:fe80::1%eth0", "zone index"),
    ],
)
def test_address_invalid(term: str, fault: str) -> None:
    assert fault in reasons(f"v=spf1 {term} -all")[0]


# Macros


@pytest.mark.parametrize(
    "text",
    [
        "%{s}",
        "%{l}.example.com",
        "%{o}%{d}%{i}%{p}%{h}%{v}",
        "%{ir}.%{v}._spf.example.com",
        "%{d2}.example.com",
        "%{l1r-}.example.com",
        "%{i.-+,/_=}",
        "%{S}",
        "%%%_%-",
    ],
)
def test_macro_valid(text: str) -> None:
    assert macro_errors(text) == []


@pytest.mark.parametrize(
    "text",
    ["%{?}", "%{z}", "%{d0}", "%{d", "%x", "100%", "%{ d}", "%{dr;}", "%{i}%"],
)
def test_macro_invalid(text: str) -> None:
    assert macro_errors(text) != []


@pytest.mark.parametrize("letter", ["c", "r", "t", "C"])
def test_exp_only_letters(letter: str) -> None:
    assert macro_errors(f"%{{{letter}}}") != []
    assert macro_errors(f"%{{{letter}}}", exp=True) == []


@pytest.mark.parametrize(
    "term", ["exp=%{c}.explain.example.com", "exp=%{t}.example.com", "x=%{r}"]
)
def test_record_rejects_c_r_t(term: str) -> None:
    assert not parse(f"v=spf1 -all {term}").valid


def test_include_rejects_c() -> None:
    assert not parse("v=spf1 include:%{c}.example.com -all").valid


@pytest.mark.parametrize(
    "term",
    [
        "a:%{?}",
        "mx:%{?}",
        "ptr:%{?}",
        "include:%{?}._spf.example.com",
        "exists:%{?}._spf.example.com",
        "redirect=%{?}._spf.example.com",
        "exp=%{?}",
    ],
)
def test_broken_macro_in_term(term: str) -> None:
    assert not parse(f"v=spf1 {term} -all").valid


def test_macro_domain_kept() -> None:
    record = parse("v=spf1 include:%{ir}.%{v}.%{d}.spf.has.pphosted.com -all")
    include = record.mechanisms[0]
    assert include.value == "%{ir}.%{v}.%{d}.spf.has.pphosted.com"
    assert include.has_macro


def test_domain_ending_in_macro() -> None:
    assert parse("v=spf1 mx:%{d} -all").valid


# Findings


def test_syntax_finding_names_term() -> None:
    findings = syntax_findings(parse("v=spf1 ip4:192.0.2.1~all"))
    assert [f.code for f in findings] == ["spf.syntax"]
    assert "'ip4:192.0.2.1~all'" in findings[0].message


def test_syntax_finding_record_fault() -> None:
    findings = syntax_findings(parse("v=spf1 redirect=a.example redirect=b.example"))
    assert "appears 2 times" in findings[0].message


def test_valid_record_no_findings() -> None:
    assert syntax_findings(parse("v=spf1 mx -all")) == []


def test_invalid_term_kept() -> None:
    record = parse("v=spf1 a foo:bar -all")
    assert record.terms[1] == InvalidTerm("foo:bar", "'foo' is not a known mechanism")


# Round trips


@pytest.mark.parametrize(
    "text",
    [
        "v=spf1 -all",
        "v=spf1 +a ?mx:example.com/24//64 ~ptr -exists:%{i}.x.example.com all",
        "v=spf1 include:_spf.example.com ip6:2001:db8::/32 redirect=example.net",
        "v=spf1 a foo:bar -all",
        "v=spf1 ip4:192.0.2.1~all",
    ],
)
def test_round_trip_text(text: str) -> None:
    assert parse(text).to_text() == text


def test_round_trip_normalizes_spaces() -> None:
    assert parse("V=SPF1   a  -all ").to_text() == "v=spf1 a -all"


_LABEL = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)
_DOMAIN = st.builds(
    lambda labels, top: ".".join([*labels, top]),
    st.lists(_LABEL, min_size=1, max_size=3),
    st.sampled_from(["com", "org", "example", "net"]),
)
_MACRO = st.sampled_from(["%{i}", "%{ir}", "%{d2}", "%{l1r-}", "%{S}", "%%"])
_SPEC = st.one_of(_DOMAIN, st.builds(lambda m, d: f"{m}.{d}", _MACRO, _DOMAIN))
_QUALIFIER = st.sampled_from(["", "+", "-", "~", "?"])
_V4 = st.ip_addresses(v=4).map(str)
_V6 = st.ip_addresses(v=6).map(str)


def _mechanisms() -> st.SearchStrategy[Mechanism]:
    opt4 = st.none() | st.integers(0, 32)
    opt6 = st.none() | st.integers(0, 128)
    return st.one_of(
        st.builds(Mechanism, _QUALIFIER, st.just("include"), _SPEC),
        st.builds(Mechanism, _QUALIFIER, st.just("exists"), _SPEC),
        st.builds(
            Mechanism,
            _QUALIFIER,
            st.sampled_from(["a", "mx"]),
            st.none() | _SPEC,
            opt4,
            opt6,
        ),
        st.builds(Mechanism, _QUALIFIER, st.just("ptr"), st.none() | _SPEC),
        st.builds(Mechanism, _QUALIFIER, st.just("ip4"), _V4, opt4),
        st.builds(Mechanism, _QUALIFIER, st.just("ip6"), _V6, opt6),
        st.builds(Mechanism, _QUALIFIER, st.just("all")),
    )


_UNKNOWN = st.builds(
    Modifier,
    st.from_regex(r"[a-z][a-z0-9_.-]{0,6}", fullmatch=True).filter(
        lambda n: n not in ("redirect", "exp")
    ),
    st.from_regex(r"[a-zA-Z0-9.]{0,10}", fullmatch=True),
)


@st.composite
def _records(draw: st.DrawFn) -> SPFRecord:
    terms: list[Mechanism | Modifier] = draw(
        st.lists(st.one_of(_mechanisms(), _UNKNOWN), max_size=8)
    )
    for name in ("redirect", "exp"):
        if draw(st.booleans()):
            terms.insert(draw(st.integers(0, len(terms))), Modifier(name, draw(_SPEC)))
    return SPFRecord(tuple(terms))


@given(_records())
def test_round_trip_property(record: SPFRecord) -> None:
    parsed = SPFRecord.from_text(record.to_text())
    assert parsed == record
    assert parsed.valid
