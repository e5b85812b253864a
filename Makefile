# qsim developer commands. `make run` and `make test` do all the set-up they
# need on a fresh Debian 12 machine (as root, or as a user who may sudo):
# Debian libraries for Qt, a .venv, and qsim installed into it.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
XVFB := xvfb-run -a -s "-screen 0 1920x1080x24"

# What Qt needs to draw offscreen (tests), and a real window under Xvfb.
DEBS_OFFSCREEN := libgl1 libegl1 libfontconfig1 libglib2.0-0 libxkbcommon0 libdbus-1-3
DEBS_X11 := xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
	libxcb-render-util0 libxcb-shape0 libxkbcommon-x11-0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q

# `make run` without a screen still works: under Xvfb (a virtual screen).
HAVE_DISPLAY := $(or $(DISPLAY),$(WAYLAND_DISPLAY))

.PHONY: run test lint typecheck pytest bench setup debs clean distclean

run: setup ## launch the app (ARGS="--lesson basic" to pass options)
ifdef HAVE_DISPLAY
	$(BIN)/qsim $(ARGS)
else
	@echo "No DISPLAY: running qsim under xvfb-run, on a virtual screen you cannot see."
	$(XVFB) $(BIN)/qsim $(ARGS)
endif

test: setup ## lint, type check and the whole test suite; fails if any of them fails
	@status=0; \
	$(MAKE) --no-print-directory lint || status=1; \
	$(MAKE) --no-print-directory typecheck || status=1; \
	$(MAKE) --no-print-directory pytest || status=1; \
	if [ $$status != 0 ]; then echo "make test: FAILED (see above)"; fi; \
	exit $$status

lint: setup
	$(BIN)/ruff check qsim tests
	$(BIN)/ruff format --check qsim tests

typecheck: setup
	$(BIN)/mypy

# Tests draw offscreen (tests/conftest.py); the end-to-end ones need an X
# server, so without a display the whole run goes under Xvfb.
pytest: setup
ifdef HAVE_DISPLAY
	$(BIN)/pytest $(PYTEST_ARGS)
else
	$(XVFB) $(BIN)/pytest $(PYTEST_ARGS)
endif

bench: setup
	$(BIN)/qsim bench engine --json

setup: debs $(STAMP)

# Ask apt only when a package is missing.
debs:
	@missing=$$(for p in $(DEBS_OFFSCREEN) $(DEBS_X11); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' \
			|| echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -q && $(APT_INSTALL) $$missing; \
	fi

# Debian's python3 lacks ensurepip until python3-venv is installed.
$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) >/dev/null 2>&1 || { \
		echo "python3 -m venv failed: installing python3-venv"; \
		rm -rf $(VENV); \
		$(SUDO) apt-get update -q && $(APT_INSTALL) python3-venv && $(PYTHON) -m venv $(VENV); \
	}

# Reinstall only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

clean: ## caches and build output (keeps .venv)
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean ## also the .venv
	rm -rf $(VENV)

.PHONY: package
package: setup ## the Linux app: dist/qsim-<version>-linux-x86_64.tar.gz and dist/qsim_<version>_amd64.deb
	PYTHON=$(BIN)/python packaging/build.sh
