"""Writers over a batch's files: grades.csv for the LMS and each student's results.json and report.

They only format Results (read back from the gradebook, or handed over by a batch worker);
nothing is graded again. Every file is written whole or not at all (temp file + os.replace),
so a batch killed mid-write leaves the previous version, never half a file.
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
import sys
from pathlib import Path

from grader import gradebook
from grader.gradescope import to_results_json
from grader.notebook import GRADED
from grader.result import Result

CSV_NAME = "grades.csv"
#: nbgrader's grades.csv columns, in its order; one column per graded function follows
NBGRADER_COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                    "raw_score", "late_submission_penalty", "score", "max_score")
#: suffix of the temp files behind atomic writes; a killed batch may leave some, the next one removes them
TEMP_SUFFIX = ".gcgrade-tmp"


@contextlib.contextmanager
def atomic_file(path: Path, newline: str | None = None):
    """A text handle whose content replaces `path` only when the block ends without an error."""
    temp = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        with open(temp, "w", encoding="utf-8", newline=newline) as handle:
            yield handle
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_atomic(path: Path, text: str) -> None:
    with atomic_file(path) as handle:
        handle.write(text)


def remove_stale_temp_files(out: Path) -> None:
    for temp in out.glob(f".*{TEMP_SUFFIX}"):
        temp.unlink(missing_ok=True)


def results_json_text(result: Result) -> str:
    """The student's results.json, formatted exactly as `gcgrade grade` writes it."""
    return json.dumps(to_results_json(result), indent=1, ensure_ascii=False, default=gradebook.plain)


def write_reports(result: Result, out: Path) -> str:
    """OUT/<student>.json, then OUT/<student>.html; returns what went wrong with the HTML, '' when nothing.
    An error writing the JSON is raised: without it the student has no result."""
    from grader.report import render_html
    write_atomic(out / f"{result.submission}.json", results_json_text(result))
    try:
        write_atomic(out / f"{result.submission}.html", render_html(result))
    except Exception as exc:  # the learner report's template failing must not cost the grade
        return f"{result.submission}.html could not be written ({type(exc).__name__}: {exc})"
    return ""


def number(value: float | None) -> str:
    """Scores as an LMS reads them: 50, 46.6667, 0."""
    if value is None:
        return ""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def write_csv(db, out: Path) -> Path:
    """OUT/grades.csv from the gradebook, one row per student, streamed."""
    pivot = ", ".join(f"MAX(CASE WHEN f.function = '{name}' THEN f.score END)" for name in GRADED)
    query = (f"SELECT s.assignment, s.submitted_at, s.student, s.score, s.max_score, {pivot} "
             f"FROM submissions s LEFT JOIN functions f ON f.student = s.student "
             f"GROUP BY s.student ORDER BY s.student")
    path = out / CSV_NAME
    with atomic_file(path, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(NBGRADER_COLUMNS + GRADED)
        for assignment, submitted_at, student, score, max_score, *functions in db.execute(query):
            writer.writerow([assignment, "", submitted_at, student, "", "", "", number(score), "0", number(score),
                             number(max_score), *map(number, functions)])
    return path


def write_results_json(db, out: Path) -> int:
    """Every student's OUT/<student>.json again, from the Results stored in the gradebook."""
    count = 0
    for result in gradebook.results(db):
        write_atomic(out / f"{result.submission}.json", results_json_text(result))
        count += 1
    return count


def run_from_cli(args) -> int:
    out = Path(args.out)
    try:
        db = gradebook.connect(out / gradebook.FILENAME, create=False)
    except gradebook.GradebookError as exc:
        print(f"gcgrade export: {exc}", file=sys.stderr)
        return 2
    with contextlib.closing(db):
        if args.format == "csv":
            print(f"wrote {write_csv(db, out)}")
        else:
            print(f"wrote {write_results_json(db, out)} results.json files (Gradescope's schema) to {out}/")
    return 0
