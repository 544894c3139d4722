"""Correct implementations, however written, get full marks (the sources live in solutions/variants.py)."""
import pytest

from grader.grade import grade_many
from grader.synth import make_notebook, write_notebook
from solutions.mistakes import CORRECT
from solutions.variants import VARIANTS


@pytest.fixture(scope="module")
def graded(tmp_path_factory, forkserver):
    folder = tmp_path_factory.mktemp("variants")
    inputs = []
    for variant in VARIANTS:
        notebook = make_notebook(dict(CORRECT, **{variant.function: variant.source}), release=variant.release)
        inputs.append((write_notebook(folder / f"{variant.id}.ipynb", notebook), variant.id))
    results = {}
    grade_many(inputs, lambda r: results.__setitem__(r.submission, r), forkserver)
    return results


def test_variant_ids_are_unique():
    ids = [variant.id for variant in VARIANTS]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.id for v in VARIANTS])
def test_correct_variant_gets_full_marks(graded, variant):
    result = graded[variant.id]
    lost = {c.label: c.message for f in result.functions for c in f.checks if c.status.value != "passed"}
    assert result.score == result.max_score, lost
