r"""Brownian (overdamped Langevin) dynamics of many independent walkers.

The equation of motion is the overdamped Langevin equation

.. math::

    \mathrm{d}X_t = \frac{1}{\gamma} f(X_t)\,\mathrm{d}t + \sqrt{\frac{2}{\beta\gamma}}\,\mathrm{d}W_t ,

integrated with the Euler–Maruyama scheme

.. math::

    x_{n+1} = x_n + \frac{\Delta t}{\gamma} f(x_n) + \sqrt{\frac{2\Delta t}{\beta\gamma}}\,\xi_n ,
    \qquad \xi_n \sim \mathcal{N}(0, 1)^{d} .

Its stationary distribution approaches the Boltzmann distribution
:math:`\propto e^{-\beta U}` (for :math:`f = -\nabla U`) with an :math:`O(\Delta t)` error.

Two code paths share one definition of the random numbers, so they give the same
trajectory (up to floating-point rounding in the force) for the same ``seed``:

* a ``numba.njit`` force runs inside a compiled kernel, walkers in parallel
  (``prange``): a generic kernel, compiled once and cached on disk, calls the force as
  a first-class function; runs of at least :data:`_SPECIALISE_WORK` walker-steps use a
  kernel compiled for that force, with the force inlined (faster per step, bit-for-bit
  the same numbers, but compiled anew for each force in each process);
* any other Python callable runs in a plain numpy loop over steps and walkers
  (the readable reference, and much slower).

The normal deviates are drawn with numpy's ``Generator`` (from ``seed``) in blocks of
about :math:`2^{20}` numbers, shaped ``(n_walkers, block_steps, dim)``, before each
block of steps is integrated (a helper thread draws the next block while the current
one is integrated).  The kernel only reads them, so the result does not
depend on how walkers are scheduled on threads (or on ``numba.set_num_threads``), and
bulk generation runs at numpy's speed.  Memory is bounded by two noise blocks (16 MiB)
plus the stored frames.  The numbers drawn depend on ``seed``, ``n_walkers``, ``dim`` and
``n_steps`` (the block boundaries), not on ``stride``.
"""
import functools
import math
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import types

from remlib._numba import njit_with, prange
from remlib._validation import as_float_array, as_generator, as_positive_int, as_positive_scalar, check_memory

__all__ = ["brownian_dynamics"]

_VECTOR = types.float64[::1]
#: the type every compiled force has inside the kernel: f(x: float64[::1]) -> float64[::1]
_FORCE_TYPE = types.FunctionType(_VECTOR(_VECTOR))
#: failure codes written by the kernel
_NON_FINITE, _WRONG_SHAPE = 1, 2
#: normal deviates per block of steps (8 MiB of float64)
_BLOCK_NUMBERS = 2**20
#: walker-steps from which a kernel specialised for the force (:func:`_specialised_kernel`) pays
#: for its compilation (about 2 s wall, 0.6 CPU-s): 10^8 steps take several CPU-seconds
_SPECIALISE_WORK = 10**8

# The explicit signature takes the force as a first-class function type: the kernel's
# type does not depend on which force is passed, so the compiled kernel is cached on
# disk once and reused for every force.  (Passing the dispatcher as a specialised
# argument would compile a new, uncacheable kernel for each force in each process.)
_KERNEL_SIGNATURE = types.void(
    _FORCE_TYPE,  # force
    types.float64[:, ::1],  # x (n_walkers, dim): current positions, updated in place
    types.float64[:, :, ::1],  # noise (n_walkers, n_block, dim): standard normal deviates
    types.float64,  # drift_scale = dt / gamma
    types.float64,  # noise_scale = sqrt(2 dt / (beta gamma))
    types.int64,  # first_step: steps done before this block
    types.int64,  # stride
    types.float64[:, :, ::1],  # out (n_frames, n_walkers, dim): frame i is step i * stride
    types.int64[:, ::1],  # failure (n_walkers, 2): step, code; -1 when fine
)


@njit_with(inline="always")
def _walker_block(force, position, noise, w, drift_scale, noise_scale, first_step, stride, out, failure):
    """One block of Euler–Maruyama steps of walker ``w`` (the body shared by both compiled kernels)."""
    n_block, dim = noise.shape[1], noise.shape[2]
    until_store = stride - first_step % stride
    for k in range(n_block):
        f = force(position)
        if f.shape[0] != dim:
            failure[w, 0] = first_step + k
            failure[w, 1] = _WRONG_SHAPE
            return
        finite = True
        for d in range(dim):
            position[d] += drift_scale * f[d] + noise_scale * noise[w, k, d]
            finite = finite and math.isfinite(position[d])
        if not finite:
            failure[w, 0] = first_step + k + 1
            failure[w, 1] = _NON_FINITE
            return
        until_store -= 1
        if until_store == 0:
            out[(first_step + k + 1) // stride, w, :] = position
            until_store = stride


@njit_with(signature_or_function=_KERNEL_SIGNATURE, parallel=True, nogil=True)
def _brownian_kernel(force, x, noise, drift_scale, noise_scale, first_step, stride, out, failure):
    """One block of Euler–Maruyama steps for every walker, walkers in parallel."""
    for w in prange(x.shape[0]):
        _walker_block(force, x[w], noise, w, drift_scale, noise_scale, first_step, stride, out, failure)


@functools.lru_cache(maxsize=16)
def _specialised_kernel(force):
    """:func:`_brownian_kernel` compiled for one numba ``force``, inlined into the loop.

    A first-class function argument is an opaque call, and the array it returns is
    allocated and freed every step; with the force's Python source re-compiled with
    ``inline="always"`` and referenced as a constant, numba inlines it into the walker
    loop and optimises the two together (same arithmetic, so the same numbers, in fewer
    CPU-seconds per step: see ``benchmarks/README.md``).  The price is compiling
    a new kernel per force in each process (a closure over the force cannot be cached
    on disk, hence plain ``numba.njit``), so it is used only for long runs
    (:data:`_SPECIALISE_WORK`).
    """
    inlined = numba.njit(inline="always")(force.py_func)

    @numba.njit(parallel=True, nogil=True)
    def kernel(x, noise, drift_scale, noise_scale, first_step, stride, out, failure):
        for w in prange(x.shape[0]):
            _walker_block(inlined, x[w], noise, w, drift_scale, noise_scale, first_step, stride, out, failure)

    def step_block(_force, *arguments):
        kernel(*arguments)

    return step_block


def _brownian_reference(force, x, noise, drift_scale, noise_scale, first_step, stride, out, failure):
    """The numpy reference of :func:`_brownian_kernel` (same arguments, same arithmetic)."""
    n_walkers, n_block, dim = noise.shape
    with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is reported as a ValueError instead
        for k in range(n_block):
            for w in range(n_walkers):
                f = np.asarray(force(x[w]), dtype=np.float64)
                if f.shape != (dim,):
                    failure[w] = first_step + k, _WRONG_SHAPE
                    return
                x[w] += drift_scale * f + noise_scale * noise[w, k]
            step = first_step + k + 1
            blown = ~np.isfinite(x).all(axis=1)
            if blown.any():
                failure[blown] = step, _NON_FINITE
                return
            if step % stride == 0:
                out[step // stride] = x


def _noise_blocks(rng, n_walkers, dim, n_steps, block):
    """Yield ``(first_step, noise)`` blocks; the next block is drawn in a helper thread while the
    caller integrates the current one (numpy and the kernel both release the GIL).  Two buffers
    are reused; the deviates are drawn in the same order as without the thread."""
    starts = list(range(0, n_steps, block))
    buffers = [np.empty(n_walkers * min(block, n_steps) * dim) for _ in range(min(2, len(starts)))]

    def fill(index):
        n_block = min(block, n_steps - starts[index])
        noise = buffers[index % 2][: n_walkers * n_block * dim].reshape(n_walkers, n_block, dim)
        rng.standard_normal(out=noise)
        return noise

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(fill, 0)
        for index, first_step in enumerate(starts):
            noise = pending.result()
            if index + 1 < len(starts):
                pending = pool.submit(fill, index + 1)
            yield first_step, noise


def _integrate(step_block, force, x0, n_steps, stride, drift_scale, noise_scale, rng):
    """Run ``step_block`` (kernel or reference) over blocks of freshly drawn noise."""
    n_walkers, dim = x0.shape
    x = x0.copy()
    out = np.empty((n_steps // stride + 1, n_walkers, dim))
    out[0] = x
    failure = np.full((n_walkers, 2), -1, dtype=np.int64)
    block = max(1, _BLOCK_NUMBERS // (n_walkers * dim))
    for first_step, noise in _noise_blocks(rng, n_walkers, dim, n_steps, block):
        step_block(force, x, noise, drift_scale, noise_scale, first_step, stride, out, failure)
        if np.any(failure[:, 1] >= 0):
            break
    return out, failure


def _is_compiled(force):
    return isinstance(force, numba.core.dispatcher.Dispatcher)


def _compiled_step_block(force, work):
    """The specialised kernel for long runs, else the cached generic one.  Forces compiled with options
    (e.g. ``fastmath``) keep the generic kernel: inlined, they would be compiled with the kernel's
    options instead, and could give different numbers."""
    options = {key: value for key, value in getattr(force, "targetoptions", {}).items() if value is not None}
    if work >= _SPECIALISE_WORK and getattr(force, "py_func", None) is not None and options == {"nopython": True}:
        return _specialised_kernel(force)
    return _brownian_kernel


def _checked_force(force, x0):
    """Return the force callable, after checking it maps one configuration to a force."""
    force = getattr(force, "force_kernel", force)
    if not callable(force):
        raise TypeError(
            f"force must be a callable f(x) -> force or a model with force_kernel, got {type(force).__name__}"
        )
    probe = x0[0].copy()
    try:
        value = force(probe)
    except Exception as exc:
        raise TypeError(
            f"force could not be evaluated on one configuration x0[0] of shape {probe.shape}: {exc}; "
            "force must take ONE configuration (dim,) and return its force (dim,)"
        ) from exc
    value = np.asarray(value)
    if value.shape != probe.shape:
        raise ValueError(
            f"force must return an array of shape {probe.shape} for a configuration of shape {probe.shape}, "
            f"got shape {value.shape}"
        )
    if not np.all(np.isfinite(value.astype(np.float64))):
        raise ValueError("force returned NaN or infinite values at x0[0]")
    return force


def _raise_failure(failure, dt):
    failed = np.flatnonzero(failure[:, 1] >= 0)
    if failed.size == 0:
        return
    first = failed[np.argmin(failure[failed, 0])]
    step, code = failure[first]
    if code == _WRONG_SHAPE:
        raise ValueError(f"force returned an array of the wrong shape for walker {first} at step {step}")
    raise ValueError(
        f"walker {first} blew up at step {step}: its position became NaN or infinite; "
        f"the time step dt={dt} is too large for this force, use a smaller dt"
    )


def brownian_dynamics(force, x0, dt, n_steps, *, beta=1.0, gamma=1.0, stride=1, seed=None):
    r"""Run overdamped Langevin dynamics for independent walkers (Euler–Maruyama).

    .. math::

        x_{n+1} = x_n + \frac{\Delta t}{\gamma} f(x_n) + \sqrt{\frac{2\Delta t}{\beta\gamma}}\,\xi_n

    Parameters
    ----------
    force : callable or model
        ``force(x)`` takes ONE configuration, a float64 array of shape ``(dim,)``, and
        returns its force, shape ``(dim,)``.  A ``numba.njit`` function runs compiled,
        walkers in parallel; any other callable runs in a (slow) numpy loop.  A model of
        :mod:`remlib.systems` can be passed directly: its ``force_kernel`` is used.
    x0 : array_like, shape (n_walkers, dim)
        Starting configurations; also the first stored frame.
    dt : float
        Time step, > 0.
    n_steps : int
        Number of steps, a multiple of ``stride``.
    beta, gamma : float
        Inverse temperature and friction coefficient, > 0.
    stride : int
        A frame is stored every ``stride`` steps; only stored frames use memory.
    seed : None, int or numpy.random.Generator
        Source of the normal deviates; the same seed gives the same trajectory.

    Returns
    -------
    ndarray, shape (n_steps // stride + 1, n_walkers, dim)
        Frame ``i`` is the configuration after ``i * stride`` steps (time ``i * stride * dt``).

    Raises
    ------
    ValueError
        Bad arguments, a force of the wrong shape, or a walker whose position becomes
        non-finite (the message names the step; use a smaller ``dt``).

    Examples
    --------
    Ornstein–Uhlenbeck, :math:`f = -k x`, whose stationary variance is :math:`1/(\beta k)`:

    >>> import numpy as np
    >>> from remlib import brownian_dynamics
    >>> def ou_force(x):
    ...     return -2.0 * x
    >>> traj = brownian_dynamics(ou_force, np.zeros((1000, 1)), 0.02, 100, stride=10, seed=1)
    >>> traj.shape
    (11, 1000, 1)
    >>> round(float(traj[-1].var()), 1)  # 1 / (beta k) = 0.5
    0.5
    """
    x0 = np.ascontiguousarray(as_float_array(x0, "x0", ndim=2))
    dt = as_positive_scalar(dt, "dt")
    n_steps = as_positive_int(n_steps, "n_steps")
    stride = as_positive_int(stride, "stride")
    check_memory("n_steps", n_steps, 8.0 * (n_steps // stride + 1) * x0.size)  # the stored trajectory
    beta = as_positive_scalar(beta, "beta")
    gamma = as_positive_scalar(gamma, "gamma")
    if n_steps % stride:
        raise ValueError(f"n_steps ({n_steps}) must be a multiple of stride ({stride})")
    force = _checked_force(force, x0)
    arguments = (force, x0, n_steps, stride, dt / gamma, math.sqrt(2.0 * dt / (beta * gamma)), as_generator(seed))
    if _is_compiled(force):
        try:
            out, failure = _integrate(_compiled_step_block(force, x0.shape[0] * n_steps), *arguments)
        except (TypeError, numba.core.errors.NumbaError) as exc:
            raise TypeError(
                "force is a numba function but cannot be compiled as f(x: float64[::1]) -> float64[::1] "
                f"(it must return a new contiguous float64 array of shape (dim,)): {exc}"
            ) from exc
    else:
        out, failure = _integrate(_brownian_reference, *arguments)
    _raise_failure(failure, dt)
    return out
