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

Where the cache lives
---------------------
In this order, the first writable place wins:

1. ``$NUMBA_CACHE_DIR`` if it is set (numba's own rule);
2. ``__pycache__`` beside the module (an editable checkout or a writable install);
3. a per-user directory, ``$XDG_CACHE_HOME/remlib/<source hash>`` (default
   ``~/.cache/remlib/...``);
4. ``<tempdir>/remlib-numba-<uid>/<source hash>``, owned by the user and private.

Places 3 and 4 are named after a hash of remlib's source, not after the install path, so
every read-only install of the same remlib on a machine (one per classroom virtual
environment, say) shares one cache and compiles once.  Falling back to place 4, or to no
cache at all when nothing is writable, issues one :class:`RuntimeWarning` per process.
"""
import functools
import hashlib
import importlib
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numba
from numba.core.caching import (
    CompileResultCacheImpl,
    FunctionCache,
    InTreeCacheLocator,
    UserProvidedCacheLocator,
    _CacheLocator,
    _SourceFileBackedLocatorMixin,
)

#: remlib modules whose kernels are called from kernels of other modules.  A test
#: (tests/test_ensembles.py) checks that every such module is listed here.
KERNEL_LIBRARIES = ("_numba.py", "basis.py", "cells.py", "neighbors.py")

_PACKAGE = Path(__file__).parent


def _library_fingerprint():
    """SHA-256 of the source files in :data:`KERNEL_LIBRARIES`."""
    digest = hashlib.sha256()
    for name in KERNEL_LIBRARIES:
        digest.update((_PACKAGE / name).read_bytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=None)
def _package_fingerprint():
    """SHA-256 of every module of remlib: names the shared cache directory of this source."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


_FINGERPRINT = _library_fingerprint()
_warned = False


def _user_stacklevel():
    """``stacklevel`` of the first caller of :func:`_warn_once` outside remlib, numba and importlib.

    The cache is chosen when a kernel is declared, i.e. while a remlib module is imported
    deep inside numba and the import machinery: the warning names the user's line that
    imported it.  Frames of ``importlib._bootstrap`` do not count (``warnings`` skips them).
    """
    library = tuple(os.path.dirname(module.__file__) + os.sep for module in (numba, importlib))
    library += (str(_PACKAGE) + os.sep, "<frozen importlib")
    frame, level = sys._getframe(2), 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(library):
        frame = frame.f_back
        name = frame.f_code.co_filename
        level += not ("importlib" in name and "_bootstrap" in name)
    return level


def _warn_once(message):
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(message, RuntimeWarning, stacklevel=_user_stacklevel())


def _user_cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "remlib")


def _temporary_cache_root():
    return os.path.join(tempfile.gettempdir(), f"remlib-numba-{os.getuid() if hasattr(os, 'getuid') else 'user'}")


class _SharedCacheLocator(_SourceFileBackedLocatorMixin, _CacheLocator):
    """A cache directory outside the package, named after remlib's source rather than its path."""

    _root = staticmethod(_user_cache_root)

    def __init__(self, py_func, py_file):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = os.path.join(self._root(), _package_fingerprint()[:16])

    def get_cache_path(self):
        return self._cache_path

    def ensure_cache_path(self):
        root = self._root()
        os.makedirs(root, mode=0o700, exist_ok=True)
        if hasattr(os, "getuid"):
            status = os.stat(root)
            if status.st_uid != os.getuid() or status.st_mode & 0o022:
                raise PermissionError(f"{root} is not a private directory of this user")
        super().ensure_cache_path()


class _TemporaryCacheLocator(_SharedCacheLocator):
    _root = staticmethod(_temporary_cache_root)

    @classmethod
    def from_function(cls, py_func, py_file):
        locator = super().from_function(py_func, py_file)
        if locator is not None:
            _warn_once(f"remlib: neither the package directory {_PACKAGE} nor {_user_cache_root()} is writable; "
                       f"compiled kernels are cached in {locator.get_cache_path()} (set NUMBA_CACHE_DIR to "
                       "choose another place)")
        return locator


class _StampedLocator:
    """numba's cache locator for a function, with :data:`KERNEL_LIBRARIES` in its stamp."""

    def __init__(self, locator):
        self._locator = locator

    def __getattr__(self, name):
        return getattr(self._locator, name)

    def get_source_stamp(self):
        return (self._locator.get_source_stamp(), _FINGERPRINT)


class _StampedCacheImpl(CompileResultCacheImpl):
    _locator_classes = [UserProvidedCacheLocator, InTreeCacheLocator, _SharedCacheLocator, _TemporaryCacheLocator]

    def __init__(self, py_func):
        super().__init__(py_func)
        self._locator = _StampedLocator(self._locator)


class _StampedFunctionCache(FunctionCache):
    _impl_class = _StampedCacheImpl


def _attach_cache(dispatcher):
    """Give ``dispatcher`` the stamped on-disk cache, or leave it uncached if no place is writable."""
    try:
        dispatcher._cache = _StampedFunctionCache(dispatcher.py_func)
    except RuntimeError as exc:  # numba: "cannot cache function ...: no locator available"
        _warn_once(f"remlib: no writable cache directory ({exc}); kernels are compiled in every new process "
                   "(set NUMBA_CACHE_DIR to a writable directory to keep them)")


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
        _attach_cache(dispatcher)
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
