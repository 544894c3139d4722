"""`gcgrade selfcheck` through the real command (as CI runs it), and the rules that decide its exit status."""
import re
from types import SimpleNamespace

import nbformat
import pytest

from conftest import run_cli
from grader import release, selfcheck
from grader.notebook import GRADED
from grader.result import CheckResult, CheckStatus, FunctionResult, FunctionStatus, Result
from solutions.mistakes import MISTAKES, Mistake, mistakes_for
from solutions.variants import VARIANTS, Variant


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    out = tmp_path_factory.mktemp("selfcheck")
    done = run_cli("selfcheck", "--out", out, timeout=600)
    return done, out


def matrix_row(stdout, mistake_id):
    """The marks of one mistake's row in the printed matrix, e.g. ['X', '.', ...], and its hint column."""
    match = re.search(rf"^  {re.escape(mistake_id)} +((?:[XE.G] +)+)\S+/\S+  (.*)$", stdout, re.MULTILINE)
    assert match, f"no matrix row for {mistake_id}"
    return match.group(1).split(), match.group(2)


def test_selfcheck_passes_on_the_project_and_says_so(ran):
    done, _ = ran
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "selfcheck passed" in done.stdout and "FAILED" not in done.stdout
    assert "  solution  50/50" in done.stdout
    assert "  starter   0/50" in done.stdout and done.stdout.count("not_implemented") >= 4
    assert f"{len(VARIANTS)} of {len(VARIANTS)} correct variants get full marks" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_matrix_has_one_block_per_function_with_its_checks_as_columns(ran):
    done, _ = ran
    for function in GRADED:
        assert re.search(rf"^{function} \(\d+ points, {len(mistakes_for(function))} known mistakes\)$", done.stdout,
                         re.MULTILINE), function
    assert re.search(r"^ +c1  check_notebook_planted_bugs: ", done.stdout, re.MULTILINE)


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.id for m in MISTAKES])
def test_every_mistake_has_a_row_that_shows_a_catching_check_and_its_hint(ran, mistake):
    marks, hints = matrix_row(ran[0].stdout, mistake.id)
    assert set(marks) & {"X", "E"}, f"{mistake.id} is caught by no check"
    assert hints.split(", ")[0] == (mistake.same_as or mistake.id)


def test_matrix_pins_which_checks_catch_a_one_sided_difference(ran):
    # only a larger ε shows it: the five value checks of gradient_check_n, then the two shape checks
    assert matrix_row(ran[0].stdout, "nd_one_sided")[0] == [".", ".", ".", ".", "X", ".", "."]
    assert matrix_row(ran[0].stdout, "one_sided")[0] == [".", ".", ".", ".", "X", "."]


def test_html_report_is_written_self_contained_with_the_matrix(ran):
    done, out = ran
    page = (out / "selfcheck.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and str(out / "selfcheck.html") in done.stdout
    assert all(f"<code>{m.id}</code>" in page for m in MISTAKES)
    assert all(f"<code>{v.id}</code>" in page for v in VARIANTS)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "the page must not load anything"
    assert "<script" not in page


# --- the rules, on hand-made results (no grading) ---------------------------------------------------------

CHECKS = ("check_a", "check_b")


def result(name, lost=(), hint="", error="", status=None):
    """A Result where the checks in `lost` ((function, check) pairs) failed with `hint`; all others passed."""
    functions = []
    for function in GRADED:
        checks = []
        for check in CHECKS:
            failed = (function, check) in lost
            verdict = CheckStatus.FAILED if failed else CheckStatus.PASSED
            checks.append(CheckResult(function, check, f"{check} title", verdict, 0.0 if failed else 5.0, 5.0,
                                      message="wrong" if failed else "", hint_id=hint if failed else ""))
        score = sum(c.points for c in checks)
        state = status or (FunctionStatus.PASSED if score == 10 else FunctionStatus.PARTIAL)
        functions.append(FunctionResult(function, state, score, 10.0, tuple(checks)))
    total = sum(f.score for f in functions)
    return Result(name, f"{name}.ipynb", "hash", 1, "test", total, 40.0, tuple(functions), error=error)


MISTAKE = Mistake("m_one", "gradient_check", "a <b>bold</b> title", "look at <i>this</i>", ())
VARIANT = Variant("v_one", "gradient_check_n", "an unusual one", "")


def starter():
    return result("starter", lost=[(f, c) for f in GRADED for c in CHECKS], status=FunctionStatus.NOT_IMPLEMENTED)


def judged(**changes):
    results = {"solution": result("solution"), "starter": starter(),
               "mistake-m_one": result("mistake-m_one", lost=[("gradient_check", "check_b")], hint="m_one"),
               "variant-v_one": result("variant-v_one")}
    results.update(changes)
    return selfcheck.judge(results, (MISTAKE,), (VARIANT,))


def test_all_rules_hold_on_good_results():
    check = judged()
    assert check.ok and not check.warnings, (check.problems, check.warnings)
    [row] = next(m for m in check.matrices if m.function == "gradient_check").rows
    assert [cell.verdict for cell in row.cells] == ["passed", "caught"] and row.hints == ("m_one",)


def test_a_solution_that_loses_points_fails_the_selfcheck():
    check = judged(solution=result("solution", lost=[("gradient_check_n", "check_a")]))
    assert check.problems == ("the solution notebook scores 35/40, not full marks: gradient_check_n: check_a title "
                              "(wrong)",)


def test_a_starter_that_scores_or_is_not_marked_not_implemented_fails():
    check = judged(starter=result("starter"))
    assert "the starter notebook scores 40, not 0" in check.problems
    assert "the starter's gradient_check is passed, not not_implemented" in check.problems


def test_a_mistake_no_check_catches_fails_and_a_missing_hint_only_warns():
    assert judged(**{"mistake-m_one": result("mistake-m_one")}).problems == (
        "mistake m_one (gradient_check: a <b>bold</b> title) is caught by no check",)
    unhinted = judged(**{"mistake-m_one": result("mistake-m_one", lost=[("gradient_check", "check_a")])})
    assert unhinted.ok and unhinted.warnings == ("mistake m_one loses points but never gets its hint (m_one)",)


def test_a_mistake_that_costs_another_function_points_is_a_warning():
    lost = [("gradient_check", "check_a"), ("forward_propagation", "check_a")]
    check = judged(**{"mistake-m_one": result("mistake-m_one", lost=lost, hint="m_one")})
    assert check.ok and check.warnings == ("mistake m_one also costs points in forward_propagation",)


def test_a_correct_variant_that_loses_points_fails():
    check = judged(**{"variant-v_one": result("variant-v_one", lost=[("gradient_check_n", "check_b")])})
    assert check.problems == (
        "correct variant v_one (an unusual one) gets 35/40: gradient_check_n: check_b title: wrong",)


def test_html_escapes_what_it_shows():
    page = selfcheck.render_html(judged(**{"mistake-m_one": result("mistake-m_one")}))
    assert "a &lt;b&gt;bold&lt;/b&gt; title" in page and "look at &lt;i&gt;this&lt;/i&gt;" in page
    assert "<b>bold</b>" not in page and "FAILED" in page


def test_cli_exits_1_when_a_rule_fails_and_still_writes_the_page(tmp_path, monkeypatch, capsys):
    failing = judged(**{"mistake-m_one": result("mistake-m_one")})
    monkeypatch.setattr(selfcheck, "run_selfcheck", lambda folder: failing)
    assert selfcheck.run_from_cli(SimpleNamespace(out=str(tmp_path))) == 1
    printed = capsys.readouterr().out
    assert "selfcheck FAILED:\n  - mistake m_one (gradient_check: a <b>bold</b> title) is caught by no check" in printed
    assert (tmp_path / "selfcheck.html").is_file()


# --- gcgrade release (the other half of the instructor's loop) --------------------------------------------

def test_release_command_rebuilds_the_starter_and_says_what_it_wrote(tmp_path, monkeypatch, capsys):
    committed, cells = release.STARTER_PATH, len(nbformat.read(str(release.SOLUTION_PATH), as_version=4).cells)
    solution = tmp_path / "solutions" / "Gradient_Checking_solution.ipynb"
    solution.parent.mkdir()
    solution.write_bytes(release.SOLUTION_PATH.read_bytes())
    starter = tmp_path / "assignment" / "Gradient_Checking.ipynb"
    starter.parent.mkdir()
    monkeypatch.setattr(release, "SOLUTION_PATH", solution)
    monkeypatch.setattr(release, "STARTER_PATH", starter)
    assert release.run_from_cli(None) == 0
    assert starter.read_bytes() == committed.read_bytes()
    assert capsys.readouterr().out.splitlines() == [
        "wrote assignment/Gradient_Checking.ipynb (updated) from solutions/Gradient_Checking_solution.ipynb",
        f"  {cells} cells, outputs cleared; 4 graded cells tagged: " + ", ".join(GRADED),
    ]
    assert release.run_from_cli(None) == 0
    assert "(unchanged)" in capsys.readouterr().out


def test_release_command_reports_a_malformed_solution_and_exits_1(tmp_path, monkeypatch, capsys):
    solution = tmp_path / "solution.ipynb"
    solution.write_text(release.SOLUTION_PATH.read_text(encoding="utf-8").replace("### END SOLUTION", "", 1),
                        encoding="utf-8")
    monkeypatch.setattr(release, "SOLUTION_PATH", solution)
    monkeypatch.setattr(release, "STARTER_PATH", tmp_path / "starter.ipynb")
    assert release.run_from_cli(None) == 1
    assert "gcgrade release: solution.ipynb: " in capsys.readouterr().err
    assert not (tmp_path / "starter.ipynb").exists()
