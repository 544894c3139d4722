"""Writer helper: the per-parameter gradapprox picture of gradient_check_n, drawn as inline SVG markup.

Input is a failed check's `details["chart"]` (plain data built by the hidden checks); output is
markup for the report plus a few sentences describing what the picture shows. The learner's values
are slopes recovered from the costs their code asked for (grader.trace), so the picture shows where
the costs were evaluated, not what the code did with them afterwards. Nothing is graded here: the
picture only helps a learner see whether their values are off everywhere or in one place.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

#: drawing area, in SVG user units (the picture scales to the page width)
WIDTH, LEFT, RIGHT = 600.0, 64.0, 8.0
TOP, TOP_END = 10.0, 190.0            #: panel 1, the values
LABELS = 211.0                       #: baseline of the group names (W1, b1, ...)
DIFF, DIFF_END = 226.0, 296.0        #: panel 2, your value minus the reference
HEIGHT = 304.0
#: room between two parameter groups, in parameter slots
GROUP_GAP = 0.8
#: a learner value this close to the reference (relative to the largest reference value) counts as the same
SAME = 1e-5


@dataclass(frozen=True)
class ChartView:
    svg: Markup                  #: the picture, ready to place in the page
    notes: tuple[str, ...]       #: plain sentences saying what the picture shows
    has_learner: bool            #: False when no slope could be recovered from the learner's costs
    has_gaps: bool               #: some (not all) parameters have no slope, and are marked as such


def chart_view(data) -> ChartView | None:
    """The picture for one failed check, or None when the data is missing or malformed."""
    if not isinstance(data, dict):
        return None
    names = [str(n) for n in data.get("names") or ()]
    reference = _numbers(data.get("reference"))
    given = _numbers(data.get("given"))
    learner = _numbers(data.get("learner"))
    count = min(len(names), len(reference))
    if count == 0:
        return None
    names, reference = names[:count], reference[:count]
    given = (given + [None] * count)[:count]
    learner = (learner + [None] * count)[:count]
    groups = _groups(names)
    slot = (WIDTH - LEFT - RIGHT) / (count + GROUP_GAP * (len(groups) - 1))
    centres = _centres(groups, slot)

    finite_ref = [v for v in reference if _finite(v)]
    scale = max((abs(v) for v in finite_ref), default=0.0) or 1.0
    differences = [(i, learner[i] - reference[i]) for i in range(count)
                   if _finite(learner[i]) and _finite(reference[i])]
    tolerance = SAME * scale
    differing = [i for i, d in differences if abs(d) > tolerance]

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH:.0f} {HEIGHT:.0f}" role="img" '
             f'aria-label="slope per parameter from your costs, against the reference">']
    parts += _bands(groups, centres, slot)
    parts += _values_panel(reference, given, learner, centres, slot, mark_gaps=None in learner and
                           any(v is not None for v in learner))
    middle = (DIFF + DIFF_END) / 2
    if differing:
        parts += _difference_panel(differences, centres, slot, tolerance)
    else:
        words = "yours matches the reference" if differences else "no value of yours to compare"
        parts += [_zero_line(middle), _label((LEFT + WIDTH - RIGHT) / 2, middle - 8, words, "middle")]
    parts.append("</svg>")
    notes = _notes(names, groups, learner, differences, differing)
    has_learner = any(v is not None for v in learner)
    return ChartView(Markup("".join(parts)), tuple(notes), has_learner, has_learner and None in learner)


def _numbers(values) -> list:
    """Floats (NaN and infinity kept, to be marked) or None for gaps and anything unreadable."""
    out = []
    for value in values or ():
        if value is None or isinstance(value, bool):
            out.append(None)
            continue
        try:
            out.append(float(value))
        except (TypeError, ValueError):
            out.append(None)
    return out


def _finite(value) -> bool:
    """A value the picture can place: finite, and small enough that no sum or span of two overflows."""
    return value is not None and math.isfinite(value) and abs(value) < 1e150


def _groups(names: list) -> list:
    """(name, first index, how many) for each run of equal names: W1, b1, W2, b2, W3, b3."""
    groups = []
    for index, name in enumerate(names):
        if groups and groups[-1][0] == name:
            groups[-1][2] += 1
        else:
            groups.append([name, index, 1])
    return [tuple(g) for g in groups]


def _centres(groups: list, slot: float) -> list:
    centres = []
    for position, (_, first, size) in enumerate(groups):
        for offset in range(size):
            centres.append(LEFT + (first + offset + 0.5 + GROUP_GAP * position) * slot)
    return centres


def _f(value: float) -> str:
    """A coordinate: one decimal is plenty on a 600-unit canvas."""
    return f"{value:.1f}"


def _zero_line(y: float) -> str:
    return f'<line class="zero" x1="{_f(LEFT)}" x2="{_f(WIDTH - RIGHT)}" y1="{_f(y)}" y2="{_f(y)}"/>'


def _label(x: float, y: float, text: str, anchor: str = "end") -> str:
    """Small grey text; `text` is escaped here, so callers may pass anything."""
    return f'<text class="ax" x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}">{escape(text)}</text>'


def number(value: float) -> str:
    """An axis label: two significant digits (short enough for a phone), a plain 0 for zero."""
    if value == 0:
        return "0"
    return f"{value:.2g}"


def _bands(groups: list, centres: list, slot: float) -> list:
    parts = []
    for position, (name, first, size) in enumerate(groups):
        left = centres[first] - slot / 2
        width = size * slot
        parts.append(f'<rect class="band{position % 2}" x="{_f(left)}" y="{_f(TOP)}" width="{_f(width)}" '
                     f'height="{_f(DIFF_END - TOP)}"/>')
        parts.append(f'<text class="grp" x="{_f(left + width / 2)}" y="{_f(LABELS)}" text-anchor="middle">'
                     f'{escape(name)}</text>')
    return parts


def _scale(values: list) -> tuple:
    """(low, high) covering the values and zero, never empty."""
    low, high = min(values + [0.0]), max(values + [0.0])
    if high - low == 0:
        extent = abs(high) or 1.0
        low, high = low - extent, high + extent
    pad = (high - low) * 0.06
    return low - pad, high + pad


def _values_panel(reference: list, given: list, learner: list, centres: list, slot: float, mark_gaps: bool) -> list:
    finite = [v for v in reference + given + learner if _finite(v)]
    low, high = _scale(finite)

    def y(value: float) -> float:
        return TOP_END - (value - low) / (high - low) * (TOP_END - TOP)

    parts = [_zero_line(y(0))]
    for value, label_y in ((high, TOP + 10), (0.0, y(0) + 4), (low, TOP_END)):
        if value != 0.0 and abs(y(value) - y(0)) < 14:
            continue  # would print over the zero label
        parts.append(_label(LEFT - 5, label_y, number(value)))
    half = slot * 0.42
    for i, x in enumerate(centres):
        if _finite(reference[i]):
            parts.append(f'<line class="ref" x1="{_f(x - half)}" x2="{_f(x + half)}" y1="{_f(y(reference[i]))}" '
                         f'y2="{_f(y(reference[i]))}"/>')
        if _finite(given[i]):
            top = y(given[i]) - 3.2
            parts.append(f'<path class="given" d="M{_f(x)} {_f(top)}l3.2 3.2l-3.2 3.2l-3.2-3.2z"/>')
        value = learner[i]
        if value is None:
            if mark_gaps:  # a ring where the learner's slope would be, so a missing parameter stands out
                at = y(reference[i]) if _finite(reference[i]) else y(0)
                parts.append(f'<circle class="gap" cx="{_f(x)}" cy="{_f(at)}" r="5"/>')
            continue
        if _finite(value):
            parts.append(f'<circle class="you" cx="{_f(x)}" cy="{_f(y(value))}" r="3"/>')
        else:
            parts.append(f'<text class="nf" x="{_f(x)}" y="{_f(TOP + 12)}" text-anchor="middle">×</text>')
    return parts


def _difference_panel(differences: list, centres: list, slot: float, tolerance: float) -> list:
    largest = max(max(abs(d) for _, d in differences), tolerance)
    middle = (DIFF + DIFF_END) / 2
    reach = (DIFF_END - DIFF) / 2 - 3
    parts = [_zero_line(middle), _label(LEFT - 5, DIFF + 9, "+" + number(largest)), _label(LEFT - 5, middle + 4, "0"),
             _label(LEFT - 5, DIFF_END, "−" + number(largest))]
    width = max(slot * 0.6, 1.0)
    for i, d in differences:
        height = abs(d) / largest * reach
        if height < 0.3:
            continue
        top = middle - height if d > 0 else middle
        parts.append(f'<rect class="diff" x="{_f(centres[i] - width / 2)}" y="{_f(top)}" width="{_f(width)}" '
                     f'height="{_f(height)}"/>')
    return parts


def _notes(names: list, groups: list, learner: list, differences: list, differing: list) -> list:
    count = len(names)
    notes = []
    gaps = sum(v is None for v in learner)
    broken = sum(v is not None and not _finite(v) for v in learner)
    if gaps == count:
        notes.append("No slope could be recovered from your costs: no call to forward_propagation_n moved exactly "
                     "one parameter by ±ε, so only the reference and the gradient being checked are drawn.")
    elif gaps:
        notes.append(f"For {gaps} of {count} parameters no slope could be recovered (no call moved exactly that "
                     f"parameter by ±ε); they are marked with a dashed ring.")
    if broken:
        notes.append(f"{broken} of your values were not finite numbers (NaN, infinity or far too large); they "
                     f"are marked × at the top.")
    if differences and not differing:
        notes.append("The slope from your costs matches the reference at every parameter where it could be "
                     "recovered. The chart cannot see what your code computes from those costs afterwards.")
    elif differing:
        where = sorted({names[i] for i in differing}, key=[g[0] for g in groups].index)
        spread = "every parameter" if len(differing) == count else f"{len(differing)} of {count} parameters"
        notes.append(f"The slope from your costs differs from the reference at {spread}, in {', '.join(where)}.")
    return notes
