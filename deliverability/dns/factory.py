"""Choose a resolver from command-line style options."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from .live import LiveResolver, parse_nameserver
from .resolver import Resolver
from .zones import ZoneResolver

__all__ = ["make_resolver"]


def make_resolver(
    *,
    zones: Sequence[str | Path] = (),
    nameservers: Sequence[str] = (),
    timeout: float = 2.0,
    retries: int = 1,
    concurrency: int = 64,
) -> Resolver:
    """Return a :class:`ZoneResolver` for ``zones``, else a :class:`LiveResolver`.

    ``nameservers`` are ``ADDR[:PORT]`` strings; none means the system's
    resolvers. Raises :class:`InputError` when both zones and nameservers are
    given, since zone mode promises that nothing is sent to the network.
    """
    if zones and nameservers:
        raise InputError(
            "--zone and --nameserver cannot be combined: zone files are read "
            "offline; give one or the other"
        )
    if zones:
        return ZoneResolver(zones, concurrency=concurrency)
    servers = [parse_nameserver(text) for text in nameservers] or None
    return LiveResolver(
        servers, timeout=timeout, retries=retries, concurrency=concurrency
    )
