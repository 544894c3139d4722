"""Observers of a batch: the events it publishes, and what listens (progress, gradebook, outputs, summary).

The batch loop knows nothing about terminals or files; it calls the same five hooks on every
observer, in order. Each observer keeps a few counters at most, never anything per submission.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from grader import gradebook
from grader.templating import points


@dataclass
class Tally:
    """Counts of one batch run; the four outcomes add up to the submissions handled so far."""
    total: int = 0          #: submissions found in INPUT
    graded: int = 0
    skipped: int = 0        #: already in the gradebook with the same file, grader version and seed
    unreadable: int = 0
    errors: int = 0         #: the grader failed on it (a worker died twice, a grader-side check error)
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> int:
        return self.graded + self.skipped + self.unreadable + self.errors

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        """Submissions graded per second (skipped ones cost nothing and are not counted)."""
        worked = self.graded + self.unreadable + self.errors
        return worked / self.elapsed if self.elapsed > 0 else 0.0

    def count(self, status: str) -> None:
        if status == "graded":
            self.graded += 1
        elif status == "unreadable":
            self.unreadable += 1
        else:
            self.errors += 1


class Observer:
    """The batch's hooks. Every method does nothing unless an observer overrides it."""

    def batch_started(self, tally: Tally) -> None:
        pass

    def submission_skipped(self, item, tally: Tally) -> None:
        pass

    def submission_graded(self, item, result, status: str, tally: Tally) -> None:
        pass

    def batch_warning(self, message: str) -> None:
        pass

    def batch_finished(self, tally: Tally) -> None:
        pass


class Recorder(Observer):
    """Commits each result to the gradebook the moment it arrives."""

    def __init__(self, db):
        self.db = db

    def submission_graded(self, item, result, status, tally):
        gradebook.record(self.db, result, path=item.source, assignment=item.assignment,
                         submitted_at=item.timestamp, status=status, notes=item.notes)


class Publisher(Observer):
    """At the end of every batch: grades.csv and the dashboard, both rebuilt from the gradebook."""

    def __init__(self, db, out: Path):
        self.db, self.out = db, out

    def batch_finished(self, tally):
        from grader.dashboard import write_dashboard
        from grader.export import write_csv
        write_csv(self.db, self.out)
        write_dashboard(self.db, self.out)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _eta(tally: Tally) -> str:
    left = tally.total - tally.done
    if left <= 0:
        return "0:00"
    return _clock(left / tally.rate) if tally.rate > 0 else "--:--"


class ProgressBar(Observer):
    """One line redrawn in place on a terminal: bar, count, rate and time left."""

    WIDTH = 24

    def __init__(self, stream: TextIO, every: float = 0.2):
        self.stream, self.every = stream, every
        self.last = 0.0
        self.shown = 0

    def batch_warning(self, message):
        self._clear()
        print(f"warning: {message}", file=self.stream)

    def submission_skipped(self, item, tally):
        self._draw(tally)

    def submission_graded(self, item, result, status, tally):
        self._draw(tally)

    def batch_finished(self, tally):
        self._draw(tally, force=True)
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, tally: Tally, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every and tally.done < tally.total:
            return
        self.last = now
        share = tally.done / tally.total if tally.total else 1.0
        filled = int(share * self.WIDTH)
        line = (f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {tally.done}/{tally.total} {share:4.0%}  "
                f"{tally.rate:.1f}/s  ETA {_eta(tally)}")
        self.stream.write("\r" + line.ljust(self.shown))
        self.stream.flush()
        self.shown = len(line)

    def _clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * self.shown + "\r")
            self.shown = 0


class ProgressLines(Observer):
    """For logs and CI (not a terminal): a plain line at every 5 % step, and at least every `every` seconds."""

    def __init__(self, stream: TextIO, every: float = 10.0, steps: int = 20):
        self.stream, self.every, self.steps = stream, every, steps
        self.last_time = time.monotonic()
        self.last_step = 0

    def batch_started(self, tally):
        print(f"grading {tally.total} submissions", file=self.stream, flush=True)

    def batch_warning(self, message):
        print(f"warning: {message}", file=self.stream, flush=True)

    def submission_skipped(self, item, tally):
        self._maybe(tally)

    def submission_graded(self, item, result, status, tally):
        self._maybe(tally)

    def _maybe(self, tally: Tally) -> None:
        step = tally.done * self.steps // tally.total if tally.total else self.steps
        now = time.monotonic()
        if step == self.last_step and now - self.last_time < self.every:
            return
        self.last_step, self.last_time = step, now
        share = tally.done / tally.total if tally.total else 1.0
        print(f"progress: {tally.done}/{tally.total} ({share:.0%}), {tally.rate:.1f}/s, ETA {_eta(tally)}",
              file=self.stream, flush=True)


def progress_for(stream: TextIO = sys.stderr) -> Observer:
    """A redrawn bar on a terminal, plain lines anywhere else."""
    return ProgressBar(stream) if stream.isatty() else ProgressLines(stream)


class Summary(Observer):
    """The last words of a batch: what happened, the class mean, and where everything is."""

    def __init__(self, stream: TextIO, db, out: Path):
        self.stream, self.db, self.out = stream, db, out

    def batch_finished(self, tally):
        count, mean, maximum = gradebook.class_summary(self.db)
        rate = f"{tally.rate:.1f} submissions/s" if tally.rate else "nothing to grade"
        out = self.out
        print(f"{tally.total} submissions in {_clock(tally.elapsed)} ({rate}): {tally.graded} graded, "
              f"{tally.skipped} skipped (already graded), {tally.unreadable} unreadable, {tally.errors} errors",
              file=self.stream)
        print(f"class mean {points(mean)}/{points(maximum)} over the {count} submissions in the gradebook",
              file=self.stream)
        print(f"reports:   {out}/<student>.html and {out}/<student>.json", file=self.stream)
        print(f"gradebook: {out / gradebook.FILENAME}", file=self.stream)
        print(f"grades:    {out / 'grades.csv'}", file=self.stream)
        print(f"dashboard: {out / 'index.html'}", file=self.stream)
        self.stream.flush()
