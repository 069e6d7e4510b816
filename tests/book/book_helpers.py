"""Helpers of the book tests: where the built book is, throw-away books, a live JupyterLab.

A throw-away book is a tiny book in a temporary directory built with *this* repository's
``_config.yml``, Sphinx glue and vendored JavaScript, and with the same command as
``make book`` (read from the Makefile), so it shows what the real build does with a page.
"""
import contextlib
import importlib.util
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

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


def load_module(name, path):
    """Import the Python file ``path`` (a script, not part of a package) as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Deadline:
    """Remaining time of a fixed budget, in seconds and in playwright's milliseconds."""

    def __init__(self, seconds):
        self.budget = seconds
        self.end = time.monotonic() + seconds

    def seconds(self):
        left = self.end - time.monotonic()
        if left <= 0:
            pytest.fail(f"the test exceeded its {self.budget:.0f} s budget")
        return left

    def ms(self):
        return self.seconds() * 1000.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url, process, log, deadline):
    """Poll the server's status API until it answers (or the server dies)."""
    while True:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            pytest.fail(f"jupyter lab exited with code {process.returncode} before answering:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        deadline.seconds()
        time.sleep(0.3)


@contextlib.contextmanager
def jupyterlab(work, scratch, deadline):
    """A JupyterLab server on 127.0.0.1 serving the folder ``work``; yields ``(base URL, token)``.

    Its configuration, runtime files and settings live in ``scratch``; it never queries PyPI.
    The server and the kernels it started are killed on exit. ``make test`` installs
    jupyterlab (requirements.txt); without it the test fails, it is never skipped.
    """
    try:
        import jupyterlab as _  # noqa: F401
    except ImportError:
        pytest.fail("jupyterlab is not installed: `make test` installs it from requirements.txt")
    token, port = secrets.token_hex(16), free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    for name, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                      ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                      ("IPYTHONDIR", "ipython")]:
        env[name] = str(Path(scratch) / sub)
    command = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser",
               f"--ServerApp.token={token}", f"--port={port}",
               "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={work}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly",  # no PyPI queries from the extension manager
               "--allow-root"]
    log_path = Path(scratch) / "lab.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/api/status?token={token}", process, log_path, deadline)
        yield base, token
    finally:
        for sig, wait in [(signal.SIGTERM, 10), (signal.SIGKILL, 5)]:
            if process.poll() is not None:
                break
            try:
                os.killpg(process.pid, sig)  # the server and the kernel it started
                process.wait(timeout=wait)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        log.close()


def only_localhost(outside):
    """A playwright route handler: requests leave for 127.0.0.1 only; others are aborted and
    their URLs appended to the list ``outside``."""

    def handle(route):
        if urlsplit(route.request.url).hostname not in ("127.0.0.1", None):
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    return handle


def wait_for_idle_kernel(page, deadline):
    """Wait until JupyterLab's status bar says the kernel is idle (a cell run before the
    kernel is connected is silently not executed)."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]"
        ".some(e => /\\|\\s*Idle/.test(e.textContent))", timeout=deadline.ms())


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

```{code-cell} ipython3
a_long_line_of_code = ["wraps at the column's width instead of running off the page"] * 2 + ["end"]
print(a_long_line_of_code)
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
