from __future__ import annotations

import dns.message
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deliverability.dns.convert import convert_rdata, name_text
from deliverability.dns.wire import TYPE_CODES, WireError, decode_reply, encode_query

RECORDS = [
    ("A", ["192.0.2.1", "198.51.100.7"]),
    ("AAAA", ["2001:db8::1", "::ffff:192.0.2.1", "2001:db8:0:0:1::1"]),
    ("TXT", ['"v=spf1 a" " -all"', '"\\000\\255 bytes \\" quoted"', '""']),
    ("MX", ["10 mail.example.com.", "0 ."]),
    ("PTR", ["Host-1.Example.NET."]),
    ("NS", ["ns1.example.com."]),
    (
        "TLSA",
        ["3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"],
    ),
    ("CAA", ['0 issue "ca.example"']),
]


def reply_for(rdtype: str, texts: list[str]) -> bytes:
    query = dns.message.make_query("q.example.com.", rdtype)
    response = dns.message.make_response(query)
    response.answer.append(
        dns.rrset.from_text_list("q.example.com.", 300, "IN", rdtype, texts)
    )
    return response.to_wire()


@pytest.mark.parametrize(("rdtype", "texts"), RECORDS)
def test_decode_matches_dnspython(rdtype: str, texts: list[str]) -> None:
    wire = reply_for(rdtype, texts)
    expected = convert_rdata(rdtype, dns.message.from_wire(wire).answer[0])
    decoded = decode_reply(wire)
    values = [value for _, code, value in decoded.answers]
    assert sorted(map(repr, values)) == sorted(map(repr, expected))


def test_decode_question_and_owner() -> None:
    decoded = decode_reply(reply_for("A", ["192.0.2.1"]))
    assert decoded.question == ("q.example.com", TYPE_CODES["A"])
    assert decoded.answers[0][0] == "q.example.com"


def test_decode_cname_chain_with_compression() -> None:
    query = dns.message.make_query("www.example.com.", "A")
    response = dns.message.make_response(query)
    response.answer.append(
        dns.rrset.from_text("www.example.com.", 300, "IN", "CNAME", "web.example.com.")
    )
    response.answer.append(
        dns.rrset.from_text("web.example.com.", 300, "IN", "A", "192.0.2.80")
    )
    answers = decode_reply(response.to_wire()).answers
    assert answers == [
        ("www.example.com", TYPE_CODES["CNAME"], "web.example.com"),
        ("web.example.com", TYPE_CODES["A"], "192.0.2.80"),
    ]


def test_odd_label_uses_dnspython_escaping() -> None:
    query = dns.message.make_query("q.example.com.", "PTR")
    response = dns.message.make_response(query)
    target = dns.name.Name([b"we ird.", b"example", b""])
    response.answer.append(
        dns.rrset.from_rdata_list(
            "q.example.com.",
            300,
            [dns.rdata.from_text("IN", "PTR", target.to_text())],
        )
    )
    answers = decode_reply(response.to_wire()).answers
    assert answers[0][2] == name_text(target)


def test_encode_query_parses() -> None:
    message = dns.message.from_wire(encode_query(4242, "example.com", "TXT"))
    assert message.id == 4242
    assert message.question[0].name.to_text() == "example.com."
    assert message.edns == 0


def test_rcode_and_truncation_read() -> None:
    query = dns.message.make_query("q.example.com.", "A")
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.NXDOMAIN)
    response.flags |= dns.flags.TC
    decoded = decode_reply(response.to_wire())
    assert decoded.rcode == 3
    assert decoded.truncated


def test_pointer_loop_rejected() -> None:
    header = bytes.fromhex("1234 8180 0001 0000 0000 0000")
    with pytest.raises(WireError):
        decode_reply(header + b"\xc0\x0c")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(data: bytes) -> None:
    try:
        decode_reply(data)
    except WireError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=40))
def test_truncated_replies_raise_wire_error(cut: bytes) -> None:
    wire = reply_for("TXT", ['"v=spf1 a" " -all"'])
    size = len(cut) % len(wire)
    try:
        decode_reply(wire[:size])
    except WireError:
        pass
