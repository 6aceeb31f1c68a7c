# Two commands do all set-up on a fresh Debian/Ubuntu machine:
#   make demo   the main job on the embedded default (emulated board, built-in data)
#   make test   the test suite (what CI runs)
# Both call .ci/bootstrap.sh, which installs Debian packages and a pinned
# .venv when needed and returns in seconds when everything is in place.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: demo test setup lint bench clean lut

setup:
	@./.ci/bootstrap.sh

demo: setup
	$(VENV)/bin/hilnas demo

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# Board-measured latency/memory tables, each validated on LUT_SAMPLES fresh members
# (resumable: rerun after an interruption). Boards are the inner loop: the second board
# reuses every conversion of the first (content-keyed cache in .hilnas-cache/lut-conv).
LUT_BOARDS  ?= mps2-an386 mps2-an385
LUT_SPACES  ?= hybrid cnn vit-resnas hybrid-vww cnn-vww hybrid-unfold
LUT_JOBS    ?= 2
LUT_SAMPLES ?= 30
LUT_FLAGS   ?=  # e.g. --fresh after an engine or converter change (resuming would mix figures)
lut: setup
	@for s in $(LUT_SPACES); do for b in $(LUT_BOARDS); do \
	  $(VENV)/bin/hilnas lut build --board $$b --space $$s --jobs $(LUT_JOBS) $(LUT_FLAGS) || exit 1; \
	  $(VENV)/bin/hilnas lut validate --board $$b --lut lut/$$b/$$s.json \
	    --samples $(LUT_SAMPLES) --jobs $(LUT_JOBS) --json lut/$$b/$$s.validation.json \
	    --plot lut/$$b/$$s.validation.png || exit 1; \
	done; done

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf build .hilnas-cache
