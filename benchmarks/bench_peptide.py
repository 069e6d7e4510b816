"""Speed of the alanine dipeptide simulations behind the biomolecular page.

Run: ``python benchmarks/bench_peptide.py``.  Writes ``benchmarks/results/peptide.json``:
the seconds per simulated nanosecond (22 atoms, ff14SB, vacuum, NoCutoff, 4 fs Langevin steps with 4 amu
hydrogens and H-bond constraints) for OpenMM's Reference platform, the CPU platform (1
thread and default threads), and for :func:`remlib.peptide.simulate_alanine_dipeptide`
itself (Reference platform plus saving a frame every 250 steps: its cost per extra ns, from
runs of N and 2N steps), against the bare Reference integrator.

Each run has a figure for the CPU time of this process (``time.process_time``), which a
shared, loaded machine disturbs far less than wall time (for the multithreaded CPU platform
the sum over threads), and one for the wall time. Target: ``simulate_alanine_dipeptide``
needs at most 4 s of CPU per simulated ns (the biomolecular page runs 36 ns when its
cache is empty).
"""
import time

import openmm
from harness import Figure, write_results
from openmm import unit

from remlib import peptide

N_STEPS = 25_000  # 0.1 ns
NS = N_STEPS * 4e-6


def timed(function):
    """(wall seconds, CPU seconds of this process) of ``function()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def integrator_times(platform, properties=None):
    """Times of N_STEPS bare integrator steps after minimisation and a warm-up."""
    _, positions, system = peptide.alanine_dipeptide_system()
    integrator = openmm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, 4 * unit.femtosecond)
    integrator.setRandomNumberSeed(1)
    context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName(platform), properties or {})
    context.setPositions(positions)
    openmm.LocalEnergyMinimizer.minimize(context)
    integrator.step(1000)
    return timed(lambda: integrator.step(N_STEPS))


def main():
    times = {
        "Reference platform, integrator only": integrator_times("Reference"),
        "CPU platform, 1 thread": integrator_times("CPU", {"Threads": "1"}),
        "CPU platform, default threads": integrator_times("CPU"),
    }
    runs = [timed(lambda n=n: peptide.simulate_alanine_dipeptide(300.0, n, cache_dir=None, seed=1))
            for n in (N_STEPS, 2 * N_STEPS)]
    times["simulate_alanine_dipeptide, per extra ns (frames every 1 ps)"] = tuple(
        b - a for a, b in zip(*runs))
    figures = []
    for name, (wall, cpu) in times.items():
        figures += [Figure(f"{name}, CPU time", cpu / NS, "s per simulated ns",
                           "<= 4" if name.startswith("simulate") else None, lower_is_better=True),
                    Figure(f"{name}, wall time", wall / NS, "s per simulated ns", lower_is_better=True)]
    figures.append(Figure("fixed cost of one simulate_alanine_dipeptide run (setup, minimisation, 20 ps), CPU time",
                          2 * runs[0][1] - runs[1][1], "s", lower_is_better=True))
    write_results("peptide", figures)


if __name__ == "__main__":
    main()
