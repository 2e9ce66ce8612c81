from __future__ import annotations

from collections.abc import Iterator

import pytest

from deliverability.dns import LiveResolver, Status, parse_nameserver
from deliverability.errors import InputError

from .fakeserver import FakeServer

ZONE = """$TTL 300
@ IN SOA ns1 hostmaster 1 3600 600 86400 300
@ IN TXT "v=spf1 -all"
big IN TXT "a long record that only TCP carries"
slow IN TXT "never sent"
broken IN TXT "never sent"
alias IN CNAME elsewhere.example.org.
inzone IN CNAME @
"""


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer(ZONE, "example.com.")
    fake.silent.add("slow.example.com")
    fake.servfail.add("broken.example.com")
    fake.truncate.add("big.example.com")
    yield fake
    fake.close()


def make(server: FakeServer, **kwargs: object) -> LiveResolver:
    return LiveResolver([("127.0.0.1", server.port)], **kwargs)  # type: ignore[arg-type]


async def test_answer(server: FakeServer) -> None:
    answer = await make(server).resolve("example.com", "TXT")
    assert answer.texts == ["v=spf1 -all"]


async def test_nxdomain(server: FakeServer) -> None:
    answer = await make(server).resolve("absent.example.com", "TXT")
    assert answer.status is Status.NXDOMAIN


async def test_nodata(server: FakeServer) -> None:
    answer = await make(server).resolve("example.com", "MX")
    assert answer.status is Status.NODATA


async def test_timeout_is_failure_not_void(server: FakeServer) -> None:
    resolver = make(server, timeout=0.2, retries=1)
    answer = await resolver.resolve("slow.example.com", "TXT")
    assert answer.status is Status.FAILED
    assert "timed out" in (answer.error or "")
    assert "2 tries" in (answer.error or "")


async def test_servfail_is_failure(server: FakeServer) -> None:
    answer = await make(server, retries=0).resolve("broken.example.com", "TXT")
    assert answer.status is Status.FAILED
    assert "SERVFAIL" in (answer.error or "")


async def test_truncated_reply_retried_over_tcp(server: FakeServer) -> None:
    answer = await make(server).resolve("big.example.com", "TXT")
    assert answer.texts == ["a long record that only TCP carries"]


async def test_cname_to_unanswered_zone_chased(server: FakeServer) -> None:
    answer = await make(server).resolve("alias.example.com", "A")
    # The fake server holds no example.org, so the chase ends in NXDOMAIN.
    assert answer.status is Status.NXDOMAIN
    assert answer.cnames == ("elsewhere.example.org",)


async def test_failures_counted(server: FakeServer) -> None:
    resolver = make(server, retries=0)
    await resolver.resolve("broken.example.com", "TXT")
    assert resolver.stats.failures == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
    ],
)
def test_parse_nameserver(text: str, expected: tuple[str, int]) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize("text", ["dns.example", "127.0.0.1:0", "127.0.0.1:x", "[::1"])
def test_parse_nameserver_rejects(text: str) -> None:
    with pytest.raises(InputError, match="invalid nameserver"):
        parse_nameserver(text)


def test_rejects_bad_timeout() -> None:
    with pytest.raises(InputError, match="invalid timeout"):
        LiveResolver([("127.0.0.1", 53)], timeout=0)
