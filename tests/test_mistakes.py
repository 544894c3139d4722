"""Every known learner mistake loses points on its own function, and only there; each gets its hint."""
import pytest

from grader.grade import grade_many
from grader.result import FunctionStatus
from grader.synth import make_notebook, write_notebook
from solutions.mistakes import CORRECT, MISTAKES


@pytest.fixture(scope="module")
def graded(tmp_path_factory, forkserver):
    folder = tmp_path_factory.mktemp("mistakes")
    inputs = []
    for mistake in MISTAKES:
        sources = dict(CORRECT, **{mistake.function: mistake.source})
        inputs.append((write_notebook(folder / f"{mistake.id}.ipynb", make_notebook(sources)), mistake.id))
    results = {}
    grade_many(inputs, lambda r: results.__setitem__(r.submission, r), forkserver)
    return results


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.id for m in MISTAKES])
def test_mistake_is_caught(graded, mistake):
    result = graded[mistake.id]
    wrong = result.function(mistake.function)
    assert wrong.score < wrong.max_score, f"{mistake.id} kept full marks"
    assert wrong.status in (FunctionStatus.PARTIAL, FunctionStatus.FAILED)
    for other in result.functions:
        if other.name != mistake.function:
            assert other.score == other.max_score, f"{mistake.id} cost {other.name} points"


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.id for m in MISTAKES])
def test_mistake_gets_its_hint(graded, mistake):
    checks = graded[mistake.id].function(mistake.function).checks
    hinted = {c.hint_id for c in checks if c.hint_id}
    if mistake.id.endswith("array_result"):
        assert any("plain float" in c.message for c in checks)
    else:
        assert (mistake.same_as or mistake.id) in hinted, f"hints given: {hinted or 'none'}"
