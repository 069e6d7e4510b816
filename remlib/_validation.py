"""Input checks shared by the public functions of remlib.

Each helper raises ``ValueError`` or ``TypeError`` with a message that names the
argument and says what was expected, so user mistakes never reach a numba kernel:

- numbers: :func:`as_positive_int` (a real integer, not a bool or ``8.0``; numpy
  integers and 0-d integer arrays accepted), :func:`as_positive_scalar` and
  :func:`as_real_scalar` (a real number, not a string or a bool; numpy scalars and
  0-d arrays accepted), :func:`as_flag` (``True`` or ``False`` only); :func:`unwrap_0d`
  (a 0-d array stands for its scalar);
- arrays: :func:`as_float_array` (rank, emptiness, finiteness; strings and truth
  values refused), :func:`as_distribution`, :func:`as_weights`, :func:`as_theta`;
- objects: :func:`check_instance`, :func:`check_basis`, :func:`as_choice`;
  :func:`as_path` (a path, never an int taken as a file descriptor), :func:`as_cache_dir`
  (a simulation's cache folder);
- randomness: :func:`as_generator`, :func:`kernel_seed`;
- memory: :func:`check_memory` refuses an argument whose implied allocation exceeds
  :func:`memory_limit`, before anything is allocated.
"""
import numbers
import os

import numpy as np

_GB = 1024**3


# ----------------------------------------------------------------------------- numbers
def unwrap_0d(value):
    """A 0-d numpy array stands for its scalar."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    return value


def _describe(value):
    text = repr(value)
    return text if len(text) <= 40 else f"a {type(value).__name__}"


def as_positive_int(value, name, *, minimum=1, maximum=None):
    """Return ``value`` as an int after checking it is an integer in ``[minimum, maximum]``.

    Python and numpy integers (and 0-d integer arrays) are accepted; bools, floats such as
    ``8.0`` and strings are refused with a ``TypeError``.
    """
    value = unwrap_0d(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


def as_count(value, name, bytes_each, *, minimum=1):
    """A count (:func:`as_positive_int`) whose result takes ``bytes_each`` bytes per unit.

    Refused by :func:`check_memory` before anything is allocated when ``value * bytes_each``
    exceeds :func:`memory_limit`.
    """
    value = as_positive_int(value, name, minimum=minimum)
    check_memory(name, value, float(value) * bytes_each)
    return value


def as_real_scalar(value, name, *, finite=True):
    """Return ``value`` as a float after checking it is a real number (not a string or a bool)."""
    value = unwrap_0d(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    value = float(value)
    if finite and not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def as_positive_scalar(value, name, *, allow_zero=False):
    """Return ``value`` as a float after checking it is a finite positive number."""
    value = as_real_scalar(value, name, finite=False)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return value


def as_flag(value, name):
    """Return ``value`` as a bool after checking it is ``True`` or ``False`` (not 0, 1 or a string)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_describe(value)}")
    return bool(value)


# ----------------------------------------------------------------------------- arrays
def as_float_array(value, name, *, ndim=None, allow_empty=False, finite=True):
    """Convert ``value`` to a float64 array and check its rank and values.

    Parameters
    ----------
    value : array_like
        What the user passed.  Strings (also numeric ones such as ``"1.5"``) and truth
        values are refused: numpy would silently turn them into numbers.
    name : str
        The argument's name, used in error messages.
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    allow_empty : bool
        Whether a zero-size array is acceptable.
    finite : bool
        Whether NaN and infinite entries are rejected.
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got a string")
    try:
        raw = value if isinstance(value, np.ndarray) else np.asarray(value)
        if raw.dtype.kind in "USbcMm":
            kind = {"U": "strings", "S": "strings", "b": "truth values", "c": "complex numbers"}.get(
                raw.dtype.kind, "dates or times")
            raise TypeError(f"{name} must be an array of real numbers, got {kind}")
        if raw.dtype.kind == "O" and any(isinstance(item, (str, bytes, bool, np.bool_)) for item in raw.flat):
            raise TypeError(f"{name} must be an array of real numbers, got strings or truth values among them")
        array = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        if str(exc).startswith(name):
            raise
        raise TypeError(f"{name} must be an array of real numbers, got {type(value).__name__}") from exc
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimension(s), got shape {array.shape}")
    if not allow_empty and array.size == 0:
        raise ValueError(f"{name} is empty; at least one value is needed")
    if finite and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def as_distribution(weights, name):
    """Non-negative, finite, not all-zero weights -> probabilities summing to one.

    The weights are scaled by their largest entry before they are summed, so weights
    near the largest float (whose plain sum overflows) or near the smallest normalise
    correctly.
    """
    array = as_float_array(weights, name, finite=False)
    if np.any(np.isnan(array)):
        raise ValueError(f"{name} contains NaN values")
    if np.any(np.isinf(array)):
        raise ValueError(f"{name} contains infinite values")
    if np.any(array < 0):
        raise ValueError(f"{name} contains negative values; probabilities must be >= 0")
    largest = array.max()
    if largest <= 0:
        raise ValueError(f"{name} sums to zero; at least one positive weight is needed")
    scaled = array / largest
    return scaled / scaled.sum()


def as_weights(weights, n, name="weights"):
    """Non-negative finite weights of length ``n`` with a positive sum."""
    weights = as_float_array(weights, name, ndim=1)
    if weights.shape[0] != n:
        raise ValueError(f"{name} must have one entry per point ({n}), got {weights.shape[0]}")
    if np.any(weights < 0):
        raise ValueError(f"{name} must be non-negative")
    if not weights.sum() > 0:
        raise ValueError(f"{name} must not all be zero")
    return weights


def as_theta(theta, n_functions, name="theta"):
    """Parameters of a basis of ``n_functions`` functions as a flat float array (a copy)."""
    theta = as_float_array(theta, name, ndim=(0, 1)).reshape(-1)
    if theta.shape != (n_functions,):
        raise ValueError(f"{name} must have {n_functions} entries (one per basis function), got {theta.size}")
    return theta.copy()


# ----------------------------------------------------------------------------- objects
def check_instance(value, types, name, expected):
    """Raise a short ``TypeError`` unless ``value`` is an instance of ``types``.

    ``expected`` says in words what was expected; the message shows only the type of what
    was passed (never a whole table or array).
    """
    if not isinstance(value, types):
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__}")
    return value


def check_basis(basis, dim):
    """``basis`` is a :class:`remlib.basis.Basis` acting on ``dim``-dimensional coordinates."""
    from remlib.basis import Basis

    check_instance(basis, Basis, "basis", "a remlib.basis.Basis")
    if basis.dim != dim:
        raise ValueError(f"basis acts on {basis.dim}-dimensional coordinates but the ensemble is {dim}-dimensional")


def outside_support(ensemble, samples, weights=None):
    """Which samples (rows; those of weight 0 excepted) lie outside ``ensemble.support``.

    A model confined to a grid or to hard walls has zero probability outside its support
    ``(low, high)``; an ensemble without a ``support`` attribute is taken as unbounded.
    The edges get a relative slack of 1e-9 for rounding.
    """
    points = np.asarray(samples, dtype=float)
    points = points.reshape(points.shape[0], -1) if points.ndim else points.reshape(1, 1)
    support = getattr(ensemble, "support", None)
    if support is None:
        return np.zeros(points.shape[0], dtype=bool)
    low, high = (np.asarray(bound, dtype=float) for bound in support)
    slack = 1e-9 * np.where(np.isfinite(high - low), np.abs(high - low) + 1.0, 0.0)
    outside = np.any((points < low - slack) | (points > high + slack), axis=1)
    if weights is not None:
        outside &= np.asarray(weights, dtype=float) > 0
    return outside


_TABLE_MAKERS = {"r2": "tabulate_pair", "r": "tabulate_bond", "theta": "tabulate_angle"}


def check_table(table, name, variable, *, optional=False):
    """``table`` is a :class:`remlib.montecarlo.Table` over ``variable`` ("r2", "r" or "theta").

    The message names the argument and the table kinds, never the table's contents.
    """
    from remlib.montecarlo import Table

    if table is None and optional:
        return None
    maker = _TABLE_MAKERS[variable]
    if not isinstance(table, Table):
        raise TypeError(f"{name} must be a Table from remlib.{maker}, got {type(table).__name__}")
    if table.variable != variable:
        raise TypeError(f"{name} must be a table from remlib.{maker} (over {variable}), got a table over "
                        f"{table.variable} (from remlib.{_TABLE_MAKERS.get(table.variable, '?')})")
    return table


def as_choice(value, name, choices):
    """``value`` is one of the strings ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {_describe(value)}")
    return value


def as_path(value, name="path"):
    """A file path (``str`` or ``os.PathLike``); an int is refused, not taken as a file descriptor."""
    if isinstance(value, (bool, numbers.Number)) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path (str or pathlib.Path), got {_describe(value)}")
    path = os.fspath(value)
    if not isinstance(path, str):
        raise TypeError(f"{name} must be a file path (str or pathlib.Path), got {type(path).__name__}")
    if not path:
        raise ValueError(f"{name} is an empty string; a file path is needed")
    return path


def as_cache_dir(cache_dir, *, allow_none=True):
    """A simulation's ``cache_dir`` argument checked: ``"default"``, a folder path, or (if allowed) None.

    Raises
    ------
    TypeError
        ``cache_dir`` is not a path (an int is not taken as a file descriptor), or None where
        caching cannot be turned off.
    ValueError
        ``cache_dir`` is an empty string (which would mean the current directory).

    Examples
    --------
    >>> from pathlib import Path
    >>> as_cache_dir("default"), as_cache_dir(None), as_cache_dir(Path("runs"))
    ('default', None, 'runs')
    """
    if cache_dir is None and allow_none:
        return None
    if isinstance(cache_dir, str) and cache_dir == "default":
        return cache_dir
    expected = "a folder path, 'default'" + (" or None" if allow_none else "")
    if cache_dir is None:
        raise TypeError(f"cache_dir must be {expected}, got None")
    return as_path(cache_dir, "cache_dir")


# ----------------------------------------------------------------------------- memory
def memory_limit():
    """The most memory, in bytes, one argument may imply: half the physical memory, at most 4 GiB.

    The environment variable ``REMLIB_MAX_MEMORY_GB`` overrides it.
    """
    override = os.environ.get("REMLIB_MAX_MEMORY_GB")
    if override:
        return float(override) * _GB
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        physical = 8 * _GB
    return min(4 * _GB, physical / 2)


def check_memory(name, value, n_bytes):
    """Refuse an argument ``name=value`` whose result would take ``n_bytes`` (before allocating it)."""
    n_bytes = float(n_bytes)
    limit = memory_limit()
    if n_bytes > limit:
        raise ValueError(f"{name}={value} would need about {n_bytes / _GB:.3g} GB of memory, more than the "
                         f"{limit / _GB:.3g} GB remlib allows (set REMLIB_MAX_MEMORY_GB to raise the limit)")


# ----------------------------------------------------------------------------- randomness
def as_generator(seed):
    """Return a ``numpy.random.Generator`` for ``seed`` (None, an int >= 0 or a Generator)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    seed = unwrap_0d(seed)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be None, an int or a numpy.random.Generator, got {_describe(seed)}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return np.random.default_rng(int(seed))


def kernel_seed(seed):
    """An integer seed for a numba kernel's own generator, drawn from ``seed``.

    numba kernels keep their own random state; seeding it from the user's generator
    makes compiled runs reproducible from the same ``seed`` argument.
    """
    return int(as_generator(seed).integers(0, 2**63 - 1))
