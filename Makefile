# The two commands:  make run  (set up and serve)   make test  (set up and run every test)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock

.PHONY: run test install lint audit lock browser clean

# Every runtime and dev dependency at the exact version and sha256 recorded in requirements.lock
# (pip refuses anything else), then faqbot itself without touching its dependencies.
# torch: the lock records the CPU build, torch==2.13.0+cpu, with the sha256 of the wheel on this
# machine's disk (/opt/wheels, named by the lock's --find-links line; it is the same file that
# `pip install torch==2.13.0` picks here). PyPI's own torch 2.13.0 is the CUDA build, which pulls
# in gigabytes of nvidia-* wheels: the lock must never resolve to it (`make lock` keeps it CPU).
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check  # fails when pyproject.toml needs a package the lock lacks: run `make lock`
	touch $(STAMP)

install: $(STAMP)

# Re-resolve requirements.lock after changing the dependencies in pyproject.toml, then `make install`.
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
	  --find-links /opt/wheels --emit-find-links --no-emit-package faqbot -o $(LOCK)
	@! grep -qiE '^(nvidia|triton)' $(LOCK) || { echo "$(LOCK) pulls CUDA packages" >&2; exit 1; }

run: install
	$(BIN)/faqbot serve

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests" >&2; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
	  || echo "chromium could not be installed; browser tests will be skipped" >&2; }

lint: install
	$(BIN)/ruff check faqbot tests benchmarks
	$(BIN)/ruff format --check faqbot tests benchmarks
	$(BIN)/mypy

# Known vulnerabilities in the locked dependencies fail the build (unless .ci/audit-ignore.txt
# lists them with a reason); an unreachable vulnerability service only prints a warning.
audit: install
	$(BIN)/python .ci/audit.py $(LOCK)

test: install browser lint audit
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var
