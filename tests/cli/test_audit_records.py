"""Record cases every auditor must get right, checked through the command line."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import DKIMKey, RunAudit, ZoneFolder, txt_strings


@pytest.fixture
def audit_json(audit: RunAudit, zones: ZoneFolder) -> Any:
    """Write ``records`` as the zone of case.example and return the JSON audit."""

    def run(records: str, *options: str) -> dict[str, Any]:
        zones.add("case.example", records)
        result = audit("case.example", "--zone", zones, "--format", "json", *options)
        assert result.status in (0, 1), result.err
        data: dict[str, Any] = result.json()
        return data

    return run


def findings(data: dict[str, Any], check: str) -> dict[str, str]:
    """Return code to severity for the findings of one check."""
    return {f["code"]: f["severity"] for f in data["findings"] if f["check"] == check}


def message(data: dict[str, Any], code: str) -> str:
    matches = [f["message"] for f in data["findings"] if f["code"] == code]
    assert matches, f"no {code} finding"
    return str(matches[0])


def test_missing_space_before_all(audit_json: Any) -> None:
    data = audit_json('@ TXT "v=spf1 ip4:192.0.2.1~all"\n')
    assert findings(data, "spf").get("spf.syntax") == "error"


def test_include_with_equals(audit_json: Any) -> None:
    data = audit_json('@ TXT "v=spf1 include=example.org -all"\n')
    spf = findings(data, "spf")
    assert "spf.mistyped_mechanism" in spf
    assert "spf.syntax" not in spf
    assert "'include:example.org'" in message(data, "spf.mistyped_mechanism")


def test_leading_space_not_spf(audit_json: Any) -> None:
    data = audit_json('@ TXT " v=spf1 -all"\n')
    assert data["checks"]["spf"]["record"] is None
    assert findings(data, "spf").get("spf.missing") == "error"


def test_exists_without_domain(audit_json: Any) -> None:
    data = audit_json('@ TXT "v=spf1 exists -all"\n')
    assert findings(data, "spf").get("spf.syntax") == "error"


def test_two_redirects(audit_json: Any) -> None:
    data = audit_json(
        '@ TXT "v=spf1 redirect=a.case.example redirect=b.case.example"\n'
        'a TXT "v=spf1 a -all"\n'
    )
    assert findings(data, "spf").get("spf.syntax") == "error"


def test_invalid_record_costs_no_lookup(audit_json: Any) -> None:
    # Receivers return permerror before evaluating any term of an invalid record.
    data = audit_json(
        '@ TXT "v=spf1 a mx redirect=a.case.example redirect=b.case.example"\n'
        'a TXT "v=spf1 a -all"\n'
    )
    assert data["checks"]["spf"]["dns_lookups"] == 0
    assert data["checks"]["spf"]["void_lookups"] == 0


def test_void_a_mx_at_empty_name(audit: RunAudit, zones: ZoneFolder) -> None:
    zones.add("case.example", 'empty TXT "v=spf1 a mx -all"\n')
    data = audit("empty.case.example", "--zone", zones, "--format", "json").json()
    assert data["checks"]["spf"]["dns_lookups"] == 2
    assert data["checks"]["spf"]["void_lookups"] == 2
    assert "error" not in findings(data, "spf").values()


def test_cname_include_counted(audit_json: Any) -> None:
    data = audit_json(
        '@ TXT "v=spf1 include:a.case.example include:b.case.example -all"\n'
        'a TXT "v=spf1 a -all"\n'
        "b CNAME a.case.example.\n"
    )
    assert data["checks"]["spf"]["dns_lookups"] == 4


def test_txt_strings_join(audit_json: Any) -> None:
    data = audit_json('@ TXT "v=spf1 ip4:198.51.100.1" "0 -all"\n')
    assert data["checks"]["spf"]["record"] == "v=spf1 ip4:198.51.100.10 -all"
    assert data["checks"]["spf"]["sending_ips"] == ["198.51.100.10"]


def test_dmarc_invalid_sp(audit_json: Any) -> None:
    data = audit_json('_dmarc TXT "v=DMARC1; p=reject; sp=bogus"\n')
    assert findings(data, "dmarc").get("dmarc.invalid_tag_value") == "error"
    assert "sp tag" in message(data, "dmarc.invalid_tag_value")


def test_dmarc_invalid_sp_names_tag(audit_json: Any) -> None:
    data = audit_json('_dmarc TXT "v=DMARC1; p=reject; sp=bogus"\n')
    assert message(data, "dmarc.no_policy").startswith("The sp tag is invalid")


def test_dkim_bare_rsa_key(audit_json: Any, dkim_key: DKIMKey) -> None:
    data = audit_json(
        f'sel._domainkey TXT "v=DKIM1; k=rsa; p=" {txt_strings(dkim_key.pkcs1)}\n',
        "--selector",
        "sel",
    )
    dkim = findings(data, "dkim")
    assert dkim.get("dkim.pkcs1_key") == "warning"
    assert "error" not in dkim.values()


def test_dkim_key_read(audit_json: Any, dkim_key: DKIMKey) -> None:
    data = audit_json(
        f'sel._domainkey TXT "v=DKIM1; k=rsa; p=" {txt_strings(dkim_key.pkcs1)}\n',
        "--selector",
        "sel",
    )
    keys = data["checks"]["dkim"]["keys"]
    assert [key["selector"] for key in keys] == ["sel"]
    assert keys[0]["bits"] == 2048


def test_ptr_severity_by_source(audit_json: Any) -> None:
    data = audit_json(
        '@ TXT "v=spf1 ip4:198.51.100.1 -all"\n'
        "@ MX 10 mail.case.example.\n"
        "mail A 198.51.100.25\n"
    )
    missing = {
        f["location"]: f["severity"]
        for f in data["findings"]
        if f["code"] == "ptr.missing"
    }
    assert missing == {
        "1.100.51.198.in-addr.arpa PTR": "error",
        "25.100.51.198.in-addr.arpa PTR": "warning",
    }


def test_ptr_missing_names_reverse(audit_json: Any) -> None:
    data = audit_json('@ TXT "v=spf1 ip4:198.51.100.1 -all"\n')
    text = message(data, "ptr.missing")
    assert "1.100.51.198.in-addr.arpa does not exist: NXDOMAIN" in text
