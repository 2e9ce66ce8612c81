"""Bad input to ``deliverability audit``: a clear message and status 2.

No bad input may end in a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Run, RunAudit, ZoneFolder, txt_strings, zone_text

SPF = '@ TXT "v=spf1 -all"\n'


def assert_usage_error(run: Run, *fragments: str) -> None:
    assert run.status == 2
    assert "Traceback" not in run.err
    for fragment in fragments:
        assert fragment in run.err


# Zone files


def test_zone_syntax_error_names_line(audit: RunAudit, zones: ZoneFolder) -> None:
    path = zones.add("bad.example", "@ MX ten mail.bad.example.\n")
    run = audit("bad.example", "--zone", zones)
    assert_usage_error(run, f"{path}:5:", "cannot load zone file")
    assert run.out == ""


def test_zone_missing_path(audit: RunAudit, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.zone"
    run = audit("a.example", "--zone", missing)
    assert_usage_error(run, str(missing), "no such file or folder")


def test_zone_folder_without_zones(audit: RunAudit, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a zone", encoding="utf-8")
    run = audit("a.example", "--zone", tmp_path)
    assert_usage_error(run, "contains no *.zone file")


def test_zone_not_utf8(audit: RunAudit, tmp_path: Path) -> None:
    path = tmp_path / "binary.example.zone"
    path.write_bytes(b"\x00\xff\xfe binary")
    run = audit("binary.example", "--zone", path)
    assert_usage_error(run, str(path), "utf-8")


def test_zone_duplicate_origin(audit: RunAudit, tmp_path: Path) -> None:
    for name in ("one.zone", "two.zone"):
        (tmp_path / name).write_text(zone_text("dup.example", SPF), encoding="utf-8")
    run = audit("dup.example", "--zone", tmp_path)
    assert_usage_error(run, "already loaded")


def test_zone_include_rejected(audit: RunAudit, tmp_path: Path) -> None:
    path = tmp_path / "inc.example.zone"
    path.write_text("$INCLUDE /etc/hostname\n", encoding="utf-8")
    run = audit("inc.example", "--zone", path)
    assert_usage_error(run, "$INCLUDE")


def test_zone_string_too_long(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("long.example", f'@ TXT "v=spf1 {"a" * 300} -all"\n')
    run = audit("long.example", "--zone", zones)
    assert_usage_error(run, "string too long")


# Domain names


@pytest.mark.parametrize(
    "name",
    [
        "exa mple.example",
        "a..example",
        "ex@mple.example",
        "l" * 64 + ".example",
        ".".join(["label"] * 43) + ".example",
        "bü_cher.example",
        "   ",
    ],
)
def test_malformed_domain(audit: RunAudit, zones: ZoneFolder, name: str) -> None:
    zones.add("a.example", SPF)
    run = audit(name, "--zone", zones)
    assert_usage_error(run, "invalid domain name", "fix or remove")


def test_malformed_domain_in_file(
    audit: RunAudit, zones: ZoneFolder, tmp_path: Path
) -> None:
    zones.add("a.example", SPF)
    listing = tmp_path / "domains.txt"
    listing.write_text("a.example\nbad..example\n", encoding="utf-8")
    run = audit("--domains-file", listing, "--zone", zones)
    assert_usage_error(run, "'bad..example'")
    assert run.out == ""


def test_no_domain(audit: RunAudit) -> None:
    assert_usage_error(audit(), "no domain given")


# Domains file


def test_domains_file_missing(audit: RunAudit, tmp_path: Path) -> None:
    missing = tmp_path / "domains.txt"
    assert_usage_error(audit("--domains-file", missing), str(missing))


def test_domains_file_is_folder(audit: RunAudit, tmp_path: Path) -> None:
    assert_usage_error(audit("--domains-file", tmp_path), "cannot read domains file")


def test_domains_file_not_utf8(audit: RunAudit, tmp_path: Path) -> None:
    listing = tmp_path / "domains.txt"
    listing.write_bytes(b"\xff\xfe\x00a")
    assert_usage_error(audit("--domains-file", listing), "cannot read domains file")


def test_domains_file_empty(audit: RunAudit, zones: ZoneFolder, tmp_path: Path) -> None:
    zones.add("a.example", SPF)
    listing = tmp_path / "domains.txt"
    listing.write_text("# nothing yet\n\n", encoding="utf-8")
    run = audit("--domains-file", listing, "--zone", zones)
    assert_usage_error(run, "lists no domain")


# Options


@pytest.mark.parametrize(
    "option",
    [
        ["--ip", "bogus"],
        ["--ip", "192.0.2.300"],
        ["--ip", "192.0.2.0/24"],
    ],
)
def test_invalid_ip(audit: RunAudit, zones: ZoneFolder, option: list[str]) -> None:
    zones.add("a.example", SPF)
    run = audit("a.example", "--zone", zones, *option)
    assert_usage_error(run, "invalid --ip", repr(option[1]))


def test_zone_with_nameserver(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("a.example", SPF)
    run = audit("a.example", "--zone", zones, "--nameserver", "127.0.0.1")
    assert_usage_error(run, "cannot be combined")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("ns.example.net", "not a host name"),
        ("127.0.0.1:70000", "port must be 1 to 65535"),
        ("127.0.0.1:", "port must be 1 to 65535"),
        ("[::1", "missing ']'"),
    ],
)
def test_invalid_nameserver(audit: RunAudit, value: str, fragment: str) -> None:
    run = audit("a.example", "--nameserver", value)
    assert_usage_error(run, "invalid nameserver", fragment)


@pytest.mark.parametrize(
    ("option", "fragment"),
    [
        (["--timeout", "0"], "invalid timeout"),
        (["--timeout", "soon"], "--timeout"),
        (["--retries", "-1"], "invalid retries"),
        (["--concurrency", "0"], "invalid --concurrency"),
        (["--format", "xml"], "--format"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_invalid_option(audit: RunAudit, option: list[str], fragment: str) -> None:
    run = audit("a.example", "--nameserver", "127.0.0.1:9", *option)
    assert_usage_error(run, fragment)


# Output paths


def test_output_is_folder(audit: RunAudit, zones: ZoneFolder, tmp_path: Path) -> None:
    zones.add("a.example", SPF)
    run = audit("a.example", "--zone", zones, "--format", "json", "--output", tmp_path)
    assert_usage_error(run, f"cannot write --output {tmp_path}")


def test_output_under_file(audit: RunAudit, zones: ZoneFolder, tmp_path: Path) -> None:
    zones.add("a.example", SPF)
    blocker = tmp_path / "plain"
    blocker.write_text("", encoding="utf-8")
    run = audit("a.example", "--zone", zones, "--output", blocker / "report.txt")
    assert_usage_error(run, "cannot write --output")


# Hostile and oversized records


def hostile_zone(zones: ZoneFolder) -> None:
    zones.add(
        "evil.example",
        '@ TXT "v=spf1 include:<script>alert(1)</script>.evil.example '
        '\\027[2J\\027[31mRED\\013\\010 -all"\n'
        '_dmarc TXT "v=DMARC1; p=reject; '
        'rua=mailto:<img src=x onerror=alert(1)>@evil.example\\027]0;pwned\\007"\n',
    )


def test_text_neutralises_controls(audit: RunAudit, zones: ZoneFolder) -> None:
    hostile_zone(zones)
    run = audit("evil.example", "--zone", zones)
    assert run.status == 1
    assert "\x1b" not in run.out
    assert "\x07" not in run.out
    assert "\r" not in run.out
    assert "\\x1b[2J" in run.out


def test_json_keeps_record_text(audit: RunAudit, zones: ZoneFolder) -> None:
    hostile_zone(zones)
    data = audit("evil.example", "--zone", zones, "--format", "json").json()
    assert "\x1b]0;pwned\x07" in data["checks"]["dmarc"]["record"]


def test_html_escapes_record(audit: RunAudit, zones: ZoneFolder) -> None:
    hostile_zone(zones)
    run = audit("evil.example", "--zone", zones, "--format", "html")
    assert "<script>alert" not in run.out
    assert "<img src=x" not in run.out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in run.out
    assert "\x1b" not in run.out


def long_spf_zone(zones: ZoneFolder) -> str:
    """An SPF record of about 60 KB in 255-byte strings; return its text."""
    terms = " ".join(f"ip4:198.51.{i // 250}.{i % 250}" for i in range(3600))
    record = f"v=spf1 {terms} -all"
    zones.add(
        "huge.example",
        f"@ TXT {txt_strings(record, 255)}\n"
        f'_dmarc TXT "v=DMARC1; p=reject; " {txt_strings("x" * 4000, 250)}\n',
    )
    return record


def test_long_record_audited(audit: RunAudit, zones: ZoneFolder) -> None:
    record = long_spf_zone(zones)
    assert len(record) > 60_000
    run = audit("huge.example", "--zone", zones, "--format", "json")
    assert run.status == 1
    data = run.json()
    assert data["checks"]["spf"]["record"] == record
    assert "spf.record_too_long" in [f["code"] for f in data["findings"]]


def test_long_record_messages_short(audit: RunAudit, zones: ZoneFolder) -> None:
    long_spf_zone(zones)
    data = audit("huge.example", "--zone", zones, "--format", "json").json()
    longest = max(len(f["message"]) for f in data["findings"])
    assert longest < 1000


def test_long_record_ptr_capped(audit: RunAudit, zones: ZoneFolder) -> None:
    long_spf_zone(zones)
    data = audit("huge.example", "--zone", zones, "--format", "json").json()
    ptr = data["checks"]["ptr"]
    assert len(ptr["addresses"]) == 20
    assert ptr["spf_addresses_skipped"] == 3580
    assert "ptr.addresses_skipped" in [f["code"] for f in data["findings"]]


def test_long_record_given_ips_kept(audit: RunAudit, zones: ZoneFolder) -> None:
    long_spf_zone(zones)
    given = [f"203.0.113.{i}" for i in range(1, 31)]
    options = [arg for ip in given for arg in ("--ip", ip)]
    data = audit("huge.example", "--zone", zones, "--format", "json", *options).json()
    sources = [a["source"] for a in data["checks"]["ptr"]["addresses"]]
    assert sources.count("given") == 30
    assert sources.count("spf") == 20


def test_long_record_html(audit: RunAudit, zones: ZoneFolder, tmp_path: Path) -> None:
    long_spf_zone(zones)
    target = tmp_path / "huge.html"
    run = audit("huge.example", "--zone", zones, "--format", "html", "--output", target)
    assert run.status == 1
    assert "spf.record_too_long" in target.read_text(encoding="utf-8")


def test_long_record_jsonl(audit: RunAudit, zones: ZoneFolder) -> None:
    long_spf_zone(zones)
    run = audit("huge.example", "--zone", zones, "--format", "jsonl")
    assert len(run.out.splitlines()) == 1
    assert json.loads(run.out)["domain"] == "huge.example"


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("192.0.2.1", "an IP address is not a domain"),
        (
            "https://shop.example/news",
            "give its host name only, such as 'shop.example'",
        ),
        ("news@shop.example", "give the part after @, 'shop.example'"),
    ],
)
def test_domain_hint(audit: RunAudit, zones: ZoneFolder, name: str, hint: str) -> None:
    zones.add("shop.example", SPF)
    run = audit(name, "--zone", zones)
    assert_usage_error(run, hint)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--selector", "bad selector"),
        ("--selector", ""),
        ("--bimi-selector", "a b"),
        ("--bimi-selector", "brand..2024"),
    ],
)
def test_invalid_selector(
    audit: RunAudit, zones: ZoneFolder, option: str, value: str
) -> None:
    zones.add("a.example", SPF)
    run = audit("a.example", "--zone", zones, option, value)
    assert_usage_error(run, f"{value!r}", "selector")
    assert run.out == ""
