"""Tests of the DKIM key record parser, with keys generated here."""

from __future__ import annotations

import base64
import functools
import json
import secrets
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from deliverability.audit.dkim_record import DKIMKeyRecord
from deliverability.findings import Severity

_DER = serialization.Encoding.DER
_SPKI = serialization.PublicFormat.SubjectPublicKeyInfo


def _probable_prime(bits: int) -> int:
    """Return a random prime of exactly ``bits`` bits (Fermat test, 8 bases)."""
    while True:
        candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1
        if all(
            pow(base, candidate - 1, candidate) == 1
            for base in (2, 3, 5, 7, 11, 13, 17, 19)
        ):
            return candidate


def small_rsa_key(bits: int) -> rsa.RSAPublicKey:
    """An RSA public key of ``bits`` bits that cryptography refuses to generate."""
    half = bits // 2
    modulus = _probable_prime(half) * _probable_prime(bits - half)
    return rsa.RSAPublicNumbers(65537, modulus).public_key()


@functools.cache
def rsa_key(bits: int) -> rsa.RSAPublicKey:
    if bits < 1024:
        return small_rsa_key(bits)
    return rsa.generate_private_key(65537, bits).public_key()


@functools.cache
def long_rsa_key() -> rsa.RSAPublicKey:
    """A multi-prime RSA key of about 5100 bits, built from three fast keys."""
    modulus = 1
    for bits in (2048, 2048, 1024):
        numbers = rsa.generate_private_key(65537, bits).private_numbers()
        modulus *= numbers.p * numbers.q
    return rsa.RSAPublicNumbers(65537, modulus).public_key()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def rsa_p(bits: int) -> str:
    return b64(rsa_key(bits).public_bytes(_DER, _SPKI))


@functools.cache
def ed_private() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def ed_p() -> str:
    raw = (
        ed_private()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return b64(raw)


def codes(record: DKIMKeyRecord) -> list[str]:
    return [f.code for f in record.findings]


def test_rsa_2048_valid() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; k=rsa; p={rsa_p(2048)}")
    assert codes(record) == []
    assert record.status == "valid"
    assert record.bits == 2048
    assert record.key_type == "rsa"
    assert record.key_format == "spki"


def test_rsa_default_key_type() -> None:
    record = DKIMKeyRecord.from_text(f"p={rsa_p(2048)}")
    assert record.key_type == "rsa"
    assert record.bits == 2048


def test_rsa_1024_warns() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; p={rsa_p(1024)}")
    assert codes(record) == ["dkim.rsa_short"]
    assert record.findings[0].severity is Severity.WARNING
    assert record.status == "valid"
    assert record.bits == 1024


def test_rsa_512_is_error() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; p={rsa_p(512)}")
    assert codes(record) == ["dkim.rsa_too_short"]
    assert record.bits == 512
    assert record.status == "invalid"


def test_rsa_over_4096_warns() -> None:
    key = long_rsa_key()
    record = DKIMKeyRecord.from_text(f"p={b64(key.public_bytes(_DER, _SPKI))}")
    assert codes(record) == ["dkim.rsa_long"]
    assert record.bits == key.key_size
    assert key.key_size > 4096


def test_pkcs1_key_read_with_warning() -> None:
    der = rsa_key(2048).public_bytes(_DER, serialization.PublicFormat.PKCS1)
    record = DKIMKeyRecord.from_text(f"v=DKIM1; p={b64(der)}")
    assert codes(record) == ["dkim.pkcs1_key"]
    assert record.bits == 2048
    assert record.key_format == "pkcs1"
    assert record.status == "valid"


def test_ed25519_valid() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; k=ed25519; p={ed_p()}")
    assert codes(record) == []
    assert record.key_type == "ed25519"
    assert record.bits is None
    assert record.status == "valid"


def test_ed25519_spki_rejected() -> None:
    der = ed_private().public_key().public_bytes(_DER, _SPKI)
    record = DKIMKeyRecord.from_text(f"v=DKIM1; k=ed25519; p={b64(der)}")
    assert codes(record) == ["dkim.ed25519_size"]
    assert "SubjectPublicKeyInfo" in record.findings[0].message


def test_ed25519_wrong_length() -> None:
    record = DKIMKeyRecord.from_text(f"k=ed25519; p={b64(b'x' * 31)}")
    assert codes(record) == ["dkim.ed25519_size"]


def test_ed25519_key_without_k() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; p={ed_p()}")
    assert codes(record) == ["dkim.invalid_key"]
    assert "k=ed25519" in record.findings[0].message


def test_ec_key_is_not_rsa() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    record = DKIMKeyRecord.from_text(f"p={b64(key.public_bytes(_DER, _SPKI))}")
    assert codes(record) == ["dkim.invalid_key"]


def test_garbage_key_data() -> None:
    record = DKIMKeyRecord.from_text("p=AAAAAAAA")
    assert codes(record) == ["dkim.invalid_key"]
    assert record.status == "invalid"


def test_broken_base64() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; p={rsa_p(2048)[:-3]}!")
    assert codes(record) == ["dkim.invalid_base64"]
    assert record.status == "invalid"


def test_truncated_base64() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; p={rsa_p(2048)[:-1]}")
    assert codes(record) == ["dkim.invalid_base64"]


def test_whitespace_inside_key_ignored() -> None:
    value = rsa_p(2048)
    spaced = " ".join(value[i : i + 60] for i in range(0, len(value), 60))
    record = DKIMKeyRecord.from_text(f"v=DKIM1; p={spaced}")
    assert codes(record) == []
    assert record.bits == 2048


def test_empty_p_is_revoked() -> None:
    record = DKIMKeyRecord.from_text("v=DKIM1; k=rsa; p=")
    assert codes(record) == []
    assert record.revoked
    assert record.status == "revoked"


def test_missing_p() -> None:
    record = DKIMKeyRecord.from_text("v=DKIM1; k=rsa")
    assert codes(record) == ["dkim.missing_key"]
    assert record.status == "invalid"


def test_unknown_key_type() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; k=dsa; p={rsa_p(2048)}")
    assert codes(record) == ["dkim.unknown_key_type"]
    assert record.status == "invalid"


def test_version_not_first() -> None:
    record = DKIMKeyRecord.from_text(f"k=rsa; v=DKIM1; p={rsa_p(2048)}")
    assert codes(record) == ["dkim.invalid_version"]


def test_wrong_version() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM2; p={rsa_p(2048)}")
    assert codes(record) == ["dkim.invalid_version"]


def test_tag_names_case_sensitive() -> None:
    record = DKIMKeyRecord.from_text(f"V=DKIM1; P={rsa_p(2048)}")
    assert codes(record) == ["dkim.missing_key"]


def test_sha1_only_is_error() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; h=sha1; p={rsa_p(2048)}")
    assert codes(record) == ["dkim.weak_hash"]
    assert record.status == "invalid"


def test_sha1_and_sha256_fine() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; h=sha1:sha256; p={rsa_p(2048)}")
    assert codes(record) == []
    assert record.hash_algorithms == ("sha1", "sha256")


@pytest.mark.parametrize("services", ["email", "*", "email:other"])
def test_service_includes_email(services: str) -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; s={services}; p={rsa_p(2048)}")
    assert codes(record) == []


def test_service_not_email() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; s=other; p={rsa_p(2048)}")
    assert codes(record) == ["dkim.service_not_email"]


def test_testing_flag() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; t=y; p={rsa_p(2048)}")
    assert codes(record) == ["dkim.testing"]
    assert record.testing
    assert record.status == "valid"


def test_strict_subdomain_flag() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; t=s; p={rsa_p(2048)}")
    assert codes(record) == ["dkim.strict_subdomain"]
    assert not record.testing
    assert record.flags == ("s",)


def test_duplicate_tag() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; p={rsa_p(2048)}; p=")
    assert codes(record) == ["dkim.duplicate_tag"]
    assert record.status == "invalid"


def test_syntax_error() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; garbage; p={rsa_p(2048)}")
    assert codes(record) == ["dkim.syntax"]


def test_non_ascii_value() -> None:
    record = DKIMKeyRecord.from_text(f"v=DKIM1; n=caf\u00e9; p={rsa_p(2048)}")
    assert codes(record) == ["dkim.syntax"]


def test_to_dict() -> None:
    data = DKIMKeyRecord.from_text(f"v=DKIM1; h=sha256; t=y; p={rsa_p(2048)}").to_dict()
    assert data["status"] == "valid"
    assert data["bits"] == 2048
    assert data["testing"] is True
    assert data["hash_algorithms"] == ["sha256"]
    assert data["service_types"] == ["*"]
    json.dumps(data)


def test_to_text_round_trip() -> None:
    text = f"v=DKIM1 ;k=rsa; t=s:y ; p={rsa_p(2048)};"
    record = DKIMKeyRecord.from_text(text)
    again = DKIMKeyRecord.from_text(record.to_text())
    assert again.tags == record.tags
    assert again.bits == record.bits


@settings(max_examples=500, database=None, deadline=None)
@given(st.text())
def test_fuzz_arbitrary_text(text: str) -> None:
    record = DKIMKeyRecord.from_text(text)
    assert record.status in ("valid", "revoked", "invalid")
    record.to_dict()


@settings(max_examples=300, database=None, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("vkphst=;:DKIM1rsaed25519AB+/= \t")),
    st.binary(max_size=80),
)
def test_fuzz_tag_soup(tags: str, key: bytes) -> None:
    record = DKIMKeyRecord.from_text(f"{tags}; p={b64(key)}")
    assert all(f.check == "dkim" for f in record.findings)


def _real_keys(corpus: Path) -> dict[str, str]:
    """Return ``selector._domainkey.domain`` to record text from real-dns."""
    data = json.loads((corpus / "real-dns" / "records.json").read_text("utf-8"))
    keys: dict[str, str] = {}
    for domain, entry in data.items():
        if not isinstance(entry, dict):
            continue
        selectors = entry.get("selector._domainkey TXT") or {}
        for selector, found in selectors.items():
            texts = found["TXT"] if isinstance(found, dict) else found
            keys[f"{selector}._domainkey.{domain}"] = texts[0]
    return keys


def test_real_world_keys(corpus_dir: Path) -> None:
    keys = _real_keys(corpus_dir)
    assert len(keys) >= 10
    for name, text in keys.items():
        record = DKIMKeyRecord.from_text(text, location=name)
        assert record.key_type == "rsa", name
        assert record.bits is not None and record.bits >= 1024, name


def test_real_github_key(corpus_dir: Path) -> None:
    text = _real_keys(corpus_dir)["pf2014._domainkey.github.com"]
    record = DKIMKeyRecord.from_text(text)
    assert record.bits == 1024
    assert codes(record) == ["dkim.rsa_short"]
    assert record.findings[0].evidence == text
