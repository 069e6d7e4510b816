"""Helpers of the book tests: where the built book is, and throw-away books.

A throw-away book is a tiny book in a temporary directory built with *this* repository's
``_config.yml``, Sphinx glue and vendored JavaScript, and with the same command as
``make book`` (read from the Makefile), so it shows what the real build does with a page.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
VENDOR = ROOT / "book" / "_vendor"

NOTEBOOK_HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def require_built_book():
    """The built book's folder; without a built book, skip with the reason (fail under `make test`).

    Run alone (``pytest tests/book``), a test that reads ``_build/html`` is skipped when the
    book has not been built. `make test` builds the book first and sets
    ``REMLIB_REQUIRE_BOOK=1``, so there a missing book fails instead of skipping.
    """
    if not (HTML / "index.html").is_file():
        message = f"{HTML} has no built book: run `make book` first (`make test` does it)"
        if os.environ.get("REMLIB_REQUIRE_BOOK"):
            pytest.fail(message)
        pytest.skip(message)
    return HTML


def build_command(book_dir):
    """The `jupyter-book build` command of the Makefile's `book` target, for ``book_dir``."""
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^\t\$\(BIN\)/jupyter-book build \. (.*)$", makefile, re.MULTILINE)
    assert match, "the Makefile's book target no longer runs `$(BIN)/jupyter-book build . ...`"
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    return [str(jupyter_book), "build", str(book_dir), *shlex.split(match.group(1))]


def make_book(directory, pages):
    """Create a book in ``directory`` with ``pages`` = {"book/name": markdown} (first = root).

    The book uses the repository's ``_config.yml``, ``book/_ext``, ``book/references.bib``
    and (symlinked) ``book/_vendor``.
    """
    if not (VENDOR / "VERSIONS").is_file():
        pytest.fail(f"{VENDOR} is missing: run `make book` (it vendors the JavaScript) first")
    directory = Path(directory)
    (directory / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", directory / "_config.yml")
    shutil.copy(ROOT / "book" / "references.bib", directory / "book" / "references.bib")
    shutil.copytree(ROOT / "book" / "_ext", directory / "book" / "_ext")
    shutil.copytree(ROOT / "book" / "images", directory / "book" / "images")
    (directory / "book" / "_vendor").symlink_to(VENDOR, target_is_directory=True)
    names = list(pages)
    toc = f"format: jb-book\nroot: {names[0]}\n"
    if len(names) > 1:
        toc += "chapters:\n" + "".join(f"  - file: {name}\n" for name in names[1:])
    (directory / "_toc.yml").write_text(toc)
    for name, text in pages.items():
        (directory / f"{name}.md").parent.mkdir(parents=True, exist_ok=True)
        (directory / f"{name}.md").write_text(text)
    return directory


def build(directory):
    """Build the book in ``directory`` like `make book`; return (exit code, combined log)."""
    result = subprocess.run(
        build_command(directory),
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result.returncode, result.stdout + result.stderr


#: a page with math, a figure and a widget whose state is embedded in the HTML
GOOD_PAGE = NOTEBOOK_HEADER + r"""
# A page that must build

Inline math $a^2 + b^2 = c^2$ and a numbered equation

```{math}
:label: eq-good
D_\mathrm{KL}(p\,\|\,q) = \sum_i p_i \ln \frac{p_i}{q_i}
```

referenced as {eq}`eq-good`.

```{code-cell} ipython3
import ipywidgets as widgets
slider = widgets.IntSlider(value=3, min=0, max=10, description="n")
label = widgets.HTMLMath(value=r"the state $\theta_1$")
widgets.VBox([slider, label])
```

```{code-cell} ipython3
import matplotlib.pyplot as plt
from remlib.style import use_book_style
use_book_style()
fig, ax = plt.subplots()
ax.plot([0, 1], [0, 1])
plt.show()
```
"""


#: a page whose only math is inside a widget (Sphinx alone would not load MathJax here)
WIDGET_ONLY_PAGE = NOTEBOOK_HEADER + r"""
# Only a widget

```{code-cell} ipython3
import ipywidgets as widgets
widgets.HTMLMath(value=r"the relative entropy $D_\mathrm{KL}$")
```
"""
