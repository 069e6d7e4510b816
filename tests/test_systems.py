"""Tests of remlib.systems: exact answers by independent quadrature, enumeration and algebra."""
import math
from itertools import product

import numba
import numpy as np
import pytest
from scipy import integrate, special

from remlib.systems import DoubleWell, EntropicChannel, GaussianChain, IsingChain


@numba.njit
def _apply_kernel(kernel, configurations):
    """Call a force kernel from compiled code, one configuration at a time (as a dynamics loop does)."""
    out = np.empty_like(configurations)
    for i in range(configurations.shape[0]):
        out[i] = kernel(configurations[i])
    return out


def _central_difference(energy, points, step=1e-6):
    """-grad energy by central differences; ``points`` (n, dim) -> (n, dim)."""
    grad = np.empty_like(points)
    for d in range(points.shape[1]):
        shift = np.zeros(points.shape[1])
        shift[d] = step
        grad[:, d] = (energy(points + shift) - energy(points - shift)) / (2 * step)
    return -grad


def _z(estimate, exact, stderr):
    return abs(estimate - exact) / stderr


def _mean_z(samples, exact):
    return _z(samples.mean(), exact, samples.std(ddof=1) / math.sqrt(samples.size))


# --------------------------------------------------------------------------- DoubleWell
def test_double_well_energy_force_and_kernel():
    dw = DoubleWell(barrier=2.5, tilt=0.3)
    x = np.linspace(-2, 2, 41)
    assert dw.energy(x) == pytest.approx(2.5 * (x**2 - 1) ** 2 + 0.3 * x, rel=1e-14)
    fd = _central_difference(lambda p: dw.energy(p[:, 0]), x[:, None])[:, 0]
    assert dw.force(x) == pytest.approx(fd, rel=1e-6, abs=1e-6)
    assert _apply_kernel(dw.force_kernel, x[:, None])[:, 0] == pytest.approx(dw.force(x), rel=1e-14, abs=1e-14)
    assert dw.pmf(x) == pytest.approx(dw.energy(x))
    assert dw.mean_force(x) == pytest.approx(dw.force(x))
    # equal parameters share one compiled kernel
    assert DoubleWell(barrier=2.5, tilt=0.3).force_kernel is dw.force_kernel


def test_double_well_minima_are_stationary_with_positive_curvature():
    dw = DoubleWell(barrier=1.5, tilt=0.4)
    minima = dw.minima()
    assert minima.size == 2
    assert dw.force(minima) == pytest.approx([0.0, 0.0], abs=1e-10)
    assert dw.energy(minima[0]) < dw.energy(minima[1])  # positive tilt favours the left well
    # a strong tilt removes one well: 4h x (x^2 - 1) + c has one real root when c > 8h / (3 sqrt 3)
    assert DoubleWell(barrier=1.0, tilt=2.0).minima().size == 1


def _quad_moment(dw, power, beta):
    weight = lambda t: math.exp(-beta * float(dw.energy(t)))
    z, _ = integrate.quad(weight, -8, 8, points=[-1, 0, 1], limit=200)
    m, _ = integrate.quad(lambda t: t**power * weight(t), -8, 8, points=[-1, 0, 1], limit=200)
    return m / z, z


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_double_well_exact_samples_match_quadrature_moments(beta):
    dw = DoubleWell(barrier=2.0, tilt=0.5)
    x = dw.sample(40000, beta=beta, seed=123)
    for power in (1, 2, 3):
        exact, _ = _quad_moment(dw, power, beta)
        assert _mean_z(x**power, exact) < 4.0, power
    # fraction left of the barrier vs quadrature (binomial error)
    left = integrate.quad(lambda t: math.exp(-beta * float(dw.energy(t))), -8, 0, limit=200)[0] / _quad_moment(dw, 0, beta)[1]
    assert _z(np.mean(x < 0), left, math.sqrt(left * (1 - left) / x.size)) < 4.0


def test_double_well_partition_function_density_and_seed():
    dw = DoubleWell(barrier=3.0, tilt=-0.2)
    _, z = _quad_moment(dw, 0, 1.7)
    assert dw.log_partition(beta=1.7) == pytest.approx(math.log(z), rel=1e-9)
    assert dw.free_energy(beta=1.7) == pytest.approx(-math.log(z) / 1.7, rel=1e-9)
    grid = np.linspace(-4, 4, 8001)
    assert np.trapezoid(dw.density(grid, beta=1.7), grid) == pytest.approx(1.0, rel=1e-7)
    assert np.array_equal(dw.sample(10, seed=5), dw.sample(10, seed=5))
    assert not np.array_equal(dw.sample(10, seed=5), dw.sample(10, seed=6))


def test_double_well_bad_input():
    with pytest.raises(ValueError, match="barrier must be"):
        DoubleWell(barrier=-1.0)
    with pytest.raises(ValueError, match="tilt contains NaN"):
        DoubleWell(tilt=np.nan)
    with pytest.raises(ValueError, match="n must be >= 1"):
        DoubleWell().sample(0)
    with pytest.raises(ValueError, match="beta must be"):
        DoubleWell().sample(5, beta=-1.0)
    with pytest.raises(TypeError, match="seed must be"):
        DoubleWell().sample(5, seed="x")


# --------------------------------------------------------------------------- EntropicChannel
CHANNELS = [
    EntropicChannel(barrier=1.5, tilt=0.2, kappa0=2.0, a=0.8, kappa_form="exp"),
    EntropicChannel(barrier=1.0, tilt=0.0, kappa0=0.5, a=3.0, kappa_form="quadratic"),
]


@pytest.mark.parametrize("channel", CHANNELS, ids=repr)
def test_channel_force_and_kernel(channel):
    rng = np.random.default_rng(0)
    r = rng.uniform(-1.8, 1.8, size=(50, 2))
    assert channel.force(r) == pytest.approx(_central_difference(channel.energy, r), rel=1e-6, abs=1e-6)
    assert _apply_kernel(channel.force_kernel, r) == pytest.approx(channel.force(r), rel=1e-13, abs=1e-13)


@pytest.mark.parametrize("channel", CHANNELS, ids=repr)
@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_channel_pmf_and_mean_force_by_quadrature_over_y(channel, beta):
    for x in (-1.3, -0.4, 0.0, 0.7, 1.6):
        weight = lambda y: math.exp(-beta * float(channel.energy(np.array([x, y]))))
        z_x, _ = integrate.quad(weight, -np.inf, np.inf)
        assert channel.pmf(x, beta=beta) == pytest.approx(-math.log(z_x) / beta, rel=1e-8, abs=1e-10)
        # mean force = conditional average of the x component of the force
        fx, _ = integrate.quad(lambda y: float(channel.force(np.array([x, y]))[0]) * weight(y), -np.inf, np.inf)
        assert channel.mean_force(x, beta=beta) == pytest.approx(fx / z_x, rel=1e-7, abs=1e-9)
    # and mean force = -dF/dx
    xs = np.linspace(-1.5, 1.5, 13)
    fd = -(channel.pmf(xs + 1e-6, beta=beta) - channel.pmf(xs - 1e-6, beta=beta)) / 2e-6
    assert channel.mean_force(xs, beta=beta) == pytest.approx(fd, rel=1e-6, abs=1e-6)


def test_exponential_channel_entropic_term_is_harmonic_and_grows_with_temperature():
    ch = EntropicChannel(barrier=1.0, kappa0=1.0, a=2.0)
    x = np.linspace(-2, 2, 9)
    for beta in (0.5, 1.0, 4.0):
        entropic = ch.pmf(x, beta=beta) - (x**2 - 1) ** 2
        shifted = entropic - entropic[4]  # x = 0
        assert shifted == pytest.approx(2.0 * x**2 / (2 * beta), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("channel", CHANNELS, ids=repr)
def test_channel_exact_samples(channel):
    beta = 1.3
    r = channel.sample(30000, beta=beta, seed=7)
    f = lambda t: math.exp(-beta * float(channel.pmf(t, beta=beta)))
    z, _ = integrate.quad(f, -6, 6, limit=200)
    for power in (1, 2):
        exact = integrate.quad(lambda t: t**power * f(t), -6, 6, limit=200)[0] / z
        assert _mean_z(r[:, 0] ** power, exact) < 4.0
    # <y^2> = <1 / (beta kappa(x))> over the x marginal
    exact_y2 = integrate.quad(lambda t: f(t) / (beta * float(channel.kappa(t))), -6, 6, limit=200)[0] / z
    assert _mean_z(r[:, 1] ** 2, exact_y2) < 4.0
    assert _mean_z(r[:, 1], 0.0) < 4.0
    assert channel.log_partition(beta=beta) == pytest.approx(math.log(z), rel=1e-8)


def test_channel_bad_input():
    with pytest.raises(ValueError, match="kappa_form must be one of"):
        EntropicChannel(kappa_form="linear")
    with pytest.raises(ValueError, match="a must be >= 0"):
        EntropicChannel(a=-1.0, kappa_form="quadratic")
    with pytest.raises(ValueError, match="kappa0 must be"):
        EntropicChannel(kappa0=0.0)
    with pytest.raises(ValueError, match=r"r must have shape \(\.\.\., 2\)"):
        EntropicChannel().energy(np.zeros((4, 3)))


# --------------------------------------------------------------------------- GaussianChain
@pytest.mark.parametrize("dim", [1, 3])
def test_chain_energy_force_kernel(dim):
    chain = GaussianChain(6, k=1.7, dim=dim)
    rng = np.random.default_rng(1)
    pos = rng.normal(size=(20, 6, dim))
    by_hand = 0.5 * 1.7 * sum(np.sum((pos[:, i + 1] - pos[:, i]) ** 2, axis=1) for i in range(5))
    assert chain.energy(pos) == pytest.approx(by_hand, rel=1e-13)
    flat = pos.reshape(20, -1)
    energy_flat = lambda p: chain.energy(p.reshape(-1, 6, dim))
    assert chain.force(pos).reshape(20, -1) == pytest.approx(_central_difference(energy_flat, flat), rel=1e-6, abs=1e-6)
    assert _apply_kernel(chain.force_kernel, flat) == pytest.approx(chain.force(pos).reshape(20, -1), rel=1e-13, abs=1e-13)


def test_chain_samples_have_independent_gaussian_bonds():
    chain = GaussianChain(5, k=2.0, dim=3)
    beta = 0.5
    pos = chain.sample(20000, beta=beta, seed=3)
    assert np.all(pos[:, 0] == 0.0)
    bonds = chain.bond_vectors(pos)
    var = 1.0 / (beta * chain.k)
    sq = bonds.reshape(-1, 4 * 3) ** 2
    for column in sq.T:  # for a Gaussian, Var(b^2) = 2 var^2
        assert _z(column.mean(), var, math.sqrt(2 * var**2 / column.size)) < 4.5
    products = bonds[:, 0, 0] * bonds[:, 1, 0]  # neighbouring bonds uncorrelated
    assert _z(products.mean(), 0.0, var / math.sqrt(products.size)) < 4.0


def test_chain_mapping_matrices():
    chain = GaussianChain(9)
    dec = chain.mapping_matrix("decimation", 4)
    assert dec.shape == (3, 9) and np.array_equal(np.argmax(dec, axis=1), [0, 4, 8])
    com = GaussianChain(6).mapping_matrix("center_of_mass", 3)
    assert com == pytest.approx(np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]]) / 3)
    assert np.allclose(dec.sum(axis=1), 1.0) and np.allclose(com.sum(axis=1), 1.0)  # translations map to translations


@pytest.mark.parametrize("block", [1, 2, 3, 4])
def test_decimation_cg_bonds_are_an_ideal_chain_with_spring_k_over_m(block):
    chain = GaussianChain(13, k=3.0)
    cov = chain.cg_bond_covariance("decimation", block, beta=2.0)
    n_cg_bonds = len(range(0, 13, block)) - 1
    assert cov == pytest.approx(np.eye(n_cg_bonds) * block / (2.0 * 3.0), abs=1e-14)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_center_of_mass_cg_bond_covariance_closed_form(m):
    # derived by hand: bond coefficients s/m inside blocks, 1 across the block boundary
    chain = GaussianChain(4 * m, k=1.0)
    cov = chain.cg_bond_covariance("center_of_mass", m)
    expected = (np.eye(3) * (1 + (m - 1) * (2 * m - 1) / (3 * m))
                + (np.eye(3, k=1) + np.eye(3, k=-1)) * (m * m - 1) / (6 * m))
    assert cov == pytest.approx(expected, abs=1e-13)


def test_center_of_mass_cg_bond_covariance_matches_samples():
    chain = GaussianChain(8, k=1.5, dim=3)
    beta = 1.2
    cg = chain.map(chain.sample(30000, beta=beta, seed=11), "center_of_mass", 2)
    bonds = np.diff(cg, axis=1)  # (n, 3, 3)
    exact = chain.cg_bond_covariance("center_of_mass", 2, beta=beta)
    for i in range(3):
        for j in range(3):
            prod = bonds[:, i, 0] * bonds[:, j, 0]
            se = math.sqrt((exact[i, i] * exact[j, j] + exact[i, j] ** 2) / prod.size)
            assert _z(prod.mean(), exact[i, j], se) < 4.5, (i, j)


@pytest.mark.parametrize("dim", [1, 3])
@pytest.mark.parametrize("m", [2, 3])
def test_ideal_cg_chain_spring_and_relative_entropy(dim, m):
    beta, k, n_cg = 0.8, 2.0, 5
    chain = GaussianChain(n_cg * m, k=k, dim=dim)
    # decimation: the ideal chain with spring k/m is exact
    dec = chain.ideal_cg_chain("decimation", m, beta=beta)
    assert dec.spring == pytest.approx(k / m, rel=1e-12)
    assert dec.relative_entropy == pytest.approx(0.0, abs=1e-12)
    # centre of mass: equal bond variances v, nearest-neighbour correlation c = cov / v
    com = chain.ideal_cg_chain("center_of_mass", m, beta=beta)
    v = (1 + (m - 1) * (2 * m - 1) / (3 * m)) / (beta * k)
    c = (m * m - 1) / (6 * m) / (beta * k) / v
    assert com.spring == pytest.approx(1 / (beta * v), rel=1e-12)
    # D(N(0, v C) || N(0, v I)) = -1/2 ln det C per component; det of the tridiagonal C by recurrence
    det_prev, det = 1.0, 1.0
    for _ in range(n_cg - 2):
        det_prev, det = det, det - c * c * det_prev
    assert com.relative_entropy == pytest.approx(-0.5 * dim * math.log(det), rel=1e-10)
    assert com.relative_entropy > 0


def test_chain_bad_input():
    with pytest.raises(ValueError, match="block .* must divide n_beads"):
        GaussianChain(7).mapping_matrix("center_of_mass", 2)
    with pytest.raises(ValueError, match="mapping must be one of"):
        GaussianChain(7).mapping_matrix("random", 2)
    with pytest.raises(ValueError, match="positions must have shape"):
        GaussianChain(7, dim=3).energy(np.zeros((2, 7, 1)))
    with pytest.raises(ValueError, match="n_beads must be >= 2"):
        GaussianChain(1)
    with pytest.raises(ValueError, match="block must be at most"):
        GaussianChain(4).mapping_matrix("decimation", 4)


# --------------------------------------------------------------------------- IsingChain
def _transfer_matrix_log_z(n, J, h, beta, periodic):
    s = np.array([-1.0, 1.0])
    t = np.exp(beta * J * np.outer(s, s) + beta * h * (s[:, None] + s[None, :]) / 2)
    if periodic:
        return math.log(np.trace(np.linalg.matrix_power(t, n)))
    u = np.exp(beta * h * s / 2)
    return math.log(u @ np.linalg.matrix_power(t, n - 1) @ u)


@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("J, h, beta", [(1.0, 0.0, 0.7), (-0.5, 0.3, 1.5), (0.8, -0.6, 0.4)])
def test_ising_partition_function_vs_transfer_matrix(periodic, J, h, beta):
    chain = IsingChain(10, J=J, h=h, beta=beta, periodic=periodic)
    assert chain.log_partition == pytest.approx(_transfer_matrix_log_z(10, J, h, beta, periodic), rel=1e-12)
    assert chain.probabilities.sum() == pytest.approx(1.0, rel=1e-12)


def test_ising_energy_by_hand_and_samples():
    chain = IsingChain(3, J=1.0, h=0.5, periodic=True)
    assert chain.energy([1, 1, -1]) == pytest.approx(-(1 - 1 - 1) - 0.5 * 1)
    idx = chain.sample(20000, seed=2)
    p = chain.probabilities
    freq = np.bincount(idx, minlength=8) / idx.size
    assert np.all(np.abs(freq - p) / np.sqrt(p * (1 - p) / idx.size) < 4.5)


def test_ising_majority_block_spin_with_tie_rule():
    chain = IsingChain(6, J=1.0)
    mapping = chain.block_spin(3)
    assert mapping.n_states == 4
    for state, label in zip(chain.states, mapping.labels):
        expected = [1 if state[3 * b:3 * b + 3].sum() > 0 else -1 for b in range(2)]
        assert mapping.cg_spins[label].tolist() == expected
    even = IsingChain(4).block_spin(2)
    for state, label in zip(IsingChain(4).states, even.labels):
        expected = [int(np.sign(state[2 * b:2 * b + 2].sum())) or int(state[2 * b]) for b in range(2)]
        assert even.cg_spins[label].tolist() == expected


def test_ising_magnetization_block_spin_multiplicities():
    chain = IsingChain(6)
    mapping = chain.block_spin(2, rule="magnetization")
    assert mapping.n_states == 3**3  # three blocks, block sums in {-2, 0, 2}
    counts = np.bincount(mapping.labels, minlength=27)
    for label, sums in enumerate(mapping.cg_spins):
        # a block sum S of m spins is reached by C(m, (S + m)/2) block states
        assert counts[label] == np.prod([special.comb(2, (s + 2) // 2) for s in sums])
    for state, label in zip(chain.states, mapping.labels):
        assert mapping.cg_spins[label].tolist() == [state[0:2].sum(), state[2:4].sum(), state[4:6].sum()]


def test_ising_bad_input():
    with pytest.raises(ValueError, match="n_spins must be <= 20"):
        IsingChain(21)
    with pytest.raises(ValueError, match="block_size .* must divide"):
        IsingChain(6).block_spin(4)
    with pytest.raises(ValueError, match="rule must be one of"):
        IsingChain(6).block_spin(2, rule="decimate")
    with pytest.raises(ValueError, match="spins must be"):
        IsingChain(3).energy([1, 0, 1])
    with pytest.raises(TypeError, match="periodic must be"):
        IsingChain(3, periodic=1)


def test_ising_states_enumerate_everything_once():
    chain = IsingChain(5)
    assert {tuple(s) for s in chain.states} == set(product([-1, 1], repeat=5))
