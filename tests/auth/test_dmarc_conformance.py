"""DMARC verdicts against the authheaders cases and their Authentication-Results.

Comments in the expected fields are authheaders' own wording, so they are
not compared; methods, results and properties (header.d, header.i,
header.from, policy.dmarc) are. :data:`EXCEPTIONS` lists where we decide
otherwise, and docs/auth.md gives the reasons.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from deliverability.auth import DKIMResult, verify_dkim
from deliverability.auth.message import author_domains, split_headers
from deliverability.auth.verdict import Verdict, dmarc_for_authors
from deliverability.dns import TXTRecord

from .records import RecordResolver

pytestmark = pytest.mark.corpus

#: Expected-field test name -> the dmarc entry we give instead.
EXCEPTIONS = {
    # "v=DMARC1; p=none; reject": the stray term is ignored (RFC 7489,
    # section 6.3), so the record applies with p=none; authheaders rejects it.
    "test_authenticate_dmarc_bad": "dmarc=fail header.from=bad.example.com "
    "policy.dmarc=none",
    # No author domain: we name no policy, since none was looked up.
    "test_authenticate_dmarc_nofrom": "dmarc=permerror header.from=none",
    # dmarc=none still names the author domain; authheaders leaves it out.
    "test_authenticate_dmarc_no_p": "dmarc=none header.from=nop.example.org",
    # The fixture makes sub.example.biz NXDOMAIN while _dmarc.sub.example.biz
    # exists below it; in DNS a name with a child exists (RFC 8020), so np=
    # (for non-existent domains, RFC 9091) does not apply and sp= does.
    "test_authenticate_dmarc_np1": "dmarc=fail header.from=sub.example.biz "
    "policy.dmarc=quarantine",
}

_COMMENT = re.compile(r"\s*\((?:[^()\\]|\\.)*\)")


def _entries(header: str) -> list[str]:
    """Return the entries of a field without comments, e.g. ``dkim=pass ...``."""
    body = header.split(":", 1)[1]
    parts = [part.strip() for part in body.split(";")[1:]]
    return [" ".join(_COMMENT.sub("", part).split()) for part in parts if part]


def _resolver(base: Path, table: dict[str, Any]) -> RecordResolver:
    records: dict[tuple[str, str], list[Any]] = {}
    names = []
    for name, value in table.items():
        name = name.rstrip(".").lower()
        if value is None:
            continue
        names.append(name)
        if isinstance(value, dict):
            value = (base / "data" / value["file"]).read_text().strip()
        if value:
            records[(name, "TXT")] = [TXTRecord((value.encode(),))]
    return RecordResolver(records, extra_names=names)


def _prior_dkim(header: str) -> list[DKIMResult]:
    results = []
    for entry in _entries(header):
        method, _, rest = entry.partition("=")
        if method != "dkim":
            continue
        words = rest.split()
        props = dict(word.split("=", 1) for word in words[1:])
        results.append(
            DKIMResult(
                words[0],
                domain=props.get("header.d", ""),
                identity=props.get("header.i", ""),
            )
        )
    return results


async def _our_header(
    base: Path, case: dict[str, Any], resolver: RecordResolver
) -> str:
    message = (base / case["message_file"]).read_bytes()
    options = case["options"]
    if options.get("dkim", True):
        dkim = await verify_dkim(message, resolver=resolver)
        dkim = [
            DKIMResult(r.result, domain=r.domain, identity=r.identity) for r in dkim
        ]
    else:
        dkim = _prior_dkim(options.get("prev", "Authentication-Results: x; none"))
    author = author_domains(split_headers(message)[0])
    method = "tree-walk" if options.get("dmarcbis") else "psl"
    dmarc = await dmarc_for_authors(author, None, dkim, resolver, method)
    return Verdict(case["authserv_id"], author, dkim, dmarc).header()


def _cases(corpus: Path) -> list[dict[str, Any]]:
    data = json.loads((corpus / "dmarc-authheaders" / "cases.json").read_text())
    return list(data["cases"])


async def test_authheaders_cases(corpus_dir: Path) -> None:
    base = corpus_dir / "dmarc-authheaders"
    table = json.loads((base / "cases.json").read_text())["dns"]
    differ = {}
    cases = _cases(corpus_dir)
    for case in cases:
        name = case["source_test"].rsplit("::", 1)[1]
        ours = _entries(await _our_header(base, case, _resolver(base, table)))
        expected = _entries(case["expected_authentication_results"])
        if case["options"].get("dmarc", True) is False:
            ours = [entry for entry in ours if not entry.startswith("dmarc=")]
        if ours != expected:
            differ[name] = next(
                (entry for entry in ours if entry.startswith("dmarc=")), str(ours)
            )
    assert len(cases) >= 10
    assert differ == EXCEPTIONS
