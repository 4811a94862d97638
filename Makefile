# Everything installs into .venv; `make demo` and `make test` work on a fresh machine.
VENV       ?= .venv
PYTHON     := $(VENV)/bin/python
# The CPU build of torch 2.13.0 is on this machine's disk. On a CUDA machine, install your CUDA build of
# torch into .venv first (e.g. `make venv` then `.venv/bin/pip install torch==2.13.0 --index-url <your CUDA index>`):
# pip then keeps it.
TORCH_SPEC ?= torch==2.13.0
# Only its CLIP vocabulary file is used; --no-deps keeps its torchvision/timm (and a CUDA torch) out.
OPEN_CLIP  ?= open_clip_torch==3.3.0
INSTALLED  := $(VENV)/.installed
DEMO_DIR   ?= demo-output
PYTEST_ARGS ?=

.PHONY: install venv test demo clean

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

test: install
	HF_HUB_OFFLINE=1 $(PYTHON) -m pytest $(PYTEST_ARGS)

demo: install
	HF_HUB_OFFLINE=1 bash scripts/demo.sh $(DEMO_DIR)

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
