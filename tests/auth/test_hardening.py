"""Hostile and malformed input: messages, signatures, keys and identities."""

from __future__ import annotations

import datetime
import email
import email.policy
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dkim
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from deliverability.auth import (
    MAX_SIGNATURES,
    Connection,
    Signer,
    TestMessage,
    build_test_message,
    check_key,
    format_header,
    generate_key,
    load_private_key,
    sign_message,
    verify_message,
    write_private_key,
)
from deliverability.auth.keys import PrivateKey
from deliverability.auth.results import MethodResult, pvalue
from deliverability.dns import ZoneResolver
from deliverability.errors import InputError
from deliverability.findings import Finding
from tests.conftest import require_program

from .conftest import DOMAIN, KeyFiles
from .records import RecordResolver

Resolvers = Callable[..., ZoneResolver]


def _codes(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


def _message(**fields: Any) -> bytes:
    return build_test_message(TestMessage(from_address="news@example.com", **fields))


def _signed(keys: KeyFiles, message: bytes | None = None) -> bytes:
    return sign_message(message or _message(), [Signer(keys.rsa, "r1", DOMAIN)])


# An RFC 8601 field, checked token by token: each resinfo is method=result,
# an optional comment, then ptype.property=value pairs.
_TOKEN = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+"
_ADDRESS = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~/=?]*@[A-Za-z0-9.-]+"
_QUOTED = r'"(?:[^"\\\x00-\x1f]|\\.)*"'
_VALUE = rf"(?:{_TOKEN}|{_ADDRESS}|{_QUOTED})"
_RESULT = re.compile(r"[a-z0-9-]+=[a-z]+")
_PROPERTIES = re.compile(rf"(?: [a-z]+\.[a-z-]+={_VALUE})*\Z")


def _comment_end(text: str, start: int) -> int:
    """Return the offset after the RFC 5322 comment at ``start``, or -1."""
    depth = 0
    index = start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        index += 1
        if depth == 0:
            return index
    return -1


def _resinfo_valid(entry: str) -> bool:
    result = _RESULT.match(entry)
    if result is None:
        return False
    rest = entry[result.end() :]
    if rest.startswith(" ("):
        end = _comment_end(rest, 1)
        if end < 0:
            return False
        rest = rest[end:]
    return _PROPERTIES.match(rest) is not None


def _check_rfc8601(header: str) -> list[str]:
    """Return the resinfo entries that do not match the RFC 8601 shape."""
    name, _colon, value = header.partition(": ")
    assert name == "Authentication-Results"
    assert value.isascii()
    assert value.isprintable()
    # Split on the "; " that ends a resinfo; comments and quoted strings
    # produced here never contain that pair.
    server, *entries = value.split("; ")
    assert re.fullmatch(_VALUE, server)
    return [entry for entry in entries if not _resinfo_valid(entry)]


async def test_header_syntax_full(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    message = sign_message(
        _message(),
        [Signer(key_files.rsa, "r1", DOMAIN), Signer(key_files.ed, "e1", DOMAIN)],
    )
    verdict = await verify_message(
        message,
        resolver=make_resolver(),
        connection=Connection(ip="2001:db8::10", mail_from="bounce@example.com"),
    )
    header = verdict.header()
    assert _check_rfc8601(header) == []
    assert 'policy.iprev="2001:db8::10"' in header


async def test_header_syntax_hostile(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    # A selector with a NUL, an escape sequence and a Latin-1 octet.
    hostile = _signed(key_files).replace(b" s=r1;", b" s=r\x00\x1b[31m\xe4;", 1)
    verdict = await verify_message(hostile, resolver=make_resolver())
    header = verdict.header()
    assert verdict.dkim[0].result == "permerror"
    assert _check_rfc8601(header) == []
    assert "\x1b" not in header


def test_pvalue_escapes_line_break() -> None:
    assert pvalue("a\r\nb") == '"a\\\\x0d\\\\x0ab"'


def test_authserv_id_quoted() -> None:
    header = format_header("evil; dkim=pass", [MethodResult("dmarc", "fail")])
    assert header == 'Authentication-Results: "evil; dkim=pass"; dmarc=fail'


async def test_obsolete_from_not_verified(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    # dkimpy skips a "From :" line, so its signature does not cover the
    # From field that other verifiers (and DMARC) read.
    message = _message().replace(b"From: ", b"From : ", 1)
    field = dkim.DKIM(message).sign(
        b"r1",
        b"example.com",
        key_files.rsa.secret,
        include_headers=[b"from", b"subject"],
        canonicalize=(b"relaxed", b"relaxed"),
    )
    verdict = await verify_message(field + message, resolver=make_resolver())
    assert verdict.dkim[0].result == "permerror"
    assert "From:" in verdict.dkim[0].reason
    assert not verdict.passed


def test_obsolete_from_not_signed(key_files: KeyFiles) -> None:
    message = _message().replace(b"From: ", b"From : ", 1)
    with pytest.raises(InputError, match="line 1 'From : news@example.com'"):
        _signed(key_files, message)


def test_bare_cr_not_signed(key_files: KeyFiles) -> None:
    message = b"From: news@example.com\rBcc: x@example.net\r\n\r\nbody\r\n"
    with pytest.raises(InputError, match="carriage return without a line feed"):
        _signed(key_files, message)


async def test_bare_cr_not_verified(make_resolver: Resolvers) -> None:
    message = b"From: a@example.com\rTo: b@example.net\rSubject: x\r\rbody\r"
    with pytest.raises(InputError, match="header line 1"):
        await verify_message(message, resolver=make_resolver())


async def test_bare_lf_message_verifies(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    message = _message().replace(b"\r\n", b"\n")
    verdict = await verify_message(
        _signed(key_files, message), resolver=make_resolver()
    )
    assert verdict.passed


async def test_header_only_message(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    headers = _message().split(b"\r\n\r\n", 1)[0] + b"\r\n"
    verdict = await verify_message(
        _signed(key_files, headers), resolver=make_resolver()
    )
    assert verdict.passed


async def test_unparsable_without_signature(make_resolver: Resolvers) -> None:
    message = b"\xef\xbb\xbfFrom: a@example.com\r\n\r\nbody\r\n"
    verdict = await verify_message(message, resolver=make_resolver())
    assert verdict.dkim == []
    assert "auth.dkim_missing" in _codes(verdict.findings)


async def test_signature_count_limited(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    signed = _signed(key_files)
    field_end = signed.index(b"\r\nFrom: ") + 2
    message = signed[:field_end] * 500 + signed[field_end:]
    verdict = await verify_message(message, resolver=make_resolver())
    assert len(verdict.dkim) == MAX_SIGNATURES
    assert all(result.passed for result in verdict.dkim)
    assert "auth.dkim_ignored" in _codes(verdict.findings)


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b" s=r1;", b" s=r1; s=r2;", "the tag s= appears more than once"),
        (b" s=r1;", b" s=r1; garbage;", "invalid entry 'garbage'"),
        (b" a=rsa-sha256;", b" a=rsa-sha512;", "unknown signature algorithm"),
        (b" a=rsa-sha256;", b"", "missing a="),
    ],
)
async def test_broken_tag_reasons_plain(
    key_files: KeyFiles, make_resolver: Resolvers, old: bytes, new: bytes, reason: str
) -> None:
    message = _signed(key_files).replace(old, new, 1)
    verdict = await verify_message(message, resolver=make_resolver())
    assert verdict.dkim[0].result == "permerror"
    assert reason in verdict.dkim[0].reason
    assert "b'" not in verdict.dkim[0].reason


async def test_null_sender_checks_helo(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    verdict = await verify_message(
        _signed(key_files),
        resolver=make_resolver(),
        connection=Connection(ip="192.0.2.10", mail_from="<>", helo="example.com"),
    )
    assert verdict.spf is not None
    assert verdict.spf.identity == "helo"
    assert verdict.spf.result == "pass"


async def test_ip_needs_identity(key_files: KeyFiles, make_resolver: Resolvers) -> None:
    with pytest.raises(InputError, match="--mail-from ADDRESS"):
        await verify_message(
            _signed(key_files),
            resolver=make_resolver(),
            connection=Connection(ip="192.0.2.10"),
        )


@pytest.mark.parametrize(
    ("mail_from", "helo"),
    [
        ("bounce@exa\nmple.com", None),
        ("bad address", None),
        ("@example.com", None),
        ("bounce@example.com", "x\x1b[31m"),
    ],
)
async def test_bad_identity_rejected(
    key_files: KeyFiles, make_resolver: Resolvers, mail_from: str, helo: str | None
) -> None:
    connection = Connection(ip="192.0.2.10", mail_from=mail_from, helo=helo)
    with pytest.raises(InputError, match="invalid (MAIL FROM|HELO)"):
        await verify_message(
            _signed(key_files), resolver=make_resolver(), connection=connection
        )


async def test_one_click_unknown_on_temperror(key_files: KeyFiles) -> None:
    resolver = RecordResolver({}, failing=["r1._domainkey.example.com"])
    verdict = await verify_message(_signed(key_files), resolver=resolver)
    assert "auth.incomplete" in _codes(verdict.findings)
    assert "auth.one_click_unsigned" not in _codes(verdict.findings)


async def test_one_click_extra_copy_unsigned(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    message = _message()
    # Signed once each, not oversigned, so a copy added on top keeps the
    # signature valid but is itself unsigned.
    field = dkim.DKIM(message).sign(
        b"r1",
        b"example.com",
        key_files.rsa.secret,
        include_headers=[b"from", b"list-unsubscribe", b"list-unsubscribe-post"],
        canonicalize=(b"relaxed", b"relaxed"),
    )
    added = b"List-Unsubscribe: <https://attacker.example/u>\r\n"
    verdict = await verify_message(field + added + message, resolver=make_resolver())
    assert verdict.dkim[0].passed
    assert "auth.one_click_unsigned" in _codes(verdict.findings)


@pytest.mark.parametrize(
    "fields",
    [
        {"subject": "hi\r\nBcc: victim@example.net"},
        {"to_address": "b@example.net\nX-Injected: 1"},
        {"unsubscribe_url": "https://example.com/u\r\nX-Injected: 1"},
        {"unsubscribe_url": "https://example.com/u>, <mailto:x@example.net"},
        {"subject": "x" * 2000},
    ],
)
def test_message_options_checked(fields: dict[str, str]) -> None:
    with pytest.raises(InputError):
        _message(**fields)


def test_test_message_encodes_non_ascii() -> None:
    message = build_test_message(
        TestMessage(from_address="Jösé <news@bücher.example>", subject="Grüße €")
    )
    header_section = message.split(b"\r\n\r\n", 1)[0]
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    assert header_section.isascii()
    assert parsed["Subject"] == "Grüße €"
    assert parsed["From"].addresses[0].domain == "xn--bcher-kva.example"


def _encoded(key: PrivateKey, kind: str) -> bytes:
    if kind == "openssh":
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("openssh", "OpenSSH private key"), ("der", "binary DER")],
)
def test_key_format_named(tmp_path: Path, kind: str, expected: str) -> None:
    key = generate_key("ed25519")
    path = tmp_path / "key"
    path.write_bytes(_encoded(key, kind))
    with pytest.raises(InputError, match=expected):
        load_private_key(path)


def test_certificate_rejected(tmp_path: Path) -> None:
    key = generate_key("ed25519")
    assert not isinstance(key, rsa.RSAPrivateKey)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=1))
        .sign(key, None)
    )
    path = tmp_path / "cert.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(InputError, match="certificate"):
        load_private_key(path)


def test_two_keys_rejected(tmp_path: Path, key_files: KeyFiles) -> None:
    path = tmp_path / "two.pem"
    path.write_bytes(key_files.rsa_path.read_bytes() + key_files.ed_path.read_bytes())
    with pytest.raises(InputError, match="2 private keys"):
        load_private_key(path)


def test_ssh_public_key_rejected(tmp_path: Path) -> None:
    ssh_keygen = require_program("ssh-keygen")
    path = tmp_path / "id"
    subprocess.run(
        [ssh_keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    with pytest.raises(InputError, match="OpenSSH public key"):
        load_private_key(path.with_suffix(".pub"))


async def test_keycheck_names_other_key(
    tmp_path: Path, make_resolver: Resolvers
) -> None:
    other = load_private_key(
        write_private_key(tmp_path / "other.pem", generate_key("rsa", 1024))
    )
    check = await check_key(
        other, selector="r1", domain=DOMAIN, resolver=make_resolver()
    )
    assert check.result == "mismatch"
    assert "another public key" in check.findings[0].message


def test_endless_key_file_rejected() -> None:
    # /dev/zero reports size 0 and never ends, so only a bounded read stops.
    with pytest.raises(InputError, match="too large for a private key"):
        load_private_key("/dev/zero")
