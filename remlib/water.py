r"""Liquid water with an all-atom rigid model in OpenMM: simulate, cache, map to one site.

The water chapter coarse-grains a real molecular liquid: a cubic box of rigid SPC/E
water (Berendsen, Grigera & Straatsma, J. Phys. Chem. 91, 6269, 1987) or TIP3P, with
particle-mesh Ewald electrostatics, simulated at constant volume with OpenMM's
``LangevinMiddleIntegrator``.  The trajectory is written the way any engine writes one --
a PDB topology and a DCD trajectory -- and read back by :mod:`remlib.trajectories`
(MDAnalysis), so the book treats it exactly as a reader's own trajectory.  Nothing is
downloaded: the box is filled by ``openmm.app.Modeller.addSolvent`` from the
equilibrated water box and the force-field files that ship with the ``openmm`` wheel.

Besides positions, each saved frame keeps what a DCD cannot hold: the forces on the
atoms (for force matching; the force on a molecule is the sum of its atomic forces,
:func:`map_forces`) and the molecular virial pressure (OpenMM's
``MonteCarloBarostat.computeCurrentPressure``, the pressure of the molecular centres).

Units on the CG side: lengths in ``sigma`` (default 0.3166 nm, the oxygen σ of SPC/E)
and energies in :math:`k_BT`; :func:`reduced_force_unit` and :func:`reduced_pressure_unit`
convert.

Runs are cached in the git-ignored ``data/`` folder, in a directory whose name is a hash
of every parameter (as :mod:`remlib.peptide` does for alanine dipeptide).
"""
import dataclasses
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from remlib._validation import as_cache_dir, as_choice, as_count, as_float_array, as_positive_scalar
from remlib.neighbors import check_box, check_positions, pair_list
from remlib._openmm import import_openmm, openmm_seed, platform_properties, resolve_platform
from remlib.peptide import cache_key, default_data_dir

__all__ = ["WATER_MODELS", "SPCE_SIGMA", "BOLTZMANN_KJ", "WaterRun", "water_parameters", "simulate_water",
           "map_forces", "reduced_force_unit", "reduced_pressure_unit", "tetrahedral_order",
           "pair_virial_pressure"]

#: model name -> (force-field file shipped with openmm, water model name of Modeller.addSolvent)
WATER_MODELS = {"spce": ("spce.xml", "spce"), "tip3p": ("tip3p.xml", "tip3p")}

#: Lennard-Jones σ of the SPC/E oxygen in nm, the default CG length unit
SPCE_SIGMA = 0.3166

#: Boltzmann constant times Avogadro's number in kJ/(mol K)
BOLTZMANN_KJ = 0.0083144626

_WATER_MASS = 18.01528  # g/mol
_AVOGADRO = 6.02214076e23
_BAR_PER_KJ_MOL_NM3 = 1e3 / _AVOGADRO / 1e-27 / 1e5  # 1 kJ/mol/nm^3 in bar
_BYTES_PER_MOLECULE = 4096  # generous: OpenMM's System, topology and neighbour data of one water


def water_parameters(n_molecules=256, temperature=298.0, *, density=0.997, model="spce", n_frames=100,
                     frame_interval=0.5, equilibration=20.0, step_size=2.0, friction=1.0, cutoff=0.9,
                     platform=None, seed=0):
    """Validated, complete parameter dictionary of a water run.

    Parameters
    ----------
    n_molecules : int
        Water molecules in the cubic box (at least 32).
    temperature : float
        Kelvin.
    density : float
        Mass density in g/cm³ (fixes the box edge; the run is at constant volume).
    model : {"spce", "tip3p"}
    n_frames : int
        Saved frames.
    frame_interval, equilibration : float
        Picoseconds between saved frames, and of equilibration before the first one.
    step_size : float
        Femtoseconds.
    friction : float
        Langevin friction in 1/ps.
    cutoff : float
        Real-space cutoff of PME and Lennard-Jones in nm (below half the box edge).
    platform : str or None
        OpenMM platform; ``None`` takes the fastest available (CUDA, HIP, OpenCL, then CPU).
        The CPU platform runs on one thread and GPU platforms sum forces in a fixed order,
        so that the seed reproduces a run bit for bit.
    seed : int
        Seeds the initial velocities and the Langevin noise: the same seed and parameters
        give the same trajectory.

    Returns
    -------
    dict
        Every parameter, with the box edge ``box`` (nm) and the platform resolved.

    Raises
    ------
    ValueError
        A parameter is out of range (the cutoff not below half the box, too few
        molecules, an unknown model or platform, a frame interval shorter than a step), or
        ``n_molecules`` / ``n_frames`` would need more memory than remlib allows.
    TypeError
        A parameter has the wrong type (a string or a bool for a number, ...).

    Examples
    --------
    >>> p = water_parameters(216, density=0.997, platform="CPU")
    >>> round(p["box"], 4), p["model"], p["steps_per_frame"]
    (1.8644, 'spce', 250)
    """
    import openmm

    n_molecules = as_count(n_molecules, "n_molecules", _BYTES_PER_MOLECULE, minimum=32)
    n_frames = as_count(n_frames, "n_frames", n_molecules * 3 * 3 * 4)  # float32 forces of every atom
    model = as_choice(model, "model", tuple(WATER_MODELS))
    density = as_positive_scalar(density, "density")
    if not 0.5 <= density <= 1.5:
        raise ValueError(f"density must be a liquid water density in g/cm^3 (0.5 to 1.5), got {density}")
    box = (n_molecules * _WATER_MASS / _AVOGADRO / density) ** (1 / 3) * 1e7  # cm -> nm
    cutoff = as_positive_scalar(cutoff, "cutoff")
    if cutoff >= box / 2:
        raise ValueError(f"cutoff={cutoff} nm must be below half the box edge ({box / 2:.4g} nm for "
                         f"{n_molecules} molecules); use more molecules or a shorter cutoff")
    step_size = as_positive_scalar(step_size, "step_size")
    frame_interval = as_positive_scalar(frame_interval, "frame_interval")
    steps_per_frame = int(round(frame_interval * 1000 / step_size))
    if steps_per_frame < 1:
        raise ValueError(f"frame_interval={frame_interval} ps is shorter than one step of {step_size} fs")
    equilibration = as_positive_scalar(equilibration, "equilibration", allow_zero=True)
    return {
        "model": model,
        "force_field": WATER_MODELS[model][0],
        "openmm_version": openmm.__version__,
        "integrator": "LangevinMiddleIntegrator",
        "electrostatics": "PME",
        "n_molecules": n_molecules,
        "temperature": as_positive_scalar(temperature, "temperature"),
        "density": density,
        "box": box,
        "cutoff": cutoff,
        "n_frames": n_frames,
        "steps_per_frame": steps_per_frame,
        "equilibration_steps": int(round(equilibration * 1000 / step_size)),
        "step_size": step_size,
        "friction": as_positive_scalar(friction, "friction"),
        "platform": resolve_platform(platform),
        "seed": openmm_seed(seed),
    }


@dataclasses.dataclass
class WaterRun:
    """A simulated water box: files an engine writes plus per-frame forces and pressure.

    Attributes
    ----------
    topology : Path
        PDB file (atoms, residues ``HOH``, box).
    trajectory : Path
        DCD file of the saved frames (read it with :func:`remlib.trajectories.load_universe`).
    forces : ndarray, shape (n_frames, n_atoms, 3)
        Forces on the atoms in kJ/(mol nm) (float32), frame by frame as in ``trajectory``.
    pressure : ndarray, shape (n_frames,)
        Instantaneous molecular pressure in bar.
    parameters : dict
        Every parameter of the run (:func:`water_parameters`).
    wall_time : float
        Seconds the simulation took when it was run (not when loaded from the cache).
    from_cache : bool

    Examples
    --------
    >>> run = WaterRun(Path("w.pdb"), Path("w.dcd"), np.zeros((2, 9, 3)), np.zeros(2), {}, 0.0)
    >>> run.n_frames
    2
    """

    topology: Path
    trajectory: Path
    forces: np.ndarray
    pressure: np.ndarray
    parameters: dict
    wall_time: float
    from_cache: bool = False

    @property
    def n_frames(self):
        return len(self.pressure)


class _FrameRecorder:
    """OpenMM reporter keeping the forces and the molecular pressure of every saved frame."""

    def __init__(self, interval, barostat):
        self.interval, self.barostat = interval, barostat
        self.forces, self.pressure = [], []

    def describeNextReport(self, simulation):  # noqa: N802 - OpenMM's reporter interface
        steps = self.interval - simulation.currentStep % self.interval
        return {"steps": steps, "periodic": None, "include": ["forces"]}

    def report(self, simulation, state):
        _, _, unit = import_openmm()
        self.forces.append(state.getForces(asNumpy=True).value_in_unit(
            unit.kilojoule_per_mole / unit.nanometer).astype(np.float32))
        self.pressure.append(self.barostat.computeCurrentPressure(simulation.context).value_in_unit(unit.bar))


def _water_box(parameters):
    """Topology, positions and System of exactly ``n_molecules`` waters in the cubic box."""
    openmm, app, unit = import_openmm()
    p = parameters
    forcefield = app.ForceField(p["force_field"])
    modeller = app.Modeller(app.Topology(), [])
    # fill a slightly larger box from OpenMM's equilibrated water, keep n_molecules, squeeze to the box
    scale = 1.05
    modeller.addSolvent(forcefield, model=WATER_MODELS[p["model"]][1],
                        boxSize=openmm.Vec3(1, 1, 1) * p["box"] * scale * unit.nanometer)
    residues = list(modeller.topology.residues())
    if len(residues) < p["n_molecules"]:  # pragma: no cover - the 5 % margin always over-fills
        raise RuntimeError(f"Modeller placed {len(residues)} waters, fewer than {p['n_molecules']}")
    modeller.delete(residues[p["n_molecules"]:])
    positions = np.array(modeller.positions.value_in_unit(unit.nanometer))
    positions = positions.reshape(p["n_molecules"], 3, 3)
    centres = positions.mean(axis=1, keepdims=True)
    positions = positions - centres + centres / scale  # rigid molecules, centres scaled into the box
    topology = modeller.topology
    vectors = [openmm.Vec3(*row) for row in np.eye(3) * p["box"]]
    topology.setPeriodicBoxVectors(vectors * unit.nanometer)
    system = forcefield.createSystem(topology, nonbondedMethod=app.PME, nonbondedCutoff=p["cutoff"] * unit.nanometer,
                                     constraints=app.HBonds, rigidWater=True)
    system.setDefaultPeriodicBoxVectors(*(vectors * unit.nanometer))
    return topology, positions.reshape(-1, 3) * unit.nanometer, system


def _run(parameters, folder):
    """Minimise, equilibrate and run; write water.pdb and water.dcd into ``folder``."""
    openmm, app, unit = import_openmm()
    p = parameters
    topology, positions, system = _water_box(p)
    barostat = openmm.MonteCarloBarostat(1.0 * unit.bar, p["temperature"] * unit.kelvin, 0)  # 0: never moves
    system.addForce(barostat)
    integrator = openmm.LangevinMiddleIntegrator(p["temperature"] * unit.kelvin, p["friction"] / unit.picosecond,
                                                 p["step_size"] * unit.femtosecond)
    integrator.setRandomNumberSeed(p["seed"] + 1)  # 0 would mean "pick a seed at random"
    platform = openmm.Platform.getPlatformByName(p["platform"])
    simulation = app.Simulation(topology, system, integrator, platform, platform_properties(platform, True))
    simulation.context.setPositions(positions)
    simulation.minimizeEnergy()
    simulation.context.setVelocitiesToTemperature(p["temperature"] * unit.kelvin, p["seed"] + 1)
    simulation.step(p["equilibration_steps"])
    state = simulation.context.getState(getPositions=True, enforcePeriodicBox=True)
    with open(folder / "water.pdb", "w") as handle:
        app.PDBFile.writeFile(topology, state.getPositions(), handle)
    simulation.currentStep = 0
    simulation.reporters.append(app.DCDReporter(str(folder / "water.dcd"), p["steps_per_frame"],
                                                enforcePeriodicBox=True))
    recorder = _FrameRecorder(p["steps_per_frame"], barostat)
    simulation.reporters.append(recorder)
    simulation.step(p["n_frames"] * p["steps_per_frame"])
    del simulation  # closes the DCD file
    return np.array(recorder.forces), np.array(recorder.pressure)


def _cache_folder(parameters, cache_dir):
    folder = default_data_dir() if cache_dir == "default" else Path(cache_dir)
    return folder / f"water_{cache_key(parameters)}"


def _read_cache(folder, parameters):
    try:
        stored = json.loads((folder / "parameters.json").read_text())
        if stored["parameters"] != parameters:
            return None
        with np.load(folder / "frames.npz") as data:
            forces, pressure = data["forces"], data["pressure"]
    except (OSError, KeyError, ValueError):
        return None
    return WaterRun(folder / "water.pdb", folder / "water.dcd", forces, pressure, stored["parameters"],
                    float(stored["wall_time"]), from_cache=True)


def simulate_water(n_molecules=256, temperature=298.0, *, cache_dir="default", **options):
    """An all-atom rigid-water box at constant volume, simulated with OpenMM and cached.

    The box of :func:`water_parameters` is filled from OpenMM's equilibrated water,
    energy-minimised, given Maxwell–Boltzmann velocities (seeded), equilibrated and run
    with ``LangevinMiddleIntegrator`` (rigid water, PME, long-range dispersion
    correction).  Every ``frame_interval`` ps the positions go to a DCD file (OpenMM's
    ``DCDReporter``) and the atomic forces and the molecular pressure are kept.

    Parameters
    ----------
    n_molecules : int
    temperature : float
        Kelvin.
    cache_dir : str, Path or "default"
        Folder holding ``water_<hash>/`` (``water.pdb``, ``water.dcd``, ``frames.npz``,
        ``parameters.json``); ``"default"`` is the repository's git-ignored ``data/``.
        A run with the same parameters is loaded, not simulated.
    **options
        Other keywords of :func:`water_parameters` (``density``, ``model``, ``n_frames``,
        ``frame_interval``, ``equilibration``, ``step_size``, ``friction``, ``cutoff``,
        ``platform``, ``seed``).

    Returns
    -------
    WaterRun

    Raises
    ------
    ValueError
        A parameter is out of range (see :func:`water_parameters`).
    TypeError
        ``cache_dir`` is not a path.

    Examples
    --------
    >>> import tempfile
    >>> run = simulate_water(64, cutoff=0.6, n_frames=2, frame_interval=0.02, equilibration=0.02,
    ...                      platform="CPU", cache_dir=tempfile.mkdtemp())
    >>> run.forces.shape, run.trajectory.name, run.from_cache
    ((2, 192, 3), 'water.dcd', False)
    """
    cache_dir = as_cache_dir(cache_dir, allow_none=False)
    parameters = water_parameters(n_molecules, temperature, **options)
    folder = _cache_folder(parameters, cache_dir)
    cached = _read_cache(folder, parameters)
    if cached is not None:
        return cached
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        start = time.perf_counter()
        forces, pressure = _run(parameters, work)
        wall_time = time.perf_counter() - start
        np.savez(work / "frames.npz", forces=forces, pressure=pressure)
        (work / "parameters.json").write_text(json.dumps({"parameters": parameters, "wall_time": wall_time},
                                                         sort_keys=True, indent=1))
        if folder.exists():  # an incomplete earlier attempt
            shutil.rmtree(folder)
        work.replace(folder)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return WaterRun(folder / "water.pdb", folder / "water.dcd", forces, pressure, parameters, wall_time)


def map_forces(forces, mapping):
    r"""Forces on CG sites: :math:`\mathbf F_I = \sum_{i \in G_I} \mathbf f_i`, the sum over each group.

    For a rigid molecule the constraint forces cancel in the sum, so the atomic forces
    of the force field alone give the force on the molecule.

    Parameters
    ----------
    forces : array_like, shape (n_frames, n_atoms, 3) or (n_atoms, 3)
        Atomic forces.
    mapping : remlib.trajectories.CGMapping

    Returns
    -------
    ndarray, shape (n_frames, n_sites, 3) or (n_sites, 3)

    Raises
    ------
    TypeError
        ``mapping`` is not a ``CGMapping``.
    ValueError
        ``forces`` has the wrong shape or fewer atoms than the mapping refers to.

    Examples
    --------
    >>> from remlib.trajectories import CGMapping
    >>> mapping = CGMapping._from_groups([np.array([0, 1]), np.array([2])], np.ones(3), "geometry")
    >>> map_forces(np.arange(9.0).reshape(3, 3), mapping).tolist()
    [[3.0, 5.0, 7.0], [6.0, 7.0, 8.0]]
    """
    from remlib.trajectories import CGMapping

    if not isinstance(mapping, CGMapping):
        raise TypeError(f"mapping must be a remlib.trajectories.CGMapping, got {type(mapping).__name__}")
    forces = as_float_array(forces, "forces", ndim=(2, 3))
    if forces.shape[-1] != 3 or forces.shape[-2] <= mapping.atoms.max():
        raise ValueError(f"forces must have shape (n_frames, n_atoms, 3) with n_atoms > {mapping.atoms.max()}, "
                         f"got {forces.shape}")
    indicator = np.zeros((mapping.n_sites, mapping.atoms.size))
    indicator[mapping.site, np.arange(mapping.atoms.size)] = 1.0
    return np.einsum("sa,...ak->...sk", indicator, forces[..., mapping.atoms, :])


def reduced_force_unit(temperature, sigma=SPCE_SIGMA):
    """One :math:`k_BT/\\sigma` in kJ/(mol nm): divide OpenMM forces by it.

    Examples
    --------
    >>> round(reduced_force_unit(298.0, 0.3166), 4)
    7.826
    """
    return BOLTZMANN_KJ * as_positive_scalar(temperature, "temperature") / as_positive_scalar(sigma, "sigma")


def reduced_pressure_unit(temperature, sigma=SPCE_SIGMA):
    """One :math:`k_BT/\\sigma^3` in bar: multiply a reduced pressure by it.

    Examples
    --------
    >>> round(reduced_pressure_unit(298.0, 0.3166))
    1296
    """
    kt = BOLTZMANN_KJ * as_positive_scalar(temperature, "temperature")
    return kt / as_positive_scalar(sigma, "sigma") ** 3 * _BAR_PER_KJ_MOL_NM3


def _frames_and_box(frames, box):
    box = check_box(box)
    frames = check_positions(frames, box, "frames")
    return (frames[None] if frames.ndim == 2 else frames), box


def tetrahedral_order(frames, box):
    r"""Tetrahedral order parameter of every site (Errington & Debenedetti 2001).

    .. math:: q = 1 - \frac38 \sum_{j=1}^{3}\sum_{k=j+1}^{4}
              \left(\cos\psi_{jk} + \tfrac13\right)^2,

    with :math:`\psi_{jk}` the angle at the site between its :math:`j`-th and :math:`k`-th
    nearest neighbours (minimum image).  :math:`q = 1` for a perfect tetrahedron and
    :math:`\langle q\rangle = 0` for an ideal gas.

    Parameters
    ----------
    frames : array_like, shape (n_frames, n_sites, 3) or (n_sites, 3)
        Positions in ``[0, L)`` (at least 5 sites).
    box : array_like, shape (3,)

    Returns
    -------
    ndarray, shape (n_frames, n_sites)

    Raises
    ------
    ValueError
        Invalid box or positions, or fewer than 5 sites.

    Examples
    --------
    A site at the centre of a regular tetrahedron has q = 1:

    >>> corners = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) * 0.5
    >>> x = np.vstack([[5.0, 5.0, 5.0], 5.0 + corners])
    >>> round(float(tetrahedral_order(x, [10.0] * 3)[0, 0]), 12)
    1.0
    """
    frames, box = _frames_and_box(frames, box)
    if frames.shape[1] < 5:
        raise ValueError(f"tetrahedral_order needs at least 5 sites, got {frames.shape[1]}")
    n = frames.shape[1]
    pairs = np.triu_indices(4, k=1)
    q = np.empty(frames.shape[:2])
    for f, x in enumerate(frames):
        delta = x[None, :, :] - x[:, None, :]
        delta -= box * np.round(delta / box)
        distance = np.einsum("ijk,ijk->ij", delta, delta)
        distance[np.arange(n), np.arange(n)] = np.inf
        nearest = np.argpartition(distance, 3, axis=1)[:, :4]
        bonds = np.take_along_axis(delta, nearest[:, :, None], axis=1)
        bonds /= np.linalg.norm(bonds, axis=2, keepdims=True)
        cosines = np.einsum("ijk,ilk->ijl", bonds, bonds)[:, pairs[0], pairs[1]]
        q[f] = 1.0 - 0.375 * np.sum((cosines + 1.0 / 3.0) ** 2, axis=1)
    return q


def pair_virial_pressure(frames, box, fit, *, beta=1.0):
    r"""Virial pressure of a pair-potential model, frame by frame.

    .. math:: P = \frac{N}{\beta V} - \frac{1}{3V}\sum_{I<J} r_{IJ}\,u'(r_{IJ}),

    with :math:`u` the fitted spline potential (in the units of :math:`1/\beta`).  The
    potential vanishes smoothly at its cutoff, so no tail or impulsive correction applies.

    Parameters
    ----------
    frames : array_like, shape (n_frames, n_sites, 3) or (n_sites, 3)
        Positions in ``[0, L)``, e.g. ``fit.sample(...).frames``.
    box : array_like, shape (3,)
    fit : remlib.pairrem.PairPotentialResult
    beta : float

    Returns
    -------
    ndarray, shape (n_frames,)
        Pressure in units of energy per length³ (:math:`k_BT/\sigma^3` for β = 1 and σ lengths).

    Raises
    ------
    ValueError
        Invalid box or positions, or a pair inside the model's hard core.
    TypeError
        ``fit`` is not a ``PairPotentialResult``.

    Examples
    --------
    Two sites 1.2 apart with u = 1 - r/2.5 (slope -0.4, as in :func:`remlib.pairrem.pair_forces`)
    in a box of volume 216: P = (2 + 1.2 * 0.4 / 3) / 216 = 0.01.

    >>> from remlib.pairrem import PairModel, PairPotentialResult
    >>> from remlib.basis import BSplineBasis
    >>> model = PairModel(BSplineBasis(0.9, 2.5, 5))
    >>> fit = PairPotentialResult("rem", model, 1 - model.basis.knots[2:7] / 2.5, None, None)
    >>> pair_virial_pressure([[1.0, 1.0, 1.0], [2.2, 1.0, 1.0]], [6.0] * 3, fit).round(12).tolist()
    [0.01]
    """
    from remlib.pairrem import PairPotentialResult

    if not isinstance(fit, PairPotentialResult):
        raise TypeError(f"fit must be a remlib.pairrem.PairPotentialResult, got {type(fit).__name__}")
    frames, box = _frames_and_box(frames, box)
    beta = as_positive_scalar(beta, "beta")
    model = fit.model
    volume = float(np.prod(box))
    pressure = np.empty(len(frames))
    for f, x in enumerate(frames):
        delta = pair_list(x, box, r_max=model.r_cut).delta
        r = np.sqrt((delta**2).sum(axis=1))
        if np.any(r < model.r_min):
            raise ValueError(f"frame {f} has a pair at r={r.min():.4g} inside the hard core r_min={model.r_min}")
        virial = np.sum(r * (model.basis.derivative(r) @ fit.theta))
        pressure[f] = x.shape[0] / (beta * volume) - virial / (3.0 * volume)
    return pressure
