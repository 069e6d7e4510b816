"""remlib installed read-only (a classroom or a shared cluster): kernels run and compile once.

numba caches compiled kernels beside the module by default.  Here a copy of remlib is
made read-only and ``HOME`` unwritable, and the same calls run in fresh processes:
the first process compiles (and caches in a fallback directory, with one warning), the
following ones, even from a second read-only copy (another virtual environment of the
same remlib), load every kernel from that cache.  Compilation is counted by numba's own
cache statistics of every remlib kernel.

The same holds for a reader of the book: its first page (the root of ``_toc.yml``, which
calls no kernel) and the first page of Principles and Mechanisms (which does) run as
notebooks, executed by nbclient in a fresh ipykernel per page and reader, two readers with
one read-only copy each.  There, every real compilation is counted by numba's
``numba:compile`` event, which a kernel loaded from the cache does not fire.

When the tests run as root, write permissions are enforced by dropping the capabilities
that let root ignore them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) in the child process.
"""
import contextlib
import ctypes
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
import yaml

import remlib

REPOSITORY = Path(__file__).resolve().parent.parent

# a representative set of kernels: basis energies inside the 1-D sampler, Brownian dynamics,
# the parallel pair histogram, and particle Monte Carlo with cell lists
_PROBE = """
import warnings
warnings.simplefilter("always")
import numpy as np
import numba
import remlib
from remlib.basis import PolynomialBasis
from remlib.ensembles import MetropolisEnsemble

MetropolisEnsemble(0.3, 0.8, 200, burn_in=0, seed=5).sample(PolynomialBasis([2, 4]), [-2.0, 1.0])
remlib.brownian_dynamics(lambda x: -x, np.zeros((2, 1)), 0.01, 10, seed=1)
frames = remlib.lattice_positions(64, np.full(3, 5.0))[None]
remlib.radial_distribution(frames, np.full(3, 5.0), r_max=2.0, bins=20)
pair = remlib.tabulate_pair(remlib.lj_potential, r_min=0.8, r_cut=2.5, n_grid=512)
remlib.metropolis_particles(frames[0], np.full(3, 5.0), pair, n_frames=2, burn_in=0, seed=2)

import sys
hits = misses = 0
for name, module in list(sys.modules.items()):
    if name.startswith("remlib"):
        for value in vars(module).values():
            if isinstance(value, numba.core.registry.CPUDispatcher):
                hits += sum(value.stats.cache_hits.values())
                misses += sum(value.stats.cache_misses.values())
print("COUNTS", hits, misses)
"""


def _without_root_overrides():
    """Drop CAP_DAC_OVERRIDE (1) and CAP_DAC_READ_SEARCH (2) from the bounding set (PR_CAPBSET_DROP = 24)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _read_only_tree(path):
    for directory, _, files in os.walk(path):
        for name in files:
            os.chmod(os.path.join(directory, name), 0o444)
        os.chmod(directory, 0o555)


@contextlib.contextmanager
def _temporary_directory():
    root = Path(tempfile.mkdtemp(prefix="remlib-readonly-"))
    try:
        yield root
    finally:
        for directory, _, _ in os.walk(root):
            os.chmod(directory, stat.S_IRWXU)
        shutil.rmtree(root)


@pytest.fixture
def sandbox():
    with _temporary_directory() as root:
        yield root


def _install(root, name):
    """A read-only copy of remlib under ``root/name`` (no cache files), as an installer leaves it."""
    site = root / name
    shutil.copytree(Path(remlib.__file__).parent, site / "remlib", ignore=shutil.ignore_patterns("__pycache__"))
    _read_only_tree(site)
    return site


def _python(arguments, site, home, tmp, cwd, **extra):
    """Run ``python arguments`` with ``site`` as the only remlib, as a user who cannot write to it."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(site), "HOME": str(home), "TMPDIR": str(tmp),
           "NUMBA_CACHE_DIR": "", **extra}
    result = subprocess.run([sys.executable, *arguments], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=600, preexec_fn=_without_root_overrides if os.geteuid() == 0 else None)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _run(site, home, tmp, **extra):
    result = _python(["-c", _PROBE], site, home, tmp, cwd=tmp, **extra)
    hits, misses = map(int, result.stdout.split("COUNTS")[1].split())
    return hits, misses, result.stderr


def test_read_only_install_without_writable_home_compiles_once_with_one_warning(sandbox):
    home = sandbox / "home"
    home.mkdir(mode=0o555)
    tmp = sandbox / "tmp"
    tmp.mkdir()
    first, second = _install(sandbox, "env1"), _install(sandbox, "env2")

    hits, misses, stderr = _run(first, home, tmp)
    assert misses > 0 and hits == 0  # the first process compiles ...
    assert stderr.count("RuntimeWarning") == 1 and "remlib-numba-" in stderr  # ... and says once where it caches,
    assert stderr.startswith("<string>:")  # at the line of the script that reached the first kernel
    assert not any((first / "remlib").rglob("*.nbi"))  # nothing was written into the install

    for site in (first, second):  # a fresh process, and one from another read-only copy
        hits, misses, _ = _run(site, home, tmp)
        assert (hits, misses) == (hits, 0) and hits > 0


def test_read_only_install_with_writable_home_shares_one_user_cache(sandbox):
    home = sandbox / "home"
    home.mkdir()
    tmp = sandbox / "tmp"
    tmp.mkdir()
    first, second = _install(sandbox, "env1"), _install(sandbox, "env2")

    hits, misses, stderr = _run(first, home, tmp)
    assert misses > 0 and hits == 0
    assert "RuntimeWarning" not in stderr  # a per-user cache directory is the normal place: no warning
    assert any((home / ".cache" / "remlib").rglob("*.nbi"))

    hits, misses, stderr = _run(second, home, tmp)  # a second environment reuses the first one's kernels
    assert misses == 0 and hits > 0 and "RuntimeWarning" not in stderr


def test_nothing_writable_runs_uncached_with_one_warning(monkeypatch):
    # no cache directory at all (numba: "cannot cache function ...: no locator available"): the
    # kernels still run, compiled in the process, after one warning for all of them
    import warnings

    import numpy as np

    from remlib import _numba

    monkeypatch.setattr(_numba._StampedCacheImpl, "_locator_classes", [])
    monkeypatch.setattr(_numba, "_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kernels = [_numba.njit(lambda x, k=k: x + k) for k in range(3)]
    assert [kernel(np.float64(1.0)) for kernel in kernels] == [1.0, 2.0, 3.0]
    assert len(caught) == 1 and "no writable cache directory" in str(caught[0].message)


# A book page as a reader runs it: jupytext opens the MyST page as a notebook and nbclient executes
# it in a fresh ipykernel in the page's folder.  The kernel is started by this process, so it
# inherits the environment (remlib from the read-only copy, the unwritable HOME) and the bounding
# set without the capabilities that let root write anyway.  Two cells are added around the page:
# the first only registers a listener for numba's compile events, the last reports.
_EXECUTE_PAGE = """
import sys
from pathlib import Path
import jupytext, nbformat
from nbclient import NotebookClient
page, observer, report, output = sys.argv[1:]
notebook = jupytext.read(page)
notebook.cells.insert(0, nbformat.v4.new_code_cell(observer))
notebook.cells.append(nbformat.v4.new_code_cell(report))
# allow_errors: every cell runs and errors stay in the notebook for the test to list; a cell's
# output may reach the client late on a busy machine (nbclient's 4 s would drop it silently)
NotebookClient(notebook, kernel_name="python3", timeout=300, allow_errors=True, iopub_timeout=120,
               raise_on_iopub_timeout=True, resources={"metadata": {"path": str(Path(page).parent)}}).execute()
nbformat.write(notebook, output)
"""

_OBSERVER = """
import numba.core.event
_readonly_compilations = numba.core.event.RecordingListener()
numba.core.event.register("numba:compile", _readonly_compilations)
"""

# every real compilation fires "numba:compile" (a kernel loaded from the cache does not); kernels
# loaded from the cache are counted by numba's cache statistics of every dispatcher alive
_REPORT = """
import gc, json, os, sys
import numba.core.event
from numba.core.dispatcher import Dispatcher
import remlib
numba.core.event.unregister("numba:compile", _readonly_compilations)
try:
    open(os.path.join(os.path.dirname(remlib.__file__), "written-by-the-kernel"), "w").close()
    _readonly_write_refused = False
except PermissionError:
    _readonly_write_refused = True
print("REPORT" + json.dumps({
    "python": sys.executable,
    "remlib": remlib.__file__,
    "write_refused": _readonly_write_refused,
    "compiled": [event.data["dispatcher"].py_func.__module__ + "." + event.data["dispatcher"].py_func.__qualname__
                 for _, event in _readonly_compilations.buffer if event.is_start],
    "loaded": sum(sum(dispatcher.stats.cache_hits.values())
                  for dispatcher in gc.get_objects() if isinstance(dispatcher, Dispatcher)),
}))
"""


def _first_pages():
    """The book's first page (the root of _toc.yml) and the first page of Principles and Mechanisms."""
    toc = yaml.safe_load((REPOSITORY / "_toc.yml").read_text())
    principles = next(part for part in toc["parts"] if part["caption"] == "Principles and Mechanisms")
    return [REPOSITORY / f"{name}.md" for name in (toc["root"], principles["chapters"][0]["file"])]


def _execute_page(page, site, home, tmp, output):
    """Execute ``page`` as a notebook with remlib from ``site``: its error outputs, stderr and report."""
    # Jupyter itself needs a writable runtime directory for the kernel's connection file (a
    # classroom's Jupyter server sets one); remlib gets only the unwritable HOME
    _python(["-c", _EXECUTE_PAGE, str(page), _OBSERVER, _REPORT, str(output)], site, home, tmp, cwd=tmp,
            JUPYTER_RUNTIME_DIR=str(tmp / "jupyter-runtime"))
    notebook = nbformat.read(output, as_version=4)
    outputs = [(index, out) for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"
               for out in cell.get("outputs", [])]
    errors = [f"cell {index}: {out.ename}: {out.evalue}" for index, out in outputs if out.output_type == "error"]
    stderr = [out.text for _, out in outputs if out.output_type == "stream" and out.name == "stderr"]
    reports = [out.text for out in notebook.cells[-1].outputs if "REPORT" in out.get("text", "")]
    assert len(reports) == 1, (page.name, errors, notebook.cells[-1].outputs)
    report = json.loads(reports[0].split("REPORT", 1)[1])
    return {"errors": errors, "stderr": stderr, **report}


@pytest.fixture(scope="module")
def book_runs():
    """Two readers run the book's first pages, each from its own read-only copy of remlib."""
    with _temporary_directory() as root:
        home = root / "home"
        home.mkdir(mode=0o555)
        tmp = root / "tmp"
        tmp.mkdir()
        pages = _first_pages()
        sites = [_install(root, "env1"), _install(root, "env2")]
        runs = [{page.name: _execute_page(page, site, home, tmp, root / f"{site.name}-{page.stem}.ipynb")
                 for page in pages} for site in sites]
        yield {"sites": sites, "tmp": tmp, "runs": runs}


def _uses_kernels(session):
    return session["loaded"] > 0 or any(name.startswith("remlib.") for name in session["compiled"])


@pytest.mark.timeout(600)
def test_the_first_pages_run_from_a_read_only_install_without_an_error(book_runs):
    for site, run in zip(book_runs["sites"], book_runs["runs"]):
        for page, session in run.items():
            assert session["errors"] == [], (page, session["errors"])
            # the kernel imported the read-only copy and could not write into it
            assert Path(session["remlib"]).is_relative_to(site) and session["write_refused"], (page, session)
            # A reader sees where the kernels are cached: remlib's RuntimeWarning, once per kernel
            # session, as stderr text below the reader's own line that first reached a kernel (the
            # cell's file, not a line inside numba or remlib), not as an error
            warnings = [text for text in session["stderr"] if "RuntimeWarning: remlib" in text]
            assert len(warnings) == (1 if _uses_kernels(session) else 0), (page, session["stderr"])
            assert all("cached in" in text and "remlib-numba-" in text for text in warnings), warnings
            assert all(text.startswith(str(book_runs["tmp"] / "ipykernel_")) for text in warnings), warnings
        assert not any((site / "remlib").rglob("*.nbi"))  # nothing was written into the install
    # the claim below means something only if a page runs remlib's kernels
    assert any(_uses_kernels(session) for session in book_runs["runs"][0].values())


@pytest.mark.timeout(600)
def test_the_first_pages_compile_once_per_machine(book_runs):
    """The first reader compiles remlib's kernels; the second, from another read-only install,
    compiles nothing at all (no remlib kernel, no numba internal) and loads every kernel."""
    first, second = book_runs["runs"]
    assert any(session["compiled"] for session in first.values())
    for page, session in second.items():
        assert session["compiled"] == [], page
        compiled_first = [name for name in first[page]["compiled"] if name.startswith("remlib.")]
        assert session["loaded"] >= len(compiled_first), (page, session)
