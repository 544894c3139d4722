"""Known learner mistakes, each written as one edit to a correct learner-style solution.

One representation serves three uses: tests build notebooks from these sources (every
mistake must lose points), the hints compare a learner's wrong answer with each
mistake's answer on the same input (a fingerprint), and `gcgrade selfcheck` prints
which check catches which mistake.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from grader import provided

#: correct solutions in the style of the course notebook; mistakes are edits of these
CORRECT = {
    "forward_propagation": '''
def forward_propagation(x, theta):
    J = theta * x
    return J
''',
    "backward_propagation": '''
def backward_propagation(x, theta):
    dtheta = x
    return dtheta
''',
    "gradient_check": '''
def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
    theta_plus = theta + epsilon
    theta_minus = theta - epsilon
    J_plus = forward_propagation(x, theta_plus)
    J_minus = forward_propagation(x, theta_minus)
    gradapprox = (J_plus - J_minus) / (2 * epsilon)
    grad = backward_propagation(x, theta)
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    difference = numerator / denominator
    if print_msg:
        print("difference = " + str(difference))
    return difference
''',
    "gradient_check_n": '''
def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):
    parameters_values, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    num_parameters = parameters_values.shape[0]
    J_plus = np.zeros((num_parameters, 1))
    J_minus = np.zeros((num_parameters, 1))
    gradapprox = np.zeros((num_parameters, 1))
    for i in range(num_parameters):
        theta_plus = np.copy(parameters_values)
        theta_plus[i] = theta_plus[i] + epsilon
        J_plus[i], _ = forward_propagation_n(X, Y, vector_to_dictionary(theta_plus))
        theta_minus = np.copy(parameters_values)
        theta_minus[i] = theta_minus[i] - epsilon
        J_minus[i], _ = forward_propagation_n(X, Y, vector_to_dictionary(theta_minus))
        gradapprox[i] = (J_plus[i] - J_minus[i]) / (2 * epsilon)
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    difference = numerator / denominator
    if print_msg:
        print("difference = " + str(difference))
    return difference
''',
}

_SECTION_1D = "section 2, 1-dimensional gradient checking"
_SECTION_ND = "section 3, N-dimensional gradient checking"


@dataclass(frozen=True)
class Mistake:
    id: str          #: stable identifier, used in tests, the dashboard and selfcheck
    function: str
    title: str       #: the mistake in a few words
    hint: str        #: what a learner should look at (said as "likely", never as certain)
    edits: tuple     #: (old, new) text replacements applied to CORRECT[function]
    same_as: str = ""  #: another mistake that gives exactly the same answers, so shares its hint

    @property
    def source(self) -> str:
        text = CORRECT[self.function]
        for old, new in self.edits:
            if old not in text:
                raise ValueError(f"mistake {self.id}: {old!r} is not in the correct solution")
            text = text.replace(old, new)
        return text

    def compile(self, helpers: dict | None = None):
        """The mistaken function, runnable in the grader (staff code, trusted)."""
        return compile_function(self.function, self.source, helpers)


def compile_function(name: str, source: str, helpers: dict | None = None):
    space = {"np": np, **{k: getattr(provided, k) for k in (
        "dictionary_to_vector", "vector_to_dictionary", "gradients_to_vector", "forward_propagation_n",
        "backward_propagation_n", "sigmoid", "relu")}}
    space.update(helpers or {})
    exec(_code(name, source), space)
    return space[name]


@functools.lru_cache(maxsize=512)
def _code(name: str, source: str):
    """Compiled once: the hints try every mistake on many submissions."""
    return compile(source, f"<{name}>", "exec")


def _m(id, function, title, hint, *edits, same_as=""):
    return Mistake(id, function, title, hint, tuple(edits), same_as)


_GC, _GCN = "gradient_check", "gradient_check_n"
_CENTRED_1D = "(J_plus - J_minus) / (2 * epsilon)"
_CENTRED_ND = "(J_plus[i] - J_minus[i]) / (2 * epsilon)"
MISTAKES = (
    _m("forward_returns_x", "forward_propagation", "J returns x instead of theta * x",
       "J(theta) is theta * x; your function likely returns only one of the two factors.", ("theta * x", "x")),
    _m("forward_adds", "forward_propagation", "J adds instead of multiplying",
       "J(theta) is the product theta * x; your function likely adds them.", ("theta * x", "theta + x")),
    _m("backward_returns_theta", "backward_propagation", "dtheta returns theta instead of x",
       "The derivative of theta * x with respect to theta is x; your function likely returns theta.",
       ("dtheta = x", "dtheta = theta")),
    _m("backward_returns_J", "backward_propagation", "dtheta returns J",
       "dtheta is the derivative of J, not J itself: likely theta * x where x alone was meant.",
       ("dtheta = x", "dtheta = theta * x")),
    _m("missing_two", _GC, "the 2 in 2ε is missing",
       f"Likely the centred difference divides by ε instead of 2ε ({_SECTION_1D}, step 5).",
       (_CENTRED_1D, "(J_plus - J_minus) / epsilon")),
    _m("precedence", _GC, "(J⁺ − J⁻) / 2 * ε",
       "Likely an operator-precedence slip: `/ 2 * epsilon` multiplies by ε. Put 2 * epsilon in parentheses.",
       (_CENTRED_1D, "(J_plus - J_minus) / 2 * epsilon")),
    _m("one_sided", _GC, "one-sided difference",
       f"Likely a one-sided difference (J(θ+ε) − J(θ)) / ε; the assignment asks for the centred one, "
       f"(J(θ+ε) − J(θ−ε)) / 2ε ({_SECTION_1D}).",
       ("J_minus = forward_propagation(x, theta_minus)", "J_minus = forward_propagation(x, theta)"),
       (_CENTRED_1D, "(J_plus - J_minus) / epsilon")),
    _m("grad_is_gradapprox", _GC, "grad = gradapprox",
       "Likely grad is set to gradapprox, so the check compares the approximation with itself and can never "
       "fail. grad must come from backward_propagation(x, theta).",
       ("grad = backward_propagation(x, theta)", "grad = gradapprox")),
    _m("inlined_J", _GC, "J written out instead of calling forward_propagation",
       "Likely J is computed inline (theta * x) instead of calling forward_propagation, so the check cannot "
       "notice when forward_propagation changes.",
       ("forward_propagation(x, theta_plus)", "theta_plus * x"), ("forward_propagation(x, theta_minus)", "theta_minus * x")),
    _m("inlined_grad", _GC, "gradient written out instead of calling backward_propagation",
       "Likely the gradient is written inline (grad = x) instead of calling backward_propagation, so a broken "
       "backward pass would go unnoticed, which is the whole point of the check.",
       ("grad = backward_propagation(x, theta)", "grad = x")),
    _m("inlined_everything", _GC, "J and its gradient both written out",
       "Likely J and the gradient are both written inline (theta * x and x) instead of calling forward_propagation "
       "and backward_propagation, so the check always reports the same thing and tests nothing.",
       ("forward_propagation(x, theta_plus)", "theta_plus * x"), ("forward_propagation(x, theta_minus)", "theta_minus * x"),
       ("grad = backward_propagation(x, theta)", "grad = x")),
    _m("magnitudes_only", _GC, "compares |grad| with |gradapprox|",
       "Likely absolute values are taken before subtracting, so a gradient with the wrong sign looks correct. "
       "Subtract first: ‖grad − gradapprox‖₂.",
       ("np.linalg.norm(grad - gradapprox)", "np.abs(np.abs(grad) - np.abs(gradapprox))")),
    _m("perturb_x", _GC, "x perturbed instead of θ",
       "Likely ε is added to x rather than to θ: the gradient is with respect to the parameter θ.",
       ("forward_propagation(x, theta_plus)", "forward_propagation(x + epsilon, theta)"),
       ("forward_propagation(x, theta_minus)", "forward_propagation(x - epsilon, theta)")),
    _m("swapped_arguments", _GC, "arguments of forward_propagation swapped",
       "Likely forward_propagation is called as (theta, x); its signature is forward_propagation(x, theta).",
       ("forward_propagation(x, theta_plus)", "forward_propagation(theta_plus, x)"),
       ("forward_propagation(x, theta_minus)", "forward_propagation(theta_minus, x)")),
    _m("wrong_denominator", _GC, "denominator ‖grad + gradapprox‖",
       "Likely the denominator is the norm of the sum; it should be the sum of the two norms, "
       "‖grad‖₂ + ‖gradapprox‖₂.",
       ("np.linalg.norm(grad) + np.linalg.norm(gradapprox)", "np.linalg.norm(grad + gradapprox)")),
    _m("fixed_epsilon", _GC, "ε fixed at 1e-7 instead of the argument",
       "Likely a hard-coded 1e-7 replaces the epsilon argument; use the epsilon your function receives.",
       ("theta + epsilon", "theta + 1e-7"), ("theta - epsilon", "theta - 1e-7"), (_CENTRED_1D, "(J_plus - J_minus) / (2 * 1e-7)")),
    _m("array_result", _GC, "returns an array, not a float",
       "Likely a norm taken with keepdims or axis, which returns an array; the difference must be a float.",
       ("difference = numerator / denominator", "difference = np.array([numerator / denominator])")),
    _m("nd_minus_from_plus", _GCN, "θ⁻ built from θ⁺",
       f"Likely theta_minus starts from theta_plus (or both share one array), so J⁻ is J(θ) and the difference "
       f"is one-sided and halved. Start both from a fresh copy of parameters_values ({_SECTION_ND}).",
       ("theta_minus = np.copy(parameters_values)", "theta_minus = np.copy(theta_plus)")),
    _m("nd_no_copy", _GCN, "no copy: θ⁺ and θ⁻ alias the parameter vector",
       "Likely theta_plus and theta_minus are the parameter vector itself (no np.copy), so each change "
       "undoes or leaks into the other. Use np.copy(parameters_values) for each.",
       ("theta_plus = np.copy(parameters_values)", "theta_plus = parameters_values"),
       ("theta_minus = np.copy(parameters_values)", "theta_minus = parameters_values"), same_as="nd_minus_from_plus"),
    _m("nd_alias_minus", _GCN, "a copy for θ⁺ only, θ⁻ aliased",
       "Likely theta_minus is the parameter vector itself, not a copy: every step shifts the parameters by ε "
       "for good. It barely shows with ε = 1e-7 but does with a larger ε. Use np.copy for theta_minus too.",
       ("theta_minus = np.copy(parameters_values)", "theta_minus = parameters_values")),
    _m("nd_missing_two", _GCN, "the 2 in 2ε is missing",
       f"Likely gradapprox divides by ε instead of 2ε ({_SECTION_ND}).", (_CENTRED_ND, "(J_plus[i] - J_minus[i]) / epsilon")),
    _m("nd_precedence", _GCN, "(J⁺ − J⁻) / 2 * ε",
       "Likely an operator-precedence slip: `/ 2 * epsilon` multiplies by ε. Put 2 * epsilon in parentheses.",
       (_CENTRED_ND, "(J_plus[i] - J_minus[i]) / 2 * epsilon")),
    _m("nd_one_sided", _GCN, "one-sided difference",
       "Likely a one-sided difference (J(θ+ε) − J(θ)) / ε: correct-looking with ε = 1e-7, visibly off with a "
       "larger ε. Use the centred difference with θ⁻.",
       ("vector_to_dictionary(theta_minus)", "vector_to_dictionary(parameters_values)"),
       (_CENTRED_ND, "(J_plus[i] - J_minus[i]) / epsilon")),
    _m("nd_perturb_X", _GCN, "X perturbed as well",
       "Likely ε is also added to the input X; only the parameter vector θ is perturbed.",
       ("forward_propagation_n(X, Y, vector_to_dictionary(theta_plus))", "forward_propagation_n(X + epsilon, Y, vector_to_dictionary(theta_plus))"),
       ("forward_propagation_n(X, Y, vector_to_dictionary(theta_minus))", "forward_propagation_n(X - epsilon, Y, vector_to_dictionary(theta_minus))")),
    _m("nd_unperturbed_forward", _GCN, "the perturbed vector never reaches the forward pass",
       "Likely forward_propagation_n receives the original parameters instead of vector_to_dictionary(theta_plus) "
       "/ (theta_minus), so J⁺ = J⁻ and gradapprox is all zeros.",
       ("vector_to_dictionary(theta_plus)", "parameters"), ("vector_to_dictionary(theta_minus)", "parameters")),
    _m("nd_wrong_denominator", _GCN, "denominator ‖grad + gradapprox‖",
       "Likely the denominator is the norm of the sum; it should be ‖grad‖₂ + ‖gradapprox‖₂.",
       ("np.linalg.norm(grad) + np.linalg.norm(gradapprox)", "np.linalg.norm(grad + gradapprox)")),
    _m("nd_l1_norm", _GCN, "sums of absolute values instead of L2 norms",
       "Likely sums of absolute values (an L1 norm) stand where the L2 norm np.linalg.norm belongs.",
       ("np.linalg.norm(grad - gradapprox)", "np.sum(np.abs(grad - gradapprox))"),
       ("np.linalg.norm(grad) + np.linalg.norm(gradapprox)", "np.sum(np.abs(grad)) + np.sum(np.abs(gradapprox))")),
    _m("nd_flat_gradapprox", _GCN, "gradapprox of shape (47,) against grad (47, 1)",
       "Likely gradapprox has shape (47,) while grad has shape (47, 1): grad - gradapprox then broadcasts to a "
       "47×47 matrix. Keep both as (47, 1) columns.",
       ("np.zeros((num_parameters, 1))", "np.zeros(num_parameters)")),
    _m("nd_whole_vector", _GCN, "ε added to every parameter at once",
       "Likely ε is added to the whole vector instead of to entry i only: perturb one parameter per step.",
       ("theta_plus[i] = theta_plus[i] + epsilon", "theta_plus = theta_plus + epsilon"),
       ("theta_minus[i] = theta_minus[i] - epsilon", "theta_minus = theta_minus - epsilon")),
    _m("nd_grad_is_gradapprox", _GCN, "grad = gradapprox",
       "Likely grad is overwritten with gradapprox, so the check can never fail. grad comes from the gradients "
       "you were given (gradients_to_vector).",
       ("numerator = np.linalg.norm(grad - gradapprox)", "grad = gradapprox\n    numerator = np.linalg.norm(grad - gradapprox)")),
    _m("nd_recomputes_gradients", _GCN, "gradients recomputed instead of the ones given",
       "Likely the function runs backward_propagation_n itself instead of checking the `gradients` it was given.",
       ("grad = gradients_to_vector(gradients)",
        "grad = gradients_to_vector(backward_propagation_n(X, Y, forward_propagation_n(X, Y, parameters)[1]))")),
    _m("nd_fixed_epsilon", _GCN, "ε fixed at 1e-7 instead of the argument",
       "Likely a hard-coded 1e-7 replaces the epsilon argument; use the epsilon your function receives.",
       ("+ epsilon", "+ 1e-7"), ("- epsilon", "- 1e-7"), (_CENTRED_ND, "(J_plus[i] - J_minus[i]) / (2 * 1e-7)")),
    _m("nd_array_result", _GCN, "returns an array, not a float",
       "Likely a norm taken with axis= or keepdims=, which returns an array; the difference must be a float.",
       ("np.linalg.norm(grad - gradapprox)", "np.linalg.norm(grad - gradapprox, axis=0)")),
    # found while building `gcgrade selfcheck` (issue 7); each one is caught and hinted
    _m("squared_norms", _GC, "squared norms: no square root",
       "Likely the norms are squared (sums of squares without the square root). The difference uses the L2 norm "
       "itself, ‖v‖₂ = sqrt(Σ v²), for example np.linalg.norm(grad - gradapprox).",
       ("np.linalg.norm(grad - gradapprox)", "(grad - gradapprox) ** 2"),
       ("np.linalg.norm(grad) + np.linalg.norm(gradapprox)", "grad ** 2 + gradapprox ** 2")),
    _m("denominator_grad_only", _GC, "divides by ‖grad‖ alone",
       "Likely the denominator is only ‖grad‖₂; it is the sum of both norms, ‖grad‖₂ + ‖gradapprox‖₂, "
       "which keeps the difference between 0 and 1.",
       ("np.linalg.norm(grad) + np.linalg.norm(gradapprox)", "np.linalg.norm(grad)")),
    _m("half_epsilon", _GC, "θ ± ε/2 with 2ε below",
       f"Likely θ is moved by ε/2 on each side while the difference still divides by 2ε, which halves gradapprox. "
       f"Use θ + ε and θ − ε ({_SECTION_1D}).",
       ("theta + epsilon", "theta + epsilon / 2"), ("theta - epsilon", "theta - epsilon / 2")),
    _m("difference_of_norms", _GC, "numerator ‖grad‖ − ‖gradapprox‖",
       "Likely the numerator subtracts the two norms, ‖grad‖ − ‖gradapprox‖; it is the norm of the difference, "
       "‖grad − gradapprox‖₂. Subtracting norms can give a negative value and hides a wrong sign.",
       ("np.linalg.norm(grad - gradapprox)", "np.linalg.norm(grad) - np.linalg.norm(gradapprox)")),
    _m("backward_at_theta_plus", _GC, "backward pass evaluated at θ + ε",
       "Likely backward_propagation is called with theta_plus; the gradient being checked is the one at θ itself: "
       "backward_propagation(x, theta).",
       ("grad = backward_propagation(x, theta)", "grad = backward_propagation(x, theta_plus)")),
    _m("returns_numerator", _GC, "returns the numerator, not the ratio",
       "Likely the function returns ‖grad − gradapprox‖₂ without dividing by ‖grad‖₂ + ‖gradapprox‖₂; the "
       "difference is that ratio.",
       ("difference = numerator / denominator", "difference = numerator")),
    _m("nd_squared_norms", _GCN, "squared norms: no square root",
       "Likely sums of squares stand where the L2 norms belong (no square root). Use np.linalg.norm for the "
       "numerator and for both terms of the denominator.",
       ("np.linalg.norm(grad - gradapprox)", "np.sum((grad - gradapprox) ** 2)"),
       ("np.linalg.norm(grad) + np.linalg.norm(gradapprox)", "np.sum(grad ** 2) + np.sum(gradapprox ** 2)")),
    _m("nd_denominator_grad_only", _GCN, "divides by ‖grad‖ alone",
       "Likely the denominator is only ‖grad‖₂; it is ‖grad‖₂ + ‖gradapprox‖₂.",
       ("np.linalg.norm(grad) + np.linalg.norm(gradapprox)", "np.linalg.norm(grad)")),
    _m("nd_half_epsilon", _GCN, "θᵢ ± ε/2 with 2ε below",
       f"Likely entry i is moved by ε/2 on each side while gradapprox still divides by 2ε, which halves it. "
       f"Add ε to theta_plus[i] and subtract ε from theta_minus[i] ({_SECTION_ND}).",
       ("theta_plus[i] + epsilon", "theta_plus[i] + epsilon / 2"),
       ("theta_minus[i] - epsilon", "theta_minus[i] - epsilon / 2")),
    _m("nd_difference_of_norms", _GCN, "numerator ‖grad‖ − ‖gradapprox‖",
       "Likely the numerator subtracts the two norms; it is the norm of the difference, "
       "np.linalg.norm(grad - gradapprox). Two very different vectors can have the same norm.",
       ("np.linalg.norm(grad - gradapprox)", "np.linalg.norm(grad) - np.linalg.norm(gradapprox)")),
    _m("nd_copy_outside_loop", _GCN, "θ⁺ and θ⁻ copied once, before the loop",
       "Likely theta_plus and theta_minus are copied once before the loop, so the shifts pile up: at step i every "
       "entry up to i is still moved. Make fresh copies of parameters_values inside the loop, at every step.",
       ("    for i in range(num_parameters):\n        theta_plus = np.copy(parameters_values)\n",
        "    theta_plus = np.copy(parameters_values)\n    theta_minus = np.copy(parameters_values)\n"
        "    for i in range(num_parameters):\n"),
       ("        theta_minus = np.copy(parameters_values)\n", "")),
    _m("nd_stale_J_plus", _GCN, "J⁺ computed before θ⁺ is perturbed",
       "Likely J_plus[i] is computed from theta_plus before ε is added to it, so J⁺ is J(θ). Perturb entry i first, "
       "then run forward_propagation_n on the perturbed vector.",
       ("        theta_plus[i] = theta_plus[i] + epsilon\n"
        "        J_plus[i], _ = forward_propagation_n(X, Y, vector_to_dictionary(theta_plus))\n",
        "        J_plus[i], _ = forward_propagation_n(X, Y, vector_to_dictionary(theta_plus))\n"
        "        theta_plus[i] = theta_plus[i] + epsilon\n")),
    _m("nd_gradapprox_after_loop", _GCN, "gradapprox[i] set after the loop",
       "Likely the line gradapprox[i] = ... is indented outside the for loop, so only the last entry is filled and "
       "the others stay 0. Compute gradapprox[i] inside the loop.",
       ("        gradapprox[i] = (J_plus[i] - J_minus[i]) / (2 * epsilon)\n",
        "    gradapprox[i] = (J_plus[i] - J_minus[i]) / (2 * epsilon)\n")),
    _m("nd_off_by_one", _GCN, "the loop skips the last parameter",
       "Likely the loop stops one early (range(num_parameters - 1)), so the last parameter, b3, is never perturbed "
       "and its gradapprox stays 0. Loop over range(num_parameters).",
       ("range(num_parameters)", "range(num_parameters - 1)")),
    _m("nd_return_in_loop", _GCN, "return inside the loop",
       "Likely the difference is computed and returned inside the for loop, after the first parameter only. "
       "Dedent the norms, the difference and the return so they run once, after the loop.",
       ("    numerator = np.linalg.norm(grad - gradapprox)\n"
        "    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)\n"
        "    difference = numerator / denominator\n",
        "        numerator = np.linalg.norm(grad - gradapprox)\n"
        "        denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)\n"
        "        difference = numerator / denominator\n"
        "        return difference\n")),
)


def mistakes_for(function: str) -> tuple:
    return tuple(m for m in MISTAKES if m.function == function)
