"""The iprev check (RFC 8601, section 3): forward-confirmed reverse DNS of an IP."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ..dns import Resolver, Status
from ..errors import InvalidDomainError

__all__ = ["MAX_PTR_NAMES", "IPRevResult", "check_iprev", "reverse_name"]

MAX_PTR_NAMES = 10
"""PTR names checked at most, the limit RFC 7208, section 4.6.4 sets for ptr."""


@dataclass(frozen=True, slots=True)
class IPRevResult:
    """Whether a PTR name of the IP resolves back to the IP."""

    result: str
    """``pass``, ``fail``, ``temperror`` or ``permerror``."""
    ip: str
    names: tuple[str, ...] = ()
    """The PTR names found."""
    confirmed: str | None = None
    """The first PTR name whose addresses include the IP."""
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "result": self.result,
            "ip": self.ip,
            "names": list(self.names),
            "confirmed": self.confirmed,
            "reason": self.reason,
        }


def reverse_name(ip: str) -> str:
    """Return the ``in-addr.arpa`` or ``ip6.arpa`` name of ``ip``."""
    return ipaddress.ip_address(ip).reverse_pointer


async def check_iprev(ip: str, *, resolver: Resolver) -> IPRevResult:
    """Run iprev for ``ip``; a failed lookup gives ``temperror``, never ``fail``."""
    address = ipaddress.ip_address(ip)
    answer = await resolver.resolve(reverse_name(ip), "PTR")
    if answer.failed:
        return IPRevResult("temperror", ip, reason=f"PTR lookup failed: {answer.error}")
    if answer.status is not Status.ANSWER:
        return IPRevResult("fail", ip, reason=f"no PTR record ({answer.describe()})")
    names = tuple(str(name) for name in answer.records[:MAX_PTR_NAMES])
    rdtype = "A" if address.version == 4 else "AAAA"
    failures = []
    for name in names:
        try:
            forward = await resolver.resolve(name, rdtype)
        except InvalidDomainError:
            continue  # a PTR target that is no host name cannot confirm the IP
        if forward.failed:
            failures.append(name)
            continue
        if any(ipaddress.ip_address(a) == address for a in forward.records):
            return IPRevResult("pass", ip, names, confirmed=name)
    if failures:
        return IPRevResult(
            "temperror", ip, names, reason=f"{rdtype} lookup of {failures[0]} failed"
        )
    return IPRevResult(
        "fail", ip, names, reason=f"no PTR name has an {rdtype} record for {ip}"
    )
