"""Staff-only material: reference implementations, known mistakes and the hidden checks."""
