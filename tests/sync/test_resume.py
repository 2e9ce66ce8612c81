"""A sync killed half-way and run again loses nothing and doubles nothing.

The sync runs in a real child process, killed with SIGKILL once it has
committed part of its work. A second run in the test process finishes it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from deliverability.consent import ConsentStore
from deliverability.consent import tables as ct
from deliverability.sync import CrmSync, CsvSource, JsonlSink, SyncConfig
from deliverability.sync import tables as st
from tests.sync.crm import crm_row, write_crm

ROWS = 2000

_CHILD = """
import sys
import time
from deliverability.consent import ConsentStore
from deliverability.sync import CrmSync, CsvSource, JsonlSink, config_from_dict
from tests.sync.conftest import CONFIG

def slowly(rows):
    # A slow CRM export, so that the kill lands in the middle of the run.
    for row in rows:
        time.sleep(0.001)
        yield row

class SlowSink(JsonlSink):
    def write(self, updates):
        super().write(updates)
        time.sleep(0.05)

store = ConsentStore(sys.argv[1])
config = config_from_dict(CONFIG)
sync = CrmSync(store, config, batch_size=20)
if sys.argv[2] == "pull":
    sync.pull(slowly(CsvSource(sys.argv[3], config)))
else:
    sync.push(SlowSink(sys.argv[3]))
"""


def _export(path: Path) -> Path:
    rows = []
    for n in range(ROWS):
        claimed = (
            {}
            if n % 3
            else {
                "Newsletter": "Consent claimed",
                "Newsletter_Changed": "2026-02-01T10:00:00Z",
                "Consent_Source": "Phone call",
                "Consent_Evidence": f"call-{n}",
            }
        )
        rows.append(crm_row(f"C{n}", f"person{n}@example.com", **claimed))
    return write_crm(path, rows)


def _count(store: ConsentStore, table: object, *where: object) -> int:
    with store.reading() as conn:
        return int(conn.scalar(select(func.count()).select_from(table).where(*where)))


def _kill_when(process: subprocess.Popen[bytes], ready: object) -> None:
    deadline = time.monotonic() + 60
    while not ready():  # type: ignore[operator]
        if process.poll() is not None:
            pytest.fail("the sync finished before it could be killed")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the sync made no progress in 60 s")
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _child(url: str, step: str, path: Path) -> subprocess.Popen[bytes]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, url, step, str(path)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )


def test_killed_pull_resumes(
    sqlite_url: str, sync_config: SyncConfig, tmp_path: Path
) -> None:
    export = _export(tmp_path / "crm.csv")
    store = ConsentStore(sqlite_url)
    CrmSync(store, sync_config)
    child = _child(sqlite_url, "pull", export)
    _kill_when(child, lambda: 0 < _count(store, st.crm) < ROWS // 2)
    assert child.returncode == -signal.SIGKILL
    assert _count(store, st.crm) < ROWS
    CrmSync(store, sync_config, batch_size=500).pull(CsvSource(export, sync_config))
    assert _count(store, st.crm) == ROWS
    assert _count(store, ct.contacts) == ROWS
    assert _count(store, ct.events, ct.events.c.kind == "contact_created") == ROWS
    assert _count(store, ct.events, ct.events.c.kind == "soi_recorded") == len(
        range(0, ROWS, 3)
    )
    again = CrmSync(store, sync_config).pull(CsvSource(export, sync_config))
    assert again.unchanged == ROWS
    assert store.verify() == []


def test_killed_push_resumes(
    sqlite_url: str, sync_config: SyncConfig, tmp_path: Path
) -> None:
    export = _export(tmp_path / "crm.csv")
    store = ConsentStore(sqlite_url)
    sync = CrmSync(store, sync_config, batch_size=500)
    sync.pull(CsvSource(export, sync_config))
    for n in range(0, ROWS, 2):
        store.withdraw(f"person{n}@example.com", "news")
    updates = tmp_path / "updates.jsonl"
    child = _child(sqlite_url, "push", updates)
    _kill_when(child, lambda: updates.exists() and updates.stat().st_size > 0)
    assert child.returncode == -signal.SIGKILL
    assert len(updates.read_text().splitlines()) < ROWS // 2
    CrmSync(store, sync_config).push(JsonlSink(updates))
    lines = [json.loads(line) for line in updates.read_text().splitlines()]
    ids = [line["id"] for line in lines]
    assert len(ids) == ROWS // 2
    assert len(set(ids)) == len(ids)
    assert {line["crm_id"] for line in lines} == {f"C{n}" for n in range(0, ROWS, 2)}
    assert CrmSync(store, sync_config).push(JsonlSink(updates)).updates == 0
