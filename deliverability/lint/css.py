"""Small CSS helpers for mail HTML: declarations, simple rules and colours.

Mail clients read inline ``style`` attributes and, in some clients, ``<style>``
blocks. The linter needs only property names (for client support), a few
values (hidden, tiny or off-page text) and colours (contrast), so this is a
forgiving scanner, not a CSS parser: a malformed declaration is skipped.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

__all__ = [
    "NAMED_COLORS",
    "clear_caches",
    "StyleRule",
    "background_color",
    "contrast_ratio",
    "parse_color",
    "parse_declarations",
    "parse_rules",
    "px_value",
    "sa_color_distance",
    "strip_comments",
]

_BRACE = re.compile(r"[{}]")
# A rule starts at the start of the text or after a brace. An attempt inside
# a run of other characters ends where one from the run's start did, so
# without the look-behind a long run with no "{" took quadratic time.
_RULE = re.compile(r"(?<![^{}])([^{}]*)\{([^{}]*)\}")
_SIMPLE_SELECTOR = re.compile(r"^[a-zA-Z0-9]*(?:[.#][\w-]+)?$")
_HEX = re.compile(r"^#([0-9a-f]{3}|[0-9a-f]{6})$")
_RGB = re.compile(
    r"^rgba?\(\s*([\d.]+%?)[\s,]+([\d.]+%?)[\s,]+([\d.]+%?)(?:[\s,/]+([\d.]+%?))?\s*\)$"
)
_LENGTH = re.compile(r"^(-?[\d.]+)\s*(px|pt|em|rem|%)?$")

# CSS named colours that mail templates use in practice; others are unknown
# and never produce a contrast finding.
NAMED_COLORS: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "red": (255, 0, 0),
    "green": (0, 128, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "gray": (128, 128, 128),
    "grey": (128, 128, 128),
    "silver": (192, 192, 192),
    "navy": (0, 0, 128),
    "maroon": (128, 0, 0),
    "orange": (255, 165, 0),
    "purple": (128, 0, 128),
    "teal": (0, 128, 128),
    "lightgray": (211, 211, 211),
    "lightgrey": (211, 211, 211),
    "darkgray": (169, 169, 169),
    "darkgrey": (169, 169, 169),
    "whitesmoke": (245, 245, 245),
    "gainsboro": (220, 220, 220),
}

Color = tuple[int, int, int]


class StyleRule(NamedTuple):
    """One rule of a ``<style>`` block with a simple selector (a tuple, because
    a template has thousands)."""

    selector: str
    """``tag``, ``.class``, ``#id`` or ``tag.class`` in lower case."""
    declarations: dict[str, str]


def strip_comments(css: str) -> str:
    """Return ``css`` without ``/* ... */`` comments (an open one runs to the end).

    A comment becomes a space, or the line breaks it spanned, so that line
    numbers counted in the result are those of ``css``. An open comment stops
    short of a final line break. ``str.find`` walks the text in C: templates
    carry thousands of comments, where a lazy regex tried each character.
    """
    start = css.find("/*")
    if start < 0:
        return css
    pieces = []
    position = 0
    while start >= 0:
        close = css.find("*/", start + 2)
        if close >= 0:
            end = close + 2
        else:
            end = len(css) - 1 if css.endswith("\n") else len(css)
        pieces.append(css[position:start])
        pieces.append("\n" * css.count("\n", start, end) or " ")
        position = end
        start = css.find("/*", end)
    pieces.append(css[position:])
    return "".join(pieces)


@lru_cache(maxsize=4096)
def parse_declarations(style: str) -> dict[str, str]:
    """Parse ``prop: value; ...`` into a dict with lower-case property names.

    ``!important`` is dropped from values; the last declaration of a property
    wins, as in CSS.
    """
    result: dict[str, str] = {}
    for chunk in style.lower().split(";"):
        name, sep, value = chunk.partition(":")
        if not sep:
            continue
        name = name.strip()
        if not name or not name.replace("-", "").isalnum():
            continue
        value = value.strip()
        if value.endswith("!important"):
            value = value[: -len("!important")].strip()
        result[name] = value
    return result


def parse_rules(css: str) -> list[StyleRule]:
    """Return the rules of ``css`` whose selectors are simple.

    Rules inside ``@media`` blocks are skipped because they apply only on
    some screens; descendant and pseudo-class selectors are skipped too.
    """
    css = strip_comments(css)
    css = _drop_at_blocks(css)
    rules: list[StyleRule] = []
    for selectors, body in _RULE.findall(css):
        declarations = None
        for selector in selectors.lower().split(","):
            selector = selector.strip()
            if selector and _SIMPLE_SELECTOR.match(selector):
                if declarations is None:
                    declarations = parse_declarations(body)
                rules.append(StyleRule(selector, declarations))
    return rules


def _drop_at_blocks(css: str) -> str:
    """Remove ``@media {...}`` style blocks, nested braces included."""
    out: list[str] = []
    index = 0
    while True:
        start = css.find("@", index)
        if start < 0:
            out.append(css[index:])
            return "".join(out)
        out.append(css[index:start])
        brace = css.find("{", start)
        semicolon = css.find(";", start)
        if brace < 0 or (0 <= semicolon < brace):
            index = len(css) if semicolon < 0 else semicolon + 1
            continue
        index = _skip_block(css, brace)


def _skip_block(css: str, brace: int) -> int:
    depth = 0
    for match in _BRACE.finditer(css, brace):
        depth += 1 if match.group(0) == "{" else -1
        if depth == 0:
            return match.end()
    return len(css)


@lru_cache(maxsize=1024)
def parse_color(value: str) -> Color | None:
    """Parse a CSS or HTML colour (``#fff``, ``#ffffff``, ``rgb()``, a name).

    Returns ``None`` for ``transparent``, ``inherit`` and anything unknown.
    """
    value = value.strip().lower()
    if not value:
        return None
    if value in NAMED_COLORS:
        return NAMED_COLORS[value]
    if not value.startswith(("#", "rgb")) and len(value) in (3, 6):
        value = "#" + value  # legacy bgcolor="ffffff"
    match = _HEX.match(value)
    if match:
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
    return _parse_rgb(value)


def _parse_rgb(value: str) -> Color | None:
    match = _RGB.match(value)
    if not match:
        return None
    alpha = match.group(4)
    if alpha is not None and _channel(alpha, 1.0) == 0:
        return None
    channels = [_channel(match.group(i), 255.0) for i in (1, 2, 3)]
    return (channels[0], channels[1], channels[2])


def _channel(text: str, scale: float) -> int:
    try:
        if text.endswith("%"):
            return round(float(text[:-1]) * 255 / 100)
        number = float(text)
    except ValueError:
        return 0
    return round(number if scale == 255.0 else number * 255)


def background_color(declarations: dict[str, str]) -> Color | None:
    """Return the colour of ``background-color`` or of a plain ``background``."""
    value = declarations.get("background-color")
    if value is None:
        value = declarations.get("background")
        if value is None or "url(" in value:
            return None
        value = value.split()[0] if value.split() else value
    return parse_color(value)


def px_value(value: str) -> float | None:
    """Return a length in CSS pixels (pt, em and % are converted roughly)."""
    match = _LENGTH.match(value.strip())
    if not match:
        return None
    number = float(match.group(1)) if match.group(1) not in ("-", ".") else 0.0
    unit = match.group(2) or "px"
    factors = {"px": 1.0, "pt": 4 / 3, "em": 16.0, "rem": 16.0, "%": 0.16}
    return number * factors[unit]


def sa_color_distance(first: Color, second: Color) -> float:
    """Return SpamAssassin's brightness-weighted RGB distance of two colours.

    SpamAssassin 4.0 (HTML.pm) fires HTML_FONT_LOW_CONTRAST below 12: the
    Euclidean distance of the channel differences weighted 0.2126, 0.7152
    and 0.0722.
    """
    red = (first[0] - second[0]) * 0.2126
    green = (first[1] - second[1]) * 0.7152
    blue = (first[2] - second[2]) * 0.0722
    return float((red**2 + green**2 + blue**2) ** 0.5)


@lru_cache(maxsize=1024)
def contrast_ratio(first: Color, second: Color) -> float:
    """Return the WCAG 2.x contrast ratio of two colours (1.0 to 21.0)."""
    light = _luminance(first)
    dark = _luminance(second)
    if dark > light:
        light, dark = dark, light
    return (light + 0.05) / (dark + 0.05)


def _luminance(color: Color) -> float:
    values = []
    for channel in color:
        scaled = channel / 255
        if scaled <= 0.03928:
            values.append(scaled / 12.92)
        else:
            values.append(((scaled + 0.055) / 1.055) ** 2.4)
    return 0.2126 * values[0] + 0.7152 * values[1] + 0.0722 * values[2]


def clear_caches() -> None:
    """Forget the declarations, colours and contrast ratios parsed so far."""
    parse_declarations.cache_clear()
    parse_color.cache_clear()
    contrast_ratio.cache_clear()
