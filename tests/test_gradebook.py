"""grader.gradebook: one row per student, replaced on regrade, the whole Result kept, WAL mode, commits at once."""
import json
import sqlite3

import pytest

from grader import gradebook
from grader.grade import grade_many
from grader.synth import make_notebook, write_notebook
from solutions.mistakes import CORRECT, MISTAKES

ONE_SIDED = next(m for m in MISTAKES if m.id == "nd_one_sided")


@pytest.fixture(scope="module")
def results(tmp_path_factory, forkserver):
    folder = tmp_path_factory.mktemp("gradebook")
    broken = folder / "broken.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    inputs = [(write_notebook(folder / "ada.ipynb", make_notebook(CORRECT)), "ada"),
              (write_notebook(folder / "ben.ipynb", make_notebook(dict(CORRECT, gradient_check_n=ONE_SIDED.source))), "ben"),
              (broken, "broken")]
    found = {}
    grade_many(inputs, lambda r: found.__setitem__(r.submission, r), forkserver)
    return found


@pytest.fixture
def db(tmp_path):
    connection = gradebook.connect(tmp_path / gradebook.FILENAME)
    yield connection
    connection.close()


def plain(result):
    return json.loads(json.dumps(result.to_dict(), default=gradebook.plain))


def test_record_keeps_the_whole_result_and_reads_it_back(db, results):
    for result in results.values():
        gradebook.record(db, result, path=result.path)
    back = {r.submission: r for r in gradebook.results(db)}
    assert sorted(back) == ["ada", "ben", "broken"]
    for name, result in results.items():
        assert plain(back[name]) == plain(result)


def grader_errors(result):
    return [f"{c.label}: {c.message}" for f in result.functions for c in f.checks if c.status.value == "grader_error"]


def test_rows_mirror_the_result_per_function_and_check(db, results):
    ben = results["ben"]
    assert not grader_errors(ben)
    gradebook.record(db, ben, path="class/ben.ipynb", assignment="ps1", submitted_at="2024-03-01", notes=("chosen",))
    row = db.execute("SELECT path, assignment, submitted_at, score, max_score, status, seed, content_hash "
                     "FROM submissions").fetchone()
    assert row == ("class/ben.ipynb", "ps1", "2024-03-01", ben.score, 50.0, "graded", ben.seed, ben.content_hash)
    functions = dict(db.execute("SELECT function, score FROM functions WHERE student = 'ben'").fetchall())
    assert functions == {f.name: f.score for f in ben.functions}
    checks = db.execute("SELECT COUNT(*), SUM(points) FROM checks WHERE student = 'ben'").fetchone()
    assert checks[0] == sum(len(f.checks) for f in ben.functions) and checks[1] == pytest.approx(ben.score)
    hints = {h for (h,) in db.execute("SELECT hint_id FROM checks WHERE hint_id <> ''")}
    assert "nd_one_sided" in hints
    assert db.execute("SELECT origin, message FROM warnings").fetchall()[-1] == ("input", "chosen")


def test_regrade_replaces_every_row_of_the_student(db, results):
    ada = results["ada"]
    for _ in range(3):
        gradebook.record(db, ada, path="a")
    checks = sum(len(f.checks) for f in ada.functions)
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM functions").fetchone()[0] == 4
    assert db.execute("SELECT COUNT(*) FROM checks").fetchone()[0] == checks


def test_status_and_current(db, results):
    assert gradebook.status_of(results["ada"]) == "graded"
    assert gradebook.status_of(results["broken"]) == "unreadable"
    gradebook.record(db, results["broken"], path="b")
    gradebook.record(db, results["ada"], path="a", status="error")
    assert gradebook.current(db, "broken") == (results["broken"].content_hash, results["broken"].grader_version, 0,
                                               "unreadable")
    assert gradebook.current(db, "ada")[3] == "error"
    assert gradebook.current(db, "nobody") is None


def test_wal_mode_and_each_record_is_committed_at_once(tmp_path, db, results):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    gradebook.record(db, results["ada"], path="a")
    reader = sqlite3.connect(tmp_path / gradebook.FILENAME)
    assert reader.execute("SELECT student FROM submissions").fetchall() == [("ada",)]
    reader.close()


def test_not_a_gradebook_is_refused(tmp_path):
    with pytest.raises(gradebook.GradebookError, match="no gradebook at"):
        gradebook.connect(tmp_path / "missing.sqlite", create=False)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(gradebook.GradebookError, match="not a usable gradebook"):
        gradebook.connect(junk)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(gradebook.GradebookError, match="not a gradebook written by gcgrade batch"):
        gradebook.connect(other, create=False)


def test_numpy_numbers_in_a_result_do_not_stop_the_record(db, results):
    import dataclasses

    import numpy as np
    ada = results["ada"]
    odd = dataclasses.replace(ada, timings={**ada.timings, "numpy": np.float64(0.5)})
    gradebook.record(db, odd, path="a")
    assert next(gradebook.results(db)).timings["numpy"] == 0.5
