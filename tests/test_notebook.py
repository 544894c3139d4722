"""grader.notebook: graded cells are found in every format a submission comes in; broken files get a message."""
import json

import pytest

from grader.notebook import GRADED, neutralise_magics, read_submission
from grader.provided import ASSIGNMENT_DIR
from grader.synth import make_notebook, write_notebook
from solutions.mistakes import CORRECT

SOLUTION = ASSIGNMENT_DIR.parent / "solutions" / "Gradient_Checking_solution.ipynb"


def write(tmp_path, notebook, name="nb.ipynb"):
    return write_notebook(tmp_path / name, notebook)


@pytest.mark.parametrize("release", ["2017", "2021"])
@pytest.mark.parametrize("list_source", [True, False])
@pytest.mark.parametrize("crlf", [True, False])
def test_all_graded_functions_found_in_every_shape(tmp_path, release, list_source, crlf):
    path = write(tmp_path, make_notebook(CORRECT, release=release, list_source=list_source, crlf=crlf))
    submission = read_submission(path)
    assert submission.error == ""
    assert sorted(submission.functions) == sorted(GRADED)
    assert "\r" not in submission.functions["gradient_check_n"].source
    assert submission.warnings == ()


@pytest.mark.parametrize("minor", [0, 1, 2, 3, 4, 5])
def test_every_nbformat_4_minor_is_read(tmp_path, minor):
    submission = read_submission(write(tmp_path, make_notebook(CORRECT, minor=minor)))
    assert submission.error == "" and len(submission.functions) == 4


def test_starter_and_solution_notebooks_are_read():
    for path in (ASSIGNMENT_DIR / "Gradient_Checking.ipynb", SOLUTION):
        submission = read_submission(path)
        assert sorted(submission.functions) == sorted(GRADED), path
        assert all(code.tagged for code in submission.functions.values())
    starter = read_submission(ASSIGNMENT_DIR / "Gradient_Checking.ipynb")
    assert all(code.placeholder for code in starter.functions.values())


def test_duplicated_definition_last_one_wins_with_warning(tmp_path):
    notebook = make_notebook(CORRECT, extra_cells=["# GRADED FUNCTION: forward_propagation\ndef forward_propagation(x, theta):\n    return 0\n"])
    submission = read_submission(write(tmp_path, notebook))
    assert "return 0" in submission.functions["forward_propagation"].source
    assert any("defined 2 times" in w and "the last one" in w for w in submission.warnings)


def test_reordered_cells_keep_notebook_order(tmp_path):
    notebook = make_notebook(CORRECT, order=["gradient_check_n", "gradient_check", "backward_propagation", "forward_propagation"])
    submission = read_submission(write(tmp_path, notebook))
    assert sorted(submission.functions) == sorted(GRADED)
    assert submission.functions["gradient_check_n"].cell < submission.functions["forward_propagation"].cell


def test_deleted_tag_found_by_def_with_warning(tmp_path):
    submission = read_submission(write(tmp_path, make_notebook(CORRECT, tags=False)))
    assert len(submission.functions) == 4
    assert not submission.functions["gradient_check"].tagged
    assert any("'# GRADED FUNCTION: gradient_check' line is missing" in w for w in submission.warnings)


def test_tag_spacing_and_case_are_forgiven(tmp_path):
    notebook = make_notebook({"forward_propagation": CORRECT["forward_propagation"]}, tags=False,
                             extra_cells=["#graded function:   backward_propagation\ndef backward_propagation(x, theta):\n    return x\n"])
    submission = read_submission(write(tmp_path, notebook))
    assert submission.functions["backward_propagation"].tagged


def test_magics_in_graded_cell_are_neutralised_keeping_lines(tmp_path):
    source = "%%time\n%matplotlib inline\n!ls -la\nfiles = !ls\n" + CORRECT["forward_propagation"]
    notebook = make_notebook({"forward_propagation": source})
    code = read_submission(write(tmp_path, notebook)).functions["forward_propagation"]
    assert code.syntax_error == ""
    assert code.source.count("\n") == ("# GRADED FUNCTION: forward_propagation\n\n" + source.strip("\n") + "\n").count("\n")
    assert "pass  # neutralised: %matplotlib inline" in code.source


def test_magic_lookalikes_inside_docstrings_are_kept():
    text = 'def f():\n    """\n    !important\n    """\n    return 1\n'
    assert neutralise_magics(text) == text


def test_non_ascii_text_survives(tmp_path):
    source = CORRECT["forward_propagation"].replace("J = theta * x", "J = theta * x  # 乘法, Multiplikation, умножение")
    code = read_submission(write(tmp_path, make_notebook({"forward_propagation": source}))).functions["forward_propagation"]
    assert "умножение" in code.source


def test_syntax_error_is_recorded_not_raised(tmp_path):
    notebook = make_notebook({"gradient_check": "def gradient_check(x, theta, epsilon=1e-7):\n    for i in range(3):\n    return 1\n"})
    code = read_submission(write(tmp_path, notebook)).functions["gradient_check"]
    assert code.syntax_error.startswith("SyntaxError on line")


def test_edited_provided_cell_is_reported(tmp_path):
    fixed = "def backward_propagation_n(X, Y, cache):\n    dW2 = 1./m * np.dot(dZ2, A1.T)\n    db1 = 1./m * np.sum(dZ1)\n"
    submission = read_submission(write(tmp_path, make_notebook(CORRECT, extra_cells=[fixed])))
    assert any("You edited backward_propagation_n" in w for w in submission.warnings)


@pytest.mark.parametrize("content, words", [
    (b"", "The file is empty"),
    (b"   \n", "The file is empty"),
    (b'{"cells": [{"cell_type": "code", "source": "def f', "looks cut short"),
    (b"hello, this is not json", "not valid JSON"),
    (b'{"name": "not a notebook"}', "not a Jupyter notebook"),
    (b'[1, 2, 3]', "not a Jupyter notebook"),
    (b"\xff\xfe\x00binary\x00", "not UTF-8"),
    (b'{"nbformat": 4, "nbformat_minor": 5, "cells": "oops", "metadata": {}}', "not a readable Jupyter notebook"),
    (b"[" * 100000, "not"),
])
def test_broken_files_get_a_clear_message(tmp_path, content, words):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    submission = read_submission(path)
    assert words in submission.error
    assert "Traceback" not in submission.error


def test_missing_file_gets_a_message(tmp_path):
    assert "could not be opened" in read_submission(tmp_path / "absent.ipynb").error


def test_nbformat_3_notebook_is_converted(tmp_path):
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "# GRADED FUNCTION: forward_propagation\ndef forward_propagation(x, theta):\n    return theta * x\n",
         "language": "python", "outputs": []}]}]}
    path = tmp_path / "v3.ipynb"
    path.write_text(json.dumps(v3))
    assert "forward_propagation" in read_submission(path).functions


def test_content_hash_changes_with_any_edit(tmp_path):
    a = read_submission(write(tmp_path, make_notebook(CORRECT), "a.ipynb"))
    changed = dict(CORRECT, forward_propagation=CORRECT["forward_propagation"] + "\n# edited\n")
    b = read_submission(write(tmp_path, make_notebook(changed), "b.ipynb"))
    assert a.content_hash != b.content_hash and len(a.content_hash) == 64


def test_function_defined_by_lambda_assignment_is_found(tmp_path):
    notebook = make_notebook({"forward_propagation": "forward_propagation = lambda x, theta: theta * x\n"})
    assert "forward_propagation" in read_submission(write(tmp_path, notebook)).functions


@pytest.mark.parametrize("damage", [
    {"metadata": None},                  # the metadata key removed
    {"nbformat": "4"},                   # the version written as text
    {"nbformat": 5, "nbformat_minor": 0},  # a version nbformat does not know
])
def test_damaged_structure_around_the_cells_still_grades_the_code(tmp_path, damage):
    notebook = make_notebook(CORRECT)
    for key, value in damage.items():
        if value is None:
            del notebook[key]
        else:
            notebook[key] = value
    submission = read_submission(write(tmp_path, notebook))
    assert submission.error == "" and sorted(submission.functions) == sorted(GRADED)
    assert submission.warnings[0].startswith("The notebook file is damaged")
