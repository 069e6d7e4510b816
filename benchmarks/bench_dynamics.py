"""Speed of remlib.brownian_dynamics (Euler–Maruyama, compiled force, walkers in parallel).

Run: ``python benchmarks/bench_dynamics.py``.  Writes ``benchmarks/results/dynamics.json``
with wall-clock and CPU-time (all threads) figures of:

* walker-steps/s for a 1-D double well and the 2-D entropic channel with 1,000 walkers,
  against (a) a vectorised numpy loop over steps (all walkers at once) and (b) the floor:
  generating the same number of normal deviates with numpy in bulk (a step cannot be
  cheaper than its random numbers);
* one long trajectory against a per-step Python/numpy loop;
* memory: 10^8 steps of one walker with a stride of 10^6 (peak RSS growth).
"""
import math
import resource
import time

import numba
import numpy as np
from harness import Figure, Row, rows_to_figures, write_results

from remlib import dynamics
from remlib.dynamics import brownian_dynamics
from remlib.systems import DoubleWell, EntropicChannel

DT, BETA, GAMMA = 1e-3, 1.0, 1.0
NOISE = math.sqrt(2 * DT / (BETA * GAMMA))


def numpy_loop(force, x0, n_steps, seed=0):
    """The vectorised numpy baseline: one array operation per step for all walkers."""
    rng = np.random.default_rng(seed)
    x = x0.copy()
    for _ in range(n_steps):
        x += DT / GAMMA * force(x) + NOISE * rng.standard_normal(x.shape)
    return x


def bulk_normals(count, seed=0):
    return np.random.default_rng(seed).standard_normal(count)


def best_times(function, *, repeats=7):
    """Best wall time and best CPU time (all threads of the process) of ``function()``, after a warm-up."""
    function()
    wall, cpu = float("inf"), float("inf")
    for _ in range(repeats):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        function()
        wall = min(wall, time.perf_counter() - wall_start)
        cpu = min(cpu, time.process_time() - cpu_start)
    return wall, cpu


CLOCKS = ("wall clock", "CPU time")


def walkers_figures(name, model, vectorised_force, x0, n_steps, *, repeats=7):
    """Figures (wall clock, then CPU time) for ``n_walkers`` walkers against the numpy loop and the floor.
    Runs of >= 10^8 walker-steps use the kernel specialised for the force (its compilation is in the
    warm-up run, not in the timings); shorter runs use the generic cached kernel."""
    n_walkers, dim = x0.shape
    work = n_walkers * n_steps
    kernel = best_times(lambda: brownian_dynamics(model, x0, DT, n_steps, stride=n_steps, seed=1), repeats=repeats)
    numpy_steps, floor_count = min(n_steps // 10, 1000), min(work * dim, 4_000_000)  # scaled up to the whole run
    numpy_time = [t * n_steps / numpy_steps for t in best_times(lambda: numpy_loop(vectorised_force, x0, numpy_steps))]
    floor = [t * work * dim / floor_count for t in best_times(lambda: bulk_normals(floor_count))]
    figures = []
    for which, clock in enumerate(CLOCKS):
        figures += Row(f"{name}, {clock}", "walker-steps", work, kernel[which], numpy_time[which],
                       target=">= 3e7" if dim == 1 and which == 0 else None,
                       reference="a vectorised numpy loop").figures()
        figures.append(Figure(f"{name}, {clock}: speed as a fraction of the floor (numpy drawing the normal "
                              "deviates alone)", floor[which] / kernel[which], "x", ">= 0.33" if which == 0 else None))
    return figures


def single_trajectory_figures(model):
    n_steps, python_steps = 2_000_000, 100_000
    x0 = np.zeros((1, 1))
    kernel = best_times(lambda: brownian_dynamics(model, x0, DT, n_steps, stride=n_steps, seed=2), repeats=3)
    python = best_times(lambda: numpy_loop(model.force, x0, python_steps), repeats=1)
    rows = [Row(f"1-D double well, 1 walker, {clock}", "steps", n_steps, kernel[which],
                python[which] * n_steps / python_steps, speedup_target=">= 50" if which == 0 else None,
                reference="a per-step Python/numpy loop") for which, clock in enumerate(CLOCKS)]
    return rows_to_figures(rows)


def memory_figures(model):
    """Peak RSS growth of 10^8 steps, measured first in the process (tracemalloc is not used: it also
    traces numba's per-call allocation of the force result and would slow the run more than tenfold)."""
    n_steps, stride = 100_000_000, 1_000_000
    # load the kernels first, including the kernel specialised for this force that 10^8 steps use
    specialise_work, dynamics._SPECIALISE_WORK = dynamics._SPECIALISE_WORK, 1
    brownian_dynamics(model, np.zeros((1, 1)), DT, 10, seed=3)
    dynamics._SPECIALISE_WORK = specialise_work
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    brownian_dynamics(model, np.zeros((1, 1)), DT, n_steps, stride=stride, seed=3)
    seconds = time.perf_counter() - start
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    every_step = n_steps * 8 / 2**20
    return [Figure("10^8 steps of one walker, stride 10^6: time", seconds, "s", lower_is_better=True),
            Figure("10^8 steps of one walker, stride 10^6: growth of the peak RSS", growth / 1024, "MiB",
                   f"no per-step allocation (storing every step: {every_step:.0f} MiB)", lower_is_better=True)]


def main():
    print(f"numba threads: {numba.get_num_threads()}; dt = {DT} (best of 7 short runs)")
    well = DoubleWell(barrier=1.0)
    channel = EntropicChannel(barrier=1.0, tilt=0.3, kappa0=4.0, a=0.5)
    memory = memory_figures(well)
    n_walkers, n_steps = 1000, 4000
    figures = walkers_figures("1-D double well, 1,000 walkers", well, well.force, np.zeros((n_walkers, 1)), n_steps)
    figures += walkers_figures("2-D entropic channel, 1,000 walkers", channel, channel.force,
                               channel.sample(n_walkers, seed=0), n_steps // 2)
    figures += walkers_figures("1-D double well, 1,000 walkers, 10^5 steps (specialised kernel)", well,
                               well.force, np.zeros((n_walkers, 1)), 100_000, repeats=2)
    figures += single_trajectory_figures(well)
    write_results("dynamics", figures + memory)


if __name__ == "__main__":
    main()
