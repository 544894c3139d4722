"""The baseline a course would otherwise use: one Jupyter kernel per notebook, tests run inside it (nbclient).

This is nbgrader's and otter's execution model: start a kernel, run the learner's cells, then
run the test cells in the same kernel. Measured on copies of the benchmark's own notebooks.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from grader.provided import ASSIGNMENT_DIR

#: the test cell appended to each notebook, as an nbgrader-style autograder cell would be
TEST_CELL = """
from public_tests import *
for test, target in [(forward_propagation_test, forward_propagation), (backward_propagation_test, backward_propagation),
                     (gradient_check_test, gradient_check), (gradient_check_n_test, gradient_check_n)]:
    try:
        test(target)
    except Exception as exc:
        print("FAILED", test.__name__, exc)
"""


class _OnlyBuiltinKernel(KernelSpecManager):
    """The venv's own ipykernel (sys.executable), whatever else the machine has installed."""
    kernel_dirs = []


def run_baseline(notebooks: list, timeout: int = 60) -> list:
    """Seconds per notebook, each executed in a fresh kernel with the assignment files beside it."""
    seconds = []
    saved_stderr = os.dup(2)  # kernels inherit it: their start-up chatter stays out of the figures
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 2)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            _run_all(notebooks, Path(scratch), timeout, seconds)
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(quiet)
    return seconds


def _run_all(notebooks: list, work: Path, timeout: int, seconds: list) -> None:
    for name in ("gc_utils.py", "testCases.py", "fraud_model.py", "public_tests.py"):
        shutil.copy(ASSIGNMENT_DIR / name, work / name)
    for path in notebooks:
        started = time.perf_counter()
        try:
            notebook = nbformat.read(str(path), as_version=4)
        except Exception:  # an unreadable file costs the baseline no kernel
            seconds.append(time.perf_counter() - started)
            continue
        notebook.cells.append(nbformat.v4.new_code_cell(TEST_CELL))
        manager = KernelManager(kernel_name="python3", kernel_spec_manager=_OnlyBuiltinKernel())
        client = NotebookClient(notebook, timeout=timeout, km=manager, allow_errors=True,
                                resources={"metadata": {"path": str(work)}})
        try:
            client.execute()
        except Exception:  # a dead kernel still counts, as it would in the baseline grader
            pass
        seconds.append(time.perf_counter() - started)
