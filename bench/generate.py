"""Generates a class of submissions for the benchmark: mostly correct, many known mistakes, some broken, a few hostile.

Every notebook differs (a comment with its number), so each has its own content hash and seed,
as real submissions do.
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

from grader.synth import make_notebook, write_notebook
from solutions.mistakes import CORRECT, MISTAKES

#: hostile function bodies that end quickly (a hang would only measure the 10 s timeout)
HOSTILE = {
    "exits": ("gradient_check", "def gradient_check(x, theta, epsilon=1e-7, print_msg=False):\n    import os\n    os._exit(1)\n"),
    "segfault": ("backward_propagation", "def backward_propagation(x, theta):\n    import ctypes\n    return ctypes.string_at(0)\n"),
    "memory": ("forward_propagation", "def forward_propagation(x, theta):\n    blocks = [bytearray(1 << 28) for _ in range(16)]\n    return theta * x\n"),
    "floods_output": ("forward_propagation", "def forward_propagation(x, theta):\n    print('<b>spam</b>' * 100000)\n    return theta * x\n"),
    "reads_solutions": ("backward_propagation", "def backward_propagation(x, theta):\n    return open('/etc/shadow').read()\n"),
    "connects": ("forward_propagation", "def forward_propagation(x, theta):\n    import socket\n    socket.create_connection(('127.0.0.1', 22), timeout=1)\n    return theta * x\n"),
}
BROKEN = ('{"cells": [{"cell_type": "code", "source": "def forward_propa', "", "not json at all", '{"nbformat": 4}')


def generate(folder: Path, count: int, seed: int = 0) -> dict:
    """Write `count` notebooks into `folder`; returns how many of each kind."""
    chooser = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    kinds: dict = {}
    for number in range(count):
        roll = chooser.random()
        path = folder / f"student{number:05d}.ipynb"
        if roll < 0.03:
            kind = "unreadable"
            path.write_text(chooser.choice(BROKEN), encoding="utf-8")
        else:
            sources = dict(CORRECT)
            if roll < 0.04:
                kind = chooser.choice(sorted(HOSTILE))
                function, source = HOSTILE[kind]
                sources[function] = source
                kind = "hostile"
            elif roll < 0.45:
                mistake = chooser.choice(MISTAKES)
                sources[mistake.function] = mistake.source
                kind = "mistake"
            else:
                kind = "correct"
            sources["forward_propagation"] = sources["forward_propagation"] + f"\n# submission {number}\n"
            write_notebook(path, make_notebook(sources, release=chooser.choice(["2017", "2021"]),
                                               crlf=chooser.random() < 0.1))
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("-n", "--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(generate(args.folder, args.count, args.seed))


if __name__ == "__main__":
    main()
