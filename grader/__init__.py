"""gradecheck: grades the Gradient Checking notebook with hidden checks and a sandbox."""
__version__ = "0.1.0"
