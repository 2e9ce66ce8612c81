"""DKIM key records: a pure parser with no DNS (RFC 6376, RFC 8301, RFC 8463).

:meth:`DKIMKeyRecord.from_text` reads the TXT record published at
``<selector>._domainkey.<domain>``: the tag-list syntax of RFC 6376,
section 3.2 (tag names are case-sensitive there, unlike DMARC's), the key
record tags of section 3.6.1, and the public key itself, loaded with
``cryptography`` to learn its type and size. It never raises: faults become
findings on the returned record.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from ..findings import Finding, Severity, rule

__all__ = [
    "DKIMKeyRecord",
    "DKIM_DUPLICATE_TAG",
    "DKIM_ED25519_SIZE",
    "DKIM_INVALID_BASE64",
    "DKIM_INVALID_KEY",
    "DKIM_INVALID_VERSION",
    "DKIM_MISSING_KEY",
    "DKIM_PKCS1_KEY",
    "DKIM_RSA_LONG",
    "DKIM_RSA_SHORT",
    "DKIM_RSA_TOO_SHORT",
    "DKIM_SERVICE_NOT_EMAIL",
    "DKIM_STRICT_SUBDOMAIN",
    "DKIM_SYNTAX",
    "DKIM_TESTING",
    "DKIM_UNKNOWN_KEY_TYPE",
    "DKIM_WEAK_HASH",
    "MIN_RSA_BITS",
    "RECOMMENDED_RSA_BITS",
]

#: Verifiers must reject smaller RSA keys (RFC 8301, section 3.2).
MIN_RSA_BITS = 1024
#: Signers should use at least this size (RFC 8301, section 3.2).
RECOMMENDED_RSA_BITS = 2048
#: Verifiers must accept keys up to this size, so larger ones may fail.
MAX_VERIFIED_RSA_BITS = 4096
_ED25519_KEY_BYTES = 32

_REF_RECORD = "RFC 6376, section 3.6.1"

DKIM_SYNTAX = rule(
    "dkim.syntax",
    "dkim",
    Severity.ERROR,
    "DKIM key record has a syntax error",
    fix=(
        "Write the record as tag=value pairs separated by semicolons, e.g. "
        '"v=DKIM1; k=rsa; p=MIIBIjANBg...".'
    ),
    reference="RFC 6376, section 3.2",
)
DKIM_DUPLICATE_TAG = rule(
    "dkim.duplicate_tag",
    "dkim",
    Severity.ERROR,
    "DKIM key record repeats a tag",
    fix="Keep one copy of the tag, because verifiers reject a repeated tag.",
    reference="RFC 6376, section 3.2",
)
DKIM_INVALID_VERSION = rule(
    "dkim.invalid_version",
    "dkim",
    Severity.ERROR,
    "DKIM key record has a bad v= tag",
    fix="Remove v= or make it v=DKIM1 as the first tag of the record.",
    reference=_REF_RECORD,
)
DKIM_MISSING_KEY = rule(
    "dkim.missing_key",
    "dkim",
    Severity.ERROR,
    "DKIM key record has no p= tag",
    fix="Publish the public key in p=, or an empty p= to revoke the selector.",
    reference=_REF_RECORD,
)
DKIM_UNKNOWN_KEY_TYPE = rule(
    "dkim.unknown_key_type",
    "dkim",
    Severity.ERROR,
    "DKIM key type is not rsa or ed25519",
    fix="Set k=rsa (or leave k= out) or k=ed25519 to match the key in p=.",
    reference="RFC 6376, section 3.6.1; RFC 8463, section 4.2",
)
DKIM_INVALID_BASE64 = rule(
    "dkim.invalid_base64",
    "dkim",
    Severity.ERROR,
    "DKIM public key is not valid base64",
    fix=(
        "Publish the key again from the signer's configuration; check that no "
        "character was lost when the record was split into strings."
    ),
    reference="RFC 6376, section 3.6.1",
)
DKIM_INVALID_KEY = rule(
    "dkim.invalid_key",
    "dkim",
    Severity.ERROR,
    "DKIM public key cannot be read",
    fix="Publish the public key that matches the signer's private key.",
    reference="RFC 6376, section 3.6.1; RFC 8463, section 4.2",
)
DKIM_PKCS1_KEY = rule(
    "dkim.pkcs1_key",
    "dkim",
    Severity.WARNING,
    "DKIM RSA key is a bare PKCS#1 key",
    fix=(
        "Publish the key as a SubjectPublicKeyInfo (openssl rsa -pubout); "
        "some verifiers cannot read a bare RSAPublicKey."
    ),
    reference="RFC 6376, section 3.6.1",
)
DKIM_ED25519_SIZE = rule(
    "dkim.ed25519_size",
    "dkim",
    Severity.ERROR,
    "DKIM Ed25519 key is not 32 bytes",
    fix="Publish the raw 32-byte Ed25519 public key, base64-encoded, in p=.",
    reference="RFC 8463, section 4.2",
)
DKIM_RSA_TOO_SHORT = rule(
    "dkim.rsa_too_short",
    "dkim",
    Severity.ERROR,
    "DKIM RSA key is shorter than 1024 bits",
    fix="Generate a 2048-bit key, publish it under a new selector, and sign with it.",
    reference="RFC 8301, section 3.2",
)
DKIM_RSA_SHORT = rule(
    "dkim.rsa_short",
    "dkim",
    Severity.WARNING,
    "DKIM RSA key is shorter than 2048 bits",
    fix="Move to a 2048-bit key under a new selector.",
    reference="RFC 8301, section 3.2",
)
DKIM_RSA_LONG = rule(
    "dkim.rsa_long",
    "dkim",
    Severity.WARNING,
    "DKIM RSA key is longer than 4096 bits",
    fix="Use a 2048-bit or 4096-bit key; verifiers need not accept larger ones.",
    reference="RFC 8301, section 3.2",
)
DKIM_WEAK_HASH = rule(
    "dkim.weak_hash",
    "dkim",
    Severity.ERROR,
    "DKIM key allows no hash algorithm that verifiers accept",
    fix="Remove h= or set h=sha256; rsa-sha1 signatures must not be verified.",
    reference="RFC 8301, section 3.1",
)
DKIM_SERVICE_NOT_EMAIL = rule(
    "dkim.service_not_email",
    "dkim",
    Severity.ERROR,
    "DKIM key is not for email",
    fix="Remove s= or set s=email (or s=*).",
    reference=_REF_RECORD,
)
DKIM_TESTING = rule(
    "dkim.testing",
    "dkim",
    Severity.WARNING,
    "DKIM key is in testing mode (t=y)",
    fix="Remove the y flag from t= once signing works; verifiers may ignore failures.",
    reference=_REF_RECORD,
)
DKIM_STRICT_SUBDOMAIN = rule(
    "dkim.strict_subdomain",
    "dkim",
    Severity.INFO,
    "DKIM key forbids subdomains in i= (t=s)",
    fix="Nothing to do unless signatures use an i= in a subdomain of d=.",
    reference=_REF_RECORD,
)

_FWS = " \t\r\n"
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_TAG_VALUE = re.compile(r"[\x21-\x3a\x3c-\x7e]+(?:[ \t\r\n]+[\x21-\x3a\x3c-\x7e]+)*")
_WHITESPACE = re.compile(r"[ \t\r\n]+")
_KEY_TYPES = ("rsa", "ed25519")
_ACCEPTED_HASHES = frozenset({"sha256"})


@dataclass(frozen=True, slots=True)
class DKIMKeyRecord:
    """A parsed DKIM key record and the faults found in it."""

    text: str
    tags: tuple[tuple[str, str], ...]
    """Every well-formed tag in order, names as published, values trimmed."""
    findings: tuple[Finding, ...]
    key_type: str
    """The ``k=`` value as published, ``rsa`` when absent."""
    public_key: bytes | None
    """The decoded ``p=`` data; ``b""`` when revoked, ``None`` when absent."""
    bits: int | None = None
    """The RSA modulus size; ``None`` for Ed25519 and unreadable keys."""
    key_format: str | None = None
    """``spki`` or ``pkcs1`` for RSA, ``raw`` for Ed25519."""

    @classmethod
    def from_text(cls, text: str, *, location: str | None = None) -> DKIMKeyRecord:
        """Parse ``text``; never raises, whatever the input.

        ``location`` (e.g. ``sel._domainkey.example.com``) is set on each
        finding.
        """
        return _Parser(text, location).parse()

    def to_text(self) -> str:
        """Return the record as ``name=value; ...`` in tag order."""
        return "; ".join(f"{name}={value}" for name, value in self.tags)

    def get(self, name: str) -> str | None:
        """Return the value of tag ``name`` (case-sensitive), or ``None``."""
        for tag, value in self.tags:
            if tag == name:
                return value
        return None

    def _list(self, name: str) -> tuple[str, ...] | None:
        return _colon_list(self.get(name))

    @property
    def hash_algorithms(self) -> tuple[str, ...] | None:
        """The ``h=`` list, or ``None`` when every algorithm is allowed."""
        return self._list("h")

    @property
    def service_types(self) -> tuple[str, ...]:
        """The ``s=`` list; ``("*",)`` when absent."""
        return self._list("s") or ("*",)

    @property
    def flags(self) -> tuple[str, ...]:
        """The ``t=`` flags, e.g. ``("y",)``."""
        return self._list("t") or ()

    @property
    def testing(self) -> bool:
        """Whether ``t=`` has the ``y`` flag (the domain is testing DKIM)."""
        return "y" in self.flags

    @property
    def revoked(self) -> bool:
        """Whether ``p=`` is empty, which revokes the key."""
        return self.public_key == b""

    @property
    def status(self) -> str:
        """``valid``, ``revoked`` or ``invalid`` (any error finding)."""
        if any(f.severity is Severity.ERROR for f in self.findings):
            return "invalid"
        if self.revoked:
            return "revoked"
        return "valid"

    def to_dict(self) -> dict[str, Any]:
        """Return the facts of the key as JSON-ready values."""
        return {
            "status": self.status,
            "key_type": self.key_type,
            "bits": self.bits,
            "key_format": self.key_format,
            "testing": self.testing,
            "flags": list(self.flags),
            "hash_algorithms": (
                list(self.hash_algorithms) if self.hash_algorithms else None
            ),
            "service_types": list(self.service_types),
        }


class _Parser:
    """One parse of one key record, which collects findings as it goes."""

    def __init__(self, text: str, location: str | None) -> None:
        self.text = text
        self.location = location
        self.findings: list[Finding] = []
        self.tags: list[tuple[str, str]] = []

    def add(self, finding_rule: Any, message: str) -> None:
        self.findings.append(
            finding_rule.finding(message, evidence=self.text, location=self.location)
        )

    def parse(self) -> DKIMKeyRecord:
        self._split_tags()
        values = dict(self.tags)
        self._check_version()
        key_type = values.get("k", "rsa")
        public_key, bits, key_format = self._check_key(values, key_type)
        self._check_lists(values)
        if bits is not None:
            self._check_rsa_size(bits)
        return DKIMKeyRecord(
            text=self.text,
            tags=tuple(self.tags),
            findings=tuple(self.findings),
            key_type=key_type,
            public_key=public_key,
            bits=bits,
            key_format=key_format,
        )

    def _split_tags(self) -> None:
        seen: set[str] = set()
        for part in self.text.split(";"):
            spec = part.strip(_FWS)
            if not spec:
                continue
            name, equals, value = spec.partition("=")
            name, value = name.rstrip(_FWS), value.lstrip(_FWS)
            if not equals or _TAG_NAME.fullmatch(name) is None:
                self.add(
                    DKIM_SYNTAX, f"The part {spec[:40]!r} is not a name=value tag."
                )
                continue
            if value and _TAG_VALUE.fullmatch(value) is None:
                self.add(
                    DKIM_SYNTAX,
                    f"The value of {name} contains characters other than "
                    "printable ASCII.",
                )
                continue
            if name in seen:
                self.add(
                    DKIM_DUPLICATE_TAG,
                    f"The tag {name} appears more than once, so verifiers reject "
                    "the key record.",
                )
                continue
            seen.add(name)
            self.tags.append((name, value))

    def _check_version(self) -> None:
        names = [name for name, _ in self.tags]
        if "v" not in names:
            return
        value = dict(self.tags)["v"]
        if names[0] != "v":
            self.add(DKIM_INVALID_VERSION, "The tag v= is present but not first.")
        elif value != "DKIM1":
            self.add(
                DKIM_INVALID_VERSION,
                f"The tag v={value} is not v=DKIM1, so verifiers discard the record.",
            )

    def _check_key(
        self, values: dict[str, str], key_type: str
    ) -> tuple[bytes | None, int | None, str | None]:
        if key_type not in _KEY_TYPES:
            self.add(
                DKIM_UNKNOWN_KEY_TYPE,
                f"The key type k={key_type} is unknown, so verifiers ignore the key.",
            )
        encoded = values.get("p")
        if encoded is None:
            self.add(DKIM_MISSING_KEY, "The record has no p= tag holding a public key.")
            return None, None, None
        data = self._decode(encoded)
        if data is None or not data or key_type not in _KEY_TYPES:
            return data, None, None
        if key_type == "ed25519":
            return data, None, self._check_ed25519(data)
        bits, key_format = self._load_rsa(data)
        return data, bits, key_format

    def _decode(self, encoded: str) -> bytes | None:
        compact = _WHITESPACE.sub("", encoded)
        try:
            return base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError) as exc:
            self.add(DKIM_INVALID_BASE64, f"The p= value is not valid base64 ({exc}).")
            return None

    def _check_ed25519(self, data: bytes) -> str | None:
        if len(data) != _ED25519_KEY_BYTES:
            hint = ""
            if _is_ed25519_spki(data):
                hint = " It holds a SubjectPublicKeyInfo; publish only the raw key."
            self.add(
                DKIM_ED25519_SIZE,
                f"The Ed25519 key is {len(data)} bytes, not "
                f"{_ED25519_KEY_BYTES}.{hint}",
            )
            return None
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(data)
        except ValueError as exc:
            self.add(DKIM_INVALID_KEY, f"The Ed25519 key cannot be loaded ({exc}).")
            return None
        return "raw"

    def _load_rsa(self, data: bytes) -> tuple[int | None, str | None]:
        key = _load_der_or_pkcs1(data)
        if not isinstance(key, rsa.RSAPublicKey):
            found = "no public key" if key is None else type(key).__name__
            hint = ""
            if len(data) == _ED25519_KEY_BYTES:
                hint = " It is 32 bytes long, like an Ed25519 key: add k=ed25519."
            self.add(
                DKIM_INVALID_KEY,
                f"The p= data is not an RSA public key ({found} was found).{hint}",
            )
            return None, None
        # The loader accepts both encodings, so tell them apart by encoding
        # the key again in each and comparing.
        spki = key.public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        if data == spki:
            return int(key.key_size), "spki"
        self.add(
            DKIM_PKCS1_KEY,
            "The p= data is a bare PKCS#1 RSAPublicKey, not the "
            "SubjectPublicKeyInfo that RFC 6376 specifies.",
        )
        return int(key.key_size), "pkcs1"

    def _check_lists(self, values: dict[str, str]) -> None:
        hashes = _colon_list(values.get("h"))
        if hashes is not None and not _ACCEPTED_HASHES & set(hashes):
            allowed = ":".join(hashes) or "nothing"
            self.add(
                DKIM_WEAK_HASH,
                f"h={allowed} leaves out sha256, the only hash verifiers may "
                "accept (RFC 8301 forbids verifying rsa-sha1), so no signature "
                "made with this key verifies.",
            )
        services = _colon_list(values.get("s")) or ("*",)
        if "*" not in services and "email" not in services:
            self.add(
                DKIM_SERVICE_NOT_EMAIL,
                f"s={values.get('s', '')} does not include email or *, so "
                "verifiers must not use the key for mail.",
            )
        flags = _colon_list(values.get("t")) or ()
        if "y" in flags:
            self.add(
                DKIM_TESTING,
                "t=y marks the domain as testing DKIM: verifiers may treat "
                "signed mail as unsigned.",
            )
        if "s" in flags:
            self.add(
                DKIM_STRICT_SUBDOMAIN,
                "t=s requires the i= domain of signatures to equal d= exactly.",
            )

    def _check_rsa_size(self, bits: int) -> None:
        if bits < MIN_RSA_BITS:
            self.add(
                DKIM_RSA_TOO_SHORT,
                f"The RSA key has {bits} bits; verifiers must reject signatures "
                f"made with keys under {MIN_RSA_BITS} bits.",
            )
        elif bits < RECOMMENDED_RSA_BITS:
            self.add(
                DKIM_RSA_SHORT,
                f"The RSA key has {bits} bits; signers should use at least "
                f"{RECOMMENDED_RSA_BITS}.",
            )
        elif bits > MAX_VERIFIED_RSA_BITS:
            self.add(
                DKIM_RSA_LONG,
                f"The RSA key has {bits} bits; verifiers must accept only up to "
                f"{MAX_VERIFIED_RSA_BITS}.",
            )


def _colon_list(value: str | None) -> tuple[str, ...] | None:
    """Split a colon-separated tag value, dropping empty items and whitespace."""
    if value is None:
        return None
    items = (item.strip(_FWS) for item in value.split(":"))
    return tuple(item for item in items if item)


def _load_der_or_pkcs1(data: bytes) -> Any:
    """Load a DER public key (SubjectPublicKeyInfo or PKCS#1), or return ``None``."""
    try:
        return serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        pass
    body = base64.encodebytes(data).decode("ascii")
    pem = f"-----BEGIN RSA PUBLIC KEY-----\n{body}-----END RSA PUBLIC KEY-----\n"
    try:
        return serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnsupportedAlgorithm):
        return None


def _is_ed25519_spki(data: bytes) -> bool:
    try:
        key = serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        return False
    return isinstance(key, ed25519.Ed25519PublicKey)
