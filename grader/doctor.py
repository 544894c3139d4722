"""`gcgrade doctor`: which sandbox protections hold on this machine, and which do not."""
from __future__ import annotations

import os
import platform
import sys

from grader import __version__
from grader.sandbox import ForkServer
from grader.seeding import course_secret


def report() -> str:
    lines = [f"gradecheck {__version__} on Python {platform.python_version()}, {platform.system()} "
             f"{platform.release()}, {os.cpu_count()} cores, running as {'root' if os.geteuid() == 0 else 'uid ' + str(os.geteuid())}"]
    with ForkServer() as server:
        sandbox = server.spawn()
        found = sandbox.protections()
        sandbox.close()
    lines.append("Sandbox protections in force:")
    lines += [f"  [on]  {item}" for item in found.get("applied", [])]
    missing = found.get("missing", [])
    lines += [f"  [OFF] {item}" for item in missing]
    if not missing:
        lines.append("  nothing is missing")
    lines.append(f"Course secret: {course_secret()[1]}")
    lines.append(f"Interpreter: {sys.executable}")
    return "\n".join(lines)
