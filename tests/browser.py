"""Opens an HTML file in real headless Chromium (Debian's package) and reports what a person would hit.

Used by the report and dashboard tests: console errors, every network request, the page's
layout width, and a screenshot. Playwright drives the system Chromium; it never downloads one.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@dataclass
class PageVisit:
    console_errors: list = field(default_factory=list)
    requests: list = field(default_factory=list)     #: every URL the page asked for, besides itself
    dialogs: list = field(default_factory=list)      #: alert()/confirm() opened by script: injected code ran
    scroll_width: int = 0                            #: widest content, to catch horizontal overflow
    text: str = ""


def require_chromium():
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed: .ci/run installs Debian's chromium package")


def visit(path: Path, width: int = 1280, screenshot: Path | None = None) -> PageVisit:
    """Load `path` from file://, wait for it to settle, and collect what happened."""
    require_chromium()
    from playwright.sync_api import sync_playwright
    seen = PageVisit()
    url = Path(path).resolve().as_uri()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.on("console", lambda message: seen.console_errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: seen.console_errors.append(str(error)))
        page.on("request", lambda request: seen.requests.append(request.url) if request.url != url else None)
        page.on("dialog", lambda dialog: (seen.dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url, wait_until="load")
        page.wait_for_timeout(200)
        seen.scroll_width = page.evaluate("document.documentElement.scrollWidth")
        seen.text = page.inner_text("body")
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return seen
