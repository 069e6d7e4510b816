"""Tests of remlib.divergence against definitions, closed forms and quadrature."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import integrate, stats

from remlib.divergence import (
    kl_divergence,
    kl_divergence_grid,
    kl_from_energies,
    kl_gaussian,
    log_likelihood_from_energies,
    relative_entropy_from_samples,
    trapezoid_weights,
)

positive = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False)


def weight_pairs(min_size=2, max_size=12):
    return st.integers(min_size, max_size).flatmap(
        lambda n: st.tuples(arrays(np.float64, n, elements=positive), arrays(np.float64, n, elements=positive))
    )


# --------------------------------------------------------------------------- discrete KL
@settings(max_examples=200, deadline=None)
@given(weight_pairs())
def test_kl_matches_definition_and_gibbs_and_pinsker(pq):
    p, q = pq
    pn, qn = p / p.sum(), q / q.sum()
    direct = sum(a * math.log(a / b) for a, b in zip(pn, qn))
    value = kl_divergence(p, q)
    assert value == pytest.approx(direct, rel=1e-9, abs=1e-12)
    assert value >= 0.0
    total_variation = 0.5 * np.abs(pn - qn).sum()
    assert value >= 2 * total_variation**2 - 1e-12  # Pinsker's inequality


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, st.integers(1, 10), elements=positive), st.floats(0.01, 100))
def test_kl_zero_for_equal_distributions_in_any_scale(p, scale):
    assert kl_divergence(p, scale * p) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(weight_pairs())
def test_kl_positive_when_distributions_differ(pq):
    p, q = pq
    pn, qn = p / p.sum(), q / q.sum()
    if np.abs(pn - qn).max() > 1e-3:
        assert kl_divergence(p, q) > 0.0


def test_kl_is_asymmetric_hand_computed():
    p, q = [0.5, 0.5], [0.9, 0.1]
    forward = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
    backward = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)
    assert kl_divergence(p, q) == pytest.approx(forward, rel=1e-12)
    assert kl_divergence(q, p) == pytest.approx(backward, rel=1e-12)
    assert abs(forward - backward) > 0.1


@settings(max_examples=100, deadline=None)
@given(weight_pairs(min_size=2), st.data())
def test_kl_infinite_when_model_excludes_reachable_state(pq, data):
    p, q = pq
    i = data.draw(st.integers(0, p.size - 1))
    q = q.copy()
    q[i] = 0.0
    assert kl_divergence(p, q) == math.inf
    # the reverse direction only drops a term of the reference: finite
    assert math.isfinite(kl_divergence(q, p))


def test_kl_zero_terms_where_p_vanishes():
    # p = (0, 1/2, 1/2), q = (1/4, 1/4, 1/2): D = 1/2 ln 2
    assert kl_divergence([0, 1, 1], [1, 1, 2]) == pytest.approx(0.5 * math.log(2), rel=1e-12)


def test_kl_multidimensional_arrays():
    p = np.array([[1.0, 2.0], [3.0, 4.0]])
    q = np.array([[2.0, 2.0], [1.0, 5.0]])
    assert kl_divergence(p, q) == pytest.approx(kl_divergence(p.ravel(), q.ravel()), rel=1e-14)


@pytest.mark.parametrize(
    "p, q, match",
    [
        ([0.5, -0.1, 0.6], [1, 1, 1], "p contains negative"),
        ([1, 1, 1], [1, np.nan, 1], "q contains NaN"),
        ([1, 1], [1, 1, 1], "same shape"),
        ([0, 0], [1, 1], "p sums to zero"),
        ([1, 1], [0, 0], "q sums to zero"),
        ([], [], "p is empty"),
        ([1, np.inf], [1, 1], "p contains infinite"),
    ],
)
def test_kl_bad_input(p, q, match):
    with pytest.raises(ValueError, match=match):
        kl_divergence(p, q)


def test_kl_type_error():
    with pytest.raises(TypeError, match="p must be an array"):
        kl_divergence("abc", [1, 2, 3])


# --------------------------------------------------------------------------- Gaussians
@pytest.mark.parametrize("m0, v0, m1, v1", [(0.0, 1.0, 0.0, 1.0), (0.3, 0.5, -1.0, 2.0), (2.0, 3.0, 0.0, 0.7)])
def test_kl_gaussian_scalar_vs_quadrature(m0, v0, m1, v1):
    n0, n1 = stats.norm(m0, math.sqrt(v0)), stats.norm(m1, math.sqrt(v1))
    integral, _ = integrate.quad(lambda x: n0.pdf(x) * (n0.logpdf(x) - n1.logpdf(x)), -40, 40, limit=200, points=[m0, m1])
    assert kl_gaussian(m0, v0, m1, v1) == pytest.approx(integral, rel=1e-8, abs=1e-12)


def test_kl_gaussian_2d_vs_grid_integral():
    m0, c0 = np.array([0.2, -0.1]), np.array([[1.0, 0.4], [0.4, 0.8]])
    m1, c1 = np.array([-0.3, 0.5]), np.array([[1.5, -0.3], [-0.3, 1.2]])
    x = np.linspace(-9, 9, 401)
    y = np.linspace(-9, 9, 401)
    grid = np.stack(np.meshgrid(x, y, indexing="ij"), axis=-1)
    lp = stats.multivariate_normal(m0, c0).logpdf(grid)
    lq = stats.multivariate_normal(m1, c1).logpdf(grid)
    direct = np.trapezoid(np.trapezoid(np.exp(lp) * (lp - lq), y, axis=1), x)
    exact = kl_gaussian(m0, c0, m1, c1)
    assert exact == pytest.approx(direct, rel=1e-6)
    # and the grid functions of this module on the same tabulation
    assert kl_divergence_grid(np.exp(lp), np.exp(lq), (x, y)) == pytest.approx(exact, rel=1e-6)
    assert kl_from_energies(-lp, -lq, [x, y]) == pytest.approx(exact, rel=1e-6)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, 3, elements=st.floats(-3, 3)), arrays(np.float64, 3, elements=st.floats(0.1, 5)),
       arrays(np.float64, 3, elements=st.floats(-3, 3)), arrays(np.float64, 3, elements=st.floats(0.1, 5)))
def test_kl_gaussian_diagonal_is_sum_of_1d(m0, v0, m1, v1):
    # independent coordinates: D = sum of 1-D closed forms 1/2 (v0/v1 + (m1-m0)^2/v1 - 1 + ln v1/v0)
    by_hand = sum(0.5 * (a / b + (d - c) ** 2 / b - 1 + math.log(b / a)) for a, b, c, d in zip(v0, v1, m0, m1))
    assert kl_gaussian(m0, np.diag(v0), m1, np.diag(v1)) == pytest.approx(by_hand, rel=1e-9, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_kl_gaussian_invariant_under_affine_maps(seed):
    rng = np.random.default_rng(seed)
    d = 3
    a0, a1 = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    c0, c1 = a0 @ a0.T + 0.5 * np.eye(d), a1 @ a1.T + 0.5 * np.eye(d)
    m0, m1 = rng.normal(size=d), rng.normal(size=d)
    t = rng.normal(size=(d, d)) + 3 * np.eye(d)
    b = rng.normal(size=d)
    before = kl_gaussian(m0, c0, m1, c1)
    after = kl_gaussian(t @ m0 + b, t @ c0 @ t.T, t @ m1 + b, t @ c1 @ t.T)
    assert after == pytest.approx(before, rel=1e-7, abs=1e-10)
    # textbook formula with explicit inverse and determinants
    inv1 = np.linalg.inv(c1)
    textbook = 0.5 * (np.trace(inv1 @ c0) + (m1 - m0) @ inv1 @ (m1 - m0) - d + math.log(np.linalg.det(c1) / np.linalg.det(c0)))
    assert before == pytest.approx(textbook, rel=1e-8)


def test_kl_gaussian_bad_input():
    with pytest.raises(ValueError, match="cov1 must be positive definite"):
        kl_gaussian([0, 0], np.eye(2), [0, 0], [[1, 2], [2, 1]])
    with pytest.raises(ValueError, match="cov0 must be symmetric"):
        kl_gaussian([0, 0], [[1, 0.5], [0, 1]], [0, 0], np.eye(2))
    with pytest.raises(ValueError, match="cov0 must have shape"):
        kl_gaussian([0, 0], np.eye(3), [0, 0], np.eye(2))
    with pytest.raises(ValueError, match="positive variance"):
        kl_gaussian(0.0, -1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="same shape"):
        kl_gaussian([0, 0], np.eye(2), 0.0, 1.0)
    with pytest.raises(ValueError, match="mean1 contains NaN"):
        kl_gaussian(0.0, 1.0, np.nan, 1.0)


# --------------------------------------------------------------------------- grids
def test_trapezoid_weights_integrate_linear_functions_exactly():
    x = np.array([0.0, 0.3, 1.0, 1.1, 2.5])
    w = trapezoid_weights(x)
    assert w @ (3 * x + 1) == pytest.approx(1.5 * 2.5**2 + 2.5, rel=1e-14)
    with pytest.raises(ValueError, match="x must be strictly increasing"):
        trapezoid_weights([0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="at least 2 grid points"):
        trapezoid_weights([0.0])


def test_grid_kl_1d_vs_closed_form_and_stable_for_huge_energies():
    x = np.linspace(-15, 15, 3001)
    exact = kl_gaussian(0.5, 0.8, -0.2, 1.7)
    u_p = (x - 0.5) ** 2 / (2 * 0.8)
    u_q = (x + 0.2) ** 2 / (2 * 1.7)
    assert kl_divergence_grid(np.exp(-u_p), np.exp(-u_q), x) == pytest.approx(exact, rel=1e-7)
    # shifting energies by 1e4 kT would underflow exp(); the log-space version does not care
    assert kl_from_energies(u_p + 1e4, u_q - 1e4, x) == pytest.approx(exact, rel=1e-7)
    # beta rescales both energies: beta = 2 halves the variances
    assert kl_from_energies(u_p, u_q, x, beta=2.0) == pytest.approx(kl_gaussian(0.5, 0.4, -0.2, 0.85), rel=1e-7)


def test_grid_kl_safety_net_and_support():
    x = np.linspace(0, 1, 11)
    p = np.ones(11)
    q = np.ones(11)
    q[4] = 0.0
    assert kl_divergence_grid(p, q, x) == math.inf
    u_q = np.where(x < 0.5, np.inf, 0.0)
    u_p = np.where(x < 0.5, np.inf, 0.0)
    assert kl_from_energies(u_p, u_q, x) == pytest.approx(0.0, abs=1e-14)
    assert math.isfinite(kl_divergence_grid(q, p, x))


def test_grid_kl_bad_input():
    x = np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="x has 5 points but"):
        kl_divergence_grid(np.ones(6), np.ones(6), x)
    with pytest.raises(ValueError, match="one grid per dimension"):
        kl_divergence_grid(np.ones((5, 5)), np.ones((5, 5)), x)
    with pytest.raises(ValueError, match="u_p contains NaN"):
        kl_from_energies([0, np.nan, 0, 0, 0], np.zeros(5), x)
    with pytest.raises(ValueError, match="u_q is \\+inf everywhere"):
        kl_from_energies(np.zeros(5), np.full(5, np.inf), x)
    with pytest.raises(ValueError, match="beta must be"):
        kl_from_energies(np.zeros(5), np.zeros(5), x, beta=0.0)


def test_grid_kl_accepts_a_plain_list_as_the_grid():
    # p ~ [1, 2, 3], q ~ [3, 2, 1] on x = [0, 1, 2]: trapezoid masses [1, 4, 3]/8 and [3, 4, 1]/8,
    # so D = 1/8 ln(1/3) + 3/8 ln 3 = ln(3)/4
    assert kl_divergence_grid([1, 2, 3], [3, 2, 1], [0, 1, 2]) == pytest.approx(math.log(3) / 4, rel=1e-12)
    assert kl_from_energies([0, 1, 2], [0, 1, 2], [0.0, 0.5, 1.0]) == pytest.approx(0.0, abs=1e-15)
    # one list of per-axis grids for 2-D values, and a one-item list for 1-D values
    assert kl_divergence_grid(np.ones((2, 3)), np.ones((2, 3)), [[0, 1], [0, 1, 2]]) == pytest.approx(0.0, abs=1e-15)
    assert kl_divergence_grid([1, 2, 3], [3, 2, 1], [np.arange(3.0)]) == pytest.approx(math.log(3) / 4, rel=1e-12)
    with pytest.raises(ValueError, match="x must be strictly increasing"):
        kl_divergence_grid([1, 2, 3], [1, 2, 3], [0.0, 2.0, 1.0])


# --------------------------------------------------------------------------- sample estimates
def test_relative_entropy_from_samples_z_score():
    # AA: U = x^2/2 (N(0,1)), CG: U = x^2 (N(0,1/2)); identity mapping, S_map = 0
    beta = 1.0
    rng = np.random.default_rng(11)
    x = rng.normal(size=20000)
    a_aa = -0.5 * math.log(2 * math.pi)
    a_cg = -0.5 * math.log(math.pi)
    exact = 0.5 * (1 / 0.5 - 1 + math.log(0.5))  # closed form D(N(0,1) || N(0,1/2))
    est = relative_entropy_from_samples(x**2, x**2 / 2, beta=beta, free_energy_cg=a_cg, free_energy_aa=a_aa)
    assert abs(est.value - exact) / est.stderr < 4.0
    # the terms are x^2/2 with variance 1/2: the standard error is sqrt(1/(2n))
    assert est.stderr == pytest.approx(math.sqrt(0.5 / x.size), rel=0.05)


def test_relative_entropy_from_samples_mapping_entropy_and_beta():
    est = relative_entropy_from_samples([1.0, 3.0], [0.0, 0.0], beta=2.0, free_energy_cg=1.0, free_energy_aa=0.5,
                                        mapping_entropy=[0.1, 0.3])
    # 2 * mean(1, 3) - 2 * (1 - 0.5) + mean(0.1, 0.3)
    assert est.value == pytest.approx(4.0 - 1.0 + 0.2, rel=1e-14)
    with pytest.raises(ValueError, match="mapping_entropy must be a scalar or have one value per sample"):
        relative_entropy_from_samples([1.0, 3.0], [0.0, 0.0], free_energy_cg=0, free_energy_aa=0, mapping_entropy=[1, 2, 3])
    with pytest.raises(ValueError, match="u_cg and u_aa must have the same shape"):
        relative_entropy_from_samples([1.0, 3.0], [0.0], free_energy_cg=0, free_energy_aa=0)
    with pytest.raises(ValueError, match="at least 2 samples"):
        relative_entropy_from_samples([1.0], [0.0], free_energy_cg=0, free_energy_aa=0)
    with pytest.raises(ValueError, match="u_cg is empty"):
        relative_entropy_from_samples([], [], free_energy_cg=0, free_energy_aa=0)


def test_log_likelihood_from_energies_matches_gaussian_logpdf():
    rng = np.random.default_rng(5)
    x = rng.normal(1.0, 2.0, size=50)
    beta = 0.5
    energies = (x - 1.0) ** 2 / 4.0  # beta * U = (x - 1)^2 / 8 = (x-1)^2 / (2 sigma^2)
    log_z = 0.5 * math.log(2 * math.pi * 4.0)
    assert log_likelihood_from_energies(energies, log_z, beta=beta) == pytest.approx(
        stats.norm(1.0, 2.0).logpdf(x).mean(), rel=1e-12)
    with pytest.raises(ValueError, match="log_partition must have 0"):
        log_likelihood_from_energies(energies, [1.0, 2.0])


# --------------------------------------------------------------------------- log-likelihood with basis + ensemble
def test_log_likelihood_with_basis_and_grid_ensemble_is_gaussian_logpdf():
    from remlib.basis import PolynomialBasis
    from remlib.divergence import log_likelihood
    from remlib.ensembles import GridEnsemble

    x = np.random.default_rng(2).normal(0.3, 0.8, size=40)
    ens = GridEnsemble(np.linspace(-12, 12, 6001), beta=2.0)
    # beta U = 2 (a x^2 + b x) with a = 1/(4 * 0.64), b = -2 a 0.3: N(0.3, 0.8^2) (up to a constant)
    a = 1 / (4 * 0.64)
    value = log_likelihood(PolynomialBasis([1, 2]), [-2 * a * 0.3, a], x, ens)
    assert value == pytest.approx(stats.norm(0.3, 0.8).logpdf(x).mean(), rel=1e-8)
    with pytest.raises(TypeError, match="ensemble must provide log_partition"):
        log_likelihood(PolynomialBasis([2]), [1.0], x, object())
    with pytest.raises(ValueError, match="theta must have 1 entries"):
        log_likelihood(PolynomialBasis([2]), [1.0, 2.0], x, ens)
    with pytest.raises(TypeError, match="basis must be a remlib.basis.Basis"):
        log_likelihood("x**2", [1.0], x, ens)
    with pytest.raises(ValueError, match="samples is empty"):
        log_likelihood(PolynomialBasis([2]), [1.0], [], ens)


def test_log_likelihood_gradient_is_moment_mismatch_and_rem_optimum_maximises_it():
    # d ell / d theta = beta (<phi>_theta - <phi>_data): zero exactly where REM's moment matching holds
    from remlib.basis import PolynomialBasis
    from remlib.divergence import log_likelihood
    from remlib.ensembles import GridEnsemble
    from remlib.rem import minimize_relative_entropy
    from remlib.systems import DoubleWell

    basis = PolynomialBasis([2, 4])
    ens = GridEnsemble(np.linspace(-3, 3, 1201), beta=1.0)
    data = DoubleWell(barrier=1.5).sample(3000, seed=4)
    theta = np.array([-1.0, 0.8])
    step = 1e-6
    fd = [(log_likelihood(basis, theta + step * e, data, ens) - log_likelihood(basis, theta - step * e, data, ens))
          / (2 * step) for e in np.eye(2)]
    expected = ens.beta * (ens.averages(basis, theta).mean - basis(data).mean(axis=0))
    assert fd == pytest.approx(expected, rel=1e-5, abs=1e-7)
    best = minimize_relative_entropy(basis, ens, data).theta
    top = log_likelihood(basis, best, data, ens)
    rng = np.random.default_rng(0)
    for _ in range(10):
        assert log_likelihood(basis, best + 0.05 * rng.normal(size=2), data, ens) < top
