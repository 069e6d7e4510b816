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
  (``prange``);
* any other Python callable runs in a plain numpy loop over steps and walkers
  (the readable reference, and much slower).

Walker :math:`w` draws its normal deviates from its own Mersenne-Twister stream,
seeded with an integer taken from ``seed``.  Each compiled walker reseeds the
thread-local numba generator when it starts, so the result does not depend on how
walkers are scheduled on threads (or on ``numba.set_num_threads``); the numpy path
uses ``numpy.random.RandomState`` with the same seeds, which is the same generator.
"""
import math

import numba
import numpy as np
from numba import types

from remlib._numba import njit_with, prange
from remlib._validation import as_float_array, as_generator, as_positive_int, as_positive_scalar

__all__ = ["brownian_dynamics"]

_VECTOR = types.float64[::1]
#: the type every compiled force has inside the kernel: f(x: float64[::1]) -> float64[::1]
_FORCE_TYPE = types.FunctionType(_VECTOR(_VECTOR))
#: failure codes written by the kernel
_NON_FINITE, _WRONG_SHAPE = 1, 2
#: number of steps of noise the numpy path draws at once per walker (bounds its memory)
_NOISE_CHUNK = 4096

# The explicit signature takes the force as a first-class function type: the kernel's
# type does not depend on which force is passed, so the compiled kernel is cached on
# disk once and reused for every force.  (Passing the dispatcher as a specialised
# argument would compile a new, uncacheable kernel for each force in each process.)
_KERNEL_SIGNATURE = types.void(
    _FORCE_TYPE,  # force
    types.float64[:, ::1],  # x0 (n_walkers, dim)
    types.float64,  # drift_scale = dt / gamma
    types.float64,  # noise_scale = sqrt(2 dt / (beta gamma))
    types.int64,  # stride
    types.int64[::1],  # seeds (n_walkers,)
    types.float64[:, :, ::1],  # out (n_frames, n_walkers, dim)
    types.int64[:, ::1],  # failure (n_walkers, 2): step, code; -1 when fine
)


@njit_with(signature_or_function=_KERNEL_SIGNATURE, parallel=True)
def _brownian_kernel(force, x0, drift_scale, noise_scale, stride, seeds, out, failure):
    """Euler–Maruyama for every walker; walker ``w`` uses the stream seeded by ``seeds[w]``."""
    n_frames, n_walkers, dim = out.shape
    for w in prange(n_walkers):
        np.random.seed(seeds[w])
        x = x0[w].copy()
        out[0, w, :] = x
        step = 0
        for frame in range(1, n_frames):
            for _ in range(stride):
                f = force(x)
                if f.shape[0] != dim:
                    failure[w, 0] = step
                    failure[w, 1] = _WRONG_SHAPE
                    break
                finite = True
                for d in range(dim):
                    x[d] += drift_scale * f[d] + noise_scale * np.random.standard_normal()
                    finite = finite and math.isfinite(x[d])
                step += 1
                if not finite:
                    failure[w, 0] = step
                    failure[w, 1] = _NON_FINITE
                    break
            if failure[w, 1] >= 0:
                break
            out[frame, w, :] = x


def _brownian_reference(force, x0, drift_scale, noise_scale, stride, seeds, out, failure):
    """The numpy reference of :func:`_brownian_kernel` (same arguments, same random numbers)."""
    with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is reported as a ValueError instead
        _reference_loop(force, x0, drift_scale, noise_scale, stride, seeds, out, failure)


def _reference_loop(force, x0, drift_scale, noise_scale, stride, seeds, out, failure):
    n_frames, n_walkers, dim = out.shape
    streams = [np.random.RandomState(int(s)) for s in seeds]
    x = x0.copy()
    out[0] = x
    step = 0
    for frame in range(1, n_frames):
        for chunk_start in range(0, stride, _NOISE_CHUNK):
            chunk = min(_NOISE_CHUNK, stride - chunk_start)
            noise = np.stack([stream.standard_normal((chunk, dim)) for stream in streams])
            for k in range(chunk):
                for w in range(n_walkers):
                    f = np.asarray(force(x[w]), dtype=np.float64)
                    if f.shape != (dim,):
                        failure[w] = step, _WRONG_SHAPE
                        return
                    x[w] += drift_scale * f + noise_scale * noise[w, k]
                step += 1
                blown = ~np.isfinite(x).all(axis=1)
                if blown.any():
                    failure[blown] = step, _NON_FINITE
                    return
        out[frame] = x


def _is_compiled(force):
    return isinstance(force, numba.core.dispatcher.Dispatcher)


def _checked_force(force, x0):
    """Return the force callable, after checking it maps one configuration to a force."""
    force = getattr(force, "force_kernel", force)
    if not callable(force):
        raise TypeError(f"force must be a callable f(x) -> force or a model with force_kernel, got {type(force).__name__}")
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
        Source of the walkers' seeds; the same seed gives the same trajectory.

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
    beta = as_positive_scalar(beta, "beta")
    gamma = as_positive_scalar(gamma, "gamma")
    if n_steps % stride:
        raise ValueError(f"n_steps ({n_steps}) must be a multiple of stride ({stride})")
    force = _checked_force(force, x0)
    n_walkers, dim = x0.shape
    seeds = as_generator(seed).integers(0, 2**32, size=n_walkers, dtype=np.int64)
    out = np.empty((n_steps // stride + 1, n_walkers, dim))
    failure = np.full((n_walkers, 2), -1, dtype=np.int64)
    arguments = (x0, dt / gamma, math.sqrt(2.0 * dt / (beta * gamma)), stride, seeds, out, failure)
    if _is_compiled(force):
        try:
            _brownian_kernel(force, *arguments)
        except (TypeError, numba.core.errors.NumbaError) as exc:
            raise TypeError(
                "force is a numba function but cannot be compiled as f(x: float64[::1]) -> float64[::1] "
                f"(it must return a new contiguous float64 array of shape (dim,)): {exc}"
            ) from exc
    else:
        _brownian_reference(force, *arguments)
    _raise_failure(failure, dt)
    return out
