"""Writer: the staff dashboard (OUT/index.html), built from the gradebook by aggregate queries.

Every number comes from SQL over the gradebook, so the page costs the same memory for ten
submissions or ten thousand, and it can be rebuilt at any time without grading. The template
gets a finished view model: chart geometry is worked out here, the template only loops.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path


from grader.export import write_atomic
from grader.notebook import GRADED
from grader.provided import PROJECT_DIR
from grader.templating import environment, points

#: how a learner call can end that stops the function altogether: listed for staff to look at
TROUBLE_OUTCOMES = {"timeout": "timed out", "crashed": "crashed", "exited": "exited the process",
                    "killed": "killed (memory or processes)", "cpu": "ran out of CPU time", "memory": "ran out of memory",
                    "protocol": "wrote into the grader's channel"}
#: rows shown in the "needs a look" list; the page says how many more there are
LIST_LIMIT = 40
MISTAKES_SHOWN = 12
EXAMPLES_PER_MISTAKE = 3
SLOWEST_SHOWN = 10
BINS = 10
#: the histogram's drawing area, in SVG user units (the SVG scales to the page): room for the counts above
#: the bars, the bars, and the score labels below them
CHART_WIDTH, CHART_HEADROOM, CHART_HEIGHT, CHART_FOOT = 600, 16, 180, 30
_BASELINE = CHART_HEADROOM + CHART_HEIGHT


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str               #: the score range, e.g. 45–50
    middle: float            #: where the count is written above the bar
    above: float


@dataclass(frozen=True)
class Rate:
    """A pass rate: how many of how many passed."""
    label: str
    function: str
    passed: int
    total: int
    mean: float = 0.0        #: mean points, for functions
    max_score: float = 0.0

    @property
    def share(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def bar(self) -> float:
        """Length of the pass-rate bar, out of 100."""
        return round(100 * self.share, 1)


@dataclass(frozen=True)
class Mistake:
    hint_id: str
    title: str
    function: str
    count: int               #: submissions where the fingerprint matched
    share: float             #: of the readable submissions
    examples: tuple          #: a few students whose report shows it

    @property
    def bar(self) -> float:
        return round(100 * self.share, 1)


@dataclass(frozen=True)
class Trouble:
    student: str
    what: str
    message: str
    source: str


@dataclass(frozen=True)
class Slow:
    student: str
    duration: float
    score: float
    max_score: float


@dataclass(frozen=True)
class Dashboard:
    generated_at: str
    versions: str
    count: int
    readable: int
    mean: float
    median: float
    max_score: float
    full_marks: int
    unreadable: int
    errors: int
    histogram: tuple
    axis: tuple              #: (x, label) at the bins' edges, under the histogram
    view_box: str            #: the histogram's SVG viewBox, with a margin for the end labels
    axis_y: int
    functions: tuple
    checks: tuple
    mistakes: tuple
    trouble_counts: tuple    #: (what, submissions)
    trouble: tuple
    trouble_more: int        #: rows left out of the list
    slowest: tuple


def build(db) -> Dashboard:
    """The dashboard's model, from aggregate queries only."""
    count, mean, max_score, full, versions = db.execute(
        "SELECT COUNT(*), COALESCE(AVG(score), 0), COALESCE(MAX(max_score), 0), "
        "COALESCE(SUM(score >= max_score - 1e-9), 0), COALESCE(GROUP_CONCAT(DISTINCT grader_version), '') "
        "FROM submissions").fetchone()
    statuses = dict(db.execute("SELECT status, COUNT(*) FROM submissions GROUP BY status").fetchall())
    readable = count - statuses.get("unreadable", 0)
    histogram, axis = _histogram(db, max_score)
    trouble, trouble_more = _trouble(db)
    return Dashboard(
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), versions=versions, count=count,
        readable=readable, mean=mean, median=_median(db, count), max_score=max_score, full_marks=full,
        unreadable=statuses.get("unreadable", 0), errors=statuses.get("error", 0), histogram=histogram, axis=axis,
        view_box=f"-16 0 {CHART_WIDTH + 32} {_BASELINE + CHART_FOOT}", axis_y=_BASELINE + 20, functions=_functions(db),
        checks=_checks(db), mistakes=_mistakes(db, readable), trouble_counts=_trouble_counts(db, statuses),
        trouble=trouble, trouble_more=trouble_more, slowest=_slowest(db))


def _median(db, count: int) -> float:
    if not count:
        return 0.0
    middle = [row[0] for row in db.execute("SELECT score FROM submissions ORDER BY score LIMIT ? OFFSET ?",
                                           (2 - count % 2, (count - 1) // 2))]
    return sum(middle) / len(middle)


def _histogram(db, max_score: float) -> tuple[tuple, tuple]:
    """BINS equal score ranges; a full mark falls in the last one."""
    if max_score <= 0:
        return (), ()
    counts = [0] * BINS
    query = "SELECT MIN(CAST(score * ? / max_score AS INTEGER), ?), COUNT(*) FROM submissions WHERE max_score > 0 GROUP BY 1"
    for index, number in db.execute(query, (BINS, BINS - 1)):
        counts[max(0, int(index))] += number
    tallest = max(counts) or 1
    step = CHART_WIDTH / BINS
    width = max(max_score / BINS, 0)
    bars = []
    for index, number in enumerate(counts):
        height = CHART_HEIGHT * number / tallest
        label = f"{points(index * width)}–{points((index + 1) * width)}"
        top = _BASELINE - height
        bars.append(Bar(round(index * step + 2, 2), round(top, 2), round(step - 4, 2), round(height, 2), number, label,
                        round(index * step + step / 2, 2), round(top - 4, 2)))
    axis = [(round(index * step, 2), points(index * width)) for index in range(BINS + 1)]
    return tuple(bars), tuple(axis)


def _functions(db) -> tuple:
    rows = {name: (passed, total, mean, maximum) for name, passed, total, mean, maximum in db.execute(
        "SELECT f.function, SUM(f.status = 'passed'), COUNT(*), AVG(f.score), MAX(f.max_score) "
        "FROM functions f JOIN submissions s ON s.student = f.student WHERE s.status <> 'unreadable' "
        "GROUP BY f.function")}
    order = list(GRADED) + sorted(set(rows) - set(GRADED))
    return tuple(Rate(name, name, *rows[name]) for name in order if name in rows)


def _checks(db) -> tuple:
    """Every check's pass rate, the hardest first."""
    rows = db.execute("SELECT function, name, MIN(title), SUM(status = 'passed'), COUNT(*) FROM checks "
                      "GROUP BY function, name ORDER BY 1.0 * SUM(status = 'passed') / COUNT(*), function, name")
    return tuple(Rate(title, function, passed, total) for function, name, title, passed, total in rows)


def _mistakes(db, readable: int) -> tuple:
    """The fingerprints seen most often, with the mistake's title and a few example reports."""
    known = _known_mistakes()
    rows = db.execute("SELECT hint_id, MIN(function), COUNT(DISTINCT student) AS n FROM checks WHERE hint_id <> '' "
                      "GROUP BY hint_id ORDER BY n DESC, hint_id LIMIT ?", (MISTAKES_SHOWN,)).fetchall()
    found = []
    for hint_id, function, number in rows:
        examples = tuple(row[0] for row in db.execute(
            "SELECT DISTINCT student FROM checks WHERE hint_id = ? ORDER BY student LIMIT ?",
            (hint_id, EXAMPLES_PER_MISTAKE)))
        mistake = known.get(hint_id)
        found.append(Mistake(hint_id, mistake.title if mistake else hint_id, mistake.function if mistake else function,
                             number, number / readable if readable else 0.0, examples))
    return tuple(found)


def _known_mistakes() -> dict:
    """solutions.mistakes, by id (staff code: the grader process may read it, learner code never runs here)."""
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    from solutions.mistakes import MISTAKES
    return {m.id: m for m in MISTAKES}


def _trouble_counts(db, statuses: dict) -> tuple:
    kinds = tuple(TROUBLE_OUTCOMES)
    marks = ", ".join("?" * len(kinds))
    per_outcome = dict(db.execute(f"SELECT outcome, COUNT(DISTINCT student) FROM checks WHERE outcome IN ({marks}) "
                                  f"GROUP BY outcome", kinds).fetchall())
    counts = [(TROUBLE_OUTCOMES[kind], per_outcome[kind]) for kind in kinds if per_outcome.get(kind)]
    if statuses.get("unreadable"):
        counts.append(("could not be read", statuses["unreadable"]))
    if statuses.get("error"):
        counts.append(("grader error", statuses["error"]))
    return tuple(counts)


def _trouble(db) -> tuple[tuple, int]:
    """Grader errors first (staff must act), then learner code that hung, crashed or exited, then unreadable files."""
    kinds = tuple(TROUBLE_OUTCOMES)
    marks = ", ".join("?" * len(kinds))
    query = (
        "SELECT student, what, message, path FROM ("
        "  SELECT s.student, CASE s.status WHEN 'unreadable' THEN 'could not be read' ELSE 'grader error' END AS what,"
        "         s.error AS message, s.path, CASE s.status WHEN 'error' THEN 0 ELSE 2 END AS rank"
        "  FROM submissions s WHERE s.status <> 'graded'"
        "  UNION ALL"
        f" SELECT c.student, c.function || ': ' || c.outcome, MIN(c.message), s.path, 1 FROM checks c"
        f" JOIN submissions s ON s.student = c.student WHERE c.outcome IN ({marks})"
        "  GROUP BY c.student, c.function, c.outcome"
        ") ORDER BY rank, student, what LIMIT ?")
    rows = db.execute(query, (*kinds, LIST_LIMIT + 1)).fetchall()
    shown = tuple(Trouble(student, what, message or "a check failed inside the grader: staff must look", source)
                  for student, what, message, source in rows[:LIST_LIMIT])
    more = 0
    if len(rows) > LIST_LIMIT:
        total = db.execute(
            "SELECT (SELECT COUNT(*) FROM submissions WHERE status <> 'graded') + (SELECT COUNT(*) FROM "
            f"(SELECT 1 FROM checks WHERE outcome IN ({marks}) GROUP BY student, function, outcome))", kinds).fetchone()[0]
        more = total - LIST_LIMIT
    return shown, more


def _slowest(db) -> tuple:
    return tuple(Slow(*row) for row in db.execute(
        "SELECT student, duration, score, max_score FROM submissions ORDER BY duration DESC, student LIMIT ?",
        (SLOWEST_SHOWN,)))


def render_dashboard(db) -> str:
    return environment().get_template("dashboard.html.j2").render(board=build(db))


def write_dashboard(db, out: Path) -> Path:
    path = out / "index.html"
    write_atomic(path, render_dashboard(db))
    return path
