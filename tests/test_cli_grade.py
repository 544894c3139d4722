"""`gcgrade grade` end to end through the real command: notebooks in, results.json and HTML out."""
import json

from conftest import ROOT, load_json, run_cli
from grader.synth import make_notebook, write_notebook
from solutions.mistakes import CORRECT, MISTAKES

SOLUTION = ROOT / "solutions" / "Gradient_Checking_solution.ipynb"
STARTER = ROOT / "assignment" / "Gradient_Checking.ipynb"


def test_solution_notebook_gets_full_marks(tmp_path):
    done = run_cli("grade", SOLUTION, "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    data = load_json(tmp_path / "Gradient_Checking_solution.json")
    assert data["score"] == 50
    assert {name: f["score"] for name, f in data["extra_data"]["functions"].items()} == {
        "forward_propagation": 10, "backward_propagation": 10, "gradient_check": 10, "gradient_check_n": 20}
    assert all(t["status"] == "passed" for t in data["tests"])
    assert "Gradient_Checking_solution: 50/50" in done.stdout
    assert (tmp_path / "Gradient_Checking_solution.html").read_text().startswith("<!doctype html>")


def test_untouched_starter_gets_zero_with_not_implemented_and_no_traceback(tmp_path):
    done = run_cli("grade", STARTER, "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    data = load_json(tmp_path / "Gradient_Checking.json")
    assert data["score"] == 0
    assert {f["status"] for f in data["extra_data"]["functions"].values()} == {"not_implemented"}
    assert all("Not implemented yet" in t["output"] for t in data["tests"])
    assert "Traceback" not in json.dumps(data["tests"]) and "Traceback" not in done.stdout


def test_one_wrong_function_loses_only_its_points(tmp_path):
    mistake = next(m for m in MISTAKES if m.id == "nd_one_sided")
    path = write_notebook(tmp_path / "learner.ipynb", make_notebook(dict(CORRECT, gradient_check_n=mistake.source)))
    assert run_cli("grade", path, "--out", tmp_path / "out").returncode == 0
    functions = load_json(tmp_path / "out" / "learner.json")["extra_data"]["functions"]
    assert [functions[n]["score"] for n in ("forward_propagation", "backward_propagation", "gradient_check")] == [10, 10, 10]
    assert 0 < functions["gradient_check_n"]["score"] < 20


def test_results_json_follows_gradescope_schema(tmp_path):
    run_cli("grade", SOLUTION, "--out", tmp_path)
    data = load_json(tmp_path / "Gradient_Checking_solution.json")
    assert set(data) >= {"score", "tests", "output", "extra_data"}
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["name"].split(": ", 1)[0] in data["extra_data"]["functions"]
    assert abs(sum(t["max_score"] for t in data["tests"]) - 50) < 1e-6
    assert data["extra_data"]["seed"] > 0 and data["extra_data"]["grader_version"]


def test_same_file_grades_the_same_and_an_edit_draws_new_inputs(tmp_path):
    first = write_notebook(tmp_path / "a.ipynb", make_notebook(CORRECT))
    run_cli("grade", first, "--out", tmp_path / "1")
    run_cli("grade", first, "--out", tmp_path / "2")
    seed_one = load_json(tmp_path / "1" / "a.json")["extra_data"]["seed"]
    assert seed_one == load_json(tmp_path / "2" / "a.json")["extra_data"]["seed"]
    edited = write_notebook(tmp_path / "a.ipynb", make_notebook(CORRECT, outputs=False))
    run_cli("grade", edited, "--out", tmp_path / "3")
    assert load_json(tmp_path / "3" / "a.json")["extra_data"]["seed"] != seed_one


def test_unreadable_notebook_still_gets_a_result(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [', encoding="utf-8")
    done = run_cli("grade", path, "--out", tmp_path / "out")
    assert done.returncode == 0
    data = load_json(tmp_path / "out" / "broken.json")
    assert data["score"] == 0 and "not valid JSON" in data["output"]
    assert "not valid JSON" in done.stdout


def test_missing_file_is_a_usage_error(tmp_path):
    done = run_cli("grade", tmp_path / "nope.ipynb")
    assert done.returncode == 2 and "no such file" in done.stderr


def test_wrong_forward_propagation_is_reported_through_the_cli(tmp_path):
    mistake = next(m for m in MISTAKES if m.id == "forward_adds")
    path = write_notebook(tmp_path / "adds.ipynb", make_notebook(dict(CORRECT, forward_propagation=mistake.source)))
    done = run_cli("grade", path, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    functions = load_json(tmp_path / "out" / "adds.json")["extra_data"]["functions"]
    assert functions["forward_propagation"]["score"] == 0 and functions["gradient_check_n"]["score"] == 20
    assert "adds instead of multiplying" in (tmp_path / "out" / "adds.html").read_text(encoding="utf-8") or \
        "likely" in (tmp_path / "out" / "adds.html").read_text(encoding="utf-8").lower()
