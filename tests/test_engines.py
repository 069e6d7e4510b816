"""Real engines run remlib's CG models: LAMMPS runs the exported tables and reproduces the
structure remlib's own Monte Carlo gives for the same model (pair, bond and angle tables),
GROMACS likewise for the bond and angle tables (it runs no tabulated pair potentials);
the REM loop draws its model frames from Monte Carlo, OpenMM or LAMMPS and the three fits
agree within their own error bars."""
import os
import subprocess
import warnings

import numpy as np
import pytest

from engine_helpers import require, require_gmx, require_lmp, require_module
from remlib._stats import block_standard_error
from remlib.engines import lammps_commands, write_lammps_data, write_system_tables
from remlib.fluids import lj_fluid_frames
from remlib.geometry import chain_bond_angles, chain_bond_lengths
from remlib.montecarlo import metropolis_particles, tabulate_pair
from remlib.neighbors import count_pairs, pair_histogram
from remlib.pairrem import fit_pair_potential_rem
from remlib.polymers import bead_spring_frames, fit_bonded_rem
from remlib.tables import (
    write_gromacs_angle_table,
    write_gromacs_bond_table,
    write_lammps_angle_table,
    write_lammps_bond_table,
    write_lammps_table,
)
from remlib.trajectories import load_universe, mapping_per_molecule, read_cg_trajectory

N, DENSITY, BETA, R_CUT = 200, 0.5, 0.5, 2.5
BOX = np.full(3, (N / DENSITY) ** (1 / 3))
#: Boltzmann's constant in GROMACS units, kJ mol⁻¹ K⁻¹ (CODATA 2018, as GROMACS 2022 uses).
K_BOLTZMANN = 0.0083144626181532


def _run_lmp(directory, commands, n_steps, every, box):
    """Run the `lmp` program on ``commands`` plus a sorted dump every ``every`` steps; the frames."""
    commands = commands + [f"run {n_steps // 4}", f"dump d all custom {every} traj.dump id x y z",
                           "dump_modify d sort id", f"run {n_steps}"]
    (directory / "in.cg").write_text("\n".join(commands) + "\n")
    done = subprocess.run(["lmp", "-in", "in.cg", "-log", "none", "-screen", "none"], cwd=directory,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    text = (directory / "traj.dump").read_text().split("ITEM: TIMESTEP")[1:]
    frames = []
    for block in text:
        lines = block.strip().splitlines()
        n = int(lines[2])
        atoms = np.array([line.split() for line in lines[8: 8 + n]], dtype=float)
        frames.append(atoms[np.argsort(atoms[:, 0]), 1:])
    return np.mod(np.array(frames[1:]), box)  # the frame at the start of the dump is dropped


def _run_gmx(directory, fit, start, box, temperature, n_steps, every, seed):
    """Run `gmx grompp` + `gmx mdrun` on the chains of a bonded fit with its GROMACS tables; the frames.

    Units: the model's length is 1 nm, its k_BT = 1 kJ/mol (beta = 1), masses 1 u; ``temperature``
    in units of the model's. The fixed pair term of the ``chain_model`` fixture, WCA, is GROMACS's
    own Lennard-Jones (sigma = 1 nm, epsilon = 1 kJ/mol) cut at 2^(1/6) nm and shifted to zero
    there; bonds of type 8 exclude the pairs up to ``exclude`` bonds apart (nrexcl). Frames are
    read back through remlib.trajectories (MDAnalysis), one site per bead, after a 10000-step burn-in.
    """
    directory.mkdir()
    length, exclude = fit.model.chain_length, fit.model.exclude
    write_gromacs_bond_table(directory / "table_b0.xvg", fit)
    write_gromacs_angle_table(directory / "table_a0.xvg", fit)
    whole = start.copy()  # chains made whole: each bead at the minimum image of the one before it
    for k in np.flatnonzero(np.arange(len(start)) % length):
        step = whole[k] - whole[k - 1]
        whole[k] = whole[k - 1] + step - box * np.round(step / box)
    atoms = [f"{k + 1:5d}{'BEAD':<5}{'B':>5}{k + 1:5d}{x:8.3f}{y:8.3f}{z:8.3f}" for k, (x, y, z) in enumerate(whole)]
    box_line = "%10.5f%10.5f%10.5f" % tuple(box)
    (directory / "conf.gro").write_text("\n".join(["chains", str(len(whole)), *atoms, box_line]) + "\n")
    beads = range(1, length + 1)
    topology = ["[ defaults ]", "1 2 no 1.0 1.0", "[ atomtypes ]", "B 1.0 0.0 A 1.0 1.0",
                "[ moleculetype ]", f"CHAIN {exclude}", "[ atoms ]", *(f"{j} B {j} BEAD B {j} 0.0 1.0" for j in beads),
                "[ bonds ]", *(f"{j} {j + 1} 8 0 1.0" for j in beads[:-1]),
                "[ angles ]", *(f"{j} {j + 1} {j + 2} 8 0 1.0" for j in beads[:-2]),
                "[ system ]", "chains", "[ molecules ]", f"CHAIN {len(whole) // length}"]
    (directory / "topol.top").write_text("\n".join(topology) + "\n")
    kelvin, r_cut = temperature / K_BOLTZMANN, 2 ** (1 / 6)
    mdp = ["integrator = sd", f"nsteps = {n_steps}", "dt = 0.002", "tc-grps = System", "tau-t = 1.0",
           f"ref-t = {kelvin:.6f}", "gen-vel = yes", f"gen-temp = {kelvin:.6f}", f"gen-seed = {seed}",
           f"ld-seed = {seed}", "cutoff-scheme = Verlet", "vdwtype = cut-off", "vdw-modifier = potential-shift",
           f"rvdw = {r_cut:.8f}", "coulombtype = cut-off", f"rcoulomb = {r_cut:.8f}",
           # a fixed pair-list buffer: GROMACS's estimate gives none for WCA, and pairs then go missing
           "verlet-buffer-tolerance = -1", "nstlist = 10", "rlist = 1.5",
           f"nstxout = {every}", "nstenergy = 0", "nstlog = 0"]
    (directory / "grompp.mdp").write_text("\n".join(mdp) + "\n")
    for command in (["gmx", "grompp", "-f", "grompp.mdp", "-c", "conf.gro", "-p", "topol.top", "-o", "run.tpr"],
                    ["gmx", "mdrun", "-s", "run.tpr", "-nt", "1", "-tableb", "table_b0.xvg", "table_a0.xvg"]):
        done = subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, " ".join(command) + ":\n" + done.stdout[-2000:] + done.stderr[-2000:]
    universe = load_universe(directory / "conf.gro", directory / "traj.trr")
    frames = read_cg_trajectory(universe, mapping_per_molecule(universe, center="geometry"), length=10.0).frames
    return frames[10000 // every:]  # MDAnalysis reads Å: length=10 gives nm, the model's unit


def _rdf_frames(frames, box, bins=25):
    """g(r) of every frame (n_frames, bins) on [0, R_CUT)."""
    edges, counts = pair_histogram(frames, box, r_max=R_CUT, bins=bins, per_frame=True)
    shell = 4 * np.pi / 3 * np.diff(edges**3)
    return counts / (count_pairs(frames.shape[1]) * shell / np.prod(box)), 0.5 * (edges[1:] + edges[:-1])


def _z_scores(a, b, n_blocks=10):
    """z of the difference of two per-frame observables' means, with block errors of both runs."""
    error = np.hypot(block_standard_error(a, n_blocks), block_standard_error(b, n_blocks))
    keep = error > 0
    return (a.mean(axis=0)[keep] - b.mean(axis=0)[keep]) / error[keep]


def _t_draws(n_bins, n_blocks):
    """100,000 seeded draws of ``n_bins`` z-scores whose errors come from ``n_blocks`` blocks: with
    block errors each z is Student-t distributed with n_blocks - 1 degrees of freedom."""
    return np.random.default_rng(0).standard_t(n_blocks - 1, size=(100_000, n_bins))


def _chi2_limit(n_bins, n_blocks=10, p=0.999):
    """The p-quantile of mean(z**2) over ``n_bins`` z-scores whose errors come from ``n_blocks`` blocks
    (a heavier tail than chi2/dof: above 2.0 in 12 % of runs for 12 bins and 10 blocks)."""
    return float(np.quantile((_t_draws(n_bins, n_blocks) ** 2).mean(axis=1), p))


def _max_z_limit(n_bins, n_blocks=10, p=0.999):
    """The p-quantile of max |z| over ``n_bins`` such z-scores (6.9 for 12 bins and 10 blocks; a
    fixed 4.5 is exceeded by a correct engine in about 2 % of runs)."""
    return float(np.quantile(np.abs(_t_draws(n_bins, n_blocks)).max(axis=1), p))


def _agree(a, b):
    """Within statistical error: (mean z**2, largest |z|, the 99.9 % limits of both for these bins)."""
    z = _z_scores(a, b)
    return float(np.mean(z**2)), float(np.abs(z).max()), _chi2_limit(z.size), _max_z_limit(z.size)


def _assert_bonded_like_monte_carlo(fit, box, md, mc, hot):
    """Bond-length and angle histograms (12 bins over each fitted range) of the engine's frames
    ``md`` agree with the Monte Carlo frames ``mc`` of the same model; those of ``hot`` (the same
    tables 30 % hotter) do not."""
    length = fit.model.chain_length
    for measure, spline in ((chain_bond_lengths, fit.model.bond_basis), (chain_bond_angles, fit.model.angle_basis)):
        bins = np.linspace(spline.lower, spline.upper, 13)
        h_md, h_mc, h_hot = (np.array([np.histogram(x, bins)[0] for x in measure(frames, box, length)], dtype=float)
                             for frames in (md, mc, hot))
        chi2, z_max, limit, z_limit = _agree(h_md, h_mc)
        assert chi2 < limit and z_max < z_limit, (measure.__name__, chi2, z_max, limit)
        chi2_hot, _, limit, _ = _agree(h_hot, h_mc)
        assert chi2_hot > limit, (measure.__name__, chi2_hot, limit)


@pytest.fixture(scope="module")
def lj_fit():
    """A quick pair REM fit of an LJ fluid target (T = 2, rho = 0.5, N = 200) and its target."""
    target = lj_fluid_frames(N, DENSITY, 1 / BETA, n_frames=40, burn_in=200, thin=4, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a few Newton steps only
        fit = fit_pair_potential_rem(target.frames, BOX, r_cut=R_CUT, n_functions=8, beta=BETA, n_model_frames=60,
                                     burn_in=30, max_iter=6, seed=1)
    return fit, target.frames


def test_pair_table_run_by_lammps_reproduces_the_monte_carlo_g(lj_fit, tmp_path):
    require_lmp()
    fit, target = lj_fit
    mc = metropolis_particles(target[-1], BOX, fit.model.table(fit.theta), n_frames=200, beta=BETA, burn_in=100,
                              thin=3, seed=3).frames
    write_lammps_table(tmp_path / "cg.table", fit, n_points=2000, beta=BETA)
    write_lammps_data(tmp_path / "cg.data", target[-1], BOX)
    setup = lammps_commands("cg.data", "cg.table", r_cut=R_CUT, n_points=2000, temperature=1 / BETA, seed=5)
    md = _run_lmp(tmp_path, setup, 20000, 100, BOX)
    g_md, r = _rdf_frames(md, BOX)
    g_mc, _ = _rdf_frames(mc, BOX)
    chi2, z_max, limit, z_limit = _agree(g_md, g_mc)
    assert chi2 < limit and z_max < z_limit, (chi2, z_max, limit)
    # resolution: the same table at a 30 % higher temperature is told apart
    hot = lammps_commands("cg.data", "cg.table", r_cut=R_CUT, n_points=2000, temperature=1.3 / BETA, seed=6)
    (tmp_path / "traj.dump").unlink()
    g_hot, _ = _rdf_frames(_run_lmp(tmp_path, hot, 20000, 100, BOX), BOX)
    chi2_hot, _, limit, _ = _agree(g_hot, g_mc)
    assert chi2_hot > limit, (chi2_hot, limit)


def test_bond_and_angle_tables_run_by_lammps_reproduce_the_monte_carlo_distributions(chain_model, tmp_path):
    require_lmp()
    fit, start, box, length = chain_model
    mc = metropolis_particles(start, box, n_frames=300, burn_in=200, thin=5, step_size=0.05, seed=5,
                              **fit.model.tables(fit.theta)).frames
    system = fit.model.system(fit.theta, box, 1.0)
    pair_file = write_system_tables(str(tmp_path), system)[0]  # the fixed pair potential, continued below r_min
    write_lammps_bond_table(tmp_path / "bond.table", fit, n_points=2000)
    write_lammps_angle_table(tmp_path / "angle.table", fit, n_points=1801)
    write_lammps_data(tmp_path / "cg.data", start, box, chain_length=length)
    def setup(temperature):
        return lammps_commands("cg.data", os.path.basename(pair_file), r_cut=2 ** (1 / 6), n_points=2000,
                               bond_file="bond.table", angle_file="angle.table", exclude=2, temperature=temperature,
                               timestep=0.002, seed=7)

    md = _run_lmp(tmp_path, setup(1.0), 40000, 200, box)
    (tmp_path / "traj.dump").unlink()
    hot = _run_lmp(tmp_path, setup(1.3), 40000, 200, box)  # resolution: the same tables 30 % hotter
    _assert_bonded_like_monte_carlo(fit, box, md, mc, hot)


def test_bond_and_angle_tables_run_by_gromacs_reproduce_the_monte_carlo_distributions(chain_model, tmp_path):
    """The GROMACS tables (bond type 8, angle type 8) of a bonded REM fit, run by `gmx mdrun` (sd
    integrator at the model temperature), give the bond-length and angle distributions of remlib's
    Monte Carlo of the same model; the same tables 30 % hotter are told apart."""
    require_gmx()
    fit, start, box, _ = chain_model
    mc = metropolis_particles(start, box, n_frames=300, burn_in=200, thin=5, step_size=0.05, seed=5,
                              **fit.model.tables(fit.theta)).frames
    md = _run_gmx(tmp_path / "model", fit, start, box, 1.0, 60000, 200, seed=7)
    hot = _run_gmx(tmp_path / "hot", fit, start, box, 1.3, 60000, 200, seed=8)
    assert md.shape == hot.shape == (251, len(start), 3)
    _assert_bonded_like_monte_carlo(fit, box, md, mc, hot)


def test_three_engines_give_the_same_fit():
    """Pair REM of a small LJ fluid with Monte Carlo, OpenMM and LAMMPS frames: the fits differ by no
    more than their sampling noise, in the metric of the Hessian (chi-square with m degrees of freedom
    over the effective model samples of both fits, plus the stopping rule's own allowance)."""
    from scipy.stats import chi2 as chi2_distribution

    from remlib._particle_ensemble import FrameFeatures, ParticleEnsemble
    from remlib.engines import LammpsEngine, MonteCarloEngine, OpenMMEngine

    require_module("openmm", 'pip install "remlib[md]"')
    require_module("lammps", "pip install lammps mpich")
    n, m = 108, 8
    box = np.full(3, (n / DENSITY) ** (1 / 3))
    target = lj_fluid_frames(n, DENSITY, 1 / BETA, n_frames=60, burn_in=200, thin=4, seed=10).frames
    engines = {"montecarlo": MonteCarloEngine(burn_in=50, thin=2),
               "openmm": OpenMMEngine(burn_in=500, thin=25),
               "lammps": LammpsEngine(burn_in=500, thin=25)}
    fits, n_eff = {}, {}
    for seed, (name, engine) in enumerate(engines.items(), start=20):
        fit = fit_pair_potential_rem(target, box, r_cut=R_CUT, n_functions=m, beta=BETA, n_model_frames=200,
                                     max_iter=12, engine=engine, seed=seed)
        assert fit.converged, name
        fits[name] = fit
        # effective size of a fresh model sample at the fitted theta, as the fit's own samples
        check = ParticleEnsemble(fit.model, box, target[-1], beta=BETA, n_frames=200, engine=engine, seed=seed + 10)
        n_eff[name] = check.averages(FrameFeatures(m), fit.theta).n_effective
    quantile = chi2_distribution.ppf(0.999, m) + chi2_distribution.ppf(0.99, m)
    reference = fits["montecarlo"]
    for name in ("openmm", "lammps"):
        delta = fits[name].theta - reference.theta
        hessian = 0.5 * (fits[name].rem.hessian + reference.rem.hessian)
        bound = quantile * (1 / n_eff[name] + 1 / n_eff["montecarlo"])
        assert delta @ hessian @ delta < bound, (name, delta @ hessian @ delta, bound)
        # resolution: a potential 30 % off lies outside the same bound
        wrong = 0.3 * reference.theta
        assert wrong @ hessian @ wrong > bound, (name, wrong @ hessian @ wrong, bound)


@pytest.fixture(scope="module")
def chain_model():
    """A bonded REM fit of a short bead-spring melt (few Newton steps) and its last target frame."""
    chains, length, box = 12, 8, np.full(3, 9.0)
    target = bead_spring_frames(chains, length, 40, box=box, bond_k=100.0, burn_in=300, seed=2)
    pair = tabulate_pair(lambda r: 4 * (r**-12 - r**-6) + 1.0, r_min=0.7, r_cut=2 ** (1 / 6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = fit_bonded_rem(target.frames, box, length, pair=pair, n_bond=7, n_angle=7, n_model_frames=40,
                             burn_in=50, max_iter=3, seed=4)
    return fit, target.frames[-1], box, length


@pytest.mark.parametrize("engine_name", ["openmm", "lammps"])
def test_md_engines_sample_the_bonded_model_like_monte_carlo(chain_model, engine_name):
    """Bond lengths, angles and non-bonded pair distances of the chains from the engine's frames
    agree with remlib's Monte Carlo of the same model (tabulated bonds, angles, excluded pairs)."""
    from remlib.engines import LammpsEngine, OpenMMEngine

    require_module(*{"openmm": ("openmm", 'pip install "remlib[md]"'),
                      "lammps": ("lammps", "pip install lammps mpich")}[engine_name])
    fit, start, box, length = chain_model
    engine = {"openmm": OpenMMEngine, "lammps": LammpsEngine}[engine_name](timestep=0.002, burn_in=2000, thin=100)
    system = fit.model.system(fit.theta, box, 1.0)
    md, states = engine.sample(system, start[None], 150, np.random.default_rng(8))
    assert md.shape == (150, len(start), 3) and states.shape == (1, len(start), 3)
    assert np.all((md >= 0) & (md < box))
    mc = metropolis_particles(start, box, n_frames=300, burn_in=200, thin=5, step_size=0.05, seed=9,
                              **fit.model.tables(fit.theta)).frames
    for measure, spline in ((chain_bond_lengths, fit.model.bond_basis), (chain_bond_angles, fit.model.angle_basis)):
        bins = np.linspace(spline.lower, spline.upper, 13)
        h_md, h_mc = (np.array([np.histogram(x, bins)[0] for x in measure(frames, box, length)], dtype=float)
                      for frames in (md, mc))
        chi2, z_max, limit, z_limit = _agree(h_md, h_mc)
        assert chi2 < limit and z_max < z_limit, (engine_name, measure.__name__, chi2, z_max, limit)


def _ibi_agreement(g_model, g_target, n_ibi_frames, n_blocks=10):
    """mean z**2 of g(r) of the final IBI model against the target, and its 99.9 % limit.

    Besides the block errors of the two runs, each bin's error holds the noise that IBI's last
    update carries over from its last model run (``n_ibi_frames`` frames of the same engine):
    the check run's block error scaled from its length to that run's."""
    check = block_standard_error(g_model, n_blocks)
    error = np.sqrt(block_standard_error(g_target, n_blocks) ** 2 + check**2 * (1 + len(g_model) / n_ibi_frames))
    keep = error > 0
    z = (g_model.mean(axis=0)[keep] - g_target.mean(axis=0)[keep]) / error[keep]
    return float(np.mean(z**2)), _chi2_limit(z.size, n_blocks)


@pytest.mark.parametrize("engine_name", ["lammps", "openmm"])
def test_ibi_with_an_md_engine_corrects_a_wrong_start_to_the_target_g(engine_name):
    """IBI on frames of LAMMPS or OpenMM, started from a deliberately wrong potential (the LJ
    potential with twice its depth), ends at a model whose g(r), run by the same engine, matches the
    g(r) of the target (remlib's Monte Carlo of the LJ fluid, T = 2, rho = 0.5) within statistical
    error; the g(r) of the wrong start lies far outside the same bound."""
    from remlib.basis import BSplineBasis
    from remlib.engines import LammpsEngine, OpenMMEngine
    from remlib.fluids import lj_potential
    from remlib.pairrem import PairModel, iterative_boltzmann_inversion

    require_module(*{"openmm": ("openmm", 'pip install "remlib[md]"'),
                     "lammps": ("lammps", "pip install lammps mpich")}[engine_name])
    n, m, r_min, n_ibi_frames = 108, 8, 0.8, 150
    box = np.full(3, (n / DENSITY) ** (1 / 3))
    target = lj_fluid_frames(n, DENSITY, 1 / BETA, n_frames=100, burn_in=200, thin=4, seed=40).frames
    model = PairModel(BSplineBasis(r_min, R_CUT, m, vanish_at_upper=True))
    r = np.linspace(r_min, R_CUT, 400)
    wrong = np.linalg.lstsq(model.basis(r), 2 * lj_potential(r, shift_at=R_CUT), rcond=None)[0]
    engine = {"openmm": OpenMMEngine, "lammps": LammpsEngine}[engine_name](burn_in=500, thin=25)
    with pytest.raises(ValueError, match="theta0 must have 8 entries"):
        iterative_boltzmann_inversion(target, box, r_cut=R_CUT, n_functions=m, r_min=r_min, theta0=wrong[:-1],
                                      engine=engine)
    ibi = iterative_boltzmann_inversion(target, box, r_cut=R_CUT, n_functions=m, r_min=r_min, beta=BETA,
                                        theta0=wrong, n_iterations=8, n_model_frames=n_ibi_frames, engine=engine,
                                        seed=41)
    assert ibi.n_iter == 8 and ibi.history["g_rms"][-1] < ibi.history["g_rms"][0]
    rng = np.random.default_rng(42)
    g_target = _rdf_frames(target, box)[0]
    g_final = _rdf_frames(engine.sample(ibi.model.system(ibi.theta, box, BETA), target[-1:], 200, rng)[0], box)[0]
    chi2, limit = _ibi_agreement(g_final, g_target, n_ibi_frames)
    assert chi2 < limit, (engine_name, chi2, limit)
    g_wrong = _rdf_frames(engine.sample(model.system(wrong, box, BETA), target[-1:], 100, rng)[0], box)[0]
    chi2_wrong, limit = _ibi_agreement(g_wrong, g_target, n_ibi_frames)
    assert chi2_wrong > limit, (engine_name, chi2_wrong, limit)


def _mpiexec_two_ranks(arguments, timeout, options=()):
    """`mpiexec options -n 2 python tests/lammps_mpi_run.py arguments` (the mpiexec of the mpich wheel
    beside this Python), as a user runs a fit script on a cluster, with the user's environment (no
    thread settings); (return code, output of both ranks)."""
    import sys

    require_module("lammps", "pip install lammps mpich")
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    require(os.path.exists(mpiexec), f"no mpiexec beside {sys.executable} (pip install mpich)")
    script = os.path.join(os.path.dirname(__file__), "lammps_mpi_run.py")
    process = subprocess.Popen([mpiexec, *options, "-n", "2", sys.executable, script, *arguments],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        process.terminate()  # mpiexec ends its ranks on SIGTERM (not on SIGKILL)
        output = process.communicate(timeout=60)[0]
        pytest.fail(f"mpiexec -n 2 ran over {timeout} s (ranks out of step?):\n{output[-3000:]}")
    return process.returncode, output


@pytest.fixture(scope="module")
def mpi_runs(tmp_path_factory):
    """What each of the two ranks of tests/lammps_mpi_run.py saved."""
    out = tmp_path_factory.mktemp("mpi") / "rank"
    returncode, output = _mpiexec_two_ranks([str(out)], timeout=600)
    assert returncode == 0, output[-3000:]
    return [dict(np.load(f"{out}-{rank}.npz")) for rank in (0, 1)]


def test_a_table_lammps_rejects_under_mpi_ends_every_rank_with_the_reason(tmp_path):
    """LAMMPS reads the tables on rank 0 only: its error there must end the job, not leave rank 1
    waiting forever for a broadcast, also under a launcher that leaves the other ranks running
    when one exits with an error (as srun does by default): `mpiexec -disable-auto-cleanup`."""
    returncode, output = _mpiexec_two_ranks([str(tmp_path / "rank"), "broken"], timeout=120,
                                            options=["-disable-auto-cleanup"])
    assert returncode != 0
    assert "RuntimeError: LAMMPS rejected 'pair_coeff * * " in output and "Data missing" in output, output[-3000:]
    assert "MPI_Abort" in output, output[-3000:]


def test_lammps_engine_under_mpi_decomposes_the_box_and_gives_every_rank_the_same_frames(mpi_runs):
    import lammps_mpi_run as run

    first, second = mpi_runs
    assert (int(first["rank"]), int(second["rank"])) == (0, 1)
    assert int(first["n_ranks"]) == int(second["n_ranks"]) == 2
    # LAMMPS split the atoms between the two domains; every rank got all of them, identically
    owned = int(first["owned"]), int(second["owned"])
    assert min(owned) > 0 and sum(owned) == run.N, owned
    for key in ("frames", "hot"):
        assert first[key].shape == (run.N_FRAMES, run.N, 3)
        assert np.all((first[key] >= 0) & (first[key] < run.BOX))
        np.testing.assert_array_equal(first[key], second[key])


def test_lammps_engine_under_mpi_samples_the_model_of_a_serial_run_and_of_monte_carlo(mpi_runs):
    """g(r) of the two-rank frames against remlib's Monte Carlo of the same force-shifted LJ
    (hard core below 0.6, never reached at T = 2) and against a serial LammpsEngine run, within
    block errors; the same model 30 % hotter under MPI is told apart from the Monte Carlo."""
    import lammps_mpi_run as run
    from remlib.engines import LammpsEngine

    system = run.lj_system(1 / run.BETA)
    mc = metropolis_particles(run.start(), run.BOX, system.mc_tables["pair"], n_frames=200, beta=run.BETA,
                              burn_in=100, thin=3, seed=5).frames
    serial = run.sample(LammpsEngine(burn_in=1000, thin=100), 1 / run.BETA, 6)
    g_mpi, g_hot, g_mc, g_serial = (_rdf_frames(frames, run.BOX)[0]
                                    for frames in (mpi_runs[0]["frames"], mpi_runs[0]["hot"], mc, serial))
    for reference, g in (("Monte Carlo", g_mc), ("serial LAMMPS", g_serial)):
        chi2, z_max, limit, z_limit = _agree(g_mpi, g)
        assert chi2 < limit and z_max < z_limit, (reference, chi2, z_max, limit)
    chi2_hot, _, limit, _ = _agree(g_hot, g_mc)
    assert chi2_hot > limit, (chi2_hot, limit)


def test_lammps_engine_under_mpi_leaves_one_numba_thread_per_rank(mpi_runs):
    """Every rank repeats remlib's parallel kernels: under MPI each runs them on one thread (the
    ranks share the cores), started with numba's default of one thread per core; a serial
    LammpsEngine leaves numba's thread count alone."""
    import numba

    from remlib.engines import LammpsEngine

    for run in mpi_runs:
        before, after = run["threads"]
        assert before == numba.config.NUMBA_NUM_THREADS and after == 1, run["threads"]
    before = numba.get_num_threads()
    assert LammpsEngine().n_ranks == 1 and numba.get_num_threads() == before


def test_rem_fit_with_lammps_under_mpi_gives_the_same_theta_on_every_rank(mpi_runs):
    first, second = mpi_runs
    path = first["theta_path"]
    assert path.shape[0] > 1 and np.all(np.isfinite(path)), path  # Newton steps were taken
    assert not np.allclose(path[-1], path[0])
    np.testing.assert_array_equal(first["theta_path"], second["theta_path"])
    np.testing.assert_array_equal(first["theta"], second["theta"])


def test_platform_choice():
    from remlib.engines import choose_platform

    require_module("openmm", 'pip install "remlib[md]"')
    import openmm

    here = [openmm.Platform.getPlatform(k).getName() for k in range(openmm.Platform.getNumPlatforms())]
    assert choose_platform(here) == ("CUDA" if "CUDA" in here else "OpenCL" if "OpenCL" in here else "CPU")
    assert choose_platform(["Reference", "CPU", "OpenCL", "CUDA"]) == "CUDA"
    assert choose_platform(["Reference", "OpenCL", "CPU"]) == "OpenCL"
    assert choose_platform(["Reference"]) == "Reference"
    with pytest.raises(RuntimeError, match="no usable platform"):
        choose_platform([])


def test_monte_carlo_engine_is_the_default_bit_for_bit(lj_fit):
    from remlib.engines import MonteCarloEngine

    _, target = lj_fit
    options = dict(r_cut=R_CUT, n_functions=8, beta=BETA, n_model_frames=20, max_iter=2, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        default = fit_pair_potential_rem(target, BOX, burn_in=20, thin=2, n_chains=2, **options)
        explicit = fit_pair_potential_rem(target, BOX, engine=MonteCarloEngine(burn_in=20, thin=2, n_chains=2),
                                          **options)
    np.testing.assert_array_equal(default.theta, explicit.theta)


def test_missing_engine_says_how_to_install(lj_fit, monkeypatch):
    import builtins

    from remlib import engines

    real_import = builtins.__import__

    def without(name, *args, **kwargs):
        if name in ("openmm", "lammps"):
            raise ImportError(f"No module named '{name}'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without)
    with pytest.raises(ImportError, match=r"pip install \"remlib\[md\]\""):
        engines.OpenMMEngine()
    with pytest.raises(ImportError, match="pip install lammps mpich"):
        engines.LammpsEngine()
    with pytest.raises(ImportError, match="pip install lammps mpich"):
        fit_pair_potential_rem(lj_fit[1], BOX, r_cut=R_CUT, n_functions=8, beta=BETA, engine="lammps")


_LAMMPS_ENGINE_LOADS = """
import ctypes, os, sys
import lammps, remlib.engines  # both bound what they load themselves before the recording starts
loaded = []
class Recording(ctypes.CDLL):
    def __init__(self, name, *args, **kwargs):
        loaded.append(os.path.basename(name))
        super().__init__(name, *args, **kwargs)
ctypes.CDLL, sys.prefix = Recording, sys.argv[1]
try:
    print(remlib.engines.LammpsEngine().n_ranks, loaded)
except ImportError as error:
    print(f"ImportError: {error}")
"""


def test_lammps_engine_loads_the_mpi_library_of_the_mpich_wheel_only_when_lammps_needs_it(tmp_path):
    """The PyPI wheel's LAMMPS does not find libmpi.so.12 by itself: LammpsEngine loads the mpich
    wheel's copy from sys.prefix/lib; a LAMMPS that finds its MPI (here through LD_LIBRARY_PATH, as
    one built on a cluster's MPI does) is given no second one; without the mpich wheel (a prefix
    without it) the error says what to install.  Each case in a fresh Python."""
    import sys

    require_module("lammps", "pip install lammps mpich")

    def engine_in_fresh_python(prefix, library_path=""):
        env = dict(os.environ, LD_LIBRARY_PATH=library_path)
        run = subprocess.run([sys.executable, "-c", _LAMMPS_ENGINE_LOADS, prefix], env=env, capture_output=True,
                             text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        return run.stdout.strip()

    assert engine_in_fresh_python(sys.prefix) == "1 ['libmpi.so.12']"
    assert engine_in_fresh_python(sys.prefix, library_path=os.path.join(sys.prefix, "lib")) == "1 []"
    assert engine_in_fresh_python(str(tmp_path)).startswith(
        "ImportError: LammpsEngine needs the LAMMPS Python module: pip install lammps mpich (libmpi.so.12")


def test_bad_engine_arguments():
    from remlib.engines import OpenMMEngine, get_engine

    with pytest.raises(ValueError, match="engine must be 'montecarlo', 'openmm', 'lammps'"):
        get_engine("gromacs", burn_in=1, thin=1, n_chains=1)
    with pytest.raises(TypeError, match="engine object"):
        get_engine(42, burn_in=1, thin=1, n_chains=1)
    with pytest.raises(ValueError, match="timestep"):
        get_engine("montecarlo", burn_in=1, thin=1, n_chains=1) and OpenMMEngine(timestep=-1.0)


def test_a_table_lammps_rejects_names_the_file_and_the_reason(lj_fit, tmp_path):
    from remlib.engines import LammpsEngine, lammps_commands, write_lammps_data

    require_module("lammps", "pip install lammps mpich")
    fit, target = lj_fit
    broken = tmp_path / "broken.table"
    broken.write_text("REM\nN 3 R 0.5 2.5\n\n1 0.5 1.0 0.0\n2 1.5 0.0 0.0\n")  # 2 of 3 rows
    data = write_lammps_data(tmp_path / "cg.data", target[-1], BOX)
    engine = LammpsEngine(burn_in=10, thin=10)
    with pytest.raises(RuntimeError, match=r"LAMMPS rejected 'pair_coeff \* \* .*broken.table REM"):
        engine._run(lammps_commands(str(data), str(broken), r_cut=R_CUT, n_points=100), 1, N, BOX)


def test_continued_pair_features_extend_the_monte_carlo_features(lj_fit):
    """MD frames may hold pairs below r_min: their features are those of the tangent-continued basis
    (a plain sum over the pairs here), and equal the Monte Carlo features for frames without such pairs."""
    from remlib.neighbors import pair_list
    from remlib.tables import continued_design

    fit, target = lj_fit
    model = fit.model
    np.testing.assert_allclose(model.continued_features(target[:5], BOX), model.features(target[:5], BOX),
                               rtol=1e-6, atol=1e-9)
    squeezed = target[-1].copy()
    squeezed[1] = np.mod(squeezed[0] + [0.8 * model.r_min, 0.0, 0.0], BOX)  # one pair inside the hard core
    delta = pair_list(squeezed, BOX, r_max=R_CUT).delta
    r = np.sqrt((delta**2).sum(axis=1))
    assert r.min() < model.r_min
    np.testing.assert_allclose(model.continued_features(squeezed[None], BOX)[0],
                               continued_design(model.basis, r).sum(axis=0), rtol=1e-4, atol=1e-6)


def test_md_engine_with_a_cutoff_jump_warns(lj_fit):
    from remlib.engines import LammpsEngine

    require_module("lammps", "pip install lammps mpich")
    with pytest.warns(UserWarning, match="MD does not feel the step"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fit_pair_potential_rem(lj_fit[1], BOX, r_cut=R_CUT, n_functions=8, beta=BETA, n_model_frames=5, max_iter=1,
                               smooth_cutoff=False, engine=LammpsEngine(burn_in=10, thin=5), seed=1)


def test_openmm_rejection_is_a_runtime_error_with_the_reason(lj_fit):
    from remlib.engines import OpenMMEngine

    require_module("openmm", 'pip install "remlib[md]"')
    fit, target = lj_fit
    start = target[-1].copy()
    start[0] = np.nan
    with pytest.raises(RuntimeError, match="OpenMM .* rejected the CG system: .*NaN"):
        OpenMMEngine(burn_in=5, thin=5).sample(fit.model.system(fit.theta, BOX, BETA), start[None], 1,
                                               np.random.default_rng(0))


@pytest.mark.parametrize("engine_name", ["openmm", "lammps"])
def test_md_engines_reproduce_their_frames_from_the_seed(lj_fit, engine_name):
    """The same generator seed gives the same frames, bit for bit (OpenMM: one CPU thread and a fixed
    order of the force sums, ``reproducible=True``)."""
    from remlib.engines import LammpsEngine, OpenMMEngine

    require_module(*{"openmm": ("openmm", 'pip install "remlib[md]"'),
                      "lammps": ("lammps", "pip install lammps mpich")}[engine_name])
    fit, target = lj_fit
    engine = {"openmm": OpenMMEngine, "lammps": LammpsEngine}[engine_name](burn_in=200, thin=50)
    system = fit.model.system(fit.theta, BOX, BETA)
    runs = [engine.sample(system, target[-2:], 5, np.random.default_rng(seed))[0] for seed in (1, 1, 2)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
