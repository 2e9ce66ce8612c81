"""The domain audit: one module per standard, run together by :mod:`.run`.

The runner is imported on first use, so that importing one check module (or
the result model) does not load every check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .model import AuditOptions, CheckResult, DomainReport, ProviderVerdict, Requirement

if TYPE_CHECKING:
    from .run import CHECK_ORDER, audit, audit_domain, audit_domains

__all__ = [
    "CHECK_ORDER",
    "AuditOptions",
    "CheckResult",
    "DomainReport",
    "ProviderVerdict",
    "Requirement",
    "audit",
    "audit_domain",
    "audit_domains",
]

_RUNNER_NAMES = frozenset({"CHECK_ORDER", "audit", "audit_domain", "audit_domains"})


def __getattr__(name: str) -> Any:
    if name in _RUNNER_NAMES:
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
