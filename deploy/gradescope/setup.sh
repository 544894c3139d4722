#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image. The autograder zip
# (`gcgrade package gradescope`) is unpacked in /autograder/source; gradecheck goes into its own
# virtualenv at /autograder/venv, installed in editable mode so it finds solutions/ and assignment/
# beside its code. GRADESCOPE_ROOT (default /autograder) moves the whole tree, for testing.
set -euo pipefail

ROOT="${GRADESCOPE_ROOT:-/autograder}"
SOURCE="$ROOT/source"

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip

python3 - <<'PY'
import sys
if sys.version_info < (3, 10):
    sys.exit(f"gradecheck needs Python 3.10 or newer, this image has {sys.version.split()[0]}: "
             "choose Gradescope's Ubuntu 22.04 base image")
PY

python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install --no-cache-dir --upgrade pip
"$ROOT/venv/bin/pip" install --no-cache-dir -e "$SOURCE"
"$ROOT/venv/bin/python" -m compileall -q "$SOURCE/grader" "$SOURCE/solutions" "$SOURCE/assignment"

# The build log shows which sandbox protections hold in Gradescope's container.
"$ROOT/venv/bin/gcgrade" doctor || echo "gcgrade doctor failed: see above" >&2
