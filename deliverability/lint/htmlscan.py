"""One pass over an HTML part, collecting what the HTML, link and image rules need.

It reads tokens as :mod:`tokenizer` does, accepting unclosed tags, stray end
tags and truncated markup as browsers and ``html.parser`` do. The scanner keeps
an element stack to know, for every piece of text, its colours and whether a
client would hide it. Line numbers are lines of the decoded part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from typing import Final, NamedTuple

from . import css
from .tokenizer import (
    BROKEN_GROUP,
    END_GROUP,
    RAW_TEXT,
    START_GROUP,
    TOKEN_PATTERN,
    TokenFinder,
    parse_attributes,
    raw_text_end,
)

__all__ = [
    "HiddenBlock",
    "HtmlDoc",
    "Image",
    "Link",
    "Spot",
    "clear_caches",
    "scan_html",
]

VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)
_INVISIBLE_CONTENT = frozenset(("script", "style", "title", "head"))
_NOTED_TAGS = frozenset(
    "html body script iframe object embed applet frame form a title".split()
)
"""Tags :meth:`_Scanner._note_tag` counts or records."""
_ANY_TAG = re.compile(r"<[a-zA-Z/]")
_HTML_END = re.compile(r"</html\s*>", re.I)
_TRAILING_NOISE = re.compile(r"(?:\s|<!--.*?-->)*", re.S)
_CONTRAST_SAMPLES = 50

Color = tuple[int, int, int]


@dataclass(slots=True)
class Link:
    """An ``<a href>`` with its visible text."""

    href: str
    line: int
    text: str = ""
    has_image: bool = False
    column: int = 0
    """1-based column of the tag on its line."""


@dataclass(slots=True)
class Image:
    """An ``<img>`` element."""

    src: str
    line: int
    alt: str | None
    width: str | None
    height: str | None
    linked: bool
    hidden: bool
    column: int = 0
    """1-based column of the tag on its line."""


@dataclass(slots=True)
class Spot:
    """A place in the HTML worth a finding: line, element and a detail."""

    line: int
    element: str
    detail: str = ""
    column: int = 0
    """1-based column on the line (0 when unknown)."""


@dataclass(slots=True)
class HiddenBlock:
    """An element that clients hide, with the text inside it."""

    line: int
    element: str
    reason: str
    text: list[str] = field(default_factory=list)
    column: int = 0
    """1-based column of the tag on its line."""

    @property
    def text_length(self) -> int:
        """Characters of non-space text inside the block."""
        return sum(len(piece.strip()) for piece in self.text)


@dataclass(slots=True)
class Contrast:
    """Text whose colour is close to its background."""

    line: int
    element: str
    foreground: Color
    background: Color
    sample: str
    column: int = 0
    """1-based column of the text on its line."""


@dataclass(slots=True)
class HtmlDoc:
    """The facts one scan collects."""

    html_tags: int = 0
    body_open: int = 0
    body_close: int = 0
    content_after_html: int | None = None
    """Line of the first content after ``</html>``, if any."""
    open_at_end: list[str] = field(default_factory=list)
    title: str | None = None
    title_line: int | None = None
    text_pieces: list[str] = field(default_factory=list)
    risky: list[Spot] = field(default_factory=list)
    """Scripts, handlers, iframes, objects, forms: ``detail`` names the kind."""
    media_without_fallback: list[Spot] = field(default_factory=list)
    hidden: list[HiddenBlock] = field(default_factory=list)
    tiny_text: list[Spot] = field(default_factory=list)
    off_page: list[Spot] = field(default_factory=list)
    contrast: list[Contrast] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    tag_lines: dict[str, int] = field(default_factory=dict)
    attribute_lines: dict[str, int] = field(default_factory=dict)
    css_chunks: list[tuple[int, str, bool]] = field(default_factory=list)
    """(line, CSS text, whether it came from a ``<style>`` block). The
    comments of a block are already blanked (:func:`css.strip_comments`)."""
    tag_count: int = 0
    """Start and end tags, the same tags :attr:`word_split_tags` counts from."""
    word_split_tags: int = 0

    @property
    def text(self) -> str:
        """The visible text, pieces joined by spaces."""
        return " ".join(piece.strip() for piece in self.text_pieces if piece.strip())


# A frame of the element stack: tag, foreground, background, the hidden
# block it is in, whether its text is tiny, and the media element it is in.
# A tuple: the scanner makes one per start tag.
_Frame = tuple[str, Color | None, Color | None, HiddenBlock | None, bool, Spot | None]
_TAG: Final = 0
_FG: Final = 1
_BG: Final = 2
_HIDDEN: Final = 3
_TINY: Final = 4
_MEDIA: Final = 5
_INHERIT = object()
"""In :class:`_Look`: the value comes from the parent element."""


class _Look(NamedTuple):
    """The look an element gives the text inside it: colours, hiding, text
    size, off-page position. :data:`_INHERIT` where it keeps its parent's."""

    fg: object
    bg: object
    hidden_reason: str | None
    tiny: object
    off_page: list[str]
    plain: bool
    """Whether the element sets none of these and is no media element."""


class _Element(NamedTuple):
    """The facts one tag with one attribute text gives, wherever it is.

    Templates repeat the same tag and attributes many times, so the scanner
    works this out once per pair and combines it with the parent frame at
    each occurrence.
    """

    values: dict[str, str]
    noted: bool
    """Whether :meth:`_Scanner._notes` has something to record."""
    handlers: tuple[str, ...]
    """Event handler attributes (``onclick``)."""
    script_urls: tuple[str, ...]
    """URL attributes whose value runs script."""
    style: str
    look: _Look | None
    """``None`` for void elements, which hold no text."""
    self_closing: bool


class _Scanner:
    """Builds an :class:`HtmlDoc` in one pass over the tokens of a source.

    :meth:`run` is the tokenizer's loop (:func:`tokenizer.feed`) with the
    handling of the common cases written into it: a method call per token
    cost a third of the scan. Text that is only white space matters inside
    hidden blocks alone and is skipped elsewhere.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.doc = HtmlDoc()
        root: _Frame = ("#root", (0, 0, 0), (255, 255, 255), None, False, None)
        self.stack: list[_Frame] = [root]
        self.link: Link | None = None
        self.rules: dict[str, dict[str, str]] = {}
        self.elements: dict[tuple[str, str], _Element] = {}
        """Per tag and attribute text; cleared when :attr:`rules` grow."""
        self.looks: dict[tuple[object, ...], _Look] = {}
        """Per tag and the attributes that set its look; cleared with
        :attr:`elements`."""
        self.styles_seen: set[str] = set()
        self.offset = 0
        """Offset of the token being handled, set before the handlers that
        record findings run."""
        self.line_start = 0
        self.column_from = 0

    def run(self) -> None:
        """Scan the whole source."""
        source = self.source
        doc = self.doc
        stack = self.stack
        elements = self.elements
        tag_lines = doc.tag_lines
        styles_seen = self.styles_seen
        finder = TokenFinder(source)
        search = TOKEN_PATTERN.search
        cut = finder.cut
        careful = False
        line = 1
        counted = 0  # offset up to which newlines are counted into ``line``
        position = 0
        length = len(source)
        tags = 0
        # Word-split counting (see :attr:`HtmlDoc.word_split_tags`): tags in
        # the current run that began right after a letter, and where the
        # last tag ended.
        run = 0
        last_end = -1
        split = 0
        while position < length:
            # The finder's common case, written out: a token that ends
            # before the last ">". Anything else goes to the finder.
            match = None if careful else search(source, position, cut)
            if match is None or match.end() == cut or match.lastindex == BROKEN_GROUP:
                match = finder.next(position)
                careful = finder.specials is not None
            start = match.start() if match else length
            if start > position:
                text = source[position:start]
                frame = stack[-1]
                if (
                    frame[_HIDDEN] is not None
                    or frame[_TAG] in _INVISIBLE_CONTENT
                    or not text.isspace()
                ):
                    line += source.count("\n", counted, position)
                    counted = position
                    self.offset = position
                    self.text(unescape(text) if "&" in text else text, line)
            if match is None:
                break
            line += source.count("\n", counted, start)
            counted = start
            position = match.end()
            kind = match.lastindex
            if kind != START_GROUP and kind != END_GROUP:
                continue  # a comment or a declaration

            tags += 1
            # _word_split, written out: it runs for every tag.
            if run and start == last_end:
                run += 1
            elif start and source[start - 1] in _LETTERS:
                run = 1
            else:
                run = 0
            last_end = position
            if run and source[position : position + 1] in _LETTERS:
                split += run
                run = 0
            if kind == END_GROUP:
                tag = match.group(END_GROUP).lower()
                if tag == "a":
                    self.link = None
                elif tag == "body":
                    doc.body_close += 1
                if len(stack) > 1 and stack[-1][_TAG] == tag:
                    del stack[-1]
                else:
                    self._close(tag)
                continue

            tag, raw = match.group(START_GROUP - 1, START_GROUP)
            tag = tag.lower()
            if tag not in tag_lines:
                tag_lines[tag] = line
            element = elements.get((tag, raw))
            if element is None:
                element = elements[tag, raw] = self._element(tag, raw, line)
            values, noted, handlers, script_urls, style, look, closing = element
            self.offset = start
            if noted:
                self._notes(tag, element, line)
            if style and style not in styles_seen:
                styles_seen.add(style)
                doc.css_chunks.append((line, style, False))
            if closing or look is None:
                self._void(tag, values, line)
                continue
            parent = stack[-1]
            if look.plain:
                stack.append((tag, *parent[1:]))
            else:
                stack.append(self._frame(tag, look, parent, line))
            if tag in RAW_TEXT:
                stop, position, line, counted = self._raw_text(
                    tag, position, line, counted
                )
                if stop >= 0:  # the end tag was found at source[stop:position]
                    tags += 1
                    run, added = _word_split(source, stop, position, run, last_end)
                    split += added
                    last_end = position
        doc.tag_count = tags
        doc.word_split_tags = split

    def _raw_text(
        self, tag: str, position: int, line: int, counted: int
    ) -> tuple[int, int, int, int]:
        """Take the raw text of ``tag`` up to its end tag.

        Returns where the end tag starts (-1 when the source ends first),
        then the new position, line and counted offset.
        """
        source = self.source
        end = raw_text_end(tag, source, position)
        stop = end.start() if end else len(source)
        if stop > position:
            line += source.count("\n", counted, position)
            counted = position
            text = source[position:stop]
            if tag in ("title", "textarea") and "&" in text:
                text = unescape(text)
            self.offset = position
            self.text(text, line)
        if end is None:
            return -1, len(source), line, counted
        line += source.count("\n", counted, stop)
        self._close(tag)
        return stop, end.end(), line, stop

    def _column(self) -> int:
        """Return the 1-based column of :attr:`offset` on its line.

        Offsets only grow during a scan, so each call looks back for a line
        break no further than the previous call's offset: one-line HTML does
        not make this quadratic.
        """
        offset = self.offset
        found = self.source.rfind("\n", self.column_from, offset)
        if found >= 0:
            self.line_start = found + 1
        self.column_from = max(self.column_from, offset)
        return offset - self.line_start + 1

    def _close(self, tag: str) -> None:
        """Pop the stack down to the innermost open ``tag``; a stray end tag
        changes nothing."""
        stack = self.stack
        for depth in range(len(stack) - 1, 0, -1):
            if stack[depth][_TAG] == tag:
                del stack[depth:]
                return

    # -- tags ---------------------------------------------------------------

    def _notes(self, tag: str, element: _Element, line: int) -> None:
        """Record what a noted tag, an event handler or a script URL adds."""
        doc = self.doc
        for name in element.handlers:
            doc.risky.append(Spot(line, f"<{tag} {name}>", "handler", self._column()))
        if tag in _NOTED_TAGS:
            self._note_tag(tag, element.values, line)
        for name in element.script_urls:
            doc.risky.append(
                Spot(line, f"<{tag} {name}>", "javascript_url", self._column())
            )

    def _frame(self, tag: str, look: _Look, parent: _Frame, line: int) -> _Frame:
        """Return the frame of an element that sets colours, hiding, size,
        position or media."""
        fg = parent[_FG] if look.fg is _INHERIT else look.fg
        bg = parent[_BG] if look.bg is _INHERIT else look.bg
        hidden = parent[_HIDDEN]
        if hidden is None and look.hidden_reason is not None:
            hidden = HiddenBlock(
                line, f"<{tag}>", look.hidden_reason, column=self._column()
            )
            self.doc.hidden.append(hidden)
        tiny = parent[_TINY] if look.tiny is _INHERIT else look.tiny
        for detail in look.off_page:
            self.doc.off_page.append(Spot(line, f"<{tag}>", detail, self._column()))
        media = parent[_MEDIA]
        if tag == "video" or tag == "audio":
            media = Spot(line, f"<{tag}>", column=self._column())
            self.doc.media_without_fallback.append(media)
        return (tag, fg, bg, hidden, tiny, media)  # type: ignore[return-value]

    def _element(self, tag: str, raw: str, line: int) -> _Element:
        """Work out what a tag with this attribute text sets, noting the first
        line of each attribute."""
        static = _STATIC.get((tag, raw))
        if static is None:
            static = _static(tag, raw)
        values, handlers, script_urls, style, closing, key = static
        noted = bool(handlers or script_urls) or tag in _NOTED_TAGS
        lines = self.doc.attribute_lines
        for name in values:
            if name not in lines:
                lines[name] = line
        if key is None:
            return _Element(values, noted, handlers, script_urls, style, None, closing)
        # Without <style> rules, the look depends on the attributes alone and
        # is shared between documents.
        looks = self.looks if self.rules else _PLAIN_LOOKS
        look = looks.get(key)
        if look is None:
            if len(looks) >= _CACHE_MAX:
                looks.clear()
            look = looks[key] = self._look(tag, values)
        return _Element(values, noted, handlers, script_urls, style, look, closing)

    def _look(self, tag: str, values: dict[str, str]) -> _Look:
        """Return the colours, hiding, text size and position an element sets."""
        declarations = self._declarations(tag, values)

        fg: object = _INHERIT
        bg: object = _INHERIT
        color = declarations.get("color") or (
            values.get("color") if tag == "font" else None
        )
        if color:
            fg = css.parse_color(color)
        background = declarations.get("background-color") or declarations.get(
            "background"
        )
        if (declarations or "background" in values) and _has_background_image(
            values, declarations
        ):
            bg = None  # an image behind the text: its contrast is unknown
        elif background or values.get("bgcolor"):
            bg = css.background_color(declarations) or css.parse_color(
                values.get("bgcolor", "")
            )

        reason = None
        if declarations or "hidden" in values:
            reason = _hidden_reason(values, declarations)
        tiny: object = _INHERIT
        off_page: list[str] = []
        if declarations:  # most elements have no style: skip the style checks
            tiny = _tiny(declarations)
            off_page = _off_page(declarations)

        plain = (
            fg is _INHERIT
            and bg is _INHERIT
            and reason is None
            and tiny is _INHERIT
            and not off_page
            and tag != "video"
            and tag != "audio"
        )
        return _Look(fg, bg, reason, tiny, off_page, plain)

    def text(self, data: str, line: int) -> None:
        """Take a run of text."""
        frame = self.stack[-1]
        tag = frame[_TAG]
        if tag in _INVISIBLE_CONTENT:
            self._invisible_data(tag, data, line)
            return
        hidden = frame[_HIDDEN]
        if hidden is not None:
            hidden.text.append(data)
            return
        stripped = data.strip()
        if not stripped:
            return
        self.doc.text_pieces.append(data)
        if self.link is not None:
            self.link.text += data
        media = frame[_MEDIA]
        if media is not None:
            media.detail = "fallback"
        if frame[_TINY]:
            self.doc.tiny_text.append(Spot(line, f"<{tag}>", stripped, self._column()))
        self._check_contrast(frame, data, line)

    def _note_tag(self, tag: str, values: dict[str, str], line: int) -> None:
        doc = self.doc
        if tag == "html":
            doc.html_tags += 1
        elif tag == "body":
            doc.body_open += 1
        elif tag in ("script", "iframe", "object", "embed", "applet", "frame"):
            doc.risky.append(Spot(line, f"<{tag}>", tag, self._column()))
        elif tag == "form":
            action = values.get("action", "").strip().lower()
            kind = "form_mailto" if action.startswith("mailto:") else "form"
            doc.risky.append(Spot(line, "<form>", kind, self._column()))
        elif tag == "a":
            self.link = None
            if "href" in values:
                self.link = Link(values["href"].strip(), line, column=self._column())
                doc.links.append(self.link)
        elif tag == "title" and doc.title is None:
            doc.title = ""
            doc.title_line = line

    def _void(self, tag: str, values: dict[str, str], line: int) -> None:
        if tag == "img":
            self._image(values, line)
        top = self.stack[-1]
        if tag in ("img", "input") and top[_MEDIA] is not None:
            top[_MEDIA].detail = "fallback"

    def _image(self, values: dict[str, str], line: int) -> None:
        image = Image(
            src=values.get("src", "").strip(),
            line=line,
            alt=values.get("alt"),
            width=values.get("width"),
            height=values.get("height"),
            linked=self.link is not None,
            hidden=self.stack[-1][_HIDDEN] is not None,
            column=self._column(),
        )
        declarations = css.parse_declarations(values.get("style", ""))
        if image.width is None and "width" in declarations:
            image.width = declarations["width"]
        if image.height is None and "height" in declarations:
            image.height = declarations["height"]
        self.doc.images.append(image)
        if self.link is not None:
            self.link.has_image = True

    def _declarations(self, tag: str, values: dict[str, str]) -> dict[str, str]:
        """Return the declarations of the ``<style>`` rules that match the
        element, overridden by its inline ``style``."""
        inline = css.parse_declarations(values.get("style", ""))
        if not self.rules:
            return inline
        merged: dict[str, str] = {}
        for key in _selector_keys(tag, values):
            rule = self.rules.get(key)
            if rule:
                merged.update(rule)
        if not merged:
            return inline
        merged.update(inline)
        return merged

    # -- text ---------------------------------------------------------------

    def _invisible_data(self, tag: str, data: str, line: int) -> None:
        if tag == "style":
            # Blank the comments once here, so stripping again finds none.
            data = css.strip_comments(data)
            self.doc.css_chunks.append((line, data, True))
            rules = css.parse_rules(data)
            if rules:
                self.elements.clear()
                self.looks.clear()
            for rule in rules:
                self.rules.setdefault(rule.selector, {}).update(rule.declarations)
        elif tag == "title" and self.doc.title is not None:
            self.doc.title += data

    def _check_contrast(self, frame: _Frame, data: str, line: int) -> None:
        fg, bg = frame[_FG], frame[_BG]
        if fg is None or bg is None or len(self.doc.contrast) >= _CONTRAST_SAMPLES:
            return
        if css.contrast_ratio(fg, bg) < 4.5:
            sample = data.strip()[:60]
            self.doc.contrast.append(
                Contrast(line, f"<{frame[_TAG]}>", fg, bg, sample, self._column())
            )


def _word_split(
    source: str, start: int, end: int, run: int, last_end: int
) -> tuple[int, int]:
    """Step the word-split count over the tag at ``source[start:end]``.

    ``run`` counts the tags of the current run that began right after a
    letter, ``last_end`` is where the previous tag ended. Returns the new
    run and the tags to add to the count: those of a run that a letter
    follows, such as both tags in ``fr<b></b>ee``.
    """
    if run and start == last_end:
        run += 1
    elif start and source[start - 1] in _LETTERS:
        run = 1
    else:
        run = 0
    if run and source[end : end + 1] in _LETTERS:
        return 0, run
    return run, 0


_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _selector_keys(tag: str, values: dict[str, str]) -> list[str]:
    keys = [tag]
    for name in values.get("class", "").lower().split():
        keys.append("." + name)
        keys.append(f"{tag}.{name}")
    element_id = values.get("id")
    if element_id:
        keys.append("#" + element_id.lower())
    return keys


_URL_IGNORED = re.compile(r"[\t\n\r]")
_SCRIPT_SCHEMES = ("javascript:", "vbscript:")
_SCRIPT_INITIALS = frozenset("jJvV")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
"""U+0000 to U+0020, which browsers strip from both ends of a URL."""
_URL_ATTRIBUTES = ("href", "src", "action", "background")


_Static = tuple[
    dict[str, str],
    tuple[str, ...],
    tuple[str, ...],
    str,
    bool,
    "tuple[object, ...] | None",
]
_STATIC: dict[tuple[str, str], _Static] = {}
"""Facts of a tag and attribute text that hold in any document: the values
by name, the event handlers, the script URLs, the style, whether the tag
closes itself and the key of its look (``None`` for void tags). Shared by
all scans in the process, because campaigns repeat their templates' markup."""
_PLAIN_LOOKS: dict[tuple[object, ...], _Look] = {}
"""Looks by key for documents without ``<style>`` rules, shared likewise."""
_CACHE_MAX = 8192
"""Entries per shared cache; a full cache starts over."""


def _static(tag: str, raw: str) -> _Static:
    """Work out and remember what ``tag`` with attribute text ``raw`` gives."""
    values = {name: value or "" for name, value in parse_attributes(raw.rstrip("/"))}
    handlers = tuple(name for name in values if _is_handler(name))
    script_urls = tuple(_script_urls(values))
    style = values.get("style", "")
    key = None
    if tag not in VOID:
        # Links and images make most attribute lists unique. What sets the
        # look repeats, so it is worked out once per combination.
        key = (
            tag,
            style,
            values.get("class"),
            values.get("id"),
            values.get("bgcolor"),
            values.get("background"),
            values.get("color") if tag == "font" else None,
            "hidden" in values,
        )
    if len(_STATIC) >= _CACHE_MAX:
        _STATIC.clear()
    closing = raw.rstrip().endswith("/")
    static = _STATIC[tag, raw] = (values, handlers, script_urls, style, closing, key)
    return static


def clear_caches() -> None:
    """Forget what the shared caches hold (for measurements that start cold)."""
    _STATIC.clear()
    _PLAIN_LOOKS.clear()


def _script_urls(values: dict[str, str]) -> list[str]:
    """Return the URL attributes whose value runs script."""
    return [
        name
        for name in _URL_ATTRIBUTES
        if name in values and _is_script_url(values[name])
    ]


def _is_handler(name: str) -> bool:
    """Return whether an attribute name is an event handler (``onclick``)."""
    return name[:2] == "on" and len(name) > 3 and name.isalpha()


def _is_script_url(value: str) -> bool:
    """Return whether a URL runs script once a browser has cleaned it.

    Browsers drop tabs and line breaks anywhere in a URL and control
    characters and spaces around it (WHATWG URL Standard, basic URL parser),
    so ``java&#9;script:`` is still ``javascript:``.
    """
    # Whatever is dropped, the URL starts with its first character above
    # U+0020: most URLs fail here, before the substitution.
    start = value.lstrip(_C0_AND_SPACE)[:1]
    if start not in _SCRIPT_INITIALS:
        return False
    cleaned = _URL_IGNORED.sub("", value).strip(_C0_AND_SPACE).lower()
    return cleaned.startswith(_SCRIPT_SCHEMES)


def _has_background_image(values: dict[str, str], declarations: dict[str, str]) -> bool:
    if values.get("background"):
        return True
    for name in ("background-image", "background"):
        if "url(" in declarations.get(name, ""):
            return True
    return False


def _hidden_reason(values: dict[str, str], declarations: dict[str, str]) -> str | None:
    if "hidden" in values:
        return "hidden attribute"
    if declarations.get("display") == "none":
        return "display:none"
    if declarations.get("visibility") == "hidden":
        return "visibility:hidden"
    if (
        declarations.get("max-height") in ("0", "0px")
        and declarations.get("overflow") == "hidden"
    ):
        return "max-height:0"
    if declarations.get("opacity") in ("0", "0.0"):
        return "opacity:0"
    return None


def _tiny(declarations: dict[str, str]) -> object:
    """Return whether text gets a 0-1 px or transparent font, or
    :data:`_INHERIT` when the declarations leave the size to the parent."""
    if declarations.get("color") == "transparent":
        return True
    size = declarations.get("font-size")
    if size is None:
        return _INHERIT
    number = css.px_value(size)
    return number is not None and number <= 1


def _off_page(declarations: dict[str, str]) -> list[str]:
    """Return ``top:-500px``-like details for text placed far off the page."""
    found = []
    for side in ("top", "left"):
        value = declarations.get(side)
        if value is None or not value.startswith("-"):
            continue
        number = css.px_value(value)
        if number is not None and number <= -100:
            found.append(f"{side}:{value}")
    return found


def scan_html(source: str) -> HtmlDoc:
    """Scan ``source`` (decoded HTML); never raises for malformed markup."""
    scanner = _Scanner(source)
    scanner.run()
    doc = scanner.doc
    doc.open_at_end = [frame[_TAG] for frame in scanner.stack[1:]]
    for media in list(doc.media_without_fallback):
        if media.detail == "fallback":
            doc.media_without_fallback.remove(media)
    doc.content_after_html = _content_after_html(source)
    if doc.tag_count == 0:
        doc.tag_count = len(_ANY_TAG.findall(source))
    return doc


def _content_after_html(source: str) -> int | None:
    ends = list(_HTML_END.finditer(source))
    if not ends:
        return None
    last = ends[-1]
    rest = source[last.end() :]
    noise = _TRAILING_NOISE.match(rest)
    if noise is not None and noise.end() == len(rest):
        return None
    offset = last.end() + (noise.end() if noise else 0)
    return source.count("\n", 0, offset) + 1
