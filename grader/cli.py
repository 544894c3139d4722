"""The command line: parses arguments, calls the library, maps outcomes to exit codes. Nothing more."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

USAGE_ERROR = 2


def _write_outputs(result, out: Path) -> tuple[Path, Path]:
    from grader.gradescope import to_results_json
    from grader.report import render_html
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / f"{result.submission}.json", out / f"{result.submission}.html"
    json_path.write_text(json.dumps(to_results_json(result), indent=1, ensure_ascii=False))
    html_path.write_text(render_html(result), encoding="utf-8")
    return json_path, html_path


def summary_lines(result) -> list[str]:
    """The compact terminal summary: the total, one line per function, then the warnings.

    A failing function's line says how many checks failed and, in brief, why: the likely mistakes
    the checks named, or how the learner's code ended (timeout, exited, ...).
    """
    from grader.templating import points

    def shorten(text: str, limit: int) -> str:
        text = " ".join(text.split())
        return text if len(text) <= limit else text[:limit - 1] + "…"

    lines = [f"{result.submission}: {points(result.score)}/{points(result.max_score)}"]
    if result.error:
        return lines + [f"  not graded: {result.error}"]
    for function in result.functions:
        failed = [c for c in function.checks if c.status.value != "passed"]
        if function.message:
            note = shorten(function.message, 100)
        elif not failed:
            note = "all checks passed"
        else:
            note = f"{len(failed)} of {len(function.checks)} checks failed"
            likely = sorted({c.hint_id for c in failed if c.hint_id})
            ended = sorted({c.outcome for c in failed if c.outcome not in ("", "value")})
            why = ([f"likely {', '.join(likely)}"] if likely else []) + ended
            note += f" ({'; '.join(why)})" if why else ""
        lines.append(f"  {function.name:<22} {points(function.score):>5}/{points(function.max_score):<3} "
                     f"{function.status.value:<16} {note}")
    for warning in result.warnings:
        lines.append(f"  warning: {shorten(warning, 200)}")
    return lines


def cmd_grade(args) -> int:
    from grader.grade import grade
    path = Path(args.notebook)
    if not path.exists():
        print(f"gcgrade grade: no such file: {path}", file=sys.stderr)
        return USAGE_ERROR
    result = grade(path)
    json_path, html_path = _write_outputs(result, Path(args.out))
    print("\n".join(summary_lines(result)))
    print(f"reports: {html_path} and {json_path}")
    return 0


def cmd_doctor(args) -> int:
    from grader.doctor import report
    print(report())
    return 0


def _delegate(module: str, function: str):
    """A subcommand implemented in its own module; imported only when used, so start-up stays fast."""
    def run(args) -> int:
        import importlib
        return int(getattr(importlib.import_module(module), function)(args) or 0)
    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gcgrade", description="Grade Gradient Checking notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)

    grade = sub.add_parser("grade", help="grade one notebook; writes OUT/<stem>.json and OUT/<stem>.html")
    grade.add_argument("notebook")
    grade.add_argument("--out", default="out", help="folder for the reports (default: out)")
    grade.set_defaults(run=cmd_grade)

    batch = sub.add_parser("batch", help="grade a folder, an nbgrader submitted/ tree or a zip export")
    batch.add_argument("input", help="folder of notebooks, nbgrader-style submitted/ tree, or .zip")
    batch.add_argument("--out", required=True, help="folder for reports, gradebook.sqlite, grades.csv, index.html")
    batch.add_argument("--jobs", type=int, default=0, help="worker processes (default: one per core)")
    batch.add_argument("--regrade", action="store_true", help="grade again even what the gradebook already has")
    batch.set_defaults(run=_delegate("grader.batch", "run_from_cli"))

    export = sub.add_parser("export", help="regenerate outputs from a batch's gradebook without grading")
    export.add_argument("--out", required=True, help="the batch's output folder (holds gradebook.sqlite)")
    export.add_argument("--format", choices=("csv", "gradescope"), default="csv")
    export.set_defaults(run=_delegate("grader.export", "run_from_cli"))

    selfcheck = sub.add_parser("selfcheck", help="grade the solution, the starter and every known mistake")
    selfcheck.add_argument("--out", default="out/selfcheck", help="folder for selfcheck.html")
    selfcheck.set_defaults(run=_delegate("grader.selfcheck", "run_from_cli"))

    release = sub.add_parser("release", help="build the starter notebook from the solution notebook")
    release.set_defaults(run=_delegate("grader.release", "run_from_cli"))

    package = sub.add_parser("package", help="build a platform bundle (the Gradescope autograder zip)")
    package.add_argument("platform", choices=("gradescope",))
    package.add_argument("--out", default="build", help="folder for the bundle")
    package.set_defaults(run=_delegate("grader.platforms", "package_from_cli"))

    coursera = sub.add_parser("coursera", help="grade as a Coursera custom grader (/shared/submission -> /shared/feedback.json)")
    coursera.add_argument("--shared", default="/shared", help="the shared folder (default: /shared)")
    coursera.set_defaults(run=_delegate("grader.platforms", "coursera_from_cli"))

    doctor = sub.add_parser("doctor", help="show which sandbox protections are active on this machine")
    doctor.set_defaults(run=cmd_doctor)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on bad usage; turn it into a return code
        return int(exc.code or 0) and USAGE_ERROR
    return args.run(args)


def main_entry() -> None:
    sys.exit(main())
