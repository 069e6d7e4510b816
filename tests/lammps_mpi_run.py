"""A user's script run under MPI by tests/test_engines.py: ``mpiexec -n 2 python lammps_mpi_run.py OUT``.

Every rank runs all of it, as a user's fit script on a cluster: LammpsEngine samples a
force-shifted LJ fluid at T and at 1.3 T, then a short pair REM fit draws its model
frames from LammpsEngine.  Each rank saves what it got to ``OUT-<rank>.npz`` (the frames,
the fitted theta, the world size and rank LammpsEngine reports, the atoms LAMMPS gave the
rank in its domain decomposition, and numba's thread count before and after LammpsEngine
started), so the test can compare the ranks.

``python lammps_mpi_run.py OUT broken`` instead samples with a pair table LAMMPS rejects
(two of its three rows): rank 0 alone reads it, and its error must end the whole MPI job
even when the launcher leaves the other rank running (``mpiexec -disable-auto-cleanup``).
"""
import sys
import warnings

import numba
import numpy as np

from remlib import engines
from remlib.engines import CGSystem, LammpsEngine
from remlib.fluids import lj_fluid_frames
from remlib.montecarlo import tabulate_pair
from remlib.pairrem import fit_pair_potential_rem

N, DENSITY, BETA, R_CUT, R_MIN = 200, 0.5, 0.5, 2.5, 0.6
BOX = np.full(3, (N / DENSITY) ** (1 / 3))
N_FRAMES = 200


def force_shifted_lj(r):
    """LJ with energy and force shifted to vanish at R_CUT: (u, -u') at distances ``r``."""
    u = 4 * (r**-12 - r**-6)
    du = -48 * r**-13 + 24 * r**-7
    u_cut = 4 * (R_CUT**-12 - R_CUT**-6)
    du_cut = -48 * R_CUT**-13 + 24 * R_CUT**-7
    return u - u_cut - (r - R_CUT) * du_cut, du_cut - du


def lj_system(temperature):
    """The force-shifted LJ fluid as an engine runs it (MD table from R_MIN; Monte Carlo's hard core below)."""
    r = np.linspace(R_MIN, R_CUT, 2000)
    mc = tabulate_pair(lambda x: force_shifted_lj(x)[0], r_min=R_MIN, r_cut=R_CUT)
    return CGSystem(BOX, 1 / temperature, {"pair": mc}, (r, *force_shifted_lj(r)))


def start():
    """The first configuration of every run: an equilibrated LJ fluid frame."""
    return lj_fluid_frames(N, DENSITY, 1 / BETA, n_frames=1, burn_in=50, thin=1, seed=0).frames[-1]


def sample(engine, temperature, seed):
    """N_FRAMES frames of the fluid at ``temperature`` from ``engine``."""
    return engine.sample(lj_system(temperature), start()[None], N_FRAMES, np.random.default_rng(seed))[0]


def main(out):
    owned = []  # atoms LAMMPS puts in this rank's domain at the start of the first run

    def command(lmp, text, _command=engines._command):
        if text.startswith("run") and not owned:
            owned.append(lmp.extract_setting("nlocal"))
        _command(lmp, text)

    engines._command = command
    threads_before = numba.get_num_threads()
    engine = LammpsEngine(burn_in=1000, thin=100)
    frames, hot = sample(engine, 1 / BETA, 1), sample(engine, 1.3 / BETA, 2)
    target = lj_fluid_frames(N, DENSITY, 1 / BETA, n_frames=40, burn_in=200, thin=4, seed=3).frames
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a few Newton steps only
        # no seed: each rank hands LAMMPS other seeds, and the ranks must agree all the same
        fit = fit_pair_potential_rem(target, BOX, r_cut=R_CUT, n_functions=8, beta=BETA, n_model_frames=40,
                                     max_iter=3, engine=LammpsEngine(burn_in=300, thin=25), seed=None)
    np.savez(f"{out}-{engine.rank}.npz", rank=engine.rank, n_ranks=engine.n_ranks, owned=owned[0], frames=frames,
             hot=hot, theta=fit.theta, theta_path=fit.rem.history["theta"],
             threads=[threads_before, numba.get_num_threads()])


def broken_table():
    """Sample with a pair table that lacks a row: LAMMPS rejects it on rank 0, which reads the tables."""
    def write_broken(directory, system, _write=engines.write_system_tables):
        pair, bond, angle = _write(directory, system)
        with open(pair, "w") as handle:
            handle.write("REM\nN 3 R 0.5 2.5\n\n1 0.5 1.0 0.0\n2 1.5 0.0 0.0\n")
        return pair, bond, angle

    engines.write_system_tables = write_broken
    sample(LammpsEngine(burn_in=10, thin=10), 1 / BETA, 1)


if __name__ == "__main__":
    broken_table() if sys.argv[2:] == ["broken"] else main(sys.argv[1])
