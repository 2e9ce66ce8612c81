"""The lint rules, by family, in the order reports list them.

Each rule is a small function that takes a :class:`LintContext` and yields
:class:`LintItem` values. ``FAMILIES`` is the dispatch table: the engine runs
every family in order, and skips the header-bound rules when the input has
no header block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..context import LintContext
from ..model import LintItem
from . import clients, headers, html, images, links, listlaw, mime

__all__ = ["FAMILIES", "HEADER_RULES", "Check"]

Check = Callable[[LintContext], Iterable[LintItem]]
"""A rule function."""

FAMILIES: tuple[tuple[str, tuple[Check, ...]], ...] = (
    ("headers", headers.RULES),
    ("mime", mime.RULES),
    ("html", html.RULES),
    ("links", links.RULES),
    ("images", images.RULES),
    ("listlaw", listlaw.RULES),
    ("clients", clients.RULES),
)
"""Rule families and their rules, in report order."""

HEADER_RULES: frozenset[Check] = frozenset(
    (
        *headers.RULES,
        listlaw.check_list_unsubscribe,
        listlaw.check_one_click,
    )
)
"""Rules that judge the header block; skipped for HTML linted without headers."""
