"""HTML rules: structure, active content, hidden text, contrast, size, wording."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...findings import Severity, rule
from ..context import LintContext
from ..css import sa_color_distance
from ..htmlscan import HiddenBlock, HtmlDoc
from ..message import Part
from ..model import LintItem
from .headers import decoded_subject

__all__ = ["RULES"]


NO_HTML_TAG = rule(
    "lint.html.no_html_tag",
    "lint",
    Severity.WARNING,
    "HTML part without an html element",
    fix="Wrap the HTML in <html><head>...</head><body>...</body></html>.",
    reference="SpamAssassin rule HTML_MIME_NO_HTML_TAG",
)
BODY_UNBALANCED = rule(
    "lint.html.body_unbalanced",
    "lint",
    Severity.WARNING,
    "Unbalanced body tags",
    fix="Open and close <body> exactly once.",
    reference="SpamAssassin rule HTML_TAG_BALANCE_BODY",
)
CONTENT_AFTER_HTML = rule(
    "lint.html.content_after_html",
    "lint",
    Severity.WARNING,
    "Content after the closing html tag",
    fix="Move everything inside <body>; nothing may follow </html>.",
    reference="SpamAssassin rule CONTENT_AFTER_HTML",
)
UNCLOSED = rule(
    "lint.html.unclosed",
    "lint",
    Severity.WARNING,
    "Document ends with elements still open",
    fix="Close <table>, <body> and <html>; clients repair truncated HTML differently.",
    reference="HTML Living Standard, section 13.2.6",
)
SCRIPT = rule(
    "lint.html.script",
    "lint",
    Severity.ERROR,
    "Script element",
    fix="Remove scripts; no mail client runs them and filters treat them as an attack.",
    reference="SpamAssassin rule JS_FROMCHARCODE",
)
EVENT_HANDLER = rule(
    "lint.html.event_handler",
    "lint",
    Severity.ERROR,
    "Event handler attribute",
    fix="Remove on* attributes such as onclick; clients strip them.",
    reference="SpamAssassin rule JS_FROMCHARCODE",
)
JAVASCRIPT_URL = rule(
    "lint.html.javascript_url",
    "lint",
    Severity.ERROR,
    "javascript: URL",
    fix="Link to an https page instead of a javascript: URL.",
    reference="SpamAssassin rule JS_FROMCHARCODE",
)
IFRAME = rule(
    "lint.html.iframe",
    "lint",
    Severity.ERROR,
    "Iframe or frame element",
    fix="Replace the frame with a linked image or a link.",
    reference="SpamAssassin rule HTML_IFRAME_SRC",
)
OBJECT = rule(
    "lint.html.object",
    "lint",
    Severity.ERROR,
    "Object, embed or applet element",
    fix="Replace embedded objects with a linked image.",
    reference="SpamAssassin rule HTML_EMBEDS",
)
FORM = rule(
    "lint.html.form",
    "lint",
    Severity.WARNING,
    "Form element",
    fix="Link to a form on a web page; Outlook on Windows does not support forms.",
    reference="caniemail html-form; SpamAssassin rule HTML_FORMACTION_MAILTO",
)
MEDIA_FALLBACK = rule(
    "lint.html.media_fallback",
    "lint",
    Severity.WARNING,
    "Video or audio element without fallback",
    fix="Put a linked poster image inside the element for clients that strip it.",
    reference="caniemail html-video and html-audio",
)
HIDDEN_TEXT = rule(
    "lint.html.hidden_text",
    "lint",
    Severity.WARNING,
    "Hidden text beyond one preheader",
    fix="Keep one hidden preheader at most; remove other hidden text.",
    reference="SpamAssassin rules HTML_TEXT_INVISIBLE_STYLE and "
    "HTML_TEXT_INVISIBLE_FONT",
)
HIDDEN_LONG = rule(
    "lint.html.hidden_long",
    "lint",
    Severity.ERROR,
    "Long block of hidden text",
    fix="Remove the hidden block; 1,400 hidden characters look like filter poisoning.",
    reference="SpamAssassin rule LONG_INVISIBLE_TEXT",
)
TINY_TEXT = rule(
    "lint.html.tiny_text",
    "lint",
    Severity.WARNING,
    "Text in a 0-1 px or transparent font",
    fix="Show text at a readable size and colour, or remove it.",
    reference="SpamAssassin rule HTML_TEXT_INVISIBLE_FONT",
)
OFF_PAGE = rule(
    "lint.html.off_page",
    "lint",
    Severity.WARNING,
    "Element positioned off the page",
    fix="Remove content placed at a top or left of -100 px or less.",
    reference="SpamAssassin rule HTML_OFF_PAGE",
)
LOW_CONTRAST = rule(
    "lint.html.low_contrast",
    "lint",
    Severity.WARNING,
    "Text colour nearly equal to its background",
    fix="Give the text a colour that stands out from its background.",
    reference="SpamAssassin rule HTML_FONT_LOW_CONTRAST",
)
WEAK_CONTRAST = rule(
    "lint.html.weak_contrast",
    "lint",
    Severity.INFO,
    "Text contrast below WCAG 4.5:1",
    fix="Darken the text or lighten the background to reach 4.5:1.",
    reference="WCAG 2.1, success criterion 1.4.3",
)
TITLE_SUBJECT = rule(
    "lint.html.title_subject",
    "lint",
    Severity.WARNING,
    "HTML title much longer than the Subject",
    fix="Use the Subject as the HTML <title>.",
    reference="SpamAssassin rule HTML_TITLE_SUBJ_DIFF",
)
CLIPPING = rule(
    "lint.html.clipping",
    "lint",
    Severity.ERROR,
    "HTML large enough for Gmail to clip",
    fix="Shrink the HTML below about 100 KB: remove unused CSS, comments and "
    "whitespace.",
    reference="Gmail clips messages whose HTML passes about 102 KB",
)
OBFUSCATION = rule(
    "lint.html.obfuscation",
    "lint",
    Severity.WARNING,
    "Obfuscated wording",
    fix="Write words whole: no tags or zero-width characters inside them.",
    reference="SpamAssassin rules HTML_OBFUSCATE_05_10, UNICODE_OBFU_ZW and LONGWORDS",
)
PREHEADER = rule(
    "lint.html.preheader",
    "lint",
    Severity.INFO,
    "Preheader missing or weak",
    fix="Start the body with 40-140 characters of preview text that add to "
    "the Subject.",
    reference="Inbox preview text shows about 40-140 characters",
)
SPAM_PHRASE = rule(
    "lint.html.spam_phrase",
    "lint",
    Severity.INFO,
    "Phrase that spam filters score",
    fix="Reword the phrase.",
    reference="SpamAssassin 20_phrases.cf",
)

_CLIP_ERROR = 102 * 1024
_CLIP_WARNING = 90 * 1024
_HIDDEN_LONG = 1400
_TINY_SPOTS = 2
_TITLE_RATIO = 3.5
_ZERO_WIDTH = re.compile("\\w[\u200b\u200c\u200d\ufeff]+\\w")
_ZERO_WIDTH_CHARS = "\u200b\u200c\u200d\ufeff"
# Six long words in a row. The first starts with a letter and looks back for
# the word boundary, so the regex engine skips ahead to letters instead of
# trying the boundary at every position.
_LONG_WORDS = re.compile(
    r"[a-zA-Z](?<!\w[a-zA-Z])[a-zA-Z]{7,}\b\s+"
    r"(?:\b[a-zA-Z]{8,}\b\s+){4}\b[a-zA-Z]{8,}\b"
)
# The lookahead names the first letter of every phrase, so most positions
# fail on one character class instead of trying each phrase in turn.
_SPAM_PHRASES = re.compile(
    r"\b(?=[1acdelnoruvwy])"
    r"(100% (?:guaranteed|free|satisfied)|act now|risk[- ]free|no obligation"
    r"|winner|you have been selected|once in a lifetime|double your"
    r"|earn \$\d+|cash bonus|lowest price|no credit check|viagra"
    r"|click here now|limited time only|urgent response)\b",
    re.I,
)


def _each(ctx: LintContext) -> Iterator[tuple[Part, HtmlDoc]]:
    yield from ctx.html


def check_structure(ctx: LintContext) -> Iterator[LintItem]:
    """Check <html>, <body> balance, trailing content and unclosed elements."""
    for part, doc in _each(ctx):
        if doc.html_tags == 0:
            yield ctx.at_part(NO_HTML_TAG, "The HTML has no <html> element.", part)
        if doc.body_open != 1 or doc.body_close != 1:
            yield ctx.at_part(
                BODY_UNBALANCED,
                f"The HTML opens <body> {doc.body_open} time(s) and closes it "
                f"{doc.body_close} time(s).",
                part,
            )
        if doc.content_after_html is not None:
            yield ctx.at_part(
                CONTENT_AFTER_HTML,
                "Content follows </html>.",
                part,
                line=doc.content_after_html,
            )
        open_blocks = [t for t in doc.open_at_end if t in ("html", "body", "table")]
        if open_blocks:
            yield ctx.at_part(
                UNCLOSED,
                "The HTML ends with "
                + ", ".join(f"<{t}>" for t in open_blocks)
                + " still open.",
                part,
            )


_ACTIVE = {
    "script": SCRIPT,
    "handler": EVENT_HANDLER,
    "javascript_url": JAVASCRIPT_URL,
    "iframe": IFRAME,
    "frame": IFRAME,
    "object": OBJECT,
    "embed": OBJECT,
    "applet": OBJECT,
    "form": FORM,
    "form_mailto": FORM,
}


def check_active_content(ctx: LintContext) -> Iterator[LintItem]:
    """Flag scripts, handlers, frames, embedded objects and forms."""
    for part, doc in _each(ctx):
        for spot in doc.risky:
            declared = _ACTIVE[spot.detail]
            severity = Severity.ERROR if spot.detail == "form_mailto" else None
            message = f"The HTML contains {spot.element}."
            if spot.detail == "form_mailto":
                message = "The HTML contains a <form> that posts to a mailto: address."
            elif spot.detail == "javascript_url":
                message = (
                    f"The URL in {spot.element} runs script (javascript: or vbscript:)."
                )
            yield ctx.at_part(
                declared,
                message,
                part,
                line=spot.line,
                column=spot.column,
                element=spot.element,
                severity=severity,
            )


def check_media(ctx: LintContext) -> Iterator[LintItem]:
    """Flag video and audio elements with no fallback content inside."""
    for part, doc in _each(ctx):
        for spot in doc.media_without_fallback:
            yield ctx.at_part(
                MEDIA_FALLBACK,
                f"{spot.element} has no fallback image, link or text inside.",
                part,
                line=spot.line,
                column=spot.column,
                element=spot.element,
            )


def check_hidden(ctx: LintContext) -> Iterator[LintItem]:
    """Check hidden blocks, tiny fonts and off-page elements."""
    for part, doc in _each(ctx):
        yield from _hidden_blocks(ctx, part, doc.hidden)
        if len(doc.tiny_text) > _TINY_SPOTS:
            spot = doc.tiny_text[0]
            yield ctx.at_part(
                TINY_TEXT,
                f"{len(doc.tiny_text)} pieces of visible text use a 0-1 px or "
                "transparent font.",
                part,
                line=spot.line,
                column=spot.column,
                element=spot.element,
                evidence=spot.detail[:80],
            )
        for spot in doc.off_page[:1]:
            yield ctx.at_part(
                OFF_PAGE,
                f"{spot.element} is placed off the page ({spot.detail}).",
                part,
                line=spot.line,
                column=spot.column,
                element=spot.element,
            )


def _hidden_blocks(
    ctx: LintContext, part: Part, blocks: list[HiddenBlock]
) -> Iterator[LintItem]:
    with_text = [block for block in blocks if block.text_length > 0]
    for block in with_text:
        if block.text_length >= _HIDDEN_LONG:
            yield ctx.at_part(
                HIDDEN_LONG,
                f"{block.element} ({block.reason}) hides {block.text_length} "
                "characters of text.",
                part,
                line=block.line,
                column=block.column,
                element=block.element,
                evidence=" ".join("".join(block.text).split())[:120],
            )
    if len(with_text) > 1:
        extra = with_text[1]
        yield ctx.at_part(
            HIDDEN_TEXT,
            f"{len(with_text)} hidden elements hold text; only a preheader "
            "should be hidden.",
            part,
            line=extra.line,
            column=extra.column,
            element=extra.element,
            evidence=" ".join("".join(extra.text).split())[:120],
        )


def check_contrast(ctx: LintContext) -> Iterator[LintItem]:
    """Flag text nearly invisible on its background, and weak contrast."""
    for part, doc in _each(ctx):
        low = [
            c
            for c in doc.contrast
            if sa_color_distance(c.foreground, c.background) < 12
        ]
        for spot in low[:1]:
            yield ctx.at_part(
                LOW_CONTRAST,
                f"Text in {_hex(spot.foreground)} on {_hex(spot.background)} is "
                f"nearly invisible ({len(low)} place(s)).",
                part,
                line=spot.line,
                column=spot.column,
                element=spot.element,
                evidence=spot.sample,
            )
        weak = [c for c in doc.contrast if c not in low]
        for spot in weak[:1]:
            yield ctx.at_part(
                WEAK_CONTRAST,
                f"Text in {_hex(spot.foreground)} on {_hex(spot.background)} is "
                f"below 4.5:1 contrast ({len(weak)} place(s)).",
                part,
                line=spot.line,
                column=spot.column,
                element=spot.element,
                evidence=spot.sample,
            )


def _hex(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def check_title(ctx: LintContext) -> Iterator[LintItem]:
    """Compare the <title> length with the Subject's."""
    subject = ctx.message.header("Subject")
    if subject is None:
        return
    text = decoded_subject(subject.value).strip()
    for part, doc in _each(ctx):
        title = " ".join((doc.title or "").split())
        if text and title and len(title) / len(text) > _TITLE_RATIO:
            yield ctx.at_part(
                TITLE_SUBJECT,
                f"The <title> has {len(title)} characters, more than 3.5 times "
                f"the Subject's {len(text)}.",
                part,
                line=doc.title_line,
                element="<title>",
                evidence=title[:120],
            )


def check_size(ctx: LintContext) -> Iterator[LintItem]:
    """Warn near and fail past Gmail's clipping size of about 102 KB."""
    for part, _ in _each(ctx):
        size = len(part.raw_body)
        if size >= _CLIP_WARNING:
            severity = Severity.ERROR if size >= _CLIP_ERROR else Severity.WARNING
            yield ctx.at_part(
                CLIPPING,
                f"The HTML part is {size / 1024:.0f} KB encoded; Gmail clips at "
                "about 102 KB and hides the rest, footer included.",
                part,
                severity=severity,
            )


def check_obfuscation(ctx: LintContext) -> Iterator[LintItem]:
    """Flag tags inside words, zero-width characters and word salad."""
    for part, doc in _each(ctx):
        if doc.tag_count and doc.word_split_tags >= 3:
            share = doc.word_split_tags / doc.tag_count
            if share > 0.05:
                yield ctx.at_part(
                    OBFUSCATION,
                    f"{doc.word_split_tags} of {doc.tag_count} tags sit inside words.",
                    part,
                )
    text = ctx.html_text + "\n" + ctx.plain_text
    if _has_zero_width(text) and len(_ZERO_WIDTH.findall(text)) >= 2:
        yield ctx.at_message(OBFUSCATION, "Zero-width characters sit inside words.")
    salad = _LONG_WORDS.search(text)
    if salad:
        yield ctx.at_message(
            OBFUSCATION,
            "The text has a run of six or more long words.",
            evidence=salad.group(0)[:120],
        )


def _has_zero_width(text: str) -> bool:
    """Return whether ``text`` has a zero-width character: a substring test
    per character is much faster than the pattern, and most text has none."""
    return any(char in text for char in _ZERO_WIDTH_CHARS)


def check_preheader(ctx: LintContext) -> Iterator[LintItem]:
    """Check that a preheader exists, has 40-140 characters and adds to the Subject."""
    if ctx.options.transactional:
        return
    subject = ctx.message.header("Subject")
    subject_text = decoded_subject(subject.value).strip().lower() if subject else ""
    for part, doc in _each(ctx):
        blocks = [b for b in doc.hidden if b.text_length > 0]
        if not blocks:
            yield ctx.at_part(PREHEADER, "The HTML has no hidden preheader.", part)
            continue
        text = " ".join("".join(blocks[0].text).split())
        problem = None
        if len(text) < 40 or len(text) > 140:
            problem = f"The preheader has {len(text)} characters, not 40-140."
        elif subject_text and text.lower() == subject_text:
            problem = "The preheader repeats the Subject."
        if problem:
            yield ctx.at_part(
                PREHEADER,
                problem,
                part,
                line=blocks[0].line,
                column=blocks[0].column,
                element=blocks[0].element,
                evidence=text[:140],
            )


def check_phrases(ctx: LintContext) -> Iterator[LintItem]:
    """Note phrases that SpamAssassin's phrase rules score."""
    text = ctx.html_text + "\n" + ctx.plain_text
    found = sorted({m.group(0).lower() for m in _SPAM_PHRASES.finditer(text)})
    if found:
        yield ctx.at_message(
            SPAM_PHRASE,
            "The text uses: " + ", ".join(found) + ".",
        )


RULES = (
    check_structure,
    check_active_content,
    check_media,
    check_hidden,
    check_contrast,
    check_title,
    check_size,
    check_obfuscation,
    check_preheader,
    check_phrases,
)
"""HTML rules in report order."""
