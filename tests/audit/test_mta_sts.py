"""Tests of the MTA-STS record check and the pure policy parser."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from deliverability.audit.model import CheckResult
from deliverability.audit.mta_sts import (
    check_mta_sts,
    mx_matches,
    parse_policy,
    split_tag_list,
)
from deliverability.dns import Answer, Status, ZoneResolver

TLSRPT = '_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tls@example.com"\n'


class FailingResolver(ZoneResolver):
    """Zone data, except that the listed (name, type) lookups fail."""

    def __init__(self, body: str, fail: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(texts={"example.com": "$TTL 300\n@ A 192.0.2.1\n" + body})
        self.fail = set(fail)

    async def _query(self, qname: str, rdtype: str) -> Answer:
        if (qname, rdtype) in self.fail:
            return Answer(qname, rdtype, Status.FAILED, error="timed out")
        return await super()._query(qname, rdtype)


async def run(body: str, fail: Iterable[tuple[str, str]] = ()) -> CheckResult:
    return await check_mta_sts(
        "example.com",
        resolver=FailingResolver(body, fail),
        fetch_policy=False,
        mx_hosts=["mail.example.com"],
    )


def codes(result: CheckResult) -> list[str]:
    return [f.code for f in result.findings]


async def test_mta_sts_offline_not_checked() -> None:
    result = await run('_mta-sts TXT "v=STSv1; id=20240101T000000"\n' + TLSRPT)
    assert codes(result) == ["mta-sts.policy_not_checked"]
    assert result.findings[0].severity == "info"
    assert result.details["record"] == "v=STSv1; id=20240101T000000"
    assert result.details["id"] == "20240101T000000"
    assert result.details["policy"] is None
    assert result.details["policy_checked"] is False
    assert result.details["policy_status"] == "not checked (offline)"


async def test_mta_sts_missing() -> None:
    result = await run('_mta-sts TXT "some other text"\n')
    assert codes(result) == ["mta-sts.missing"]
    assert result.findings[0].severity == "info"
    assert result.details["record"] is None


async def test_mta_sts_multiple_records() -> None:
    result = await run('_mta-sts TXT "v=STSv1; id=1"\n_mta-sts TXT "v=STSv1; id=2"\n')
    assert codes(result) == ["mta-sts.multiple_records"]
    assert result.findings[0].severity == "error"


async def test_mta_sts_invalid_id() -> None:
    result = await run('_mta-sts TXT "v=STSv1; id=not-valid!"\n' + TLSRPT)
    assert codes(result) == ["mta-sts.invalid_id"]
    assert result.details["id"] is None


async def test_mta_sts_id_too_long() -> None:
    result = await run(f'_mta-sts TXT "v=STSv1; id={"a" * 33}"\n' + TLSRPT)
    assert codes(result) == ["mta-sts.invalid_id"]


async def test_mta_sts_id_missing() -> None:
    result = await run('_mta-sts TXT "v=STSv1; ext=1"\n' + TLSRPT)
    assert codes(result) == ["mta-sts.invalid_id"]


async def test_mta_sts_invalid_syntax() -> None:
    result = await run('_mta-sts TXT "v=STSv1; id = 123; junk"\n' + TLSRPT)
    assert codes(result) == ["mta-sts.invalid_record"]
    assert "white space around" in result.findings[0].message
    assert "has no '='" in result.findings[0].message


async def test_mta_sts_version_not_first() -> None:
    result = await run('_mta-sts TXT "v=STSv1x; id=123"\n' + TLSRPT)
    assert codes(result) == ["mta-sts.invalid_record"]


async def test_mta_sts_extension_allowed() -> None:
    result = await run('_mta-sts TXT "v=STSv1; id=abc; ext-1=value;"\n' + TLSRPT)
    assert codes(result) == ["mta-sts.policy_not_checked"]


async def test_mta_sts_without_tlsrpt() -> None:
    result = await run('_mta-sts TXT "v=STSv1; id=abc"\n')
    assert codes(result) == ["mta-sts.no_tlsrpt", "mta-sts.policy_not_checked"]
    assert result.findings[0].severity == "info"


async def test_mta_sts_lookup_failed() -> None:
    result = await run("", fail=[("_mta-sts.example.com", "TXT")])
    assert codes(result) == ["dns.lookup_failed"]
    assert not result.complete
    assert result.details["policy_status"] == "not checked (lookup failed)"


async def test_mta_sts_tlsrpt_failure_left_alone() -> None:
    result = await run(
        '_mta-sts TXT "v=STSv1; id=abc"\n', fail=[("_smtp._tls.example.com", "TXT")]
    )
    assert codes(result) == ["mta-sts.policy_not_checked"]


POLICY = (
    "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 604800\r\n"
)


def test_policy_parse_valid() -> None:
    parsed = parse_policy(POLICY)
    assert parsed.problems == []
    assert parsed.policy == {
        "version": "STSv1",
        "mode": "enforce",
        "max_age": 604800,
        "mx": ["mail.example.com"],
        "extensions": {},
    }


def test_policy_parse_lf_and_spacing() -> None:
    text = (
        "version:STSv1\nmode:   testing  \nmx: *.example.com\nmx: b.example\n"
        "max_age: 86400\nextra: kept"
    )
    parsed = parse_policy(text)
    assert parsed.problems == []
    assert parsed.policy is not None
    assert parsed.policy["mode"] == "testing"
    assert parsed.policy["mx"] == ["*.example.com", "b.example"]
    assert parsed.policy["extensions"] == {"extra": "kept"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("mode: enforce\nmx: a.example\nmax_age: 1", "'version' is missing"),
        ("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1", "STSv2"),
        ("version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1", "strict"),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1", "-1"),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601", "exceeds"),
        ("version: STSv1\nmode: enforce\nmax_age: 86400", "needs at least one"),
        ("version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1", "a.*.example"),
        (
            "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nno colon",
            "line 5",
        ),
        (" version: STSv1\nmode: none\nmax_age: 1", "line 1"),
    ],
)
def test_policy_parse_invalid(text: str, problem: str) -> None:
    parsed = parse_policy(text)
    assert parsed.policy is None
    assert any(problem in p for p in parsed.problems), parsed.problems


def test_policy_mode_none_needs_no_mx() -> None:
    parsed = parse_policy("version: STSv1\nmode: none\nmax_age: 86400\n")
    assert parsed.problems == []


def test_policy_duplicate_keeps_first() -> None:
    parsed = parse_policy(POLICY + "mode: none\n")
    assert parsed.duplicates == ["mode"]
    assert parsed.policy is not None
    assert parsed.policy["mode"] == "enforce"


@pytest.mark.parametrize(
    ("host", "pattern", "expected"),
    [
        ("mail.example.com", "mail.example.com", True),
        ("MAIL.example.com.", "mail.example.com", True),
        ("mx1.example.com", "*.example.com", True),
        ("a.b.example.com", "*.example.com", False),
        ("example.com", "*.example.com", False),
        ("mail.example.net", "mail.example.com", False),
    ],
)
def test_mx_matches(host: str, pattern: str, expected: bool) -> None:
    assert mx_matches(host, pattern) is expected


def test_split_tag_list_trailing_semicolon() -> None:
    tags = split_tag_list("v=STSv1; id=1;  ")
    assert tags.tags == [("v", "STSv1"), ("id", "1")]
    assert tags.problems == []


def test_split_tag_list_loose_equals() -> None:
    tags = split_tag_list("v = BIMI1; l = x", spaces_around_equals=True)
    assert tags.tags == [("v", "BIMI1"), ("l", "x")]
    assert tags.problems == []
