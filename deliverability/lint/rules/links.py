"""Link rules: deceptive link text, raw IP hosts, odd ports, shorteners, http, data:."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from ...findings import Rule, Severity, rule
from ..context import LintContext, org_domain
from ..message import Part
from ..model import LintItem

__all__ = [
    "RULES",
    "SHORTENERS",
    "UrlRef",
    "clear_caches",
    "is_placeholder",
    "url_refs",
    "visible_text",
]


MISMATCH = rule(
    "lint.link.mismatch",
    "lint",
    Severity.ERROR,
    "Link text shows one URL and points to another",
    fix="Make the visible URL and the href go to the same domain, or use plain "
    "words as link text.",
    reference="SpamAssassin rules HTTPS_HTTP_MISMATCH and T_PDS_SHORT_SPOOFED_URL",
)
IP_HOST = rule(
    "lint.link.ip_host",
    "lint",
    Severity.ERROR,
    "Link to a raw IP address",
    fix="Link to a host name under the sender's domain.",
    reference="SpamAssassin rules NORMAL_HTTP_TO_IP and NUMERIC_HTTP_ADDR",
)
ODD_PORT = rule(
    "lint.link.odd_port",
    "lint",
    Severity.WARNING,
    "Link with an unusual port",
    fix="Serve links on the default ports (443 for https).",
    reference="SpamAssassin rule WEIRD_PORT",
)
SHORTENER = rule(
    "lint.link.shortener",
    "lint",
    Severity.WARNING,
    "URL shortener",
    fix="Link to the full URL under your own domain; shorteners hide the target "
    "and are shared with spammers.",
    reference="SpamAssassin rules SHORT_SHORTNER and SHORTENER_SHORT_IMG",
)
PLAIN_HTTP = rule(
    "lint.link.plain_http",
    "lint",
    Severity.INFO,
    "Link over plain http",
    fix="Use https links.",
    reference="RFC 9110, section 4.2.2",
)
DATA_URI = rule(
    "lint.link.data_uri",
    "lint",
    Severity.ERROR,
    "data: URI that is not an image",
    fix="Link to a web page instead of embedding a data: document.",
    reference="SpamAssassin rule URI_DATA",
)
REDIRECT = rule(
    "lint.link.redirect",
    "lint",
    Severity.WARNING,
    "Open-redirect style link",
    fix="Link to the target directly, or through your own click tracker.",
    reference="SpamAssassin rule URI_PHP_REDIR",
)
INVALID = rule(
    "lint.link.invalid",
    "lint",
    Severity.WARNING,
    "Link that is not a valid URL",
    fix="Fix the URL: no spaces, a valid host and port.",
    reference="RFC 3986, section 3",
)

#: Common URL shorteners (a subset of SpamAssassin's __URL_SHORTENER list).
SHORTENERS = frozenset(
    """
    bit.ly bitly.com t.co goo.gl tinyurl.com ow.ly is.gd buff.ly amzn.to
    youtu.be lnkd.in eepurl.com rebrand.ly cutt.ly t.ly shorturl.at tiny.cc
    rb.gy v.gd x.co su.pr bl.ink soo.gd s.id qr.ae adf.ly db.tt fb.me
    trib.al dlvr.it ift.tt mcaf.ee snip.ly po.st wp.me
    """.split()
)

_URL_BREAKS = re.compile(r"[\t\n\r]")
_REDIRECT_PARAMETER = re.compile(r"[?&](url|redirect)=https?", re.I)
_PLACEHOLDER = re.compile(
    r"\*\|.*?\|\*|\[\[.*?\]\]|\{\{.*?\}\}|\{%.*?%\}|%%.*?%%|\$\{.*?\}"
)
_URL_TEXT = re.compile(
    r"^\s*(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:[:/?#]\S*)?\s*$", re.I
)
_TEXT_URL = re.compile(r"https?://[^\s<>\"')\]]+", re.I)
# Embedding, override and isolate controls (Unicode Bidirectional Algorithm).
_BIDI_OVERRIDE = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SHORT_BODY = 512
_GOOD_PORTS = {80, 443, 8080}


@dataclass(frozen=True, slots=True)
class UrlRef:
    """A URL found in the message, with where it sits."""

    url: str
    part: Part
    line: int | None
    element: str
    text: str | None = None
    """The visible link text for ``<a href>``; ``None`` for plain-text URLs."""
    column: int = 0
    """1-based column of the link on its line (0 in text parts)."""


def is_placeholder(value: str) -> bool:
    """Return whether ``value`` contains a template merge tag such as ``*|UNSUB|*``."""
    return _PLACEHOLDER.search(value) is not None


def url_refs(ctx: LintContext) -> list[UrlRef]:
    """Return the links of the HTML parts and the URLs of the text parts."""
    cached: list[UrlRef] | None = ctx.memo.get("url_refs")
    if cached is not None:
        return cached
    refs: list[UrlRef] = []
    for part, doc in ctx.html:
        for link in doc.links:
            refs.append(
                UrlRef(link.href, part, link.line, "<a href>", link.text, link.column)
            )
    for part in ctx.message.text_parts("text/plain"):
        text = part.text or ""
        for match in _TEXT_URL.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            refs.append(UrlRef(match.group(0), part, line, "URL in text"))
    ctx.memo["url_refs"] = refs
    return refs


@lru_cache(maxsize=4096)
def _host_and_port(url: str) -> tuple[str, int | None] | None:
    """Return the host and port of ``url``, or ``None`` when it is invalid.
    Cached: a message links to the same URLs many times."""
    try:
        parts = urlsplit(url)
        return (parts.hostname or "", parts.port)
    except ValueError:
        return None


def visible_text(text: str) -> str:
    """Return ``text`` without control and format characters (Unicode Cc, Cf).

    Zero-width spaces, direction marks and escape sequences show nothing,
    so ``www.exa\u200bmple.com`` reads as ``www.example.com``.
    """
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        c for c in text if c in "\t\n" or unicodedata.category(c) not in ("Cc", "Cf")
    )


def check_mismatch(ctx: LintContext) -> Iterator[LintItem]:
    """Flag link text that shows a domain other than the one linked to, and
    link text whose reading direction is overridden."""
    for ref in url_refs(ctx):
        if ref.text is None or is_placeholder(ref.url) or is_placeholder(ref.text):
            continue
        override = _BIDI_OVERRIDE.search(ref.text)
        if override is not None:
            yield ctx.at_part(
                MISMATCH,
                f"The link text contains U+{ord(override.group(0)):04X}, which "
                "reverses how the text reads, so it cannot be trusted to show "
                "where the link goes.",
                ref.part,
                line=ref.line,
                column=ref.column,
                element=ref.element,
                evidence=ref.url[:200],
            )
            continue
        shown = _URL_TEXT.match(visible_text(ref.text))
        target = _host_and_port(ref.url)
        if shown is None or target is None or not target[0]:
            continue
        if org_domain(shown.group(1)) != org_domain(target[0]):
            yield ctx.at_part(
                MISMATCH,
                f"The link text shows {shown.group(1)} but the link goes to "
                f"{target[0]}.",
                ref.part,
                line=ref.line,
                column=ref.column,
                element=ref.element,
                evidence=ref.url[:200],
            )


def check_hosts(ctx: LintContext) -> Iterator[LintItem]:
    """Flag raw IP hosts, odd ports, data: URIs, redirects and invalid URLs."""
    for ref in url_refs(ctx):
        url = ref.url
        if is_placeholder(url):
            continue
        # Browsers drop tabs and line breaks inside URLs, so "da\tta:" is data:.
        lowered = _URL_BREAKS.sub("", url) if _has_breaks(url) else url
        lowered = lowered.strip().lower()
        if lowered.startswith("data:"):
            if not lowered.startswith("data:image/"):
                yield _at(ctx, DATA_URI, "The link is a data: URI.", ref)
            continue
        if not lowered.startswith(("http://", "https://")):
            continue
        yield from _host_rules(ctx, ref)


def _host_rules(ctx: LintContext, ref: UrlRef) -> Iterator[LintItem]:
    target = _host_and_port(ref.url)
    if target is None or not target[0] or " " in ref.url.strip():
        yield _at(ctx, INVALID, "The link is not a valid URL.", ref)
        return
    host, port = target
    if _is_ip(host):
        yield _at(ctx, IP_HOST, f"The link goes to the IP address {host}.", ref)
    if port is not None and port not in _GOOD_PORTS:
        yield _at(ctx, ODD_PORT, f"The link uses port {port}.", ref)
    if "redirect.php?" in ref.url.lower() or _REDIRECT_PARAMETER.search(ref.url):
        yield _at(ctx, REDIRECT, "The link redirects to another URL it carries.", ref)


def _has_breaks(url: str) -> bool:
    return "\t" in url or "\n" in url or "\r" in url


def _is_ip(host: str) -> bool:
    if ":" not in host and not host[:1].isdigit():
        return False  # IPv4 and decimal addresses start with a digit, IPv6 has colons
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(re.fullmatch(r"\d+", host))  # a decimal IPv4 such as 3232235777
    return True


def _at(ctx: LintContext, declared: Rule, message: str, ref: UrlRef) -> LintItem:
    return ctx.at_part(
        declared,
        message,
        ref.part,
        line=ref.line,
        column=ref.column,
        element=ref.element,
        evidence=ref.url[:200],
    )


def check_shorteners(ctx: LintContext) -> Iterator[LintItem]:
    """Flag shortener links; an error in a short message."""
    short = len((ctx.html_text or ctx.plain_text).strip()) < _SHORT_BODY
    seen: set[str] = set()
    for ref in url_refs(ctx):
        target = _host_and_port(ref.url)
        if target is None:
            continue
        host = target[0].removeprefix("www.")
        if host in SHORTENERS and host not in seen:
            seen.add(host)
            yield ctx.at_part(
                SHORTENER,
                f"The link goes through the shortener {host}.",
                ref.part,
                line=ref.line,
                column=ref.column,
                element=ref.element,
                evidence=ref.url[:200],
                severity=Severity.ERROR if short else None,
            )


def check_plain_http(ctx: LintContext) -> Iterator[LintItem]:
    """Note links over plain http, once per message."""
    plain = [
        ref
        for ref in url_refs(ctx)
        if ref.url.lower().startswith("http://") and not is_placeholder(ref.url)
    ]
    if plain:
        first = plain[0]
        yield ctx.at_part(
            PLAIN_HTTP,
            f"{len(plain)} link(s) use plain http.",
            first.part,
            line=first.line,
            column=first.column,
            element=first.element,
            evidence=first.url[:200],
        )


def clear_caches() -> None:
    """Forget the hosts and ports of the URLs seen so far."""
    _host_and_port.cache_clear()


RULES = (check_mismatch, check_hosts, check_shorteners, check_plain_http)
"""Link rules in report order."""
