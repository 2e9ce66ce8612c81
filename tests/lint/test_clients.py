"""Client support from the packaged caniemail data."""

from __future__ import annotations

from deliverability.lint.caniemail import feature, load_features

from .messages import BODY, build_message, codes, html_document


def findings_for(report, code):
    return [f for f in report.findings if f.code == code]


def test_data_has_features():
    assert len(load_features()) > 250


def test_flex_unsupported_in_outlook_windows():
    assert feature("css-display-flex").support["outlook.windows"].code == "n"


def test_flex_is_warning(lint):
    body = '<div style="display:flex">' + BODY + "</div>"
    report = lint(build_message(html=html_document(body)))
    messages = [f.message for f in findings_for(report, "lint.client.unsupported")]
    assert any(
        m.startswith("display:flex is not supported in Outlook Windows")
        for m in messages
    )


def test_feature_location_points_at_line(lint):
    body = '\n<div style="display:flex">' + BODY + "</div>"
    report = lint(build_message(html=html_document(body)))
    found = [
        f
        for f in findings_for(report, "lint.client.unsupported")
        if "flex" in f.message
    ]
    assert found[0].location == "part 2 text/html, line 10, display:flex"


def test_style_block_feature(lint):
    head = "<style>@media (prefers-color-scheme: dark) { p { color: #fff } }</style>\n"
    report = lint(build_message(html=html_document(BODY, head=head)))
    found = [f for f in report.findings if "prefers-color-scheme" in f.message]
    assert found[0].code == "lint.client.unsupported"


def test_hover_is_only_a_note(lint):
    head = "<style>a:hover { color: #f00 }</style>\n"
    report = lint(build_message(html=html_document(BODY, head=head)))
    found = [f for f in report.findings if f.message.startswith(":hover")]
    assert found[0].severity == "info"


def test_webp_image(lint):
    body = (
        BODY + '<img src="https://example.com/a.webp" alt="A" width="10" height="10">'
    )
    report = lint(build_message(html=html_document(body)))
    assert any(
        "WebP" in f.message or "webp" in f.message.lower()
        for f in report.findings
        if f.code.startswith("lint.client.")
    )


def test_client_selection_limits_findings(lint):
    body = '<div style="display:flex">' + BODY + "</div>"
    report = lint(
        build_message(html=html_document(body)), clients=("apple-mail.macos",)
    )
    assert "lint.client.unsupported" not in codes(report)


def test_style_block_feature_points_at_its_line(lint):
    head = (
        "<style>\np { color: #333; }\n/* a\ncomment */\ntd { float: left; }\n</style>\n"
    )
    html = html_document(head=head)
    report = lint(build_message(html=html))
    floats = [
        f
        for f in findings_for(report, "lint.client.unsupported")
        if "float" in f.message
    ]
    style_line = html.splitlines().index("<style>") + 1
    assert floats[0].location == f"part 2 text/html, line {style_line + 4}, float"


def test_pseudo_class_points_at_its_line(lint):
    head = "<style>\np { color: #333; }\n\na:visited { color: #333; }\n</style>\n"
    html = html_document(head=head)
    report = lint(build_message(html=html))
    visited = [f for f in report.findings if f.location.endswith(":visited")]
    style_line = html.splitlines().index("<style>") + 1
    assert visited[0].location == f"part 2 text/html, line {style_line + 3}, :visited"


def _features(html):
    from deliverability.lint.htmlscan import scan_html
    from deliverability.lint.rules.clients import detect_features

    return detect_features(scan_html(html))


def test_each_pseudo_class_of_a_chain_counts():
    found = _features("<style>\nli:first-child:hover { color: red; }\n</style><p>x</p>")
    assert found["css-pseudo-class-first-child"] == 2
    assert found["css-pseudo-class-hover"] == 2


def test_colon_inside_a_declaration_is_no_pseudo_class():
    found = _features("<style>\np { color:red; background:url(a:b) }\n</style><p>x</p>")
    assert not [slug for slug in found if slug.startswith("css-pseudo-class-")]


def test_property_line_skips_longer_names():
    html = (
        "<style>\n.a { padding-top: 1px; }\n.b { margin-top: 2px; }\n"
        ".c {\n  top: 3px; }\n</style><p>x</p>"
    )
    found = _features(html)
    assert found["css-padding"] == 2
    assert found["css-left-right-top-bottom"] == 5


def test_property_at_style_start_counts():
    found = _features('<p>a</p>\n<p style="float:left">b</p>')
    assert found["css-float"] == 2


def test_property_split_across_styles_ignored():
    # One inline style ends with a bare word, the next starts with a colon:
    # neither uses a property.
    found = _features('<p style="float">a</p><p style=":left">b</p>')
    assert "css-float" not in found


def test_nul_inside_css_is_not_a_separator():
    found = _features("<style>\np {\x00float: left }\n</style><p>x</p>")
    assert "css-float" not in found
