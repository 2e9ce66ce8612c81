"""The ``consent`` subcommands: the store, the double opt-in flow and the gate.

Every subcommand takes ``--store URL`` (default: the ``DELIVERABILITY_CONSENT_STORE``
environment variable, else a SQLite file ``consent.sqlite3`` in the current
folder) and brings the store's tables up to date before it starts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..consent import (
    DEFAULT_URL,
    ConsentConfig,
    ConsentStore,
    DoubleOptIn,
    GatePolicy,
    OutboxMailer,
    RequestContext,
    SuppressionReason,
    create_app,
    export_contact,
    render_html,
    run_gate,
    unconfirmed_doi,
)
from ..consent.errors import AddressError
from ..consent.model import IllegalTransition
from ..consent.web import serve
from ..dns import LiveResolver, Resolver, ZoneResolver, parse_nameserver
from ..errors import InputError
from .common import EXIT_OK, add_output_options, exit_status_for, open_output
from .sync import add_review_commands

__all__ = ["register"]

_STORE_ENV = "DELIVERABILITY_CONSENT_STORE"
_DEFAULTS = ConsentConfig()


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``consent`` command group to ``subparsers``."""
    parser = subparsers.add_parser(
        "consent",
        help="consent store, double opt-in and the target-group gate",
        description="Record double opt-in with evidence and gate target groups.",
    )
    commands = parser.add_subparsers(dest="consent_command", metavar="SUBCOMMAND")
    commands.required = True
    for add in (
        _add_init,
        _add_text,
        _add_signup,
        _add_confirm,
        _add_unsubscribe,
        _add_import,
        _add_soi,
        _add_suppress,
        _add_gate,
        _add_export,
        _add_verify,
        _add_purge,
        _add_serve,
        add_review_commands,
    ):
        add(commands)


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
    return parser


def _open(args: argparse.Namespace) -> ConsentStore:
    store = ConsentStore(args.store)
    store.migrate()
    return store


def _add_flow_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url",
        default=_DEFAULTS.base_url,
        help="URL the confirm and unsubscribe links point to",
    )
    parser.add_argument(
        "--outbox",
        metavar="DIR",
        default="outbox",
        help="folder the confirmation mails are written to as .eml files "
        "(default: outbox)",
    )
    parser.add_argument(
        "--sender",
        default=_DEFAULTS.sender,
        help="From address of the confirmation mail",
    )


def _flow(
    args: argparse.Namespace, store: ConsentStore, resolver: Resolver | None = None
) -> DoubleOptIn:
    config = ConsentConfig(base_url=args.base_url.rstrip("/"), sender=args.sender)
    return DoubleOptIn(
        store, OutboxMailer(args.outbox), config=config, resolver=resolver
    )


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


# -- init, add-text -------------------------------------------------------


def _add_init(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(commands, "init", "create the store or upgrade its tables")
    parser.set_defaults(handler=_init)


def _init(args: argparse.Namespace) -> int:
    _open(args).close()
    return EXIT_OK


def _add_text(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(commands, "add-text", "store the consent text of a sign-up form")
    parser.add_argument("file", metavar="FILE", help="the consent text, UTF-8")
    parser.add_argument("--purpose", required=True, help="the list or kind of mail")
    parser.add_argument(
        "--version",
        required=True,
        dest="text_version",
        help="version label of this wording, e.g. 2026-01",
    )
    parser.set_defaults(handler=_add_text_run)


def _add_text_run(args: argparse.Namespace) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read consent text {args.file}: {exc}") from None
    store = _open(args)
    digest = _guard(
        lambda: store.add_consent_text(args.purpose, args.text_version, text)
    )
    _print_json(
        {"purpose": args.purpose, "version": args.text_version, "sha256": digest}
    )
    return EXIT_OK


def _guard(action: Any) -> Any:
    try:
        return action()
    except ValueError as exc:
        raise InputError(str(exc)) from None


# -- sign-up, confirm, unsubscribe ----------------------------------------


def _add_signup(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(
        commands, "signup", "record a sign-up and write its confirmation mail"
    )
    parser.add_argument("address", help="the address to sign up")
    parser.add_argument("--purpose", required=True)
    parser.add_argument(
        "--consent-version",
        required=True,
        help="version of the consent text the person saw",
    )
    parser.add_argument("--ip", help="IP address the request came from")
    parser.add_argument("--user-agent", help="user agent of the request")
    parser.add_argument("--form", help="URL or name of the sign-up form")

    # Deliverability of the address's domain: zone files, a nameserver or
    # the system's resolvers; without any of them only the syntax is checked.
    parser.add_argument(
        "--zone",
        action="append",
        default=[],
        metavar="PATH",
        help="check the address's domain against these zone files",
    )
    parser.add_argument(
        "--nameserver",
        action="append",
        default=[],
        metavar="ADDR[:PORT]",
        help="check the address's domain with this nameserver",
    )
    parser.add_argument(
        "--check-dns",
        action="store_true",
        help="check the address's domain with the system's resolvers",
    )

    _add_flow_options(parser)
    parser.set_defaults(handler=_signup)


def _resolver(args: argparse.Namespace) -> Resolver | None:
    if args.zone:
        return ZoneResolver(args.zone)
    if args.nameserver:
        return LiveResolver([parse_nameserver(n) for n in args.nameserver])
    if args.check_dns:
        return LiveResolver()
    return None


def _signup(args: argparse.Namespace) -> int:
    store = _open(args)
    flow = _flow(args, store, _resolver(args))
    context = RequestContext(args.ip, args.user_agent, args.form)
    result = _guard(
        lambda: asyncio.run(
            flow.sign_up(args.address, args.purpose, args.consent_version, context)
        )
    )
    _print_json(
        {
            "contact_id": result.contact_id,
            "status": result.status,
            "message_id": result.message_id,
            "notes": list(result.notes),
        }
    )
    return EXIT_OK


def _add_confirm(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(
        commands, "confirm", "confirm a sign-up with the token from its mail"
    )
    parser.add_argument("token")
    parser.add_argument("--ip")
    parser.add_argument("--user-agent")
    _add_flow_options(parser)
    parser.set_defaults(handler=_confirm)


def _confirm(args: argparse.Namespace) -> int:
    store = _open(args)
    contact_id = _flow(args, store).confirm(
        args.token, RequestContext(args.ip, args.user_agent, None)
    )
    _print_json({"contact_id": contact_id, "state": "doi"})
    return EXIT_OK


def _add_unsubscribe(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(
        commands, "unsubscribe", "withdraw consent with an unsubscribe token"
    )
    parser.add_argument("token")
    _add_flow_options(parser)
    parser.set_defaults(handler=_unsubscribe)


def _unsubscribe(args: argparse.Namespace) -> int:
    store = _open(args)
    contact_id = _flow(args, store).unsubscribe(
        args.token, RequestContext(), one_click=False
    )
    _print_json({"contact_id": contact_id, "state": "withdrawn"})
    return EXIT_OK


# -- import, single opt-in, suppression -----------------------------------


def _add_import(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(
        commands, "import", "add contacts from a CSV file; they get consent 'none'"
    )
    parser.add_argument("file", metavar="CSV")
    parser.add_argument("--column", help="name of the address column (default: email)")
    parser.set_defaults(handler=_import)


def _import(args: argparse.Namespace) -> int:
    from ..consent.gate import read_group_csv

    store = _open(args)
    try:
        stream = open(args.file, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"cannot read {args.file}: {exc.strerror}") from None
    line = 0

    def addresses() -> Iterator[str]:
        nonlocal line
        rows = read_group_csv(stream, column=args.column, name=args.file)
        for number, address, _ in rows:
            line = number
            yield address.strip()

    with stream:
        try:
            added = store.import_contacts(addresses())
        except AddressError as exc:
            raise InputError(
                f"{args.file}, line {line}: {exc}; fix or remove that row and "
                "import again (nothing was imported)"
            ) from None
    _print_json({"added": added})
    return EXIT_OK


def _add_soi(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(
        commands,
        "record-soi",
        "record a documented single opt-in (never a double opt-in)",
    )
    parser.add_argument("address")
    parser.add_argument("--purpose", required=True)
    parser.add_argument(
        "--source",
        required=True,
        help="where consent was given, e.g. 'trade fair 2026, stand card'",
    )
    parser.add_argument(
        "--evidence",
        required=True,
        help="reference to the proof, e.g. a file name or ticket",
    )
    parser.add_argument("--actor", help="who records it")
    parser.set_defaults(handler=_soi)


def _soi(args: argparse.Namespace) -> int:
    store = _open(args)
    try:
        state = _guard(
            lambda: store.record_soi(
                args.address,
                args.purpose,
                source=args.source,
                evidence=args.evidence,
                actor=args.actor,
            )
        )
    except IllegalTransition as exc:
        raise InputError(
            f"cannot record a single opt-in for {args.address!r}: {exc}; only "
            "an address at 'none' or 'soi_documented' can get one"
        ) from None
    _print_json({"state": state.value})
    return EXIT_OK


def _add_suppress(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(
        commands, "suppress", "suppress an address globally or for a purpose"
    )
    parser.add_argument("address")
    parser.add_argument(
        "--reason",
        required=True,
        choices=[reason.value for reason in SuppressionReason],
    )
    parser.add_argument("--purpose", help="suppress for this purpose only")
    parser.set_defaults(handler=_suppress)


def _suppress(args: argparse.Namespace) -> int:
    store = _open(args)
    _guard(
        lambda: store.suppress(
            args.address,
            SuppressionReason(args.reason),
            purpose=args.purpose,
            source="cli",
        )
    )
    return EXIT_OK


# -- gate -----------------------------------------------------------------


def _add_gate(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(
        commands, "gate", "admit only confirmed recipients of a target group"
    )
    parser.add_argument(
        "group", metavar="GROUP.csv", help="CSV file with an email column"
    )
    parser.add_argument("--purpose", required=True)
    parser.add_argument(
        "--output",
        metavar="PATH",
        help="write the admitted rows (all columns) to this CSV file",
    )
    parser.add_argument(
        "--report",
        metavar="PATH",
        help="write the excluded recipients with reasons to this CSV file",
    )
    parser.add_argument("--column", help="name of the address column (default: email)")
    parser.add_argument(
        "--stale-days",
        type=int,
        default=730,
        metavar="DAYS",
        help="exclude double opt-ins with no confirmation or engagement "
        "for this many days; 0 turns the check off (default: 730)",
    )
    parser.add_argument(
        "--format",
        choices=["json", "text"],
        default="json",
        help="format of the summary on standard output (default: json)",
    )
    parser.set_defaults(handler=_gate)


def _gate(args: argparse.Namespace) -> int:
    if args.stale_days < 0:
        raise InputError(f"invalid --stale-days {args.stale_days}: give 0 or more")
    stale = timedelta(days=args.stale_days) if args.stale_days else None
    store = _open(args)
    summary = _guard(
        lambda: run_gate(
            store,
            Path(args.group),
            args.purpose,
            output=Path(args.output) if args.output else None,
            report=Path(args.report) if args.report else None,
            column=args.column,
            policy=GatePolicy(stale_after=stale),
        )
    )
    data = summary.to_dict()
    if args.format == "json":
        _print_json(data)
    else:
        print(f"{data['admitted']} of {data['total']} admitted for {data['purpose']}")
        for reason, count in data["excluded"].items():
            print(f"  {reason}: {count}")
    return EXIT_OK


# -- export, verify -------------------------------------------------------


def _add_export(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(commands, "export", "export the consent evidence of one contact")
    parser.add_argument("address", help="the contact's address")
    add_output_options(parser, formats=("json", "html"))
    parser.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    from ..findings import Finding, Severity

    store = _open(args)
    bundle = export_contact(store, store.require_contact(args.address).id)
    text = (
        render_html(bundle)
        if args.format == "html"
        else json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    )
    _write(args.output, text)
    findings = [
        Finding(f["code"], f["check"], Severity(f["severity"]), f["message"])
        for f in bundle["findings"]
    ]
    return exit_status_for(findings, args.fail_on)


def _write(path: str | None, text: str) -> None:
    stream = open_output(path)
    try:
        stream.write(text)
    finally:
        if stream is not sys.stdout:
            stream.close()


def _add_verify(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(
        commands,
        "verify",
        "check the hash chains of the event log and that every double opt-in "
        "has its confirmation",
    )
    add_output_options(parser, formats=("text", "json"))
    parser.set_defaults(handler=_verify)


def _verify(args: argparse.Namespace) -> int:
    store = _open(args)
    findings = store.verify() + unconfirmed_doi(store)
    if args.format == "json":
        text = (
            json.dumps({"findings": [f.to_dict() for f in findings]}, indent=2) + "\n"
        )
    else:
        text = (
            "".join(f"{f.severity}: {f.message}\n" for f in findings)
            or "event log intact\n"
        )
    _write(args.output, text)
    return exit_status_for(findings, args.fail_on)


# -- purge, serve ---------------------------------------------------------


def _add_purge(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(commands, "purge", "delete sign-ups that were never confirmed")
    parser.add_argument(
        "--older-than-days",
        type=int,
        default=14,
        metavar="DAYS",
        help="purge sign-ups pending for longer than this (default: 14)",
    )
    parser.set_defaults(handler=_purge)


def _purge(args: argparse.Namespace) -> int:
    if args.older_than_days < 0:
        raise InputError(
            f"invalid --older-than-days {args.older_than_days}: give 0 or more"
        )
    from ..sync.intake import purge_orphans

    store = _open(args)
    flow = DoubleOptIn(store, _NoMailer())
    purged = flow.purge_pending(older_than=timedelta(days=args.older_than_days))
    # Form fields kept for the CRM match-up go with the sign-ups they served.
    fields = purge_orphans(flow)
    _print_json({"purged": purged, "form_fields_deleted": fields})
    return EXIT_OK


class _NoMailer:
    """A mailer for commands that must not send mail."""

    def send(self, message: Any) -> None:
        """Raise: this command sends no mail."""
        raise RuntimeError("purge sends no mail")


def _add_serve(commands: argparse._SubParsersAction[Any]) -> None:
    parser = _command(
        commands, "serve", "serve the sign-up, confirm and unsubscribe pages"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8025, help="port (default: 8025)")
    parser.add_argument(
        "--trust-forwarded-for",
        action="store_true",
        help="take client IPs from X-Forwarded-For (behind a proxy only)",
    )
    _add_flow_options(parser)
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    store = _open(args)
    app = create_app(_flow(args, store), trust_forwarded_for=args.trust_forwarded_for)
    serve(app, host=args.host, port=args.port)
    return EXIT_OK
