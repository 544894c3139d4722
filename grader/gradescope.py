"""Writer: a Result as Gradescope's results.json (the machine-readable result). Formats only."""
from __future__ import annotations

from grader.result import CheckStatus, Result


def to_results_json(result: Result) -> dict:
    """Gradescope's schema: score, tests[name, score, max_score, status, output, visibility], extra_data."""
    tests = []
    for function in result.functions:
        for check in function.checks:
            tests.append({
                "name": check.label,
                "score": check.points,
                "max_score": check.max_points,
                "status": "passed" if check.status is CheckStatus.PASSED else "failed",
                "output": _check_output(check),
                "visibility": check.visibility,
            })
    summary = result.error or " · ".join(f"{f.name} {f.score:g}/{f.max_score:g}" for f in result.functions)
    if result.warnings:
        summary += "\n\nWarnings:\n" + "\n".join("- " + w for w in result.warnings)
    return {
        "score": round(result.score, 4),
        "output": summary,
        "tests": tests,
        "extra_data": {
            "functions": {f.name: {"score": round(f.score, 4), "max_score": f.max_score, "status": f.status.value}
                          for f in result.functions},
            "grader_version": result.grader_version,
            "seed": result.seed,
            "content_hash": result.content_hash,
            "submission": result.submission,
            "error": result.error,
            "warnings": list(result.warnings),
            "result": result.to_dict(),
        },
    }


def _check_output(check) -> str:
    if check.status is CheckStatus.PASSED:
        return ""
    parts = [check.message]
    if check.tolerance:
        parts.append(f"Tolerance: {check.tolerance}.")
    if check.hint:
        parts.append(f"Hint: {check.hint}")
    return "\n".join(p for p in parts if p)
