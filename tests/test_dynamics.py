"""Tests of remlib.dynamics.brownian_dynamics against Ornstein–Uhlenbeck closed forms.

For the OU force f = -k x the Euler–Maruyama chain is linear,
x_{n+1} = a x_n + s xi_n with a = 1 - k dt / gamma and s^2 = 2 dt / (beta gamma), so
its moments are known exactly; the continuous-time answers (variance 1/(beta k),
autocorrelation exp(-k t / gamma)) are its dt -> 0 limits.
"""
import numba
import numpy as np
import pytest

from remlib import dynamics
from remlib.dynamics import _brownian_kernel, brownian_dynamics

K, BETA, GAMMA = 2.0, 1.5, 0.5


@numba.njit(cache=True)
def ou_force(x):
    return -K * x


@numba.njit(cache=True)
def double_well_2d(x):
    """-grad of (x0^2 - 1)^2 + 2 x1^2 + 0.5 x0 x1."""
    f = np.empty(2)
    f[0] = -4.0 * x[0] * (x[0] * x[0] - 1.0) - 0.5 * x[1]
    f[1] = -4.0 * x[1] - 0.5 * x[0]
    return f


@numba.njit(cache=True)
def wrong_shape_away_from_origin(x):
    if abs(x[0]) > 0.3:
        return np.zeros(2)
    return -x


def stationary_start(n_walkers, seed):
    return np.random.default_rng(seed).normal(0.0, np.sqrt(1.0 / (BETA * K)), size=(n_walkers, 1))


def test_first_frame_is_x0_and_shape():
    x0 = np.arange(6.0).reshape(3, 2) / 10
    traj = brownian_dynamics(double_well_2d, x0, 1e-3, 20, stride=5, seed=0)
    assert traj.shape == (5, 3, 2)
    np.testing.assert_array_equal(traj[0], x0)


def test_ou_stationary_variance():
    """Var after n steps from x0 ~ N(0, v0): v + (v0 - v) a^(2n), v = 1/(beta k (1 - k dt/(2 gamma)))."""
    dt, n_steps, n_walkers = 5e-4, 400, 20_000
    traj = brownian_dynamics(ou_force, stationary_start(n_walkers, 1), dt, n_steps, beta=BETA, gamma=GAMMA,
                             stride=n_steps, seed=2)
    a = 1 - K * dt / GAMMA
    v_continuous = 1 / (BETA * K)
    v_em = v_continuous / (1 - K * dt / (2 * GAMMA))
    expected = v_em + (v_continuous - v_em) * a ** (2 * n_steps)
    estimate = np.mean(traj[-1, :, 0] ** 2)  # the mean is exactly 0
    stderr = expected * np.sqrt(2 / n_walkers)
    assert abs(estimate - expected) < 4 * stderr
    # the discretisation bias is below the statistical error here, so the continuous answer holds too
    assert abs(expected - v_continuous) < 0.5 * stderr
    assert abs(estimate - v_continuous) < 4 * stderr


def test_ou_autocorrelation_decays_as_exp_minus_kt_over_gamma():
    dt, stride, n_walkers = 1e-3, 50, 20_000
    traj = brownian_dynamics(ou_force, stationary_start(n_walkers, 3), dt, 8 * stride, beta=BETA, gamma=GAMMA,
                             stride=stride, seed=4)[:, :, 0]
    x0 = traj[0]
    v = np.mean(x0**2)
    for frame in (1, 2, 4, 8):
        t = frame * stride * dt
        products = x0 * traj[frame]
        estimate = products.mean() / v
        # error bar from the spread over independent walkers (the ratio's error is dominated by the numerator)
        stderr = products.std(ddof=1) / np.sqrt(n_walkers) / v
        exact_em = (1 - K * dt / GAMMA) ** (frame * stride)
        continuous = np.exp(-K * t / GAMMA)
        assert abs(exact_em - continuous) < 0.5 * stderr  # dt chosen so the EM bias is negligible
        assert abs(estimate - continuous) < 4 * stderr, (frame, estimate, continuous, stderr)


def test_ou_increment_is_exact_em_transition():
    """x_n - a^n x_0 is independent of x_0: the sharp (bias-free) check of drift and noise."""
    dt, n_steps, n_walkers = 0.01, 30, 20_000
    traj = brownian_dynamics(ou_force, stationary_start(n_walkers, 5), dt, n_steps, beta=BETA, gamma=GAMMA,
                             stride=n_steps, seed=6)[:, :, 0]
    a = 1 - K * dt / GAMMA
    residual = traj[1] - a**n_steps * traj[0]
    noise_var = 2 * dt / (BETA * GAMMA) * (1 - a ** (2 * n_steps)) / (1 - a**2)
    assert abs(np.mean(residual * traj[0])) < 4 * np.sqrt(noise_var * np.mean(traj[0] ** 2) / n_walkers)
    assert abs(residual.var() - noise_var) < 4 * noise_var * np.sqrt(2 / n_walkers)


def test_same_seed_same_trajectory_and_independent_of_threads():
    x0 = np.zeros((37, 2))
    reference = brownian_dynamics(double_well_2d, x0, 1e-3, 200, stride=10, seed=11)
    np.testing.assert_array_equal(reference, brownian_dynamics(double_well_2d, x0, 1e-3, 200, stride=10, seed=11))
    assert not np.array_equal(reference, brownian_dynamics(double_well_2d, x0, 1e-3, 200, stride=10, seed=12))
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = brownian_dynamics(double_well_2d, x0, 1e-3, 200, stride=10, seed=11)
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(reference, single)
    rng_run = brownian_dynamics(double_well_2d, x0, 1e-3, 200, stride=10, seed=np.random.default_rng(11))
    np.testing.assert_array_equal(reference, rng_run)


def test_stride_stores_every_stride_th_frame_of_the_same_run():
    x0 = np.full((5, 2), 0.2)
    full = brownian_dynamics(double_well_2d, x0, 1e-3, 60, stride=1, seed=7)
    strided = brownian_dynamics(double_well_2d, x0, 1e-3, 60, stride=20, seed=7)
    np.testing.assert_array_equal(full[::20], strided)


def test_numba_kernel_matches_numpy_reference():
    """Compiled force (kernel) and its pure-Python twin (numpy reference) use the same random numbers."""
    x0 = np.random.default_rng(8).normal(size=(16, 2))
    compiled = brownian_dynamics(double_well_2d, x0, 2e-3, 300, beta=2.0, gamma=0.7, stride=3, seed=9)
    reference = brownian_dynamics(double_well_2d.py_func, x0, 2e-3, 300, beta=2.0, gamma=0.7, stride=3, seed=9)
    np.testing.assert_allclose(compiled, reference, rtol=1e-12, atol=1e-12)


def test_numpy_path_reproduces_ou_variance():
    """The plain-Python path on its own: stationary variance z-test (small run, it is slow)."""
    dt, n_steps, n_walkers = 5e-3, 40, 3000

    def plain_ou(x):
        return -K * x

    traj = brownian_dynamics(plain_ou, stationary_start(n_walkers, 10), dt, n_steps, beta=BETA, gamma=GAMMA,
                             stride=n_steps, seed=10)
    a = 1 - K * dt / GAMMA
    v_continuous = 1 / (BETA * K)
    v_em = v_continuous / (1 - K * dt / (2 * GAMMA))
    expected = v_em + (v_continuous - v_em) * a ** (2 * n_steps)
    assert abs(np.mean(traj[-1] ** 2) - expected) < 4 * expected * np.sqrt(2 / n_walkers)


def test_model_with_force_kernel_is_accepted():
    class Model:
        def __init__(self):
            self.force_kernel = ou_force

    x0 = np.zeros((4, 1))
    np.testing.assert_array_equal(brownian_dynamics(Model(), x0, 1e-2, 10, seed=1),
                                  brownian_dynamics(ou_force, x0, 1e-2, 10, seed=1))


def test_kernel_is_compiled_once_for_any_force():
    """The force is a first-class function argument, so one cached kernel serves every force."""
    brownian_dynamics(ou_force, np.zeros((2, 1)), 1e-2, 2, seed=0)
    brownian_dynamics(double_well_2d, np.zeros((2, 2)), 1e-2, 2, seed=0)
    assert len(_brownian_kernel.signatures) == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(dt=0.0), "dt"),
        (dict(dt=-1e-3), "dt"),
        (dict(x0=np.array([[0.0], [np.nan]])), "x0"),
        (dict(x0=np.zeros(3)), "x0"),
        (dict(n_steps=0), "n_steps"),
        (dict(n_steps=10, stride=3), "multiple of stride"),
        (dict(beta=-1.0), "beta"),
        (dict(gamma=0.0), "gamma"),
        (dict(seed="seven"), "seed"),
    ],
)
def test_bad_arguments(kwargs, message):
    arguments = dict(force=ou_force, x0=np.zeros((3, 1)), dt=1e-3, n_steps=10)
    arguments.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=message):
        brownian_dynamics(**arguments)


@pytest.mark.parametrize("force", [lambda x: np.zeros(2), lambda x: 1.0, lambda x: np.zeros((1, 1))])
def test_force_of_wrong_shape(force):
    with pytest.raises(ValueError, match="force must return an array of shape"):
        brownian_dynamics(force, np.zeros((3, 1)), 1e-3, 10)


def test_force_that_fails_or_is_not_callable():
    with pytest.raises(TypeError, match="force"):
        brownian_dynamics(lambda x: x @ np.ones((5, 5)), np.zeros((3, 2)), 1e-3, 10)
    with pytest.raises(TypeError, match="force"):
        brownian_dynamics(3.0, np.zeros((3, 2)), 1e-3, 10)


@numba.njit(cache=True)
def integer_force(x):
    return np.zeros(x.shape[0], dtype=np.int64)


def test_compiled_force_of_the_wrong_type():
    with pytest.raises(TypeError, match=r"cannot be compiled as f\(x: float64\[::1\]\) -> float64\[::1\]"):
        brownian_dynamics(integer_force, np.zeros((3, 1)), 1e-3, 10)


@pytest.mark.parametrize("force", [wrong_shape_away_from_origin, wrong_shape_away_from_origin.py_func])
def test_force_changing_shape_during_the_run(force):
    with pytest.raises(ValueError, match="wrong shape .* at step"):
        brownian_dynamics(force, np.zeros((3, 1)), 1e-2, 1000, seed=0)


@pytest.mark.parametrize("force", [double_well_2d, double_well_2d.py_func])
def test_blow_up_names_the_step_and_suggests_smaller_dt(force):
    x0 = np.full((4, 2), 1.5)
    with pytest.raises(ValueError, match=r"blew up at step \d+.*smaller dt"):
        brownian_dynamics(force, x0, 0.5, 200, seed=0)


def test_blocks_of_noise_do_not_change_a_single_walker(monkeypatch):
    """One walker draws its deviates in the same order whatever the block length, so tiny blocks
    (many block boundaries, strides straddling them) must reproduce the default run exactly."""
    x0 = np.array([[0.3, -0.2]])
    default = brownian_dynamics(double_well_2d, x0, 1e-3, 60, stride=4, seed=13)
    monkeypatch.setattr(dynamics, "_BLOCK_NUMBERS", 6)  # 3 steps of 2 numbers per block
    np.testing.assert_array_equal(brownian_dynamics(double_well_2d, x0, 1e-3, 60, stride=4, seed=13), default)


def test_kernel_matches_reference_across_block_boundaries(monkeypatch):
    monkeypatch.setattr(dynamics, "_BLOCK_NUMBERS", 50)  # 5 walkers x 2 dims: 5 steps per block
    x0 = np.random.default_rng(14).normal(size=(5, 2))
    compiled = brownian_dynamics(double_well_2d, x0, 2e-3, 42, stride=7, seed=15)
    reference = brownian_dynamics(double_well_2d.py_func, x0, 2e-3, 42, stride=7, seed=15)
    np.testing.assert_allclose(compiled, reference, rtol=1e-12, atol=1e-12)


def euler_maruyama_by_hand(force, x0, dt, n_steps, seed):
    """Positions of every step from the documented noise layout (blocks of ``_BLOCK_NUMBERS`` deviates
    shaped (n_walkers, block_steps, dim)), beta = gamma = 1; overflow gives inf/NaN instead of an error."""
    n_walkers, dim = x0.shape
    rng = np.random.default_rng(seed)
    block = max(1, dynamics._BLOCK_NUMBERS // (n_walkers * dim))
    noise = np.concatenate([rng.standard_normal((n_walkers, min(block, n_steps - start), dim))
                            for start in range(0, n_steps, block)], axis=1)
    steps = [x0]
    with np.errstate(all="ignore"):
        for n in range(n_steps):
            x = steps[-1]
            steps.append(x + dt * np.array([force(xi) for xi in x]) + np.sqrt(2 * dt) * noise[:, n])
    return np.array(steps)


@pytest.mark.parametrize("force", [double_well_2d, double_well_2d.py_func])
def test_blow_up_reports_the_first_walker_and_step_that_became_non_finite(force):
    """Walkers started at different places blow up at different steps; the error names the earliest."""
    x0 = np.array([[0.0, 0.0], [1.0, 0.3], [2.2, 0.0], [-1.9, 0.5]])
    dt, n_steps, seed = 0.2, 200, 5
    finite = np.isfinite(euler_maruyama_by_hand(double_well_2d.py_func, x0, dt, n_steps, seed)).all(axis=2)
    first_bad_step = np.array([np.argmin(column) if not column.all() else n_steps + 1 for column in finite.T])
    assert len(set(first_bad_step.tolist())) > 2 and first_bad_step.max() <= n_steps  # distinct blow-up steps
    walker = int(np.argmin(first_bad_step))
    with pytest.raises(ValueError, match=rf"walker {walker} blew up at step {first_bad_step[walker]}:"):
        brownian_dynamics(force, x0, dt, n_steps, seed=seed)


def test_force_that_is_not_finite_at_x0():
    with pytest.raises(ValueError, match="force returned NaN or infinite values at x0"):
        brownian_dynamics(lambda x: np.full(1, np.inf), np.zeros((3, 1)), 1e-3, 10)


@numba.njit(cache=True)
def accumulated_springs(x):
    """Force built by accumulating into np.zeros (the pattern of GaussianChain.force_kernel): -x - (x0 - x1)."""
    f = np.zeros(2)
    f[0] += x[1] - x[0]
    f[1] -= x[1] - x[0]
    for d in range(2):
        f[d] -= x[d]
    return f


def test_kernel_specialised_for_long_runs_gives_the_same_numbers(monkeypatch):
    """Long runs use a kernel compiled for the force (inlined); it must reproduce the generic kernel exactly,
    including blocks, strides, forces that accumulate into a fresh array, and the blow-up report."""
    monkeypatch.setattr(dynamics, "_BLOCK_NUMBERS", 50)
    x0 = np.random.default_rng(16).normal(size=(5, 2))
    generic = [brownian_dynamics(force, x0, 2e-3, 42, stride=7, seed=17)
               for force in (double_well_2d, accumulated_springs)]
    monkeypatch.setattr(dynamics, "_SPECIALISE_WORK", 1)
    assert dynamics._compiled_step_block(double_well_2d, 1) is not _brownian_kernel
    assert dynamics._compiled_step_block(numba.njit(fastmath=True)(double_well_2d.py_func), 1) is _brownian_kernel
    for force, expected in zip((double_well_2d, accumulated_springs), generic):
        np.testing.assert_array_equal(brownian_dynamics(force, x0, 2e-3, 42, stride=7, seed=17), expected)
    with pytest.raises(ValueError, match=r"walker 2 blew up at step 7:"):
        brownian_dynamics(double_well_2d, np.array([[0.0, 0.0], [1.0, 0.3], [2.2, 0.0], [-1.9, 0.5]]), 0.2, 200,
                          seed=5)
