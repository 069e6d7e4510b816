"""Tests of remlib.peptide (build, simulate, cache) and remlib.biomolecules (torsion CG tools)."""
import numpy as np
import pytest

from remlib import biomolecules as bio
from remlib import peptide as pep


# ------------------------------------------------------------------ geometry
def test_dihedral_angle_closed_form():
    # b-c along z; a along x; d rotated by t about z: the dihedral is exactly t.
    t = np.linspace(-np.pi + 1e-9, np.pi, 37)
    a = np.tile([1.0, 0.0, 0.0], (t.size, 1))
    b = np.zeros((t.size, 3))
    c = np.tile([0.0, 0.0, 1.5], (t.size, 1))
    d = np.column_stack([2 * np.cos(t), 2 * np.sin(t), 1.5 + 0.7 * np.ones_like(t)])
    np.testing.assert_allclose(pep.dihedral_angle(a, b, c, d), t, atol=1e-12)


def test_dihedral_angle_invariances():
    rng = np.random.default_rng(1)
    p = rng.normal(size=(4, 50, 3))
    ref = pep.dihedral_angle(*p)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))  # proper rotation
    np.testing.assert_allclose(pep.dihedral_angle(*(p @ q.T + 3.0)), ref, atol=1e-10)
    np.testing.assert_allclose(pep.dihedral_angle(*(-p)), -ref, atol=1e-10)  # mirror flips sign
    np.testing.assert_allclose(pep.dihedral_angle(*p[::-1]), ref, atol=1e-10)  # d-c-b-a same angle


def test_bond_angle_closed_form():
    t = np.linspace(0.1, np.pi - 0.1, 11)
    a = np.column_stack([np.cos(t), np.sin(t), np.zeros_like(t)]) * 2.0
    np.testing.assert_allclose(pep.bond_angle(a, np.zeros(3), [3.0, 0.0, 0.0]), t, atol=1e-12)


@pytest.mark.parametrize("angle,dihedral", [(60.0, 0.0), (109.5, 120.0), (150.0, -45.0)])
def test_place_atom_reproduces_internal_coordinates(angle, dihedral):
    a, b, c = np.array([0.3, 1.2, -0.4]), np.array([0.0, 0.1, 0.2]), np.array([1.1, -0.2, 0.5])
    d = pep.place_atom(a, b, c, 1.33, angle, dihedral)
    assert np.linalg.norm(d - c) == pytest.approx(1.33, abs=1e-12)
    assert np.degrees(pep.bond_angle(b, c, d)) == pytest.approx(angle, abs=1e-9)
    assert np.degrees(pep.dihedral_angle(a, b, c, d)) == pytest.approx(dihedral, abs=1e-9)


def test_place_atom_rejects_collinear_references():
    with pytest.raises(ValueError, match="collinear"):
        pep.place_atom([0, 0, 0], [1, 0, 0], [2, 0, 0], 1.0, 109.5, 60.0)


@pytest.mark.parametrize("phi,psi", [(-80.0, 150.0), (60.0, 40.0), (-63.0, -41.0)])
def test_built_dipeptide_has_requested_internal_coordinates(phi, psi):
    rows = pep.alanine_dipeptide_zmatrix(phi, psi)
    xyz = pep.build_from_zmatrix(rows)
    assert sorted(xyz) == sorted(pep.atom_keys())
    for row in rows[1:]:
        assert np.linalg.norm(xyz[row.atom] - xyz[row.bond_to]) == pytest.approx(row.bond, abs=1e-10)
        if row.angle is not None:
            got = np.degrees(pep.bond_angle(xyz[row.angle_to], xyz[row.bond_to], xyz[row.atom]))
            assert got == pytest.approx(row.angle, abs=1e-8)
        if row.dihedral is not None:
            got = np.degrees(pep.dihedral_angle(xyz[row.dihedral_to], xyz[row.angle_to],
                                                xyz[row.bond_to], xyz[row.atom]))
            assert np.degrees(bio.wrap_angle(np.radians(got - row.dihedral))) == pytest.approx(0.0, abs=1e-8)
    x = pep.alanine_dipeptide_positions(phi, psi)
    assert np.degrees(pep.dihedral_angle(*x[[pep.atom_index(k) for k in pep.PHI_ATOMS]])) == pytest.approx(phi)
    assert np.degrees(pep.dihedral_angle(*x[[pep.atom_index(k) for k in pep.PSI_ATOMS]])) == pytest.approx(psi)
    # no two atoms closer than 0.9 Å: a sane structure (bonded H at 1.01 Å is the closest pair)
    dist = np.linalg.norm(x[:, None] - x[None, :], axis=-1) + np.eye(len(x)) * 10
    assert dist.min() > 0.9


def test_built_residue_is_L_alanine():
    # L-amino acids: improper N-C-CA-CB is about +120 deg (CB on the "CORN" side).
    x = pep.alanine_dipeptide_positions()
    idx = [pep.atom_index(k) for k in ("ALA:N", "ALA:C", "ALA:CA", "ALA:CB")]
    assert 100 < np.degrees(pep.dihedral_angle(*x[idx])) < 140


def test_zmatrix_validation():
    with pytest.raises(ValueError, match="at least 3"):
        pep.build_from_zmatrix([pep.ZEntry("A")])
    rows = [pep.ZEntry("A"), pep.ZEntry("B", "A", 1.0), pep.ZEntry("C", "X", 1.0, "A", 90.0)]
    with pytest.raises(ValueError, match="missing"):
        pep.build_from_zmatrix(rows)
    with pytest.raises(ValueError, match="key must be one of"):
        pep.atom_index("ALA:XX")


# ------------------------------------------------------------------ OpenMM system and dynamics
def test_openmm_system_matches_amber_templates_and_minimises():
    import openmm
    from openmm import unit

    topology, positions, system = pep.alanine_dipeptide_system()
    assert topology.getNumAtoms() == 22 and system.getNumParticles() == 22
    assert topology.getNumBonds() == 21
    assert [r.name for r in topology.residues()] == ["ACE", "ALA", "NME"]
    assert system.getNumConstraints() == 12  # one per hydrogen
    masses = [system.getParticleMass(i).value_in_unit(unit.amu) for i in range(22)]
    h = [i for i, (res, name) in enumerate(pep.ATOMS) if name.startswith("H")]
    assert np.allclose([masses[i] for i in h], 4.0)
    # hydrogen mass repartitioning moves mass from the bonded heavy atom: the total is unchanged
    # (force-field masses differ from IUPAC element masses in the third decimal)
    assert sum(masses) == pytest.approx(sum(a.element.mass.value_in_unit(unit.amu) for a in topology.atoms()), abs=0.01)
    integrator = openmm.VerletIntegrator(1.0 * unit.femtosecond)
    context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName("Reference"))
    context.setPositions(positions)
    e0 = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    openmm.LocalEnergyMinimizer.minimize(context)
    e1 = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    assert np.isfinite(e0) and np.isfinite(e1) and e1 <= e0
    assert e0 < 100.0  # no clashes in the built geometry (strained structures are at 1e3-1e6 kJ/mol)


@pytest.mark.parametrize("platform", ["Reference", "CPU"])  # CPU: one thread, fixed force order
def test_short_run_is_reproducible_and_cached(tmp_path, platform):
    kwargs = dict(n_steps=1000, report_interval=250, equilibration_steps=100, platform=platform, seed=7,
                  cache_dir=tmp_path)
    first = pep.simulate_alanine_dipeptide(300.0, **kwargs)
    assert not first.from_cache and first.n_frames == 4
    again = pep.simulate_alanine_dipeptide(300.0, **{**kwargs, "cache_dir": None})
    np.testing.assert_array_equal(first.phi, again.phi)
    np.testing.assert_array_equal(first.heavy_positions, again.heavy_positions)
    cached = pep.simulate_alanine_dipeptide(300.0, **kwargs)
    assert cached.from_cache
    np.testing.assert_array_equal(cached.psi, first.psi)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    other = pep.simulate_alanine_dipeptide(300.0, **{**kwargs, "seed": 8, "cache_dir": None})
    assert not np.array_equal(other.phi, first.phi)
    # dihedrals of the stored heavy atoms agree with the stored phi
    h = list(pep.HEAVY_ATOMS)
    phi = pep.dihedral_angle(*(first.heavy_positions[:, h.index(k)].astype(float) for k in pep.PHI_ATOMS))
    np.testing.assert_allclose(phi, first.phi, atol=1e-4)
    assert np.all(np.isfinite(first.potential_energy))


def test_parallel_runs_equal_sequential_runs_and_share_the_cache(tmp_path):
    runs = [dict(temperature=t, n_steps=200, report_interval=50, equilibration_steps=100, seed=s,
                 cache_dir=tmp_path) for t, s in ((300.0, 3), (450.0, 4), (300.0, 5))]
    parallel = pep.simulate_alanine_dipeptide_runs(runs[:2], processes=2)  # two worker processes
    assert [r.from_cache for r in parallel] == [False, False]
    assert len(list(tmp_path.glob("*.npz"))) == 2
    for kwargs, run in zip(runs[:2], parallel):
        alone = pep.simulate_alanine_dipeptide(**{**kwargs, "cache_dir": None})
        np.testing.assert_array_equal(run.phi, alone.phi)
        np.testing.assert_array_equal(run.potential_energy, alone.potential_energy)
        assert run.parameters == alone.parameters
    mixed = pep.simulate_alanine_dipeptide_runs(runs, processes=2)  # two cached, one new
    assert [r.from_cache for r in mixed] == [True, True, False]
    np.testing.assert_array_equal(mixed[1].psi, parallel[1].psi)
    assert mixed[2].parameters["seed"] == 5 and mixed[2].parameters["temperature"] == 300.0


def test_parallel_runs_validation():
    with pytest.raises(TypeError, match="runs"):
        pep.simulate_alanine_dipeptide_runs({"temperature": 300.0})
    with pytest.raises(ValueError, match="processes"):
        pep.simulate_alanine_dipeptide_runs([], processes=0)


def test_cache_key_changes_with_every_parameter():
    base = pep.simulation_parameters()
    keys = {pep.cache_key(base)}
    changes = dict(temperature=301.0, n_steps=500, step_size=2.0, friction=2.0, report_interval=125,
                   hydrogen_mass=3.0, equilibration_steps=10, phi0=-60.0, psi0=140.0,
                   phi_bias=[1.0, 0.0], platform="CPU", seed=1)
    for name, value in changes.items():
        n_steps = 250_000 if name != "n_steps" else value
        options = {k: v for k, v in changes.items() if k == name and k != "n_steps"}
        keys.add(pep.cache_key(pep.simulation_parameters(n_steps=n_steps, **options)))
    assert len(keys) == len(changes) + 1
    assert pep.cache_key({**base, "force_field": "amber99sb.xml"}) != pep.cache_key(base)


def test_simulation_parameters_validation():
    with pytest.raises(ValueError, match="multiple of report_interval"):
        pep.simulation_parameters(n_steps=1001, report_interval=100)
    with pytest.raises(ValueError, match="temperature"):
        pep.simulation_parameters(temperature=-1.0)
    with pytest.raises(ValueError, match="platform"):
        pep.simulation_parameters(platform="CUDA")
    with pytest.raises(TypeError, match="seed"):
        pep.simulation_parameters(seed=1.5)
    with pytest.raises(ValueError, match="seed"):
        pep.simulation_parameters(seed=-1)
    # a Generator draws the OpenMM seed: same generator state, same parameters
    a = pep.simulation_parameters(seed=np.random.default_rng(5))["seed"]
    assert a == pep.simulation_parameters(seed=np.random.default_rng(5))["seed"]


# ------------------------------------------------------------------ torsion basis
def test_torsion_basis_values_match_definition():
    rng = np.random.default_rng(3)
    x = rng.uniform(-np.pi, np.pi, size=(20, 2))
    basis = bio.TorsionBasis(3, cross_order=2)
    assert basis.n_functions == 4 * 3 + 4 * 4
    phi, psi = x[:, 0], x[:, 1]
    expected = [np.cos(k * phi) for k in (1, 2, 3)] + [np.sin(k * phi) for k in (1, 2, 3)]
    expected += [np.cos(k * psi) for k in (1, 2, 3)] + [np.sin(k * psi) for k in (1, 2, 3)]
    for f in (np.cos, np.sin):
        for g in (np.cos, np.sin):
            expected += [f(k * phi) * g(l * psi) for k in (1, 2) for l in (1, 2)]
    np.testing.assert_allclose(basis(x), np.column_stack(expected), atol=1e-13)


@pytest.mark.parametrize("order,cross", [(1, 1), (3, 2), (4, 0)])
def test_torsion_basis_gradient_matches_finite_differences(order, cross):
    basis = bio.TorsionBasis(order, cross_order=cross)
    x = np.random.default_rng(4).uniform(-np.pi, np.pi, size=(15, 2))
    h = 1e-6
    grad = basis.gradient(x)
    assert grad.shape == (15, basis.n_functions, 2)
    for d in range(2):
        e = np.zeros(2)
        e[d] = h
        np.testing.assert_allclose(grad[:, :, d], (basis(x + e) - basis(x - e)) / (2 * h), atol=1e-7)
    theta = np.random.default_rng(5).normal(size=basis.n_functions)
    np.testing.assert_allclose(basis.force(x, theta), -np.einsum("kid,i->kd", grad, theta))


def test_torsion_basis_is_periodic_and_orthogonal():
    basis = bio.TorsionBasis(3)
    x = np.random.default_rng(6).uniform(-np.pi, np.pi, size=(10, 2))
    for shift in ([2 * np.pi, 0], [0, -2 * np.pi], [4 * np.pi, 2 * np.pi]):
        np.testing.assert_allclose(basis(x + shift), basis(x), atol=1e-12)
    # on the torus the functions are orthogonal with <f^2> = 1/2 (single) or 1/4 (products);
    # the trapezoid grid integrates these trigonometric polynomials (degree 6 < 16) exactly
    torus = bio.torus_grid(16)
    grid, weights = torus.points, torus.weights
    design = basis(grid)
    gram = design.T @ (design * weights[:, None]) / (2 * np.pi) ** 2
    diag = np.r_[np.full(12, 0.5), np.full(36, 0.25)]
    np.testing.assert_allclose(gram, np.diag(diag), atol=1e-12)


def test_torsion_basis_validation():
    with pytest.raises(ValueError, match="cross_order"):
        bio.TorsionBasis(2, cross_order=3)
    with pytest.raises(ValueError, match="shape"):
        bio.TorsionBasis(2)(np.zeros((5, 3)))


# ------------------------------------------------------------------ basins, blocks, beads
def test_basins_partition_the_torus():
    centres = np.linspace(-np.pi, np.pi, 73)[:-1] + np.pi / 72  # 5-degree cells
    phi, psi = (a.ravel() for a in np.meshgrid(centres, centres, indexing="ij"))
    labels = bio.basin_labels(phi, psi)
    assert labels.min() >= 0  # every point is in a basin
    pops = bio.basin_populations(phi, psi).populations
    assert sum(pops.values()) == pytest.approx(1.0)
    # areas of the rectangles (degrees^2) / 360^2
    expected = {"C5/PII": 240 * 120, "C7eq": 240 * 120, "alphaR": 240 * 120, "alphaL": 120 * 210,
                "C7ax": 120 * 150}
    for name, area in expected.items():
        assert pops[name] == pytest.approx(area / 360**2)


def test_block_standard_error_of_ar1_process():
    # AR(1) with coefficient a: the variance of the mean is (1+a)/(1-a) sigma^2/n.
    rng = np.random.default_rng(11)
    a, n = 0.9, 200_000
    noise = rng.normal(size=n)
    x = np.empty(n)
    x[0] = noise[0] / np.sqrt(1 - a**2)
    for i in range(1, n):
        x[i] = a * x[i - 1] + noise[i]
    exact = np.sqrt((1 + a) / (1 - a) / (1 - a**2) / n)
    estimate = bio.block_standard_error(x, n_blocks=50)
    # the block estimate itself has relative spread 1/sqrt(2(n_b-1)) = 0.10
    assert abs(estimate / exact - 1) < 0.35


def test_basin_populations_weights_and_errors():
    phi = np.radians([-80.0, -80.0, 60.0, 60.0])
    psi = np.radians([70.0, 70.0, 40.0, 40.0])
    pops = bio.basin_populations(phi, psi, weights=[1.0, 1.0, 3.0, 3.0]).populations
    assert pops["C7eq"] == pytest.approx(0.25) and pops["alphaL"] == pytest.approx(0.75)
    result = bio.basin_populations(phi, psi, n_blocks=2)
    pops, errs = result.populations, result.errors
    assert pops["C7eq"] == 0.5 and errs["C7eq"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="weights"):
        bio.basin_populations(phi, psi, weights=[-1.0, 1.0, 1.0, 1.0])


def test_map_to_beads_centre_of_mass():
    x = np.random.default_rng(2).normal(size=(5, 4, 3))
    m = np.array([1.0, 3.0, 2.0, 2.0])
    beads = bio.map_to_beads(x, [[0, 1], [2, 3]], masses=m)
    np.testing.assert_allclose(beads[:, 0], (x[:, 0] + 3 * x[:, 1]) / 4)
    np.testing.assert_allclose(beads[:, 1], (x[:, 2] + x[:, 3]) / 2)
    with pytest.raises(ValueError, match="groups"):
        bio.map_to_beads(x, [[0, 9]])


def test_phi_bias_force_matches_phi_bias_energy():
    import openmm
    from openmm import unit

    coefficients = [3.0, -1.0, 0.5, 2.0, 0.7, -0.4]
    phi = np.radians(np.arange(-170.0, 180.0, 35.0))
    assert np.allclose(pep.phi_bias_energy(phi, coefficients),
                       sum(coefficients[k - 1] * np.cos(k * phi) + coefficients[k + 2] * np.sin(k * phi)
                           for k in (1, 2, 3)))
    system = openmm.System()
    for _ in range(22):
        system.addParticle(12.0)
    system.addForce(pep._bias_force(coefficients))
    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName("Reference"))
    for value in phi:
        x = pep.alanine_dipeptide_positions(phi=np.degrees(value), psi=120.0) * 0.1
        context.setPositions(x * unit.nanometer)
        energy = context.getState(getEnergy=True, groups={1}).getPotentialEnergy()
        assert energy.value_in_unit(unit.kilojoule_per_mole) == pytest.approx(
            float(pep.phi_bias_energy(value, coefficients)), abs=1e-9)
    with pytest.raises(ValueError, match="phi_bias"):
        pep.simulation_parameters(phi_bias=[1.0, 2.0, 3.0])


def test_weighted_block_errors_reduce_to_unweighted_and_scale():
    rng = np.random.default_rng(9)
    phi = rng.uniform(-np.pi, np.pi, 4000)
    psi = rng.uniform(-np.pi, np.pi, 4000)
    result = bio.basin_populations(phi, psi, n_blocks=20)
    weighted = bio.basin_populations(phi, psi, weights=np.full(4000, 2.5), n_blocks=20)
    pops, errs, pops_w, errs_w = result.populations, result.errors, weighted.populations, weighted.errors
    for name in bio.BASINS:
        assert pops_w[name] == pytest.approx(pops[name]) and errs_w[name] == pytest.approx(errs[name])
        # independent uniform samples: binomial error sqrt(p(1-p)/n), estimated within ~3 sigma of its noise
        exact = np.sqrt(pops[name] * (1 - pops[name]) / 4000)
        assert abs(errs[name] / exact - 1) < 3 / np.sqrt(2 * 19)


def test_weighted_block_error_matches_delta_method_for_independent_samples():
    rng = np.random.default_rng(12)
    n = 20_000
    phi = rng.uniform(-np.pi, np.pi, n)
    psi = rng.uniform(-np.pi, np.pi, n)
    w = rng.exponential(size=n) ** 2  # strongly unequal weights
    result = bio.basin_populations(phi, psi, weights=w, n_blocks=40)
    pops, errs = result.populations, result.errors
    labels = bio.basin_labels(phi, psi)
    for index, name in enumerate(bio.BASINS):
        x = (labels == index).astype(float)
        exact = np.sqrt(np.sum(w**2 * (x - pops[name]) ** 2)) / w.sum()
        assert abs(errs[name] / exact - 1) < 3 / np.sqrt(2 * 39)


def test_torus_grid_integrates_the_von_mises_normaliser():
    # int exp(k cos phi) dphi = 2 pi I0(k): the periodic trapezoid rule converges exponentially
    from scipy.special import i0

    torus = bio.torus_grid(40)
    grid, weights = torus.points, torus.weights
    integral = weights @ np.exp(2.0 * np.cos(grid[:, 0]) + 1.5 * np.cos(grid[:, 1] - 0.3))
    assert integral == pytest.approx((2 * np.pi) ** 2 * i0(2.0) * i0(1.5), rel=1e-12)
    assert grid.min() == -np.pi and grid.max() == np.pi


def test_rem_with_torsion_basis_recovers_a_representable_torus_potential():
    # A target whose free energy lies in the span of the basis is recovered exactly by REM
    # (grid quadrature of the exact density as weighted target): the basis, the torus grid,
    # GridEnsemble and minimize_relative_entropy work together.
    from remlib.ensembles import GridEnsemble
    from remlib.rem import minimize_relative_entropy

    basis = bio.TorsionBasis(2, cross_order=1)
    rng = np.random.default_rng(21)
    theta_true = rng.normal(scale=0.8, size=basis.n_functions)
    torus = bio.torus_grid(48)
    grid, weights = torus.points, torus.weights
    density = weights * np.exp(-basis.energy(grid, theta_true))
    fit = minimize_relative_entropy(basis, GridEnsemble(grid, weights=weights), grid, weights=density)
    assert fit.converged
    np.testing.assert_allclose(fit.theta, theta_true, atol=1e-7)
