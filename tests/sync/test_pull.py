"""CRM to campaign manager: first transfer, claims, withdrawals, address changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from deliverability.consent import ConsentState, ConsentStore, DoubleOptIn
from deliverability.errors import InputError
from deliverability.sync import (
    CrmSync,
    CsvSource,
    FormIntake,
    JsonlSource,
    ReviewQueue,
    SyncConfig,
    purge_orphans,
)
from deliverability.sync import tables as st
from tests.consent.conftest import FakeClock
from tests.sync.conftest import CONTEXT, MemoryMailer
from tests.sync.crm import crm_row, write_crm

CLAIM = {
    "Newsletter": "Consent claimed",
    "Newsletter_Changed": "2026-02-01T10:00:00Z",
    "Consent_Source": "Phone call",
    "Consent_Evidence": "ticket-17",
}


def _pull(sync: CrmSync, path: Path, config: SyncConfig, *rows: dict[str, str]):
    return sync.pull(CsvSource(write_crm(path, rows), config))


def _state(store: ConsentStore, address: str) -> ConsentState:
    return store.consent(address, "news").state


@pytest.fixture
def sync(store: ConsentStore, flow: DoubleOptIn, sync_config: SyncConfig) -> CrmSync:
    return CrmSync(store, sync_config, flow=flow)


def test_first_transfer_is_none(
    sync: CrmSync, store: ConsentStore, sync_config: SyncConfig, tmp_path: Path
) -> None:
    row = crm_row("C1", "a@example.com", Newsletter="doi", Target_Groups="news")
    _pull(sync, tmp_path / "crm.csv", sync_config, row)
    assert _state(store, "a@example.com") is ConsentState.NONE


def test_first_transfer_logs_no_consent_event(
    sync: CrmSync, store: ConsentStore, sync_config: SyncConfig, tmp_path: Path
) -> None:
    _pull(
        sync,
        tmp_path / "crm.csv",
        sync_config,
        crm_row("C1", "a@example.com", Newsletter="doi"),
    )
    contact = store.require_contact("a@example.com")
    assert [e.kind.value for e in store.events(contact.id)] == ["contact_created"]


def test_claim_gives_soi(
    sync: CrmSync, store: ConsentStore, sync_config: SyncConfig, tmp_path: Path
) -> None:
    _pull(
        sync, tmp_path / "crm.csv", sync_config, crm_row("C1", "a@example.com", **CLAIM)
    )
    view = store.consent("a@example.com", "news")
    assert view.state is ConsentState.SOI_DOCUMENTED
    assert view.source == "Phone call"


def test_claim_without_evidence_reviews(
    sync: CrmSync, store: ConsentStore, sync_config: SyncConfig, tmp_path: Path
) -> None:
    claim = {**CLAIM, "Consent_Evidence": ""}
    report = _pull(
        sync, tmp_path / "crm.csv", sync_config, crm_row("C1", "a@example.com", **claim)
    )
    assert report.reviews == 1
    assert _state(store, "a@example.com") is ConsentState.NONE


def test_crm_opt_out_withdraws(
    sync: CrmSync, store: ConsentStore, sync_config: SyncConfig, tmp_path: Path
) -> None:
    _pull(
        sync,
        tmp_path / "crm.csv",
        sync_config,
        crm_row("C1", "a@example.com", Newsletter="Opted out"),
    )
    assert _state(store, "a@example.com") is ConsentState.WITHDRAWN


def test_stale_crm_value_changes_nothing(
    sync: CrmSync, store: ConsentStore, sync_config: SyncConfig, tmp_path: Path
) -> None:
    path = tmp_path / "crm.csv"
    _pull(sync, path, sync_config, crm_row("C1", "a@example.com", **CLAIM))
    store.withdraw("a@example.com", "news")
    # The CRM still shows the old claim, now with an edited name: no resurrection.
    _pull(
        sync,
        path,
        sync_config,
        crm_row("C1", "a@example.com", First_Name="Ann", **CLAIM),
    )
    assert _state(store, "a@example.com") is ConsentState.WITHDRAWN


async def _confirmed(flow: DoubleOptIn, mailer: MemoryMailer, address: str) -> None:
    await flow.sign_up(address, "news", "v1", CONTEXT)
    flow.confirm(mailer.token_for(address), CONTEXT)


async def test_later_confirmation_wins(
    sync: CrmSync,
    store: ConsentStore,
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    sync_config: SyncConfig,
    tmp_path: Path,
) -> None:
    path = tmp_path / "crm.csv"
    _pull(sync, path, sync_config, crm_row("C1", "a@example.com"))
    await _confirmed(flow, mailer, "a@example.com")
    old = crm_row(
        "C1",
        "a@example.com",
        Newsletter="Opted out",
        Newsletter_Changed="2026-01-01T00:00:00Z",
    )
    report = _pull(sync, path, sync_config, old)
    assert _state(store, "a@example.com") is ConsentState.DOI
    assert report.decisions["later_confirmation_wins"] == 1


async def test_newer_withdrawal_wins(
    sync: CrmSync,
    store: ConsentStore,
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    sync_config: SyncConfig,
    tmp_path: Path,
) -> None:
    path = tmp_path / "crm.csv"
    _pull(sync, path, sync_config, crm_row("C1", "a@example.com"))
    await _confirmed(flow, mailer, "a@example.com")
    new = crm_row(
        "C1",
        "a@example.com",
        Newsletter="Opted out",
        Newsletter_Changed="2026-12-01T00:00:00Z",
    )
    _pull(sync, path, sync_config, new)
    assert _state(store, "a@example.com") is ConsentState.WITHDRAWN


async def test_block_suppresses(
    sync: CrmSync, store: ConsentStore, sync_config: SyncConfig, tmp_path: Path
) -> None:
    _pull(
        sync,
        tmp_path / "crm.csv",
        sync_config,
        crm_row("C1", "a@example.com", Email_Opt_Out="yes"),
    )
    assert [s["reason"] for s in store.suppressions("a@example.com")] == ["blocklist"]


async def test_changed_address_pending_again(
    sync: CrmSync,
    store: ConsentStore,
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    clock: FakeClock,
    sync_config: SyncConfig,
    tmp_path: Path,
) -> None:
    path = tmp_path / "crm.csv"
    _pull(sync, path, sync_config, crm_row("C1", "old@example.com"))
    await _confirmed(flow, mailer, "old@example.com")
    clock.advance(minutes=1)
    _pull(sync, path, sync_config, crm_row("C1", "new@example.com"))
    assert _state(store, "new@example.com") is ConsentState.PENDING
    assert mailer.recipients()[-1] == "new@example.com"


def test_address_of_other_contact_reviews(
    sync: CrmSync, store: ConsentStore, sync_config: SyncConfig, tmp_path: Path
) -> None:
    path = tmp_path / "crm.csv"
    one, two = crm_row("C1", "a@example.com"), crm_row("C2", "b@example.com")
    _pull(sync, path, sync_config, one, two)
    report = _pull(sync, path, sync_config, one, crm_row("C2", "a@example.com"))
    assert report.reviews == 1
    (review,) = ReviewQueue(store, sync_config).list()
    assert (review.reason, review.field) == ("address_taken", "email")


def test_shared_address_reviews(
    sync: CrmSync, store: ConsentStore, sync_config: SyncConfig, tmp_path: Path
) -> None:
    path = tmp_path / "crm.csv"
    rows = (crm_row("C1", "a@example.com"), crm_row("C2", "A@example.com"))
    report = _pull(sync, path, sync_config, *rows)
    assert report.reviews == 1
    queue = ReviewQueue(store, sync_config)
    (review,) = queue.list()
    queue.resolve(review.id, "C1", actor="crm-user")
    assert _pull(sync, path, sync_config, *rows).reviews == 0


def test_invalid_address_reported(
    sync: CrmSync, sync_config: SyncConfig, tmp_path: Path
) -> None:
    report = _pull(
        sync,
        tmp_path / "crm.csv",
        sync_config,
        crm_row("C1", "not an address"),
        crm_row("C2", "b@example.com"),
    )
    assert report.invalid == 1
    assert report.created == 1
    assert "not an address" not in " ".join(report.problems)


def test_bad_time_reported(
    sync: CrmSync, sync_config: SyncConfig, tmp_path: Path
) -> None:
    row = crm_row("C1", "a@example.com", Newsletter_Changed="yesterday")
    report = _pull(sync, tmp_path / "crm.csv", sync_config, row)
    assert report.invalid == 1


def test_missing_column_rejected(
    sync: CrmSync, sync_config: SyncConfig, tmp_path: Path
) -> None:
    path = tmp_path / "crm.csv"
    path.write_text("Name,Mail\nA,a@example.com\n")
    with pytest.raises(InputError, match="lacks the columns"):
        sync.pull(CsvSource(path, sync_config))


def test_csv_not_utf8_rejected(
    sync: CrmSync, sync_config: SyncConfig, tmp_path: Path
) -> None:
    path = tmp_path / "crm.csv"
    path.write_bytes(b"Contact ID,E-Mail\nC1,j\xe9rg@example.com\n")
    with pytest.raises(InputError, match="not UTF-8"):
        sync.pull(CsvSource(path, sync_config))


def test_jsonl_not_utf8_rejected(
    sync: CrmSync, sync_config: SyncConfig, tmp_path: Path
) -> None:
    path = tmp_path / "crm.jsonl"
    path.write_bytes(b'{"Contact ID": "C1", "E-Mail": "j\xe9rg@example.com"}\n')
    with pytest.raises(InputError, match="not UTF-8"):
        sync.pull(JsonlSource(path, sync_config))


def test_jsonl_source(
    sync: CrmSync, store: ConsentStore, sync_config: SyncConfig, tmp_path: Path
) -> None:
    path = tmp_path / "crm.jsonl"
    path.write_text(
        '{"Contact ID": "C1", "E-Mail": "a@example.com", "Newsletter": "Opted out"}\n'
        "not json\n"
    )
    report = sync.pull(JsonlSource(path, sync_config))
    assert report.invalid == 1
    assert _state(store, "a@example.com") is ConsentState.WITHDRAWN


def test_second_run_changes_nothing(
    sync: CrmSync, store: ConsentStore, sync_config: SyncConfig, tmp_path: Path
) -> None:
    path = tmp_path / "crm.csv"
    rows = [crm_row(f"C{n}", f"p{n}@example.com", **CLAIM) for n in range(20)]
    _pull(sync, path, sync_config, *rows)
    before = store.events_since(0, limit=10_000)
    again = _pull(sync, path, sync_config, *rows)
    assert again.unchanged == 20
    assert store.events_since(0, limit=10_000) == before


def _snapshot(store: ConsentStore) -> list[object]:
    from sqlalchemy import select

    from deliverability.consent import tables as ct
    from deliverability.sync import tables as st

    with store.reading() as conn:
        events = conn.execute(
            select(
                ct.events.c.contact_id,
                ct.events.c.seq,
                ct.events.c.kind,
                ct.events.c.purpose,
                ct.events.c.payload,
            ).order_by(ct.events.c.contact_id, ct.events.c.seq)
        ).all()
        consents = conn.execute(
            select(
                ct.consents.c.address_key,
                ct.consents.c.purpose,
                ct.consents.c.state,
                ct.consents.c.legal_basis,
                ct.consents.c.source,
                ct.consents.c.confirmed_at,
            ).order_by(ct.consents.c.address_key)
        ).all()
        suppressions = conn.execute(
            select(ct.suppressions.c.address_key, ct.suppressions.c.reason).order_by(
                ct.suppressions.c.address_key
            )
        ).all()
        mirror = conn.execute(
            select(
                st.crm.c.crm_id, st.crm.c.digest, st.crm.c.fields, st.crm.c.name_key
            ).order_by(st.crm.c.crm_id)
        ).all()
    return [list(events), list(consents), list(suppressions), list(mirror)]


def test_bulk_path_same_as_store_path(
    sqlite_url: str, sync_config: SyncConfig, tmp_path: Path
) -> None:
    rows = [
        crm_row("C1", "a@example.com", First_Name="A", Last_Name="B", Account="C"),
        crm_row("C2", "b@example.com", **CLAIM),
        crm_row(
            "C3",
            "c@example.com",
            Newsletter="Opted out",
            Newsletter_Changed="2026-01-05T10:00:00+02:00",
        ),
        crm_row(
            "C4",
            "d@example.com",
            Email_Opt_Out="yes",
            Email_Opt_Out_Changed="2026-01-05T10:00:00Z",
        ),
        crm_row("C5", "e@example.com", Newsletter="doi"),
    ]
    path = write_crm(tmp_path / "crm.csv", rows)
    fast = ConsentStore(sqlite_url)
    slow = ConsentStore(f"sqlite:///{tmp_path / 'slow.sqlite3'}")
    slow.migrate()
    CrmSync(fast, sync_config).pull(CsvSource(path, sync_config))
    CrmSync(slow, sync_config, bulk=False).pull(CsvSource(path, sync_config))
    assert _snapshot(fast) == _snapshot(slow)
    assert fast.verify() == []
    assert slow.verify() == []


async def test_purged_contact_relinked(
    sync: CrmSync,
    store: ConsentStore,
    flow: DoubleOptIn,
    sync_config: SyncConfig,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    path = tmp_path / "crm.csv"
    _pull(sync, path, sync_config, crm_row("C1", "a@example.com"))
    await flow.sign_up("a@example.com", "news", "v1", CONTEXT)
    clock.advance(days=15)
    flow.purge_pending()
    opt_out = crm_row("C1", "a@example.com", Newsletter="Opted out")
    _pull(sync, path, sync_config, opt_out)
    assert _state(store, "a@example.com") is ConsentState.WITHDRAWN


async def test_purge_keeps_crm_linked_contact(
    sync: CrmSync,
    store: ConsentStore,
    flow: DoubleOptIn,
    sync_config: SyncConfig,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    # A web sign-up created the contact, then the CRM sync linked it.
    await flow.sign_up("a@example.com", "news", "v1", CONTEXT)
    row = crm_row("C1", "a@example.com", First_Name="Ann")
    _pull(sync, tmp_path / "crm.csv", sync_config, row)
    clock.advance(days=15)
    assert flow.purge_pending() == 1
    assert store.find_contact("a@example.com") is not None
    assert _state(store, "a@example.com") is ConsentState.NONE


async def test_purge_drops_expired_fields(
    store: ConsentStore, flow: DoubleOptIn, clock: FakeClock
) -> None:
    store.import_contacts(["imp@example.com"])
    fields = {"first_name": "Ann", "phone": "+49 30 1234567"}
    await FormIntake(flow).sign_up("imp@example.com", "news", "v1", CONTEXT, fields)
    clock.advance(days=15)
    assert flow.purge_pending() == 1
    assert purge_orphans(flow) == 1
    assert store.find_contact("imp@example.com") is not None
    with store.reading() as conn:
        assert conn.execute(select(st.form_fields)).all() == []


async def _old_address_confirmed(
    sync: CrmSync,
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    clock: FakeClock,
    config: SyncConfig,
    path: Path,
) -> None:
    """Pull CRM contact C1 at old@example.com and confirm that address."""
    _pull(sync, path, config, crm_row("C1", "old@example.com"))
    await _confirmed(flow, mailer, "old@example.com")
    clock.advance(minutes=1)


def _crash(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt  # the process dies after the batch committed


def _change_address_then_crash(
    sync: CrmSync,
    flow: DoubleOptIn,
    config: SyncConfig,
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pull C1 at new@example.com; the run dies after the commit, before the mail."""
    with monkeypatch.context() as patch:
        patch.setattr(flow, "register", _crash)
        with pytest.raises(KeyboardInterrupt):
            _pull(sync, path, config, crm_row("C1", "new@example.com"))


async def test_crash_before_mail_resends(
    sync: CrmSync,
    store: ConsentStore,
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    clock: FakeClock,
    sync_config: SyncConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "crm.csv"
    await _old_address_confirmed(sync, flow, mailer, clock, sync_config, path)
    _change_address_then_crash(sync, flow, sync_config, path, monkeypatch)
    # The change committed, the mail did not go out.
    assert store.find_contact("new@example.com") is not None
    assert "new@example.com" not in mailer.recipients()
    # The CRM row is unchanged now, so only the queue can send the mail.
    report = _pull(sync, path, sync_config, crm_row("C1", "new@example.com"))
    assert report.unchanged == 1
    assert mailer.recipients()[-1] == "new@example.com"
    assert _state(store, "new@example.com") is ConsentState.PENDING
    again = _pull(sync, path, sync_config, crm_row("C1", "new@example.com"))
    assert again.decisions["new_address_pending"] == 0


class FailingMailer(MemoryMailer):
    """A mailer whose server refuses mail to one address while ``down``."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def send(self, message: object) -> None:
        if self.down and message["To"] == "new@example.com":  # type: ignore[index]
            raise ConnectionRefusedError("SMTP server refused the connection")
        super().send(message)  # type: ignore[arg-type]


async def test_mail_failure_retried_next_pull(
    store: ConsentStore, clock: FakeClock, sync_config: SyncConfig, tmp_path: Path
) -> None:
    mailer = FailingMailer()
    flow = DoubleOptIn(store, mailer)
    sync = CrmSync(store, sync_config, flow=flow)
    path = tmp_path / "crm.csv"
    await _old_address_confirmed(sync, flow, mailer, clock, sync_config, path)
    mailer.down = True
    failed = _pull(sync, path, sync_config, crm_row("C1", "new@example.com"))
    assert any("kept for the next pull" in p for p in failed.problems)
    # Another contact's opt-out in a later run still goes through.
    mailer.down = False
    rows = [
        crm_row("C1", "new@example.com"),
        crm_row("C2", "b@example.com", Email_Opt_Out="yes"),
    ]
    later = _pull(sync, path, sync_config, *rows)
    assert later.decisions["new_address_pending"] == 1
    assert mailer.recipients()[-1] == "new@example.com"
    assert [s["reason"] for s in store.suppressions("b@example.com")] == ["blocklist"]


async def test_run_without_flow_keeps_queue(
    sync: CrmSync,
    store: ConsentStore,
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    clock: FakeClock,
    sync_config: SyncConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "crm.csv"
    await _old_address_confirmed(sync, flow, mailer, clock, sync_config, path)
    _change_address_then_crash(sync, flow, sync_config, path, monkeypatch)
    without = CrmSync(store, sync_config, flow=None)
    waiting = _pull(without, path, sync_config, crm_row("C1", "new@example.com"))
    assert waiting.decisions["new_address_mail_waiting"] == 1
    _pull(sync, path, sync_config, crm_row("C1", "new@example.com"))
    assert mailer.recipients()[-1] == "new@example.com"
