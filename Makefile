# The two commands of the README:
#   make book   build the HTML book into _build/html (creates .venv on first use)
#   make test   build the book, then run the whole test suite (library, doctests, book, browser)
#   (a contributor who changed only remlib runs `.venv/bin/pytest`: the library tests alone)
# Both are idempotent: the virtual environment is reused and only re-installed when
# requirements.txt or pyproject.toml changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# student zips of the Hands-On Practices that the book offers for download (see below)
PRACTICE_DOWNLOADS := exercises/dist/.downloads
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: book test env vendor exec-cache chromium engines clean assignments grade

book: env vendor exec-cache $(PRACTICE_DOWNLOADS)
	$(BIN)/jupyter-book build . -W --keep-going
	@test -f _build/html/index.html
	@echo
	@echo "The book is built. Open it in a browser:"
	@echo "    file://$(CURDIR)/_build/html/index.html"

# the library tests (what `pytest` alone runs) and the book group, in one run; a missing
# built book fails the book group here instead of skipping it
test: env chromium engines book
	REMLIB_REQUIRE_BOOK=1 REMLIB_REQUIRE_ENGINES=1 $(BIN)/python -m pytest tests/test_*.py remlib tests/book

env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# Hands-On Practices (exercises/): student notebooks and autograder zips into exercises/dist
# (git-ignored), each solution graded 100% by otter while building (offline, no Docker).
assignments: env
	$(BIN)/python exercises/build.py

# grade a class offline (no Docker): every notebook in SUBMISSIONS, each with a time limit,
# into a CSV gradebook (default <SUBMISSIONS>-grades.csv); see book/practices/teachers.md
#   make grade PRACTICE=practice3_moment_matching SUBMISSIONS=submissions [TIMEOUT=300 JOBS=1 GRADES=file.csv]
TIMEOUT ?= 300
JOBS ?= 1
grade: env
	@test -n "$(PRACTICE)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade PRACTICE=<name> SUBMISSIONS=<folder>"; exit 2; }
	$(BIN)/python exercises/grade.py "$(PRACTICE)" "$(SUBMISSIONS)" --timeout $(TIMEOUT) --jobs $(JOBS) $(if $(GRADES),--out "$(GRADES)")

# the student zips the book's practice pages offer for download (built without grading, and
# only again when a practice changed)
$(PRACTICE_DOWNLOADS): exercises/build.py exercises/check_helpers.py $(wildcard exercises/practice*.py) $(STAMP)
	$(BIN)/python exercises/build.py --no-run-tests
	@touch $@

# jupyter-cache keys a page by its own text only: when remlib changes, every page runs again
exec-cache:
	@mkdir -p _build
	@sum=$$(cat remlib/*.py | sha256sum | cut -c1-64); \
	if [ "$$sum" != "$$(cat _build/.remlib-sha256 2>/dev/null)" ]; then \
		if [ -d _build/.doctrees ]; then echo "remlib changed: every page is read and executed again"; fi; \
		rm -rf _build/.jupyter_cache _build/.doctrees; echo "$$sum" > _build/.remlib-sha256; \
	fi

# MathJax, require.js and the widget manager from npm, so the book needs no CDN
vendor:
	bash scripts/vendor_js.sh

# the engine tests run Debian's LAMMPS (the `lmp` binary) and GROMACS (`gmx`) on tables remlib writes
engines:
	@if ! command -v lmp >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends lammps; \
	fi
	@if ! command -v gmx >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends gromacs; \
	fi

# the browser test drives Debian's chromium (no browser download by playwright)
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends chromium; \
	fi

clean:
	rm -rf _build _artifacts book/_vendor
