"""Keys and zones shared by the message-authentication tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from deliverability.auth import (
    SigningKey,
    generate_key,
    load_private_key,
    write_private_key,
    zone_line,
)
from deliverability.dns import ZoneResolver

DOMAIN = "example.com"
SOA = "@ 3600 IN SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 60\n"


@dataclass(frozen=True)
class KeyFiles:
    """An RSA and an Ed25519 key, as files and loaded."""

    rsa_path: Path
    ed_path: Path
    rsa: SigningKey
    ed: SigningKey


@pytest.fixture(scope="session")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> KeyFiles:
    """Keys made once per run: RSA 2048 (selector r1) and Ed25519 (selector e1)."""
    folder = tmp_path_factory.mktemp("keys")
    rsa_path = write_private_key(folder / "rsa.pem", generate_key("rsa", 2048))
    ed_path = write_private_key(folder / "ed.pem", generate_key("ed25519"))
    return KeyFiles(
        rsa_path, ed_path, load_private_key(rsa_path), load_private_key(ed_path)
    )


def example_zone(keys: KeyFiles, extra: str = "") -> str:
    """Return zone text for example.com with SPF, DMARC and both key records."""
    return (
        f"$ORIGIN {DOMAIN}.\n{SOA}"
        '@ IN TXT "v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all"\n'
        "@ IN MX 10 mail\n"
        '_dmarc IN TXT "v=DMARC1; p=reject"\n'
        "mail IN A 192.0.2.10\n"
        "mail IN AAAA 2001:db8::10\n"
        f"{zone_line('r1', DOMAIN, keys.rsa.record)}\n"
        f"{zone_line('e1', DOMAIN, keys.ed.record)}\n"
        f"{extra}"
    )


REVERSE_ZONE = f"$ORIGIN 2.0.192.in-addr.arpa.\n{SOA}10 IN PTR mail.example.com.\n"


@pytest.fixture()
def make_resolver(key_files: KeyFiles) -> Callable[..., ZoneResolver]:
    """Return a factory of offline resolvers over the example zones."""

    def make(extra: str = "", **zones: str) -> ZoneResolver:
        texts = {
            DOMAIN: example_zone(key_files, extra),
            "2.0.192.in-addr.arpa": REVERSE_ZONE,
        }
        texts.update({origin.replace("_", "."): text for origin, text in zones.items()})
        return ZoneResolver(texts=texts)

    return make
