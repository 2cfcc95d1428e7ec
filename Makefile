# dragon_nb: two commands set everything up on a fresh clone (see README):
#   make demo   install what is missing, then run the main job on the embedded default
#   make test   install what is missing, then run everything CI checks (.ci/run calls this)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
STAMP := $(VENV)/.installed-$(shell cat settings.ini constraints.txt Makefile 2>/dev/null | md5sum | cut -c1-12)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export TOKENIZERS_PARALLELISM := false
export PYTHONWARNINGS := ignore::FutureWarning
export OPENBLAS_NUM_THREADS := 1

.PHONY: demo test install lib check-sync nbtest pytest docs clean-venv

demo: install
	$(PY) -m dragon_nb.cli demo $(DEMO_ARGS)

test: install check-sync nbtest pytest

install: $(STAMP)

# torch first and pinned (constraints.txt): an unpinned torch would pull the registry's CUDA build.
# torchaudio: the registry only has CUDA builds; on CPU-only torch install it without deps and delete its
# CUDA extension so its pure-Python transforms load (on a CUDA machine the ordinary build is kept).
$(STAMP):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt torch==2.13.0 2>&1 | grep -v "is ignored" || true
	$(PIP) install -c constraints.txt -e ".[dev]" 2>&1 | grep -v "is ignored" || true
	$(PIP) install --no-deps torchaudio==2.11.0 2>&1 | grep -v "is ignored" || true
	# laion-clap pins numpy<2 but runs on numpy 2: install it without deps, then only what its import needs
	$(PIP) install --no-deps -c constraints.txt laion-clap==1.1.7 2>&1 | grep -v "is ignored" || true
	$(PIP) install -c constraints.txt librosa==0.11.0 torchlibrosa==0.1.0 ftfy==6.3.1 braceexpand==0.1.7 \
	  webdataset==1.0.2 h5py==3.16.0 pandas==3.1.1 wget==3.2 2>&1 | grep -v "is ignored" || true
	$(PY) -c "import importlib.util,pathlib,torch; \
	  lib=pathlib.Path(importlib.util.find_spec('torchaudio').origin).parent/'lib'; \
	  [p.unlink() for p in lib.glob('*.so')] if torch.version.cuda is None else None"
	# the browser test drives Debian's Chromium (a browser download by playwright is impossible offline)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium) || echo "Chromium not installed: the browser test will fail; install Debian's chromium package."
	$(PY) -c "import torch, torchaudio.transforms, diffusers, nbdev, dragon_nb; print('installed: torch', torch.__version__)"
	@rm -f $(VENV)/.installed-* && touch $@

# CI fails when the library differs from a fresh export of the notebooks, or notebooks are not clean:
# export + clean must not change anything (compared before/after, so uncommitted work is fine locally).
SYNC_STATE = { git diff -- dragon_nb nbs; git ls-files --others --exclude-standard -- dragon_nb nbs; } | md5sum
check-sync:
	@before=$$($(SYNC_STATE)); $(VENV)/bin/nbdev_export && $(VENV)/bin/nbdev_clean; after=$$($(SYNC_STATE)); \
	if [ "$$before" != "$$after" ]; then git status --short -- dragon_nb nbs; \
	  echo "Out of sync: nbdev_export/nbdev_clean changed the files above. Commit the exported, cleaned versions."; exit 1; fi; \
	echo "notebooks clean and library in sync"

# the notebooks' smoke runs go to a temporary runs folder (DRAGON_RUNS), removed afterwards, not to data/runs/
nbtest:
	@runs=$$(mktemp -d); DRAGON_RUNS=$$runs $(VENV)/bin/nbdev_test --n_workers 2 --timing; rc=$$?; rm -rf $$runs; exit $$rc

pytest:
	$(PY) -m pytest -q tests

docs: install
	$(PY) -m dragon_nb.cli docs

clean-venv:
	rm -rf $(VENV)
