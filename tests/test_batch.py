"""`gcgrade batch` end to end: a class of 200+ real notebooks, killed with SIGKILL mid-way and resumed;
skip on rerun, --regrade, nbgrader trees, LMS zips (hostile ones too) and `gcgrade export`."""
import csv
import fcntl
import html
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, load_json, run_cli
from grader.templating import points
from grader.synth import make_notebook, write_notebook
from solutions.mistakes import CORRECT, MISTAKES

STARTER = ROOT / "assignment" / "Gradient_Checking.ipynb"
GCGRADE = Path(sys.executable).parent / "gcgrade"

#: correct code that floods its output: the output is capped, the grade is untouched
FLOOD = "def forward_propagation(x, theta):\n    for i in range(200000):\n        print('spam', i)\n    return theta * x\n"
#: learner code that attacks the grader's process: each must cost only its own function's points
HOSTILE = {
    "h_os_exit": ("forward_propagation", "def forward_propagation(x, theta):\n    import os\n    os._exit(1)\n"),
    "h_endless_loop": ("gradient_check", "def gradient_check(x, theta, epsilon=1e-7, print_msg=False):\n"
                                         "    while True:\n        pass\n"),
    "h_segfault": ("backward_propagation", "def backward_propagation(x, theta):\n    import ctypes\n"
                                           "    return ctypes.string_at(0)\n"),
    "h_system_exit": ("backward_propagation", "def backward_propagation(x, theta):\n    raise SystemExit(3)\n"),
    "h_huge_memory": ("forward_propagation", "def forward_propagation(x, theta):\n    waste = np.ones(1 << 33)\n"
                                             "    return theta * x\n"),
}
UNREADABLE = {"u_empty": b"", "u_cut_short": b'{"cells": [{"cell_type": "code", "sour',
              "u_binary": bytes(range(256)) * 4, "u_not_a_notebook": b'{"hello": "world"}',
              "u_zip_renamed": b"PK\x03\x04" + b"\x00" * 60, "u_latin1": "{\"cells\": \"\xe9t\xe9\"}".encode("latin-1")}


def build_class(folder: Path, correct: int = 110, copies: int = 2) -> dict:
    """Writes the class; returns student -> what it is ('correct', a mistake's function, 'unreadable', ...)."""
    kinds = {}
    shapes = [dict(release="2021"), dict(release="2017", crlf=True), dict(list_source=False), dict(outputs=False)]
    for index in range(correct):
        name = f"c{index:03d}"
        write_notebook(folder / f"{name}.ipynb", make_notebook(CORRECT, extra_cells=[f"# learner {index}'s scratch"],
                                                             **shapes[index % len(shapes)]))
        kinds[name] = "correct"
    for mistake in MISTAKES:
        for copy in range(copies):
            name = f"m_{mistake.id}_{copy}"
            notebook = make_notebook(dict(CORRECT, **{mistake.function: mistake.source}), extra_cells=[f"# {copy}"])
            write_notebook(folder / f"{name}.ipynb", notebook)
            kinds[name] = mistake.function
    for name, data in UNREADABLE.items():
        (folder / f"{name}.ipynb").write_bytes(data)
        kinds[name] = "unreadable"
    for name, (function, source) in HOSTILE.items():
        write_notebook(folder / f"{name}.ipynb", make_notebook(dict(CORRECT, **{function: source})))
        kinds[name] = function
    write_notebook(folder / "h_print_flood.ipynb", make_notebook(dict(CORRECT, forward_propagation=FLOOD)))
    kinds["h_print_flood"] = "correct"
    for index in range(3):
        shutil.copy(STARTER, folder / f"s_starter_{index}.ipynb")
        kinds[f"s_starter_{index}"] = "starter"
    (folder / "README.txt").write_text("not a notebook")
    (folder / "grades-from-last-year.csv").write_text("a,b\n1,2\n")
    return kinds


def rows(database: Path) -> dict:
    """student -> (status, graded_at), read by a separate connection while the batch may be writing."""
    if not database.exists():
        return {}
    try:
        connection = sqlite3.connect(database, timeout=10)
        try:
            return {s: (status, at) for s, status, at in connection.execute(
                "SELECT student, status, graded_at FROM submissions")}
        finally:
            connection.close()
    except sqlite3.OperationalError:  # the schema is not there yet
        return {}


def wait_for_rows(database: Path, count: int, process, limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while len(rows(database)) < count:
        assert process.poll() is None, "the batch finished before it could be interrupted"
        assert time.monotonic() < deadline, f"fewer than {count} rows after {limit} s"
        time.sleep(0.1)


def worker_pids(pid: int) -> list:
    """The batch's worker processes: its spawned children (not the resource tracker)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    found = []
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"spawn_main" in command:
            found.append(int(child))
    return found


@dataclass
class Graded:
    notebooks: Path
    out: Path
    kinds: dict
    killed_rows: dict       #: what the gradebook held when the batch was killed
    first_stderr: str
    resumed: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A class graded by a batch that loses a worker, is then killed with SIGKILL, and is run again."""
    base = tmp_path_factory.mktemp("class")
    notebooks, out = base / "notebooks", base / "out"
    notebooks.mkdir()
    kinds = build_class(notebooks)
    assert len(kinds) >= 200
    database = out / "gradebook.sqlite"
    with open(base / "first.err", "w") as errors:
        process = subprocess.Popen([str(GCGRADE), "batch", str(notebooks), "--out", str(out), "--jobs", "2"],
                                   stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True,
                                   env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        try:
            wait_for_rows(database, 15, process)
            workers = worker_pids(process.pid)
            assert workers, "no worker process found"
            os.kill(workers[0], signal.SIGKILL)  # one worker dies: its submission must be graded by another
            wait_for_rows(database, 60, process)
            os.killpg(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == -signal.SIGKILL
    killed_rows = rows(database)
    assert 60 <= len(killed_rows) < len(kinds)
    resumed = run_cli("batch", notebooks, "--out", out, "--jobs", "2", timeout=900)
    return Graded(notebooks, out, kinds, killed_rows, (base / "first.err").read_text(), resumed)


def db_of(graded):
    return sqlite3.connect(graded.out / "gradebook.sqlite")


def test_killed_batch_resumes_and_grades_every_submission_exactly_once(graded):
    assert graded.resumed.returncode == 0, graded.resumed.stderr
    final = rows(graded.out / "gradebook.sqlite")
    assert sorted(final) == sorted(graded.kinds)
    kept = {s: v for s, v in graded.killed_rows.items() if v[0] != "error"}
    assert {s: final[s] for s in kept} == kept, "a submission graded before the kill was graded again"
    summary = graded.resumed.stdout
    assert f"{len(graded.kinds)} submissions in" in summary
    assert f"{len(kept)} skipped (already graded)" in summary
    assert "errors" in summary and "class mean" in summary and "index.html" in summary


def test_a_dead_worker_is_replaced_and_its_submission_graded(graded):
    assert ("grading it again in a fresh worker" in graded.first_stderr
            or "a worker stopped between submissions" in graded.first_stderr), graded.first_stderr
    statuses = {status for status, _ in rows(graded.out / "gradebook.sqlite").values()}
    assert "error" not in statuses


def test_every_submission_has_reports_that_agree_with_the_gradebook(graded):
    with db_of(graded) as db:
        stored = {s: (score, digest) for s, score, digest in db.execute(
            "SELECT student, score, content_hash FROM submissions")}
    for student, (score, digest) in stored.items():
        data = load_json(graded.out / f"{student}.json")
        assert data["score"] == round(score, 4), student
        assert data["extra_data"]["content_hash"] == digest
        assert (graded.out / f"{student}.html").is_file()
    assert sorted(p.stem for p in graded.out.glob("*.json")) == sorted(stored)
    assert not [p for p in graded.out.iterdir() if p.name.endswith(".gcgrade-tmp") or p.name == ".unpacked"]


def test_grades_csv_agrees_with_the_gradebook(graded):
    with db_of(graded) as db:
        stored = dict(db.execute("SELECT student, score FROM submissions"))
        functions = {(s, f): score for s, f, score in db.execute("SELECT student, function, score FROM functions")}
    with open(graded.out / "grades.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
                                     "email", "raw_score", "late_submission_penalty", "score", "max_score",
                                     "forward_propagation", "backward_propagation", "gradient_check",
                                     "gradient_check_n"]
        table = list(reader)
    assert [r["student_id"] for r in table] == sorted(stored)
    for row in table:
        student = row["student_id"]
        assert float(row["score"]) == pytest.approx(stored[student], abs=1e-4)
        assert float(row["raw_score"]) == float(row["score"]) and row["max_score"] == "50"
        for function in ("forward_propagation", "backward_propagation", "gradient_check", "gradient_check_n"):
            assert float(row[function]) == pytest.approx(functions[student, function], abs=1e-4)


def test_dashboard_is_built_from_the_gradebook(graded):
    with db_of(graded) as db:
        count, mean = db.execute("SELECT COUNT(*), AVG(score) FROM submissions").fetchone()
    page = (graded.out / "index.html").read_text(encoding="utf-8")
    assert f"{count} submissions, mean {points(mean)} / 50" in page
    for name in ("h_os_exit", "h_endless_loop", "u_cut_short"):
        assert f'href="{name}.html"' in page
    assert "forward_propagation: exited" in page and "gradient_check: timeout" in page
    with db_of(graded) as db:
        common = db.execute("SELECT hint_id, COUNT(DISTINCT student) AS n FROM checks WHERE hint_id <> '' "
                            "GROUP BY hint_id ORDER BY n DESC, hint_id LIMIT 3").fetchall()
    titles = {m.id: m.title for m in MISTAKES}
    for hint_id, number in common:
        assert f"<code>{hint_id}</code>" in page and html.escape(titles[hint_id]) in page
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")


def test_grades_follow_what_each_notebook_holds(graded):
    with db_of(graded) as db:
        scores = {(s, f): (score, top) for s, f, score, top in db.execute(
            "SELECT student, function, score, max_score FROM functions")}
        statuses = dict(db.execute("SELECT student, status FROM submissions"))
    for student, kind in graded.kinds.items():
        mine = {f: scores[student, f] for (s, f) in scores if s == student}
        if kind == "correct":
            assert all(score == top for score, top in mine.values()), student
        elif kind == "unreadable":
            assert statuses[student] == "unreadable" and all(score == 0 for score, _ in mine.values())
        elif kind == "starter":
            assert sum(score for score, _ in mine.values()) == 0
        else:
            assert mine[kind][0] < mine[kind][1], f"{student} kept full marks on {kind}"
            if student.startswith("h_"):
                others = [score == top for f, (score, top) in mine.items() if f != kind]
                assert all(others), f"{student} cost other functions points"


def test_hostile_code_outcomes_are_recorded_per_check(graded):
    with db_of(graded) as db:
        outcomes = {(s, f): o for s, f, o in db.execute(
            "SELECT student, function, GROUP_CONCAT(DISTINCT outcome) FROM checks WHERE student LIKE 'h_%' "
            "GROUP BY student, function")}
    assert "exited" in outcomes["h_os_exit", "forward_propagation"]
    assert "timeout" in outcomes["h_endless_loop", "gradient_check"]
    assert "crashed" in outcomes["h_segfault", "backward_propagation"]


def test_export_regenerates_identical_files_without_grading(graded):
    before = (graded.out / "grades.csv").read_bytes()
    (graded.out / "grades.csv").unlink()
    done = run_cli("export", "--out", graded.out)
    assert done.returncode == 0, done.stderr
    assert (graded.out / "grades.csv").read_bytes() == before
    report = graded.out / "c000.json"
    original = report.read_bytes()
    report.unlink()
    done = run_cli("export", "--out", graded.out, "--format", "gradescope")
    assert done.returncode == 0 and f"wrote {len(graded.kinds)} results.json files" in done.stdout
    assert report.read_bytes() == original


def test_rerun_skips_an_edit_is_graded_and_regrade_grades_all(tmp_path):
    notebooks, out = tmp_path / "class", tmp_path / "out"
    write_notebook(notebooks / "ada.ipynb", make_notebook(CORRECT))
    write_notebook(notebooks / "ben.ipynb", make_notebook(dict(CORRECT, gradient_check=MISTAKES[4].source)))
    (notebooks / "cy.ipynb").write_text("{", encoding="utf-8")
    first = run_cli("batch", notebooks, "--out", out, "--jobs", "1")
    assert first.returncode == 0, first.stderr
    assert "2 graded, 0 skipped (already graded), 1 unreadable" in first.stdout
    before = rows(out / "gradebook.sqlite")

    again = run_cli("batch", notebooks, "--out", out, "--jobs", "1")
    assert "0 graded, 3 skipped (already graded), 0 unreadable" in again.stdout
    assert rows(out / "gradebook.sqlite") == before

    write_notebook(notebooks / "ben.ipynb", make_notebook(CORRECT))
    edited = run_cli("batch", notebooks, "--out", out, "--jobs", "1")
    assert "1 graded, 2 skipped (already graded)" in edited.stdout
    assert load_json(out / "ben.json")["score"] == 50
    after = rows(out / "gradebook.sqlite")
    assert after["ada"] == before["ada"] and after["ben"] != before["ben"]

    regraded = run_cli("batch", notebooks, "--out", out, "--jobs", "1", "--regrade")
    assert "2 graded, 0 skipped (already graded), 1 unreadable" in regraded.stdout
    final = rows(out / "gradebook.sqlite")
    assert len(final) == 3 and all(final[s][1] > after[s][1] for s in final)


def test_nbgrader_tree(tmp_path):
    submitted = tmp_path / "course" / "submitted"
    write_notebook(submitted / "ada" / "ps1" / "Gradient_Checking.ipynb", make_notebook(CORRECT))
    write_notebook(submitted / "ada" / "ps1" / "scratch.ipynb", make_notebook({}))
    (submitted / "ada" / "ps1" / "timestamp.txt").write_text("2024-03-01 09:30:00 UTC")
    write_notebook(submitted / "ben" / "ps1" / "whatever.ipynb", make_notebook(CORRECT))
    done = run_cli("batch", tmp_path / "course", "--out", tmp_path / "out", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert "2 graded" in done.stdout
    assert "ada: 2 notebooks found" in done.stderr and "graded ps1/Gradient_Checking.ipynb" in done.stderr
    with open(tmp_path / "out" / "grades.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [(r["assignment"], r["student_id"], r["timestamp"], r["score"]) for r in table] == [
        ("ps1", "ada", "2024-03-01 09:30:00 UTC", "50"), ("ps1", "ben", "", "50")]


def test_zip_export_with_a_path_traversal_member(tmp_path):
    archive = tmp_path / "export.zip"
    good = json.dumps(make_notebook(CORRECT))
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("export/ada.ipynb", good)
        bundle.writestr("export/ben.ipynb", good + " ")
        bundle.writestr("export/../../../evil.ipynb", good)
        bundle.writestr("export/feedback.pdf", b"%PDF-1.4")
    out = tmp_path / "deep" / "out"
    done = run_cli("batch", archive, "--out", out, "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert "refused member 'export/../../../evil.ipynb'" in done.stderr and "path traversal" in done.stderr
    assert "2 graded" in done.stdout
    assert sorted(p.name for p in tmp_path.rglob("*.ipynb")) == []  # unpacked into OUT and cleaned away
    assert sorted(p.stem for p in out.glob("*.json")) == ["ada", "ben"]
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT path FROM submissions WHERE student = 'ada'").fetchone() == ("export.zip:export/ada.ipynb",)


def test_misuse_is_a_usage_error(tmp_path):
    missing = run_cli("batch", tmp_path / "nope", "--out", tmp_path / "out")
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = run_cli("batch", tmp_path / "empty", "--out", tmp_path / "out")
    assert empty.returncode == 2 and "no notebook (.ipynb) found" in empty.stderr
    no_gradebook = run_cli("export", "--out", tmp_path / "empty")
    assert no_gradebook.returncode == 2 and "no gradebook at" in no_gradebook.stderr


def test_a_second_batch_on_the_same_out_is_refused(tmp_path):
    write_notebook(tmp_path / "class" / "ada.ipynb", make_notebook(CORRECT))
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".gcgrade.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        busy = run_cli("batch", tmp_path / "class", "--out", out)
    assert busy.returncode == 2 and "another gcgrade batch is writing to" in busy.stderr


class FakeTerminal:
    def __init__(self, tty):
        self.text, self.tty = "", tty

    def write(self, text):
        self.text += text

    def flush(self):
        pass

    def isatty(self):
        return self.tty


def test_progress_is_a_redrawn_bar_on_a_terminal_and_plain_lines_elsewhere():
    from grader.progress import ProgressBar, ProgressLines, Tally, progress_for
    assert isinstance(progress_for(FakeTerminal(True)), ProgressBar)
    assert isinstance(progress_for(FakeTerminal(False)), ProgressLines)
    terminal, log = FakeTerminal(True), FakeTerminal(False)
    bar, lines = ProgressBar(terminal, every=0), ProgressLines(log, every=3600)
    tally = Tally(total=40, started=time.monotonic() - 10)
    for index in range(40):
        tally.count("graded")
        bar.submission_graded(None, None, "graded", tally)
        lines.submission_graded(None, None, "graded", tally)
    bar.batch_finished(tally)
    assert "\n" not in terminal.text[:-1] and terminal.text.count("\r") >= 40
    assert "] 20/40  50%" in terminal.text and "/s  ETA" in terminal.text and terminal.text.endswith("\n")
    assert log.text.count("\n") == 20 and "\r" not in log.text  # one line per 5 %
    assert "progress: 2/40 (5%)" in log.text and "progress: 40/40 (100%)" in log.text
