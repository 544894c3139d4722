"""Batch: grade a whole class in parallel worker processes; the parent alone writes the gradebook.

    INPUT ─find─▶ submissions ─skip what the gradebook already has─▶ workers ─▶ OUT/<student>.json, .html
                                                                        │ small message
                                                           parent ◀─────┘ observers: gradebook, progress, ...

Each worker is a process with its own fork server and ONE long-lived `grade_many` call that pulls
(path, student) jobs from its pipe, so pytest's start-up is paid once per worker. The parent hands
out one job at a time per worker and so always knows which submission a dead worker was holding:
that one is tried again in a fresh worker, and after a second death it is recorded as an error.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path
from typing import Callable, Iterator

from grader import grader_version, gradebook
from grader.export import remove_stale_temp_files, write_reports
from grader.inputs import Found, InputError, Inputs, find_submissions, remove_scratch
from grader.progress import Publisher, Recorder, Summary, Tally, progress_for
from grader.result import Result
from grader.seeding import seed_for

USAGE_ERROR = 2
#: a submission is tried this many times when the worker grading it dies
ATTEMPTS = 2
#: a worker busy this long with one submission is stuck in the grader itself (learner calls time out after
#: 10 s each, and a function is abandoned after its first hang), so it is killed and the job counted as a death
STUCK_SECONDS = 600
#: workers that die before asking for work, in a row, before the batch gives up
FAILED_STARTS = 3


class BatchError(Exception):
    """The batch cannot go on at all: the grading workers do not start."""


class BusyError(Exception):
    """Another batch is writing to the same OUT folder."""


def run_from_cli(args) -> int:
    """`gcgrade batch INPUT --out DIR [--jobs N] [--regrade]`: the library call, and its errors as exit codes."""
    if args.jobs < 0:
        print("gcgrade batch: --jobs must be 0 (one per core) or more", file=sys.stderr)
        return USAGE_ERROR
    try:
        grade_class(args.input, Path(args.out), jobs=args.jobs, regrade=args.regrade)
    except (InputError, gradebook.GradebookError, BusyError) as exc:
        print(f"gcgrade batch: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except (BatchError, OSError) as exc:
        print(f"gcgrade batch: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ngcgrade batch: interrupted. Everything graded so far is in the gradebook; "
              "run the same command again to finish.", file=sys.stderr)
        return 130
    return 0


def grade_class(input_path: str | Path, out: Path, jobs: int = 0, regrade: bool = False) -> Tally:
    """The whole batch: find the submissions, grade those the gradebook lacks, write every output, summarise."""
    if not Path(input_path).exists():
        raise InputError(f"no such file or folder: {input_path}")
    out.mkdir(parents=True, exist_ok=True)
    with _exclusive(out):
        scratch = out / ".unpacked"  # inside OUT, so the next run cleans up after a killed one
        remove_scratch(scratch)
        remove_stale_temp_files(out)
        try:
            inputs = find_submissions(input_path, scratch)
            if not inputs.items:
                raise InputError(f"no notebook (.ipynb) found in {input_path}")
            with contextlib.closing(gradebook.connect(out / gradebook.FILENAME)) as db:
                observers = [Recorder(db), progress_for(sys.stderr), Publisher(db, out), Summary(sys.stdout, db, out)]
                return run_batch(inputs, out, observers, jobs=jobs or os.cpu_count() or 1, regrade=regrade,
                                 is_current=already_graded(db))
        finally:
            remove_scratch(scratch)


@contextlib.contextmanager
def _exclusive(out: Path):
    """One batch per OUT folder at a time (the lock goes with the process, even when it is killed)."""
    with open(out / ".gcgrade.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BusyError(f"another gcgrade batch is writing to {out}; wait for it to finish") from None
        yield


def already_graded(db) -> Callable[[Found], bool]:
    """Resume: a submission is skipped when the gradebook holds a grade for the same file, grader version and
    seed (the seed changes with the course secret). Grader errors are tried again on every run."""
    def check(item: Found) -> bool:
        stored = gradebook.current(db, item.student)
        if stored is None or stored[3] == "error":
            return False
        digest = file_hash(item.path)
        if not digest or tuple(stored[:2]) != (digest, grader_version()):
            return False
        return stored[3] == "unreadable" or stored[2] == seed_for(digest)  # an unreadable file draws no seed
    return check


def file_hash(path: Path) -> str:
    """sha256 of the file's bytes, as the reader computes it; '' when the file cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def run_batch(inputs: Inputs, out: Path, observers: list, jobs: int, regrade: bool = False,
              is_current: Callable[[Found], bool] | None = None) -> Tally:
    """Grade every submission that needs it, telling the observers as things happen; returns the counts."""
    tally = Tally(total=len(inputs.items))
    publish = _Publisher(observers)
    publish("batch_started", tally)
    for message in inputs.warnings:
        publish("batch_warning", message)

    def todo() -> Iterator[Found]:
        for item in inputs.items:
            if not regrade and is_current is not None and is_current(item):
                tally.skipped += 1
                publish("submission_skipped", item, tally)
            else:
                yield item

    def finish(item: Found, result: Result, status: str) -> None:
        tally.count(status)
        publish("submission_graded", item, result, status, tally)

    hidden = tuple(str(p) for p in (out, inputs.root) if p is not None)  # learner code sees neither
    with _Workers(min(jobs, max(len(inputs.items), 1)), out, hidden, finish, publish) as workers:
        workers.run(todo())
    publish("batch_finished", tally)
    return tally


class _Publisher:
    """Calls one hook on every observer, in the order they were given."""

    def __init__(self, observers: list):
        self.observers = observers

    def __call__(self, hook: str, *args) -> None:
        for observer in self.observers:
            getattr(observer, hook)(*args)


@dataclass
class _Worker:
    process: multiprocessing.Process
    conn: object                  #: the parent's end of the worker's pipe
    item: Found | None = None     #: the submission it is grading now
    since: float = 0.0
    ready: bool = False           #: it started and asked for work
    stopping: bool = False        #: told there is no more work
    fatal: str = ""               #: why it gave up, in its own words


class _Workers:
    """The worker processes and the parent's event loop over their pipes."""

    def __init__(self, size: int, out: Path, hidden: tuple, finish: Callable, publish: Callable):
        self.size, self.out, self.hidden, self.finish, self.publish = size, out, hidden, finish, publish
        self.context = multiprocessing.get_context("spawn")  # a clean interpreter: no copy of the parent's state
        self.workers: list[_Worker] = []
        self.retry: deque = deque()
        self.deaths: dict = {}    #: student -> times its worker died (only submissions that killed one)
        self.pending: Iterator[Found] = iter(())
        self.exhausted = False
        self.failed_starts = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for worker in self.workers:  # only on an error or Ctrl-C: normally every worker has left already
            worker.process.kill()
            worker.process.join()
            worker.conn.close()
        self.workers = []

    def run(self, pending: Iterator[Found]) -> None:
        self.pending = pending
        first = self._next()
        if first is None:
            return
        self.retry.append(first)
        for _ in range(self.size):
            self._start()
        while self.workers:
            ready = set(wait([w.conn for w in self.workers] + [w.process.sentinel for w in self.workers], timeout=1.0))
            for worker in list(self.workers):
                if worker.conn in ready or worker.process.sentinel in ready:
                    self._service(worker)
                elif worker.item is not None and time.monotonic() - worker.since > STUCK_SECONDS:
                    worker.fatal = f"stuck for more than {STUCK_SECONDS} s on one submission"
                    worker.process.kill()

    def _next(self) -> Found | None:
        if self.retry:
            return self.retry.popleft()
        if not self.exhausted:
            item = next(self.pending, None)
            if item is not None:
                return item
            self.exhausted = True
        return None

    def _start(self) -> None:
        parent_end, child_end = self.context.Pipe()
        process = self.context.Process(target=worker_main, args=(child_end, str(self.out), self.hidden),
                                       name="gcgrade-worker", daemon=True)
        process.start()
        child_end.close()
        self.workers.append(_Worker(process, parent_end))

    def _service(self, worker: _Worker) -> None:
        """Read everything the worker said; bury it when it is gone."""
        try:
            while worker.conn.poll():
                self._handle(worker, worker.conn.recv())
        except (EOFError, OSError):
            pass
        else:
            if worker.process.is_alive():
                return
        self._bury(worker)

    def _handle(self, worker: _Worker, message: tuple) -> None:
        kind = message[0]
        if kind == "fatal":
            worker.fatal = message[1]
            return
        if kind == "ready":
            worker.ready, self.failed_starts = True, 0
        elif kind == "done":
            item, worker.item = worker.item, None
            _, student, written, note = message
            if item is None or item.student != student:
                raise BatchError(f"a worker reported {student!r}, which it was not grading")
            if not written:
                self._give_up(item, f"The grader graded this notebook but could not write its result ({note}).")
            else:
                if note:
                    self.publish("batch_warning", note)
                self._read_back(item)
        self._give_work(worker)

    def _give_work(self, worker: _Worker) -> None:
        item = self._next()
        if item is None:
            worker.conn.send(None)
            worker.stopping = True
            return
        worker.conn.send((str(item.path), item.student))
        worker.item, worker.since = item, time.monotonic()

    def _read_back(self, item: Found) -> None:
        """The Result the worker wrote into OUT/<student>.json (extra_data.result holds all of it)."""
        try:
            text = (self.out / f"{item.student}.json").read_text(encoding="utf-8")
            result = Result.from_dict(json.loads(text)["extra_data"]["result"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self._give_up(item, f"The grader could not read back the result it wrote ({type(exc).__name__}: {exc}).")
            return
        self.finish(item, result, gradebook.status_of(result))

    def _bury(self, worker: _Worker) -> None:
        self.workers.remove(worker)
        worker.process.join(timeout=10)
        worker.conn.close()
        why = worker.fatal or _exit_words(worker.process.exitcode)
        item = worker.item
        if item is not None:
            deaths = self.deaths[item.student] = self.deaths.get(item.student, 0) + 1
            if deaths < ATTEMPTS:
                self.publish("batch_warning", f"the worker grading {item.student} stopped ({why}); "
                                              f"grading it again in a fresh worker")
                self.retry.append(item)
            else:
                self._give_up(item, f"The grader's worker process stopped while grading this notebook, "
                                    f"{deaths} times ({why}). Staff: grade it alone with `gcgrade grade` to see why.")
        elif not worker.ready:
            self.failed_starts += 1
            if self.failed_starts >= FAILED_STARTS:
                raise BatchError(f"the grading workers could not start ({why})")
        elif not worker.stopping:
            self.publish("batch_warning", f"a worker stopped between submissions ({why}); starting another")
        if self.retry or not self.exhausted:
            self._start()

    def _give_up(self, item: Found, message: str) -> None:
        """Record the submission as an error: it still gets a result, reports and a gradebook row."""
        from grader.grade import unreadable
        from grader.notebook import Submission
        result = unreadable(Submission(str(item.path), item.student, file_hash(item.path), error=message), 0.0,
                            why="grading this notebook stopped the grader's worker")
        try:
            note = write_reports(result, self.out)
        except OSError as exc:
            note = f"{item.student}: the reports could not be written ({exc})"
        if note:
            self.publish("batch_warning", note)
        self.finish(item, result, "error")


def _exit_words(code: int | None) -> str:
    if code is None:
        return "it did not exit"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def worker_main(conn, out: str, hidden: tuple) -> None:
    """One worker process: a fork server and one pytest session, grading whatever the parent sends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from grader.grade import grade_many
    from grader.sandbox import ForkServer
    folder = Path(out)

    def jobs():
        try:
            conn.send(("ready",))
            while (job := conn.recv()) is not None:
                yield job
        except (EOFError, OSError):  # the parent is gone: stop quietly
            return

    def on_result(result: Result) -> None:
        try:
            written, note = True, write_reports(result, folder)
        except Exception as exc:  # the parent then records an error result for it
            written, note = False, f"{type(exc).__name__}: {exc}"
        with contextlib.suppress(OSError):
            conn.send(("done", result.submission, written, note))

    try:
        with ForkServer(hidden=hidden) as forkserver:
            grade_many(jobs(), on_result, forkserver)
    except Exception as exc:
        with contextlib.suppress(OSError):
            conn.send(("fatal", f"{type(exc).__name__}: {exc}"))
