"""Web-form sign-ups for the CRM sync: pending, and away from the CRM.

A sign-up goes through the double opt-in flow like any other. The form's
other fields (name, company, phone, customer number) are kept beside it,
only for the match-up after the confirmation; nothing reaches the CRM
before that. A sign-up never confirmed is purged with its contact by the
flow's purge, and :func:`purge_orphans` deletes the fields left behind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import delete, select

from ..consent import ConsentState
from ..consent import tables as ct
from ..consent.flow import DoubleOptIn, RequestContext, SignupResult
from . import tables as st

__all__ = ["FORM_FIELDS", "FormIntake", "purge_orphans"]

FORM_FIELDS = ("first_name", "last_name", "company", "phone", "customer_number")
"""The form fields kept for the match-up; any other field is dropped."""


class FormIntake:
    """Take web-form sign-ups for the double opt-in flow and keep their fields."""

    def __init__(self, flow: DoubleOptIn) -> None:
        self.flow = flow

    async def sign_up(
        self,
        address: str,
        purpose: str,
        consent_version: str,
        context: RequestContext,
        fields: Mapping[str, str | None] | None = None,
    ) -> SignupResult:
        """Register a sign-up (pending until confirmed) and keep its form fields."""
        result = await self.flow.sign_up(address, purpose, consent_version, context)
        kept = {k: v for k, v in (fields or {}).items() if k in FORM_FIELDS and v}
        if result.contact_id is None or not kept:
            return result
        store = self.flow.store
        with store.transaction() as conn:
            conn.execute(
                delete(st.form_fields).where(
                    st.form_fields.c.contact_id == result.contact_id
                )
            )
            conn.execute(
                st.form_fields.insert().values(
                    contact_id=result.contact_id,
                    fields=json.dumps(kept, sort_keys=True),
                    created_at=store.clock(),
                )
            )
        return result


def purge_orphans(flow: DoubleOptIn) -> int:
    """Delete form fields no match-up will read; return how many.

    The fields serve the match-up of a sign-up once it is confirmed. They
    go when the purge removed their contact, and when the contact has no
    consent pending or confirmed any more (its sign-up expired but the
    contact stayed, because an import or the CRM sync created it).
    """
    waiting = select(ct.consents.c.contact_id).where(
        ct.consents.c.state.in_((ConsentState.PENDING.value, ConsentState.DOI.value))
    )
    with flow.store.transaction() as conn:
        done = conn.execute(
            delete(st.form_fields).where(st.form_fields.c.contact_id.not_in(waiting))
        )
    return int(done.rowcount or 0)
