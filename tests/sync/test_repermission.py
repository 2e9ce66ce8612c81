"""Re-permission: only documented single opt-ins are asked, and it is logged."""

from __future__ import annotations

from deliverability.consent import (
    ConsentState,
    ConsentStore,
    DoubleOptIn,
    LegalBasis,
    SuppressionReason,
)
from deliverability.sync import Repermission, SyncConfig
from tests.consent.conftest import FakeClock
from tests.sync.conftest import CONTEXT, MemoryMailer


def _soi(
    store: ConsentStore, address: str, basis: LegalBasis = LegalBasis.CONSENT
) -> None:
    store.record_soi(
        address, "news", source="Trade fair", evidence="card-1", legal_basis=basis
    )


async def _mixed(store: ConsentStore, flow: DoubleOptIn, mailer: MemoryMailer) -> None:
    _soi(store, "soi@example.com")
    _soi(store, "customer@example.com", LegalBasis.EXISTING_CUSTOMER)
    store.import_contacts(["none@example.com"])
    _soi(store, "withdrawn@example.com")
    store.withdraw("withdrawn@example.com", "news")
    _soi(store, "bounced@example.com")
    store.suppress("bounced@example.com", SuppressionReason.HARD_BOUNCE)
    await flow.sign_up("pending@example.com", "news", "v1", CONTEXT)
    await flow.sign_up("doi@example.com", "news", "v1", CONTEXT)
    flow.confirm(mailer.token_for("doi@example.com"), CONTEXT)


async def test_only_documented_soi_asked(
    store: ConsentStore, flow: DoubleOptIn, mailer: MemoryMailer
) -> None:
    await _mixed(store, flow, mailer)
    eligible = Repermission(flow).eligible("news")
    assert [address for _, address in eligible] == ["soi@example.com"]


async def test_configured_basis_asked(
    store: ConsentStore, flow: DoubleOptIn, mailer: MemoryMailer
) -> None:
    await _mixed(store, flow, mailer)
    config = SyncConfig(
        repermission_bases=frozenset({LegalBasis.CONSENT, LegalBasis.EXISTING_CUSTOMER})
    )
    eligible = Repermission(flow, config).eligible("news")
    assert sorted(a for _, a in eligible) == ["customer@example.com", "soi@example.com"]


async def test_send_mails_and_logs(
    store: ConsentStore, flow: DoubleOptIn, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await _mixed(store, flow, mailer)
    before = len(mailer.sent)
    repermission = Repermission(flow)
    report = repermission.send("news", "v1", campaign="spring", actor="ops")
    assert report.sent == 1
    assert mailer.recipients()[before:] == ["soi@example.com"]
    (entry,) = repermission.asked(report.contact_ids[0])
    assert (entry["campaign"], entry["actor"]) == ("spring", "ops")
    assert entry["asked_at"].startswith(clock.now.date().isoformat())


async def test_confirmation_gives_doi(
    store: ConsentStore, flow: DoubleOptIn, mailer: MemoryMailer
) -> None:
    _soi(store, "soi@example.com")
    Repermission(flow).send("news", "v1", campaign="spring", actor="ops")
    flow.confirm(mailer.token_for("soi@example.com"), CONTEXT)
    assert store.consent("soi@example.com", "news").state is ConsentState.DOI


async def test_asked_once_while_pending(
    store: ConsentStore, flow: DoubleOptIn, mailer: MemoryMailer
) -> None:
    _soi(store, "soi@example.com")
    repermission = Repermission(flow)
    repermission.send("news", "v1", campaign="spring", actor="ops")
    again = repermission.send("news", "v1", campaign="spring", actor="ops")
    assert again.eligible == 0
    assert len(mailer.sent) == 1


async def test_unanswered_keeps_soi(
    store: ConsentStore, flow: DoubleOptIn, clock: FakeClock
) -> None:
    _soi(store, "soi@example.com")
    Repermission(flow).send("news", "v1", campaign="spring", actor="ops")
    clock.advance(days=15)
    assert flow.purge_pending() == 1
    view = store.consent("soi@example.com", "news")
    assert view.state is ConsentState.SOI_DOCUMENTED
    assert view.source == "Trade fair"
    assert store.verify() == []


async def test_unanswered_soi_asked_again(
    store: ConsentStore, flow: DoubleOptIn, clock: FakeClock
) -> None:
    _soi(store, "soi@example.com")
    repermission = Repermission(flow)
    repermission.send("news", "v1", campaign="spring", actor="ops")
    clock.advance(days=15)
    flow.purge_pending()
    assert len(repermission.eligible("news")) == 1


async def test_plain_signup_still_purged(
    store: ConsentStore, flow: DoubleOptIn, clock: FakeClock
) -> None:
    _soi(store, "soi@example.com")
    await flow.sign_up("new@example.com", "news", "v1", CONTEXT)
    clock.advance(days=15)
    flow.purge_pending()
    assert store.find_contact("new@example.com") is None


async def test_signup_after_withdrawal_keeps_it(
    store: ConsentStore, flow: DoubleOptIn, clock: FakeClock
) -> None:
    _soi(store, "soi@example.com")
    store.withdraw("soi@example.com", "news")
    await flow.sign_up("soi@example.com", "news", "v1", CONTEXT)
    clock.advance(days=15)
    flow.purge_pending()
    assert store.consent("soi@example.com", "news").state is ConsentState.WITHDRAWN
