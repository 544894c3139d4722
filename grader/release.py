"""Release stage: turn the staff solution notebook into the learners' starter notebook.

The starter is generated, never edited by hand, so the two notebooks cannot drift apart.
Run `python -m grader.release` after changing the solution notebook.
"""
import copy
import re
from pathlib import Path

import nbformat

SOLUTION_PATH = Path(__file__).resolve().parent.parent / "solutions" / "Gradient_Checking_solution.ipynb"
STARTER_PATH = Path(__file__).resolve().parent.parent / "assignment" / "Gradient_Checking.ipynb"

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
GRADED_TAG = re.compile(r"^#\s*GRADED FUNCTION:\s*(\w+)", re.IGNORECASE | re.MULTILINE)


def _blank_regions(source, name):
    """Replace every BEGIN/END SOLUTION region of one cell by the learner's placeholder."""
    out, indent = [], None
    for line in source.split("\n"):
        if line.strip() == BEGIN and indent is None:
            indent = line[:len(line) - len(line.lstrip())]
            out += [f"{indent}# YOUR CODE STARTS HERE",
                    f'{indent}raise NotImplementedError("{name}: replace this line with your code")',
                    f"{indent}# YOUR CODE ENDS HERE"]
        elif line.strip() == END and indent is not None:
            indent = None
        elif line.strip() in (BEGIN, END):
            raise ValueError(f"{name}: unbalanced {line.strip()!r}")
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise ValueError(f"{name}: {BEGIN!r} without {END!r}")
    return "\n".join(out)


def make_starter(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The starter notebook for `solution`, which is left untouched."""
    starter = copy.deepcopy(solution)
    for cell in starter.cells:
        cell.metadata.pop("gradecheck", None)
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        tag = GRADED_TAG.search(cell.source)
        if tag:
            cell.source = _blank_regions(cell.source, tag.group(1))
            cell.metadata["gradecheck"] = {"graded": tag.group(1)}
        elif BEGIN in cell.source:
            raise ValueError(f"cell {cell.get('id')}: a solution region outside a graded cell")
    return starter


def write_starter(solution_path=SOLUTION_PATH, starter_path=STARTER_PATH):
    """Read the solution notebook, write its starter; the same input gives the same bytes."""
    solution = nbformat.read(str(solution_path), as_version=4)
    nbformat.write(make_starter(solution), str(starter_path))


if __name__ == "__main__":
    write_starter()
