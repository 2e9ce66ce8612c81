"""Fixtures of the sync tests: a store on SQLite and on PostgreSQL, a flow, a CRM.

The PostgreSQL cluster and the SQLite template come from the consent tests'
fixtures; the sync tables are emptied as well before each PostgreSQL test.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from deliverability.consent import ConsentStore, DoubleOptIn, RequestContext
from deliverability.consent import tables as ct
from deliverability.sync import SyncConfig, config_from_dict
from deliverability.sync import tables as st
from tests.consent.conftest import (  # noqa: F401 (fixtures)
    FakeClock,
    PostgresServer,
    clock,
    postgres,
    sqlite_template,
)

CONTEXT = RequestContext(
    "198.51.100.7", "Mozilla/5.0 (test)", "https://example.com/join"
)
CONSENT_TEXT = "Yes, send me the newsletter. I can unsubscribe at any time."

CONFIG = {
    "purposes": ["news"],
    "columns": {
        "id": "Contact ID",
        "email": "E-Mail",
        "first_name": "First Name",
        "last_name": "Last Name",
        "company": "Account",
        "phone": "Phone",
        "customer_number": "Customer No",
        "groups": "Target Groups",
        "blocked": "Email Opt Out",
        "blocked_at": "Email Opt Out Changed",
        "purposes": {
            "news": {
                "status": "Newsletter",
                "changed_at": "Newsletter Changed",
                "source": "Consent Source",
                "evidence": "Consent Evidence",
            }
        },
    },
    "status_values": {"Opted out": "withdrawn", "Consent claimed": "soi_documented"},
    "reconfirm_version": {"news": "v1"},
}

HEADER = [
    "Contact ID",
    "E-Mail",
    "First Name",
    "Last Name",
    "Account",
    "Phone",
    "Customer No",
    "Target Groups",
    "Email Opt Out",
    "Email Opt Out Changed",
    "Newsletter",
    "Newsletter Changed",
    "Consent Source",
    "Consent Evidence",
]


class MemoryMailer:
    """A mailer that keeps every message it is given."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)

    def token_for(self, address: str, action: str = "confirm") -> str:
        """Return the token of the newest mail to ``address``."""
        for message in reversed(self.sent):
            if message["To"] == address:
                part = message.get_body(("plain",))
                assert part is not None
                found = re.search(rf"/{action}/([A-Za-z0-9_-]+)", part.get_content())
                assert found is not None
                return found.group(1)
        raise AssertionError("no mail to that address")

    def recipients(self) -> list[str]:
        """Return the To of every message, in order."""
        return [str(m["To"]) for m in self.sent]


@pytest.fixture
def sync_config() -> SyncConfig:
    """The column mapping of the CRM export used in the tests."""
    return config_from_dict(CONFIG)


_TABLES = ", ".join(
    table.name for table in [*ct.metadata.sorted_tables, *st.metadata.sorted_tables]
)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,  # noqa: F811
) -> str:
    """The URL of an empty, migrated store on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "consent.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.url("consent_test")
    server.admin(
        f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE;"
        "CREATE OR REPLACE TRIGGER events_append_only BEFORE UPDATE ON events "
        "FOR EACH ROW EXECUTE FUNCTION events_append_only()",
        database="consent_test",
    )
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:  # noqa: F811
    """The URL of an empty, migrated SQLite store (for tests of one backend)."""
    path = tmp_path / "consent.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def store(store_url: str, clock: FakeClock) -> Iterator[ConsentStore]:  # noqa: F811
    """A fresh store on each backend, with the fake clock and the consent text."""
    opened = ConsentStore(store_url, clock=clock)
    opened.add_consent_text("news", "v1", CONSENT_TEXT)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def mailer() -> MemoryMailer:
    """The mailer of the flow."""
    return MemoryMailer()


@pytest.fixture
def flow(store: ConsentStore, mailer: MemoryMailer) -> DoubleOptIn:
    """The double opt-in flow on the test store."""
    return DoubleOptIn(store, mailer)
