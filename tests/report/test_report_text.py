"""The terminal report and the bulk summary table."""

from __future__ import annotations

from deliverability.audit.model import CheckResult, DomainReport
from deliverability.findings import Finding, Severity
from deliverability.report import (
    escape_terminal,
    render_summary_text,
    render_text,
    report_status,
)

from .samples import SPF_RECORD, build_passing_report


def test_header_verdict_first(report: DomainReport) -> None:
    first, second = render_text(report).splitlines()[:2]
    assert first == "news.example.com: FAIL"
    assert "1 error, 3 warnings, 2 info" in second
    assert "27 DNS queries" in second


def test_errors_before_warnings(report: DomainReport) -> None:
    text = render_text(report)
    assert text.index("spf.lookup_limit") < text.index("dkim.weak_key")
    assert text.index("dmarc.policy_none") < text.index("spf.softfail_all")


def test_error_block_fields(report: DomainReport) -> None:
    text = render_text(report)
    assert "ERROR spf.lookup_limit" in text
    assert "needs 12 DNS lookups" in text
    assert f"evidence:  {SPF_RECORD}" in text
    assert "fix:       Remove includes you no longer send through" in text
    assert "reference: RFC 7208, section 4.6.4" in text


def test_info_one_line_unless_verbose(report: DomainReport) -> None:
    short = render_text(report)
    long = render_text(report, verbose=True)
    assert "  INFO spf.softfail_all  The record ends with ~all" in short
    assert "Use -all once every sending service is listed." not in short
    assert "Use -all once every sending service is listed." in long


def test_no_color_by_default(report: DomainReport) -> None:
    assert "\x1b" not in render_text(report)


def test_color_on_request(report: DomainReport) -> None:
    text = render_text(report, color=True)
    assert "\x1b[1;31mFAIL\x1b[0m" in text
    assert "\x1b[33mWARN\x1b[0m" in text


def test_provider_block(report: DomainReport) -> None:
    text = render_text(report)
    assert "NOT MET  Gmail and Yahoo bulk sender rules (2024)" in text
    assert "not met: gmail-bulk.spf  A valid SPF record [spf.lookup_limit]" in text
    assert "met: gmail-bulk.dkim" not in text


def test_verbose_lists_met_requirements(report: DomainReport) -> None:
    assert "met: gmail-bulk.dkim  A DKIM key" in render_text(report, verbose=True)


def test_verbose_spf_tree(report: DomainReport) -> None:
    lines = render_text(report, verbose=True).splitlines()
    google = "    |- include _spf.google.com  [3 lookups, 0 void, ok]"
    void = (
        "    |  `- include spfa.protection.outlook.com  "
        "[0 lookups, 1 void, none, no such domain (NXDOMAIN)]"
    )
    assert "    news.example.com  [4 lookups, 0 void, ok]" in lines
    assert google in lines
    assert void in lines


def test_tree_keeps_odd_terms(report: DomainReport) -> None:
    tree = report.checks["spf"].details["tree"]
    tree["children"][1]["term"] = "include:%{i}._spf.example.net"
    lines = render_text(report, verbose=True).splitlines()
    odd = (
        "    |- include:%{i}._spf.example.net -> sendgrid.net  [0 lookups, 0 void, ok]"
    )
    assert odd in lines


def test_verbose_unknown_detail_keys(report: DomainReport) -> None:
    text = render_text(report, verbose=True)
    assert "  redirect: null" in text
    assert "BIMI details" in text
    assert "  selector: default" in text
    assert "    - exchange=mx1.mail.example.net, preference=10" in text


def test_incomplete_header(incomplete_report: DomainReport) -> None:
    lines = render_text(incomplete_report).splitlines()
    assert lines[0] == "slow.example: INCOMPLETE"
    assert "  Incomplete: dkim (a DNS lookup failed)" in lines


def test_idn_shows_both_forms(idn_report: DomainReport) -> None:
    lines = render_text(idn_report).splitlines()
    assert lines[0] == "bücher.example (xn--bcher-kva.example): INCOMPLETE"
    assert lines[2].startswith("  Audit error: The nameservers of bücher.example")


def test_terminal_codes_neutralised(hostile_report: DomainReport) -> None:
    for verbose in (False, True):
        text = render_text(hostile_report, verbose=verbose)
        assert "\x1b" not in text
        assert "\x07" not in text
        assert "\\x1b]0;pwned\\x07\\x1b[2J" in text


def test_escape_terminal_cases() -> None:
    cases = {
        "a\x1b[2Jb": "a\\x1b[2Jb",
        "csi\x9b31m": "csi\\x9b31m",
        "line\nbreak\r": "line\\x0abreak\\x0d",
        "del\x7f": "del\\x7f",
        "bidi\u202egnp.exe": "bidi\\u202egnp.exe",
        "zero\u200bwidth": "zero\\u200bwidth",
        "bücher 例え": "bücher 例え",
    }
    for raw, expected in cases.items():
        assert escape_terminal(raw) == expected


def test_summary_table(all_reports: list[DomainReport]) -> None:
    lines = render_summary_text(all_reports).splitlines()
    assert lines[0].split() == [
        "DOMAIN",
        "STATUS",
        "ERRORS",
        "WARNINGS",
        "INFO",
        "QUERIES",
        "FIRST",
        "ERROR",
    ]
    assert lines[1].split()[:7] == [
        "news.example.com",
        "FAIL",
        "1",
        "3",
        "2",
        "27",
        "spf.lookup_limit",
    ]
    assert lines[-1] == "5 domains: 1 pass, 2 fail, 2 incomplete"


def test_summary_columns_align(all_reports: list[DomainReport]) -> None:
    lines = render_summary_text(all_reports).splitlines()
    status_column = lines[0].index("STATUS")
    for line in lines[1:6]:
        assert line[status_column - 2 : status_column] == "  "
        assert line[status_column] != " "


def test_summary_wide_characters() -> None:
    wide = build_passing_report("xn--r8jz45g.example")
    wide.display_name = "例え.example"
    narrow = build_passing_report("abcdefghijkl.example")
    lines = render_summary_text([wide, narrow]).splitlines()
    # Each CJK character takes two columns, so both names end at one column.
    assert lines[1].index("PASS") + 2 == lines[2].index("PASS")


def test_summary_escapes_names() -> None:
    odd = build_passing_report("odd.example")
    odd.display_name = "odd\x1b[2J.example"
    assert "\x1b" not in render_summary_text([odd])


def test_status_values() -> None:
    passing = build_passing_report()
    failing = build_passing_report()
    failing.checks["spf"].findings.append(
        Finding("spf.syntax", "spf", Severity.ERROR, "The record is invalid.")
    )
    stalled = build_passing_report()
    stalled.checks["dkim"] = CheckResult("dkim", complete=False)
    assert report_status(passing) == "pass"
    assert report_status(failing) == "fail"
    assert report_status(stalled) == "incomplete"


def test_lookup_failure_alone_is_incomplete(incomplete_report: DomainReport) -> None:
    assert report_status(incomplete_report) == "incomplete"


def test_real_error_beats_lookup_failure(incomplete_report: DomainReport) -> None:
    incomplete_report.checks["spf"].findings.append(
        Finding("spf.syntax", "spf", Severity.ERROR, "The record is invalid.")
    )
    assert report_status(incomplete_report) == "fail"
