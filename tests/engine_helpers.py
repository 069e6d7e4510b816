"""What the engine tests share: skip or fail when an external engine is missing.

Run alone (``pytest tests/test_engines.py``) a test that needs LAMMPS, OpenMM or another
engine skips with the reason; under ``make test`` (``REMLIB_REQUIRE_ENGINES=1``, which installs
the engines first) it fails instead, so a missing engine never passes silently.
"""
import os
import shutil

import pytest

LMP_MISSING = "LAMMPS (Debian's lammps, the `lmp` binary) is not installed; `make test` installs it"
GMX_MISSING = "GROMACS (Debian's gromacs, the `gmx` binary) is not installed; `make test` installs it"


def require(available, message):
    """Skip when run alone without the engine; fail under `make test` (REMLIB_REQUIRE_ENGINES=1)."""
    if not available:
        if os.environ.get("REMLIB_REQUIRE_ENGINES"):
            pytest.fail(message)
        pytest.skip(message)


def require_lmp():
    """The `lmp` program of Debian's lammps package."""
    require(shutil.which("lmp") is not None, LMP_MISSING)


def require_gmx():
    """The `gmx` program of Debian's gromacs package."""
    require(shutil.which("gmx") is not None, GMX_MISSING)


def require_module(name, install):
    """A Python module ``name``; ``install`` says how to get it."""
    try:
        __import__(name)
    except ImportError:
        require(False, f"{name} is not installed ({install})")
