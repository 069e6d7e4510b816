"""Particle Monte Carlo: energies against numpy references, bonded distributions against quadrature."""
import numpy as np
import pytest
from scipy.integrate import quad

from remlib.biomolecules import block_standard_error
from remlib.montecarlo import (
    configuration_energy,
    lattice_positions,
    metropolis_chains,
    metropolis_particles,
    tabulate_angle,
    tabulate_bond,
    tabulate_pair,
)


def lj(r):
    return 4 * (r**-12 - r**-6)


def reference_energy(frame, box, pair, chain_length=1, exclude=0, bond=None, angle=None):
    """All-pairs numpy energy with the same linear interpolation as the kernel."""
    n = len(frame)
    i, j = np.triu_indices(n, k=1)
    keep = ~((i // chain_length == j // chain_length) & (j - i <= exclude))
    i, j = i[keep], j[keep]
    d = frame[j] - frame[i]
    d -= box * np.floor(d / box + 0.5)
    s = (d**2).sum(axis=1)
    s = s[s < pair.grid[-1]]
    energy = np.interp(s, pair.grid, pair.values).sum() if np.all(s >= pair.grid[0]) else np.inf
    if chain_length > 1:
        beads = np.arange(n).reshape(-1, chain_length)
        b = frame[beads[:, 1:]] - frame[beads[:, :-1]]
        b -= box * np.floor(b / box + 0.5)
        energy += np.interp(np.linalg.norm(b, axis=-1), bond.grid, bond.values).sum()
        if angle is not None:
            u, v = -b[:, :-1], b[:, 1:]
            cos = (u * v).sum(-1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)
            energy += np.interp(np.arccos(np.clip(cos, -1, 1)), angle.grid, angle.values).sum()
    return energy


def test_configuration_energy_matches_numpy_reference():
    rng = np.random.default_rng(0)
    box = np.array([7.0, 7.5, 8.0])
    pair = tabulate_pair(lj, r_min=0.3, r_cut=3.0, n_grid=3000)
    frame = rng.uniform(0, 1, size=(200, 3)) * box
    assert configuration_energy(frame, box, pair)[0] == pytest.approx(reference_energy(frame, box, pair), rel=1e-10)


def test_chain_energy_with_bonds_angles_and_exclusions_matches_reference():
    rng = np.random.default_rng(1)
    box = np.array([9.0, 9.0, 9.0])
    steps = rng.normal(size=(20, 6, 3))
    steps /= np.linalg.norm(steps, axis=-1, keepdims=True)
    frame = (rng.uniform(0, 9, size=(20, 1, 3)) + np.cumsum(steps, axis=1)).reshape(-1, 3) % 9.0
    pair = tabulate_pair(lambda r: np.exp(-r), r_min=0.05, r_cut=3.0)
    bond = tabulate_bond(lambda r: 50 * (r - 1) ** 2, r_min=0.0, r_max=2.0)
    angle = tabulate_angle(lambda t: np.cos(t) ** 2)
    for exclude in (1, 2):
        got = configuration_energy(frame, box, pair, chain_length=6, exclude=exclude, bond=bond, angle=angle)[0]
        ref = reference_energy(frame, box, pair, 6, exclude, bond, angle)
        assert got == pytest.approx(ref, rel=1e-10)


def test_reported_energies_are_the_energies_of_the_frames():
    box = np.full(3, 7.0)
    pair = tabulate_pair(lj, r_min=0.6, r_cut=2.5)
    result = metropolis_particles(lattice_positions(216, box), box, pair, n_frames=5, beta=0.8, burn_in=20, seed=3)
    np.testing.assert_allclose(result.energies, configuration_energy(result.frames, box, pair), rtol=1e-9)
    again = metropolis_particles(lattice_positions(216, box), box, pair, n_frames=5, beta=0.8, burn_in=20, seed=3)
    np.testing.assert_array_equal(result.frames, again.frames)  # seeded


def pair_move_delta(frame, box, pair, i, new, cell_width, chain_length=1, exclude=0):
    """The compiled pair-energy change of moving particle i to ``new`` (cells of ``cell_width``)."""
    from remlib.montecarlo import _cell_grid, _cell_of, _kernel_table, _move_delta, _stencil, _work_buffers

    r_cut = np.sqrt(pair.grid[-1])
    n_cells, coords, ids, count, where, slot = _cell_grid(frame, box, cell_width)
    stencil = _stencil(n_cells, box, r_cut)
    same = _cell_of(new[0], new[1], new[2], box, n_cells) == where[i]
    s_lo, ds, table = _kernel_table(pair, "r2")
    return _move_delta(i, new[0], new[1], new[2], same, frame, box, coords, ids, count, where, slot, n_cells,
                       stencil, chain_length, exclude, s_lo, ds, table, _work_buffers(len(frame))), same


def agrees_with_reference(delta, moved, frame, box, pair, chain_length, exclude):
    """Assert a compiled pair-energy change equals the all-pairs numpy one; True for a hard-core overlap."""
    no_bonds = tabulate_bond(lambda r: 0.0 * r, r_min=0.0, r_max=10.0)  # pair energy only
    ref = (reference_energy(moved, box, pair, chain_length, exclude, no_bonds)
           - reference_energy(frame, box, pair, chain_length, exclude, no_bonds))
    if np.isinf(ref):
        assert delta == np.inf
        return True
    assert delta == pytest.approx(ref, rel=1e-9, abs=1e-9)
    return False


@pytest.mark.parametrize("cells_per_cutoff", [1, 2, 3])
def test_move_energy_change_matches_numpy_reference(cells_per_cutoff):
    """Fused old/new pass (same cell) and two passes (cell change), vs all-pairs numpy energies."""
    rng = np.random.default_rng(11)
    box = np.array([7.0, 7.5, 8.0])
    pair = tabulate_pair(lj, r_min=0.3, r_cut=3.0, n_grid=3000)
    frame = (lattice_positions(200, box) + rng.uniform(-0.25, 0.25, size=(200, 3))) % box  # no overlaps
    chains = tabulate_pair(lambda r: np.exp(-r), r_min=0.05, r_cut=3.0)
    same_seen, overlaps = set(), 0
    for trial in range(60):
        i = int(rng.integers(200))
        new = (frame[i] + rng.uniform(-1, 1, 3) * (0.1 if trial % 2 else 1.5)) % box
        if trial % 10 == 0:  # onto another particle: inside the hard core
            new = (frame[(i + 7) % 200] + 0.1) % box
        moved = frame.copy()
        moved[i] = new
        for table, chain_length, exclude in ((pair, 1, 0), (chains, 5, 2)):
            delta, same = pair_move_delta(frame, box, table, i, new, 3.0 / cells_per_cutoff, chain_length, exclude)
            same_seen.add(bool(same))
            overlaps += agrees_with_reference(delta, moved, frame, box, table, chain_length, exclude)
    assert same_seen == {True, False} and overlaps > 0


def test_cell_size_does_not_change_the_chain():
    """Cells of r_cut and r_cut/2 see the same neighbours, so the seeded chains coincide."""
    box = np.full(3, 7.0)
    pair = tabulate_pair(lj, r_min=0.6, r_cut=2.5)
    runs = [metropolis_particles(lattice_positions(216, box), box, pair, n_frames=5, beta=0.8, burn_in=10,
                                 skin=0, cells_per_cutoff=c, seed=5) for c in (1, 2)]
    np.testing.assert_allclose(runs[0].frames, runs[1].frames, rtol=0, atol=1e-12)
    np.testing.assert_allclose(runs[0].energies, runs[1].energies, rtol=1e-10)


def test_list_move_energy_change_matches_numpy_reference():
    """The vectorised Verlet-list pass, for moves within half the skin, vs all-pairs numpy energies."""
    from remlib.cells import _verlet_lists
    from remlib.montecarlo import _kernel_table, _list_delta

    rng = np.random.default_rng(12)
    box = np.array([7.0, 7.5, 8.0])
    frame = (lattice_positions(200, box) + rng.uniform(-0.25, 0.25, size=(200, 3))) % box
    skin, overlaps = 0.8, 0
    for table, chain_length, exclude in ((tabulate_pair(lj, r_min=0.3, r_cut=3.0, n_grid=3000), 1, 0),
                                         (tabulate_pair(lambda r: np.exp(-r), r_min=0.05, r_cut=3.0), 5, 2)):
        _, _, lists, size = _verlet_lists(frame, box, 3.0 + skin, chain_length, exclude, np.empty(0, np.int32))
        s_lo, ds, values = _kernel_table(table, "r2")
        for trial in range(40):
            i = int(rng.integers(200))
            step = rng.uniform(-1, 1, 3) * skin / 2 / np.sqrt(3)
            if trial % 10 == 0:  # onto a neighbour: inside the hard core
                step = (frame[lists[i, 0]] - frame[i] + 0.01 * skin)
                step -= box * np.floor(step / box + 0.5)
            moved = frame.copy()
            moved[i] = (frame[i] + step) % box
            delta = _list_delta(lists[i], size[i], frame, box, 1 / box, *frame[i], *step, s_lo, ds, values)
            overlaps += agrees_with_reference(delta, moved, frame, box, table, chain_length, exclude)
    assert overlaps > 0


def lists_or_cells(skin, start, box, pair, **kwargs):
    return metropolis_particles(start, box, pair, n_frames=6, beta=0.8, skin=skin, seed=9, **kwargs)


@pytest.mark.parametrize("skin", [0.3, 0.625])
def test_verlet_lists_and_cell_lists_give_the_same_chain(skin):
    """Same seed, same proposals: any pair missing from a list would change the chain."""
    box = np.full(3, 7.0)
    pair = tabulate_pair(lj, r_min=0.6, r_cut=2.5)
    start = lattice_positions(275, box)  # rho = 0.8
    cells, lists = (lists_or_cells(s, start, box, pair, burn_in=40, step_size=0.1) for s in (0, skin))
    np.testing.assert_allclose(lists.frames, cells.frames, rtol=0, atol=1e-10)
    np.testing.assert_allclose(lists.energies, configuration_energy(lists.frames, box, pair), rtol=1e-9)


def test_verlet_lists_with_chains_give_the_same_chain():
    box = np.full(3, 7.0)
    pair = tabulate_pair(lambda r: 4 * (r**-12 - r**-6) + 1.0, r_min=0.7, r_cut=2 ** (1 / 6))
    bond = tabulate_bond(lambda r: 50 * (r - 1.0) ** 2, r_min=0.5, r_max=1.5)
    angle = tabulate_angle(lambda t: 2.0 * (1 + np.cos(t)))
    start = np.concatenate([np.array([[0.5 + k, 0.5, 0.5] for k in range(5)]) + [0, 1.2 * a, 1.2 * b]
                            for a in range(5) for b in range(5)]) % box
    kwargs = dict(chain_length=5, exclude=2, bond=bond, angle=angle, burn_in=30, step_size=0.1)
    cells, lists = (lists_or_cells(s, start, box, pair, **kwargs) for s in (0, None))
    assert 3 * lists.step_size < 2 ** (1 / 6)  # the automatic skin stayed below r_cut: lists throughout
    np.testing.assert_allclose(lists.frames, cells.frames, rtol=0, atol=1e-10)
    exact = configuration_energy(lists.frames, box, pair, chain_length=5, exclude=2, bond=bond, angle=angle)
    np.testing.assert_allclose(lists.energies, exact, rtol=1e-9)


def test_16_and_32_bit_list_ids_give_the_same_chain(monkeypatch):
    """The sampler keeps particle ids in uint16 lists up to 65,536 particles; int32 beyond."""
    import remlib.montecarlo as montecarlo

    box = np.full(3, 7.0)
    pair = tabulate_pair(lj, r_min=0.6, r_cut=2.5)
    start = lattice_positions(275, box)
    short = lists_or_cells(None, start, box, pair, burn_in=10, step_size=0.1)
    monkeypatch.setattr(montecarlo, "list_index_kind", lambda n: np.empty(0, np.int32))
    wide = lists_or_cells(None, start, box, pair, burn_in=10, step_size=0.1)
    np.testing.assert_array_equal(short.frames, wide.frames)


def test_two_particles_sample_the_exact_pair_energy():
    """Two particles in a periodic cube: <u> by quadrature over the cube, against the sampled mean.

    Within r_c < L/2 the separation has density 4 pi r^2 e^{-beta u(r)}; the rest of the cube
    (volume L^3 - 4/3 pi r_c^3) has u = 0.
    """
    beta, length, r_cut = 1.0, 8.0, 2.5
    box = np.full(3, length)
    pair = tabulate_pair(lambda r: 4 * (r**-12 - r**-6) - 4 * (r_cut**-12 - r_cut**-6), r_min=0.7, r_cut=r_cut,
                         n_grid=20000)
    weight = lambda r: 4 * np.pi * r**2 * np.exp(-beta * pair(r))  # noqa: E731
    inside = quad(weight, 0.7, r_cut, limit=200)[0]
    outside = length**3 - 4 / 3 * np.pi * r_cut**3
    exact = quad(lambda r: pair(r) * weight(r), 0.7, r_cut, limit=200)[0] / (inside + outside)
    # a fixed step of at most skin / sqrt(3), and r_c + skin < L / 2: Verlet lists throughout
    result = metropolis_particles([[1.0, 1.0, 1.0], [2.2, 1.0, 1.0]], box, pair, n_frames=400_000, beta=beta,
                                  burn_in=0, step_size=0.5, skin=0.9, seed=4)
    u = result.energies
    error = block_standard_error(u, 50)
    assert abs(u.mean() - exact) < 4 * error
    assert error < 0.1 * abs(exact)  # the test can tell a wrong sampler from a right one


@pytest.mark.parametrize("skin", [0.2, None])
def test_switch_from_lists_to_cells_when_the_step_outgrows_the_skin(skin):
    """A dilute gas: burn-in grows the step past what the lists allow, and moves continue over
    cell lists (the automatic skin first grows with the step, rebuilding the lists)."""
    box = np.full(3, 9.0)
    pair = tabulate_pair(lj, r_min=0.6, r_cut=2.5)
    start = lattice_positions(64, box)
    cells, lists = (lists_or_cells(s, start, box, pair, burn_in=30, step_size=0.05) for s in (0, skin))
    largest_list_step = 0.2 / np.sqrt(3) if skin else (4.5 - 2.5) / 3  # automatic: r_cut + 3 step < L/2
    assert largest_list_step < lists.step_size  # started on lists (step 0.05), ended on cells
    np.testing.assert_allclose(lists.frames, cells.frames, rtol=0, atol=1e-10)
    np.testing.assert_allclose(lists.energies, configuration_energy(lists.frames, box, pair), rtol=1e-9)


def test_large_steps_keep_reported_energies_exact():
    """Steps longer than the hard core: the moved particle must not meet its own old position."""
    box = np.full(3, 10.0)
    pair = tabulate_pair(lambda r: np.exp(-r), r_min=0.5, r_cut=2.5)
    result = metropolis_particles(lattice_positions(64, box), box, pair, n_frames=5, burn_in=30, step_size=3.0,
                                  target_acceptance=0.5, seed=2)
    assert result.step_size > 1.0
    np.testing.assert_allclose(result.energies, configuration_energy(result.frames, box, pair), rtol=1e-9)


def quadrature_mean(f, weight, lo, hi):
    return quad(lambda x: f(x) * weight(x), lo, hi)[0] / quad(weight, lo, hi)[0]


def test_bond_and_angle_distributions_of_free_trimers_match_quadrature():
    """Trimers without pair forces: p(r) ∝ r² e^{-βu_b(r)}, p(θ) ∝ sin θ e^{-βu_a(θ)}, independently."""
    beta, k, r0, kappa, theta0 = 1.0, 20.0, 1.0, 4.0, 2.0
    box = np.full(3, 30.0)
    pair = tabulate_pair(lambda r: 0.0 * r, r_min=1e-3, r_cut=1.0, n_grid=2)
    bond = tabulate_bond(lambda r: 0.5 * k * (r - r0) ** 2, r_min=0.0, r_max=3.0, n_grid=4000)
    angle = tabulate_angle(lambda t: 0.5 * kappa * (t - theta0) ** 2, n_grid=4000)
    rng = np.random.default_rng(7)
    starts = rng.uniform(2, 28, size=(100, 1, 3)) + np.array([[0, 0, 0], [1.0, 0, 0], [1.0, 1.0, 0]])
    result = metropolis_particles(starts.reshape(-1, 3), box, pair, n_frames=400, beta=beta, burn_in=100,
                                  chain_length=3, exclude=2, bond=bond, angle=angle, seed=8)
    x = result.frames.reshape(400, 100, 3, 3)
    b1, b2 = x[:, :, 1] - x[:, :, 0], x[:, :, 2] - x[:, :, 1]
    b1 -= 30.0 * np.floor(b1 / 30.0 + 0.5)
    b2 -= 30.0 * np.floor(b2 / 30.0 + 0.5)
    r = np.linalg.norm(b1, axis=-1).mean(axis=1)
    cos = -(b1 * b2).sum(-1) / np.linalg.norm(b1, axis=-1) / np.linalg.norm(b2, axis=-1)
    theta = np.arccos(cos).mean(axis=1)
    r_exact = quadrature_mean(lambda s: s, lambda s: s**2 * np.exp(-beta * 0.5 * k * (s - r0) ** 2), 0, 3)
    t_exact = quadrature_mean(lambda t: t, lambda t: np.sin(t) * np.exp(-beta * 0.5 * kappa * (t - theta0) ** 2), 0, np.pi)
    assert abs(r.mean() - r_exact) < 4 * block_standard_error(r, 20)
    assert abs(theta.mean() - t_exact) < 4 * block_standard_error(theta, 20)
    # and a wrong answer (no r² Jacobian) is excluded by the same error bar
    naive = quadrature_mean(lambda s: s, lambda s: np.exp(-beta * 0.5 * k * (s - r0) ** 2), 0, 3)
    assert abs(r.mean() - naive) > 4 * block_standard_error(r, 20)


def test_overlapping_start_is_refused():
    box = np.full(3, 6.0)
    pair = tabulate_pair(lj, r_min=0.7, r_cut=2.5)
    start = lattice_positions(100, box)
    start[1] = start[0] + 0.1
    with pytest.raises(ValueError, match="infinite energy"):
        metropolis_particles(start, box, pair, n_frames=2, seed=0)


def frozen_lattice():
    """A full lattice at rho = 0.9 where steps of 2 at beta = 5 are (almost) never accepted."""
    box = np.full(3, (216 / 0.9) ** (1 / 3))
    return box, tabulate_pair(lj, r_min=0.7, r_cut=2.5), lattice_positions(216, box)


def test_frozen_chain_warns():
    box, pair, start = frozen_lattice()
    with pytest.warns(RuntimeWarning, match="acceptance"):
        metropolis_particles(start, box, pair, n_frames=3, burn_in=0, step_size=2.0, beta=5.0, seed=0)


def test_bad_arguments():
    box = np.full(3, 6.0)
    pair = tabulate_pair(lj, r_min=0.7, r_cut=2.5)
    start = lattice_positions(100, box)
    bond = tabulate_bond(lambda r: r**2, r_min=0.0, r_max=2.0)
    with pytest.raises(ValueError, match="chain_length"):
        metropolis_particles(start, box, pair, n_frames=2, chain_length=3, bond=bond)
    with pytest.raises(ValueError, match="bond table"):
        metropolis_particles(start, box, pair, n_frames=2, chain_length=2)
    with pytest.raises(ValueError, match="r_cut"):
        metropolis_particles(start, box, tabulate_pair(lj, r_min=0.7, r_cut=3.5), n_frames=2)
    with pytest.raises(ValueError, match="target_acceptance"):
        metropolis_particles(start, box, pair, n_frames=2, target_acceptance=1.5)
    with pytest.raises(ValueError, match="skin"):
        metropolis_particles(start, box, pair, n_frames=2, skin=-0.1)
    with pytest.raises(TypeError, match="skin"):
        metropolis_particles(start, box, pair, n_frames=2, skin="wide")
    with pytest.raises(ValueError, match="NaN"), np.errstate(all="ignore"):
        tabulate_pair(lambda r: np.log(r - 1.0), r_min=0.5, r_cut=2.0)


def small_liquid():
    box = np.full(3, 6.0)
    return box, tabulate_pair(lj, r_min=0.7, r_cut=2.5), lattice_positions(150, box)


@pytest.mark.parametrize("n_workers", [1, 3])
def test_parallel_chains_are_the_serial_chains_of_one_generator(n_workers):
    """Chain k = the (k+1)-th call of metropolis_particles with one Generator, whatever the threads."""
    box, pair, start = small_liquid()
    kwargs = dict(n_frames=3, burn_in=10, thin=2, beta=0.9)
    generator = np.random.default_rng(7)
    serial = [metropolis_particles(start, box, pair, seed=generator, **kwargs) for _ in range(3)]
    chains = metropolis_chains(start, box, pair, n_chains=3, n_workers=n_workers, seed=np.random.default_rng(7),
                               **kwargs)
    for one, other in zip(serial, chains):
        np.testing.assert_array_equal(one.frames, other.frames)
        np.testing.assert_array_equal(one.energies, other.energies)
        assert (one.acceptance, one.step_size) == (other.acceptance, other.step_size)
    assert not np.allclose(chains[0].frames, chains[1].frames)  # each chain has its own seed
    again = metropolis_chains(start, box, pair, n_chains=3, n_workers=n_workers, seed=np.random.default_rng(7),
                              **kwargs)
    np.testing.assert_array_equal(again[2].frames, chains[2].frames)


def test_parallel_chains_start_from_their_own_configurations():
    box, pair, start = small_liquid()
    starts = np.stack([start, (start + 0.3) % box])
    chains = metropolis_chains(starts, box, pair, n_chains=2, n_frames=2, burn_in=0, step_size=0.05, seed=3)
    generator = np.random.default_rng(3)
    for begin, chain in zip(starts, chains):
        alone = metropolis_particles(begin, box, pair, n_frames=2, burn_in=0, step_size=0.05, seed=generator)
        np.testing.assert_array_equal(alone.frames, chain.frames)
    np.testing.assert_allclose(chains[1].energies, configuration_energy(chains[1].frames, box, pair), rtol=1e-9)


def test_parallel_chains_pass_on_errors_and_warnings():
    box, pair, start = small_liquid()
    crowded = np.stack([start, start])
    crowded[1, 1] = crowded[1, 0] + 0.1
    with pytest.raises(ValueError, match="infinite energy"):
        metropolis_chains(crowded, box, pair, n_chains=2, n_frames=2, seed=0)
    frozen_box, frozen_pair, frozen_start = frozen_lattice()
    with pytest.warns(RuntimeWarning, match="acceptance"):
        metropolis_chains(frozen_start, frozen_box, frozen_pair, n_chains=2, n_frames=3, burn_in=0, step_size=2.0,
                          beta=5.0, seed=0)
    with pytest.raises(ValueError, match="n_chains=3"):
        metropolis_chains(crowded, box, pair, n_chains=3, n_frames=2)
    with pytest.raises(ValueError, match="n_chains"):
        metropolis_chains(start, box, pair, n_chains=0, n_frames=2)
    for workers in (0, -1):
        with pytest.raises(ValueError, match="n_workers"):
            metropolis_chains(start, box, pair, n_chains=2, n_workers=workers, n_frames=2)
    with pytest.raises(ValueError, match="n_frames"):
        metropolis_chains(start, box, pair, n_chains=2, n_frames=0)
