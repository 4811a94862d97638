# Everything installs into .venv (Python) and web/node_modules (the UI); `make demo` and `make test` work on
# a fresh machine with Python 3.11+, Node.js 20.19+, npm and apt (Debian's Chromium for the browser tests).
VENV       ?= .venv
PYTHON     := $(VENV)/bin/python
# The CPU build of torch 2.13.0 is on this machine's disk. On a CUDA machine, install your CUDA build of
# torch into .venv first (`make venv`, then pip install it from PyTorch's CUDA index): pip then keeps it.
TORCH_SPEC ?= torch==2.13.0
# Only its CLIP vocabulary file is used; --no-deps keeps its torchvision/timm (and a CUDA torch) out.
OPEN_CLIP  ?= open_clip_torch==3.3.0
INSTALLED  := $(VENV)/.installed
DEMO_DIR   ?= demo-output
PYTEST_ARGS ?=
WEB        := web
NPM        ?= npm
CHROMIUM   ?= /usr/bin/chromium
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
WEB_INSTALLED := $(WEB)/node_modules/.installed

.PHONY: install venv lint-imports test test-demo test-compile demo clean python-test web-install web-build web-test web-e2e web-client chromium postgresql

venv:
	test -x $(PYTHON) || python3 -m venv $(VENV)

$(INSTALLED): pyproject.toml Makefile
	$(MAKE) venv
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet "$(TORCH_SPEC)"
	$(PYTHON) -m pip install --quiet -e ".[test]"
	$(PYTHON) -m pip install --quiet --no-deps "$(OPEN_CLIP)"
	touch $@

install: $(INSTALLED)

$(WEB_INSTALLED): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && $(NPM) ci --no-audit --no-fund
	touch $@

web-install: $(WEB_INSTALLED)

chromium:
	test -x $(CHROMIUM) || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

# Debian's PostgreSQL, for the throwaway clusters the tests start (tests/postgres_cluster.py: initdb + pg_ctl,
# as the unprivileged `postgres` user when the tests run as root, which the server refuses).
postgresql:
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ($(SUDO) apt-get update && $(SUDO) apt-get install -y postgresql)

web-build: web-install
	cd $(WEB) && $(NPM) run build

# After an API change: export the OpenAPI schema and regenerate the TypeScript client (never edited by hand).
web-client: install web-install
	$(PYTHON) scripts/export_openapi.py
	cd $(WEB) && $(NPM) run generate-client

web-test: web-install
	cd $(WEB) && $(NPM) run check-client && $(NPM) test

web-e2e: install web-install chromium
	cd $(WEB) && OMP_WAIT_POLICY=PASSIVE CHROMIUM_PATH=$(CHROMIUM) SHOEGEN_BIN=$(abspath $(VENV))/bin/shoegen $(NPM) run e2e

# The layering of docs/ARCHITECTURE.md (contracts in pyproject.toml); a broken one names the import.
lint-imports: install
	$(VENV)/bin/lint-imports

# Passive OpenMP waiting: the tests run servers and trainers side by side on few cores (a lone command is
# faster without it: benchmarks/RESULTS.md, "CLI thread defaults").
python-test: install lint-imports postgresql
	HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE $(PYTHON) -m pytest -m "not demo_base and not inductor" $(PYTEST_ARGS)

test: python-test web-test web-e2e

# What the trained demo base generates, measured (builds it first: about 12 minutes on 2 CPU cores).
test-demo: install
	HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE $(PYTHON) -m pytest -m demo_base $(PYTEST_ARGS)

# The compiled engine through inductor's real kernels (2-5 minutes on 2 CPU cores the first time, then cached in
# .pytest_cache/torchinductor).
test-compile: install
	HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE $(PYTHON) -m pytest -m inductor $(PYTEST_ARGS)

demo: install web-build
	HF_HUB_OFFLINE=1 bash scripts/demo.sh $(DEMO_DIR)

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache $(WEB)/node_modules $(WEB)/dist $(WEB)/test-results $(WEB)/.e2e-cache
