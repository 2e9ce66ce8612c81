"""The HTML report: escaping, self-containment, contents, files and the base page."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import DictLoader

from deliverability.audit.model import DomainReport
from deliverability.report import (
    html_environment,
    html_file_name,
    render_html,
    render_html_index,
    write_html_reports,
)

from .samples import build_passing_report

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)


class TagCollector(HTMLParser):
    """Record every start tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(page)
    collector.close()
    return collector


def tag_names(page: str) -> set[str]:
    return {name for name, _ in parse(page).tags}


def test_markup_from_dns_is_text(hostile_report: DomainReport) -> None:
    page = render_html(hostile_report)
    collector = parse(page)
    text = "".join(collector.text)
    assert "script" not in tag_names(page)
    assert "img" not in tag_names(page)
    assert "<script>alert(1)</script>" in text
    assert '"><img src=x onerror=alert(2)>' in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_no_attribute_carries_dns_data(hostile_report: DomainReport) -> None:
    for _, attributes in parse(render_html(hostile_report)).tags:
        for name, value in attributes.items():
            assert not name.startswith("on")
            assert "alert" not in (value or "")


def test_csp_and_viewport(report: DomainReport) -> None:
    metas = [a for name, a in parse(render_html(report)).tags if name == "meta"]
    csp = [m for m in metas if m.get("http-equiv") == "Content-Security-Policy"]
    viewport = [m for m in metas if m.get("name") == "viewport"]
    assert [m["content"] for m in csp] == [CSP]
    assert viewport[0]["content"] == "width=device-width, initial-scale=1"


def test_csp_comes_first(report: DomainReport) -> None:
    page = render_html(report)
    assert page.index("Content-Security-Policy") < page.index("<style>")


def test_loads_nothing(report: DomainReport) -> None:
    page = render_html(report)
    names = tag_names(page)
    for forbidden in ("script", "link", "img", "iframe", "object", "embed", "base"):
        assert forbidden not in names
    assert "details" not in names
    assert "url(" not in page
    assert "@import" not in page
    assert not re.search(r"\ssrc=", page)


def test_links_stay_in_page(report: DomainReport) -> None:
    hrefs = [a["href"] for name, a in parse(render_html(report)).tags if "href" in a]
    assert hrefs
    assert all(href and href.startswith("#") for href in hrefs)


def test_anchors_exist(report: DomainReport) -> None:
    collector = parse(render_html(report))
    ids = {a["id"] for _, a in collector.tags if a.get("id")}
    hrefs = {a["href"] for _, a in collector.tags if a.get("href")}
    assert {href[1:] for href in hrefs if href} <= ids


def test_summary_contents(report: DomainReport) -> None:
    page = render_html(report)
    assert '<div class="verdict fail">' in page
    assert "<li>1 error</li>" in page
    assert "<li>3 warnings</li>" in page
    assert "<li>27 DNS queries</li>" in page
    assert "Gmail and Yahoo bulk sender rules (2024)" in page


def test_section_per_check(report: DomainReport) -> None:
    ids = [
        a.get("id") for name, a in parse(render_html(report)).tags if name == "section"
    ]
    for check in ("spf", "dmarc", "dkim", "mx", "ptr", "bimi"):
        assert f"check-{check}" in ids


def test_spf_totals_and_tree(report: DomainReport) -> None:
    page = render_html(report)
    assert (
        '<li class="over">DNS lookups: <strong>12</strong> of 10 allowed</li>' in page
    )
    assert "<li>Void lookups: <strong>1</strong> of 2 allowed</li>" in page
    tree = page[page.index('<ul class="spf-tree">') :]
    assert tree.count('<div class="spf-node">') == 9
    assert '<strong class="mono">_netblocks3.google.com</strong>' in tree
    assert "<span>1 void</span>" in tree
    assert '<span class="badge warn">none</span>' in tree
    assert '<span class="muted">no such domain (NXDOMAIN)</span>' in tree


def test_spf_tree_nesting(report: DomainReport) -> None:
    page = render_html(report)
    tree = page[page.index('<ul class="spf-tree">') :]
    depth = 0
    deepest = 0
    for token in re.findall(r"<ul|</ul>", tree):
        depth += 1 if token == "<ul" else -1
        deepest = max(deepest, depth)
        if depth == 0:
            break
    assert deepest == 3


def test_details_generic_keys(report: DomainReport) -> None:
    page = render_html(report)
    assert "<dt>redirect</dt>" in page
    assert "<dt>selector</dt>" in page
    assert "<dt>org domain psl</dt>" in page
    assert '<th scope="col">key type</th>' in page
    assert '<th scope="col">forward confirmed</th>' in page


def test_fixes_errors_first(report: DomainReport) -> None:
    page = render_html(report)
    fixes = page[
        page.index('<section id="fixes">') : page.index('<section id="providers">')
    ]
    codes = re.findall(r'<code class="code">([^<]+)</code>', fixes)
    assert codes == [
        "spf.lookup_limit",
        "dkim.weak_key",
        "dmarc.policy_none",
        "ptr.generic_name",
    ]
    assert "Reference: RFC 7208, section 4.6.4" in fixes


def test_print_css(report: DomainReport) -> None:
    page = render_html(report)
    assert "@media print" in page
    assert "break-inside: avoid" in page


def test_incomplete_notice(incomplete_report: DomainReport) -> None:
    page = render_html(incomplete_report)
    assert '<div class="verdict incomplete">' in page
    assert "A DNS lookup failed for dkim" in page


def test_check_badges(incomplete_report: DomainReport, report: DomainReport) -> None:
    stalled = render_html(incomplete_report)
    failing = render_html(report)
    dkim = '<h2>DKIM <span class="badge {0}">{0}</span></h2>'
    assert dkim.format("incomplete") in stalled
    assert dkim.format("warning") in failing
    assert '<h2>SPF <span class="badge fail">fail</span></h2>' in failing
    assert '<h2>BIMI <span class="badge pass">pass</span></h2>' in failing


def test_idn_page(idn_report: DomainReport) -> None:
    page = render_html(idn_report)
    assert "<h1>bücher.example</h1>" in page
    assert "<code>xn--bcher-kva.example</code>" in page
    assert "The domain could not be audited" in page


def test_index_links(all_reports: list[DomainReport]) -> None:
    links = {
        "news.example.com": "news.example.com.html",
        "evil.example": "javascript:x",
    }
    page = render_html_index(all_reports, links)
    hrefs = [a["href"] for name, a in parse(page).tags if name == "a"]
    assert hrefs == ["news.example.com.html", "javascript%3Ax"]
    assert "<title>Mail domain audit: 5 domains</title>" in page


def test_file_names() -> None:
    taken: set[str] = set()
    assert html_file_name("News.Example.COM", taken) == "news.example.com.html"
    assert html_file_name("news.example.com", taken) == "news.example.com-2.html"
    assert html_file_name("index", taken) == "index-2.html"
    assert html_file_name("../../etc/passwd", taken) == "_.._etc_passwd.html"
    assert html_file_name("con.example", taken) == "_con.example.html"
    assert html_file_name("", taken) == "domain.html"


def test_long_file_name() -> None:
    long_name = ".".join(["a" * 63] * 3) + ".example"
    name = html_file_name(long_name, set())
    assert len(name.encode()) < 200
    assert name != html_file_name(long_name[:-1] + "f", set())


def test_write_reports(tmp_path: Path, all_reports: list[DomainReport]) -> None:
    paths = write_html_reports(iter(all_reports), tmp_path / "out")
    names = [path.name for path in paths]
    assert names == [
        "news.example.com.html",
        "evil.example.html",
        "slow.example.html",
        "good.example.html",
        "xn--bcher-kva.example.html",
        "index.html",
    ]
    index = paths[-1].read_text("utf-8")
    assert '<a href="xn--bcher-kva.example.html">bücher.example</a>' in index
    assert "<h1>news.example.com</h1>" in paths[0].read_text("utf-8")


def test_environment_extends_base() -> None:
    page_template = (
        '{% extends "base.html.j2" %}'
        "{% block title %}Campaign lint{% endblock %}"
        "{% block content %}<p>{{ subject }}</p>{% endblock %}"
    )
    environment = html_environment(DictLoader({"lint.html.j2": page_template}))
    page = environment.get_template("lint.html.j2").render(subject="<b>Sale</b>")
    assert "<p>&lt;b&gt;Sale&lt;/b&gt;</p>" in page
    assert "<title>Campaign lint</title>" in page
    assert CSP in page
    assert "@media print" in page


def test_environment_macros() -> None:
    page_template = (
        '{% import "macros.html.j2" as m %}{{ m.badge("error", "<x>") }}'
        "{{ m.value(data) }}"
    )
    environment = html_environment(DictLoader({"t.j2": page_template}))
    data = {"hosts": [{"exchange": "<mx>"}], "on": True}
    page = environment.get_template("t.j2").render(data=data)
    assert '<span class="badge error">&lt;x&gt;</span>' in page
    assert '<td data-label="exchange"><code>&lt;mx&gt;</code></td>' in page
    assert "<dd>yes</dd>" in page


def test_passing_page_has_no_fixes() -> None:
    page = render_html(build_passing_report())
    assert "No error or warning to fix." in page


def test_controls_visible_in_page(hostile_report: DomainReport) -> None:
    page = render_html(hostile_report)
    assert "\x1b" not in page
    assert "\x07" not in page
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in page


def test_newlines_kept_in_evidence(report: DomainReport) -> None:
    finding = report.checks["spf"].findings[0]
    report.checks["spf"].findings[0] = replace(finding, evidence="line one\nline two")
    assert '<pre class="record">line one\nline two</pre>' in render_html(report)
