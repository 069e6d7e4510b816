"""remlib: relative entropy minimization for molecular coarse-graining.

The modules follow the book's table of contents, one idea each:

========================  ==========================================================
``remlib.pmf``            potentials of mean force, Boltzmann inversion, Jacobians
``remlib.divergence``     relative entropy (KL divergence) and log-likelihood
``remlib.basis``          CG energies linear in parameters, U(R; θ) = Σ θ_i φ_i(R)
``remlib.ensembles``      model averages <φ>_θ and Cov_θ(φ): quadrature, Monte Carlo
``remlib.rem``            relative entropy minimization (Newton–Raphson)
``remlib.information``    total information loss = CG part + reconstruction part
``remlib.geometry``       bond and dihedral angles, angle wrapping, chain geometry
``remlib.systems``        reference models with exact answers
``remlib.dynamics``       Brownian (overdamped Langevin) dynamics
``remlib.pathspace``      path-space relative entropy, drift fitting, force matching
``remlib.neighbors``      periodic boxes, cell lists, pair histograms, g(r)
``remlib.cells``          dynamic cell lists and Verlet lists for Monte Carlo moves
``remlib.montecarlo``     Metropolis Monte Carlo of particles, chains and their tables
``remlib.fluids``         Lennard-Jones fluid and its equation of state
``remlib.pairrem``        pair potentials by REM, IBI and force matching
``remlib.polymers``       bead-spring chains, bonded REM, dimer liquids
``remlib.tables``         export to LAMMPS (pair, bond, angle) and GROMACS (bond, angle) tables
``remlib.engines``        samplers of the CG model for REM: Monte Carlo, OpenMM, LAMMPS
``remlib.trajectories``   all-atom trajectories of other engines (MDAnalysis) mapped to CG sites
``remlib.peptide``        alanine dipeptide in OpenMM, built from internal coordinates
``remlib.water``          rigid all-atom water (SPC/E, TIP3P) in OpenMM, one site per molecule
``remlib.biomolecules``   torsion bases and Ramachandran basins
``remlib.widgets``        interactive explorers for the book
``remlib.style``          the book's figure style
========================  ==========================================================

Public names are importable from the package itself (``remlib.kl_divergence``);
each module is imported on first use, so ``import remlib`` stays cheap.  Functions
that return more than one array return a documented dataclass (``PMFResult``,
``ParameterEstimate``, ``MonteCarloResult``, ...), exported here as well.  Private
modules hold what several modules share: ``_stats`` (statistics helpers),
``_validation`` (input checks), ``_particle_ensemble`` (the particle REM ensemble),
``_openmm`` (OpenMM access) and ``_numba`` (compilation settings).
"""
import importlib

__version__ = "0.1.0"

#: public name -> the module that defines it
_PUBLIC = {
    "kl_divergence": "divergence",
    "kl_gaussian": "divergence",
    "kl_divergence_grid": "divergence",
    "relative_entropy_from_samples": "divergence",
    "log_likelihood": "divergence",
    "kl_from_energies": "divergence",
    "log_likelihood_from_energies": "divergence",
    "SampleEstimate": "divergence",
    "pmf_from_samples": "pmf",
    "pmf_on_grid": "pmf",
    "PMFResult": "pmf",
    "Basis": "basis",
    "PolynomialBasis": "basis",
    "GaussianBasis": "basis",
    "BSplineBasis": "basis",
    "FourierBasis": "basis",
    "SeparableBasis": "basis",
    "Ensemble": "ensembles",
    "GridEnsemble": "ensembles",
    "MetropolisEnsemble": "ensembles",
    "EnsembleAverages": "ensembles",
    "effective_sample_size": "_stats",
    "block_standard_error": "_stats",
    "trapezoid_weights": "_stats",
    "minimize_relative_entropy": "rem",
    "REMResult": "rem",
    "relative_entropy_objective": "rem",
    "information_decomposition": "information",
    "InformationDecomposition": "information",
    "DoubleWell": "systems",
    "EntropicChannel": "systems",
    "GaussianChain": "systems",
    "IsingChain": "systems",
    "IdealCGChain": "systems",
    "BlockSpinMapping": "systems",
    "brownian_dynamics": "dynamics",
    "path_relative_entropy": "pathspace",
    "fit_drift": "pathspace",
    "mean_force": "pathspace",
    "force_matching": "pathspace",
    "PathEntropyResult": "pathspace",
    "ParameterEstimate": "pathspace",
    "MeanForceResult": "pathspace",
    "radial_distribution": "neighbors",
    "lj_fluid_frames": "fluids",
    "lj_thermodynamics": "fluids",
    "jzg_equation_of_state": "fluids",
    "lj_potential": "fluids",
    "ThermoEstimate": "fluids",
    "JZGState": "fluids",
    "pair_histogram": "neighbors",
    "pair_list": "neighbors",
    "PairList": "neighbors",
    "wrap_positions": "neighbors",
    "minimum_image": "neighbors",
    "metropolis_particles": "montecarlo",
    "metropolis_chains": "montecarlo",
    "configuration_energy": "montecarlo",
    "tabulate_pair": "montecarlo",
    "tabulate_bond": "montecarlo",
    "tabulate_angle": "montecarlo",
    "lattice_positions": "montecarlo",
    "MonteCarloResult": "montecarlo",
    "Table": "montecarlo",
    "PairModel": "pairrem",
    "PairPotentialResult": "pairrem",
    "fit_pair_potential_rem": "pairrem",
    "iterative_boltzmann_inversion": "pairrem",
    "pair_force_matching": "pairrem",
    "pair_forces": "pairrem",
    "bead_spring_frames": "polymers",
    "BondedModel": "polymers",
    "BondedResult": "polymers",
    "DimerLiquid": "polymers",
    "fit_bonded_rem": "polymers",
    "bonded_boltzmann_inversion": "polymers",
    "lj_dimer_frames": "polymers",
    "center_of_mass": "polymers",
    "write_lammps_table": "tables",
    "read_lammps_table": "tables",
    "LammpsTable": "tables",
    "LammpsAngleTable": "tables",
    "GromacsTable": "tables",
    "write_gromacs_bond_table": "tables",
    "write_gromacs_angle_table": "tables",
    "read_gromacs_bonded_table": "tables",
    "write_lammps_bond_table": "tables",
    "write_lammps_angle_table": "tables",
    "read_lammps_angle_table": "tables",
    "MonteCarloEngine": "engines",
    "OpenMMEngine": "engines",
    "LammpsEngine": "engines",
    "CGMapping": "trajectories",
    "CGTrajectory": "trajectories",
    "load_universe": "trajectories",
    "mapping_from_selections": "trajectories",
    "mapping_per_molecule": "trajectories",
    "iter_cg_frames": "trajectories",
    "read_cg_trajectory": "trajectories",
    "TorsionBasis": "biomolecules",
    "torus_grid": "biomolecules",
    "TorusGrid": "biomolecules",
    "basin_populations": "biomolecules",
    "BasinPopulations": "biomolecules",
    "map_to_beads": "biomolecules",
    "bond_angle": "geometry",
    "dihedral_angle": "geometry",
    "place_atom": "geometry",
    "wrap_angle": "geometry",
    "chain_bond_lengths": "geometry",
    "chain_bond_angles": "geometry",
    "alanine_dipeptide_system": "peptide",
    "simulate_alanine_dipeptide": "peptide",
    "simulate_alanine_dipeptide_runs": "peptide",
    "PeptideTrajectory": "peptide",
    "simulate_water": "water",
    "WaterRun": "water",
    "map_forces": "water",
    "tetrahedral_order": "water",
    "pair_virial_pressure": "water",
    "kl_explorer": "widgets",
    "moment_matching_explorer": "widgets",
    "resolution_explorer": "widgets",
    "bias_variance_explorer": "widgets",
    "motion_explorer": "widgets",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        module = importlib.import_module(f"{__name__}.{_PUBLIC[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'remlib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
