"""The HTML report in a real browser: it renders and runs nothing from the mail."""

from __future__ import annotations

import subprocess

from deliverability.cli import main
from tests.conftest import require_program

from .messages import build_message, html_document

HOSTILE = (
    '<p>Hi <a href="https://evil.example.net/">www.example.com</a></p>'
    "<script>document.title='pwned'</script>"
    '<img src="https://tracker.example.net/open.gif" width="1" height="1">'
)


def test_report_renders_in_chromium(tmp_path, capsys):
    chromium = require_program("chromium", "chromium-browser")
    message = tmp_path / "hostile.eml"
    message.write_bytes(build_message(html=html_document(HOSTILE)))
    report = tmp_path / "report.html"
    main(["lint", str(message), "--format", "html", "--output", str(report)])
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--disable-background-networking",
            "--no-first-run",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
        text=True,
    )
    assert "lint.html.script" in done.stdout
    assert "<title>Campaign lint report</title>" in done.stdout
    assert "<script>" not in done.stdout
