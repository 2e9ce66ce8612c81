"""Conflict rules: what a changed CRM consent field does to the consent store.

The rules look at one field at a time, and only when the CRM changed it
since the last sync, so a stale CRM value never overwrites a newer state
("last write wins" is never the rule). They compare the field's own
timestamp with the store's state and its times:

* a withdrawal or a suppression wins, unless a confirmation later than
  the CRM's change exists;
* a claimed consent with its source becomes ``soi_documented``, never
  ``doi``; a CRM value of ``doi`` is not evidence and changes nothing;
* whatever cannot be ordered (no timestamp, a claim after a withdrawal, a
  cleared consent) goes to the review queue.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from ..consent.model import ConsentState

__all__ = ["Action", "Decision", "StoreConsent", "decide_block", "decide_opt_in"]


class Action(enum.StrEnum):
    """What to do with a changed CRM field."""

    APPLY = "apply"
    KEEP = "keep"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one field, with a stable reason code."""

    action: Action
    reason: str


@dataclass(frozen=True, slots=True)
class StoreConsent:
    """The store's view of one purpose, as the rules need it."""

    state: ConsentState
    changed_at: datetime | None
    confirmed_at: datetime | None


_S = ConsentState


def decide_opt_in(
    wanted: ConsentState | None,
    changed_at: datetime | None,
    has_source: bool,
    store: StoreConsent,
    *,
    first: bool = False,
) -> Decision:
    """Decide a CRM status change to ``wanted`` (``None``: the field was cleared).

    ``first`` is true when the sync sees the field for the first time: an
    empty value then means the CRM knows nothing, not that it cleared one.
    """
    if wanted is _S.WITHDRAWN:
        return _withdrawal(changed_at, store, "withdrawal")
    if wanted is _S.SOI_DOCUMENTED:
        return _claim(changed_at, has_source, store)
    if wanted is _S.DOI:
        return Decision(Action.KEEP, "doi_needs_confirmation")
    if first and wanted in (None, _S.NONE):
        return Decision(Action.KEEP, "no_crm_value")
    if wanted in (None, _S.NONE) and store.state in (_S.DOI, _S.SOI_DOCUMENTED):
        return Decision(Action.REVIEW, "consent_cleared_in_crm")
    return Decision(Action.KEEP, "no_change_needed")


def decide_block(
    blocked: bool | None, changed_at: datetime | None, store: StoreConsent
) -> Decision:
    """Decide a change of the CRM's blocklist flag for one purpose."""
    if blocked:
        return _withdrawal(changed_at, store, "suppression")
    return Decision(Action.KEEP, "suppression_kept")


def _withdrawal(
    changed_at: datetime | None, store: StoreConsent, what: str
) -> Decision:
    if store.state is not _S.DOI or store.confirmed_at is None:
        return Decision(Action.APPLY, f"{what}_wins")
    if changed_at is None:
        return Decision(Action.REVIEW, f"{what}_without_time")
    if store.confirmed_at > changed_at:
        return Decision(Action.KEEP, "later_confirmation_wins")
    if store.confirmed_at == changed_at:
        return Decision(Action.REVIEW, f"{what}_at_confirmation_time")
    return Decision(Action.APPLY, f"{what}_wins")


def _claim(
    changed_at: datetime | None, has_source: bool, store: StoreConsent
) -> Decision:
    if not has_source:
        return Decision(Action.REVIEW, "claim_undocumented")
    if store.state in (_S.NONE, _S.SOI_DOCUMENTED):
        return Decision(Action.APPLY, "claim_documented")
    if store.state is _S.WITHDRAWN:
        if changed_at is not None and store.changed_at is not None:
            if store.changed_at > changed_at:
                return Decision(Action.KEEP, "withdrawal_wins")
        return Decision(Action.REVIEW, "claim_after_withdrawal")
    return Decision(Action.KEEP, "stronger_state_kept")
