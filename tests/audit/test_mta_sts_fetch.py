"""Tests of the MTA-STS policy fetch against a local HTTPS server.

The server listens on 127.0.0.1 only, with a self-signed certificate for
mta-sts.example.com. Zone data points that name at 127.0.0.1, and the fetcher
trusts the certificate through an ``ssl.SSLContext``.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from deliverability.audit.model import CheckResult
from deliverability.audit.mta_sts import PolicyFetcher, check_mta_sts
from deliverability.dns import Answer, Status, ZoneResolver

HOST = "mta-sts.example.com"
POLICY = (
    "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 604800\r\n"
)
ZONE = """$TTL 300
@ MX 10 mail
mail A 192.0.2.1
_mta-sts TXT "v=STSv1; id=20240101"
_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tls@example.com"
mta-sts A 127.0.0.1
"""


@dataclass(slots=True)
class Certificate:
    pem: bytes
    cert_path: Path
    key_path: Path


def make_certificate(folder: Path, host: str) -> Certificate:
    """Write a self-signed certificate for ``host`` and its key to ``folder``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path = folder / f"{host}.crt"
    key_path = folder / f"{host}.key"
    cert_path.write_bytes(pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(pem, cert_path, key_path)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Certificate]:
    folder = tmp_path_factory.mktemp("certs")
    return {
        host: make_certificate(folder, host) for host in (HOST, "mta-sts.other.example")
    }


@dataclass(slots=True)
class PolicyServer:
    """An HTTPS server on 127.0.0.1 that sends one configurable response."""

    port: int = 0
    status: str = "200 OK"
    headers: dict[str, str] = field(
        default_factory=lambda: {"Content-Type": "text/plain"}
    )
    body: bytes = POLICY.encode()
    stall: bool = False
    requests: list[bytes] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            self.requests.append(await reader.readuntil(b"\r\n\r\n"))
            if self.stall:
                await asyncio.sleep(60)
            head = [f"HTTP/1.1 {self.status}", f"Content-Length: {len(self.body)}"]
            head += [f"{k}: {v}" for k, v in self.headers.items()]
            head.append("Connection: close")
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + self.body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()
            self.tasks.discard(task)

    def client_context(self, certificate: Certificate) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=certificate.pem.decode())

    def fetcher(self, certificate: Certificate, timeout: float = 5.0) -> PolicyFetcher:
        return PolicyFetcher(
            verify=self.client_context(certificate),
            port=self.port,
            timeout=timeout,
            allow_private=True,
        )


async def start_server(certificate: Certificate) -> tuple[PolicyServer, asyncio.Server]:
    policy_server = PolicyServer()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert_path, certificate.key_path)

    def remember_name(sock: object, name: str | None, ctx: object) -> None:
        policy_server.server_names.append(name)

    context.sni_callback = remember_name
    server = await asyncio.start_server(
        policy_server.handle, "127.0.0.1", 0, ssl=context
    )
    policy_server.port = server.sockets[0].getsockname()[1]
    return policy_server, server


@pytest.fixture
async def server(
    certificates: dict[str, Certificate],
) -> AsyncIterator[PolicyServer]:
    policy_server, listener = await start_server(certificates[HOST])
    yield policy_server
    listener.close()
    for task in list(policy_server.tasks):
        task.cancel()
    await listener.wait_closed()


class FailingResolver(ZoneResolver):
    """Zone data, except that the listed (name, type) lookups fail."""

    def __init__(self, body: str, fail: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(texts={"example.com": body})
        self.fail = set(fail)

    async def _query(self, qname: str, rdtype: str) -> Answer:
        if (qname, rdtype) in self.fail:
            return Answer(qname, rdtype, Status.FAILED, error="timed out")
        return await super()._query(qname, rdtype)


async def run(
    fetcher: PolicyFetcher | None,
    *,
    zone: str = ZONE,
    mx_hosts: tuple[str, ...] = ("mail.example.com",),
    fail: Iterable[tuple[str, str]] = (),
) -> CheckResult:
    return await check_mta_sts(
        "example.com",
        resolver=FailingResolver(zone, fail),
        fetch_policy=True,
        mx_hosts=mx_hosts,
        fetcher=fetcher,
    )


def codes(result: CheckResult) -> list[str]:
    return [f.code for f in result.findings]


async def test_fetch_valid_policy(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    result = await run(server.fetcher(certificates[HOST]))
    assert codes(result) == []
    assert result.details["policy_checked"] is True
    assert result.details["policy_status"] == "fetched"
    assert result.details["policy"]["mode"] == "enforce"
    assert result.details["policy"]["mx"] == ["mail.example.com"]


async def test_fetch_sends_host_and_sni(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    await run(server.fetcher(certificates[HOST]))
    assert server.server_names == [HOST]
    request = server.requests[0].decode()
    assert request.startswith("GET /.well-known/mta-sts.txt HTTP/1.1\r\n")
    assert f"host: {HOST}:{server.port}\r\n" in request.lower()


async def test_fetch_mode_testing(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    server.body = POLICY.replace("enforce", "testing").encode()
    result = await run(
        server.fetcher(certificates[HOST]),
        mx_hosts=("mail.example.com", "backup.example.net"),
    )
    assert codes(result) == ["mta-sts.mode_testing", "mta-sts.mx_not_covered"]
    assert result.findings[0].severity == "warning"
    assert result.findings[1].severity == "warning"


async def test_fetch_mode_none(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    server.body = b"version: STSv1\nmode: none\nmax_age: 604800\n"
    result = await run(server.fetcher(certificates[HOST]))
    assert codes(result) == ["mta-sts.mode_none"]


async def test_fetch_max_age_short(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    server.body = POLICY.replace("604800", "86400").encode()
    result = await run(server.fetcher(certificates[HOST]))
    assert codes(result) == ["mta-sts.max_age_short"]
    assert result.details["policy"]["max_age"] == 86400


async def test_fetch_mx_not_covered(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    result = await run(
        server.fetcher(certificates[HOST]),
        mx_hosts=("mail.example.com", "backup.example.net"),
    )
    assert codes(result) == ["mta-sts.mx_not_covered"]
    assert result.findings[0].severity == "error"
    assert "backup.example.net" in result.findings[0].message


async def test_fetch_wildcard_covers(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    server.body = POLICY.replace("mail.example.com", "*.example.com").encode()
    result = await run(
        server.fetcher(certificates[HOST]), mx_hosts=("mx1.example.com",)
    )
    assert codes(result) == []


async def test_fetch_redirect(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    server.status = "301 Moved Permanently"
    server.headers["Location"] = "https://www.example.com/mta-sts.txt"
    result = await run(server.fetcher(certificates[HOST]))
    assert codes(result) == ["mta-sts.policy_http_status"]
    assert "www.example.com" in result.findings[0].message
    assert result.details["policy_status"] == "fetch failed"
    assert len(server.requests) == 1


async def test_fetch_not_found(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    server.status = "404 Not Found"
    result = await run(server.fetcher(certificates[HOST]))
    assert codes(result) == ["mta-sts.policy_http_status"]
    assert result.findings[0].evidence == "HTTP 404"


async def test_fetch_content_type(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    server.headers["Content-Type"] = "text/html; charset=utf-8"
    result = await run(server.fetcher(certificates[HOST]))
    assert codes(result) == ["mta-sts.policy_content_type"]


async def test_fetch_content_type_charset_ok(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    server.headers["Content-Type"] = "text/plain; charset=utf-8"
    result = await run(server.fetcher(certificates[HOST]))
    assert codes(result) == []


async def test_fetch_too_large(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    server.body = POLICY.encode() + b"x-pad: " + b"a" * 70_000 + b"\n"
    result = await run(server.fetcher(certificates[HOST]))
    assert codes(result) == ["mta-sts.policy_too_large"]


async def test_fetch_invalid_policy(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    server.body = b"version: STSv1\nmode: enforce\nmax_age: 604800\n"
    result = await run(server.fetcher(certificates[HOST]))
    assert codes(result) == ["mta-sts.policy_invalid"]
    assert result.details["policy_status"] == "invalid"
    assert result.details["policy"] is None


async def test_fetch_not_utf8(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    server.body = b"version: STSv1\nmode: \xff\n"
    result = await run(server.fetcher(certificates[HOST]))
    assert codes(result) == ["mta-sts.policy_invalid"]


async def test_fetch_duplicate_field(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    server.body = (POLICY + "max_age: 60\n").encode()
    result = await run(server.fetcher(certificates[HOST]))
    assert codes(result) == ["mta-sts.policy_duplicate_field"]
    assert result.details["policy"]["max_age"] == 604800


async def test_fetch_wrong_certificate_name(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    other = certificates["mta-sts.other.example"]
    result = await run(server.fetcher(other))
    assert codes(result) == ["mta-sts.policy_fetch_failed"]
    assert result.complete


async def test_fetch_untrusted_certificate(server: PolicyServer) -> None:
    fetcher = PolicyFetcher(port=server.port, timeout=5.0, allow_private=True)
    result = await run(fetcher)
    assert codes(result) == ["mta-sts.policy_fetch_failed"]
    assert "certificate" in result.findings[0].message.lower()


async def test_fetch_timeout(
    server: PolicyServer, certificates: dict[str, Certificate]
) -> None:
    server.stall = True
    result = await run(server.fetcher(certificates[HOST], timeout=0.5))
    assert codes(result) == ["mta-sts.policy_fetch_failed"]
    assert "timed out" in result.findings[0].message


async def test_fetch_private_address_refused(server: PolicyServer) -> None:
    result = await run(PolicyFetcher(port=server.port))
    assert codes(result) == ["mta-sts.policy_fetch_failed"]
    assert "not publicly routable" in result.findings[0].message
    assert server.requests == []


async def test_fetch_host_missing() -> None:
    zone = ZONE.replace("mta-sts A 127.0.0.1\n", "")
    result = await run(PolicyFetcher(allow_private=True), zone=zone)
    assert codes(result) == ["mta-sts.policy_host_missing"]
    assert result.details["policy_checked"] is False


async def test_fetch_host_lookup_failed() -> None:
    fail = [(HOST, "A"), (HOST, "AAAA")]
    result = await run(PolicyFetcher(allow_private=True), fail=fail)
    assert codes(result) == ["dns.lookup_failed", "dns.lookup_failed"]
    assert not result.complete
    assert result.details["policy_status"] == "not checked (lookup failed)"
