"""The one Jinja environment every HTML writer renders with, and its named number filters.

Autoescape on, undefined names fail loudly; templates hold loops and ifs, the filters do
the formatting, so no template does arithmetic.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def points(value: float) -> str:
    """Points without noise: 10, 8.33, 2.5."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def number(value: float) -> str:
    """A measured number for a learner: three significant digits."""
    return f"{value:.3g}"


def whole(value: float) -> str:
    """A percentage for a bar's width."""
    return f"{value:.0f}"


def percent(value: float) -> str:
    """A share as a whole percentage: 0.873 → 87%."""
    return f"{value * 100:.0f}%"


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(points=points, number=number, whole=whole, percent=percent, seconds=seconds)
    return env
