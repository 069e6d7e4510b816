"""Input checks shared by the public functions of remlib.

Each helper raises ``ValueError`` or ``TypeError`` with a message that names the
argument and says what was expected, so user mistakes never reach a numba kernel.
"""
import numbers

import numpy as np


def as_float_array(value, name, *, ndim=None, allow_empty=False, finite=True):
    """Convert ``value`` to a float64 array and check its rank and values.

    Parameters
    ----------
    value : array_like
        What the user passed.
    name : str
        The argument's name, used in error messages.
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    allow_empty : bool
        Whether a zero-size array is acceptable.
    finite : bool
        Whether NaN and infinite entries are rejected.
    """
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
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


def as_positive_scalar(value, name, *, allow_zero=False):
    """Return ``value`` as a float after checking it is a finite positive number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return value


def as_positive_int(value, name, *, minimum=1):
    """Return ``value`` as an int after checking it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def as_generator(seed):
    """Return a ``numpy.random.Generator`` for ``seed`` (None, an int or a Generator)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be None, an int or a numpy.random.Generator, got {type(seed).__name__}")


def kernel_seed(seed):
    """An integer seed for a numba kernel's own generator, drawn from ``seed``.

    numba kernels keep their own random state; seeding it from the user's generator
    makes compiled runs reproducible from the same ``seed`` argument.
    """
    return int(as_generator(seed).integers(0, 2**63 - 1))
