"""A receiver's verdict: SPF, DKIM, DMARC, iprev and the sender rules."""

from __future__ import annotations

import random
from collections.abc import Callable

import dkim
import pytest

from deliverability.auth import (
    Connection,
    Signer,
    TestMessage,
    build_test_message,
    check_host,
    sign_message,
    verify_message,
)
from deliverability.dns import TXTRecord, ZoneResolver
from deliverability.errors import InputError
from deliverability.findings import Finding

from .conftest import DOMAIN, SOA, KeyFiles
from .records import RecordResolver

Resolvers = Callable[..., ZoneResolver]


def _codes(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


def _signed(keys: KeyFiles, from_address: str = "news@example.com") -> bytes:
    message = build_test_message(TestMessage(from_address=from_address))
    return sign_message(message, [Signer(keys.rsa, "r1", DOMAIN)])


async def test_aligned_pass(key_files: KeyFiles, make_resolver: Resolvers) -> None:
    verdict = await verify_message(
        _signed(key_files),
        resolver=make_resolver(),
        connection=Connection(ip="192.0.2.10", mail_from="bounce@example.com"),
    )
    assert verdict.passed
    assert verdict.spf is not None and verdict.spf.result == "pass"
    assert verdict.iprev is not None and verdict.iprev.result == "pass"
    assert verdict.findings == []


async def test_header_lists_methods(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    verdict = await verify_message(
        _signed(key_files),
        resolver=make_resolver(),
        authserv_id="mx.example.net",
        connection=Connection(ip="192.0.2.10", mail_from="bounce@example.com"),
    )
    header = verdict.header()
    assert header.startswith("Authentication-Results: mx.example.net; spf=pass")
    assert "dkim=pass (2048-bit key) header.d=example.com" in header
    assert "dmarc=pass" in header
    assert "policy.dmarc=reject" in header
    assert "iprev=pass (mail.example.com) policy.iprev=192.0.2.10" in header


async def test_quoted_comma_in_from(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    signed = _signed(key_files, '"Doe, Jane" <jane@example.com>')
    verdict = await verify_message(signed, resolver=make_resolver())
    assert verdict.author.domains == ("example.com",)
    assert verdict.dmarc.result == "pass"


async def test_from_without_address(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    message = _signed(key_files).replace(b"From: news@example.com", b'From: "Jane Doe"')
    verdict = await verify_message(message, resolver=make_resolver())
    assert verdict.dmarc.result == "permerror"
    assert "auth.from_invalid" in _codes(verdict.findings)
    assert "dmarc=permerror" in verdict.header()


async def test_two_from_fields(key_files: KeyFiles, make_resolver: Resolvers) -> None:
    message = b"From: other@example.org\r\n" + _signed(key_files)
    verdict = await verify_message(message, resolver=make_resolver())
    assert "auth.from_invalid" in _codes(verdict.findings)
    assert not verdict.passed


async def test_include_through_cname() -> None:
    resolver = ZoneResolver(
        texts={
            "example.net": (
                f"$ORIGIN example.net.\n{SOA}"
                '@ IN TXT "v=spf1 include:spf.example.net -all"\n'
                "spf IN CNAME spf.provider.example.\n"
            ),
            "provider.example": (
                f"$ORIGIN provider.example.\n{SOA}"
                'spf IN TXT "v=spf1 ip4:198.51.100.0/24 -all"\n'
            ),
        }
    )
    result = await check_host(
        "198.51.100.7",
        mail_from="a@example.net",
        helo="mx.example.net",
        resolver=resolver,
    )
    assert result.result == "pass"
    assert result.dns_lookups == 1


MX_ZONE = (
    f"$ORIGIN example.org.\n{SOA}"
    '@ IN TXT "v=spf1 mx ~all"\n'
    "@ IN MX 10 mx1\n@ IN MX 20 mx2\n@ IN MX 30 mx3\n"
    "mx1 IN A 192.0.2.1\nmx2 IN A 192.0.2.2\nmx3 IN A 192.0.2.3\n"
)


async def test_ipv6_mx_void_limit() -> None:
    # Each MX host without AAAA is one void lookup; the third exceeds the
    # limit of two (RFC 7208, section 4.6.4), read literally.
    result = await check_host(
        "2001:db8::5",
        mail_from="a@example.org",
        helo="h.example.org",
        resolver=ZoneResolver(texts={"example.org": MX_ZONE}),
    )
    assert result.result == "permerror"
    assert result.void_lookups == 3


async def test_ipv4_mx_unaffected() -> None:
    result = await check_host(
        "192.0.2.3",
        mail_from="a@example.org",
        helo="h.example.org",
        resolver=ZoneResolver(texts={"example.org": MX_ZONE}),
    )
    assert result.result == "pass"


async def test_ipv6_mx_warning(key_files: KeyFiles, make_resolver: Resolvers) -> None:
    resolver = make_resolver(example_org=MX_ZONE)
    verdict = await verify_message(
        _signed(key_files),
        resolver=resolver,
        connection=Connection(ip="2001:db8::5", mail_from="a@example.org"),
    )
    fragile = [f for f in verdict.findings if f.code == "auth.spf_ipv6_fragile"]
    assert len(fragile) == 1
    assert "mx1.example.org" in fragile[0].message


async def test_one_click_missing(key_files: KeyFiles, make_resolver: Resolvers) -> None:
    message = _signed(key_files).replace(
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", b""
    )
    verdict = await verify_message(message, resolver=make_resolver())
    assert "auth.one_click_missing" in _codes(verdict.findings)


async def test_one_click_unsigned(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    message = build_test_message(TestMessage(from_address="news@example.com"))
    # Signed with dkimpy directly, with a header list that leaves them out.
    bare = dkim.DKIM(message).sign(
        b"r1",
        b"example.com",
        key_files.rsa.secret,
        include_headers=[b"from", b"to", b"subject"],
        canonicalize=(b"relaxed", b"relaxed"),
    )
    verdict = await verify_message(bare + message, resolver=make_resolver())
    assert verdict.passed
    assert "auth.one_click_unsigned" in _codes(verdict.findings)


async def test_unsigned_message(make_resolver: Resolvers) -> None:
    message = build_test_message(TestMessage(from_address="news@example.com"))
    verdict = await verify_message(message, resolver=make_resolver())
    assert "auth.dkim_missing" in _codes(verdict.findings)
    assert verdict.dmarc.result == "fail"


async def test_unaligned_signature(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    signed = _signed(key_files, "news@example.org")
    resolver = make_resolver(
        example_org=(
            f'$ORIGIN example.org.\n{SOA}_dmarc IN TXT "v=DMARC1; p=quarantine"\n'
        )
    )
    verdict = await verify_message(signed, resolver=resolver)
    assert verdict.dmarc.result == "fail"
    assert verdict.dmarc.policy == "quarantine"
    assert "auth.dkim_unaligned" in _codes(verdict.findings)


async def test_relaxed_alignment_subdomain(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    signed = _signed(key_files, "news@mail.example.com")
    verdict = await verify_message(signed, resolver=make_resolver())
    assert verdict.dmarc.result == "pass"
    assert verdict.dmarc.policy_source == "_dmarc.example.com"


async def test_strict_alignment_subdomain(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    resolver = make_resolver('_dmarc.mail IN TXT "v=DMARC1; p=reject; adkim=s"\n')
    signed = _signed(key_files, "news@mail.example.com")
    verdict = await verify_message(signed, resolver=resolver)
    assert verdict.dmarc.result == "fail"


async def test_broken_signature_tags(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    message = b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; garbage\r\n" + (
        _signed(key_files)
    )
    verdict = await verify_message(message, resolver=make_resolver())
    assert verdict.dkim[0].result == "permerror"
    assert verdict.dkim[1].passed
    assert verdict.passed


async def test_missing_key_tag(key_files: KeyFiles, make_resolver: Resolvers) -> None:
    message = _signed(key_files).replace(b" s=r1;", b"", 1)
    verdict = await verify_message(message, resolver=make_resolver())
    assert verdict.dkim[0].result == "permerror"
    assert "auth.dkim_fail" in _codes(verdict.findings)


async def test_revoked_key(key_files: KeyFiles, make_resolver: Resolvers) -> None:
    message = _signed(key_files).replace(b" s=r1;", b" s=gone;", 1)
    resolver = make_resolver('gone._domainkey IN TXT "v=DKIM1; p="\n')
    verdict = await verify_message(message, resolver=resolver)
    assert verdict.dkim[0].result == "permerror"
    assert "revoked" in verdict.dkim[0].reason


async def test_key_lookup_timeout(key_files: KeyFiles) -> None:
    resolver = RecordResolver(
        {}, failing=["r1._domainkey.example.com", "_dmarc.example.com"]
    )
    verdict = await verify_message(_signed(key_files), resolver=resolver)
    assert verdict.dkim[0].result == "temperror"
    assert verdict.dmarc.result == "temperror"
    assert not verdict.complete


async def test_dmarc_lookup_failure_not_none(key_files: KeyFiles) -> None:
    key = TXTRecord((key_files.rsa.record.encode(),))
    resolver = RecordResolver(
        {("r1._domainkey.example.com", "TXT"): [key]},
        failing=["_dmarc.example.com"],
    )
    verdict = await verify_message(_signed(key_files), resolver=resolver)
    assert verdict.dkim[0].passed
    assert verdict.dmarc.result == "temperror"


async def test_spf_timeout_is_temperror(key_files: KeyFiles) -> None:
    resolver = RecordResolver({}, failing=["example.com"])
    result = await check_host(
        "192.0.2.10", mail_from="a@example.com", helo="x", resolver=resolver
    )
    assert result.result == "temperror"


async def test_resolver_counts_lookups(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    resolver = make_resolver()
    connection = Connection(ip="192.0.2.10", mail_from="bounce@example.com")
    await verify_message(_signed(key_files), resolver=resolver, connection=connection)
    first = resolver.stats.queries
    await verify_message(_signed(key_files), resolver=resolver, connection=connection)
    assert first > 0
    assert resolver.stats.queries == first
    assert resolver.stats.cache_hits >= first


async def test_malformed_message_error(make_resolver: Resolvers) -> None:
    with pytest.raises(InputError, match="no header fields"):
        await verify_message(b"\r\nbody only\r\n", resolver=make_resolver())


async def test_invalid_ip(key_files: KeyFiles, make_resolver: Resolvers) -> None:
    with pytest.raises(InputError, match="invalid IP address"):
        await verify_message(
            _signed(key_files),
            resolver=make_resolver(),
            connection=Connection(ip="300.1.2.3"),
        )


async def test_binary_garbage_headers(make_resolver: Resolvers) -> None:
    message = b"From: a@example.com\r\nDKIM-Signature: \xff\xfe\x00;;==\r\n\r\nx\r\n"
    verdict = await verify_message(message, resolver=make_resolver())
    assert verdict.dkim[0].result == "permerror"


async def test_identity_shorter_than_domain(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    message = _signed(key_files).replace(b"i=@example.com", b"i=@e", 1)
    verdict = await verify_message(message, resolver=make_resolver())
    assert verdict.dkim[0].result == "permerror"


async def test_mutated_messages_never_raise(
    key_files: KeyFiles, make_resolver: Resolvers
) -> None:
    # Seeded random edits of the signature and header bytes: every outcome
    # must be a verdict or an InputError, never another exception.
    original = _signed(key_files, '"Doe, Jane" <jane@example.com>')
    resolver = make_resolver()
    rng = random.Random(7)
    alphabet = b';=:\r\n \t\x00\xff"<>@,()\\ab'
    verdicts = 0
    for _ in range(150):
        data = bytearray(original)
        for _ in range(rng.randint(1, 6)):
            position = rng.randrange(min(len(data), 1400))
            data[position] = rng.choice(alphabet)
        try:
            verdict = await verify_message(bytes(data), resolver=resolver)
        except InputError:
            continue
        verdicts += 1
        assert verdict.header().startswith("Authentication-Results:")
    assert verdicts > 100
