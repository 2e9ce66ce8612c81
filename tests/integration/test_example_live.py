"""The bundled example gives the same audit offline and through Knot DNS.

The example domains are audited twice: from the zone files with
ZoneResolver, and with LiveResolver against a Knot server that serves the
same files on loopback. Both runs must report the same findings and the same
SPF lookup counts, because the audit may not depend on where answers come
from.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from deliverability.audit import DomainReport, audit_domains
from deliverability.dns import LiveResolver, Resolver, ZoneResolver

from .example import EXAMPLE, EXAMPLE_ZONES, OPTIONS, example_domains

pytestmark = [pytest.mark.knot]


async def _collect(resolver: Resolver) -> dict[str, DomainReport]:
    reports = {}
    try:
        async for report in audit_domains(
            example_domains(), resolver=resolver, options=OPTIONS
        ):
            reports[report.domain] = report
    finally:
        await resolver.aclose()
    return reports


def audit_all(resolver: Resolver) -> dict[str, DomainReport]:
    """Audit every example domain through ``resolver``."""
    return asyncio.run(_collect(resolver))


def finding_keys(report: DomainReport) -> list[tuple[str, str, str]]:
    """Return (code, severity, message) of each finding, sorted."""
    return sorted((f.code, f.severity.value, f.message) for f in report.findings)


def spf_counts(report: DomainReport) -> tuple[Any, Any]:
    """Return the SPF (dns_lookups, void_lookups) of a report."""
    spf = report.checks.get("spf")
    details = spf.details if spf is not None else {}
    return details.get("dns_lookups"), details.get("void_lookups")


@pytest.fixture(scope="module")
def offline_reports() -> dict[str, DomainReport]:
    return audit_all(ZoneResolver([EXAMPLE_ZONES]))


@pytest.fixture(scope="module")
def live_reports(knot_example: tuple[str, int]) -> dict[str, DomainReport]:
    return audit_all(LiveResolver([knot_example], timeout=2.0, retries=1))


def test_example_lists_domains() -> None:
    assert len(example_domains()) >= 30


def test_live_audits_every_domain(
    live_reports: dict[str, DomainReport],
) -> None:
    assert sorted(live_reports) == sorted(example_domains())


def test_live_audits_complete(live_reports: dict[str, DomainReport]) -> None:
    incomplete = [name for name, r in live_reports.items() if not r.complete]
    assert incomplete == []


def test_offline_audits_complete(offline_reports: dict[str, DomainReport]) -> None:
    incomplete = [name for name, r in offline_reports.items() if not r.complete]
    assert incomplete == []


def test_findings_match(
    offline_reports: dict[str, DomainReport],
    live_reports: dict[str, DomainReport],
) -> None:
    differ = {
        name: {"zone files": finding_keys(report),
               "knot": finding_keys(live_reports[name])}
        for name, report in offline_reports.items()
        if finding_keys(report) != finding_keys(live_reports[name])
    }
    assert differ == {}


def test_spf_counts_match(
    offline_reports: dict[str, DomainReport],
    live_reports: dict[str, DomainReport],
) -> None:
    differ = {
        name: (spf_counts(report), spf_counts(live_reports[name]))
        for name, report in offline_reports.items()
        if spf_counts(report) != spf_counts(live_reports[name])
    }
    assert differ == {}


def test_spf_counts_not_trivial(offline_reports: dict[str, DomainReport]) -> None:
    # The comparison above means little if no domain needed a lookup.
    lookups = [spf_counts(r)[0] or 0 for r in offline_reports.values()]
    assert max(lookups) >= 5


def test_example_has_findings(offline_reports: dict[str, DomainReport]) -> None:
    total = sum(len(r.findings) for r in offline_reports.values())
    assert total > len(offline_reports)


@pytest.fixture(scope="module")
def rebuilt(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run build_zones.py on the corpus into a fresh folder and return it."""
    out = tmp_path_factory.mktemp("rebuilt")
    records = corpus_dir / "real-dns" / "records.json"
    subprocess.run(
        [sys.executable, str(EXAMPLE / "build_zones.py"), "--records", str(records),
         "--out", str(out)],
        check=True, capture_output=True,
    )
    return out


def test_zones_match_records(rebuilt: Path) -> None:
    built = {p.name: p.read_text() for p in (rebuilt / "zones").glob("*.zone")}
    shipped = {p.name: p.read_text() for p in EXAMPLE_ZONES.glob("*.zone")}
    assert built == shipped


def test_domains_match_records(rebuilt: Path) -> None:
    built = (rebuilt / "domains.txt").read_text()
    assert built == (EXAMPLE / "domains.txt").read_text()
