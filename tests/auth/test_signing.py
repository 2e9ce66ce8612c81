"""Signing: header list, oversigning, algorithms and the test message."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from deliverability.auth import (
    Signer,
    TestMessage,
    build_test_message,
    header_list,
    sign_message,
    verify_dkim,
)
from deliverability.auth.message import split_headers
from deliverability.dns import ZoneResolver
from deliverability.errors import InputError

from .conftest import DOMAIN, KeyFiles

MessageMaker = Callable[..., bytes]


def _message(from_address: str = "news@example.com") -> bytes:
    return build_test_message(TestMessage(from_address=from_address))


def _signed(keys: KeyFiles, message: bytes | None = None) -> bytes:
    signers = [Signer(keys.rsa, "r1", DOMAIN), Signer(keys.ed, "e1", DOMAIN)]
    return sign_message(message or _message(), signers)


def test_header_list_oversigns() -> None:
    headers, _ = split_headers(_message())
    names = header_list(headers)
    assert names.count(b"from") == 2
    assert names.count(b"list-unsubscribe-post") == 2


def test_header_list_covers_absent() -> None:
    names = header_list([(b"From", b" a@example.com\r\n")])
    assert b"list-unsubscribe" in names
    assert b"cc" not in names


def test_test_message_well_formed() -> None:
    headers, body = split_headers(_message())
    names = [name.lower() for name, _ in headers]
    for name in (b"from", b"to", b"subject", b"date", b"message-id"):
        assert names.count(name) == 1
    assert body.endswith(b"\r\n")


def test_test_message_needs_https() -> None:
    spec = TestMessage(from_address="a@example.com", unsubscribe_url="http://x.example")
    with pytest.raises(InputError, match="https"):
        build_test_message(spec)


def test_test_message_bad_from() -> None:
    with pytest.raises(InputError, match="--from"):
        build_test_message(TestMessage(from_address="Jane Doe"))


async def test_both_signatures_pass(
    key_files: KeyFiles, make_resolver: Callable[..., ZoneResolver]
) -> None:
    results = await verify_dkim(_signed(key_files), resolver=make_resolver())
    assert [r.algorithm for r in results] == ["rsa-sha256", "ed25519-sha256"]
    assert all(r.passed for r in results)


async def test_default_relaxed_relaxed(key_files: KeyFiles) -> None:
    assert b"c=relaxed/relaxed" in _signed(key_files)


async def test_added_header_breaks_signature(
    key_files: KeyFiles, make_resolver: Callable[..., ZoneResolver]
) -> None:
    signed = _signed(key_files)
    tampered = b"Subject: Win a prize\r\n" + signed
    results = await verify_dkim(tampered, resolver=make_resolver())
    assert [r.result for r in results] == ["fail", "fail"]


async def test_added_unsubscribe_breaks(
    key_files: KeyFiles, make_resolver: Callable[..., ZoneResolver]
) -> None:
    signed = _signed(key_files)
    tampered = signed.replace(
        b"List-Unsubscribe-Post:",
        b"List-Unsubscribe: <https://evil.example/>\r\nList-Unsubscribe-Post:",
        1,
    )
    results = await verify_dkim(tampered, resolver=make_resolver())
    assert not any(r.passed for r in results)


async def test_body_change_fails(
    key_files: KeyFiles, make_resolver: Callable[..., ZoneResolver]
) -> None:
    signed = _signed(key_files) + b"P.S. one more line\r\n"
    results = await verify_dkim(signed, resolver=make_resolver())
    assert all(r.result == "fail" for r in results)
    assert "body hash" in results[0].reason


async def test_lf_message_signs(
    key_files: KeyFiles, make_resolver: Callable[..., ZoneResolver]
) -> None:
    message = _message().replace(b"\r\n", b"\n")
    results = await verify_dkim(_signed(key_files, message), resolver=make_resolver())
    assert all(r.passed for r in results)


def test_rsa_sha1_rejected(key_files: KeyFiles) -> None:
    with pytest.raises(InputError, match="RFC 8301"):
        sign_message(
            _message(), [Signer(key_files.rsa, "r1", DOMAIN)], algorithm="rsa-sha1"
        )


def test_algorithm_must_fit_key(key_files: KeyFiles) -> None:
    with pytest.raises(InputError, match="does not fit"):
        sign_message(
            _message(), [Signer(key_files.ed, "e1", DOMAIN)], algorithm="rsa-sha256"
        )


def test_bad_canonicalization(key_files: KeyFiles) -> None:
    with pytest.raises(InputError, match="relaxed/relaxed"):
        sign_message(
            _message(), [Signer(key_files.rsa, "r1", DOMAIN)], canonicalization="nofws"
        )


def test_bad_selector(key_files: KeyFiles) -> None:
    with pytest.raises(InputError, match="selector"):
        sign_message(_message(), [Signer(key_files.rsa, "a b", DOMAIN)])


def test_no_signer() -> None:
    with pytest.raises(InputError, match="--key"):
        sign_message(_message(), [])


def test_not_a_message(key_files: KeyFiles) -> None:
    with pytest.raises(InputError, match="no header fields.*line 1 is"):
        sign_message(b"\x00\x01 just bytes", [Signer(key_files.rsa, "r1", DOMAIN)])


def test_oversized_message(key_files: KeyFiles) -> None:
    big = _message() + b"x" * (50 * 1024 * 1024)
    with pytest.raises(InputError, match="50 MB"):
        sign_message(big, [Signer(key_files.rsa, "r1", DOMAIN)])


def test_empty_header_section(key_files: KeyFiles) -> None:
    with pytest.raises(InputError, match="no header fields"):
        sign_message(b"\r\nbody only\r\n", [Signer(key_files.rsa, "r1", DOMAIN)])
