"""Writer: the learner's HTML report, rendered from a finished Result by Jinja2 templates.

`present(result)` turns the Result into a small presentation model (words for statuses, clipped
learner text, highlighted code lines, charts); the template only loops over it. Nothing here
decides a grade: scores, statuses, messages and hints all come from the Result as they are.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from grader.chart import ChartView, chart_view
from grader.templating import environment
from grader.result import CheckResult, CheckStatus, FunctionResult, FunctionStatus, Result

#: a report larger than this is rendered again in compact form (learner text and code cut shorter)
SIZE_LIMIT = 290_000

#: how a function's status reads, and the colour family it gets
FUNCTION_WORDS = {
    FunctionStatus.PASSED: ("All checks passed", "pass"),
    FunctionStatus.PARTIAL: ("Partly correct", "part"),
    FunctionStatus.FAILED: ("Not correct yet", "fail"),
    FunctionStatus.NOT_IMPLEMENTED: ("Not implemented yet", "todo"),
    FunctionStatus.MISSING: ("Not found in the notebook", "fail"),
    FunctionStatus.ERROR: ("Could not run", "fail"),
}
#: how a check that gave no value reads, by the way the learner's call ended
OUTCOME_WORDS = {
    "raised": "Raised an error", "not_implemented": "Not implemented yet", "timeout": "Took too long",
    "cpu": "Used up its CPU time", "exited": "Ended the Python process", "crashed": "Crashed",
    "killed": "Stopped: over a memory or process limit", "memory": "Ran out of memory",
    "recursion": "Recursed too deeply", "not_plain_data": "Returned something that is not plain data",
    "missing": "Function not found", "syntax_error": "Cell does not run", "protocol": "Interfered with the grader",
}
#: what to try when no known mistake matched, by the way the learner's call ended
NEXT_STEPS = {
    "value": "No common mistake matches this answer. Compare your code step by step with the formula in the "
             "notebook, and try it on the notebook's own example first.",
    "raised": "The last line of the traceback names the error; the marked line in your code below is where it "
              "happened.",
    "not_implemented": "Replace the `raise NotImplementedError(...)` line with your own code.",
    "timeout": "Look for a loop that never ends, or for far more work than the notebook asks for.",
    "cpu": "Look for a loop that never ends, or for far more work than the notebook asks for.",
    "exited": "Remove exit(), quit(), sys.exit() or os._exit() from the function: it must return its value.",
    "crashed": "Something in the function brought Python down. Remove unusual calls (ctypes, signals, os "
               "functions) and keep to numpy and plain Python.",
    "killed": "Avoid building very large arrays or starting processes; the notebook's sizes are small.",
    "memory": "Avoid building very large arrays; the notebook's sizes are small.",
    "recursion": "Make sure the function does not call itself.",
    "not_plain_data": "Return a plain number (a Python or numpy float), not an object of your own.",
    "missing": "Keep the line `# GRADED FUNCTION: name` at the top of the cell and define the function with "
               "exactly that name.",
    "syntax_error": "Fix the cell so that it runs from top to bottom in a fresh kernel, then submit again.",
    "protocol": "Do not write to file descriptors or sockets directly; print() is fine.",
}
#: what to do when the notebook itself could not be read
UNREADABLE_STEPS = (
    "Open the notebook in Jupyter and check that it opens and shows your work.",
    "Save it (File → Save Notebook), then download the notebook file itself (File → Download, a .ipynb file).",
    "Submit that .ipynb file: not a PDF, an HTML page, a zip archive or another file renamed to .ipynb.",
    "If the same message comes back, send this report to the course staff.",
)


@dataclass(frozen=True)
class Limits:
    """How much learner-supplied text one block of the report shows."""
    message: int = 2000
    output: int = 3000
    traceback: int = 3000
    code_lines: int = 400
    code_chars: int = 16000
    warnings: int = 30


COMPACT = Limits(message=400, output=300, traceback=600, code_lines=80, code_chars=3000, warnings=10)


@dataclass(frozen=True)
class Clipped:
    text: str
    cut: int = 0    #: characters left out


@dataclass(frozen=True)
class CheckView:
    title: str
    passed: bool
    words: str                 #: the status in words
    tone: str                  #: pass, fail, error or grader (a CSS class)
    points: float
    max_points: float
    message: Clipped
    expected: str
    got: str
    abs_error: float | None    #: only when a number was shown as expected
    rel_error: float | None
    tolerance: str
    hint: str
    next_step: str             #: generic advice when no hint applies
    output: Clipped
    traceback: Clipped
    line: int
    chart: ChartView | None
    same_as: str               #: an earlier check of this function that failed in exactly the same way
    same_as_previous: bool     #: ... and the nearest failed check above failed that way too
    restricted: bool           #: hidden or grader error: only the title and message are shown


@dataclass(frozen=True)
class CodeLine:
    number: int
    html: Markup
    marked: bool


@dataclass(frozen=True)
class FunctionView:
    name: str
    anchor: str
    words: str
    tone: str
    score: float
    max_score: float
    summary: str               #: "5 of 7 checks passed"
    message: str
    checks: tuple
    cell: str                  #: "cell 8", or empty when the function was not found
    code: tuple
    code_cut: int              #: lines of the cell left out
    marked: tuple              #: line numbers marked in the code
    passed: bool


@dataclass(frozen=True)
class ReportView:
    submission: str
    score: float
    max_score: float
    percent: float
    tone: str
    verdict: str
    error: str
    unreadable_steps: tuple
    warnings: tuple
    warnings_cut: int
    functions: tuple
    grader_version: str
    seed: int
    short_hash: str
    release: str


def present(result: Result, limits: Limits = Limits()) -> ReportView:
    """The presentation model of one Result: everything the template shows, already in words."""
    functions = () if result.error else tuple(_function_view(f, limits) for f in result.functions)
    passed = sum(f.status is FunctionStatus.PASSED for f in result.functions)
    if result.error:
        verdict, tone = "Nothing could be graded, so no points were given. The box below says why and what to do.", \
            "fail"
    elif passed == len(result.functions):
        verdict, tone = "Every graded function passed all its checks. Well done.", "pass"
    else:
        verdict = (f"{passed} of {len(result.functions)} graded functions passed all their checks; the sections "
                   f"below say what to look at.")
        tone = "part" if result.score > 0 else "fail"
    return ReportView(
        submission=result.submission, score=result.score, max_score=result.max_score,
        percent=_percent(result.score, result.max_score), tone=tone, verdict=verdict, error=result.error,
        unreadable_steps=UNREADABLE_STEPS if result.error else (),
        warnings=tuple(_clip(w, limits.message).text for w in result.warnings[:limits.warnings]),
        warnings_cut=max(0, len(result.warnings) - limits.warnings), functions=functions,
        grader_version=result.grader_version, seed=result.seed, short_hash=result.content_hash[:12],
        release=result.release)


def _percent(score: float, maximum: float) -> float:
    return max(0.0, min(100.0, 100.0 * score / maximum)) if maximum else 0.0


def _function_view(function: FunctionResult, limits: Limits) -> FunctionView:
    words, tone = FUNCTION_WORDS.get(function.status, (function.status.value, "fail"))
    checks, seen = [], {}
    for check in function.checks:
        failed_before = [c for c in checks if not c.passed]
        nearest = failed_before[-1] if failed_before else None
        view = _check_view(check, limits, seen, (nearest.same_as or nearest.title) if nearest else "")
        checks.append(view)
    passed = sum(c.passed for c in checks)
    summary = f"{passed} of {len(checks)} checks passed" if checks else ""
    lines, cut = _code_lines(function.source, limits)
    wanted = {c.line for c in function.checks if c.status is not CheckStatus.PASSED and c.line > 0}
    marked = tuple(sorted(n for n in wanted if n <= len(lines)))
    if marked:
        lines = [CodeLine(line.number, line.html, line.number in marked) for line in lines]
    return FunctionView(
        name=function.name, anchor="fn-" + re.sub(r"[^A-Za-z0-9_-]", "-", function.name), words=words, tone=tone,
        score=function.score, max_score=function.max_score,
        summary=summary, message=_clip(function.message, limits.message).text, checks=tuple(checks),
        cell=f"cell {function.cell + 1}" if function.cell >= 0 else "", code=tuple(lines), code_cut=cut,
        marked=marked, passed=function.status is FunctionStatus.PASSED)


def _check_view(check: CheckResult, limits: Limits, seen: dict, last_failed: str) -> CheckView:
    passed = check.status is CheckStatus.PASSED
    restricted = check.status is CheckStatus.GRADER_ERROR or check.visibility != "visible"
    if passed:
        words, tone = "Passed", "pass"
    elif check.status is CheckStatus.FAILED:
        words, tone = "Wrong answer", "fail"
    elif check.status is CheckStatus.ERROR:
        words, tone = OUTCOME_WORDS.get(check.outcome, "Gave no answer"), "error"
    else:
        words, tone = "Grader problem, not yours", "grader"
    same_as = ""
    if not passed and not restricted:
        key = (check.status, check.message, check.output, check.traceback, check.hint)
        first_name, first_title = seen.setdefault(key, (check.name, check.title))
        same_as = first_title if first_name != check.name else ""
    abs_error = rel_error = None
    expected, got = check.details.get("expected"), check.details.get("got")
    if _is_number_text(check.expected) and _is_real(expected) and _is_real(got):
        abs_error = abs(got - expected)
        rel_error = abs_error / abs(expected) if expected else None
    chart = None if restricted or passed else chart_view(check.details.get("chart"))
    next_step = "" if passed or restricted or check.hint else NEXT_STEPS.get(check.outcome, "")
    empty = Clipped("")
    not_implemented = check.outcome == "not_implemented"  # the placeholder's traceback adds nothing to the message
    return CheckView(
        title=check.title, passed=passed, words=words, tone=tone, points=check.points, max_points=check.max_points,
        message=_clip(check.message, limits.message), expected=check.expected, got=check.got,
        abs_error=abs_error, rel_error=rel_error, tolerance=check.tolerance, hint=check.hint, next_step=next_step,
        output=empty if restricted else _clip(check.output, limits.output),
        traceback=empty if restricted or not_implemented else _clip(check.traceback, limits.traceback),
        line=check.line, chart=chart, same_as=same_as, same_as_previous=bool(same_as) and same_as == last_failed,
        restricted=restricted)


def _is_number_text(text: str) -> bool:
    """True when the check showed a plain number as its expectation (not "a value below 2e-07")."""
    try:
        return math.isfinite(float(text))
    except (TypeError, ValueError):
        return False


def _is_real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _clip(text: str, limit: int) -> Clipped:
    text = text or ""
    if len(text) <= limit:
        return Clipped(text)
    return Clipped(text[:limit], len(text) - limit)


@lru_cache(maxsize=1)
def _highlighter() -> tuple:
    # stripnl=False keeps leading blank lines, so line numbers stay those of the cell
    return PythonLexer(stripnl=False, ensurenl=True), HtmlFormatter(nowrap=True)


def _code_lines(source: str, limits: Limits) -> tuple[list, int]:
    """The cell's lines, highlighted (Pygments closes its spans at each line end, so lines split cleanly)."""
    if not source:
        return [], 0
    text = source.replace("\r\n", "\n").replace("\r", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    every = text.split("\n")
    kept, size = [], 0
    for line in every[:limits.code_lines]:
        size += len(line) + 1
        if size > limits.code_chars:
            break
        kept.append(line)
    lexer, formatter = _highlighter()
    html = highlight("\n".join(kept), lexer, formatter).split("\n")
    lines = [CodeLine(n, Markup(html[n - 1] if n - 1 < len(html) and html[n - 1] else " "), False)
             for n in range(1, len(kept) + 1)]
    return lines, len(every) - len(lines)


def render_html(result: Result) -> str:
    """One self-contained HTML page: inline CSS and SVG, no script, no outside request."""
    template = environment().get_template("report.html.j2")
    html = template.render(view=present(result))
    if len(html.encode("utf-8")) > SIZE_LIMIT:
        html = template.render(view=present(result, COMPACT))
    return html
