"""The consent state machine, as a table of every state and event."""

from __future__ import annotations

import itertools

import pytest

from deliverability.consent.model import (
    TRANSITIONS,
    ConsentState,
    EventKind,
    IllegalTransition,
    check_purpose,
    next_state,
)
from deliverability.consent.tokens import new_token

S, E = ConsentState, EventKind

LEGAL = [
    (S.NONE, E.SIGNUP_REQUESTED, S.PENDING),
    (S.SOI_DOCUMENTED, E.SIGNUP_REQUESTED, S.PENDING),
    (S.WITHDRAWN, E.SIGNUP_REQUESTED, S.PENDING),
    (S.PENDING, E.SIGNUP_REQUESTED, S.PENDING),
    (S.PENDING, E.CONFIRMATION_SENT, S.PENDING),
    (S.PENDING, E.CONFIRMED, S.DOI),
    (S.PENDING, E.EXPIRED, S.NONE),
    (S.PENDING, E.WITHDRAWN, S.WITHDRAWN),
    (S.NONE, E.SOI_RECORDED, S.SOI_DOCUMENTED),
    (S.SOI_DOCUMENTED, E.SOI_RECORDED, S.SOI_DOCUMENTED),
    (S.SOI_DOCUMENTED, E.WITHDRAWN, S.WITHDRAWN),
    (S.DOI, E.WITHDRAWN, S.WITHDRAWN),
    (S.NONE, E.WITHDRAWN, S.WITHDRAWN),
    (S.WITHDRAWN, E.WITHDRAWN, S.WITHDRAWN),
    (S.DOI, E.ENGAGED, S.DOI),
]


@pytest.mark.parametrize(("state", "event", "expected"), LEGAL)
def test_legal_transition(state: S, event: E, expected: S) -> None:
    assert next_state(state, event) is expected


def test_table_matches_legal_list() -> None:
    assert set(TRANSITIONS) == {(state, event) for state, event, _ in LEGAL}


ILLEGAL = [
    pair
    for pair in itertools.product(S, E)
    if pair not in {(state, event) for state, event, _ in LEGAL}
]


@pytest.mark.parametrize(("state", "event"), ILLEGAL)
def test_illegal_transition_raises(state: S, event: E) -> None:
    with pytest.raises(IllegalTransition):
        next_state(state, event)


def test_doi_only_from_confirmation() -> None:
    entries = [(s, e) for (s, e), target in TRANSITIONS.items() if target is S.DOI]
    assert all(e is E.CONFIRMED or s is S.DOI for s, e in entries)


def test_withdrawn_never_reaches_doi_directly() -> None:
    assert next_state(S.WITHDRAWN, E.SIGNUP_REQUESTED) is S.PENDING


def test_soi_cannot_become_doi_without_signup() -> None:
    with pytest.raises(IllegalTransition):
        next_state(S.SOI_DOCUMENTED, E.CONFIRMED)


@pytest.mark.parametrize("name", ["news", "product-updates", "b2b.offers", "x1"])
def test_purpose_accepted(name: str) -> None:
    assert check_purpose(name) == name


@pytest.mark.parametrize("name", ["", "News", "-x", "a b", "x" * 65, "*"])
def test_purpose_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="invalid purpose"):
        check_purpose(name)


def test_tokens_never_start_with_hyphen() -> None:
    tokens = [new_token() for _ in range(3000)]
    assert not [token for token in tokens if token.startswith("-")]
    assert len(set(tokens)) == len(tokens)
