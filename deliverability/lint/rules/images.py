"""Image rules: image-only and image-heavy mail, alt text, sizes, tracking pixels.

The text and area thresholds are SpamAssassin 4.0.1's. HTML_IMAGE_ONLY_*
fires on at most 400 bytes of visible text next to an image. HTML_IMAGE_RATIO_*
fires on at most 0.008 text characters per square pixel of image, where a
missing size counts as 200 x 200 and a percentage is taken of 800 x 600.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...findings import Severity, rule
from ..context import LintContext
from ..htmlscan import Image
from ..model import LintItem

__all__ = ["RULES", "image_area"]


IMAGE_ONLY = rule(
    "lint.image.image_only",
    "lint",
    Severity.WARNING,
    "Images with almost no text",
    fix="Write the message as text with images beside it: at least 400 "
    "characters of visible text.",
    reference="SpamAssassin rules HTML_IMAGE_ONLY_04 to HTML_IMAGE_ONLY_32",
)
IMAGE_HEAVY = rule(
    "lint.image.image_heavy",
    "lint",
    Severity.WARNING,
    "Little text for the image area",
    fix="Add text or use smaller images (more than 0.008 text characters per "
    "square pixel).",
    reference="SpamAssassin rules HTML_IMAGE_RATIO_02 to HTML_IMAGE_RATIO_08",
)
SHORT_LINKED = rule(
    "lint.image.short_linked",
    "lint",
    Severity.WARNING,
    "Short message built around a linked image",
    fix="Add text that says what the link is; do not send a clickable picture alone.",
    reference="SpamAssassin rules HTML_SHORT_LINK_IMG_1 to HTML_SHORT_LINK_IMG_3",
)
ALT_MISSING = rule(
    "lint.image.alt_missing",
    "lint",
    Severity.WARNING,
    "Image without alt text",
    fix="Give every image an alt attribute; clients that block images show it instead.",
    reference="WCAG 2.1, success criterion 1.1.1",
)
NO_DIMENSIONS = rule(
    "lint.image.no_dimensions",
    "lint",
    Severity.INFO,
    "Images without width and height",
    fix="Set width and height on each image so the layout holds while images "
    "are blocked.",
    reference="HTML Living Standard, section 4.8.4.4",
)
TRACKING_PIXEL = rule(
    "lint.image.tracking_pixel",
    "lint",
    Severity.INFO,
    "Remote tracking pixel",
    fix="Nothing to do unless you did not mean to track opens; Apple Mail "
    "prefetches images, so open counts are inflated.",
    reference="SpamAssassin rule T_REMOTE_IMAGE",
)

_IMAGE_ONLY_TEXT = 400
_IMAGE_HEAVY_TEXT = 3200
_RATIO = 0.008
_SHORT_LINKED_TEXT = 2048
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(px|%)?\s*$")


def _dimension(value: str | None, full: int) -> float | None:
    if value is None:
        return None
    match = _NUMBER.match(value)
    if match is None:
        return None
    number = float(match.group(1))
    return number * full / 100 if match.group(2) == "%" else number


def image_area(image: Image) -> float:
    """Return the image's area in square pixels, as SpamAssassin estimates it."""
    width = _dimension(image.width, 800)
    height = _dimension(image.height, 600)
    return (width if width is not None else 200) * (
        height if height is not None else 200
    )


def _is_pixel(image: Image) -> bool:
    width = _dimension(image.width, 800)
    height = _dimension(image.height, 600)
    return width is not None and height is not None and width <= 2 and height <= 2


def _content_images(ctx: LintContext) -> list[Image]:
    return [
        image
        for _, doc in ctx.html
        for image in doc.images
        if not image.hidden and not _is_pixel(image)
    ]


def check_balance(ctx: LintContext) -> Iterator[LintItem]:
    """Check text against images: image-only, image-heavy, short linked image."""
    if not ctx.html:
        return
    part, _ = ctx.html[0]
    images = _content_images(ctx)
    if not images:
        return
    # str.split and the pattern \s agree on what is whitespace.
    text = len("".join(ctx.html_text.split()).encode("utf-8"))
    first = images[0]
    if text <= _IMAGE_ONLY_TEXT:
        yield ctx.at_part(
            IMAGE_ONLY,
            f"The HTML shows {len(images)} image(s) and only {text} bytes of text.",
            part,
            line=first.line,
            column=first.column,
            element="<img>",
            severity=Severity.ERROR if text == 0 else None,
        )
    elif text < _IMAGE_HEAVY_TEXT:
        area = sum(image_area(image) for image in images)
        if area and text / area <= _RATIO:
            yield ctx.at_part(
                IMAGE_HEAVY,
                f"{text} text characters for {area:.0f} square pixels of images "
                f"(ratio {text / area:.4f}, needs more than {_RATIO}).",
                part,
                line=first.line,
                column=first.column,
                element="<img>",
            )
    linked = [image for image in images if image.linked]
    if linked and text < _SHORT_LINKED_TEXT:
        yield ctx.at_part(
            SHORT_LINKED,
            f"A linked image carries a message of only {text} bytes of text.",
            part,
            line=linked[0].line,
            column=linked[0].column,
            element="<a><img>",
        )


def check_alt(ctx: LintContext) -> Iterator[LintItem]:
    """Flag each content image that has no alt attribute."""
    for part, doc in ctx.html:
        for image in doc.images:
            if image.alt is None and not _is_pixel(image) and not image.hidden:
                yield ctx.at_part(
                    ALT_MISSING,
                    "The image has no alt attribute.",
                    part,
                    line=image.line,
                    column=image.column,
                    element="<img>",
                    evidence=image.src[:200],
                )


def check_dimensions(ctx: LintContext) -> Iterator[LintItem]:
    """Note images that lack width or height, once per part."""
    for part, doc in ctx.html:
        missing = [i for i in doc.images if i.width is None or i.height is None]
        if missing:
            yield ctx.at_part(
                NO_DIMENSIONS,
                f"{len(missing)} image(s) lack a width or height.",
                part,
                line=missing[0].line,
                column=missing[0].column,
                element="<img>",
                evidence=missing[0].src[:200],
            )


def check_tracking(ctx: LintContext) -> Iterator[LintItem]:
    """Note remote 1 x 1 images, which report opens to the sender."""
    for part, doc in ctx.html:
        pixels = [
            i
            for i in doc.images
            if _is_pixel(i) and i.src.lower().startswith(("http://", "https://"))
        ]
        if pixels:
            yield ctx.at_part(
                TRACKING_PIXEL,
                f"{len(pixels)} remote 1 x 1 image(s) track opens.",
                part,
                line=pixels[0].line,
                column=pixels[0].column,
                element="<img>",
                evidence=pixels[0].src[:200],
            )


RULES = (check_balance, check_alt, check_dimensions, check_tracking)
"""Image rules in report order."""
