"""Campaign manager to CRM: events, match-up of confirmed sign-ups, sinks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from deliverability.consent import ConsentStore, DoubleOptIn, SuppressionReason
from deliverability.sync import (
    CrmSync,
    CsvSink,
    CsvSource,
    FormIntake,
    JsonlSink,
    MemorySink,
    SyncConfig,
)
from deliverability.sync import tables as st
from deliverability.sync.adapters import _drop_partial_line
from tests.consent.conftest import FakeClock
from tests.sync.conftest import CONTEXT, MemoryMailer
from tests.sync.crm import crm_row, write_crm


@pytest.fixture
def sync(
    store: ConsentStore, flow: DoubleOptIn, sync_config: SyncConfig, tmp_path: Path
) -> CrmSync:
    synced = CrmSync(store, sync_config, flow=flow)
    rows = [
        crm_row("C1", "a@example.com", Customer_No="K-1"),
        crm_row("C2", "b@example.com"),
    ]
    synced.pull(CsvSource(write_crm(tmp_path / "crm.csv", rows), sync_config))
    return synced


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        (SuppressionReason.HARD_BOUNCE, "bounced"),
        (SuppressionReason.COMPLAINT, "complained"),
        (SuppressionReason.UNSUBSCRIBE, "unsubscribed"),
    ],
)
def test_suppression_reaches_crm(
    sync: CrmSync, store: ConsentStore, reason: SuppressionReason, kind: str
) -> None:
    sink = MemorySink()
    store.suppress("b@example.com", reason)
    sync.push(sink)
    assert sink.kinds() == [(kind, "C2", None)]


def test_pull_events_not_echoed(sync: CrmSync) -> None:
    sink = MemorySink()
    sync.push(sink)
    assert sink.kinds() == []


async def test_pending_signup_not_pushed(sync: CrmSync, flow: DoubleOptIn) -> None:
    sink = MemorySink()
    await FormIntake(flow).sign_up(
        "new@example.org", "news", "v1", CONTEXT, {"last_name": "New"}
    )
    sync.push(sink)
    assert sink.kinds() == []


async def test_unmatched_signup_creates(
    sync: CrmSync, flow: DoubleOptIn, mailer: MemoryMailer, clock: FakeClock
) -> None:
    sink = MemorySink()
    await FormIntake(flow).sign_up(
        "new@example.org",
        "news",
        "v1",
        CONTEXT,
        {"last_name": "New", "company": "Nova"},
    )
    clock.advance(minutes=1)
    flow.confirm(mailer.token_for("new@example.org"), CONTEXT)
    sync.push(sink)
    assert sink.kinds() == [("create_contact", None, None), ("confirmed", None, "news")]
    created = next(iter(sink.updates.values()))
    assert created.data["last_name"] == "New"


async def test_created_contact_linked_on_pull(
    sync: CrmSync,
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    clock: FakeClock,
    sync_config: SyncConfig,
    tmp_path: Path,
) -> None:
    sink = MemorySink()
    await flow.sign_up("new@example.org", "news", "v1", CONTEXT)
    flow.confirm(mailer.token_for("new@example.org"), CONTEXT)
    sync.push(sink)
    rows = [
        crm_row("C1", "a@example.com", Customer_No="K-1"),
        crm_row("C2", "b@example.com"),
        crm_row("C3", "new@example.org"),
    ]
    report = sync.pull(CsvSource(write_crm(tmp_path / "crm.csv", rows), sync_config))
    assert report.linked == 1
    assert report.reviews == 0
    clock.advance(minutes=1)
    flow.unsubscribe(
        mailer.token_for("new@example.org", "unsubscribe"), CONTEXT, one_click=False
    )
    sync.push(sink)
    assert sink.kinds()[-1] == ("unsubscribed", "C3", "news")


async def test_jsonl_sink_skips_written_ids(
    tmp_path: Path, sync: CrmSync, store: ConsentStore
) -> None:
    path = tmp_path / "out.jsonl"
    store.suppress("a@example.com", SuppressionReason.COMPLAINT)
    sync.push(JsonlSink(path))
    first = path.read_text()
    # As after a crash between the write and the record of its delivery:
    with store.transaction() as conn:
        conn.execute(
            st.cursors.update()
            .where(st.cursors.c.name == "delivered")
            .values(position=0)
        )
    sync.push(JsonlSink(path))
    assert path.read_text() == first


def test_partial_line_dropped(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text('{"id": 1}\n{"id": 2, "ki')
    _drop_partial_line(path)
    assert path.read_text() == '{"id": 1}\n'


def test_csv_sink_in_crm_columns(
    sync: CrmSync, store: ConsentStore, sync_config: SyncConfig, tmp_path: Path
) -> None:
    path = tmp_path / "updates.csv"
    store.suppress("a@example.com", SuppressionReason.HARD_BOUNCE)
    sync.push(CsvSink(path, sync_config))
    sync.push(CsvSink(path, sync_config))
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["Contact ID"], r["Update"]) for r in rows] == [("C1", "bounced")]


def test_update_json_form(sync: CrmSync, store: ConsentStore) -> None:
    sink = MemorySink()
    store.suppress("a@example.com", SuppressionReason.COMPLAINT)
    sync.push(sink)
    (update,) = sink.updates.values()
    data = json.loads(json.dumps(update.to_dict()))
    assert data["kind"] == "complained"
    assert data["crm_id"] == "C1"
