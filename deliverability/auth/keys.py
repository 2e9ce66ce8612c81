"""DKIM keys: generation, PEM files, key records and rotation plans.

Private keys are written as PKCS#8 PEM with mode 0600, and a file that exists
is never overwritten. No function here logs or returns key material in text
meant for people; :class:`SigningKey` hides it from ``repr``.
"""

from __future__ import annotations

import base64
import datetime
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from ..dns import normalize_domain
from ..errors import InputError

__all__ = [
    "ALGORITHMS",
    "check_selector",
    "MAX_RSA_BITS",
    "MIN_RSA_BITS",
    "PrivateKey",
    "SigningKey",
    "default_selector",
    "generate_key",
    "key_record",
    "load_private_key",
    "parse_private_key",
    "rotation_plan",
    "split_txt",
    "write_private_key",
    "zone_line",
]

ALGORITHMS = ("rsa", "ed25519")
MIN_RSA_BITS = 1024
"""Smallest RSA key accepted for signing (RFC 8301, section 3.2)."""
MAX_RSA_BITS = 4096
"""Largest RSA key offered; bigger keys no longer fit one DNS answer reliably."""
_MAX_KEY_FILE = 1 << 20

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private key ready for dkimpy, with the facts a report may show about it."""

    algorithm: str
    """The DKIM ``a=`` value: ``rsa-sha256`` or ``ed25519-sha256``."""
    bits: int
    """The RSA modulus size, or 256 for Ed25519."""
    record: str
    """The public key record (``v=DKIM1; k=...; p=...``) for this key."""
    source: str
    """The origin of the key, e.g. the file path; never the key itself."""
    secret: bytes = field(repr=False)
    """The key as dkimpy takes it: PKCS#1 PEM for RSA, a base64 seed for Ed25519."""

    @property
    def key_type(self) -> str:
        """The ``k=`` value of the key record: ``rsa`` or ``ed25519``."""
        return self.algorithm.split("-")[0]


def generate_key(algorithm: str = "rsa", bits: int = 2048) -> PrivateKey:
    """Generate a private key; raises :class:`InputError` for a bad type or size."""
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm != "rsa":
        raise InputError(
            f"invalid key type {algorithm!r}: choose one of {', '.join(ALGORITHMS)}"
        )
    if not MIN_RSA_BITS <= bits <= MAX_RSA_BITS:
        raise InputError(
            f"invalid RSA key size {bits}: choose {MIN_RSA_BITS} to {MAX_RSA_BITS} "
            "bits (2048 is the usual choice)"
        )
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def write_private_key(path: str | Path, key: PrivateKey) -> Path:
    """Write ``key`` as PKCS#8 PEM with mode 0600; never overwrite a file.

    Raises :class:`InputError` when ``path`` exists or cannot be created.
    """
    target = Path(path)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(target, flags, 0o600)
    except FileExistsError:
        raise InputError(
            f"key file {target} already exists; choose another path or move the "
            "old key away first (keys are never overwritten)"
        ) from None
    except OSError as exc:
        raise InputError(f"cannot create key file {target}: {exc.strerror}") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    os.chmod(target, 0o600)
    return target


def _public_der(key: PrivateKey) -> tuple[str, bytes]:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return "ed25519", raw
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "rsa", der


def key_record(key: PrivateKey) -> str:
    """Return the DKIM key record text for the public half of ``key``.

    RSA keys are published as SubjectPublicKeyInfo (RFC 6376, section 3.6.1);
    Ed25519 keys as the raw 32-byte key (RFC 8463, section 4).
    """
    key_type, data = _public_der(key)
    encoded = base64.b64encode(data).decode("ascii")
    return f"v=DKIM1; k={key_type}; p={encoded}"


def split_txt(text: str, size: int = 255) -> list[str]:
    """Split ``text`` into TXT character-strings of at most ``size`` bytes."""
    data = text.encode("ascii")
    return [data[i : i + size].decode("ascii") for i in range(0, len(data), size)]


def zone_line(selector: str, domain: str, record: str) -> str:
    """Return the key record as one zone-file line, split into quoted strings."""
    owner = f"{check_selector(selector)}._domainkey.{normalize_domain(domain)}."
    strings = " ".join(f'"{part}"' for part in split_txt(record))
    return f"{owner} 3600 IN TXT ( {strings} )"


_SELECTOR = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


def check_selector(selector: str) -> str:
    """Return ``selector``; raise :class:`InputError` unless it is one DNS label.

    Dotted selectors are legal in DKIM but rare and easy to get wrong, so
    only a single label of letters, digits, hyphens and underscores passes.
    """
    if not _SELECTOR.match(selector):
        raise InputError(
            f"invalid selector {selector!r}: use letters, digits, hyphens "
            "and underscores, such as s202612"
        )
    return selector


def default_selector(today: datetime.date | None = None) -> str:
    """Return a dated selector such as ``s202612``, easy to rotate away from."""
    day = today or datetime.date.today()
    return f"s{day:%Y%m}"


def rotation_plan(domain: str, old_selector: str, new_selector: str) -> list[str]:
    """Return the steps that replace the key of ``old_selector`` with a new one."""
    name = normalize_domain(domain)
    old = f"{old_selector}._domainkey.{name}"
    new = f"{new_selector}._domainkey.{name}"
    return [
        f"Publish the new key record at {new} (the TXT record printed above).",
        f"Wait until {new} resolves from outside (at least the TTL of the "
        "zone, usually an hour), then check it with `deliverability keycheck`.",
        f"Switch signing to selector {new_selector} with the new private key.",
        f"Keep {old} published for a week, so mail signed with the old key "
        "and still in transit or queued verifies.",
        f'Revoke the old key: replace the TXT record at {old} with "v=DKIM1; p=" '
        "(an empty p= tells verifiers the key is revoked, RFC 6376, "
        "section 3.6.1).",
        "Delete the old private key file once no system signs with it.",
    ]


def _read_key_file(path: Path) -> bytes:
    # Read at most one byte past the limit: a device or pipe such as
    # /dev/zero reports size 0 and never ends.
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE + 1)
    except FileNotFoundError:
        raise InputError(f"key file {path} not found") from None
    except IsADirectoryError:
        raise InputError(f"key file {path} is a folder; give a PEM file") from None
    except PermissionError:
        raise InputError(f"cannot read key file {path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"cannot read key file {path}: {exc.strerror}") from None
    if len(data) > _MAX_KEY_FILE:
        raise InputError(
            f"key file {path} is larger than {_MAX_KEY_FILE} bytes, too large for "
            "a private key; give a PEM private key file"
        )
    return data


def parse_private_key(data: bytes, source: str) -> SigningKey:
    """Parse a PEM private key (PKCS#8 or PKCS#1) into a :class:`SigningKey`.

    Raises :class:`InputError` naming ``source``, never the data, when the
    text is not an unencrypted PEM private key of a supported type, or an RSA
    key is shorter than 1024 bits.
    """
    problem = _pem_problem(data)
    if problem:
        raise InputError(f"key file {source} {problem}")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InputError(
            f"key file {source} is encrypted; give an unencrypted PEM key"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InputError(
            f"key file {source} contains no readable private key; check that the "
            "PEM text is complete"
        ) from None
    return _signing_key(key, source)


_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_OTHER_PEM = {
    b"OPENSSH PRIVATE KEY": (
        "is an OpenSSH private key; DKIM needs a PEM key, so make one with "
        "deliverability keygen (SSH keys should not be reused for DKIM)"
    ),
    b"CERTIFICATE": (
        "contains a certificate, which holds only a public key; give the "
        "private key file"
    ),
    b"PUBLIC KEY": "contains a public key; give the private key file",
    b"RSA PUBLIC KEY": "contains a public key; give the private key file",
}


def _pem_problem(data: bytes) -> str | None:
    """Say why ``data`` is not one PEM private key, or return ``None``."""
    labels = _PEM_LABEL.findall(data)
    private = [label for label in labels if label.endswith(b"PRIVATE KEY")]
    if len(private) == 1 and private[0] != b"OPENSSH PRIVATE KEY":
        return None
    if len(private) > 1:
        return f"contains {len(private)} private keys; give a file with exactly one"
    for label in labels:
        if label in _OTHER_PEM:
            return _OTHER_PEM[label]
    if not data.strip():
        return "is empty; give the PEM file keygen wrote"
    if data.startswith((b"ssh-", b"ecdsa-sha2-")):
        return "contains an OpenSSH public key; give a PEM private key file"
    if data[:1] == b"\x30":
        return (
            "is binary DER, not PEM; convert it with "
            "openssl pkey -inform DER -in FILE -out key.pem"
        )
    return (
        "is not a PEM private key; give the file keygen wrote "
        "(-----BEGIN PRIVATE KEY-----)"
    )


_KEY_KINDS = {
    "EllipticCurvePrivateKey": "an ECDSA key",
    "ECPrivateKey": "an ECDSA key",
    "Ed448PrivateKey": "an Ed448 key",
    "X25519PrivateKey": "an X25519 key",
    "X448PrivateKey": "an X448 key",
    "DSAPrivateKey": "a DSA key",
    "DHPrivateKey": "a Diffie-Hellman key",
}


def _key_kind(key: object) -> str:
    for base in type(key).__mro__:
        kind = _KEY_KINDS.get(base.__name__.lstrip("_"))
        if kind:
            return kind
    return f"a {type(key).__name__.lstrip('_')}"


def _signing_key(key: object, source: str) -> SigningKey:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        seed = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return SigningKey(
            "ed25519-sha256", 256, key_record(key), source, base64.b64encode(seed)
        )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InputError(
            f"key file {source} contains {_key_kind(key)}; DKIM signs with RSA "
            "or Ed25519 keys"
        )
    if key.key_size < MIN_RSA_BITS:
        raise InputError(
            f"key file {source} contains a {key.key_size}-bit RSA key; verifiers "
            f"reject keys under {MIN_RSA_BITS} bits (RFC 8301), so generate a "
            "2048-bit key"
        )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return SigningKey("rsa-sha256", key.key_size, key_record(key), source, pem)


def load_private_key(path: str | Path) -> SigningKey:
    """Read and parse the PEM private key file at ``path``.

    Raises :class:`InputError` when the file is missing, unreadable, or not
    a usable key (see :func:`parse_private_key`).
    """
    target = Path(path)
    return parse_private_key(_read_key_file(target), str(target))
