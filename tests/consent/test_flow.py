"""The double opt-in flow on both backends: tokens, throttles, purge, evidence."""

from __future__ import annotations

import html
import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from deliverability.consent import (
    ConsentConfig,
    ConsentState,
    ConsentStore,
    DoubleOptIn,
    IllegalTransition,
    RequestContext,
    SignupStatus,
    SuppressionReason,
    ThrottledError,
    TokenError,
    TokenProblem,
    export_contact,
    render_html,
)
from deliverability.consent import tables as t
from deliverability.consent.model import EventKind
from deliverability.errors import InputError

from .conftest import FakeClock, MemoryMailer
from .helpers import CONSENT_TEXT, CONTEXT, link_token, mail_text, prepare, signed_up


@pytest.fixture
def mailer() -> MemoryMailer:
    return MemoryMailer()


@pytest.fixture
def flow(store: ConsentStore, mailer: MemoryMailer) -> DoubleOptIn:
    prepare(store)
    config = ConsentConfig(base_url="https://lists.example.com")
    return DoubleOptIn(store, mailer, config=config)


async def test_signup_is_pending(flow: DoubleOptIn, store: ConsentStore) -> None:
    await signed_up(flow, "a@example.com")
    assert store.consent("a@example.com", "news").state is ConsentState.PENDING


async def test_signup_sends_mail(flow: DoubleOptIn, mailer: MemoryMailer) -> None:
    await signed_up(flow, "a@example.com")
    assert len(mailer.sent) == 1


async def test_mail_has_text_and_html(flow: DoubleOptIn, mailer: MemoryMailer) -> None:
    await signed_up(flow, "a@example.com")
    message = mailer.sent[0]
    assert message.get_body(("html",)) is not None  # type: ignore[attr-defined]


async def test_mail_echoes_no_input(flow: DoubleOptIn, mailer: MemoryMailer) -> None:
    context = RequestContext("198.51.100.7", "<b>Agent</b>", "https://evil.example/<x>")
    await flow.sign_up("hello.world@example.com", "news", "v1", context)
    message = mailer.sent[0]
    bodies = mail_text(message) + str(message.get_body(("html",)).get_content())  # type: ignore[attr-defined]
    for typed in ("hello.world", "Agent", "evil.example", "198.51.100.7"):
        assert typed not in bodies


async def test_confirm_gives_doi(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer
) -> None:
    await signed_up(flow, "a@example.com")
    flow.confirm(link_token(mailer.sent[0], "confirm"), CONTEXT)
    assert store.consent("a@example.com", "news").state is ConsentState.DOI


async def test_confirm_marks_address(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer
) -> None:
    await signed_up(flow, "a@example.com")
    flow.confirm(link_token(mailer.sent[0], "confirm"), CONTEXT)
    assert store.require_contact("a@example.com").address_confirmed_at is not None


async def test_token_stored_hashed(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer
) -> None:
    await signed_up(flow, "a@example.com")
    token = link_token(mailer.sent[0], "confirm")
    with store.reading() as conn:
        stored = conn.execute(select(t.tokens.c.token_hash)).scalars().all()
    assert token not in stored


async def test_token_not_in_event_log(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer
) -> None:
    await signed_up(flow, "a@example.com")
    token = link_token(mailer.sent[0], "confirm")
    with store.reading() as conn:
        payloads = " ".join(conn.execute(select(t.events.c.payload)).scalars())
    assert token not in payloads


@pytest.mark.parametrize(
    "token",
    ["", "short", "A" * 43, "../../etc/passwd", "Z" * 42 + "!", "x" * 500],
)
async def test_forged_token_unknown(flow: DoubleOptIn, token: str) -> None:
    await signed_up(flow, "a@example.com")
    with pytest.raises(TokenError) as caught:
        flow.confirm(token, CONTEXT)
    assert caught.value.problem is TokenProblem.UNKNOWN


async def test_expired_token(
    flow: DoubleOptIn, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await signed_up(flow, "a@example.com")
    clock.advance(days=7, seconds=1)
    with pytest.raises(TokenError) as caught:
        flow.confirm(link_token(mailer.sent[0], "confirm"), CONTEXT)
    assert caught.value.problem is TokenProblem.EXPIRED


async def test_token_valid_before_expiry(
    flow: DoubleOptIn, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await signed_up(flow, "a@example.com")
    clock.advance(days=6, hours=23)
    assert flow.confirm(link_token(mailer.sent[0], "confirm"), CONTEXT) > 0


async def test_reused_token(flow: DoubleOptIn, mailer: MemoryMailer) -> None:
    await signed_up(flow, "a@example.com")
    token = link_token(mailer.sent[0], "confirm")
    flow.confirm(token, CONTEXT)
    with pytest.raises(TokenError) as caught:
        flow.confirm(token, CONTEXT)
    assert caught.value.problem is TokenProblem.USED


async def test_unsubscribe_token_cannot_confirm(
    flow: DoubleOptIn, mailer: MemoryMailer
) -> None:
    await signed_up(flow, "a@example.com")
    with pytest.raises(TokenError) as caught:
        flow.confirm(link_token(mailer.sent[0], "unsubscribe"), CONTEXT)
    assert caught.value.problem is TokenProblem.WRONG_ACTION


async def test_confirm_token_cannot_unsubscribe(
    flow: DoubleOptIn, mailer: MemoryMailer
) -> None:
    await signed_up(flow, "a@example.com")
    with pytest.raises(TokenError) as caught:
        flow.unsubscribe(link_token(mailer.sent[0], "confirm"), CONTEXT, one_click=True)
    assert caught.value.problem is TokenProblem.WRONG_ACTION


async def test_token_bound_to_purpose(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer
) -> None:
    await signed_up(flow, "a@example.com", "news")
    await signed_up(flow, "a@example.com", "offers")
    flow.confirm(link_token(mailer.sent[1], "confirm"), CONTEXT)
    assert store.consent("a@example.com", "news").state is ConsentState.PENDING


async def test_concurrent_confirm_one_wins(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer
) -> None:
    await signed_up(flow, "a@example.com")
    token = link_token(mailer.sent[0], "confirm")
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def attempt() -> None:
        barrier.wait()
        try:
            flow.confirm(token, CONTEXT)
            outcomes.append("won")
        except TokenError as exc:
            outcomes.append(exc.problem.value)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["used", "won"]


async def test_concurrent_confirm_one_event(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer
) -> None:
    await signed_up(flow, "a@example.com")
    token = link_token(mailer.sent[0], "confirm")
    barrier = threading.Barrier(3)

    def attempt() -> None:
        barrier.wait()
        try:
            flow.confirm(token, CONTEXT)
        except TokenError:
            pass

    threads = [threading.Thread(target=attempt) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    contact = store.require_contact("a@example.com")
    kinds = [e.kind for e in store.events(contact.id)]
    assert kinds.count(EventKind.CONFIRMED) == 1


async def test_resend_within_cooldown(flow: DoubleOptIn) -> None:
    await signed_up(flow, "a@example.com")
    with pytest.raises(ThrottledError):
        await signed_up(flow, "a@example.com")


async def test_resend_after_cooldown(
    flow: DoubleOptIn, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await signed_up(flow, "a@example.com")
    clock.advance(minutes=11)
    await signed_up(flow, "a@example.com")
    assert len(mailer.sent) == 2


async def test_resend_voids_old_link(
    flow: DoubleOptIn, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await signed_up(flow, "a@example.com")
    clock.advance(minutes=11)
    await signed_up(flow, "a@example.com")
    with pytest.raises(TokenError):
        flow.confirm(link_token(mailer.sent[0], "confirm"), CONTEXT)


async def test_address_throttle(flow: DoubleOptIn, clock: FakeClock) -> None:
    for _ in range(5):
        await signed_up(flow, "a@example.com")
        clock.advance(minutes=11)
    with pytest.raises(ThrottledError, match="address"):
        await signed_up(flow, "a@example.com")


async def test_ip_throttle(store: ConsentStore, mailer: MemoryMailer) -> None:
    prepare(store)
    flow = DoubleOptIn(store, mailer, config=ConsentConfig(max_signups_per_ip=3))
    for number in range(3):
        await signed_up(flow, f"user{number}@example.com")
    with pytest.raises(ThrottledError, match="IP"):
        await signed_up(flow, "user9@example.com")


async def test_ip_throttle_window_ends(
    store: ConsentStore, mailer: MemoryMailer, clock: FakeClock
) -> None:
    prepare(store)
    flow = DoubleOptIn(store, mailer, config=ConsentConfig(max_signups_per_ip=3))
    for number in range(3):
        await signed_up(flow, f"user{number}@example.com")
    clock.advance(hours=1, seconds=1)
    await signed_up(flow, "user9@example.com")
    assert len(mailer.sent) == 4


async def test_unknown_consent_text(flow: DoubleOptIn) -> None:
    with pytest.raises(InputError, match="no consent text"):
        await flow.sign_up("a@example.com", "news", "v9", CONTEXT)


async def test_suppressed_gets_no_mail(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer
) -> None:
    store.suppress("a@example.com", SuppressionReason.COMPLAINT)
    result = await flow.sign_up("a@example.com", "news", "v1", CONTEXT)
    assert (result.status, mailer.sent) == (SignupStatus.SUPPRESSED, [])


async def test_confirmed_gets_no_second_mail(
    flow: DoubleOptIn, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await signed_up(flow, "a@example.com")
    flow.confirm(link_token(mailer.sent[0], "confirm"), CONTEXT)
    clock.advance(hours=1)
    result = await flow.sign_up("a@example.com", "news", "v1", CONTEXT)
    assert (result.status, len(mailer.sent)) == (SignupStatus.ALREADY_CONFIRMED, 1)


async def test_cancel_then_confirm_rejected(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer
) -> None:
    await signed_up(flow, "a@example.com")
    flow.unsubscribe(
        link_token(mailer.sent[0], "unsubscribe"), CONTEXT, one_click=False
    )
    with pytest.raises(IllegalTransition):
        flow.confirm(link_token(mailer.sent[0], "confirm"), CONTEXT)
    assert store.consent("a@example.com", "news").state is ConsentState.WITHDRAWN


async def test_unsubscribe_twice_harmless(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer
) -> None:
    await signed_up(flow, "a@example.com")
    flow.confirm(link_token(mailer.sent[0], "confirm"), CONTEXT)
    token = link_token(mailer.sent[0], "unsubscribe")
    flow.unsubscribe(token, CONTEXT, one_click=True)
    flow.unsubscribe(token, CONTEXT, one_click=True)
    assert store.consent("a@example.com", "news").state is ConsentState.WITHDRAWN


async def test_unsubscribe_headers(flow: DoubleOptIn, store: ConsentStore) -> None:
    store.import_contacts(["a@example.com"])
    headers = flow.unsubscribe_headers("a@example.com", "news")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_unsubscribe_header_works(flow: DoubleOptIn, store: ConsentStore) -> None:
    store.import_contacts(["a@example.com"])
    header = flow.unsubscribe_headers("a@example.com", "news")["List-Unsubscribe"]
    token = header.strip("<>").rsplit("/", 1)[1]
    flow.unsubscribe(token, RequestContext(), one_click=True)
    assert store.consent("a@example.com", "news").state is ConsentState.WITHDRAWN


async def test_signup_after_withdrawal(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await signed_up(flow, "a@example.com")
    flow.unsubscribe(
        link_token(mailer.sent[0], "unsubscribe"), CONTEXT, one_click=False
    )
    clock.advance(minutes=11)
    await signed_up(flow, "a@example.com")
    assert store.consent("a@example.com", "news").state is ConsentState.PENDING


# -- purge -----------------------------------------------------------------


async def test_purge_deletes_stale_pending(
    flow: DoubleOptIn, store: ConsentStore, clock: FakeClock
) -> None:
    await signed_up(flow, "a@example.com")
    clock.advance(days=15)
    assert (flow.purge_pending(), store.find_contact("a@example.com")) == (1, None)


async def test_purge_leaves_residue(
    flow: DoubleOptIn, store: ConsentStore, clock: FakeClock
) -> None:
    await signed_up(flow, "a@example.com")
    clock.advance(days=15)
    flow.purge_pending()
    with store.reading() as conn:
        residue = conn.execute(select(t.purged)).one()
    assert "a@example.com" not in residue.address_hash


async def test_purge_keeps_recent(
    flow: DoubleOptIn, store: ConsentStore, clock: FakeClock
) -> None:
    await signed_up(flow, "a@example.com")
    clock.advance(days=13)
    assert flow.purge_pending() == 0


async def test_purge_configurable(flow: DoubleOptIn, clock: FakeClock) -> None:
    await signed_up(flow, "a@example.com")
    clock.advance(days=3)
    assert flow.purge_pending(older_than=timedelta(days=2)) == 1


async def test_purge_keeps_other_consent(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await signed_up(flow, "a@example.com", "news")
    flow.confirm(link_token(mailer.sent[0], "confirm"), CONTEXT)
    await signed_up(flow, "a@example.com", "offers")
    clock.advance(days=15)
    flow.purge_pending()
    states = (
        store.consent("a@example.com", "news").state,
        store.consent("a@example.com", "offers").state,
    )
    assert states == (ConsentState.DOI, ConsentState.NONE)


async def test_purge_keeps_chain_intact(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await signed_up(flow, "a@example.com", "news")
    flow.confirm(link_token(mailer.sent[0], "confirm"), CONTEXT)
    await signed_up(flow, "a@example.com", "offers")
    clock.advance(days=15)
    flow.purge_pending()
    assert store.verify() == []


async def test_purge_keeps_withdrawal(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await signed_up(flow, "a@example.com")
    flow.confirm(link_token(mailer.sent[0], "confirm"), CONTEXT)
    flow.unsubscribe(
        link_token(mailer.sent[0], "unsubscribe"), CONTEXT, one_click=False
    )
    clock.advance(hours=1)
    await signed_up(flow, "a@example.com")
    clock.advance(days=15)
    flow.purge_pending()
    assert store.consent("a@example.com", "news").state is ConsentState.WITHDRAWN


async def test_purge_keeps_imported_contact(
    flow: DoubleOptIn, store: ConsentStore, clock: FakeClock
) -> None:
    store.import_contacts(["a@example.com"])
    await signed_up(flow, "a@example.com")
    clock.advance(days=15)
    assert flow.purge_pending() == 1
    contact = store.require_contact("a@example.com")
    assert store.consent("a@example.com", "news").state is ConsentState.NONE
    assert store.events(contact.id)[0].kind is EventKind.CONTACT_CREATED
    assert store.verify() == []


async def test_purge_deletes_after_two_stale_signups(
    flow: DoubleOptIn, store: ConsentStore, clock: FakeClock
) -> None:
    await signed_up(flow, "a@example.com", "news")
    await signed_up(flow, "a@example.com", "offers")
    clock.advance(days=15)
    assert flow.purge_pending() == 2
    assert store.find_contact("a@example.com") is None


async def test_purge_deletes_suppressed_signup(
    flow: DoubleOptIn, store: ConsentStore, clock: FakeClock
) -> None:
    # "I never signed up": the operator suppresses the address. The contact
    # was created by the web sign-up, so the purge still removes it, and the
    # suppression list keeps blocking the address.
    await signed_up(flow, "a@example.com")
    store.suppress("a@example.com", SuppressionReason.COMPLAINT, source="cli")
    clock.advance(days=15)
    assert flow.purge_pending() == 1
    assert store.find_contact("a@example.com") is None
    assert [s["reason"] for s in store.suppressions("a@example.com")] == ["complaint"]


async def test_purge_zero_days(flow: DoubleOptIn, clock: FakeClock) -> None:
    await signed_up(flow, "a@example.com")
    clock.advance(seconds=1)
    assert flow.purge_pending(older_than=timedelta(0)) == 1


# -- evidence --------------------------------------------------------------


async def _confirmed(
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    clock: FakeClock,
    address: str = "a@example.com",
) -> None:
    await signed_up(flow, address)
    clock.advance(minutes=3)
    flow.confirm(
        link_token(mailer.sent[-1], "confirm"),
        RequestContext("203.0.113.9", "Mozilla/5.0 (phone)"),
    )


async def test_export_has_signup_evidence(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await _confirmed(flow, mailer, clock)
    bundle = export_contact(store, store.require_contact("a@example.com").id)
    signup = next(e for e in bundle["events"] if e["kind"] == "signup_requested")
    assert (signup["payload"]["ip"], signup["payload"]["form"]) == (
        "198.51.100.7",
        "https://example.com/join",
    )


async def test_export_has_mail_hash(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await _confirmed(flow, mailer, clock)
    bundle = export_contact(store, store.require_contact("a@example.com").id)
    sent = next(e for e in bundle["events"] if e["kind"] == "confirmation_sent")
    assert sent["payload"]["message_id"] == mailer.sent[0]["Message-ID"]  # type: ignore[index]


async def test_mail_hash_matches_sent_bytes(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer, clock: FakeClock
) -> None:
    import hashlib

    await _confirmed(flow, mailer, clock)
    bundle = export_contact(store, store.require_contact("a@example.com").id)
    sent = next(e for e in bundle["events"] if e["kind"] == "confirmation_sent")
    digest = hashlib.sha256(bytes(mailer.sent[0])).hexdigest()  # type: ignore[call-overload]
    assert sent["payload"]["sha256"] == digest


async def test_export_has_confirmation(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await _confirmed(flow, mailer, clock)
    bundle = export_contact(store, store.require_contact("a@example.com").id)
    confirmed = next(e for e in bundle["events"] if e["kind"] == "confirmed")
    assert (confirmed["payload"]["ip"], confirmed["payload"]["delay_seconds"]) == (
        "203.0.113.9",
        180.0,
    )


async def test_export_has_consent_text(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await _confirmed(flow, mailer, clock)
    bundle = export_contact(store, store.require_contact("a@example.com").id)
    assert bundle["consent_texts"][0]["text"] == CONSENT_TEXT


async def test_export_has_withdrawal(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await _confirmed(flow, mailer, clock)
    flow.unsubscribe(link_token(mailer.sent[0], "unsubscribe"), CONTEXT, one_click=True)
    bundle = export_contact(store, store.require_contact("a@example.com").id)
    assert bundle["events"][-1]["payload"]["method"] == "one_click"


async def test_export_clean_has_no_findings(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await _confirmed(flow, mailer, clock)
    bundle = export_contact(store, store.require_contact("a@example.com").id)
    assert (bundle["chain_intact"], bundle["findings"]) == (True, [])


async def test_fast_confirmation_flagged(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await signed_up(flow, "a@example.com")
    clock.advance(seconds=2)
    flow.confirm(link_token(mailer.sent[0], "confirm"), CONTEXT)
    bundle = export_contact(store, store.require_contact("a@example.com").id)
    assert [f["code"] for f in bundle["findings"]] == ["consent.fast_confirmation"]


async def test_html_export_keeps_backslash(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer, clock: FakeClock
) -> None:
    await _confirmed(flow, mailer, clock, '"test\\"foo"@example.com')
    page = render_html(
        export_contact(store, store.require_contact('"test\\"foo"@example.com').id)
    )
    assert '"test\\"foo"@example.com' in html.unescape(page)


async def test_stored_address_keeps_backslash(
    flow: DoubleOptIn, store: ConsentStore
) -> None:
    await signed_up(flow, '"test\\"foo"@example.com')
    contact = store.require_contact('"test\\"foo"@example.com')
    assert contact.address == '"test\\"foo"@example.com'


async def test_html_export_escapes(
    flow: DoubleOptIn, store: ConsentStore, mailer: MemoryMailer
) -> None:
    context = RequestContext("198.51.100.7", "<script>alert(1)</script>", None)
    await flow.sign_up("a@example.com", "news", "v1", context)
    page = render_html(export_contact(store, store.require_contact("a@example.com").id))
    assert "<script>" not in page


async def test_no_personal_data_in_logs(
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="deliverability")
    await _confirmed(flow, mailer, clock, "secret.person@example.com")
    token = link_token(mailer.sent[0], "unsubscribe")
    flow.unsubscribe(token, CONTEXT, one_click=True)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for private in ("secret.person", "198.51.100.7", "203.0.113.9", token):
        assert private not in logged


async def test_logs_name_contact_ids(
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="deliverability")
    await _confirmed(flow, mailer, clock)
    assert any("contact 1 confirmed" in r.getMessage() for r in caplog.records)


async def test_ip_not_recorded_when_off(
    store: ConsentStore, mailer: MemoryMailer
) -> None:
    prepare(store)
    flow = DoubleOptIn(store, mailer, config=ConsentConfig(record_ip=False))
    await signed_up(flow, "a@example.com")
    events = store.events(store.require_contact("a@example.com").id)
    assert all(e.payload.get("ip") is None for e in events)


async def test_purge_never_frees_ids(
    flow: DoubleOptIn, store: ConsentStore, clock: FakeClock
) -> None:
    # The sync reads new events by id and links CRM rows by contact id, so
    # ids of purged rows must never be handed out again.
    await signed_up(flow, "a@example.com")
    with store.reading() as conn:
        old_contact = conn.scalar(select(func.max(t.contacts.c.id)))
        old_event = conn.scalar(select(func.max(t.events.c.id)))
    clock.advance(days=15)
    assert flow.purge_pending() == 1
    await signed_up(flow, "b@example.com")
    with store.reading() as conn:
        new_contact = conn.scalar(select(func.max(t.contacts.c.id)))
        new_event = conn.scalar(select(func.min(t.events.c.id)))
    assert new_contact > old_contact
    assert new_event > old_event
