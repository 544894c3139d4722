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
    """The compact terminal summary: one line per function, then the total."""
    from grader.report import points
    lines = [f"{result.submission}: {points(result.score)}/{points(result.max_score)}"]
    if result.error:
        lines.append(f"  not graded: {result.error}")
    for function in result.functions:
        failed = [c for c in function.checks if c.status.value != "passed"]
        note = function.message or (f"{len(failed)} of {len(function.checks)} checks failed" if failed else "all checks passed")
        lines.append(f"  {function.name:<22} {points(function.score):>5}/{points(function.max_score):<3} "
                     f"{function.status.value:<16} {note}")
    for warning in result.warnings:
        lines.append(f"  warning: {warning}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gcgrade", description="Grade Gradient Checking notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help="grade one notebook; writes OUT/<stem>.json and OUT/<stem>.html")
    grade.add_argument("notebook")
    grade.add_argument("--out", default="out", help="folder for the reports (default: out)")
    grade.set_defaults(run=cmd_grade)
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
