"""Statistics helpers (remlib._stats) against scipy and numpy's own estimators."""
import numpy as np
import pytest
from scipy.special import logsumexp as scipy_logsumexp

from remlib._stats import logsumexp, trapezoid_weights, weighted_moments


def test_logsumexp_matches_scipy_over_all_entries_and_along_axes():
    values = np.random.default_rng(0).normal(scale=300, size=(40, 30, 5))
    np.testing.assert_allclose(logsumexp(values), scipy_logsumexp(values), rtol=1e-14)
    for axis in (0, 1, (0, 2), (1, 2)):
        np.testing.assert_allclose(logsumexp(values, axis=axis), scipy_logsumexp(values, axis=axis), rtol=1e-13)
    assert isinstance(logsumexp(values), float)


def test_logsumexp_of_infinite_entries():
    assert logsumexp(np.array([-np.inf, -np.inf])) == -np.inf
    assert logsumexp(np.array([0.0, np.inf])) == np.inf
    assert logsumexp(np.array([-np.inf, np.log(2.0)])) == pytest.approx(np.log(2.0), rel=1e-15)
    rows = logsumexp(np.array([[-np.inf, -np.inf], [0.0, 0.0]]), axis=1)
    assert rows[0] == -np.inf and rows[1] == pytest.approx(np.log(2.0), rel=1e-15)
    with pytest.raises(ValueError, match="values is empty"):
        logsumexp(np.array([]))


def test_weighted_moments_match_numpy_weighted_covariance():
    rng = np.random.default_rng(1)
    values = rng.normal(size=(200, 3))
    weights = rng.uniform(size=200)
    weights /= weights.sum()
    mean, cov = weighted_moments(values, weights)
    np.testing.assert_allclose(mean, np.average(values, axis=0, weights=weights), rtol=1e-13)
    np.testing.assert_allclose(cov, np.cov(values.T, aweights=weights, bias=True), rtol=1e-12, atol=1e-15)


def test_trapezoid_weights_integrate_a_quadratic_on_an_uneven_grid():
    x = np.array([0.0, 0.3, 1.0, 1.5, 3.0])
    w = trapezoid_weights(x)
    np.testing.assert_allclose(w @ x, 4.5, rtol=1e-14)  # linear: exact
    np.testing.assert_allclose(w @ x**2, np.trapezoid(x**2, x), rtol=1e-14)
