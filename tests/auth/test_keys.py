"""Key generation, PEM files, key records and rotation plans."""

from __future__ import annotations

import base64
import datetime
import logging
import stat
import subprocess
from pathlib import Path

import dns.zone
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from deliverability.auth import keys
from deliverability.errors import InputError

from ..conftest import require_program
from .conftest import KeyFiles


def test_rsa_default_size() -> None:
    key = keys.generate_key("rsa")
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048


@pytest.mark.parametrize("bits", [512, 1023, 4097, 8192])
def test_rsa_size_out_of_range(bits: int) -> None:
    with pytest.raises(InputError, match="1024 to 4096"):
        keys.generate_key("rsa", bits)


def test_unknown_key_type() -> None:
    with pytest.raises(InputError, match="rsa, ed25519"):
        keys.generate_key("dsa")


def test_key_file_mode(key_files: KeyFiles) -> None:
    mode = stat.S_IMODE(key_files.rsa_path.stat().st_mode)
    assert mode == 0o600


def test_key_file_is_pkcs8_pem(key_files: KeyFiles) -> None:
    text = key_files.ed_path.read_text()
    assert text.startswith("-----BEGIN PRIVATE KEY-----")


def test_key_file_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "key.pem"
    target.write_text("keep me")
    with pytest.raises(InputError, match="already exists"):
        keys.write_private_key(target, keys.generate_key("ed25519"))
    assert target.read_text() == "keep me"


def test_symlink_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    link = tmp_path / "link.pem"
    link.symlink_to(victim)
    with pytest.raises(InputError):
        keys.write_private_key(link, keys.generate_key("ed25519"))
    assert not victim.exists()


def test_rsa_record_shape(key_files: KeyFiles) -> None:
    record = key_files.rsa.record
    assert record.startswith("v=DKIM1; k=rsa; p=MIIB")


def test_ed25519_record_is_raw_key(key_files: KeyFiles) -> None:
    encoded = key_files.ed.record.split("p=", 1)[1]
    assert len(base64.b64decode(encoded)) == 32


def test_split_txt_limit() -> None:
    record = keys.key_record(keys.generate_key("rsa", 4096))
    parts = keys.split_txt(record)
    assert all(len(part.encode()) <= 255 for part in parts)
    assert "".join(parts) == record


def test_zone_line_parses(key_files: KeyFiles) -> None:
    line = keys.zone_line("r1", "Example.COM", key_files.rsa.record)
    zone = dns.zone.from_text(
        "$ORIGIN example.com.\n@ 300 IN SOA a. b. 1 1 1 1 1\n@ 300 IN NS a.\n" + line,
        relativize=False,
    )
    rdata = zone.find_rdataset("r1._domainkey.example.com.", "TXT")[0]
    assert b"".join(rdata.strings).decode() == key_files.rsa.record


def test_rotation_plan_revokes_old() -> None:
    plan = keys.rotation_plan("example.com", "old", "new")
    assert any("new._domainkey.example.com" in step for step in plan)
    assert any('old._domainkey.example.com with "v=DKIM1; p="' in step for step in plan)


def test_default_selector_dated() -> None:
    assert keys.default_selector(datetime.date(2026, 12, 4)) == "s202612"


def test_repr_hides_secret(key_files: KeyFiles) -> None:
    secret = key_files.rsa.secret.decode()
    body = secret.splitlines()[1]
    assert body not in repr(key_files.rsa)


def test_load_pkcs1_key(tmp_path: Path) -> None:
    key = keys.generate_key("rsa", 1024)
    path = tmp_path / "pkcs1.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    assert keys.load_private_key(path).bits == 1024


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        keys.load_private_key(tmp_path / "absent.pem")


def test_load_public_key_rejected(tmp_path: Path, key_files: KeyFiles) -> None:
    path = tmp_path / "pub.pem"
    path.write_text(f"-----BEGIN PUBLIC KEY-----\n{key_files.rsa.record}\n")
    with pytest.raises(InputError, match="contains a public key"):
        keys.load_private_key(path)


def test_load_garbled_pem(tmp_path: Path) -> None:
    path = tmp_path / "bad.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(InputError, match="no readable private key"):
        keys.load_private_key(path)


def test_load_encrypted_key(tmp_path: Path) -> None:
    key = keys.generate_key("ed25519")
    path = tmp_path / "enc.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(InputError, match="encrypted"):
        keys.load_private_key(path)


def test_load_ec_key_rejected(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "ec.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(InputError, match="RSA or Ed25519"):
        keys.load_private_key(path)


def test_load_small_rsa_rejected(tmp_path: Path) -> None:
    # cryptography refuses to make keys under 1024 bits; openssl still can.
    openssl = require_program("openssl")
    path = tmp_path / "small.pem"
    subprocess.run(
        [openssl, "genrsa", "-out", str(path), "768"], check=True, capture_output=True
    )
    with pytest.raises(InputError, match="768-bit"):
        keys.load_private_key(path)


def test_error_never_shows_key(tmp_path: Path, key_files: KeyFiles) -> None:
    text = key_files.rsa_path.read_text()
    path = tmp_path / "truncated.pem"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(InputError) as caught:
        keys.load_private_key(path)
    assert text.splitlines()[1] not in str(caught.value)


def test_nothing_logged_with_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = keys.write_private_key(tmp_path / "k.pem", keys.generate_key("rsa", 1024))
    loaded = keys.load_private_key(path)
    body = path.read_text().splitlines()[1]
    assert body not in caplog.text
    assert loaded.bits == 1024
