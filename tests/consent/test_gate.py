"""The gate on both backends: each reason, order, duplicates, CSV input."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from deliverability.consent import (
    ConsentConfig,
    ConsentStore,
    DoubleOptIn,
    ExclusionReason,
    GatePolicy,
    SuppressionReason,
    gate,
    read_group_csv,
    run_gate,
)
from deliverability.consent.gate import _copy_lines, gate_records
from deliverability.errors import InputError

from .conftest import FakeClock, MemoryMailer
from .helpers import CONTEXT, link_token, prepare, signed_up

R = ExclusionReason


async def _doi(flow: DoubleOptIn, mailer: MemoryMailer, address: str) -> None:
    await signed_up(flow, address)
    flow.confirm(link_token(mailer.sent[-1], "confirm"), CONTEXT)


@pytest.fixture
async def populated(store: ConsentStore, clock: FakeClock) -> ConsentStore:
    """A store with one contact in each state for the purpose ``news``."""
    prepare(store)
    mailer = MemoryMailer()
    flow = DoubleOptIn(store, mailer, config=ConsentConfig(max_signups_per_ip=100))
    await _doi(flow, mailer, "doi@example.com")
    await _doi(flow, mailer, "Ünïcode@Bücher.de")
    await _doi(flow, mailer, "gone@example.com")
    flow.unsubscribe(
        link_token(mailer.sent[-1], "unsubscribe"), CONTEXT, one_click=True
    )
    await _doi(flow, mailer, "bounced@example.com")
    store.suppress("bounced@example.com", SuppressionReason.HARD_BOUNCE)
    await _doi(flow, mailer, "other@example.com")
    store.suppress("other@example.com", SuppressionReason.UNSUBSCRIBE, purpose="offers")
    await signed_up(flow, "waiting@example.com")
    store.record_soi("fair@example.com", "news", source="fair", evidence="card 1")
    store.import_contacts(["crm@example.com"])
    store.suppress("blocked@example.com", SuppressionReason.BLOCKLIST)
    return store


def _reasons(
    store: ConsentStore, addresses: list[str], **policy: object
) -> list[R | None]:
    chosen = GatePolicy(**policy) if policy else None  # type: ignore[arg-type]
    return [d.reason for d in gate(store, addresses, "news", policy=chosen)]


CASES = [
    ("doi@example.com", None),
    ("gone@example.com", R.WITHDRAWN),
    ("bounced@example.com", R.SUPPRESSED),
    ("other@example.com", None),
    ("waiting@example.com", R.PENDING),
    ("fair@example.com", R.NO_CONSENT),
    ("crm@example.com", R.NO_CONSENT),
    ("stranger@example.com", R.NO_CONSENT),
    ("blocked@example.com", R.SUPPRESSED),
    ("not an address", R.INVALID_ADDRESS),
    ("user@host.invalid", R.INVALID_ADDRESS),
    ("", R.INVALID_ADDRESS),
]


@pytest.mark.parametrize(("address", "expected"), CASES)
def test_reason(populated: ConsentStore, address: str, expected: R | None) -> None:
    assert _reasons(populated, [address]) == [expected]


def test_doi_for_other_purpose_not_admitted(populated: ConsentStore) -> None:
    decisions = list(gate(populated, ["doi@example.com"], "offers"))
    assert decisions[0].reason is R.NO_CONSENT


def test_order_kept(populated: ConsentStore) -> None:
    addresses = [address for address, _ in CASES]
    assert _reasons(populated, addresses) == [reason for _, reason in CASES]


def test_order_kept_across_chunks(populated: ConsentStore) -> None:
    addresses = [address for address, _ in CASES] * 3
    reasons = _reasons(populated, addresses, chunk_size=5)
    assert reasons[: len(CASES)] == [reason for _, reason in CASES]


def test_duplicate_after_first(populated: ConsentStore) -> None:
    reasons = _reasons(populated, ["doi@example.com", "doi@example.com"])
    assert reasons == [None, R.DUPLICATE]


def test_duplicate_mixed_case(populated: ConsentStore) -> None:
    reasons = _reasons(populated, ["DOI@Example.com", "doi@EXAMPLE.COM"])
    assert reasons == [None, R.DUPLICATE]


def test_duplicate_across_chunks(populated: ConsentStore) -> None:
    addresses = ["doi@example.com"] + ["x@example.com"] * 4 + ["doi@example.com"]
    reasons = _reasons(populated, addresses, chunk_size=2)
    assert reasons[-1] is R.DUPLICATE


def test_duplicate_of_unknown(populated: ConsentStore) -> None:
    reasons = _reasons(populated, ["new@example.com", "NEW@example.com"])
    assert reasons == [R.NO_CONSENT, R.DUPLICATE]


def test_whitespace_trimmed(populated: ConsentStore) -> None:
    assert _reasons(populated, ["  doi@example.com "]) == [None]


def test_unicode_address_admitted(populated: ConsentStore) -> None:
    assert _reasons(populated, ["ünïcode@bücher.de"]) == [None]


def test_unicode_a_label_form_matches(populated: ConsentStore) -> None:
    assert _reasons(populated, ["ünïcode@xn--bcher-kva.de"]) == [None]


def test_stale_consent(populated: ConsentStore, clock: FakeClock) -> None:
    clock.advance(days=731)
    assert _reasons(populated, ["doi@example.com"]) == [R.STALE]


def test_stale_check_off(populated: ConsentStore, clock: FakeClock) -> None:
    clock.advance(days=731)
    assert _reasons(populated, ["doi@example.com"], stale_after=None) == [None]


def test_engagement_refreshes(populated: ConsentStore, clock: FakeClock) -> None:
    clock.advance(days=700)
    populated.record_engagement("doi@example.com", "news", what="click")
    clock.advance(days=100)
    assert _reasons(populated, ["doi@example.com"]) == [None]


def test_contact_id_reported(populated: ConsentStore) -> None:
    decision = next(gate(populated, ["doi@example.com"], "news"))
    assert decision.contact_id == populated.require_contact("doi@example.com").id


def test_empty_group(populated: ConsentStore) -> None:
    assert list(gate(populated, [], "news")) == []


def test_bad_purpose(populated: ConsentStore) -> None:
    with pytest.raises(ValueError, match="purpose"):
        list(gate(populated, ["doi@example.com"], "No Such"))


# -- CSV -------------------------------------------------------------------


def _rows(text: str, **options: str) -> list[tuple[int, str, tuple[str, ...]]]:
    return list(read_group_csv(io.StringIO(text), **options))


def test_csv_email_column_found() -> None:
    rows = _rows("Name,E-Mail\nAnna,a@example.com\n")
    assert rows == [(2, "a@example.com", ("Anna", "a@example.com"))]


def test_csv_named_column() -> None:
    assert _rows("who,addr\nA,a@example.com\n", column="addr")[0][1] == "a@example.com"


def test_csv_quoted_address_with_comma() -> None:
    rows = _rows('email,name\n"""a,b""@example.com",A\n')
    assert rows[0][1] == '"a,b"@example.com'


def test_csv_blank_lines_skipped() -> None:
    assert len(_rows("email\n\na@example.com\n\n")) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("name,phone\nA,1\n", "no column"),
        ("email,name\na@example.com\n", "1 fields"),
        ("email,name\na@example.com,A,extra\n", "3 fields"),
        ('email,name\n"a@example.com"x,A\n', "malformed CSV"),
        ("email,name\na@example.com,A\x00\n", "line 2"),
    ],
)
def test_csv_malformed(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        _rows(text)


def test_csv_not_utf8(populated: ConsentStore, tmp_path: Path) -> None:
    group = tmp_path / "group.csv"
    group.write_bytes(b"email\na@example.com\n\xff\xfe@example.com\n")
    with pytest.raises(InputError, match="not UTF-8"):
        run_gate(populated, group, "news")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_run_gate_writes_admitted_rows(populated: ConsentStore, tmp_path: Path) -> None:
    group = _write(
        tmp_path / "g.csv", "email,name\ndoi@example.com,D\nx@example.com,X\n"
    )
    run_gate(
        populated, group, "news", output=tmp_path / "ok.csv", report=tmp_path / "no.csv"
    )
    lines = (tmp_path / "ok.csv").read_text().splitlines()
    assert lines == ["email,name", "doi@example.com,D"]


def test_run_gate_writes_report(populated: ConsentStore, tmp_path: Path) -> None:
    group = _write(
        tmp_path / "g.csv", "email,name\ndoi@example.com,D\nx@example.com,X\n"
    )
    run_gate(
        populated, group, "news", output=tmp_path / "ok.csv", report=tmp_path / "no.csv"
    )
    assert (tmp_path / "no.csv").read_text().splitlines()[
        1
    ] == "3,x@example.com,no_consent"


def test_report_defuses_formulas(populated: ConsentStore, tmp_path: Path) -> None:
    group = _write(
        tmp_path / "g.csv",
        'email\n=1+2@example.com\n"=HYPERLINK(""http://x"")"\n+x@example.com\n =y\n',
    )
    run_gate(
        populated, group, "news", output=tmp_path / "ok.csv", report=tmp_path / "no.csv"
    )
    rows = list(csv.reader((tmp_path / "no.csv").open(newline="")))[1:]
    assert [row[1] for row in rows] == [
        "'=1+2@example.com",
        '\'=HYPERLINK("http://x")',
        "'+x@example.com",
        "' =y",
    ]


def test_run_gate_summary(populated: ConsentStore, tmp_path: Path) -> None:
    lines = "".join(f"{address}\n" for address, _ in CASES if "," not in address)
    group = _write(tmp_path / "g.csv", "email\n" + lines + "doi@example.com\n")
    summary = run_gate(populated, group, "news").to_dict()
    assert summary["excluded"] == {
        "no_consent": 3,
        "pending": 1,
        "withdrawn": 1,
        "suppressed": 2,
        "stale": 0,
        "invalid_address": 2,
        "duplicate": 1,
    }


def test_run_gate_empty_group_header(populated: ConsentStore, tmp_path: Path) -> None:
    group = _write(tmp_path / "g.csv", "email,name\n")
    run_gate(populated, group, "news", output=tmp_path / "ok.csv")
    assert (tmp_path / "ok.csv").read_text().splitlines() == ["email,name"]


def test_run_gate_error_leaves_no_files(
    populated: ConsentStore, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    group = _write(out / "g.csv", "email,name\ndoi@example.com,D\nbroken\n")
    with pytest.raises(InputError):
        run_gate(populated, group, "news", output=out / "ok.csv", report=out / "no.csv")
    assert sorted(p.name for p in out.iterdir()) == ["g.csv"]


def test_run_gate_missing_file(populated: ConsentStore, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        run_gate(populated, tmp_path / "absent.csv", "news")


def test_run_gate_keeps_odd_fields(populated: ConsentStore, tmp_path: Path) -> None:
    group = _write(
        tmp_path / "g.csv", 'email,note\ndoi@example.com,"a\x1fb ""q"", \x1ex"\n'
    )
    run_gate(populated, group, "news", output=tmp_path / "ok.csv")
    with (tmp_path / "ok.csv").open(newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    assert rows[1] == ["doi@example.com", 'a\x1fb "q", \x1ex']


@pytest.mark.parametrize(
    ("keys", "text"),
    [
        (["a@x.org", ""], "a@x.org\n\n"),
        (['"a\\b"@x.org'], '"a\\\\b"@x.org\n'),
        (['"a\tb"@x.org', "c@x.org"], '"a\\tb"@x.org\nc@x.org\n'),
        (['"a\nb"@x.org'], '"a\\nb"@x.org\n'),
    ],
)
def test_copy_lines_escaped(keys: list[str], text: str) -> None:
    assert _copy_lines(keys) == text


async def test_backslash_address_admitted(
    populated: ConsentStore, clock: FakeClock
) -> None:
    mailer = MemoryMailer()
    flow = DoubleOptIn(populated, mailer, config=ConsentConfig(max_signups_per_ip=100))
    await _doi(flow, mailer, '"a\\\\b"@example.com')
    assert _reasons(populated, ['"a\\\\b"@example.com']) == [None]


def test_odd_address_given_back_unchanged(populated: ConsentStore) -> None:
    odd = ["a\x00b@example.com", "tab\there@example.com", "x\\y\r\n@example.com"]
    assert [d.address for d in gate(populated, odd, "news")] == odd


def test_odd_record_given_back_unchanged(populated: ConsentStore) -> None:
    record = ("doi@example.com", "a\x00\x1f\x1e\\N", "")
    decisions = gate_records(populated, [(7, "doi@example.com", record)], "news")
    assert [(d.position, d.record) for d in decisions] == [(7, record)]


def test_nul_in_address_invalid(populated: ConsentStore) -> None:
    assert _reasons(populated, ["a\x00b@example.com"]) == [R.INVALID_ADDRESS]


def test_summary_keys_plain_strings(populated: ConsentStore, tmp_path: Path) -> None:
    group = _write(tmp_path / "g.csv", "email\nx@example.com\n")
    summary = run_gate(populated, group, "news")
    assert [type(key) for key in summary.excluded] == [str]
