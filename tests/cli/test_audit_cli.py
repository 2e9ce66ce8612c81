"""The ``deliverability audit`` command: formats, exit statuses, JSON contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import CLEAN_ADDRESS, DKIMKey, RunAudit, ZoneFolder, add_clean_domain

CHECKS = {
    "spf",
    "dkim",
    "dmarc",
    "mx",
    "ptr",
    "mta-sts",
    "tls-rpt",
    "bimi",
    "dnssec",
    "dns",
}
SEVERITIES = {"error", "warning", "info"}

BROKEN_SPF = '@ TXT "v=spf1 ip4:192.0.2.1~all"\n'
"""An SPF record with a syntax error: an error finding."""


@pytest.fixture
def clean(zones: ZoneFolder, dkim_key: DKIMKey) -> ZoneFolder:
    add_clean_domain(zones, dkim_key, "clean.example")
    return zones


def codes(data: dict[str, object]) -> list[str]:
    findings = data["findings"]
    assert isinstance(findings, list)
    return [finding["code"] for finding in findings]


# Exit statuses and --fail-on


def test_clean_domain_exit_zero(audit: RunAudit, clean: ZoneFolder) -> None:
    run = audit("clean.example", "--zone", clean, "--selector", "mail")
    assert run.status == 0, run.out
    assert run.out.startswith("clean.example: PASS")


def test_clean_domain_no_warning(audit: RunAudit, clean: ZoneFolder) -> None:
    run = audit(
        "clean.example", "--zone", clean, "--selector", "mail", "--fail-on", "warning"
    )
    assert run.status == 0, run.out


def test_error_exit_one(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("broken.example", BROKEN_SPF)
    run = audit("broken.example", "--zone", zones)
    assert run.status == 1
    assert "ERROR spf.syntax" in run.out


def test_fail_on_never(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("broken.example", BROKEN_SPF)
    run = audit("broken.example", "--zone", zones, "--fail-on", "never")
    assert run.status == 0
    assert "ERROR spf.syntax" in run.out


def test_warning_only_passes_default(audit: RunAudit, clean: ZoneFolder) -> None:
    # Without --selector no DKIM key is found: a warning, not an error.
    run = audit("clean.example", "--zone", clean, "--no-common-selectors")
    assert run.status == 0, run.out
    assert "WARN dkim.not_found" in run.out


def test_fail_on_warning(audit: RunAudit, clean: ZoneFolder) -> None:
    run = audit(
        "clean.example",
        "--zone",
        clean,
        "--no-common-selectors",
        "--fail-on",
        "warning",
    )
    assert run.status == 1


def test_fail_on_info_rejected(audit: RunAudit, clean: ZoneFolder) -> None:
    run = audit("clean.example", "--zone", clean, "--fail-on", "info")
    assert run.status == 2
    assert "--fail-on" in run.err


def test_nxdomain_is_error(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("present.example", BROKEN_SPF)
    run = audit("absent.example", "--zone", zones, "--format", "json")
    assert run.status == 1
    assert codes(run.json()) == ["dns.nxdomain"]


# JSON and JSON Lines


def test_json_one_object(audit: RunAudit, clean: ZoneFolder) -> None:
    run = audit("clean.example", "--zone", clean, "--format", "json")
    data = run.json()
    assert isinstance(data, dict)
    assert data["domain"] == "clean.example"


def test_json_spf_counts(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add(
        "counts.example",
        '@ TXT "v=spf1 a mx include:spf.counts.example -all"\n'
        'spf TXT "v=spf1 exists:nothing.counts.example -all"\n',
    )
    spf = audit("counts.example", "--zone", zones, "--format", "json").json()
    counts = spf["checks"]["spf"]
    assert type(counts["dns_lookups"]) is int
    assert type(counts["void_lookups"]) is int
    assert counts["dns_lookups"] == 4
    assert counts["void_lookups"] == 3


def test_json_finding_fields(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("broken.example", BROKEN_SPF + '_dmarc TXT "v=DMARC1; p=none"\n')
    findings = audit("broken.example", "--zone", zones, "--format", "json").json()[
        "findings"
    ]
    assert findings
    for finding in findings:
        assert isinstance(finding["code"], str)
        assert finding["code"].split(".")[0] == finding["check"]
        assert finding["check"] in CHECKS
        assert finding["severity"] in SEVERITIES
        assert finding["message"]
        for key in ("evidence", "fix", "reference"):
            assert finding.get(key) is None or isinstance(finding[key], str)


def test_json_syntax_evidence(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("broken.example", BROKEN_SPF)
    data = audit("broken.example", "--zone", zones, "--format", "json").json()
    syntax = [f for f in data["findings"] if f["code"] == "spf.syntax"]
    assert len(syntax) == 1
    assert syntax[0]["evidence"] == "v=spf1 ip4:192.0.2.1~all"
    assert syntax[0]["reference"].startswith("RFC 7208")
    assert syntax[0]["fix"]


def test_json_array_for_several(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("one.example", BROKEN_SPF)
    zones.add("two.example", BROKEN_SPF)
    data = audit(
        "two.example", "one.example", "--zone", zones, "--format", "json"
    ).json()
    assert isinstance(data, list)
    assert [item["domain"] for item in data] == ["two.example", "one.example"]


def test_jsonl_line_per_domain(audit: RunAudit, zones: ZoneFolder) -> None:
    names = ["a.example", "b.example", "c.example"]
    for name in names:
        zones.add(name, BROKEN_SPF)
    run = audit(*names, "--zone", zones, "--format", "jsonl")
    lines = run.out.splitlines()
    assert len(lines) == 3
    assert sorted(json.loads(line)["domain"] for line in lines) == names


def test_jsonl_single_domain_object(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("a.example", BROKEN_SPF)
    run = audit("a.example", "--zone", zones, "--format", "jsonl")
    assert isinstance(json.loads(run.out), dict)


def test_json_to_output_file(
    audit: RunAudit, zones: ZoneFolder, tmp_path: Path
) -> None:
    zones.add("a.example", BROKEN_SPF)
    target = tmp_path / "missing" / "deeper" / "report.json"
    run = audit("a.example", "--zone", zones, "--format", "json", "--output", target)
    assert run.status == 1
    assert run.out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["domain"] == "a.example"


def test_jsonl_to_output_file(
    audit: RunAudit, zones: ZoneFolder, tmp_path: Path
) -> None:
    zones.add("a.example", BROKEN_SPF)
    zones.add("b.example", BROKEN_SPF)
    target = tmp_path / "out" / "audit.jsonl"
    audit(
        "a.example",
        "b.example",
        "--zone",
        zones,
        "--format",
        "jsonl",
        "--output",
        target,
    )
    assert len(target.read_text(encoding="utf-8").splitlines()) == 2


# Domains file


def test_domains_file(audit: RunAudit, zones: ZoneFolder, tmp_path: Path) -> None:
    zones.add("a.example", BROKEN_SPF)
    zones.add("b.example", BROKEN_SPF)
    listing = tmp_path / "domains.txt"
    listing.write_text(
        "# sender domains\n\na.example  # the newsletter\nb.example,customer 7\n",
        encoding="utf-8",
    )
    data = audit("--domains-file", listing, "--zone", zones, "--format", "json").json()
    assert [item["domain"] for item in data] == ["a.example", "b.example"]


def test_domains_file_and_arguments(
    audit: RunAudit, zones: ZoneFolder, tmp_path: Path
) -> None:
    zones.add("a.example", BROKEN_SPF)
    zones.add("b.example", BROKEN_SPF)
    listing = tmp_path / "domains.txt"
    listing.write_text("b.example\n", encoding="utf-8")
    data = audit(
        "a.example", "--domains-file", listing, "--zone", zones, "--format", "json"
    ).json()
    assert [item["domain"] for item in data] == ["a.example", "b.example"]


# Text and HTML


def test_text_several_summary(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("a.example", BROKEN_SPF)
    zones.add("b.example", BROKEN_SPF)
    run = audit("a.example", "b.example", "--zone", zones)
    assert run.out.startswith("a.example: FAIL")
    assert "\nb.example: FAIL" in run.out
    assert "2 fail" in run.out


def test_text_names_fix(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("a.example", BROKEN_SPF)
    run = audit("a.example", "--zone", zones)
    assert "is a space missing before '~all'?" in run.out
    assert "fix:" in run.out


def test_html_single_to_stdout(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("a.example", BROKEN_SPF)
    run = audit("a.example", "--zone", zones, "--format", "html")
    assert run.status == 1
    assert run.out.startswith("<!DOCTYPE html>")
    assert "spf.syntax" in run.out


def test_html_single_to_file(
    audit: RunAudit, zones: ZoneFolder, tmp_path: Path
) -> None:
    zones.add("a.example", BROKEN_SPF)
    target = tmp_path / "new" / "a.html"
    run = audit("a.example", "--zone", zones, "--format", "html", "--output", target)
    assert run.status == 1
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_html_several_to_folder(
    audit: RunAudit, zones: ZoneFolder, tmp_path: Path
) -> None:
    zones.add("a.example", BROKEN_SPF)
    zones.add("b.example", BROKEN_SPF)
    folder = tmp_path / "reports"
    run = audit(
        "a.example",
        "b.example",
        "--zone",
        zones,
        "--format",
        "html",
        "--output",
        folder,
    )
    assert run.status == 1
    assert sorted(p.name for p in folder.iterdir()) == [
        "a.example.html",
        "b.example.html",
        "index.html",
    ]
    assert 'href="a.example.html"' in (folder / "index.html").read_text(
        encoding="utf-8"
    )


def test_html_several_needs_output(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("a.example", BROKEN_SPF)
    zones.add("b.example", BROKEN_SPF)
    run = audit("a.example", "b.example", "--zone", zones, "--format", "html")
    assert run.status == 2
    assert run.out == ""
    assert "--output FOLDER" in run.err


def test_html_several_into_html_file(
    audit: RunAudit, zones: ZoneFolder, tmp_path: Path
) -> None:
    zones.add("a.example", BROKEN_SPF)
    zones.add("b.example", BROKEN_SPF)
    target = tmp_path / "report.html"
    run = audit(
        "a.example",
        "b.example",
        "--zone",
        zones,
        "--format",
        "html",
        "--output",
        target,
    )
    assert run.status == 2
    assert "give a folder" in run.err
    assert not target.exists()


def test_html_into_existing_file(
    audit: RunAudit, zones: ZoneFolder, tmp_path: Path
) -> None:
    zones.add("a.example", BROKEN_SPF)
    zones.add("b.example", BROKEN_SPF)
    target = tmp_path / "report"
    target.write_text("keep me", encoding="utf-8")
    run = audit(
        "a.example",
        "b.example",
        "--zone",
        zones,
        "--format",
        "html",
        "--output",
        target,
    )
    assert run.status == 2
    assert "it is a file" in run.err
    assert target.read_text(encoding="utf-8") == "keep me"


# Sending IPs and internationalized names


def test_sending_ips(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add(
        "ips.example",
        '@ TXT "v=spf1 ip4:198.51.100.1 ip4:198.51.100.2/32 ip6:2001:db8::1 '
        "ip6:2001:db8::2/128 ip4:198.51.100.0/24 ip6:2001:db8::/64 "
        'include:esp.ips.example -all"\n'
        'esp TXT "v=spf1 ip4:198.51.100.99 -all"\n',
    )
    data = audit(
        "ips.example",
        "--zone",
        zones,
        "--format",
        "json",
        "--ip",
        "203.0.113.7",
        "--ip",
        "2001:DB8:0::0:9",
    ).json()
    checked = {a["ip"]: a["source"] for a in data["checks"]["ptr"]["addresses"]}
    assert checked == {
        "203.0.113.7": "given",
        "2001:db8::9": "given",
        "198.51.100.1": "spf",
        "198.51.100.2": "spf",
        "2001:db8::1": "spf",
        "2001:db8::2": "spf",
    }


def test_given_ip_listed_in_spf(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("ips.example", '@ TXT "v=spf1 ip4:198.51.100.1 -all"\n')
    data = audit(
        "ips.example", "--zone", zones, "--format", "json", "--ip", "198.51.100.1"
    ).json()
    checked = [(a["ip"], a["source"]) for a in data["checks"]["ptr"]["addresses"]]
    assert checked == [("198.51.100.1", "given")]


def test_sending_ip_confirmed(audit: RunAudit, clean: ZoneFolder) -> None:
    data = audit("clean.example", "--zone", clean, "--format", "json").json()
    entry = data["checks"]["ptr"]["addresses"][0]
    assert entry["ip"] == CLEAN_ADDRESS
    assert entry["forward_confirmed"] is True


def add_idn_zone(zones: ZoneFolder) -> None:
    zones.add(
        "xn--bcher-kva.example",
        '@ TXT "v=spf1 ip4:192.0.2.1~all"\n'
        '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@xn--bcher-kva.example"\n',
    )


def test_idn_audits_a_label(audit: RunAudit, zones: ZoneFolder) -> None:
    add_idn_zone(zones)
    data = audit("bücher.example", "--zone", zones, "--format", "json").json()
    assert data["domain"] == "xn--bcher-kva.example"
    assert data["display_name"] == "bücher.example"
    assert "spf.syntax" in codes(data)


def test_idn_text_shows_u_label(audit: RunAudit, zones: ZoneFolder) -> None:
    add_idn_zone(zones)
    run = audit("BÜCHER.example.", "--zone", zones)
    assert run.out.startswith("bücher.example (xn--bcher-kva.example): FAIL")


def test_idn_given_as_a_label(audit: RunAudit, zones: ZoneFolder) -> None:
    add_idn_zone(zones)
    data = audit("xn--bcher-kva.example", "--zone", zones, "--format", "json").json()
    assert data["display_name"] == "bücher.example"


def test_idn_html_shows_u_label(audit: RunAudit, zones: ZoneFolder) -> None:
    add_idn_zone(zones)
    run = audit("bücher.example", "--zone", zones, "--format", "html")
    assert "<title>" in run.out
    assert "bücher.example" in run.out


# Mailbox provider verdicts


def verdict(data: dict[str, Any], requirement: str) -> str:
    for item in data["verdicts"]:
        for entry in item["requirements"]:
            if entry["id"] == requirement:
                return str(entry["status"])
    raise AssertionError(f"no requirement {requirement}")


def test_verdict_met_with_key(audit: RunAudit, clean: ZoneFolder) -> None:
    data = audit(
        "clean.example", "--zone", clean, "--selector", "mail", "--format", "json"
    ).json()
    assert verdict(data, "gmail-yahoo-bulk-2024.dkim") == "met"


def test_verdict_unknown_unguessed_selector(audit: RunAudit, clean: ZoneFolder) -> None:
    # _domainkey exists, so the domain may sign with a selector not probed.
    data = audit(
        "clean.example", "--zone", clean, "--no-common-selectors", "--format", "json"
    ).json()
    assert verdict(data, "gmail-yahoo-bulk-2024.dkim") == "unknown"


def test_verdict_not_met_without_domainkey(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("broken.example", BROKEN_SPF)
    data = audit("broken.example", "--zone", zones, "--format", "json").json()
    assert data["checks"]["dkim"]["domainkey_node"] == "nxdomain"
    assert verdict(data, "gmail-yahoo-bulk-2024.dkim") == "not_met"


def test_html_dash_is_stdout(
    audit: RunAudit, zones: ZoneFolder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zones.add("a.example", BROKEN_SPF)
    monkeypatch.chdir(tmp_path)
    run = audit("a.example", "--zone", zones, "--format", "html", "--output", "-")
    assert run.out.startswith("<!DOCTYPE html>")
    assert not (tmp_path / "-").exists()
