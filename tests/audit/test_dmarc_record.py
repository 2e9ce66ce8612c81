"""Tests of the DMARC record parser, with no DNS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deliverability.audit.dmarc import judge_record
from deliverability.audit.dmarc_record import (
    DMARCRecord,
    ReportURI,
    is_dmarc_record,
    looks_like_dmarc_record,
)
from deliverability.findings import Severity


def codes(record: DMARCRecord) -> list[str]:
    return [f.code for f in record.findings]


def has_error(text: str) -> bool:
    findings = judge_record(DMARCRecord.from_text(text))
    return any(f.severity is Severity.ERROR for f in findings)


@pytest.mark.parametrize(
    "text",
    [
        "v=DMARC1;p=ReJect",
        "v = DMARC1;p=reject;",
        "v = DMARC1\t;\tp=reject\t;",
        "v = DMARC1\t;\tp\t\t\t=\t\t\treject\t;",
        "V=DMARC1;p=reject;",
        "v=DMARC1; P=Reject",
    ],
)
def test_mixed_formatting_accepted(text: str) -> None:
    record = DMARCRecord.from_text(text)
    assert codes(record) == []
    assert record.get("p") == "reject"
    assert record.effective()["p"] == "reject"


def test_version_detection() -> None:
    assert is_dmarc_record("v=DMARC1; p=none")
    assert is_dmarc_record("v=DMARC1")
    assert not is_dmarc_record(" v=DMARC1; p=none")
    assert not is_dmarc_record("v=dmarc1; p=none")
    assert not is_dmarc_record("v=DMARC10; p=none")
    assert not is_dmarc_record("v=spf1 -all")
    assert looks_like_dmarc_record(" v=DMARC1; p=none")
    assert looks_like_dmarc_record("v=dmarc1")
    assert not looks_like_dmarc_record("v=spf1 -all")


def test_leading_whitespace_rejected() -> None:
    record = DMARCRecord.from_text(" v=DMARC1; p=reject")
    assert codes(record) == ["dmarc.invalid_version"]
    assert "whitespace" in record.findings[0].message
    assert not record.valid
    assert record.effective()["p"] is None


def test_lower_case_version_rejected() -> None:
    record = DMARCRecord.from_text("v=dmarc1; p=reject")
    assert codes(record) == ["dmarc.invalid_version"]
    assert "case-sensitive" in record.findings[0].message


def test_invalid_sp_reported() -> None:
    record = DMARCRecord.from_text("v=DMARC1; p=reject; sp=bogus")
    assert codes(record) == ["dmarc.invalid_tag_value"]
    assert record.findings[0].severity is Severity.ERROR
    assert "'bogus'" in record.findings[0].message
    assert record.invalid == frozenset({"sp"})
    assert record.published()["sp"] == "bogus"
    # RFC 9989: an invalid sp voids the policy; with no rua nothing applies.
    assert record.effective()["p"] is None


def test_invalid_sp_with_rua_means_none() -> None:
    record = DMARCRecord.from_text(
        "v=DMARC1; p=reject; sp=bogus; rua=mailto:d@example.com"
    )
    effective = record.effective()
    assert effective["p"] == "none"
    assert effective["sp"] == "none"


def test_invalid_p_is_error() -> None:
    record = DMARCRecord.from_text("v=DMARC1; p=foo; rua=mailto:dmarc@example.com")
    assert codes(record) == ["dmarc.invalid_tag_value"]
    assert "none, quarantine or reject" in record.findings[0].message
    assert not record.policy_applies()


@pytest.mark.parametrize(
    ("tag", "value"),
    [("np", "invalid"), ("psd", "x"), ("t", "x"), ("adkim", "q"), ("aspf", "1")],
)
def test_invalid_keyword_values(tag: str, value: str) -> None:
    record = DMARCRecord.from_text(f"v=DMARC1; p=reject; {tag}={value}")
    assert codes(record) == ["dmarc.invalid_tag_value"]
    assert tag in record.invalid


def test_invalid_adkim_falls_back_to_default() -> None:
    record = DMARCRecord.from_text("v=DMARC1; p=reject; adkim=q")
    assert record.effective()["adkim"] == "r"
    assert record.effective()["p"] == "reject"


def test_duplicate_tag_invalidates_record() -> None:
    record = DMARCRecord.from_text("v=DMARC1; p=reject; p=none")
    assert codes(record) == ["dmarc.duplicate_tag"]
    assert not record.valid
    assert record.effective()["p"] is None


def test_tag_without_value_is_syntax_error() -> None:
    record = DMARCRecord.from_text("v=DMARC1; p")
    assert codes(record) == ["dmarc.syntax", "dmarc.missing_p"]


def test_bad_tag_name_is_syntax_error() -> None:
    record = DMARCRecord.from_text("v=DMARC1; p=none; r-ua=mailto:a@example.com")
    assert codes(record) == ["dmarc.syntax"]


def test_non_ascii_value_is_syntax_error() -> None:
    record = DMARCRecord.from_text("v=DMARC1; p=nöne")
    assert codes(record) == ["dmarc.syntax"]
    assert "p" in record.invalid


def test_second_version_tag_is_syntax_error() -> None:
    record = DMARCRecord.from_text("v=DMARC1; p=none; v=DMARC1")
    assert codes(record) == ["dmarc.syntax"]


def test_unknown_tag_ignored() -> None:
    record = DMARCRecord.from_text("v=DMARC1; p=reject; xyz=foo")
    assert codes(record) == ["dmarc.unknown_tag"]
    assert record.findings[0].severity is Severity.INFO
    assert record.effective()["p"] == "reject"


def test_missing_p_with_rua() -> None:
    record = DMARCRecord.from_text("v=DMARC1; rua=mailto:dmarc@example.com")
    assert codes(record) == ["dmarc.missing_p"]
    assert "act as if p=none" in record.findings[0].message
    assert record.effective()["p"] == "none"


def test_missing_p_without_rua() -> None:
    record = DMARCRecord.from_text("v=DMARC1; adkim=s")
    assert codes(record) == ["dmarc.missing_p"]
    assert record.effective()["p"] is None


@pytest.mark.parametrize("tag", ["pct=100", "rf=afrf", "ri=3600"])
def test_removed_tags_reported(tag: str) -> None:
    record = DMARCRecord.from_text(f"v=DMARC1; p=reject; {tag}")
    assert codes(record) == ["dmarc.removed_tag"]
    assert record.findings[0].severity is Severity.INFO


@pytest.mark.parametrize("tag", ["pct=", "pct=150", "rf=invalid", "ri=abc"])
def test_invalid_removed_tags(tag: str) -> None:
    record = DMARCRecord.from_text(f"v=DMARC1; p=reject; {tag}")
    assert codes(record) == ["dmarc.removed_tag", "dmarc.invalid_removed_tag"]


def test_pct_read_as_int() -> None:
    assert DMARCRecord.from_text("v=DMARC1; p=none; pct=50").pct == 50
    assert DMARCRecord.from_text("v=DMARC1; p=none; pct=x").pct is None
    assert DMARCRecord.from_text("v=DMARC1; p=none").effective()["pct"] == 100


@pytest.mark.parametrize("value", ["x", "0:0", "2", "d:e"])
def test_invalid_fo(value: str) -> None:
    record = DMARCRecord.from_text(
        f"v=DMARC1; p=reject; fo={value}; ruf=mailto:f@example.com"
    )
    assert codes(record) == ["dmarc.invalid_tag_value"]
    assert record.effective()["fo"] == "0"


def test_fo_zero_and_one_conflict() -> None:
    record = DMARCRecord.from_text(
        "v=DMARC1; p=reject; fo=0:1; ruf=mailto:f@example.com"
    )
    assert codes(record) == ["dmarc.fo_conflict"]
    assert record.findings[0].severity is Severity.WARNING


def test_fo_without_ruf() -> None:
    record = DMARCRecord.from_text("v=DMARC1; p=reject; fo=1")
    assert codes(record) == ["dmarc.fo_without_ruf"]


def test_fo_normalized() -> None:
    record = DMARCRecord.from_text(
        "v=DMARC1; p=reject; fo=D : S; ruf=mailto:f@example.com"
    )
    assert codes(record) == []
    assert record.get("fo") == "d:s"


def test_uri_without_scheme() -> None:
    record = DMARCRecord.from_text(
        "v=DMARC1; p=none; rua=reports@dmarc.example.gov,mailto:d@example.org"
    )
    assert codes(record) == ["dmarc.invalid_uri"]
    assert "no URI scheme" in record.findings[0].message
    assert record.effective()["rua"] == ["mailto:d@example.org"]


def test_uri_with_bad_scheme() -> None:
    record = DMARCRecord.from_text("v=DMARC1; p=none; rua=__mailto:r@example.gov")
    assert codes(record) == ["dmarc.invalid_uri"]


@pytest.mark.parametrize(
    "uri",
    [
        "mailto:",
        "mailto:@example.com",
        "mailto:dmarc@",
        "mailto:dmarc@localhost",
        "mailto:dmarc@exa mple.com",
        "mailto:dm\u00e4rc@example.com",
        "mailto:a@b@example..com",
    ],
)
def test_invalid_mailto(uri: str) -> None:
    parsed = ReportURI.from_text(uri)
    assert not parsed.valid


def test_mailto_parts() -> None:
    uri = ReportURI.from_text("MAILTO:Reports@Example.COM!10m")
    assert uri.valid
    assert uri.scheme == "mailto"
    assert uri.domain == "example.com"
    assert uri.size == "10m"


def test_non_mailto_uri_warns() -> None:
    record = DMARCRecord.from_text("v=DMARC1; p=none; rua=https://example.com/r")
    assert codes(record) == ["dmarc.non_mailto_uri"]
    assert record.rua[0].valid


def test_size_suffix_reported() -> None:
    record = DMARCRecord.from_text("v=DMARC1; p=none; rua=mailto:d@example.com!10m")
    assert codes(record) == ["dmarc.report_size"]


def test_bang_inside_uri_invalid() -> None:
    record = DMARCRecord.from_text("v=DMARC1; p=none; rua=mailto:d!x@example.com")
    assert codes(record) == ["dmarc.invalid_uri"]


def test_more_than_two_uris() -> None:
    record = DMARCRecord.from_text(
        "v=DMARC1; p=none; rua=mailto:a@example.com, mailto:b@example.com,"
        "mailto:c@example.com"
    )
    assert codes(record) == ["dmarc.too_many_uris"]
    assert len(record.published()["rua"]) == 3


def test_empty_rua() -> None:
    record = DMARCRecord.from_text("v=DMARC1; p=none; rua=")
    assert codes(record) == ["dmarc.invalid_tag_value"]


def test_new_tags_read() -> None:
    record = DMARCRecord.from_text(
        "v=DMARC1; p=reject; sp=quarantine; np=Reject; psd=n; t=y"
    )
    published = record.published()
    assert published["np"] == "reject"
    assert published["psd"] == "n"
    assert published["t"] == "y"
    assert codes(record) == []


def test_effective_inheritance() -> None:
    effective = DMARCRecord.from_text("v=DMARC1; p=reject; sp=quarantine").effective()
    assert effective["sp"] == "quarantine"
    assert effective["np"] == "quarantine"
    assert effective["psd"] == "u"
    assert effective["t"] == "n"
    assert effective["adkim"] == "r"


def test_published_absent_values_are_none() -> None:
    published = DMARCRecord.from_text("v=DMARC1; p=none").published()
    assert published["sp"] is None
    assert published["pct"] is None
    assert published["rua"] == []


def test_to_text() -> None:
    record = DMARCRecord.from_text("v = DMARC1;p=Reject ; rua=mailto:d@example.com;")
    assert record.to_text() == "v=DMARC1; p=reject; rua=mailto:d@example.com"


def test_judge_no_policy() -> None:
    findings = judge_record(DMARCRecord.from_text("v=DMARC1; p=bogus"))
    assert [f.code for f in findings] == ["dmarc.invalid_tag_value", "dmarc.no_policy"]


_KEYWORDS = {
    "p": ["none", "quarantine", "reject"],
    "sp": ["none", "quarantine", "reject"],
    "np": ["none", "quarantine", "reject"],
    "adkim": ["r", "s"],
    "aspf": ["r", "s"],
    "t": ["y", "n"],
    "psd": ["y", "n", "u"],
}


@st.composite
def valid_records(draw: st.DrawFn) -> str:
    names = draw(st.lists(st.sampled_from(sorted(_KEYWORDS)), unique=True))
    parts = ["v=DMARC1"]
    for name in names:
        value = draw(st.sampled_from(_KEYWORDS[name]))
        parts.append(f"{name}={value.upper() if draw(st.booleans()) else value}")
    if draw(st.booleans()):
        user = draw(st.from_regex(r"[a-z][a-z0-9.]{0,10}", fullmatch=True))
        parts.append(f"rua=mailto:{user}@example.com")
    spaces = draw(st.sampled_from([";", "; ", " ; ", "\t;"]))
    return spaces.join(parts)


@settings(max_examples=200, database=None, deadline=None)
@given(valid_records())
def test_round_trip(text: str) -> None:
    record = DMARCRecord.from_text(text)
    again = DMARCRecord.from_text(record.to_text())
    assert again.tags == record.tags
    assert again.published() == record.published()
    assert [f.code for f in again.findings] == [f.code for f in record.findings]


@settings(max_examples=500, database=None, deadline=None)
@given(st.text())
def test_fuzz_arbitrary_text(text: str) -> None:
    record = DMARCRecord.from_text(text)
    judge_record(record)
    record.effective()
    assert record.version_ok == is_dmarc_record(text)


@settings(max_examples=500, database=None, deadline=None)
@given(st.text(alphabet=st.sampled_from("vpsnrua=;:,!@. \tDMARC1xyz\u00e9mailto")))
def test_fuzz_tag_soup(tail: str) -> None:
    record = DMARCRecord.from_text("v=DMARC1;" + tail)
    findings = judge_record(record)
    record.to_text()
    assert all(f.check == "dmarc" for f in findings)


# checkdmarc's test cases whose outcome we deliberately do not share, with
# the reason; docs/dmarc.md lists the same cases.
CHECKDMARC_DISAGREEMENTS = {
    "testDMARCCheckDmarcParseError": (
        "checkdmarc's check_dmarc returns the parse error inside its result "
        "instead of raising; the record itself (p=invalid) is invalid in both"
    ),
}


def _record_cases(corpus: Path) -> list[dict[str, object]]:
    path = corpus / "checkdmarc-cases" / "record-cases.json"
    cases = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in cases if c["suite"] == "dmarc" and not c["uses_mocked_dns"]]


def test_checkdmarc_record_cases(corpus_dir: Path) -> None:
    cases = _record_cases(corpus_dir)
    assert len(cases) > 30
    disagreements = set()
    for case in cases:
        expected_error = str(case["checkdmarc_expected"]).startswith("raises")
        inputs = case["inputs"]
        assert isinstance(inputs, list)
        verdicts = {has_error(text) for text in inputs}
        if verdicts != {expected_error}:
            disagreements.add(str(case["source_test"]).split("::")[1])
    assert disagreements == set(CHECKDMARC_DISAGREEMENTS)


def test_disagreements_documented() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "dmarc.md"
    text = docs.read_text(encoding="utf-8")
    for name in CHECKDMARC_DISAGREEMENTS:
        assert name in text
