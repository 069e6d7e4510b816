"""Tests of remlib.basis against closed forms, scipy's B-splines and finite differences."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.interpolate import BSpline

from remlib.basis import (
    Basis,
    BSplineBasis,
    FourierBasis,
    GaussianBasis,
    PolynomialBasis,
    SeparableBasis,
    _bspline_energy,
    _bspline_values,
    _energies,
)

X = np.linspace(-1.9, 1.9, 41)

BASES_1D = [
    PolynomialBasis([1, 2, 4]),
    GaussianBasis([-1.0, 0.0, 1.5], width=0.7),
    BSplineBasis(-2.0, 2.0, 9),
    FourierBasis(3),
    FourierBasis(2, sine=False),
]


def test_polynomial_closed_form():
    basis = PolynomialBasis([2, 4])
    np.testing.assert_allclose(basis(X), np.column_stack([X**2, X**4]))
    np.testing.assert_allclose(basis.derivative(X), np.column_stack([2 * X, 4 * X**3]))
    np.testing.assert_allclose(basis.energy(X, [-2.0, 1.0]), (X**2 - 1) ** 2 - 1)


def test_polynomial_negative_powers_and_constant():
    basis = PolynomialBasis([-12, -6, 0])
    r = np.array([0.9, 1.0, 1.5])
    np.testing.assert_allclose(basis(r), np.column_stack([r**-12, r**-6, np.ones(3)]))
    np.testing.assert_allclose(basis.derivative(r), np.column_stack([-12 * r**-13, -6 * r**-7, np.zeros(3)]))
    with pytest.raises(ValueError, match="contains 0"):
        basis([0.0, 1.0])


def test_polynomial_integer_powers_match_float_pow_for_every_sign_and_size():
    # the design matrix is built by repeated squaring; compare with numpy's pow entry by entry
    powers = np.array([-13, -12, -1, 0, 1, 2, 3, 7, 16, 31])
    x = np.concatenate([-np.geomspace(3.0, 0.05, 40), np.geomspace(0.05, 3.0, 40)])
    basis = PolynomialBasis(powers)
    p = powers.astype(float)
    np.testing.assert_allclose(basis(x), x[:, None] ** p, rtol=1e-13)
    np.testing.assert_allclose(basis.derivative(x), np.where(p == 0, 0.0, p * x[:, None] ** (p - 1)), rtol=1e-13)
    # at x = 0 (no negative powers): x^0 = 1, d/dx x^1 = 1, everything else 0
    at_zero = PolynomialBasis([0, 1, 2, 5])
    assert at_zero([0.0]).tolist() == [[1.0, 0.0, 0.0, 0.0]]
    assert at_zero.derivative([0.0]).tolist() == [[0.0, 1.0, 0.0, 0.0]]


def test_gaussian_closed_form():
    basis = GaussianBasis([0.5, -1.0], width=0.3)
    expected = np.exp(-((X[:, None] - np.array([0.5, -1.0])) ** 2) / (2 * 0.3**2))
    np.testing.assert_allclose(basis(X), expected)


def test_fourier_closed_form():
    basis = FourierBasis(2)
    expected = np.column_stack([np.cos(X), np.cos(2 * X), np.sin(X), np.sin(2 * X)])
    np.testing.assert_allclose(basis(X), expected)
    np.testing.assert_allclose(FourierBasis(2, sine=False)(X), expected[:, :2])
    # periodic with period 2 pi
    np.testing.assert_allclose(basis(X + 2 * np.pi), basis(X), atol=1e-12)


@pytest.mark.parametrize("basis", BASES_1D, ids=repr)
def test_derivative_matches_central_differences(basis):
    h = 1e-6
    numeric = (basis(X + h) - basis(X - h)) / (2 * h)
    np.testing.assert_allclose(basis.derivative(X), numeric, atol=1e-6)


@pytest.mark.parametrize("basis", BASES_1D, ids=repr)
def test_force_is_minus_energy_gradient(basis):
    theta = np.linspace(-1.0, 1.0, basis.n_functions)
    h = 1e-6
    numeric = -(basis.energy(X + h, theta) - basis.energy(X - h, theta)) / (2 * h)
    np.testing.assert_allclose(basis.force(X, theta), numeric, atol=1e-6)
    np.testing.assert_allclose(basis.gradient(X)[:, :, 0], basis.derivative(X))


@pytest.mark.parametrize("basis", BASES_1D + [SeparableBasis(PolynomialBasis([2, 4]), FourierBasis(1))], ids=repr)
def test_compiled_energy_matches_numpy_reference(basis):
    rng = np.random.default_rng(3)
    points = rng.uniform(-1.9, 1.9, size=(200, basis.dim))
    theta = rng.normal(size=basis.n_functions)
    x = points[:, 0] if basis.dim == 1 else points
    np.testing.assert_allclose(_energies(points, *basis._spec(), theta), basis.energy(x, theta), rtol=1e-12, atol=1e-12)


def test_compiled_polynomial_with_negative_and_high_powers():
    basis = PolynomialBasis([-12, -6, 0, 3, 7, 11])
    x = np.concatenate([np.linspace(-2.0, -0.5, 20), np.linspace(0.5, 2.0, 20)])
    theta = np.array([1.0, -2.0, 0.5, 0.3, -0.1, 0.01])
    np.testing.assert_allclose(_energies(x[:, None], *basis._spec(), theta), basis.energy(x, theta), rtol=1e-13)
    # x = 0 with a negative power is undefined: NaN from the kernel (the numpy basis raises)
    assert np.isnan(_energies(np.zeros((1, 1)), *basis._spec(), theta)[0])


def test_bspline_matches_scipy():
    basis = BSplineBasis(0.5, 3.0, 8)
    r = np.linspace(0.5, 3.0, 101)
    for i in range(basis.n_functions):
        spline = BSpline.basis_element(basis.knots[i:i + 5], extrapolate=False)
        expected = np.nan_to_num(spline(r))
        np.testing.assert_allclose(basis(r)[:, i], expected, atol=1e-12)
        np.testing.assert_allclose(basis.derivative(r)[:, i], np.nan_to_num(spline.derivative()(r)), atol=1e-10)


@settings(max_examples=200, deadline=None)
@given(
    lower=st.floats(-5, 5),
    length=st.floats(0.1, 10),
    n=st.integers(4, 20),
    fraction=st.lists(st.floats(0, 1), min_size=1, max_size=20),
)
def test_bspline_partition_of_unity(lower, length, n, fraction):
    basis = BSplineBasis(lower, lower + length, n)
    x = np.clip(lower + length * np.array(fraction), lower, lower + length)
    values = basis(x)
    np.testing.assert_allclose(values.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(values >= 0)
    np.testing.assert_allclose(basis.derivative(x).sum(axis=1), 0.0, atol=1e-9 * n / length)


def test_bspline_outside_interval():
    basis = BSplineBasis(1.0, 2.0, 6)
    np.testing.assert_array_equal(basis([2.0 + 1e-9, 5.0]), 0.0)
    np.testing.assert_array_equal(basis.derivative([3.0]), 0.0)
    with pytest.raises(ValueError, match="below lower"):
        basis([0.5])


def test_bspline_kernel_matches_design_matrix():
    basis = BSplineBasis(0.8, 2.5, 10)
    values, derivatives = np.empty(4), np.empty(4)
    theta = np.random.default_rng(0).normal(size=10)
    for r in np.concatenate([np.linspace(0.8, 2.5, 57), [2.6]]):
        i0 = _bspline_values(r, basis.lower, basis.spacing, basis.n_functions, values, derivatives)
        row, drow = np.zeros(10), np.zeros(10)
        if i0 >= 0:
            row[i0:i0 + 4], drow[i0:i0 + 4] = values, derivatives
        else:
            assert i0 == -1 and r > basis.upper
        np.testing.assert_allclose(row, basis([r])[0], atol=1e-14)
        np.testing.assert_allclose(drow, basis.derivative([r])[0], atol=1e-12)
        energy, slope = _bspline_energy(r, basis.lower, basis.spacing, basis.n_functions, theta)
        np.testing.assert_allclose(energy, basis.energy([r], theta)[0], atol=1e-12)
        np.testing.assert_allclose(-slope, basis.force([r], theta)[0], atol=1e-11)
    assert _bspline_values(0.5, basis.lower, basis.spacing, basis.n_functions, values, derivatives) == -2
    assert _bspline_energy(0.5, basis.lower, basis.spacing, basis.n_functions, theta)[0] == np.inf


def test_separable_basis():
    basis = SeparableBasis(PolynomialBasis([2, 4]), GaussianBasis([0.0], 1.0))
    x = np.column_stack([X, X[::-1]])
    np.testing.assert_allclose(basis(x), np.column_stack([X**2, X**4, np.exp(-X[::-1] ** 2 / 2)]))
    gradient = basis.gradient(x)
    assert gradient.shape == (X.size, 3, 2)
    np.testing.assert_allclose(gradient[:, :2, 1], 0.0)
    np.testing.assert_allclose(gradient[:, 2, 1], -X[::-1] * np.exp(-X[::-1] ** 2 / 2))
    theta = np.array([1.0, 0.5, -2.0])
    np.testing.assert_allclose(basis.force(x, theta)[:, 0], -(2 * X + 2 * X**3))
    with pytest.raises(TypeError, match="gradient"):
        basis.derivative(x)


def test_input_shapes():
    basis = PolynomialBasis([2])
    np.testing.assert_allclose(basis(X[:, None]), basis(X))
    assert basis(3.0).shape == (1, 1)
    assert basis(np.empty(0)).shape == (0, 1)
    with pytest.raises(ValueError, match=r"x must have shape \(n,\) or \(n, 1\)"):
        basis(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="x contains NaN"):
        basis([1.0, np.nan])
    with pytest.raises(ValueError, match="theta must have 1 entries"):
        basis.energy(X, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"x must have shape \(n, 2\)"):
        SeparableBasis(PolynomialBasis([2]), PolynomialBasis([2]))(np.zeros((3, 3)))


@pytest.mark.parametrize(
    "factory, error, match",
    [
        (lambda: PolynomialBasis([]), ValueError, "powers"),
        (lambda: PolynomialBasis([2, 2]), ValueError, "distinct"),
        (lambda: PolynomialBasis([1.5]), TypeError, "integers"),
        (lambda: GaussianBasis([0.0, 0.0], 1.0), ValueError, "centers"),
        (lambda: GaussianBasis([0.0], -1.0), ValueError, "width"),
        (lambda: BSplineBasis(1.0, 0.0, 5), ValueError, "upper"),
        (lambda: BSplineBasis(0.0, 1.0, 3), ValueError, "n_functions"),
        (lambda: FourierBasis(0), ValueError, "order"),
        (lambda: SeparableBasis(PolynomialBasis([2])), ValueError, "at least two"),
        (lambda: SeparableBasis(PolynomialBasis([2]), "x"), TypeError, r"bases\[1\]"),
    ],
)
def test_bad_construction(factory, error, match):
    with pytest.raises(error, match=match):
        factory()


def test_user_basis_without_spec():
    class Quadratic(Basis):
        n_functions = 1

        def _design(self, x):
            return x[:, None] ** 2

        def _derivative(self, x):
            return 2 * x[:, None]

    basis = Quadratic()
    assert basis._spec() is None
    np.testing.assert_allclose(basis.force(X, [0.5]), -X)


def test_repr():
    assert repr(PolynomialBasis([2, 4])) == "PolynomialBasis(powers=[2, 4])"
    assert "BSplineBasis(lower=0.0, upper=1.0, n_functions=5)" == repr(BSplineBasis(0, 1, 5))
    assert "FourierBasis(order=2, sine=False)" == repr(FourierBasis(2, sine=False))
    assert repr(GaussianBasis([0.0], 1.0)).startswith("GaussianBasis(centers=[0.0]")
