"""Tests of organizational domains: the Public Suffix List and the DNS Tree Walk."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from deliverability.audit.orgdomain import (
    MAX_WALK_QUERIES,
    discover_policy,
    discover_policy_psl,
    organizational_domain_psl,
    tree_walk_names,
)
from deliverability.dns import Answer, Status, ZoneResolver


class FailingResolver(ZoneResolver):
    """Zone data, except that lookups of the listed names fail."""

    def __init__(self, texts: dict[str, str], fail: Iterable[str] = ()) -> None:
        super().__init__(texts=texts)
        self.fail = set(fail)

    async def _query(self, qname: str, rdtype: str) -> Answer:
        if qname in self.fail:
            return Answer(qname, rdtype, Status.FAILED, error="timed out")
        return await super()._query(qname, rdtype)


def zones(**records: str) -> FailingResolver:
    """One zone per ``_dmarc`` owner, each holding a single TXT record.

    Keys are owner names with dots written as ``__``; the records go into a
    zone ``example`` or ``com``, by the owner's last label.
    """
    body: dict[str, list[str]] = {"example": [], "com": []}
    for key, text in records.items():
        owner = key.replace("__", ".")
        origin = "example" if owner.endswith("example") else "com"
        body[origin].append(f'{owner}. TXT "{text}"')
    return FailingResolver(
        {
            origin: f"$ORIGIN {origin}.\n$TTL 300\n" + "\n".join(lines) + "\n"
            for origin, lines in body.items()
            if lines
        }
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("example.com", "example.com"),
        ("mail.example.com", "example.com"),
        ("a.b.example.co.uk", "example.co.uk"),
        ("com", "com"),
        ("co.uk", "co.uk"),
        ("foo.github.io", "foo.github.io"),
        ("x.bar.unknowntld", "bar.unknowntld"),
    ],
)
def test_psl_organizational_domain(name: str, expected: str) -> None:
    assert organizational_domain_psl(name) == expected


def test_walk_names_short() -> None:
    assert tree_walk_names("a.mail.example.com") == [
        "a.mail.example.com",
        "mail.example.com",
        "example.com",
        "com",
    ]


def test_walk_names_long_jumps_to_seven_labels() -> None:
    # The example of RFC 9989, section 4.10.
    names = tree_walk_names("a.b.c.d.e.f.g.h.i.j.mail.example.com")
    assert names == [
        "a.b.c.d.e.f.g.h.i.j.mail.example.com",
        "g.h.i.j.mail.example.com",
        "h.i.j.mail.example.com",
        "i.j.mail.example.com",
        "j.mail.example.com",
        "mail.example.com",
        "example.com",
        "com",
    ]


def test_walk_names_eight_labels() -> None:
    names = tree_walk_names("a.b.c.d.e.f.example.com")
    assert len(names) == MAX_WALK_QUERIES
    assert names[1] == "b.c.d.e.f.example.com"


def test_walk_names_single_label() -> None:
    assert tree_walk_names("com") == ["com"]


async def test_walk_shortest_record_is_org() -> None:
    resolver = zones(
        _dmarc__mail__example__com="v=DMARC1; p=none",
        _dmarc__example__com="v=DMARC1; p=reject",
    )
    walk = await discover_policy("a.mail.example.com", resolver=resolver)
    assert walk.organizational_domain == "example.com"
    assert walk.names == [
        "_dmarc.a.mail.example.com",
        "_dmarc.mail.example.com",
        "_dmarc.example.com",
        "_dmarc.com",
    ]
    # The Organizational Domain's record applies, not the nearer one.
    assert walk.location == "_dmarc.example.com"
    assert not walk.from_public_suffix


async def test_walk_psd_n_stops() -> None:
    resolver = zones(
        _dmarc__mail__example__com="v=DMARC1; p=none; psd=n",
        _dmarc__example__com="v=DMARC1; p=reject",
    )
    walk = await discover_policy("a.mail.example.com", resolver=resolver)
    assert walk.organizational_domain == "mail.example.com"
    assert walk.names[-1] == "_dmarc.mail.example.com"
    assert walk.location == "_dmarc.mail.example.com"


async def test_walk_psd_y_at_tld() -> None:
    resolver = zones(_dmarc__com="v=DMARC1; p=reject; psd=y")
    walk = await discover_policy("a.mail.example.com", resolver=resolver)
    assert walk.organizational_domain == "example.com"
    assert walk.location == "_dmarc.com"
    assert walk.from_public_suffix


async def test_walk_psd_bank_example() -> None:
    # The example with a public suffix record in the tree walk examples of RFC 9989.
    resolver = zones(
        _dmarc__giant__bank__example="v=DMARC1; p=reject",
        _dmarc__bank__example="v=DMARC1; p=quarantine; psd=y",
    )
    author = await discover_policy("giant.bank.example", resolver=resolver)
    mail_from = await discover_policy("mail.giant.bank.example", resolver=resolver)
    dkim = await discover_policy("mail.mega.bank.example", resolver=resolver)
    assert author.organizational_domain == "giant.bank.example"
    assert author.location == "_dmarc.giant.bank.example"
    assert mail_from.organizational_domain == "giant.bank.example"
    assert dkim.organizational_domain == "mega.bank.example"
    assert dkim.location == "_dmarc.bank.example"
    assert dkim.from_public_suffix


async def test_walk_psd_y_at_start_ignored() -> None:
    resolver = zones(_dmarc__bank__example="v=DMARC1; p=reject; psd=y")
    walk = await discover_policy("bank.example", resolver=resolver)
    assert walk.organizational_domain == "bank.example"
    assert walk.names == ["_dmarc.bank.example"]
    assert not walk.from_public_suffix


async def test_walk_no_record() -> None:
    walk = await discover_policy("a.example.com", resolver=zones())
    assert walk.organizational_domain == "a.example.com"
    assert walk.record is None
    assert walk.location is None
    assert walk.failed == []


async def test_walk_multiple_records_discarded() -> None:
    resolver = ZoneResolver(
        texts={
            "example.com": (
                "$TTL 300\n"
                '_dmarc.sub TXT "v=DMARC1; p=none"\n'
                '_dmarc.sub TXT "v=DMARC1; p=reject"\n'
                '_dmarc TXT "v=DMARC1; p=quarantine"\n'
            )
        }
    )
    walk = await discover_policy("sub.example.com", resolver=resolver)
    assert len(walk.steps[0].records) == 2
    assert walk.steps[0].record is None
    assert walk.location == "_dmarc.example.com"


async def test_walk_keeps_going_after_failure() -> None:
    resolver = FailingResolver(
        {"example.com": '$TTL 300\n_dmarc TXT "v=DMARC1; p=reject"\n'},
        fail=["_dmarc.mail.example.com"],
    )
    walk = await discover_policy("mail.example.com", resolver=resolver)
    assert [a.name for a in walk.failed] == ["_dmarc.mail.example.com"]
    assert walk.location == "_dmarc.example.com"


async def test_walk_deep_name_sends_at_most_eight_queries() -> None:
    resolver = zones()
    deep = ".".join("abcdefghijkl") + ".example.com"
    before = resolver.stats.queries
    walk = await discover_policy(deep, resolver=resolver)
    assert len(walk.names) == MAX_WALK_QUERIES
    assert resolver.stats.queries - before == MAX_WALK_QUERIES


async def test_psl_discovery_falls_back_to_org() -> None:
    resolver = zones(_dmarc__example__com="v=DMARC1; p=reject")
    psl = await discover_policy_psl("a.mail.example.com", resolver=resolver)
    assert psl.names == ["_dmarc.a.mail.example.com", "_dmarc.example.com"]
    assert psl.organizational_domain == "example.com"
    assert psl.location == "_dmarc.example.com"


async def test_psl_discovery_skips_intermediate() -> None:
    resolver = zones(_dmarc__mail__example__com="v=DMARC1; p=reject")
    psl = await discover_policy_psl("a.mail.example.com", resolver=resolver)
    assert psl.record is None
    walk = await discover_policy("a.mail.example.com", resolver=resolver)
    assert walk.location == "_dmarc.mail.example.com"
