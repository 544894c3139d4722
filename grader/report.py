"""Writer: the learner's HTML report, rendered from a finished Result by Jinja2 templates."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from grader.result import Result

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def points(value: float) -> str:
    """Points without noise: 10, 8.33, 2.5."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """One Jinja environment: HTML autoescape on, undefined names fail loudly."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["points"] = points
    return env


def render_html(result: Result) -> str:
    return environment().get_template("report.html.j2").render(result=result)
