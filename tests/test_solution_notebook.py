import ast
import re
import shutil

import nbformat
import numpy as np
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

from grader.provided import (ASSIGNMENT_DIR, dictionary_to_vector, forward_propagation_n,  # noqa: F401
                             gradients_to_vector, vector_to_dictionary)
from grader.release import SOLUTION_PATH
from solutions import reference
from solutions.reference import backward_propagation, forward_propagation  # noqa: F401 (found by the variants)

import public_tests  # importable once grader.provided has put assignment/ on sys.path  # noqa: E402

PASSED = "All tests passed."


# ---------------------------------------------------------------- the notebook, run once


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """Run the solution notebook top to bottom in a copy of assignment/; map cell id -> its stdout."""
    workdir = tmp_path_factory.mktemp("assignment")
    shutil.copytree(ASSIGNMENT_DIR, workdir, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    nb = nbformat.read(str(SOLUTION_PATH), as_version=4)
    # No kernel directories: only ipykernel's built-in "python3" spec is left, and it starts
    # sys.executable (this venv's python), whatever kernels the machine has installed.
    specs = KernelSpecManager(kernel_dirs=[])
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs)
    NotebookClient(nb, km=km, timeout=120, resources={"metadata": {"path": str(workdir)}}).execute()
    return {cell.id: "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")
            for cell in nb.cells if cell.cell_type == "code"}


def printed_difference(text, message):
    match = re.search(re.escape(message) + r" difference = (\S+)", text)
    assert match, f"{message!r} not printed; got {text!r}"
    return float(match.group(1))


def test_forward_example_prints_J_equals_8(printed):
    assert "J = 8\n" in printed["forward-propagation-example"]


def test_backward_example_prints_dtheta_equals_3(printed):
    assert "dtheta = 3\n" in printed["backward-propagation-example"]


def test_gradient_check_example_prints_the_v1_1_difference(printed):
    text = printed["gradient-check-example"]
    difference = printed_difference(text, "Your backward propagation works perfectly fine!")
    assert difference == pytest.approx(7.814075313343006e-11, rel=1e-6)


def test_gradient_check_n_example_finds_the_planted_bugs(printed):
    text = printed["gradient-check-n-example"]
    difference = printed_difference(text, "There is a mistake in the backward propagation!")
    assert difference == pytest.approx(0.2850931567761623, rel=1e-6)


@pytest.mark.parametrize("cell_id", ["forward-propagation-example", "backward-propagation-example",
                                     "gradient-check-example", "gradient-check-n-example"])
def test_public_tests_pass_in_the_notebook(printed, cell_id):
    assert PASSED in printed[cell_id]


# ---------------------------------------------------------------- public tests, in process


def reference_gradient_check(x, theta, epsilon=1e-7, print_msg=False):
    # The lambdas look the helpers up at call time, so the probes the public test swaps in are used.
    difference = reference.gradient_check(x, theta, epsilon,
                                          forward=lambda x, theta: forward_propagation(x, theta),
                                          backward=lambda x, theta: backward_propagation(x, theta))
    return report(difference, print_msg)


def reference_gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):
    difference = reference.gradient_check_n(parameters, gradients, X, Y, epsilon,
                                            forward=lambda *args: forward_propagation_n(*args))
    return report(difference, print_msg)


def report(difference, print_msg):
    if print_msg:
        verdict = ("There is a mistake in the backward propagation!" if difference > 2e-7
                   else "Your backward propagation works perfectly fine!")
        print(f"{verdict} difference = {difference}")
    return difference


@pytest.mark.parametrize("test, target", [
    (public_tests.forward_propagation_test, reference.forward_propagation),
    (public_tests.backward_propagation_test, reference.backward_propagation),
    (public_tests.gradient_check_test, reference_gradient_check),
    (public_tests.gradient_check_n_test, reference_gradient_check_n),
], ids=["forward_propagation", "backward_propagation", "gradient_check", "gradient_check_n"])
def test_public_tests_pass_on_the_reference(test, target, capsys):
    test(target)
    assert PASSED in capsys.readouterr().out


# ---------------------------------------------------------------- wrong variants
# Tiny versions of mistakes from ASSIGNMENT.md; each public test must reject at least one.


def forward_adds(x, theta):
    return theta + x


def backward_returns_theta(x, theta):
    return theta


def gc_one_sided(x, theta, epsilon=1e-7, print_msg=False):
    gradapprox = (forward_propagation(x, theta + epsilon) - forward_propagation(x, theta)) / epsilon
    grad = backward_propagation(x, theta)
    return report(float(abs(grad - gradapprox) / (abs(grad) + abs(gradapprox))), print_msg)


def gc_missing_two(x, theta, epsilon=1e-7, print_msg=False):
    gradapprox = (forward_propagation(x, theta + epsilon) - forward_propagation(x, theta - epsilon)) / epsilon
    grad = backward_propagation(x, theta)
    return report(float(abs(grad - gradapprox) / (abs(grad) + abs(gradapprox))), print_msg)


def gc_grad_is_gradapprox(x, theta, epsilon=1e-7, print_msg=False):
    gradapprox = (forward_propagation(x, theta + epsilon) - forward_propagation(x, theta - epsilon)) / (2 * epsilon)
    grad = gradapprox
    return report(float(abs(grad - gradapprox) / (abs(grad) + abs(gradapprox))), print_msg)


def gc_inlines_J(x, theta, epsilon=1e-7, print_msg=False):
    gradapprox = ((theta + epsilon) * x - (theta - epsilon) * x) / (2 * epsilon)
    grad = x
    return report(float(abs(grad - gradapprox) / (abs(grad) + abs(gradapprox))), print_msg)


def gc_ignores_epsilon(x, theta, epsilon=1e-7, print_msg=False):
    return reference_gradient_check(x, theta, 1e-7, print_msg)


def gc_returns_array(x, theta, epsilon=1e-7, print_msg=False):
    gradapprox = (forward_propagation(x, theta + epsilon) - forward_propagation(x, theta - epsilon)) / (2 * epsilon)
    grad = np.atleast_1d(backward_propagation(x, theta))
    numerator = np.linalg.norm(grad - gradapprox, axis=0, keepdims=True)
    return numerator / (np.linalg.norm(grad, axis=0, keepdims=True) + np.abs(gradapprox))


def gcn_variant(one_sided=False, alias_minus=False, two=2, grad_is_gradapprox=False, as_array=False):
    def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):
        theta, _ = dictionary_to_vector(parameters)
        grad = gradients_to_vector(gradients)
        gradapprox = np.zeros(theta.shape)
        for i in range(theta.shape[0]):
            theta_plus = np.copy(theta)
            theta_plus[i, 0] += epsilon
            J_plus, _ = forward_propagation_n(X, Y, vector_to_dictionary(theta_plus))
            if one_sided:
                J_minus, _ = forward_propagation_n(X, Y, vector_to_dictionary(theta))
                gradapprox[i, 0] = (J_plus - J_minus) / epsilon
                continue
            theta_minus = theta if alias_minus else np.copy(theta)
            theta_minus[i, 0] -= epsilon
            J_minus, _ = forward_propagation_n(X, Y, vector_to_dictionary(theta_minus))
            gradapprox[i, 0] = (J_plus - J_minus) / (two * epsilon)
        if grad_is_gradapprox:
            grad = gradapprox
        norm = (lambda v: np.linalg.norm(v, axis=0)) if as_array else np.linalg.norm
        difference = norm(grad - gradapprox) / (norm(grad) + norm(gradapprox))
        return report(difference if as_array else float(difference), print_msg)
    return gradient_check_n


@pytest.mark.parametrize("test, wrong", [
    (public_tests.forward_propagation_test, forward_adds),
    (public_tests.backward_propagation_test, backward_returns_theta),
    (public_tests.gradient_check_test, gc_one_sided),
    (public_tests.gradient_check_test, gc_missing_two),
    (public_tests.gradient_check_test, gc_grad_is_gradapprox),
    (public_tests.gradient_check_test, gc_inlines_J),
    (public_tests.gradient_check_test, gc_ignores_epsilon),
    (public_tests.gradient_check_test, gc_returns_array),
    (public_tests.gradient_check_n_test, gcn_variant(one_sided=True)),
    (public_tests.gradient_check_n_test, gcn_variant(alias_minus=True)),
    (public_tests.gradient_check_n_test, gcn_variant(two=1)),
    (public_tests.gradient_check_n_test, gcn_variant(grad_is_gradapprox=True)),
    (public_tests.gradient_check_n_test, gcn_variant(as_array=True)),
], ids=["forward_theta_plus_x", "backward_returns_theta", "one_sided_difference", "missing_2_in_2_epsilon",
        "grad_equals_gradapprox", "inlines_J_instead_of_calling_helpers", "ignores_epsilon",
        "returns_shape_1_array", "n_one_sided_difference", "n_theta_minus_aliased_without_copy",
        "n_missing_2_in_2_epsilon", "n_grad_equals_gradapprox", "n_returns_shape_1_array"])
def test_public_test_rejects_mistake(test, wrong, capsys):
    with pytest.raises(AssertionError) as failure:
        test(wrong)
    assert PASSED not in capsys.readouterr().out
    assert len(str(failure.value)) > 40, "the failure message should tell the learner what to look at"


def test_public_tests_put_the_swapped_helpers_back():
    helpers = {name: globals()[name] for name in ("forward_propagation", "backward_propagation", "forward_propagation_n")}
    with pytest.raises(AssertionError):
        public_tests.gradient_check_test(gc_one_sided)
    with pytest.raises(AssertionError):
        public_tests.gradient_check_n_test(gcn_variant(one_sided=True))
    assert {name: globals()[name] for name in helpers} == helpers


def test_public_tests_import_nothing_from_solutions_or_grader():
    tree = ast.parse((ASSIGNMENT_DIR / "public_tests.py").read_text(encoding="utf-8"))
    modules = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    modules += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [m for m in modules if m.split(".")[0] in {"solutions", "grader"}]
