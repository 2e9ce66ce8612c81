"""SPF lookup counts agree with checkdmarc's, except where we document why not.

Knot serves the bundled example zones plus one zone that publishes the SPF
record texts of checkdmarc's own test cases. Our SPF check asks a Knot server
on 127.0.0.1. checkdmarc takes nameserver addresses but no port, so it runs
in a private network namespace with only loopback, where a second Knot server
serves the same zones on 127.0.0.2 port 53. Nothing it sends can leave the
machine.

Each name whose counts differ must appear in DISAGREEMENTS with the reason,
and docs/checkdmarc-comparison.md must explain it, so a new disagreement,
or one that went away, fails the test.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

from deliverability.dns import LiveResolver

from ..conftest import missing, require_program
from ..knot import collect_zones, run_in_netns
from .example import EXAMPLE_ZONES, example_domains

pytestmark = [pytest.mark.knot, pytest.mark.corpus, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CASES_ZONE = "spf-cases.example"
COMPARISON_DOC = ROOT / "docs" / "checkdmarc-comparison.md"
REVIEWED_VERSION = "6.0.4"
"""The checkdmarc release whose counts DISAGREEMENTS explains."""

Counts = tuple[int | None, int | None]
"""SPF (DNS lookups, void lookups); None where a tool reports no number."""

NO_RECORD = (
    "no SPF record (none published, or a TXT record that is not exactly a "
    "version 1 record): checkdmarc reports no count, we report 0 lookups"
)
INCLUDE_NONE = (
    "an include target has no SPF record, a permerror (RFC 7208, section 5.2): "
    "checkdmarc stops and reports no count, we count the whole tree"
)
REDIRECT_NONE = (
    "the redirect target has no SPF record, a permerror (RFC 7208, section "
    "6.1): checkdmarc reports no count, we count the redirect as one void lookup"
)
SYNTAX = (
    "syntax error, a permerror (RFC 7208, section 4.6): checkdmarc reports no "
    "count, we count the lookup terms that parsed"
)
UPPER_VERSION = (
    "checkdmarc rejects the upper-case version V=SPF1 as a syntax error; the "
    "ABNF of RFC 7208, section 12 is case-insensitive, so we accept it"
)
VOID_LIMIT_DROPS_COUNT = (
    "an a or mx term exceeds the void lookup limit: checkdmarc then drops the "
    "lookup count and keeps only the void count"
)
PTR_VOID = (
    "checkdmarc counts a ptr term as void when its domain has no A record; a "
    "ptr term queries PTR records of the client address (RFC 7208, section "
    "5.5), which an audit without one does not send, so it cannot be void"
)

# Example domain, or label of a case in spf-cases.example, -> why our counts
# differ from checkdmarc 6.0.4's. docs/checkdmarc-comparison.md explains each.
DISAGREEMENTS: dict[str, str] = {
    "developpement-durable.gouv.fr": INCLUDE_NONE,
    "discoursemail.com": INCLUDE_NONE,
    "eviny.no": INCLUDE_NONE,
    "example.com": NO_RECORD,
    "github.com": INCLUDE_NONE,
    "gmail.com": NO_RECORD,
    "google.com": NO_RECORD,
    "mail148.suw18.rsgsv.net": INCLUDE_NONE,
    "mailchimpapp.net": NO_RECORD,
    "mcc.mcsv.net": NO_RECORD,
    "microsoft.com": INCLUDE_NONE,
    "newsletter.3suisses.fr": INCLUDE_NONE,
    "pages.github.com": NO_RECORD,
    "sendgrid.info": NO_RECORD,
    "sgmail.github.com": INCLUDE_NONE,
    "staszic.waw.pl": NO_RECORD,
    "subspace.kernel.org": NO_RECORD,
    "swedavia.se": NO_RECORD,
    "voyages-adekua.fr": INCLUDE_NONE,
    "webhostingserver.nl": NO_RECORD,
    "wepay.com": INCLUDE_NONE,
    "yahoo.com": NO_RECORD,
    "splitspfrecord": INCLUDE_NONE,
    "includemissingspf": INCLUDE_NONE,
    "toomanyspfdnslookups": INCLUDE_NONE,
    "toomanyspfvoiddnslookups": VOID_LIMIT_DROPS_COUNT,
    "toomanyspfdnslookupsmocked-2": VOID_LIMIT_DROPS_COUNT,
    "spfsyntaxerrors": SYNTAX,
    "spfinvalidipv4": SYNTAX,
    "spfinvalidipv6inipv4": SYNTAX,
    "spfinvalidipv4range": SYNTAX,
    "spfinvalidipv6": SYNTAX,
    "spfinvalidipv4inipv6": SYNTAX,
    "spfinvalidipv6range": SYNTAX,
    "spfinvalidmissingspacebeforeallmechanism": SYNTAX,
    "spfbrokenamechanismmacro": SYNTAX,
    "spfbrokenmxmechanismmacro": SYNTAX,
    "spfbrokenptrmechanismmacro": SYNTAX,
    "spfbrokenincludemechanismmacro": SYNTAX,
    "spfbrokenexistsmechanismmacro": SYNTAX,
    "spfbrokenredirectmodifiermacro": SYNTAX,
    "spfbrokenexpmodifiermacro": SYNTAX,
    "spfunknownmacroletterstillrejected": SYNTAX,
    "macroinip4mechanism": SYNTAX,
    "macroinip6mechanism": SYNTAX,
    "spfincludeloop": INCLUDE_NONE,
    "undecodablecharactersinnonspfrecord-2": INCLUDE_NONE,
    "invalidspfversiontagsrejectedmocked": NO_RECORD,
    "invalidspfversiontagsrejectedmocked-2": NO_RECORD,
    "spfversionmatchingiscaseinsensitivemocked": UPPER_VERSION,
    "spfversionmatchingrejectsleadingwhitespacemocked": NO_RECORD,
    "leadingwhitespacespfregressionmocked-2": NO_RECORD,
    "leadingwhitespacespfregressionmocked-3": NO_RECORD,
    "leadingwhitespacespfregressionmocked-4": NO_RECORD,
    "ptremitswarning": PTR_VOID,
    "ptrwithexplicitdomain": PTR_VOID,
    "redirectloop": REDIRECT_NONE,
    "redirectfollowed-2": REDIRECT_NONE,
}


def short_name(name: str) -> str:
    """Return the DISAGREEMENTS key of a name: the label for a case."""
    return name.removesuffix("." + CASES_ZONE)


def _label(source_test: str) -> str:
    """Return a DNS label made from a test function name."""
    name = source_test.rpartition("::")[2].removeprefix("test")
    return re.sub(r"[^a-z0-9-]", "", name.lower())[:56]


def _quote(chunk: bytes) -> str:
    """Return one TXT character-string in zone-file syntax."""
    escaped = "".join(
        "\\" + chr(b) if b in (0x22, 0x5C)
        else chr(b) if 0x20 <= b < 0x7F
        else f"\\{b:03d}"
        for b in chunk
    )
    return f'"{escaped}"'


def _txt_rdata(text: str) -> str | None:
    """Return zone-file TXT rdata for a case input, or None to leave it out.

    An input that is already quoted character-strings is published as it is;
    any other text is quoted and cut into 255-byte strings. Inputs that are
    not SPF version 1 records, or that do not parse, are left out.
    """
    if text.startswith('"'):
        rdata = text
    else:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            return None
        rdata = " ".join(_quote(data[i:i + 255]) for i in range(0, len(data), 255))
    try:
        parsed = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, rdata)
    except (dns.exception.DNSException, UnicodeError):
        return None
    strings: tuple[bytes, ...] = parsed.strings  # type: ignore[attr-defined]
    joined = b"".join(strings).decode("utf-8", "replace")
    if not joined.lstrip().lower().startswith("v=spf1"):
        return None
    return rdata


def spf_cases(corpus_dir: Path) -> dict[str, str]:
    """Return owner label -> TXT rdata for the SPF record texts of the cases."""
    cases = json.loads(
        (corpus_dir / "checkdmarc-cases" / "record-cases.json").read_text()
    )
    published: dict[str, str] = {}
    for case in cases:
        if case["suite"] != "spf":
            continue
        base = _label(case["source_test"])
        for index, text in enumerate(case["inputs"], start=1):
            rdata = _txt_rdata(text)
            if rdata is None or rdata in published.values():
                continue
            label = base if index == 1 else f"{base}-{index}"
            published[label] = rdata
    return published


def cases_zone_text(cases: dict[str, str]) -> str:
    """Return the zone text that publishes each case at LABEL.spf-cases.example."""
    return "".join(f"{label} IN TXT {rdata}\n" for label, rdata in cases.items())


@pytest.fixture(scope="module")
def cases(corpus_dir: Path) -> dict[str, str]:
    found = spf_cases(corpus_dir)
    if not found:
        pytest.fail("no SPF record texts found in record-cases.json")
    return found


@pytest.fixture(scope="module")
def zones(cases: dict[str, str]) -> dict[str, str]:
    served = collect_zones(EXAMPLE_ZONES)
    served[CASES_ZONE] = cases_zone_text(cases)
    return served


@pytest.fixture(scope="module")
def names(cases: dict[str, str]) -> list[str]:
    return example_domains() + [f"{label}.{CASES_ZONE}" for label in cases]


async def _our_counts(
    names: list[str], nameserver: tuple[str, int]
) -> dict[str, Counts]:
    from deliverability.audit.spf import check_spf

    resolver = LiveResolver([nameserver], timeout=2.0, retries=1)
    results = await asyncio.gather(
        *(check_spf(name, resolver=resolver) for name in names)
    )
    await resolver.aclose()
    return {
        name: (result.details.get("dns_lookups"), result.details.get("void_lookups"))
        for name, result in zip(names, results, strict=True)
    }


@pytest.fixture(scope="module")
def ours(knot: Any, zones: dict[str, str], names: list[str]) -> dict[str, Counts]:
    server = knot(zones)
    return asyncio.run(_our_counts(names, server.nameserver))


@pytest.fixture(scope="module")
def theirs(
    zones: dict[str, str],
    names: list[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Counts]:
    require_program("unshare")
    if os.geteuid() != 0:
        missing("the checkdmarc comparison needs root to run unshare --net")
    if importlib.util.find_spec("checkdmarc") is None:
        missing("checkdmarc is not installed (pip install checkdmarc)")
    workdir = tmp_path_factory.mktemp("checkdmarc")
    command = [sys.executable, "-m", "tests.integration.checkdmarc_spf", *names]
    done = run_in_netns(zones, workdir, command)
    if done.returncode != 0:
        pytest.fail(f"checkdmarc run failed ({done.returncode}):\n{done.stderr}")
    results = json.loads(done.stdout)
    return {
        name: (item["dns_lookups"], item["void_dns_lookups"])
        for name, item in results.items()
    }


def differences(ours: dict[str, Counts], theirs: dict[str, Counts]) -> Iterator[str]:
    """Yield the DISAGREEMENTS key of each name whose counts differ."""
    for name, counts in ours.items():
        if counts != theirs.get(name):
            yield short_name(name)


def test_checkdmarc_version() -> None:
    # DISAGREEMENTS were reviewed against this release; review them again
    # for another one.
    if importlib.util.find_spec("checkdmarc") is None:
        missing("checkdmarc is not installed (pip install checkdmarc)")
    assert importlib.metadata.version("checkdmarc") == REVIEWED_VERSION


def test_checkdmarc_ran_every_name(
    theirs: dict[str, Counts], names: list[str]
) -> None:
    assert sorted(theirs) == sorted(names)


def test_checkdmarc_counted_lookups(theirs: dict[str, Counts]) -> None:
    # Guards against a run that reached no DNS server: then nothing counts.
    assert max((lookups or 0) for lookups, _ in theirs.values()) >= 5


def test_no_unexplained_disagreement(
    ours: dict[str, Counts], theirs: dict[str, Counts]
) -> None:
    unexplained = {
        name: {"ours": counts, "checkdmarc": theirs.get(name)}
        for name, counts in ours.items()
        if counts != theirs.get(name) and short_name(name) not in DISAGREEMENTS
    }
    assert unexplained == {}


def test_no_stale_disagreement(
    ours: dict[str, Counts], theirs: dict[str, Counts]
) -> None:
    stale = sorted(set(DISAGREEMENTS) - set(differences(ours, theirs)))
    assert stale == []


def test_disagreements_documented() -> None:
    text = COMPARISON_DOC.read_text(encoding="utf-8")
    undocumented = sorted(name for name in DISAGREEMENTS if f"`{name}`" not in text)
    assert undocumented == []


def test_counted_names_mostly_agree(
    ours: dict[str, Counts], theirs: dict[str, Counts]
) -> None:
    # Where checkdmarc reports both numbers, a disagreement is the exception.
    counted = [name for name, counts in theirs.items() if None not in counts]
    differ = [name for name in counted if ours[name] != theirs[name]]
    assert len(differ) * 5 <= len(counted)
