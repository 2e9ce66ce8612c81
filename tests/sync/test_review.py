"""The review queue: list, show, resolve, and what a resolution does."""

from __future__ import annotations

from pathlib import Path

import pytest

from deliverability.consent import ConsentState, ConsentStore, DoubleOptIn
from deliverability.errors import InputError
from deliverability.sync import CrmSync, CsvSource, MemorySink, ReviewQueue, SyncConfig
from tests.sync.conftest import CONTEXT, MemoryMailer
from tests.sync.crm import crm_row, write_crm


async def _conflict(
    store: ConsentStore,
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    config: SyncConfig,
    path: Path,
) -> CrmSync:
    sync = CrmSync(store, config, flow=flow)
    sync.pull(CsvSource(write_crm(path, [crm_row("C1", "a@example.com")]), config))
    await flow.sign_up("a@example.com", "news", "v1", CONTEXT)
    flow.confirm(mailer.token_for("a@example.com"), CONTEXT)
    opt_out = crm_row("C1", "a@example.com", Newsletter="Opted out")
    sync.pull(CsvSource(write_crm(path, [opt_out]), config))
    return sync


@pytest.fixture
async def queue(
    store: ConsentStore,
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    sync_config: SyncConfig,
    tmp_path: Path,
) -> ReviewQueue:
    await _conflict(store, flow, mailer, sync_config, tmp_path / "crm.csv")
    return ReviewQueue(store, sync_config)


async def test_conflict_listed(queue: ReviewQueue) -> None:
    (review,) = queue.list()
    assert (review.kind, review.field) == ("conflict", "news")
    assert review.choices() == ["keep", "apply"]


async def test_keep_tells_crm(
    queue: ReviewQueue, store: ConsentStore, sync_config: SyncConfig
) -> None:
    sink = MemorySink()
    CrmSync(store, sync_config).push(sink)
    (review,) = queue.list()
    queue.resolve(review.id, "keep", actor="crm-user")
    CrmSync(store, sync_config).push(sink)
    assert sink.kinds()[-1] == ("consent_state", "C1", "news")
    assert store.consent("a@example.com", "news").state is ConsentState.DOI


async def test_apply_withdraws(queue: ReviewQueue, store: ConsentStore) -> None:
    (review,) = queue.list()
    queue.resolve(review.id, "apply", actor="crm-user")
    assert store.consent("a@example.com", "news").state is ConsentState.WITHDRAWN


async def test_resolution_logged(queue: ReviewQueue) -> None:
    (review,) = queue.list()
    done = queue.resolve(review.id, "keep", actor="crm-user")
    assert (done.status, done.resolution, done.actor) == (
        "resolved",
        "keep",
        "crm-user",
    )
    assert done.resolved_at is not None
    assert queue.list() == []


async def test_invalid_choice(queue: ReviewQueue) -> None:
    (review,) = queue.list()
    with pytest.raises(InputError, match="invalid choice"):
        queue.resolve(review.id, "C7", actor="crm-user")


async def test_resolve_twice(queue: ReviewQueue) -> None:
    (review,) = queue.list()
    queue.resolve(review.id, "keep", actor="crm-user")
    with pytest.raises(InputError, match="already resolved"):
        queue.resolve(review.id, "apply", actor="crm-user")


async def test_resolve_needs_actor(queue: ReviewQueue) -> None:
    (review,) = queue.list()
    with pytest.raises(InputError, match="name of the person"):
        queue.resolve(review.id, "keep", actor=" ")


async def test_unknown_review(queue: ReviewQueue) -> None:
    with pytest.raises(InputError, match="no review with id 99"):
        queue.show(99)


async def test_rerun_no_second_review(
    queue: ReviewQueue, store: ConsentStore, sync_config: SyncConfig, tmp_path: Path
) -> None:
    CrmSync(store, sync_config).pull(CsvSource(tmp_path / "crm.csv", sync_config))
    assert len(queue.list()) == 1


async def _blocked_conflict(
    store: ConsentStore,
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    config: SyncConfig,
    path: Path,
) -> ReviewQueue:
    sync = CrmSync(store, config, flow=flow)
    sync.pull(CsvSource(write_crm(path, [crm_row("C1", "a@example.com")]), config))
    await flow.sign_up("a@example.com", "news", "v1", CONTEXT)
    flow.confirm(mailer.token_for("a@example.com"), CONTEXT)
    blocked = crm_row("C1", "a@example.com", Email_Opt_Out="yes")
    sync.pull(CsvSource(write_crm(path, [blocked]), config))
    return ReviewQueue(store, config)


async def test_apply_block_suppresses(
    store: ConsentStore,
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    sync_config: SyncConfig,
    tmp_path: Path,
) -> None:
    queue = await _blocked_conflict(
        store, flow, mailer, sync_config, tmp_path / "crm.csv"
    )
    (review,) = queue.list()
    queue.resolve(review.id, "apply", actor="crm-user")
    reasons = [s["reason"] for s in store.suppressions("a@example.com")]
    assert reasons == ["blocklist"]


async def test_apply_unknown_word_without_mapping(
    store: ConsentStore,
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    sync_config: SyncConfig,
    tmp_path: Path,
) -> None:
    await _conflict(store, flow, mailer, sync_config, tmp_path / "crm.csv")
    queue = ReviewQueue(store, SyncConfig())
    (review,) = queue.list()
    with pytest.raises(InputError, match="names no consent state"):
        queue.resolve(review.id, "apply", actor="crm-user")


async def test_taken_address_only_kept(
    store: ConsentStore, sync_config: SyncConfig, tmp_path: Path
) -> None:
    sync = CrmSync(store, sync_config)
    path = tmp_path / "crm.csv"
    rows = [crm_row("C1", "a@example.com"), crm_row("C2", "b@example.com")]
    sync.pull(CsvSource(write_crm(path, rows), sync_config))
    rows[0] = crm_row("C1", "b@example.com")
    sync.pull(CsvSource(write_crm(path, rows), sync_config))
    (review,) = ReviewQueue(store, sync_config).list()
    assert review.choices() == ["keep"]


async def test_apply_undocumented_claim_refused(
    store: ConsentStore, sync_config: SyncConfig, tmp_path: Path
) -> None:
    claim = crm_row("C1", "a@example.com", Newsletter="Consent claimed")
    path = write_crm(tmp_path / "crm.csv", [claim])
    CrmSync(store, sync_config).pull(CsvSource(path, sync_config))
    queue = ReviewQueue(store, sync_config)
    (review,) = queue.list()
    with pytest.raises(InputError, match="without a source"):
        queue.resolve(review.id, "apply", actor="crm-user")
