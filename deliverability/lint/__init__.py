"""Campaign lint: what in a message would hurt its delivery or its rendering.

Lint a raw message with :func:`lint_bytes`, an HTML body with
:func:`lint_html`, or a file with :func:`lint_path`. Each returns a
:class:`LintReport` whose findings point at the MIME part, the line and the
element at fault. :func:`run_spamassassin` adds a local SpamAssassin score.
"""

from __future__ import annotations

from .engine import (
    clear_caches,
    decode_html,
    lint_bytes,
    lint_html,
    lint_path,
    wrap_html,
)
from .model import (
    DEFAULT_CLIENTS,
    DEFAULT_MAX_SIZE,
    PROFILES,
    LintItem,
    LintOptions,
    LintReport,
    SpamAssassinResult,
    SpamAssassinRule,
)
from .spamassassin import run_spamassassin

__all__ = [
    "DEFAULT_CLIENTS",
    "DEFAULT_MAX_SIZE",
    "PROFILES",
    "LintItem",
    "LintOptions",
    "LintReport",
    "SpamAssassinResult",
    "SpamAssassinRule",
    "clear_caches",
    "decode_html",
    "lint_bytes",
    "lint_html",
    "lint_path",
    "run_spamassassin",
    "wrap_html",
]
