"""`make bench`: grade a generated class with `gcgrade batch`, compare with one Jupyter kernel per notebook.

Prints submissions per second, median and 95th-percentile seconds per submission, seconds per phase,
peak memory (largest process and all processes together), the kernel-per-notebook baseline and the
ratio, and `gcgrade grade` from a cold start; appends the figures to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GCGRADE = Path(sys.executable).parent / "gcgrade"


class MemoryWatch(threading.Thread):
    """Samples the resident memory of a process and all its descendants from /proc."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_total = self.peak_single = 0
        self.running = True

    def run(self):
        while self.running:
            sizes = [_rss(pid) for pid in _tree(self.pid)]
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_single = max([self.peak_single] + sizes)
            time.sleep(self.interval)


def _tree(root: int) -> list:
    children: dict = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _rss(pid: int) -> int:
    """Resident set size in bytes, 0 for a process that is gone."""
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def run_batch(folder: Path, out: Path, jobs: int) -> dict:
    started = time.perf_counter()
    process = subprocess.Popen([str(GCGRADE), "batch", str(folder), "--out", str(out), "--regrade",
                                *(["--jobs", str(jobs)] if jobs else [])], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    watch = MemoryWatch(process.pid)
    watch.start()
    output, _ = process.communicate()
    wall = time.perf_counter() - started
    watch.running = False
    watch.join()
    if process.returncode != 0:
        raise SystemExit(f"gcgrade batch failed ({process.returncode}):\n{output[-3000:]}")
    return {"wall": wall, "peak_total": watch.peak_total, "peak_single": watch.peak_single}


def phases(out: Path, sample: int = 200) -> dict:
    """Per-submission seconds from the gradebook; report and gradebook phases re-measured on a sample."""
    from grader import gradebook
    from grader.gradescope import to_results_json
    from grader.report import render_html
    from grader.result import Result
    db = sqlite3.connect(out / "gradebook.sqlite")
    rows = db.execute("SELECT duration, timings, result FROM submissions").fetchall()
    durations = sorted(row[0] for row in rows)
    totals: dict = {}
    for _, timings, _ in rows:
        for phase, seconds in json.loads(timings).items():
            totals[phase] = totals.get(phase, 0.0) + seconds
    per_phase = {phase: seconds / len(rows) for phase, seconds in totals.items()}
    results = [Result.from_dict(json.loads(row[2])) for row in rows[:sample]]
    started = time.perf_counter()
    for result in results:
        render_html(result)
        json.dumps(to_results_json(result))
    per_phase["report"] = (time.perf_counter() - started) / len(results)
    with tempfile.TemporaryDirectory() as scratch:
        book = gradebook.connect(Path(scratch) / "g.sqlite")
        started = time.perf_counter()
        for result in results:
            gradebook.record(book, result, path=result.path)
        per_phase["gradebook"] = (time.perf_counter() - started) / len(results)
        book.close()
    return {"count": len(rows), "median": statistics.median(durations),
            "p95": durations[int(0.95 * (len(durations) - 1))], "phases": per_phase}


def cold_grade(notebook: Path, runs: int = 3) -> float:
    times = []
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([str(GCGRADE), "grade", str(notebook), "--out", scratch], check=True, capture_output=True)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def machine() -> str:
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import numpy
    import pytest
    return (f"{model or platform.processor()}, {os.cpu_count()} cores, Linux {platform.release()}, "
            f"Python {platform.python_version()}, numpy {numpy.__version__}, pytest {pytest.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--count", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=20, help="notebooks run one kernel each (0 to skip)")
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--work", type=Path, default=HERE / "out")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()

    from bench.generate import generate
    folder = args.work / f"class-{args.count}"
    if not folder.is_dir() or len(list(folder.glob("*.ipynb"))) != args.count:
        print(f"generating {args.count} submissions: {generate(folder, args.count)}")
    batch = run_batch(folder, args.work / f"graded-{args.count}", args.jobs)
    detail = phases(args.work / f"graded-{args.count}")
    rate = detail["count"] / batch["wall"]
    lines = [f"machine: {machine()}",
             f"gcgrade batch: {detail['count']} submissions in {batch['wall']:.1f} s = {rate:.1f} submissions/s",
             f"per submission: median {detail['median'] * 1000:.1f} ms, 95th percentile {detail['p95'] * 1000:.1f} ms",
             "per phase (ms per submission): " + ", ".join(f"{k} {v * 1000:.1f}" for k, v in detail["phases"].items()),
             f"peak memory: largest process {batch['peak_single'] / 2**20:.0f} MiB, "
             f"all processes {batch['peak_total'] / 2**20:.0f} MiB"]
    if args.baseline:
        from bench.baseline import run_baseline
        sample = sorted(folder.glob("*.ipynb"))[:args.baseline]
        seconds = run_baseline(sample)
        kernel_rate = len(seconds) / sum(seconds)
        lines.append(f"baseline (one Jupyter kernel per notebook, nbclient): {len(seconds)} notebooks, "
                     f"{statistics.mean(seconds) * 1000:.0f} ms each = {kernel_rate:.2f} submissions/s")
        lines.append(f"ratio: gradecheck is {rate / kernel_rate:.0f} times the kernel-per-notebook baseline")
    lines.append(f"gcgrade grade, one notebook from a cold start: {cold_grade(folder / 'student00000.ipynb'):.2f} s")
    print("\n".join(lines))
    if not args.no_record:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        with open(HERE / "RESULTS.md", "a", encoding="utf-8") as handle:
            handle.write(f"\n## {stamp}, {args.count} submissions\n\n" + "\n".join(f"- {line}" for line in lines) + "\n")


if __name__ == "__main__":
    main()
