"""The store on SQLite and PostgreSQL: migrations, imports, the event log."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, delete, func, select, text
from sqlalchemy.exc import DBAPIError

from deliverability.consent import (
    ConsentState,
    ConsentStore,
    SuppressionReason,
    unconfirmed_doi,
)
from deliverability.consent import tables as t
from deliverability.consent.errors import AddressError
from deliverability.consent.model import EventKind
from deliverability.errors import InputError
from deliverability.sync import tables as sync_tables


def test_migrations_match_tables(store: ConsentStore) -> None:
    both = MetaData()
    for table in [*t.metadata.tables.values(), *sync_tables.metadata.tables.values()]:
        table.to_metadata(both)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), both)
    assert diff == []


def test_migrate_twice_is_harmless(store: ConsentStore) -> None:
    store.migrate()
    assert store.find_contact("a@example.com") is None


def _count(store: ConsentStore, table: object) -> int:
    with store.reading() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def test_import_sets_none(store: ConsentStore) -> None:
    store.import_contacts(["a@example.com"])
    assert store.consent("a@example.com", "news").state is ConsentState.NONE


def test_import_counts_new_only(store: ConsentStore) -> None:
    store.import_contacts(["a@example.com"])
    assert store.import_contacts(["A@example.com", "b@example.com"]) == 1


def test_import_crash_writes_nothing(store: ConsentStore) -> None:
    def addresses() -> Iterator[str]:
        for number in range(50):
            yield f"user{number}@example.com"
        raise RuntimeError("the source broke off")

    with pytest.raises(RuntimeError):
        store.import_contacts(addresses())
    assert _count(store, t.contacts) == 0


def test_import_crash_leaves_no_events(store: ConsentStore) -> None:
    with pytest.raises(AddressError):
        store.import_contacts(["a@example.com", "b@example.com", "not an address"])
    assert _count(store, t.events) == 0


def test_invalid_import_names_item(store: ConsentStore) -> None:
    with pytest.raises(AddressError, match="item 2"):
        store.import_contacts(["a@example.com", "broken@"])


def test_soi_gives_soi_documented(store: ConsentStore) -> None:
    state = store.record_soi("a@example.com", "news", source="fair", evidence="card 7")
    assert state is ConsentState.SOI_DOCUMENTED


def test_soi_needs_evidence(store: ConsentStore) -> None:
    with pytest.raises(InputError, match="evidence"):
        store.record_soi("a@example.com", "news", source="fair", evidence=" ")


def test_apply_refuses_confirmation(store: ConsentStore) -> None:
    store.import_contacts(["a@example.com"])
    contact = store.require_contact("a@example.com")
    with pytest.raises(ValueError, match="token"), store.transaction() as conn:
        store.apply(
            conn, contact.id, "news", EventKind.CONFIRMED, source="api", payload={}
        )


def test_confirm_refuses_fake_grant(store: ConsentStore) -> None:
    with pytest.raises(ValueError, match="grant"), store.transaction() as conn:
        store.confirm(conn, object(), {})  # type: ignore[arg-type]


def test_withdraw_from_none(store: ConsentStore) -> None:
    store.import_contacts(["a@example.com"])
    assert store.withdraw("a@example.com", "news") is ConsentState.WITHDRAWN


def test_consent_text_version_fixed(store: ConsentStore) -> None:
    store.add_consent_text("news", "v1", "I agree.")
    with pytest.raises(InputError, match="new version"):
        store.add_consent_text("news", "v1", "I agree to everything.")


def test_consent_text_same_wording_ok(store: ConsentStore) -> None:
    first = store.add_consent_text("news", "v1", "I agree.")
    assert store.add_consent_text("news", "v1", "I agree.") == first


def test_suppress_before_contact_exists(store: ConsentStore) -> None:
    store.suppress("x@example.com", SuppressionReason.BLOCKLIST)
    assert store.suppressions("X@example.com")[0]["reason"] == "blocklist"


def test_suppress_logs_event(store: ConsentStore) -> None:
    store.import_contacts(["a@example.com"])
    store.suppress("a@example.com", SuppressionReason.COMPLAINT, purpose="news")
    contact = store.require_contact("a@example.com")
    assert store.events(contact.id)[-1].kind is EventKind.SUPPRESSED


def test_events_since_resumes(store: ConsentStore) -> None:
    store.import_contacts(["a@example.com", "b@example.com"])
    first = store.events_since(0, limit=1)
    rest = store.events_since(first[-1].id or 0)
    assert [e.payload["address"] for e in rest] == ["b@example.com"]


def test_late_commit_not_skipped(store: ConsentStore) -> None:
    # A writer that took an event id and has not committed yet must keep a
    # second writer from committing a higher id. Otherwise a reader resuming
    # from the last id it saw would skip the first event for good.
    store.import_contacts(["a@example.com", "b@example.com"])
    cursor = store.events_since(0)[-1].id or 0
    first_holds = threading.Event()
    first_may_commit = threading.Event()
    second_done = threading.Event()

    def first() -> None:
        with store.transaction() as conn:
            contact = store.require_contact("a@example.com")
            store.append(conn, contact.id, EventKind.SUPPRESSED, None, "test", {})
            first_holds.set()
            first_may_commit.wait(10)

    def second() -> None:
        first_holds.wait(10)
        with store.transaction() as conn:
            contact = store.require_contact("b@example.com")
            store.append(conn, contact.id, EventKind.SUPPRESSED, None, "test", {})
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_holds.wait(10)
    # While the first writer's transaction is open, the second cannot finish
    # (SQLite: BEGIN IMMEDIATE; PostgreSQL: the advisory lock).
    assert not second_done.wait(0.5)
    visible = store.events_since(cursor)
    assert visible == []
    first_may_commit.set()
    for thread in threads:
        thread.join(10)
    read = store.events_since(cursor)
    assert [e.contact_id for e in read] == [
        store.require_contact("a@example.com").id,
        store.require_contact("b@example.com").id,
    ]


# -- hash chain ------------------------------------------------------------


def _contact_with_history(store: ConsentStore) -> int:
    store.record_soi("a@example.com", "news", source="fair", evidence="card 7")
    store.withdraw("a@example.com", "news")
    store.suppress("a@example.com", SuppressionReason.HARD_BOUNCE)
    return store.require_contact("a@example.com").id


def test_chain_intact(store: ConsentStore) -> None:
    _contact_with_history(store)
    assert store.verify() == []


def test_event_update_rejected(store: ConsentStore) -> None:
    _contact_with_history(store)
    with pytest.raises(DBAPIError), store.transaction() as conn:
        conn.execute(t.events.update().values(payload="{}"))


def _drop_guard(store: ConsentStore) -> None:
    with store.transaction() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER events_append_only ON events"))
        else:
            conn.execute(text("DROP TRIGGER events_append_only"))


def test_changed_payload_detected(store: ConsentStore) -> None:
    contact_id = _contact_with_history(store)
    _drop_guard(store)
    with store.transaction() as conn:
        conn.execute(
            t.events.update()
            .where(t.events.c.seq == 2)
            .values(payload='{"source":"forged"}')
        )
    codes = [f.code for f in store.verify(contact_id)]
    assert codes == ["consent.chain_broken"]


def test_removed_middle_event_detected(store: ConsentStore) -> None:
    contact_id = _contact_with_history(store)
    with store.transaction() as conn:
        conn.execute(delete(t.events).where(t.events.c.seq == 2))
    assert "a gap" in store.verify(contact_id)[0].message


def test_removed_last_event_detected(store: ConsentStore) -> None:
    contact_id = _contact_with_history(store)
    with store.transaction() as conn:
        last = conn.scalar(select(func.max(t.events.c.seq)))
        conn.execute(delete(t.events).where(t.events.c.seq == last))
    assert "head" in store.verify(contact_id)[0].message


def test_changed_time_detected(store: ConsentStore) -> None:
    contact_id = _contact_with_history(store)
    _drop_guard(store)
    with store.transaction() as conn:
        moment = conn.scalar(select(t.events.c.occurred_at).where(t.events.c.seq == 1))
        conn.execute(
            t.events.update()
            .where(t.events.c.seq == 1)
            .values(occurred_at=moment.replace(year=2020))
        )
    assert store.verify(contact_id) != []


def test_suppress_in_rolls_back(store: ConsentStore) -> None:
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.suppress_in(conn, "a@example.com", SuppressionReason.COMPLAINT)
        raise RuntimeError("the caller's work failed")
    assert store.suppressions("a@example.com") == []


def test_suppress_in_commits(store: ConsentStore) -> None:
    with store.transaction() as conn:
        store.suppress_in(conn, "a@example.com", SuppressionReason.COMPLAINT)
    assert store.suppressions("a@example.com")[0]["scope"] == "*"


def test_doi_without_confirmation_found(store: ConsentStore) -> None:
    store.record_soi("a@example.com", "news", source="fair", evidence="card 7")
    with store.transaction() as conn:
        conn.execute(t.consents.update().values(state=ConsentState.DOI.value))
    codes = [f.code for f in unconfirmed_doi(store)]
    assert codes == ["consent.evidence_incomplete"]


def test_no_doi_nothing_found(store: ConsentStore) -> None:
    _contact_with_history(store)
    assert unconfirmed_doi(store) == []
