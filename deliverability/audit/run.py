"""The audit of whole domains: runs every check and derives the verdicts.

Checks that need no other check's result run at once; PTR waits for the SPF
record's addresses and the MX hosts, MTA-STS for the MX hosts, BIMI for the
DMARC policy. Bulk runs keep a bounded window of domains in flight, so memory
stays flat however long the domain list is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable

from ..dns.names import normalize_domain, to_unicode
from ..dns.resolver import Resolver, counting_queries
from .bimi import check_bimi
from .common import DNS_NXDOMAIN, lookup_failed
from .dkim import check_dkim
from .dmarc import check_dmarc
from .model import AuditOptions, CheckResult, DomainReport
from .mta_sts import check_mta_sts
from .mx import check_mx
from .providers import provider_verdicts
from .ptr import check_ptr
from .spf import check_spf
from .tlsrpt import check_tlsrpt

__all__ = ["audit", "audit_domain", "audit_domains", "audit_numbered"]

logger = logging.getLogger(__name__)

#: Order of the checks in reports.
CHECK_ORDER = ("spf", "dkim", "dmarc", "mx", "ptr", "mta-sts", "tls-rpt", "bimi")


async def audit_domain(
    domain: str,
    *,
    resolver: Resolver,
    options: AuditOptions | None = None,
) -> DomainReport:
    """Audit one domain and return its report.

    Raises :class:`~deliverability.errors.InvalidDomainError` for a malformed
    name. DNS failures do not raise: they make the report incomplete.
    """
    options = options or AuditOptions()
    name = normalize_domain(domain)
    with counting_queries() as counter:
        report = await _audit(name, resolver, options)
    report.queries = counter.queries
    logger.info(
        "audited %s: %d findings, %d DNS queries, complete=%s",
        name,
        len(report.findings),
        report.queries,
        report.complete,
    )
    return report


async def _audit(name: str, resolver: Resolver, options: AuditOptions) -> DomainReport:
    report = DomainReport(
        domain=name, display_name=to_unicode(name), source=resolver.describe()
    )
    apex = await resolver.resolve(name, "TXT")
    if apex.status.value == "nxdomain":
        report.checks["dns"] = CheckResult(
            "dns",
            [
                DNS_NXDOMAIN.finding(
                    f"The domain {report.display_name} does not exist (NXDOMAIN), so "
                    "mail from it fails SPF and DMARC everywhere.",
                    location=name,
                )
            ],
            {"exists": False},
        )
        return report
    spf, dkim, dmarc, mx, tlsrpt = await asyncio.gather(
        check_spf(name, resolver=resolver),
        check_dkim(
            name,
            resolver=resolver,
            selectors=options.selectors,
            common_selectors=options.common_selectors,
        ),
        check_dmarc(name, resolver=resolver),
        check_mx(name, resolver=resolver),
        check_tlsrpt(name, resolver=resolver),
    )
    mx_hosts = [host["exchange"] for host in mx.details.get("hosts", [])]
    ips = [(ip, "given") for ip in options.ips]
    ips += [
        (ip, "spf")
        for ip in spf.details.get("sending_ips", [])
        if ip not in options.ips
    ]
    fetch = (
        resolver.online
        if options.fetch_mta_sts_policy is None
        else (options.fetch_mta_sts_policy)
    )
    ptr, mta_sts, bimi = await asyncio.gather(
        check_ptr(name, resolver=resolver, ips=ips, mx_hosts=mx_hosts),
        check_mta_sts(name, resolver=resolver, fetch_policy=fetch, mx_hosts=mx_hosts),
        check_bimi(
            name, resolver=resolver, dmarc=dmarc, selector=options.bimi_selector
        ),
    )
    if apex.failed and not any(
        f.code == "dns.lookup_failed" and f.location == f"{apex.name} TXT"
        for f in spf.findings
    ):
        spf.findings.insert(0, lookup_failed(apex, "the domain's TXT records"))
        spf.complete = False
    for result in (spf, dkim, dmarc, mx, ptr, mta_sts, tlsrpt, bimi):
        report.checks[result.check] = result
    report.verdicts = provider_verdicts(report)
    return report


async def audit_domains(
    domains: Iterable[str],
    *,
    resolver: Resolver,
    options: AuditOptions | None = None,
    concurrency: int = 32,
    ordered: bool = False,
) -> AsyncIterator[DomainReport]:
    """Audit many domains, at most ``concurrency`` at a time.

    Yields each report as its domain finishes, or in input order when
    ``ordered`` is true. ``domains`` is consumed lazily, so a generator over
    a file of millions of names keeps memory flat.
    """
    finished: dict[int, DomainReport] = {}
    next_index = 0
    async for index, report in audit_numbered(
        enumerate(domains),
        resolver=resolver,
        options=options,
        concurrency=concurrency,
    ):
        if not ordered:
            yield report
            continue
        finished[index] = report
        while next_index in finished:
            yield finished.pop(next_index)
            next_index += 1


async def audit_numbered(
    items: Iterable[tuple[int, str]],
    *,
    resolver: Resolver,
    options: AuditOptions | None = None,
    concurrency: int = 32,
) -> AsyncIterator[tuple[int, DomainReport]]:
    """Audit ``(number, domain)`` pairs; yield ``(number, report)`` as each finishes."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    source = iter(items)
    running: dict[asyncio.Task[DomainReport], int] = {}

    def refill() -> None:
        while len(running) < concurrency:
            try:
                number, domain = next(source)
            except StopIteration:
                return
            task = asyncio.ensure_future(
                audit_domain(domain, resolver=resolver, options=options)
            )
            running[task] = number

    refill()
    try:
        while running:
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                yield running.pop(task), task.result()
            refill()
    finally:
        for task in running:
            task.cancel()


def audit(
    domain: str,
    *,
    resolver: Resolver,
    options: AuditOptions | None = None,
) -> DomainReport:
    """Audit one domain synchronously; see :func:`audit_domain`."""
    return asyncio.run(audit_domain(domain, resolver=resolver, options=options))
