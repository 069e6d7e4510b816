"""Tests of remlib.rem: exact recovery, moment matching, REM = maximum likelihood, convexity, errors."""
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.optimize import minimize

from remlib.basis import Basis, BSplineBasis, GaussianBasis, PolynomialBasis
from remlib.ensembles import EnsembleAverages, GridEnsemble, MetropolisEnsemble
from remlib.rem import _newton_direction, minimize_relative_entropy, relative_entropy_objective

DOUBLE_WELL = PolynomialBasis([2, 4])
THETA_DW = np.array([-2.0, 1.0])  # U = x^4 - 2 x^2
GRID = np.linspace(-3.0, 3.0, 1201)


def boltzmann_weights(energy, x, beta=1.0):
    return np.exp(-beta * energy(x))


def inverse_cdf_samples(energy, n, seed, lower=-3.0, upper=3.0, beta=1.0):
    """Exact i.i.d. samples of exp(-beta U) on [lower, upper] by inverting a fine quadrature CDF."""
    x = np.linspace(lower, upper, 200_001)
    density = np.exp(-beta * energy(x))
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(x))])
    return np.interp(np.random.default_rng(seed).uniform(0, cdf[-1], n), cdf, x)


def double_well(x):
    return x**4 - 2 * x**2


# ----------------------------------------------------------------------------- grid: exact recovery
@pytest.mark.parametrize("beta", [1.0, 2.0])
def test_newton_recovers_double_well_from_zero(beta):
    ens = GridEnsemble(GRID, beta=beta)
    result = minimize_relative_entropy(DOUBLE_WELL, ens, GRID, weights=boltzmann_weights(double_well, GRID, beta))
    assert result.converged and result.n_iter < 30
    np.testing.assert_allclose(result.theta, THETA_DW, atol=1e-8)
    # moment matching <phi>_theta = <phi>_target
    p_target = boltzmann_weights(double_well, GRID, beta)
    p_target /= p_target.sum()
    np.testing.assert_allclose(ens.averages(DOUBLE_WELL, result.theta).mean, p_target @ DOUBLE_WELL(GRID), rtol=1e-9)
    np.testing.assert_allclose(result.target_mean, p_target @ DOUBLE_WELL(GRID), rtol=1e-12)
    np.testing.assert_allclose(result.model_mean, result.target_mean, rtol=1e-9)
    np.testing.assert_allclose(result.hessian, beta**2 * ens.averages(DOUBLE_WELL, result.theta).cov)


def test_history_is_consistent_and_objective_decreases():
    ens = GridEnsemble(GRID)
    weights = boltzmann_weights(double_well, GRID)
    result = minimize_relative_entropy(DOUBLE_WELL, ens, GRID, weights=weights)
    h = result.history
    assert all(len(v) == result.n_iter + 1 for v in h.values())
    np.testing.assert_array_equal(h["theta"][0], [0.0, 0.0])
    np.testing.assert_allclose(h["theta"][-1], result.theta)
    assert np.isnan(h["step_norm"][0]) and np.isnan(h["delta_objective"][0])
    assert np.all(h["delta_objective"][1:] <= 1e-12)
    np.testing.assert_allclose(h["delta_objective"][1:], np.diff(h["objective"]), atol=1e-12)
    np.testing.assert_allclose(h["step_norm"][1:], np.linalg.norm(np.diff(h["theta"], axis=0), axis=1))
    assert h["grad_norm"][-1] <= 1e-8 < h["grad_norm"][0]
    expected = [relative_entropy_objective(DOUBLE_WELL, ens, GRID, t, weights=weights) for t in h["theta"]]
    np.testing.assert_allclose(h["objective"], expected, rtol=1e-12)
    # Newton converges quadratically near the optimum
    g = h["grad_norm"]
    tail = np.flatnonzero((g[:-1] < 1e-2) & (g[1:] > 1e-13))
    assert np.all(g[tail + 1] <= 50 * g[tail] ** 2)


@pytest.mark.parametrize(
    "basis, theta_true, grid",
    [
        (GaussianBasis([-1.0, 0.0, 1.0], 0.7), [0.0, 2.0, -1.0], np.linspace(-3, 3, 601)),
        # a pair-potential-like use: the grid extends beyond upper, where every spline is zero
        (BSplineBasis(0.0, 3.0, 8), [4.0, 2.5, 0.5, -1.0, -0.5, 0.3, 1.0, 2.0], np.linspace(0.0, 4.0, 801)),
    ],
    ids=["gaussian", "bspline"],
)
def test_newton_recovers_other_bases(basis, theta_true, grid):
    weights = np.exp(-basis.energy(grid, theta_true))
    result = minimize_relative_entropy(basis, GridEnsemble(grid), grid, weights=weights)
    assert result.converged
    np.testing.assert_allclose(result.theta, theta_true, atol=1e-7)


def test_gradient_descent_converges_with_more_iterations():
    basis = GaussianBasis([-1.0, 0.0, 1.0], 0.7)
    grid = np.linspace(-3, 3, 401)
    weights = np.exp(-basis.energy(grid, [0.0, 2.0, -1.0]))
    newton = minimize_relative_entropy(basis, GridEnsemble(grid), grid, weights=weights)
    gradient = minimize_relative_entropy(basis, GridEnsemble(grid), grid, weights=weights, method="gradient",
                                         tol=1e-7, max_iter=5000)
    assert gradient.converged and gradient.method == "gradient"
    assert gradient.n_iter > 5 * newton.n_iter
    np.testing.assert_allclose(gradient.theta, [0.0, 2.0, -1.0], atol=1e-4)
    assert np.all(gradient.history["delta_objective"][1:] <= 1e-12)


def test_gradient_descent_with_too_large_learning_rate_warns():
    weights = boltzmann_weights(double_well, GRID)
    with pytest.warns(RuntimeWarning, match="did not converge"):
        result = minimize_relative_entropy(DOUBLE_WELL, GridEnsemble(GRID), GRID, weights=weights,
                                           method="gradient", learning_rate=50.0, max_iter=50)
    assert not result.converged


# ----------------------------------------------------------------------------- REM = maximum likelihood
def test_rem_is_maximum_likelihood_of_samples():
    samples = inverse_cdf_samples(double_well, 4000, seed=1)
    ens = GridEnsemble(GRID)
    result = minimize_relative_entropy(DOUBLE_WELL, ens, samples)
    assert result.converged
    # moment matching with the sample averages
    np.testing.assert_allclose(ens.averages(DOUBLE_WELL, result.theta).mean, DOUBLE_WELL(samples).mean(axis=0),
                               rtol=1e-8)

    # independent maximum likelihood: scipy minimises the negative average log-likelihood, Z by quad
    m2, m4 = (samples**2).mean(), (samples**4).mean()

    def nll(theta):
        z = quad(lambda x: np.exp(-(theta[0] * x**2 + theta[1] * x**4)), -3.0, 3.0, epsabs=0, epsrel=1e-12)[0]
        return theta[0] * m2 + theta[1] * m4 + np.log(z)

    ml = minimize(nll, x0=[0.0, 0.5], method="Nelder-Mead", options=dict(xatol=1e-9, fatol=1e-14, maxiter=4000))
    np.testing.assert_allclose(result.theta, ml.x, atol=2e-5)
    # the objective is the negative average log-likelihood
    np.testing.assert_allclose(relative_entropy_objective(DOUBLE_WELL, ens, samples, result.theta), nll(result.theta),
                               rtol=1e-7)
    # the fit is within its statistical error of the truth: Cov(theta) = H^-1 / n (Fisher information)
    sigma = np.sqrt(np.diag(np.linalg.inv(result.hessian)) / samples.size)
    assert np.all(np.abs(result.theta - THETA_DW) / sigma < 4.5)


@settings(max_examples=25, deadline=None)
@given(
    a=st.lists(st.floats(-3, 3), min_size=2, max_size=2),
    b=st.lists(st.floats(-3, 3), min_size=2, max_size=2),
)
def test_objective_is_convex_and_gradient_is_moment_difference(a, b):
    ens = GridEnsemble(np.linspace(-2, 2, 201), beta=1.5)
    target, weights = ens.points, np.exp(-1.5 * double_well(ens.points))
    a, b = np.array(a), np.array(b)

    def s(theta):
        return relative_entropy_objective(DOUBLE_WELL, ens, target, theta, weights=weights)

    assert s(0.5 * (a + b)) <= 0.5 * (s(a) + s(b)) + 1e-10
    # dS/dtheta = beta (<phi>_target - <phi>_theta), checked by central differences
    h = 1e-6
    numeric = [(s(a + h * e) - s(a - h * e)) / (2 * h) for e in np.eye(2)]
    p = weights / weights.sum()
    analytic = 1.5 * (p @ DOUBLE_WELL(target) - ens.averages(DOUBLE_WELL, a).mean)
    np.testing.assert_allclose(numeric, analytic, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- sampling ensembles
class IIDEnsemble:
    """Exact independent samples of the model (inverse CDF): a sampling ensemble with n_eff = n."""

    def __init__(self, basis, n, seed, beta=1.0):
        self.basis, self.n, self.beta = basis, n, beta
        self.rng = np.random.default_rng(seed)
        self.calls = 0

    def averages(self, basis, theta):
        self.calls += 1
        samples = inverse_cdf_samples(lambda x: basis.energy(x, theta), self.n, self.rng, beta=self.beta)
        phi = basis(samples)
        return EnsembleAverages(phi.mean(axis=0), np.cov(phi.T), samples=samples, n_effective=self.n)


def test_reweighting_ensemble_recovers_potential_within_error():
    n = 40_000
    ens = IIDEnsemble(DOUBLE_WELL, n, seed=4)
    result = minimize_relative_entropy(DOUBLE_WELL, ens, GRID, weights=boltzmann_weights(double_well, GRID),
                                       theta0=[0.0, 0.5])
    assert result.converged and result.n_resamples == ens.calls >= 2
    # statistical error of theta: H^-1 beta^2 Cov(<phi>) H^-1 = H^-1 / n for independent samples
    sigma = np.sqrt(np.diag(np.linalg.inv(result.hessian)) / n)
    assert np.all(np.abs(result.theta - THETA_DW) / sigma < 5), (result.theta, sigma)


def test_stopping_rule_keeps_its_level_at_the_fitted_optimum():
    # theta fitted to n samples carries their noise, so the gradient on n fresh samples is the
    # difference of two independent means: g.H^-1.g ~ chi2(m) (1/n + 1/n_fit).  Judged against
    # the fresh noise alone (chi2(m)/n) the fit would go on past its optimum in 1 case of 5 here.
    n, fits = 2000, 300
    weights = boltzmann_weights(double_well, GRID)
    misses = 0
    for seed in range(fits):
        ens = IIDEnsemble(DOUBLE_WELL, n, seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = minimize_relative_entropy(DOUBLE_WELL, ens, GRID, weights=weights,
                                               theta0=THETA_DW + np.array([0.5, 0.0]))
        assert result.n_resamples >= 2  # theta0 is far outside the noise: the first check never stops
        misses += not (result.converged and result.n_resamples == 2)
    # nominal level 1 %; the reweighted samples' noise is a little above 1/n_fit, so allow 5 %
    assert misses <= 0.05 * fits, misses


def test_reweighted_objective_change_matches_exact():
    from remlib.rem import _SamplingProblem

    n = 100_000
    theta_ref, theta_new = THETA_DW, THETA_DW + np.array([0.1, -0.05])
    weights = boltzmann_weights(double_well, GRID)
    target_mean = (weights / weights.sum()) @ DOUBLE_WELL(GRID)
    problem = _SamplingProblem(DOUBLE_WELL, IIDEnsemble(DOUBLE_WELL, n, seed=5), target_mean, 0.0)
    problem.state(theta_ref, fresh=True)
    estimate = problem.objective(theta_new) - problem.objective(theta_ref)
    grid = GridEnsemble(GRID)
    exact = (relative_entropy_objective(DOUBLE_WELL, grid, GRID, theta_new, weights=weights)
             - relative_entropy_objective(DOUBLE_WELL, grid, GRID, theta_ref, weights=weights))
    # error of ln<exp(-d.phi)>: std(exp(-d.phi)) / sqrt(n) relative
    ratio = np.exp(-problem.phi @ (theta_new - theta_ref))
    assert abs(estimate - exact) < 5 * ratio.std() / ratio.mean() / np.sqrt(n)


def test_metropolis_rem_recovers_double_well_within_error():
    ens = MetropolisEnsemble(0.0, 1.2, 100_000, burn_in=2000, bounds=(-3.0, 3.0), seed=21)
    weights = boltzmann_weights(double_well, GRID)
    result = minimize_relative_entropy(DOUBLE_WELL, ens, GRID, weights=weights)  # from theta0 = 0
    assert result.converged and result.n_resamples >= 2
    # error bar of theta from a chain at the truth: Cov(theta) = H^-1 beta^2 Cov(mean phi) H^-1
    chain = MetropolisEnsemble(0.0, 1.2, 100_000, burn_in=2000, bounds=(-3.0, 3.0), seed=22).sample(DOUBLE_WELL,
                                                                                                     THETA_DW)
    blocks = np.array([b.mean(axis=0) for b in np.array_split(DOUBLE_WELL(chain), 25)])
    cov_mean = np.cov(blocks.T) / 25
    h_inv = np.linalg.inv(GridEnsemble(GRID).averages(DOUBLE_WELL, THETA_DW).cov)
    sigma = np.sqrt(np.diag(h_inv @ cov_mean @ h_inv))
    assert np.all(np.abs(result.theta - THETA_DW) / sigma < 5), (result.theta, sigma)


# ----------------------------------------------------------------------------- singular bases and errors
class Duplicate(Basis):
    """phi = [x^2, 2 x^2]: linearly dependent functions."""

    n_functions = 2

    def _design(self, x):
        return np.column_stack([x**2, 2 * x**2])

    def _derivative(self, x):
        return np.column_stack([2 * x, 4 * x])


@pytest.mark.parametrize(
    "basis, grid, match",
    [
        (Duplicate(), GRID, r"combination 1\*phi_0 - 0.5\*phi_1 is constant"),
        (PolynomialBasis([0, 2]), GRID, r"function\(s\) \[0\] are constant"),
        (BSplineBasis(0.0, 3.0, 8), np.linspace(0.0, 1.0, 101), r"function\(s\) \[5, 6, 7\] are constant"),
        # B-splines sum to one on [lower, upper]: with no data beyond upper the sum is a constant
        (BSplineBasis(0.0, 3.0, 5), np.linspace(0.0, 3.0, 101),
         r"1\*phi_0 \+ 1\*phi_1 \+ 1\*phi_2.*sum to 1 on \[lower, upper\] = \[0, 3\] \(partition of unity\)"),
    ],
    ids=["duplicate", "constant", "spline-without-data", "spline-partition-of-unity"],
)
def test_linearly_dependent_basis_raises(basis, grid, match):
    ens = GridEnsemble(np.linspace(0.0, 3.0, 301) if isinstance(basis, BSplineBasis) else GRID)
    with pytest.raises(ValueError, match=match) as info:
        minimize_relative_entropy(basis, ens, grid, weights=np.exp(-grid**2))
    assert "fewer basis functions" in str(info.value) and "regularization" in str(info.value)


def test_regularization_gives_ridge_solution():
    lam = 0.01
    weights = boltzmann_weights(lambda x: 1.5 * x**2, GRID)
    ens = GridEnsemble(GRID)
    result = minimize_relative_entropy(Duplicate(), ens, GRID, weights=weights, regularization=lam)
    assert result.converged
    # stationarity of the ridge objective: beta (<phi>_t - <phi>_theta) + lambda theta = 0
    p = weights / weights.sum()
    residual = p @ Duplicate()(GRID) - ens.averages(Duplicate(), result.theta).mean + lam * result.theta
    np.testing.assert_allclose(residual, 0.0, atol=1e-8)
    # the ridge picks the minimum-norm split of 1.5 x^2 between x^2 and 2 x^2: theta proportional to (1, 2)
    np.testing.assert_allclose(result.theta[1] / result.theta[0], 2.0, rtol=1e-6)


def test_non_convergence_warns():
    with pytest.warns(RuntimeWarning, match="did not converge"):
        result = minimize_relative_entropy(DOUBLE_WELL, GridEnsemble(GRID), GRID,
                                           weights=boltzmann_weights(double_well, GRID), max_iter=2)
    assert not result.converged and result.n_iter == 2 and "max_iter" in result.message


def test_newton_direction_falls_back_to_steepest_descent():
    gradient = np.array([1.0, -2.0])
    direction, kind = _newton_direction(gradient, np.array([[1.0, 0.0], [0.0, -1.0]]))
    assert kind == "steepest descent" and direction @ gradient < 0
    np.testing.assert_allclose(direction / np.linalg.norm(direction), -gradient / np.linalg.norm(gradient))
    direction, kind = _newton_direction(gradient, np.diag([2.0, 4.0]))
    assert kind == "newton"
    np.testing.assert_allclose(direction, [-0.5, 0.5])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(target=[]), ValueError, "target is empty"),
        (dict(target=[0.0, np.nan]), ValueError, "target contains NaN"),
        (dict(target=np.zeros((3, 2))), ValueError, "target must have shape"),
        (dict(weights=[1.0, 2.0]), ValueError, "weights must have one entry"),
        (dict(weights=-np.ones(GRID.size)), ValueError, "weights must be non-negative"),
        (dict(weights=np.zeros(GRID.size)), ValueError, "weights must not all be zero"),
        (dict(theta0=[1.0]), ValueError, "theta0 must have 2 entries"),
        (dict(method="bfgs"), ValueError, "method"),
        (dict(tol=-1.0), ValueError, "tol"),
        (dict(max_iter=0), ValueError, "max_iter"),
        (dict(regularization=-1.0), ValueError, "regularization"),
        (dict(basis="x**2"), TypeError, "basis must be"),
    ],
)
def test_bad_input(kwargs, error, match):
    options = dict(basis=DOUBLE_WELL, ensemble=GridEnsemble(GRID), target=GRID) | kwargs
    with pytest.raises(error, match=match):
        minimize_relative_entropy(options.pop("basis"), options.pop("ensemble"), options.pop("target"), **options)


def test_objective_needs_log_partition():
    with pytest.raises(TypeError, match="log_partition"):
        relative_entropy_objective(DOUBLE_WELL, MetropolisEnsemble(0.0, 1.0, 10), GRID, THETA_DW)


def test_no_warning_when_converged():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minimize_relative_entropy(DOUBLE_WELL, GridEnsemble(GRID), GRID, weights=boltzmann_weights(double_well, GRID))


def test_chi2_quantile_matches_scipy():
    from scipy.stats import chi2

    from remlib.rem import _chi2_quantile_99

    for dof in range(1, 40):
        np.testing.assert_allclose(_chi2_quantile_99(dof), chi2.ppf(0.99, dof), rtol=0.01)


def test_target_outside_model_support_raises():
    # the grid's cells end half a spacing beyond its end points
    grid = np.linspace(-1.0, 1.0, 21)
    minimize_relative_entropy(DOUBLE_WELL, GridEnsemble(grid), [-1.05, -0.5, 0.0, 0.3, 1.05])
    with pytest.raises(ValueError, match="outside the model's support"):
        minimize_relative_entropy(DOUBLE_WELL, GridEnsemble(grid), [0.0, 1.2, 0.3])
    with pytest.raises(ValueError, match="outside the model's support"):
        minimize_relative_entropy(DOUBLE_WELL, MetropolisEnsemble(0.0, 0.5, 100, bounds=(-1, 1)), [0.0, -1.5])
    # zero-weight points outside do not count
    minimize_relative_entropy(DOUBLE_WELL, GridEnsemble(grid), [0.5, -0.9, 3.0, 0.2, 0.0], weights=[1, 1, 0, 1, 1],
                              max_iter=200)


def test_ensemble_type_is_checked():
    with pytest.raises(TypeError, match="ensemble must be"):
        minimize_relative_entropy(DOUBLE_WELL, "grid", GRID)


@settings(max_examples=20, deadline=None)
@given(
    a2=st.floats(-3.0, 3.0),
    a4=st.floats(0.2, 2.0),
    a1=st.floats(-1.0, 1.0),
    beta=st.floats(0.5, 2.0),
)
@example(a2=3.0, a4=1.8125, a1=0.0, beta=1.0)  # a narrow well: the smallest Hessian eigenvalue is 1.4e-3
def test_newton_recovers_random_quartics_and_matches_moments(a2, a4, a1, beta):
    basis = PolynomialBasis([1, 2, 4])
    theta_true = np.array([a1, a2, a4])
    grid = np.linspace(-3.0, 3.0, 401)
    ens = GridEnsemble(grid, beta=beta)
    weights = np.exp(-beta * basis.energy(grid, theta_true))
    result = minimize_relative_entropy(basis, ens, grid, weights=weights)
    assert result.converged
    p = weights / weights.sum()
    np.testing.assert_allclose(ens.averages(basis, result.theta).mean, p @ basis(grid), atol=1e-8)
    # the fit stops at |gradient| <= tol = 1e-8, which leaves theta within |H^-1 g| <= tol / lambda_min
    # of the exact optimum (theta_true: target and model share the grid); a narrow well (a2 = 3,
    # a4 = 1.81) has lambda_min = 1.4e-3 and a theta error of 1.6e-6
    bound = 1e-8 / np.linalg.eigvalsh(result.hessian).min()
    assert np.linalg.norm(result.theta - theta_true) <= 1.5 * bound + 1e-9, (result.theta - theta_true, bound)


@pytest.mark.parametrize("method", ["newton", "gradient"])
def test_sampling_fit_is_as_accurate_for_both_methods(method):
    basis = GaussianBasis([-1.0, 0.0, 1.0], 0.7)
    theta_true = np.array([0.0, 2.0, -1.0])
    n = 40_000
    ens = IIDEnsemble(basis, n, seed=9)
    result = minimize_relative_entropy(basis, ens, GRID, weights=np.exp(-basis.energy(GRID, theta_true)),
                                       method=method, max_iter=3000)
    assert result.converged
    # the error of theta, H^-1 / n, in the eigenbasis of H (the directions are well separated in scale)
    eigenvalues, vectors = np.linalg.eigh(result.hessian)
    z = vectors.T @ (result.theta - theta_true) / np.sqrt(1.0 / (n * eigenvalues))
    assert np.all(np.abs(z) < 4.5), z


def test_frozen_model_chain_raises():
    # a step far larger than the well: every proposal is rejected and the chain never moves
    ens = MetropolisEnsemble(0.0, 1e6, 200, burn_in=0, seed=0)
    with pytest.raises(ValueError, match="do not vary over the model samples"):
        minimize_relative_entropy(DOUBLE_WELL, ens, GRID, weights=boltzmann_weights(double_well, GRID),
                                  theta0=THETA_DW)
