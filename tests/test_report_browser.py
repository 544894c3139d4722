"""The learner's report in real headless Chromium: no script runs, nothing is fetched, nothing overflows a phone.

Screenshots land in pytest's temporary folder (printed with -s); look at them after a layout change.
"""
import pytest

from browser import visit
from grader.grade import grade_many
from grader.report import render_html
from grader.synth import make_notebook, write_notebook
from solutions.mistakes import CORRECT, MISTAKES

#: learner code that prints a script, raises with an image tag and ends the process
HOSTILE = dict(
    CORRECT,
    forward_propagation="def forward_propagation(x, theta):\n    import os\n    os._exit(3)\n",
    gradient_check=("def gradient_check(x, theta, epsilon=1e-7, print_msg=False):\n"
                    "    print('<script>alert(1)</script><img src=x onerror=alert(2)>' * 40)\n    return theta[0]\n"),
    gradient_check_n=("def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):\n"
                      "    raise ValueError('<img src=x onerror=alert(3)>' + 'x' * 300)\n"),
)
PAGES = ("passing", "failing_with_chart", "unreadable", "hostile")


@pytest.fixture(scope="module")
def pages(tmp_path_factory, forkserver):
    """name -> path of a rendered report; all notebooks graded in one session."""
    folder = tmp_path_factory.mktemp("report_browser")
    perturb_x = next(m for m in MISTAKES if m.id == "nd_perturb_X")
    failing = make_notebook(dict(CORRECT, gradient_check_n=perturb_x.source))
    broken = folder / "unreadable.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    inputs = [(write_notebook(folder / "passing.ipynb", make_notebook(CORRECT)), "passing"),
              (write_notebook(folder / "failing.ipynb", failing),
               "failing_with_chart"),
              (broken, "unreadable"),
              (write_notebook(folder / "hostile.ipynb", make_notebook(HOSTILE)), "hostile")]
    paths = {}

    def write(result):
        path = folder / f"{result.submission}.html"
        path.write_text(render_html(result), encoding="utf-8")
        paths[result.submission] = path

    grade_many(inputs, write, forkserver)
    assert 'class="chart"' in paths["failing_with_chart"].read_text(encoding="utf-8")
    return paths


@pytest.mark.parametrize("width", (375, 1280))
@pytest.mark.parametrize("name", PAGES)
def test_report_loads_cleanly_and_fits(pages, name, width):
    shot = pages[name].with_name(f"{name}-{width}.png")
    seen = visit(pages[name], width=width, screenshot=shot)
    print(f"screenshot: {shot}")
    assert seen.console_errors == []
    assert seen.requests == [], "the report asked for something outside itself"
    assert seen.dialogs == [], "script injected through learner text ran"
    assert seen.scroll_width <= width, f"the page is {seen.scroll_width} px wide at a {width} px viewport"
    assert "Score:" in seen.text


def test_hostile_text_shows_as_text(pages):
    seen = visit(pages["hostile"], width=375)
    assert "<script>alert(1)</script>" in seen.text and "<img src=x onerror=alert(3)>" in seen.text
    assert seen.dialogs == [] and seen.requests == []
