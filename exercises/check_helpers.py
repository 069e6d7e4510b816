"""Helpers used by the Hands-On Practices: their checks, time limits and the score table.

Every check of every practice calls the student's functions through :func:`call`, which
gives a clear message instead of a traceback when the function is missing, still a ``...``
stub, raises, or runs longer than a time limit, and then validates what came back with
:func:`number`, :func:`array` or :func:`parts` (type, shape, NaN).  :func:`close` compares
with a reference and adds a hint that names the likely mistake; :func:`prerequisite` stops a
check that builds on an earlier question with "fix Qn first" while that question fails.  All
failures are ``AssertionError`` so that otter reports them as a failed test with the message,
never as a crash of the grader.

In the notebook, :func:`time_limit` guards the cells that call the student's functions (an
endless loop stops with a message instead of hanging the kernel), and :func:`score` prints the
points per question and the total.  Imported in a Jupyter kernel, this module watches which
cells raised, so that a check can say "`x` is not defined: the cell that defines it raised
ZeroDivisionError" instead of "`x` is None".

This file ships next to each student notebook (``files:`` in the assignment configuration);
it only needs numpy and the standard library.
"""

import ast
import contextlib
import dis
import math
import re
import signal
import sys
import threading

import numpy as np

DEFAULT_TIMEOUT = 10.0
"""Seconds one call of a student function may take inside a check before the check stops it."""


class _TimeLimit(BaseException):
    """Raised inside the student's code at the time limit (a BaseException, so that a
    student's ``except Exception`` cannot swallow it)."""


# ----------------------------------------------------------------------------------------------
# which notebook cells raised, and what they define
# ----------------------------------------------------------------------------------------------

_CELL_ERRORS = {}
"""name -> the exception that stopped the last run of the cell that defines the name."""


def _defined_names(source):
    """Names a cell's top-level code binds (assignments, ``def``, ``class``, imports)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # the cell does not parse: find its definitions by pattern
        return set(re.findall(r"^\s*def\s+([A-Za-z_]\w*)", source, re.M)) | set(
            re.findall(r"^\s*([A-Za-z_]\w*)\s*=[^=]", source, re.M)
        )
    names, stack = set(), list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        if not isinstance(node, ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))
    return names


def record_cell(source, error=None):
    """Remember whether the cell with ``source`` raised ``error`` (``None``: it ran cleanly).

    Called after every cell by the Jupyter hook that importing this module installs (and by
    the tests, which run cells without Jupyter).
    """
    for name in _defined_names(source):
        if error is None:
            _CELL_ERRORS.pop(name, None)
        else:
            _CELL_ERRORS[name] = error


def _after_cell(result):
    """IPython ``post_run_cell`` hook: record the cell's error (if any) by the names it defines."""
    shell = _ipython()
    source = result.info.raw_cell if result.info is not None else ""
    if shell is not None:
        with contextlib.suppress(Exception):
            source = shell.transform_cell(source)  # magics -> Python
    record_cell(source, result.error_before_exec or result.error_in_exec)


def _ipython():
    """The running IPython shell, or ``None`` outside IPython."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell if shell is not None and hasattr(shell, "events") else None


def _watch_cells():
    """Install :func:`_after_cell` once per kernel (re-importing this module replaces it)."""
    shell = _ipython()
    if shell is None:
        return
    previous = getattr(shell, "_check_helpers_hook", None)
    if previous is not None:
        with contextlib.suppress(ValueError):
            shell.events.unregister("post_run_cell", previous)
    shell.events.register("post_run_cell", _after_cell)
    shell._check_helpers_hook = _after_cell


def _notebook_namespace():
    """The namespace the checks run against: otter's ``global_environment`` (found on the call
    stack), else the Jupyter user namespace, else ``None``."""
    frame = sys._getframe(1)
    while frame is not None:
        env = frame.f_locals.get("global_environment")
        if isinstance(env, dict):
            return env
        frame = frame.f_back
    shell = _ipython()
    return shell.user_ns if shell is not None else None


def _missing(name):
    """The message for a value that is ``None``: undefined, its cell raised, or no ``return``."""
    error = _CELL_ERRORS.get(name)
    env = _notebook_namespace()
    defined = env is not None and name in env
    if error is not None:
        what = "you interrupted it" if isinstance(error, KeyboardInterrupt) else (
            f"it raised {type(error).__name__}: {error}")
        state = "is None" if defined else "is not defined"
        return (f"`{name}` {state}: the last run of the cell that defines it stopped ({what}). "
                "Fix that cell and run it again.")
    if env is not None and not defined and name.isidentifier():
        return (f"`{name}` is not defined: run the cell that defines it, and the cells above it "
                "(Run → Run All Above Selected Cell).")
    if env is None and name.isidentifier():
        return (f"`{name}` is None: either it is not defined (run its cell; if the cell raised an "
                "error, fix it first) or the code that computes it does not `return` a value.")
    return f"`{name}` is None: did you forget to `return` the result?"


def _require_filled(value, name):
    """Raise ``AssertionError`` if ``value`` is an unfilled placeholder (``None`` or ``...``)."""
    if value is None:
        raise AssertionError(_missing(name))
    if value is Ellipsis:
        raise AssertionError(f"`{name}` is still `...`: replace the `...` with your answer and run the cell.")


_STUB_OPS = {"RESUME", "NOP", "LOAD_CONST", "RETURN_VALUE", "RETURN_CONST", "POP_TOP", "CACHE"}


def _is_stub(func):
    """Whether ``func``'s body does nothing (``...`` or ``pass``, maybe with a docstring)."""
    code = getattr(func, "__code__", None)
    return code is not None and all(
        op.opname in _STUB_OPS and (op.opname not in ("LOAD_CONST", "RETURN_CONST") or op.argval is None)
        for op in dis.get_instructions(code)
    )


def _caller_arguments_holding(value, depth=2):
    """Names of the calling check's arguments whose value is ``value`` (e.g. the ``None`` that
    otter passes for a name the notebook does not define)."""
    frame = sys._getframe(depth)
    code = frame.f_code
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    return [n for n in names if frame.f_locals.get(n, Ellipsis) is value]


_watch_cells()


# ----------------------------------------------------------------------------------------------
# time limits
# ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _alarm(seconds):
    """Raise :class:`_TimeLimit` in the code of the ``with`` block after ``seconds`` (SIGALRM;
    main thread of a POSIX process).  An outer limit that is still running is restored."""
    def _handler(signum, frame):
        raise _TimeLimit()

    outer_remaining = signal.getitimer(signal.ITIMER_REAL)[0]
    previous = signal.signal(signal.SIGALRM, _handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_remaining > 0:
            signal.setitimer(signal.ITIMER_REAL, outer_remaining)


def _can_alarm():
    return hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds=60):
    """Stop the code in the ``with`` block after ``seconds`` with a readable ``TimeoutError``.

    The practices run every call of your own functions at the top level of a cell inside
    ``with time_limit(...):``, so that an endless loop ends with a message instead of hanging
    the notebook (you can also stop a running cell yourself: Kernel → Interrupt, or the ■
    button).  Outside the main thread (or on Windows) there is no limit.

    Examples
    --------
    >>> with time_limit(5):
    ...     total = sum(range(10))
    >>> total
    45
    """
    if not _can_alarm():
        yield
        return
    try:
        with _alarm(seconds):
            yield
    except _TimeLimit:
        raise TimeoutError(
            f"stopped after {seconds:g} s: one of your functions called in this cell did not "
            "finish. Is there an endless loop (a `while` whose condition never changes)?"
        ) from None


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


# ----------------------------------------------------------------------------------------------
# checks
# ----------------------------------------------------------------------------------------------


def call(func, *args, name=None, timeout=None, **kwargs):
    """Call a student's function with a time limit and readable failures.

    Parameters
    ----------
    func : callable
        The student's function (``None`` if the notebook does not define it).
    *args, **kwargs
        Passed to ``func``.
    name : str, optional
        Name shown in messages (default: the name of the check's argument that holds ``func``,
        which is the notebook's name for it, else ``func.__name__``).
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
        With a message for a missing or unwritten function, an exception inside it, or a
        call that did not finish within ``timeout`` seconds.
    """
    timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    if func is None or func is Ellipsis:
        names = [name] if name else _caller_arguments_holding(func) or ["your function"]
        _require_filled(func, names[0])
    label = name or (_caller_arguments_holding(func) or [getattr(func, "__name__", "your function")])[0]
    if not callable(func):
        raise AssertionError(f"`{label}` should be a function, but it is a {type(func).__name__}.")
    if _is_stub(func):
        raise AssertionError(
            f"`{label}` is not written yet: its body is still `...`. Replace the `...` with "
            "your code and run the cell."
        )
    try:
        if _can_alarm():
            with _alarm(timeout):
                return func(*args, **kwargs)
        return _run_in_thread(func, args, kwargs, timeout)
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


def _mismatch(value, expected, label, rtol, atol):
    """Why ``value`` (one result, or a tuple of results) is not ``expected``, or ``""``."""
    if isinstance(expected, tuple):  # several results, e.g. (mean, cov)
        if not isinstance(value, (tuple, list)):
            return f"its result should be a tuple of {len(expected)} values, but it is a {type(value).__name__}"
        values, wanted = tuple(value), expected
    else:
        values, wanted = (value,), (expected,)
    if len(values) != len(wanted):
        return f"it returns {len(values)} values instead of {len(wanted)}"
    for got, want in zip(values, wanted):
        if want is None:  # a result that is not compared
            continue
        got = _as_floats(got, f"the result of {label}", "a number or an array of numbers")
        want = np.asarray(want, dtype=float)
        if got.shape != want.shape and not got.size == want.size == 1:
            return f"it returns shape {got.shape} instead of {want.shape}"
        if np.isnan(got).any():
            return "it returns NaN"
        if not np.allclose(got.reshape(want.shape), want, rtol=rtol, atol=atol):
            return "it returns wrong values"
    return ""


def prerequisite(question, func, args, expected, *, name=None, kwargs=None, rtol=1e-6, atol=1e-9):
    """Stop a check that builds on an earlier question while that question still fails.

    Calls ``func(*args, **kwargs)`` (through :func:`call`) and raises ``AssertionError``
    "... fix ``question`` first" unless the result is close to ``expected`` (a number, an
    array (list), or a tuple of them for a function that returns several, ``None`` for one
    that is not compared), so that a mistake in Q1 is reported once, at Q1, and not as
    a misleading hint in every later question.

    Examples
    --------
    >>> prerequisite("Q1", lambda x: 2 * x, (3.0,), 6.0, name="double")
    >>> prerequisite("Q1", lambda x: 3 * x, (3.0,), 6.0, name="double")
    Traceback (most recent call last):
    ...
    AssertionError: This question uses your `double` from Q1, which does not work yet (it returns wrong values). Fix Q1 first, run its check, then come back.
    """
    label = name or (_caller_arguments_holding(func) or [getattr(func, "__name__", "function")])[0]
    try:
        reason = _mismatch(call(func, *args, name=label, **(kwargs or {})), expected, label, rtol, atol)
    except AssertionError as error:
        reason = str(error).rstrip(".")
    if reason:
        raise AssertionError(
            f"This question uses your `{label}` from {question}, which does not work yet "
            f"({reason}). Fix {question} first, run its check, then come back."
        )


# ----------------------------------------------------------------------------------------------
# the score table
# ----------------------------------------------------------------------------------------------


def _first_failure(test_file):
    """The first line of the message of the first failed case of an otter test file."""
    for result in test_file.test_case_results:
        if not result.passed:
            lines = [line.strip() for line in (result.message or "").splitlines() if line.strip()]
            found = [line for line in lines if line.startswith("AssertionError:")]
            text = (found or lines or ["failed"])[-1].removeprefix("AssertionError:").strip()
            return text if len(text) <= 90 else text[:87] + "..."
    return ""


def score(results):
    """Print the points per question and the total of ``grader.check_all()``'s results.

    Use it in the last cell: ``check_helpers.score(grader.check_all())``.  The points are
    those of the checks you can see; the teacher's grading also runs hidden checks with
    other inputs, so a question can still lose points there.

    Parameters
    ----------
    results : otter.test_files.GradingResults
        What ``grader.check_all()`` returns.

    Returns
    -------
    tuple of float
        (points earned, points possible).
    """
    files = getattr(results, "results", None)
    if not isinstance(files, dict):
        raise TypeError("score() expects the result of grader.check_all(), e.g. "
                        "check_helpers.score(grader.check_all())")
    order = sorted(files, key=lambda q: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", q)])
    lines = [f"{'question':10s} {'points':>13s}  result", "-" * 70]
    for question in order:
        test_file = files[question]
        status = "all checks passed" if test_file.passed_all else _first_failure(test_file)
        lines.append(f"{question:10s} {test_file.score:6.3g} / {test_file.possible:<4.3g}  {status}")
    total, possible = results.total, results.possible
    lines += ["-" * 70, f"{'total':10s} {total:6.3g} / {possible:<4.3g}  "
              "(visible checks; the teacher's grading adds hidden checks with other inputs)"]
    print("\n".join(lines))
    return float(total), float(possible)
