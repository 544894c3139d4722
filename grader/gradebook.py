"""The gradebook: one SQLite file per batch folder, written by the batch's parent process alone.

Each Result is stored twice over: as rows that SQL can count (submissions, functions, checks,
warnings) and whole, as its `to_dict` JSON, so exports and a resumed batch never grade again.
Every `record` is one transaction, committed before the next result is taken, so a batch
killed at any moment loses at most the submissions that were still being graded.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from grader.result import CheckStatus, Result

FILENAME = "gradebook.sqlite"
SCHEMA_VERSION = 1
#: submission statuses: graded normally, the file could not be read, the grader itself failed on it
STATUSES = ("graded", "unreadable", "error")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    student        TEXT PRIMARY KEY,   -- one row per student: a regrade replaces it
    path           TEXT NOT NULL,      -- where the notebook came from (a file, or archive.zip:member)
    assignment     TEXT NOT NULL,
    submitted_at   TEXT NOT NULL,      -- nbgrader's timestamp.txt when there was one, else ''
    content_hash   TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    seed           INTEGER NOT NULL,
    score          REAL NOT NULL,
    max_score      REAL NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('graded', 'unreadable', 'error')),
    error          TEXT NOT NULL,
    release        TEXT NOT NULL,
    duration       REAL NOT NULL,      -- seconds for the whole submission
    timings        TEXT NOT NULL,      -- JSON: seconds per phase
    graded_at      TEXT NOT NULL,      -- UTC, ISO 8601
    result         TEXT NOT NULL       -- the whole Result (to_dict) as JSON
);
CREATE TABLE IF NOT EXISTS functions (
    student   TEXT NOT NULL,
    function  TEXT NOT NULL,
    status    TEXT NOT NULL,
    score     REAL NOT NULL,
    max_score REAL NOT NULL,
    message   TEXT NOT NULL,
    PRIMARY KEY (student, function)
);
CREATE TABLE IF NOT EXISTS checks (
    student    TEXT NOT NULL,
    position   INTEGER NOT NULL,
    function   TEXT NOT NULL,
    name       TEXT NOT NULL,
    title      TEXT NOT NULL,
    status     TEXT NOT NULL,
    points     REAL NOT NULL,
    max_points REAL NOT NULL,
    hint_id    TEXT NOT NULL,       -- the mistake's fingerprint, '' when none matched
    outcome    TEXT NOT NULL,       -- how the learner call ended: value, raised, timeout, crashed, exited, ...
    message    TEXT NOT NULL,
    duration   REAL NOT NULL,
    PRIMARY KEY (student, position)
);
CREATE TABLE IF NOT EXISTS warnings (
    student  TEXT NOT NULL,
    position INTEGER NOT NULL,
    origin   TEXT NOT NULL,         -- 'grader' (in the Result) or 'input' (how the file was found)
    message  TEXT NOT NULL,
    PRIMARY KEY (student, position)
);
CREATE INDEX IF NOT EXISTS checks_by_hint ON checks (hint_id) WHERE hint_id <> '';
CREATE INDEX IF NOT EXISTS checks_by_outcome ON checks (outcome);
CREATE INDEX IF NOT EXISTS checks_by_name ON checks (function, name);
CREATE INDEX IF NOT EXISTS submissions_by_duration ON submissions (duration);
CREATE INDEX IF NOT EXISTS submissions_by_score ON submissions (score);
"""


def plain(value):
    """json.dumps' fallback: numpy numbers and arrays that slipped into a Result become plain JSON, anything
    else its text, so one odd value can never stop a batch from recording a grade."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


class GradebookError(Exception):
    """The file is not a gradebook this version can use."""


def connect(path: str | Path, create: bool = True) -> sqlite3.Connection:
    """Open (or create) a gradebook: WAL mode, so exports and the dashboard can read while a batch writes."""
    path = Path(path)
    if not create and not path.is_file():
        raise GradebookError(f"no gradebook at {path}: run `gcgrade batch INPUT --out {path.parent}` first")
    db = sqlite3.connect(str(path), timeout=30)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0 and not create:
            raise GradebookError(f"{path} is not a gradebook written by gcgrade batch")
        if version not in (0, SCHEMA_VERSION):
            raise GradebookError(f"{path} was written by another gradecheck (schema {version}, "
                                 f"this one reads {SCHEMA_VERSION})")
        db.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode: a commit survives the process being killed (not a power cut), without an fsync
        # per submission
        db.execute("PRAGMA synchronous = NORMAL")
        if create and version == 0:
            with db:
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except sqlite3.DatabaseError as exc:
        db.close()
        raise GradebookError(f"{path} is not a usable gradebook ({exc})") from None
    except GradebookError:
        db.close()
        raise
    return db


def status_of(result: Result) -> str:
    """unreadable when the file could not be read, error when a check failed on the grader's side."""
    if result.error:
        return "unreadable"
    if any(c.status is CheckStatus.GRADER_ERROR for f in result.functions for c in f.checks):
        return "error"
    return "graded"


def current(db: sqlite3.Connection, student: str) -> tuple | None:
    """(content_hash, grader_version, seed, status) of the student's recorded grade, None when there is none."""
    return db.execute("SELECT content_hash, grader_version, seed, status FROM submissions WHERE student = ?",
                      (student,)).fetchone()


def record(db: sqlite3.Connection, result: Result, *, path: str, assignment: str = "", submitted_at: str = "",
           status: str | None = None, notes: tuple = ()) -> None:
    """Store one Result, replacing whatever the student had; one transaction, committed on return."""
    student = result.submission
    status = status or status_of(result)
    with db:
        for table in ("checks", "functions", "warnings", "submissions"):
            db.execute(f"DELETE FROM {table} WHERE student = ?", (student,))
        db.execute(
            "INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (student, path, assignment, submitted_at, result.content_hash, result.grader_version, result.seed,
             result.score, result.max_score, status, result.error, result.release, result.duration,
             json.dumps(result.timings, default=plain), datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
             json.dumps(result.to_dict(), ensure_ascii=False, default=plain)))
        db.executemany("INSERT INTO functions VALUES (?, ?, ?, ?, ?, ?)",
                       [(student, f.name, f.status.value, f.score, f.max_score, f.message) for f in result.functions])
        checks = [c for f in result.functions for c in f.checks]
        db.executemany("INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [(student, i, c.function, c.name, c.title, c.status.value, c.points, c.max_points, c.hint_id,
                         c.outcome, c.message, c.duration) for i, c in enumerate(checks)])
        said = [("grader", w) for w in result.warnings] + [("input", n) for n in notes]
        db.executemany("INSERT INTO warnings VALUES (?, ?, ?, ?)",
                       [(student, i, origin, message) for i, (origin, message) in enumerate(said)])


def results(db: sqlite3.Connection) -> Iterator[Result]:
    """Every stored Result, by student, read one row at a time."""
    for (text,) in db.execute("SELECT result FROM submissions ORDER BY student"):
        yield Result.from_dict(json.loads(text))


def class_summary(db: sqlite3.Connection) -> tuple[int, float, float]:
    """(submissions, mean score, max score) over everything in the gradebook."""
    count, mean, maximum = db.execute("SELECT COUNT(*), AVG(score), MAX(max_score) FROM submissions").fetchone()
    return count, mean or 0.0, maximum or 0.0
