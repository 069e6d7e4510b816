"""Cell lists, pair histograms and g(r) against all-pairs numpy references."""
import numpy as np
import pytest

from remlib.fluids import radial_distribution
from remlib.neighbors import (
    count_pairs,
    minimum_image,
    pair_grid_weights,
    pair_histogram,
    pair_list,
    wrap_positions,
)


def all_pairs(frame, box, molecule=None, exclude=None):
    """Reference: every pair i < j with its minimum-image distance (same arithmetic as the kernel)."""
    n = len(frame)
    i, j = np.triu_indices(n, k=1)
    delta = frame[j] - frame[i]
    delta = delta - box * np.floor(delta / box + 0.5)
    keep = np.ones(i.size, bool)
    if molecule is not None:
        molecule = np.asarray(molecule)
        excl = n if exclude is None else exclude
        keep = ~((molecule[i] == molecule[j]) & (j - i <= excl))
    return i[keep], j[keep], delta[keep]


def reference_histogram(frame, box, r_max, bins, **kw):
    _, _, delta = all_pairs(frame, box, **kw)
    r = np.sqrt((delta**2).sum(axis=1))
    x = r / (r_max / bins)
    x = x[r < r_max].astype(int)
    return np.bincount(x[x < bins], minlength=bins).astype(float)


@pytest.mark.parametrize("n, edges", [(300, (7.0, 7.0, 7.0)), (150, (4.1, 9.3, 6.2)), (60, (3.0, 3.0, 3.0))])
def test_cell_list_histogram_equals_all_pairs_exactly(n, edges):
    rng = np.random.default_rng(n)
    box = np.array(edges)
    frames = rng.uniform(0, 1, size=(3, n, 3)) * box
    r_max = 0.5 * box.min()
    _, counts = pair_histogram(frames, box, r_max=r_max, bins=37, per_frame=True)
    for frame, got in zip(frames, counts):
        np.testing.assert_array_equal(got, reference_histogram(frame, box, r_max, 37))


def test_histogram_with_short_cutoff_uses_many_cells_and_still_exact():
    rng = np.random.default_rng(5)
    box = np.array([12.0, 10.0, 11.0])
    frame = rng.uniform(0, 1, size=(2000, 3)) * box
    _, counts = pair_histogram(frame, box, r_max=1.3, bins=13)
    np.testing.assert_array_equal(counts, reference_histogram(frame, box, 1.3, 13))


def test_intramolecular_exclusions_match_reference():
    rng = np.random.default_rng(2)
    box = np.array([6.0, 6.0, 6.0])
    frame = rng.uniform(0, 6.0, size=(120, 3))
    molecule = np.repeat(np.arange(30), 4)
    for exclude in (None, 1, 2):
        _, counts = pair_histogram(frame, box, r_max=3.0, bins=20, molecule=molecule, exclude=exclude)
        ref = reference_histogram(frame, box, 3.0, 20, molecule=molecule, exclude=exclude)
        np.testing.assert_array_equal(counts, ref)
        assert count_pairs(120, molecule, exclude) == len(all_pairs(frame, box, molecule, exclude)[0])


def test_pair_list_matches_reference():
    rng = np.random.default_rng(3)
    box = np.array([8.0, 8.0, 8.0])
    frame = rng.uniform(0, 8.0, size=(400, 3))
    pairs = pair_list(frame, box, r_max=2.5)
    i, j, delta = pairs.i, pairs.j, pairs.delta
    ri, rj, rdelta = all_pairs(frame, box)
    close = (rdelta**2).sum(axis=1) < 2.5**2
    got = sorted(zip(i.tolist(), j.tolist()))
    assert got == sorted(zip(ri[close].tolist(), rj[close].tolist()))
    order = np.lexsort((j, i))
    rorder = np.lexsort((rj[close], ri[close]))
    np.testing.assert_array_equal(delta[order], rdelta[close][rorder])


def test_linear_grid_weights_reproduce_pair_sums_of_interpolant():
    rng = np.random.default_rng(4)
    box = np.array([7.0, 7.0, 7.0])
    frames = rng.uniform(0, 7.0, size=(2, 250, 3))
    s_grid = np.linspace(0.0, 3.0**2, 501)
    weights = pair_grid_weights(frames, box, r_cut=3.0, s_grid=s_grid)
    f_grid = np.cos(s_grid)
    for frame, w in zip(frames, weights):
        _, _, delta = all_pairs(frame, box)
        s = (delta**2).sum(axis=1)
        s = s[s < 9.0]
        np.testing.assert_allclose(w @ f_grid, np.interp(s, s_grid, f_grid).sum(), rtol=1e-10)
        assert w.sum() == pytest.approx(s.size)


def test_ideal_gas_rdf_is_one_within_noise():
    rng = np.random.default_rng(6)
    box = np.array([10.0, 10.0, 10.0])
    n, n_frames, bins = 400, 30, 20
    frames = rng.uniform(0, 10.0, size=(n_frames, n, 3))
    r, g = radial_distribution(frames, box, r_max=5.0, bins=bins)
    edges = np.linspace(0, 5.0, bins + 1)
    expected = n_frames * n * (n - 1) / 2 * 4 * np.pi / 3 * np.diff(edges**3) / 1000.0
    sigma = 1 / np.sqrt(expected)  # Poisson error of g in each shell
    z = (g - 1) / sigma
    assert np.all(np.abs(z) < 4.5), z
    np.testing.assert_allclose(r, 0.5 * (edges[1:] + edges[:-1]))


def test_rdf_of_simple_cubic_lattice_peaks_at_lattice_spacing():
    grid = (np.arange(6) + 0.5)
    frame = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), -1).reshape(-1, 3)
    r, g = radial_distribution(frame, [6.0] * 3, r_max=3.0, bins=300)
    peaks = r[g > 0]
    # shells at 1, sqrt(2), sqrt(3), 2, sqrt(5), ... with 6, 12, 8, 6, 24 neighbours
    np.testing.assert_allclose(peaks[:4], [1.005, 1.415, 1.735, 2.005])
    counts = g[g > 0][:3] * (216 * 215 / 2) * 4 * np.pi / 3 * ((r[g > 0][:3] + 0.005) ** 3 - (r[g > 0][:3] - 0.005) ** 3) / 216.0
    np.testing.assert_allclose(counts, [216 * 6 / 2, 216 * 12 / 2, 216 * 8 / 2])


def test_wrap_and_minimum_image():
    np.testing.assert_allclose(wrap_positions([[-0.25, 2.5, 1.0]], [1.0, 2.0, 3.0]), [[0.75, 0.5, 1.0]])
    np.testing.assert_allclose(minimum_image([[0.6, -1.2, 1.4]], [1.0, 2.0, 3.0]), [[-0.4, 0.8, 1.4]])


@pytest.mark.parametrize("positions, message", [
    ([[0.5, 0.5, 0.5], [1.5, 0.5, 4.2]], "outside the box"),
    ([[0.5, 0.5, 0.5], [-0.1, 0.5, 0.5]], "wrap_positions"),
    ([[0.5, 0.5, np.nan], [1.0, 1.0, 1.0]], "NaN"),
    ([[0.5, 0.5], [1.0, 1.0]], "shape"),
])
def test_bad_positions(positions, message):
    with pytest.raises(ValueError, match=message):
        radial_distribution(positions, [4.0, 4.0, 4.0], r_max=2.0, bins=10)


def test_cutoff_longer_than_half_box_is_refused_with_advice():
    frame = np.random.default_rng(0).uniform(0, 4.0, size=(10, 3))
    with pytest.raises(ValueError, match="half the shortest box edge.*larger box"):
        radial_distribution(frame, [4.0, 4.0, 4.0], r_max=2.5, bins=10)
    with pytest.raises(ValueError, match="box"):
        radial_distribution(frame, [4.0, -4.0, 4.0], r_max=1.0, bins=10)
    with pytest.raises(TypeError, match="bins"):
        radial_distribution(frame, [4.0, 4.0, 4.0], r_max=1.0, bins=2.5)


@pytest.mark.parametrize("s_grid, message", [([0.0, 1.0, 3.0, 4.0], "evenly spaced"), ([1.0], "evenly spaced"),
                                             ([4.0, 3.0, 2.0], "evenly spaced"), ([0.0, 1.0, 2.0, 3.0], "r_cut"),
                                             ([2.0, 3.0, 4.0], "frame 0 has 1 pair.*closer than sqrt")])
def test_pair_grid_weights_rejects_grids_that_would_drop_or_misplace_pairs(s_grid, message):
    with pytest.raises(ValueError, match=message):
        pair_grid_weights([[0.5, 0.5, 0.5], [1.75, 0.5, 0.5]], [4.0] * 3, r_cut=2.0, s_grid=s_grid)


def test_pair_grid_weights_keep_a_pair_that_rounds_onto_the_last_grid_point():
    """r just below r_cut whose grid coordinate rounds up to the last point: weight 1 there, not dropped."""
    r_cut, s_grid = 2.0, np.linspace(0.37, 4.0, 66)
    pos = np.array([[0.5, 0.5, 0.5], [0.5 + 1.9999999999999996, 0.5, 0.5]])
    s = (pos[1, 0] - pos[0, 0]) ** 2  # as the kernel computes it
    assert s < r_cut**2 and int((s - s_grid[0]) / (s_grid[1] - s_grid[0])) == 65  # the edge case is really hit
    weights = pair_grid_weights(pos, [5.0] * 3, r_cut=r_cut, s_grid=s_grid)
    np.testing.assert_allclose(weights[0, -1], 1.0)
    assert weights.sum() == pytest.approx(1.0)
