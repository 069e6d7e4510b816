"""Tests of remlib.pmf against exact PMFs (quadrature, closed forms) with z-scores."""
import math

import numpy as np
import pytest
from scipy import integrate

from remlib.pmf import pmf_from_samples, pmf_on_grid
from remlib.systems import DoubleWell, EntropicChannel


def _exact_bin_pmf(density, edges, beta, measure=None):
    """-kT ln(∫_bin density / bin measure) by adaptive quadrature, one value per bin."""
    mass = np.array([integrate.quad(density, a, b)[0] for a, b in zip(edges[:-1], edges[1:])])
    measure = np.diff(edges) if measure is None else measure
    return -np.log(mass / measure) / beta


def _z_scores(F, error, exact):
    """z-scores of F - exact, both taken relative to the best-sampled bin."""
    ref = int(np.argmin(error))
    diff = (F - F[ref]) - (exact - exact[ref])
    se = np.sqrt(error**2 + error[ref] ** 2)
    mask = np.arange(F.size) != ref
    return diff[mask] / se[mask]


def _check_calibrated(z):
    assert np.max(np.abs(z)) < 4.5
    # z^2 averages to ~1 when the error bars are right (neither too small nor too large)
    assert 0.4 < np.mean(z**2) < 1.8


@pytest.mark.parametrize("beta", [0.7, 2.0])
def test_double_well_pmf_within_statistical_error(beta):
    dw = DoubleWell(barrier=2.0, tilt=0.4)
    x = dw.sample(60000, beta=beta, seed=21)
    edges = np.linspace(-1.6, 1.6, 33)
    result = pmf_from_samples(x, edges, beta=beta)
    centers, F, error = result.centers, result.pmf, result.error
    assert centers == pytest.approx(0.5 * (edges[1:] + edges[:-1]))
    assert np.min(F) == 0.0 and np.all(np.isfinite(F))
    exact = _exact_bin_pmf(lambda t: math.exp(-beta * float(dw.energy(t))), edges, beta)
    _check_calibrated(_z_scores(F, error, exact))


def test_entropic_channel_mapped_samples_give_the_free_energy_not_the_energy():
    ch = EntropicChannel(barrier=1.0, kappa0=1.0, a=1.5)
    beta = 1.0
    r = ch.sample(60000, beta=beta, seed=12)
    edges = np.linspace(-1.7, 1.7, 35)
    result = pmf_from_samples(r[:, 0], edges, beta=beta)
    F, error = result.pmf, result.error
    # exact marginal exp(-beta F), F = U1 + (kT/2)(a x^2 + ln kappa0) + const, written out here
    exact = _exact_bin_pmf(lambda t: math.exp(-beta * ((t * t - 1) ** 2 + 0.75 * t * t)), edges, beta)
    _check_calibrated(_z_scores(F, error, exact))
    # the bare potential U1 is far outside the error bars
    bare = _exact_bin_pmf(lambda t: math.exp(-beta * (t * t - 1) ** 2), edges, beta)
    assert np.max(np.abs(_z_scores(F, error, bare))) > 10


def test_unweighted_error_formula_by_hand():
    x = np.array([0.1, 0.2, 0.3, 1.1, 1.2, 2.5])
    result = pmf_from_samples(x, [0, 1, 2, 3], beta=2.0)
    F, error = result.pmf, result.error
    n_k, n = np.array([3, 2, 1]), 6
    assert error == pytest.approx(np.sqrt(1 / n_k - 1 / n) / 2.0, rel=1e-12)
    assert F == pytest.approx(-np.log(n_k / 3) / 2.0, rel=1e-12, abs=1e-15)


def test_weighted_samples_reweighted_to_target():
    # samples from N(0, 1.5^2), reweighted to N(0, 1): the PMF is x^2/2 (bin-averaged)
    rng = np.random.default_rng(4)
    x = rng.normal(scale=1.5, size=80000)
    w = np.exp(-x**2 / 2 + x**2 / (2 * 1.5**2))
    edges = np.linspace(-2.5, 2.5, 26)
    result = pmf_from_samples(x, edges, weights=w)
    F, error = result.pmf, result.error
    exact = _exact_bin_pmf(lambda t: math.exp(-t * t / 2), edges, 1.0)
    _check_calibrated(_z_scores(F, error, exact))


def _uniform_ball(n, seed):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, 3))
    v /= np.linalg.norm(v, axis=1)[:, None]
    return v * rng.random(n)[:, None] ** (1 / 3)


def test_distance_jacobian_makes_uniform_ball_flat():
    r = np.linalg.norm(_uniform_ball(50000, 8), axis=1)
    edges = np.linspace(0.0, 1.0, 21)
    result = pmf_from_samples(r, edges, jacobian="distance")
    F, error = result.pmf, result.error
    _check_calibrated(_z_scores(F, error, np.zeros(20)))
    # without the correction the PMF is -2 kT ln r, integrated exactly over each bin
    result = pmf_from_samples(r, edges)
    F_raw, err_raw = result.pmf, result.error
    exact_raw = -np.log((edges[1:] ** 3 - edges[:-1] ** 3) / np.diff(edges))
    _check_calibrated(_z_scores(F_raw, err_raw, exact_raw))


def test_angle_jacobian_makes_isotropic_directions_flat():
    v = _uniform_ball(50000, 9)
    theta = np.arccos(v[:, 2] / np.linalg.norm(v, axis=1))
    result = pmf_from_samples(theta, np.linspace(0, np.pi, 19), jacobian="angle")
    F, error = result.pmf, result.error
    _check_calibrated(_z_scores(F, error, np.zeros(18)))


def test_empty_bins_are_infinite_and_beta_scales():
    x = np.array([0.1, 0.2, 2.5, 2.6, 2.7])
    result = pmf_from_samples(x, [0, 1, 2, 3])
    F, error = result.pmf, result.error
    assert F[1] == math.inf and error[1] == math.inf
    assert F[2] == 0.0 and F[0] == pytest.approx(math.log(3 / 2))
    F2 = pmf_from_samples(x, [0, 1, 2, 3], beta=2.0).pmf
    assert F2[0] == pytest.approx(F[0] / 2)
    # (n, 1) input and range= behave like numpy.histogram (outside samples ignored)
    result = pmf_from_samples(x[:, None], 2, range=(0.0, 1.0))
    c, F3 = result.centers, result.pmf
    assert c == pytest.approx([0.25, 0.75]) and F3[0] == 0.0 and F3[1] == math.inf


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(samples=[0.1, np.nan], bins=3), "samples contains NaN"),
        (dict(samples=[], bins=3), "samples is empty"),
        (dict(samples=np.ones((3, 2)), bins=3, jacobian="distance"), "applies to one coordinate"),
        (dict(samples=np.zeros((3, 2, 2)), bins=3), "samples must have 1 or 2 dimension"),
        (dict(samples=[0.1, 0.2], bins=3, weights=[1.0]), "weights must have one value per sample"),
        (dict(samples=[0.1, 0.2], bins=3, weights=[1.0, -1.0]), "weights contains negative"),
        (dict(samples=[0.1, 0.2], bins=3, jacobian="volume"), "jacobian must be"),
        (dict(samples=[-0.1, 0.2], bins=3, jacobian="distance"), "samples must lie in"),
        (dict(samples=[0.1, 4.0], bins=3, jacobian="angle"), "samples must lie in"),
        (dict(samples=[0.1, 0.2], bins=3, range=(5.0, 6.0)), "no samples"),
        (dict(samples=[0.1, 0.2], bins=[1.0, 0.0]), "invalid bins"),
        (dict(samples=[0.1, 0.2], bins=3, beta=0), "beta must be"),
    ],
)
def test_pmf_from_samples_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pmf_from_samples(**kwargs)


def test_two_dimensional_pmf_within_statistical_error():
    from scipy.stats import norm

    rng = np.random.default_rng(6)
    samples = np.column_stack([rng.normal(0.3, 1.0, 60000), rng.normal(-0.5, 0.5, 60000)])
    ex, ey = np.linspace(-2, 2.5, 10), np.linspace(-1.5, 0.5, 9)
    result = pmf_from_samples(samples, [ex, ey], beta=1.5)
    centers, F, error = result.centers, result.pmf, result.error
    assert isinstance(centers, tuple) and centers[1] == pytest.approx(0.5 * (ey[1:] + ey[:-1]))
    assert F.shape == error.shape == (9, 8)
    mass = np.outer(np.diff(norm.cdf(ex, 0.3, 1.0)), np.diff(norm.cdf(ey, -0.5, 0.5)))
    exact = -np.log(mass / np.outer(np.diff(ex), np.diff(ey))) / 1.5
    _check_calibrated(_z_scores(F.ravel(), error.ravel(), exact.ravel()))


# --------------------------------------------------------------------------- pmf_on_grid
@pytest.mark.parametrize("form", ["exp", "quadratic"])
@pytest.mark.parametrize("beta", [0.5, 1.0, 3.0])
def test_pmf_on_grid_entropic_channel_closed_form(form, beta):
    ch = EntropicChannel(barrier=1.0, tilt=0.3, kappa0=1.5, a=1.2, kappa_form=form)
    x = np.linspace(-1.8, 1.8, 37)
    y = np.linspace(-12, 12, 4001)
    F = pmf_on_grid(ch.energy, [x, y], axis=0, beta=beta)
    # closed form U1 + (kT/2) ln kappa, written out here independently of the class
    kappa = 1.5 * (np.exp(1.2 * x**2) if form == "exp" else 1 + 1.2 * x**2)
    exact = (x**2 - 1) ** 2 + 0.3 * x + np.log(kappa) / (2 * beta)
    assert F == pytest.approx(exact - exact.min(), abs=1e-7)
    # tabulated energies and the other axis order give the same answer
    tab = ch.energy(np.stack(np.meshgrid(x, y, indexing="ij"), axis=-1))
    assert pmf_on_grid(tab, [x, y], axis=0, beta=beta) == pytest.approx(F, abs=1e-12)
    swapped = lambda r: ch.energy(r[:, ::-1])
    assert pmf_on_grid(swapped, [y, x], axis=1, beta=beta) == pytest.approx(F, abs=1e-12)


def test_pmf_on_grid_keeps_two_axes():
    x = np.linspace(-1, 1, 5)
    y = np.linspace(-1, 1, 7)
    z = np.linspace(-15, 15, 3001)
    energy = lambda r: r[:, 0] ** 2 + r[:, 1] ** 2 + 0.5 * (1 + r[:, 0] ** 2 + r[:, 1] ** 2) * r[:, 2] ** 2
    F = pmf_on_grid(energy, [x, y, z], axis=(0, 1))
    X, Y = np.meshgrid(x, y, indexing="ij")
    exact = X**2 + Y**2 + 0.5 * np.log(1 + X**2 + Y**2)
    assert F.shape == (5, 7)
    assert F == pytest.approx(exact - exact.min(), abs=1e-8)


def test_pmf_on_grid_forbidden_region_and_one_dimension():
    x = np.linspace(-2, 2, 9)
    u = np.where(x < 0, np.inf, (x - 1) ** 2)
    F = pmf_on_grid(u, [x])
    assert np.all(F[x < 0] == np.inf)
    assert F[x >= 0] == pytest.approx((x[x >= 0] - 1) ** 2)


def test_pmf_on_grid_bad_input():
    x, y = np.linspace(0, 1, 4), np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="energy must have the grid's shape"):
        pmf_on_grid(np.zeros((5, 4)), [x, y])
    with pytest.raises(ValueError, match="energy must return one value per grid point"):
        pmf_on_grid(lambda r: r, [x, y])
    with pytest.raises(ValueError, match="axis must be integer"):
        pmf_on_grid(np.zeros((4, 5)), [x, y], axis=2)
    with pytest.raises(ValueError, match=r"grids\[1\] must be strictly increasing"):
        pmf_on_grid(np.zeros((4, 5)), [x, y[::-1]])
    with pytest.raises(ValueError, match="energy contains NaN"):
        pmf_on_grid(np.full((4, 5), np.nan), [x, y])
    with pytest.raises(ValueError, match=r"\+inf everywhere"):
        pmf_on_grid(np.full((4, 5), np.inf), [x, y])
