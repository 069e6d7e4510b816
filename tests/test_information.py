"""Tests of remlib.information by exact enumeration (Ising chain) and explicit sums."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remlib.divergence import relative_entropy_from_samples
from remlib.information import information_decomposition
from remlib.systems import IsingChain

CHAIN = IsingChain(8, J=0.8, h=0.3, beta=1.0)
MAJORITY = CHAIN.block_spin(2, rule="majority")
MAGNETIZATION = CHAIN.block_spin(4, rule="magnetization")
MAPPINGS = {"majority": MAJORITY, "magnetization": MAGNETIZATION}


def _by_definition(p_aa, labels, p_cg, backmap):
    """Every term as an explicit sum over microstates, with 0 ln 0 = 0."""
    n_cg = len(p_cg)
    p_map = [sum(p for p, l in zip(p_aa, labels) if l == R) for R in range(n_cg)]
    total = sum(p * math.log(p / (p_cg[l] * q)) for p, l, q in zip(p_aa, labels, backmap) if p > 0)
    coarse = sum(pm * math.log(pm / pc) for pm, pc in zip(p_map, p_cg) if pm > 0)
    recon = 0.0
    for R in range(n_cg):
        if p_map[R] > 0:
            recon += p_map[R] * sum((p / p_map[R]) * math.log((p / p_map[R]) / q)
                                    for p, l, q in zip(p_aa, labels, backmap) if l == R and p > 0)
    return total, coarse, recon, np.array(p_map)


def _uniform_backmap(labels):
    counts = np.bincount(labels)
    return 1.0 / counts[labels]


def _random_backmap(labels, rng):
    q = rng.random(labels.size) + 0.05
    return q / np.bincount(labels, weights=q)[labels]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(MAPPINGS)), st.integers(0, 2**32 - 1), st.booleans())
def test_decomposition_matches_definitions_and_adds_up(name, seed, uniform):
    mapping = MAPPINGS[name]
    rng = np.random.default_rng(seed)
    p_aa = CHAIN.probabilities
    p_cg = rng.random(mapping.n_states) + 1e-3
    p_cg /= p_cg.sum()
    backmap = _uniform_backmap(mapping.labels) if uniform else _random_backmap(mapping.labels, rng)
    res = information_decomposition(p_aa, mapping.labels, p_cg, None if uniform else backmap)
    total, coarse, recon, p_map = _by_definition(p_aa, mapping.labels, p_cg, backmap)
    assert res.total == pytest.approx(total, rel=1e-9)
    assert res.coarse == pytest.approx(coarse, rel=1e-9, abs=1e-13)
    assert res.reconstruction == pytest.approx(recon, rel=1e-9, abs=1e-13)
    assert res.total == pytest.approx(res.coarse + res.reconstruction, rel=1e-9)
    assert res.p_map == pytest.approx(p_map, rel=1e-12)
    assert res.q_recon.sum() == pytest.approx(1.0, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_reconstruction_term_does_not_depend_on_the_cg_model(seed):
    rng = np.random.default_rng(seed)
    backmap = _random_backmap(MAJORITY.labels, rng)
    values = [information_decomposition(CHAIN.probabilities, MAJORITY.labels, rng.dirichlet(np.ones(16)), backmap)
              for _ in range(3)]
    recon = [v.reconstruction for v in values]
    assert recon == pytest.approx([recon[0]] * 3, rel=1e-12)
    # while the total does change with the model
    assert len({round(v.total, 10) for v in values}) == 3


def test_coarse_term_vanishes_for_the_mapped_distribution():
    p_aa = CHAIN.probabilities
    p_map = np.array([p_aa[MAJORITY.labels == R].sum() for R in range(MAJORITY.n_states)])
    res = information_decomposition(p_aa, MAJORITY.labels, p_map)
    assert res.coarse == pytest.approx(0.0, abs=1e-14)
    assert res.total == pytest.approx(res.reconstruction, rel=1e-12)
    assert res.reconstruction > 0.0


def test_reconstruction_vanishes_for_the_exact_conditional_backmap():
    p_aa = CHAIN.probabilities
    labels = MAGNETIZATION.labels
    p_map = np.bincount(labels, weights=p_aa)
    exact_backmap = p_aa / p_map[labels]
    p_cg = np.full(MAGNETIZATION.n_states, 1.0 / MAGNETIZATION.n_states)
    res = information_decomposition(p_aa, labels, p_cg, exact_backmap)
    assert res.reconstruction == pytest.approx(0.0, abs=1e-13)
    assert res.total == pytest.approx(res.coarse, rel=1e-12)


def test_total_with_uniform_backmap_equals_srel_with_mapping_entropy():
    # S_rel = beta<U_CG(M) - U_AA> - beta(A_CG - A_AA) + <ln Omega(M)> from exact samples of the chain
    rng = np.random.default_rng(3)
    p_cg = rng.dirichlet(np.ones(MAJORITY.n_states))
    exact = information_decomposition(CHAIN.probabilities, MAJORITY.labels, p_cg).total
    idx = CHAIN.sample(40000, seed=8)
    labels = MAJORITY.labels[idx]
    omega = np.bincount(MAJORITY.labels)
    est = relative_entropy_from_samples(-np.log(p_cg[labels]), CHAIN.energies[idx], beta=1.0,
                                        free_energy_cg=0.0, free_energy_aa=-CHAIN.log_partition,
                                        mapping_entropy=np.log(omega[labels]))
    assert abs(est.value - exact) / est.stderr < 4.0


def test_safety_net_in_each_term():
    p_aa = [0.25, 0.25, 0.5, 0.0]
    labels = [0, 0, 1, 1]
    res = information_decomposition(p_aa, labels, [1.0, 0.0])
    assert res.coarse == math.inf and res.total == math.inf and math.isfinite(res.reconstruction)
    res = information_decomposition(p_aa, labels, [0.5, 0.5], backmap=[1.0, 0.0, 0.5, 0.5])
    assert res.reconstruction == math.inf and res.total == math.inf and math.isfinite(res.coarse)
    # an unvisited microstate excluded by the back-mapping costs nothing
    res = information_decomposition(p_aa, labels, [0.5, 0.5], backmap=[0.5, 0.5, 1.0, 0.0])
    assert res.reconstruction == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize(
    "args, error, match",
    [
        (([0.5, -0.5], [0, 1], [0.5, 0.5]), ValueError, "p_aa contains negative"),
        (([0.5, 0.5], [0, 1, 1], [0.5, 0.5]), ValueError, "mapping must be a 1-D array"),
        (([0.5, 0.5], [0, 1.5], [0.5, 0.5]), TypeError, "integer CG labels"),
        (([0.5, 0.5], [True, False], [0.5, 0.5]), TypeError, "integer CG labels"),
        (([0.5, 0.5], [0, -1], [0.5, 0.5]), ValueError, "negative CG labels"),
        (([0.5, 0.5], [0, 2], [0.5, 0.5]), ValueError, "p_cg has only 2 CG states"),
        (([0.5, 0.5], [0, 0], [0.5, 0.5]), ValueError, "CG state 1 has no microstates"),
        (([0.5, 0.5], [0, 1], [0.5, np.nan]), ValueError, "p_cg contains NaN"),
        (([0.5, 0.5, 0.1], [0, 0, 1], [0.5, 0.5], [0.5, 0.6, 1.0]), ValueError, "CG state 0 sums to 1.1"),
        (([0.5, 0.5, 0.1], [0, 0, 1], [0.5, 0.5], [0.5, 0.5]), ValueError, "backmap must have one value"),
        (([0.5, 0.5, 0.1], [0, 0, 1], [0.5, 0.5], [1.5, -0.5, 1.0]), ValueError, "backmap contains negative"),
    ],
)
def test_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        information_decomposition(*args)
