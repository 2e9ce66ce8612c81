from __future__ import annotations

import json
from pathlib import Path

import pytest

from deliverability.cli import main
from deliverability.consent import ConsentConfig, ConsentStore, DoubleOptIn
from deliverability.dns import ZoneResolver
from deliverability.errors import InputError
from deliverability.presend import GroupSpec, presend_check, sender_domain

from ..consent.conftest import MemoryMailer
from ..consent.helpers import CONTEXT, link_token, prepare

GOOD_ZONE = """$ORIGIN example.com.
$TTL 300
@ IN SOA ns1 hostmaster 1 3600 600 86400 300
@ IN NS ns1
ns1 IN A 192.0.2.53
@ IN TXT "v=spf1 -all"
@ IN MX 0 .
_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"
"""

BROKEN_ZONE = """$ORIGIN example.org.
$TTL 300
@ IN SOA ns1 hostmaster 1 3600 600 86400 300
@ IN TXT "v=spf1 +all"
"""

MESSAGE = """From: News <news@example.com>
To: reader@example.net
Subject: Our autumn letter
Date: Fri, 04 Dec 2026 10:00:00 +0000
Message-ID: <letter-1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello, here is the news of the month.
"""


@pytest.fixture
def zones(tmp_path: Path) -> Path:
    folder = tmp_path / "zones"
    folder.mkdir()
    (folder / "example.com.zone").write_text(GOOD_ZONE)
    (folder / "example.org.zone").write_text(BROKEN_ZONE)
    return folder


@pytest.fixture
def message(tmp_path: Path) -> Path:
    path = tmp_path / "letter.eml"
    path.write_text(MESSAGE)
    return path


@pytest.fixture
async def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'consent.sqlite3'}"
    store = ConsentStore(url)
    store.migrate()
    prepare(store)
    mailer = MemoryMailer()
    flow = DoubleOptIn(
        store, mailer, config=ConsentConfig(base_url="https://l.example")
    )
    await flow.sign_up("confirmed@example.net", "news", "v1", CONTEXT)
    flow.confirm(link_token(mailer.sent[-1], "confirm"), CONTEXT)
    await flow.sign_up("waiting@example.net", "news", "v1", CONTEXT)
    store.engine.dispose()
    return url


@pytest.fixture
def group(tmp_path: Path) -> Path:
    path = tmp_path / "group.csv"
    path.write_text(
        "email,name\nconfirmed@example.net,A\nwaiting@example.net,B\n"
        "crm-only@example.net,C\n"
    )
    return path


def test_sender_domain_from_header(message: Path) -> None:
    assert sender_domain(message) == "example.com"


def test_sender_domain_without_address(tmp_path: Path) -> None:
    path = tmp_path / "bad.eml"
    path.write_text("From: Just A Name\n\nbody\n")
    with pytest.raises(InputError, match="--domain"):
        sender_domain(path)


async def test_domain_taken_from_message(zones: Path, message: Path) -> None:
    result = await presend_check(resolver=ZoneResolver([zones]), messages=[message])
    assert result.domain is not None
    assert result.domain.domain == "example.com"
    assert len(result.messages) == 1


async def test_gate_admits_only_confirmed(
    zones: Path, store_url: str, group: Path, tmp_path: Path
) -> None:
    admitted = tmp_path / "admitted.csv"
    spec = GroupSpec(group, "news", store_url, admitted_path=admitted)
    result = await presend_check(resolver=ZoneResolver([zones]), group=spec)
    assert result.gate is not None
    assert result.gate.admitted == 1
    assert "confirmed@example.net" in admitted.read_text()
    assert "crm-only@example.net" not in admitted.read_text()
    assert [f.code for f in result.findings] == ["presend.recipients_excluded"]


async def test_nobody_admitted_is_an_error(
    zones: Path, store_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "only-crm.csv"
    path.write_text("email\ncrm-only@example.net\n")
    spec = GroupSpec(path, "news", store_url)
    result = await presend_check(resolver=ZoneResolver([zones]), group=spec)
    assert [f.code for f in result.findings] == ["presend.no_recipients"]
    assert result.verdict == "fail"


async def test_other_domain_than_from_warned(zones: Path, message: Path) -> None:
    result = await presend_check(
        resolver=ZoneResolver([zones]), domain="example.org", messages=[message]
    )
    assert "presend.domain_not_from" in [f.code for f in result.findings]


async def test_nothing_to_check_rejected(zones: Path) -> None:
    with pytest.raises(InputError, match="nothing to check"):
        await presend_check(resolver=ZoneResolver([zones]))


def test_cli_fails_on_broken_domain(
    zones: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["presend", "--domain", "example.org", "--zone", str(zones)])
    out = capsys.readouterr().out
    assert status == 1
    assert out.startswith("Pre-send check: FAIL")
    assert "spf.plus_all" in out


def test_cli_json_verdict(
    zones: Path,
    message: Path,
    store_url: str,
    group: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(
        [
            "presend",
            "--message",
            str(message),
            "--zone",
            str(zones),
            "--group",
            str(group),
            "--purpose",
            "news",
            "--store",
            store_url,
            "--format",
            "json",
            "--fail-on",
            "never",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert data["domain"]["domain"] == "example.com"
    assert data["gate"]["admitted"] == 1
    assert data["gate"]["excluded"]["no_consent"] == 1
    assert data["verdict"] in ("pass", "fail")


def test_cli_group_needs_purpose(
    group: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["presend", "--group", str(group)])
    assert status == 2
    assert "--purpose" in capsys.readouterr().err


def test_cli_missing_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["presend", "--message", str(tmp_path / "absent.eml")])
    assert status == 2
    assert "absent.eml" in capsys.readouterr().err
