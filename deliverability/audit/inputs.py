"""Reading the domains and addresses a user asks to audit."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..dns.names import normalize_domain
from ..errors import InputError, InvalidDomainError

__all__ = ["check_domain_names", "check_selector", "parse_ips", "read_domains_file"]


def read_domains_file(path: str | Path) -> Iterator[str]:
    """Yield the domain names of a file, one a line.

    Blank lines and text after ``#`` are skipped; for CSV lines the first
    column is taken. Raises :class:`InputError` when the file cannot be read.
    """
    try:
        with open(path, encoding="utf-8-sig") as handle:
            for line in handle:
                name = line.split("#", 1)[0].split(",", 1)[0].strip()
                if name:
                    yield name
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read domains file {path}: {exc}") from None


def check_domain_names(names: Iterable[str]) -> int:
    """Validate every name; return how many there are.

    Raises :class:`InputError` listing up to five invalid names with the
    reason for each.
    """
    count = 0
    problems: list[str] = []
    for name in names:
        count += 1
        try:
            normalize_domain(name)
        except InvalidDomainError as exc:
            problems.append(f"{exc}{_domain_hint(name)}")
            continue
        if _is_ip_address(name):
            problems.append(
                f"invalid domain name {name!r}: an IP address is not a domain; "
                "give the domain of the From address"
            )
    if problems:
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise InputError(f"{shown}{more}; fix or remove these names")
    return count


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip().rstrip("."))
    except ValueError:
        return False
    return True


def _domain_hint(name: str) -> str:
    """Suggest the domain inside a URL or an email address, if ``name`` is one."""
    text = name.strip()
    if "://" in text:
        host = text.split("://", 1)[1].split("/", 1)[0]
        return f" (a URL: give its host name only, such as {host!r})"
    if text.count("@") == 1:
        return f" (an email address: give the part after @, {text.split('@')[1]!r})"
    return ""


def check_selector(value: str, option: str) -> str:
    """Return ``value`` when it is a valid selector; raise :class:`InputError`.

    A DKIM or BIMI selector is one or more DNS labels, such as ``s1`` or
    ``2024.mail``.
    """
    try:
        normalize_domain(value)
    except InvalidDomainError as exc:
        raise InputError(
            f"invalid {option} {value!r}: {exc.reason}; give the selector, "
            "such as default or s1"
        ) from None
    return value


def parse_ips(values: Iterable[str]) -> tuple[str, ...]:
    """Return the addresses in canonical form; raises :class:`InputError`."""
    out = []
    for value in values:
        try:
            out.append(str(ipaddress.ip_address(value.strip())))
        except ValueError:
            raise InputError(
                f"invalid --ip {value!r}: give an IPv4 or IPv6 address such as "
                "192.0.2.10 or 2001:db8::10"
            ) from None
    return tuple(out)
