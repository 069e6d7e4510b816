"""Speed of remlib.brownian_dynamics (Euler–Maruyama, compiled force, walkers in parallel).

Run: ``python benchmarks/bench_dynamics.py``.  Prints markdown tables:

* walker-steps/s for a 1-D double well and the 2-D entropic channel with 1,000 walkers,
  against (a) a vectorised numpy loop over steps (all walkers at once) and (b) the floor:
  generating the same number of normal deviates with numpy in bulk (a step cannot be
  cheaper than its random numbers);
* one long trajectory against a per-step Python/numpy loop;
* memory: 10^8 steps of one walker with a stride of 10^6 (peak RSS growth).
"""
import math
import os
import resource
import time

import numba
import numpy as np
from harness import Row, print_table

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


def walkers_rows(name, model, vectorised_force, x0, n_steps, *, repeats=7):
    """Rows (wall clock, CPU time) for ``n_walkers`` walkers against the numpy loop and the floor.
    Runs of >= 10^8 walker-steps use the kernel specialised for the force (its compilation is in the
    warm-up run, not in the timings); shorter runs use the generic cached kernel."""
    n_walkers, dim = x0.shape
    work = n_walkers * n_steps
    kernel = best_times(lambda: brownian_dynamics(model, x0, DT, n_steps, stride=n_steps, seed=1), repeats=repeats)
    numpy_steps, floor_count = min(n_steps // 10, 1000), min(work * dim, 4_000_000)  # scaled up to the whole run
    numpy_time = [t * n_steps / numpy_steps for t in best_times(lambda: numpy_loop(vectorised_force, x0, numpy_steps))]
    floor = [t * work * dim / floor_count for t in best_times(lambda: bulk_normals(floor_count))]
    tables = []
    for which in (0, 1):
        tables.append([
            Row(f"{name}: kernel vs numpy loop", "walker-steps", work, kernel[which], numpy_time[which],
                ">= 30 M/s (1-D)" if dim == 1 and which == 0 else ""),
            Row(f"{name}: kernel vs bulk normal floor", "walker-steps", work, kernel[which], floor[which],
                ">= 0.33x (within 3x of the floor)" if which == 0 else ""),
        ])
    return tables


def single_trajectory_rows(model):
    n_steps, python_steps = 2_000_000, 100_000
    x0 = np.zeros((1, 1))
    kernel = best_times(lambda: brownian_dynamics(model, x0, DT, n_steps, stride=n_steps, seed=2), repeats=3)
    python = best_times(lambda: numpy_loop(model.force, x0, python_steps), repeats=1)
    return [[Row("1-D double well, 1 walker: kernel vs per-step Python/numpy loop", "steps", n_steps, kernel[which],
                 python[which] * n_steps / python_steps, ">= 50x" if which == 0 else "")] for which in (0, 1)]


def memory_report(model):
    """Peak RSS growth of 10^8 steps, measured first in the process (tracemalloc is not used: it also
    traces numba's per-call allocation of the force result and would slow the run more than tenfold)."""
    n_steps, stride = 100_000_000, 1_000_000
    # load the kernels first, including the kernel specialised for this force that 10^8 steps use
    specialise_work, dynamics._SPECIALISE_WORK = dynamics._SPECIALISE_WORK, 1
    brownian_dynamics(model, np.zeros((1, 1)), DT, 10, seed=3)
    dynamics._SPECIALISE_WORK = specialise_work
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    traj = brownian_dynamics(model, np.zeros((1, 1)), DT, n_steps, stride=stride, seed=3)
    seconds = time.perf_counter() - start
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print("\n### Memory: 10^8 steps of one walker, stride 10^6\n")
    print(f"- frames stored: {traj.shape} ({traj.nbytes} bytes)")
    print(f"- time: {seconds:.2f} s ({n_steps / seconds / 1e6:.1f} M steps/s)")
    print(f"- growth of the process's peak RSS: {growth / 1024:.1f} MiB (two reused noise blocks of 8 MiB; "
          f"storing every step would need {n_steps * 8 / 2**20:.0f} MiB)")


def main():
    print(f"numba threads: {numba.get_num_threads()}; dt = {DT}; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores (best of 7 short runs)")
    well = DoubleWell(barrier=1.0)
    channel = EntropicChannel(barrier=1.0, tilt=0.3, kappa0=4.0, a=0.5)
    memory_report(well)
    n_walkers, n_steps = 1000, 4000
    wall, cpu = walkers_rows("1-D double well, 1,000 walkers", well, well.force, np.zeros((n_walkers, 1)), n_steps)
    wall_2d, cpu_2d = walkers_rows("2-D entropic channel, 1,000 walkers", channel, channel.force,
                                   channel.sample(n_walkers, seed=0), n_steps // 2)
    wall_long, cpu_long = walkers_rows("1-D double well, 1,000 walkers, 10^5 steps (specialised kernel)", well,
                                       well.force, np.zeros((n_walkers, 1)), 100_000, repeats=2)
    wall_single, cpu_single = single_trajectory_rows(well)
    print_table(wall + wall_long + wall_2d + wall_single, "Brownian dynamics, wall clock (remlib.brownian_dynamics)")
    print_table(cpu + cpu_long + cpu_2d + cpu_single,
                "Brownian dynamics, CPU time of all threads (work per CPU-second; less sensitive to load)")


if __name__ == "__main__":
    main()
