"""One pass over an HTML part, collecting what the HTML, link and image rules need.

Built on :func:`tokenizer.tokenize`, which accepts unclosed tags, stray end
tags and truncated markup as browsers and ``html.parser`` do. The scanner keeps
an element stack to know, for every piece of text, its colours and whether a
client would hide it. Line numbers are lines of the decoded part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import css
from .tokenizer import feed

__all__ = ["HiddenBlock", "HtmlDoc", "Image", "Link", "Spot", "scan_html"]

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


@dataclass(slots=True)
class Spot:
    """A place in the HTML worth a finding: line, element and a detail."""

    line: int
    element: str
    detail: str = ""


@dataclass(slots=True)
class HiddenBlock:
    """An element that clients hide, with the text inside it."""

    line: int
    element: str
    reason: str
    text: list[str] = field(default_factory=list)

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


class _Frame:
    __slots__ = ("tag", "line", "fg", "bg", "hidden", "tiny", "media")

    def __init__(
        self,
        tag: str,
        line: int,
        fg: Color | None,
        bg: Color | None,
        hidden: HiddenBlock | None,
        tiny: bool,
        media: Spot | None,
    ) -> None:
        self.tag = tag
        self.line = line
        self.fg = fg
        self.bg = bg
        self.hidden = hidden
        self.tiny = tiny
        self.media = media


class _Scanner:
    """The :class:`TokenSink` that builds an :class:`HtmlDoc`."""

    def __init__(self, source: str) -> None:
        self.line = 1
        self.split = _WordSplitCounter(source)
        self.doc = HtmlDoc()
        root = _Frame("#root", 0, (0, 0, 0), (255, 255, 255), None, False, None)
        self.stack: list[_Frame] = [root]
        self.link: Link | None = None
        self.rules: dict[str, dict[str, str]] = {}
        self.attribute_sets: dict[
            tuple[tuple[str, str | None], ...], tuple[dict[str, str], list[str]]
        ] = {}
        """Values and handler names per attribute list: templates repeat them."""
        self.merged: dict[tuple[str, str, str, str], dict[str, str]] = {}
        """Declarations per (tag, class, id, style), cleared when :attr:`rules` grow."""
        self.styles_seen: set[str] = set()
        self.has_javascript = True
        """False when the source has no ``javascript:``, to skip URL checks."""

    # -- tags ---------------------------------------------------------------

    def start_tag(
        self,
        tag: str,
        attrs: tuple[tuple[str, str | None], ...],
        self_closing: bool,
        line: int,
        begin: int,
        end: int,
    ) -> None:
        """Take a start tag from the tokenizer."""
        self.line = line
        self.split.tag(begin, end)
        doc = self.doc
        doc.tag_count += 1
        if tag not in doc.tag_lines:
            doc.tag_lines[tag] = line
        known = self.attribute_sets.get(attrs)
        if known is None:
            known = self.attribute_sets[attrs] = self._new_attributes(attrs, line)
        values, handlers = known
        for name in handlers:
            doc.risky.append(Spot(line, f"<{tag} {name}>", "handler"))
        if tag in _NOTED_TAGS:
            self._note_tag(tag, values, line)
        if self.has_javascript:
            self._note_script_urls(tag, values, line)
        style = values.get("style")
        if style and style not in self.styles_seen:
            self.styles_seen.add(style)
            doc.css_chunks.append((line, style, False))
        if tag in VOID or self_closing:
            self._void(tag, values, line)
            return
        self.stack.append(self._frame(tag, values, line))

    def _new_attributes(
        self, attrs: tuple[tuple[str, str | None], ...], line: int
    ) -> tuple[dict[str, str], list[str]]:
        """Note the first line of each attribute; return the values by name
        and the event handler attributes."""
        values = {name: value or "" for name, value in attrs}
        lines = self.doc.attribute_lines
        for name in values:
            if name not in lines:
                lines[name] = line
        handlers = [
            name
            for name in values
            if name.startswith("on") and len(name) > 3 and name.isalpha()
        ]
        return values, handlers

    def end_tag(self, tag: str, line: int, begin: int, end: int) -> None:
        """Take an end tag from the tokenizer."""
        self.line = line
        self.doc.tag_count += 1
        self.split.tag(begin, end)
        if tag == "a":
            self._end_link()
        elif tag == "body":
            self.doc.body_close += 1
        stack = self.stack
        for depth in range(len(stack) - 1, 0, -1):
            if stack[depth].tag == tag:
                del stack[depth:]
                return

    def text(self, data: str, line: int) -> None:
        """Take a run of text from the tokenizer."""
        self.line = line
        self.split.run = 0
        frame = self.stack[-1]
        tag = frame.tag
        if tag in _INVISIBLE_CONTENT:
            self._invisible_data(tag, data)
            return
        if frame.hidden is not None:
            frame.hidden.text.append(data)
            return
        stripped = data.strip()
        if not stripped:
            return
        self.doc.text_pieces.append(data)
        if self.link is not None:
            self.link.text += data
        if frame.media is not None:
            frame.media.detail = "fallback"
        if frame.tiny:
            self.doc.tiny_text.append(Spot(line, f"<{tag}>", stripped))
        self._check_contrast(frame, data)

    def _note_tag(self, tag: str, values: dict[str, str], line: int) -> None:
        doc = self.doc
        if tag == "html":
            doc.html_tags += 1
        elif tag == "body":
            doc.body_open += 1
        elif tag in ("script", "iframe", "object", "embed", "applet", "frame"):
            doc.risky.append(Spot(line, f"<{tag}>", tag))
        elif tag == "form":
            action = values.get("action", "").strip().lower()
            kind = "form_mailto" if action.startswith("mailto:") else "form"
            doc.risky.append(Spot(line, "<form>", kind))
        elif tag == "a":
            self._end_link()
            if "href" in values:
                self.link = Link(values["href"].strip(), line)
                doc.links.append(self.link)
        elif tag == "title" and doc.title is None:
            doc.title = ""
            doc.title_line = line

    def _note_script_urls(self, tag: str, values: dict[str, str], line: int) -> None:
        for name in ("href", "src", "action", "background"):
            value = values.get(name)
            if value and _is_script_url(value):
                self.doc.risky.append(Spot(line, f"<{tag} {name}>", "javascript_url"))

    def _void(self, tag: str, values: dict[str, str], line: int) -> None:
        if tag == "img":
            self._image(values, line)
        top = self.stack[-1]
        if tag in ("img", "input") and top.media is not None:
            top.media.detail = "fallback"

    def _image(self, values: dict[str, str], line: int) -> None:
        image = Image(
            src=values.get("src", "").strip(),
            line=line,
            alt=values.get("alt"),
            width=values.get("width"),
            height=values.get("height"),
            linked=self.link is not None,
            hidden=self.stack[-1].hidden is not None,
        )
        declarations = css.parse_declarations(values.get("style", ""))
        if image.width is None and "width" in declarations:
            image.width = declarations["width"]
        if image.height is None and "height" in declarations:
            image.height = declarations["height"]
        self.doc.images.append(image)
        if self.link is not None:
            self.link.has_image = True

    def _frame(self, tag: str, values: dict[str, str], line: int) -> _Frame:
        parent = self.stack[-1]
        declarations = self._declarations(tag, values)
        fg = parent.fg
        bg = parent.bg
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

        hidden = parent.hidden
        if hidden is None and (declarations or "hidden" in values):
            reason = _hidden_reason(values, declarations)
            if reason:
                hidden = HiddenBlock(line, f"<{tag}>", reason)
                self.doc.hidden.append(hidden)
        tiny = parent.tiny
        if declarations:  # most elements have no style: skip the style checks
            tiny = _tiny(tiny, declarations)
            self._note_position(tag, declarations, line)
        media = parent.media
        if tag in ("video", "audio"):
            media = Spot(line, f"<{tag}>")
            self.doc.media_without_fallback.append(media)
        return _Frame(tag, line, fg, bg, hidden, tiny, media)

    def _declarations(self, tag: str, values: dict[str, str]) -> dict[str, str]:
        style = values.get("style", "")
        if not self.rules:
            return css.parse_declarations(style)
        key = (tag, values.get("class", ""), values.get("id", ""), style)
        merged = self.merged.get(key)
        if merged is None:
            merged = self.merged[key] = self._merge(tag, values, style)
        return merged

    def _merge(self, tag: str, values: dict[str, str], style: str) -> dict[str, str]:
        """Return the declarations of the ``<style>`` rules that match the
        element, overridden by its inline ``style``."""
        inline = css.parse_declarations(style)
        merged: dict[str, str] = {}
        for key in _selector_keys(tag, values):
            rule = self.rules.get(key)
            if rule:
                merged.update(rule)
        if not merged:
            return inline
        merged.update(inline)
        return merged

    def _note_position(self, tag: str, declarations: dict[str, str], line: int) -> None:
        for side in ("top", "left"):
            value = declarations.get(side)
            if value is None or not value.startswith("-"):
                continue
            number = css.px_value(value)
            if number is not None and number <= -100:
                self.doc.off_page.append(Spot(line, f"<{tag}>", f"{side}:{value}"))

    def _end_link(self) -> None:
        self.link = None

    # -- text ---------------------------------------------------------------

    def _invisible_data(self, tag: str, data: str) -> None:
        if tag == "style":
            # Blank the comments once here, so stripping again finds none.
            data = css.strip_comments(data)
            self.doc.css_chunks.append((self.line, data, True))
            self.merged.clear()
            for rule in css.parse_rules(data):
                self.rules.setdefault(rule.selector, {}).update(rule.declarations)
        elif tag == "title" and self.doc.title is not None:
            self.doc.title += data

    def _check_contrast(self, frame: _Frame, data: str) -> None:
        fg, bg = frame.fg, frame.bg
        if fg is None or bg is None or len(self.doc.contrast) >= _CONTRAST_SAMPLES:
            return
        if css.contrast_ratio(fg, bg) < 4.5:
            sample = data.strip()[:60]
            self.doc.contrast.append(
                Contrast(self.line, f"<{frame.tag}>", fg, bg, sample)
            )


class _WordSplitCounter:
    """Count tags that sit inside a word, such as both tags in ``fr<b></b>ee``."""

    __slots__ = ("source", "run", "last_end", "count")

    def __init__(self, source: str) -> None:
        self.source = source
        self.run = 0  # tags in the current run that started right after a letter
        self.last_end = -1
        self.count = 0

    def tag(self, start: int, end: int) -> None:
        source = self.source
        if self.run and start == self.last_end:
            self.run += 1
        elif start > 0 and source[start - 1] in _LETTERS:
            self.run = 1
        else:
            self.run = 0
        self.last_end = end
        if self.run and end < len(source) and source[end] in _LETTERS:
            self.count += self.run
            self.run = 0


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


def _is_script_url(value: str) -> bool:
    """Return whether a URL runs script once a browser has cleaned it.

    Browsers drop tabs and line breaks anywhere in a URL and control
    characters and spaces around it (WHATWG URL Standard, basic URL parser),
    so ``java&#9;script:`` is still ``javascript:``.
    """
    if not value:
        return False
    cleaned = _URL_IGNORED.sub("", value).strip("\x00- ").lower()
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


def _tiny(inherited: bool, declarations: dict[str, str]) -> bool:
    """Return whether text gets a 0-1 px or transparent font (font-size inherits)."""
    if declarations.get("color") == "transparent":
        return True
    size = declarations.get("font-size")
    if size is None:
        return inherited
    number = css.px_value(size)
    return number is not None and number <= 1


def scan_html(source: str) -> HtmlDoc:
    """Scan ``source`` (decoded HTML); never raises for malformed markup."""
    scanner = _Scanner(source)
    # Script URLs need the letters "script", written out or as character
    # references; most mail has neither, and the attribute checks are skipped.
    scanner.has_javascript = "script" in source.lower() or "&#" in source
    feed(source, scanner)
    doc = scanner.doc
    doc.open_at_end = [frame.tag for frame in scanner.stack[1:]]
    for media in list(doc.media_without_fallback):
        if media.detail == "fallback":
            doc.media_without_fallback.remove(media)
    doc.word_split_tags = scanner.split.count
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
