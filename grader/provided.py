"""The assignment's own public code (assignment/), importable by the grader and the sandbox.

The notebook imports these files by their bare names (`from gc_utils import ...`), so the
assignment folder goes on sys.path once, here, and nowhere else.
"""
import sys
from pathlib import Path

#: the folder learners receive
ASSIGNMENT_DIR = Path(__file__).resolve().parent.parent / "assignment"
#: the project root; the sandbox hides it from learner code
PROJECT_DIR = ASSIGNMENT_DIR.parent

if str(ASSIGNMENT_DIR) not in sys.path:
    sys.path.insert(0, str(ASSIGNMENT_DIR))

from gc_utils import LAYOUT, dictionary_to_vector, gradients_to_vector, relu, sigmoid, vector_to_dictionary  # noqa: E402
from testCases import gradient_check_n_test_case  # noqa: E402
from fraud_model import backward_propagation_n, forward_propagation_n  # noqa: E402

__all__ = [
    "ASSIGNMENT_DIR", "PROJECT_DIR", "LAYOUT", "sigmoid", "relu", "dictionary_to_vector", "vector_to_dictionary",
    "gradients_to_vector", "gradient_check_n_test_case", "forward_propagation_n", "backward_propagation_n",
]
