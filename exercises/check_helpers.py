"""Helpers used by the tests of the Hands-On Practices.

Every check of every practice calls the student's functions through
:func:`call`, which gives a clear message instead of a traceback when the
function is missing, raises, or runs longer than a time limit, and then
validates what came back with :func:`number` or :func:`array` (type, shape,
NaN).  :func:`close` compares with a reference and adds a hint that names the
likely mistake.  All failures are ``AssertionError`` so that otter reports
them as a failed test with the message, never as a crash of the grader.

This file ships next to each student notebook (``files:`` in the assignment
configuration); it only needs numpy and the standard library.
"""

import math
import signal
import threading

import numpy as np

DEFAULT_TIMEOUT = 2.0
"""Seconds one call of a student function may take before the check stops it."""


class _TimeLimit(BaseException):
    """Raised inside the student's function at the time limit (a BaseException, so that a
    student's ``except Exception`` cannot swallow it)."""


def _require_filled(value, name):
    """Raise ``AssertionError`` if ``value`` is an unfilled placeholder (``None`` or ``...``)."""
    if value is None:
        raise AssertionError(f"`{name}` is None: did you forget to `return` the result (or to run its cell)?")
    if value is Ellipsis:
        raise AssertionError(f"`{name}` is still `...`: replace the `...` with your answer and run the cell.")


def _as_floats(value, name, wanted):
    """``value`` as a float array; ``AssertionError`` naming ``name`` for a placeholder or a
    value that is not numeric (``wanted`` says what it should be, e.g. "a number")."""
    _require_filled(value, name)
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(
            f"`{name}` should be {wanted}, but it is a {type(value).__name__}: {value!r:.80}"
        ) from None


def _run_with_alarm(func, args, kwargs, timeout):
    """Run ``func`` with a SIGALRM-based time limit (main thread, POSIX)."""

    def _handler(signum, frame):
        raise _TimeLimit()

    previous = signal.signal(signal.SIGALRM, _handler)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return func(*args, **kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _run_in_thread(func, args, kwargs, timeout):
    """Run ``func`` in a daemon thread and give up waiting after ``timeout`` s."""
    box = {}

    def _target():
        try:
            box["value"] = func(*args, **kwargs)
        except BaseException as error:  # handed back to the caller below
            box["error"] = error

    worker = threading.Thread(target=_target, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise _TimeLimit()
    if "error" in box:
        raise box["error"]
    return box["value"]


def call(func, *args, name=None, timeout=None, **kwargs):
    """Call a student's function with a time limit and readable failures.

    Parameters
    ----------
    func : callable
        The student's function (``None`` or ``...`` if not written yet).
    *args, **kwargs
        Passed to ``func``.
    name : str, optional
        Name shown in messages (default: ``func.__name__``).
    timeout : float, optional
        Seconds before the call is stopped with a message (default:
        ``DEFAULT_TIMEOUT``, read at call time).

    Returns
    -------
    object
        Whatever ``func`` returned.

    Raises
    ------
    AssertionError
        With a message for a missing function, an exception inside it, or a
        call that did not finish within ``timeout`` seconds.
    """
    label = name or getattr(func, "__name__", "your function")
    timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    _require_filled(func, label)
    if not callable(func):
        raise AssertionError(f"`{label}` should be a function, but it is a {type(func).__name__}.")
    use_alarm = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    runner = _run_with_alarm if use_alarm else _run_in_thread
    try:
        return runner(func, args, kwargs, timeout)
    except _TimeLimit:
        raise AssertionError(
            f"`{label}` did not finish within {timeout:g} s: is there an endless loop "
            "(a `while` whose condition never changes) or a far too large array?"
        ) from None
    except AssertionError as error:
        raise AssertionError(f"`{label}` raised AssertionError: {error}") from None
    except Exception as error:
        raise AssertionError(
            f"`{label}` raised {type(error).__name__}: {error}. Run it yourself on the example "
            "in the question to see where it fails."
        ) from None


def number(value, name, *, allow_inf=False):
    """Check that ``value`` is one real number and return it as ``float``.

    Raises ``AssertionError`` naming ``name`` for ``None``/``...``, arrays of
    more than one element, non-numbers, NaN and (unless ``allow_inf``) inf.
    """
    if isinstance(value, (bool, np.bool_)):
        raise AssertionError(f"`{name}` should be a number, but it is a boolean ({value}).")
    arr = _as_floats(value, name, "a number")
    if arr.size != 1:
        raise AssertionError(
            f"`{name}` should be a single number, but it has shape {arr.shape}: "
            "did you forget to sum (or to pick one element)?"
        )
    result = float(arr.reshape(()))
    if math.isnan(result):
        raise AssertionError(f"`{name}` is NaN: look for 0/0, log of a negative number, or 0*inf.")
    if math.isinf(result) and not allow_inf:
        raise AssertionError(f"`{name}` is {result}: look for a division by zero or log(0).")
    return result


def array(value, name, *, shape=None, allow_inf=False, allow_nan=False):
    """Check that ``value`` is a numeric array (of ``shape`` if given) and return it.

    ``shape`` may contain ``None`` for an axis of any length.  Raises
    ``AssertionError`` naming ``name`` for placeholders, non-numeric values,
    wrong shapes and NaN/inf entries.
    """
    arr = _as_floats(value, name, "an array of numbers")
    if shape is not None:
        shape = tuple(shape)
        ok = arr.ndim == len(shape) and all(
            want is None or want == got for want, got in zip(shape, arr.shape)
        )
        if not ok:
            wanted = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise AssertionError(f"`{name}` should have shape {wanted}, but it has shape {arr.shape}.")
    if not allow_nan and np.isnan(arr).any():
        raise AssertionError(
            f"`{name}` contains NaN at index {np.argwhere(np.isnan(arr))[0].tolist()}: "
            "look for 0/0 or log of a negative number."
        )
    if not allow_inf and np.isinf(arr).any():
        raise AssertionError(
            f"`{name}` contains inf at index {np.argwhere(np.isinf(arr))[0].tolist()}: "
            "look for a division by zero or log(0)."
        )
    return arr


def parts(value, name, count):
    """Check that ``value`` is a tuple (or list) of ``count`` items and return it as a tuple."""
    _require_filled(value, name)
    if not isinstance(value, (tuple, list)) or len(value) != count:
        raise AssertionError(
            f"`{name}` should be a tuple of {count} items, but it is a {type(value).__name__}"
            + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
            + f": return them separated by commas, `return a, b{', c' if count > 2 else ''}`."
        )
    return tuple(value)


def close(actual, expected, name, *, rtol=1e-6, atol=1e-9, hint=""):
    """Assert that ``actual`` is close to ``expected`` (numbers or arrays).

    The message shows both values and ends with ``hint`` (the likely mistake).
    """
    actual_arr = np.asarray(actual, dtype=float)
    expected_arr = np.asarray(expected, dtype=float)
    if actual_arr.shape != expected_arr.shape:
        raise AssertionError(
            f"`{name}` has shape {actual_arr.shape}, expected {expected_arr.shape}. {hint}".strip()
        )
    if not np.allclose(actual_arr, expected_arr, rtol=rtol, atol=atol, equal_nan=False):
        if actual_arr.size == 1:
            shown = f"{float(actual_arr.reshape(())):.6g}, expected {float(expected_arr.reshape(())):.6g}"
        else:
            worst = int(np.argmax(np.abs(actual_arr - expected_arr).ravel()))
            shown = (
                f"{np.round(actual_arr.ravel()[:6], 5).tolist()}..., expected "
                f"{np.round(expected_arr.ravel()[:6], 5).tolist()}... "
                f"(largest difference at flat index {worst})"
            )
        raise AssertionError(f"`{name}` = {shown}. {hint}".strip())


def check(condition, message):
    """``assert`` that survives ``python -O``: raise ``AssertionError(message)`` if not ``condition``."""
    if not bool(condition):
        raise AssertionError(message)
