"""Fixtures of the consent tests: a store on SQLite and on PostgreSQL.

PostgreSQL runs from a throwaway cluster that ``initdb`` creates in a
temporary folder, listening on a Unix socket in that folder only. The store
is migrated once, and each test starts from empty tables.
The server refuses to run as root, so under root it runs as the ``postgres``
system user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from deliverability.consent import ConsentStore
from deliverability.consent import tables as t
from tests.conftest import missing

_PG_BIN = Path("/usr/lib/postgresql/15/bin")


class FakeClock:
    """A clock that does not move until a test advances it."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward by ``timedelta(**delta)``."""
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    """A fixed clock shared by the store and the test."""
    return FakeClock()


@dataclass
class PostgresServer:
    """A running throwaway PostgreSQL cluster."""

    socket_dir: Path
    port: int

    def url(self, database: str) -> str:
        return (
            f"postgresql+psycopg://postgres@/{database}"
            f"?host={self.socket_dir}&port={self.port}"
        )

    def admin(self, sql: str, *, database: str = "postgres") -> None:
        with psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=True,
        ) as conn:
            conn.execute(sql)


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_INITDB = ["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]
# Durability is of no use for a throwaway cluster, and costs time.
_SETTINGS = ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """Start a PostgreSQL cluster for the session; stop it afterwards."""
    if not (_PG_BIN / "initdb").exists():
        missing(f"PostgreSQL server binaries not found in {_PG_BIN}")
    # Not under pytest's temporary folder: that one is private to root, and
    # the server user must be able to reach its data folder and socket.
    root = Path(tempfile.mkdtemp(prefix="consent-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    port = _free_port()
    server = _start_server(root, port)
    try:
        running = PostgresServer(root, port)
        _wait_ready(running)
        running.admin("CREATE DATABASE consent_test")
        migrated = ConsentStore(running.url("consent_test"))
        migrated.migrate()
        migrated.close()
        yield running
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def _start_server(root: Path, port: int) -> subprocess.Popen[bytes]:
    data = root / "data"
    initdb = [str(_PG_BIN / "initdb"), "-D", str(data), *_INITDB]
    subprocess.run(_as_server_user(initdb), check=True, capture_output=True)
    command = [str(_PG_BIN / "postgres"), "-D", str(data), "-k", str(root)]
    command += ["-p", str(port), "-c", "listen_addresses="]
    for setting in _SETTINGS:
        command += ["-c", setting]
    server = subprocess.Popen(
        _as_server_user(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    socket_file = root / f".s.PGSQL.{port}"
    deadline = time.monotonic() + 30
    while not socket_file.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("PostgreSQL did not start")
        time.sleep(0.05)
    return server


def _wait_ready(server: PostgresServer) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            server.admin("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite store, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    store = ConsentStore(f"sqlite:///{path}")
    store.migrate()
    store.close()
    return path


_TABLES = ", ".join(table.name for table in t.metadata.sorted_tables)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> str:
    """The URL of an empty, migrated store on each backend.

    PostgreSQL tests share one database, emptied before each test (much
    faster than creating a database per test on a busy machine).
    """
    if request.param == "sqlite":
        path = tmp_path / "consent.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    server: PostgresServer = request.getfixturevalue("postgres")
    server.admin(
        f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE;"
        "CREATE OR REPLACE TRIGGER events_append_only BEFORE UPDATE ON events "
        "FOR EACH ROW EXECUTE FUNCTION events_append_only()",
        database="consent_test",
    )
    return server.url("consent_test")


@pytest.fixture
def store(store_url: str, clock: FakeClock) -> Iterator[ConsentStore]:
    """A fresh store on each backend, with the fake clock."""
    opened = ConsentStore(store_url, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


class MemoryMailer:
    """A mailer that keeps the messages it is given."""

    def __init__(self) -> None:
        self.sent: list[object] = []

    def send(self, message: object) -> None:
        self.sent.append(message)
