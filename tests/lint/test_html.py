"""HTML rules: structure, active content, hidden text, contrast, size."""

from __future__ import annotations

import pytest

from deliverability.lint.css import strip_comments
from deliverability.lint.htmlscan import scan_html
from deliverability.lint.rules.html import _LONG_WORDS

from .messages import BODY, build_message, codes, html_document


def lint_body(lint, body: str, **kwargs):
    return lint(build_message(html=html_document(body, **kwargs)))


def test_no_html_tag(lint):
    html = html_document().replace("<html>", "").replace("</html>", "")
    assert "lint.html.no_html_tag" in codes(lint(build_message(html=html)))


def test_two_body_tags(lint):
    html = html_document().replace("</body>", "<body></body>")
    assert "lint.html.body_unbalanced" in codes(lint(build_message(html=html)))


def test_content_after_html(lint):
    html = html_document() + "<p>trailing text</p>"
    assert "lint.html.content_after_html" in codes(lint(build_message(html=html)))


def test_comment_after_html_allowed(lint):
    html = html_document() + "<!-- sent by the platform -->\n"
    assert "lint.html.content_after_html" not in codes(lint(build_message(html=html)))


def test_html_never_closes(lint):
    html = "<html><body><table><tr><td>" + BODY
    assert "lint.html.unclosed" in codes(lint(build_message(html=html)))


def test_script(lint):
    report = lint_body(lint, BODY + "<script>alert(1)</script>")
    assert "lint.html.script" in codes(report)


def test_script_location_names_element_and_line(lint):
    report = lint_body(lint, BODY + "\n<script>alert(1)</script>")
    found = [f for f in report.findings if f.code == "lint.html.script"]
    assert found[0].location == "part 2 text/html, line 21, <script>"


def test_event_handler(lint):
    report = lint_body(lint, BODY + '<p onclick="x()">Tap</p>')
    assert "lint.html.event_handler" in codes(report)


def test_javascript_url(lint):
    report = lint_body(lint, BODY + '<a href="javascript:void(0)">Open</a>')
    assert "lint.html.javascript_url" in codes(report)


def test_iframe(lint):
    report = lint_body(lint, BODY + '<iframe src="https://example.com/"></iframe>')
    assert "lint.html.iframe" in codes(report)


def test_object(lint):
    report = lint_body(lint, BODY + '<object data="movie.swf"></object>')
    assert "lint.html.object" in codes(report)


def test_form_is_warning(lint):
    report = lint_body(lint, BODY + '<form action="https://example.com/"></form>')
    found = [f for f in report.findings if f.code == "lint.html.form"]
    assert found[0].severity == "warning"


def test_form_mailto_is_error(lint):
    report = lint_body(lint, BODY + '<form action="mailto:a@example.com"></form>')
    found = [f for f in report.findings if f.code == "lint.html.form"]
    assert found[0].severity == "error"


def test_video_without_fallback(lint):
    report = lint_body(
        lint, BODY + '<video src="clip.mp4"><source src="a.mp4"></video>'
    )
    assert "lint.html.media_fallback" in codes(report)


def test_video_with_poster_image_passes(lint):
    body = (
        BODY
        + '<video src="c.mp4"><a href="https://example.com/v">'
        + '<img src="p.jpg" alt="Play"></a></video>'
    )
    assert "lint.html.media_fallback" not in codes(lint_body(lint, body))


def test_audio_with_text_fallback_passes(lint):
    body = BODY + '<audio src="a.mp3">Listen on our website.</audio>'
    assert "lint.html.media_fallback" not in codes(lint_body(lint, body))


def test_second_hidden_text(lint):
    body = BODY + '<span style="display:none">cheap pills cheap pills</span>'
    assert "lint.html.hidden_text" in codes(lint_body(lint, body))


def test_single_preheader_allowed(lint):
    assert "lint.html.hidden_text" not in codes(lint_body(lint, BODY))


def test_hidden_by_style_class(lint):
    head = "<style>.ghost { display: none }</style>\n"
    body = BODY + '<p class="ghost">secret words here</p>'
    assert "lint.html.hidden_text" in codes(lint_body(lint, body, head=head))


def test_long_hidden_block(lint):
    body = BODY + '<div style="visibility:hidden">' + "word " * 400 + "</div>"
    assert "lint.html.hidden_long" in codes(lint_body(lint, body))


def test_tiny_font_spots(lint):
    spots = '<span style="font-size:1px">x y</span>' * 3
    assert "lint.html.tiny_text" in codes(lint_body(lint, BODY + spots))


def test_font_size_reset_in_child(lint):
    body = '<td style="font-size:1px"><p style="font-size:14px">' + BODY + "</p></td>"
    assert "lint.html.tiny_text" not in codes(lint_body(lint, body))


def test_off_page(lint):
    body = BODY + '<div style="position:absolute;left:-2000px">buy now</div>'
    assert "lint.html.off_page" in codes(lint_body(lint, body))


def test_white_on_white(lint):
    body = (
        '<table bgcolor="#ffffff"><tr><td>'
        '<font color="#fefefe">hidden words</font></td></tr></table>' + BODY
    )
    assert "lint.html.low_contrast" in codes(lint_body(lint, body))


def test_white_on_dark_class_background_passes(lint):
    head = "<style>.dark { background-color: #222222 }</style>\n"
    body = '<div class="dark"><p style="color:#ffffff">light on dark</p></div>' + BODY
    assert "lint.html.low_contrast" not in codes(lint_body(lint, body, head=head))


def test_text_on_background_image_not_judged(lint):
    body = (
        '<td background="hero.jpg"><p style="color:#ffffff">on a photo</p></td>' + BODY
    )
    assert "lint.html.low_contrast" not in codes(lint_body(lint, body))


def test_grey_on_white_weak_contrast_is_info(lint):
    body = '<p style="color:#aaaaaa">pale grey words</p>' + BODY
    report = lint_body(lint, body)
    found = [f for f in report.findings if f.code == "lint.html.weak_contrast"]
    assert found[0].severity == "info"


def test_title_far_longer_than_subject(lint):
    html = html_document().replace(
        "<title>Autumn garden workshops</title>",
        "<title>" + "Long title words " * 10 + "</title>",
    )
    data = build_message(html=html, headers={"Subject": "Hello there"})
    assert "lint.html.title_subject" in codes(lint(data))


def test_clipping_warning_at_95_kb(lint):
    body = BODY + "<p>" + ("garden " * 13_000) + "</p>"
    found = [
        f for f in lint_body(lint, body).findings if f.code == "lint.html.clipping"
    ]
    assert found[0].severity == "warning"


def test_clipping_error_past_102_kb(lint):
    body = BODY + "<p>" + ("garden " * 16_000) + "</p>"
    found = [
        f for f in lint_body(lint, body).findings if f.code == "lint.html.clipping"
    ]
    assert found[0].severity == "error"


def test_tags_inside_words(lint):
    body = BODY + "<p>" + "fr<b></b>ee v<i></i>ia gr<u></u>a " * 10 + "</p>"
    assert "lint.html.obfuscation" in codes(lint_body(lint, body))


def test_zero_width_inside_words(lint):
    body = BODY + "<p>fr\u200bee mo\u200bney</p>"
    assert "lint.html.obfuscation" in codes(lint_body(lint, body))


def test_preheader_missing_is_info(lint):
    report = lint_body(lint, BODY, preheader="")
    found = [f for f in report.findings if f.code == "lint.html.preheader"]
    assert found[0].severity == "info"


def test_preheader_too_short(lint):
    report = lint_body(lint, BODY, preheader="Hi")
    assert "lint.html.preheader" in codes(report)


def test_spam_phrase_is_info(lint):
    report = lint_body(lint, BODY + "<p>Act now, it is risk-free!</p>")
    found = [f for f in report.findings if f.code == "lint.html.spam_phrase"]
    assert found[0].severity == "info"


@pytest.mark.parametrize(
    "href",
    [
        "java&#9;script:alert(1)",
        "java\tscript:alert(1)",
        "&#x6A;avascript:alert(1)",
        " JavaScript:alert(1)",
        "vbscript:msgbox(1)",
        "&#1;&#31;javascript:alert(1)",
    ],
)
def test_script_url_written_around_filters(lint, href):
    report = lint(build_message(html=html_document(BODY + f'<a href="{href}">x</a>')))
    assert "lint.html.javascript_url" in codes(report)


def test_script_url_message_names_scheme(lint):
    body = BODY + '<a href="javascript:void(0)">x</a>'
    report = lint(build_message(html=html_document(body)))
    found = [f for f in report.findings if f.code == "lint.html.javascript_url"]
    assert "javascript:" in found[0].message


def test_split_tags_never_exceed_all_tags():
    doc = scan_html('<a href="/1">x</a><a href="/2">y</a><a href="/3">z</a>')
    assert doc.word_split_tags <= doc.tag_count


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a{}/* x */b{}", "a{} b{}"),
        ("a{}/* x\ny */b{}", "a{}\nb{}"),
        ("a{}/*/b{}", "a{} "),
        ("a{}/* open\n", "a{} \n"),
        ("/**//**/x", "  x"),
    ],
)
def test_strip_comments(source: str, expected: str) -> None:
    assert strip_comments(source) == expected


def test_long_words_need_a_word_start() -> None:
    salad = "xyzabcdefgh " + "abcdefghij " * 5
    assert _LONG_WORDS.search(salad) is not None
    assert _LONG_WORDS.search("_" + salad) is None


def test_minified_html_locations_name_the_column(lint):
    # One line contains the whole document, so the line number alone is no help.
    padding = "<p>" + "Plenty of words about the garden. " * 12 + "</p>"
    body = (
        BODY
        + padding
        + '<img src="https://example.com/a.png" width="300" height="100">'
    )
    html = html_document(body).replace("\n", "")
    report = lint(build_message(html=html, html_encoding="base64"))
    found = [f for f in report.findings if f.code == "lint.image.alt_missing"]
    assert len(found) == 1
    column = html.index('<img src="https://example.com/a.png"') + 1
    assert found[0].location == f"part 2 text/html, line 1, column {column}, <img>"


def test_short_lines_keep_plain_locations(lint):
    body = BODY + '\n<img src="https://example.com/a.png" width="300" height="100">'
    report = lint(build_message(html=html_document(body)))
    found = [f for f in report.findings if f.code == "lint.image.alt_missing"]
    assert "column" not in found[0].location
