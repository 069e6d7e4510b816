"""Tests of remlib.water: the all-atom SPC/E box against published SPC/E numbers, the cache,
bad input, and the CG analysis helpers against independent references.

Published SPC/E values used (298 K, 1 bar): density 0.994-0.999 g/cm^3 and an O-O radial
distribution function whose first maximum is at 0.275 nm with height about 3
(Berendsen, Grigera & Straatsma, J. Phys. Chem. 91, 6269, 1987; Mark & Nilsson,
J. Phys. Chem. A 105, 9954, 2001; Vega & Abascal, Phys. Chem. Chem. Phys. 13, 19663, 2011).
The run here is at constant volume, so the density is checked through the pressure: at
the experimental 0.997 g/cm^3 the mean pressure must be that of SPC/E at 1 bar within
the compressibility of water times the spread of the published densities, plus noise.
"""
import numpy as np
import pytest
from scipy import stats

from remlib import water
from remlib._stats import block_standard_error
from remlib.basis import BSplineBasis
from remlib.neighbors import pair_list, radial_distribution
from remlib.pairrem import PairModel, PairPotentialResult, fit_pair_potential_rem
from remlib.trajectories import CGMapping, load_universe, mapping_per_molecule, read_cg_trajectory

TINY = dict(cutoff=0.6, n_frames=2, frame_interval=0.02, equilibration=0.02, platform="CPU")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("water_cache")


@pytest.fixture(scope="module")
def spce(cache):
    """128 SPC/E molecules at 298 K and 0.997 g/cm^3: 5 ps equilibration, 60 frames 0.25 ps apart."""
    return water.simulate_water(128, 298.0, density=0.997, cutoff=0.7, n_frames=60, frame_interval=0.25,
                                equilibration=5.0, platform="CPU", seed=3, cache_dir=cache)


def test_spce_oxygen_rdf_first_peak_matches_published(spce):
    universe = load_universe(spce.topology, spce.trajectory)
    oxygens = universe.select_atoms("name O")
    assert oxygens.n_atoms == 128
    frames = np.array([oxygens.positions / 10.0 for _ in universe.trajectory])  # nm
    box = universe.dimensions[:3] / 10.0
    frames -= box * np.floor(frames / box)
    r, g = radial_distribution(frames, box, r_max=0.4, bins=80)  # 0.005 nm bins
    peak = np.argmax(g)
    assert abs(r[peak] - 0.275) <= 0.01, r[peak]
    assert 2.6 <= g[peak] <= 3.4, g[peak]
    assert np.all(g[r < 0.23] == 0.0)  # no O-O pair closer than the LJ core allows


def test_spce_pressure_at_published_density(spce):
    pressure = spce.pressure
    standard_error = block_standard_error(pressure, n_blocks=10)
    # SPC/E at 1 bar: 0.994-0.999 g/cm^3; compressibility 4.6e-5 /bar -> at most ~70 bar from 1 bar.
    # With the noise of this short run the test resolves the density to about 3 %.
    assert abs(pressure.mean() - 1.0) <= 100.0 + 3.0 * standard_error, (pressure.mean(), standard_error)
    assert standard_error < 400.0


def test_trajectory_is_read_back_as_one_site_per_molecule(spce):
    universe = load_universe(spce.topology, spce.trajectory)
    mapping = mapping_per_molecule(universe)
    cg = read_cg_trajectory(universe, mapping, length=10 * water.SPCE_SIGMA)
    assert cg.frames.shape == (60, 128, 3)
    assert spce.forces.shape == (60, 384, 3)
    np.testing.assert_allclose(cg.box * water.SPCE_SIGMA, spce.parameters["box"], rtol=1e-5)
    # Newton's third law: the mapped forces of all molecules add up to (almost) zero
    forces = water.map_forces(spce.forces, mapping)
    assert forces.shape == (60, 128, 3)
    typical = np.abs(forces).mean()
    assert np.all(np.abs(forces.sum(axis=1)) < 0.05 * typical * np.sqrt(128))


def _rdf_z_scores(model_frames, target_frames, box, r_min, r_cut, bins, inherited=None):
    """z = (g_model - g_target) / sqrt(s_model^2 + s_target^2) on the bins above r_min.

    Block standard errors: 10 blocks of the target (60 frames 0.25 ps apart, correlated over
    about a frame) and 20 of the model; g(r) of a block is computed from its frames alone.
    ``inherited``: the frames the model was fitted to, when they are not ``target_frames``;
    their error is added to the model's (the fit carries their noise).
    """
    def mean_and_error(frames, n_blocks):
        blocks = np.array([radial_distribution(block, box, r_max=r_cut, bins=bins)[1]
                           for block in np.array_split(frames, n_blocks)])
        return blocks.mean(axis=0), blocks.std(axis=0, ddof=1) / np.sqrt(n_blocks)

    (g_t, s_t), (g_m, s_m) = mean_and_error(target_frames, 10), mean_and_error(model_frames, 20)
    if inherited is not None:
        s_m = np.hypot(s_m, mean_and_error(inherited, 10)[1])
    centres = (np.arange(bins) + 0.5) * r_cut / bins
    fitted = centres > r_min
    return (g_m - g_t)[fitted] / np.hypot(s_m, s_t)[fitted]


def _centres_of_mass(run):
    universe = load_universe(run.topology, run.trajectory)
    return read_cg_trajectory(universe, mapping_per_molecule(universe), length=10 * water.SPCE_SIGMA)


def test_rem_reproduces_the_spce_rdf_within_statistical_error(spce, cache):
    """The one-site REM model of the all-atom SPC/E box reproduces its centre-of-mass g(r).

    The reference is the all-atom trajectory itself (OpenMM), compared bin by bin with an
    independent Monte Carlo run of the fitted model: chi2/nu must stay below its 99 %
    quantile, on bins about as wide as the spline spacing; and so must the comparison with
    an independent all-atom replica (99.9 % quantile), with the error of the fitted target
    added to the model's.  A model whose potential differs by 0.5 k_BT on the spline at the first peak
    must fail the same test (the test has power).
    """
    cg = _centres_of_mass(spce)
    box = cg.box
    setup = dict(r_cut=2.4, n_functions=30, r_min=0.75)  # spline spacing 0.055 sigma
    rough = fit_pair_potential_rem(cg.frames, box, n_model_frames=300, thin=2, burn_in=60, max_iter=40,
                                   seed=1, **setup)
    # the fitted theta carries the noise of the last model samples: many more frames at the end
    fit = fit_pair_potential_rem(cg.frames, box, theta0=rough.theta, n_model_frames=1000, thin=5,
                                 burn_in=60, max_iter=5, seed=2, **setup)
    assert rough.converged and fit.converged, (rough.rem.message, fit.rem.message)
    bins = 32  # 0.075 sigma on [0, 2.4]: 22 bins in the fitted range
    nu = 22
    bound = stats.chi2.ppf(0.99, nu) / nu
    frames = fit.sample(cg.frames[-1], box, n_frames=1000, burn_in=100, thin=5, seed=9).frames
    z = _rdf_z_scores(frames, cg.frames, box, setup["r_min"], setup["r_cut"], bins)
    assert z.size == nu
    assert np.mean(z**2) < bound and np.abs(z).max() < 4, z
    replica = _centres_of_mass(water.simulate_water(128, 298.0, density=0.997, cutoff=0.7, n_frames=60,
                                                    frame_interval=0.25, equilibration=5.0, platform="CPU",
                                                    seed=4, cache_dir=cache))
    z = _rdf_z_scores(frames, replica.frames, box, setup["r_min"], setup["r_cut"], bins, inherited=cg.frames)
    # the replica is a second draw of the target's noise, which the fit did not absorb: the 99.9 %
    # quantile, so that another seed of the replica fails in one draw in a thousand
    assert np.mean(z**2) < stats.chi2.ppf(0.999, nu) / nu, z

    peak = int(np.argmax(fit.model.basis([0.87])[0]))  # the spline at the first peak of g(r)
    bumped = PairPotentialResult("rem", fit.model, fit.theta + 0.5 * np.eye(fit.theta.size)[peak], None, None)
    frames = bumped.sample(cg.frames[-1], box, n_frames=1000, burn_in=100, thin=5, seed=9).frames
    z = _rdf_z_scores(frames, cg.frames, box, setup["r_min"], setup["r_cut"], bins)
    assert np.mean(z**2) > bound, z


def test_cache_same_parameters_same_file_different_new(cache):
    first = water.simulate_water(64, 298.0, seed=1, cache_dir=cache, **TINY)
    again = water.simulate_water(64, 298.0, seed=1, cache_dir=cache, **TINY)
    other = water.simulate_water(64, 298.0, seed=2, cache_dir=cache, **TINY)
    assert not first.from_cache and again.from_cache and not other.from_cache
    assert again.trajectory == first.trajectory and other.trajectory != first.trajectory
    np.testing.assert_array_equal(again.forces, first.forces)
    assert water.cache_key(water.water_parameters(64, seed=1, **{k: TINY[k] for k in ("cutoff", "platform")})) \
        != water.cache_key(water.water_parameters(64, seed=1, temperature=300.0,
                                                  **{k: TINY[k] for k in ("cutoff", "platform")}))


def test_the_seed_reproduces_a_run_bit_for_bit(tmp_path):
    """Two runs with the same seed, neither from a cache, on OpenMM's CPU platform (whose
    multi-threaded force sums would differ from run to run): the same forces and positions."""
    runs = [water.simulate_water(64, 298.0, seed=5, cache_dir=tmp_path / name, **TINY) for name in "ab"]
    assert not any(run.from_cache for run in runs)
    np.testing.assert_array_equal(runs[0].forces, runs[1].forces)
    positions = [load_universe(run.topology, run.trajectory).trajectory.timeseries() for run in runs]
    np.testing.assert_array_equal(positions[0], positions[1])


def test_tip3p_box_runs_and_reads_back(cache):
    run = water.simulate_water(64, 298.0, model="tip3p", seed=1, cache_dir=cache, **TINY)
    universe = load_universe(run.topology, run.trajectory)
    assert universe.atoms.n_atoms == 192 and len(universe.trajectory) == 2
    assert set(universe.atoms.resnames) == {"HOH"}
    assert run.parameters["force_field"] == "tip3p.xml"
    # every molecule is rigid with the TIP3P geometry: O-H 0.09572 nm in every frame
    for _ in universe.trajectory:
        oxygen = universe.select_atoms("name O").positions
        hydrogen = universe.select_atoms("name H1").positions
        delta = hydrogen - oxygen
        delta -= universe.dimensions[:3] * np.round(delta / universe.dimensions[:3])
        np.testing.assert_allclose(np.linalg.norm(delta, axis=1), 0.9572, atol=2e-3)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(n_molecules=10), ValueError, "n_molecules"),
    (dict(n_molecules=64.0), TypeError, "n_molecules"),
    (dict(n_molecules=64, cutoff=1.0), ValueError, "cutoff"),
    (dict(n_molecules=256, model="tip4p"), ValueError, "model"),
    (dict(n_molecules=256, density=5.0), ValueError, "density"),
    (dict(n_molecules=256, temperature=-1.0), ValueError, "temperature"),
    (dict(n_molecules=256, platform="NoSuchGPU"), ValueError, "platform"),
    (dict(n_molecules=256, frame_interval=1e-4), ValueError, "frame_interval"),
    (dict(n_molecules=256, seed=-1), ValueError, "seed"),
])
def test_bad_parameters_are_refused_before_any_run(kwargs, error, words):
    with pytest.raises(error, match=words):
        water.water_parameters(**kwargs)


def test_bad_cache_dir_and_helpers_input():
    with pytest.raises(TypeError, match="cache_dir"):
        water.simulate_water(64, cache_dir=3)
    with pytest.raises(TypeError, match="mapping"):
        water.map_forces(np.zeros((3, 3)), mapping=None)
    mapping = CGMapping._from_groups([np.array([0, 1, 2])], np.ones(3), "geometry")
    with pytest.raises(ValueError, match="forces"):
        water.map_forces(np.zeros((2, 3)), mapping)
    with pytest.raises(ValueError, match="5 sites"):
        water.tetrahedral_order(np.ones((4, 3)), [5.0] * 3)
    with pytest.raises(TypeError, match="fit"):
        water.pair_virial_pressure(np.ones((4, 3)), [5.0] * 3, fit="rem")


def test_map_forces_is_the_sum_over_each_group():
    rng = np.random.default_rng(0)
    forces = rng.normal(size=(4, 7, 3))
    groups = [np.array([0, 3]), np.array([1, 2, 6]), np.array([5])]
    mapping = CGMapping._from_groups(groups, np.ones(7), "geometry")
    expected = np.stack([forces[:, g].sum(axis=1) for g in groups], axis=1)
    np.testing.assert_allclose(water.map_forces(forces, mapping), expected)


def test_tetrahedral_order_ideal_gas_and_diamond():
    # ideal gas: the 4 nearest-neighbour directions are independent and uniform, so <q> = 0
    rng = np.random.default_rng(1)
    q = water.tetrahedral_order(rng.uniform(0, 10.0, size=(20, 400, 3)), [10.0] * 3)
    per_frame = q.mean(axis=1)
    assert abs(per_frame.mean()) < 4 * per_frame.std(ddof=1) / np.sqrt(len(per_frame))
    # diamond lattice: every site is the centre of a regular tetrahedron, q = 1
    fcc = np.array([[0, 0, 0], [0, 2, 2], [2, 0, 2], [2, 2, 0]], float)
    cell = np.vstack([fcc, fcc + 1.0])
    sites = np.vstack([cell + 4.0 * np.array(shift) for shift in np.ndindex(2, 2, 2)])
    np.testing.assert_allclose(water.tetrahedral_order(sites, [8.0] * 3), 1.0, atol=1e-12)


def test_pair_virial_pressure_is_the_volume_derivative_of_the_free_energy():
    """P = N/(beta V) - <dU/dV>, with dU/dV from scaling all positions (finite differences)."""
    rng = np.random.default_rng(2)
    model = PairModel(BSplineBasis(0.8, 2.5, 8, vanish_at_upper=True))
    fit = PairPotentialResult("rem", model, np.array([4.0, 1.0, -1.0, -0.6, -0.3, 0.2, 0.1, 0.05]), None, None)
    box = np.array([7.0, 7.0, 7.0])
    x = np.stack(np.meshgrid(*[np.arange(5) * 1.4] * 3, indexing="ij"), -1).reshape(-1, 3)
    x = (x + rng.uniform(-0.2, 0.2, x.shape)) % box

    def energy(positions, edges):
        delta = pair_list(positions, edges, r_max=2.5).delta
        return np.sum(model.potential(np.sqrt((delta**2).sum(axis=1)), fit.theta))

    eps = 1e-6
    volume = np.prod(box)
    du_dv = (energy(x * (1 + eps), box * (1 + eps)) - energy(x * (1 - eps), box * (1 - eps))) / (
        volume * ((1 + eps) ** 3 - (1 - eps) ** 3))
    beta = 0.7
    expected = len(x) / (beta * volume) - du_dv
    assert water.pair_virial_pressure(x, box, fit, beta=beta)[0] == pytest.approx(expected, rel=1e-6)


def test_reduced_units_by_hand():
    kt = 1.380649e-23 * 298.0  # J
    sigma = 0.3166e-9  # m
    assert water.reduced_pressure_unit(298.0) == pytest.approx(kt / sigma**3 / 1e5, rel=1e-6)
    assert water.reduced_force_unit(298.0) == pytest.approx(kt * 6.02214076e23 / 1e3 / 0.3166, rel=1e-6)
