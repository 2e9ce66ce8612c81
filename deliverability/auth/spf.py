"""SPF ``check_host()`` for a sending IP (RFC 7208, section 4), as a receiver runs it.

The evaluation itself is pyspf's; every DNS query it makes goes through the
product's resolver by way of :class:`~deliverability.auth.bridge.ResolverBridge`.
:class:`_ResolverQuery` replaces pyspf's ``query.dns`` method, so pyspf's own
rules (lookup limits, void lookups, macro expansion) stay as they are.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Any

import spf

from ..dns import Answer, MXRecord, Resolver, Status, TXTRecord
from ..errors import InputError
from .bridge import ResolverBridge, run_in_worker

__all__ = ["SPF_RESULTS", "SPFResult", "check_host", "parse_ip"]

log = logging.getLogger(__name__)

#: The seven results of RFC 7208, section 2.6.
SPF_RESULTS = ("none", "neutral", "pass", "fail", "softfail", "temperror", "permerror")


@dataclass(frozen=True, slots=True)
class SPFResult:
    """The outcome of ``check_host()`` for one identity."""

    result: str
    """One of :data:`SPF_RESULTS`."""
    identity: str
    """``mailfrom`` or ``helo``: the identity that was checked."""
    domain: str
    """The domain whose record was evaluated."""
    sender: str
    """The address checked: the MAIL FROM, or ``postmaster@HELO``."""
    ip: str
    explanation: str = ""
    """The reason pyspf gives, or the ``exp=`` text of a ``fail``."""
    dns_lookups: int = 0
    """DNS-querying terms evaluated (the limit is 10, RFC 7208, section 4.6.4)."""
    void_lookups: int = 0
    """Lookups that returned NODATA or NXDOMAIN (the limit is 2)."""
    void_names: tuple[str, ...] = ()
    """The void lookups as ``NAME TYPE``, in the order they were made."""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "result": self.result,
            "identity": self.identity,
            "domain": self.domain,
            "sender": self.sender,
            "ip": self.ip,
            "explanation": self.explanation,
            "dns_lookups": self.dns_lookups,
            "void_lookups": self.void_lookups,
            "void_names": list(self.void_names),
        }


def parse_ip(text: str) -> str:
    """Return ``text`` as a normalized IP address.

    Raises :class:`InputError` when ``text`` is not an IPv4 or IPv6 address.
    """
    try:
        return str(ipaddress.ip_address(text.strip().strip("[]")))
    except ValueError:
        raise InputError(
            f"invalid IP address {text!r}: give an IPv4 or IPv6 address such as "
            "192.0.2.10 or 2001:db8::10"
        ) from None


class _ResolverQuery(spf.query):  # type: ignore[misc]
    """A pyspf query whose DNS lookups go to a :class:`ResolverBridge`."""

    def __init__(self, bridge: ResolverBridge, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._bridge = bridge
        self.void_names: list[str] = []

    def dns(
        self,
        name: str,
        qtype: str,
        cnames: dict[str, str] | None = None,
        ignore_void: bool = False,
    ) -> list[Any]:
        """Return the records of ``name`` in the shapes pyspf expects.

        The resolver follows CNAMEs itself. A failed lookup raises pyspf's
        ``TempError`` so it becomes ``temperror``, never "no record".
        """
        del cnames
        if not name:
            raise spf.PermError("empty domain name in a DNS query")
        name = str(name).rstrip(".")
        labels = name.split(".")
        if any(not label or len(label) > 63 for label in labels):
            return []
        answer = self._bridge.lookup(name, qtype)
        if answer.status is Status.FAILED:
            raise spf.TempError(f"DNS {qtype} lookup of {name} failed: {answer.error}")
        records = _pyspf_records(answer)
        if not records and not ignore_void:
            self.void_names.append(f"{name} {qtype}")
            self.void_lookups += 1
            if self.void_lookups > spf.MAX_VOID_LOOKUPS:
                raise spf.PermError(
                    f"Void lookup limit of {spf.MAX_VOID_LOOKUPS} exceeded"
                )
        return records

    def validated_ptrs(self) -> list[str]:
        """Return the PTR names of the client IP whose addresses include it.

        A failed address lookup skips that name and the search goes on
        (RFC 7208, section 5.5), where pyspf would end with ``temperror``.
        """
        names = self.dns_ptr(self.i)[: spf.MAX_PTR]
        return [name for name in names if self._confirms_ip(name)]

    def _confirms_ip(self, name: str) -> bool:
        try:
            addresses = self.dns_a(name, self.A)
        except spf.TempError:
            return False
        return bool(self.cidrmatch(addresses, self.cidrmax))


def _pyspf_records(answer: Answer) -> list[Any]:
    if answer.status is not Status.ANSWER:
        return []
    out: list[Any] = []
    for record in answer.records:
        if isinstance(record, TXTRecord):
            out.append(list(record.strings))
        elif isinstance(record, MXRecord):
            out.append((record.preference, record.exchange))
        else:
            out.append(record)
    return out


@dataclass(frozen=True, slots=True)
class _Outcome:
    result: str
    explanation: str
    lookups: int
    void_names: tuple[str, ...]


def _evaluate(bridge: ResolverBridge, ip: str, sender: str, helo: str) -> _Outcome:
    query = _ResolverQuery(bridge, i=ip, s=sender, h=helo, strict=True)
    result, _code, explanation = query.check()
    return _Outcome(
        str(result), str(explanation), int(query.lookups), tuple(query.void_names)
    )


async def check_host(
    ip: str,
    *,
    mail_from: str | None,
    helo: str,
    resolver: Resolver,
) -> SPFResult:
    """Evaluate SPF for a connection from ``ip`` as a receiver would.

    The MAIL FROM identity is checked when given and not empty; otherwise the
    HELO identity is, as ``postmaster@HELO`` (RFC 7208, section 2.4). Raises
    :class:`InputError` for an invalid IP address.
    """
    address = parse_ip(ip)
    if mail_from and "@" in mail_from:
        identity, sender = "mailfrom", mail_from.strip("<>")
    elif mail_from:
        identity, sender = "mailfrom", f"postmaster@{mail_from}"
    else:
        identity, sender = "helo", f"postmaster@{helo}"
    domain = sender.rpartition("@")[2].rstrip(".").lower()

    def work(bridge: ResolverBridge) -> _Outcome:
        return _evaluate(bridge, address, sender, helo)

    outcome = await run_in_worker(resolver, work)
    log.debug("SPF %s for %s from %s: %s", identity, domain, address, outcome.result)
    return SPFResult(
        result=outcome.result,
        identity=identity,
        domain=domain,
        sender=sender,
        ip=address,
        explanation=outcome.explanation,
        dns_lookups=outcome.lookups,
        void_lookups=len(outcome.void_names),
        void_names=outcome.void_names,
    )
