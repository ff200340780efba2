# One entry point for people and CI.
#   make run    set up, validate the claims, check every checkable claim here, publish the site
#   make test   set up and run the whole test suite (real torch, TensorFlow and Chromium)
PY      ?= python3
VENV    ?= .venv
BIN      = $(VENV)/bin
BUDGET  ?= 45
SITE    ?= _site
PYTEST_ARGS ?=

.PHONY: gpu-check run test setup browser probe-tools horovod lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch==2.13.0 (CPU) is pinned in the `verify` extra: an unpinned torch would pull GBs of CUDA wheels.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

# Debian's Chromium for the page tests (root on these machines; skipped where it is present).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	  || echo "warning: could not install chromium; browser tests will be skipped"; }

# Tools some capability probes drive, into .fwclaims-cache/ (verify run itself downloads nothing):
# the Node packages of the web probes and the TensorFlow.js converter. Where npm or the registry is
# missing this warns, and those probes report "not checkable here" with what they did not find.
probe-tools: setup
	@command -v npm >/dev/null 2>&1 && $(BIN)/python -m verify.run.probetools npm \
	  || echo "warning: npm packages not installed; the web probes will be not checkable here"
	@$(BIN)/python -m verify.run.probetools tfjs \
	  || echo "warning: the TensorFlow.js converter was not installed; tfjs-convert will say so"

# Try to build Horovod with PyTorch and Gloo (minutes); a failed build leaves the reason its probe
# reports in .fwclaims-cache/horovod/build.json.
horovod: setup
	-$(BIN)/python -m verify.run.probetools horovod

run: setup probe-tools
	$(BIN)/verify check
	$(BIN)/verify run --all --budget $(BUDGET)
	$(BIN)/verify publish --out $(SITE)

# Every timed check on this machine's CUDA GPU, within 8 minutes (see scripts/gpu-check.sh for a
# GPU machine without this project's venv). TensorFlow's side is not checkable where it has no build.
gpu-check: setup
	$(BIN)/verify env
	timeout 480 $(BIN)/verify run --all --kind performance --device cuda --budget 25

# Two phases (scripts/test.sh): the tests on both cores, then those marked `serial` alone.
test: setup browser probe-tools
	scripts/test.sh $(BIN)/python $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check kg verify tests
	$(BIN)/ruff format --check kg verify tests
	$(BIN)/lint-imports
	$(BIN)/mypy

# Benchmarks (pytest-benchmark): the scale benchmark and time to a verdict; on an idle machine.
# One file: make bench BENCH=tests/benchmarks/test_time_to_verdict.py
BENCH ?= tests/benchmarks
bench: setup
	$(BIN)/python -m pytest $(BENCH) --benchmark-only --benchmark-enable

clean:
	rm -rf .fwclaims-cache .pytest_cache .benchmarks
