"""Client-support rules: HTML and CSS features the target mail clients lack.

Features are detected from element names, attributes, inline styles and
``<style>`` blocks, then looked up in the packaged caniemail copy. A feature
unsupported (``n``) in a target client is a warning, except for progressive
enhancements that degrade to plain rendering (:data:`GRACEFUL`), which are
notes like features only partly supported (``a``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from functools import lru_cache

from ...findings import Rule, Severity, rule
from ..caniemail import Feature, client_names, feature, load_features
from ..context import LintContext
from ..css import strip_comments
from ..htmlscan import HtmlDoc
from ..model import LintItem

__all__ = ["GRACEFUL", "RULES", "clear_caches", "detect_features"]


UNSUPPORTED = rule(
    "lint.client.unsupported",
    "lint",
    Severity.WARNING,
    "Feature a target mail client does not support",
    fix="Use a fallback that works without the feature, or drop it.",
    reference="caniemail.com feature data (MIT)",
)
PARTIAL = rule(
    "lint.client.partial",
    "lint",
    Severity.INFO,
    "Feature a target mail client supports only in part",
    fix="Check the caniemail notes and test the message in that client.",
    reference="caniemail.com feature data (MIT)",
)

GRACEFUL = frozenset(
    (
        "css-outline",
        "css-cursor",
        "css-transition",
        "css-animation",
        "css-at-keyframes",
        "css-at-media",
        "css-user-select",
        "html-target",
        "css-text-decoration-color",
        "css-text-decoration-style",
        "css-text-decoration-thickness",
        "css-text-underline-offset",
    )
)
"""Features whose absence leaves the mail readable: a missing one is a note.
Pseudo-classes and pseudo-elements (``:hover``, ``::before``) count too."""

_TAG_SLUGS = {
    **{f"h{n}": "html-h1-h6" for n in range(1, 7)},
    "ul": "html-lists",
    "ol": "html-lists",
    "dl": "html-lists",
    "input": "html-input-text",
    "button": "html-button-submit",
}
_ATTRIBUTE_SLUGS = {
    "srcset": "html-srcset",
    "loading": "html-loading-attribute",
    "role": "html-role",
    "dir": "html-dir",
    "lang": "html-lang",
    "aria-label": "html-aria-label",
    "aria-hidden": "html-aria-hidden",
    "aria-describedby": "html-aria-describedby",
    "aria-labelledby": "html-aria-labelledby",
    "aria-live": "html-aria-live",
    "background": "html-background",
    "align": "html-align",
    "valign": "html-valign",
    "width": "html-width",
    "height": "html-height",
    "cellpadding": "html-cellpadding",
    "cellspacing": "html-cellspacing",
    "target": "html-target",
    "hidden": "html-hidden",
    "required": "html-required",
    "popover": "html-popover",
}
_PROPERTY_FAMILIES = (
    ("margin-inline", "css-margin-inline-start-end"),
    ("margin-block", "css-margin-block-start-end"),
    ("padding-inline", "css-padding-inline-start-end"),
    ("padding-block", "css-padding-block-start-end"),
    ("margin", "css-margin"),
    ("padding", "css-padding"),
    ("border-radius", "css-border-radius"),
    ("border-collapse", "css-border-collapse"),
    ("border-spacing", "css-border-spacing"),
    ("border-image", "css-border-image"),
    ("border", "css-border"),
    ("column-", "css-column-layout-properties"),
    ("grid-template", "css-grid-template"),
)
_SIDES = {"left", "right", "top", "bottom"}
# (gate, literal, pattern, slug). The gate is a substring of every match,
# shared by several entries, so one test skips them all. The literal, or one
# of a tuple of literals, must occur: without a pattern it is the feature,
# with one a cheap test that skips most regex searches.
_VALUE_SLUGS: tuple[
    tuple[str | None, str | tuple[str, ...] | None, re.Pattern[str] | None, str],
    ...,
] = (
    ("gradient(", "linear-gradient(", None, "css-linear-gradient"),
    ("gradient(", "radial-gradient(", None, "css-radial-gradient"),
    ("gradient(", "conic-gradient(", None, "css-conic-gradient"),
    (None, "calc(", None, "css-unit-calc"),
    (None, "var(--", None, "css-variables"),
    (None, "rgba(", None, "css-rgba"),
    (None, None, re.compile(r"!\s*important"), "css-important"),
    (None, "rem", re.compile(r"\d(?:\.\d+)?rem\b"), "css-unit-rem"),
    (None, ("vw", "vh"), re.compile(r"\d(?:\.\d+)?v(?:w|h)\b"), "css-unit-vw"),
    (
        "(",
        ("min(", "max(", "clamp("),
        re.compile(r"(?:min|max|clamp)\("),
        "css-function-clamp",
    ),
)
_BLOCK_SLUGS: tuple[
    tuple[str | None, str | tuple[str, ...] | None, re.Pattern[str] | None, str],
    ...,
] = (
    ("@", "@media", None, "css-at-media"),
    ("prefers-", "prefers-color-scheme", None, "css-at-media-prefers-color-scheme"),
    (
        "prefers-",
        "prefers-reduced-motion",
        None,
        "css-at-media-prefers-reduced-motion",
    ),
    ("@", "@font-face", None, "css-at-font-face"),
    ("@", "@import", None, "css-at-import"),
    ("@", "@keyframes", None, "css-at-keyframes"),
    ("@", "@supports", None, "css-at-supports"),
    # The colon comes first, so the regex engine jumps between colons. The
    # look-behind then rules out a word character, a hyphen or a colon before.
    (
        None,
        None,
        re.compile(r":(?<![:\w-]:):?before\b"),
        "css-pseudo-element-before",
    ),
    (None, None, re.compile(r":(?<![:\w-]:):?after\b"), "css-pseudo-element-after"),
)
_AT_WORD = re.compile(r"@([a-z-]+)")
"""The word after an ``@``: one search finds every at-rule in use."""
# display:flex, display:inline-grid, display:none: one search from the
# literal "display" finds the first of each.
_DISPLAY = re.compile(r"display\s*:\s*(?:(none)|(?:inline-)?(flex|grid))")
_DISPLAY_SLUGS = {
    "flex": "css-display-flex",
    "grid": "css-display-grid",
    "none": "css-display-none",
}
# A declaration block, skipped whole, or a pseudo-class in a selector: a
# colon after a word character, ``]`` or ``)``, so that in
# ``li:first-child:hover`` both count. The pattern starts at the colon and
# looks back, so the regex engine jumps from brace or colon to the next one
# instead of trying every word character.
_PSEUDO_CLASS = re.compile(r"\{[^{}]*\}|:(?<=[\w\])]:)([a-z-]+)")
# A property name, ``name:`` after ``;``, ``{``, white space or NUL, found
# in the reversed text (``:eman``). Starting at the colon is four times as
# fast as starting at every space. The name is the same maximal run either
# way, and matches cannot overlap in either direction.
_PROPERTY_REVERSED = re.compile(r":\s*([a-z-]*[a-z])[;{\s\x00]")
_COLON = re.compile(r"\s*:")
_SLUGS: dict[str, str] = {}
"""The caniemail slug of each property name seen so far."""
_SLUGS_MAX = 4096
_IMAGE_FORMATS = {
    ".webp": "image-webp",
    ".svg": "image-svg",
    ".avif": "image-avif",
    ".heic": "image-heif",
    ".heif": "image-heif",
    ".bmp": "image-bmp",
    ".tif": "image-tiff",
    ".tiff": "image-tiff",
    ".ico": "image-ico",
}


def _property_slug(name: str) -> str:
    slug = _SLUGS.get(name)
    if slug is None:
        if len(_SLUGS) >= _SLUGS_MAX:
            _SLUGS.clear()
        slug = _SLUGS[name] = _family_slug(name)
    return slug


def _family_slug(name: str) -> str:
    if name in _SIDES:
        return "css-left-right-top-bottom"
    for prefix, slug in _PROPERTY_FAMILIES:
        if name.startswith(prefix):
            return slug
    return f"css-{name}"


def detect_features(doc: HtmlDoc) -> dict[str, int]:
    """Return the caniemail slugs used in ``doc`` with the first line of each."""
    found: dict[str, int] = {}
    known = load_features()

    def note(slug: str, line: int) -> None:
        if slug not in found and slug in known:
            found[slug] = line

    for tag, line in doc.tag_lines.items():
        note(_TAG_SLUGS.get(tag, f"html-{tag}"), line)
    for attribute, line in doc.attribute_lines.items():
        slug = _ATTRIBUTE_SLUGS.get(attribute)
        if slug:
            note(slug, line)
    for block in (False, True):
        chunks = [
            (line, text) for line, text, is_block in doc.css_chunks if is_block == block
        ]
        if chunks:
            _css_features(chunks, block, note)
    for image in doc.images:
        _image_feature(image.src, image.line, note)
    return found


def _css_features(
    chunks: list[tuple[int, str]], block: bool, note: Callable[[str, int], None]
) -> None:
    """Detect CSS features in all chunks at once; a feature's line is the line
    of its first use, counted from the line where its chunk starts."""
    starts: list[int] = []
    lines: list[int] = []
    pieces: list[str] = []
    offset = 0
    for line, text in chunks:
        starts.append(offset)
        lines.append(line)
        cleaned = strip_comments(text).lower()
        pieces.append(cleaned)
        offset += len(cleaned) + 1
    joined = "\n".join(pieces)

    def line_at(position: int) -> int:
        index = bisect.bisect_right(starts, position) - 1
        return lines[index] + joined.count("\n", starts[index], position)

    for name, position in _first_property_uses(pieces):
        note(_property_slug(name), line_at(position))
    _display_values(joined, line_at, note)
    gates: dict[str, bool] = {}
    at_words: list[str] = []
    for gate, literal, pattern, slug in _VALUE_SLUGS + (_BLOCK_SLUGS if block else ()):
        if gate is not None:
            passed = gates.get(gate)
            if passed is None:
                passed = gates[gate] = gate in joined
                if gate == "@" and passed:
                    at_words = list(dict.fromkeys(_AT_WORD.findall(joined)))
            if not passed:
                continue
        if isinstance(literal, tuple):
            if not any(each in joined for each in literal):
                continue
        elif literal is not None and pattern is None:
            if gate == "@" and not any(w.startswith(literal[1:]) for w in at_words):
                continue  # "@media" occurs where a word after "@" starts "media"
            position = joined.find(literal)
            if position >= 0:
                note(slug, line_at(position))
            continue
        elif literal is not None and literal not in joined:
            continue
        assert pattern is not None
        found = pattern.search(joined)
        if found is not None:
            note(slug, line_at(found.start()))
    if block:
        _pseudo_classes(joined, line_at, note)


def _display_values(
    css: str, line_at: Callable[[int], int], note: Callable[[str, int], None]
) -> None:
    """Note display:flex, display:grid and display:none (inline- forms too)."""
    if "display" not in css:
        return
    first: dict[str, int] = {}
    for match in _DISPLAY.finditer(css):
        value = match.group(1) or match.group(2)
        if value not in first:
            first[value] = match.start()
            if len(first) == len(_DISPLAY_SLUGS):
                break
    for value, slug in _DISPLAY_SLUGS.items():  # in the order of the data
        if value in first:
            note(slug, line_at(first[value]))


def _first_property_uses(pieces: list[str]) -> list[tuple[str, int]]:
    """Return each property name used in ``pieces`` with the offset of its
    first use in the pieces joined by one character, in order of first use.

    A name counts after ``;``, ``{``, white space or the start of its
    piece. The pieces are joined with NUL (any NUL inside them becomes
    U+0001, which keeps offsets) so that no use spans two pieces.
    """
    marked = "\x00" + "\x00".join(
        piece.replace("\x00", "\x01") if "\x00" in piece else piece for piece in pieces
    )
    used = _PROPERTY_REVERSED.findall(marked[::-1])
    if not used:
        return []
    # Reversing the reversed names joined puts them in order and the
    # right way round at once.
    names = dict.fromkeys("\x00".join(used)[::-1].split("\x00"))
    return [(name, _first_use(marked, name) - 1) for name in names]


def _first_use(marked: str, name: str) -> int:
    """Return the offset of the first use of property ``name`` in ``marked``:
    the first occurrence with an allowed character before it and a colon
    after it."""
    after = len(name)
    position = marked.find(name)
    while True:
        assert position > 0  # ``marked`` starts with NUL; a name never does
        before = marked[position - 1]
        if (before in ";{\x00" or before.isspace()) and _COLON.match(
            marked, position + after
        ):
            return position
        position = marked.find(name, position + 1)


def _pseudo_classes(
    css: str, line_at: Callable[[int], int], note: Callable[[str, int], None]
) -> None:
    """Note pseudo-classes in selectors; the pattern steps over declaration
    blocks, so ``color:red`` inside one is no pseudo-class."""
    used = set(_PSEUDO_CLASS.findall(css))
    used.discard("")
    if not used:
        return
    seen: set[str] = set()
    for match in _PSEUDO_CLASS.finditer(css):
        if len(seen) == len(used):
            return  # every name is placed; the rest of the text adds none
        name = match.group(1)
        if name is not None and name not in seen:
            seen.add(name)
            note(f"css-pseudo-class-{name}", line_at(match.start(1)))


def _image_feature(src: str, line: int, note: Callable[[str, int], None]) -> None:
    lowered = src.lower()
    if lowered.startswith("data:image/"):
        note("image-base64", line)
        return
    path = lowered.split("?", 1)[0].split("#", 1)[0]
    for suffix, slug in _IMAGE_FORMATS.items():
        if path.endswith(suffix):
            note(slug, line)


def check_client_support(ctx: LintContext) -> Iterator[LintItem]:
    """Report features the target clients do not support, or support in part."""
    targets = ctx.options.clients
    for part, doc in ctx.html:
        for slug, line in detect_features(doc).items():
            verdict = _verdict(slug, targets)
            if verdict is None:
                continue
            declared, message, item = verdict
            yield ctx.at_part(
                declared,
                message,
                part,
                line=line,
                element=item.title,
                evidence=item.url,
            )


@lru_cache(maxsize=2048)
def _verdict(slug: str, targets: tuple[str, ...]) -> tuple[Rule, str, Feature] | None:
    """Return the rule, message and feature to report for ``slug``, or ``None``
    when every target client supports it. Only the slug and the clients
    matter, so the result is cached."""
    item = feature(slug)
    assert item is not None
    lacking, partial = _support(item, targets)
    if not lacking and not partial:
        return None
    graceful = slug in GRACEFUL or slug.startswith("css-pseudo-")
    declared = UNSUPPORTED if lacking and not graceful else PARTIAL
    return declared, _support_message(item, lacking, partial, client_names()), item


def _support(item: Feature, targets: tuple[str, ...]) -> tuple[list[str], list[str]]:
    lacking, partial = [], []
    for client in targets:
        support = item.support.get(client)
        if support is None:
            continue
        if support.code == "n":
            lacking.append(client)
        elif support.code == "a":
            partial.append(client)
    return lacking, partial


def _support_message(
    item: Feature, lacking: list[str], partial: list[str], names: dict[str, str]
) -> str:
    pieces = []
    if lacking:
        pieces.append(
            f"{item.title} is not supported in "
            + ", ".join(names.get(c, c) for c in lacking)
        )
    if partial:
        prefix = "and" if lacking else f"{item.title} is"
        pieces.append(
            f"{prefix} only partly supported in "
            + ", ".join(names.get(c, c) for c in partial)
        )
    return " ".join(pieces) + "."


def clear_caches() -> None:
    """Forget the slugs and verdicts worked out so far."""
    _SLUGS.clear()
    _verdict.cache_clear()


RULES = (check_client_support,)
"""Client-support rules."""
