"""The hidden inputs' seed: the course secret and the file's hash, so a file always grades the same."""
import hashlib
import hmac
import os
from pathlib import Path

from grader.provided import PROJECT_DIR

#: where staff keep the course secret (never shipped to learners); GCGRADE_SECRET overrides it
SECRET_FILE = PROJECT_DIR / "solutions" / "secret.txt"
DEVELOPMENT_SECRET = "gradecheck development secret: set GCGRADE_SECRET or solutions/secret.txt for a course"


def course_secret() -> tuple[str, str]:
    """The secret and where it came from (doctor reports the source, never the value)."""
    if os.environ.get("GCGRADE_SECRET"):
        return os.environ["GCGRADE_SECRET"], "GCGRADE_SECRET"
    path = Path(SECRET_FILE)
    if path.is_file():
        return path.read_text().strip(), str(path)
    return DEVELOPMENT_SECRET, "built-in development secret (set one for a real course)"


def seed_for(content_hash: str, secret: str | None = None) -> int:
    key = (secret if secret is not None else course_secret()[0]).encode()
    digest = hmac.new(key, content_hash.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1
