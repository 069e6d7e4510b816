"""Bad input to the public functions of the equilibrium core.

Each call passes one typical user mistake (wrong type, wrong rank, mismatched shape,
NaN/negative values, empty data, out-of-range integers) and must fail with a
ValueError or TypeError whose message names the offending argument: never a numba
typing error, a numpy broadcasting message or a silent result.  A second set checks
that harmless variations (lists, ints, scalars, (n, 1) columns) give the same numbers
as float arrays.
"""
import numpy as np
import pytest

from remlib.basis import BSplineBasis, FourierBasis, GaussianBasis, PolynomialBasis, SeparableBasis
from remlib.divergence import (
    kl_divergence,
    kl_divergence_grid,
    kl_from_energies,
    kl_gaussian,
    log_likelihood,
    log_likelihood_from_energies,
    relative_entropy_from_samples,
)
from remlib.ensembles import GridEnsemble, MetropolisEnsemble, effective_sample_size
from remlib.information import information_decomposition
from remlib.pmf import pmf_from_samples, pmf_on_grid
from remlib.rem import minimize_relative_entropy, relative_entropy_objective
from remlib.systems import DoubleWell, EntropicChannel, GaussianChain, IsingChain

DW = PolynomialBasis([2, 4])
GRID = GridEnsemble(np.linspace(-2.0, 2.0, 41))
TARGET = np.linspace(-1.5, 1.5, 31)

BAD = {
    # divergence
    "kl-negative": (lambda: kl_divergence([1, -2], [1, 2]), ValueError, "p contains negative"),
    "kl-nan": (lambda: kl_divergence([1, 1], [1, np.nan]), ValueError, "q contains NaN"),
    "kl-shapes": (lambda: kl_divergence([1, 2], [1, 2, 3]), ValueError, "p and q must have the same shape"),
    "kl-string": (lambda: kl_divergence("ab", [1, 2]), TypeError, "p must be an array of real numbers"),
    "kl-complex": (lambda: kl_divergence([1j, 1], [1, 2]), TypeError, "p must be an array of real numbers"),
    "kl-empty": (lambda: kl_divergence([], []), ValueError, "p is empty"),
    "kl-all-zero": (lambda: kl_divergence([0, 0], [1, 1]), ValueError, "p sums to zero"),
    "klg-variance": (lambda: kl_gaussian(0, -1, 0, 1), ValueError, "cov0 must be a positive variance"),
    "klg-shape": (lambda: kl_gaussian([0, 0], np.eye(3), [0, 0], np.eye(2)), ValueError, "cov0 must have shape"),
    "klg-not-pd": (lambda: kl_gaussian([0, 0], np.eye(2), [0, 0], [[1, 2], [2, 1]]), ValueError,
                   "cov1 must be positive definite"),
    "klg-means": (lambda: kl_gaussian([0, 0], np.eye(2), [0], np.eye(2)), ValueError, "mean0 and mean1"),
    "klgrid-points": (lambda: kl_divergence_grid(np.ones(4), np.ones(4), [0, 1, 2]), ValueError, "x has 3 points"),
    "klgrid-order": (lambda: kl_divergence_grid([1, 2, 3], [1, 2, 3], [0, 2, 1]), ValueError,
                     "x must be strictly increasing"),
    "kle-nan": (lambda: kl_from_energies([0, np.nan, 0], [0, 0, 0], [0, 1, 2]), ValueError, "u_p contains NaN"),
    "kle-beta": (lambda: kl_from_energies([0, 0], [0, 0], [0, 1], beta="1"), TypeError, "beta must be a real"),
    "srel-empty": (lambda: relative_entropy_from_samples([], [], free_energy_cg=0, free_energy_aa=0), ValueError,
                   "u_cg is empty"),
    "srel-shapes": (lambda: relative_entropy_from_samples([1, 2], [1, 2, 3], free_energy_cg=0, free_energy_aa=0),
                    ValueError, "u_cg and u_aa"),
    "ll-theta": (lambda: log_likelihood(DW, [1, 0, 0], [0.1, 1.0], GRID), ValueError, "theta must have 2 entries"),
    "ll-samples": (lambda: log_likelihood(DW, [1, 0], [], GRID), ValueError, "samples is empty"),
    "llE-empty": (lambda: log_likelihood_from_energies([], 0.0), ValueError, "energies is empty"),
    "llE-2d": (lambda: log_likelihood_from_energies([[1.0]], 0.0), ValueError, "energies must have 1"),
    # pmf
    "pmf-empty": (lambda: pmf_from_samples([], 10), ValueError, "samples is empty"),
    "pmf-nan": (lambda: pmf_from_samples([1, np.nan], 10), ValueError, "samples contains NaN"),
    "pmf-3d": (lambda: pmf_from_samples(np.zeros((2, 2, 2)), 2), ValueError, "samples must have 1 or 2"),
    "pmf-bins": (lambda: pmf_from_samples([1, 2], 0), ValueError, "bins"),
    "pmf-weights-negative": (lambda: pmf_from_samples([1, 2], 2, weights=[1, -1]), ValueError,
                             "weights contains negative"),
    "pmf-weights-shape": (lambda: pmf_from_samples([1, 2], 2, weights=[1, 1, 1]), ValueError,
                          "weights must have one value per sample"),
    "pmf-no-data-in-range": (lambda: pmf_from_samples([1, 2], 2, range=(5, 6)), ValueError,
                             "no samples .* inside the histogram range"),
    "pmf-jacobian": (lambda: pmf_from_samples([1, 2], 2, jacobian="r2"), ValueError, "jacobian must be"),
    "pmf-distance": (lambda: pmf_from_samples([-1, 2], 2, jacobian="distance"), ValueError, "samples must lie in"),
    "pmf-angle": (lambda: pmf_from_samples([0.5, 4.0], 2, jacobian="angle"), ValueError, "samples must lie in"),
    "pmfgrid-shape": (lambda: pmf_on_grid(np.zeros((3, 3)), [np.arange(3.0)]), ValueError, "energy must have"),
    "pmfgrid-axis": (lambda: pmf_on_grid(np.zeros((3, 3)), [np.arange(3.0)] * 2, axis=5), ValueError, "axis"),
    # information
    "info-negative": (lambda: information_decomposition([0.5, -0.5, 1], [0, 0, 1], [0.5, 0.5]), ValueError,
                      "p_aa contains negative"),
    "info-float-labels": (lambda: information_decomposition([1, 1, 1], [0, 0.5, 1], [0.5, 0.5]), TypeError,
                          "mapping must contain integer"),
    "info-label-range": (lambda: information_decomposition([1, 1, 1], [0, 0, 2], [0.5, 0.5]), ValueError,
                         "mapping contains label 2"),
    "info-mapping-length": (lambda: information_decomposition([1, 1, 1], [0, 0], [0.5, 0.5]), ValueError,
                            "mapping must be a 1-D array"),
    "info-empty-state": (lambda: information_decomposition([1, 1, 1], [0, 0, 0], [0.5, 0.5]), ValueError,
                         "CG state 1 has no microstates"),
    "info-backmap": (lambda: information_decomposition([1, 1, 1], [0, 0, 1], [0.5, 0.5], backmap=[0.5, 0.6, 1]),
                     ValueError, "backmap must sum to 1"),
    # basis
    "poly-powers-text": (lambda: PolynomialBasis("ab"), ValueError, "powers"),
    "poly-powers-fraction": (lambda: PolynomialBasis([0.5]), TypeError, "powers must be integers"),
    "poly-powers-repeated": (lambda: PolynomialBasis([2, 2]), ValueError, "powers must be distinct"),
    "basis-x-text": (lambda: DW("ab"), TypeError, "x must be an array of real numbers"),
    "basis-x-2d": (lambda: DW(np.zeros((2, 2))), ValueError, r"x must have shape \(n,\) or \(n, 1\)"),
    "basis-x-nan": (lambda: DW([0.0, np.nan]), ValueError, "x contains NaN"),
    "basis-theta-length": (lambda: DW.energy([1.0], [1.0]), ValueError, "theta must have 2 entries"),
    "basis-theta-nan": (lambda: DW.force([1.0], [1.0, np.nan]), ValueError, "theta contains NaN"),
    "gauss-width": (lambda: GaussianBasis([0, 1], 0), ValueError, "width must be"),
    "gauss-centers": (lambda: GaussianBasis([[0, 1]], 1.0), ValueError, "centers must have"),
    "bspline-count": (lambda: BSplineBasis(0, 1, 3), ValueError, "n_functions must be >= 4"),
    "bspline-count-type": (lambda: BSplineBasis(0, 1, 5.0), TypeError, "n_functions must be an integer"),
    "bspline-interval": (lambda: BSplineBasis(1, 0, 5), ValueError, "upper must be greater than lower"),
    "bspline-below": (lambda: BSplineBasis(0, 1, 5)([-1.0]), ValueError, "x contains values below lower"),
    "fourier-order": (lambda: FourierBasis(0), ValueError, "order must be >= 1"),
    "separable-x": (lambda: SeparableBasis(DW, DW)(np.zeros((3, 3))), ValueError, r"x must have shape \(n, 2\)"),
    # ensembles
    "grid-empty": (lambda: GridEnsemble([]), ValueError, "grid is empty"),
    "grid-order": (lambda: GridEnsemble([0, 2, 1]), ValueError, "grid must be strictly increasing"),
    "grid-beta": (lambda: GridEnsemble([0, 1, 2], beta=0), ValueError, "beta must be"),
    "grid-weights": (lambda: GridEnsemble([0, 1, 2], weights=[1, -1, 1]), ValueError, "weights must be non-negative"),
    "grid-basis": (lambda: GRID.averages("x**2", [1.0]), TypeError, "basis must be a remlib.basis.Basis"),
    "grid-theta": (lambda: GRID.averages(DW, [1.0]), ValueError, "theta must have 2 entries"),
    "grid-dim": (lambda: GRID.averages(SeparableBasis(DW, DW), np.ones(4)), ValueError, "basis acts on 2-dim"),
    "metropolis-x0": (lambda: MetropolisEnsemble([[0.0]], 0.5, 10), ValueError, "x0 must have"),
    "metropolis-step": (lambda: MetropolisEnsemble(0.0, -0.5, 10), ValueError, "step_size must be"),
    "metropolis-n": (lambda: MetropolisEnsemble(0.0, 0.5, 10.0), TypeError, "n_samples must be an integer"),
    "metropolis-burn-in": (lambda: MetropolisEnsemble(0.0, 0.5, 10, burn_in=-1), ValueError, "burn_in must be"),
    "metropolis-thin": (lambda: MetropolisEnsemble(0.0, 0.5, 10, thin=0), ValueError, "thin must be"),
    "metropolis-seed": (lambda: MetropolisEnsemble(0.0, 0.5, 10, seed="a"), TypeError, "seed must be"),
    "metropolis-bounds": (lambda: MetropolisEnsemble(0.0, 0.5, 10, bounds=(1, 0)), ValueError, "bounds must"),
    "metropolis-x0-outside": (lambda: MetropolisEnsemble(5.0, 0.5, 10, bounds=(0, 1)).sample(DW, [1, 1]),
                              ValueError, "x0=.* lies outside bounds"),
    "metropolis-theta": (lambda: MetropolisEnsemble(0.0, 0.5, 10, seed=1).sample(DW, [1.0]), ValueError,
                         "theta must have 2 entries"),
    "metropolis-dim": (lambda: MetropolisEnsemble([0.0, 0.0], 0.5, 10, seed=1).sample(DW, [1, 1]), ValueError,
                       "basis acts on 1-dim"),
    "metropolis-energy-at-x0": (lambda: MetropolisEnsemble(0.0, 0.5, 10, seed=1).sample(PolynomialBasis([-2]), [1.0]),
                                ValueError, "energy at x0"),
    "metropolis-nan-energy": (lambda: MetropolisEnsemble(0.1, 50.0, 100, burn_in=0, seed=1).sample(
        DW, [1e308, -1e308]), ValueError, "non-finite energy .* during sampling"),
    "ess-nan": (lambda: effective_sample_size([1.0, np.nan, 2.0]), ValueError, "values contains NaN"),
    # rem
    "rem-target-empty": (lambda: minimize_relative_entropy(DW, GRID, []), ValueError, "target is empty"),
    "rem-target-nan": (lambda: minimize_relative_entropy(DW, GRID, [np.nan, 1.0]), ValueError, "target contains NaN"),
    "rem-target-2d": (lambda: minimize_relative_entropy(DW, GRID, np.zeros((3, 2))), ValueError, "target must have"),
    "rem-weights-shape": (lambda: minimize_relative_entropy(DW, GRID, TARGET, weights=[1.0]), ValueError,
                          "weights must have one entry"),
    "rem-weights-negative": (lambda: minimize_relative_entropy(DW, GRID, TARGET, weights=-np.ones(31)), ValueError,
                             "weights must be non-negative"),
    "rem-method": (lambda: minimize_relative_entropy(DW, GRID, TARGET, method="lbfgs"), ValueError, "method must be"),
    "rem-tol": (lambda: minimize_relative_entropy(DW, GRID, TARGET, tol=-1), ValueError, "tol must be"),
    "rem-max-iter": (lambda: minimize_relative_entropy(DW, GRID, TARGET, max_iter=0), ValueError, "max_iter must be"),
    "rem-theta0": (lambda: minimize_relative_entropy(DW, GRID, TARGET, theta0=[1.0]), ValueError,
                   "theta0 must have 2 entries"),
    "rem-regularization": (lambda: minimize_relative_entropy(DW, GRID, TARGET, regularization=-1), ValueError,
                           "regularization must be"),
    "rem-support": (lambda: minimize_relative_entropy(DW, GRID, [0.0, 5.0]), ValueError,
                    "outside the model's support"),
    "rem-basis": (lambda: minimize_relative_entropy("x**2", GRID, TARGET), TypeError, "basis must be"),
    "rem-ensemble": (lambda: minimize_relative_entropy(DW, "grid", TARGET), TypeError, "ensemble must be"),
    "rem-dependent": (lambda: minimize_relative_entropy(PolynomialBasis([0, 2]), GRID, TARGET), ValueError,
                      "linearly dependent .* fewer basis functions or pass regularization"),
    "objective-sampling": (lambda: relative_entropy_objective(DW, MetropolisEnsemble(0.0, 0.5, 10), TARGET, [1, 1]),
                           TypeError, "ensemble must provide log_partition"),
    # systems
    "doublewell-barrier": (lambda: DoubleWell(barrier=-1), ValueError, "barrier must be"),
    "doublewell-n": (lambda: DoubleWell().sample(10.0), TypeError, "n must be an integer"),
    "doublewell-x": (lambda: DoubleWell().energy("a"), TypeError, "x must be an array"),
    "channel-form": (lambda: EntropicChannel(kappa_form="x"), ValueError, "kappa_form must be"),
    "channel-r": (lambda: EntropicChannel().energy(np.zeros(3)), ValueError, r"r must have shape \(\.\.\., 2\)"),
    "chain-beads": (lambda: GaussianChain(1), ValueError, "n_beads must be >= 2"),
    "chain-mapping": (lambda: GaussianChain(6).cg_bond_covariance("average", 2), ValueError, "mapping must be"),
    "chain-block": (lambda: GaussianChain(6).map(np.zeros((2, 6, 1)), "center_of_mass", 4), ValueError,
                    "block .* must divide n_beads"),
    "chain-positions": (lambda: GaussianChain(6).map(np.zeros((2, 5, 1)), "decimation", 2), ValueError,
                        "positions must have shape"),
    "ising-size": (lambda: IsingChain(30), ValueError, "n_spins must be <= 20"),
    "ising-block": (lambda: IsingChain(6).block_spin(4), ValueError, "block_size .* must divide n_spins"),
    "ising-rule": (lambda: IsingChain(6).block_spin(2, rule="vote"), ValueError, "rule must be"),
    "ising-spins": (lambda: IsingChain(6).energy(np.full(6, 2)), ValueError, "spins must be"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_names_the_argument(name):
    call, error, match = BAD[name]
    with pytest.raises(error, match=match):
        call()


def test_lists_ints_and_columns_give_the_same_numbers_as_float_arrays():
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    assert kl_divergence([1, 3], [2, 2]) == kl_divergence(np.array([1.0, 3.0]), np.array([2.0, 2.0]))
    np.testing.assert_array_equal(DW([-1, 0, 2]), DW(np.array([-1.0, 0.0, 2.0])))
    np.testing.assert_array_equal(DW(x[:, None]), DW(x))
    np.testing.assert_array_equal(DW.energy(x, [-2, 1]), DW.energy(x, np.array([-2.0, 1.0])))
    np.testing.assert_array_equal(GRID.averages(DW, [-2, 1]).mean, GRID.averages(DW, np.array([-2.0, 1.0])).mean)
    a = MetropolisEnsemble(0, 0.5, 50, burn_in=10, seed=3).sample(DW, [-2, 1])
    b = MetropolisEnsemble(np.array([0.0]), 0.5, 50, burn_in=10, seed=3).sample(DW, np.array([-2.0, 1.0]))
    np.testing.assert_array_equal(a, b)
    fit_list = minimize_relative_entropy(DW, GRID, TARGET.tolist()).theta
    fit_column = minimize_relative_entropy(DW, GRID, TARGET[:, None]).theta
    np.testing.assert_array_equal(fit_list, fit_column)


# ----------------------------------------------------------------------------- silent results (issue 20)
def _all_pair_distances(frame, box):
    i, j = np.triu_indices(len(frame), k=1)
    delta = frame[j] - frame[i]
    delta -= box * np.floor(delta / box + 0.5)
    return np.sqrt((delta**2).sum(axis=1))


def test_pair_histogram_of_a_sparse_cluster_in_a_huge_box_is_exact():
    # (L / r_max)^3 = 8e12 cells would be 64 TB: the cell grid must be capped, never a failure or zeros
    from remlib.fluids import radial_distribution
    from remlib.neighbors import pair_histogram, pair_list

    box = np.full(3, 1.0e4)
    rng = np.random.default_rng(7)
    frames = np.mod(rng.uniform(-1.5, 1.5, size=(3, 60, 3)), box)  # a cluster across the periodic corner
    edges, counts = pair_histogram(frames, box, r_max=0.5, bins=5)
    expected = sum(np.histogram(_all_pair_distances(f, box), bins=edges)[0] for f in frames)
    assert expected.sum() > 0
    np.testing.assert_array_equal(counts, expected)
    _, g = radial_distribution(frames, box, r_max=0.5, bins=5)
    assert np.all(g[expected > 0] > 0)
    i = pair_list(frames[0], box, r_max=0.5).i
    assert i.size == int((_all_pair_distances(frames[0], box) < 0.5).sum())


def _lammps_text(rows, n=None):
    n = len(rows) if n is None else n
    body = "\n".join(f"{k + 1} {r} {u} {f}" for k, (r, u, f) in enumerate(rows))
    return f"# test\n\nCG\nN {n}\n\n{body}\n"


@pytest.mark.parametrize("rows, match", [
    ([(1.0, 1.0, 0.0), (1.5, "nan", 0.0), (2.0, 0.0, 0.0)], r"line 7: NaN or infinite"),
    ([(1.0, 1.0, 0.0), (1.5, "inf", 0.0), (2.0, 0.0, 0.0)], r"line 7: NaN or infinite"),
    ([(1.0, 1.0, 0.0), (2.0, 0.5, 0.0), (1.5, 0.0, 0.0)], r"line 8: distances must increase"),
    ([(1.0, 1.0, 0.0), (1.5, "x1", 0.0), (2.0, 0.0, 0.0)], r"line 7: expected 4 numbers"),
])
def test_lammps_reader_refuses_bad_rows_naming_file_and_line(tmp_path, rows, match):
    from remlib.tables import read_lammps_table

    path = tmp_path / "bad.table"
    path.write_text(_lammps_text(rows))
    with pytest.raises(ValueError, match=f"{path}, {match}"):
        read_lammps_table(path)


@pytest.mark.parametrize("bad, match", [("nan", "line 4: NaN or infinite"), ("0.005", "line 4: distances must increase")])
def test_gromacs_reader_refuses_bad_rows_naming_file_and_line(tmp_path, bad, match):
    from remlib.tables import read_gromacs_bonded_table

    rows = [[0.0] * 3, [0.01, 1.0, 1.0], [0.02, 1.0, 1.0], [0.03, 1.0, 1.0]]
    rows[2][0 if bad != "nan" else 1] = float(bad)
    path = tmp_path / "table_b0.xvg"
    path.write_text("# header\n" + "\n".join(" ".join(map(str, row)) for row in rows) + "\n")
    with pytest.raises(ValueError, match=f"{path}, {match}"):
        read_gromacs_bonded_table(path)


@pytest.mark.timeout(60)  # before the fix, reading the pipe's descriptor blocked for ever
@pytest.mark.parametrize("reader", ["read_lammps_table", "read_gromacs_bonded_table"])
def test_table_readers_refuse_an_int_path_instead_of_closing_a_file_descriptor(reader):
    import os

    from remlib import tables

    read, write = os.pipe()
    try:
        with pytest.raises(TypeError, match="path must be a file path"):
            getattr(tables, reader)(read)
        os.fstat(read)  # still open
    finally:
        os.close(read)
        os.close(write)


def test_kl_divergence_of_weights_whose_sum_overflows():
    # 1e308 + 1e308 overflows: the weights are scaled by their largest entry before normalising
    exact = 0.5 * np.log(0.5 / (2 / 3)) + 0.5 * np.log(0.5 / (1 / 3))
    assert kl_divergence([1e308, 1e308], [1e308, 0.5e308]) == pytest.approx(exact, rel=1e-14)
    assert kl_divergence([1e-320, 1e-320], [2e-320, 1e-320]) == pytest.approx(exact, rel=1e-2)  # subnormals
    info = information_decomposition([1e308, 1e308, 1e308, 1e308], [0, 0, 1, 1], [1e308, 1e308])
    assert info.total == pytest.approx(0.0, abs=1e-15)


def test_likelihood_and_objective_of_data_where_the_model_has_zero_probability():
    # GRID covers [-2, 2]: outside it the model's probability is zero, so -ln p = inf
    outside = [0.0, 3.0]
    assert log_likelihood(DW, [1.0, 1.0], outside, GRID) == -np.inf
    assert relative_entropy_objective(DW, GRID, outside, [1.0, 1.0]) == np.inf
    assert relative_entropy_objective(DW, GRID, outside, [1.0, 1.0], weights=[1.0, 0.0]) < np.inf  # weight 0
    inside = log_likelihood(DW, [1.0, 1.0], [0.0, 1.0], GRID)
    assert np.isfinite(inside)


def test_rem_with_an_unbounded_sampler_does_not_report_convergence_at_an_unnormalisable_model():
    # U = theta_1 x + theta_3 x^3 never confines: exp(-U) cannot be normalised for any theta, the
    # sampler random-walks from theta0 = 0 and its noisy averages looked converged before
    target = np.random.default_rng(0).normal(size=2000)
    ensemble = MetropolisEnsemble(0.0, 1.0, 2000, burn_in=100, seed=1)
    with pytest.warns(RuntimeWarning, match="cannot be normalised"):
        result = minimize_relative_entropy(PolynomialBasis([1, 3]), ensemble, target, max_iter=30)
    assert not result.converged
    # a confining basis on the same data converges to the Gaussian's theta = 1 / (2 var) = 0.5 (z-test)
    fit = minimize_relative_entropy(PolynomialBasis([2]), MetropolisEnsemble(0.0, 1.0, 2000, burn_in=100, seed=1),
                                    target, max_iter=30)
    assert fit.converged and abs(fit.theta[0] - 0.5) < 5 * 0.5 * np.sqrt(2 / 2000) * 2
    # bounds make any theta normalisable
    bounded = MetropolisEnsemble(0.0, 1.0, 2000, burn_in=100, bounds=(-6.0, 6.0), seed=1)
    assert minimize_relative_entropy(PolynomialBasis([2]), bounded, target, max_iter=30).converged


def test_iterative_boltzmann_inversion_refuses_nan_and_negative_tolerances():
    from remlib.pairrem import iterative_boltzmann_inversion

    frames = np.mod(np.random.default_rng(1).uniform(0.0, 4.0, size=(2, 16, 3)), 4.0)
    for tol, error in ((np.nan, ValueError), (-1.0, ValueError), ("0.01", TypeError), (True, TypeError)):
        with pytest.raises(error, match="tol"):
            iterative_boltzmann_inversion(frames, np.full(3, 4.0), r_cut=1.9, n_functions=5, r_min=0.25, tol=tol)


def test_pair_fits_take_theta0_only_with_an_explicit_r_min():
    # theta0 means a potential only in the basis on [r_min, r_cut] it was fitted in; r_min=None would
    # take r_min from the target's closest pair, so the same coefficients could mean another potential
    from remlib.pairrem import fit_pair_potential_rem, iterative_boltzmann_inversion

    frames = np.mod(np.random.default_rng(1).uniform(0.0, 4.0, size=(2, 16, 3)), 4.0)
    setup = dict(r_cut=1.9, n_functions=5, n_model_frames=2, burn_in=2, thin=1, seed=0)
    first = iterative_boltzmann_inversion(frames, np.full(3, 4.0), n_iterations=1, **setup)
    for fit in (fit_pair_potential_rem, iterative_boltzmann_inversion):
        with pytest.raises(ValueError, match=r"theta0 needs an explicit r_min.*closest pair \(0\.\d+"):
            fit(frames, np.full(3, 4.0), theta0=first.theta, **setup)
    # with the r_min it was fitted with, theta0 is the start as given: IBI stopped by tol before any update
    again = iterative_boltzmann_inversion(frames, np.full(3, 4.0), theta0=first.theta, r_min=first.model.r_min,
                                          n_iterations=1, tol=1e6, **setup)
    assert again.model.r_min == first.model.r_min and np.array_equal(again.theta, first.theta)
