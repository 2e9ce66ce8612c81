"""The bundled real-data example: where its zones are and which domains it lists."""

from __future__ import annotations

from pathlib import Path

from deliverability.audit import AuditOptions

__all__ = ["EXAMPLE", "EXAMPLE_ZONES", "OPTIONS", "example_domains"]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "real-dns"
EXAMPLE_ZONES = EXAMPLE / "zones"

OPTIONS = AuditOptions(fetch_mta_sts_policy=False)
"""Audit options for tests: the MTA-STS policy fetch would use HTTPS to the
real host, and no test may send a packet beyond loopback."""


def example_domains() -> list[str]:
    """Return the sending domains of the bundled example."""
    lines = (EXAMPLE / "domains.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]
