"""DKIM verification against the example messages of three implementations.

Each corpus states what its own verifier decides. Where we decide otherwise,
the case is listed here with the reason, and docs/auth.md explains each
group. A test fails when a listed case starts to agree, so the lists stay
true.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deliverability.auth import DKIMResult, verify_dkim
from deliverability.auth.keys import parse_private_key
from deliverability.auth.signing import Signer, sign_message
from deliverability.dns import TXTRecord

from .conftest import KeyFiles
from .records import RecordResolver

pytestmark = pytest.mark.corpus

# Mail::DKIM ----------------------------------------------------------------

#: Pre-RFC 4871 draft signatures (no v=, or v=0.5): RFC 6376, section 3.5
#: requires v=1, so they are permerror; Mail::DKIM still accepts the drafts.
_DRAFTS = [
    *(f"good_ietf00_{n}" for n in range(1, 6)),
    *(f"mine_ietf01_{n}" for n in range(1, 5)),
    "mine_ietf05_1",
    "good_ietf01_1",
    "good_ietf01_2",
    "multiple_1",
    "bad_ietf01_1",
    "bad_ietf01_2",
    "bad_ietf01_3",
    "bad_1",
    "no_body_1",
    "no_body_2",
    "no_body_3",
]
#: DomainKeys (RFC 4870, historic) signatures are not DKIM; none is checked.
_DOMAINKEYS = [
    *(f"good_dk_{n}" for n in range(1, 8)),
    "good_dk_gmail",
    "good_dk_yahoo",
    "dk_headers_1",
    "dk_headers_2",
    "dk_multiple_1",
    *(f"bad_dk_{n}" for n in range(1, 6)),
]
#: dkimpy 1.1.8 rejects q= lists and dkim-quoted-printable in i=, both valid.
_DKIMPY_LIMITS = ["good_83176", "good_qp_2", "good_qp_3"]
#: g= was removed from key records by RFC 6376, so it no longer restricts i=.
_GRANULARITY = ["badkey_8", "badkey_9", "badkey_12", "badkey_13"]
MAIL_DKIM_EXCEPTIONS = {
    **{name: "invalid" for name in _DRAFTS + _DKIMPY_LIMITS},
    **{name: "none" for name in _DOMAINKEYS},
    **{name: "pass" for name in _GRANULARITY},
}


def _fake_dns(path: Path) -> RecordResolver:
    records: dict[tuple[str, str], list[Any]] = {}
    failing = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, value = line.partition(" ")
        name, value = name.lower(), value.strip()
        if value.startswith("~~"):
            failing.append(name)
        elif value != "NXDOMAIN":
            text = "" if value == '""' else value
            records[(name, "TXT")] = [TXTRecord((text.encode(),))]
    return RecordResolver(records, failing=failing)


def _overall(results: list[DKIMResult]) -> str:
    """Reduce results to Mail::DKIM's pass / fail / invalid / none."""
    if not results:
        return "none"
    if any(r.passed for r in results):
        return "pass"
    if any(r.result == "fail" for r in results):
        return "fail"
    return "invalid"


async def test_mail_dkim_corpus(corpus_dir: Path) -> None:
    base = corpus_dir / "dkim-mail-dkim-perl"
    resolver = _fake_dns(base / "FAKE_DNS.dat")
    expected = json.loads((base / "expected-results.json").read_text())
    agreed, differ = 0, {}
    for case in expected:
        message = (base / case["file"]).read_bytes()
        # The corpus dates from before RFC 8301: 512-bit keys and rsa-sha1.
        results = await verify_dkim(
            message, resolver=resolver, min_key_bits=512, allow_sha1=True
        )
        name = Path(case["file"]).stem
        got = _overall(results)
        if got == case["expected_result"]:
            agreed += 1
        else:
            differ[name] = got
    assert agreed >= 35
    assert differ == MAIL_DKIM_EXCEPTIONS


async def test_mail_dkim_modern_policy(corpus_dir: Path) -> None:
    base = corpus_dir / "dkim-mail-dkim-perl"
    message = (base / "corpus" / "good_rfc4871_3.txt").read_bytes()
    results = await verify_dkim(message, resolver=_fake_dns(base / "FAKE_DNS.dat"))
    assert [r.result for r in results] == ["permerror"]


# OpenDKIM ------------------------------------------------------------------

_OPENDKIM_RESULTS = {
    "DKIM_STAT_OK": {"pass"},
    "DKIM_STAT_BADSIG": {"fail"},
    "DKIM_STAT_CANTVRFY": {"permerror", "temperror"},
    "DKIM_STAT_SYNTAX": {"permerror"},
    "DKIM_STAT_NOKEY": {"permerror"},
    "DKIM_STAT_INVALID": {"permerror"},
    "DKIM_STAT_NOSIG": {"none"},
}
OPENDKIM_EXCEPTIONS = {
    # OpenDKIM was configured to demand headers the signature lacks: policy.
    "t-test102.c": "pass",
    # "Date   :" (space before the colon, RFC 5322 obsolete syntax): dkimpy
    # 1.1.8 rejects the whole message.
    "t-test80.c": "permerror",
    # A signature without s= and d= is a syntax error (RFC 6376, 6.1.1);
    # OpenDKIM skips it as if absent.
    "t-test76.c": "permerror",
    # The body sent in chunks ends without CRLF; the rebuilt message differs
    # from what libopendkim saw, so the body hash does not match.
    "t-test149.c": "fail",
    "t-test63.c": "fail",
    "t-test66.c": "fail",
    # l= larger than the body: the hash cannot match; OpenDKIM calls it
    # unverifiable.
    "t-test98.c": "fail",
}


def _opendkim_message(vector: dict[str, Any]) -> bytes:
    head = "\r\n".join(vector["header_sequence"])
    return (head + "\r\n\r\n" + "".join(vector["body_chunks"])).encode("latin-1")


async def test_opendkim_vectors(corpus_dir: Path) -> None:
    base = corpus_dir / "dkim-opendkim"
    zone = json.loads((base / "key-zone.json").read_text())
    resolver = RecordResolver(
        {
            (name.lower(), "TXT"): [TXTRecord((entry["TXT"].encode(),))]
            for name, entry in zone.items()
            if "TXT" in entry
        }
    )
    vectors = json.loads((base / "libopendkim-vectors.json").read_text())
    agreed, differ = 0, {}
    for vector in vectors:
        accepted = _OPENDKIM_RESULTS.get(vector.get("eom_expected_status") or "")
        if vector["mode"] != "verify" or not vector["fully_resolved"] or not accepted:
            continue
        results = await verify_dkim(
            _opendkim_message(vector), resolver=resolver, allow_sha1=True
        )
        got = results[0].result if results else "none"
        name = vector["file"].rsplit("/", 1)[1]
        if got in accepted:
            agreed += 1
        else:
            differ[name] = got
    assert agreed >= 67
    assert differ == OPENDKIM_EXCEPTIONS


# dkimpy --------------------------------------------------------------------


#: The Ed25519 key record of RFC 8463, appendix A.2 (selector brisbane).
RFC8463_BRISBANE = b"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="


def _dkimpy_resolver(
    data: Path, extra: dict[str, bytes] | None = None
) -> RecordResolver:
    records = {
        "brisbane._domainkey.football.example.com": RFC8463_BRISBANE,
        "test._domainkey.football.example.com": (data / "test.txt")
        .read_bytes()
        .strip(),
        **(extra or {}),
    }
    return RecordResolver({(k, "TXT"): [TXTRecord((v,))] for k, v in records.items()})


@pytest.mark.parametrize("name", ["rfc6376.signed.msg", "rfc6376.signed.rsa.msg"])
async def test_dkimpy_rfc_examples(corpus_dir: Path, name: str) -> None:
    data = corpus_dir / "dkim-dkimpy" / "data"
    message = (data / name).read_bytes()
    results = await verify_dkim(message, resolver=_dkimpy_resolver(data))
    assert results
    assert all(r.passed for r in results), results


async def test_dkimpy_bad_domain(corpus_dir: Path) -> None:
    data = corpus_dir / "dkim-dkimpy" / "data"
    message = (data / "test.message.baddomain").read_bytes()
    results = await verify_dkim(message, resolver=_dkimpy_resolver(data))
    assert [r.result for r in results] == ["permerror"]


@pytest.mark.parametrize(
    ("record_file", "expected"),
    [
        ("test.txt", "pass"),
        ("badk.txt", "permerror"),
        ("badversion.txt", "permerror"),
        ("other key", "fail"),
    ],
)
async def test_dkimpy_key_records(
    corpus_dir: Path, key_files: KeyFiles, record_file: str, expected: str
) -> None:
    data = corpus_dir / "dkim-dkimpy" / "data"
    key = parse_private_key((data / "test.private").read_bytes(), "test.private")
    signed = sign_message(
        (data / "test.message").read_bytes(), [Signer(key, "test", "example.com")]
    )
    if record_file == "other key":
        record = key_files.rsa.record.encode()
    else:
        record = (data / record_file).read_bytes().strip()
    resolver = _dkimpy_resolver(data, {"test._domainkey.example.com": record})
    results = await verify_dkim(signed, resolver=resolver)
    assert [r.result for r in results] == [expected]
