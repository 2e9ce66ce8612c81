from __future__ import annotations

from pathlib import Path

import pytest

from deliverability.dns import Status, ZoneResolver
from deliverability.errors import ZoneFileError

EXAMPLE = """$ORIGIN example.com.
$TTL 300
@ IN SOA ns1 hostmaster 1 3600 600 86400 300
@ IN NS ns1
ns1 IN A 192.0.2.53
@ IN TXT "v=spf1 include:a.example.com include:b.example.com -all"
a IN TXT "v=spf1 a" " -all"
b IN CNAME a.example.com.
loop1 IN CNAME loop2.example.com.
loop2 IN CNAME loop1.example.com.
*._report._dmarc IN TXT "v=DMARC1"
deep.inside.branch IN A 192.0.2.7
@ IN MX 10 mail.example.com.
@ IN MX 5 backup.example.com.
mail IN A 192.0.2.25
alias IN CNAME target.example.org.
"""

SUB = """$ORIGIN sub.example.com.
@ IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 86400 300
@ IN TXT "from the child zone"
"""

OTHER = """$ORIGIN example.org.
@ IN SOA ns1 hostmaster 1 3600 600 86400 300
target IN A 198.51.100.9
"""


@pytest.fixture
def zones() -> ZoneResolver:
    return ZoneResolver(
        texts={"example.com": EXAMPLE, "sub.example.com": SUB, "example.org": OTHER}
    )


async def test_txt_strings_kept_and_joined(zones: ZoneResolver) -> None:
    answer = await zones.resolve("a.example.com", "TXT")
    assert answer.records[0].strings == (b"v=spf1 a", b" -all")
    assert answer.texts == ["v=spf1 a -all"]


async def test_cname_followed(zones: ZoneResolver) -> None:
    answer = await zones.resolve("b.example.com", "TXT")
    assert answer.status is Status.ANSWER
    assert answer.cnames == ("a.example.com",)


async def test_cname_followed_across_zones(zones: ZoneResolver) -> None:
    answer = await zones.resolve("alias.example.com", "A")
    assert answer.records == ("198.51.100.9",)


async def test_cname_loop_fails(zones: ZoneResolver) -> None:
    answer = await zones.resolve("loop1.example.com", "A")
    assert answer.status is Status.FAILED


async def test_empty_non_terminal_is_nodata(zones: ZoneResolver) -> None:
    answer = await zones.resolve("inside.branch.example.com", "A")
    assert answer.status is Status.NODATA


async def test_missing_name_is_nxdomain(zones: ZoneResolver) -> None:
    answer = await zones.resolve("nothing.example.com", "A")
    assert answer.status is Status.NXDOMAIN


async def test_name_outside_every_zone_is_nxdomain(zones: ZoneResolver) -> None:
    answer = await zones.resolve("example.net", "TXT")
    assert answer.status is Status.NXDOMAIN


async def test_existing_name_without_type_is_nodata(zones: ZoneResolver) -> None:
    answer = await zones.resolve("mail.example.com", "TXT")
    assert answer.status is Status.NODATA


async def test_most_specific_zone_answers(zones: ZoneResolver) -> None:
    answer = await zones.resolve("sub.example.com", "TXT")
    assert answer.texts == ["from the child zone"]


async def test_wildcard_expanded(zones: ZoneResolver) -> None:
    answer = await zones.resolve("example.net._report._dmarc.example.com", "TXT")
    assert answer.texts == ["v=DMARC1"]


async def test_mx_sorted_by_preference(zones: ZoneResolver) -> None:
    answer = await zones.resolve("example.com", "MX")
    assert [mx.exchange for mx in answer.records] == [
        "backup.example.com",
        "mail.example.com",
    ]


async def test_negative_answers_cached(zones: ZoneResolver) -> None:
    await zones.resolve("nothing.example.com", "A")
    await zones.resolve("NOTHING.example.com.", "A")
    assert zones.stats.queries == 1
    assert zones.stats.cache_hits == 1


async def test_idn_asked_as_a_label(zones: ZoneResolver) -> None:
    answer = await zones.resolve("bücher.example.com", "A")
    assert answer.name == "xn--bcher-kva.example.com"


def test_folder_with_nested_zones(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "example.com.zone").write_text(EXAMPLE)
    (tmp_path / "nested" / "example.org.zone").write_text(OTHER)
    resolver = ZoneResolver([tmp_path])
    assert resolver.origins == ["example.com", "example.org"]


def test_origin_from_file_name(tmp_path: Path) -> None:
    path = tmp_path / "example.net.zone"
    path.write_text('@ 300 IN TXT "hello"\n')
    resolver = ZoneResolver([path])
    assert resolver.origins == ["example.net"]


def test_invalid_zone_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.example.zone"
    path.write_text("$ORIGIN bad.example.\n@ 300 IN MX notanumber host\n")
    with pytest.raises(ZoneFileError) as caught:
        ZoneResolver([path])
    assert "bad.example.zone" in str(caught.value)
    assert ":2" in str(caught.value)


def test_missing_zone_path(tmp_path: Path) -> None:
    with pytest.raises(ZoneFileError, match="no such file"):
        ZoneResolver([tmp_path / "absent.zone"])


def test_folder_without_zones(tmp_path: Path) -> None:
    with pytest.raises(ZoneFileError, match="no \\*.zone file"):
        ZoneResolver([tmp_path])


def test_duplicate_origin_rejected(tmp_path: Path) -> None:
    (tmp_path / "a.zone").write_text(OTHER)
    (tmp_path / "b.zone").write_text(OTHER)
    with pytest.raises(ZoneFileError, match="already loaded"):
        ZoneResolver([tmp_path])


def test_binary_zone_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "junk.zone"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ZoneFileError):
        ZoneResolver([path])
