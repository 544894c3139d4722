"""The learner's HTML report: what is wrong, why, and what to try next, from real graded notebooks."""
import dataclasses
import math
import re
import time

import pytest
from markupsafe import escape

from conftest import ROOT
from grader.chart import chart_view
from grader.cli import summary_lines
from grader.grade import grade_many
from grader.report import render_html
from grader.result import CheckStatus, Result
from grader.synth import make_notebook, write_notebook
from solutions.mistakes import CORRECT, MISTAKES

STARTER = ROOT / "assignment" / "Gradient_Checking.ipynb"
SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(1)>"
#: a learner who prints markup, raises with markup in the message and ends the process
HOSTILE = dict(
    CORRECT,
    forward_propagation="def forward_propagation(x, theta):\n    import os\n    os._exit(3)\n",
    gradient_check=(f"def gradient_check(x, theta, epsilon=1e-7, print_msg=False):\n    print({SCRIPT!r})\n"
                    f"    y = 1\n    return theta[0]\n"),
    gradient_check_n=(f"def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):\n"
                      f"    raise ValueError({IMAGE!r})\n"),
)
#: a notebook with every kind of warning: untagged, defined twice, an edited provided cell, a top-level error
MESSY_CELLS = [
    "def backward_propagation_n(X, Y, cache):\n    return {}\n",
    CORRECT["forward_propagation"],
]


@pytest.fixture(scope="module")
def graded(tmp_path_factory, forkserver):
    """Every notebook these tests read, graded in one session: name -> Result."""
    folder = tmp_path_factory.mktemp("report")
    inputs = [(write_notebook(folder / f"{m.id}.ipynb", make_notebook(dict(CORRECT, **{m.function: m.source}))), m.id)
              for m in MISTAKES]
    inputs.append((write_notebook(folder / "correct.ipynb", make_notebook(CORRECT)), "correct"))
    inputs.append((write_notebook(folder / "hostile.ipynb", make_notebook(HOSTILE)), "hostile"))
    messy = dict(CORRECT, backward_propagation=CORRECT["backward_propagation"] + "\nprint(undefined_name)\n")
    inputs.append((write_notebook(folder / "messy.ipynb", make_notebook(messy, tags=False, extra_cells=MESSY_CELLS)),
                   "messy"))
    syntax = dict(CORRECT, forward_propagation="def forward_propagation(x, theta):\n    J = theta * x\n  return J)\n")
    inputs.append((write_notebook(folder / "syntax.ipynb", make_notebook(syntax)), "syntax"))
    inputs.append((STARTER, "starter"))
    broken = folder / "broken.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    inputs.append((broken, "broken"))
    results = {}
    grade_many(inputs, lambda r: results.__setitem__(r.submission, r), forkserver)
    return results


@pytest.fixture(scope="module")
def html(graded):
    return {name: render_html(result) for name, result in graded.items()}


def _replace_check(result: Result, function: str, index: int, **changes) -> Result:
    """The same Result with one check changed: for cases no real notebook produces on demand."""
    functions = []
    for item in result.functions:
        if item.name == function:
            checks = list(item.checks)
            checks[index] = dataclasses.replace(checks[index], **changes)
            item = dataclasses.replace(item, checks=tuple(checks))
        functions.append(item)
    return dataclasses.replace(result, functions=tuple(functions))


def _text(page: str) -> str:
    """The page's visible words, roughly: tags dropped, entities left as they are."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_every_report_is_one_html_document(html):
    for name, page in html.items():
        assert page.startswith("<!doctype html>"), name
        assert page.rstrip().endswith("</html>"), name


def test_passing_report_shows_full_marks_and_every_function_passed(graded, html):
    page = html["correct"]
    assert "Score: 50 / 50" in page
    assert _text(page).count("All checks passed") == 2 * len(graded["correct"].functions)  # header and section
    for function in graded["correct"].functions:
        assert f'href="#fn-{function.name}"' in page and f'id="fn-{function.name}"' in page
    assert "Wrong answer" not in page and "What to look at" not in page
    assert page.count('<details class="code">') == 4, "passing code is folded away"


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.id for m in MISTAKES])
def test_mistake_report_names_the_likely_cause(html, mistake):
    page = html[mistake.id]
    if mistake.id.endswith("array_result"):
        assert "plain float" in page
        return
    owner = next(m for m in MISTAKES if m.id == (mistake.same_as or mistake.id))
    assert str(escape(owner.hint)) in page, f"{mistake.id}: hint of {owner.id} not in the report"
    assert "What to look at:" in page


def test_failed_value_shows_expected_got_errors_and_tolerance(graded, html):
    checks = graded["nd_one_sided"].function("gradient_check_n").checks
    check = next(c for c in checks if c.status is CheckStatus.FAILED)
    page = html["nd_one_sided"]
    for text in (check.title, check.message, check.expected, check.got, check.tolerance):
        assert str(escape(text)) in page
    expected, got = check.details["expected"], check.details["got"]
    assert f"<dt>Absolute error</dt><dd>{abs(got - expected):.3g}</dd>" in page
    assert f"<dt>Relative error</dt><dd>{abs(got - expected) / abs(expected):.3g}</dd>" in page
    assert "Score: 46.67 / 50" in page and "Partly correct" in page


def test_below_threshold_expectation_shows_no_made_up_error(graded, html):
    """When a check expects 'a value below 2e-07', the report does not invent an error against a hidden number."""
    checks = graded["nd_perturb_X"].function("gradient_check_n").checks
    below = [c for c in checks if c.expected.startswith("a value below")]
    assert below
    section = html["nd_perturb_X"].split(str(escape(below[0].title)), 1)[1].split('<li class="check', 1)[0]
    assert "Expected" in section and "Absolute error" not in section


def test_gradient_check_n_failure_draws_the_per_parameter_chart(graded, html):
    page = html["nd_perturb_X"]
    charts = re.findall(r'<svg class="chart".*?</svg>', page, re.S)
    failed_with_chart = [c for c in graded["nd_perturb_X"].function("gradient_check_n").checks if "chart" in c.details]
    assert len(charts) == len(failed_with_chart) >= 1
    for group in ("W1", "b1", "W2", "b2", "W3", "b3"):
        assert f">{group}</text>" in charts[0]
    assert charts[0].count('class="you"') == 47
    assert "differs from the reference at every parameter" in page
    assert "No slope could be recovered" in html["nd_whole_vector"]
    assert "matches the reference at every parameter" in html["nd_missing_two"]


def test_chart_survives_gaps_non_finite_values_and_flat_data():
    names = ["W1"] * 3 + ["b1"] * 2
    view = chart_view({"names": names, "reference": [1.0] * 5, "given": [1.0, None, "x", 1.0, 1.0],
                       "learner": [None, math.nan, math.inf, 1.0, 2.0]})
    assert view is not None and view.has_learner
    svg = str(view.svg)
    assert "nan" not in svg.lower() and "inf" not in svg.lower()
    assert svg.count('class="nf"') == 2 and svg.count('class="you"') == 2
    assert any("1 of 5 parameters no slope" in n for n in view.notes)
    assert any("2 of your values were not finite" in n for n in view.notes)
    assert any("differs from the reference at 1 of 5 parameters, in b1" in n for n in view.notes)
    zero = chart_view({"names": names, "reference": [0.0] * 5, "given": [0.0] * 5, "learner": [0.0] * 5})
    assert "matches the reference" in str(zero.svg)
    assert chart_view(None) is None and chart_view({"names": [], "reference": []}) is None
    hostile = chart_view({"names": [SCRIPT], "reference": [1.0], "given": [1.0], "learner": [1.0]})
    assert SCRIPT not in str(hostile.svg) and str(escape(SCRIPT)) in str(hostile.svg)


def test_crashing_function_says_how_it_ended_and_what_to_try(graded, html):
    page = html["hostile"]
    assert graded["hostile"].function("forward_propagation").checks[0].outcome == "exited"
    assert "Ended the Python process" in page and "os._exit(3)" in page
    assert "Remove exit(), quit(), sys.exit() or os._exit()" in page
    assert "Same problem as the check above." in page, "repeated failures are not spelled out again"


def test_timeout_reads_as_took_too_long(graded):
    result = _replace_check(graded["correct"], "backward_propagation", 0, status=CheckStatus.ERROR, points=0.0,
                            outcome="timeout", message="Stopped after 10 s: the code did not finish in time")
    page = render_html(result)
    assert "Took too long" in page and "Look for a loop that never ends" in page


def test_raised_error_shows_traceback_and_marks_the_line_in_the_code(graded, html):
    page = html["hostile"]
    function = graded["hostile"].function("gradient_check_n")
    check = function.checks[0]
    raise_line = function.source.splitlines().index(f"    raise ValueError({IMAGE!r})") + 1
    assert check.outcome == "raised" and check.line == raise_line
    cell = function.cell + 1
    assert f"Your code (cell {cell}, as graded)" in page
    assert f'<span class="l bad" data-n="{check.line}">' in page
    assert f"top of cell {cell}" in page and "ValueError" in page
    assert '<span class="k">def</span>' in page, "the code is highlighted"


def test_not_implemented_reads_as_such_without_a_traceback(html):
    page = html["starter"]
    assert "Score: 0 / 50" in page
    assert _text(page).count("Not implemented yet") >= 4
    assert "Replace the `raise NotImplementedError(...)` line" in page
    assert "Traceback" not in page


def test_cell_that_does_not_run_says_so(graded, html):
    page = html["syntax"]
    assert str(escape(graded["syntax"].function("forward_propagation").message)) in page
    assert "Could not run" in page and "Cell does not run" in page and "Fix the cell so that it runs" in page


def test_unreadable_notebook_gets_the_reason_and_what_to_do(graded, html):
    page = html["broken"]
    assert str(escape(graded["broken"].error)) in page and "not valid JSON" in page
    assert "Your notebook could not be read" in page and "What to do" in page and ".ipynb" in page
    assert 'class="fn"' not in page and "Score: 0 / 50" in page


def test_warnings_come_first(graded, html):
    result, page = graded["messy"], html["messy"]
    kinds = ("GRADED FUNCTION", "defined 2 times", "You edited backward_propagation_n", "NameError")
    for kind in kinds:
        assert any(kind in w for w in result.warnings), f"the notebook did not produce a {kind!r} warning"
    first_section = page.index('<section class="fn"')
    for warning in result.warnings:
        assert 0 < page.index(str(escape(warning))) < first_section


def test_learner_text_is_escaped_everywhere(graded, html):
    page = html["hostile"]
    assert str(escape(SCRIPT)) in page and str(escape(IMAGE)) in page
    assert SCRIPT not in page and IMAGE not in page
    named = dataclasses.replace(graded["hostile"], submission=SCRIPT, warnings=(IMAGE,), functions=tuple(
        dataclasses.replace(f, name=f"{f.name}{SCRIPT}", message=IMAGE) for f in graded["hostile"].functions))
    named = _replace_check(named, f"gradient_check{SCRIPT}", 0, title=IMAGE, hint=SCRIPT, expected=IMAGE, got=SCRIPT,
                           tolerance=IMAGE)
    page = render_html(named)
    assert SCRIPT not in page and IMAGE not in page
    assert re.search(r'id="[^"<>]*"', page) and not re.search(r'id="[^"]*[<>]', page)


def test_no_script_and_no_outside_resources(html):
    for name, page in html.items():
        lower = page.lower()
        assert "<script" not in lower and "javascript:" not in lower, name
        assert "http://" not in lower and "https://" not in lower, name
        assert "@import" not in lower and "url(" not in lower, name
        assert not re.search(r"<[a-z][^>]*\s(src|srcset|href|action|xlink:href)\s*=\s*(?![\"']?#)", lower), name
        assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", lower), name


def test_hidden_checks_and_grader_errors_show_no_details(graded):
    result = _replace_check(graded["correct"], "gradient_check", 1, status=CheckStatus.GRADER_ERROR, points=0.0,
                            message="The grader itself failed on this check; course staff have the details.",
                            traceback="def check_nonlinear_J(learner, reference, rng): SECRET-SOURCE",
                            output="SECRET-OUTPUT", visibility="hidden", details={"chart": {"names": ["SECRET-NAME"]}})
    page = render_html(result)
    assert "course staff have the details" in page and "Grader problem, not yours" in page
    assert "SECRET" not in page and "check_nonlinear_J" not in page


def test_reloaded_result_renders_the_same(graded):
    for name in ("nd_perturb_X", "hostile", "broken"):
        result = graded[name]
        assert render_html(Result.from_dict(result.to_dict())) == render_html(result)


def test_long_learner_output_and_code_are_cut_and_the_report_stays_small(graded):
    result = graded["hostile"]
    for index in range(6):
        result = _replace_check(result, "gradient_check", index, output=f"{index}<&>" * 4000,
                                traceback=f"{index} " + "x" * 16000, message=f"{index} " + "<" * 16000)
    functions = tuple(dataclasses.replace(f, source="a(b(c[d]))\n" * 3000) for f in result.functions)
    page = render_html(dataclasses.replace(result, functions=functions))
    assert len(page.encode("utf-8")) < 300_000
    assert "more characters not shown" in page and "more lines of the cell not shown" in page


def test_reports_are_small_and_fast(graded):
    results = list(graded.values())
    pages = [render_html(r) for r in results]
    assert max(len(p.encode("utf-8")) for p in pages) < 300_000
    count = 200
    started = time.perf_counter()
    for index in range(count):
        render_html(results[index % len(results)])
    average = (time.perf_counter() - started) / count
    assert average < 0.020, f"{average * 1000:.1f} ms per report"


def test_terminal_summary_names_likely_mistakes_and_how_code_ended(graded):
    lines = summary_lines(graded["nd_one_sided"])
    assert lines[0] == "nd_one_sided: 46.67/50"
    assert any("gradient_check_n" in line and "likely nd_one_sided" in line for line in lines)
    hostile = "\n".join(summary_lines(graded["hostile"]))
    assert "(exited)" in hostile and "(raised)" in hostile
    broken = summary_lines(graded["broken"])
    assert len(broken) == 2 and "not valid JSON" in broken[1]
