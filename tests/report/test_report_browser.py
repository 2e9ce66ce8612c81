"""HTML reports in headless Chromium: no console error, no request, fits a phone.

Playwright drives the system Chromium; no browser is downloaded. The browser
gets a fresh profile and has background networking, component updates and sync
switched off, so the only request it may make is for the report file itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from deliverability.audit.model import DomainReport
from deliverability.report import write_html_reports

from ..conftest import missing, require_program
from .samples import (
    audit_hostile_zone,
    build_hostile_report,
    build_idn_report,
    build_incomplete_report,
    build_passing_report,
    build_report,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.chromium

PHONE_WIDTH = 390
PHONE_HEIGHT = 844

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class PageLog:
    """What one page load did: console messages, page errors, requests."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser_context(
    tmp_path_factory: pytest.TempPathFactory, report_folder: list[Path]
) -> Iterator[BrowserContext]:
    # The pages are written first because the audit behind one of them runs
    # asyncio.run(), which fails once Playwright's event loop is running.
    del report_folder
    chromium = require_program("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package is not installed (pip install playwright)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
            device_scale_factor=1,
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    reports: list[DomainReport] = [
        build_report(),
        build_hostile_report(),
        build_incomplete_report(),
        build_passing_report(),
        build_idn_report(),
        audit_hostile_zone(),
    ]
    return write_html_reports(reports, tmp_path_factory.mktemp("html"))


def open_page(context: BrowserContext, path: Path) -> tuple[Page, PageLog]:
    log = PageLog()
    page = context.new_page()
    page.on(
        "console", lambda message: log.console.append(f"{message.type}: {message.text}")
    )
    page.on("pageerror", lambda error: log.errors.append(str(error)))
    page.on("request", lambda request: log.requests.append(request.url))
    page.goto(path.as_uri(), wait_until="load")
    return page, log


def test_pages_load_cleanly(
    browser_context: BrowserContext, report_folder: list[Path]
) -> None:
    for path in report_folder:
        page, log = open_page(browser_context, path)
        page.close()
        assert log.console == [], path.name
        assert log.errors == [], path.name
        assert log.requests == [path.as_uri()], path.name


def test_hostile_page_runs_nothing(
    browser_context: BrowserContext, report_folder: list[Path]
) -> None:
    for name in ("evil.example.html", "hostile.example.html"):
        path = next(p for p in report_folder if p.name == name)
        page, log = open_page(browser_context, path)
        images = page.locator("img").count()
        scripts = page.locator("script").count()
        text = page.inner_text("body")
        page.close()
        assert images == 0, name
        assert scripts == 0, name
        assert "<script>alert(1)</script>" in text, name
        assert log.requests == [path.as_uri()], name


def test_fits_phone_width(
    browser_context: BrowserContext, report_folder: list[Path]
) -> None:
    for path in report_folder:
        page, _ = open_page(browser_context, path)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        page.close()
        assert scroll_width <= PHONE_WIDTH, path.name


def test_print_is_light(
    browser_context: BrowserContext, report_folder: list[Path]
) -> None:
    page, _ = open_page(browser_context, report_folder[0])
    page.emulate_media(media="print", color_scheme="dark")
    body = page.evaluate(
        "(() => { const s = getComputedStyle(document.body);"
        " return [s.backgroundColor, s.color]; })()"
    )
    verdict = page.evaluate(
        "getComputedStyle(document.querySelector('.verdict')).backgroundColor"
    )
    page.close()
    assert body == ["rgb(255, 255, 255)", "rgb(0, 0, 0)"]
    assert verdict == "rgb(255, 255, 255)"


def test_dark_screen_scheme(
    browser_context: BrowserContext, report_folder: list[Path]
) -> None:
    page, _ = open_page(browser_context, report_folder[0])
    page.emulate_media(media="screen", color_scheme="dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.close()
    assert background == "rgb(13, 17, 23)"


def test_phone_screenshot(
    browser_context: BrowserContext, report_folder: list[Path], tmp_path: Path
) -> None:
    page, _ = open_page(browser_context, report_folder[0])
    page.emulate_media(media="screen", color_scheme="light")
    shot = tmp_path / "phone.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
