# gradecheck: the two commands that matter are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= out/demo

.PHONY: demo test bench selfcheck clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	@$(VENV)/bin/gcgrade batch samples --out $(OUT)
	@echo "Open $(OUT)/index.html (the class dashboard) or $(OUT)/ada.html (a learner's report) in a browser."

test: $(VENV)/.installed
	$(PY) -m pytest

# N submissions through gcgrade batch, a kernel-per-notebook baseline, figures appended to bench/RESULTS.md
N ?= 1000
bench: $(VENV)/.installed
	$(PY) -m bench.run --count $(N)

clean:
	rm -rf $(VENV) out build *.egg-info
