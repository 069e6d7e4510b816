"""The one place that owns numba settings for remlib.

Every compiled kernel in the package is declared with :data:`njit` from here, so the
cache policy and the fast-math policy are decided once.  Kernels are private
(``_name``) and take plain arrays and scalars; the public functions validate input
before calling them, so a user's mistake never surfaces as a numba typing error.

On-disk cache and kernels of other modules
------------------------------------------
numba keeps a cached kernel as long as the source file *that defines it* is unchanged.
A kernel that calls a kernel of another module (the samplers of ``ensembles.py`` call
the energy kernels of ``basis.py``; ``montecarlo.py`` calls the cell lists of
``neighbors.py``) has the callee's machine code compiled into its own cache entry, so
after an update of the callee's file alone the caller would keep running the old code.
The kernels declared here therefore stamp their cache entries with the contents of
:data:`KERNEL_LIBRARIES` as well: a change to any of those files invalidates every
remlib cache entry, and the next call compiles afresh.
"""
import hashlib
from pathlib import Path

import numba
from numba.core.caching import CompileResultCacheImpl, FunctionCache

#: remlib modules whose kernels are called from kernels of other modules.  A test
#: (tests/test_ensembles.py) checks that every such module is listed here.
KERNEL_LIBRARIES = ("_numba.py", "basis.py", "cells.py", "neighbors.py")


def _library_fingerprint():
    """SHA-256 of the source files in :data:`KERNEL_LIBRARIES`."""
    digest = hashlib.sha256()
    for name in KERNEL_LIBRARIES:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()


_FINGERPRINT = _library_fingerprint()


class _StampedLocator:
    """numba's cache locator for a function, with :data:`KERNEL_LIBRARIES` in its stamp."""

    def __init__(self, locator):
        self._locator = locator

    def __getattr__(self, name):
        return getattr(self._locator, name)

    def get_source_stamp(self):
        return (self._locator.get_source_stamp(), _FINGERPRINT)


class _StampedCacheImpl(CompileResultCacheImpl):
    def __init__(self, py_func):
        super().__init__(py_func)
        self._locator = _StampedLocator(self._locator)


class _StampedFunctionCache(FunctionCache):
    _impl_class = _StampedCacheImpl


def njit_with(**options):
    """``numba.njit`` with a stamped on-disk cache plus extra options (e.g. ``parallel=True``).

    ``signature_or_function`` (eager compilation) is honoured after the cache is attached,
    as ``numba.njit(cache=True, ...)`` does.
    """
    signatures = options.pop("signature_or_function", None)
    if signatures is not None and not isinstance(signatures, list):
        signatures = [signatures]

    def decorate(function):
        dispatcher = numba.njit(**options)(function)
        dispatcher._cache = _StampedFunctionCache(dispatcher.py_func)
        if signatures is not None:
            for signature in signatures:
                dispatcher.compile(signature)
            dispatcher.disable_compile()
        return dispatcher

    return decorate


#: ``numba.njit`` with on-disk caching: a second process reuses the compiled code.
njit = njit_with()
#: The same, for kernels that run walkers or particles in parallel with ``prange``.
njit_parallel = njit_with(parallel=True)
prange = numba.prange
