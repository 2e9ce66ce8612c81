"""Values the campaign linter takes and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..findings import Finding, Severity

__all__ = [
    "DEFAULT_CLIENTS",
    "DEFAULT_MAX_SIZE",
    "PROFILES",
    "LintItem",
    "LintOptions",
    "LintReport",
    "SpamAssassinResult",
    "SpamAssassinRule",
]

PROFILES = ("marketing", "transactional")
"""``marketing`` applies every rule; ``transactional`` relaxes the bulk-mail ones."""

DEFAULT_MAX_SIZE = 30 * 1024 * 1024
"""Largest message read, in bytes; Gmail and Outlook.com accept at most 25 MB."""

DEFAULT_CLIENTS = (
    "gmail.desktop-webmail",
    "gmail.ios",
    "gmail.android",
    "outlook.windows",
    "outlook.outlook-com",
    "apple-mail.macos",
    "apple-mail.ios",
    "yahoo.desktop-webmail",
)
"""Mail clients checked for HTML and CSS support, as caniemail ``family.platform``."""


@dataclass(frozen=True, slots=True)
class LintOptions:
    """Settings of one lint run."""

    profile: str = "marketing"
    """One of :data:`PROFILES`."""
    clients: tuple[str, ...] = DEFAULT_CLIENTS
    max_size: int = DEFAULT_MAX_SIZE
    envelope_from: str | None = None
    """The envelope sender (Return-Path) when known; else the header is used."""

    @property
    def transactional(self) -> bool:
        """Whether the relaxed transactional profile is selected."""
        return self.profile == "transactional"


@dataclass(frozen=True, slots=True)
class LintItem:
    """A finding with a pointer into the source, for snippets in reports."""

    finding: Finding
    part: str | None = None
    """Key of :attr:`LintReport.sources`: ``headers`` or a MIME part path."""
    line: int | None = None
    """1-based line in that source."""
    element: str | None = None
    """The element or attribute at fault, such as ``<img>`` or ``<a href>``."""
    column: int | None = None
    """1-based column on that line, where known."""


@dataclass(frozen=True, slots=True)
class SpamAssassinRule:
    """One rule that SpamAssassin reported."""

    name: str
    points: float
    description: str


@dataclass(frozen=True, slots=True)
class SpamAssassinResult:
    """The score and rules of one SpamAssassin run."""

    score: float
    threshold: float
    rules: tuple[SpamAssassinRule, ...]
    program: str
    """``spamc`` or ``spamassassin``."""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "score": self.score,
            "threshold": self.threshold,
            "program": self.program,
            "rules": [
                {"name": r.name, "points": r.points, "description": r.description}
                for r in self.rules
            ],
        }


@dataclass(slots=True)
class LintReport:
    """Everything the linter found in one message."""

    name: str
    """The file name or label of the message."""
    items: list[LintItem] = field(default_factory=list)
    sources: dict[str, str | list[str]] = field(default_factory=dict)
    """The header block's lines and each text part's text, for snippets;
    a text is split into lines when a snippet first needs it."""
    details: dict[str, Any] = field(default_factory=dict)
    """Counts and sizes: parts, links, images, HTML bytes."""
    spamassassin: SpamAssassinResult | None = None
    raw: bytes = b""
    """The message as linted (HTML input wrapped in its MIME message)."""

    @property
    def findings(self) -> list[Finding]:
        """The findings, most severe first, in rule order within a severity."""
        return [item.finding for item in self.items]

    def sort(self) -> None:
        """Order items by severity (errors first), keeping rule order otherwise."""
        self.items.sort(key=lambda item: -_rank(item.finding.severity))

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: ``message``, ``findings`` and ``checks.lint``."""
        lint: dict[str, Any] = dict(self.details)
        if self.spamassassin is not None:
            lint["spamassassin"] = self.spamassassin.to_dict()
        return {
            "message": self.name,
            "findings": [f.to_dict() for f in self.findings],
            "checks": {"lint": lint},
        }

    def snippet(self, item: LintItem, context: int = 2) -> list[tuple[int, str]]:
        """Return numbered source lines around ``item`` (empty when unknown)."""
        if item.part is None or item.line is None:
            return []
        lines = self.sources.get(item.part)
        if isinstance(lines, str):
            lines = self.sources[item.part] = lines.splitlines()
        if not lines:
            return []
        first = max(1, item.line - context)
        last = min(len(lines), item.line + context)
        return [(number, lines[number - 1]) for number in range(first, last + 1)]


def _rank(severity: Severity) -> int:
    return severity.rank
