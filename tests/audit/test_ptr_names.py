"""Table tests of the generic PTR name heuristic."""

from __future__ import annotations

import pytest

from deliverability.audit.ptr import generic_name_reason, is_generic_name

GENERIC = [
    # (name, address or None, word expected in the reason)
    ("c-73-15-2-1.hsd1.ma.comcast.net", "73.15.2.1", "73.15.2.1"),
    ("pool-71-1-2-3.nycmny.fios.verizon.net", None, "71-1-2-3"),
    ("ip-203-0-113-9.example.net", None, "203-0-113-9"),
    ("9.113.0.203.broadband.example.net", "203.0.113.9", "203.0.113.9"),
    ("host-113-0-203.example.org", "203.0.113.9", "203.0.113.9"),
    ("p5dd3a4b2.dip0.t-ipconnect.de", "93.211.164.178", "93.211.164.178"),
    ("cust203000113009.example.net", "203.0.113.9", "203.0.113.9"),
    ("ec2-54-1-2-3.compute-1.amazonaws.com", None, "Amazon"),
    ("ec2-3-8-1-2.eu-west-2.compute.amazonaws.com", None, "Amazon"),
    ("9.113.0.203.bc.googleusercontent.com", None, "Google"),
    ("static.9.113.0.203.clients.your-server.de", None, "Hetzner"),
    ("vmi123456.contaboserver.net", None, "Contabo"),
    ("li123-45.members.linode.com", None, "Linode"),
    ("dynamic-host.isp.example", None, "dynamic"),
    ("dyn.isp.example", None, "dyn"),
    ("dhcp-12.campus.example.edu", None, "dhcp"),
    ("pool12.isp.example", None, "pool"),
    ("ppp-7.isp.example", None, "ppp"),
    ("adsl-12.isp.example", None, "adsl"),
    ("dsl123.isp.example", None, "dsl"),
    ("cable-77.isp.example", None, "cable"),
    ("client-9.isp.example", None, "client"),
    ("static-ip-12.isp.example", None, "static ip"),
    ("broadband12.isp.example", None, "broadband"),
    ("mx.2001-db8--5.example.net", "2001:db8::5", "2001:db8::5"),
    ("node-20010db8000000000000000000000005.example.net", "2001:db8::5", "2001"),
]

SPECIFIC = [
    ("mail.example.com", "192.0.2.1"),
    ("mx1.example.com", None),
    ("smtp-out.example.com", "198.51.100.4"),
    ("o1.ptr1234.sendgrid.net", "192.0.2.3"),
    ("mail-yw1-f171.google.com", "209.85.128.171"),
    ("a8-12.smtp-out.amazonses.com", "54.240.8.12"),
    ("mta-10-1.example.net", "192.0.2.200"),
    ("mail.cable.co.uk", None),
    ("mail.dynamics-consulting.example", None),
    ("carpool.example", None),
    ("mailclient.example.com", None),
    ("newsletter.pool.example", None),
    ("outbound.mailer.example.com", "10.1.2.3"),
    ("mail.256-1-2-3.example", None),
    ("relay2001.example.com", "2001:db8::5"),
]


@pytest.mark.parametrize(("name", "address", "expected"), GENERIC)
def test_generic_names(name: str, address: str | None, expected: str) -> None:
    reason = generic_name_reason(name, address)
    assert reason is not None
    assert expected in reason


@pytest.mark.parametrize(("name", "address"), SPECIFIC)
def test_specific_names(name: str, address: str | None) -> None:
    assert generic_name_reason(name, address) is None


def test_generic_trailing_dot() -> None:
    assert is_generic_name("pool-1-2-3-4.isp.example.")


def test_generic_upper_case() -> None:
    assert is_generic_name("DSL-9.ISP.EXAMPLE")


def test_generic_invalid_address_ignored() -> None:
    assert not is_generic_name("mail.example.com", "not-an-ip")
