"""The staff dashboard (OUT/index.html) in real headless Chromium: no errors, no requests, fits a phone."""
import re
import urllib.parse

import pytest

from browser import visit
from conftest import run_cli
from grader.synth import make_notebook, write_notebook
from solutions.mistakes import CORRECT, MISTAKES

#: a file name that is also HTML: it reaches the page as the submission's source path
INJECTED = "<img src=x onerror=alert(1)><script>alert(2)</script>"


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    base = tmp_path_factory.mktemp("dashboard")
    notebooks = base / "class"
    write_notebook(notebooks / "ada.ipynb", make_notebook(CORRECT))
    for mistake in MISTAKES[:: max(1, len(MISTAKES) // 4)]:
        write_notebook(notebooks / f"{mistake.id}.ipynb", make_notebook(dict(CORRECT, **{mistake.function: mistake.source})))
    exits = "def forward_propagation(x, theta):\n    import os\n    os._exit(1)\n"
    write_notebook(notebooks / "quitter.ipynb", make_notebook(dict(CORRECT, forward_propagation=exits)))
    (notebooks / f"{INJECTED.replace('/', '|')}.ipynb").write_text('{"cells": [', encoding="utf-8")
    out = base / "out"
    done = run_cli("batch", notebooks, "--out", out, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    return out


def test_dashboard_has_no_console_errors_requests_or_script(dashboard):
    seen = visit(dashboard / "index.html")
    assert seen.console_errors == []
    assert seen.requests == []
    assert seen.dialogs == []
    assert "could not be read" in seen.text and "forward_propagation: exited" in seen.text
    assert "<img src=x onerror=alert(1)>" in seen.text  # shown as text, never run


def test_dashboard_fits_a_phone(dashboard):
    seen = visit(dashboard / "index.html", width=375)
    assert seen.scroll_width <= 375, f"the page is {seen.scroll_width} px wide at 375 px"
    assert seen.console_errors == []


def test_dashboard_links_lead_to_existing_reports(dashboard):
    page = (dashboard / "index.html").read_text(encoding="utf-8")
    links = set(re.findall(r'href="([^"]+)"', page))
    assert links, "no link to any report"
    for link in links:
        assert (dashboard / urllib.parse.unquote(link)).is_file(), link
