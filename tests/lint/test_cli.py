"""The lint command: inputs, formats, exit statuses and the HTML report."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from deliverability.cli import main

from .messages import HEADERS, TEXT, build_message, html_document


@pytest.fixture
def clean_eml(tmp_path):
    path = tmp_path / "clean.eml"
    path.write_bytes(build_message())
    return path


@pytest.fixture
def bad_eml(tmp_path):
    path = tmp_path / "bad.eml"
    html = html_document(
        '<p>See <a href="https://evil.example.net/">www.example.com</a></p>'
        '<script>alert("x")</script><img src="https://cdn.example.net/<b>x</b>.png">'
    )
    path.write_bytes(build_message(html=html))
    return path


def test_clean_message_exits_zero(clean_eml, capsys):
    assert main(["lint", str(clean_eml)]) == 0


def test_errors_exit_one(bad_eml, capsys):
    assert main(["lint", str(bad_eml)]) == 1


def test_fail_on_never(bad_eml, capsys):
    assert main(["lint", str(bad_eml), "--fail-on", "never"]) == 0


def test_fail_on_warning(tmp_path, capsys):
    path = tmp_path / "w.eml"
    path.write_bytes(build_message(text=None))
    assert main(["lint", str(path), "--fail-on", "warning"]) == 1


def test_missing_file_exits_two(tmp_path, capsys):
    assert main(["lint", str(tmp_path / "none.eml")]) == 2


def test_missing_file_message(tmp_path, capsys):
    main(["lint", str(tmp_path / "none.eml")])
    assert "not found" in capsys.readouterr().err


def test_bad_path_among_several_is_skipped(clean_eml, bad_eml, tmp_path, capsys):
    missing = tmp_path / "none.eml"
    status = main(
        ["lint", str(clean_eml), str(missing), str(bad_eml), "--format", "json"]
    )
    assert status == 2
    captured = capsys.readouterr()
    reports = json.loads(captured.out)
    assert [r["message"] for r in reports] == [str(clean_eml), str(bad_eml)]
    assert f"{missing} not found" in captured.err
    assert "1 of 3 messages could not be linted" in captured.err


@pytest.mark.parametrize("kind", ["not_a_folder", "fifo", "device"])
def test_unreadable_kinds_are_skipped(clean_eml, tmp_path, capsys, kind):
    if kind == "not_a_folder":
        bad = clean_eml / "x.eml"
    elif kind == "fifo":
        bad = tmp_path / "pipe.eml"
        os.mkfifo(bad)
    else:
        bad = Path("/dev/zero")
    status = main(["lint", str(clean_eml), str(bad), "--format", "json"])
    assert status == 2
    captured = capsys.readouterr()
    assert [r["message"] for r in json.loads(captured.out)] == [str(clean_eml)]
    assert str(bad) in captured.err


def test_every_path_bad_writes_no_report(tmp_path, capsys):
    status = main(["lint", str(tmp_path / "a.eml"), str(tmp_path / "b.eml")])
    assert status == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("not found") == 2


def test_size_cap_exits_two(clean_eml, capsys):
    assert main(["lint", str(clean_eml), "--max-size", "0.001"]) == 2


def test_unknown_client_exits_two(clean_eml, capsys):
    assert main(["lint", str(clean_eml), "--clients", "pigeon.post"]) == 2


def test_text_with_two_messages_exits_two(clean_eml, tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text(TEXT)
    assert main(["lint", str(clean_eml), str(clean_eml), "--text", str(text)]) == 2


def test_json_single_object(bad_eml, capsys):
    main(["lint", str(bad_eml), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert data["message"] == str(bad_eml)


def test_json_findings_have_location(bad_eml, capsys):
    main(["lint", str(bad_eml), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    script = [f for f in data["findings"] if f["code"] == "lint.html.script"]
    assert script[0]["location"].startswith("part 2 text/html, line ")


def test_json_array_for_two(bad_eml, clean_eml, capsys):
    main(["lint", str(bad_eml), str(clean_eml), "--format", "json"])
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_jsonl_one_line_each(bad_eml, clean_eml, capsys):
    main(["lint", str(bad_eml), str(clean_eml), "--format", "jsonl"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(line)["message"] for line in lines] == [
        str(bad_eml),
        str(clean_eml),
    ]


def test_text_output_lists_codes(bad_eml, capsys):
    main(["lint", str(bad_eml)])
    assert "lint.link.mismatch" in capsys.readouterr().out


def test_html_input_with_header_and_text(tmp_path, capsys):
    html = tmp_path / "campaign.html"
    html.write_text(html_document())
    header = tmp_path / "headers.txt"
    header.write_text("".join(f"{k}: {v}\n" for k, v in HEADERS.items()))
    text = tmp_path / "campaign.txt"
    text.write_text(TEXT)
    args = [
        "lint",
        str(html),
        "--header",
        str(header),
        "--text",
        str(text),
        "--fail-on",
        "warning",
    ]
    assert main(args) == 0


def test_html_input_without_header_skips_header_rules(tmp_path, capsys):
    html = tmp_path / "campaign.html"
    html.write_text(html_document())
    main(["lint", str(html), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert not [f for f in data["findings"] if f["code"].startswith("lint.header.")]


def test_html_report_file(bad_eml, tmp_path, capsys):
    out = tmp_path / "report.html"
    main(["lint", str(bad_eml), "--format", "html", "--output", str(out)])
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_html_report_escapes_message_content(bad_eml, tmp_path, capsys):
    out = tmp_path / "report.html"
    main(["lint", str(bad_eml), "--format", "html", "--output", str(out)])
    page = out.read_text()
    assert '<script>alert("x")</script>' not in page


def test_html_report_shows_snippet(bad_eml, tmp_path, capsys):
    out = tmp_path / "report.html"
    main(["lint", str(bad_eml), "--format", "html", "--output", str(out)])
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in out.read_text()


def test_html_report_makes_no_requests(bad_eml, tmp_path, capsys):
    out = tmp_path / "report.html"
    main(["lint", str(bad_eml), "--format", "html", "--output", str(out)])
    page = out.read_text()
    assert re.search(r"<(img|script|link|iframe)\b", page) is None


def test_html_report_has_strict_csp(bad_eml, tmp_path, capsys):
    out = tmp_path / "report.html"
    main(["lint", str(bad_eml), "--format", "html", "--output", str(out)])
    assert "default-src 'none'" in out.read_text()


def test_html_input_lines_are_file_lines(tmp_path, capsys):
    html = tmp_path / "campaign.html"
    html.write_text(
        "<html>\n<body>\n<p>Hello</p>\n\n<script>x()</script>\n</body>\n</html>\n"
    )
    main(["lint", str(html), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    script = [f for f in data["findings"] if f["code"] == "lint.html.script"]
    assert script[0]["location"] == "part 1 text/html, line 5, <script>"


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1"])
def test_max_size_out_of_range_exits_two(clean_eml, capsys, value):
    assert main(["lint", str(clean_eml), "--max-size", value]) == 2


def test_max_size_error_uses_option_unit(clean_eml, capsys):
    main(["lint", str(clean_eml), "--max-size", "0.001"])
    assert "over the 0.001 MB limit" in capsys.readouterr().err


def test_spamd_port_out_of_range_exits_two(clean_eml, capsys):
    args = ["lint", str(clean_eml), "--spamassassin", "--spamd-port", "99999"]
    assert main(args) == 2


def test_missing_spamassassin_exits_three(clean_eml, capsys, monkeypatch):
    monkeypatch.setattr("deliverability.lint.spamassassin.shutil.which", lambda _: None)
    assert main(["lint", str(clean_eml), "--spamassassin"]) == 3


def test_text_report_escapes_terminal_controls(tmp_path, capsys):
    path = tmp_path / "esc.eml"
    anchor = '<a href="http://192.0.2.1/\x1b[2Jx">here</a>'
    path.write_bytes(build_message(html=html_document(anchor)))
    main(["lint", str(path)])
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\\x1b[2Jx" in out


def test_html_report_shows_direction_override_escaped(tmp_path, capsys):
    path = tmp_path / "rtl.eml"
    anchor = '<a href="https://evil.example.net/">\u202emoc.elpmaxe.www</a>'
    path.write_bytes(build_message(html=html_document(anchor)))
    out = tmp_path / "report.html"
    main(["lint", str(path), "--format", "html", "--output", str(out)])
    page = out.read_text()
    assert "\u202e" not in page
    assert "\\u202emoc.elpmaxe.www" in page


def test_snippet_of_long_line_shows_element(tmp_path, capsys):
    path = tmp_path / "minified.html"
    filler = "<td>" + "x" * 400 + "</td>"
    path.write_text(f'<html><body>{filler}<img src="https://example.com/a.png">')
    out = tmp_path / "report.html"
    main(["lint", str(path), "--format", "html", "--output", str(out)])
    assert "&lt;img src=&#34;https://example.com/a.png" in out.read_text()


def test_snippet_drops_shared_indentation(tmp_path, capsys):
    path = tmp_path / "indented.html"
    indent = " " * 200
    path.write_text(f'<html><body>\n{indent}<p>x</p>\n{indent}<img src="/a.png">\n')
    out = tmp_path / "report.html"
    main(["lint", str(path), "--format", "html", "--output", str(out)])
    assert "</span>&lt;img src=&#34;/a.png&#34;&gt;" in out.read_text()


def test_snippet_of_long_line_starts_at_element_column(tmp_path, capsys):
    # Two images with the same source: the snippet must start at the one at
    # fault (the second lacks alt), which only its column distinguishes.
    path = tmp_path / "minified.html"
    filler = "<td>" + "x" * 400 + "</td>"
    first = '<img src="https://example.com/a.png" alt="first" width="9" height="9">'
    second = '<img src="https://example.com/a.png" width="8" height="8">'
    path.write_text(f"<html><body>{first}{filler}{second}")
    out = tmp_path / "report.html"
    main(["lint", str(path), "--format", "html", "--output", str(out)])
    page = out.read_text()
    assert (
        "...&lt;img src=&#34;https://example.com/a.png&#34; width=&#34;8&#34;" in page
    )
