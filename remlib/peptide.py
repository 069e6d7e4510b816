"""Alanine dipeptide with a real force field: build, simulate, cache.

The biomolecular chapter coarse-grains a real molecule, alanine dipeptide
(ACE-ALA-NME, 22 atoms), simulated with the Amber ff14SB force field
(Maier et al., J. Chem. Theory Comput. 11, 3696, 2015) in OpenMM 8 (Eastman et al.,
J. Phys. Chem. B 128, 109, 2024).  Nothing is
downloaded: the molecule is built here from internal coordinates (a Z-matrix,
placed atom by atom with the natural extension reference frame, NeRF), and the
force field files ship with the ``openmm`` wheel.

Pipeline
--------
1. :func:`alanine_dipeptide_zmatrix` -- bond lengths, angles and dihedrals of
   every atom, with the backbone dihedrals :math:`(\\phi, \\psi)` as arguments.
2. :func:`build_from_zmatrix` -- Cartesian coordinates from the Z-matrix.
3. :func:`alanine_dipeptide_system` -- the OpenMM ``Topology`` (atom names of
   the amber14 ACE/ALA/NME templates), positions and ``System``.
4. :func:`simulate_alanine_dipeptide` -- Langevin dynamics in vacuum, cached in
   an ``.npz`` file whose name is a hash of every parameter.

The geometry (:func:`~remlib.geometry.place_atom`, :func:`~remlib.geometry.bond_angle`,
:func:`~remlib.geometry.dihedral_angle`) lives in :mod:`remlib.geometry`.
"""
import dataclasses
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from remlib._openmm import import_openmm, openmm_seed, platform_properties
from remlib._validation import (as_cache_dir, as_choice, as_float_array, as_positive_int, as_positive_scalar,
                                as_real_scalar, check_memory)
from remlib.geometry import bond_angle, dihedral_angle, place_atom

__all__ = ["FORCE_FIELD", "ATOMS", "BONDS", "PHI_ATOMS", "PSI_ATOMS", "HEAVY_ATOMS", "atom_keys", "atom_index",
           "ZEntry", "alanine_dipeptide_zmatrix", "build_from_zmatrix", "alanine_dipeptide_positions",
           "alanine_dipeptide_topology", "alanine_dipeptide_system", "PeptideTrajectory", "simulation_parameters",
           "phi_bias_energy", "cache_key", "default_data_dir", "simulate_alanine_dipeptide",
           "simulate_alanine_dipeptide_runs"]

#: the force field file (shipped with the openmm wheel) used throughout
FORCE_FIELD = "amber14-all.xml"

#: (residue, atom name) of every atom, in topology order (the amber14 template order)
ATOMS = (
    ("ACE", "HH31"), ("ACE", "CH3"), ("ACE", "HH32"), ("ACE", "HH33"), ("ACE", "C"), ("ACE", "O"),
    ("ALA", "N"), ("ALA", "H"), ("ALA", "CA"), ("ALA", "HA"), ("ALA", "CB"),
    ("ALA", "HB1"), ("ALA", "HB2"), ("ALA", "HB3"), ("ALA", "C"), ("ALA", "O"),
    ("NME", "N"), ("NME", "H"), ("NME", "CH3"), ("NME", "HH31"), ("NME", "HH32"), ("NME", "HH33"),
)

#: covalent bonds as pairs of ``"RES:NAME"`` keys (21 bonds for 22 atoms: a tree)
BONDS = (
    ("ACE:HH31", "ACE:CH3"), ("ACE:CH3", "ACE:HH32"), ("ACE:CH3", "ACE:HH33"), ("ACE:CH3", "ACE:C"),
    ("ACE:C", "ACE:O"), ("ACE:C", "ALA:N"),
    ("ALA:N", "ALA:H"), ("ALA:N", "ALA:CA"), ("ALA:CA", "ALA:HA"), ("ALA:CA", "ALA:CB"),
    ("ALA:CA", "ALA:C"), ("ALA:CB", "ALA:HB1"), ("ALA:CB", "ALA:HB2"), ("ALA:CB", "ALA:HB3"),
    ("ALA:C", "ALA:O"), ("ALA:C", "NME:N"),
    ("NME:N", "NME:H"), ("NME:N", "NME:CH3"), ("NME:CH3", "NME:HH31"), ("NME:CH3", "NME:HH32"),
    ("NME:CH3", "NME:HH33"),
)

#: the four atoms of each backbone dihedral
PHI_ATOMS = ("ACE:C", "ALA:N", "ALA:CA", "ALA:C")
PSI_ATOMS = ("ALA:N", "ALA:CA", "ALA:C", "NME:N")

#: heavy atoms stored in cached trajectories (for bead mappings)
HEAVY_ATOMS = ("ACE:CH3", "ACE:C", "ACE:O", "ALA:N", "ALA:CA", "ALA:CB", "ALA:C", "ALA:O",
               "NME:N", "NME:CH3")


def atom_keys():
    """The ``"RES:NAME"`` key of every atom, in topology order."""
    return [f"{res}:{name}" for res, name in ATOMS]


def atom_index(key):
    """Topology index of the atom ``"RES:NAME"`` (e.g. ``"ALA:CA"`` -> 8)."""
    keys = atom_keys()
    if key not in keys:
        raise ValueError(f"key must be one of {keys}, got {key!r}")
    return keys.index(key)


# --------------------------------------------------------------------------- geometry
# --------------------------------------------------------------------------- Z-matrix
@dataclasses.dataclass(frozen=True)
class ZEntry:
    """One Z-matrix row: ``atom`` bonded to ``bond_to`` (length in Å), angle
    ``angle_to``-``bond_to``-``atom`` and dihedral ``dihedral_to``-``angle_to``-``bond_to``-``atom``
    (degrees).  The first atom has no references, the second only ``bond_to``, the
    third no ``dihedral_to``."""

    atom: str
    bond_to: str = None
    bond: float = None
    angle_to: str = None
    angle: float = None
    dihedral_to: str = None
    dihedral: float = None


def alanine_dipeptide_zmatrix(phi=-80.0, psi=150.0):
    """Internal coordinates of alanine dipeptide (L-alanine, trans peptide bonds).

    Standard amide geometry (bond lengths in Å and angles in degrees close to the
    Engh--Huber values); the backbone dihedrals :math:`\\phi` (C-N-CA-C) and
    :math:`\\psi` (N-CA-C-N) are arguments, both peptide bonds have
    :math:`\\omega = 180°`.  The CB position N-C-CA-CB = +122.7° makes the residue L.

    Parameters
    ----------
    phi, psi : float
        Backbone dihedrals in degrees.

    Returns
    -------
    list of ZEntry
        One row per atom, in build order (every reference precedes its use).

    Examples
    --------
    >>> rows = alanine_dipeptide_zmatrix()
    >>> len(rows), rows[0].atom
    (22, 'ACE:CH3')
    """
    phi = float(as_float_array(phi, "phi", ndim=0))
    psi = float(as_float_array(psi, "psi", ndim=0))
    Z = ZEntry
    return [
        Z("ACE:CH3"),
        Z("ACE:C", "ACE:CH3", 1.522),
        Z("ACE:O", "ACE:C", 1.229, "ACE:CH3", 120.5),
        Z("ALA:N", "ACE:C", 1.335, "ACE:CH3", 116.2, "ACE:O", 180.0),
        Z("ACE:HH31", "ACE:CH3", 1.09, "ACE:C", 109.5, "ACE:O", 0.0),
        Z("ACE:HH32", "ACE:CH3", 1.09, "ACE:C", 109.5, "ACE:O", 120.0),
        Z("ACE:HH33", "ACE:CH3", 1.09, "ACE:C", 109.5, "ACE:O", -120.0),
        Z("ALA:CA", "ALA:N", 1.458, "ACE:C", 121.7, "ACE:CH3", 180.0),
        Z("ALA:H", "ALA:N", 1.01, "ACE:C", 119.8, "ACE:CH3", 0.0),
        Z("ALA:C", "ALA:CA", 1.525, "ALA:N", 111.2, "ACE:C", phi),
        Z("ALA:CB", "ALA:CA", 1.53, "ALA:C", 110.1, "ALA:N", 122.7),
        Z("ALA:HA", "ALA:CA", 1.09, "ALA:C", 109.5, "ALA:N", -118.0),
        Z("ALA:HB1", "ALA:CB", 1.09, "ALA:CA", 109.5, "ALA:N", 60.0),
        Z("ALA:HB2", "ALA:CB", 1.09, "ALA:CA", 109.5, "ALA:N", 180.0),
        Z("ALA:HB3", "ALA:CB", 1.09, "ALA:CA", 109.5, "ALA:N", -60.0),
        Z("NME:N", "ALA:C", 1.335, "ALA:CA", 116.2, "ALA:N", psi),
        Z("ALA:O", "ALA:C", 1.229, "ALA:CA", 120.5, "ALA:N", psi + 180.0),
        Z("NME:CH3", "NME:N", 1.449, "ALA:C", 121.7, "ALA:CA", 180.0),
        Z("NME:H", "NME:N", 1.01, "ALA:C", 119.8, "ALA:CA", 0.0),
        Z("NME:HH31", "NME:CH3", 1.09, "NME:N", 109.5, "ALA:C", 0.0),
        Z("NME:HH32", "NME:CH3", 1.09, "NME:N", 109.5, "ALA:C", 120.0),
        Z("NME:HH33", "NME:CH3", 1.09, "NME:N", 109.5, "ALA:C", -120.0),
    ]


def build_from_zmatrix(zmatrix):
    """Cartesian coordinates (Å) of the atoms of a Z-matrix, atom by atom.

    The first atom sits at the origin, the second on the +x axis, the third in the
    xy-plane; every later atom is placed by :func:`place_atom`.

    Parameters
    ----------
    zmatrix : sequence of ZEntry

    Returns
    -------
    dict
        ``{atom key: ndarray (3,)}`` in build order.

    Examples
    --------
    >>> water = [ZEntry("O"), ZEntry("H1", "O", 0.9572), ZEntry("H2", "O", 0.9572, "H1", 104.52)]
    >>> xyz = build_from_zmatrix(water)
    >>> round(float(np.degrees(bond_angle(xyz["H1"], xyz["O"], xyz["H2"]))), 4)
    104.52
    """
    if not isinstance(zmatrix, (list, tuple)):
        raise TypeError(f"zmatrix must be a list of ZEntry rows, got {type(zmatrix).__name__}")
    if len(zmatrix) < 3:
        raise ValueError(f"zmatrix must have at least 3 rows, got {len(zmatrix)}")
    xyz = {}
    for i, row in enumerate(zmatrix):
        if not isinstance(row, ZEntry):
            raise TypeError(f"zmatrix[{i}] must be a ZEntry, got {type(row).__name__}")
        if row.atom in xyz:
            raise ValueError(f"zmatrix[{i}]: atom {row.atom!r} appears twice")
        refs = [r for r in (row.bond_to, row.angle_to, row.dihedral_to) if r is not None]
        missing = [r for r in refs if r not in xyz]
        if missing or len(refs) != min(i, 3):
            raise ValueError(f"zmatrix[{i}] ({row.atom!r}) needs {min(i, 3)} references among "
                             f"atoms already placed; missing {missing}")
        if i == 0:
            xyz[row.atom] = np.zeros(3)
        elif i == 1:
            xyz[row.atom] = xyz[row.bond_to] + np.array([as_positive_scalar(row.bond, "bond"), 0.0, 0.0])
        else:
            c, b = xyz[row.bond_to], xyz[row.angle_to]
            # the third atom: a fictitious dihedral reference off the b-c axis puts it in the xy-plane
            a = xyz[row.dihedral_to] if i > 2 else b + np.array([0.0, 1.0, 0.0])
            dihedral = row.dihedral if i > 2 else 180.0
            xyz[row.atom] = place_atom(a, b, c, row.bond, row.angle, dihedral)
    return xyz


def alanine_dipeptide_positions(phi=-80.0, psi=150.0):
    """Coordinates in Å, shape (22, 3), in topology order (:data:`ATOMS`).

    Examples
    --------
    >>> x = alanine_dipeptide_positions(phi=-60.0, psi=-45.0)
    >>> i = [atom_index(k) for k in PHI_ATOMS]
    >>> round(float(np.degrees(dihedral_angle(*x[i]))), 6)
    -60.0
    """
    xyz = build_from_zmatrix(alanine_dipeptide_zmatrix(phi, psi))
    return np.array([xyz[key] for key in atom_keys()])


# --------------------------------------------------------------------------- OpenMM
def alanine_dipeptide_topology():
    """OpenMM ``Topology`` of ACE-ALA-NME with elements and the 21 covalent bonds."""
    _, app, _ = import_openmm()
    topology = app.Topology()
    chain = topology.addChain()
    residues, atoms = {}, {}
    for res_name, name in ATOMS:
        if res_name not in residues:
            residues[res_name] = topology.addResidue(res_name, chain)
        element = app.Element.getBySymbol(name[0])
        atoms[f"{res_name}:{name}"] = topology.addAtom(name, element, residues[res_name])
    for key1, key2 in BONDS:
        topology.addBond(atoms[key1], atoms[key2])
    return topology


def alanine_dipeptide_system(phi=-80.0, psi=150.0, *, hydrogen_mass=4.0, constraints="HBonds"):
    """Topology, positions (nm, OpenMM ``Quantity``) and ff14SB ``System`` in vacuum.

    Parameters
    ----------
    phi, psi : float
        Starting backbone dihedrals (degrees).
    hydrogen_mass : float
        Hydrogen mass in amu (mass repartitioning from the bonded heavy atom); the
        configurational distribution :math:`\\propto e^{-\\beta U}` does not depend on masses.
    constraints : {"HBonds", None}
        Constrain bonds to hydrogen (needed for 4 fs steps).

    Returns
    -------
    topology, positions, system
        OpenMM ``Topology``, ``Quantity`` of shape (22, 3) in nm, and ``System``.

    Raises
    ------
    TypeError
        If ``phi``, ``psi`` or ``hydrogen_mass`` is not a real number (a string or a bool).
    ValueError
        If ``phi``/``psi`` are not finite, ``hydrogen_mass`` is not positive or
        ``constraints`` is unknown.
    ImportError
        If OpenMM is not installed.

    Examples
    --------
    >>> topology, positions, system = alanine_dipeptide_system()
    >>> topology.getNumAtoms(), system.getNumParticles(), len(positions)
    (22, 22, 22)
    """
    openmm, app, unit = import_openmm()
    phi, psi = as_real_scalar(phi, "phi"), as_real_scalar(psi, "psi")
    hydrogen_mass = as_positive_scalar(hydrogen_mass, "hydrogen_mass")
    if not (constraints is None or isinstance(constraints, str) and constraints == "HBonds"):
        raise ValueError(f"constraints must be 'HBonds' or None, got {constraints!r}")
    topology = alanine_dipeptide_topology()
    positions = unit.Quantity(alanine_dipeptide_positions(phi, psi) * 0.1, unit.nanometer)
    forcefield = app.ForceField(FORCE_FIELD)
    system = forcefield.createSystem(
        topology, nonbondedMethod=app.NoCutoff,
        constraints=app.HBonds if constraints == "HBonds" else None,
        hydrogenMass=hydrogen_mass * unit.amu)
    return topology, positions, system


# --------------------------------------------------------------------------- simulation + cache
@dataclasses.dataclass
class PeptideTrajectory:
    """A simulated alanine dipeptide trajectory (all angles in radians).

    Attributes
    ----------
    phi, psi : ndarray, shape (n_frames,)
        Backbone dihedrals of every saved frame.
    heavy_positions : ndarray, shape (n_frames, 10, 3)
        Positions (nm, float32) of :data:`HEAVY_ATOMS`.
    potential_energy : ndarray, shape (n_frames,)
        Force-field potential energy in kJ/mol (without any bias).
    parameters : dict
        Every parameter of the run (the cache key is a hash of it).
    wall_time : float
        Seconds the simulation took when it was run (not when loaded from cache).
    from_cache : bool

    Examples
    --------
    >>> run = PeptideTrajectory(np.zeros(3), np.zeros(3), np.zeros((3, 10, 3), np.float32), np.zeros(3), {}, 0.0)
    >>> run.n_frames
    3
    """

    phi: np.ndarray
    psi: np.ndarray
    heavy_positions: np.ndarray
    potential_energy: np.ndarray
    parameters: dict
    wall_time: float
    from_cache: bool = False

    @property
    def n_frames(self):
        return len(self.phi)

    @property
    def dihedrals(self):
        """``(n_frames, 2)`` array of (φ, ψ)."""
        return np.column_stack([self.phi, self.psi])


def simulation_parameters(temperature=300.0, n_steps=250_000, *, step_size=4.0, friction=1.0,
                          report_interval=250, hydrogen_mass=4.0, equilibration_steps=5_000,
                          phi0=-80.0, psi0=150.0, phi_bias=(), platform="Reference", seed=0):
    """Validated, complete parameter dictionary of a run (units: K, fs, 1/ps, amu, degrees).

    ``phi_bias`` are the Fourier coefficients (kJ/mol) of an optional bias potential on
    :math:`\\phi`, see :func:`phi_bias_energy`; ``()`` means no bias.
    On the ``"CPU"`` platform the run uses one thread with forces summed in a fixed order,
    so that, as on ``"Reference"``, the same ``seed`` gives the same trajectory.

    Examples
    --------
    >>> p = simulation_parameters(temperature=300.0, n_steps=1000, report_interval=100)
    >>> p["temperature"], p["n_steps"], p["force_field"]
    (300.0, 1000, 'amber14-all.xml')
    """
    import openmm

    platform = as_choice(platform, "platform", ("Reference", "CPU"))
    seed = openmm_seed(seed)
    n_steps = as_positive_int(n_steps, "n_steps")
    report_interval = as_positive_int(report_interval, "report_interval")
    if n_steps % report_interval:
        raise ValueError(f"n_steps ({n_steps}) must be a multiple of report_interval ({report_interval})")
    # every saved frame keeps 22 positions (float64) while running and an energy
    check_memory("n_steps", n_steps, n_steps // report_interval * (22 * 3 * 8 + 8))
    return {
        "molecule": "ACE-ALA-NME",
        "force_field": FORCE_FIELD,
        "openmm_version": openmm.__version__,
        "integrator": "LangevinMiddleIntegrator",
        "temperature": as_positive_scalar(temperature, "temperature"),
        "n_steps": n_steps,
        "step_size": as_positive_scalar(step_size, "step_size"),
        "friction": as_positive_scalar(friction, "friction"),
        "report_interval": report_interval,
        "hydrogen_mass": as_positive_scalar(hydrogen_mass, "hydrogen_mass"),
        "constraints": "HBonds",
        "equilibration_steps": as_positive_int(equilibration_steps, "equilibration_steps", minimum=0),
        "phi0": as_real_scalar(phi0, "phi0"),
        "phi_bias": _check_bias(phi_bias),
        "psi0": as_real_scalar(psi0, "psi0"),
        "platform": platform,
        "seed": int(seed),
    }


def _check_bias(coefficients, name="phi_bias"):
    coefficients = as_float_array(coefficients, name, ndim=1, allow_empty=True)
    if coefficients.size % 2:
        raise ValueError(f"{name} must have 2K entries (K cosine then K sine coefficients), got {coefficients.size}")
    return [float(c) for c in coefficients]


def phi_bias_energy(phi, coefficients):
    r"""Bias energy :math:`V_b(\phi) = \sum_{k=1}^{K} a_k \cos k\phi + b_k \sin k\phi` (kJ/mol).

    ``coefficients`` is :math:`(a_1..a_K, b_1..b_K)`, the order of
    :class:`remlib.basis.FourierBasis`, so a fitted :math:`\theta` of that basis (times
    :math:`k_BT`) can be used directly.  Frames of a biased run are reweighted to the
    unbiased ensemble with :math:`w \propto e^{\beta V_b(\phi)}`.

    Examples
    --------
    >>> print(np.round(phi_bias_energy([0.0, np.pi / 2], [2.0, 0.0, 0.0, 1.0]), 6))
    [2. 0.]
    """
    from remlib.basis import FourierBasis

    coefficients = np.asarray(_check_bias(coefficients, "coefficients"))
    phi = as_float_array(phi, "phi", ndim=(0, 1))
    if coefficients.size == 0:
        return np.zeros(phi.shape)
    return FourierBasis(coefficients.size // 2)(phi.reshape(-1)).reshape(*phi.shape, -1) @ coefficients


def _bias_force(coefficients):
    """OpenMM ``CustomTorsionForce`` on φ with the energy of :func:`phi_bias_energy`."""
    openmm, _, _ = import_openmm()
    order = len(coefficients) // 2
    terms = [f"a{k}*cos({k}*theta)+b{k}*sin({k}*theta)" for k in range(1, order + 1)]
    force = openmm.CustomTorsionForce("+".join(terms))
    for k in range(1, order + 1):
        force.addGlobalParameter(f"a{k}", coefficients[k - 1])
        force.addGlobalParameter(f"b{k}", coefficients[order + k - 1])
    force.addTorsion(*[atom_index(key) for key in PHI_ATOMS], [])
    force.setForceGroup(1)
    return force


def cache_key(parameters):
    """Hex SHA-256 (first 16 characters) of a parameter dictionary, independent of key order.

    Examples
    --------
    >>> cache_key({"a": 1, "b": 2.0}) == cache_key({"b": 2.0, "a": 1})
    True
    >>> cache_key({"a": 1}) == cache_key({"a": 2})
    False
    """
    if not isinstance(parameters, dict):
        raise TypeError(f"parameters must be a dict, got {type(parameters).__name__}")
    text = json.dumps(parameters, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def default_data_dir():
    """The git-ignored ``data/`` folder of the repository (created on demand)."""
    return Path(__file__).resolve().parents[1] / "data"


def _run(parameters):
    """Minimise, equilibrate and run Langevin dynamics; return the frame arrays."""
    openmm, app, unit = import_openmm()
    p = parameters
    topology, positions, system = alanine_dipeptide_system(p["phi0"], p["psi0"],
                                                           hydrogen_mass=p["hydrogen_mass"])
    if p["phi_bias"]:
        system.addForce(_bias_force(p["phi_bias"]))
    integrator = openmm.LangevinMiddleIntegrator(p["temperature"] * unit.kelvin,
                                                 p["friction"] / unit.picosecond,
                                                 p["step_size"] * unit.femtosecond)
    integrator.setRandomNumberSeed(p["seed"] + 1)  # 0 would mean "pick a seed at random"
    platform = openmm.Platform.getPlatformByName(p["platform"])
    context = openmm.Context(system, integrator, platform, platform_properties(platform, True))
    context.setPositions(positions)
    openmm.LocalEnergyMinimizer.minimize(context)
    context.setVelocitiesToTemperature(p["temperature"] * unit.kelvin, p["seed"] + 1)
    if p["equilibration_steps"]:
        integrator.step(p["equilibration_steps"])
    heavy = [atom_index(k) for k in HEAVY_ATOMS]
    n_frames = p["n_steps"] // p["report_interval"]
    frames = np.empty((n_frames, 22, 3))
    energies = np.empty(n_frames)
    for i in range(n_frames):
        integrator.step(p["report_interval"])
        state = context.getState(getPositions=True, getEnergy=True, groups={0})  # without the bias
        frames[i] = state.getPositions(asNumpy=True).value_in_unit(unit.nanometer)
        energies[i] = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    phi = dihedral_angle(*(frames[:, atom_index(k)] for k in PHI_ATOMS))
    psi = dihedral_angle(*(frames[:, atom_index(k)] for k in PSI_ATOMS))
    return phi, psi, frames[:, heavy].astype(np.float32), energies


def _cache_path(parameters, cache_dir):
    """Cache file of a run (None when ``cache_dir`` is None)."""
    if cache_dir is None:
        return None
    folder = default_data_dir() if cache_dir == "default" else Path(cache_dir)
    return folder / f"alanine_dipeptide_{cache_key(parameters)}.npz"


def _read_cache(path, parameters):
    """The stored run at ``path`` if it exists and has exactly ``parameters``, else None."""
    if path is None or not path.exists():
        return None
    with np.load(path) as data:
        stored = json.loads(str(data["parameters"]))
        if stored != parameters:
            return None
        return PeptideTrajectory(data["phi"], data["psi"], data["heavy_positions"],
                                 data["potential_energy"], stored, float(data["wall_time"]),
                                 from_cache=True)


def _load_cached(kwargs):
    """The cached run for keyword arguments of :func:`simulate_alanine_dipeptide`, or None."""
    kwargs = dict(kwargs)
    cache_dir = as_cache_dir(kwargs.pop("cache_dir", "default"))
    temperature = kwargs.pop("temperature", 300.0)
    n_steps = kwargs.pop("n_steps", 250_000)
    parameters = simulation_parameters(temperature, n_steps, **kwargs)
    return _read_cache(_cache_path(parameters, cache_dir), parameters)


def simulate_alanine_dipeptide(temperature=300.0, n_steps=250_000, *, cache_dir="default",
                               seed=0, **options):
    """Langevin dynamics of alanine dipeptide in vacuum (ff14SB), cached on disk.

    The molecule is built by :func:`alanine_dipeptide_system` at (``phi0``, ``psi0``),
    energy-minimised, given Maxwell--Boltzmann velocities (seeded), equilibrated for
    ``equilibration_steps`` and run for ``n_steps`` steps of ``LangevinMiddleIntegrator``
    (``step_size`` fs, ``friction`` 1/ps) with hydrogen mass ``hydrogen_mass`` amu and
    H-bond constraints.  A frame is saved every ``report_interval`` steps.

    Parameters
    ----------
    temperature : float
        Kelvin.
    n_steps : int
        Production steps (a multiple of ``report_interval``).
    cache_dir : str, Path, "default" or None
        Folder of the ``alanine_dipeptide_<hash>.npz`` cache; ``"default"`` is
        :func:`default_data_dir`; ``None`` disables caching.
    seed : int, numpy.random.Generator or None
        Seeds the Langevin noise and the initial velocities.  An int is stored in the
        parameters (and so in the cache key); a Generator or None draws an int first.
    **options
        Other keywords of :func:`simulation_parameters`.

    Returns
    -------
    PeptideTrajectory

    Raises
    ------
    ValueError
        If a parameter is out of range (e.g. ``n_steps`` not a multiple of
        ``report_interval``, or a seed outside OpenMM's range).
    TypeError
        If a parameter has the wrong type (e.g. ``cache_dir`` not a path).
    ImportError
        If OpenMM is needed (no cached run) and not installed.

    Examples
    --------
    >>> run = simulate_alanine_dipeptide(300.0, 100, report_interval=50, equilibration_steps=0, cache_dir=None)
    >>> run.n_frames, run.from_cache, bool(np.all(np.abs(run.phi) <= np.pi))
    (2, False, True)
    """
    cache_dir = as_cache_dir(cache_dir)
    parameters = simulation_parameters(temperature, n_steps, seed=seed, **options)
    path = _cache_path(parameters, cache_dir)
    cached = _read_cache(path, parameters)
    if cached is not None:
        return cached
    start = time.perf_counter()
    phi, psi, heavy, energies = _run(parameters)
    wall_time = time.perf_counter() - start
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, phi=phi, psi=psi, heavy_positions=heavy, potential_energy=energies,
                            parameters=json.dumps(parameters, sort_keys=True), wall_time=wall_time)
        tmp.replace(path)
    return PeptideTrajectory(phi, psi, heavy, energies, parameters, wall_time)


def _simulate_from_kwargs(kwargs):
    """Module-level (picklable) call of :func:`simulate_alanine_dipeptide` for worker processes."""
    return simulate_alanine_dipeptide(**kwargs)


def simulate_alanine_dipeptide_runs(runs, *, processes=2):
    """Several independent :func:`simulate_alanine_dipeptide` runs, in parallel processes.

    Runs found in the cache are loaded here; the others are simulated in up to ``processes``
    fresh worker processes (``spawn`` start method, so no OpenMM state is inherited).  Every
    run gets exactly the keyword arguments given, so seeds, cache keys and results are the
    same as for sequential calls; only the wall time changes.  Worth it only for runs long
    enough to amortise starting a worker (about a second to import OpenMM).

    Parameters
    ----------
    runs : sequence of dict
        Keyword arguments of :func:`simulate_alanine_dipeptide`, one dict per run.
    processes : int
        Largest number of simultaneous simulations (1: run them one after another here).

    Returns
    -------
    list of PeptideTrajectory
        In the order of ``runs``.

    Raises
    ------
    ValueError, TypeError
        As :func:`simulate_alanine_dipeptide`, for any run (the message starts with
        ``runs[i]``), before any run is simulated; or if ``runs`` is empty, not a list of
        dicts, or ``processes < 1``.

    Examples
    --------
    >>> a, b = simulate_alanine_dipeptide_runs(
    ...     [dict(temperature=300.0, n_steps=100, report_interval=50, equilibration_steps=0,
    ...           seed=s, cache_dir=None) for s in (1, 2)], processes=1)
    >>> a.n_frames, b.n_frames, bool(np.all(a.phi == b.phi))
    (2, 2, False)
    """
    import concurrent.futures
    import multiprocessing

    processes = as_positive_int(processes, "processes")
    if not isinstance(runs, (list, tuple)) or not all(isinstance(r, dict) for r in runs):
        raise TypeError(f"runs must be a list or tuple of dicts of keyword arguments, got {type(runs).__name__}")
    if not runs:
        raise ValueError("runs is empty; at least one run (a dict of keyword arguments) is needed")
    # a Generator or None seed is turned into its int once, here, as a sequential call would;
    # every run's arguments are checked (and its cache looked up) before any simulation starts
    results, pending = [None] * len(runs), []
    runs = list(runs)
    for i, kwargs in enumerate(runs):
        try:
            runs[i] = {**kwargs, "seed": openmm_seed(kwargs.get("seed", 0))}
            results[i] = _load_cached(runs[i])
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"runs[{i}]: {exc}") from exc
        if results[i] is None:
            pending.append(i)
    if processes == 1 or len(pending) <= 1:
        for i in pending:
            results[i] = simulate_alanine_dipeptide(**runs[i])
        return results
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(min(processes, len(pending)), mp_context=context) as pool:
        futures = {i: pool.submit(_simulate_from_kwargs, runs[i]) for i in pending}
        for i, future in futures.items():
            results[i] = future.result()
    return results
