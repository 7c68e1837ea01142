# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	# torch first and pinned: the CPU wheel, never a CUDA build pulled in by a looser requirement
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,baselines]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/samesense demo --out runs/demo

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/baselines.py --vectors benchmarks/out/vectors
	$(PY) benchmarks/core_zh.py
	$(PY) benchmarks/run.py --jobs 2 --vectors benchmarks/out/vectors

.PHONY: bench-faq
bench-faq: $(STAMP)
	$(PY) benchmarks/faq_clinc150.py
	$(PY) benchmarks/faq_load.py
	$(PY) benchmarks/faq_newcomer.py

clean:
	rm -rf runs .pytest_cache
