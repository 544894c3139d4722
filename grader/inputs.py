"""Batch stage 0, find: what staff point the batch at becomes a list of (student, notebook file).

Three shapes are understood: a folder of notebooks (the student is the file's stem), an
nbgrader-style `submitted/<student>/<assignment>/*.ipynb` tree (the student is the folder),
and a .zip export from an LMS, unpacked with every member checked before a byte is written.
Nothing here reads a notebook's content; that is the grader's job.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

#: the assignment's own notebook name: preferred when a student folder holds several notebooks
ASSIGNMENT_NOTEBOOK = re.compile(r"gradient[\s_-]*checking", re.IGNORECASE)
DEFAULT_ASSIGNMENT = "Gradient_Checking"
#: student ids that would overwrite the batch's own files (index.html is the dashboard)
RESERVED = frozenset({"index"})
#: folders that never hold submissions: editor checkpoints, macOS zip debris
_SKIPPED_DIRS = frozenset({"__MACOSX", "__pycache__"})

#: the largest notebook unpacked from an archive; real ones with plots stay well below
MEMBER_LIMIT = 64 << 20
#: the most an archive may unpack to in total, and how many members it may have
ARCHIVE_LIMIT = 4 << 30
MEMBER_COUNT_LIMIT = 200_000


class InputError(Exception):
    """The batch's INPUT cannot be used at all (missing, wrong kind of file, an archive too big to unpack)."""


@dataclass(frozen=True)
class Found:
    """One submission to grade."""
    student: str           #: the id its reports are named after (safe as a file name)
    path: Path             #: the notebook file the grader reads
    source: str            #: where it came from, for people: a path, or `archive.zip:member`
    assignment: str = DEFAULT_ASSIGNMENT
    timestamp: str = ""    #: nbgrader's timestamp.txt, when the tree has one
    notes: tuple = ()      #: how this file was chosen or renamed (also printed as warnings)


@dataclass
class Inputs:
    items: list            #: Found, sorted by student
    warnings: list = field(default_factory=list)
    layout: str = "folder"  #: folder, nbgrader or zip
    root: Path | None = None  #: the folder that was searched (hidden from learner code)


def find_submissions(input_path: str | Path, scratch: Path) -> Inputs:
    """Discover the submissions under INPUT; a zip is unpacked into `scratch` (which the caller removes)."""
    path = Path(input_path)
    if not path.exists():
        raise InputError(f"no such file or folder: {path}")
    if path.is_dir():
        return _from_folder(path, label=None)
    if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        refused = unpack_zip(path, scratch)
        found = _from_folder(_unwrap(scratch), label=(path.name, scratch))
        found.warnings[:0] = refused
        found.layout = "zip" if found.layout == "folder" else found.layout
        return found
    raise InputError(f"{path} is neither a folder nor a .zip archive: point the batch at a folder of notebooks, "
                     f"an nbgrader submitted/ folder, or an LMS export (.zip)")


# --- folders -----------------------------------------------------------------------------------------------

def _from_folder(root: Path, label: tuple | None) -> Inputs:
    """`label`: (archive name, the folder it was unpacked into) when the folder came out of an archive."""
    submitted = _nbgrader_root(root)
    if submitted is not None:
        items, warnings = _nbgrader_items(submitted, label)
        return Inputs(*_unique(items, warnings), layout="nbgrader", root=root)
    items = []
    for relative in _notebooks(root):
        items.append(Found(_student_from_file(relative), root / relative, _source(label, root / relative)))
    return Inputs(*_unique(items, []), layout="folder", root=root)


def _nbgrader_root(root: Path) -> Path | None:
    if root.name == "submitted":
        return root
    if (root / "submitted").is_dir():
        return root / "submitted"
    return None


def _notebooks(root: Path) -> list:
    """Relative paths of every notebook under root, sorted; hidden folders and files are left out."""
    found = []
    for folder, dirs, files in os.walk(root):  # never follows links to folders
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS]  # .ipynb_checkpoints, .git
        for name in files:
            if name.lower().endswith(".ipynb") and not name.startswith("."):  # ._ada.ipynb: macOS debris
                found.append((Path(folder) / name).relative_to(root))
    return sorted(found, key=lambda p: p.as_posix())


def _student_from_file(relative: Path) -> str:
    """The file stem, unless the stem is only the assignment's name (an LMS export with one folder per
    student, `Ada Lovelace_123/Gradient_Checking.ipynb`): then the top folder says who it is."""
    stem = relative.stem
    if len(relative.parts) > 1 and ASSIGNMENT_NOTEBOOK.fullmatch(re.sub(r"[\s_-]*\(?\d*\)?$", "", stem)):
        return relative.parts[0]
    return stem


def _nbgrader_items(submitted: Path, label: tuple | None) -> tuple[list, list]:
    """submitted/<student>/<assignment>/*.ipynb: one notebook per student folder."""
    items, warnings = [], []
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")):
        notebooks = _notebooks(student_dir)
        if not notebooks:
            warnings.append(f"{student_dir.name}: no notebook in {_source(label, student_dir)}, nothing to grade")
            continue
        chosen, note = _choose(notebooks)
        folder = student_dir / chosen.parent
        assignment = chosen.parts[0] if len(chosen.parts) > 1 else DEFAULT_ASSIGNMENT
        items.append(Found(student_dir.name, student_dir / chosen,
                           _source(label, student_dir / chosen), assignment,
                           _timestamp(folder / "timestamp.txt"), (f"{student_dir.name}: {note}",) if note else ()))
    return items, warnings


def _choose(notebooks: list) -> tuple[Path, str]:
    """One notebook out of several: the last one named like the assignment, else the last by name."""
    if len(notebooks) == 1:
        return notebooks[0], ""
    named = [p for p in notebooks if ASSIGNMENT_NOTEBOOK.match(p.name)]
    chosen = (named or notebooks)[-1]
    why = "the last one named like Gradient_Checking*.ipynb" if named else "none is named like Gradient_Checking*.ipynb, so the last by name"
    listed = ", ".join(p.as_posix() for p in notebooks)
    return chosen, f"{len(notebooks)} notebooks found ({listed}); graded {chosen.as_posix()}, {why}"


def _timestamp(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(200).decode("utf-8", "replace").strip().splitlines()[0][:64]
    except (OSError, IndexError):
        return ""


def _source(label: tuple | None, path: Path) -> str:
    """Where a file came from, for people: its path, or `archive.zip:member/name` for an unpacked member."""
    if label is None:
        return str(path)
    archive, unpacked = label
    return f"{archive}:{path.relative_to(unpacked).as_posix()}"


def safe_id(raw: str) -> str:
    """A student id usable as a file name everywhere: letters, digits and . _ - @ + only."""
    cleaned = re.sub(r"[^\w.@+-]+", "_", raw.strip()).strip("._")[:100]
    return cleaned or "submission"


def _unique(items: list, warnings: list) -> tuple[list, list]:
    """Safe, distinct ids, compared without case (for case-insensitive disks): the first file by source keeps
    the id, the others get -2, -3, ... in the same order on every run, so a resumed batch finds them again."""
    groups: dict = {}
    for item in items:
        groups.setdefault(safe_id(item.student).casefold(), []).append(item)
    taken: set = set()
    out = []
    for key in sorted(groups):
        group = sorted(groups[key], key=lambda i: i.source)
        for position, item in enumerate(group):
            base = safe_id(item.student)
            if position == 0 and key not in RESERVED:
                student = base
            else:
                number = 2
                while f"{base}-{number}".casefold() in taken or f"{base}-{number}".casefold() in groups:
                    number += 1
                student = f"{base}-{number}"
                why = f"the reserved id {base!r}" if position == 0 else f"the same id as {group[0].source}"
                item = replace(item, notes=item.notes + (f"{item.source} would have {why}; it is graded as {student!r}",))
            taken.add(student.casefold())
            out.append(replace(item, student=student))
    out.sort(key=lambda i: i.student)
    return out, warnings + [note for item in out for note in item.notes]


# --- zip archives --------------------------------------------------------------------------------------------

def unpack_zip(archive: Path, target: Path) -> list[str]:
    """Unpack the notebooks of an archive into `target`; returns one warning per member refused.

    Every member is checked before it is written: no absolute paths, no `..`, no links or devices,
    no encrypted members, at most MEMBER_LIMIT bytes each (counted while inflating, not trusted from
    the header) and ARCHIVE_LIMIT in total. Only notebooks and nbgrader's timestamp.txt are written.
    """
    refused = []
    total = 0
    target.mkdir(parents=True, exist_ok=True)
    try:
        bundle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{archive} is not a readable zip archive ({exc})") from None
    with bundle:
        members = bundle.infolist()
        if len(members) > MEMBER_COUNT_LIMIT:
            raise InputError(f"{archive} has {len(members)} members, more than the {MEMBER_COUNT_LIMIT} a class "
                             f"export could need; refusing to unpack it")
        for info in members:
            if info.is_dir():
                continue
            relative, problem = _member_path(info)
            if relative is None and not problem:
                continue  # not a notebook: ignored like any other file
            if problem:
                refused.append(f"{archive.name}: refused member {info.filename!r}: {problem}")
                continue
            destination = target.joinpath(*relative.parts)
            try:
                written = _inflate(bundle, info, destination, ARCHIVE_LIMIT - total)
            except _TooBig as exc:
                if exc.archive:
                    raise InputError(f"{archive} unpacks to more than {ARCHIVE_LIMIT >> 20} MiB (a zip bomb?); "
                                     f"refusing it") from None
                refused.append(f"{archive.name}: refused member {info.filename!r}: it unpacks to more than "
                               f"{MEMBER_LIMIT >> 20} MiB, far beyond any notebook (a zip bomb?)")
                continue
            except FileExistsError:
                refused.append(f"{archive.name}: refused member {info.filename!r}: the archive holds it twice")
                continue
            except (OSError, zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError) as exc:
                refused.append(f"{archive.name}: refused member {info.filename!r}: it could not be unpacked ({exc})")
                continue
            total += written
    return refused


def _member_path(info: zipfile.ZipInfo) -> tuple[PurePosixPath | None, str]:
    """The member's safe relative path, or why it is refused; (None, '') for members that are ignored."""
    name = info.filename.replace("\\", "/")
    mode = info.external_attr >> 16
    base = name.rsplit("/", 1)[-1]
    if not (base.lower().endswith(".ipynb") or base == "timestamp.txt"):
        return None, ""
    if "\x00" in name:
        return None, "its name holds a NUL byte"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None, "it has an absolute path (it would be written outside the unpacking folder)"
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        return None, "its path climbs out of the archive with '..' (path traversal)"
    if stat.S_ISLNK(mode):
        return None, "it is a symbolic link"
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # 0: made on a system that records no file type
        return None, "it is not a regular file"
    if info.flag_bits & 0x1:
        return None, "it is encrypted"
    if info.file_size > MEMBER_LIMIT:
        return None, f"it unpacks to {info.file_size >> 20} MiB, more than {MEMBER_LIMIT >> 20} MiB (a zip bomb?)"
    return PurePosixPath(*parts), ""


class _TooBig(Exception):
    def __init__(self, archive: bool):
        self.archive = archive


def _inflate(bundle: zipfile.ZipFile, info: zipfile.ZipInfo, destination: Path, room: int) -> int:
    """Copy one member, counting the bytes as they come out; into a new file only, never through a link."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(destination, "xb") as sink:
        try:
            with bundle.open(info) as source:
                while chunk := source.read(1 << 16):
                    written += len(chunk)
                    if written > MEMBER_LIMIT or written > room:
                        raise _TooBig(archive=written > room)
                    sink.write(chunk)
        except BaseException:
            destination.unlink(missing_ok=True)
            raise
    return written


def _unwrap(root: Path) -> Path:
    """An archive that holds one folder and nothing else: the class is inside that folder."""
    while True:
        entries = [p for p in root.iterdir() if not p.name.startswith(".") and p.name not in _SKIPPED_DIRS]
        if len(entries) == 1 and entries[0].is_dir() and entries[0].name != "submitted":
            root = entries[0]
            continue
        return root


def remove_scratch(scratch: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)
