"""Fixtures for the command-line tests: run ``deliverability audit`` in-process.

Every test writes its own zone files into a temporary folder. The DNS tests
start their own servers on loopback, and nothing here queries any other
resolver.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from deliverability.cli import main


@dataclass(frozen=True, slots=True)
class Run:
    """The exit status and the captured output of one command."""

    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


RunAudit = Callable[..., Run]


@pytest.fixture
def audit(capsys: pytest.CaptureFixture[str]) -> RunAudit:
    """Run ``deliverability audit ARGS`` and return its status and output."""

    def run(*args: str | Path) -> Run:
        status = main(["audit", "--no-progress", *(str(a) for a in args)])
        captured = capsys.readouterr()
        return Run(status, captured.out, captured.err)

    return run


def zone_text(origin: str, records: str) -> str:
    """Return a zone file for ``origin``: SOA and NS, then ``records``."""
    return (
        f"$ORIGIN {origin}.\n"
        "$TTL 300\n"
        f"@ SOA ns.{origin}. hostmaster.{origin}. 1 3600 600 86400 300\n"
        f"@ NS ns.{origin}.\n"
        f"{records}"
    )


class ZoneFolder:
    """A folder of ``ORIGIN.zone`` files, written by the test."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, origin: str, records: str) -> Path:
        """Write a zone for ``origin`` with SOA and NS added, and return its path."""
        path = self.path / f"{origin}.zone"
        path.write_text(zone_text(origin, records), encoding="utf-8")
        return path

    def __str__(self) -> str:
        return str(self.path)


@pytest.fixture
def zones(tmp_path: Path) -> ZoneFolder:
    folder = tmp_path / "zones"
    folder.mkdir()
    return ZoneFolder(folder)


@dataclass(frozen=True, slots=True)
class DKIMKey:
    """A public RSA key in both encodings a DKIM p= tag may carry."""

    spki: str
    pkcs1: str


def txt_strings(text: str, size: int = 200) -> str:
    """Split ``text`` into quoted zone-file strings of at most ``size`` bytes."""
    return " ".join(f'"{text[i : i + size]}"' for i in range(0, len(text), size))


@pytest.fixture(scope="session")
def dkim_key() -> DKIMKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pkcs1 = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.PKCS1
    )
    return DKIMKey(base64.b64encode(spki).decode(), base64.b64encode(pkcs1).decode())


CLEAN_ADDRESS = "5.45.100.25"
"""The clean domain's mail host; the zones give it forward-confirmed reverse DNS."""


def add_clean_domain(zones: ZoneFolder, key: DKIMKey, origin: str) -> None:
    """Write ``origin`` with SPF, DKIM (selector mail), DMARC, MX and PTR in order.

    Audited with ``--selector mail`` it has no error and no warning.
    """
    zones.add(
        origin,
        f"@ MX 10 mail.{origin}.\n"
        f"mail A {CLEAN_ADDRESS}\n"
        f'@ TXT "v=spf1 ip4:{CLEAN_ADDRESS} -all"\n'
        f'_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@{origin}"\n'
        f'mail._domainkey TXT "v=DKIM1; k=rsa; p=" {txt_strings(key.spki)}\n'
        f'_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tls@{origin}"\n',
    )
    reverse = "100.45.5.in-addr.arpa"
    if not (zones.path / f"{reverse}.zone").exists():
        zones.add(reverse, f"25 PTR mail.{origin}.\n")
