"""The JSON and JSON Lines reports, and their schema."""

from __future__ import annotations

import copy
import enum
import json
from typing import Any

import jsonschema
import pytest

from deliverability.audit.model import DomainReport
from deliverability.report import (
    dumps_json,
    dumps_jsonl_line,
    load_schema,
    report_to_json,
)

from .samples import TERMINAL_ATTACK, build_passing_report


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_one_domain_is_object(report: DomainReport) -> None:
    data = json.loads(dumps_json([report]))
    assert isinstance(data, dict)
    assert data["domain"] == "news.example.com"


def test_several_domains_are_array(all_reports: list[DomainReport]) -> None:
    data = json.loads(dumps_json(all_reports))
    assert [item["domain"] for item in data] == [r.domain for r in all_reports]


def test_no_domain_is_empty_array() -> None:
    assert json.loads(dumps_json([])) == []


def test_contract_fields(report: DomainReport) -> None:
    data = json.loads(dumps_json([report]))
    first = data["findings"][0]
    assert first["code"] == "spf.lookup_limit"
    assert first["check"] == "spf"
    assert first["severity"] == "error"
    assert first["message"].startswith("The SPF record of news.example.com")
    assert first["evidence"].startswith("v=spf1 ip4:192.0.2.10")
    assert first["fix"].startswith("Remove includes")
    assert first["reference"] == "RFC 7208, section 4.6.4"
    assert data["checks"]["spf"]["dns_lookups"] == 12
    assert data["checks"]["spf"]["void_lookups"] == 1


def test_optional_finding_fields_left_out(report: DomainReport) -> None:
    weak = next(f for f in report_to_json(report)["findings"] if "weak" in f["code"])
    assert "evidence" not in weak


def test_status_and_counts(report: DomainReport) -> None:
    data = report_to_json(report)
    assert data["status"] == "fail"
    assert data["counts"] == {"error": 1, "warning": 3, "info": 2}


def test_builds_on_to_dict(report: DomainReport) -> None:
    data = report_to_json(report)
    base = json.loads(json.dumps(report.to_dict()))
    assert {key: data[key] for key in base} == base


def test_jsonl_one_line_each(all_reports: list[DomainReport]) -> None:
    for report in all_reports:
        line = dumps_jsonl_line(report)
        assert "\n" not in line
        assert "\r" not in line
        assert json.loads(line)["domain"] == report.domain


def test_schema_accepts_reports(
    validator: jsonschema.Draft202012Validator, all_reports: list[DomainReport]
) -> None:
    for item in json.loads(dumps_json(all_reports)):
        errors = [e.message for e in validator.iter_errors(item)]
        assert errors == [], item["domain"]


def test_schema_needs_spf_counts(
    validator: jsonschema.Draft202012Validator, report: DomainReport
) -> None:
    data = report_to_json(report)
    broken = copy.deepcopy(data)
    del broken["checks"]["spf"]["void_lookups"]
    assert not validator.is_valid(broken)


def test_schema_rejects_bad_values(
    validator: jsonschema.Draft202012Validator, report: DomainReport
) -> None:
    data = report_to_json(report)
    changes: list[tuple[str, Any]] = [
        ("severity", "fatal"),
        ("check", "smtp"),
        ("code", "Lookup Limit"),
    ]
    for key, value in changes:
        broken = copy.deepcopy(data)
        broken["findings"][0][key] = value
        assert not validator.is_valid(broken), key
    lookups = copy.deepcopy(data)
    lookups["checks"]["spf"]["dns_lookups"] = "12"
    assert not validator.is_valid(lookups)


def test_unsafe_characters_escaped(hostile_report: DomainReport) -> None:
    hostile_report.checks["spf"].details["bidi"] = "abc\u202edef\x9b2J"
    for text in (dumps_json([hostile_report]), dumps_jsonl_line(hostile_report)):
        assert "\x1b" not in text
        assert "\u202e" not in text
        assert "\x9b" not in text
        data = json.loads(text)
        assert data["checks"]["spf"]["bidi"] == "abc\u202edef\x9b2J"
        assert data["source"] == f"zone files {TERMINAL_ATTACK}"


def test_non_json_details_converted() -> None:
    class Mode(enum.Enum):
        ENFORCE = "enforce"

    report = build_passing_report()
    report.checks["spf"].details.update(
        {
            "ips": {"192.0.2.2", "192.0.2.1"},
            "pair": (1, 2),
            "mode": Mode.ENFORCE,
            "raw": b"\x01\xff",
            "ratio": float("nan"),
        }
    )
    spf = json.loads(dumps_jsonl_line(report))["checks"]["spf"]
    assert spf["ips"] == ["192.0.2.1", "192.0.2.2"]
    assert spf["pair"] == [1, 2]
    assert spf["mode"] == "enforce"
    assert spf["raw"] == "01ff"
    assert spf["ratio"] == "nan"


def test_unicode_kept_readable(idn_report: DomainReport) -> None:
    text = dumps_json([idn_report])
    assert '"display_name": "bücher.example"' in text
