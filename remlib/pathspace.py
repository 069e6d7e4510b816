r"""Path-space relative entropy, drift fitting, mean force and force matching.

For two Brownian dynamics with the same noise and forces :math:`f_P`, :math:`f_Q`,

.. math::

    \mathrm{d}X_t = \frac{1}{\gamma} f(X_t)\,\mathrm{d}t + \sqrt{\frac{2}{\beta\gamma}}\,\mathrm{d}W_t ,

Girsanov's theorem gives the relative entropy of the path measures on :math:`[0, T]`
(drift :math:`b = f/\gamma`, noise variance :math:`\sigma^2 = 2/(\beta\gamma)`)

.. math::

    D(P \,\|\, Q) = \frac{1}{2}\,\mathbb{E}_P \int_0^T \frac{|b_P - b_Q|^2}{\sigma^2}\,\mathrm{d}t
                  = \frac{\beta}{4\gamma}\,\mathbb{E}_P \int_0^T |f_P(X_t) - f_Q(X_t)|^2\,\mathrm{d}t .

Because :math:`D` is quadratic in the model drift, minimising it over drifts that are
linear in parameters, :math:`f_\theta = -\nabla \sum_i \theta_i \phi_i`, is a linear
least-squares problem (:func:`fit_drift`); its minimiser is the projection of the
conditional mean of the microscopic force onto the basis — the mean force
(:func:`mean_force`), also the target of force matching (:func:`force_matching`).
All three return :math:`\theta` of the same ENERGY basis as static REM.
"""
from dataclasses import dataclass

import numpy as np

from remlib._validation import as_count, as_float_array, as_positive_int, as_positive_scalar

__all__ = ["PathEntropyResult", "ParameterEstimate", "MeanForceResult", "path_relative_entropy", "fit_drift",
           "mean_force", "force_matching"]


@dataclass(frozen=True, eq=False)
class ParameterEstimate:
    """Least-squares coefficients with their standard errors (:func:`fit_drift`, :func:`force_matching`).

    Attributes
    ----------
    theta : ndarray, shape (n_functions,)
        Energy-basis coefficients.
    stderr : ndarray, shape (n_functions,)
        Their standard errors (see the function for when they hold; ``inf`` when the
        data do not determine them).

    Examples
    --------
    >>> from remlib.basis import PolynomialBasis
    >>> x = np.linspace(-1, 1, 5)
    >>> fit = force_matching(x, -2 * x, PolynomialBasis([2]))
    >>> fit.theta.round(6).tolist(), fit.stderr.round(6).tolist()
    ([1.0], [0.0])
    """

    theta: np.ndarray
    stderr: np.ndarray


@dataclass(frozen=True, eq=False)
class MeanForceResult:
    """The binned mean force of :func:`mean_force`.

    Attributes
    ----------
    centers : ndarray, shape (n_bins,)
        Bin centres.
    mean_force : ndarray, shape (n_bins,)
        Average force in each bin (NaN in empty bins).
    stderr : ndarray, shape (n_bins,)
        Its standard error (NaN in bins with fewer than two samples).

    Examples
    --------
    >>> binned = mean_force([0.1, 0.2, 0.6, 0.9], [1.0, 3.0, 2.0, 2.0], [0.0, 0.5, 1.0])
    >>> binned.centers.tolist(), binned.mean_force.tolist()
    ([0.25, 0.75], [2.0, 2.0])
    """

    centers: np.ndarray
    mean_force: np.ndarray
    stderr: np.ndarray


@dataclass(frozen=True, eq=False)
class PathEntropyResult:
    """Estimate of a path-space relative entropy from independent walkers.

    Attributes
    ----------
    mean : float
        Average over walkers of ``per_walker`` (nats).
    stderr : float
        Standard error of ``mean`` from the spread over walkers (NaN for one walker).
    per_walker : ndarray, shape (n_walkers,)
        The estimate for each walker's path.

    Examples
    --------
    >>> result = PathEntropyResult(0.5, 0.1, np.array([0.4, 0.6]))
    >>> bool(result.per_walker.mean() == result.mean)
    True
    """

    mean: float
    stderr: float
    per_walker: np.ndarray


def _as_trajectory(trajectory, name="trajectory"):
    """``(n_frames, n_walkers, dim)`` float array; ``(n_frames, n_walkers)`` means ``dim = 1``."""
    trajectory = as_float_array(trajectory, name, ndim=(2, 3))
    if trajectory.ndim == 2:
        trajectory = trajectory[:, :, None]
    if trajectory.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 frames to have an increment, got {trajectory.shape[0]}")
    return trajectory


def _apply_mapping(mapping, trajectory):
    """CG path ``(n_frames, n_walkers, n_cg)`` from the mapping of every configuration."""
    if mapping is None:
        return trajectory
    if not callable(mapping):
        raise TypeError(f"mapping must be a callable of configurations (n, dim), got {type(mapping).__name__}")
    n_frames, n_walkers, dim = trajectory.shape
    mapped = np.asarray(mapping(trajectory.reshape(-1, dim)), dtype=np.float64)
    if mapped.shape[0] != n_frames * n_walkers or mapped.ndim not in (1, 2):
        raise ValueError(
            f"mapping must return shape (n,) or (n, n_cg) for n={n_frames * n_walkers} configurations, "
            f"got {mapped.shape}"
        )
    if not np.all(np.isfinite(mapped)):
        raise ValueError("mapping returned NaN or infinite values")
    return mapped.reshape(n_frames, n_walkers, -1)


def _evaluate_force(force, points, name):
    """Vectorised force at ``points`` (n, dim): shape (n, dim) (or (n,) when dim == 1)."""
    if not callable(force):
        raise TypeError(f"{name} must be a callable of configurations (n, dim) -> forces (n, dim)")
    values = np.asarray(force(points), dtype=np.float64)
    n, dim = points.shape
    if dim == 1 and values.shape == (n,):
        values = values[:, None]
    if values.shape != (n, dim):
        raise ValueError(f"{name} must return forces of shape ({n}, {dim}) for configurations of shape {points.shape}, "
                         f"got {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} returned NaN or infinite values on the trajectory")
    return values


def _least_squares(design, target, what):
    r"""Solve :math:`\min_\theta |A\theta - b|^2`; return :math:`\theta` and :math:`(A^\top A)^{-1}`.

    The one solver shared by :func:`fit_drift` and :func:`force_matching`.  Raises a
    ``ValueError`` naming ``what`` when the design matrix is rank-deficient (basis
    derivatives linearly dependent on the data, e.g. a constant basis function).
    """
    n_rows, n_functions = design.shape
    if n_rows < n_functions:
        raise ValueError(f"{what}: {n_rows} equations cannot determine {n_functions} parameters; more data is needed")
    u, singular, vt = np.linalg.svd(design, full_matrices=False)
    tolerance = singular.max(initial=0.0) * max(design.shape) * np.finfo(np.float64).eps
    rank = int(np.sum(singular > tolerance))
    if rank < n_functions:
        raise ValueError(
            f"{what}: the basis derivatives are linearly dependent on these data (rank {rank} < {n_functions} "
            "functions); remove redundant or constant basis functions, or use data covering a wider range"
        )
    theta = vt.T @ ((u.T @ target) / singular)
    unit_covariance = (vt.T / singular**2) @ vt
    return theta, unit_covariance


def _force_design(basis, points):
    r"""Rows :math:`-\partial\phi_i/\partial x_d`, reshaped to ``(n * dim, n_functions)``."""
    n, dim = points.shape
    if not callable(getattr(basis, "gradient", None)):
        raise TypeError(f"basis must be a remlib.basis.Basis (with a gradient method), got {type(basis).__name__}")
    if getattr(basis, "dim", 1) != dim:
        raise ValueError(f"basis acts on {getattr(basis, 'dim', 1)}-dimensional coordinates but the data have {dim}")
    gradient = np.asarray(basis.gradient(points[:, 0] if dim == 1 else points), dtype=np.float64)
    return -gradient.transpose(0, 2, 1).reshape(n * dim, -1)


def path_relative_entropy(trajectory, dt, force_p, force_q, *, beta=1.0, gamma=1.0):
    r"""Girsanov estimate of the path relative entropy :math:`D(P\,\|\,Q)` per walker.

    For each walker path :math:`x_0, \dots, x_N` sampled from :math:`P`,

    .. math::

        D_w = \sum_{n=0}^{N-1} \frac{\beta\,\Delta t}{4\gamma}\,|f_P(x_n) - f_Q(x_n)|^2 ,

    the left-point (Itô) Riemann sum of :math:`\frac{\beta}{4\gamma}\int_0^T |f_P - f_Q|^2\,\mathrm{d}t`.
    This sum is also exactly the expected log-likelihood ratio of the two Euler–Maruyama
    chains with step :math:`\Delta t` (the KL divergence of two Gaussians with the same
    variance :math:`2\Delta t/(\beta\gamma)` and means differing by
    :math:`\Delta t\,(f_P - f_Q)/\gamma`, summed over steps).  Against the continuous-time
    :math:`D` it has an :math:`O(\Delta t)` bias: from the Riemann sum and from the
    Euler–Maruyama distribution of :math:`x_n` (e.g. for Ornstein–Uhlenbeck the
    stationary variance is :math:`1/(\beta k (1 - k\Delta t / 2\gamma))`).

    Parameters
    ----------
    trajectory : array_like, shape (n_frames, n_walkers, dim) or (n_frames, n_walkers)
        Independent walkers' paths sampled from :math:`P`.
    dt : float
        Time between consecutive frames (``stride * dt`` of :func:`~remlib.brownian_dynamics`).
    force_p, force_q : callable
        VECTORISED forces: ``force(X)`` with ``X`` of shape ``(n, dim)`` returns ``(n, dim)``
        (``(n,)`` is accepted when ``dim == 1``), e.g. the ``force`` method of the models in
        :mod:`remlib.systems` or a basis force ``lambda X: basis.force(X, theta)``.
    beta, gamma : float
        Inverse temperature and friction (the same for :math:`P` and :math:`Q`).

    Returns
    -------
    PathEntropyResult
        ``.mean``, ``.stderr`` (over walkers) and ``.per_walker`` in nats.

    Raises
    ------
    ValueError
        If ``dt``, ``beta`` or ``gamma`` is not positive, the trajectory has the wrong shape
        or non-finite values, or a force returns the wrong shape or non-finite values.

    Examples
    --------
    Ornstein–Uhlenbeck with stiffness 2 against stiffness 1, started in equilibrium: the
    rate is :math:`(k-k')^2/(4\gamma k) = 0.125` per unit time, so about 0.25 for :math:`T = 2`.

    >>> import numpy as np
    >>> from remlib import brownian_dynamics, path_relative_entropy
    >>> x0 = np.random.default_rng(0).normal(0, np.sqrt(0.5), size=(500, 1))
    >>> traj = brownian_dynamics(lambda x: -2 * x, x0, 0.01, 200, seed=1)
    >>> result = path_relative_entropy(traj, 0.01, lambda x: -2 * x, lambda x: -x)
    >>> result.per_walker.shape, bool(abs(result.mean - 0.25) < 3 * result.stderr)
    ((500,), True)
    """
    trajectory = _as_trajectory(trajectory)
    dt = as_positive_scalar(dt, "dt")
    beta = as_positive_scalar(beta, "beta")
    gamma = as_positive_scalar(gamma, "gamma")
    n_frames, n_walkers, dim = trajectory.shape
    points = trajectory[:-1].reshape(-1, dim)
    difference = _evaluate_force(force_p, points, "force_p") - _evaluate_force(force_q, points, "force_q")
    squared = np.sum(difference**2, axis=1).reshape(n_frames - 1, n_walkers)
    per_walker = beta * dt / (4.0 * gamma) * squared.sum(axis=0)
    stderr = per_walker.std(ddof=1) / np.sqrt(n_walkers) if n_walkers > 1 else float("nan")
    return PathEntropyResult(float(per_walker.mean()), float(stderr), per_walker)


def fit_drift(trajectory, dt, basis, *, beta=1.0, gamma=1.0, mapping=None):
    r"""Fit a CG drift :math:`f_\theta = -\nabla \sum_i \theta_i\phi_i` to paths by least squares.

    With increments :math:`\Delta y_n = y_{n+1} - y_n` of the (mapped) paths,

    .. math::

        \hat\theta = \arg\min_\theta \sum_{w,n} \Big|\Delta y_n
                     + \frac{\Delta t}{\gamma}\,\nabla\phi(y_n)\,\theta\Big|^2 ,

    which minimises the discretised path relative entropy :math:`D(P\,\|\,Q_\theta)`
    (the Gaussian transition log-likelihood of the model) over drifts linear in
    :math:`\theta`: :math:`D(P\,\|\,Q_\theta) = \frac{\beta\gamma}{4\Delta t}\,\mathbb{E}_P\sum_n
    |\Delta y_n - \tfrac{\Delta t}{\gamma} f_\theta(y_n)|^2 + \text{const}`, so :math:`\beta`
    scales the objective but does not move the minimiser.
    The increment over one integration step from an equilibrium state has conditional mean
    :math:`(\Delta t/\gamma)\,\mathbb{E}[f \mid y_n]`, so for frames stored every step
    :math:`\hat\theta` is the least-squares projection of the mean force onto the basis
    (up to the :math:`O(\Delta t)` error of the integrator's distribution).  For frames
    further apart, the fitted drift is an effective one and differs from the mean force:
    the eliminated coordinates decorrelate between frames, and the coarse coordinate
    itself relaxes along the force (for a harmonic well of stiffness :math:`k` the
    fitted stiffness is :math:`\gamma(1 - e^{-k\tau/\gamma})/\tau < k` over a frame
    interval :math:`\tau`, even without eliminated coordinates).

    Parameters
    ----------
    trajectory : array_like, shape (n_frames, n_walkers, dim) or (n_frames, n_walkers)
        Paths, e.g. from :func:`~remlib.brownian_dynamics`.
    dt : float
        Time between consecutive frames.
    basis : remlib.basis.Basis
        Energy basis; its ``gradient`` gives :math:`\nabla\phi_i`.
    beta, gamma : float
        Inverse temperature and friction of the dynamics.
    mapping : callable, optional
        CG mapping of configurations, ``(n, dim) -> (n,)`` or ``(n, n_cg)``, applied to
        every frame before fitting (e.g. ``lambda r: r[:, 0]``).

    Returns
    -------
    ParameterEstimate
        ``theta`` (n_functions,), the energy-basis coefficients, and ``stderr``
        (n_functions,), the standard errors
        :math:`\sqrt{\mathrm{diag}\,\tfrac{2\Delta t}{\beta\gamma}(A^\top A)^{-1}}` of the
        least-squares estimate, exact when the model drift is the true drift and frames
        are single integration steps (white residuals of variance :math:`2\Delta t/(\beta\gamma)`);
        an underestimate for mapped paths, whose residuals are correlated in time.

    Raises
    ------
    ValueError
        If ``dt``, ``beta`` or ``gamma`` is not positive, the trajectory has the wrong
        shape or non-finite values, ``mapping`` returns the wrong shape, the basis acts
        on another number of coordinates, or the design matrix is rank deficient.
    TypeError
        If ``basis`` is not a :class:`~remlib.basis.Basis` or ``mapping`` is not callable.

    Examples
    --------
    Ornstein–Uhlenbeck with :math:`U = k x^2/2`, :math:`k = 2`: the basis :math:`[x^2]` has
    :math:`\theta = k/2 = 1`.

    >>> import numpy as np
    >>> from remlib import brownian_dynamics, fit_drift
    >>> from remlib.basis import PolynomialBasis
    >>> traj = brownian_dynamics(lambda x: -2 * x, np.zeros((100, 1)), 0.01, 1000, seed=2)
    >>> fit = fit_drift(traj, 0.01, PolynomialBasis([2]))
    >>> bool(abs(fit.theta[0] - 1.0) < 3 * fit.stderr[0])
    True
    """
    dt = as_positive_scalar(dt, "dt")
    beta = as_positive_scalar(beta, "beta")
    gamma = as_positive_scalar(gamma, "gamma")
    paths = _apply_mapping(mapping, _as_trajectory(trajectory))
    n_cg = paths.shape[2]
    increments = (paths[1:] - paths[:-1]).reshape(-1)
    design = dt / gamma * _force_design(basis, paths[:-1].reshape(-1, n_cg))
    theta, unit_covariance = _least_squares(design, increments, "fit_drift")
    return ParameterEstimate(theta, np.sqrt(2.0 * dt / (beta * gamma) * np.diag(unit_covariance)))


def force_matching(x, forces, basis):
    r"""Force matching (multiscale coarse-graining): least squares on instantaneous forces.

    .. math::

        \hat\theta = \arg\min_\theta \sum_k \Big| f_k + \nabla\phi(x_k)\,\theta \Big|^2 ,

    where :math:`f_k` is the microscopic force mapped onto the CG coordinate at the CG
    configuration :math:`x_k`.  Since :math:`f = \mathbb{E}[f\mid x] + \text{noise}`, the
    minimiser is the least-squares projection of the mean force onto the basis.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, n_cg)
        CG configurations (equilibrium samples).
    forces : array_like, same shape as ``x``
        Mapped microscopic forces at those configurations.
    basis : remlib.basis.Basis
        Energy basis.

    Returns
    -------
    ParameterEstimate
        ``theta`` (n_functions,) and ``stderr`` (n_functions,), the standard errors
        :math:`\sqrt{\mathrm{diag}\,\hat\sigma^2 (A^\top A)^{-1}}` with
        :math:`\hat\sigma^2` the residual variance, valid for independent samples (an
        underestimate for correlated ones, e.g. consecutive trajectory frames); ``inf``
        when there are no more force components than basis functions.

    Raises
    ------
    ValueError
        If ``x`` and ``forces`` differ in shape or hold non-finite values, the basis acts
        on another number of coordinates, or the design matrix is rank deficient.
    TypeError
        If ``basis`` is not a :class:`~remlib.basis.Basis`.

    Examples
    --------
    Noisy forces of :math:`U = x^2 + 0.5 x^4` are matched by the basis :math:`[x^2, x^4]`:

    >>> import numpy as np
    >>> from remlib import force_matching
    >>> from remlib.basis import PolynomialBasis
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-2, 2, 5000)
    >>> f = -(2 * x + 2 * x**3) + rng.normal(0, 1, x.size)
    >>> np.round(force_matching(x, f, PolynomialBasis([2, 4])).theta, 1)
    array([1. , 0.5])
    """
    x = as_float_array(x, "x", ndim=(1, 2))
    forces = as_float_array(forces, "forces", ndim=(1, 2))
    if forces.shape != x.shape:
        raise ValueError(f"forces must have the shape of x {x.shape}, got {forces.shape}")
    points = x.reshape(x.shape[0], -1)
    design = _force_design(basis, points)
    theta, unit_covariance = _least_squares(design, forces.reshape(-1), "force_matching")
    residual = forces.reshape(-1) - design @ theta
    dof = design.shape[0] - design.shape[1]
    if dof < 1:
        return ParameterEstimate(theta, np.full(theta.shape, np.inf))
    return ParameterEstimate(theta, np.sqrt(residual @ residual / dof * np.diag(unit_covariance)))


def mean_force(x, forces, bins):
    r"""Mean force :math:`\mathbb{E}[f \mid x]` by binning the CG coordinate.

    .. math::

        \bar f(x_b) = \frac{1}{n_b}\sum_{k:\,x_k \in b} f_k ,
        \qquad \mathrm{stderr}_b = \frac{s_b}{\sqrt{n_b}} .

    At equilibrium :math:`\bar f(x) = -\mathrm{d}F/\mathrm{d}x`, the derivative of the
    potential of mean force.

    Parameters
    ----------
    x : array_like, shape (n,)
        One CG coordinate of each sample.
    forces : array_like, shape (n,)
        The microscopic force projected on that coordinate, for each sample.
    bins : int or array_like
        Number of equal bins over ``[x.min(), x.max()]``, or the bin edges.

    Returns
    -------
    MeanForceResult
        ``centers``, ``mean_force`` and its ``stderr``, each of shape (n_bins,): bin
        centres, mean force and its standard error (spread over the samples in the bin,
        valid for independent samples).  Empty bins have ``mean_force`` NaN; bins with
        one sample have ``stderr`` NaN.

    Raises
    ------
    ValueError
        If ``x`` and ``forces`` differ in shape or hold non-finite values, or ``bins``
        is not a positive int or at least two strictly increasing edges.

    Examples
    --------
    >>> import numpy as np
    >>> from remlib import mean_force
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(0, 1, 20000)
    >>> binned = mean_force(x, -3 * x + rng.normal(0, 1, x.size), 4)
    >>> np.round(binned.mean_force, 1)  # -3 x at the bin centres
    array([-0.4, -1.1, -1.9, -2.6])
    """
    x = as_float_array(x, "x", ndim=1)
    forces = as_float_array(forces, "forces", ndim=1)
    if forces.shape != x.shape:
        raise ValueError(f"forces must have the shape of x {x.shape}, got {forces.shape}")
    if np.ndim(bins) == 0:
        bins = as_count(bins, "bins", 4 * 8)
    else:
        bins = as_float_array(bins, "bins", ndim=1)
        if bins.size < 2 or np.any(np.diff(bins) <= 0):
            raise ValueError("bins must be an int or at least two strictly increasing edges")
    edges = np.histogram_bin_edges(x, bins=bins)
    index = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    inside = (x >= edges[0]) & (x <= edges[-1])
    n_bins = edges.size - 1
    counts = np.bincount(index[inside], minlength=n_bins).astype(np.float64)
    sums = np.bincount(index[inside], weights=forces[inside], minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
        deviations = forces[inside] - mean[index[inside]]
        variance = np.bincount(index[inside], weights=deviations**2, minlength=n_bins) / (counts - 1)
        stderr = np.sqrt(variance / counts)
    stderr[counts < 2] = np.nan
    return MeanForceResult(0.5 * (edges[1:] + edges[:-1]), mean, stderr)
