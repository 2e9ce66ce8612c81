"""The keygen, sign, verify and keycheck commands, end to end."""

from __future__ import annotations

import base64
import json
import logging
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from deliverability.cli import main
from tests.knot import KnotServer, free_port

from .conftest import DOMAIN, KeyFiles, example_zone

CLI = Callable[..., tuple[int, str, str]]


@pytest.fixture()
def cli(capsys: pytest.CaptureFixture[str]) -> CLI:
    """Run the command line; return (status, stdout, stderr)."""

    def run(*argv: str | Path) -> tuple[int, str, str]:
        status = main([str(arg) for arg in argv])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


@pytest.fixture()
def zone_file(tmp_path: Path, key_files: KeyFiles) -> Path:
    """The example.com zone with SPF, DMARC and the r1 and e1 key records."""
    path = tmp_path / "example.com.zone"
    path.write_text(example_zone(key_files))
    return path


def _sign(cli: CLI, keys: KeyFiles, out: Path, *extra: str) -> Path:
    status, _, err = cli(
        "sign",
        "--key",
        f"r1:{keys.rsa_path}",
        "--key",
        f"e1:{keys.ed_path}",
        "--from",
        '"Doe, Jane" <jane@example.com>',
        "--output",
        out,
        *extra,
    )
    assert status == 0, err
    return out


def test_keygen_json(cli: CLI, tmp_path: Path) -> None:
    key = tmp_path / "new.pem"
    status, out, _ = cli(
        "keygen",
        "--domain",
        DOMAIN,
        "--selector",
        "s1",
        "--key-file",
        key,
        "--format",
        "json",
        "--rotate-from",
        "s0",
    )
    data = json.loads(out)
    assert status == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert data["name"] == "s1._domainkey.example.com"
    assert all(len(part) <= 255 for part in data["txt_strings"])
    assert "s0._domainkey.example.com" in " ".join(data["rotation_plan"])


def test_keygen_never_prints_key(cli: CLI, tmp_path: Path) -> None:
    key = tmp_path / "new.pem"
    status, out, err = cli("keygen", "--domain", DOMAIN, "--key-file", key)
    body = key.read_text().splitlines()[1]
    assert status == 0
    assert body not in out + err
    assert "IN TXT" in out


def test_keygen_refuses_overwrite(cli: CLI, tmp_path: Path) -> None:
    key = tmp_path / "old.pem"
    key.write_text("old key")
    status, _, err = cli("keygen", "--domain", DOMAIN, "--key-file", key)
    assert status == 2
    assert err.startswith("Error: key file")
    assert key.read_text() == "old key"


def test_keygen_bad_domain_writes_nothing(cli: CLI, tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    status, _, err = cli("keygen", "--domain", "bad domain", "--key-file", key)
    assert status == 2
    assert "white space" in err
    assert not key.exists()


def test_sign_verify_pass(
    cli: CLI, key_files: KeyFiles, zone_file: Path, tmp_path: Path
) -> None:
    signed = _sign(cli, key_files, tmp_path / "signed.eml")
    status, out, _ = cli(
        "verify",
        signed,
        "--zone",
        zone_file,
        "--ip",
        "192.0.2.10",
        "--mail-from",
        "bounce@example.com",
    )
    assert status == 0, out
    assert out.startswith("Authentication-Results: deliverability.invalid; spf=pass")
    assert out.count("dkim=pass") == 2


def test_verify_json(
    cli: CLI, key_files: KeyFiles, zone_file: Path, tmp_path: Path
) -> None:
    signed = _sign(cli, key_files, tmp_path / "signed.eml")
    status, out, _ = cli("verify", signed, "--zone", zone_file, "--format", "json")
    data = json.loads(out)
    assert status == 0
    assert data["dmarc"]["result"] == "pass"
    assert [d["result"] for d in data["dkim"]] == ["pass", "pass"]


def test_verify_fail_exit_1(
    cli: CLI, key_files: KeyFiles, zone_file: Path, tmp_path: Path
) -> None:
    signed = _sign(cli, key_files, tmp_path / "signed.eml")
    signed.write_bytes(
        signed.read_bytes().replace(b"Subject: Deliverability", b"Subject: X")
    )
    status, out, _ = cli("verify", signed, "--zone", zone_file)
    assert status == 1
    assert "dmarc=fail" in out
    assert "error auth.dmarc_fail" in out


def test_verify_dns_down_exit_3(cli: CLI, key_files: KeyFiles, tmp_path: Path) -> None:
    signed = _sign(cli, key_files, tmp_path / "signed.eml")
    silent = f"127.0.0.1:{free_port()}"
    status, out, _ = cli("verify", signed, "--nameserver", silent, "--timeout", "0.2")
    assert status == 3
    assert "dkim=temperror" in out


def test_verify_missing_file(cli: CLI, tmp_path: Path) -> None:
    status, _, err = cli("verify", tmp_path / "absent.eml", "--zone", tmp_path)
    assert status == 2
    assert "not found" in err


def test_verify_bad_ip(
    cli: CLI, key_files: KeyFiles, zone_file: Path, tmp_path: Path
) -> None:
    signed = _sign(cli, key_files, tmp_path / "signed.eml")
    status, _, err = cli("verify", signed, "--zone", zone_file, "--ip", "nonsense")
    assert status == 2
    assert "invalid IP address 'nonsense'" in err


def test_sign_needs_message_or_from(cli: CLI, key_files: KeyFiles) -> None:
    status, _, err = cli("sign", "--key", f"r1:{key_files.rsa_path}")
    assert status == 2
    assert "--from" in err


def test_sign_bad_key_option(cli: CLI) -> None:
    status, _, err = cli("sign", "--key", "nocolon", "--from", "a@example.com")
    assert status == 2
    assert "SELECTOR:PATH" in err


def test_sign_wrong_key_format(cli: CLI, tmp_path: Path) -> None:
    bogus = tmp_path / "key.txt"
    bogus.write_text("v=DKIM1; k=rsa; p=MIIB")
    status, _, err = cli("sign", "--key", f"s:{bogus}", "--from", "a@example.com")
    assert status == 2
    assert "not a PEM private key" in err


def test_sign_refuses_sha1(cli: CLI, key_files: KeyFiles) -> None:
    status, _, err = cli(
        "sign",
        "--key",
        f"r1:{key_files.rsa_path}",
        "--from",
        "a@example.com",
        "--algorithm",
        "rsa-sha1",
    )
    assert status == 2
    assert "RFC 8301" in err


def test_sign_file_json(cli: CLI, key_files: KeyFiles, tmp_path: Path) -> None:
    message = tmp_path / "in.eml"
    message.write_bytes(b"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n")
    status, out, _ = cli(
        "sign", message, "--key", f"r1:{key_files.rsa_path}", "--format", "json"
    )
    data = json.loads(out)
    assert status == 0
    assert data["domain"] == "example.com"
    assert data["message"].startswith("DKIM-Signature: v=1; a=rsa-sha256;")


def test_keycheck_match(cli: CLI, key_files: KeyFiles, zone_file: Path) -> None:
    status, out, _ = cli(
        "keycheck",
        "--key",
        key_files.ed_path,
        "--selector",
        "e1",
        "--domain",
        DOMAIN,
        "--zone",
        zone_file,
    )
    assert status == 0
    assert out.startswith("e1._domainkey.example.com: match")


def test_keycheck_mismatch(cli: CLI, key_files: KeyFiles, zone_file: Path) -> None:
    status, out, _ = cli(
        "keycheck",
        "--key",
        key_files.rsa_path,
        "--selector",
        "e1",
        "--domain",
        DOMAIN,
        "--zone",
        zone_file,
        "--format",
        "json",
    )
    data = json.loads(out)
    assert status == 1
    assert data["result"] == "mismatch"
    assert data["findings"][0]["code"] == "auth.key_mismatch"


def test_keycheck_missing(cli: CLI, key_files: KeyFiles, zone_file: Path) -> None:
    status, out, _ = cli(
        "keycheck",
        "--key",
        key_files.rsa_path,
        "--selector",
        "nope",
        "--domain",
        DOMAIN,
        "--zone",
        zone_file,
    )
    assert status == 1
    assert "auth.key_record_missing" in out


@pytest.mark.knot
def test_verify_with_knot(
    cli: CLI, knot: Callable[..., KnotServer], key_files: KeyFiles, tmp_path: Path
) -> None:
    server = knot({DOMAIN: example_zone(key_files)})
    signed = _sign(cli, key_files, tmp_path / "signed.eml")
    nameserver = f"{server.address}:{server.port}"
    status, out, _ = cli("verify", signed, "--nameserver", nameserver)
    assert status == 0, out
    assert "dmarc=pass" in out
    status, out, _ = cli(
        "keycheck",
        "--key",
        key_files.rsa_path,
        "--selector",
        "r1",
        "--domain",
        DOMAIN,
        "--nameserver",
        nameserver,
    )
    assert status == 0
    assert "match" in out


def test_verify_oversized_message(cli: CLI, zone_file: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.eml"
    with big.open("wb") as handle:
        handle.write(b"From: a@example.com\r\n\r\n")
        handle.truncate(50 * 1024 * 1024 + 1)
    status, _, err = cli("verify", big, "--zone", zone_file)
    assert status == 2
    assert "larger than 50 MB" in err


def test_keygen_bad_selector(cli: CLI, tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    status, _, err = cli(
        "keygen", "--domain", DOMAIN, "--selector", "a b", "--key-file", key
    )
    assert status == 2
    assert "invalid selector 'a b'" in err
    assert not key.exists()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--rotate-from", "old one"], "invalid selector 'old one'"),
        (["--rotate-from", "S1"], "is the new selector too"),
        (["--selector", ""], "invalid selector ''"),
        (["--type", "ed25519", "--bits", "512"], "RSA keys only"),
    ],
)
def test_keygen_options_checked_first(
    cli: CLI, tmp_path: Path, extra: list[str], expected: str
) -> None:
    key = tmp_path / "k.pem"
    status, _, err = cli(
        "keygen", "--domain", DOMAIN, "--selector", "s1", "--key-file", key, *extra
    )
    assert status == 2
    assert expected in err
    assert not key.exists()


def test_keygen_key_to_stdout_rejected(cli: CLI, tmp_path: Path) -> None:
    status, out, err = cli("keygen", "--domain", DOMAIN, "--key-file", "-")
    assert status == 2
    assert "never written to standard output" in err
    assert "PRIVATE KEY" not in out


def test_keygen_bad_output_writes_no_key(cli: CLI, tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    status, _, err = cli(
        "keygen", "--domain", DOMAIN, "--key-file", key, "--output", tmp_path
    )
    assert status == 2
    assert f"cannot write the report to {tmp_path}" in err
    assert not key.exists()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--authserv-id", "mx; dkim=pass"], "invalid --authserv-id"),
        (["--authserv-id", ""], "invalid --authserv-id"),
        (["--timeout", "-1"], "positive number of seconds"),
        (["--timeout", "nan"], "positive number of seconds"),
        (["--ip", "192.0.2.10"], "needs an identity"),
        (["--ip", "192.0.2.10", "--mail-from", "<>"], "needs an identity"),
    ],
)
def test_verify_bad_options(
    cli: CLI,
    key_files: KeyFiles,
    zone_file: Path,
    tmp_path: Path,
    extra: list[str],
    expected: str,
) -> None:
    signed = _sign(cli, key_files, tmp_path / "signed.eml")
    status, out, err = cli("verify", signed, "--zone", zone_file, *extra)
    assert status == 2
    assert expected in err
    assert out == ""


def test_verify_output_folder(
    cli: CLI, key_files: KeyFiles, zone_file: Path, tmp_path: Path
) -> None:
    signed = _sign(cli, key_files, tmp_path / "signed.eml")
    status, _, err = cli("verify", signed, "--zone", zone_file, "--output", tmp_path)
    assert status == 2
    assert err.startswith(f"Error: cannot write the report to {tmp_path}")


def test_verify_text_escapes_controls(
    cli: CLI, key_files: KeyFiles, zone_file: Path, tmp_path: Path
) -> None:
    signed = _sign(cli, key_files, tmp_path / "signed.eml")
    hostile = tmp_path / "hostile.eml"
    hostile.write_bytes(signed.read_bytes().replace(b" s=r1;", b" s=\x1b[2J;", 1))
    status, out, _ = cli("verify", hostile, "--zone", zone_file)
    assert status == 1
    assert "auth.dkim_fail" in out
    assert "\x1b" not in out


def test_verify_dmarc_fail_ignores_fail_on(
    cli: CLI, zone_file: Path, tmp_path: Path
) -> None:
    unsigned = tmp_path / "unsigned.eml"
    unsigned.write_bytes(b"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n")
    status, out, _ = cli("verify", unsigned, "--zone", zone_file, "--fail-on", "never")
    assert status == 1
    assert "dmarc=fail" in out


def test_verify_temperror_exit_3(cli: CLI, key_files: KeyFiles, tmp_path: Path) -> None:
    signed = _sign(cli, key_files, tmp_path / "signed.eml")
    port = free_port()
    status, out, _ = cli(
        "verify", signed, "--nameserver", f"127.0.0.1:{port}", "--timeout", "0.2"
    )
    assert status == 3
    assert "dkim=temperror" in out
    assert "auth.one_click_unsigned" not in out


def test_key_never_printed_verbose(
    cli: CLI,
    key_files: KeyFiles,
    zone_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    runs = [
        cli("-vv", "sign", "--key", f"r1:{key_files.rsa_path}", "--from", "a@ex.com"),
        cli("-vv", "sign", "--key", f"e1:{key_files.ed_path}", "--from", "a@ex.com"),
        cli(
            "-vv",
            "keycheck",
            "--key",
            key_files.rsa_path,
            "--selector",
            "r1",
            "--domain",
            DOMAIN,
            "--zone",
            zone_file,
            "--format",
            "json",
        ),
    ]
    printed = "".join(out + err for _, out, err in runs) + caplog.text
    assert all(status == 0 for status, _, _ in runs)
    assert "PRIVATE KEY" not in printed
    for path in (key_files.rsa_path, key_files.ed_path):
        secret_lines = path.read_text().splitlines()[1:-1]
        assert not any(line in printed for line in secret_lines)
    assert key_files.ed.secret.decode() not in printed


def test_sign_json_keeps_octets(cli: CLI, key_files: KeyFiles, tmp_path: Path) -> None:
    message = tmp_path / "latin1.eml"
    original = "From: a@example.com\r\nSubject: Grüße\r\n\r\nbody\r\n".encode("latin-1")
    message.write_bytes(original)
    status, out, _ = cli(
        "sign", message, "--key", f"r1:{key_files.rsa_path}", "--format", "json"
    )
    data = json.loads(out)
    assert status == 0
    assert data["message"] is None
    assert base64.b64decode(data["message_base64"]).endswith(original)
