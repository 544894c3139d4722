"""Gradescope and Coursera entry points, run against fake /autograder and /shared trees."""
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import ROOT, load_json, run_cli
from grader import platforms
from grader.synth import make_notebook, write_notebook
from solutions.mistakes import CORRECT, MISTAKES

SOLUTION = ROOT / "solutions" / "Gradient_Checking_solution.ipynb"
WRONG = next(m for m in MISTAKES if m.id == "nd_one_sided")  # loses only the larger-ε check of gradient_check_n
#: what Gradescope reads from results.json (its autograder specification)
GRADESCOPE_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
                   "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
             "visibility", "extra_data"}
VISIBILITY = {"visible", "hidden", "after_due_date", "after_published"}


def wrong_notebook(path):
    return write_notebook(path, make_notebook(dict(CORRECT, gradient_check_n=WRONG.source)))


def unreadable_notebook(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'{"cells": [{"cell_type": "code", "source": "def forward_pro')
    return path


# --- Gradescope: the autograder zip --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("package")
    done = run_cli("package", "gradescope", "--out", out)
    assert done.returncode == 0, done.stderr
    return out / "gradescope_autograder.zip", done.stdout


def test_package_prints_what_it_wrote(bundle):
    path, stdout = bundle
    assert stdout.startswith(f"wrote {path} (")
    assert "README.md, assignment, grader, pyproject.toml, run_autograder, setup.sh, solutions, templates" in stdout


def test_zip_has_both_scripts_at_its_top_and_executable(bundle):
    with zipfile.ZipFile(bundle[0]) as archive:
        for name in ("setup.sh", "run_autograder"):
            info = archive.getinfo(name)
            assert stat.S_IMODE(info.external_attr >> 16) == 0o755, name
            assert archive.read(name) == (ROOT / "deploy" / "gradescope" / name).read_bytes()


def test_zip_holds_the_source_and_solutions_but_no_tests_venv_or_outputs(bundle):
    with zipfile.ZipFile(bundle[0]) as archive:
        names = set(archive.namelist())
    for needed in ("pyproject.toml", "README.md", "grader/cli.py", "grader/grade.py", "grader/platforms.py",
                   "solutions/reference.py", "solutions/mistakes.py", "solutions/checks/pytest.ini",
                   "solutions/checks/check_gradient_check_n.py", "solutions/Gradient_Checking_solution.ipynb",
                   "assignment/gc_utils.py", "assignment/Gradient_Checking.ipynb", "templates/report.html.j2"):
        assert needed in names, needed
    top = {name.split("/")[0] for name in names}
    assert top == {"pyproject.toml", "README.md", "setup.sh", "run_autograder", "grader", "solutions", "assignment",
                   "templates"}
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo")) or ".ipynb_checkpoints" in n]


def test_the_same_tree_always_makes_the_same_zip(tmp_path):
    first = platforms.build_gradescope_zip(tmp_path / "a").read_bytes()
    assert platforms.build_gradescope_zip(tmp_path / "b").read_bytes() == first


# --- Gradescope: run_autograder on a fake /autograder tree ---------------------------------------------------

@pytest.fixture(scope="module")
def autograder(bundle, tmp_path_factory):
    """A fake /autograder whose source/ is the unpacked zip, and a gcgrade that runs that source (not ours)."""
    root = tmp_path_factory.mktemp("autograder")
    with zipfile.ZipFile(bundle[0]) as archive:
        archive.extractall(root / "source")
    gcgrade = root / "gcgrade"
    gcgrade.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import sys; sys.path.insert(0, sys.argv.pop(1)); "
                       f"from grader.cli import main_entry; main_entry()' {root / 'source'} \"$@\"\n")
    gcgrade.chmod(0o755)
    return root, gcgrade


def run_autograder(autograder, files: dict, gcgrade=None) -> dict:
    """Put `files` (name -> writer) in submission/, run the bundled run_autograder, return results.json."""
    root, bundled = autograder
    submission = root / "submission"
    if submission.exists():
        for old in submission.iterdir():
            old.unlink()
    submission.mkdir(exist_ok=True)
    for name, write in files.items():
        write(submission / name)
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "GCGRADE": str(gcgrade or bundled),
           "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    data = load_json(root / "results" / "results.json")
    assert_gradescope_schema(data)
    return data


def assert_gradescope_schema(data):
    assert set(data) <= GRADESCOPE_KEYS, set(data) - GRADESCOPE_KEYS
    assert isinstance(data["score"], (int, float)) and isinstance(data["output"], str)
    for test in data["tests"]:
        assert set(test) <= TEST_KEYS and {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] in ("passed", "failed") and test["visibility"] in VISIBILITY
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
    assert data.get("stdout_visibility", "hidden") == "hidden", "learners must not see the grader's own output"


def test_correct_submission_gets_full_marks_with_every_test_visible(autograder):
    def scratch(path):
        path.write_text("not a notebook")
    data = run_autograder(autograder, {"Gradient_Checking.ipynb": lambda p: p.write_bytes(SOLUTION.read_bytes()),
                                       "aaa_scratch.ipynb": scratch})
    assert data["score"] == 50 and all(t["status"] == "passed" for t in data["tests"])
    assert {t["visibility"] for t in data["tests"]} == {"visible"}
    assert data["extra_data"]["submission"] == "Gradient_Checking"  # the assignment's notebook, not the scratch one


def test_wrong_submission_loses_points_and_the_learner_reads_why(autograder):
    data = run_autograder(autograder, {"Gradient_Checking.ipynb": wrong_notebook})
    assert 0 < data["score"] < 50
    [failed] = [t for t in data["tests"] if t["status"] == "failed"]
    assert failed["name"].startswith("gradient_check_n: ") and failed["visibility"] == "visible"
    assert WRONG.hint in failed["output"]
    assert "def check_" not in json.dumps(data["tests"]), "hidden check code must never reach the learner"


def test_unreadable_submission_gets_score_0_and_a_message(autograder):
    data = run_autograder(autograder, {"Gradient_Checking.ipynb": unreadable_notebook})
    assert data["score"] == 0 and "not valid JSON" in data["output"]


def test_missing_submission_gets_score_0_and_a_message(autograder):
    data = run_autograder(autograder, {"answers.pdf": lambda p: p.write_bytes(b"%PDF-1.4")})
    assert data["score"] == 0 and data["tests"] == []
    assert "No Jupyter notebook (.ipynb) was found in your submission" in data["output"]


def test_a_grader_that_cannot_run_still_gives_a_valid_result(autograder):
    data = run_autograder(autograder, {"Gradient_Checking.ipynb": wrong_notebook}, gcgrade="/bin/false")
    assert data["score"] == 0 and "not a problem with your notebook" in data["output"]


# --- Coursera: gcgrade coursera and the image's entry script -------------------------------------------------

def coursera(tmp_path, monkeypatch, files: dict | None, part=None):
    """Run `gcgrade coursera --shared TMP` with `files` in TMP/submission (None: no folder at all)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    if files is not None:
        (shared / "submission").mkdir()
        for name, write in files.items():
            write(shared / "submission" / name)
    if part is None:
        monkeypatch.delenv("partId", raising=False)
    else:
        monkeypatch.setenv("partId", part)
    done = run_cli("coursera", "--shared", shared)
    assert done.returncode == 0, done.stderr
    feedback = load_json(shared / "feedback.json")
    assert json.loads(done.stdout) == feedback, "stdout holds the feedback object and nothing else"
    assert set(feedback) == {"fractionalScore", "feedback", "feedbackType"} and feedback["feedbackType"] == "HTML"
    assert 0.0 <= feedback["fractionalScore"] <= 1.0 and isinstance(feedback["feedback"], str)
    assert (shared / "htmlFeedback.html").read_text(encoding="utf-8").startswith("<!doctype html>")
    return feedback


def copy_solution(path):
    path.write_bytes(SOLUTION.read_bytes())


def test_coursera_whole_notebook_without_part_id(tmp_path, monkeypatch):
    feedback = coursera(tmp_path, monkeypatch, {"Gradient_Checking.ipynb": copy_solution})
    assert feedback["fractionalScore"] == 1.0 and feedback["feedback"].startswith("Score: 50/50\n"), feedback


def test_coursera_part_named_after_a_function_scores_that_function_only(tmp_path, monkeypatch):
    feedback = coursera(tmp_path, monkeypatch, {"Gradient_Checking.ipynb": wrong_notebook}, part="gradient_check_n")
    assert 0 < feedback["fractionalScore"] < 1
    assert feedback["feedback"].startswith("Score: 16.67/20\ngradient_check_n: 16.67/20 (partial)\n")
    assert WRONG.hint in feedback["feedback"] and "forward_propagation" not in feedback["feedback"]


def test_coursera_other_part_of_the_same_notebook_gets_full_marks(tmp_path, monkeypatch):
    feedback = coursera(tmp_path, monkeypatch, {"Gradient_Checking.ipynb": wrong_notebook}, part="forward_propagation")
    assert feedback["fractionalScore"] == 1.0, feedback


def test_coursera_unknown_part_id_grades_the_whole_notebook(tmp_path, monkeypatch):
    feedback = coursera(tmp_path, monkeypatch, {"submission.ipynb": wrong_notebook}, part="Zb6wb")
    assert feedback["fractionalScore"] == round((50 - 20 / 6) / 50, 6), feedback


def test_coursera_unreadable_submission_scores_0_with_a_message(tmp_path, monkeypatch):
    feedback = coursera(tmp_path, monkeypatch, {"Gradient_Checking.ipynb": unreadable_notebook})
    assert feedback["fractionalScore"] == 0.0 and "not valid JSON" in feedback["feedback"]


@pytest.mark.parametrize("files", [None, {}], ids=["no_folder", "empty_folder"])
def test_coursera_missing_submission_scores_0_with_a_message(tmp_path, monkeypatch, files):
    feedback = coursera(tmp_path, monkeypatch, files, part="gradient_check")
    assert feedback["fractionalScore"] == 0.0 and platforms.NO_NOTEBOOK in feedback["feedback"]


def test_coursera_part_ids_map_to_functions(monkeypatch):
    monkeypatch.setattr(platforms, "COURSERA_PARTS", {"Zb6wb": "gradient_check"})
    assert platforms.part_function("Zb6wb") == "gradient_check"
    assert platforms.part_function("backward_propagation") == "backward_propagation"
    assert platforms.part_function("other") is None and platforms.part_function(None) is None


def test_coursera_grader_failure_still_writes_feedback(tmp_path, monkeypatch, capsys):
    def broken(shared, part_id):
        raise RuntimeError("boom")
    monkeypatch.setattr(platforms, "coursera_grade", broken)
    assert platforms.coursera_from_cli(SimpleNamespace(shared=str(tmp_path))) == 0
    assert load_json(tmp_path / "feedback.json") == {"fractionalScore": 0.0, "feedback": platforms.GRADER_FAILED,
                                                     "feedbackType": "HTML"}
    assert "RuntimeError: boom" in capsys.readouterr().err


def run_entry(shared, gcgrade):
    env = {**os.environ, "COURSERA_SHARED": str(shared), "GCGRADE": str(gcgrade), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("partId", None)
    done = subprocess.run(["sh", str(ROOT / "deploy" / "coursera" / "run_grader")], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return load_json(shared / "feedback.json")


def test_coursera_entry_script_grades_and_replaces_planted_feedback(tmp_path):
    (tmp_path / "submission").mkdir()
    copy_solution(tmp_path / "submission" / "Gradient_Checking.ipynb")
    (tmp_path / "feedback.json").write_text('{"fractionalScore": 1.0, "feedback": "planted"}')
    feedback = run_entry(tmp_path, Path(sys.executable).parent / "gcgrade")
    assert feedback["fractionalScore"] == 1.0 and feedback["feedback"] != "planted", feedback
    assert (tmp_path / "htmlFeedback.html").is_file()


def test_coursera_entry_script_writes_feedback_when_gcgrade_cannot_start(tmp_path):
    (tmp_path / "submission").mkdir()
    (tmp_path / "feedback.json").write_text('{"fractionalScore": 1.0, "feedback": "planted"}')
    feedback = run_entry(tmp_path, "/bin/false")
    assert feedback["fractionalScore"] == 0.0 and "not a problem with your code" in feedback["feedback"]
