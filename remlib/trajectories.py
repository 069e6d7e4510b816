r"""Trajectories of other engines in, CG coordinates out.

An all-atom trajectory written by LAMMPS, GROMACS, NAMD/CHARMM, OpenMM or any code that
`MDAnalysis <https://www.mdanalysis.org>`_ reads (LAMMPS dump, DCD, XTC/TRR, PDB, GRO, …)
becomes the frames that remlib's fits take as their target.  The mapping
:math:`\mathbf R = \mathcal M(\mathbf r)` is linear: each CG site :math:`I` is a weighted
mean of the atoms of its group :math:`G_I`,

.. math:: \mathbf R_I = \sum_{i\in G_I} w_i\,\mathbf r_i, \qquad \sum_{i\in G_I} w_i = 1,

with :math:`w_i = m_i / \sum_{j\in G_I} m_j` (centre of mass) or :math:`w_i = 1/|G_I|`
(centre of geometry).  A group that straddles the periodic boundary is made whole first:
each atom is taken at its minimum image from the group's first atom, which is exact while a
group spans less than half a box edge.  Sites are wrapped into ``[0, L)``.

The reading itself is MDAnalysis's (a well-kept reader library; remlib has no trajectory
parser of its own).  Frames are streamed: :func:`iter_cg_frames` holds one all-atom frame
at a time, so a trajectory larger than memory can be mapped; only the CG frames that
:func:`read_cg_trajectory` collects are kept.

Lengths are divided by ``length`` on the way in (for example ``length=3.166`` Å, the
oxygen σ of SPC/E water), so the CG frames are in the reduced units of the rest of remlib.

Only orthorhombic boxes are supported (remlib's boxes are three edge lengths).
"""
from dataclasses import dataclass

import numpy as np

from remlib._validation import as_float_array, as_path, as_positive_int, as_positive_scalar, check_memory
from remlib.neighbors import check_box, wrap_positions

__all__ = ["CGMapping", "CGTrajectory", "load_universe", "mapping_from_selections", "mapping_per_molecule",
           "iter_cg_frames", "read_cg_trajectory"]

_CENTERS = ("mass", "geometry")


def _mdanalysis():
    try:
        import MDAnalysis
    except ImportError as exc:  # pragma: no cover - MDAnalysis is in requirements.txt
        raise ImportError("reading trajectories needs MDAnalysis: pip install MDAnalysis") from exc
    return MDAnalysis


@dataclass(frozen=True)
class CGMapping:
    """A linear mapping of atoms to CG sites: site ``I`` = weighted mean of its atom group.

    Attributes
    ----------
    atoms : ndarray of int, shape (n_mapped,)
        Indices of the mapped atoms in the universe, grouped site by site.
    site : ndarray of int, shape (n_mapped,)
        The site each of those atoms belongs to, ``0 <= site < n_sites``, non-decreasing.
    weights : ndarray of float, shape (n_mapped,)
        :math:`w_i`; the weights of each site sum to one.
    anchor : ndarray of int, shape (n_mapped,)
        Position in ``atoms`` of the first atom of each atom's site (the reference of the
        minimum-image unwrapping).
    n_sites : int
    center : str
        ``"mass"`` or ``"geometry"``.

    Examples
    --------
    >>> mapping = CGMapping._from_groups([np.array([0, 1]), np.array([2])], np.array([3.0, 1.0, 2.0]), "mass")
    >>> mapping.n_sites, mapping.site.tolist(), mapping.weights.tolist()
    (2, [0, 0, 1], [0.75, 0.25, 1.0])
    """

    atoms: np.ndarray
    site: np.ndarray
    weights: np.ndarray
    anchor: np.ndarray
    n_sites: int
    center: str

    def apply(self, positions, box):
        """CG site positions, shape (n_sites, 3), of one all-atom frame ``positions`` (n_atoms, 3).

        ``box`` holds the three edge lengths in the same units as ``positions``.

        Examples
        --------
        >>> mapping = CGMapping._from_groups([np.array([0, 1])], np.ones(2), "geometry")
        >>> mapping.apply(np.array([[0.5, 1.0, 1.0], [9.5, 1.0, 1.0]]), np.array([10.0, 10.0, 10.0]))
        array([[0., 1., 1.]])
        """
        box = check_box(box)
        positions = as_float_array(positions, "positions", ndim=2)
        if positions.shape[1] != 3 or positions.shape[0] <= self.atoms.max():
            raise ValueError(f"positions must have shape (n_atoms, 3) with n_atoms > {self.atoms.max()} (the "
                             f"mapping's largest atom index), got {positions.shape}")
        x = positions[self.atoms]
        d = x - x[self.anchor]
        d -= box * np.floor(d / box + 0.5)
        whole = x[self.anchor] + d
        sites = np.empty((self.n_sites, 3))
        for axis in range(3):
            sites[:, axis] = np.bincount(self.site, weights=self.weights * whole[:, axis], minlength=self.n_sites)
        return wrap_positions(sites, box)

    @classmethod
    def _from_groups(cls, groups, masses, center):
        """The mapping of a list of atom-index arrays (one per site) with atom masses ``masses``."""
        atoms = np.concatenate(groups).astype(np.int64)
        sizes = np.array([len(g) for g in groups])
        site = np.repeat(np.arange(len(groups)), sizes)
        first = np.repeat(np.cumsum(sizes) - sizes, sizes)
        raw = masses[atoms] if center == "mass" else np.ones(atoms.size)
        total = np.bincount(site, weights=raw, minlength=len(groups))
        return cls(atoms, site, raw / total[site], first, len(groups), center)


@dataclass
class CGTrajectory:
    """CG frames read from an all-atom trajectory.

    Attributes
    ----------
    frames : ndarray, shape (n_frames, n_sites, 3)
        Site positions in units of ``length``, wrapped into ``[0, L)``.
    box : ndarray, shape (3,)
        Box edges in units of ``length`` (the same in every frame).
    times : ndarray, shape (n_frames,)
        Simulation times of the frames, in the trajectory's time unit (ps for MDAnalysis).
    mapping : CGMapping
    length : float
        The length unit the positions were divided by.

    Examples
    --------
    >>> import MDAnalysis as mda
    >>> u = mda.Universe.empty(2, n_residues=2, atom_resindex=[0, 1], trajectory=True)
    >>> u.atoms.positions = [[1.0, 1.0, 1.0], [3.0, 1.0, 1.0]]
    >>> u.dimensions = [4.0, 4.0, 4.0, 90.0, 90.0, 90.0]
    >>> cg = read_cg_trajectory(u, mapping_per_molecule(u, center="geometry"), length=2.0)
    >>> cg.frames.shape, cg.box.tolist(), cg.length
    ((1, 2, 3), [2.0, 2.0, 2.0], 2.0)
    """

    frames: np.ndarray
    box: np.ndarray
    times: np.ndarray
    mapping: CGMapping
    length: float


def load_universe(topology, *trajectory, **kwargs):
    """An ``MDAnalysis.Universe`` of ``topology`` and ``trajectory`` files, with clear errors.

    Parameters
    ----------
    topology : str or path-like
        A file MDAnalysis reads a topology from (PDB, GRO, PSF, a LAMMPS data file, …); a
        LAMMPS dump alone needs ``topology_format="LAMMPSDUMP"``.
    *trajectory : str or path-like
        Trajectory files (DCD, XTC, TRR, LAMMPS dump, …); none to read the coordinates of
        the topology file itself.
    **kwargs
        Passed to ``MDAnalysis.Universe`` (for example ``format="LAMMPSDUMP"``,
        ``atom_style="id type x y z"``).

    Returns
    -------
    MDAnalysis.Universe

    Raises
    ------
    FileNotFoundError
        A file does not exist.
    ValueError
        MDAnalysis cannot read a file (its message is kept).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "two.gro")
    >>> _ = open(path, "w").write("two\\n2\\n    1SOL     OW    1   0.100   0.100   0.100\\n"
    ...                           "    2SOL     OW    2   0.200   0.100   0.100\\n   1.00000   1.00000   1.00000\\n")
    >>> load_universe(path).atoms.n_atoms
    2
    """
    import os

    mda = _mdanalysis()
    topology = as_path(topology, "topology")
    trajectory = tuple(as_path(path, f"trajectory[{k}]") for k, path in enumerate(trajectory))
    for name, path in [("topology", topology)] + [(f"trajectory[{k}]", t) for k, t in enumerate(trajectory)]:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{name}: no such file {path!r}")
    try:
        return mda.Universe(topology, *trajectory, **kwargs)
    except Exception as exc:  # noqa: BLE001 - a reader's parse error can be of any type (StopIteration, ...)
        files = ", ".join((topology, *trajectory))
        raise ValueError(f"MDAnalysis could not read {files}: {exc}") from exc


def _check_universe(universe):
    mda = _mdanalysis()
    if not isinstance(universe, mda.Universe):
        raise TypeError(f"universe must be an MDAnalysis.Universe (see load_universe), got {type(universe).__name__}")
    return universe


def _check_center(center):
    if center not in _CENTERS:
        raise ValueError(f"center must be one of {_CENTERS}, got {center!r}")
    return center


def _select(universe, text, name):
    """The atoms of the selection string ``text`` (argument ``name``): never none of them."""
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a selection string, got {type(text).__name__}")
    try:
        atoms = universe.select_atoms(text)
    except Exception as exc:  # noqa: BLE001 - MDAnalysis raises SelectionError (a ValueError) and others
        raise ValueError(f"{name} = {text!r} is not a valid MDAnalysis selection: {exc}") from exc
    if atoms.n_atoms == 0:
        raise ValueError(f"{name} = {text!r} matches no atoms")
    return atoms


def _masses(universe, center):
    if center != "mass":
        return None
    try:
        masses = np.asarray(universe.atoms.masses, dtype=float)
    except Exception as exc:  # noqa: BLE001 - MDAnalysis raises NoDataError for a missing attribute
        raise ValueError("center='mass' needs atom masses, which this topology does not give; "
                         "use center='geometry' or a topology with masses") from exc
    return masses


def _mapping(universe, groups, labels, center):
    masses = _masses(universe, center)
    for label, group in zip(labels, groups):
        if masses is not None and not np.all(masses[group] > 0):
            raise ValueError(f"the CG group {label} has atoms of zero or unknown mass; use center='geometry' "
                             "or set the masses")
    return CGMapping._from_groups(groups, masses if masses is not None else np.ones(universe.atoms.n_atoms), center)


def mapping_from_selections(universe, selections, *, center="mass"):
    """A mapping with one CG site per MDAnalysis atom selection.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    selections : sequence of str
        One selection string per site, in MDAnalysis's selection language
        (``"resid 1 and name CA CB"``).
    center : {"mass", "geometry"}
        Centre of mass (needs masses) or of geometry.

    Returns
    -------
    CGMapping

    Raises
    ------
    ValueError
        A selection is invalid or matches no atom, or masses are missing for ``"mass"``.

    Examples
    --------
    >>> import MDAnalysis as mda
    >>> u = mda.Universe.empty(4, n_residues=2, atom_resindex=[0, 0, 1, 1], trajectory=True)
    >>> u.add_TopologyAttr("resid", [1, 2])
    >>> mapping = mapping_from_selections(u, ["resid 1", "resid 2"], center="geometry")
    >>> mapping.n_sites, mapping.atoms.tolist()
    (2, [0, 1, 2, 3])
    """
    universe = _check_universe(universe)
    center = _check_center(center)
    if isinstance(selections, str) or not hasattr(selections, "__len__") or len(selections) == 0:
        raise TypeError("selections must be a non-empty list of selection strings, one per CG site")
    groups = [_select(universe, text, f"selections[{k}]").indices for k, text in enumerate(selections)]
    return _mapping(universe, groups, [f"selections[{k}]" for k in range(len(groups))], center)


def mapping_per_molecule(universe, selection="all", *, by="residues", center="mass"):
    """A mapping with one CG site per molecule (one-bead-per-molecule liquids).

    Parameters
    ----------
    universe : MDAnalysis.Universe
    selection : str
        Which atoms take part (``"resname SOL"``); every molecule with an atom in it becomes
        a site made of its selected atoms.
    by : {"residues", "fragments"}
        What a molecule is: a residue, or a bonded fragment (needs bonds in the topology).
    center : {"mass", "geometry"}

    Returns
    -------
    CGMapping

    Raises
    ------
    ValueError
        The selection matches no atom, ``by="fragments"`` without bonds, or missing masses.

    Examples
    --------
    >>> import MDAnalysis as mda
    >>> u = mda.Universe.empty(6, n_residues=2, atom_resindex=[0, 0, 0, 1, 1, 1], trajectory=True)
    >>> u.add_TopologyAttr("masses", [16.0, 1.0, 1.0, 16.0, 1.0, 1.0])
    >>> mapping = mapping_per_molecule(u)
    >>> mapping.n_sites, mapping.weights.round(3).tolist()[:3]
    (2, [0.889, 0.056, 0.056])
    """
    universe = _check_universe(universe)
    center = _check_center(center)
    if by not in ("residues", "fragments"):
        raise ValueError(f"by must be 'residues' or 'fragments', got {by!r}")
    atoms = _select(universe, selection, "selection")
    if by == "residues":
        owner = atoms.resindices
    else:
        try:
            owner = atoms.fragindices
        except Exception as exc:  # noqa: BLE001 - NoDataError without bonds
            raise ValueError("by='fragments' needs bonds in the topology; use by='residues'") from exc
    order = np.argsort(owner, kind="stable")
    indices, owner = atoms.indices[order], owner[order]
    groups = np.split(indices, np.flatnonzero(np.diff(owner)) + 1)
    return _mapping(universe, groups, [f"of molecule {k}" for k in range(len(groups))], center)


def _frame_box(ts, k):
    dimensions = ts.dimensions
    if dimensions is None or not np.all(np.isfinite(dimensions[:3])) or np.any(dimensions[:3] <= 0):
        raise ValueError(f"frame {k} of the trajectory has no periodic box; remlib's fits need one "
                         "(set it with MDAnalysis's transformations.boxdimensions.set_dimensions)")
    if not np.allclose(dimensions[3:], 90.0, atol=1e-3):
        raise ValueError(f"frame {k} has a triclinic box (angles {dimensions[3:].tolist()}); "
                         "only orthorhombic boxes are supported")
    return np.array(dimensions[:3], dtype=float)


def _frame_range(start, stop, step):
    def check(value, name, minimum):
        return None if value is None else as_positive_int(value, name, minimum=minimum)

    return check(start, "start", 0), check(stop, "stop", 0), check(step, "step", 1)


def iter_cg_frames(universe, mapping, *, start=None, stop=None, step=None, length=1.0):
    """Stream the CG frames of a trajectory, one all-atom frame in memory at a time.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    mapping : CGMapping
        From :func:`mapping_from_selections` or :func:`mapping_per_molecule` of this universe.
    start, stop, step : int, optional
        Which frames, as in ``universe.trajectory[start:stop:step]``.
    length : float
        Unit of length: positions and box are divided by it.

    Returns
    -------
    iterator of tuple
        ``(positions, box, time)`` per frame: site positions of shape (n_sites, 3) in
        ``[0, L)`` and box edges of shape (3,), both in units of ``length``, and the frame's
        time. The arguments are checked when the iterator is made; frames are read as it is
        consumed. A selection of no frames yields nothing (:func:`read_cg_trajectory` refuses it).

    Raises
    ------
    TypeError, ValueError
        A bad argument (at once); a frame without a periodic box, or a triclinic one (when
        that frame is reached).

    Examples
    --------
    >>> import MDAnalysis as mda
    >>> u = mda.Universe.empty(2, n_residues=1, atom_resindex=[0, 0], trajectory=True)
    >>> u.atoms.positions = [[0.5, 1.0, 1.0], [9.5, 1.0, 1.0]]
    >>> u.dimensions = [10.0, 10.0, 10.0, 90.0, 90.0, 90.0]
    >>> mapping = mapping_per_molecule(u, center="geometry")
    >>> [(x.tolist(), box.tolist()) for x, box, _ in iter_cg_frames(u, mapping, length=2.0)]
    [([[0.0, 0.5, 0.5]], [5.0, 5.0, 5.0])]
    """
    universe = _check_universe(universe)
    if not isinstance(mapping, CGMapping):
        raise TypeError(f"mapping must be a CGMapping, got {type(mapping).__name__}")
    if mapping.atoms.max() >= universe.atoms.n_atoms:
        raise ValueError(f"mapping refers to atom {mapping.atoms.max()} but the universe has "
                         f"{universe.atoms.n_atoms} atoms; build the mapping from this universe")
    length = as_positive_scalar(length, "length")
    start, stop, step = _frame_range(start, stop, step)
    return _mapped_frames(universe.trajectory[start:stop:step], mapping, length)


def _mapped_frames(frames, mapping, length):
    """The generator behind :func:`iter_cg_frames` (its arguments are checked before it starts)."""
    for k, ts in enumerate(frames):
        box = _frame_box(ts, k)
        yield mapping.apply(ts.positions.astype(np.float64), box) / length, box / length, float(ts.time)


def read_cg_trajectory(universe, mapping, *, start=None, stop=None, step=None, length=1.0, box_tolerance=1e-6):
    """Map a whole trajectory to CG frames, streamed, keeping only the CG frames.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    mapping : CGMapping
    start, stop, step : int, optional
        Which frames, as in ``universe.trajectory[start:stop:step]``.
    length : float
        Unit of length: positions and box are divided by it.
    box_tolerance : float
        Largest relative change of a box edge between frames: remlib's fits take one box
        (constant volume), so a trajectory at constant pressure is refused.

    Returns
    -------
    CGTrajectory
        ``frames`` of shape (n_frames, n_sites, 3).

    Raises
    ------
    ValueError
        No frame selected, a frame without a box, a box that changes, or more CG frames
        than memory allows (checked before anything is read).

    Examples
    --------
    >>> import MDAnalysis as mda
    >>> u = mda.Universe.empty(4, n_residues=2, atom_resindex=[0, 0, 1, 1], trajectory=True)
    >>> u.atoms.positions = [[1.0, 1.0, 1.0], [2.0, 1.0, 1.0], [5.0, 5.0, 5.0], [5.0, 6.0, 5.0]]
    >>> u.dimensions = [8.0, 8.0, 8.0, 90.0, 90.0, 90.0]
    >>> cg = read_cg_trajectory(u, mapping_per_molecule(u, center="geometry"))
    >>> cg.frames.shape, cg.frames[0].tolist()
    ((1, 2, 3), [[1.5, 1.0, 1.0], [5.0, 5.5, 5.0]])
    """
    universe = _check_universe(universe)
    box_tolerance = as_positive_scalar(box_tolerance, "box_tolerance", allow_zero=True)
    start_, stop_, step_ = _frame_range(start, stop, step)
    n_frames = len(range(*slice(start_, stop_, step_).indices(len(universe.trajectory))))
    if n_frames == 0:
        raise ValueError(f"no frames selected: the trajectory has {len(universe.trajectory)} frames and "
                         f"start={start}, stop={stop}, step={step}")
    n_sites = getattr(mapping, "n_sites", 0)
    check_memory("the selected frames", f"{n_frames} CG frames of {n_sites} sites", n_frames * n_sites * 3 * 8)
    frames = np.empty((n_frames, n_sites, 3))
    times = np.empty(n_frames)
    box = None
    for k, (positions, frame_box, time) in enumerate(iter_cg_frames(
            universe, mapping, start=start, stop=stop, step=step, length=length)):
        if box is None:
            box = frame_box
        elif np.any(np.abs(frame_box - box) > box_tolerance * box):
            raise ValueError(f"the box changes between frames ({box.tolist()} -> {frame_box.tolist()} at frame {k}); "
                             "remlib's fits need constant volume: use an NVT trajectory")
        frames[k], times[k] = positions, time
    return CGTrajectory(frames, box, times, mapping, float(length))
