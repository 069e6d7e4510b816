"""Tests of remlib.pathspace against closed forms.

Ornstein–Uhlenbeck (OU), f = -k x, Euler–Maruyama (EM) chain x_{n+1} = a x_n + s xi_n with
a = 1 - k dt / gamma, s^2 = 2 dt / (beta gamma).

Path relative entropy between OU processes P (stiffness k) and Q (stiffness k'), P started in
its stationary state N(0, v0), v0 = 1 / (beta k):

* continuous time: D(T) = (beta / 4 gamma) (k - k')^2 int_0^T <x_t^2> dt = T (k - k')^2 / (4 gamma k);
* EM chains with step dt (what the estimator's expectation is exactly): the per-step KL of two
  Gaussians with equal variance s^2 and means a_P x, a_Q x is (dt (k - k') x / gamma)^2 / (2 s^2)
  = (beta dt / 4 gamma) (k - k')^2 x^2, and <x_n^2> = v + (v0 - v) a^(2n) with the EM stationary
  variance v = s^2 / (1 - a^2) = 1 / (beta k (1 - k dt / 2 gamma)), so
  D_EM(N) = (beta dt / 4 gamma) (k - k')^2 [N v + (v0 - v) (1 - a^(2N)) / (1 - a^2)].
  Its bias against D(T) is O(dt): D_EM / D -> 1 + k dt / (2 gamma) for long paths.
"""
import numba
import numpy as np
import pytest

from remlib.basis import PolynomialBasis
from remlib.dynamics import brownian_dynamics
from remlib.pathspace import _least_squares, fit_drift, force_matching, mean_force, path_relative_entropy

K, K_Q, BETA, GAMMA = 2.0, 1.0, 1.5, 0.5


@numba.njit(cache=True)
def ou_force(x):
    return -K * x


@numba.njit(cache=True)
def anisotropic_ou_force(x):
    f = np.empty(2)
    f[0] = -K * x[0]
    f[1] = -5.0 * x[1]
    return f


def force_p(x):
    return -K * x


def force_q(x):
    return -K_Q * x


def ou_paths(dt, n_steps, n_walkers, seed, *, force=ou_force, dim=1, stride=1):
    x0 = np.random.default_rng(seed).normal(0, np.sqrt(1 / (BETA * K)), size=(n_walkers, dim))
    return brownian_dynamics(force, x0, dt, n_steps, beta=BETA, gamma=GAMMA, stride=stride, seed=seed + 1)


def em_path_entropy(dt, n_steps):
    a = 1 - K * dt / GAMMA
    v0 = 1 / (BETA * K)
    v = v0 / (1 - K * dt / (2 * GAMMA))
    summed_variance = n_steps * v + (v0 - v) * (1 - a ** (2 * n_steps)) / (1 - a**2)
    return BETA * dt / (4 * GAMMA) * (K - K_Q) ** 2 * summed_variance


def continuous_rate():
    return (K - K_Q) ** 2 / (4 * GAMMA * K)


# --------------------------------------------------------------------------- path relative entropy
def test_path_entropy_matches_em_exact_value_and_grows_at_closed_form_rate():
    dt, n_steps, n_walkers = 2e-3, 2500, 2000
    traj = ou_paths(dt, n_steps, n_walkers, seed=1)
    for n in (n_steps // 2, n_steps):
        result = path_relative_entropy(traj[: n + 1], dt, force_p, force_q, beta=BETA, gamma=GAMMA)
        assert abs(result.mean - em_path_entropy(dt, n)) < 3 * result.stderr, (n, result)
        # dt small: the EM bias (about k dt / 2 gamma = 0.4 %) is below the statistical error
        assert abs(result.mean - continuous_rate() * n * dt) < 3 * result.stderr


def test_path_entropy_bias_is_order_dt():
    """At coarse dt the estimate follows the EM value, whose bias against D(T) halves with dt."""
    t_total, n_walkers = 5.0, 4000
    biases = []
    for i, dt in enumerate((0.05, 0.025, 0.0125)):
        n_steps = round(t_total / dt)
        result = path_relative_entropy(ou_paths(dt, n_steps, n_walkers, seed=10 + i), dt, force_p, force_q,
                                       beta=BETA, gamma=GAMMA)
        exact_em = em_path_entropy(dt, n_steps)
        assert abs(result.mean - exact_em) < 3 * result.stderr
        bias = result.mean - continuous_rate() * t_total
        predicted = exact_em - continuous_rate() * t_total
        assert abs(bias - predicted) < 3 * result.stderr
        biases.append(predicted)
        if i == 0:  # the coarse-dt bias is resolved: many standard errors away from zero
            assert bias > 5 * result.stderr
    assert biases[0] > 1.8 * biases[1] > 3.4 * biases[2] > 0


def test_path_entropy_is_the_mean_log_likelihood_ratio():
    """The estimator equals E_P[log dP/dQ] of the EM transition densities, computed from increments."""
    dt, n_steps, n_walkers = 0.02, 200, 3000
    traj = ou_paths(dt, n_steps, n_walkers, seed=20)[:, :, 0]
    variance = 2 * dt / (BETA * GAMMA)
    increments, x = np.diff(traj, axis=0), traj[:-1]
    log_ratio = (-(increments - dt / GAMMA * force_p(x)) ** 2 + (increments - dt / GAMMA * force_q(x)) ** 2)
    log_ratio = log_ratio.sum(axis=0) / (2 * variance)
    result = path_relative_entropy(traj, dt, force_p, force_q, beta=BETA, gamma=GAMMA)
    difference = log_ratio - result.per_walker
    assert abs(difference.mean()) < 4 * difference.std(ddof=1) / np.sqrt(n_walkers)
    assert abs(result.mean - em_path_entropy(dt, n_steps)) < 3 * result.stderr


def test_path_entropy_is_zero_for_equal_forces_and_accepts_2d_trajectories():
    traj = ou_paths(0.01, 50, 10, seed=3)
    same = path_relative_entropy(traj, 0.01, force_p, force_p)
    assert same.mean == 0 and np.all(same.per_walker == 0)
    flat = path_relative_entropy(traj[:, :, 0], 0.01, force_p, force_q, beta=BETA, gamma=GAMMA)
    full = path_relative_entropy(traj, 0.01, force_p, force_q, beta=BETA, gamma=GAMMA)
    np.testing.assert_array_equal(flat.per_walker, full.per_walker)
    assert np.isnan(path_relative_entropy(traj[:, :1], 0.01, force_p, force_q).stderr)


# --------------------------------------------------------------------------- fit_drift
def test_fit_drift_recovers_ou_stiffness_within_its_standard_error():
    """U = theta x^2 with theta = k/2; the stderr (2 dt / beta gamma) (A^T A)^-1 is checked by walker blocks."""
    dt, n_steps, n_walkers, n_blocks = 5e-3, 2000, 400, 20
    traj = ou_paths(dt, n_steps, n_walkers, seed=4)
    basis = PolynomialBasis([2])
    fit = fit_drift(traj, dt, basis, beta=BETA, gamma=GAMMA)
    theta, stderr = fit.theta, fit.stderr
    assert abs(theta[0] - K / 2) < 3 * stderr[0]
    blocks = np.array([fit_drift(block, dt, basis, beta=BETA, gamma=GAMMA).theta[0]
                       for block in np.split(traj, n_blocks, axis=1)])
    # the variance of the block estimates, scaled to the whole data, against the predicted one:
    # (n_blocks - 1) s^2 / sigma^2 is chi-squared with 19 degrees of freedom (0.1 % tails: 5.4 and 43.8)
    chi2 = (n_blocks - 1) * blocks.var(ddof=1) / (n_blocks * stderr[0] ** 2)
    assert 5.4 < chi2 < 43.8


def test_fit_drift_with_mapping_and_stride():
    """A coordinate of an uncoupled 2-D OU process is itself OU; a stride of 3 frames has drift
    (1 - a^3) / (3 dt / gamma) in place of k, the exact EM value for the coarser frames."""
    dt, n_steps, n_walkers = 1e-2, 3000, 100
    traj = ou_paths(dt, n_steps, n_walkers, seed=5, force=anisotropic_ou_force, dim=2)
    basis = PolynomialBasis([2])
    fit = fit_drift(traj, dt, basis, beta=BETA, gamma=GAMMA, mapping=lambda r: r[:, 0])
    theta, stderr = fit.theta, fit.stderr
    assert abs(theta[0] - K / 2) < 3 * stderr[0]
    coarse = traj[::3, :, 0]
    a3 = (1 - K * dt / GAMMA) ** 3
    effective_k = (1 - a3) / (3 * dt / GAMMA)
    theta3 = fit_drift(coarse, 3 * dt, basis, beta=BETA, gamma=GAMMA).theta
    # residual variance of the 3-step increments: s^2 (1 + a^2 + a^4) instead of 2 (3 dt) / (beta gamma)
    a = 1 - K * dt / GAMMA
    design = 3 * dt / GAMMA * 2 * coarse[:-1].ravel()
    stderr3 = np.sqrt(2 * dt / (BETA * GAMMA) * (1 + a**2 + a**4) / (design @ design))
    assert abs(theta3[0] - effective_k / 2) < 3 * stderr3


def test_fit_drift_rank_deficient_basis_is_an_error():
    traj = ou_paths(1e-2, 20, 5, seed=6)
    with pytest.raises(ValueError, match="fit_drift: the basis derivatives are linearly dependent"):
        fit_drift(traj, 1e-2, PolynomialBasis([0, 2]))


# --------------------------------------------------------------------------- force matching, mean force
def test_force_matching_exact_and_noisy():
    x = np.linspace(-2, 2, 41)
    basis = PolynomialBasis([1, 2, 4])
    theta_true = np.array([0.3, -1.0, 0.5])
    forces = basis.force(x, theta_true)
    np.testing.assert_allclose(force_matching(x, forces, basis).theta, theta_true, rtol=1e-12, atol=1e-12)

    rng = np.random.default_rng(7)
    x = rng.uniform(-2, 2, 4000)
    noisy = basis.force(x, theta_true) + rng.normal(0, 2.0, x.size)
    fit = force_matching(x, noisy, basis)
    theta, stderr = fit.theta, fit.stderr
    # the ordinary least-squares error with the known noise level 2: 2 sqrt(diag (A^T A)^-1)
    design = basis.derivative(x)
    exact_stderr = 2.0 * np.sqrt(np.diag(np.linalg.inv(design.T @ design)))
    np.testing.assert_allclose(stderr, exact_stderr, rtol=0.05)
    assert np.all(np.abs(theta - theta_true) < 4 * exact_stderr)


def test_mean_force_of_a_linear_force_with_noise():
    """Uniform x in each bin: the bin average of -3x is -3 x_centre exactly; noise sd 1 -> stderr 1/sqrt(n)."""
    rng = np.random.default_rng(8)
    x = rng.uniform(0, 1, 50_000)
    binned = mean_force(x, -3 * x + rng.normal(0, 1, x.size), np.linspace(0, 1, 11))
    centers, mean, stderr = binned.centers, binned.mean_force, binned.stderr
    np.testing.assert_allclose(centers, np.arange(0.05, 1, 0.1))
    counts = np.histogram(x, np.linspace(0, 1, 11))[0]
    # the within-bin spread of -3x adds 9 * 0.1^2 / 12 to the noise variance 1
    np.testing.assert_allclose(stderr, np.sqrt((1 + 0.0075) / counts), rtol=0.05)
    z = (mean + 3 * centers) / stderr
    assert np.all(np.abs(z) < 4)


def test_mean_force_empty_bins_and_outside_points():
    binned = mean_force([0.1, 0.2, 0.9, 5.0], [1.0, 3.0, 2.0, 7.0], [0.0, 0.5, 0.6, 1.0])
    mean, stderr = binned.mean_force, binned.stderr
    np.testing.assert_allclose(mean[[0, 2]], [2.0, 2.0])
    assert np.isnan(mean[1]) and np.isnan(stderr[1]) and np.isnan(stderr[2])
    np.testing.assert_allclose(stderr[0], np.sqrt(2.0 / 2))


def test_least_squares_reports_too_few_rows():
    with pytest.raises(ValueError, match="2 equations cannot determine 3 parameters"):
        _least_squares(np.ones((2, 3)), np.ones(2), "test")


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda t: path_relative_entropy(t, 0.0, force_p, force_q), "dt"),
        (lambda t: path_relative_entropy(t[:1], 0.1, force_p, force_q), "at least 2 frames"),
        (lambda t: path_relative_entropy(t[:, :, 0, None, None], 0.1, force_p, force_q), "trajectory"),
        (lambda t: path_relative_entropy(np.where(t > 0.5, np.nan, t), 0.1, force_p, force_q), "NaN"),
        (lambda t: path_relative_entropy(t, 0.1, lambda x: x[:, :0], force_q), "force_p must return"),
        (lambda t: path_relative_entropy(t, 0.1, force_p, lambda x: np.nan * x), "force_q returned NaN"),
        (lambda t: path_relative_entropy(t, 0.1, force_p, "q"), "force_q must be a callable"),
        (lambda t: fit_drift(t, -1.0, PolynomialBasis([2])), "dt"),
        (lambda t: fit_drift(t, 0.1, PolynomialBasis([2]), mapping=lambda r: r[:5]), "mapping must return"),
        (lambda t: fit_drift(t, 0.1, PolynomialBasis([2]), mapping=3), "mapping must be a callable"),
        (lambda t: fit_drift(np.concatenate([t, t], axis=2), 0.1, PolynomialBasis([2])), "basis acts on 1"),
        (lambda t: force_matching(np.ones(5), np.ones(4), PolynomialBasis([2])), "forces must have the shape"),
        (lambda t: force_matching(np.ones(5), np.ones(5), [2, 4]), "basis must be a remlib.basis.Basis"),
        (lambda t: mean_force(np.ones(5), np.ones(4), 3), "forces must have the shape"),
        (lambda t: mean_force(np.ones(5), np.ones(5), 0), "bins"),
        (lambda t: mean_force(np.ones(5), np.ones(5), [1.0, 0.0]), "bins"),
    ],
)
def test_bad_input(call, message):
    traj = ou_paths(0.1, 4, 3, seed=9)
    with pytest.raises((ValueError, TypeError), match=message):
        call(traj)


# --------------------------------------------------------------------------- 2-D entropic channel
# U(x, y) = h (x^2 - 1)^2 + c x + kappa(x) y^2 / 2 with kappa = kappa0 exp(a x^2).  Integrating out y:
# F(x) = h x^4 + (a / 2 beta - 2 h) x^2 + c x + const, so PolynomialBasis([1, 2, 4]) represents F exactly
# with theta = [c, a / (2 beta) - 2 h, h].  Mapping M(x, y) = x; mapped force f_x = -dU/dx.
# fit_drift uses frames stored every integration step: one EM increment from an equilibrium state has
# conditional mean (dt / gamma) E[f_x | x], whatever the relaxation time of y (kappa dt <= 0.05 keeps the
# EM error in <y^2 | x> below 1 %, a fraction of the statistical error); for frames further apart than
# y's relaxation time 1 / (2 kappa) the fitted drift would be an effective one instead.
CHANNEL = dict(barrier=1.0, tilt=0.3, kappa0=4.0, a=0.5)
CHANNEL_DT, N_BLOCKS = 1e-3, 8
CHANNEL_BASIS = PolynomialBasis([1, 2, 4])
THETA_CHANNEL = np.array([CHANNEL["tilt"], CHANNEL["a"] / 2 - 2 * CHANNEL["barrier"], CHANNEL["barrier"]])


@pytest.fixture(scope="module")
def channel():
    from remlib.systems import EntropicChannel

    return EntropicChannel(**CHANNEL)


@pytest.fixture(scope="module")
def channel_samples(channel):
    """Frames 0.2 time units apart (y decorrelated: <y^2> relaxes at rate 2 kappa >= 8) of 2000 walkers
    started from exact samples."""
    traj = brownian_dynamics(channel, channel.sample(2000, seed=30), CHANNEL_DT, 20 * 200, stride=200, seed=31)
    return traj


@pytest.fixture(scope="module")
def channel_paths(channel):
    """Every integration step of 320 walkers (for fit_drift)."""
    return brownian_dynamics(channel, channel.sample(320, seed=32), CHANNEL_DT, 8000, seed=33)


def block_estimates(fit, data):
    """Mean and standard error of ``fit`` over N_BLOCKS groups of independent walkers."""
    values = np.array([fit(block) for block in np.array_split(data, N_BLOCKS, axis=1)])
    return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(N_BLOCKS)


def marginal_density(channel, x):
    """rho(x) = int exp(-beta U(x, y)) dy by the trapezoid rule on |y| <= 3 (>= 6 standard deviations)."""
    y = np.linspace(-3, 3, 801)
    r = np.stack(np.broadcast_arrays(x[:, None], y[None, :]), axis=-1)
    return np.trapezoid(np.exp(-channel.energy(r)), y, axis=1)


def test_mean_force_of_mapped_dynamics_is_minus_pmf_derivative(channel, channel_samples):
    """Exact bin average of -F'(x) over rho: (rho(b) - rho(a)) / int_a^b rho (beta = 1)."""
    frames = channel_samples.reshape(-1, 2)
    edges = np.linspace(-1.6, 1.6, 17)
    binned = mean_force(frames[:, 0], channel.force(frames)[:, 0], edges)
    centers, mean, stderr = binned.centers, binned.mean_force, binned.stderr
    fine = np.linspace(-1.6, 1.6, 16 * 100 + 1)
    rho = marginal_density(channel, fine)
    cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (rho[1:] + rho[:-1]) * np.diff(fine))])
    at_edges = np.searchsorted(fine, edges)
    exact = np.diff(rho[at_edges]) / np.diff(cumulative[at_edges])
    z = (mean - exact) / stderr
    assert np.all(np.abs(z) < 4), z
    # the entropic part is resolved: without it (-U1' averaged) the bins near the walls are far off
    energetic = -(4 * centers * (centers**2 - 1) + CHANNEL["tilt"])
    assert np.max(np.abs(mean - energetic) / stderr) > 10


def test_drift_fit_force_matching_and_static_rem_agree(channel, channel_samples, channel_paths):
    from remlib.ensembles import GridEnsemble
    from remlib.rem import minimize_relative_entropy

    def drift(block):
        return fit_drift(block, CHANNEL_DT, CHANNEL_BASIS, mapping=lambda r: r[:, 0]).theta

    def matching(block):
        frames = block.reshape(-1, 2)
        return force_matching(frames[:, 0], channel.force(frames)[:, 0], CHANNEL_BASIS).theta

    grid = GridEnsemble(np.linspace(-3, 3, 1201))

    def static_rem(block):
        return minimize_relative_entropy(CHANNEL_BASIS, grid, block[:, :, 0].ravel()).theta

    estimates = {name: block_estimates(fit, data) for name, fit, data in [
        ("fit_drift", drift, channel_paths),
        ("force_matching", matching, channel_samples),
        ("static REM", static_rem, channel_samples),
    ]}
    for name, (theta, stderr) in estimates.items():
        z = (theta - THETA_CHANNEL) / stderr
        assert np.all(np.abs(z) < 4), (name, theta, stderr)
    names = list(estimates)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            (t1, e1), (t2, e2) = estimates[first], estimates[second]
            assert np.all(np.abs(t1 - t2) < 4 * np.hypot(e1, e2)), (first, second, t1, t2)
    # the fits resolve the entropic contribution a / 2 to the x^2 coefficient
    assert all(stderr[1] < CHANNEL["a"] / 2 / 4 for _, stderr in estimates.values())


# --------------------------------------------------------------------------- lag of the frames: a solvable case
# U = (kx x^2 + 2 c x y + ky y^2) / 2, EM propagator M = I - (dt / gamma) K, stationary covariance S solving
# S = M S M^T + (2 dt / beta gamma) I.  The CG coordinate x is Gaussian but not Markovian.  fit_drift with the
# basis [x^2] on frames L steps apart estimates 2 theta = gamma (1 - rho_L) / (L dt), rho_L = (M^L S)_xx / S_xx,
# exactly (least squares of x_L on x_0).  For L = 1 this is the mean-force stiffness (KS)_xx / S_xx, equal to
# the PMF stiffness 1 / (beta S_xx) up to O(dt); at longer lags it also differs from a Markovian CG model with
# the PMF, (1 - (1 - dt k_pmf / gamma)^L) / (L dt / gamma), by an amount that grows with the relaxation time of y.
def linear_force(kx, ky, c):
    @numba.njit
    def force(r):
        f = np.empty(2)
        f[0] = -(kx * r[0] + c * r[1])
        f[1] = -(c * r[0] + ky * r[1])
        return f

    return force


def lagged_drift_case(kx, ky, c, lag, n_walkers, n_frames, seed, dt=0.01):
    from scipy.linalg import solve_discrete_lyapunov

    propagator = np.eye(2) - dt * np.array([[kx, c], [c, ky]])
    covariance = solve_discrete_lyapunov(propagator, 2 * dt * np.eye(2))
    rho = (np.linalg.matrix_power(propagator, lag) @ covariance)[0, 0] / covariance[0, 0]
    k_pmf = 1 / covariance[0, 0]
    x0 = np.random.default_rng(seed).multivariate_normal(np.zeros(2), covariance, size=n_walkers)
    traj = brownian_dynamics(linear_force(kx, ky, c), x0, dt, lag * (n_frames - 1), stride=lag, seed=seed + 1)
    fitted = block_estimates(lambda block: 2 * fit_drift(block, lag * dt, PolynomialBasis([2]),
                                                         mapping=lambda r: r[:, 0]).theta, traj)
    markov = (1 - (1 - dt * k_pmf) ** lag) / (lag * dt)
    return fitted, (1 - rho) / (lag * dt), markov, k_pmf


def test_fit_drift_on_single_steps_gives_the_mean_force_stiffness():
    (estimate, stderr), exact, _, k_pmf = lagged_drift_case(2.0, 0.5, 0.6, 1, 200, 2001, seed=40)
    assert abs(estimate[0] - exact) < 4 * stderr[0]
    assert abs(exact - k_pmf) < 0.02 * k_pmf  # O(dt): (KS)_xx / S_xx vs 1 / S_xx for dt = 0.01
    assert abs(estimate[0] - (2.0 - 0.6**2 / 0.5)) < 4 * stderr[0] + 0.02  # continuous PMF: kx - c^2 / ky


@pytest.mark.parametrize("ky, c, non_markov_resolved", [(0.5, 0.6, True), (20.0, 3.8, False)])
def test_fit_drift_at_a_long_lag_sees_the_memory_of_slow_y(ky, c, non_markov_resolved):
    (estimate, stderr), exact, markov, _ = lagged_drift_case(2.0, ky, c, 100, 1000, 21, seed=41)
    assert abs(estimate[0] - exact) < 4 * stderr[0]
    if non_markov_resolved:  # slow y (rate ~ ky): 19 % below the Markovian value
        assert markov - estimate[0] > 5 * stderr[0]
    else:  # fast y: within 2 % of the Markovian value
        assert abs(exact - markov) < 0.02 * markov
