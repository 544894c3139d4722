"""grader.inputs: folders, nbgrader trees and LMS zips become (student, notebook) pairs; hostile zips are refused."""
import stat
import zipfile

import pytest

from grader.inputs import MEMBER_LIMIT, InputError, find_submissions, unpack_zip

NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def touch(path, text=NOTEBOOK):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def students(found):
    return [item.student for item in found.items]


def test_folder_uses_file_stems_and_ignores_other_files(tmp_path):
    for name in ("ben.ipynb", "ada.ipynb", "notes.txt", "data.csv", ".hidden.ipynb", "._ada.ipynb"):
        touch(tmp_path / name)
    touch(tmp_path / ".ipynb_checkpoints" / "ada-checkpoint.ipynb")
    found = find_submissions(tmp_path, tmp_path / "scratch")
    assert found.layout == "folder"
    assert students(found) == ["ada", "ben"]
    assert found.items[0].path == tmp_path / "ada.ipynb" and found.warnings == []


def test_nbgrader_tree_uses_student_folders_and_reads_timestamp(tmp_path):
    root = tmp_path / "course"
    touch(root / "submitted" / "ada" / "ps1" / "Gradient_Checking.ipynb")
    touch(root / "submitted" / "ada" / "ps1" / "timestamp.txt", "2024-03-01 10:00:00.000000 UTC\n")
    touch(root / "submitted" / "ben" / "ps1" / "mine.ipynb")
    touch(root / "source" / "ps1" / "Gradient_Checking.ipynb")  # the instructor's copy is not a submission
    found = find_submissions(root, tmp_path / "scratch")
    assert found.layout == "nbgrader"
    assert students(found) == ["ada", "ben"]
    ada = found.items[0]
    assert (ada.assignment, ada.timestamp) == ("ps1", "2024-03-01 10:00:00.000000 UTC")
    assert find_submissions(root / "submitted", tmp_path / "s2").items == found.items


def test_several_notebooks_prefer_the_assignment_name_and_say_so(tmp_path):
    folder = tmp_path / "submitted" / "ada" / "ps1"
    for name in ("scratch.ipynb", "Gradient_Checking.ipynb", "zzz.ipynb"):
        touch(folder / name)
    touch(tmp_path / "submitted" / "ben" / "ps1" / "a.ipynb")
    touch(tmp_path / "submitted" / "ben" / "ps1" / "b.ipynb")
    found = find_submissions(tmp_path / "submitted", tmp_path / "scratch")
    ada, ben = found.items
    assert ada.path.name == "Gradient_Checking.ipynb"
    assert ben.path.name == "b.ipynb"
    assert any("3 notebooks found" in w and "graded ps1/Gradient_Checking.ipynb" in w for w in found.warnings)
    assert any("the last by name" in w and "graded ps1/b.ipynb" in w for w in found.warnings)
    assert ada.notes and ben.notes


def test_duplicate_ids_get_a_deterministic_suffix_and_a_warning(tmp_path):
    for name in ("Ada.ipynb", "ada.ipynb", "a b.ipynb", "a_b.ipynb", "index.ipynb"):
        touch(tmp_path / name)
    first = find_submissions(tmp_path, tmp_path / "s1")
    assert students(first) == ["Ada", "a_b", "a_b-2", "ada-2", "index-2"]
    assert sum("would have" in w for w in first.warnings) == 3
    again = find_submissions(tmp_path, tmp_path / "s2")
    assert [(i.student, i.path) for i in again.items] == [(i.student, i.path) for i in first.items]


def test_missing_input_and_wrong_kind_of_file_are_refused(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        find_submissions(tmp_path / "nope", tmp_path / "scratch")
    with pytest.raises(InputError, match="neither a folder nor a .zip"):
        find_submissions(touch(tmp_path / "one.ipynb"), tmp_path / "scratch")
    with pytest.raises(InputError, match="not a readable zip"):
        find_submissions(touch(tmp_path / "bad.zip", "not a zip"), tmp_path / "scratch")


def test_zip_export_each_notebook_is_a_submission(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("export/ada_123_Gradient_Checking.ipynb", NOTEBOOK)
        bundle.writestr("export/ben.ipynb", NOTEBOOK)
        bundle.writestr("export/readme.pdf", b"%PDF")
        bundle.writestr("Ada Lovelace_42_assignsubmission_file_/Gradient_Checking.ipynb", NOTEBOOK)
    found = find_submissions(archive, tmp_path / "scratch")
    assert found.layout == "zip"
    assert students(found) == ["Ada_Lovelace_42_assignsubmission_file", "ada_123_Gradient_Checking", "ben"]
    assert found.items[2].source == "export.zip:export/ben.ipynb"
    assert not list((tmp_path / "scratch").rglob("*.pdf"))


def test_zip_holding_an_nbgrader_tree(tmp_path):
    archive = tmp_path / "collected.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("course/submitted/ada/ps1/Gradient_Checking.ipynb", NOTEBOOK)
        bundle.writestr("course/submitted/ben/ps1/Gradient_Checking.ipynb", NOTEBOOK)
    found = find_submissions(archive, tmp_path / "scratch")
    assert (found.layout, students(found)) == ("nbgrader", ["ada", "ben"])


def _symlink_member(name, target):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_hostile_zip_members_are_refused_and_nothing_lands_outside(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("ok.ipynb", NOTEBOOK)
        bundle.writestr("../escaped.ipynb", NOTEBOOK)
        bundle.writestr("a/../../escaped2.ipynb", NOTEBOOK)
        bundle.writestr("/abs/escaped3.ipynb", NOTEBOOK)
        bundle.writestr("..\\escaped4.ipynb", NOTEBOOK)
        bundle.writestr(*_symlink_member("link.ipynb", "/etc/passwd"))
        bundle.writestr("bomb.ipynb", b"\0" * (MEMBER_LIMIT + 1))
        bundle.writestr("ok.ipynb", NOTEBOOK + " ")  # the same name twice
    scratch = tmp_path / "deep" / "scratch"
    found = find_submissions(archive, scratch)
    assert students(found) == ["ok"]
    text = "\n".join(found.warnings)
    assert "'../escaped.ipynb': its path climbs out of the archive with '..' (path traversal)" in text
    assert "'a/../../escaped2.ipynb'" in text and "'..\\\\escaped4.ipynb'" in text
    assert "'/abs/escaped3.ipynb': it has an absolute path" in text
    assert "'link.ipynb': it is a symbolic link" in text
    assert "'bomb.ipynb'" in text and "zip bomb" in text
    assert "the archive holds it twice" in text
    assert sorted(p.name for p in tmp_path.rglob("*.ipynb")) == ["ok.ipynb"]
    assert (scratch / "ok.ipynb").read_text() == NOTEBOOK


def test_member_lying_about_its_size_is_stopped_while_inflating(tmp_path, monkeypatch):
    archive = tmp_path / "liar.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("big.ipynb", b"{" * 5000)
    monkeypatch.setattr("grader.inputs.MEMBER_LIMIT", 1000)
    # the header says 5000 bytes; make it say 10 so only counting while inflating can notice
    data = bytearray(archive.read_bytes())
    for header in (b"PK\x03\x04", b"PK\x01\x02"):
        at = data.find(header)
        offset = at + (22 if header == b"PK\x03\x04" else 24)
        data[offset:offset + 4] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    warnings = unpack_zip(archive, tmp_path / "scratch")
    assert any("big.ipynb" in w for w in warnings)
    assert not (tmp_path / "scratch" / "big.ipynb").exists()


def test_archive_too_big_in_total_is_refused_whole(tmp_path, monkeypatch):
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for index in range(5):
            bundle.writestr(f"s{index}.ipynb", b" " * 400)
    monkeypatch.setattr("grader.inputs.ARCHIVE_LIMIT", 1000)
    with pytest.raises(InputError, match="zip bomb"):
        find_submissions(archive, tmp_path / "scratch")
