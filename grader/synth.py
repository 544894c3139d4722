"""Builds notebooks from function sources, in the shapes real submissions come in.

Used by the tests (messy formats, one notebook per known mistake), `gcgrade selfcheck`,
the bundled samples and the benchmark. It writes files; it never grades.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

from grader.notebook import GRADED

#: the provided cells as they appear in a notebook (the grader never runs these)
_PROVIDED_CELL = "def forward_propagation_n(X, Y, parameters):\n    return None\n"
_BUGGY_BACKWARD = ("def backward_propagation_n(X, Y, cache):\n    m = X.shape[1]\n"
                   "    dW2 = 1./m * np.dot(dZ2, A1.T) * 2\n    db1 = 4./m * np.sum(dZ1, axis=1, keepdims = True)\n")


def make_notebook(sources: dict, *, release: str = "2021", tags: bool = True, list_source: bool = True,
                  crlf: bool = False, outputs: bool = True, minor: int = 5, extra_cells: list | None = None,
                  order: list | None = None) -> dict:
    """A notebook dict whose graded cells hold `sources` (name -> code), in the style of a release."""
    header = "import numpy as np\nfrom testCases import *\nfrom gc_utils import sigmoid, relu, dictionary_to_vector, vector_to_dictionary, gradients_to_vector\n"
    if release == "2021":
        header += "from public_tests import *\n%load_ext autoreload\n%autoreload 2\n"
    cells = [_markdown("# Gradient Checking\nPrüfung des Gradienten — 梯度检验 ✓"), _code(header)]
    for name in order or GRADED:
        if name not in sources:
            continue
        if name == "gradient_check_n":
            cells += [_code(_PROVIDED_CELL), _code(_BUGGY_BACKWARD)]
        tag = f"# GRADED FUNCTION: {name}\n\n" if tags else ""
        cells.append(_code(tag + textwrap.dedent(sources[name]).strip("\n") + "\n", outputs))
    cells += [_code(c) if isinstance(c, str) else c for c in (extra_cells or [])]
    for index, cell in enumerate(cells):
        if minor >= 5:
            cell["id"] = f"cell-{index}"
        text = cell["source"].replace("\n", "\r\n") if crlf else cell["source"]
        cell["source"] = text.splitlines(keepends=True) if list_source else text
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": minor}


def _markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(text: str, outputs: bool = False) -> dict:
    produced = [{"output_type": "stream", "name": "stdout", "text": ["J = 8\n"]}] if outputs else []
    return {"cell_type": "code", "execution_count": 1 if outputs else None, "metadata": {}, "outputs": produced,
            "source": text}


def write_notebook(path: str | Path, notebook: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False), encoding="utf-8", newline="")
    return path
