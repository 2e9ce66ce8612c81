"""The SPF parser against other verdicts: checkdmarc's test cases and pyspf.

checkdmarc's cases are read from the shared corpus (record-cases.json: the
record texts of its tests and the outcome each test expects). A record is
expected to be invalid when checkdmarc raises its syntax error for it, and
valid for every other outcome, since loops, lookup limits and missing
records are not syntax. Where we disagree on purpose, the case is listed in
DISAGREEMENTS with the reason, and docs/spf.md explains it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import spf  # pyspf

from deliverability.audit.spf_syntax import SPFRecord, is_spf_record

pytestmark = pytest.mark.corpus

SYNTAX_ERROR = "raises SPFSyntaxError"
NOT_FOUND = "raises SPFRecordNotFound"

#: (test name, record text) -> why our verdict differs from checkdmarc's.
DISAGREEMENTS: dict[tuple[str, str], str] = {
    ("testTextAfterExpValueWarns", "v=spf1 -all exp=exp.example extra"): (
        "'extra' is neither a mechanism nor a name=value modifier, so the "
        "record does not match the RFC 7208 grammar and receivers return "
        "permerror; checkdmarc only warns"
    ),
    ("testSizeCheckSkippedOnUndecodableRecord", "v=spf1 \ud800 -all"): (
        "a term may hold only visible ASCII (RFC 7208, section 12), so the "
        "record is invalid; the checkdmarc test is about skipping its size "
        "check for such text, not about the verdict"
    ),
}

_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _record_text(literal: str) -> str | None:
    """Return the text of a case input, joining zone-style quoted strings.

    Returns ``None`` for an input whose quotes do not pair up. The corpus
    contains such inputs where its extraction cut a string short.
    """
    if not literal.startswith('"'):
        return literal
    if _QUOTED.sub("", literal).strip():
        return None
    return "".join(_QUOTED.findall(literal))


def _spf_cases(corpus_dir: Path) -> list[dict[str, Any]]:
    path = corpus_dir / "checkdmarc-cases" / "record-cases.json"
    cases: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return [case for case in cases if case["suite"] == "spf"]


def _judged(cases: list[dict[str, Any]]) -> Iterator[tuple[str, str, bool]]:
    """Yield (test name, record text, expected valid) for each SPF record input."""
    for case in cases:
        name = case["source_test"].split("::")[-1]
        expected_valid = case["checkdmarc_expected"] != SYNTAX_ERROR
        for literal in case["inputs"]:
            text = _record_text(literal)
            if text is not None and is_spf_record(text):
                yield name, text, expected_valid


def test_verdicts_agree(corpus_dir: Path) -> None:
    disagreements = {
        (name, text): expected
        for name, text, expected in _judged(_spf_cases(corpus_dir))
        if SPFRecord.from_text(text).valid != expected
    }
    assert set(disagreements) == set(DISAGREEMENTS)


def test_corpus_has_syntax_cases(corpus_dir: Path) -> None:
    judged = list(_judged(_spf_cases(corpus_dir)))
    invalid = [case for case in judged if not case[2]]
    assert len(invalid) >= 15
    assert len(judged) - len(invalid) >= 40


def test_not_found_inputs_not_records(corpus_dir: Path) -> None:
    inputs = [
        text
        for case in _spf_cases(corpus_dir)
        if case["checkdmarc_expected"] == NOT_FOUND
        for text in map(_record_text, case["inputs"])
        if text is not None
    ]
    assert inputs
    assert [text for text in inputs if is_spf_record(text)] == []


# pyspf as a second opinion: a record with a syntax error makes it return
# permerror before any lookup. Its DNS function is replaced by one that finds
# nothing, so no test sends a query. The records avoid include and redirect,
# because an empty answer for those gives permerror for another reason.

PYSPF_CASES = [
    "v=spf1 -all",
    "v=spf1 ip4:192.0.2.1~all",
    "v=spf1 exists -all",
    "v=spf1 redirect=a.example.com redirect=b.example.com",
    "v=spf1 -all exp=a.example.com exp=b.example.com",
    "v=spf1 include=example.org -all",
    "v=spf1 foo -all",
    "v=spf1 -redirect=example.com",
    "v=spf1 all:example.com",
    "v=spf1 all/24",
    "v=spf1 ptr/24 -all",
    "v=spf1 ip4:192.0.2.0/33 -all",
    "v=spf1 ip4:192.0.2.0/024 -all",
    "v=spf1 ip6:2001:db8::/129 -all",
    "v=spf1 a/33 -all",
    "v=spf1 ip4:1200::1 -all",
    "v=spf1 ip6:78.46.96.236 -all",
    "v=spf1 ip4:192.0.02.1 -all",
    "v=spf1 a:%{z}.example.com -all",
    "v=spf1 include:%{c}.example.com -all",
    "v=spf1 -all exp=%{c}.example.com",
    "v=spf1 -all x=%{r}",
    "v=spf1 -all x=%",
    "v=spf1 a:%{l}.example.com -all",
    "v=spf1 exists:%{i}.x.example.com -all",
    "v=spf1 mx:%{d} -all",
    "v=spf1 a/24//64 -all",
    "v=spf1 a//0 -all",
    "v=spf1 -all MS=abc",
    "v=spf1 -all x=",
    "v=spf1 a:localhost -all",
    "v=spf1 a:192.0.2.1 -all",
    "v=spf1 a\t-all",
    "v=spf1 ip4:192.0.2.1 ?all",
]

#: Records pyspf 2.0.14 judges differently, with the reason we keep our verdict.
PYSPF_DISAGREEMENTS = {
    "v=spf1 a:%{d0}.example.com -all": (
        "RFC 7208, section 7.3 requires a nonzero digit transformer; pyspf accepts zero"
    ),
}


@pytest.mark.parametrize("text", PYSPF_CASES + sorted(PYSPF_DISAGREEMENTS))
def test_pyspf_agrees(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spf, "DNSLookup", lambda *args, **kwargs: [])
    query = spf.query("192.0.2.200", "someone@example.net", "mail.example.net")
    pyspf_valid = query.check(spf=text)[0] != "permerror"
    ours = SPFRecord.from_text(text).valid
    assert (ours == pyspf_valid) != (text in PYSPF_DISAGREEMENTS)
