"""Shared fixtures: a fork server for sandbox tests and a one-session grader for many notebooks."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.sandbox import ForkServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def forkserver():
    with ForkServer() as server:
        yield server


def run_cli(*args, cwd=None, timeout=300):
    """Run the real `gcgrade` command in a subprocess; returns the CompletedProcess."""
    exe = Path(sys.executable).parent / "gcgrade"
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def load_json(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def processes_with(marker: str) -> list:
    """PIDs of the machine's processes whose command line contains `marker` (to prove none outlived a sandbox)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if marker.encode() in handle.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found
