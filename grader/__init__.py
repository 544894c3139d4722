"""gradecheck: grades the Gradient Checking notebook with hidden checks and a sandbox."""
import functools
import hashlib
from pathlib import Path

__version__ = "0.1.0"


@functools.lru_cache(maxsize=1)
def grader_version() -> str:
    """The release plus a digest of the code that decides grades (engine, checks, references, helpers).

    A batch skips submissions graded by the same version, so any change to a check regrades them.
    """
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for folder in ("grader", "solutions", "assignment"):
        for path in sorted((root / folder).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:10]}"
