"""A forgiving HTML tokenizer that reports tags and text with line numbers.

It reads markup the way ``html.parser`` does for mail. Names are lower-cased
and character references decoded in text and attribute values. The content
of ``<script>``, ``<style>``, ``<title>`` and ``<textarea>`` is raw text up to
the end tag. Comments and declarations (``<!DOCTYPE>``, ``<![if mso]>``) are
skipped. Anything that is not a complete tag, such as ``a < b`` or a tag cut
off at the end, is text. One compiled pattern finds the tags, and
:class:`TokenFinder` keeps the scan linear. With no-op handlers it took 0.04 s
of CPU for the 84 HTML parts of the test corpus, where ``html.parser`` took
0.074 s.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from html import unescape
from typing import NamedTuple, Protocol

__all__ = [
    "BROKEN_GROUP",
    "END_GROUP",
    "RAW_TEXT",
    "START_GROUP",
    "TOKEN_PATTERN",
    "Token",
    "TokenSink",
    "TokenFinder",
    "feed",
    "parse_attributes",
    "raw_text_end",
    "tokenize",
]

# No possessive quantifiers: CPython 3.11 before 3.11.5 returns wrong
# matches for some of them (fixed in 3.11.5), and Debian 12 ships 3.11.2.
# The attribute text is unrolled instead (runs of plain characters between
# quoted values), and the look-ahead keeps a tag name from giving characters
# back. A start tag whose ">" never comes still matches, with the group
# "broken", so that one pass over its text finds out: see TokenFinder.
TOKEN_PATTERN = re.compile(
    r"""<(?:
        (?P<comment>!--.*?(?:--!?>|\Z))
      | (?P<declaration>[!?][^>]*(?:>|\Z))
      | /(?P<end>[a-zA-Z][^\s/>]*)[^>]*(?:>|\Z)
      | (?P<start>[a-zA-Z][^\s/>]*)(?![^\s/>])
        (?P<attributes>[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*)(?:>|(?P<broken>))
    )""",
    re.S | re.X,
)
BROKEN_GROUP = TOKEN_PATTERN.groupindex["broken"]
"""``match.lastindex`` for a start tag that never closes (no token)."""
_CANDIDATE = re.compile(r"<(?:[!?]|/?[a-zA-Z])")
"""The start of a possible token."""
_TAG_NAME = re.compile(r"[a-zA-Z][^\s/>]*")
_SPECIAL = re.compile(r"[>\"']")
# Groups: name, the "=" with its value (empty when there is none), and the
# value in double quotes, single quotes or bare.
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_RUNS_TO_END = re.compile(r"<(?:[!?]|/[a-zA-Z])")
"""The start of a token that needs no ``>``: a comment, a declaration or an
end tag, which the source's end may close."""
END_GROUP = TOKEN_PATTERN.groupindex["end"]
"""The group of an end tag's name; ``match.lastindex`` when an end tag matched."""
START_GROUP = TOKEN_PATTERN.groupindex["attributes"]
"""The group of a start tag's attributes (its name is the group before);
``match.lastindex`` when a start tag matched. Other matches are comments
and declarations."""
RAW_TEXT = frozenset(("script", "style", "title", "textarea"))
"""Elements whose content is text up to their end tag, not markup."""
_RAW_END = {name: re.compile(rf"</{name}\s*>", re.I) for name in RAW_TEXT}


class Token(NamedTuple):
    """A start tag, an end tag or a run of text (a tuple: cheap to create)."""

    kind: str
    """``start``, ``end`` or ``text``."""
    line: int
    """1-based line where the token starts."""
    name: str = ""
    """Tag name in lower case (empty for text)."""
    attributes: tuple[tuple[str, str | None], ...] = ()
    text: str = ""
    self_closing: bool = False
    start: int = 0
    """Offset of the token in the source."""
    end: int = 0
    """Offset just past the token."""


def parse_attributes(source: str) -> tuple[tuple[str, str | None], ...]:
    """Return (name, value) pairs of a start tag's attribute text.

    Names are in lower case and values have character references decoded.
    An attribute without a value gets ``None``.
    """
    if not source or source.isspace():
        return ()
    found: list[tuple[str, str | None]] = []
    for name, assigned, double, single, bare in _ATTRIBUTE.findall(source):
        if not assigned:
            found.append((name.lower(), None))
            continue
        value = double or single or bare
        found.append((name.lower(), unescape(value) if "&" in value else value))
    return tuple(found)


class TokenSink(Protocol):
    """Receiver of the tokens :func:`feed` finds, one method call per token."""

    def start_tag(
        self,
        name: str,
        attributes: tuple[tuple[str, str | None], ...],
        self_closing: bool,
        line: int,
        begin: int,
        end: int,
    ) -> None:
        """Take a start tag found at ``source[begin:end]``."""

    def end_tag(self, name: str, line: int, begin: int, end: int) -> None:
        """Take an end tag found at ``source[begin:end]``."""

    def text(self, text: str, line: int) -> None:
        """Take a run of text, character references decoded."""


def feed(source: str, sink: TokenSink) -> None:
    """Pass the tokens of ``source`` to ``sink``; never raises on malformed markup.

    Calling the sink directly, with no token objects in between, is what
    makes the scan fast.
    """
    line = 1
    counted = 0  # offset up to which newlines are counted into ``line``
    position = 0
    length = len(source)
    finder = TokenFinder(source)
    start_tag, end_tag, text_sink = sink.start_tag, sink.end_tag, sink.text
    seen: dict[str, tuple[tuple[tuple[str, str | None], ...], bool]] = {}
    while position < length:
        match = finder.next(position)
        start = match.start() if match else length
        if start > position:
            line += source.count("\n", counted, position)
            counted = position
            text = source[position:start]
            text_sink(unescape(text) if "&" in text else text, line)
        if match is None:
            return
        line += source.count("\n", counted, start)
        counted = start
        position = match.end()
        # The last group that matched gives the kind: 5 (attributes) for a
        # start tag, 3 for an end tag, 1 or 2 for what is skipped.
        kind = match.lastindex
        if kind == START_GROUP:
            name, attributes = match.group(4, 5)
            name = name.lower()
            known = seen.get(attributes)
            if known is None:  # templates repeat their attribute lists
                known = seen[attributes] = (
                    parse_attributes(attributes.rstrip("/")),
                    attributes.rstrip().endswith("/"),
                )
            parsed, closing = known
            start_tag(name, parsed, closing, line, start, position)
            if name in RAW_TEXT and not closing:
                position, line, counted = _raw_text(
                    source, name, position, line, counted, sink
                )
        elif kind == END_GROUP:
            end_tag(match.group(3).lower(), line, start, position)


def _raw_text(
    source: str, name: str, position: int, line: int, counted: int, sink: TokenSink
) -> tuple[int, int, int]:
    """Pass raw text up to ``</name>`` to ``sink``; return the new position,
    line and counted offset."""
    end = raw_text_end(name, source, position)
    stop = end.start() if end else len(source)
    if stop > position:
        line += source.count("\n", counted, position)
        counted = position
        text = source[position:stop]
        if name in ("title", "textarea") and "&" in text:
            text = unescape(text)
        sink.text(text, line)
    if end is None:
        return len(source), line, counted
    line += source.count("\n", counted, stop)
    sink.end_tag(name, line, stop, end.end())
    return end.end(), line, stop


class TokenFinder:
    """Find the tokens of one source in order, in time linear in its length.

    A start tag needs a ``>`` outside quoted values. The regex engine tries
    each ``<`` in turn, so if many start tags never close, each attempt runs
    over the rest of the source and the scan takes quadratic time. Two
    measures keep it linear:

    - No start tag ends after the last ``>``, so searches stop there
      (:attr:`cut`). Past it only comments, declarations and end tags can
      start, and those run to the end of the source.
    - Before that, the first start tag that does not close switches the
      finder to a slower, careful mode for the rest of the source. It walks
      from quote to quote to decide whether a tag closes, remembering the
      result for each ``>`` or quote it reaches, and only then matches the
      tag. A walk that reaches a remembered position stops there.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.cut = source.rfind(">") + 1
        """One past the last ``>``."""
        self.specials: list[int] | None = None
        """Offsets of ``>`` and quotes before :attr:`cut`, in careful mode."""
        self.name_end = 0
        """Where the last tag name read in careful mode ends."""
        self.closes: dict[int, bool] = {}
        """Whether a walk reaching each of :attr:`specials` ends at a ``>``."""

    def next(self, position: int) -> re.Match[str] | None:
        """Return the first token at or after ``position``, or ``None``."""
        source, cut = self.source, self.cut
        while position < cut:
            if self.specials is None:
                match = TOKEN_PATTERN.search(source, position, cut)
            else:
                match = self._careful(position)
            if match is None:
                break
            if match.lastindex == BROKEN_GROUP:
                # The "<" is text. From here on, decide before matching.
                self.specials = [m.start() for m in _SPECIAL.finditer(source, 0, cut)]
                position = match.start() + 1
                continue
            if match.end() == cut and cut < len(source):
                return TOKEN_PATTERN.match(source, match.start())  # to its real end
            return match
        found = _RUNS_TO_END.search(source, max(position, cut))
        if found is None:
            return None
        return TOKEN_PATTERN.match(source, found.start())

    def _careful(self, position: int) -> re.Match[str] | None:
        """Find the next token before :attr:`cut`, skipping start tags that
        do not close."""
        source, cut = self.source, self.cut
        while True:
            candidate = _CANDIDATE.search(source, position, cut)
            if candidate is None:
                return None
            start = candidate.start()
            if start + 1 < self.name_end:
                # Inside the name read last ("<a<a<a", since names may hold
                # "<"): this name ends where that one did.
                name_end = self.name_end
            else:
                name = _TAG_NAME.match(source, start + 1)
                if name is None:
                    return TOKEN_PATTERN.match(source, start, cut)
                name_end = self.name_end = name.end()
            if self._reaches_close(name_end):
                return TOKEN_PATTERN.match(source, start, cut)
            position = start + 1

    def _reaches_close(self, position: int) -> bool:
        """Return whether attribute text starting at ``position`` reaches a
        ``>`` outside quoted values before :attr:`cut`."""
        specials = self.specials
        assert specials is not None
        source, cut, closes = self.source, self.cut, self.closes
        index = bisect.bisect_left(specials, position)
        walked: list[int] = []
        while True:
            if index >= len(specials):
                result = False
                break
            offset = specials[index]
            known = closes.get(offset)
            if known is not None:
                result = known
                break
            walked.append(offset)
            char = source[offset]
            if char == ">":
                result = True
                break
            partner = source.find(char, offset + 1, cut)
            if partner < 0:
                result = False  # a quoted value that never ends
                break
            index = bisect.bisect_right(specials, partner)
        for offset in walked:
            closes[offset] = result
        return result


def raw_text_end(name: str, source: str, position: int) -> re.Match[str] | None:
    """Find the end tag ``</name>`` of a raw text element from ``position``."""
    return _RAW_END[name].search(source, position)


class _Collector:
    def __init__(self) -> None:
        self.tokens: list[Token] = []

    def start_tag(
        self,
        name: str,
        attributes: tuple[tuple[str, str | None], ...],
        self_closing: bool,
        line: int,
        begin: int,
        end: int,
    ) -> None:
        self.tokens.append(
            Token("start", line, name, attributes, "", self_closing, begin, end)
        )

    def end_tag(self, name: str, line: int, begin: int, end: int) -> None:
        self.tokens.append(Token("end", line, name, start=begin, end=end))

    def text(self, text: str, line: int) -> None:
        self.tokens.append(Token("text", line, text=text))


def tokenize(source: str) -> Iterator[Token]:
    """Yield the tokens of ``source`` as :class:`Token` values."""
    collector = _Collector()
    feed(source, collector)
    yield from collector.tokens
