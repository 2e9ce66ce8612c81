"""The ``audit`` subcommand: audit sender domains' DNS and report what to fix."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any

from ..audit import AuditOptions, DomainReport, audit_domains
from ..audit.inputs import (
    check_domain_names,
    check_selector,
    parse_ips,
    read_domains_file,
)
from ..audit.parallel import audit_in_processes, default_workers
from ..dns.factory import make_resolver
from ..dns.resolver import Resolver
from ..errors import InputError
from ..findings import Finding
from ..report import (
    Progress,
    dumps_json,
    dumps_jsonl_line,
    render_html,
    render_summary_text,
    render_text,
    write_html_reports,
)
from .common import (
    EXIT_INCOMPLETE,
    add_output_options,
    exit_status_for,
    new_event_loop,
    open_output,
    run_async,
)

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``audit`` parser."""
    parser = subparsers.add_parser(
        "audit",
        help="audit sender domains: SPF, DKIM, DMARC, PTR, MX, MTA-STS, TLS-RPT, BIMI",
        description=(
            "Audit the DNS of sender domains and report each problem with its "
            "fix. Exit status: 0 no finding at or above --fail-on, 1 findings, "
            "2 usage or input error, 3 the audit could not complete."
        ),
    )
    parser.add_argument("domains", nargs="*", metavar="DOMAIN", help="domain to audit")
    parser.add_argument(
        "--domains-file",
        metavar="PATH",
        help="file with one domain a line (# starts a comment)",
    )
    parser.add_argument(
        "--zone",
        action="append",
        default=[],
        metavar="PATH",
        help="zone file, or folder of *.zone files; answers come from these files "
        "only and nothing is sent to the network (repeatable)",
    )
    parser.add_argument(
        "--nameserver",
        action="append",
        default=[],
        metavar="ADDR[:PORT]",
        help="ask this nameserver instead of the system's resolvers (repeatable)",
    )
    parser.add_argument(
        "--selector",
        action="append",
        default=[],
        metavar="NAME",
        help="DKIM selector to check besides the common ones (repeatable)",
    )
    parser.add_argument(
        "--no-common-selectors",
        action="store_true",
        help="check only the selectors given with --selector",
    )
    parser.add_argument(
        "--ip",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="sending IP address to check for forward-confirmed reverse DNS "
        "(repeatable)",
    )
    parser.add_argument(
        "--no-policy-fetch",
        action="store_true",
        help="query DNS only: do not fetch the MTA-STS policy over HTTPS "
        "(never fetched with --zone)",
    )
    parser.add_argument(
        "--bimi-selector",
        default="default",
        metavar="NAME",
        help="BIMI selector (default: default)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="seconds to wait for one DNS reply (default: 2)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=1,
        metavar="N",
        help="further tries after a DNS timeout or SERVFAIL (default: 1)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=32,
        metavar="N",
        help="domains audited at once (default: 32)",
    )
    parser.add_argument(
        "--workers",
        default="auto",
        metavar="N",
        help="processes that audit in parallel; auto uses one per core for "
        "long domain lists and one process below 200 domains (default: auto)",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="do not show progress on standard error",
    )
    add_output_options(parser)
    parser.set_defaults(handler=run_audit)


def _domain_source(args: argparse.Namespace) -> tuple[int, Iterator[str]]:
    """Validate every requested name, then return the count and a fresh iterator."""
    if not args.domains and not args.domains_file:
        raise InputError("no domain given: name one or more, or use --domains-file")

    def names() -> Iterator[str]:
        yield from args.domains
        if args.domains_file:
            yield from read_domains_file(args.domains_file)

    total = check_domain_names(names())
    if total == 0:
        raise InputError(f"the domains file {args.domains_file} lists no domain")
    return total, names()


def run_audit(args: argparse.Namespace) -> int:
    """Handle ``deliverability audit``; return the exit status."""
    if args.concurrency < 1:
        raise InputError(f"invalid --concurrency {args.concurrency}: give 1 or more")
    if args.output == "-":
        args.output = None  # "-" is standard output, for HTML too
    total, names = _domain_source(args)
    options = AuditOptions(
        selectors=tuple(args.selector),
        common_selectors=not args.no_common_selectors,
        ips=parse_ips(args.ip),
        bimi_selector=check_selector(args.bimi_selector, "--bimi-selector"),
        fetch_mta_sts_policy=False if args.no_policy_fetch else None,
    )
    resolver = make_resolver(
        zones=args.zone,
        nameservers=args.nameserver,
        timeout=args.timeout,
        retries=args.retries,
    )
    _check_html_target(args, total)
    workers = _worker_count(args.workers, total)
    ordered = args.format in ("json", "html", "text")
    if workers > 1:
        reports = audit_in_processes(
            names,
            make_resolver=lambda: resolver,
            options=options,
            workers=workers,
            concurrency=args.concurrency,
            ordered=ordered,
            run_loop=run_async,
        )
    else:
        reports = _drive(
            audit_domains(
                names,
                resolver=resolver,
                options=options,
                concurrency=args.concurrency,
                ordered=ordered,
            ),
            resolver,
        )
    progress = Progress(total=total, enabled=not args.no_progress and total > 1)
    return _write_reports(args, reports, progress=progress)


def _worker_count(value: str, total: int) -> int:
    if value == "auto":
        return default_workers(total)
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise InputError(f"invalid --workers {value!r}: give auto or 1 to 64")
    return min(int(value), total)


def _drive(
    stream: AsyncIterator[DomainReport], resolver: Resolver
) -> Iterator[DomainReport]:
    """Yield the reports of ``stream``, running its event loop between items."""
    loop = new_event_loop()
    try:
        while True:
            try:
                yield loop.run_until_complete(anext(stream))
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(stream.aclose())  # type: ignore[attr-defined]
        loop.run_until_complete(resolver.aclose())
        loop.close()


def _write_reports(
    args: argparse.Namespace,
    reports: Iterator[DomainReport],
    *,
    progress: Progress,
) -> int:
    tally = _Tally(args.fail_on)
    kept: list[DomainReport] = []
    try:
        with _output(args) as out:
            for report in reports:
                progress.update(report)
                tally.add(report)
                _emit(args, report, out, kept)
            _finish(args, out, kept)
    finally:
        progress.close()
    return tally.exit_status()


def _emit(
    args: argparse.Namespace,
    report: DomainReport,
    out: IO[str] | None,
    kept: list[DomainReport],
) -> None:
    if args.format == "jsonl" and out is not None:
        out.write(dumps_jsonl_line(report) + "\n")
        out.flush()
    elif args.format == "text" and out is not None:
        out.write(render_text(report, color=_wants_color(out)) + "\n")
        out.flush()
        kept.append(_summary_only(report))
    else:
        kept.append(report)


def _finish(
    args: argparse.Namespace, out: IO[str] | None, kept: list[DomainReport]
) -> None:
    if args.format == "json" and out is not None:
        out.write(dumps_json(kept) + "\n")
    elif args.format == "text" and out is not None and len(kept) > 1:
        out.write(render_summary_text(kept) + "\n")
    elif args.format == "html":
        _write_html(args, kept, out)


def _is_html_file(path: Path) -> bool:
    return path.suffix.lower() in (".html", ".htm")


def _check_html_target(args: argparse.Namespace, total: int) -> None:
    """Reject an HTML ``--output`` that cannot take the pages, before any lookup.

    One domain goes to standard output, to a ``.html`` file, or to a folder.
    Several domains need a folder for one page each and an index.
    """
    if args.format != "html":
        return
    if not args.output:
        if total > 1:
            raise InputError(
                "an HTML audit of several domains needs --output FOLDER for one "
                "page per domain and an index"
            )
        return
    target = Path(args.output)
    if total == 1 and _is_html_file(target):
        return
    if total > 1 and _is_html_file(target) and not target.is_dir():
        raise InputError(
            f"invalid --output {args.output}: {total} domains give one HTML page "
            "each and an index, so give a folder, not a .html file"
        )
    if target.exists() and not target.is_dir():
        raise InputError(
            f"invalid --output {args.output}: it is a file, but the HTML pages "
            "need a folder; give a new or existing folder"
        )


def _write_html(
    args: argparse.Namespace, reports: list[DomainReport], out: IO[str] | None
) -> None:
    target = Path(args.output) if args.output else None
    if target is None and out is not None:
        out.write(render_html(reports[0]))
        return
    assert target is not None
    try:
        if len(reports) == 1 and _is_html_file(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render_html(reports[0]), encoding="utf-8")
            return
        paths = write_html_reports(reports, target)
    except OSError as exc:
        raise InputError(
            f"cannot write the HTML report to {target}: {exc.strerror or exc}"
        ) from None
    print(f"wrote {len(paths)} HTML files to {target}", file=sys.stderr)


class _output:
    """Open ``--output`` for streaming formats; HTML writes its own files."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._args = args
        self._handle: IO[str] | None = None

    def __enter__(self) -> IO[str] | None:
        args = self._args
        if args.format == "html" and args.output:
            return None
        try:
            self._handle = open_output(args.output)
        except OSError as exc:
            raise InputError(
                f"cannot write --output {args.output}: {exc.strerror or exc}; "
                "give a file path in a writable folder"
            ) from None
        return self._handle

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None and self._handle is not sys.stdout:
            self._handle.close()


def _wants_color(out: IO[str]) -> bool:
    return out is sys.stdout and sys.stdout.isatty()


def _summary_only(report: DomainReport) -> DomainReport:
    """Keep what the bulk summary needs and drop the details, to save memory."""
    slim = DomainReport(
        domain=report.domain,
        display_name=report.display_name,
        queries=report.queries,
        source=report.source,
        error=report.error,
    )
    for name, result in report.checks.items():
        slim.checks[name] = type(result)(
            result.check, list(result.findings), {}, result.complete
        )
    return slim


class _Tally:
    """Exit status over a stream of reports without keeping them."""

    def __init__(self, fail_on: str) -> None:
        self.fail_on = fail_on
        self.incomplete = 0
        self.failing = 0

    def add(self, report: DomainReport) -> None:
        if not report.complete:
            self.incomplete += 1
        findings: list[Finding] = report.findings
        if exit_status_for(findings, self.fail_on):
            self.failing += 1

    def exit_status(self) -> int:
        if self.incomplete:
            return EXIT_INCOMPLETE
        return 1 if self.failing else 0
