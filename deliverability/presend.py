"""The pre-send check: is the sender domain, the campaign and the target group ready?

One call runs the three checks a send depends on and returns one verdict:

- the domain audit of the sending domain (by default the From domain of the
  first message),
- campaign lint of each message,
- the consent gate over the target group, which writes the admitted
  recipients and the excluded ones with their reasons.

Each part can be left out. The verdict is ``fail`` when any part has an
error, ``incomplete`` when the audit could not finish, and ``pass`` otherwise.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .audit.model import AuditOptions, DomainReport
from .audit.run import audit_domain
from .dns.names import normalize_domain, to_unicode
from .dns.resolver import Resolver
from .errors import InputError, InvalidDomainError
from .findings import Finding, Severity, rule

if TYPE_CHECKING:
    from .consent.gate import GateSummary
    from .lint.model import LintOptions, LintReport

__all__ = ["GroupSpec", "PresendResult", "presend_check", "sender_domain"]

NO_RECIPIENTS = rule(
    "presend.no_recipients",
    "presend",
    Severity.ERROR,
    "No recipient of the target group may be mailed",
    fix=(
        "Check the purpose name and the store: only contacts with a confirmed "
        "double opt-in for the purpose are admitted. Send a confirmation "
        "mailing to documented single opt-ins first."
    ),
    reference="GDPR, Article 7(1); UWG, section 7(2) no. 2",
)

RECIPIENTS_EXCLUDED = rule(
    "presend.recipients_excluded",
    "presend",
    Severity.INFO,
    "Recipients left out of the send, with the reason for each",
    fix="Nothing to fix for the send; the excluded file lists who and why.",
)

DOMAIN_NOT_FROM = rule(
    "presend.domain_not_from",
    "presend",
    Severity.WARNING,
    "The audited domain is not the From domain of the message",
    fix=(
        "Audit the domain in the message's From header: DMARC is judged "
        "against it, so its records decide whether the mail authenticates."
    ),
    reference="RFC 7489, section 3.1",
)


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """A target group to gate: the CSV file, the purpose and the store."""

    path: Path
    purpose: str
    store_url: str
    admitted_path: Path | None = None
    excluded_path: Path | None = None
    column: str | None = None


@dataclass(slots=True)
class PresendResult:
    """The findings of a pre-send check, part by part."""

    domain: DomainReport | None = None
    messages: list[LintReport] = field(default_factory=list)
    gate: GateSummary | None = None
    findings: list[Finding] = field(default_factory=list)
    """Findings about how the parts fit together, such as an empty send."""

    @property
    def complete(self) -> bool:
        return self.domain is None or self.domain.complete

    def all_findings(self) -> list[Finding]:
        """Return every finding of every part, errors first."""
        items = list(self.findings)
        if self.domain is not None:
            items += self.domain.findings
        for report in self.messages:
            items += report.findings
        items.sort(key=lambda f: (-f.severity.rank, f.check, f.code))
        return items

    @property
    def verdict(self) -> str:
        """``fail``, ``incomplete`` or ``pass``."""
        failed_lookup = "dns.lookup_failed"
        if any(
            f.severity is Severity.ERROR and f.code != failed_lookup
            for f in self.all_findings()
        ):
            return "fail"
        return "pass" if self.complete else "incomplete"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form documented in docs/presend.md."""
        from .report.jsonout import report_to_json

        return {
            "verdict": self.verdict,
            "complete": self.complete,
            "findings": [f.to_dict() for f in self.findings],
            "domain": report_to_json(self.domain) if self.domain else None,
            "messages": [report.to_dict() for report in self.messages],
            "gate": self.gate.to_dict() if self.gate else None,
        }


def sender_domain(message_path: Path) -> str:
    """Return the domain of the From address of a message file.

    Raises :class:`InputError` when the file cannot be read or its From
    header contains no address with a valid domain.
    """
    try:
        with message_path.open("rb") as handle:
            headers = email.parser.BytesHeaderParser(
                policy=email.policy.compat32
            ).parse(handle)
    except OSError as exc:
        raise InputError(
            f"cannot read message {message_path}: {exc.strerror}"
        ) from None
    _, address = email.utils.parseaddr(str(headers.get("From", "")))
    _, at, domain = address.rpartition("@")
    try:
        return normalize_domain(domain) if at else normalize_domain("")
    except InvalidDomainError:
        raise InputError(
            f"the From header of {message_path} has no address with a valid "
            "domain; give the sending domain with --domain"
        ) from None


async def presend_check(
    *,
    resolver: Resolver,
    domain: str | None = None,
    messages: list[Path] | None = None,
    group: GroupSpec | None = None,
    audit_options: AuditOptions | None = None,
    lint_options: LintOptions | None = None,
) -> PresendResult:
    """Run the audit, the lint and the gate that are asked for.

    ``domain`` defaults to the From domain of the first message. Raises
    :class:`InputError` when nothing is to be checked or an input cannot be
    read.
    """
    messages = messages or []
    if domain is None and messages:
        domain = sender_domain(messages[0])
    if domain is None and group is None:
        raise InputError("nothing to check: give --domain, a --message or a --group")
    result = PresendResult()
    if domain is not None:
        result.domain = await audit_domain(
            domain, resolver=resolver, options=audit_options
        )
        result.findings += _from_domain_findings(result.domain.domain, messages)
    result.messages = [_lint(path, lint_options) for path in messages]
    if group is not None:
        result.gate = _gate(group)
        result.findings += _gate_findings(result.gate)
    return result


def _lint(path: Path, options: LintOptions | None) -> LintReport:
    from .lint import lint_path

    return lint_path(path, options=options)


def _gate(spec: GroupSpec) -> GateSummary:
    from .consent.gate import run_gate
    from .consent.store import ConsentStore

    store = ConsentStore(spec.store_url)
    try:
        return run_gate(
            store,
            spec.path,
            spec.purpose,
            output=spec.admitted_path,
            report=spec.excluded_path,
            column=spec.column,
        )
    finally:
        store.engine.dispose()


def _from_domain_findings(audited: str, messages: list[Path]) -> list[Finding]:
    out = []
    for path in messages:
        try:
            sender = sender_domain(path)
        except InputError:
            continue  # lint reports the broken From header itself
        if sender != audited:
            out.append(
                DOMAIN_NOT_FROM.finding(
                    f"The message {path.name} is sent From {to_unicode(sender)}, "
                    f"but the audited domain is {to_unicode(audited)}.",
                    location=str(path),
                )
            )
    return out


def _gate_findings(summary: GateSummary) -> list[Finding]:
    excluded = {reason: count for reason, count in summary.excluded.items() if count}
    counts = ", ".join(
        f"{reason}: {count}" for reason, count in sorted(excluded.items())
    )
    if summary.admitted == 0:
        return [
            NO_RECIPIENTS.finding(
                f"None of the {summary.total} recipients of the target group may be "
                f"mailed for {summary.purpose!r} ({counts or 'the group is empty'}).",
            )
        ]
    if not excluded:
        return []
    left_out = summary.total - summary.admitted
    return [
        RECIPIENTS_EXCLUDED.finding(
            f"{summary.admitted} of {summary.total} recipients may be mailed for "
            f"{summary.purpose!r}; {left_out} are left out ({counts}).",
        )
    ]
