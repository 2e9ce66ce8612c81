"""deliverability: keep mail out of spam and away from people who never opted in.

The domain audit::

    from deliverability import ZoneResolver, run_audit
    report = run_audit("example.com", resolver=ZoneResolver(["zones/"]))
    for finding in report.findings:
        print(finding.severity, finding.code, finding.message)

Every function that touches DNS takes a ``resolver``; nothing reads global
settings. Async variants (:func:`audit_domain`, :func:`audit_domains`) serve
bulk work.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .dns import (
    Answer,
    LiveResolver,
    Resolver,
    Status,
    ZoneResolver,
)
from .dns.factory import make_resolver
from .errors import (
    DeliverabilityError,
    IncompleteError,
    InputError,
    InvalidDomainError,
    ZoneFileError,
)
from .findings import Finding, Rule, Severity

if TYPE_CHECKING:
    from .audit import (
        AuditOptions,
        CheckResult,
        DomainReport,
        audit_domain,
        audit_domains,
    )
    from .audit import audit as run_audit

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "AuditOptions",
    "CheckResult",
    "DeliverabilityError",
    "DomainReport",
    "Finding",
    "IncompleteError",
    "InputError",
    "InvalidDomainError",
    "LiveResolver",
    "Resolver",
    "Rule",
    "Severity",
    "Status",
    "ZoneFileError",
    "ZoneResolver",
    "__version__",
    "audit_domain",
    "audit_domains",
    "make_resolver",
    "run_audit",
]

_AUDIT_NAMES = {
    "AuditOptions": "AuditOptions",
    "CheckResult": "CheckResult",
    "DomainReport": "DomainReport",
    "audit_domain": "audit_domain",
    "audit_domains": "audit_domains",
    "run_audit": "audit",
}


def __getattr__(name: str) -> Any:
    # The audit loads every check module; import it only when it is used.
    if name in _AUDIT_NAMES:
        module = importlib.import_module(".audit", __name__)
        return getattr(module, _AUDIT_NAMES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
