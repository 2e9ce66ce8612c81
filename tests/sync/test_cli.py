"""The ``sync`` and ``consent review`` commands, and the configuration files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deliverability import cli
from deliverability.errors import InputError
from deliverability.sync import load_config
from tests.sync.conftest import CONFIG
from tests.sync.crm import crm_row, write_crm

TOML = """
purposes = ["news"]

[columns]
id = "Contact ID"
email = "E-Mail"

[columns.purposes.news]
status = "Newsletter"
changed_at = "Newsletter Changed"
source = "Consent Source"
evidence = "Consent Evidence"

[status_values]
"Opted out" = "withdrawn"
"Consent claimed" = "soi_documented"
"""


@pytest.fixture(autouse=True)
def sync_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(cli.COMMANDS, "sync", "sync")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "sync.json").write_text(json.dumps(CONFIG))
    rows = [
        crm_row("C1", "a@example.com", Newsletter="Opted out"),
        crm_row("C2", "b@example.com", Newsletter="doi"),
        crm_row("C3", "a@example.com"),
    ]
    write_crm(tmp_path / "crm.csv", rows)
    return {
        "store": f"sqlite:///{tmp_path / 'consent.sqlite3'}",
        "config": str(tmp_path / "sync.json"),
        "crm": str(tmp_path / "crm.csv"),
        "updates": str(tmp_path / "updates.jsonl"),
        "dir": str(tmp_path),
    }


def _run(files: dict[str, str], *argv: str) -> int:
    common = ["--store", files["store"], "--config", files["config"]]
    group = "consent" if argv[0] == "review" else "sync"
    return cli.main([group, *argv, *common])


def _json(capsys: pytest.CaptureFixture[str]) -> object:
    return json.loads(capsys.readouterr().out)


def test_run_json(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    status = _run(
        files,
        "run",
        "--crm",
        files["crm"],
        "--updates",
        files["updates"],
        "--format",
        "json",
    )
    report = _json(capsys)
    assert status == 0
    assert report["pull"]["created"] == 2
    assert report["pull"]["reviews"] == 1


def test_reviews_fail_on_warning(files: dict[str, str]) -> None:
    status = _run(files, "pull", "--crm", files["crm"], "--fail-on", "warning")
    assert status == 1


def test_review_commands(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _run(files, "pull", "--crm", files["crm"])
    capsys.readouterr()
    _run(files, "review", "list", "--format", "json")
    (listed,) = _json(capsys)
    assert listed["reason"] == "address_shared_by_crm_contacts"
    _run(files, "review", "show", str(listed["id"]), "--format", "json")
    assert _json(capsys)["choices"] == ["C1", "C3"]
    status = _run(
        files,
        "review",
        "resolve",
        str(listed["id"]),
        "C3",
        "--actor",
        "crm-user",
        "--format",
        "json",
    )
    assert status == 0
    assert _json(capsys)["resolution"] == "C3"


def test_resolve_bad_choice(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _run(files, "pull", "--crm", files["crm"])
    status = _run(files, "review", "resolve", "1", "C9", "--actor", "crm-user")
    assert status == 2
    assert "invalid choice 'C9'" in capsys.readouterr().err


def test_repermission_dry_run(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status = _run(
        files,
        "repermission",
        "--purpose",
        "news",
        "--consent-version",
        "v1",
        "--campaign",
        "spring",
        "--actor",
        "ops",
        "--dry-run",
        "--format",
        "json",
    )
    assert status == 0
    assert _json(capsys)["eligible"] == 0


def test_missing_crm_file(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status = _run(files, "pull", "--crm", files["dir"] + "/absent.csv")
    assert status == 2
    assert "cannot read CRM export" in capsys.readouterr().err


def test_toml_config(tmp_path: Path) -> None:
    path = tmp_path / "sync.toml"
    path.write_text(TOML)
    config = load_config(path)
    assert config.columns.purposes["news"].status == "Newsletter"
    assert config.state_of("Opted out") == "withdrawn"


def test_config_needs_id_and_email(tmp_path: Path) -> None:
    path = tmp_path / "sync.json"
    path.write_text('{"columns": {"email": "Mail"}}')
    with pytest.raises(InputError, match="'id' and 'email'"):
        load_config(path)


def test_config_unknown_field(tmp_path: Path) -> None:
    path = tmp_path / "sync.json"
    path.write_text('{"columns": {"id": "I", "email": "E", "fax": "F"}}')
    with pytest.raises(InputError, match="fax"):
        load_config(path)


def test_config_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "sync.toml"
    path.write_text("purposes = [")
    with pytest.raises(InputError, match="invalid sync configuration"):
        load_config(path)
