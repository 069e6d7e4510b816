"""Dynamic cell lists and Verlet neighbour lists for single-particle Monte Carlo moves.

Two structures keep the work of one move independent of the number of particles N:

* a **cell grid** (cells of edge at least a cutoff) holding each particle's stored point
  contiguously in its cell, updated when a point changes cell;
* **Verlet lists** with a skin :math:`s`: particle i's list holds every j with
  :math:`|\\mathbf{q}_i - \\mathbf{q}_j| < r_c + s`, where :math:`\\mathbf{q}` are
  *reference points* kept in a cell grid of their own.  As long as every particle stays
  within :math:`h = s/2` of its reference point,

  .. math::

      |\\mathbf{r}_i - \\mathbf{r}_j| < r_c \\;\\Rightarrow\\;
      |\\mathbf{q}_i - \\mathbf{q}_j| \\le |\\mathbf{r}_i - \\mathbf{r}_j| + 2h < r_c + s,

  so every pair inside the cutoff is in the lists.  When a particle would leave its
  ball, only *its* reference point moves and only the lists that involve it change
  (:func:`_refresh`): no global rebuild, whose cost would be set by the fastest of N
  particles.

The lists are kept symmetric (j in the list of i exactly when i is in the list of j):
every change is made to both lists at once.
"""
import numpy as np

from remlib._numba import njit
from remlib.neighbors import _cells_per_edge


@njit
def _excluded(i, j, chain_length, exclude):
    return i // chain_length == j // chain_length and abs(i - j) <= exclude


@njit
def _cell_indices(x, y, z, box, n_cells):
    """Cell indices (kx, ky, kz) along the three edges of the point (x, y, z) of the box."""
    kx = min(int(x / box[0] * n_cells[0]), n_cells[0] - 1)
    ky = min(int(y / box[1] * n_cells[1]), n_cells[1] - 1)
    kz = min(int(z / box[2] * n_cells[2]), n_cells[2] - 1)
    return kx, ky, kz


@njit
def _cell_of(x, y, z, box, n_cells):
    """Index of the cell holding the point (x, y, z) of the box."""
    kx, ky, kz = _cell_indices(x, y, z, box, n_cells)
    return (kx * n_cells[1] + ky) * n_cells[2] + kz


@njit
def _cell_grid(pos, box, width):
    """Cells of edge >= ``width`` holding their particles' coordinates contiguously.

    Returns ``n_cells`` (3,), ``coords`` (n_total, capacity, 3) and ``ids``
    (n_total, capacity) of the particles in each cell, ``count`` (n_total,), and per
    particle its cell ``where`` and its ``slot`` in that cell.
    """
    n_cells = _cells_per_edge(box, width)
    n_total = n_cells[0] * n_cells[1] * n_cells[2]
    where = np.empty(pos.shape[0], np.int64)
    slot = np.empty(pos.shape[0], np.int64)
    count = np.zeros(n_total, np.int64)
    for i in range(pos.shape[0]):
        where[i] = _cell_of(pos[i, 0], pos[i, 1], pos[i, 2], box, n_cells)
        count[where[i]] += 1
    capacity = 2 * count.max() + 8
    coords = np.zeros((n_total, capacity, 3))
    ids = np.empty((n_total, capacity), np.int64)
    count[:] = 0
    for i in range(pos.shape[0]):
        c = where[i]
        slot[i] = count[c]
        ids[c, slot[i]] = i
        coords[c, slot[i]] = pos[i]
        count[c] += 1
    return n_cells, coords, ids, count, where, slot


@njit
def _stencil(n_cells, box, r_cut):
    """Neighbour cells of every cell as small per-axis tables (no per-cell stencil arrays).

    Returns ``reach`` (3,): the largest cell offset along each edge that can hold a
    particle within r_cut; ``wrapped`` (3, m) and ``shift`` (3, m): for a cell index
    ``k + offset`` along edge d (stored at ``k + offset + reach.max()``) its periodic
    index and the image shift of its particles; and ``z_reach`` (2 reach_x + 1,
    2 reach_y + 1): the largest z offset worth visiting for each (x, y) offset (-1: none),
    from the gap between the home cell and the neighbour cell.  The particles of a
    neighbour cell displaced by its shifts are the periodic images next to the home
    cell, so distances need no minimum-image test; with few cells per edge a cell may be
    visited more than once with different shifts, and for r_cut <= L/2 at most one
    image of a particle lies within r_cut.
    """
    width = box / n_cells
    reach = np.empty(3, np.int64)
    for d in range(3):
        reach[d] = int(np.ceil(r_cut / width[d]))
    pad = reach.max()
    wrapped = np.zeros((3, n_cells.max() + 2 * pad), np.int64)
    shift = np.zeros((3, n_cells.max() + 2 * pad))
    for d in range(3):
        for k in range(-reach[d], n_cells[d] + reach[d]):
            w = k % n_cells[d]
            wrapped[d, k + pad] = w
            shift[d, k + pad] = (k - w) // n_cells[d] * box[d]
    z_reach = np.full((2 * reach[0] + 1, 2 * reach[1] + 1), -1, np.int64)
    for a in range(-reach[0], reach[0] + 1):
        for b in range(-reach[1], reach[1] + 1):
            gap_x = max(abs(a) - 1, 0) * width[0]
            gap_y = max(abs(b) - 1, 0) * width[1]
            rest = r_cut * r_cut - gap_x * gap_x - gap_y * gap_y
            if rest > 0.0:
                z_reach[a + reach[0], b + reach[1]] = min(reach[2], int(np.ceil(np.sqrt(rest) / width[2])))
    return reach, wrapped, shift, z_reach


@njit
def _move_to_cell(i, x, y, z, new_cell, coords, ids, count, where, slot):
    """Move particle i to (x, y, z) in ``new_cell``; returns (coords, ids), grown if full."""
    old = where[i]
    last = count[old] - 1
    moved = ids[old, last]
    ids[old, slot[i]] = moved
    coords[old, slot[i]] = coords[old, last]
    slot[moved] = slot[i]
    count[old] -= 1
    if count[new_cell] == ids.shape[1]:
        bigger_ids = np.empty((ids.shape[0], 2 * ids.shape[1]), np.int64)
        bigger_ids[:, : ids.shape[1]] = ids
        bigger = np.zeros((coords.shape[0], 2 * coords.shape[1], 3))
        bigger[:, : coords.shape[1]] = coords
        ids, coords = bigger_ids, bigger
    slot[i] = count[new_cell]
    ids[new_cell, slot[i]] = i
    coords[new_cell, slot[i], 0], coords[new_cell, slot[i], 1], coords[new_cell, slot[i], 2] = x, y, z
    count[new_cell] += 1
    where[i] = new_cell
    return coords, ids


@njit
def _gap(u, v, k, width):
    """Squared gap along one edge between the interval [min(u, v), max(u, v)] and cell k.

    Cell k (not wrapped: k may lie outside 0..n-1) spans [k w, (k + 1) w); the gap is
    made 1e-9 w smaller so that rounding in the cell assignment never hides a pair.
    """
    g = max(k * width - max(u, v), min(u, v) - (k + 1) * width, 0.0)
    g = max(g - 1e-9 * width, 0.0)
    return g * g


@njit
def _near_pairs(x, y, z, x0, y0, z0, with_old, chains, box, coords, ids, count, n_cells, stencil, last, s_lo,
                inv_ds, t_new, j_new, t_old, j_old):
    """Table coordinates t = (r^2 - s_lo) / ds < last of every particle near (x, y, z).

    One pass over the stencil of the cell of (x, y, z) computes the distances of every
    particle there to (x, y, z) and, if ``with_old``, to (x0, y0, z0) (which must lie
    in the same cell).  The table coordinates and ids of the particles inside the
    cutoff are packed into ``t_new`` (and ``t_old``) without branches (the store is
    unconditional, the fill counter grows only for pairs inside), so the unpredictable
    "inside the cutoff?" test costs no branch mispredictions; ids go to ``j_new, j_old``
    only if ``chains`` (they are needed only for exclusions, and loading them is not
    free).  Cells farther than the cutoff from both positions (a box test per cell) are
    skipped.  Returns the two fill counts.
    """
    reach, wrapped, shift, z_reach = stencil
    pad = reach.max()
    kx, ky, kz = _cell_indices(x, y, z, box, n_cells)
    cut2 = s_lo + last / inv_ds
    span_x, span_y, span_z = (x0, y0, z0) if with_old else (x, y, z)
    # unsigned indices and counters: numba then leaves out the wraparound of negative indices
    n_new = np.uint64(0)
    n_old = np.uint64(0)
    for a in range(-reach[0], reach[0] + 1):
        gap_x = _gap(x, span_x, kx + a, box[0] / n_cells[0])
        if gap_x >= cut2:
            continue
        ix = np.uint64(kx + a + pad)
        ax = x - shift[0, ix]
        bx = x0 - shift[0, ix]
        for b in range(-reach[1], reach[1] + 1):
            rest = cut2 - gap_x - _gap(y, span_y, ky + b, box[1] / n_cells[1])
            if rest <= 0.0:
                continue
            zr = z_reach[a + reach[0], b + reach[1]]
            iy = np.uint64(ky + b + pad)
            ay = y - shift[1, iy]
            by = y0 - shift[1, iy]
            row = (wrapped[0, ix] * n_cells[1] + wrapped[1, iy]) * n_cells[2]
            for c in range(-zr, zr + 1):
                if _gap(z, span_z, kz + c, box[2] / n_cells[2]) >= rest:
                    continue
                iz = np.uint64(kz + c + pad)
                cell = np.uint64(row + wrapped[2, iz])
                az = z - shift[2, iz]
                bz = z0 - shift[2, iz]
                for k in range(np.uint64(count[cell])):
                    px = coords[cell, k, 0]
                    py = coords[cell, k, 1]
                    pz = coords[cell, k, 2]
                    dx = px - ax
                    dy = py - ay
                    dz = pz - az
                    t = (dx * dx + dy * dy + dz * dz - s_lo) * inv_ds
                    t_new[n_new] = t
                    if chains:
                        j_new[n_new] = ids[cell, k]
                    n_new += np.uint64(t < last)
                    if with_old:
                        dx = px - bx
                        dy = py - by
                        dz = pz - bz
                        t = (dx * dx + dy * dy + dz * dz - s_lo) * inv_ds
                        t_old[n_old] = t
                        if chains:
                            j_old[n_old] = ids[cell, k]
                        n_old += np.uint64(t < last)
    return np.int64(n_new), np.int64(n_old)



@njit
def _hide(i, coords, where, slot):
    """Put particle i's stored copy at infinity so that it meets no other particle."""
    coords[where[i], slot[i], 0] = np.inf


# --------------------------------------------------------------------------- Verlet lists

@njit
def _neighbors_of(i, ref, box, coords, ids, count, where, slot, n_cells, stencil, r_list, chain_length, exclude,
                  dist2, found):
    """Ids of the reference points within ``r_list`` of ``ref[i]`` (i and its excluded chain
    neighbours left out) in ``found[:k]``; returns k.  ``stencil`` must be built for ``r_list``.
    """
    x, y, z = ref[i, 0], ref[i, 1], ref[i, 2]
    _hide(i, coords, where, slot)
    k, _ = _near_pairs(x, y, z, x, y, z, False, True, box, coords, ids, count, n_cells, stencil,
                       r_list * r_list, 0.0, 1.0, dist2, found, dist2, found)
    coords[where[i], slot[i], 0] = x
    if chain_length > 1:
        kept = 0
        for m in range(k):
            if not _excluded(i, found[m], chain_length, exclude):
                found[kept] = found[m]
                kept += 1
        k = kept
    return k


@njit
def _widened(lists, needed):
    """``lists`` copied into rows at least ``needed`` and twice as wide."""
    wider = np.empty((lists.shape[0], max(needed, 2 * lists.shape[1])), lists.dtype)
    wider[:, : lists.shape[1]] = lists
    return wider


@njit
def _remove(lists, size, i, j):
    """Remove j from the list of i (the last entry takes its place)."""
    for m in range(size[i]):
        if lists[i, m] == j:
            size[i] -= 1
            lists[i, m] = lists[i, size[i]]
            return


def list_index_kind(n_particles):
    """An empty array of the integer type that Verlet lists of ``n_particles`` use for ids.

    uint16 up to 65,536 particles (a list row is half as many bytes to fetch per move
    as with int32, which matters once the lists no longer fit in a core's cache), int32
    beyond.
    """
    return np.empty(0, np.uint16 if n_particles <= 65536 else np.int32)


@njit
def _verlet_lists(ref, box, r_list, chain_length, exclude, index_kind):
    """Reference grid and symmetric Verlet lists of the points ``ref`` (n, 3).

    Returns ``(grid, stencil, lists, size)``: ``grid`` the cell grid of the reference
    points (cells of edge >= r_list, see :func:`_cell_grid`), ``lists`` (n, capacity)
    of the integer type of ``index_kind`` (see :func:`list_index_kind`) with the ids of
    particle i's neighbours in ``lists[i, :size[i]]``.
    """
    n = ref.shape[0]
    grid = _cell_grid(ref, box, r_list)
    n_cells, coords, ids, count, where, slot = grid
    stencil = _stencil(n_cells, box, r_list)
    dist2, found = np.empty(8 * n + 8), np.empty(8 * n + 8, np.int64)
    expected = 4.19 * r_list**3 * n / (box[0] * box[1] * box[2])
    lists = np.empty((n, int(1.5 * expected) + 16), index_kind.dtype)
    size = np.zeros(n, np.int64)
    for i in range(n):
        k = _neighbors_of(i, ref, box, coords, ids, count, where, slot, n_cells, stencil, r_list,
                          chain_length, exclude, dist2, found)
        later = 0
        needed = 0
        for m in range(k):
            if found[m] > i:
                later += 1
                needed = max(needed, size[found[m]] + 1)
        needed = max(needed, size[i] + later)
        if needed > lists.shape[1]:  # widen once per particle, not per entry (see _refresh)
            lists = _widened(lists, needed)
        for m in range(k):
            j = found[m]
            if j > i:
                lists[i, size[i]] = j
                size[i] += 1
                lists[j, size[j]] = i
                size[j] += 1
    return grid, stencil, lists, size


@njit
def _refresh(i, x, y, z, ref, box, coords, ids, count, where, slot, n_cells, stencil, r_list,
             chain_length, exclude, lists, size, mark, dist2, found):
    """Move particle i's reference point to (x, y, z) and update every list that involves i.

    ``mark`` (n,) is zero on entry and on return.  Returns ``(coords, ids, lists)``,
    any of which may have been reallocated larger.
    """
    cell = _cell_of(x, y, z, box, n_cells)
    if cell == where[i]:
        coords[cell, slot[i], 0], coords[cell, slot[i], 1], coords[cell, slot[i], 2] = x, y, z
    else:
        coords, ids = _move_to_cell(i, x, y, z, cell, coords, ids, count, where, slot)
    ref[i, 0], ref[i, 1], ref[i, 2] = x, y, z
    k = _neighbors_of(i, ref, box, coords, ids, count, where, slot, n_cells, stencil, r_list,
                      chain_length, exclude, dist2, found)
    for m in range(size[i]):
        mark[lists[i, m]] = 1
    needed = k
    for m in range(k):
        j = found[m]
        if mark[j] == 1:
            mark[j] = 2  # a neighbour before and after
        else:
            needed = max(needed, size[j] + 1)
    # widen once, before writing: a helper that appends one entry and returns the array
    # would pass it back and forth (reference counting) and cost more than the search
    if needed > lists.shape[1]:
        lists = _widened(lists, needed)
    for m in range(k):
        j = found[m]
        if mark[j] == 0:  # a new neighbour
            lists[j, size[j]] = i
            size[j] += 1
    for m in range(size[i]):
        j = lists[i, m]
        if mark[j] == 1:  # a neighbour no longer
            _remove(lists, size, j, i)
        mark[j] = 0
    for m in range(k):
        lists[i, m] = found[m]
    size[i] = k
    return coords, ids, lists
