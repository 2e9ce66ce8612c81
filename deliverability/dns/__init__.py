"""The DNS seam: one resolver interface over live DNS and offline zone files."""

from __future__ import annotations

from .answer import Answer, MXRecord, Status, TXTRecord
from .live import LiveResolver, parse_nameserver
from .names import normalize_domain, to_unicode
from .resolver import Resolver, ResolverStats
from .zones import ZoneResolver

__all__ = [
    "Answer",
    "LiveResolver",
    "MXRecord",
    "Resolver",
    "ResolverStats",
    "Status",
    "TXTRecord",
    "ZoneResolver",
    "normalize_domain",
    "parse_nameserver",
    "to_unicode",
]
