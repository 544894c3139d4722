"""Stage 1, read: a notebook file becomes a Submission holding the graded functions' cells.

Nothing here runs learner code; it only reads text. Every way a file can be broken ends
as a Submission with `error` set, never as an exception.
"""
from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

#: the graded functions, in notebook order
GRADED = ("forward_propagation", "backward_propagation", "gradient_check", "gradient_check_n")
#: functions the notebook provides; learners may edit them, the grader never runs their copy
PROVIDED = ("forward_propagation_n", "backward_propagation_n")

_TAG = re.compile(r"^[ \t]*#+[ \t]*graded[ \t_-]*function[ \t]*:?[ \t]*([A-Za-z_]\w*)", re.IGNORECASE | re.MULTILINE)
_MAGIC = re.compile(r"^([ \t]*)(?:[%!]|\w+[ \t]*=[ \t]*[%!]|[?]{1,2}\w|\w[\w.]*[?]{1,2}[ \t]*$)")
_PLACEHOLDER_REGION = re.compile(
    r"#+ *(?:YOUR CODE STARTS HERE|START CODE HERE|BEGIN SOLUTION)[^\n]*\n(.*?)#+ *(?:YOUR CODE ENDS HERE|END CODE HERE|END SOLUTION)",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class GradedCode:
    name: str            #: the graded function's name
    source: str          #: the whole cell, magics neutralised, line numbers kept
    cell: int            #: index of the cell in the notebook (0-based)
    tagged: bool         #: the cell carries `# GRADED FUNCTION: name`
    placeholder: bool    #: the answer regions still hold only the starter's placeholder
    syntax_error: str = ""  #: why the cell does not compile, empty when it does
    error_line: int = 0     #: the line of the cell the syntax error is on, 0 when none


@dataclass(frozen=True)
class Submission:
    path: str
    name: str                       #: student id or file stem
    content_hash: str               #: sha256 of the file's bytes
    functions: dict = field(default_factory=dict)  #: graded name -> GradedCode
    warnings: tuple = ()
    error: str = ""                 #: why nothing could be graded, empty when readable
    release: str = ""               #: which release the notebook looks like


def read_submission(path: str | Path, name: str | None = None) -> Submission:
    """Read one notebook file; never raises for anything wrong with the file."""
    path = Path(path)
    name = name or path.stem
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Submission(str(path), name, "", error=f"The file could not be opened ({exc.strerror or exc}).")
    digest = hashlib.sha256(data).hexdigest()
    text, problem = _decode(data)
    if problem:
        return Submission(str(path), name, digest, error=problem)
    cells, problem, damaged = _code_cells(text)
    if problem:
        return Submission(str(path), name, digest, error=problem)
    functions, warnings = _find_graded(cells)
    warnings = ([damaged] if damaged else []) + warnings
    return Submission(str(path), name, digest, functions, tuple(warnings), release=_release(text))


def _decode(data: bytes) -> tuple[str, str]:
    if not data.strip():
        return "", "The file is empty: there is no notebook to grade. Save the notebook and submit it again."
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError as exc:
        return "", (f"The file is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}), "
                    "so it is not a Jupyter notebook. Submit the .ipynb file itself, not an export or archive.")


def _code_cells(text: str) -> tuple[list, str, str]:
    """(list of (index, source)) for the code cells, an error message, and a warning when the structure was damaged."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        cut = text.lstrip().startswith("{") and not text.rstrip().endswith("}")
        ending = " The file looks cut short; it may not have finished saving or uploading." if cut else ""
        return [], f"The file is not valid JSON ({exc.msg}; {where}), so it cannot be read as a notebook.{ending}", ""
    except RecursionError:
        return [], "The file is not a notebook: its JSON is nested too deeply to read.", ""
    if not isinstance(raw, dict) or "nbformat" not in raw:
        return [], "The file is JSON but not a Jupyter notebook (it has no `nbformat` field).", ""
    warning = ""
    try:
        cells = nbformat.reads(text, as_version=4, capture_validation_error={})["cells"]
    except Exception as exc:  # nbformat raises many kinds for damaged structure
        cells = raw.get("cells")
        if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
            return [], f"The file is not a readable Jupyter notebook ({type(exc).__name__}: {str(exc)[:200]}).", ""
        # damaged around the cells (no metadata, an odd version field...): the code itself is still there,
        # as a teaching assistant opening the file would see it
        warning = (f"The notebook file is damaged ({type(exc).__name__}: {str(exc)[:120]}); its code cells were "
                   f"read as they are. Re-save it from Jupyter if you can.")
    out = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        if not isinstance(source, str):
            continue
        out.append((index, source.replace("\r\n", "\n").replace("\r", "\n")))
    return out, "", warning


def neutralise_magics(source: str) -> str:
    """Turn IPython magics and shell lines into `pass`, keeping every line number."""
    lines = source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].split()[0]
        if magic not in ("%%time", "%%timeit", "%%capture"):
            # %%writefile, %%bash, ...: the body is not Python; the cell defines nothing
            return "\n".join("pass" if i == 0 else "# " + line for i, line in enumerate(lines))
        lines[0] = "pass"
    in_string = False
    for i, line in enumerate(lines):
        if not in_string and _MAGIC.match(line):
            indent = _MAGIC.match(line).group(1)
            lines[i] = f"{indent}pass  # neutralised: {line.strip()[:60]}"
        # a crude guard so a magic-looking line inside a docstring stays as it was
        if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
            in_string = not in_string
    return "\n".join(lines)


def _defined_names(source: str) -> tuple[list[str], str, int]:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        names = re.findall(r"^def[ \t]+(\w+)[ \t]*\(", source, re.MULTILINE)
        return names, f"SyntaxError on line {exc.lineno}: {exc.msg}", exc.lineno or 0
    except (ValueError, RecursionError, MemoryError) as exc:
        return [], f"the cell cannot be compiled ({type(exc).__name__})", 0
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            names += [target.id for target in node.targets if isinstance(target, ast.Name)]
    return names, "", 0


def is_placeholder(source: str) -> bool:
    """True when every answer region holds only comments, `pass`, `x = None` or NotImplementedError."""
    regions = _PLACEHOLDER_REGION.findall(source)
    if not regions:
        return "raise NotImplementedError" in source and "# YOUR CODE" in source
    for region in regions:
        for line in region.split("\n"):
            code = line.split("#", 1)[0].strip()
            if code and code != "pass" and not re.fullmatch(r"[\w\[\]\], ]+=\s*None|raise NotImplementedError(\(.*\))?", code):
                return False
    return True


def _find_graded(cells: list) -> tuple[dict, list]:
    found: dict[str, list[GradedCode]] = {name: [] for name in GRADED}
    warnings = []
    for index, raw_source in cells:
        source = neutralise_magics(raw_source)
        tags = {t for t in _TAG.findall(source)}
        names, syntax_error, error_line = _defined_names(source)
        for graded in GRADED:
            if graded in names or (graded in tags and syntax_error):
                found[graded].append(GradedCode(graded, source, index, graded in tags, is_placeholder(source), syntax_error,
                                                  error_line))
        for provided in PROVIDED:
            if provided in names and _edited_provided(provided, source):
                warnings.append(f"You edited {provided} (cell {index + 1}); the grader always uses the provided "
                                f"version, so your edit is ignored.")
    functions = {}
    for name, candidates in found.items():
        if not candidates:
            continue
        chosen = candidates[-1]
        functions[name] = chosen
        if len(candidates) > 1:
            cells_text = ", ".join(str(c.cell + 1) for c in candidates)
            warnings.append(f"{name} is defined {len(candidates)} times (cells {cells_text}); "
                            f"the last one (cell {chosen.cell + 1}) is graded, as it would run in the notebook.")
        if not chosen.tagged:
            warnings.append(f"The '# GRADED FUNCTION: {name}' line is missing; {name} was found by its "
                            f"definition in cell {chosen.cell + 1}. Keep the tag line so nothing is missed.")
    return functions, warnings


def _edited_provided(name: str, source: str) -> bool:
    """The provided cells carry the planted bugs; a copy without them was edited by the learner."""
    if name == "backward_propagation_n":
        compact = source.replace(" ", "")
        return not (re.search(r"dW2=.*\*2\b", compact) and re.search(r"db1=4\.?0*/", compact))
    return False


def _release(text: str) -> str:
    if '"gradecheck"' in text:
        return "gradecheck starter"
    if "YOUR CODE STARTS HERE" in text:
        return "course release 2021 (v1.x / v2.0)"
    if "START CODE HERE" in text:
        return "course release 2017/2018"
    return "unknown"
