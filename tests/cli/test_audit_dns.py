"""The audit over live DNS: failures give status 3, and answers match the zone files.

The nameservers are started here on loopback: a small scripted server that can
stay silent or answer SERVFAIL, and Knot DNS serving the same zone files that
``--zone`` reads.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from ..conftest import StartKnot
from ..dns.fakeserver import FakeServer
from .conftest import (
    DKIMKey,
    RunAudit,
    ZoneFolder,
    add_clean_domain,
    txt_strings,
    zone_text,
)

RECORDS = (
    '@ TXT "v=spf1 ip4:192.0.2.1 -all"\n'
    '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@case.example"\n'
    "@ MX 10 mail.case.example.\n"
    "mail A 192.0.2.25\n"
)
FAST = ("--timeout", "0.2", "--retries", "0")
"""Give up on a silent server quickly; every test server is on loopback."""


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer(zone_text("case.example", RECORDS), "case.example.")
    yield fake
    fake.close()


def nameserver(fake: FakeServer) -> str:
    return f"127.0.0.1:{fake.port}"


def codes(data: dict[str, Any]) -> list[str]:
    return [f["code"] for f in data["findings"]]


def test_answers_exit_one(audit: RunAudit, server: FakeServer) -> None:
    run = audit("case.example", "--nameserver", nameserver(server), *FAST)
    assert run.status == 1, run.out
    assert "Incomplete" not in run.out


def test_timeout_exit_three(audit: RunAudit, server: FakeServer) -> None:
    server.silent.add("case.example")
    run = audit("case.example", "--nameserver", nameserver(server), *FAST)
    assert run.status == 3
    assert "timed out after 0.2 s" in " ".join(run.out.split())
    assert "Incomplete: " in run.out


def test_timeout_never_passes(audit: RunAudit, server: FakeServer) -> None:
    server.silent.add("case.example")
    run = audit(
        "case.example", "--nameserver", nameserver(server), *FAST, "--fail-on", "never"
    )
    assert run.status == 3


def test_timeout_json_incomplete(audit: RunAudit, server: FakeServer) -> None:
    server.silent.add("case.example")
    run = audit(
        "case.example", "--nameserver", nameserver(server), *FAST, "--format", "json"
    )
    data = run.json()
    assert data["complete"] is False
    assert data["checks"]["spf"]["complete"] is False
    assert "dns.lookup_failed" in codes(data)
    assert "spf.missing" not in codes(data)
    assert data["status"] != "pass"


def test_servfail_exit_three(audit: RunAudit, server: FakeServer) -> None:
    server.servfail.add("_dmarc.case.example")
    run = audit(
        "case.example", "--nameserver", nameserver(server), *FAST, "--format", "json"
    )
    assert run.status == 3
    data = run.json()
    assert data["checks"]["dmarc"]["complete"] is False
    assert "dmarc.no_record" not in codes(data)


def test_servfail_named(audit: RunAudit, server: FakeServer) -> None:
    server.servfail.add("_dmarc.case.example")
    run = audit("case.example", "--nameserver", nameserver(server), *FAST)
    assert "SERVFAIL from 127.0.0.1" in " ".join(run.out.split())


def test_servfail_html_incomplete(audit: RunAudit, server: FakeServer) -> None:
    server.servfail.add("_dmarc.case.example")
    run = audit(
        "case.example", "--nameserver", nameserver(server), *FAST, "--format", "html"
    )
    assert run.status == 3
    assert "SERVFAIL" in run.out


def test_jsonl_one_incomplete(audit: RunAudit, server: FakeServer) -> None:
    server.silent.add("_dmarc.case.example")
    run = audit(
        "case.example",
        "absent.example",
        "--nameserver",
        nameserver(server),
        *FAST,
        "--format",
        "jsonl",
    )
    assert run.status == 3
    lines = {
        json.loads(line)["domain"]: json.loads(line) for line in run.out.splitlines()
    }
    assert lines["case.example"]["complete"] is False
    assert codes(lines["absent.example"]) == ["dns.nxdomain"]


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_unreachable_exit_three(audit: RunAudit) -> None:
    run = audit("case.example", "--nameserver", f"127.0.0.1:{closed_port()}", *FAST)
    assert run.status == 3
    assert "Traceback" not in run.err


# The same findings from zone files and from Knot serving them


def equivalence_zones(zones: ZoneFolder, key: DKIMKey) -> list[str]:
    """Write zones with faults of most kinds; return the domains to audit."""
    add_clean_domain(zones, key, "clean.example")
    zones.add(
        "sts.example",
        '_mta-sts TXT "v=STSv1; id=20260101"\n'
        "mta-sts A 192.0.2.80\n"
        '_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tls@sts.example"\n',
    )
    zones.add(
        "faulty.example",
        '@ TXT "v=spf1 include:a.faulty.example include:b.faulty.example '
        'ip4:192.0.2.7 a mx exists:none.faulty.example -all"\n'
        'a TXT "v=spf1 a -all"\n'
        "b CNAME a.faulty.example.\n"
        '_dmarc TXT "v=DMARC1; p=reject; sp=bogus"\n'
        "@ MX 10 mx.elsewhere.example.\n"
        "@ MX 20 192.0.2.9.\n"
        'google._domainkey TXT "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCB"\n',
    )
    zones.add(
        "xn--bcher-kva.example",
        '@ TXT "v=spf1 ip4:192.0.2.1~all"\n'
        '_dmarc TXT "v=DMARC1; p=none"\n'
        '*.wild TXT "v=spf1 -all"\n',
    )
    return [
        "clean.example",
        "sts.example",
        "faulty.example",
        "bücher.example",
        "x.wild.bücher.example",
        "absent.example",
    ]


def summary(data: list[dict[str, Any]]) -> list[Any]:
    """Keep what must not depend on where the records come from."""
    return [
        (
            item["domain"],
            sorted((f["code"], f["severity"], f["message"]) for f in item["findings"]),
            item["checks"].get("spf", {}).get("dns_lookups"),
            item["checks"].get("spf", {}).get("void_lookups"),
            item["checks"].get("ptr", {}).get("addresses"),
        )
        for item in data
    ]


@pytest.mark.knot
def test_zone_and_knot_agree(
    audit: RunAudit, zones: ZoneFolder, dkim_key: DKIMKey, knot: StartKnot
) -> None:
    domains = equivalence_zones(zones, dkim_key)
    options = ["--format", "json", "--selector", "mail", "--ip", "192.0.2.44"]
    offline = audit(*domains, "--zone", zones, *options)
    address, port = knot(zones.path).nameserver
    live = audit(
        *domains, "--nameserver", f"{address}:{port}", "--no-policy-fetch", *options
    )
    assert live.status == offline.status
    assert summary(live.json()) == summary(offline.json())


@pytest.mark.knot
def test_policy_fetch_by_default(
    audit: RunAudit, zones: ZoneFolder, dkim_key: DKIMKey, knot: StartKnot
) -> None:
    # The policy host has a documentation address, which the fetcher skips
    # without connecting, so the fetch fails and nothing leaves loopback.
    equivalence_zones(zones, dkim_key)
    address, port = knot(zones.path).nameserver
    run = audit("sts.example", "--nameserver", f"{address}:{port}", "--format", "json")
    data = run.json()
    assert data["checks"]["mta-sts"]["policy_status"] == "fetch failed"
    assert "mta-sts.policy_fetch_failed" in codes(data)
    assert "mta-sts.policy_not_checked" not in codes(data)


@pytest.mark.knot
def test_long_record_over_knot(
    audit: RunAudit, zones: ZoneFolder, knot: StartKnot
) -> None:
    # About 55 KB of TXT: Knot sets TC over UDP and the answer comes over TCP.
    terms = " ".join(f"ip4:198.51.{i // 250}.{i % 250}" for i in range(3300))
    record = f"v=spf1 {terms} -all"
    zones.add("huge.example", f"@ TXT {txt_strings(record, 255)}\n")
    address, port = knot(zones.path).nameserver
    live = audit(
        "huge.example", "--nameserver", f"{address}:{port}", "--format", "json"
    )
    offline = audit("huge.example", "--zone", zones, "--format", "json")
    assert live.json()["checks"]["spf"]["record"] == record
    assert summary([live.json()]) == summary([offline.json()])


def test_jsonl_streams_finished_first(audit: RunAudit, server: FakeServer) -> None:
    # case.example waits for a timeout, so absent.example finishes first.
    server.silent.add("case.example")
    run = audit(
        "case.example",
        "absent.example",
        "--nameserver",
        nameserver(server),
        *FAST,
        "--format",
        "jsonl",
    )
    domains = [json.loads(line)["domain"] for line in run.out.splitlines()]
    assert domains == ["absent.example", "case.example"]


def test_json_keeps_input_order(audit: RunAudit, server: FakeServer) -> None:
    server.silent.add("case.example")
    run = audit(
        "case.example",
        "absent.example",
        "--nameserver",
        nameserver(server),
        *FAST,
        "--format",
        "json",
    )
    assert [item["domain"] for item in run.json()] == ["case.example", "absent.example"]
