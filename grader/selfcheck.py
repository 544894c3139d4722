"""`gcgrade selfcheck`: proof that the hidden checks grade the assignment's own notebooks as they should.

One grading session takes the solution notebook (full marks), the generated starter (zero, every
function "not implemented"), one notebook per known mistake (solutions/mistakes.py: each must lose
points on its function) and every correct-but-unusual variant (solutions/variants.py: full marks).
The outcome is one SelfCheck model; the terminal matrix and selfcheck.html only format it.
"""
from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from grader.grade import grade_many
from grader.notebook import GRADED
from grader.release import SOLUTION_PATH, STARTER_PATH
from grader.templating import environment, points
from grader.result import CheckStatus, FunctionStatus, Result
from grader.synth import make_notebook, write_notebook

#: how a check treated a mistake, as one terminal character
MARKS = {"caught": "X", "error": "E", "passed": ".", "grader_error": "G"}
#: mistakes that the failing check's own message names instead of a fingerprint hint, with the words that
#: show it (the same rule as tests/test_mistakes.py): a returned array is a type error, not a wrong value
MESSAGE_HINTS = {"array_result": "plain float", "nd_array_result": "plain float"}


@dataclass(frozen=True)
class Column:
    """One hidden check of a function: a column of that function's matrix."""
    key: str     #: short label, c1, c2, ...
    name: str    #: the check's stable name (the pytest test name)
    title: str   #: what it checks, in plain words


@dataclass(frozen=True)
class Cell:
    check: str       #: the check's name
    verdict: str     #: caught (a wrong value), error (no value: raised, hung, ...), passed, grader_error
    hint_id: str     #: the known mistake the check's fingerprint named, empty if none
    message: str     #: what the learner would read


@dataclass(frozen=True)
class MistakeRow:
    id: str
    title: str
    hint: str                    #: the mistake's own hint text
    expected_hint: str           #: the hint id it should get: its own, or that of the mistake it is the same as
    cells: tuple                 #: one Cell per column of its function's matrix
    score: float
    max_score: float
    hints: tuple                 #: the hint ids it got, the expected one first
    caught: bool                 #: at least one check took points
    hinted: bool                 #: the expected hint was given on at least one check
    others_lost: tuple           #: other functions that lost points (a mistake must cost only its own)


@dataclass(frozen=True)
class Matrix:
    function: str
    max_score: float
    columns: tuple               #: Column per hidden check, in the order they run
    rows: tuple                  #: MistakeRow per known mistake of this function


@dataclass(frozen=True)
class VariantRow:
    id: str
    function: str
    title: str
    score: float
    max_score: float
    lost: tuple                  #: "check label: message" of every check that did not pass


@dataclass(frozen=True)
class SelfCheck:
    solution: Result
    starter: Result
    matrices: tuple              #: Matrix per graded function
    variants: tuple              #: VariantRow per correct variant
    problems: tuple              #: why the self-check fails; empty when it passes
    warnings: tuple              #: worth a look, but not a failure
    notebooks: int               #: how many notebooks the session graded
    duration: float              #: seconds for the whole session

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def mistakes(self) -> int:
        return sum(len(matrix.rows) for matrix in self.matrices)


def run_selfcheck(folder: str | Path, forkserver=None, secret: str | None = None) -> SelfCheck:
    """Write the mistake and variant notebooks into `folder`, grade everything in one session, judge it."""
    from solutions.mistakes import CORRECT, MISTAKES
    from solutions.variants import VARIANTS
    folder = Path(folder)
    inputs = [(SOLUTION_PATH, "solution"), (STARTER_PATH, "starter")]
    for mistake in MISTAKES:
        notebook = make_notebook(dict(CORRECT, **{mistake.function: mistake.source}))
        inputs.append((write_notebook(folder / f"mistake-{mistake.id}.ipynb", notebook), f"mistake-{mistake.id}"))
    for variant in VARIANTS:
        notebook = make_notebook(dict(CORRECT, **{variant.function: variant.source}), release=variant.release)
        inputs.append((write_notebook(folder / f"variant-{variant.id}.ipynb", notebook), f"variant-{variant.id}"))
    results: dict = {}
    started = time.perf_counter()
    grade_many(inputs, lambda result: results.__setitem__(result.submission, result), forkserver, secret)
    return judge(results, MISTAKES, VARIANTS, time.perf_counter() - started)


def judge(results: dict, mistakes, variants, duration: float = 0.0) -> SelfCheck:
    """The SelfCheck of finished results (keyed solution, starter, mistake-<id>, variant-<id>)."""
    problems, warnings = [], []
    solution, starter = results["solution"], results["starter"]
    problems += _solution_problems(solution)
    problems += _starter_problems(starter)
    known = {m.id for m in mistakes}
    matrices = []
    for function in GRADED:
        columns = _columns(function, results.values())
        rows = []
        for mistake in (m for m in mistakes if m.function == function):
            row = _mistake_row(mistake, results[f"mistake-{mistake.id}"], columns)
            rows.append(row)
            if not row.caught:
                problems.append(f"mistake {row.id} ({function}: {row.title}) is caught by no check")
            elif not row.hinted:
                warnings.append(f"mistake {row.id} loses points but never gets its hint ({row.expected_hint})")
            if row.others_lost:
                warnings.append(f"mistake {row.id} also costs points in {', '.join(row.others_lost)}")
            if mistake.same_as and mistake.same_as not in known:
                warnings.append(f"mistake {row.id} is the same as {mistake.same_as!r}, which is not a known mistake")
            problems += _grader_faults(f"mistake {row.id}", results[f"mistake-{mistake.id}"])
        matrices.append(Matrix(function, _max_score(function, results.values()), tuple(columns), tuple(rows)))
    rows = []
    for variant in variants:
        result = results[f"variant-{variant.id}"]
        lost = tuple(f"{c.label}: {c.message}" for f in result.functions for c in f.checks
                     if c.status is not CheckStatus.PASSED)
        rows.append(VariantRow(variant.id, variant.function, variant.title, result.score, result.max_score, lost))
        if result.error or result.score != result.max_score:
            problems.append(f"correct variant {variant.id} ({variant.title}) gets {points(result.score)}/"
                            f"{points(result.max_score)}: " + ("; ".join(lost) or result.error))
    return SelfCheck(solution, starter, tuple(matrices), tuple(rows), tuple(problems), tuple(warnings),
                     len(results), duration)


def _solution_problems(result: Result) -> list:
    if result.error:
        return [f"the solution notebook could not be read: {result.error}"]
    if result.score == result.max_score:
        return []
    lost = [f"{c.label} ({c.message})" for f in result.functions for c in f.checks
            if c.status is not CheckStatus.PASSED]
    return [f"the solution notebook scores {points(result.score)}/{points(result.max_score)}, not full marks: "
            + "; ".join(lost or [f.message for f in result.functions if f.message])]


def _starter_problems(result: Result) -> list:
    if result.error:
        return [f"the starter notebook could not be read: {result.error}"]
    problems = []
    if result.score != 0:
        problems.append(f"the starter notebook scores {points(result.score)}, not 0")
    for function in result.functions:
        if function.status is not FunctionStatus.NOT_IMPLEMENTED:
            problems.append(f"the starter's {function.name} is {function.status.value}, not not_implemented"
                            + (f": {function.message}" if function.message else ""))
    return problems + _grader_faults("the starter", result)


def _grader_faults(what: str, result: Result) -> list:
    return [f"{what}: the grader itself failed on {c.label}" for f in result.functions for c in f.checks
            if c.status is CheckStatus.GRADER_ERROR]


def _columns(function: str, results) -> list:
    """The checks of `function`, in the order they ran, from every result that has them."""
    seen: dict = {}
    for result in results:
        for item in result.functions:
            if item.name == function:
                for check in item.checks:
                    seen.setdefault(check.name, check.title)
    return [Column(f"c{i}", name, title) for i, (name, title) in enumerate(seen.items(), start=1)]


def _max_score(function: str, results) -> float:
    for result in results:
        for item in result.functions:
            if item.name == function:
                return item.max_score
    return 0.0


def _mistake_row(mistake, result: Result, columns: list) -> MistakeRow:
    expected = mistake.same_as or mistake.id
    function = result.function(mistake.function) if not result.error else None
    checks = {c.name: c for c in function.checks} if function else {}
    cells = []
    for column in columns:
        check = checks.get(column.name)
        if check is None:
            cells.append(Cell(column.name, "error", "", result.error or "the check did not run"))
            continue
        verdict = {CheckStatus.PASSED: "passed", CheckStatus.FAILED: "caught", CheckStatus.ERROR: "error",
                   CheckStatus.GRADER_ERROR: "grader_error"}[check.status]
        cells.append(Cell(check.name, verdict, check.hint_id, check.message))
    given = list(dict.fromkeys(c.hint_id for c in cells if c.hint_id))
    words = MESSAGE_HINTS.get(mistake.id)
    if words and any(words in c.message for c in cells if c.verdict == "caught"):
        given.append(expected)
    hints = tuple(sorted(given, key=lambda hint_id: hint_id != expected))
    others = tuple(f.name for f in result.functions if f.name != mistake.function and f.score < f.max_score)
    return MistakeRow(mistake.id, mistake.title, mistake.hint, expected, tuple(cells),
                      function.score if function else 0.0, function.max_score if function else 0.0, hints,
                      any(c.verdict in ("caught", "error") for c in cells), expected in given, others)


def summary_lines(check: SelfCheck) -> list:
    """What the terminal shows: the three verdicts, the mistake matrix, then problems and warnings."""
    solution, starter = check.solution, check.starter
    lines = [f"gcgrade selfcheck: {check.notebooks} notebooks graded in one session ({check.duration:.1f} s)",
             f"  solution  {points(solution.score)}/{points(solution.max_score)}",
             f"  starter   {points(starter.score)}/{points(starter.max_score)}, functions: "
             + ", ".join(f"{f.name} {f.status.value}" for f in starter.functions),
             f"  variants  {sum(v.score == v.max_score for v in check.variants)} of {len(check.variants)} correct "
             f"variants get full marks",
             "",
             "Mistake matrix (X: the check catches it, E: the code raises, .: the check passes; hint: what the "
             "report suggests)"]
    for matrix in check.matrices:
        lines += ["", f"{matrix.function} ({points(matrix.max_score)} points, {len(matrix.rows)} known mistakes)"]
        lines += [f"  {column.key:>3}  {column.name}: {column.title}" for column in matrix.columns]
        width = max([len(row.id) for row in matrix.rows] + [7])
        keys = " ".join(f"{column.key:>3}" for column in matrix.columns)
        lines.append(f"  {'mistake':<{width}}  {keys}  {'points':>9}  hint")
        for row in matrix.rows:
            marks = " ".join(f"{MARKS[cell.verdict]:>3}" for cell in row.cells)
            earned = f"{points(row.score)}/{points(row.max_score)}"
            hint = ", ".join(row.hints) if row.hints else "none"
            if row.caught and not row.hinted:
                hint += f"  (expected {row.expected_hint})"
            lines.append(f"  {row.id:<{width}}  {marks}  {earned:>9}  {hint}")
    if check.warnings:
        lines += ["", "Warnings:"] + [f"  - {warning}" for warning in check.warnings]
    if check.problems:
        lines += ["", "selfcheck FAILED:"] + [f"  - {problem}" for problem in check.problems]
    else:
        lines += ["", f"selfcheck passed: the solution gets full marks, the starter 0, all {check.mistakes} known "
                      f"mistakes are caught, all {len(check.variants)} correct variants get full marks"]
    return lines


def render_html(check: SelfCheck) -> str:
    return environment().get_template("selfcheck.html.j2").render(check=check, marks=MARKS)


def run_from_cli(args) -> int:
    """`gcgrade selfcheck [--out DIR]`: 0 when everything holds, 1 when anything does not."""
    out = Path(getattr(args, "out", None) or "out/selfcheck")
    with tempfile.TemporaryDirectory(prefix="gcgrade-selfcheck-") as folder:
        check = run_selfcheck(folder)
    out.mkdir(parents=True, exist_ok=True)
    page = out / "selfcheck.html"
    page.write_text(render_html(check), encoding="utf-8")
    print("\n".join(summary_lines(check)))
    print(f"report: {page}")
    sys.stdout.flush()
    return 0 if check.ok else 1
