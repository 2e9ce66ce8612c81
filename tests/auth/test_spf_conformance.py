"""The OpenSPF conformance suites (RFC 7208 and RFC 4408) through check_host.

docs/spf-conformance.md lists the cases whose expected result we do not
give, with the reason; :data:`EXCEPTIONS` must stay equal to that list.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deliverability.auth import check_host

from .spf_suite import SuiteCase, load_suite

pytestmark = pytest.mark.corpus

#: Case id -> the result we give instead. Empty: every case passes.
EXCEPTIONS: dict[str, str] = {}
MIN_PASS_RATE = 0.99
SUITES = ("rfc7208-tests.yml", "rfc4408-tests.yml")


async def _run(case: SuiteCase) -> str:
    result = await check_host(
        case.host, mail_from=case.mailfrom, helo=case.helo, resolver=case.resolver()
    )
    return result.result


@pytest.mark.parametrize("suite", SUITES)
async def test_suite_pass_rate(corpus_dir: Path, suite: str) -> None:
    cases = load_suite(corpus_dir / "openspf-rfc7208" / suite)
    failures = {}
    for case in cases:
        got = await _run(case)
        if got not in case.expected:
            failures[case.id] = got
    passed = len(cases) - len(failures)
    assert len(cases) > 150
    assert passed / len(cases) >= MIN_PASS_RATE, failures
    assert failures == {k: v for k, v in EXCEPTIONS.items() if k in failures}, failures


def test_exceptions_documented() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "spf-conformance.md"
    text = doc.read_text(encoding="utf-8")
    if not EXCEPTIONS:
        assert "None: every case gives an expected result." in text
    for case_id in EXCEPTIONS:
        assert f"`{case_id}`" in text
