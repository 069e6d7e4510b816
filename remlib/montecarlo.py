"""Metropolis Monte Carlo (NVT) of particles with tabulated pair, bond and angle potentials.

The potential energy of a configuration is

.. math::

    U = \\sum_{i<j,\\ \\text{not excluded}} u(r_{ij})
        + \\sum_{\\text{bonds}} u_b(r) + \\sum_{\\text{angles}} u_a(\\vartheta),

with every term given as a table on a uniform grid and linearly interpolated: the
pair potential on a grid of :math:`s = r^2` (no square root in the inner loop), bonds
on a grid of ``r`` and angles on a grid of :math:`\\vartheta \\in [0, \\pi]`.  Outside its
grid a pair table is 0 beyond the cutoff and infinite below its first point (a hard
core), while bond and angle tables are infinite outside their grids.

Chains are ``chain_length`` consecutive particles; bonds join neighbours in a chain and
angles are formed by three consecutive beads.  A move displaces one particle uniformly
in a cube of half-edge ``step_size`` and is accepted with probability
:math:`\\min(1, e^{-\\beta \\Delta U})`.

Each move is O(1) in the number of particles.  By default the pair energy of a move
runs over the particle's Verlet list (cutoff plus a skin, see :mod:`remlib.cells`): one
loop over about :math:`\\tfrac{4}{3}\\pi\\rho (r_c + s)^3` neighbours that has no
branches, so the compiler vectorises it, gathering the neighbours' coordinates and the
table entries.  Lists need a step of at most :math:`s/\\sqrt{3}`; for longer steps (dilute
systems), or with ``skin=0``, the move runs over dynamic cell lists instead: one pass
over the neighbour cells that computes the distances of every neighbour to both the
old and the new position and packs the pairs inside the cutoff into a buffer without
branches before the table look-ups.

:func:`metropolis_chains` runs independent chains of one system in threads (the kernel
releases the GIL), one per core: on two cores, twice the samples in the same wall time.
"""
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from remlib._numba import njit, njit_with
from remlib._validation import (
    as_generator,
    as_positive_int,
    as_positive_scalar,
    as_count,
    check_memory,
    check_table,
    kernel_seed,
)
from remlib.cells import (
    _cell_grid,
    _cell_of,
    _excluded,
    _hide,
    _move_to_cell,
    _near_pairs,
    _refresh,
    _stencil,
    _verlet_lists,
    list_index_kind,
)
from remlib.neighbors import (
    _min_image,
    check_box,
    check_cutoff,
    check_positions,
    exclusion_range,
)

__all__ = ["Table", "MonteCarloResult", "tabulate_pair", "tabulate_bond", "tabulate_angle", "configuration_energy",
           "metropolis_particles", "metropolis_chains", "lattice_positions"]


# --------------------------------------------------------------------------- tables

@dataclass(frozen=True)
class Table:
    """A potential tabulated on a uniform grid of ``variable`` ("r2", "r" or "theta").

    Made by :func:`tabulate_pair`, :func:`tabulate_bond` and :func:`tabulate_angle`;
    calling it interpolates linearly.

    Attributes
    ----------
    grid : ndarray, shape (n_grid,)
        Uniform grid of the tabulation variable (``r**2`` for pair tables).
    values : ndarray, shape (n_grid,)
        Energies (kT units times beta) at the grid points.
    variable : str

    Examples
    --------
    >>> table = tabulate_bond(lambda r: (r - 1.0) ** 2, r_min=0.0, r_max=2.0, n_grid=3)
    >>> table.grid.tolist(), table.values.tolist(), float(table(0.5))
    ([0.0, 1.0, 2.0], [1.0, 0.0, 1.0], 0.5)
    """

    grid: np.ndarray
    values: np.ndarray
    variable: str

    @property
    def spacing(self):
        return float(self.grid[1] - self.grid[0])

    def __call__(self, x):
        """Linearly interpolated energy at ``x`` (a distance r for pair tables)."""
        x = np.asarray(x, dtype=float)
        t = x**2 if self.variable == "r2" else x
        inside = (t >= self.grid[0]) & (t <= self.grid[-1])
        outside = 0.0 if self.variable == "r2" else np.inf
        value = np.interp(t, self.grid, self.values)
        value = np.where(inside, value, outside)
        if self.variable == "r2":
            value = np.where(t < self.grid[0], np.inf, value)
        return value


def _tabulate(function, grid, points, variable, name):
    if not callable(function):
        raise TypeError(f"function ({name}) must be a callable u(x) of an array, got {type(function).__name__}")
    values = np.asarray(function(points), dtype=float)
    if values.shape != points.shape:
        raise ValueError(f"{name} must return one energy per point, got shape {values.shape}")
    if np.any(np.isnan(values)) or np.any(values == -np.inf):
        raise ValueError(f"{name} returned NaN or -inf on its tabulation grid")
    return Table(grid, values, variable)


def tabulate_pair(function, *, r_min, r_cut, n_grid=4096):
    """Tabulate a pair potential u(r) on a uniform grid of s = r² over [r_min², r_cut²].

    Below ``r_min`` the table is a hard core (infinite energy); beyond ``r_cut`` it is 0.

    Parameters
    ----------
    function : callable
        ``u(r)`` for an array of distances, returning one energy per distance (``+inf``
        allowed, NaN and ``-inf`` not).
    r_min : float
        Start of the table; below it the pair has a hard core (> 0).
    r_cut : float
        Cutoff (> ``r_min``).
    n_grid : int
        Grid points in :math:`s = r^2` (>= 2).

    Returns
    -------
    Table
        ``grid`` (n_grid,) of :math:`s` and ``values`` (n_grid,) of :math:`u(\\sqrt s)`.

    Raises
    ------
    ValueError
        If ``r_cut <= r_min``, a bound is not positive, ``n_grid < 2``, or ``function``
        returns the wrong shape, NaN or ``-inf``.
    TypeError
        If a bound is not a real number or ``n_grid`` not an integer.

    Examples
    --------
    >>> table = tabulate_pair(lambda r: 4 * (r**-12 - r**-6), r_min=0.8, r_cut=2.5)
    >>> round(float(table(2**(1 / 6))), 4)
    -1.0
    """
    r_min = as_positive_scalar(r_min, "r_min")
    r_cut = as_positive_scalar(r_cut, "r_cut")
    if r_cut <= r_min:
        raise ValueError(f"r_cut={r_cut} must exceed r_min={r_min}")
    n_grid = as_count(n_grid, "n_grid", 4 * 8, minimum=2)
    s = np.linspace(r_min**2, r_cut**2, n_grid)
    return _tabulate(function, s, np.sqrt(s), "r2", "pair potential")


def tabulate_bond(function, *, r_min, r_max, n_grid=2048):
    """Tabulate a bond potential u_b(r) on [r_min, r_max] (infinite outside).

    Parameters
    ----------
    function : callable
        ``u_b(r)`` for an array of bond lengths, one energy per length.
    r_min, r_max : float
        Range of the table, ``0 <= r_min < r_max``.
    n_grid : int
        Grid points (>= 2).

    Returns
    -------
    Table
        ``grid`` (n_grid,) of :math:`r` and ``values`` (n_grid,).

    Raises
    ------
    ValueError
        If ``r_max <= r_min``, ``r_min < 0``, ``n_grid < 2``, or ``function`` returns the
        wrong shape, NaN or ``-inf``.
    TypeError
        If a bound is not a real number or ``n_grid`` not an integer.

    Examples
    --------
    >>> bond = tabulate_bond(lambda r: 50 * (r - 1) ** 2, r_min=0.5, r_max=1.5)
    >>> round(float(bond(1.0)), 4), float(bond(1.6))
    (0.0, inf)
    """
    r_max = as_positive_scalar(r_max, "r_max")
    r_min = as_positive_scalar(r_min, "r_min", allow_zero=True)
    if r_max <= r_min:
        raise ValueError(f"r_max={r_max} must exceed r_min={r_min}")
    r = np.linspace(r_min, r_max, as_count(n_grid, "n_grid", 4 * 8, minimum=2))
    return _tabulate(function, r, r, "r", "bond potential")


def tabulate_angle(function, *, n_grid=1024):
    """Tabulate an angle potential u_a(θ) on [0, π].

    Parameters
    ----------
    function : callable
        ``u_a(theta)`` for an array of angles in radians (:math:`\\pi` = straight), one
        energy per angle.
    n_grid : int
        Grid points over :math:`[0, \\pi]` (>= 2).

    Returns
    -------
    Table
        ``grid`` (n_grid,) of :math:`\\vartheta` and ``values`` (n_grid,).

    Raises
    ------
    ValueError
        If ``n_grid < 2`` or ``function`` returns the wrong shape, NaN or ``-inf``.
    TypeError
        If ``n_grid`` is not an integer.

    Examples
    --------
    >>> angle = tabulate_angle(lambda t: 2.0 * (1 + np.cos(t)))
    >>> round(float(angle(np.pi / 2)), 4), round(float(angle(np.pi)), 4)
    (2.0, 0.0)
    """
    theta = np.linspace(0.0, np.pi, as_count(n_grid, "n_grid", 4 * 8, minimum=2))
    return _tabulate(function, theta, theta, "theta", "angle potential")


class _KernelTable(NamedTuple):
    """A :class:`Table` for the kernels: first grid point, spacing and values."""

    lo: float
    spacing: float
    values: np.ndarray


class _Tables(NamedTuple):
    """The pair (over r**2), bond (over r) and angle tables of one system."""

    pair: _KernelTable
    bond: _KernelTable
    angle: _KernelTable
    has_angles: bool


class _Chains(NamedTuple):
    """Linear chains of ``length`` consecutive particles; pairs of one chain with
    ``|i - j| <= exclude`` have no pair energy (``length=1``: free particles)."""

    length: int
    exclude: int


class _Schedule(NamedTuple):
    """What :func:`_metropolis` does: its cells, skin, step tuning and frames."""

    cell_width: float
    skin: float
    step: float
    n_frames: int
    burn_in: int
    thin: int
    target_acceptance: float


def _kernel_table(table, variable):
    """A :class:`_KernelTable` of ``table``; an empty one when ``table`` is None."""
    if table is None:
        return _KernelTable(0.0, 1.0, np.zeros(2))
    if not isinstance(table, Table) or table.variable != variable:
        raise TypeError(f"expected a Table over {variable!r}, got {table!r:.60}")
    return _KernelTable(float(table.grid[0]), table.spacing, np.ascontiguousarray(table.values))


# --------------------------------------------------------------------------- kernels

@njit
def _interp(x, lo, spacing, values):
    """Linear interpolation on a uniform grid; inf outside it."""
    t = (x - lo) / spacing
    if t < 0.0 or t > values.size - 1:
        return np.inf
    k = int(t)
    if k >= values.size - 1:
        return values[-1]
    f = t - k
    return values[k] * (1.0 - f) + values[k + 1] * f


@njit
def _lookup_below_last(t, table):
    """Linear interpolation at table coordinate t < table.size - 1 (t < 0 reads the first point).

    The index is unsigned so that numba, knowing it cannot be negative, leaves out the
    wraparound of negative indices.
    """
    tc = max(t, 0.0)
    q = np.uint64(tc)
    below = table[q]
    return below + (table[q + np.uint64(1)] - below) * (tc - q)


@njit
def _pair_delta(i, x, y, z, x0, y0, z0, with_old, box, coords, ids, count, n_cells, stencil,
                chain_length, exclude, s_lo, ds, table, t_new, j_new, t_old, j_old):
    """Pair energy of particle i at (x, y, z) minus (if ``with_old``) that at (x0, y0, z0).

    Both sums run over the stencil of the cell of (x, y, z); the caller passes
    ``with_old`` only when (x0, y0, z0) lies in the same cell.  Returns inf if the new
    position overlaps a hard core.  The caller hides particle i from the cells by
    setting its stored x coordinate to inf (see :func:`_hide`); excluded chain
    neighbours are skipped by their ids.  ``t_new, j_new, t_old, j_old`` are work
    buffers (length at least 8 n + 8).
    """
    inv_ds = 1.0 / ds
    chains = chain_length > 1
    n_new, n_old = _near_pairs(x, y, z, x0, y0, z0, with_old, chains, box, coords, ids, count, n_cells, stencil,
                               table.size - 1, s_lo, inv_ds, t_new, j_new, t_old, j_old)
    e = 0.0
    for m in range(n_new):
        if chains and _excluded(i, j_new[m], chain_length, exclude):
            continue
        t = t_new[m]
        if t < 0.0:
            return np.inf
        e += _lookup_below_last(t, table)
    for m in range(n_old):
        t = t_old[m]
        if t < 0.0 or (chains and _excluded(i, j_old[m], chain_length, exclude)):
            continue
        e -= _lookup_below_last(t, table)
    return e


@njit
def _work_buffers(n):
    """Work buffers for :func:`_pair_delta` (every image of every particle fits)."""
    size = 8 * n + 8
    return np.empty(size), np.empty(size, np.int64), np.empty(size), np.empty(size, np.int64)


@njit
def _move_delta(i, x, y, z, same, pos, box, coords, ids, count, where, slot, n_cells, stencil,
                chain_length, exclude, s_lo, ds, table, buffers):
    """Pair-energy change when particle i moves from ``pos[i]`` to (x, y, z) (inf: hard core).

    ``same`` tells whether (x, y, z) lies in particle i's current cell: then one fused
    pass gives new minus old energy, else the old energy needs a second pass over the
    old cell's stencil.  The cells are left unchanged.
    """
    t_new, j_new, t_old, j_old = buffers
    _hide(i, coords, where, slot)
    delta = _pair_delta(i, x, y, z, pos[i, 0], pos[i, 1], pos[i, 2], same, box, coords, ids, count,
                        n_cells, stencil, chain_length, exclude, s_lo, ds, table, t_new, j_new, t_old, j_old)
    if delta != np.inf and not same:
        delta -= _pair_delta(i, pos[i, 0], pos[i, 1], pos[i, 2], 0.0, 0.0, 0.0, False, box, coords, ids,
                             count, n_cells, stencil, chain_length, exclude, s_lo, ds, table,
                             t_new, j_new, t_old, j_old)
    coords[where[i], slot[i], 0] = pos[i, 0]
    return delta


@njit_with(fastmath={"reassoc", "nsz", "contract"})
def _list_delta(neighbors, size, pos, box, inv_box, x0, y0, z0, dx, dy, dz, s_lo, ds, table):
    """Pair-energy change when a particle at (x0, y0, z0) moves by (dx, dy, dz) (inf: hard core).

    ``neighbors[:size]`` must hold every particle within the cutoff of both positions;
    ``inv_box`` is ``1 / box``.  The loop has no branch the compiler cannot turn into
    masked vector loads, so it vectorises, gathering the neighbours' coordinates and
    the table entries of the pairs inside the cutoff (``reassoc`` lets the sum be split
    across vector lanes).  The inverse edges come in as an array: computed here, the
    products ``o * (1 / L)`` of the minimum image would be folded back into divisions.
    """
    inv_ds = 1.0 / ds
    last = table.size - 1
    e = 0.0
    hard = 0
    for m in range(size):
        j = neighbors[m]
        ox = pos[j, 0] - x0
        oy = pos[j, 1] - y0
        oz = pos[j, 2] - z0
        ox -= box[0] * np.rint(ox * inv_box[0])
        oy -= box[1] * np.rint(oy * inv_box[1])
        oz -= box[2] * np.rint(oz * inv_box[2])
        t = (ox * ox + oy * oy + oz * oz - s_lo) * inv_ds
        if t < last:
            e -= _lookup_below_last(t, table)
        ox -= dx
        oy -= dy
        oz -= dz
        t = (ox * ox + oy * oy + oz * oz - s_lo) * inv_ds
        hard += t < 0.0
        if t < last:
            e += _lookup_below_last(t, table)
    return np.inf if hard else e


@njit
def _bond_vector(pos, box, i, j):
    """The minimum-image vector from particle i to particle j (a tuple: no allocation)."""
    return (_min_image(pos[j, 0] - pos[i, 0], box[0]), _min_image(pos[j, 1] - pos[i, 1], box[1]),
            _min_image(pos[j, 2] - pos[i, 2], box[2]))


@njit
def _bond_energy(pos, box, i, j, b_lo, b_dr, b_tab):
    v = _bond_vector(pos, box, i, j)
    return _interp(np.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2), b_lo, b_dr, b_tab)


@njit
def _angle_energy(pos, box, i, j, k, a_lo, a_dt, a_tab):
    """Energy of the angle i-j-k (vertex j)."""
    u = _bond_vector(pos, box, j, i)
    v = _bond_vector(pos, box, j, k)
    c = (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / np.sqrt(
        (u[0] ** 2 + u[1] ** 2 + u[2] ** 2) * (v[0] ** 2 + v[1] ** 2 + v[2] ** 2))
    c = min(1.0, max(-1.0, c))
    return _interp(np.arccos(c), a_lo, a_dt, a_tab)


@njit
def _bonded_energy_of(pos, box, i, chain_length, b_lo, b_dr, b_tab, has_angles, a_lo, a_dt, a_tab):
    """Bond and angle energy of all terms that involve bead i."""
    if chain_length == 1:
        return 0.0
    k = i % chain_length
    e = 0.0
    if k > 0:
        e += _bond_energy(pos, box, i - 1, i, b_lo, b_dr, b_tab)
    if k < chain_length - 1:
        e += _bond_energy(pos, box, i, i + 1, b_lo, b_dr, b_tab)
    if has_angles:
        for vertex in range(i - 1, i + 2):
            kv = vertex % chain_length
            if vertex // chain_length == i // chain_length and 0 < kv < chain_length - 1 and vertex >= 1:
                e += _angle_energy(pos, box, vertex - 1, vertex, vertex + 1, a_lo, a_dt, a_tab)
    return e


@njit_with(nogil=True)
def _total_energy(pos, box, r_cut, chains, tables):
    """Total energy of one configuration: half the sum of per-particle pair energies + bonds + angles.

    ``chains`` is a :class:`_Chains`, ``tables`` a :class:`_Tables`.
    """
    chain_length, exclude = chains
    (s_lo, ds, p_tab), (b_lo, b_dr, b_tab), (a_lo, a_dt, a_tab), has_angles = tables
    n_cells, coords, ids, count, where, slot = _cell_grid(pos, box, r_cut)
    stencil = _stencil(n_cells, box, r_cut)
    t_new, j_new, t_old, j_old = _work_buffers(pos.shape[0])
    pair = 0.0
    for i in range(pos.shape[0]):
        _hide(i, coords, where, slot)
        pair += _pair_delta(i, pos[i, 0], pos[i, 1], pos[i, 2], 0.0, 0.0, 0.0, False, box, coords, ids, count,
                            n_cells, stencil, chain_length, exclude, s_lo, ds, p_tab, t_new, j_new, t_old, j_old)
        coords[where[i], slot[i], 0] = pos[i, 0]
    e = 0.5 * pair
    if chain_length > 1:
        for i in range(pos.shape[0]):
            k = i % chain_length
            if k < chain_length - 1:
                e += _bond_energy(pos, box, i, i + 1, b_lo, b_dr, b_tab)
            if has_angles and 0 < k < chain_length - 1:
                e += _angle_energy(pos, box, i - 1, i, i + 1, a_lo, a_dt, a_tab)
    return e


@njit
def _wrap(x, length):
    return x - length * np.floor(x / length)


@njit
def _automatic_skin(r_cut, step):
    """The default Verlet skin: a quarter of the cutoff, or three steps if that is more."""
    return max(0.25 * r_cut, 3.0 * step)


@njit_with(nogil=True)
def _metropolis(pos, energy, box, beta, r_cut, chains, tables, schedule, seed, index_kind):
    """Metropolis NVT from ``pos`` with total energy ``energy``, as ``schedule`` says.

    ``chains`` is a :class:`_Chains`, ``tables`` a :class:`_Tables` and ``schedule`` a
    :class:`_Schedule` (``burn_in`` and ``thin`` in sweeps).  Verlet lists hold particle
    ids of the integer type of ``index_kind``.

    A sweep uses Verlet lists of radius r_cut + skin when its step allows them (a step
    of at most skin / sqrt(3), so that the old and the trial position both lie within
    skin / 2 of their midpoint, the new reference point of a refreshed particle; and
    r_cut + skin < L / 2, so that a list holds one image of each neighbour), else cell
    lists.  ``skin < 0`` asks for :func:`_automatic_skin`, renewed (with a rebuild of the
    lists) when the tuned step has moved it by more than 30 %, and given up for cell
    lists beyond r_cut (lists would then be longer than the cell stencil).  The step
    changes only during burn-in, so production uses one kind of list throughout.
    Returns frames, per-frame energies, production acceptance and the final step size.
    """
    np.random.seed(seed)
    # the bundles are unpacked once here: the kernels of one move take flat arrays, since
    # reading an array out of a bundle costs an atomic reference count in the move's loop
    chain_length, exclude = chains
    (s_lo, ds, p_tab), (b_lo, b_dr, b_tab), (a_lo, a_dt, a_tab), has_angles = tables
    cell_width, skin, step, n_frames, burn_in, thin, target_acceptance = schedule
    n = pos.shape[0]
    automatic = skin < 0.0
    skin_used = _automatic_skin(r_cut, step) if automatic else skin
    n_cells, coords, ids, count, where, slot = _cell_grid(pos, box, cell_width)
    stencil = _stencil(n_cells, box, r_cut)
    buffers = _work_buffers(n)
    ref = pos.copy()
    lists = np.empty((n, 1), index_kind.dtype)
    size = np.zeros(n, np.int64)
    mark = np.zeros(n, np.int64)
    using_lists = False
    max_step = 0.5 * box.min()
    inv_box = 1.0 / box
    frames = np.empty((n_frames, n, 3))
    energies = np.empty(n_frames)
    old = np.empty(3)
    accepted_production = 0
    frame = 0
    for sweep in range(burn_in + n_frames * thin):
        renew = automatic and not 1.0 / 1.3 < skin_used / _automatic_skin(r_cut, step) < 1.3
        if renew:
            skin_used = _automatic_skin(r_cut, step)
        r_list = (r_cut + skin_used) * (1.0 + 1e-12)  # rounding in the distances never drops a pair
        half_skin2 = 0.25 * skin_used * skin_used
        if (skin_used > 0.0 and np.sqrt(3.0) * step <= skin_used and r_list < 0.5 * box.min()
                and not (automatic and skin_used > r_cut)):
            if renew or not using_lists:
                ref[:] = pos
                grid, stencil, lists, size = _verlet_lists(ref, box, r_list, chain_length, exclude, index_kind)
                n_cells, coords, ids, count, where, slot = grid
                using_lists = True
        elif using_lists:
            n_cells, coords, ids, count, where, slot = _cell_grid(pos, box, cell_width)
            stencil = _stencil(n_cells, box, r_cut)
            using_lists = False
        accepted = 0
        for _ in range(n):
            i = np.random.randint(n)
            dx = step * (2.0 * np.random.random() - 1.0)
            dy = step * (2.0 * np.random.random() - 1.0)
            dz = step * (2.0 * np.random.random() - 1.0)
            x = _wrap(pos[i, 0] + dx, box[0])
            y = _wrap(pos[i, 1] + dy, box[1])
            z = _wrap(pos[i, 2] + dz, box[2])
            cell = -1
            if using_lists:
                away = (_min_image(x - ref[i, 0], box[0]) ** 2 + _min_image(y - ref[i, 1], box[1]) ** 2
                        + _min_image(z - ref[i, 2], box[2]) ** 2)
                if away > half_skin2:
                    coords, ids, lists = _refresh(
                        i, _wrap(pos[i, 0] + 0.5 * dx, box[0]), _wrap(pos[i, 1] + 0.5 * dy, box[1]),
                        _wrap(pos[i, 2] + 0.5 * dz, box[2]), ref, box, coords, ids, count, where, slot, n_cells,
                        stencil, r_list, chain_length, exclude, lists, size, mark, buffers[0], buffers[1])
                delta = _list_delta(lists[i], size[i], pos, box, inv_box, pos[i, 0], pos[i, 1], pos[i, 2],
                                    dx, dy, dz, s_lo, ds, p_tab)
            else:
                cell = _cell_of(x, y, z, box, n_cells)
                delta = _move_delta(i, x, y, z, cell == where[i], pos, box, coords, ids, count, where, slot,
                                    n_cells, stencil, chain_length, exclude, s_lo, ds, p_tab, buffers)
            if delta == np.inf:
                continue
            if chain_length > 1:
                for d in range(3):
                    old[d] = pos[i, d]
                before = _bonded_energy_of(pos, box, i, chain_length, b_lo, b_dr, b_tab, has_angles, a_lo, a_dt, a_tab)
                pos[i, 0], pos[i, 1], pos[i, 2] = x, y, z
                after = _bonded_energy_of(pos, box, i, chain_length, b_lo, b_dr, b_tab, has_angles, a_lo, a_dt, a_tab)
                pos[i, 0], pos[i, 1], pos[i, 2] = old[0], old[1], old[2]
                delta += after - before
                if delta == np.inf:
                    continue
            if delta <= 0.0 or np.random.random() < np.exp(-beta * delta):
                pos[i, 0], pos[i, 1], pos[i, 2] = x, y, z
                energy += delta
                accepted += 1
                if cell == where[i]:
                    coords[cell, slot[i], 0], coords[cell, slot[i], 1], coords[cell, slot[i], 2] = x, y, z
                elif not using_lists:
                    coords, ids = _move_to_cell(i, x, y, z, cell, coords, ids, count, where, slot)
        rate = accepted / n
        if sweep < burn_in:
            step = min(step * np.exp(rate - target_acceptance), max_step)
        else:
            accepted_production += accepted
            if (sweep - burn_in + 1) % thin == 0:
                frames[frame] = pos
                energies[frame] = energy
                frame += 1
    acceptance = accepted_production / (n * n_frames * thin)
    return frames, energies, acceptance, step


# --------------------------------------------------------------------------- public API

@dataclass
class MonteCarloResult:
    """Frames sampled by :func:`metropolis_particles`.

    Attributes
    ----------
    frames : ndarray, shape (n_frames, n_particles, 3)
        Coordinates in ``[0, L)``.
    energies : ndarray, shape (n_frames,)
        Total potential energy of each frame.
    acceptance : float
        Fraction of accepted moves after burn-in.
    step_size : float
        Displacement half-width used after burn-in (tuned).
    box : ndarray, shape (3,)

    Examples
    --------
    >>> table = tabulate_pair(lambda r: 4 * (r**-12 - r**-6), r_min=0.8, r_cut=2.5)
    >>> run = metropolis_particles(lattice_positions(64, [5.0] * 3), [5.0] * 3, table, n_frames=2, seed=0)
    >>> run.frames.shape, run.energies.shape
    ((2, 64, 3), (2,))
    """

    frames: np.ndarray
    energies: np.ndarray
    acceptance: float
    step_size: float
    box: np.ndarray


def _check_chain(chain_length, n_particles, bond, angle):
    chain_length = as_positive_int(chain_length, "chain_length")
    if n_particles % chain_length:
        raise ValueError(f"chain_length={chain_length} does not divide the number of particles {n_particles}")
    if chain_length > 1 and bond is None:
        raise ValueError("chains (chain_length > 1) need a bond table (tabulate_bond)")
    if angle is not None and chain_length < 3:
        raise ValueError("an angle table needs chains of at least 3 beads")
    return chain_length


def _kernel_tables(pair, bond, angle):
    check_table(pair, "pair", "r2")
    check_table(bond, "bond", "r", optional=True)
    check_table(angle, "angle", "theta", optional=True)
    return _Tables(_kernel_table(pair, "r2"), _kernel_table(bond, "r"), _kernel_table(angle, "theta"),
                   angle is not None)


def configuration_energy(positions, box, pair, *, chain_length=1, exclude=None, bond=None, angle=None):
    """Total potential energy of each frame (pairs + bonds + angles), shape (n_frames,).

    Parameters
    ----------
    positions : array_like, shape (n_frames, n_particles, 3) or (n_particles, 3)
        Configurations in ``[0, L)``.
    box : array_like, shape (3,)
        Edges :math:`L` of the periodic box.
    pair : Table
        Pair table from :func:`tabulate_pair`; its cutoff must not exceed half the box.
    chain_length, exclude, bond, angle
        Chains as in :func:`metropolis_particles` (``exclude`` defaults to 0 here: only
        the particle itself is left out).

    Returns
    -------
    ndarray, shape (n_frames,)
        :math:`U` of each frame (``inf`` for an overlap inside a hard core).

    Raises
    ------
    ValueError
        If the box, the positions, the cutoff or the chain options are invalid.
    TypeError
        If a table is not a :class:`Table` over the right variable.

    Examples
    --------
    >>> table = tabulate_pair(lambda r: 4 * (r**-12 - r**-6), r_min=0.8, r_cut=2.5)
    >>> pos = [[1.0, 1.0, 1.0], [2.0, 1.0, 1.0]]
    >>> round(float(configuration_energy(pos, [6.0, 6.0, 6.0], table)[0]), 4)
    0.0
    """
    box = check_box(box)
    positions = check_positions(positions, box)
    r_cut = check_cutoff(np.sqrt(check_table(pair, "pair", "r2").grid[-1]), box, "r_cut")
    chain_length = _check_chain(chain_length, positions.shape[1], bond, angle)
    excl = exclusion_range(exclude if chain_length > 1 else 0, positions.shape[1])
    chains = _Chains(chain_length, excl)
    tables = _kernel_tables(pair, bond, angle)
    return np.array([_total_energy(frame, box, r_cut, chains, tables) for frame in positions])


def _chain_runner(box, pair, n_particles, *, n_frames, beta=1.0, burn_in=200, thin=1, step_size=0.1,
                  target_acceptance=0.4, chain_length=1, exclude=None, bond=None, angle=None, skin=None,
                  cells_per_cutoff=1):
    """Validate the keywords of :func:`metropolis_particles`; return ``run(start, seed)``.

    ``run`` checks that ``start`` (n_particles, 3) has finite energy, samples one chain
    from it with the kernel seed ``seed`` (an int) and returns a :class:`MonteCarloResult`.
    It releases the GIL while it samples, so chains can run in threads.
    """
    r_cut = check_cutoff(np.sqrt(check_table(pair, "pair", "r2").grid[-1]), box, "r_cut of the pair table")
    cell_width = r_cut / as_positive_int(cells_per_cutoff, "cells_per_cutoff")
    skin = -1.0 if skin is None else as_positive_scalar(skin, "skin", allow_zero=True)
    chain_length = _check_chain(chain_length, n_particles, bond, angle)
    excl = exclusion_range(1 if exclude is None else exclude, n_particles) if chain_length > 1 else 0
    beta = as_positive_scalar(beta, "beta")
    n_frames = as_positive_int(n_frames, "n_frames")
    check_memory("n_frames", n_frames, 8 * 3 * n_frames * n_particles)
    burn_in = as_positive_int(burn_in, "burn_in", minimum=0)
    thin = as_positive_int(thin, "thin")
    step_size = as_positive_scalar(step_size, "step_size")
    target_acceptance = as_positive_scalar(target_acceptance, "target_acceptance")
    if target_acceptance >= 1:
        raise ValueError(f"target_acceptance must be in (0, 1), got {target_acceptance}")
    chains = _Chains(chain_length, excl)
    tables = _kernel_tables(pair, bond, angle)
    schedule = _Schedule(cell_width, skin, step_size, n_frames, burn_in, thin, target_acceptance)

    def run(start, seed):
        energy = _total_energy(start, box, r_cut, chains, tables)
        if not np.isfinite(energy):
            raise ValueError(
                "positions: the starting configuration has infinite energy (overlapping particles inside the "
                "hard core of the pair table, or a bond/angle outside its table); start from a lattice or a "
                "frame of the target system"
            )
        frames, energies, acceptance, step = _metropolis(
            start.copy(), energy, box, beta, r_cut, chains, tables, schedule, seed, list_index_kind(len(start)))
        return MonteCarloResult(frames, energies, float(acceptance), float(step), box)

    return run


def _warn_if_frozen(result):
    if result.acceptance < 0.01:
        warnings.warn(
            f"Monte Carlo acceptance is {result.acceptance:.2g}: the chain barely moves. Allow burn-in sweeps "
            "so the step size can be tuned, or lower step_size.", RuntimeWarning, stacklevel=3)


def metropolis_particles(positions, box, pair, *, n_frames, beta=1.0, burn_in=200, thin=1,
                         step_size=0.1, target_acceptance=0.4, chain_length=1, exclude=None,
                         bond=None, angle=None, skin=None, cells_per_cutoff=1, seed=None):
    """Metropolis NVT Monte Carlo of particles; returns frames after burn-in.

    Each attempted move displaces one random particle by a uniform vector in
    :math:`[-\\delta, \\delta]^3` and accepts with probability
    :math:`\\min(1, e^{-\\beta \\Delta U})`.  During burn-in the step :math:`\\delta` is
    multiplied by :math:`e^{a - a^*}` after every sweep (``a`` the sweep's acceptance,
    :math:`a^*` = ``target_acceptance``); in production it is fixed.

    Parameters
    ----------
    positions : array_like, shape (n_particles, 3)
        Starting configuration inside ``[0, L)``; must have finite energy.
    box : array_like, shape (3,)
    pair : Table
        Pair potential from :func:`tabulate_pair`; its cutoff must not exceed half the box.
    n_frames : int
        Number of frames returned, one every ``thin`` sweeps (N attempted moves each).
    beta : float
        Inverse temperature.
    burn_in : int
        Sweeps discarded (and used to tune the step) before the first frame.
    step_size, target_acceptance : float
        Initial half-width of the displacement and the acceptance the tuning aims at.
    chain_length, exclude, bond, angle
        Linear chains of ``chain_length`` consecutive beads with a bond table
        (:func:`tabulate_bond`) and optional angle table (:func:`tabulate_angle`); pair
        interactions between beads of one chain with ``|i - j| <= exclude`` are skipped
        (default ``exclude=1``: bonded neighbours).
    skin : float, optional
        Verlet-list skin s: each particle's list holds its neighbours within
        ``r_cut + s`` of a reference point it stays within s/2 of (see
        :mod:`remlib.cells`).  Lists are used while the step is at most
        :math:`s/\\sqrt{3}` and ``r_cut + s`` is below half the box; otherwise, and
        with ``skin=0``, moves run over cell lists.  The default follows the step:
        ``max(r_cut / 4, 3 * step)`` (a larger skin means longer lists, a smaller one
        more list updates), with cell lists once that exceeds ``r_cut``.  The chain does
        not depend on it beyond rounding.
    cells_per_cutoff : int
        Cells of edge at least ``r_cut / cells_per_cutoff`` for moves over cell lists.
        With the branch-free pair pass, 1 (27 cells of about 20 particles each at
        rho = 0.8) is faster than 2 (125 smaller cells), most of all for large N.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    MonteCarloResult

    Raises
    ------
    ValueError
        If an argument is out of range, the cutoff exceeds half the box, the chain options
        do not fit the particles, or the start has infinite energy.
    TypeError
        If a table is not a :class:`Table` over the right variable, or ``seed`` is not
        None, an int or a Generator.

    Warns
    -----
    RuntimeWarning
        If fewer than 1 % of the production moves are accepted.

    Examples
    --------
    >>> table = tabulate_pair(lambda r: 4 * (r**-12 - r**-6) + 0.0163, r_min=0.7, r_cut=2.5)
    >>> start = np.stack(np.meshgrid(*[np.arange(5) * 1.2 + 0.1] * 3), -1).reshape(-1, 3)
    >>> result = metropolis_particles(start, [6.0] * 3, table, n_frames=5, burn_in=20, seed=1)
    >>> result.frames.shape, 0.2 < result.acceptance < 0.6
    ((5, 125, 3), True)
    """
    box = check_box(box)
    positions = check_positions(positions, box)
    if positions.shape[0] != 1:
        raise ValueError("positions must be one starting configuration of shape (n_particles, 3)")
    run = _chain_runner(box, pair, positions.shape[1], n_frames=n_frames, beta=beta, burn_in=burn_in, thin=thin,
                        step_size=step_size, target_acceptance=target_acceptance, chain_length=chain_length,
                        exclude=exclude, bond=bond, angle=angle, skin=skin, cells_per_cutoff=cells_per_cutoff)
    result = run(positions[0], kernel_seed(seed))
    _warn_if_frozen(result)
    return result


def metropolis_chains(positions, box, pair, *, n_chains, n_workers=None, seed=None, **options):
    """Independent Metropolis chains of one system, run in parallel threads.

    Chain k is exactly the chain that :func:`metropolis_particles` samples when it is
    called k + 1 times in a row with one ``numpy.random.Generator`` as its ``seed``
    (each call draws the kernel seed of one chain), so the chains do not depend on
    ``n_workers`` or on how the threads are scheduled.  Pooled frames of independent
    chains give averages with ``n_chains`` times the samples in the wall time of one
    chain on a machine with ``n_chains`` cores.

    Parameters
    ----------
    positions : array_like, shape (n_particles, 3) or (n_chains, n_particles, 3)
        One starting configuration for all chains, or one per chain.
    box : array_like, shape (3,)
    pair : Table
    n_chains : int
    n_workers : int, optional
        Threads (default: ``min(n_chains, os.cpu_count())``).
    seed : None, int or numpy.random.Generator
    **options
        Every other keyword of :func:`metropolis_particles` (``n_frames`` is required),
        applied to each chain.

    Returns
    -------
    list of MonteCarloResult
        One per chain; ``np.concatenate([c.frames for c in chains])`` pools the frames.

    Raises
    ------
    ValueError
        As :func:`metropolis_particles`, and if ``positions`` holds neither one nor
        ``n_chains`` configurations.
    TypeError
        As :func:`metropolis_particles`.

    Examples
    --------
    >>> table = tabulate_pair(lambda r: 4 * (r**-12 - r**-6) + 0.0163, r_min=0.7, r_cut=2.5)
    >>> start = lattice_positions(125, [6.0] * 3)
    >>> chains = metropolis_chains(start, [6.0] * 3, table, n_chains=2, n_frames=4, burn_in=20, seed=1)
    >>> [c.frames.shape for c in chains]
    [(4, 125, 3), (4, 125, 3)]
    """
    box = check_box(box)
    n_chains = as_positive_int(n_chains, "n_chains")
    starts = check_positions(positions, box)
    check_memory("n_chains", n_chains, 8.0 * 3 * n_chains * starts.shape[1])  # one configuration per chain
    if starts.shape[0] not in (1, n_chains):
        raise ValueError(f"positions must hold one starting configuration or n_chains={n_chains} of them, "
                         f"got {starts.shape[0]}")
    starts = np.repeat(starts, n_chains // starts.shape[0], axis=0)
    n_workers = min(n_chains, os.cpu_count() or 1) if n_workers is None else as_positive_int(n_workers, "n_workers")
    run = _chain_runner(box, pair, starts.shape[1], **options)
    rng = as_generator(seed)
    seeds = [kernel_seed(rng) for _ in range(n_chains)]
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        chains = list(pool.map(run, starts, seeds))
    for chain in chains:
        _warn_if_frozen(chain)
    return chains


def lattice_positions(n_particles, box):
    """``n_particles`` points of a simple cubic lattice filling ``box`` (a safe MC start).

    The lattice has :math:`\\lceil n^{1/3}\\rceil` points per edge, at the centres of
    equal cells; the first ``n_particles`` of them are returned.

    Parameters
    ----------
    n_particles : int
        Number of points (>= 2).
    box : array_like, shape (3,)

    Returns
    -------
    ndarray, shape (n_particles, 3)

    Raises
    ------
    ValueError
        If the box is invalid or ``n_particles < 2``.

    Examples
    --------
    >>> lattice_positions(8, [2.0, 2.0, 2.0])[:2]
    array([[0.5, 0.5, 0.5],
           [0.5, 0.5, 1.5]])
    """
    box = check_box(box)
    n_particles = as_count(n_particles, "n_particles", 3 * 8, minimum=2)
    per_edge = int(np.ceil(n_particles ** (1 / 3) - 1e-9))
    grid = (np.arange(per_edge) + 0.5) / per_edge
    points = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), -1).reshape(-1, 3)
    return points[:n_particles] * box
