"""Speed of the alanine dipeptide simulations behind the biomolecular page.

Run: ``python benchmarks/bench_peptide.py``.  Prints a markdown table of simulated
nanoseconds per second of wall time (22 atoms, ff14SB, vacuum, NoCutoff, 4 fs Langevin
steps with 4 amu hydrogens and H-bond constraints) for OpenMM's Reference platform, the
CPU platform (1 thread and default threads), and for
:func:`remlib.peptide.simulate_alanine_dipeptide` itself (Reference platform plus saving
a frame every 250 steps), against the bare Reference integrator.
"""
import time

import openmm
from harness import Row, print_table
from openmm import unit

from remlib import peptide

N_STEPS = 25_000  # 0.1 ns
NS = N_STEPS * 4e-6


def integrator_seconds(platform, properties=None):
    """Wall time of N_STEPS bare integrator steps after minimisation and a warm-up."""
    _, positions, system = peptide.alanine_dipeptide_system()
    integrator = openmm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, 4 * unit.femtosecond)
    integrator.setRandomNumberSeed(1)
    context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName(platform), properties or {})
    context.setPositions(positions)
    openmm.LocalEnergyMinimizer.minimize(context)
    integrator.step(1000)
    start = time.perf_counter()
    integrator.step(N_STEPS)
    return time.perf_counter() - start


def main():
    reference = integrator_seconds("Reference")
    rows = [Row("Reference platform, integrator only", "ns", NS, reference, reference)]
    rows.append(Row("CPU platform, 1 thread", "ns", NS, integrator_seconds("CPU", {"Threads": "1"}), reference))
    rows.append(Row("CPU platform, default threads", "ns", NS, integrator_seconds("CPU"), reference))
    start = time.perf_counter()
    peptide.simulate_alanine_dipeptide(300.0, N_STEPS, equilibration_steps=1000, cache_dir=None, seed=1)
    rows.append(Row("simulate_alanine_dipeptide (Reference, frames every 1 ps)", "ns", NS,
                    time.perf_counter() - start, reference, "~4 s/ns (issue 6)"))
    print_table(rows, "Alanine dipeptide MD (0.1 ns each; 'vs' = Reference integrator)")
    for row in rows:
        print(f"{row.name}: {row.seconds / NS:.1f} s of wall time per simulated ns")


if __name__ == "__main__":
    main()
