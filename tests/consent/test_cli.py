"""The ``deliverability consent`` commands, run in-process on both backends."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from deliverability.cli import main


@pytest.fixture
def run(store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run a consent subcommand; return (exit status, standard output)."""

    errors: list[str] = []

    def invoke(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        status = main(["consent", argv[0], "--store", store_url, *argv[1:]])
        captured = capsys.readouterr()
        errors.append(captured.err)
        return status, captured.out

    invoke.errors = errors  # type: ignore[attr-defined]
    return invoke


@pytest.fixture
def texts(tmp_path: Path, run) -> Path:  # type: ignore[no-untyped-def]
    consent = tmp_path / "consent.txt"
    consent.write_text("Yes, send me the newsletter.\n", encoding="utf-8")
    run("add-text", str(consent), "--purpose", "news", "--version", "v1")
    return consent


def _confirmed(run, tmp_path: Path, address: str) -> None:  # type: ignore[no-untyped-def]
    outbox = tmp_path / "outbox"
    run(
        "signup",
        address,
        "--purpose",
        "news",
        "--consent-version",
        "v1",
        "--outbox",
        str(outbox),
        "--ip",
        "198.51.100.7",
    )
    newest = max(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    token = re.search(r"/confirm/([A-Za-z0-9_-]{43})", newest.read_text())
    assert token is not None
    status, _ = run("confirm", token.group(1), "--outbox", str(outbox))
    assert status == 0


def test_signup_writes_mail(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    status, out = run(
        "signup",
        "a@example.com",
        "--purpose",
        "news",
        "--consent-version",
        "v1",
        "--outbox",
        str(tmp_path / "box"),
    )
    assert (status, json.loads(out)["status"]) == (0, "mail_sent")


def test_signup_reserved_name(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    status, _ = run(
        "signup",
        "user@host.invalid",
        "--purpose",
        "news",
        "--consent-version",
        "v1",
        "--outbox",
        str(tmp_path / "box"),
    )
    assert status == 2
    assert "reserved name" in run.errors[-1]


def test_signup_notes_unusual(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, out = run(
        "signup",
        '"john..doe"@example.org',
        "--purpose",
        "news",
        "--consent-version",
        "v1",
        "--outbox",
        str(tmp_path / "box"),
    )
    assert any("unusual" in note for note in json.loads(out)["notes"])


def test_signup_with_zone_check(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    zone = tmp_path / "example.org.zone"
    zone.write_text(
        "$ORIGIN example.org.\n$TTL 300\n"
        "@ IN SOA ns.example.org. h.example.org. 1 3600 600 86400 300\n"
        "@ IN NS ns.example.org.\n@ IN MX 0 .\n"
    )
    status, _ = run(
        "signup",
        "a@example.org",
        "--purpose",
        "news",
        "--consent-version",
        "v1",
        "--outbox",
        str(tmp_path / "box"),
        "--zone",
        str(zone),
    )
    assert status == 2


def test_forged_token_fails(run, texts: Path) -> None:  # type: ignore[no-untyped-def]
    status, _ = run("confirm", "A" * 43)
    assert status == 1


def test_forged_token_says_fix(run, texts: Path) -> None:  # type: ignore[no-untyped-def]
    run("confirm", "A" * 43)
    assert "copy the whole token" in run.errors[-1]


def test_gate_summary(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _confirmed(run, tmp_path, "a@example.com")
    group = tmp_path / "group.csv"
    group.write_text("email,name\na@example.com,A\nb@example.com,B\nA@EXAMPLE.COM,A\n")
    status, out = run(
        "gate",
        str(group),
        "--purpose",
        "news",
        "--output",
        str(tmp_path / "admitted.csv"),
        "--report",
        str(tmp_path / "excluded.csv"),
    )
    summary = json.loads(out)
    assert (status, summary["admitted"], summary["excluded"]["duplicate"]) == (0, 1, 1)


def test_gate_writes_admitted(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _confirmed(run, tmp_path, "a@example.com")
    group = tmp_path / "group.csv"
    group.write_text("email,name\na@example.com,A\nb@example.com,B\n")
    run("gate", str(group), "--purpose", "news", "--output", str(tmp_path / "ok.csv"))
    lines = (tmp_path / "ok.csv").read_text().splitlines()
    assert lines == ["email,name", "a@example.com,A"]


def test_gate_malformed_csv(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    group = tmp_path / "group.csv"
    group.write_text('email,name\n"a@example.com"x,A\n')
    status, _ = run("gate", str(group), "--purpose", "news")
    assert status == 2
    assert "line 2" in run.errors[-1]


def test_gate_missing_column(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    group = tmp_path / "group.csv"
    group.write_text("name\nA\n")
    assert run("gate", str(group), "--purpose", "news")[0] == 2


def test_gate_bad_purpose(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    group = tmp_path / "group.csv"
    group.write_text("email\na@example.com\n")
    assert run("gate", str(group), "--purpose", "Bad Name")[0] == 2


def test_import_gives_none(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    contacts = tmp_path / "crm.csv"
    contacts.write_text("email\na@example.com\nb@example.com\n")
    run("import", str(contacts))
    group = tmp_path / "group.csv"
    group.write_text("email\na@example.com\n")
    _, out = run("gate", str(group), "--purpose", "news")
    assert json.loads(out)["excluded"]["no_consent"] == 1


def test_import_invalid_row_fails(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    contacts = tmp_path / "crm.csv"
    contacts.write_text("email\na@example.com\nbroken@\n")
    assert run("import", str(contacts))[0] == 2


def test_import_invalid_row_names_line(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    contacts = tmp_path / "crm.csv"
    contacts.write_text("email\na@example.com\nbroken@\n")
    run("import", str(contacts))
    assert "crm.csv, line 3:" in run.errors[-1]


def test_record_soi_on_doi_is_input_error(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _confirmed(run, tmp_path, "a@example.com")
    argv = ("--purpose", "news", "--source", "fair", "--evidence", "card 7")
    status, _ = run("record-soi", "a@example.com", *argv)
    assert status == 2


def test_record_soi_not_doi(run, texts: Path) -> None:  # type: ignore[no-untyped-def]
    _, out = run(
        "record-soi",
        "a@example.com",
        "--purpose",
        "news",
        "--source",
        "trade fair",
        "--evidence",
        "card 12",
    )
    assert json.loads(out)["state"] == "soi_documented"


def test_suppress_then_gate(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _confirmed(run, tmp_path, "a@example.com")
    run("suppress", "a@example.com", "--reason", "complaint")
    group = tmp_path / "group.csv"
    group.write_text("email\na@example.com\n")
    _, out = run("gate", str(group), "--purpose", "news")
    assert json.loads(out)["excluded"]["suppressed"] == 1


def test_export_json(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _confirmed(run, tmp_path, "a@example.com")
    status, out = run("export", "a@example.com", "--format", "json")
    kinds = [event["kind"] for event in json.loads(out)["events"]]
    assert (status, kinds[-1]) == (0, "confirmed")


def test_export_html(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _confirmed(run, tmp_path, "a@example.com")
    run(
        "export",
        "a@example.com",
        "--format",
        "html",
        "--output",
        str(tmp_path / "evidence.html"),
    )
    assert "hash chain verified" in (tmp_path / "evidence.html").read_text()


def test_export_unknown_contact(run, texts: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("export", "nobody@example.com")[0] == 2


def test_verify_intact(run, texts: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _confirmed(run, tmp_path, "a@example.com")
    status, out = run("verify", "--format", "json")
    assert (status, json.loads(out)["findings"]) == (0, [])


def test_purge(run, texts: Path) -> None:  # type: ignore[no-untyped-def]
    status, out = run("purge", "--older-than-days", "0")
    assert (status, json.loads(out)["purged"]) == (0, 0)
