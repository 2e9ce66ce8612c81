"""The conflict rules and the match-up, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deliverability.consent import ConsentState
from deliverability.sync import MatchIndex, MatchOutcome, match_keys
from deliverability.sync.config import MatchSettings
from deliverability.sync.rules import (
    Action,
    StoreConsent,
    decide_block,
    decide_opt_in,
)

S = ConsentState
T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 2, 1, tzinfo=UTC)
DOI_AT_T2 = StoreConsent(S.DOI, T2, T2)
NONE = StoreConsent(S.NONE, None, None)
WITHDRAWN_AT_T2 = StoreConsent(S.WITHDRAWN, T2, None)

CASES = [
    # (CRM value, its time, documented, store) -> (action, reason)
    (S.WITHDRAWN, T1, False, DOI_AT_T2, Action.KEEP, "later_confirmation_wins"),
    (
        S.WITHDRAWN,
        T2,
        False,
        StoreConsent(S.DOI, T1, T1),
        Action.APPLY,
        "withdrawal_wins",
    ),
    (S.WITHDRAWN, None, False, DOI_AT_T2, Action.REVIEW, "withdrawal_without_time"),
    (
        S.WITHDRAWN,
        T2,
        False,
        DOI_AT_T2,
        Action.REVIEW,
        "withdrawal_at_confirmation_time",
    ),
    (S.WITHDRAWN, None, False, NONE, Action.APPLY, "withdrawal_wins"),
    (S.SOI_DOCUMENTED, T1, True, NONE, Action.APPLY, "claim_documented"),
    (S.SOI_DOCUMENTED, T1, False, NONE, Action.REVIEW, "claim_undocumented"),
    (S.SOI_DOCUMENTED, T1, True, WITHDRAWN_AT_T2, Action.KEEP, "withdrawal_wins"),
    (
        S.SOI_DOCUMENTED,
        T2.replace(month=3),
        True,
        WITHDRAWN_AT_T2,
        Action.REVIEW,
        "claim_after_withdrawal",
    ),
    (S.SOI_DOCUMENTED, T1, True, DOI_AT_T2, Action.KEEP, "stronger_state_kept"),
    (S.DOI, T1, False, NONE, Action.KEEP, "doi_needs_confirmation"),
    (None, T1, False, DOI_AT_T2, Action.REVIEW, "consent_cleared_in_crm"),
    (S.NONE, T1, False, NONE, Action.KEEP, "no_change_needed"),
]


@pytest.mark.parametrize(
    ("wanted", "at", "documented", "store", "action", "reason"), CASES
)
def test_opt_in_rule(
    wanted: ConsentState | None,
    at: datetime | None,
    documented: bool,
    store: StoreConsent,
    action: Action,
    reason: str,
) -> None:
    decision = decide_opt_in(wanted, at, documented, store)
    assert decision.action is action
    assert decision.reason == reason


def test_first_empty_value_keeps() -> None:
    decision = decide_opt_in(None, None, False, DOI_AT_T2, first=True)
    assert decision.action is Action.KEEP


def test_crm_doi_never_applies() -> None:
    for store in (NONE, WITHDRAWN_AT_T2, StoreConsent(S.SOI_DOCUMENTED, T1, None)):
        assert decide_opt_in(S.DOI, T2, True, store).action is Action.KEEP


def test_block_wins_over_older_confirmation() -> None:
    assert decide_block(True, T2, StoreConsent(S.DOI, T1, T1)).action is Action.APPLY


def test_block_loses_to_later_confirmation() -> None:
    assert decide_block(True, T1, DOI_AT_T2).action is Action.KEEP


def test_unblock_keeps_suppression() -> None:
    assert decide_block(False, T2, NONE).reason == "suppression_kept"


def _index() -> MatchIndex:
    index = MatchIndex(MatchSettings())
    index.add(
        "C1",
        "anna@example.com",
        match_keys(
            first_name="Anna",
            last_name="Berg",
            company="Acme GmbH",
            phone="+49 30 1234567",
            customer_number="K-1",
        ),
    )
    index.add(
        "C2",
        "ben@example.com",
        match_keys(
            first_name="Ben",
            last_name="Ott",
            company="Otto AG",
            phone=None,
            customer_number=None,
        ),
    )
    index.add(
        "C3",
        "b.ott@example.com",
        match_keys(
            first_name="Ben",
            last_name="Ott",
            company="Otto",
            phone=None,
            customer_number=None,
        ),
    )
    return index


def _keys(**fields: str) -> dict[str, str]:
    names = ("first_name", "last_name", "company", "phone", "customer_number")
    return match_keys(**{name: fields.get(name) for name in names})


def test_match_address_first() -> None:
    found = _index().match("anna@example.com", _keys(customer_number="K-9"))
    assert (found.outcome, found.crm_id) == (MatchOutcome.LINK, "C1")


def test_match_customer_number_links() -> None:
    found = _index().match("other@example.org", _keys(customer_number="k-1"))
    assert (found.outcome, found.crm_id) == (MatchOutcome.LINK, "C1")


def test_match_name_and_phone_links() -> None:
    keys = _keys(
        first_name="ANNA", last_name="Berg", company="acme", phone="030 1234567"
    )
    found = _index().match("other@example.org", keys)
    assert (found.outcome, found.crm_id) == (MatchOutcome.LINK, "C1")


def test_match_name_alone_reviews() -> None:
    keys = _keys(first_name="Anna", last_name="Berg", company="Acme")
    assert _index().match("x@example.org", keys).outcome == MatchOutcome.REVIEW


def test_match_two_candidates_review() -> None:
    keys = _keys(first_name="Ben", last_name="Ott", company="Otto AG")
    found = _index().match("x@example.org", keys)
    assert found.outcome == MatchOutcome.REVIEW
    assert [c.crm_id for c in found.candidates] == ["C2", "C3"]


def test_match_nothing_is_new() -> None:
    keys = _keys(first_name="Zoe", last_name="Zed", company="Zeta")
    assert _index().match("zoe@example.org", keys).outcome == MatchOutcome.NEW


def test_match_shared_address_reviews() -> None:
    index = _index()
    index.add("C9", "anna@example.com", {})
    assert index.match("anna@example.com", {}).outcome == MatchOutcome.REVIEW


def test_match_keys_fold_accents() -> None:
    one = match_keys(
        first_name="Zoë",
        last_name="Müller",
        company="Bäcker GmbH",
        phone=None,
        customer_number=None,
    )
    two = match_keys(
        first_name="zoe",
        last_name="MULLER",
        company="Backer",
        phone=None,
        customer_number=None,
    )
    assert one == two
