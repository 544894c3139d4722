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
	@mkdir -p $(OUT)
	@for nb in samples/*.ipynb; do $(VENV)/bin/gcgrade grade "$$nb" --out $(OUT) || exit 1; echo; done
	@echo "Reports written to $(OUT)/ (open $(OUT)/ada.html in a browser)"

test: $(VENV)/.installed
	$(PY) -m pytest

clean:
	rm -rf $(VENV) out build *.egg-info
