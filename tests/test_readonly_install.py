"""remlib installed read-only (a classroom or a shared cluster): kernels run and compile once.

numba caches compiled kernels beside the module by default.  Here a copy of remlib is
made read-only and ``HOME`` unwritable, and the same calls run in fresh processes:
the first process compiles (and caches in a fallback directory, with one warning), the
following ones, even from a second read-only copy (another virtual environment of the
same remlib), load every kernel from that cache.  Compilation is counted by numba's own
cache statistics of every remlib kernel.

When the tests run as root, write permissions are enforced by dropping the capabilities
that let root ignore them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) in the child process.
"""
import ctypes
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import remlib

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


@pytest.fixture
def sandbox():
    root = Path(tempfile.mkdtemp(prefix="remlib-readonly-"))
    try:
        yield root
    finally:
        for directory, _, _ in os.walk(root):
            os.chmod(directory, stat.S_IRWXU)
        shutil.rmtree(root)


def _install(root, name):
    """A read-only copy of remlib under ``root/name`` (no cache files), as an installer leaves it."""
    site = root / name
    shutil.copytree(Path(remlib.__file__).parent, site / "remlib", ignore=shutil.ignore_patterns("__pycache__"))
    _read_only_tree(site)
    return site


def _run(site, home, tmp, **extra):
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(site), "HOME": str(home), "TMPDIR": str(tmp),
           "NUMBA_CACHE_DIR": "", **extra}
    result = subprocess.run([sys.executable, "-c", _PROBE], cwd=tmp, env=env, capture_output=True, text=True,
                            timeout=600, preexec_fn=_without_root_overrides if os.geteuid() == 0 else None)
    assert result.returncode == 0, result.stderr[-3000:]
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
    assert stderr.count("RuntimeWarning") == 1 and "remlib-numba-" in stderr  # ... and says once where it caches
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
