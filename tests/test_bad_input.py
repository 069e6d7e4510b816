"""A systematic bad-input probe of every public name of remlib.

For each public name (``remlib.__all__``, plus the methods users call on its classes) there
is one cheap valid call, :func:`baselines`.  Every argument of it is replaced in turn by the
bad values of a table generated from the kind of the valid value (an integer count, a
positive or signed number, an array, a flag, a choice among strings, a remlib object, a
path, a seed): None, wrong types, numeric strings, truth values, NaN/inf, empty and
wrongly shaped arrays, zero/negative/huge sizes, file descriptors for paths.  Each such
call must raise ``ValueError`` or ``TypeError`` whose message names the argument: never
another exception, a silent result, a multi-gigabyte allocation (the address space is
limited while a case runs) or a hang (each case has an alarm).

Every call is probed with the start of every all-atom simulation stopped
(:func:`simulations_stopped`: remlib's peptide and water ``_run`` and ``openmm.Context``
record the call and raise): a bad value must be refused without reaching a stop, so an
argument checked only after (or while) simulating is a finding, however fast; and the
valid call of each simulation must reach a stop, so the stops are where simulating
starts.  The alarm is a guard against hangs, never a criterion of speed.  The explorers
take no arguments; the values of their controls are probed through the model each
explorer computes with.  Public classes that no baseline builds are result classes: the
tests prove that a probed call returns each of them and probe their methods that take
arguments; ``Ensemble``, a protocol, is checked against the ensembles that follow it.

Then every array or scalar argument is passed in forms that mean the same values (a
list, float32 or int dtype when exact, read-only, non-contiguous, Fortran order, numpy
scalars, 0-d arrays), and the result must equal the baseline's.

The few facts a generated table cannot know (which numbers may be zero or negative,
which arguments are choices) are declared per argument name in ``ZERO_OK``, ``SIGNED``
and the baselines' own values, never per function.
"""
import dataclasses
import functools
import inspect
import os
import re
import resource
import signal
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import remlib
from remlib import biomolecules, peptide, water
from remlib.basis import BSplineBasis, FourierBasis, GaussianBasis, PolynomialBasis
from remlib.ensembles import GridEnsemble, MetropolisEnsemble

# ----------------------------------------------------------------------------- shared inputs
BOX = np.full(3, 4.0)
# two frames of a perturbed simple-cubic lattice (spacing 1.33: no pair inside a hard core of 0.8)
_LATTICE = np.stack(np.meshgrid(*[np.arange(3) * 4.0 / 3 + 0.4] * 3, indexing="ij"), axis=-1).reshape(-1, 3)[:16]
FRAMES = np.mod(_LATTICE + np.random.default_rng(1).normal(0.0, 0.1, size=(2, 16, 3)), 4.0)
# four zigzag chains of four beads (bonds ~1, angles ~2.7 rad, other beads >= 0.9 apart), slightly perturbed
_ZIGZAG = np.array([[0.5 + k, 0.5 + c + 0.1 * (k % 2), 0.5 + 2.0 * (c % 2)] for c in range(4) for k in range(4)])
CHAIN_FRAMES = _ZIGZAG + np.random.default_rng(2).normal(0.0, 0.03, size=(2, 16, 3))
FORCES = np.random.default_rng(3).normal(size=(2, 16, 3))
DW = PolynomialBasis([2, 4])
GRID = GridEnsemble(np.linspace(-2.0, 2.0, 41))
TARGET = np.linspace(-1.5, 1.5, 31)


def _pair_table():
    return remlib.tabulate_pair(remlib.lj_potential, r_min=0.8, r_cut=1.9, n_grid=64)


def _angle_table():
    return remlib.tabulate_angle(lambda theta: 0.0 * theta, n_grid=64)


def _bond_table():
    return remlib.tabulate_bond(lambda r: 50.0 * (r - 1.0) ** 2, r_min=0.5, r_max=1.5, n_grid=64)


def _pair_model():
    return remlib.PairModel(BSplineBasis(0.8, 1.9, 5), n_grid=64)


def _pair_result(tabulated=False):
    """A pair fit (with its u(r) tabulated for plotting if ``tabulated``)."""
    theta = np.array([3.0, 0.5, -1.0, -0.3, 0.0])
    model = _pair_model()
    r = np.linspace(0.8, 1.9, 12) if tabulated else None
    return remlib.PairPotentialResult("rem", model, theta, r, model.potential(r, theta) if tabulated else None)


def _bonded_result():
    model = remlib.BondedModel(BSplineBasis(0.9, 1.1, 5), BSplineBasis(1.5, 3.0, 5), _pair_table(), 4)
    return remlib.BondedResult("rem", model, np.array([2.0, 0.0, -0.5, 1.0, 1.0, 0.5, 0.0, 0.2]))


def _universe(tmp):
    """An MDAnalysis universe of three two-atom molecules over two frames (and its GRO file)."""
    import MDAnalysis as mda

    u = mda.Universe.empty(6, n_residues=3, atom_resindex=[0, 0, 1, 1, 2, 2], trajectory=True)
    u.add_TopologyAttr("masses", [16.0, 1.0] * 3)
    u.add_TopologyAttr("names", ["O", "H"] * 3)
    u.add_TopologyAttr("resnames", ["SOL"] * 3)
    u.add_TopologyAttr("resids", [1, 2, 3])
    positions = np.random.default_rng(13).uniform(0.0, 5.0, (2, 6, 3)).astype(np.float32)
    u.load_new(positions, order="fac", dimensions=[5.0, 5.0, 5.0, 90.0, 90.0, 90.0])
    path = Path(tmp) / "three.gro"
    u.atoms.write(str(path))
    return u, str(path)


def _table_file(tmp, kind):
    path = Path(tmp) / ("table_b0.xvg" if kind == "gromacs" else f"table.{kind}")
    if not path.exists() and kind == "angle":
        remlib.write_lammps_angle_table(path, _bonded_result(), n_points=181)
    elif not path.exists() and kind == "gromacs":
        remlib.write_gromacs_bond_table(path, _bonded_result(), n_points=50)
    elif not path.exists():
        remlib.write_lammps_table(path, _pair_result(), n_points=20)
    return str(path)


def _in_fresh_cache(function, tmp):
    """``function`` whose ``cache_dir=_fresh_cache(tmp)`` becomes a new empty folder at every call.

    Nothing is cached across cases (each run really runs) and nothing is written into the
    repository; a bad ``cache_dir`` (any other value) is passed through unchanged.
    """
    def call(**kwargs):
        if kwargs.get("cache_dir") == _fresh_cache(tmp):
            kwargs["cache_dir"] = tempfile.mkdtemp(dir=tmp, prefix="run-")
        return function(**kwargs)
    return call


def _fresh_cache(tmp):
    return str(Path(tmp) / "a-new-folder-per-call")


def _system_arrays(phi, psi, hydrogen_mass, constraints):
    """alanine_dipeptide_system's positions (nm), masses (amu) and constraint count, as arrays to compare."""
    from openmm import unit

    _, positions, system = remlib.alanine_dipeptide_system(phi, psi, hydrogen_mass=hydrogen_mass,
                                                           constraints=constraints)
    masses = [system.getParticleMass(i).value_in_unit(unit.amu) for i in range(system.getNumParticles())]
    return (np.array(positions.value_in_unit(unit.nanometer)), np.array(masses), system.getNumConstraints())


def _peptide_run(**options):
    """Keywords of one short vacuum run of alanine dipeptide on OpenMM's (deterministic) Reference platform."""
    return dict(dict(temperature=300.0, n_steps=100_000, report_interval=50_000, equilibration_steps=0,
                     step_size=4.0, friction=1.0, hydrogen_mass=4.0, phi0=-80.0, psi0=150.0,
                     phi_bias=np.array([0.5, 0.0]), platform="Reference", seed=1), **options)


def _axes(n=1):
    from matplotlib.figure import Figure

    axes = Figure().subplots(1, n)
    return axes if n == 1 else list(axes)


# ----------------------------------------------------------------------------- valid calls
# name -> (callable, keyword arguments of one cheap valid call)
def baselines(tmp):
    dw, chain, ising = remlib.DoubleWell(), remlib.GaussianChain(4), remlib.IsingChain(4)
    channel = remlib.EntropicChannel()
    bonded = remlib.BondedModel(BSplineBasis(0.6, 1.6, 4), BSplineBasis(0.5, 3.1, 4), _pair_table(), chain_length=4,
                                n_grid=64)
    universe, gro_file = _universe(tmp)
    molecules = remlib.mapping_per_molecule(universe)
    fit, bonded_fit = _pair_result(tabulated=True), _bonded_result()
    table = {
        # divergence
        "kl_divergence": (_api("kl_divergence"), dict(p=np.array([0.2, 0.3, 0.5]), q=np.array([0.3, 0.3, 0.4]))),
        "kl_gaussian": (_api("kl_gaussian"), dict(mean0=np.zeros(2), cov0=np.eye(2), mean1=np.ones(2),
                                                 cov1=2 * np.eye(2))),
        "kl_divergence_grid": (_api("kl_divergence_grid"), dict(p=np.array([1.0, 2.0, 1.0]), q=np.ones(3),
                                                               x=np.array([0.0, 0.5, 1.0]))),
        "relative_entropy_from_samples": (_api("relative_entropy_from_samples"), dict(
            u_cg=np.array([1.0, 2.0, 0.5]), u_aa=np.array([1.5, 2.0, 0.0]), beta=1.0, free_energy_cg=0.5,
            free_energy_aa=-0.5, mapping_entropy=0.0)),
        "log_likelihood": (_api("log_likelihood"), dict(basis=DW, theta=np.array([-2.0, 1.0]),
                                                       samples=np.array([0.1, -0.5, 1.0]), ensemble=GRID)),
        "kl_from_energies": (_api("kl_from_energies"), dict(u_p=np.array([0.0, 1.0, 2.0]), u_q=np.array([0.5, 0.5, 1.0]),
                                                           x=np.array([0.0, 1.0, 2.0]), beta=1.0)),
        "log_likelihood_from_energies": (_api("log_likelihood_from_energies"), dict(
            energies=np.array([1.0, 2.0]), log_partition=0.5, beta=1.0)),
        # pmf
        "pmf_from_samples": (_api("pmf_from_samples"), dict(samples=TARGET, bins=5, beta=1.0)),
        "pmf_on_grid": (_api("pmf_on_grid"), dict(energy=np.arange(12.0).reshape(3, 4) / 4,
                                                 grids=[np.arange(3.0), np.arange(4.0)], axis=0, beta=1.0)),
        # bases and ensembles
        "PolynomialBasis": (_api("PolynomialBasis"), dict(powers=np.array([2, 4]))),
        "GaussianBasis": (_api("GaussianBasis"), dict(centers=np.array([0.0, 1.0]), width=0.5)),
        "BSplineBasis": (_api("BSplineBasis"), dict(lower=0.0, upper=1.0, n_functions=5)),
        "FourierBasis": (_api("FourierBasis"), dict(order=2, sine=True)),
        "SeparableBasis": (lambda first, second: remlib.SeparableBasis(first, second), dict(first=DW, second=DW)),
        "TorsionBasis": (_api("TorsionBasis"), dict(order=2, cross_order=1)),
        "Basis.energy": (lambda x, theta: DW.energy(x, theta), dict(x=TARGET, theta=np.array([-2.0, 1.0]))),
        "Basis.force": (lambda x, theta: GaussianBasis([0.0, 1.0], 0.5).force(x, theta),
                        dict(x=TARGET, theta=np.array([1.0, -1.0]))),
        "GridEnsemble": (_api("GridEnsemble"), dict(grid=np.linspace(-2.0, 2.0, 11), beta=1.0,
                                                   weights=np.ones(11))),
        "GridEnsemble.averages": (lambda basis, theta: GRID.averages(basis, theta),
                                  dict(basis=DW, theta=np.array([-2.0, 1.0]))),
        "MetropolisEnsemble": (lambda **kw: MetropolisEnsemble(**kw).sample(DW, [-2.0, 1.0]), dict(
            x0=np.array([0.1]), step_size=0.5, n_samples=50, beta=1.0, burn_in=10, thin=1, bounds=None, seed=3)),
        "MetropolisEnsemble.sample": (lambda basis, theta: MetropolisEnsemble(0.1, 0.5, 50, burn_in=10,
                                                                              seed=3).sample(basis, theta),
                                      dict(basis=DW, theta=np.array([-2.0, 1.0]))),
        "effective_sample_size": (_api("effective_sample_size"), dict(values=np.sin(np.arange(100.0)), n_batches=5)),
        # rem and information
        "minimize_relative_entropy": (_api("minimize_relative_entropy"), dict(
            basis=DW, ensemble=GRID, target=TARGET, weights=None, theta0=None, method="newton", tol=1e-8,
            max_iter=50, regularization=0.0)),
        "relative_entropy_objective": (_api("relative_entropy_objective"), dict(
            basis=DW, ensemble=GRID, target=TARGET, theta=np.array([-2.0, 1.0]))),
        "information_decomposition": (_api("information_decomposition"), dict(
            p_aa=np.array([0.4, 0.2, 0.3, 0.1]), mapping=np.array([0, 0, 1, 1]), p_cg=np.array([0.5, 0.5]))),
        # systems
        "DoubleWell": (_api("DoubleWell"), dict(barrier=1.0, tilt=0.1)),
        "DoubleWell.sample": (lambda n, beta, seed: dw.sample(n, beta=beta, seed=seed), dict(n=20, beta=1.0, seed=4)),
        "DoubleWell.pmf": (lambda x, beta: dw.pmf(x, beta=beta), dict(x=TARGET, beta=2.0)),
        "EntropicChannel": (_api("EntropicChannel"), dict(barrier=1.0, tilt=0.0, kappa0=1.0, a=1.0,
                                                         kappa_form="exp")),
        "EntropicChannel.sample": (lambda n, beta, seed: channel.sample(n, beta=beta, seed=seed),
                                   dict(n=20, beta=1.0, seed=4)),
        "GaussianChain": (_api("GaussianChain"), dict(n_beads=4, k=1.0, dim=1)),
        "GaussianChain.sample": (lambda n, beta, seed: chain.sample(n, beta=beta, seed=seed),
                                 dict(n=5, beta=1.0, seed=4)),
        "GaussianChain.map": (lambda positions, mapping, block: chain.map(positions, mapping, block), dict(
            positions=np.arange(16.0).reshape(2, 4, 2)[..., :1], mapping="center_of_mass", block=2)),
        "IsingChain": (_api("IsingChain"), dict(n_spins=4, J=1.0, h=0.0, beta=1.0, periodic=True)),
        "IsingChain.sample": (lambda n, seed: ising.sample(n, seed=seed), dict(n=10, seed=4)),
        "IsingChain.block_spin": (lambda block_size, rule: ising.block_spin(block_size, rule=rule),
                                  dict(block_size=2, rule="majority")),
        # dynamics and path space
        "brownian_dynamics": (_api("brownian_dynamics"), dict(
            force=lambda x: -x, x0=np.zeros((2, 1)), dt=0.01, n_steps=20, beta=1.0, gamma=1.0, stride=2, seed=5)),
        "path_relative_entropy": (_api("path_relative_entropy"), dict(
            trajectory=np.sin(np.arange(40.0) / 5).reshape(2, 20, 1).transpose(1, 0, 2), dt=0.01,
            force_p=lambda x: -x, force_q=lambda x: -2 * x, beta=1.0, gamma=1.0)),
        "fit_drift": (_api("fit_drift"), dict(
            trajectory=np.sin(np.arange(40.0) / 5).reshape(40, 1, 1), dt=0.01, basis=PolynomialBasis([2]),
            beta=1.0, gamma=1.0, mapping=None)),
        "mean_force": (_api("mean_force"), dict(x=TARGET, forces=-TARGET, bins=4)),
        "force_matching": (_api("force_matching"), dict(x=TARGET, forces=-TARGET, basis=PolynomialBasis([2]))),
        # particles
        "radial_distribution": (_api("radial_distribution"), dict(positions=FRAMES, box=BOX, r_max=1.5, bins=5,
                                                                 molecule=None, exclude=None)),
        "pair_histogram": (_api("pair_histogram"), dict(positions=FRAMES, box=BOX, r_max=1.5, bins=5, molecule=None,
                                                       exclude=None, per_frame=False)),
        "pair_list": (_api("pair_list"), dict(positions=FRAMES[0], box=BOX, r_max=1.5, molecule=None, exclude=None)),
        "wrap_positions": (_api("wrap_positions"), dict(positions=FRAMES[0] - 1.0, box=BOX)),
        "minimum_image": (_api("minimum_image"), dict(delta=FRAMES[0] - FRAMES[1], box=BOX)),
        "lj_potential": (_api("lj_potential"), dict(r=np.array([1.0, 1.5, 2.0]), shift_at=2.5)),
        "jzg_equation_of_state": (_api("jzg_equation_of_state"), dict(density=0.5, temperature=2.0)),
        "lj_thermodynamics": (_api("lj_thermodynamics"), dict(frames=FRAMES, box=BOX, temperature=2.0, r_cut=1.9,
                                                             n_blocks=2)),
        "lj_fluid_frames": (_api("lj_fluid_frames"), dict(n_particles=27, density=0.3, temperature=2.0, n_frames=2,
                                                         r_cut=1.5, shift=True, burn_in=5, thin=1, seed=6)),
        "lattice_positions": (_api("lattice_positions"), dict(n_particles=8, box=BOX)),
        "tabulate_pair": (_api("tabulate_pair"), dict(function=remlib.lj_potential, r_min=0.8, r_cut=1.9, n_grid=64)),
        "tabulate_bond": (_api("tabulate_bond"), dict(function=lambda r: (r - 1.0) ** 2, r_min=0.5, r_max=1.5,
                                                     n_grid=64)),
        "tabulate_angle": (_api("tabulate_angle"), dict(function=lambda t: np.cos(t), n_grid=64)),
        "configuration_energy": (_api("configuration_energy"), dict(
            positions=CHAIN_FRAMES[0], box=BOX, pair=_pair_table(), chain_length=4, exclude=1,
            bond=_bond_table(), angle=_angle_table())),
        "metropolis_particles": (_api("metropolis_particles"), dict(
            positions=CHAIN_FRAMES[0], box=BOX, pair=_pair_table(), n_frames=2, beta=1.0, burn_in=2, thin=1,
            step_size=0.1, target_acceptance=0.4, chain_length=4, exclude=1, bond=_bond_table(),
            angle=_angle_table(), seed=7)),
        "metropolis_chains": (lambda **kw: remlib.metropolis_chains(**kw, n_frames=2, burn_in=2), dict(
            positions=FRAMES[0], box=BOX, pair=_pair_table(), n_chains=2, n_workers=1, seed=7)),
        # pair potentials
        "PairModel": (_api("PairModel"), dict(basis=BSplineBasis(0.8, 1.9, 5), n_grid=64)),
        "PairModel.potential": (lambda r, theta: _pair_model().potential(r, theta), dict(
            r=np.array([1.0, 1.2, 1.8]), theta=np.array([3.0, 0.5, -1.0, -0.3, 0.0]))),
        "PairModel.features": (lambda frames, box: _pair_model().features(frames, box), dict(frames=FRAMES,
                                                                                            box=BOX)),
        "pair_forces": (_api("pair_forces"), dict(frames=FRAMES, box=BOX, model=_pair_model(),
                                                 theta=np.array([3.0, 0.5, -1.0, -0.3, 0.0]))),
        "pair_force_matching": (_api("pair_force_matching"), dict(frames=FRAMES, forces=FORCES, box=BOX, r_cut=1.9,
                                                                 n_functions=5, r_min=0.5)),
        "PairPotentialResult.sample": (lambda start, box, n_frames, beta, seed: _pair_result().sample(
            start, box, n_frames=n_frames, beta=beta, burn_in=2, thin=1, seed=seed),
            dict(start=FRAMES[0], box=BOX, n_frames=2, beta=1.0, seed=8)),
        "fit_pair_potential_rem": (_api("fit_pair_potential_rem"), dict(
            frames=FRAMES, box=BOX, r_cut=1.9, n_functions=5, beta=1.0, theta0=None, n_model_frames=2,
            burn_in=2, thin=1, n_chains=1, max_iter=1, tol=1e-6, regularization=0.1, seed=9)),
        "iterative_boltzmann_inversion": (_api("iterative_boltzmann_inversion"), dict(
            frames=FRAMES, box=BOX, r_cut=1.9, n_functions=5, beta=1.0, bins=10, n_iterations=1,
            n_model_frames=2, burn_in=2, thin=1, n_chains=1, tol=0.0, seed=9, r_min=1.1,  # closest pair 1.12
            theta0=np.full(5, 0.1))),
        # polymers
        "bead_spring_frames": (_api("bead_spring_frames"), dict(
            n_chains=2, chain_length=4, n_frames=2, box=np.full(3, 5.0), bond="harmonic", bond_k=100.0,
            bond_r0=1.0, r_cut=2.0, temperature=1.0, burn_in=2, thin=1, seed=10)),
        "chain_bond_lengths": (_api("chain_bond_lengths"), dict(frames=CHAIN_FRAMES, box=BOX, chain_length=4)),
        "chain_bond_angles": (_api("chain_bond_angles"), dict(frames=CHAIN_FRAMES, box=BOX, chain_length=4)),
        "center_of_mass": (_api("center_of_mass"), dict(frames=CHAIN_FRAMES, box=BOX, atoms_per_molecule=2)),
        "BondedModel": (_api("BondedModel"), dict(bond_basis=BSplineBasis(0.6, 1.6, 4),
                                                 angle_basis=BSplineBasis(0.5, 3.1, 4), pair=_pair_table(),
                                                 chain_length=4, exclude=2, n_grid=64)),
        "BondedModel.features": (lambda frames, box: bonded.features(frames, box), dict(frames=CHAIN_FRAMES,
                                                                                        box=BOX)),
        "bonded_boltzmann_inversion": (_api("bonded_boltzmann_inversion"), dict(
            frames=CHAIN_FRAMES, box=BOX, chain_length=4, pair=_pair_table(), exclude=2, n_bond=4, n_angle=4,
            beta=1.0)),
        "fit_bonded_rem": (_api("fit_bonded_rem"), dict(
            frames=CHAIN_FRAMES, box=BOX, chain_length=4, pair=_pair_table(), exclude=2, n_bond=4, n_angle=4,
            beta=1.0, n_model_frames=2, burn_in=2, thin=1, n_chains=1, max_iter=1, tol=1e-6, regularization=0.1,
            seed=11)),
        "lj_dimer_frames": (_api("lj_dimer_frames"), dict(n_molecules=8, density=0.1, temperature=2.0, n_frames=2,
                                                         bond_k=200.0, bond_r0=0.6, r_cut=1.5, burn_in=2, thin=1,
                                                         seed=12)),
        # tables
        "write_lammps_table": (_api("write_lammps_table"), dict(
            path=str(Path(tmp) / "out.table"), potential=_pair_result(), n_points=20, keyword="REM", length=1.0,
            energy=1.0)),
        "read_lammps_table": (_api("read_lammps_table"), dict(path=_table_file(tmp, "lammps"), keyword=None)),
        "write_gromacs_bond_table": (_api("write_gromacs_bond_table"), dict(
            path=str(Path(tmp) / "out_b0.xvg"), result=_bonded_result(), n_points=50, length=1.0, energy=1.0,
            margin=0.5)),
        "write_gromacs_angle_table": (_api("write_gromacs_angle_table"), dict(
            path=str(Path(tmp) / "out_a0.xvg"), result=_bonded_result(), n_points=181, energy=1.0)),
        "read_gromacs_bonded_table": (_api("read_gromacs_bonded_table"), dict(path=_table_file(tmp, "gromacs"))),
        "write_lammps_bond_table": (_api("write_lammps_bond_table"), dict(
            path=str(Path(tmp) / "bond.table"), result=_bonded_result(), n_points=50, keyword="BOND", length=1.0,
            energy=1.0, margin=0.5)),
        "write_lammps_angle_table": (_api("write_lammps_angle_table"), dict(
            path=str(Path(tmp) / "angle.table"), result=_bonded_result(), n_points=181, keyword="ANGLE",
            energy=1.0)),
        "read_lammps_angle_table": (_api("read_lammps_angle_table"), dict(path=_table_file(tmp, "angle"),
                                                                          keyword=None)),
        "MonteCarloEngine": (_api("MonteCarloEngine"), dict(burn_in=10, thin=2, n_chains=1)),
        # trajectories of other engines (MDAnalysis)
        "load_universe": (_api("load_universe"), dict(topology=gro_file)),
        "mapping_per_molecule": (_api("mapping_per_molecule"), dict(universe=universe, selection="resname SOL",
                                                                    by="residues", center="mass")),
        "mapping_from_selections": (_api("mapping_from_selections"), dict(
            universe=universe, selections=["resid 1", "resid 2 3"], center="geometry")),
        "read_cg_trajectory": (_api("read_cg_trajectory"), dict(
            universe=universe, mapping=molecules, start=0, stop=2, step=1, length=2.0, box_tolerance=1e-6)),
        "iter_cg_frames": (_api("iter_cg_frames"), dict(universe=universe, mapping=molecules, start=0, stop=2,
                                                        step=1, length=2.0)),
        "map_forces": (_api("map_forces"), dict(forces=np.arange(36.0).reshape(2, 6, 3), mapping=molecules)),
        # engines (constructing one runs nothing)
        "OpenMMEngine": (_api("OpenMMEngine"), dict(timestep=0.005, friction=1.0, burn_in=20, thin=2,
                                                         reproducible=True)),
        "LammpsEngine": (_api("LammpsEngine"), dict(timestep=0.005, friction=1.0, burn_in=20, thin=2)),
        "pair_virial_pressure": (_api("pair_virial_pressure"), dict(frames=FRAMES, box=BOX, fit=_pair_result(),
                                                                    beta=1.0)),
        "tetrahedral_order": (_api("tetrahedral_order"), dict(frames=FRAMES, box=BOX)),
        # biomolecules and peptide geometry
        "torus_grid": (_api("torus_grid"), dict(n_intervals=4)),
        "basin_populations": (_api("basin_populations"), dict(phi=np.linspace(-3, 3, 40), psi=np.linspace(3, -3, 40),
                                                             weights=None, n_blocks=4)),
        "block_standard_error": (_api("block_standard_error"), dict(values=np.sin(np.arange(40.0)), n_blocks=4)),
        "map_to_beads": (_api("map_to_beads"), dict(positions=FRAMES, groups=[[0, 1], [2]], masses=None)),
        "dihedral_angle": (_api("dihedral_angle"), dict(a=np.array([1.0, 0, 0]), b=np.zeros(3),
                                                       c=np.array([0, 1.0, 0]), d=np.array([0, 1.0, 1.0]))),
        "bond_angle": (_api("bond_angle"), dict(a=np.array([1.0, 0, 0]), b=np.zeros(3), c=np.array([0, 1.0, 0]))),
        "place_atom": (_api("place_atom"), dict(a=np.array([1.0, 0, 0]), b=np.zeros(3), c=np.array([0, 1.0, 0]),
                                               bond=1.5, angle=1.9, dihedral=-1.0)),
        "wrap_angle": (_api("wrap_angle"), dict(angle=np.array([3.5, -4.0, 0.5]))),
        "trapezoid_weights": (_api("trapezoid_weights"), dict(x=np.array([0.0, 0.5, 1.5]))),
        # OpenMM: all-atom runs (each a new run in a new folder; Reference platform: same seed, same numbers)
        "alanine_dipeptide_system": (_system_arrays, dict(phi=-80.0, psi=150.0, hydrogen_mass=4.0,
                                                          constraints="HBonds")),
        "simulate_alanine_dipeptide": (_in_fresh_cache(_api("simulate_alanine_dipeptide"), tmp),
                                       _peptide_run(cache_dir=_fresh_cache(tmp))),
        "simulate_alanine_dipeptide_runs": (_api("simulate_alanine_dipeptide_runs"), dict(
            runs=[_peptide_run(cache_dir=None)], processes=1)),
        "simulate_water": (_in_fresh_cache(_api("simulate_water"), tmp), dict(
            n_molecules=32, temperature=298.0, cache_dir=_fresh_cache(tmp), density=0.997, model="spce", n_frames=2,
            frame_interval=0.05, equilibration=0.01, step_size=2.0, friction=1.0, cutoff=0.45, platform="Reference",
            seed=3)),
        # functions of the simulation modules that the book calls as module.function (not exported at the top)
        "remlib.water.water_parameters": (water.water_parameters, dict(
            n_molecules=216, temperature=298.0, density=0.997, model="spce", n_frames=100, frame_interval=0.5,
            equilibration=20.0, step_size=2.0, friction=1.0, cutoff=0.9, platform="CPU", seed=0)),
        "remlib.water.reduced_force_unit": (water.reduced_force_unit, dict(temperature=298.0, sigma=0.3166)),
        "remlib.water.reduced_pressure_unit": (water.reduced_pressure_unit, dict(temperature=298.0, sigma=0.3166)),
        "remlib.peptide.simulation_parameters": (peptide.simulation_parameters, _peptide_run(n_steps=1000,
                                                                                             report_interval=100)),
        "remlib.peptide.phi_bias_energy": (peptide.phi_bias_energy, dict(phi=np.array([0.0, 1.0, -2.0]),
                                                                         coefficients=np.array([2.0, 0.0, 0.0, 1.0]))),
        "remlib.peptide.alanine_dipeptide_zmatrix": (peptide.alanine_dipeptide_zmatrix, dict(phi=-80.0, psi=150.0)),
        "remlib.peptide.build_from_zmatrix": (peptide.build_from_zmatrix, dict(zmatrix=peptide.alanine_dipeptide_zmatrix())),
        "remlib.biomolecules.basin_labels": (biomolecules.basin_labels, dict(phi=np.radians([-80.0, 60.0, -150.0]),
                                                                             psi=np.radians([70.0, 40.0, 160.0]))),
        # methods of result classes (the classes themselves are returned by the calls above)
        "PairPotentialResult.plot": (lambda ax=None: fit.plot(ax), dict(ax=_axes())),
        "BondedResult.plot": (lambda axes=None: bonded_fit.plot(axes), dict(axes=_axes(2))),
        "BondedResult.bond_potential": (lambda r: bonded_fit.bond_potential(r), dict(r=np.array([0.95, 1.0, 1.05]))),
        "BondedResult.angle_potential": (lambda angle: bonded_fit.angle_potential(angle),
                                         dict(angle=np.array([2.0, 2.5, 3.0]))),
        "CGMapping.apply": (lambda positions, box: molecules.apply(positions, box), dict(
            positions=np.random.default_rng(14).uniform(0.0, 5.0, (6, 3)), box=np.full(3, 5.0))),
        "GaussianChain.ideal_cg_chain": (lambda mapping, block, beta: chain.ideal_cg_chain(mapping, block, beta=beta),
                                         dict(mapping="center_of_mass", block=2, beta=1.0)),
        # methods of the classes users build (each distinct method once)
        "Basis.derivative": (lambda x: BSplineBasis(0.0, 1.0, 5).derivative(x), dict(x=np.array([0.2, 0.5, 0.9]))),
        "Basis.gradient": (lambda x: BSplineBasis(0.0, 1.0, 5).gradient(x), dict(x=np.array([0.2, 0.5, 0.9]))),
        "DoubleWell.energy": (lambda x: dw.energy(x), dict(x=TARGET)),
        "DoubleWell.force": (lambda x: dw.force(x), dict(x=TARGET)),
        "DoubleWell.density": (lambda x, beta: dw.density(x, beta=beta), dict(x=TARGET, beta=2.0)),
        "DoubleWell.mean_force": (lambda x, beta: dw.mean_force(x, beta=beta), dict(x=TARGET, beta=2.0)),
        "DoubleWell.free_energy": (lambda beta: dw.free_energy(beta=beta), dict(beta=2.0)),
        "DoubleWell.log_partition": (lambda beta: dw.log_partition(beta=beta), dict(beta=2.0)),
        "DoubleWell.support": (lambda beta: dw.support(beta=beta), dict(beta=2.0)),
        "EntropicChannel.energy": (lambda r: channel.energy(r), dict(r=np.column_stack([TARGET, TARGET / 2]))),
        "EntropicChannel.force": (lambda r: channel.force(r), dict(r=np.column_stack([TARGET, TARGET / 2]))),
        "EntropicChannel.kappa": (lambda x: channel.kappa(x), dict(x=TARGET)),
        "EntropicChannel.pmf": (lambda x, beta: channel.pmf(x, beta=beta), dict(x=TARGET, beta=2.0)),
        "EntropicChannel.mean_force": (lambda x, beta: channel.mean_force(x, beta=beta), dict(x=TARGET, beta=2.0)),
        "GaussianChain.bond_vectors": (lambda positions: chain.bond_vectors(positions), dict(
            positions=np.arange(16.0).reshape(2, 4, 2)[..., :1])),
        "GaussianChain.energy": (lambda positions: chain.energy(positions), dict(
            positions=np.arange(16.0).reshape(2, 4, 2)[..., :1])),
        "GaussianChain.force": (lambda positions: chain.force(positions), dict(
            positions=np.arange(16.0).reshape(2, 4, 2)[..., :1])),
        "GaussianChain.mapping_matrix": (lambda mapping, block: chain.mapping_matrix(mapping, block),
                                         dict(mapping="center_of_mass", block=2)),
        "GaussianChain.cg_bond_covariance": (lambda mapping, block, beta: chain.cg_bond_covariance(
            mapping, block, beta=beta), dict(mapping="center_of_mass", block=2, beta=1.0)),
        "IsingChain.energy": (lambda spins: ising.energy(spins), dict(spins=np.array([[1, -1, 1, 1], [1, 1, 1, 1]]))),
        "GridEnsemble.design": (lambda basis: GRID.design(basis), dict(basis=DW)),
        "GridEnsemble.density": (lambda basis, theta: GRID.density(basis, theta),
                                 dict(basis=DW, theta=np.array([-2.0, 1.0]))),
        "GridEnsemble.probabilities": (lambda basis, theta: GRID.probabilities(basis, theta),
                                       dict(basis=DW, theta=np.array([-2.0, 1.0]))),
        "GridEnsemble.log_partition": (lambda basis, theta: GRID.log_partition(basis, theta),
                                       dict(basis=DW, theta=np.array([-2.0, 1.0]))),
        "GridEnsemble.averages_from_design": (lambda design, theta: GRID.averages_from_design(design, theta),
                                              dict(design=GRID.design(DW), theta=np.array([-2.0, 1.0]))),
        "GridEnsemble.log_partition_from_design": (lambda design, theta: GRID.log_partition_from_design(
            design, theta), dict(design=GRID.design(DW), theta=np.array([-2.0, 1.0]))),
        "MetropolisEnsemble.averages": (lambda basis, theta: MetropolisEnsemble(0.1, 0.5, 50, burn_in=10, seed=3).averages(
            basis, theta), dict(basis=DW, theta=np.array([-2.0, 1.0]))),
        "PairModel.table": (lambda theta: _pair_model().table(theta), dict(theta=np.array([3.0, 0.5, -1.0, -0.3, 0.0]))),
        "PairModel.continued_features": (lambda frames, box: _pair_model().continued_features(frames, box),
                                         dict(frames=FRAMES, box=BOX)),
        "BondedModel.split": (lambda theta: bonded.split(theta), dict(theta=np.linspace(-1.0, 1.0, bonded.n_functions))),
        "BondedModel.tables": (lambda theta: bonded.tables(theta), dict(theta=np.linspace(-1.0, 1.0, bonded.n_functions))),
        "BondedModel.continued_features": (lambda frames, box: bonded.continued_features(frames, box),
                                           dict(frames=CHAIN_FRAMES, box=BOX)),
        # interactive explorers: built with no arguments; what users choose are the control values, which the
        # explorer's model computes with (bad ones must be refused naming the control, by its key or its label)
        **{name: (_api(name), {}) for name in EXPLORERS},
        **{f"{name}.model.compute": (_explorer(name).model.compute, _explorer(name).values) for name in EXPLORERS},
    }
    return {name: entry for name, entry in table.items() if entry[0] is not None}


EXPLORERS = ("kl_explorer", "moment_matching_explorer", "resolution_explorer", "bias_variance_explorer",
             "motion_explorer")


@functools.cache
def _explorer(name):
    """One explorer of each kind, built once (a second or so each)."""
    return getattr(remlib, name)()


def _alias(name, argument):
    """What a message may name instead of ``argument``: a stand-in's real name, or an explorer control's label."""
    if name.endswith(".model.compute"):
        return re.escape(_explorer(name.split(".")[0]).controls[argument].description)
    return ALIASES.get((name, argument))


def _api(name):
    """remlib's public ``name`` (None if this remlib has no such name: the coverage test reports it)."""
    return getattr(remlib, name, None)


#: argument names whose valid values include zero / negative numbers (declared once per name)
ZERO_OK = {"equilibration", "equilibration_steps", "start", "box_tolerance", "burn_in", "exclude", "cross_order",
           "tol", "regularization", "mapping_entropy", "tilt", "h", "J", "seed", "axis", "log_partition",
           "free_energy_cg", "free_energy_aa", "shift_at", "r_min", "lower", "upper", "barrier", "margin"}
SIGNED = {"tilt", "h", "J", "axis", "log_partition", "free_energy_cg", "free_energy_aa", "lower", "upper",
          "mapping_entropy", "dihedral", "phi", "psi", "phi0", "psi0", "mu", "theta2", "theta4", "coupling", "field"}
ZERO_OK |= SIGNED
#: array arguments whose shape is fixed by the other arguments (a wrong length or rank is an error)
SHAPE_BOUND = {"box", "theta", "design", "p", "q", "cov0", "cov1", "mean1", "mapping", "weights", "forces", "u_aa", "u_q",
               "masses", "a", "b", "c", "d", "u_cg", "u_p", "energy", "psi"}
#: string arguments that are free names, not choices (a table's section name)
FREE_TEXT = {"keyword"}
#: string arguments that are file paths
PATHS = {"path", "topology", "cache_dir"}
#: arguments for which None is valid although the baseline passes a value
NONE_OK = {"seed"}
#: counts that only lengthen a run (sweeps, iterations) without memory: a huge value is a long run, not an error
DURATIONS = {"burn_in", "thin", "max_iter", "n_iterations", "exclude", "equilibration_steps"}  # (exclude: any separation is valid)
#: documented exceptions to the generated table: (name, argument) -> bad-value labels that are valid there
VALID_THERE = {
    ("Basis.energy", "x"): {"inf", "empty"},  # a basis is evaluated anywhere, also at no points
    ("Basis.force", "x"): {"inf", "empty"},
    ("EntropicChannel", "a"): {"zero", "negative"},  # kappa = kappa0 exp(a x^2): any real a
    ("PairModel.potential", "r"): {"empty"},  # vectorised: no distances, no energies
    ("lj_potential", "r"): {"empty"},
    ("wrap_angle", "angle"): {"empty"},
    ("wrap_positions", "positions"): {"extra axis"},  # any (..., 3) array
    ("pmf_on_grid", "axis"): {"list"},  # a sequence of axes to keep
    ("effective_sample_size", "n_batches"): {"huge"},  # documented: fewer than 2 samples per batch -> n
    ("BondedModel", "chain_length"): {"huge"},  # checked against the frames when the model is used
    ("GaussianChain.map", "positions"): {"extra axis"},
    ("metropolis_chains", "n_workers"): {"None", "huge"},  # None: one per core; at most one per chain
    ("read_cg_trajectory", "stop"): {"huge"},  # slice semantics: a stop beyond the last frame reads to the end
    ("read_cg_trajectory", "step"): {"huge"},  # one frame
    ("map_forces", "forces"): {"one fewer entry"},  # any number of frames (one fewer frame here)
    ("iter_cg_frames", "start"): {"huge"},  # an iterator over an empty selection of frames yields nothing
    ("iter_cg_frames", "stop"): {"zero", "huge"},
    ("iter_cg_frames", "step"): {"huge"},
    ("alanine_dipeptide_system", "constraints"): {"None"},  # None: no constraints
    ("simulate_alanine_dipeptide", "cache_dir"): {"None"},  # None: no cache
    ("simulate_alanine_dipeptide", "phi_bias"): {"empty"},  # no bias
    ("simulate_alanine_dipeptide_runs", "processes"): {"huge"},  # at most one process per run
    ("simulate_water", "platform"): {"None"},  # None: the fastest platform available
    ("remlib.water.water_parameters", "platform"): {"None"},
    ("remlib.peptide.simulation_parameters", "phi_bias"): {"empty"},  # no bias
    ("remlib.peptide.phi_bias_energy", "coefficients"): {"empty"},
    ("Basis.derivative", "x"): {"inf", "empty"},
    ("GaussianChain.bond_vectors", "positions"): {"extra axis"},  # any (..., n_beads, dim) array
    ("GaussianChain.energy", "positions"): {"extra axis"},
    ("GaussianChain.force", "positions"): {"extra axis"},
    ("IsingChain.energy", "spins"): {"extra axis"},  # any (..., n_spins) array
    ("Basis.gradient", "x"): {"inf", "empty"},
    ("BondedResult.bond_potential", "r"): {"empty"},  # vectorised: no lengths, no energies
    ("BondedResult.angle_potential", "angle"): {"empty"},
}
#: where the argument is a stand-in for the real signature's name (``SeparableBasis(*bases)``)
ALIASES = {("SeparableBasis", "first"): r"bases\[0\]", ("SeparableBasis", "second"): r"bases\[1\]"}
#: public names that are protocols, not classes to build or functions to call: each has a test of its own
#: (``test_ensembles_follow_the_ensemble_protocol``).  Every other public name is probed by a baseline call, or
#: is a result class returned by one (``test_every_public_name_is_probed_or_returned_by_a_probed_call``).
PROTOCOLS = {"Ensemble"}
#: public base classes users subclass, never built as they are: probed through the baselines of their methods
BASE_CLASSES = {"Basis"}
#: methods whose input or output is a ``remlib.engines.CGSystem``, which is not public: the fits pass it from a
#: model to an engine and users never build one (checked in ``test_every_public_method_with_arguments_is_probed``)
CG_SYSTEM_METHODS = {"MonteCarloEngine.sample", "OpenMMEngine.sample", "LammpsEngine.sample", "PairModel.system",
                     "BondedModel.system"}
#: all-atom simulations: their valid calls must reach a stop of :func:`simulations_stopped` (and their bad values,
#: like every other name's, must be refused without reaching one)
SIMULATIONS = {"simulate_water", "simulate_alanine_dipeptide", "simulate_alanine_dipeptide_runs"}
#: the arguments of the simulations varied in the equivalent-input test (every variant is a whole run)
SIMULATION_VARIANTS = {"simulate_water": {"n_molecules", "temperature"},
                       "simulate_alanine_dipeptide": {"temperature", "n_steps", "phi_bias", "seed"},
                       "simulate_alanine_dipeptide_runs": {"processes"}}


# ----------------------------------------------------------------------------- generated bad values
class _Unrelated:
    """An object of no remlib type."""


def _huge_int():
    return 10**12


def bad_values(name, value, none_ok=False):
    """(label, bad value) pairs for an argument ``name`` whose valid value is ``value``."""
    none_ok = none_ok or value is None or name in NONE_OK
    if value is None:  # an optional argument left out: its type is not known here
        return [("object", _Unrelated())]
    common = [("object", _Unrelated())] if none_ok else [("None", None), ("object", _Unrelated())]
    if isinstance(value, (bool, np.bool_)):
        return common + [("int 1", 1), ("string", "yes"), ("float", 1.0)]
    if isinstance(value, (int, np.integer)):
        cases = [("numeric string", str(value)), ("float", float(value) + 0.5), ("bool", True),
                 ("NaN", float("nan")), ("list", [value])]
        if name not in ZERO_OK:
            cases += [("zero", 0), ("negative", -1)]
        elif name not in SIGNED:
            cases += [("negative", -1)]
        if name != "seed" and name not in SIGNED and name not in DURATIONS:
            cases += [("huge", _huge_int())]
        return common + cases
    if isinstance(value, float):
        cases = [("numeric string", str(value)), ("bool", True), ("NaN", float("nan")), ("inf", float("inf")),
                 ("list of two", [value, value])]
        if name not in ZERO_OK:
            cases += [("zero", 0.0), ("negative", -1.0)]
        elif name not in SIGNED:
            cases += [("negative", -1.0)]
        return common + cases
    if isinstance(value, str) and name in PATHS:
        return [("None", None), ("file descriptor", 0), ("float", 1.5), ("empty", "")]
    if isinstance(value, str) and name in FREE_TEXT:
        return common + [("int", 3)]
    if isinstance(value, str):
        return common + [("int", 3), ("unknown choice", "no-such-option")]
    if isinstance(value, np.ndarray):
        cases = [("string", "abc"), ("NaN", np.where(np.ones(value.shape, bool), np.nan, value)),
                 ("inf", np.full(value.shape, np.inf)), ("empty", np.zeros((0,) + value.shape[1:])),
                 ("strings", value.astype(str)), ("truth values", np.ones(value.shape, bool))]
        if name in SHAPE_BOUND or name in {"positions", "frames", "start", "trajectory"}:
            cases += [("extra axis", value[None, None]), ("scalar", 1.5)]
        if name in SHAPE_BOUND and value.ndim >= 1:
            cases += [("one fewer entry", value[:-1])]
        return common + cases
    if isinstance(value, list):
        return common + [("string", "abc"), ("empty", [])]
    # objects: a basis, ensemble, table, model, fit or function
    cases = [("int", 3), ("string", "x**2"), ("array", np.zeros(3))]
    if isinstance(value, remlib.Table):  # the wrong kind of table (an angle table given as pair, ...)
        cases.append(("wrong kind of table", _angle_table() if value.variable != "theta" else _pair_table()))
    return common + cases


def _names_argument(message, name):
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


class _Timeout(Exception):
    pass


@contextmanager
def _guarded(seconds=20, address_space=8 * 1024**3):
    """Alarm after ``seconds`` (a float); address space limited so that a huge allocation fails instead of swapping.

    An alarm already pending (pytest-timeout's, for the whole test) is set again afterwards with the time it
    has left, so the test's own time limit keeps counting.
    """
    def alarm(*_):
        raise _Timeout(f"no answer within {seconds:.3g} s")

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = address_space if hard == resource.RLIM_INFINITY else min(address_space, hard)
    previous = signal.signal(signal.SIGALRM, alarm)
    outer_left, start = signal.setitimer(signal.ITIMER_REAL, seconds)[0], time.monotonic()
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:
            signal.setitimer(signal.ITIMER_REAL, max(outer_left - (time.monotonic() - start), 1e-3))
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


class SimulationStarted(BaseException):
    """Raised by a stop of :func:`simulations_stopped` (a BaseException: no ``except Exception`` swallows it)."""


@contextmanager
def simulations_stopped():
    """Within the block, every start of an all-atom simulation is recorded and stopped.

    Stopped: ``remlib.peptide._run`` and ``remlib.water._run``, where ``simulate_*`` hand their checked
    parameters to OpenMM, and ``openmm.Context``, which every OpenMM simulation builds before its first step
    (also through ``openmm.app.Simulation``).  Each raises :class:`SimulationStarted`; the block gets the list
    of the stops reached, by name, so a start is seen even if the exception were caught.
    """
    import openmm

    started = []

    def stop(name):
        def start(*args, **kwargs):
            started.append(name)
            raise SimulationStarted(f"{name} was called")
        return start

    with pytest.MonkeyPatch.context() as patch:
        for module, attribute in ((peptide, "_run"), (water, "_run"), (openmm, "Context")):
            patch.setattr(module, attribute, stop(f"{module.__name__}.{attribute}"))
        yield started


def defaults_to_none(function, argument):
    try:
        parameter = inspect.signature(function).parameters.get(argument)
    except (TypeError, ValueError):
        return False
    return parameter is not None and parameter.default is None


def probe(function, kwargs, argument, label, bad, alias=None, seconds=20):
    """None if the bad value is refused properly, else a description of what happened.

    Refused properly: a ``ValueError`` or ``TypeError`` naming the argument, raised before any simulation
    starts (the call runs within :func:`simulations_stopped`).  ``seconds`` only guards against a hang.
    """
    call = dict(kwargs, **{argument: bad})
    start = time.perf_counter()
    try:
        with simulations_stopped() as started, _guarded(seconds):
            result = function(**call)
    except SimulationStarted as exc:
        return f"not refused before simulating: {exc}"
    except (ValueError, TypeError) as exc:
        if started:
            return f"refused only after simulating started ({', '.join(started)} was called)"
        elapsed = time.perf_counter() - start
        if elapsed > seconds:
            return f"hang: refused only after {elapsed:.1f} s (the alarm at {seconds:.3g} s was not answered)"
        message = str(exc)
        if not (_names_argument(message, argument) or (alias and re.search(alias, message))):
            return f"{type(exc).__name__} does not name {argument!r}: {message[:160]}"
        if len(message) > 600:
            return f"message of {len(message)} characters"
        return None
    except _Timeout as exc:
        return f"hang: {exc}"
    except Exception as exc:  # noqa: BLE001 - every other exception is a finding
        return f"{type(exc).__name__}: {str(exc)[:160]}"
    return f"accepted silently (result {type(result).__name__})"


# ----------------------------------------------------------------------------- valid variants
def variants(value):
    """(label, value) pairs meaning the same numbers as ``value``."""
    if isinstance(value, (bool, np.bool_)):
        return [("numpy bool", np.bool_(value))]
    if isinstance(value, (int, np.integer)):
        return [("numpy int", np.int64(value)), ("0-d array", np.array(value))]
    if isinstance(value, float):
        out = [("numpy float", np.float64(value)), ("0-d array", np.array(value))]
        return out + [("float32", np.float32(value))] if float(np.float32(value)) == value else out
    if isinstance(value, np.ndarray) and value.dtype.kind in "fi" and value.size:
        out = [("list", value.tolist())]
        read_only = value.copy()
        read_only.flags.writeable = False
        out.append(("read-only", read_only))
        strided = np.repeat(value[..., None], 2, axis=-1)[..., 0]
        out.append(("non-contiguous", strided))
        if value.ndim >= 2:
            out.append(("Fortran order", np.asfortranarray(value)))
        if np.array_equal(value.astype(np.float32), value):
            out.append(("float32", value.astype(np.float32)))
        if np.array_equal(np.round(value), value):
            out.append(("int dtype", value.astype(np.int64)))
        return out
    return []


#: slow calls (a fit, a sampler): their scalar arguments are not varied, only their arrays
EXPENSIVE = {"fit_pair_potential_rem", "iterative_boltzmann_inversion", "fit_bonded_rem", "bead_spring_frames",
             "lj_dimer_frames", "lj_fluid_frames", "metropolis_particles", "metropolis_chains",
             "PairPotentialResult.sample", "minimize_relative_entropy"}


def variants_of(name, argument, value):
    if name in EXPENSIVE and not isinstance(value, np.ndarray):
        return []
    if name in SIMULATION_VARIANTS and argument not in SIMULATION_VARIANTS[name]:
        return []
    return variants(value)


#: result fields that record how a run went, not what it computed (the seconds it took)
RUN_RECORDS = {"wall_time"}


def same(a, b):
    if isinstance(a, (int, np.integer, str)) and not isinstance(a, bool):
        return type(a) is type(b) and a == b if isinstance(a, str) else a == b
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            return a.shape == b.shape and np.allclose(a, b, rtol=1e-12, atol=0.0, equal_nan=True)
        return a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, float) or isinstance(b, float):
        return np.isclose(a, b, rtol=1e-12, atol=0.0, equal_nan=True)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if dataclasses.is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
                   if f.name not in RUN_RECORDS)
    if hasattr(a, "__dict__") and type(a).__module__.startswith("remlib"):
        return same(vars(a), vars(b))
    return True  # functions, tables of callables: compared through their arrays elsewhere


# ----------------------------------------------------------------------------- the tests
@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return baselines(tmp_path_factory.mktemp("bad-input"))


class _Baselines:
    """Each baseline call run once (guarded against hangs), its result kept for every test."""

    def __init__(self, table):
        self.table, self.results = table, {}

    def result(self, name):
        if name not in self.results:
            function, kwargs = self.table[name]
            with _guarded(120):
                self.results[name] = function(**kwargs)  # the baseline itself is valid
        return self.results[name]


@pytest.fixture(scope="module")
def ran(table):
    return _Baselines(table)


def _remlib_types(value, depth=3):
    """The remlib classes of ``value`` and of what it holds (fields, items), ``depth`` levels down."""
    found = {type(value)} if type(value).__module__.startswith("remlib") else set()
    if depth == 0:
        return found
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = [getattr(value, f.name) for f in dataclasses.fields(value)]
    elif isinstance(value, dict):
        parts = list(value.values())
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = []
    for part in parts:
        found |= _remlib_types(part, depth - 1)
    return found


def _methods_with_arguments(cls):
    """Public methods of ``cls`` that take arguments besides ``self`` (and ``**kwargs`` passed on)."""
    names = []
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_"):
            continue
        parameters = [p for p in inspect.signature(member).parameters.values()
                      if p.name != "self" and p.kind is not p.VAR_KEYWORD]
        if parameters:
            names.append(name)
    return names


def _result_classes(table):
    """Public classes that users get from remlib's functions: no baseline constructs them."""
    return {name: getattr(remlib, name) for name in remlib.__all__
            if inspect.isclass(getattr(remlib, name)) and name not in table and name not in PROTOCOLS | BASE_CLASSES}


def test_every_public_name_is_probed_or_returned_by_a_probed_call(table, ran):
    """A public name is probed by its own baseline, or is a result class that a probed call returns."""
    probed = {name.split(".")[0] for name in table}
    results = _result_classes(table)
    returned = set().union(*(_remlib_types(ran.result(name)) for name in table))
    assert not [name for name, cls in results.items() if cls not in returned], (
        f"result classes no baseline returns: {sorted(n for n, c in results.items() if c not in returned)}")
    missing = set(remlib.__all__) - probed - set(results) - PROTOCOLS
    assert not missing, f"public names without a baseline call: {sorted(missing)}"
    for base in BASE_CLASSES:  # built only as subclasses: their methods are probed on some of them
        assert any(name.startswith(f"{base}.") for name in table), base
        assert any(issubclass(cls, getattr(remlib, base)) for cls in returned if cls.__name__ != base), base
    assert PROTOCOLS <= set(remlib.__all__)


def test_every_public_method_with_arguments_is_probed(table):
    """Every public method that takes arguments, of every public class, is probed (once per distinct method).

    A method inherited unchanged (``BSplineBasis.energy`` is ``Basis.energy``) is probed through any class
    that has it.  Left out: the engine methods that take or give a ``CGSystem``, which users cannot build.
    """
    from remlib.engines import CGSystem

    probed = {inspect.getattr_static(getattr(remlib, cls), method) for cls, method in
              (name.split(".") for name in table if name.count(".") == 1)}
    unprobed = [f"{name}.{method}" for name in remlib.__all__ if inspect.isclass(getattr(remlib, name))
                and name not in PROTOCOLS for method in _methods_with_arguments(getattr(remlib, name))
                if inspect.getattr_static(getattr(remlib, name), method) not in probed
                and f"{name}.{method}" not in CG_SYSTEM_METHODS]
    assert not unprobed, f"public methods without a baseline: {unprobed}"
    assert "CGSystem" not in remlib.__all__
    for name in CG_SYSTEM_METHODS:
        cls, method = name.split(".")
        parameters = list(inspect.signature(getattr(getattr(remlib, cls), method)).parameters)
        assert method == "system" or parameters[:2] == ["self", "system"], name
    assert isinstance(_pair_model().system(np.zeros(_pair_model().n_functions), BOX, 1.0), CGSystem)


def test_explorers_take_no_arguments(table, ran):
    """The explorers have no arguments to probe (their baselines build them); users move ipywidgets."""
    from remlib.widgets import Explorer

    for name in EXPLORERS:
        assert inspect.signature(getattr(remlib, name)).parameters == {}, name
        assert table[name][1] == {}
        assert isinstance(ran.result(name), Explorer), name


def test_ensembles_follow_the_ensemble_protocol():
    """Both ensembles and the particle ensemble over each of the three engines are ``remlib.Ensemble``s."""
    from remlib._particle_ensemble import FrameFeatures, ParticleEnsemble

    model = _pair_model()
    particles = [ParticleEnsemble(model, BOX, FRAMES[0], beta=1.0, n_frames=2, engine=engine, seed=0)
                 for engine in (remlib.MonteCarloEngine(burn_in=2, thin=1), remlib.OpenMMEngine(), remlib.LammpsEngine())]
    metropolis = MetropolisEnsemble(0.1, 0.5, 50, burn_in=10, seed=3)
    for ensemble in [GRID, metropolis, *particles]:
        assert isinstance(ensemble, remlib.Ensemble), type(ensemble).__name__
    for ensemble, basis, theta in [(GRID, DW, [-2.0, 1.0]), (metropolis, DW, [-2.0, 1.0]),
                                   (particles[0], FrameFeatures(model.n_functions), np.zeros(model.n_functions))]:
        averages = ensemble.averages(basis, np.asarray(theta))
        assert isinstance(averages, remlib.EnsembleAverages)
        assert averages.mean.shape == (len(theta),) and averages.cov.shape == (len(theta), len(theta))
    assert not isinstance(DW, remlib.Ensemble)  # the check can fail: a basis has no averages


with tempfile.TemporaryDirectory() as _scratch:
    NAMES = sorted(baselines(_scratch))


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", NAMES)
def test_bad_values_are_refused_naming_the_argument(table, name):
    function, kwargs = table[name]
    findings = []
    for argument, value in kwargs.items():
        for label, bad in bad_values(argument, value, defaults_to_none(function, argument)):
            if label in VALID_THERE.get((name, argument), ()):
                continue
            finding = probe(function, kwargs, argument, label, bad, _alias(name, argument))
            if finding:
                findings.append(f"{name}({argument}={label}): {finding}")
    assert not findings, "\n".join(findings)


@pytest.mark.timeout(600)
def test_every_run_is_checked_before_any_simulation(table, tmp_path):
    """A bad keyword in the second of two runs is refused before the first (valid) run is simulated."""
    function, kwargs = table["simulate_alanine_dipeptide_runs"]
    first = kwargs["runs"][0]
    second = dict(first, cache_dir=str(tmp_path / "never-written"))

    def two_runs(**run):
        return function(runs=[first, run], processes=kwargs["processes"])

    findings, n_cases = [], 0
    for key, value in second.items():
        for label, bad in bad_values(key, value, defaults_to_none(remlib.simulate_alanine_dipeptide, key)):
            if label in VALID_THERE.get(("simulate_alanine_dipeptide", key), ()):
                continue
            n_cases += 1
            finding = probe(two_runs, second, key, label, bad)
            if finding:
                findings.append(f"runs[1]({key}={label}): {finding}")
    assert not findings, "\n".join(findings)
    assert n_cases > 50 and not (tmp_path / "never-written").exists()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(SIMULATIONS))
def test_the_valid_simulations_reach_a_stop(table, name):
    """A valid call of each simulation reaches a stop of simulations_stopped: the stops are where simulating
    starts, so a bad value refused without reaching one was refused before simulating."""
    function, kwargs = table[name]
    with pytest.raises(SimulationStarted), simulations_stopped() as started, _guarded(120):
        function(**kwargs)
    assert started == [f"remlib.{'water' if name == 'simulate_water' else 'peptide'}._run"]


def test_the_stop_at_openmm_context_catches_any_openmm_simulation():
    """An OpenMM simulation built another way (openmm.app.Simulation, one particle) is stopped too."""
    import openmm
    from openmm import app

    system = openmm.System()
    system.addParticle(1.0)
    topology = app.Topology()
    topology.addAtom("X", None, topology.addResidue("X", topology.addChain()))
    with pytest.raises(SimulationStarted), simulations_stopped() as started:
        app.Simulation(topology, system, openmm.VerletIntegrator(0.001))
    assert started == ["openmm.Context"]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", NAMES)
def test_equivalent_inputs_give_the_baseline_result(table, ran, name):
    function, kwargs = table[name]
    expected = ran.result(name)
    findings = []
    for argument, value in kwargs.items():
        for label, variant in variants_of(name, argument, value):
            try:
                with _guarded(120):
                    result = function(**dict(kwargs, **{argument: variant}))
            except Exception as exc:  # noqa: BLE001
                findings.append(f"{name}({argument}={label}): {type(exc).__name__}: {str(exc)[:160]}")
                continue
            if not same(expected, result):
                findings.append(f"{name}({argument}={label}): a different result")
    assert not findings, "\n".join(findings)
