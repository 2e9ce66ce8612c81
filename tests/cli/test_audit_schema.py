"""Every JSON object the command prints matches the published schema."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from deliverability.cli import main
from deliverability.report import load_schema

from ..conftest import EXAMPLE_ZONES
from .conftest import RunAudit, ZoneFolder

CHECKS = {
    "spf", "dkim", "dmarc", "mx", "ptr", "mta-sts", "tls-rpt", "bimi", "dnssec", "dns",
}  # fmt: skip


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def example_lines(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The bundled real-data example, audited offline as JSON Lines."""
    if not any(EXAMPLE_ZONES.glob("*.zone")):
        pytest.fail(f"no zone files in {EXAMPLE_ZONES}")
    domains = EXAMPLE_ZONES.parent / "domains.txt"
    target = tmp_path_factory.mktemp("example") / "audit.jsonl"
    args = ["--domains-file", domains, "--zone", EXAMPLE_ZONES, "--format", "jsonl"]
    status = main(["audit", "--no-progress", *map(str, args), "--output", str(target)])
    assert status in (0, 1)
    lines = target.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_example_one_line_per_domain(example_lines: list[dict[str, Any]]) -> None:
    domains = (EXAMPLE_ZONES.parent / "domains.txt").read_text(encoding="utf-8")
    expected = {line.split("#")[0].strip() for line in domains.splitlines()} - {""}
    assert {item["domain"] for item in example_lines} == expected


def test_example_matches_schema(
    example_lines: list[dict[str, Any]], validator: jsonschema.Draft202012Validator
) -> None:
    for item in example_lines:
        errors = [error.message for error in validator.iter_errors(item)]
        assert errors == [], item["domain"]


def test_example_check_names(example_lines: list[dict[str, Any]]) -> None:
    used = {f["check"] for item in example_lines for f in item["findings"]}
    assert used <= CHECKS


def test_example_spf_counts_integers(example_lines: list[dict[str, Any]]) -> None:
    for item in example_lines:
        spf = item["checks"].get("spf")
        if spf is None:
            continue
        assert type(spf["dns_lookups"]) is int, item["domain"]
        assert type(spf["void_lookups"]) is int, item["domain"]


def test_hostile_idn_matches_schema(
    audit: RunAudit, zones: ZoneFolder, validator: jsonschema.Draft202012Validator
) -> None:
    zones.add(
        "xn--bcher-kva.example",
        '@ TXT "v=spf1 include:<b>x</b>.example \\027[31m -all"\n'
        '_dmarc TXT "v=DMARC1; p=reject; sp=bogus; rua=mailto:\\007@x"\n',
    )
    run = audit("bücher.example", "absent.example", "--zone", zones, "--format", "json")
    for item in run.json():
        errors = [error.message for error in validator.iter_errors(item)]
        assert errors == [], item["domain"]
