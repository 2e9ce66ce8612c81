"""A nameserver that times out or returns SERVFAIL never yields a passing audit.

Two loopback servers stand in for a broken nameserver: a UDP socket that
reads nothing (every query times out) and a small server that replies
SERVFAIL to every query. The audit must come back incomplete with a
``dns.lookup_failed`` finding, and the command line must exit with status 3.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import dns.exception
import dns.message
import dns.rcode
import pytest

from deliverability.audit import DomainReport, audit
from deliverability.cli import main
from deliverability.dns import LiveResolver

from .example import OPTIONS

DOMAIN = "x.example"


class SilentServer:
    """A bound UDP socket that never reads, so every query times out."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.address = ("127.0.0.1", int(self.socket.getsockname()[1]))
        self.queries = 0

    def close(self) -> None:
        """Close the socket."""
        self.socket.close()


class ServfailServer(SilentServer):
    """A UDP server that replies SERVFAIL to every query and counts the queries."""

    def __init__(self) -> None:
        super().__init__()
        self.socket.settimeout(0.05)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                data, peer = self.socket.recvfrom(4096)
                query = dns.message.from_wire(data)
            except (TimeoutError, dns.exception.DNSException):
                continue
            except OSError:
                return
            reply = dns.message.make_response(query)
            reply.set_rcode(dns.rcode.SERVFAIL)
            self.socket.sendto(reply.to_wire(), peer)
            self.queries += 1

    def close(self) -> None:
        """Stop the thread, then close the socket."""
        self._stopping.set()
        self._thread.join(timeout=2)
        super().close()


@pytest.fixture(scope="module", params=["timeout", "servfail"])
def broken_server(request: pytest.FixtureRequest) -> Iterator[SilentServer]:
    server = SilentServer() if request.param == "timeout" else ServfailServer()
    yield server
    server.close()


def run_audit(server: SilentServer) -> DomainReport:
    resolver = LiveResolver([server.address], timeout=0.2, retries=0)
    return audit(DOMAIN, resolver=resolver, options=OPTIONS)


@pytest.fixture(scope="module")
def broken_report(broken_server: SilentServer) -> DomainReport:
    return run_audit(broken_server)


def test_broken_server_incomplete(broken_report: DomainReport) -> None:
    assert broken_report.complete is False


def test_broken_server_lookup_failed(broken_report: DomainReport) -> None:
    codes = {finding.code for finding in broken_report.findings}
    assert "dns.lookup_failed" in codes


def test_broken_server_not_nxdomain(broken_report: DomainReport) -> None:
    codes = {finding.code for finding in broken_report.findings}
    assert "dns.nxdomain" not in codes


@pytest.mark.parametrize("check", ["spf", "dmarc", "mx"])
def test_broken_server_check_incomplete(
    broken_report: DomainReport, check: str
) -> None:
    assert broken_report.checks[check].complete is False


def test_servfail_server_was_asked() -> None:
    server = ServfailServer()
    try:
        run_audit(server)
    finally:
        server.close()
    assert server.queries > 0


def test_broken_server_cli_exit(broken_server: SilentServer, tmp_path: Path) -> None:
    address, port = broken_server.address
    output = tmp_path / "report.json"
    status = main([
        "audit", DOMAIN, "--nameserver", f"{address}:{port}",
        "--timeout", "0.2", "--retries", "0", "--no-progress",
        "--format", "json", "--output", str(output),
    ])
    assert status == 3


def test_broken_server_cli_report(broken_server: SilentServer, tmp_path: Path) -> None:
    address, port = broken_server.address
    output = tmp_path / "report.json"
    main([
        "audit", DOMAIN, "--nameserver", f"{address}:{port}",
        "--timeout", "0.2", "--retries", "0", "--no-progress",
        "--format", "json", "--output", str(output), "--fail-on", "never",
    ])
    report = json.loads(output.read_text(encoding="utf-8"))
    assert report["complete"] is False


def test_fail_on_never_still_exits_3(
    broken_server: SilentServer, tmp_path: Path
) -> None:
    address, port = broken_server.address
    status = main([
        "audit", DOMAIN, "--nameserver", f"{address}:{port}",
        "--timeout", "0.2", "--retries", "0", "--no-progress",
        "--format", "jsonl", "--output", str(tmp_path / "r.jsonl"),
        "--fail-on", "never",
    ])
    assert status == 3
