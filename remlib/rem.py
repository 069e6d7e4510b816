r"""Relative entropy minimization (REM) for CG potentials linear in their parameters.

For a CG model :math:`p_\theta(R) = e^{-\beta U(R;\theta)}/Z(\theta)` with
:math:`U = \sum_i \theta_i \phi_i` and mapped all-atom data ("target") the relative
entropy is, up to a :math:`\theta`-independent constant,

.. math::
    S(\theta) = \beta \langle U(R;\theta)\rangle_\mathrm{target} + \ln Z(\theta)
              = -\langle \ln p_\theta(R) \rangle_\mathrm{target},

the negative average log-likelihood of the target data, so REM is maximum likelihood.
It is convex, with

.. math::
    \frac{\partial S}{\partial\theta_i} = \beta\left(\langle\phi_i\rangle_\mathrm{target}
        - \langle\phi_i\rangle_\theta\right), \qquad
    \frac{\partial^2 S}{\partial\theta_i\partial\theta_j} = \beta^2\,\mathrm{Cov}_\theta(\phi_i, \phi_j),

and its minimum matches the moments, :math:`\langle\phi\rangle_\theta = \langle\phi\rangle_\mathrm{target}`.
:func:`minimize_relative_entropy` runs safeguarded Newton–Raphson (or plain gradient
descent) with the model averages from a :mod:`remlib.ensembles` ensemble.
"""
import warnings
from dataclasses import dataclass, field

import numpy as np

from remlib._validation import (
    as_float_array,
    as_positive_int,
    as_positive_scalar,
    as_theta,
    as_weights,
    check_basis,
    outside_support,
)
from remlib.basis import Basis, BSplineBasis
from remlib._stats import logsumexp, weighted_moments
from remlib.ensembles import GridEnsemble

__all__ = ["REMResult", "minimize_relative_entropy", "relative_entropy_objective"]

#: resample the model when the effective sample size of reweighted samples drops below this fraction
_RESAMPLE_ESS = 0.5
#: a trial step evaluated by reweighting must keep at least this fraction of the samples effective
_TRIAL_ESS = 0.1
#: Armijo sufficient-decrease constant of the backtracking line search
_ARMIJO = 1e-4
#: a basis is declared linearly dependent when its correlation matrix has an eigenvalue below this
_SINGULAR = 1e-12


@dataclass
class REMResult:
    r"""Outcome of :func:`minimize_relative_entropy`.

    Attributes
    ----------
    theta : ndarray, shape (m,)
        The fitted parameters.
    converged : bool
        Whether the convergence criterion was met (a ``RuntimeWarning`` is issued if not).
    n_iter : int
        Number of parameter updates made.
    history : dict of ndarray
        One entry per iterate :math:`k = 0..n_\mathrm{iter}`: ``"theta"`` (n_iter+1, m),
        ``"grad_norm"`` :math:`\|\nabla S(\theta_k)\|`, ``"objective"`` :math:`S(\theta_k)`
        up to a constant (NaN for sampling ensembles), and for the step that led to
        iterate k: ``"step_norm"`` :math:`\|\theta_k - \theta_{k-1}\|`,
        ``"delta_objective"`` :math:`S(\theta_k) - S(\theta_{k-1})` (exact on grids, a
        reweighting estimate for sampling ensembles) and ``"step_length"`` (the line
        search factor); these are NaN for k = 0.
    gradient : ndarray, shape (m,)
        :math:`\nabla S` at ``theta``.
    hessian : ndarray, shape (m, m)
        :math:`\beta^2 \mathrm{Cov}_\theta(\phi)` (+ regularization) at ``theta``.
    objective : float
        :math:`S(\theta)` up to its constant (grids; NaN for sampling ensembles).
    method : str
        ``"newton"`` or ``"gradient"``.
    message : str
        Why the iteration stopped.
    n_resamples : int
        Number of model simulations (sampling ensembles; 0 for grids).
    target_mean, model_mean : ndarray, shape (m,)
        :math:`\langle\phi\rangle_\mathrm{target}` and :math:`\langle\phi\rangle_\theta` at the
        result (equal at the optimum without regularization: moment matching).

    Examples
    --------
    >>> from remlib.basis import PolynomialBasis
    >>> from remlib.ensembles import GridEnsemble
    >>> x = np.linspace(-5, 5, 1001)
    >>> result = minimize_relative_entropy(PolynomialBasis([2]), GridEnsemble(x), x, weights=np.exp(-x**2))
    >>> result.converged, round(float(result.theta[0]), 4), result.history["theta"].shape[1]
    (True, 1.0, 1)
    """

    theta: np.ndarray
    converged: bool
    n_iter: int
    history: dict = field(repr=False)
    gradient: np.ndarray = field(repr=False)
    hessian: np.ndarray = field(repr=False)
    objective: float = np.nan
    method: str = "newton"
    message: str = ""
    n_resamples: int = 0
    target_mean: np.ndarray = field(default=None, repr=False)
    model_mean: np.ndarray = field(default=None, repr=False)


# ----------------------------------------------------------------------------
# input checks
# ----------------------------------------------------------------------------
def _target_design(basis, target, weights):
    """Design matrix of the target data and normalised per-sample weights."""
    if not isinstance(basis, Basis):
        raise TypeError(f"basis must be a remlib.basis.Basis, got {type(basis).__name__}")
    target = as_float_array(target, "target", ndim=(1, 2))
    if basis.dim == 1 and not (target.ndim == 1 or target.shape[1] == 1):
        raise ValueError(f"target must have shape (n,) or (n, 1) for a 1-D basis, got {target.shape}")
    if basis.dim > 1 and (target.ndim != 2 or target.shape[1] != basis.dim):
        raise ValueError(f"target must have shape (n, {basis.dim}) for this basis, got {target.shape}")
    n = target.shape[0]
    weights = np.full(n, 1.0 / n) if weights is None else as_weights(weights, n)
    phi = basis(target)
    if not np.all(np.isfinite(phi)):
        raise ValueError("the basis is not finite on some target samples")
    return phi, weights / weights.sum()


def _check_ensemble(ensemble, basis, target, weights):
    """The ensemble fits the basis, and every target sample (with weight > 0) lies in the model's support.

    A model confined to a grid or to hard walls gives zero probability outside, so target data there
    would make the relative entropy infinite.
    """
    if not (hasattr(ensemble, "averages") and hasattr(ensemble, "beta")):
        raise TypeError("ensemble must be a GridEnsemble, a MetropolisEnsemble or provide averages(basis, theta) "
                        f"and beta, got {type(ensemble).__name__}")
    check_basis(basis, getattr(ensemble, "dim", basis.dim))
    outside = outside_support(ensemble, target, weights)
    if np.any(outside):
        low, high = ensemble.support
        points = np.asarray(target, dtype=float).reshape(len(target), -1)
        raise ValueError(f"{outside.sum()} target sample(s) (e.g. {points[outside][0].tolist()}) lie outside the "
                         f"model's support [{np.asarray(low).tolist()}, {np.asarray(high).tolist()}] (grid range or "
                         "bounds), where the model has zero probability and the relative entropy is infinite; "
                         "widen the grid or bounds")


def _unconfined_direction(basis, ensemble, theta, target):
    """A direction in which exp(-beta U(R; theta)) does not decay, or None if U confines the model.

    Only coordinates where the ensemble's support is unbounded are checked.  Along each of
    their +/- axes from the target's centre, U must grow strictly at 10, 100 and 1000 times
    the target's spread and end at least 50 k_BT above its lowest value there; otherwise
    the Boltzmann weight does not vanish far away and the model cannot be normalised.
    """
    support = getattr(ensemble, "support", None)
    if support is None:
        return None
    low, high = (np.asarray(bound, dtype=float).reshape(-1) for bound in support)
    points = np.asarray(target, dtype=float).reshape(len(target), -1)
    centre = points.mean(axis=0)
    spread = max(float(points.std(axis=0).max()), 1e-3)
    for d in range(points.shape[1]):
        for sign, bound in ((1.0, high[d]), (-1.0, low[d])):
            if np.isfinite(bound):
                continue
            far = np.repeat(centre[None], 4, axis=0)
            far[:, d] += sign * spread * np.array([0.0, 10.0, 100.0, 1000.0])
            with np.errstate(all="ignore"):
                energy = ensemble.beta * basis.energy(far if basis.dim > 1 else far[:, 0], theta)
            if not (np.all(np.diff(energy[1:]) > 0) and energy[-1] - energy.min() >= 50.0):
                return f"{'+' if sign > 0 else '-'}x{d}" if points.shape[1] > 1 else ("+x" if sign > 0 else "-x")
    return None


def _check_independent(cov, regularization, basis):
    """Raise if the basis functions are linearly dependent on the target data."""
    if regularization > 0:
        return
    scale = np.sqrt(np.diag(cov))
    constant = np.flatnonzero(scale <= 1e-12 * max(scale.max(), 1e-300))
    if constant.size:
        detail = f"basis function(s) {constant.tolist()} are constant on the target data"
    else:
        eigenvalues, eigenvectors = np.linalg.eigh(cov / np.outer(scale, scale))
        if eigenvalues[0] > _SINGULAR * cov.shape[0]:
            return
        vector = eigenvectors[:, 0] / scale
        vector /= np.abs(vector).max() * np.sign(vector[np.flatnonzero(np.abs(vector) > 1e-6)[0]])
        combination = " ".join(f"{'-' if c < 0 else '+'} {abs(c):.3g}*phi_{i}"
                               for i, c in enumerate(vector) if abs(c) > 1e-6)[2:]
        detail = f"the combination {combination} is constant on the target data"
        if isinstance(basis, BSplineBasis) and np.allclose(vector, 1.0, atol=1e-6):
            detail += (f"; cubic B-splines sum to 1 on [lower, upper] = [{basis.lower:g}, {basis.upper:g}] "
                       "(partition of unity), so with every target sample inside that interval their sum is "
                       "a constant energy shift that REM cannot determine: drop one function, include target "
                       "data beyond upper (where the splines vanish), or pass regularization > 0")
    raise ValueError(f"the basis is linearly dependent on the target data ({detail}), so the Hessian is "
                     "singular and theta is not determined; use fewer basis functions or pass regularization > 0")


# ----------------------------------------------------------------------------
# the objective on the two kinds of ensemble
# ----------------------------------------------------------------------------
class _GridProblem:
    """Exact S(θ), gradient and Hessian on a :class:`GridEnsemble`."""

    exact = True

    def __init__(self, basis, ensemble, target_mean, regularization):
        self.phi = ensemble.design(basis)
        self.ensemble = ensemble
        self.target_mean = target_mean
        self.regularization = regularization
        self.n_resamples = 0

    def state(self, theta, fresh=False):
        avg = self.ensemble.averages_from_design(self.phi, theta)
        self._last = (theta.copy(), avg.log_partition)
        return avg.mean, avg.cov, np.inf, True

    def objective(self, theta):
        if np.array_equal(theta, self._last[0]):
            log_z = self._last[1]
        else:
            log_z = self.ensemble.log_partition_from_design(self.phi, theta)
        return (self.ensemble.beta * self.target_mean @ theta + log_z
                + 0.5 * self.regularization * theta @ theta)

    def trial_ok(self, theta):
        return True


class _SamplingProblem:
    r"""S(θ) differences, gradient and Hessian from model samples, reweighted between resamplings.

    With samples from :math:`\theta_\mathrm{ref}`, averages at :math:`\theta` use weights
    :math:`w_k \propto e^{-\beta\phi_k\cdot(\theta - \theta_\mathrm{ref})}` and
    :math:`\ln Z(\theta)/Z(\theta_\mathrm{ref}) = \ln\langle e^{-\beta\phi\cdot(\theta-\theta_\mathrm{ref})}\rangle_\mathrm{ref}`
    (Chaimovich & Shell 2011).
    """

    exact = False

    def __init__(self, basis, ensemble, target_mean, regularization):
        self.basis, self.ensemble = basis, ensemble
        self.target_mean = target_mean
        self.regularization = regularization
        self.n_resamples = 0
        self.theta_ref = None

    def _resample(self, theta):
        avg = self.ensemble.averages(self.basis, theta)
        if avg.samples is None:
            raise TypeError("a sampling ensemble must return samples from averages(basis, theta)")
        self.phi = self.basis(avg.samples)
        if not np.all(np.isfinite(self.phi)):
            raise ValueError("the basis is not finite on some model samples")
        frozen = np.flatnonzero(np.ptp(self.phi, axis=0) == 0)
        if frozen.size:
            raise ValueError(f"basis function(s) {frozen.tolist()} do not vary over the model samples at "
                             f"theta={theta.tolist()} (did the chain move? check step_size, x0 and bounds)")
        self.theta_ref, self.n_eff_ref = theta.copy(), min(avg.n_effective, self.phi.shape[0])
        self.n_resamples += 1

    def _log_weights(self, theta):
        return -self.ensemble.beta * (self.phi @ (theta - self.theta_ref))

    def _ess_fraction(self, theta):
        log_w = self._log_weights(theta)
        return float(np.exp(2 * logsumexp(log_w) - logsumexp(2 * log_w)) / log_w.size)

    def state(self, theta, fresh=False):
        if fresh or self.theta_ref is None or self._ess_fraction(theta) < _RESAMPLE_ESS:
            self._resample(theta)
        log_w = self._log_weights(theta)
        mean, cov = weighted_moments(self.phi, np.exp(log_w - logsumexp(log_w)))
        is_fresh = np.array_equal(theta, self.theta_ref)
        return mean, cov, self.n_eff_ref * self._ess_fraction(theta), is_fresh

    def objective(self, theta):
        """S(θ) up to a constant that changes at each resampling (only differences are used)."""
        log_w = self._log_weights(theta)
        return (self.ensemble.beta * self.target_mean @ theta + logsumexp(log_w) - np.log(log_w.size)
                + 0.5 * self.regularization * theta @ theta)

    def trial_ok(self, theta):
        return self._ess_fraction(theta) >= _TRIAL_ESS


# ----------------------------------------------------------------------------
# steps
# ----------------------------------------------------------------------------
def _newton_direction(gradient, hessian):
    """Newton step :math:`-H^{-1}g`; steepest descent scaled by :math:`g\\cdot g/g\\cdot Hg` if H is not PD."""
    try:
        factor = np.linalg.cholesky(hessian)
        return -np.linalg.solve(factor.T, np.linalg.solve(factor, gradient)), "newton"
    except np.linalg.LinAlgError:
        curvature = gradient @ hessian @ gradient
        scale = gradient @ gradient / curvature if curvature > 0 else 1.0
        return -scale * gradient, "steepest descent"


def _line_search(problem, theta, gradient, direction):
    """Backtracking (Armijo) on S; returns (step length, ΔS) or (0, nan) if no acceptable step."""
    current = problem.objective(theta)
    slope = gradient @ direction
    alpha = 1.0
    for _ in range(60):
        trial = theta + alpha * direction
        if problem.trial_ok(trial):
            change = problem.objective(trial) - current
            if np.isfinite(change) and change <= _ARMIJO * alpha * slope + 1e-13 * (1 + abs(current)):
                return alpha, change
        alpha *= 0.5
    return 0.0, np.nan


def _chi2_quantile_99(dof):
    """99% quantile of the chi-squared distribution (Wilson–Hilferty; within 1% for dof >= 1)."""
    a = 2.0 / (9.0 * dof)
    return dof * (1.0 - a + 2.3263478740408408 * np.sqrt(a)) ** 3


def _step(problem, theta, gradient, hessian, eta):
    """One update: safeguarded Newton (``eta is None``) or a fixed gradient step ``-eta * g``.

    Returns ``(step, step length, ΔS, failure message or "")``.
    """
    if eta is None:
        direction, kind = _newton_direction(gradient, hessian)
        alpha, change = _line_search(problem, theta, gradient, direction)
        failure = f"line search found no decrease along the {kind} direction" if alpha == 0.0 else ""
        return alpha * direction, alpha, change, failure
    step = -eta * gradient
    change = problem.objective(theta + step) - problem.objective(theta)
    failure = "" if np.isfinite(change) else f"gradient descent diverged (learning_rate={eta:.3g} too large?)"
    return step, 1.0, change, failure


def _converged(gradient, hessian, n_effective, tol, n_fitted=np.inf):
    """|g| <= tol, or (sampling) g statistically zero: g·H⁻¹g <= χ²₀.₉₉(m) (1/n_eff + 1/n_fit).

    ``n_effective``: effective size of the samples g comes from; ``n_fitted``: that of
    the (reweighted) samples the step to θ was computed from (inf for the start).  θ
    carries their noise, so near the optimum the gradient on fresh samples is the
    difference of two independent estimates of the model mean: its noise is the sum
    of theirs.
    """
    if np.linalg.norm(gradient) <= tol:
        return True
    if not np.isfinite(n_effective):
        return False
    try:
        decrement = gradient @ np.linalg.solve(hessian, gradient)
    except np.linalg.LinAlgError:
        return False
    return bool(decrement <= _chi2_quantile_99(gradient.size) * (1.0 / n_effective + 1.0 / n_fitted))


def minimize_relative_entropy(basis, ensemble, target, *, weights=None, theta0=None, method="newton",
                              tol=1e-8, max_iter=100, regularization=0.0, learning_rate=None):
    r"""Fit :math:`\theta` of :math:`U(R;\theta) = \sum_i\theta_i\phi_i(R)` by minimizing the relative entropy.

    Minimizes :math:`S(\theta) = \beta\langle U_\theta\rangle_\mathrm{target} + \ln Z(\theta)
    + \tfrac{\lambda}{2}\|\theta\|^2` (:math:`\lambda` = ``regularization``), with

    .. math::
        \nabla S = \beta\left(\langle\phi\rangle_\mathrm{target} - \langle\phi\rangle_\theta\right)
        + \lambda\theta, \qquad
        H = \beta^2\,\mathrm{Cov}_\theta(\phi) + \lambda I .

    ``method="newton"``: :math:`\theta \leftarrow \theta - \alpha H^{-1}\nabla S` with a
    backtracking line search on :math:`S` (exact changes from :math:`\ln Z` on a
    :class:`~remlib.ensembles.GridEnsemble`; on a sampling ensemble, trial steps are
    evaluated by reweighting the current model samples, which are regenerated when
    their effective sample size falls below half) and a steepest-descent step when
    :math:`H` is not positive definite.  ``method="gradient"``: plain gradient descent
    :math:`\theta \leftarrow \theta - \eta\nabla S` with a fixed learning rate :math:`\eta`.

    Convergence: :math:`\|\nabla S\| \le` ``tol``; for sampling ensembles also when the
    gradient is statistically zero on fresh samples,
    :math:`\nabla S^\top H^{-1}\nabla S \le \chi^2_{0.99}(m)\,(1/n_\mathrm{eff} + 1/n_\mathrm{fit})`,
    with :math:`n_\mathrm{eff}` the effective size of the fresh samples and
    :math:`n_\mathrm{fit}` that of the (reweighted) samples the step to the current
    :math:`\theta` was computed from (:math:`1/n_\mathrm{fit} = 0` at ``theta0``):
    :math:`\theta` carries their noise, so near the optimum the fresh gradient is the
    difference of two independent estimates.

    Parameters
    ----------
    basis : remlib.basis.Basis
        The CG energy basis.
    ensemble : GridEnsemble or MetropolisEnsemble
        How model averages are computed (its ``beta`` is used).
    target : array_like, shape (n,) or (n, dim)
        Mapped all-atom samples of :math:`R` (or grid points, with ``weights``).
    weights : array_like, shape (n,), optional
        Non-negative per-sample weights (e.g. exact probabilities of grid points).
    theta0 : array_like, shape (m,), optional
        Starting parameters (default zeros: a flat model, fine on bounded grids; an
        unbounded sampling ensemble needs a normalisable start or ``bounds``).
    method : {"newton", "gradient"}
    tol : float
        Gradient-norm tolerance.
    max_iter : int
        Maximum number of parameter updates.
    regularization : float
        Ridge term :math:`\lambda \ge 0`.
    learning_rate : float, optional
        Gradient descent's :math:`\eta`; default :math:`1/\lambda_\max(H(\theta_0))`.

    Returns
    -------
    REMResult

    Raises
    ------
    ValueError
        Bad target/weights/theta0, or a basis that is linearly dependent on the target
        data (singular Hessian; use fewer functions or ``regularization``).

    Warns
    -----
    RuntimeWarning
        If the fit does not converge within ``max_iter`` (then ``converged=False``).

    Examples
    --------
    Recover the double well :math:`U = x^4 - 2x^2` from its exact grid distribution:

    >>> import numpy as np
    >>> from remlib.basis import PolynomialBasis
    >>> from remlib.ensembles import GridEnsemble
    >>> x = np.linspace(-2.5, 2.5, 1001)
    >>> p = np.exp(-(x**4 - 2 * x**2))
    >>> result = minimize_relative_entropy(PolynomialBasis([2, 4]), GridEnsemble(x), x, weights=p)
    >>> result.converged, np.round(result.theta, 6).tolist()
    (True, [-2.0, 1.0])
    """
    if method not in ("newton", "gradient"):
        raise ValueError(f"method must be 'newton' or 'gradient', got {method!r}")
    tol = as_positive_scalar(tol, "tol")
    max_iter = as_positive_int(max_iter, "max_iter")
    regularization = as_positive_scalar(regularization, "regularization", allow_zero=True)
    phi_t, w_t = _target_design(basis, target, weights)
    _check_ensemble(ensemble, basis, target, weights)
    target_mean, target_cov = weighted_moments(phi_t, w_t)
    _check_independent(target_cov, regularization, basis)
    theta = np.zeros(basis.n_functions) if theta0 is None else as_theta(theta0, basis.n_functions, "theta0")
    problem_type = _GridProblem if isinstance(ensemble, GridEnsemble) else _SamplingProblem
    problem = problem_type(basis, ensemble, target_mean, regularization)
    beta = ensemble.beta
    eye = np.eye(basis.n_functions)

    def derivatives(mean, cov):
        return beta * (target_mean - mean) + regularization * theta, beta**2 * cov + regularization * eye

    mean, cov, n_eff, fresh = problem.state(theta, fresh=True)
    gradient, hessian = derivatives(mean, cov)
    eta = None  # Newton
    if method == "gradient":
        eta = (1.0 / max(np.linalg.eigvalsh(hessian)[-1], 1e-300) if learning_rate is None
               else as_positive_scalar(learning_rate, "learning_rate"))
    history = _History(theta, gradient, problem.objective(theta) if problem.exact else np.nan)
    converged, message = False, f"reached max_iter={max_iter}"
    n_iter = 0
    n_fitted = np.inf  # effective size of the samples theta was computed from (none yet)
    while True:
        if fresh and _converged(gradient, hessian, n_eff, tol, n_fitted):
            converged = True
            message = "gradient below tolerance" + ("" if problem.exact else " or within statistical noise")
            break
        if not fresh and (np.linalg.norm(gradient) <= tol
                          or (method == "gradient" and _converged(gradient, hessian, 100 * n_eff, tol))):
            # at the optimum of the reweighted objective (Newton reaches it exactly; gradient descent to
            # a tenth of the statistical error): check it with fresh model samples
            n_fitted = n_eff
            mean, cov, n_eff, fresh = problem.state(theta, fresh=True)
            gradient, hessian = derivatives(mean, cov)
            continue
        if n_iter == max_iter:
            break
        step, alpha, change, failure = _step(problem, theta, gradient, hessian, eta)
        if failure:
            message = failure
            break
        theta = theta + step
        n_iter += 1
        n_fitted = n_eff  # the step carries the noise of the samples it was computed from
        mean, cov, n_eff, fresh = problem.state(theta)
        gradient, hessian = derivatives(mean, cov)
        history.add(theta, gradient, problem.objective(theta) if problem.exact else np.nan,
                    np.linalg.norm(step), change, alpha)
    if not problem.exact:
        direction = _unconfined_direction(basis, ensemble, theta, target)
        if direction is not None:
            converged = False
            message = (f"the model exp(-beta U) cannot be normalised at the final theta: U does not grow without "
                       f"bound along {direction}, so the sampler random-walks and its averages mean nothing; give "
                       "the ensemble bounds or start from a confining theta0")
    if not converged:
        warnings.warn(f"minimize_relative_entropy did not converge: {message} (n_iter={n_iter}, "
                      f"|gradient|={np.linalg.norm(gradient):.3g}, tol={tol:g})", RuntimeWarning, stacklevel=2)
    return REMResult(theta=theta, converged=converged, n_iter=n_iter, history=history.arrays(),
                     gradient=gradient, hessian=hessian,
                     objective=problem.objective(theta) if problem.exact else np.nan,
                     method=method, message=message, n_resamples=problem.n_resamples,
                     target_mean=target_mean, model_mean=mean)


class _History:
    """Per-iterate records of the fit (see :class:`REMResult`)."""

    def __init__(self, theta, gradient, objective):
        self.rows = {"theta": [theta.copy()], "grad_norm": [np.linalg.norm(gradient)], "objective": [objective],
                     "step_norm": [np.nan], "delta_objective": [np.nan], "step_length": [np.nan]}

    def add(self, theta, gradient, objective, step_norm, change, alpha):
        for key, value in zip(self.rows, (theta.copy(), np.linalg.norm(gradient), objective, step_norm, change, alpha)):
            self.rows[key].append(value)

    def arrays(self):
        return {key: np.array(values) for key, values in self.rows.items()}


def relative_entropy_objective(basis, ensemble, target, theta, *, weights=None):
    r"""The REM objective :math:`S(\theta) = \beta\langle U(R;\theta)\rangle_\mathrm{target} + \ln Z(\theta)`.

    This is the relative entropy up to a :math:`\theta`-independent constant, and equals
    minus the average log-likelihood of the target data,
    :math:`-\langle\ln p_\theta(R)\rangle_\mathrm{target}`.  Needs an ensemble that knows
    :math:`\ln Z` (a :class:`~remlib.ensembles.GridEnsemble`).

    Parameters
    ----------
    basis, ensemble, target, weights
        As in :func:`minimize_relative_entropy`.
    theta : array_like, shape (m,)
        Parameters.

    Returns
    -------
    float
        :math:`S(\theta)`; ``inf`` if target data (of weight > 0) lie outside the
        ensemble's ``support`` (e.g. beyond the grid), where the model has zero probability.

    Raises
    ------
    TypeError
        If ``ensemble`` has no ``log_partition`` (a sampling ensemble) or ``basis`` is not
        a :class:`~remlib.basis.Basis`.
    ValueError
        If ``theta``, the target samples or their weights do not fit the basis.

    Examples
    --------
    A harmonic model :math:`U = \theta x^2` on target data with :math:`\langle x^2\rangle = 1/2`
    has :math:`S = \theta/2 + \tfrac12\ln(\pi/\theta)`, minimal at :math:`\theta = 1`:

    >>> import numpy as np
    >>> from remlib.basis import PolynomialBasis
    >>> from remlib.ensembles import GridEnsemble
    >>> x = np.linspace(-8, 8, 1601)
    >>> ens, basis = GridEnsemble(x), PolynomialBasis([2])
    >>> round(float(relative_entropy_objective(basis, ens, x, [1.0], weights=np.exp(-x**2))), 6)
    1.072365
    >>> round(float(0.5 + 0.5 * np.log(np.pi)), 6)
    1.072365
    """
    if not hasattr(ensemble, "log_partition"):
        raise TypeError("ensemble must provide log_partition(basis, theta) (e.g. a GridEnsemble); "
                        "sampling ensembles only give differences of the objective")
    phi_t, w_t = _target_design(basis, target, weights)
    theta = as_theta(theta, basis.n_functions)
    check_basis(basis, getattr(ensemble, "dim", basis.dim))
    if np.any(outside_support(ensemble, target, weights)):
        return np.inf  # target data where the model has zero probability
    return float(ensemble.beta * (w_t @ phi_t) @ theta + ensemble.log_partition(basis, theta))
