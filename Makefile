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
# What PyInstaller needs to build the packaged app (`make package`, the packaging
# tests): objdump.
DEBS_PACKAGE := binutils
# What Debian's own python3 (not a pyenv or other Python) lacks: ensurepip for
# `python3 -m venv` (python3.X-venv, until .venv exists), and the shared
# libpython3.X that PyInstaller bundles (Debian's python3 is linked statically).
DEBS_PYTHON = $(PYTHON) -c 'import os, sys; \
	v = "%d.%d" % sys.version_info[:2]; \
	debian = sys.base_prefix == "/usr"; \
	venv = [] if os.path.exists("$(BIN)/python") else ["python%s-venv" % v]; \
	print(*(["libpython" + v] + venv if debian else []))'

# `make run` without a screen still works: under Xvfb (a virtual screen).
HAVE_DISPLAY := $(or $(DISPLAY),$(WAYLAND_DISPLAY))

.PHONY: run test lint typecheck pytest bench setup debs clean distclean

run: setup ## launch the app (ARGS="--lesson basic" to pass options)
ifdef HAVE_DISPLAY
	$(BIN)/qsim $(ARGS)
else
	@echo "No DISPLAY: qsim runs under xvfb-run, on a virtual screen you cannot see."
	@echo "$(if $(findstring --quit-after,$(ARGS)),It plays the lesson and quits after the time given,It opens the lesson paused and waits until you press Ctrl+C (ARGS=\"--quit-after 10\" plays it for 10 s and quits))."
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
# server, so without a display the whole run goes under Xvfb. Two tests at a
# time (pytest-xdist: most wait on real processes), then, with nothing beside
# them, those marked `alone`: they measure memory or speed, or build in the
# checkout (the packaged app in dist/, the wheel). Exit code 5 is
# "no test selected" (a PYTEST_ARGS filter): not a failure.
PYTEST := $(if $(HAVE_DISPLAY),,$(XVFB)) $(BIN)/pytest
pytest: setup
	@status=0; \
	$(PYTEST) -n 2 -m "not alone" $(PYTEST_ARGS) || [ $$? = 5 ] || status=1; \
	$(PYTEST) -m alone $(PYTEST_ARGS) || [ $$? = 5 ] || status=1; \
	exit $$status

bench: setup
	$(BIN)/qsim bench engine --json

setup: debs $(STAMP)

# Ask apt only when a package is missing. Not root and no sudo to use: one line
# naming what to ask an administrator for, and stop.
debs:
	@missing=$$(for p in $(DEBS_OFFSCREEN) $(DEBS_X11) $(DEBS_PACKAGE) $$($(DEBS_PYTHON)); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' \
			|| echo $$p; \
	done); \
	[ -n "$$missing" ] || exit 0; \
	missing=$$(echo $$missing); \
	if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null && { [ -t 0 ] || sudo -n true 2>/dev/null; }; then sudo=sudo; \
	else \
		echo "qsim needs Debian packages: ask an administrator to run: apt-get install -y $$missing" >&2; \
		exit 1; \
	fi; \
	echo "Installing Debian packages: $$missing"; \
	$$sudo apt-get update -q && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing

# (a half-made .venv would pass for a made one next time)
$(BIN)/python: | debs
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }

# Reinstall only when pyproject.toml changed since the last install. The
# `package` extra (PyInstaller) too: the packaging tests build the app; and
# `video` (imageio-ffmpeg) so that the MP4 export is tested (the app leaves it out).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,package,video]'
	@touch $@

clean: ## caches and build output (keeps .venv)
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean ## also the .venv
	rm -rf $(VENV)

.PHONY: package
package: setup ## the Linux app: dist/qsim-<version>-linux-x86_64.tar.gz and dist/qsim_<version>_amd64.deb
	PYTHON=$(BIN)/python packaging/build.sh
