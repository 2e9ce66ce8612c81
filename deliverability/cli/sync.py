"""The ``sync`` subcommands: CRM to campaign manager and back, reviews, re-permission.

Every subcommand takes ``--store URL`` (default: the
``DELIVERABILITY_CONSENT_STORE`` environment variable, else a SQLite file
``consent.sqlite3`` in the current folder) and ``--config PATH``, the TOML or
JSON file with the CRM's column mapping (see docs/sync.md).

:func:`add_review_commands` adds ``review list|show|resolve`` to the
``consent`` command group.

Exit status of ``pull``, ``push`` and ``run``: 1 when rows were invalid
(``--fail-on error``, the default) or also when reviews were queued
(``--fail-on warning``); 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..consent import (
    DEFAULT_URL,
    ConsentConfig,
    ConsentStore,
    DoubleOptIn,
    OutboxMailer,
)
from ..errors import InputError
from ..sync import (
    CrmSync,
    CsvSink,
    CsvSource,
    JsonlSink,
    JsonlSource,
    Repermission,
    ReviewQueue,
    SyncConfig,
    SyncReport,
    load_config,
)
from .common import EXIT_FINDINGS, EXIT_OK, add_output_options, open_output

__all__ = ["add_review_commands", "register"]

_STORE_ENV = "DELIVERABILITY_CONSENT_STORE"


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``sync`` command group to ``subparsers``."""
    parser = subparsers.add_parser(
        "sync",
        help="sync opt-in status with a CRM; review queue; re-permission",
        description="Keep the CRM and the campaign manager agreeing on consent.",
    )
    commands = parser.add_subparsers(dest="sync_command", metavar="SUBCOMMAND")
    commands.required = True
    _add_pull(commands)
    _add_push(commands)
    _add_run(commands)
    _add_repermission(commands)


def _command(
    commands: argparse._SubParsersAction[Any], name: str, help_text: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help_text, description=help_text
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        default=os.environ.get(_STORE_ENV, DEFAULT_URL),
        help=f"SQLAlchemy URL of the store (default: ${_STORE_ENV} or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="TOML or JSON file with the CRM column mapping (default: built-in "
        "mapping, columns named like the fields)",
    )
    add_output_options(parser, formats=("text", "json"))
    return parser


def _open(args: argparse.Namespace) -> tuple[ConsentStore, SyncConfig]:
    config = load_config(args.config) if args.config else SyncConfig()
    store = ConsentStore(args.store)
    store.migrate()
    return store, config


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.format == "json":
        text = json.dumps(data, indent=2, ensure_ascii=False)
    out = open_output(args.output)
    try:
        out.write(text + "\n")
    finally:
        if out is not sys.stdout:
            out.close()


def _report_text(report: SyncReport) -> str:
    data = report.to_dict()
    lines = [f"{report.direction}:"]
    for key in (
        "read",
        "unchanged",
        "created",
        "linked",
        "changed",
        "invalid",
        "reviews",
        "updates",
    ):
        lines.append(f"  {key}: {data[key]}")
    lines += [f"  {name}: {count}" for name, count in data["decisions"].items()]
    lines += [f"  problem: {p}" for p in data["problems"]]
    return "\n".join(lines)


def _status(args: argparse.Namespace, reports: list[SyncReport]) -> int:
    if args.fail_on == "never":
        return EXIT_OK
    if any(r.invalid for r in reports):
        return EXIT_FINDINGS
    if args.fail_on == "warning" and any(r.reviews for r in reports):
        return EXIT_FINDINGS
    return EXIT_OK


# -- pull, push, run ---------------------------------------------------------


def _add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--crm", metavar="FILE", required=True, help="the CRM export, CSV or JSON Lines"
    )
    parser.add_argument(
        "--crm-format",
        choices=["csv", "jsonl"],
        help="format of --crm (default: from the file name)",
    )
    parser.add_argument(
        "--outbox",
        metavar="DIR",
        help="folder for the confirmation mails to changed addresses that had "
        "a double opt-in (needs reconfirm_version in the configuration); "
        "without it, such addresses stay at none",
    )
    parser.add_argument(
        "--base-url",
        default=ConsentConfig().base_url,
        help="URL the confirm and unsubscribe links point to",
    )


def _add_sink(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--updates",
        metavar="FILE",
        required=True,
        help="file the updates for the CRM are appended to, CSV or JSON Lines",
    )
    parser.add_argument(
        "--updates-format",
        choices=["csv", "jsonl"],
        help="format of --updates (default: from the file name)",
    )


def _format_of(path: str, given: str | None) -> str:
    if given:
        return given
    return "jsonl" if Path(path).suffix.lower() in (".jsonl", ".ndjson") else "csv"


def _source(args: argparse.Namespace, config: SyncConfig) -> CsvSource | JsonlSource:
    if _format_of(args.crm, args.crm_format) == "jsonl":
        return JsonlSource(args.crm, config)
    return CsvSource(args.crm, config)


def _sink(args: argparse.Namespace, config: SyncConfig) -> CsvSink | JsonlSink:
    if _format_of(args.updates, args.updates_format) == "jsonl":
        return JsonlSink(args.updates)
    return CsvSink(args.updates, config)


def _add_pull(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(commands, "pull", "bring CRM contacts into the consent store")
    _add_source(parser)
    parser.set_defaults(handler=_pull)


def _flow(args: argparse.Namespace, store: ConsentStore) -> DoubleOptIn | None:
    if not args.outbox:
        return None
    config = ConsentConfig(base_url=args.base_url.rstrip("/"))
    return DoubleOptIn(store, OutboxMailer(args.outbox), config=config)


def _pull(args: argparse.Namespace) -> int:
    store, config = _open(args)
    try:
        sync = CrmSync(store, config, flow=_flow(args, store))
        report = sync.pull(_source(args, config))
    finally:
        store.close()
    _emit(args, report.to_dict(), _report_text(report))
    return _status(args, [report])


def _add_push(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(
        commands,
        "push",
        "send confirmations, unsubscribes, bounces and complaints to the CRM",
    )
    _add_sink(parser)
    parser.set_defaults(handler=_push)


def _push(args: argparse.Namespace) -> int:
    store, config = _open(args)
    try:
        report = CrmSync(store, config).push(_sink(args, config))
    finally:
        store.close()
    _emit(args, report.to_dict(), _report_text(report))
    return _status(args, [report])


def _add_run(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(commands, "run", "pull, then push")
    _add_source(parser)
    _add_sink(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    store, config = _open(args)
    try:
        sync = CrmSync(store, config, flow=_flow(args, store))
        pulled = sync.pull(_source(args, config))
        pushed = sync.push(_sink(args, config))
    finally:
        store.close()
    text = _report_text(pulled) + "\n" + _report_text(pushed)
    _emit(args, {"pull": pulled.to_dict(), "push": pushed.to_dict()}, text)
    return _status(args, [pulled, pushed])


# -- review ------------------------------------------------------------------


def add_review_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``review list|show|resolve`` to a command group's ``commands``.

    The ``consent`` command group calls it: ``deliverability consent review``.
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        "review",
        help="the review queue of ambiguous matches and conflicts",
        description="List, show and resolve what the sync rules could not decide.",
    )
    actions = parser.add_subparsers(dest="review_command", metavar="ACTION")
    actions.required = True
    listing = _command(actions, "list", "list reviews")
    listing.add_argument(
        "--status",
        choices=["open", "resolved", "all"],
        default="open",
        help="which reviews (default: open)",
    )
    listing.set_defaults(handler=_review_list)
    show = _command(actions, "show", "show one review with its choices")
    show.add_argument("id", type=int, metavar="ID")
    show.set_defaults(handler=_review_show)
    resolve = _command(actions, "resolve", "resolve a review with a choice")
    resolve.add_argument("id", type=int, metavar="ID")
    resolve.add_argument(
        "choice",
        metavar="CHOICE",
        help="a CRM id or 'new' for a match; 'keep' or 'apply' for a conflict",
    )
    resolve.add_argument(
        "--actor", required=True, help="the name of the person who chose (logged)"
    )
    resolve.set_defaults(handler=_review_resolve)


def _queue(args: argparse.Namespace) -> tuple[ConsentStore, ReviewQueue]:
    store, config = _open(args)
    return store, ReviewQueue(store, config)


def _review_list(args: argparse.Namespace) -> int:
    store, queue = _queue(args)
    try:
        reviews = queue.list(None if args.status == "all" else args.status)
    finally:
        store.close()
    lines = [
        f"{r.id}\t{r.kind}\t{r.status}\t{r.reason}\tcontact {r.contact_id}\t"
        f"CRM {r.crm_id or '-'}\t{r.field or '-'}"
        for r in reviews
    ]
    _emit(args, [r.to_dict() for r in reviews], "\n".join(lines) or "no reviews")
    return EXIT_OK


def _review_show(args: argparse.Namespace) -> int:
    store, queue = _queue(args)
    try:
        review = queue.show(args.id)
    finally:
        store.close()
    data = review.to_dict()
    _emit(args, data, json.dumps(data, indent=2, ensure_ascii=False))
    return EXIT_OK


def _review_resolve(args: argparse.Namespace) -> int:
    store, queue = _queue(args)
    try:
        review = queue.resolve(args.id, args.choice, actor=args.actor)
    finally:
        store.close()
    _emit(args, review.to_dict(), f"review {review.id} resolved: {review.resolution}")
    return EXIT_OK


# -- repermission ------------------------------------------------------------


def _add_repermission(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(
        commands,
        "repermission",
        "send the confirmation mail to documented single opt-ins",
    )
    parser.add_argument("--purpose", required=True, help="the purpose to confirm")
    parser.add_argument(
        "--consent-version",
        required=True,
        help="version of the stored consent text of the sign-up",
    )
    parser.add_argument(
        "--campaign", required=True, help="a name for this mailing, kept in the log"
    )
    parser.add_argument(
        "--actor", required=True, help="the name of the person who starts it (logged)"
    )
    parser.add_argument(
        "--outbox",
        metavar="DIR",
        default="outbox",
        help="folder the mails are written to (default: outbox)",
    )
    parser.add_argument(
        "--base-url",
        default=ConsentConfig().base_url,
        help="URL the confirm and unsubscribe links point to",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="count who would be asked; send nothing"
    )
    parser.set_defaults(handler=_repermission)


def _repermission(args: argparse.Namespace) -> int:
    store, config = _open(args)
    try:
        flow = DoubleOptIn(
            store,
            OutboxMailer(args.outbox),
            config=ConsentConfig(base_url=args.base_url.rstrip("/")),
        )
        repermission = Repermission(flow, config)
        if args.dry_run:
            data: dict[str, Any] = {
                "purpose": args.purpose,
                "eligible": len(repermission.eligible(args.purpose)),
                "sent": 0,
            }
        else:
            data = repermission.send(
                args.purpose,
                args.consent_version,
                campaign=args.campaign,
                actor=args.actor,
            ).to_dict()
    except ValueError as exc:
        raise InputError(str(exc)) from None
    finally:
        store.close()
    _emit(args, data, f"eligible: {data['eligible']}, sent: {data['sent']}")
    return EXIT_OK
