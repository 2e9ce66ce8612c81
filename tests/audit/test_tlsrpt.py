"""Tests of the TLS-RPT check on zone data."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from deliverability.audit.model import CheckResult
from deliverability.audit.tlsrpt import check_tlsrpt, parse_rua, uri_problem
from deliverability.dns import Answer, Status, ZoneResolver


class FailingResolver(ZoneResolver):
    """Zone data, except that the listed (name, type) lookups fail."""

    def __init__(self, body: str, fail: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(texts={"example.com": "$TTL 300\n@ A 192.0.2.1\n" + body})
        self.fail = set(fail)

    async def _query(self, qname: str, rdtype: str) -> Answer:
        if (qname, rdtype) in self.fail:
            return Answer(qname, rdtype, Status.FAILED, error="timed out")
        return await super()._query(qname, rdtype)


async def run(record: str | None, fail: Iterable[tuple[str, str]] = ()) -> CheckResult:
    body = "" if record is None else f'_smtp._tls TXT "{record}"\n'
    return await check_tlsrpt("example.com", resolver=FailingResolver(body, fail))


def codes(result: CheckResult) -> list[str]:
    return [f.code for f in result.findings]


async def test_tlsrpt_valid() -> None:
    result = await run("v=TLSRPTv1; rua=mailto:tls@example.com")
    assert codes(result) == []
    assert result.details["record"] == "v=TLSRPTv1; rua=mailto:tls@example.com"
    assert result.details["rua"] == ["mailto:tls@example.com"]


async def test_tlsrpt_two_uris() -> None:
    result = await run(
        "v=TLSRPTv1;rua=mailto:a@example.com , https://reports.example.net/tls;"
    )
    assert codes(result) == []
    assert result.details["rua"] == [
        "mailto:a@example.com",
        "https://reports.example.net/tls",
    ]


async def test_tlsrpt_unknown_tag_ignored() -> None:
    result = await run("v=TLSRPTv1; rua=mailto:tls@example.com; ext=1")
    assert codes(result) == []


async def test_tlsrpt_missing() -> None:
    result = await run(None)
    assert codes(result) == ["tls-rpt.missing"]
    assert result.findings[0].severity == "info"
    assert result.details["record"] is None


async def test_tlsrpt_other_text_ignored() -> None:
    result = await run("google-site-verification=abc")
    assert codes(result) == ["tls-rpt.missing"]


async def test_tlsrpt_multiple_records() -> None:
    body = (
        '_smtp._tls TXT "v=TLSRPTv1; rua=mailto:a@example.com"\n'
        '_smtp._tls TXT "v=TLSRPTv1; rua=mailto:b@example.com"\n'
    )
    result = await check_tlsrpt("example.com", resolver=FailingResolver(body))
    assert codes(result) == ["tls-rpt.multiple_records"]
    assert result.findings[0].severity == "error"


async def test_tlsrpt_missing_rua() -> None:
    result = await run("v=TLSRPTv1; ruf=mailto:tls@example.com")
    assert codes(result) == ["tls-rpt.missing_rua"]
    assert result.findings[0].severity == "error"


async def test_tlsrpt_invalid_syntax() -> None:
    result = await run("v=TLSRPTv1; rua = mailto:tls@example.com")
    assert codes(result) == ["tls-rpt.invalid_record"]


async def test_tlsrpt_invalid_version() -> None:
    result = await run("v=TLSRPTv10; rua=mailto:tls@example.com")
    assert codes(result) == ["tls-rpt.invalid_record"]


async def test_tlsrpt_duplicate_rua() -> None:
    result = await run("v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com")
    assert codes(result) == ["tls-rpt.invalid_record"]


async def test_tlsrpt_invalid_uri() -> None:
    result = await run("v=TLSRPTv1; rua=http://reports.example.com/tls")
    assert codes(result) == ["tls-rpt.invalid_uri"]
    assert "'http'" in result.findings[0].message


async def test_tlsrpt_lookup_failed() -> None:
    result = await run(
        "v=TLSRPTv1; rua=mailto:a@example.com", fail=[("_smtp._tls.example.com", "TXT")]
    )
    assert codes(result) == ["dns.lookup_failed"]
    assert not result.complete
    assert result.details["record"] is None


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("mailto:tls@example.com", None),
        ("https://example.com/report", None),
        ("MAILTO:tls@example.com", None),
        ("mailto:example.com", "mailto"),
        ("mailto:tls@localhost", "mailto"),
        ("https:///path", "host name"),
        ("ftp://example.com/", "'ftp'"),
        ("tls@example.com", "(none)"),
        ("", "empty"),
    ],
)
def test_uri_problem(uri: str, problem: str | None) -> None:
    found = uri_problem(uri)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_parse_rua_spacing() -> None:
    assert parse_rua(" mailto:a@b.example ,\thttps://c.example/ ") == [
        "mailto:a@b.example",
        "https://c.example/",
    ]
