"""Release stage: turn the staff solution notebook into the learners' starter notebook.

The starter is generated, never edited by hand, so the two notebooks cannot drift apart.
Run `gcgrade release` (or `python -m grader.release`) after changing the solution notebook.
"""
import copy
import re
import sys
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


def write_starter(solution_path=SOLUTION_PATH, starter_path=STARTER_PATH) -> nbformat.NotebookNode:
    """Read the solution notebook, write its starter and return it; the same input gives the same bytes."""
    solution = nbformat.read(str(solution_path), as_version=4)
    starter = make_starter(solution)
    nbformat.write(starter, str(starter_path))
    return starter


def run_from_cli(args=None) -> int:
    """`gcgrade release`: rebuild the starter and say what was written; 1 when the solution is malformed."""
    before = STARTER_PATH.read_bytes() if STARTER_PATH.is_file() else None
    try:
        starter = write_starter(SOLUTION_PATH, STARTER_PATH)
    except (OSError, ValueError, nbformat.ValidationError) as exc:
        print(f"gcgrade release: {SOLUTION_PATH.name}: {exc}", file=sys.stderr)
        return 1
    graded = [cell.metadata["gradecheck"]["graded"] for cell in starter.cells if "gradecheck" in cell.metadata]
    changed = "unchanged" if before == STARTER_PATH.read_bytes() else "updated"
    print(f"wrote {_shown(STARTER_PATH)} ({changed}) from {_shown(SOLUTION_PATH)}")
    print(f"  {len(starter.cells)} cells, outputs cleared; {len(graded)} graded cells tagged: {', '.join(graded)}")
    return 0


def _shown(path: Path) -> str:
    """The path relative to the project, as staff know it."""
    try:
        return str(path.relative_to(SOLUTION_PATH.parent.parent))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(run_from_cli())
