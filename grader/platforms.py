"""Platform entry points: the Gradescope autograder bundle and the Coursera custom grader.

Both only move files around `grade()`: find the learner's notebook, grade it, and write the
Result in the shape the platform reads. Neither decides a grade.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
import traceback
import zipfile
from pathlib import Path

from grader.provided import PROJECT_DIR

# ---------------------------------------------------------------------------------------------- Gradescope

#: what the autograder needs at run time, relative to the project: never tests/, .venv/, out/ or build/.
#: solutions/ goes in: the hidden checks and the reference run there (and secret.txt, when the course has one).
BUNDLED = ("pyproject.toml", "README.md", "grader", "solutions", "assignment", "templates")
#: Gradescope wants these two at the top of the zip
GRADESCOPE_SCRIPTS = ("setup.sh", "run_autograder")
_SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".mypy_cache"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}
#: a fixed time stamp, so the same tree always makes the same zip
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def bundle_files(root: Path = PROJECT_DIR) -> list:
    """(path in the zip, file on disk) for every project file the autograder needs, sorted."""
    files = []
    for entry in BUNDLED:
        path = root / entry
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in candidates:
            relative = file.relative_to(root)
            if _SKIPPED_DIRS & set(relative.parts) or file.suffix in _SKIPPED_SUFFIXES or file.is_symlink():
                continue
            files.append((relative.as_posix(), file))
    return files


def build_gradescope_zip(out: Path, root: Path = PROJECT_DIR) -> Path:
    """Write OUT/gradescope_autograder.zip: setup.sh and run_autograder at the top, then the project source."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / "gradescope_autograder.zip"
    scripts = [(name, root / "deploy" / "gradescope" / name) for name in GRADESCOPE_SCRIPTS]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, file in scripts + bundle_files(root):
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if name in GRADESCOPE_SCRIPTS else 0o100644) << 16
            archive.writestr(info, file.read_bytes())
    return target


def package_from_cli(args) -> int:
    """`gcgrade package gradescope --out DIR`: build the autograder zip and say what is in it."""
    target = build_gradescope_zip(Path(args.out))
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
    top = sorted({name.split("/")[0] for name in names})
    print(f"wrote {target} ({len(names)} files, {target.stat().st_size // 1024} KiB): {', '.join(top)}")
    if (PROJECT_DIR / "solutions" / "secret.txt").is_file():
        print("  the course secret (solutions/secret.txt) is included, so staff can reproduce every grade")
    else:
        print("  warning: no solutions/secret.txt, so the autograder uses the built-in development secret; "
              "write the course secret there and package again (GCGRADE_SECRET is not available on Gradescope)")
    print("  upload it as the autograder of a Gradescope programming assignment (base image: Ubuntu 22.04)")
    return 0


# ------------------------------------------------------------------------------------------------ Coursera

#: Coursera part ids of the course's programming assignment -> the graded function that part scores.
#: Fill in your item's part ids. A partId spelled as a function's name also scores that function alone;
#: any other partId (or none) grades the whole notebook.
COURSERA_PARTS: dict = {}
#: a file name that marks the assignment's notebook when the submission folder holds several
NOTEBOOK_PREFIX = "Gradient_Checking"

NO_NOTEBOOK = ("No notebook was found in your submission, so nothing could be graded. Submit your "
               "Gradient_Checking.ipynb file itself (not a zip, PDF or .py export).")
GRADER_FAILED = ("The grader itself failed on your submission. This is not a problem with your code: please submit "
                 "again, and tell the course staff if it happens again.")
#: the learner's page when the grader failed (the report template needs a Result, and there is none)
GRADER_FAILED_HTML = ('<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Not graded</title>'
                      f"</head>\n<body><p>{GRADER_FAILED}</p></body>\n</html>\n")


def find_notebook(folder: Path) -> Path | None:
    """The submitted notebook in `folder`: the .ipynb (the assignment's, when there are several), else a lone file."""
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.rglob("*")
                   if p.is_file() and not _SKIPPED_DIRS & set(p.relative_to(folder).parts))
    notebooks = [p for p in files if p.suffix.lower() == ".ipynb"]
    preferred = [p for p in notebooks if p.name.startswith(NOTEBOOK_PREFIX)]
    if preferred or notebooks:
        return (preferred or notebooks)[0]
    return files[0] if len(files) == 1 else None  # a notebook saved under another extension still gets read


def part_function(part_id: str | None) -> str | None:
    """The graded function a Coursera part scores, or None for the whole notebook."""
    from grader.notebook import GRADED
    if not part_id:
        return None
    return COURSERA_PARTS.get(part_id) or (part_id if part_id in GRADED else None)


def part_result(result, function: str | None):
    """The Result as one part sees it: only that function, with its points as the score and maximum."""
    if function is None:
        return result
    only = result.function(function)
    return dataclasses.replace(result, functions=(only,), score=only.score, max_score=only.max_score)


def coursera_feedback(result) -> dict:
    """feedback.json for a Result: Coursera's fractionalScore and a plain-text summary; the HTML is separate."""
    from grader.templating import points
    fraction = result.score / result.max_score if result.max_score else 0.0
    lines = [f"Score: {points(result.score)}/{points(result.max_score)}"]
    if result.error:
        lines.append(result.error)
    for function in result.functions:
        lines.append(f"{function.name}: {points(function.score)}/{points(function.max_score)} "
                     f"({function.status.value})" + (f" {function.message}" if function.message else ""))
        for check in function.checks:
            if check.status.value != "passed" and not function.message:
                lines.append(f"  - {check.title}: {check.message}" + (f" Hint: {check.hint}" if check.hint else ""))
    lines += [f"Warning: {warning}" for warning in result.warnings]
    lines.append(f"(grader {result.grader_version}, seed {result.seed})")
    text = "\n".join(lines)
    return {"fractionalScore": round(min(max(fraction, 0.0), 1.0), 6), "feedback": text[:60000],
            "feedbackType": "HTML"}


def coursera_grade(shared: Path, part_id: str | None, forkserver=None):
    """Grade the notebook in SHARED/submission/ for one part; returns the Result that part is scored on."""
    from grader.grade import grade, unreadable
    from grader.notebook import Submission
    from grader.sandbox import ForkServer
    folder, function = shared / "submission", part_function(part_id)
    notebook = find_notebook(folder)
    if notebook is None:
        return part_result(unreadable(Submission(str(folder), "submission", "", error=NO_NOTEBOOK), 0.0), function)
    own = forkserver is None
    # the learner's code never sees the shared folder, so it cannot write the feedback files itself
    forkserver = forkserver or ForkServer(hidden=(str(shared),))
    try:
        return part_result(grade(notebook, forkserver=forkserver), function)
    finally:
        if own:
            forkserver.close()


def write_coursera(shared: Path, feedback: dict, html: str) -> None:
    (shared / "htmlFeedback.html").write_text(html, encoding="utf-8")
    (shared / "feedback.json").write_text(json.dumps(feedback, ensure_ascii=False), encoding="utf-8")


def coursera_from_cli(args) -> int:
    """`gcgrade coursera [--shared DIR]`: reads the partId environment variable, writes the two feedback files.

    Exits 0 whenever the feedback files were written, even when grading failed, so the learner always reads
    something; the grader's own failure goes to stderr, which only course staff see.
    """
    from grader.report import render_html
    shared = Path(args.shared)
    try:
        result = coursera_grade(shared, os.environ.get("partId"))
        feedback, html = coursera_feedback(result), render_html(result)
    except Exception:  # a grader fault: tell the learner it is not theirs, keep the traceback for staff
        traceback.print_exc(file=sys.stderr)
        feedback = {"fractionalScore": 0.0, "feedback": GRADER_FAILED, "feedbackType": "HTML"}
        html = GRADER_FAILED_HTML
    try:
        write_coursera(shared, feedback, html)
    except OSError as exc:
        print(f"gcgrade coursera: cannot write the feedback into {shared}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(feedback, ensure_ascii=False))  # Coursera's older graders read it from stdout
    return 0
