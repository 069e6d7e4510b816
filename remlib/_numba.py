"""The one place that owns numba settings for remlib.

Every compiled kernel in the package is declared with :data:`njit` from here, so the
cache policy and the fast-math policy are decided once.  Kernels are private
(``_name``) and take plain arrays and scalars; the public functions validate input
before calling them, so a user's mistake never surfaces as a numba typing error.
"""
import numba

#: ``numba.njit`` with on-disk caching: a second process reuses the compiled code.
njit = numba.njit(cache=True)
#: The same, for kernels that run walkers or particles in parallel with ``prange``.
njit_parallel = numba.njit(cache=True, parallel=True)
prange = numba.prange


def njit_with(**options):
    """``numba.njit`` with ``cache=True`` plus extra options (e.g. ``parallel=True``)."""
    return numba.njit(cache=True, **options)
