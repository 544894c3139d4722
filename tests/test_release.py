import inspect
import json

import nbformat
import pytest

from grader import provided
from grader.release import SOLUTION_PATH, STARTER_PATH, make_starter, write_starter

GRADED = ["forward_propagation", "backward_propagation", "gradient_check", "gradient_check_n"]
PROVIDED = {"forward_propagation_n": provided.forward_propagation_n,
            "backward_propagation_n": provided.backward_propagation_n}


def read(path):
    return nbformat.read(str(path), as_version=4)


def cells_defining(nb, name):
    return [c for c in nb.cells if c.cell_type == "code" and f"def {name}(" in c.source]


def solution_regions(source):
    """The lines between the solution markers, found without make_starter."""
    lines, inside = [], False
    for line in source.split("\n"):
        if line.strip() == "### BEGIN SOLUTION":
            inside = True
        elif line.strip() == "### END SOLUTION":
            inside = False
        elif inside:
            lines.append(line)
    return lines


def test_committed_starter_equals_make_starter_of_solution():
    expected = json.loads(nbformat.writes(make_starter(read(SOLUTION_PATH))))
    committed = json.loads(STARTER_PATH.read_text(encoding="utf-8"))
    assert committed == expected, "assignment/Gradient_Checking.ipynb is stale: run `python -m grader.release`"


def test_write_starter_is_byte_identical_to_the_committed_starter(tmp_path):
    first, second = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    write_starter(SOLUTION_PATH, first)
    write_starter(SOLUTION_PATH, second)
    assert first.read_bytes() == second.read_bytes() == STARTER_PATH.read_bytes()


def test_make_starter_leaves_the_solution_untouched():
    solution = read(SOLUTION_PATH)
    before = nbformat.writes(solution)
    make_starter(solution)
    assert nbformat.writes(solution) == before


def test_starter_contains_no_solution_line():
    solution, starter = read(SOLUTION_PATH), read(STARTER_PATH)
    text = STARTER_PATH.read_text(encoding="utf-8")
    assert "### BEGIN SOLUTION" not in text and "### END SOLUTION" not in text
    for name in GRADED:
        [solution_cell], [starter_cell] = cells_defining(solution, name), cells_defining(starter, name)
        hidden = {line.strip() for line in solution_regions(solution_cell.source) if line.strip()}
        assert hidden, f"{name}: the solution cell has no solution region"
        leaked = hidden & {line.strip() for line in starter_cell.source.split("\n")}
        assert not leaked, f"{name}: solution lines in the starter: {sorted(leaked)}"


def test_each_graded_cell_has_its_tag_line_placeholder_and_metadata():
    starter = read(STARTER_PATH)
    for name in GRADED:
        [cell] = cells_defining(starter, name)
        lines = cell.source.split("\n")
        assert lines[0] == f"# GRADED FUNCTION: {name}"
        assert cell.metadata["gradecheck"] == {"graded": name}
        start = lines.index("    # YOUR CODE STARTS HERE")
        assert lines[start:start + 3] == [
            "    # YOUR CODE STARTS HERE",
            f'    raise NotImplementedError("{name}: replace this line with your code")',
            "    # YOUR CODE ENDS HERE",
        ]
    tagged = [c.metadata["gradecheck"]["graded"] for c in starter.cells if "gradecheck" in c.metadata]
    assert tagged == GRADED


def test_solution_graded_cells_start_with_the_tag_line():
    solution = read(SOLUTION_PATH)
    for name in GRADED:
        [cell] = cells_defining(solution, name)
        assert cell.source.split("\n")[0] == f"# GRADED FUNCTION: {name}"
        assert solution_regions(cell.source)


@pytest.mark.parametrize("path", [SOLUTION_PATH, STARTER_PATH], ids=["solution", "starter"])
@pytest.mark.parametrize("name", sorted(PROVIDED))
def test_provided_cells_are_exactly_the_functions_of_fraud_model(path, name):
    [cell] = cells_defining(read(path), name)
    assert cell.source == inspect.getsource(PROVIDED[name]).rstrip("\n"), (
        f"the {name} cell of {path.name} differs from assignment/fraud_model.py")


@pytest.mark.parametrize("path", [SOLUTION_PATH, STARTER_PATH], ids=["solution", "starter"])
def test_notebook_is_nbformat_4_5_with_cell_ids_python3_and_no_outputs(path):
    nb = read(path)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    assert nb.metadata.kernelspec.name == "python3"
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id


def make_notebook(*sources, outputs=True):
    nb = nbformat.v4.new_notebook()
    for i, source in enumerate(sources):
        cell = nbformat.v4.new_code_cell(source, id=f"c{i}")
        if outputs:
            cell.outputs = [nbformat.v4.new_output("stream", text="hello\n")]
            cell.execution_count = i + 1
        nb.cells.append(cell)
    return nb


def test_make_starter_replaces_each_region_at_its_own_indentation():
    source = "\n".join([
        "# GRADED FUNCTION: f",
        "def f(x):",
        "    ### BEGIN SOLUTION",
        "    y = x",
        "    ### END SOLUTION",
        "    for i in range(2):",
        "        ### BEGIN SOLUTION",
        "        y += i",
        "        ### END SOLUTION",
        "    return y",
    ])
    starter = make_starter(make_notebook(source, "print(1)"))
    assert starter.cells[0].source == "\n".join([
        "# GRADED FUNCTION: f",
        "def f(x):",
        "    # YOUR CODE STARTS HERE",
        '    raise NotImplementedError("f: replace this line with your code")',
        "    # YOUR CODE ENDS HERE",
        "    for i in range(2):",
        "        # YOUR CODE STARTS HERE",
        '        raise NotImplementedError("f: replace this line with your code")',
        "        # YOUR CODE ENDS HERE",
        "    return y",
    ])
    assert starter.cells[0].metadata == {"gradecheck": {"graded": "f"}}
    assert starter.cells[1].source == "print(1)" and "gradecheck" not in starter.cells[1].metadata
    for cell in starter.cells:
        assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("source", [
    "# GRADED FUNCTION: f\ndef f():\n    ### BEGIN SOLUTION\n    return 1",
    "# GRADED FUNCTION: f\ndef f():\n    return 1\n    ### END SOLUTION",
    "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
], ids=["unclosed", "end_without_begin", "region_outside_graded_cell"])
def test_make_starter_rejects_malformed_regions(source):
    with pytest.raises(ValueError):
        make_starter(make_notebook(source))
