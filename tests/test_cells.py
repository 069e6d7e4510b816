"""Verlet lists with local refreshes (remlib.cells) against all-pairs numpy neighbour sets."""
import numpy as np
import pytest

from remlib.cells import list_index_kind, _refresh, _verlet_lists
from remlib.montecarlo import lattice_positions

BOX = np.array([7.0, 7.5, 8.0])


def all_pairs_neighbours(points, box, r_list, chain_length=1, exclude=0):
    """Sets {j : |q_i - q_j| < r_list (minimum image), j not excluded}, from all N² separations."""
    d = points[None, :, :] - points[:, None, :]
    d -= box * np.floor(d / box + 0.5)
    close = (d**2).sum(-1) < r_list**2
    i, j = np.indices(close.shape)
    close &= i != j
    close &= ~((i // chain_length == j // chain_length) & (np.abs(i - j) <= exclude))
    return [set(np.flatnonzero(row)) for row in close]


def list_sets(lists, size):
    sets = [set(lists[i, : size[i]]) for i in range(len(size))]
    assert [len(s) for s in sets] == list(size)  # no particle twice in one list
    return sets


def start_points(rng, n=240):
    return (lattice_positions(n, BOX) + rng.uniform(-0.3, 0.3, size=(n, 3))) % BOX


@pytest.mark.parametrize("kind", [np.uint16, np.int32])
@pytest.mark.parametrize("chain_length, exclude", [(1, 0), (6, 2)])
def test_lists_hold_exactly_the_pairs_within_the_list_radius(chain_length, exclude, kind):
    rng = np.random.default_rng(0)
    points = start_points(rng)
    _, _, lists, size = _verlet_lists(points, BOX, 3.1, chain_length, exclude, np.empty(0, kind))
    assert lists.dtype == kind
    assert list_sets(lists, size) == all_pairs_neighbours(points, BOX, 3.1, chain_length, exclude)


def test_list_ids_are_16_bit_up_to_65536_particles():
    assert list_index_kind(65536).dtype == np.uint16
    assert np.iinfo(list_index_kind(65536).dtype).max == 65535  # the largest id
    assert list_index_kind(65537).dtype == np.int32


@pytest.mark.parametrize("chain_length, exclude", [(1, 0), (6, 2)])
def test_local_refreshes_keep_the_lists_exact_and_symmetric(chain_length, exclude):
    """Hundreds of reference points moved one at a time, across cells and the periodic boundaries."""
    rng = np.random.default_rng(1)
    points = start_points(rng)
    n, r_list = len(points), 2.9
    grid, stencil, lists, size = _verlet_lists(points, BOX, r_list, chain_length, exclude,
                                               list_index_kind(len(points)))
    n_cells, coords, ids, count, where, slot = grid
    mark = np.zeros(n, np.int64)
    dist2, found = np.empty(8 * n + 8), np.empty(8 * n + 8, np.int64)
    for _ in range(600):
        i = int(rng.integers(n))
        x, y, z = (points[i] + rng.uniform(-0.6, 0.6, 3)) % BOX
        coords, ids, lists = _refresh(i, x, y, z, points, BOX, coords, ids, count, where, slot, n_cells, stencil,
                                      r_list, chain_length, exclude, lists, size, mark, dist2, found)
    np.testing.assert_array_equal(mark, 0)
    assert list_sets(lists, size) == all_pairs_neighbours(points, BOX, r_list, chain_length, exclude)
    # the cell grid of the reference points was kept up to date as well
    stored = np.array([coords[where[i], slot[i]] for i in range(n)])
    np.testing.assert_array_equal(stored, points)
    assert all(ids[where[i], slot[i]] == i for i in range(n))


def test_lists_grow_beyond_their_first_capacity():
    """Packing particles together after the build overflows the first list width."""
    rng = np.random.default_rng(2)
    points = start_points(rng, n=120)
    n, r_list = len(points), 2.5
    grid, stencil, lists, size = _verlet_lists(points, BOX, r_list, 1, 0, list_index_kind(len(points)))
    first_width = lists.shape[1]
    n_cells, coords, ids, count, where, slot = grid
    mark = np.zeros(n, np.int64)
    dist2, found = np.empty(8 * n + 8), np.empty(8 * n + 8, np.int64)
    for i in range(n):  # gather every reference point into a ball of radius 1
        x, y, z = (np.array([3.5, 3.7, 4.0]) + rng.uniform(-0.5, 0.5, 3)) % BOX
        coords, ids, lists = _refresh(i, x, y, z, points, BOX, coords, ids, count, where, slot, n_cells, stencil,
                                      r_list, 1, 0, lists, size, mark, dist2, found)
    assert lists.shape[1] > first_width
    assert list_sets(lists, size) == all_pairs_neighbours(points, BOX, r_list)


def test_the_build_widens_lists_for_clustered_points():
    """Half the points in a ball of radius 1 have far more neighbours than the uniform estimate."""
    rng = np.random.default_rng(3)
    points = start_points(rng, n=160)
    points[:80] = (np.array([3.5, 3.7, 4.0]) + rng.uniform(-0.5, 0.5, (80, 3))) % BOX
    r_list = 2.5
    _, _, lists, size = _verlet_lists(points, BOX, r_list, 1, 0, list_index_kind(len(points)))
    expected = 4.19 * r_list**3 * len(points) / BOX.prod()
    assert size.max() > 1.5 * expected + 16  # beyond the first width
    assert list_sets(lists, size) == all_pairs_neighbours(points, BOX, r_list)
