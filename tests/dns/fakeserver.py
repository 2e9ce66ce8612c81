"""A tiny DNS server on loopback for resolver tests: canned replies per name.

It answers from zone text through dnspython, and can be told to stay silent,
to reply SERVFAIL or to set the TC bit for a name.
"""

from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import dns.zone


class FakeServer:
    def __init__(self, zone_text: str, origin: str) -> None:
        self.zone = dns.zone.from_text(zone_text, origin=origin, relativize=False,
                                       check_origin=False)
        self.silent: set[str] = set()
        self.servfail: set[str] = set()
        self.truncate: set[str] = set()
        self.queries = 0
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(8)
        self._stop = False
        self._threads = [
            threading.Thread(target=self._serve_udp, daemon=True),
            threading.Thread(target=self._serve_tcp, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def reply(self, wire: bytes, *, tcp: bool) -> bytes | None:
        query = dns.message.from_wire(wire)
        self.queries += 1
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True)
        if name in self.silent:
            return None
        response = dns.message.make_response(query)
        if name in self.servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        if name in self.truncate and not tcp:
            response.flags |= dns.flags.TC
            return response.to_wire()
        node = self.zone.get_node(question.name)
        if node is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response.to_wire()
        rdataset = node.get_rdataset(question.rdclass, question.rdtype)
        if rdataset is None:
            cname = node.get_rdataset(question.rdclass, dns.rdatatype.CNAME)
            if cname is not None:
                rdataset = cname
        if rdataset is not None:
            rrset = dns.rrset.RRset(question.name, rdataset.rdclass, rdataset.rdtype)
            rrset.update(rdataset)
            response.answer.append(rrset)
        return response.to_wire()

    def _serve_udp(self) -> None:
        while not self._stop:
            try:
                wire, peer = self.udp.recvfrom(65535)
            except OSError:
                return
            out = self.reply(wire, tcp=False)
            if out is not None:
                self.udp.sendto(out, peer)

    def _serve_tcp(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            with conn:
                size = int.from_bytes(conn.recv(2), "big")
                wire = b""
                while len(wire) < size:
                    chunk = conn.recv(size - len(wire))
                    if not chunk:
                        break
                    wire += chunk
                out = self.reply(wire, tcp=True)
                if out is not None:
                    conn.sendall(len(out).to_bytes(2, "big") + out)

    def close(self) -> None:
        self._stop = True
        self.udp.close()
        self.tcp.close()
