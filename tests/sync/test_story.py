"""The whole story, from a CRM export to the campaign, on each backend.

The steps: a web-form sign-up is matched to an existing CRM contact. An
ambiguous match is resolved by a user. A CRM-created contact is put into a
target group and not mailed. A documented single opt-in receives the
confirmation mailing, confirms, and is then mailed. An unsubscribe in the
campaign manager reaches the CRM. A conflicting edit is sent to review.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deliverability.consent import ConsentState, ConsentStore, DoubleOptIn, gate
from deliverability.sync import (
    CrmSync,
    CsvSource,
    FormIntake,
    MemorySink,
    Repermission,
    ReviewQueue,
    SyncConfig,
)
from tests.consent.conftest import FakeClock
from tests.sync.conftest import CONTEXT, MemoryMailer
from tests.sync.crm import crm_row, write_crm

ROWS = [
    crm_row(
        "C1",
        "anna@example.com",
        First_Name="Anna",
        Last_Name="Berg",
        Account="Acme GmbH",
        Customer_No="K-1001",
    ),
    crm_row(
        "C2", "ben@otto.example", First_Name="Ben", Last_Name="Ott", Account="Otto AG"
    ),
    crm_row(
        "C3", "b.ott@otto.example", First_Name="Ben", Last_Name="Ott", Account="Otto AG"
    ),
    crm_row(
        "C4",
        "carla@example.net",
        Target_Groups="news",
        Newsletter="doi",
        Newsletter_Changed="2026-01-10T08:00:00Z",
    ),
    crm_row(
        "C5",
        "dora@example.org",
        Newsletter="Consent claimed",
        Newsletter_Changed="2026-02-01T10:00:00Z",
        Consent_Source="Trade fair Hannover 2026",
        Consent_Evidence="card-0815",
    ),
]


def _state(store: ConsentStore, address: str) -> ConsentState:
    return store.consent(address, "news").state


def _admitted(store: ConsentStore, addresses: list[str]) -> list[str]:
    return [d.address for d in gate(store, addresses, "news") if d.admitted]


def _no_second_connection() -> None:
    raise AssertionError("a second connection was opened inside a transaction")


async def test_story(
    store: ConsentStore,
    flow: DoubleOptIn,
    mailer: MemoryMailer,
    clock: FakeClock,
    sync_config: SyncConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sync = CrmSync(store, sync_config, flow=flow)
    sink = MemorySink()
    rows = list(ROWS)
    export = write_crm(tmp_path / "crm.csv", rows)
    first = sync.pull(CsvSource(export, sync_config))
    assert first.created == 5

    # A CRM-created contact in a target group arrives as "none" and is not mailed.
    assert _state(store, "carla@example.net") is ConsentState.NONE
    assert _admitted(store, ["carla@example.net"]) == []
    assert first.decisions["doi_needs_confirmation"] == 1

    # "Consent claimed" with its source gives soi_documented, never doi.
    assert _state(store, "dora@example.org") is ConsentState.SOI_DOCUMENTED

    # A web-form sign-up stays pending and touches no CRM contact.
    intake = FormIntake(flow)
    clock.advance(minutes=1)
    await intake.sign_up(
        "anna.private@example.org", "news", "v1", CONTEXT, {"customer_number": "k-1001"}
    )
    await intake.sign_up(
        "ben.ott@mail.example",
        "news",
        "v1",
        CONTEXT,
        {"first_name": "Ben", "last_name": "Ott", "company": "Otto AG"},
    )
    sync.push(sink)
    assert sink.kinds() == []

    # Confirmed: the first matches C1 by customer number; the second is ambiguous.
    clock.advance(minutes=5)
    flow.confirm(mailer.token_for("anna.private@example.org"), CONTEXT)
    flow.confirm(mailer.token_for("ben.ott@mail.example"), CONTEXT)
    pushed = sync.push(sink)
    assert sink.kinds() == [("link", "C1", None), ("confirmed", "C1", "news")]
    assert pushed.reviews == 1

    # A user resolves the ambiguous match; the choice is logged.
    queue = ReviewQueue(store, sync_config)
    (review,) = queue.list()
    assert review.choices() == ["C2", "C3", "new"]
    # Resolving reads inside its own write transaction. A second pooled
    # connection could wait for a pool that the writers queued on the lock
    # have taken.
    with monkeypatch.context() as patch:
        patch.setattr(store, "reading", _no_second_connection)
        resolved = queue.resolve(review.id, "C3", actor="crm-user-7")
    assert resolved.actor == "crm-user-7"
    sync.push(sink)
    assert sink.kinds()[2:] == [("link", "C3", None), ("confirmed", "C3", "news")]

    # The documented single opt-in gets the confirmation mailing, confirms, is mailed.
    repermission = Repermission(flow, sync_config)
    assert [a for _, a in repermission.eligible("news")] == ["dora@example.org"]
    asked = repermission.send("news", "v1", campaign="spring", actor="ops")
    assert asked.sent == 1
    assert mailer.recipients().count("carla@example.net") == 0
    clock.advance(minutes=5)
    flow.confirm(mailer.token_for("dora@example.org"), CONTEXT)
    assert _state(store, "dora@example.org") is ConsentState.DOI
    assert _admitted(store, ["dora@example.org", "carla@example.net"]) == [
        "dora@example.org"
    ]
    sync.push(sink)
    assert sink.kinds()[-1] == ("confirmed", "C5", "news")

    # An unsubscribe in the campaign manager reaches the CRM.
    clock.advance(minutes=5)
    token = mailer.token_for("anna.private@example.org", "unsubscribe")
    flow.unsubscribe(token, CONTEXT, one_click=True)
    sync.push(sink)
    assert sink.kinds()[-1] == ("unsubscribed", "C1", "news")

    # A conflicting edit: the CRM opts Dora out with no time of its own.
    rows[4] = crm_row("C5", "dora@example.org", Newsletter="Opted out")
    edited = sync.pull(CsvSource(write_crm(export, rows), sync_config))
    assert edited.reviews == 1
    (conflict,) = queue.list()
    assert conflict.reason == "withdrawal_without_time"
    assert _state(store, "dora@example.org") is ConsentState.DOI

    # Nothing changed since: a second run does nothing.
    again = sync.pull(CsvSource(export, sync_config))
    assert again.unchanged == 5
    assert sync.push(sink).updates == 0
    assert store.verify() == []
