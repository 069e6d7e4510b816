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

from remlib import water
from remlib._stats import block_standard_error
from remlib.basis import BSplineBasis
from remlib.neighbors import pair_list, radial_distribution
from remlib.pairrem import PairModel, PairPotentialResult
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
