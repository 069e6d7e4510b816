"""Bead-spring chains: bonded REM reproduces bond/angle distributions, Boltzmann inversion misses;
LJ dimers mapped to their centres of mass."""
import numpy as np
import pytest
from scipy.stats import chi2

from remlib.ensembles import effective_sample_size
from remlib.fluids import lj_potential, radial_distribution
from remlib.geometry import chain_bond_angles, chain_bond_lengths
from remlib.montecarlo import metropolis_particles, tabulate_pair
from remlib.pairrem import PairModel, fit_pair_potential_rem, pair_force_matching
from remlib.polymers import (
    bead_spring_frames,
    bonded_boltzmann_inversion,
    center_of_mass,
    fit_bonded_rem,
    lj_dimer_frames,
    reference_tables,
)

L, BOX = 12, np.full(3, 8.0)


def histograms(frames):
    r = chain_bond_lengths(frames, BOX, L).ravel()
    a = chain_bond_angles(frames, BOX, L).ravel()
    return (np.histogram(r, 30, range=(0.7, 1.4), density=True)[0],
            np.histogram(a, 30, range=(0.5, np.pi), density=True)[0])


def distance(a, b):
    return np.array([np.sqrt(np.mean((x - y) ** 2)) for x, y in zip(histograms(a), histograms(b))])


@pytest.fixture(scope="module")
def chains():
    target = bead_spring_frames(6, L, 300, box=BOX, bond_k=50.0, temperature=1.0, burn_in=500, thin=5, seed=1)
    independent = metropolis_particles(target.frames[-1], BOX, n_frames=300, burn_in=50, thin=5, seed=2,
                                       **reference_tables(L, 50.0))
    # CG pair term: the same LJ, but only from 1-4 neighbours on (bonds and angles carry 1-2 and 1-3)
    pair = tabulate_pair(lambda r: lj_potential(r, shift_at=2.5), r_min=0.6, r_cut=2.5)
    return target.frames, independent.frames, pair


def run(model_result, start, seed):
    return metropolis_particles(start, BOX, n_frames=300, burn_in=50, thin=5, seed=seed,
                                **model_result.model.tables(model_result.theta)).frames


def test_bonded_rem_reproduces_distributions_and_boltzmann_inversion_misses(chains):
    target, independent, pair = chains
    noise = distance(independent, target)
    rem = fit_bonded_rem(target, BOX, L, pair=pair, n_model_frames=150, burn_in=50, thin=3, seed=4)
    assert rem.converged
    rem_distance = distance(run(rem, target[-1], 5), target)
    assert np.all(rem_distance < 2 * noise + 0.02), (rem_distance, noise)
    bi = bonded_boltzmann_inversion(target, BOX, L, pair=pair)
    bi_distance = distance(run(bi, target[-1], 3), target)
    # the 1-3 LJ term couples both bonds and the angle; inverting each distribution alone fails
    assert bi_distance[0] > 3 * noise[0] + 0.02, (bi_distance, noise)


def test_bond_geometry_helpers():
    frame = np.array([[[1.0, 1.0, 1.0], [1.0, 1.0, 2.0], [1.0, 2.0, 2.0], [7.5, 2.0, 2.0]]])
    np.testing.assert_allclose(chain_bond_lengths(frame, BOX, 4), [[1.0, 1.0, 1.5]])
    np.testing.assert_allclose(np.degrees(chain_bond_angles(frame, BOX, 4)), [[90.0, 90.0]])


def test_dimer_mapping_and_forces():
    liquid = lj_dimer_frames(64, 0.25, 2.0, n_frames=3, burn_in=30, seed=0)
    # Newton's third law: the intermolecular forces on all molecules add up to zero
    np.testing.assert_allclose(liquid.com_forces.sum(axis=1), 0.0, atol=1e-9)
    com = center_of_mass(liquid.frames, liquid.box, 2)
    np.testing.assert_allclose(com, liquid.com)
    atoms = liquid.frames.reshape(3, 64, 2, 3)
    d = atoms[:, :, 1] - atoms[:, :, 0]
    d -= liquid.box * np.floor(d / liquid.box + 0.5)
    expected = atoms[:, :, 0] + 0.5 * d
    diff = com - expected
    np.testing.assert_allclose(diff - liquid.box * np.round(diff / liquid.box), 0.0, atol=1e-12)


def test_dimer_liquid_methods_disagree():
    """The CG potential of dimer centres is many-body, so the pair potentials of REM and force matching
    differ.  REM's optimality condition is <Phi>_target = <Phi>_model for every pair feature; force matching
    minimises the force residual instead and need not satisfy it.  Along d = theta_FM - theta_REM the
    directional derivative of the relative entropy is S'(theta) = beta (<d.Phi>_target - <d.Phi>_theta)
    (d.Phi is the energy difference U_FM - U_REM of a frame); by convexity of S it bounds S(FM) - S(REM)
    from above.  REM stops when its gradient is statistically zero, g.H^-1.g <= chi2_0.99(m) / n_eff, which
    allows |S'(REM)| up to tol = beta sd(d.Phi) sqrt(chi2_0.99(m) / n_eff) (Cauchy-Schwarz; n_eff <= its
    n_model_frames, so tol below is the strictest value).  Tested: REM's S' is within tol + 3 standard errors,
    force matching's exceeds tol by more than 3 standard errors (batch-means errors of the target and of a
    fresh model run)."""
    liquid = lj_dimer_frames(150, 0.3, 2.0, n_frames=500, bond_r0=0.9, burn_in=300, thin=4, seed=3)
    box, beta, n_model_frames = liquid.box, 0.5, 200
    fm = pair_force_matching(liquid.com, liquid.com_forces, box, r_cut=2.5, n_functions=10)
    rem = fit_pair_potential_rem(liquid.com, box, r_cut=2.5, n_functions=10, beta=beta,
                                 n_model_frames=n_model_frames, burn_in=50, seed=4)
    model, direction = rem.model, fm.theta - rem.theta
    target = model.features(liquid.com, box) @ direction

    def derivative(theta, seed):
        """S' along d at theta, its standard error and sd(d.Phi) under theta."""
        frames = metropolis_particles(liquid.com[-1], box, model.table(theta), n_frames=500, beta=beta,
                                      burn_in=50, thin=4, seed=seed).frames
        sampled = model.features(frames, box) @ direction
        error = np.hypot(*(x.std(ddof=1) / np.sqrt(effective_sample_size(x)) for x in (target, sampled)))
        return beta * (target.mean() - sampled.mean()), beta * error, beta * sampled.std()

    (s_rem, e_rem, sd_rem), (s_fm, e_fm, _) = derivative(rem.theta, 6), derivative(fm.theta, 7)
    tol = sd_rem * np.sqrt(chi2.ppf(0.99, 10) / n_model_frames)
    assert abs(s_rem) < tol + 3 * e_rem, (s_rem, e_rem, tol)
    assert s_fm > tol + 3 * e_fm, (s_fm, e_fm, tol)


def test_fene_kremer_grest_chains_stay_within_maximum_extension():
    run = bead_spring_frames(3, 10, 20, box=np.full(3, 7.0), bond="fene", bond_k=30.0, bond_r0=1.5,
                             r_cut=2 ** (1 / 6), burn_in=100, seed=9)
    lengths = chain_bond_lengths(run.frames, run.box, 10)
    assert lengths.max() < 1.5 and 0.9 < lengths.mean() < 1.05  # Kremer-Grest mean bond ≈ 0.97
    table = reference_tables(10, 30.0, 1.5, 2 ** (1 / 6), bond="fene")["bond"]
    r = np.array([0.5, 1.0, 1.4])
    np.testing.assert_allclose(table(r), -0.5 * 30.0 * 1.5**2 * np.log(1 - (r / 1.5) ** 2), rtol=1e-5)
    with pytest.raises(ValueError, match="bond"):
        reference_tables(10, bond="morse")


def test_bonded_result_plot_draws_both_potentials(chains):
    import matplotlib

    matplotlib.use("Agg")
    target, _, pair = chains
    bi = bonded_boltzmann_inversion(target, BOX, L, pair=pair)
    axes = bi.plot()
    r, u = axes[0].lines[0].get_data()
    np.testing.assert_allclose(u, bi.bond_potential(r))
    assert len(axes[1].lines) == 1
