"""Tests of the DKIM check on zone data, with keys generated here."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from deliverability.audit import dkim, dkim_record
from deliverability.audit.dkim import COMMON_SELECTORS, check_dkim, normalize_selector
from deliverability.audit.model import CheckResult
from deliverability.dns import Answer, Status, ZoneResolver
from deliverability.errors import InputError
from deliverability.findings import Rule


@functools.cache
def rsa_p(bits: int) -> str:
    key = rsa.generate_private_key(65537, bits).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


@functools.cache
def ed_p() -> str:
    raw = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.b64encode(raw).decode("ascii")


def txt(owner: str, value: str) -> str:
    """A zone line with ``value`` split into strings of at most 255 bytes."""
    chunks = [value[i : i + 255] for i in range(0, len(value), 255)] or [""]
    return f"{owner} TXT " + " ".join(f'"{chunk}"' for chunk in chunks) + "\n"


class FailingResolver(ZoneResolver):
    """Zone data, except that lookups of the listed names fail."""

    def __init__(self, texts: dict[str, str], fail: Iterable[str] = ()) -> None:
        super().__init__(texts=texts)
        self.fail = set(fail)

    async def _query(self, qname: str, rdtype: str) -> Answer:
        if qname in self.fail:
            return Answer(qname, rdtype, Status.FAILED, error="timed out")
        return await super()._query(qname, rdtype)


def resolver(com: str, net: str = "", *, fail: Iterable[str] = ()) -> FailingResolver:
    """Zones example.com (``com``) and example.net (``net``)."""
    texts = {"example.com": "$ORIGIN example.com.\n$TTL 300\n@ A 192.0.2.1\n" + com}
    texts["example.net"] = "$ORIGIN example.net.\n$TTL 300\n@ A 192.0.2.2\n" + net
    return FailingResolver(texts, fail)


async def run(
    com: str,
    net: str = "",
    *,
    selectors: Sequence[str] = (),
    common: bool = True,
    fail: Iterable[str] = (),
) -> CheckResult:
    return await check_dkim(
        "example.com",
        resolver=resolver(com, net, fail=fail),
        selectors=selectors,
        common_selectors=common,
    )


def codes(result: CheckResult) -> list[str]:
    return sorted(f.code for f in result.findings)


def key(result: CheckResult, selector: str) -> dict[str, Any]:
    keys: list[dict[str, Any]] = result.details["keys"]
    matches = [k for k in keys if k["selector"] == selector]
    assert len(matches) == 1, result.details["keys"]
    return matches[0]


async def test_given_selector_2048() -> None:
    result = await run(
        txt("sel._domainkey", f"v=DKIM1; k=rsa; p={rsa_p(2048)}"),
        selectors=["sel"],
        common=False,
    )
    assert codes(result) == []
    found = key(result, "sel")
    assert found["status"] == "valid"
    assert found["bits"] == 2048
    assert found["key_type"] == "rsa"
    assert found["name"] == "sel._domainkey.example.com"
    assert found["testing"] is False
    assert found["cname_target"] is None
    assert found["hash_algorithms"] is None
    assert len(found["strings"]) == 2
    assert found["record"] == f"v=DKIM1; k=rsa; p={rsa_p(2048)}"
    assert result.details["selectors_probed"] == ["sel"]
    assert result.details["domainkey_node"] == "exists"
    assert result.complete
    json.dumps(result.to_dict())


async def test_common_selector_found() -> None:
    result = await run(txt("google._domainkey", f"v=DKIM1; p={rsa_p(2048)}"))
    assert codes(result) == []
    assert key(result, "google")["given"] is False
    assert result.details["selectors_probed"] == list(COMMON_SELECTORS)


async def test_given_selectors_first() -> None:
    result = await run(
        txt("s1._domainkey", f"p={rsa_p(2048)}"), selectors=["Custom", "s1"]
    )
    probed = result.details["selectors_probed"]
    assert probed[:2] == ["custom", "s1"]
    assert probed.count("s1") == 1
    assert len(probed) == len(COMMON_SELECTORS) + 1
    assert codes(result) == ["dkim.selector_not_found"]


def test_common_selector_list_size() -> None:
    assert 15 <= len(COMMON_SELECTORS) <= 25
    assert len(set(COMMON_SELECTORS)) == len(COMMON_SELECTORS)
    for selector in ("google", "selector1", "selector2", "k1", "s1", "default"):
        assert selector in COMMON_SELECTORS


async def test_domainkey_nxdomain_skips_guessing() -> None:
    zones = resolver("")
    result = await check_dkim("example.com", resolver=zones)
    assert result.details["domainkey_node"] == "nxdomain"
    assert result.details["selectors_probed"] == []
    assert zones.stats.queries == 1
    assert codes(result) == ["dkim.not_found"]
    message = result.findings[0].message
    assert "NXDOMAIN" in message
    assert "--selector" in message


async def test_domainkey_nxdomain_still_asks_given() -> None:
    result = await run("", selectors=["sel"])
    assert result.details["selectors_probed"] == ["sel"]
    assert codes(result) == ["dkim.not_found", "dkim.selector_not_found"]


async def test_no_key_at_common_selectors() -> None:
    result = await run(txt("other._domainkey", f"p={rsa_p(2048)}"))
    assert result.details["domainkey_node"] == "exists"
    assert codes(result) == ["dkim.not_found"]
    assert "--selector" in result.findings[0].message
    assert result.details["keys"] == []


async def test_no_probing_at_all() -> None:
    result = await run(txt("other._domainkey", f"p={rsa_p(2048)}"), common=False)
    assert codes(result) == ["dkim.not_found"]
    assert "no selector was given" in result.findings[0].message


async def test_rsa_1024_warns() -> None:
    result = await run(txt("k1._domainkey", f"k=rsa; p={rsa_p(1024)}"))
    assert codes(result) == ["dkim.rsa_short"]
    assert key(result, "k1")["bits"] == 1024
    assert key(result, "k1")["status"] == "valid"


async def test_testing_key() -> None:
    result = await run(txt("s1._domainkey", f"t=y; p={rsa_p(2048)}"))
    assert codes(result) == ["dkim.testing"]
    assert key(result, "s1")["testing"] is True


async def test_key_delegated_by_cname() -> None:
    com = "s1._domainkey CNAME s1.domainkey.u1.wl.example.net.\n"
    net = txt("s1.domainkey.u1.wl", f"p={rsa_p(2048)}")
    result = await run(com, net)
    assert codes(result) == []
    assert key(result, "s1")["cname_target"] == "s1.domainkey.u1.wl.example.net"


async def test_dangling_cname() -> None:
    com = "k2._domainkey CNAME dkim2.example.net.\n"
    result = await run(com)
    assert codes(result) == ["dkim.dangling_cname", "dkim.not_found"]
    assert "dkim2.example.net" in result.findings[0].message


async def test_key_split_over_strings() -> None:
    result = await run(txt("google._domainkey", f"v=DKIM1; k=rsa; p={rsa_p(3072)}"))
    found = key(result, "google")
    assert found["bits"] == 3072
    assert len(found["strings"]) == 3


async def test_several_records_at_selector() -> None:
    com = txt("s1._domainkey", f"p={rsa_p(2048)}") + txt("s1._domainkey", "p=")
    result = await run(com)
    assert codes(result) == ["dkim.multiple_records"]
    found = key(result, "s1")
    assert found["status"] == "invalid"
    assert len(found["records"]) == 2


async def test_only_revoked_key() -> None:
    result = await run(txt("default._domainkey", "v=DKIM1; p="))
    assert codes(result) == ["dkim.only_revoked", "dkim.revoked"]
    assert key(result, "default")["status"] == "revoked"


async def test_revoked_beside_valid_key() -> None:
    com = txt("s1._domainkey", "v=DKIM1; p=") + txt("s2._domainkey", f"p={rsa_p(2048)}")
    result = await run(com)
    assert codes(result) == ["dkim.revoked"]


async def test_ed25519_only() -> None:
    result = await run(txt("s1._domainkey", f"v=DKIM1; k=ed25519; p={ed_p()}"))
    assert codes(result) == ["dkim.ed25519_only"]
    assert key(result, "s1")["key_type"] == "ed25519"
    assert key(result, "s1")["bits"] is None


async def test_ed25519_beside_rsa() -> None:
    com = txt("s1._domainkey", f"k=ed25519; p={ed_p()}")
    com += txt("s2._domainkey", f"p={rsa_p(2048)}")
    result = await run(com)
    assert codes(result) == []


async def test_invalid_key_reported() -> None:
    result = await run(txt("mail._domainkey", "v=DKIM1; p=AAAA"))
    assert codes(result) == ["dkim.invalid_key"]
    assert key(result, "mail")["status"] == "invalid"
    assert result.findings[0].location == "mail._domainkey.example.com"


async def test_guessed_non_key_record_ignored() -> None:
    com = '* TXT "v=spf1 -all"\n'
    result = await run(com)
    assert result.details["keys"] == []
    assert codes(result) == ["dkim.not_found"]


async def test_given_non_key_record_reported() -> None:
    result = await run(txt("sel._domainkey", "hello world"), selectors=["sel"])
    assert codes(result) == ["dkim.missing_key", "dkim.syntax"]


async def test_given_selector_lookup_failed() -> None:
    result = await run(
        "", selectors=["sel"], fail=["sel._domainkey.example.com"], common=False
    )
    assert codes(result) == ["dns.lookup_failed"]
    assert not result.complete


async def test_common_lookups_failed_once() -> None:
    failing = [f"{s}._domainkey.example.com" for s in COMMON_SELECTORS]
    result = await run(txt("x._domainkey", "p="), fail=failing)
    assert codes(result) == ["dns.lookup_failed"]
    assert str(len(COMMON_SELECTORS)) in result.findings[0].message
    assert not result.complete


async def test_node_lookup_failed_still_guesses() -> None:
    result = await run(
        txt("google._domainkey", f"p={rsa_p(2048)}"),
        fail=["_domainkey.example.com"],
    )
    assert result.details["domainkey_node"] == "failed"
    assert codes(result) == ["dns.lookup_failed"]
    assert key(result, "google")["status"] == "valid"
    assert not result.complete


@pytest.mark.parametrize("bad", ["", "a b", "-x-", "a..b", "x" * 64])
def test_invalid_selector_rejected(bad: str) -> None:
    with pytest.raises(InputError, match="invalid DKIM selector"):
        normalize_selector(bad)


def test_selector_with_domainkey_rejected() -> None:
    with pytest.raises(InputError, match="not the name under _domainkey"):
        normalize_selector("s1._domainkey")


def test_selector_normalized() -> None:
    assert normalize_selector("Mail.Sub") == "mail.sub"


async def test_invalid_selector_raises_from_check() -> None:
    with pytest.raises(InputError):
        await run("", selectors=["bad selector"])


def test_every_code_tested() -> None:
    here = Path(__file__).parent
    sources = "".join(p.read_text("utf-8") for p in here.glob("test_dkim*.py"))
    for module in (dkim, dkim_record):
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, Rule):
                assert f'"{value.code}"' in sources, value.code
