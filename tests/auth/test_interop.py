"""Interop with Perl's Mail::DKIM and OpenDKIM, with DNS from a loopback Knot.

Mail::DKIM in Debian (1.20230212) has no Ed25519 support, so it checks RSA
signatures only. opendkim-testmsg checks both, and signs with rsa-sha1 only.
opendkim-testmsg reads the system resolver configuration, so it runs in a
private network namespace where Knot serves the zone on 127.0.0.2:53.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from deliverability.auth import (
    Signer,
    TestMessage,
    build_test_message,
    sign_message,
    verify_dkim,
)
from deliverability.dns import LiveResolver

from ..conftest import missing, require_program
from ..knot import KnotServer, run_in_netns
from .conftest import DOMAIN, KeyFiles, example_zone

pytestmark = pytest.mark.knot

PERL = Path(__file__).resolve().parent / "perl"


@pytest.fixture(scope="module")
def knot_dns(knot: Callable[..., KnotServer], key_files: KeyFiles) -> KnotServer:
    """A Knot server holding example.com with the r1 and e1 key records."""
    return knot({DOMAIN: example_zone(key_files)})


@pytest.fixture(scope="module")
def perl() -> str:
    """The perl program, with Mail::DKIM importable."""
    program = require_program("perl")
    probe = subprocess.run(
        [program, "-MMail::DKIM::Verifier", "-e", "1"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        missing("Perl module Mail::DKIM not installed (Debian libmail-dkim-perl)")
    return program


def _message(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _signed(keys: KeyFiles, *selectors: str) -> bytes:
    message = build_test_message(TestMessage(from_address="news@example.com"))
    signers = {
        "r1": Signer(keys.rsa, "r1", DOMAIN),
        "e1": Signer(keys.ed, "e1", DOMAIN),
    }
    return sign_message(message, [signers[name] for name in selectors])


def _perl_verify(perl: str, server: KnotServer, path: Path) -> list[str]:
    result = subprocess.run(
        [
            perl,
            str(PERL / "dkim_verify.pl"),
            server.address,
            str(server.port),
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.splitlines()


def test_perl_verifies_ours(
    perl: str, knot_dns: KnotServer, key_files: KeyFiles, tmp_path: Path
) -> None:
    path = _message(tmp_path, "signed.eml", _signed(key_files, "r1"))
    lines = _perl_verify(perl, knot_dns, path)
    assert lines == ["pass example.com r1", "overall pass"]


def test_perl_rejects_tampered(
    perl: str, knot_dns: KnotServer, key_files: KeyFiles, tmp_path: Path
) -> None:
    data = _signed(key_files, "r1").replace(b"It needs no reply", b"Reply now")
    lines = _perl_verify(perl, knot_dns, _message(tmp_path, "t.eml", data))
    assert lines[-1] == "overall fail"


async def test_ours_verifies_perl(
    perl: str, knot_dns: KnotServer, key_files: KeyFiles, tmp_path: Path
) -> None:
    plain = build_test_message(TestMessage(from_address="news@example.com"))
    path = _message(tmp_path, "plain.eml", plain)
    signed = subprocess.run(
        [
            perl,
            str(PERL / "dkim_sign.pl"),
            "rsa-sha256",
            DOMAIN,
            "r1",
            str(key_files.rsa_path),
            str(path),
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    resolver = LiveResolver([knot_dns.nameserver])
    results = await verify_dkim(signed, resolver=resolver)
    assert [(r.result, r.selector) for r in results] == [("pass", "r1")]


def _opendkim_statuses(
    tmp_path: Path, key_files: KeyFiles, files: dict[str, bytes]
) -> dict[str, int]:
    program = require_program("opendkim-testmsg")
    require_program("unshare")
    for name, data in files.items():
        _message(tmp_path, name, data)
    script = "; ".join(
        f'{program} < {tmp_path / name} >/dev/null 2>&1; echo "{name} $?"'
        for name in files
    )
    result = run_in_netns(
        {DOMAIN: example_zone(key_files)},
        tmp_path / "netns",
        ["sh", "-c", script],
        timeout=120,
    )
    if result.returncode != 0 and "unshare" in result.stderr:
        missing(f"cannot create a network namespace: {result.stderr.strip()}")
    pairs = (line.split() for line in result.stdout.splitlines() if line.strip())
    return {name: int(status) for name, status in pairs}


def test_opendkim_verifies_ours(key_files: KeyFiles, tmp_path: Path) -> None:
    rsa, ed = _signed(key_files, "r1"), _signed(key_files, "e1")
    statuses = _opendkim_statuses(
        tmp_path,
        key_files,
        {
            "rsa.eml": rsa,
            "ed.eml": ed,
            "rsa-bad.eml": rsa.replace(b"It needs no reply", b"Reply now"),
            "ed-bad.eml": ed.replace(b"It needs no reply", b"Reply now"),
        },
    )
    assert statuses["rsa.eml"] == 0
    assert statuses["ed.eml"] == 0
    assert statuses["rsa-bad.eml"] != 0
    assert statuses["ed-bad.eml"] != 0


async def test_ours_verifies_opendkim(
    knot_dns: KnotServer, key_files: KeyFiles, tmp_path: Path
) -> None:
    program = require_program("opendkim-testmsg")
    plain = build_test_message(TestMessage(from_address="news@example.com"))
    # -C ends the added field's lines with CRLF, as the message's lines end.
    signed = subprocess.run(
        [program, "-C", "-d", DOMAIN, "-s", "r1", "-k", str(key_files.rsa_path)],
        input=plain,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    resolver = LiveResolver([knot_dns.nameserver])
    allowed = await verify_dkim(signed, resolver=resolver, allow_sha1=True)
    strict = await verify_dkim(signed, resolver=resolver)
    assert [(r.result, r.algorithm) for r in allowed] == [("pass", "rsa-sha1")]
    assert [r.result for r in strict] == ["permerror"]
