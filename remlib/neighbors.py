"""Periodic boxes, minimum image, cell lists and pair histograms.

A particle configuration lives in an orthorhombic periodic box with edge lengths
``box = (L_x, L_y, L_z)``; coordinates satisfy ``0 <= x < L``.  The distance between
two particles is the minimum-image distance

.. math:: \\Delta x \\leftarrow \\Delta x - L\\,\\lfloor \\Delta x / L + 1/2 \\rfloor ,

which is the true nearest distance as long as the cutoff is at most half the shortest
edge.  Pairs closer than ``r_max`` are found with cell lists (counting sort of the
particles into cells of edge >= ``r_max``), so one frame costs O(N) and no N x N
distance matrix is ever built.

Pairs inside the same molecule can be excluded: particles carry a molecule id and
two particles ``i, j`` of the same molecule are excluded when ``|i - j| <= exclude``
(``exclude=None`` excludes every intramolecular pair; chains use ``exclude=1`` for
bonded neighbours or ``exclude=2`` to also drop 1-3 pairs).
"""
from dataclasses import dataclass

import numpy as np

from remlib._numba import njit, njit_parallel, prange
from remlib._validation import as_count, as_flag, as_float_array, as_positive_int, as_positive_scalar

__all__ = ["PairList", "wrap_positions", "minimum_image", "pair_histogram", "count_pairs", "radial_distribution",
           "pair_grid_weights", "pair_list"]

#: accumulation modes of :func:`_accumulate_pairs`
_NEAREST_BIN = 0  # histogram of r, bin index floor((r - lo) / width)
_LINEAR_S = 1  # linear-interpolation weights on a uniform grid of s = r^2


# --------------------------------------------------------------------------- validation

def check_box(box):
    """Return the box edges as a float array of shape (3,), checking they are positive."""
    box = as_float_array(box, "box", ndim=1)
    if box.shape != (3,) or np.any(box <= 0):
        raise ValueError(f"box must be three positive edge lengths (L_x, L_y, L_z), got {box}")
    return box


def check_positions(positions, box, name="positions"):
    """Return positions as float64 of shape (n_frames, n_particles, 3) inside ``box``.

    A single frame ``(n_particles, 3)`` is promoted to one frame.  Particles outside
    ``[0, L)`` raise a ValueError that points to :func:`wrap_positions`.  ``name`` is the
    argument's name in error messages (``"frames"`` for the frames of a fit).
    """
    positions = as_float_array(positions, name, ndim=(2, 3))
    if positions.ndim == 2:
        positions = positions[None]
    if positions.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (n_frames, n_particles, 3), got {positions.shape}")
    if positions.shape[1] < 2:
        raise ValueError(f"{name} must contain at least two particles")
    outside = (positions < 0) | (positions >= box)
    if np.any(outside):
        frame, particle, _ = np.argwhere(outside)[0]
        raise ValueError(
            f"{name}: particle {particle} of frame {frame} lies outside the box [0, L) "
            f"at {positions[frame, particle]}; wrap coordinates with remlib.neighbors.wrap_positions"
        )
    return np.ascontiguousarray(positions)


def check_cutoff(r_max, box, name="r_max"):
    """Check ``0 < r_max <= min(box) / 2`` (the minimum-image condition)."""
    r_max = as_positive_scalar(r_max, name)
    if r_max > 0.5 * box.min() * (1 + 1e-12):
        raise ValueError(
            f"{name}={r_max} is longer than half the shortest box edge ({0.5 * box.min():.4g}); "
            "the minimum image would miss pairs. Use a larger box (more particles) or a shorter cutoff."
        )
    return r_max


def molecule_ids(n_particles, molecule):
    """Molecule id per particle as int64 (default: every particle its own molecule)."""
    if molecule is None:
        return np.arange(n_particles, dtype=np.int64)
    molecule = np.asarray(molecule)
    if molecule.shape != (n_particles,) or not np.issubdtype(molecule.dtype, np.integer):
        raise ValueError(f"molecule must be {n_particles} integer ids, got shape {molecule.shape}")
    return molecule.astype(np.int64)


def exclusion_range(exclude, n_particles):
    """Index separation ``|i - j|`` up to which same-molecule pairs are excluded."""
    if exclude is None:
        return n_particles
    return as_positive_int(exclude, "exclude", minimum=0)


def wrap_positions(positions, box):
    """Wrap coordinates into the periodic box, :math:`x \\leftarrow x - L\\lfloor x/L\\rfloor`.

    Parameters
    ----------
    positions : array_like, shape (..., 3)
    box : array_like, shape (3,)
        Edges :math:`L` of the periodic box (> 0).

    Returns
    -------
    ndarray, shape of ``positions``
        Coordinates in ``[0, L)``.

    Raises
    ------
    ValueError
        If ``box`` is not three positive edges or ``positions`` holds NaN or inf.

    Examples
    --------
    >>> wrap_positions([[1.5, -0.5, 2.0]], [1.0, 1.0, 1.0])
    array([[0.5, 0.5, 0. ]])
    """
    box = check_box(box)
    positions = as_float_array(positions, "positions", ndim=(1, 2, 3))
    if positions.shape[-1] != 3:
        raise ValueError(f"positions must have shape (..., 3), got {positions.shape}")
    wrapped = positions - box * np.floor(positions / box)
    return np.where(wrapped >= box, 0.0, wrapped)


def minimum_image(delta, box):
    """Minimum-image version of separation vectors ``delta`` (..., 3).

    :math:`\\mathbf d \\leftarrow \\mathbf d - L \\operatorname{round}(\\mathbf d / L)`, the
    shortest periodic image of each separation.

    Parameters
    ----------
    delta : array_like, shape (..., 3)
        Separation vectors.
    box : array_like, shape (3,)

    Returns
    -------
    ndarray, shape of ``delta``
        Components in ``[-L/2, L/2)``.

    Raises
    ------
    ValueError
        If ``box`` is not three positive edges or ``delta`` holds NaN or inf.

    Examples
    --------
    >>> minimum_image([0.9, -0.6, 0.2], [1.0, 1.0, 1.0]).round(3)
    array([-0.1,  0.4,  0.2])
    """
    box = check_box(box)
    delta = as_float_array(delta, "delta")
    return delta - box * np.floor(delta / box + 0.5)


# --------------------------------------------------------------------------- kernels

@njit
def _cells_per_edge(box, r_max):
    """Number of cells along each edge, each cell at least ``r_max`` wide."""
    n = np.empty(3, np.int64)
    for d in range(3):
        n[d] = max(1, int(box[d] / r_max))
    return n


@njit
def _grid_cells_per_edge(box, r_max, n_particles):
    """Cells per edge for a pair search: each at least ``r_max`` wide, at most ``max(27, 2 N)`` in all.

    A sparse cluster in a large box would otherwise get (L / r_max)^3 cells (box 300,
    r_max 0.5: 2e8 cells, gigabytes); wider cells keep every pair within r_max in
    neighbouring cells, so the search stays exact.
    """
    cap = max(27.0, 2.0 * n_particles)
    width = max(r_max, (box[0] * box[1] * box[2] / cap) ** (1.0 / 3.0))
    return _cells_per_edge(box, width)


@njit
def _build_cells(pos, box, n_cells):
    """Counting sort of particles into cells: (order, start) with start of size n_total + 1."""
    n_particles = pos.shape[0]
    n_total = n_cells[0] * n_cells[1] * n_cells[2]
    cell = np.empty(n_particles, np.int64)
    count = np.zeros(n_total + 1, np.int64)
    for i in range(n_particles):
        c = 0
        for d in range(3):
            k = int(pos[i, d] / box[d] * n_cells[d])
            if k >= n_cells[d]:
                k = n_cells[d] - 1
            c = c * n_cells[d] + k
        cell[i] = c
        count[c + 1] += 1
    for c in range(n_total):
        count[c + 1] += count[c]
    fill = count[:-1].copy()
    order = np.empty(n_particles, np.int64)
    for i in range(n_particles):
        order[fill[cell[i]]] = i
        fill[cell[i]] += 1
    return order, count, cell


@njit
def _stencil_offsets(n_cells):
    """Distinct neighbour-cell offsets per edge ({-1, 0, 1}, or fewer for 1-2 cells)."""
    offsets = np.zeros((3, 3), np.int64)
    n_off = np.zeros(3, np.int64)
    for d in range(3):
        if n_cells[d] >= 3:
            offsets[d, 0], offsets[d, 1], offsets[d, 2] = -1, 0, 1
            n_off[d] = 3
        elif n_cells[d] == 2:
            offsets[d, 0], offsets[d, 1] = 0, 1
            n_off[d] = 2
        else:
            n_off[d] = 1
    return offsets, n_off


@njit
def _stencil_cells(c, n_cells, offsets, n_off, out):
    """Write the ids of the distinct cells in the stencil of cell ``c`` to ``out``; return their number."""
    cz = c % n_cells[2]
    cy = (c // n_cells[2]) % n_cells[1]
    cx = c // (n_cells[2] * n_cells[1])
    m = 0
    for a in range(n_off[0]):
        nx = (cx + offsets[0, a]) % n_cells[0]
        for b in range(n_off[1]):
            ny = (cy + offsets[1, b]) % n_cells[1]
            for e in range(n_off[2]):
                out[m] = (nx * n_cells[1] + ny) * n_cells[2] + (cz + offsets[2, e]) % n_cells[2]
                m += 1
    return m


@njit
def _min_image(dx, length):
    return dx - length * np.floor(dx / length + 0.5)


@njit
def _accumulate_pairs(pos, box, r_max, mol, exclude, lo, width, n_bins, mode, out):
    """Add every non-excluded pair with r < r_max of one frame to ``out`` (n_bins,).

    mode 0: ``out[floor((r - lo) / width)] += 1`` for lo <= r;
    mode 1: linear weights of s = r^2 on the grid ``lo + k * width`` (k = 0..n_bins-1).
    Returns the number of pairs within r_max.
    """
    n_cells = _grid_cells_per_edge(box, r_max, pos.shape[0])
    order, start, cell = _build_cells(pos, box, n_cells)
    offsets, n_off = _stencil_offsets(n_cells)
    r2_max = r_max * r_max
    n_found = 0
    neighbours = np.empty(27, np.int64)
    for i in range(pos.shape[0]):
        for q in range(_stencil_cells(cell[i], n_cells, offsets, n_off, neighbours)):
            c2 = neighbours[q]
            for k in range(start[c2], start[c2 + 1]):
                j = order[k]
                if j <= i:
                    continue
                if mol[i] == mol[j] and j - i <= exclude:
                    continue
                dx = _min_image(pos[j, 0] - pos[i, 0], box[0])
                dy = _min_image(pos[j, 1] - pos[i, 1], box[1])
                dz = _min_image(pos[j, 2] - pos[i, 2], box[2])
                r2 = dx * dx + dy * dy + dz * dz
                if r2 >= r2_max:
                    continue
                n_found += 1
                if mode == 0:
                    x = (np.sqrt(r2) - lo) / width
                    if x >= 0.0:
                        m = int(x)
                        if m < n_bins:
                            out[m] += 1.0
                else:
                    x = (r2 - lo) / width
                    if x >= 0.0:
                        m = int(x)
                        if m < n_bins - 1:
                            f = x - m
                            out[m] += 1.0 - f
                            out[m + 1] += f
                        else:  # on the grid's last point (the caller's grid reaches r_max)
                            out[n_bins - 1] += 1.0
    return n_found


@njit_parallel
def _accumulate_frames(positions, box, r_max, mol, exclude, lo, width, n_bins, mode):
    """Per-frame accumulation (n_frames, n_bins) and number of pairs within r_max (n_frames,), frames in parallel."""
    n_frames = positions.shape[0]
    out = np.zeros((n_frames, n_bins))
    found = np.zeros(n_frames, np.int64)
    for f in prange(n_frames):
        found[f] = _accumulate_pairs(positions[f], box, r_max, mol, exclude, lo, width, n_bins, mode, out[f])
    return out, found


# --------------------------------------------------------------------------- public API

def pair_histogram(positions, box, *, r_max, bins, molecule=None, exclude=None, per_frame=False):
    """Counts of pairs with separation in each of ``bins`` equal bins of [0, r_max).

    Each unordered pair ``i < j`` that is not excluded is counted once per frame,
    using the minimum-image distance and cell lists (no N x N matrix).

    Parameters
    ----------
    positions : array_like, shape (n_frames, n_particles, 3) or (n_particles, 3)
    box : array_like, shape (3,)
        Edge lengths of the orthorhombic periodic box.
    r_max : float
        Upper end of the histogram, at most half the shortest box edge.
    bins : int
        Number of bins of width ``r_max / bins``.
    molecule : array_like of int, optional
        Molecule id of each particle, for intramolecular exclusions.
    exclude : int, optional
        Same-molecule pairs with ``|i - j| <= exclude`` are skipped (default: all).
    per_frame : bool
        Return (n_frames, bins) counts instead of their sum over frames.

    Returns
    -------
    edges : ndarray, shape (bins + 1,)
    counts : ndarray, shape (bins,) or (n_frames, bins)

    Raises
    ------
    ValueError
        If the box, the positions, ``r_max``, ``bins`` or the exclusions are invalid.

    Examples
    --------
    >>> pos = [[0.5, 0.5, 0.5], [1.5, 0.5, 0.5], [3.8, 0.5, 0.5]]
    >>> edges, counts = pair_histogram(pos, [4.0, 4.0, 4.0], r_max=2.0, bins=4)
    >>> counts
    array([0., 1., 1., 1.])
    """
    box = check_box(box)
    positions = check_positions(positions, box)
    r_max = check_cutoff(r_max, box)
    bins = as_count(bins, "bins", 8 * positions.shape[0])
    per_frame = as_flag(per_frame, "per_frame")
    n_particles = positions.shape[1]
    mol = molecule_ids(n_particles, molecule)
    excl = exclusion_range(exclude, n_particles)
    width = r_max / bins
    counts, _ = _accumulate_frames(positions, box, r_max, mol, excl, 0.0, width, bins, _NEAREST_BIN)
    edges = np.linspace(0.0, r_max, bins + 1)
    return edges, (counts if per_frame else counts.sum(axis=0))


def count_pairs(n_particles, molecule=None, exclude=None):
    """Number of unordered pairs that are not excluded (the ideal-gas normalisation).

    Examples
    --------
    >>> count_pairs(4, molecule=[0, 0, 1, 1])
    4
    """
    mol = molecule_ids(n_particles, molecule)
    excl = exclusion_range(exclude, n_particles)
    total = n_particles * (n_particles - 1) // 2
    ids, sizes = np.unique(mol, return_counts=True)
    for m in ids[sizes > 1]:
        members = np.flatnonzero(mol == m)
        d = members[None, :] - members[:, None]
        total -= int(np.sum((d > 0) & (d <= excl)))
    return total


def radial_distribution(positions, box, *, r_max, bins, molecule=None, exclude=None):
    """Radial distribution function g(r), averaged over frames.

    .. math::

        g(r_k) = \\frac{\\langle n_k \\rangle}{N_\\mathrm{pairs}\\, V_k / V},\\qquad
        V_k = \\tfrac{4\\pi}{3}\\,(r_{k+1}^3 - r_k^3),

    where :math:`n_k` counts non-excluded pairs in shell :math:`k`, :math:`N_\\mathrm{pairs}`
    is the number of non-excluded pairs (``N(N-1)/2`` without exclusions) and ``V`` the box
    volume, so an ideal gas gives ``g = 1``.

    Parameters
    ----------
    positions : array_like, shape (n_frames, n_particles, 3)
        Coordinates in ``[0, L)``; a single frame (n_particles, 3) is accepted.
    box : array_like, shape (3,)
        Edge lengths of the orthorhombic periodic box.
    r_max : float
        Largest distance, at most half the shortest box edge.
    bins : int
        Number of shells.
    molecule, exclude
        Intramolecular exclusions, as in :func:`pair_histogram`.

    Returns
    -------
    r : ndarray, shape (bins,)
        Shell midpoints.
    g : ndarray, shape (bins,)

    Raises
    ------
    ValueError
        If the box, the positions, ``r_max``, ``bins`` or the exclusions are invalid.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pos = rng.uniform(0, 10.0, size=(20, 500, 3))
    >>> r, g = radial_distribution(pos, [10.0, 10.0, 10.0], r_max=5.0, bins=5)
    >>> bool(np.all(np.abs(g[1:] - 1) < 0.05))
    True
    """
    box = check_box(box)
    positions = check_positions(positions, box)
    edges, counts = pair_histogram(positions, box, r_max=r_max, bins=bins, molecule=molecule, exclude=exclude)
    n_pairs = count_pairs(positions.shape[1], molecule, exclude)
    if n_pairs == 0:
        raise ValueError("molecule/exclude exclude every pair; g(r) is undefined")
    shell = 4.0 * np.pi / 3.0 * np.diff(edges**3)
    ideal = positions.shape[0] * n_pairs * shell / np.prod(box)
    return 0.5 * (edges[1:] + edges[:-1]), counts / ideal


def pair_grid_weights(positions, box, *, r_cut, s_grid, molecule=None, exclude=None):
    """Per-frame linear-interpolation weights of all pair distances on a grid of s = r².

    Pair ``(i, j)`` with :math:`s = r_{ij}^2` between grid points ``s_k`` and ``s_{k+1}``
    adds :math:`1 - t` to column ``k`` and :math:`t` to ``k+1``, with
    :math:`t = (s - s_k) / \\Delta s`.  Then for any function tabulated on the grid,
    ``weights @ f(s_grid)`` equals the frame sum :math:`\\sum_{i<j} f(r_{ij})` of its linear
    interpolant in ``s`` -- the same interpolation the Monte Carlo kernel uses.

    Returns an array of shape (n_frames, len(s_grid)).  A pair closer than
    ``sqrt(s_grid[0])`` has no place on the grid: it raises a ValueError instead of
    being dropped from the sums.

    Examples
    --------
    >>> pos = [[0.5, 0.5, 0.5], [1.75, 0.5, 0.5]]          # one pair, s = 1.5625
    >>> pair_grid_weights(pos, [4.0] * 3, r_cut=2.0, s_grid=[0.0, 1.0, 2.0, 3.0, 4.0]).tolist()
    [[0.0, 0.4375, 0.5625, 0.0, 0.0]]
    """
    box = check_box(box)
    positions = check_positions(positions, box)
    r_cut = check_cutoff(r_cut, box, "r_cut")
    s_grid = as_float_array(s_grid, "s_grid", ndim=1)
    width = s_grid[1] - s_grid[0] if s_grid.size >= 2 else 0.0
    if width <= 0 or not np.allclose(np.diff(s_grid), width, rtol=1e-6, atol=0.0):
        raise ValueError("s_grid must be an evenly spaced, increasing grid of at least 2 points")
    if s_grid[-1] < r_cut * r_cut:
        raise ValueError(f"s_grid must reach r_cut**2 = {r_cut * r_cut}, ends at {s_grid[-1]} (pairs beyond it would be dropped)")
    n_particles = positions.shape[1]
    mol = molecule_ids(n_particles, molecule)
    excl = exclusion_range(exclude, n_particles)
    weights, found = _accumulate_frames(positions, box, r_cut, mol, excl, s_grid[0], width, s_grid.size, _LINEAR_S)
    below = found - np.rint(weights.sum(axis=1)).astype(np.int64)  # every pair on the grid has weight 1
    if below.any():
        frame = int(np.argmax(below))
        raise ValueError(
            f"positions: frame {frame} has {below[frame]} pair(s) closer than sqrt(s_grid[0]) = "
            f"{np.sqrt(max(s_grid[0], 0.0)):.4g}, where s_grid starts; start the grid at or below the closest pair")
    return weights


@njit
def _pair_list(pos, box, r_max, mol, exclude):
    """All non-excluded pairs i < j closer than r_max: (i, j, separation (n, 3)) with d = x_j - x_i."""
    capacity = 16 + 4 * pos.shape[0]
    first = np.empty(capacity, np.int64)
    second = np.empty(capacity, np.int64)
    delta = np.empty((capacity, 3))
    n_cells = _grid_cells_per_edge(box, r_max, pos.shape[0])
    order, start, cell = _build_cells(pos, box, n_cells)
    offsets, n_off = _stencil_offsets(n_cells)
    r2_max = r_max * r_max
    n = 0
    neighbours = np.empty(27, np.int64)
    for i in range(pos.shape[0]):
        for q in range(_stencil_cells(cell[i], n_cells, offsets, n_off, neighbours)):
            c2 = neighbours[q]
            for k in range(start[c2], start[c2 + 1]):
                j = order[k]
                if j <= i or (mol[i] == mol[j] and j - i <= exclude):
                    continue
                dx = _min_image(pos[j, 0] - pos[i, 0], box[0])
                dy = _min_image(pos[j, 1] - pos[i, 1], box[1])
                dz = _min_image(pos[j, 2] - pos[i, 2], box[2])
                if dx * dx + dy * dy + dz * dz >= r2_max:
                    continue
                if n == capacity:
                    capacity *= 2
                    first = np.concatenate((first, np.empty(capacity - n, np.int64)))
                    second = np.concatenate((second, np.empty(capacity - n, np.int64)))
                    grown = np.empty((capacity, 3))
                    grown[:n] = delta[:n]
                    delta = grown
                first[n], second[n] = i, j
                delta[n, 0], delta[n, 1], delta[n, 2] = dx, dy, dz
                n += 1
    return first[:n], second[:n], delta[:n]


@dataclass(frozen=True)
class PairList:
    """The pairs of one frame closer than a cutoff, as returned by :func:`pair_list`.

    Attributes
    ----------
    i, j : ndarray of int, shape (n_pairs,)
        The particles of each pair, ``i < j``.
    delta : ndarray, shape (n_pairs, 3)
        Minimum-image separations :math:`\\mathbf{x}_j - \\mathbf{x}_i`.

    Examples
    --------
    >>> PairList(np.array([0]), np.array([1]), np.array([[0.6, 0.8, 0.0]])).distances.tolist()
    [1.0]
    """

    i: np.ndarray
    j: np.ndarray
    delta: np.ndarray

    @property
    def distances(self):
        """:math:`|\\mathbf{x}_j - \\mathbf{x}_i|`, shape (n_pairs,)."""
        return np.sqrt((self.delta**2).sum(axis=1))


def pair_list(positions, box, *, r_max, molecule=None, exclude=None):
    """Non-excluded pairs ``i < j`` of one frame closer than ``r_max`` (cell lists, O(N)).

    Parameters
    ----------
    positions : array_like, shape (n_particles, 3)
        One frame in ``[0, L)``.
    box : array_like, shape (3,)
    r_max : float
        Cutoff, at most half the shortest edge.
    molecule, exclude
        Intramolecular exclusions as in :func:`pair_histogram`.

    Returns
    -------
    PairList
        ``i``, ``j`` (n_pairs,) and the minimum-image separations ``delta`` (n_pairs, 3).

    Raises
    ------
    ValueError
        If the box, the positions (one frame) or ``r_max`` are invalid.

    Examples
    --------
    >>> pairs = pair_list([[0.5, 0.5, 0.5], [3.5, 0.5, 0.5]], [4.0, 4.0, 4.0], r_max=1.5)
    >>> pairs.i.tolist(), pairs.j.tolist(), pairs.delta.tolist(), pairs.distances.tolist()
    ([0], [1], [[-1.0, 0.0, 0.0]], [1.0])
    """
    box = check_box(box)
    positions = check_positions(positions, box)
    if positions.shape[0] != 1:
        raise ValueError("pair_list takes one frame of shape (n_particles, 3)")
    r_max = check_cutoff(r_max, box)
    n_particles = positions.shape[1]
    mol = molecule_ids(n_particles, molecule)
    return PairList(*_pair_list(positions[0], box, r_max, mol, exclusion_range(exclude, n_particles)))
