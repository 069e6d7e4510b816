# %% [raw]
# # ASSIGNMENT CONFIG
# name: practice5_information
# export_cell: false
# check_all_cell: false
# runs_on: default
# strip_solutions_from_all_cells: false
# files:
#   - check_helpers.py
# tests:
#   ok_format: false
# generate: true
# requirements: requirements.txt

# %% [markdown]
# # Practice 5 — The information decomposition
#
# A mapping $\mathcal M$ sends a fine configuration $r$ to a coarse one $R = \mathcal M(r)$. A
# coarse model $P_{\rm CG}(R)$ becomes a model of the fine configurations by spreading each $R$
# uniformly over its $\Omega(R)$ microstates, $q(r) = P_{\rm CG}(\mathcal M(r))/\Omega(\mathcal M(r))$.
# The total information lost, Shell's relative entropy $S_{\rm rel}$, splits exactly into two
# parts:
#
# $$\underbrace{D_{\rm KL}(P_{\rm AA}\,\|\,q)}_{\text{total}} =
# \underbrace{D_{\rm KL}(P_{\rm map}\,\|\,P_{\rm CG})}_{\text{coarse}} +
# \underbrace{\sum_R P_{\rm map}(R)\, D_{\rm KL}\!\left(P_{\rm AA}(r\mid R)\,\|\,1/\Omega(R)\right)}_{\text{reconstruction}},$$
#
# where $P_{\rm map}$ is the mapped distribution and $P_{\rm AA}(r\mid R)$ the distribution of
# the microstates of $R$. Only the first term depends on the coarse model. You verify this on a
# chain of 6 Ising spins ($2^6 = 64$ states, enumerated exactly), coarse-grained into $M = 2$
# blocks of $n = 3$ spins by the majority rule.
#
# **How to work.** Run the cells from the top. Type your answers in the cells that contain
# `...`, run them, then run the `grader.check` cell below: a failed check says what is
# probably wrong. Your functions are called inside `with time_limit(...)`, which stops an
# endless loop after a while with a message; you can also stop a running cell yourself with
# **Kernel → Interrupt Kernel** or the ■ button in the toolbar. The last cell shows your points.

# %%
try:
    import check_helpers
except ModuleNotFoundError:
    raise ModuleNotFoundError(
        "check_helpers.py is missing. It comes in the zip with this notebook: put it in the "
        "same folder as the notebook, then Kernel → Restart Kernel and run this cell again."
    ) from None
from check_helpers import time_limit

import itertools

import numpy as np

states = np.array(list(itertools.product([-1, 1], repeat=6)))  # (64, 6)


def kl(p, q):
    """Discrete relative entropy in nats (0 ln 0 = 0)."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    visited = p > 0
    return float(np.sum(p[visited] * np.log(p[visited] / q[visited])))

# %% [raw]
# # BEGIN QUESTION
# name: q1

# %% [markdown]
# **Question 1.** Write `ising_probabilities(J, h, beta=1.0)` returning the Boltzmann
# probabilities $P_{\rm AA}$ (shape `(64,)`, in the order of `states`) of the open chain
# $E(s) = -J\sum_{i=1}^{5} s_i s_{i+1} - h\sum_{i=1}^{6} s_i$.

# %% [raw]
# # BEGIN SOLUTION

# %%
def ising_probabilities(J, h, beta=1.0):
    """Exact Boltzmann probabilities of the 6-spin open chain over `states`."""
    # BEGIN SOLUTION
    energy = -J * np.sum(states[:, 1:] * states[:, :-1], axis=1) - h * states.sum(axis=1)
    w = np.exp(-beta * (energy - energy.min()))
    return w / w.sum()
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %%
with time_limit(60):
    p_aa = ising_probabilities(1.0, 0.0)
print(p_aa[:4], np.sum(p_aa))

# %% [raw]
# # BEGIN TESTS

# %%
def test_ising(ising_probabilities, states):
    import numpy as np
    import check_helpers as ch
    J, beta = 0.7, 1.3
    p = ch.array(ch.call(ising_probabilities, J, 0.0, beta=beta), "ising_probabilities(0.7, 0, beta=1.3)", shape=(64,))
    up = int(np.flatnonzero((states == 1).all(axis=1))[0])
    z = 2 * (2 * np.cosh(beta * J)) ** 5  # open chain: Z = 2 (2 cosh beta J)^(N-1)
    ch.check(not np.isclose(p[up], np.exp(-5 * beta * J) / z), "Sign of the energy: E = -J sum s_i s_i+1, so aligned spins are favoured for J > 0.")
    ch.close(p[up], np.exp(5 * beta * J) / z, "p(all spins up)", rtol=1e-8, hint="Five bonds (open chain, not periodic), weight exp(-beta E), normalised to 1.")


test_ising(ising_probabilities, states)

# %%
# HIDDEN
def test_ising_field(ising_probabilities, states):
    import numpy as np
    import check_helpers as ch
    h, beta = 0.4, 0.9
    p = ch.array(ch.call(ising_probabilities, 0.0, h, beta=beta), "ising_probabilities(0, 0.4, beta=0.9)", shape=(64,))
    single = np.exp(beta * h * states) / (2 * np.cosh(beta * h))
    ch.close(p, single.prod(axis=1), "ising_probabilities(0, 0.4, beta=0.9)", rtol=1e-8, hint="With J = 0 the spins are independent: p = prod_i exp(beta h s_i) / (2 cosh beta h).")


test_ising_field(ising_probabilities, states)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2

# %% [markdown]
# **Question 2 — the mapping.** Write `coarse_labels(states)` returning, for each state, the
# integer label $R = 2\,[\sigma_1 = +1] + [\sigma_2 = +1]$ where $\sigma_1$, $\sigma_2$ are the
# majority signs of spins 1–3 and 4–6 (so labels run 0..3). Then write
# `mapped_distribution(p, labels)` returning $P_{\rm map}(R)$, the total probability of the
# microstates with label $R$ (shape `(4,)`).

# %% [raw]
# # BEGIN SOLUTION

# %%
def coarse_labels(states):
    """Block-spin labels 0..3 (majority rule on blocks of 3 spins)."""
    # BEGIN SOLUTION
    states = np.asarray(states)
    s1 = states[:, :3].sum(axis=1) > 0
    s2 = states[:, 3:].sum(axis=1) > 0
    return 2 * s1.astype(int) + s2.astype(int)
    # END SOLUTION


def mapped_distribution(p, labels):
    """P_map(R) = sum of p over the microstates with label R, R = 0..3."""
    return np.bincount(labels, weights=p, minlength=4)  # SOLUTION

# %% [raw]
# # END SOLUTION

# %%
with time_limit(60):
    labels = coarse_labels(states)
    print(mapped_distribution(p_aa, labels))

# %% [raw]
# # BEGIN TESTS

# %%
def test_labels(coarse_labels):
    import numpy as np
    import check_helpers as ch
    example = np.array([[1, 1, -1, -1, -1, 1], [-1, -1, 1, 1, 1, -1], [1, 1, 1, 1, 1, 1], [-1, 1, -1, 1, -1, -1]])
    got = ch.array(ch.call(coarse_labels, example), "coarse_labels(example)", shape=(4,))
    ch.check(not np.allclose(got, [1, 2, 3, 0]), "Block order: R = 2*[block 1 up] + [block 2 up], block 1 = spins 1-3.")
    ch.close(got, [2, 1, 3, 0], "coarse_labels([[+,+,-,-,-,+], [-,-,+,+,+,-], [+]*6, [-,+,-,+,-,-]])", hint="Majority sign of spins 1-3 and of spins 4-6.")


test_labels(coarse_labels)

# %%
def test_mapped_small(mapped_distribution):
    import numpy as np
    import check_helpers as ch
    p = np.array([0.1, 0.2, 0.3, 0.4])
    got = ch.array(ch.call(mapped_distribution, p, np.array([1, 0, 1, 2])), "mapped_distribution([0.1, 0.2, 0.3, 0.4], [1, 0, 1, 2])")
    ch.check(got.shape == (4,), f"mapped_distribution([0.1, 0.2, 0.3, 0.4], [1, 0, 1, 2]) has shape {got.shape}: label 3 has no microstate here but still needs its entry (probability 0), one entry per label 0..3.")
    ch.check(not np.allclose(got, [1, 2, 1, 0]), "You counted the microstates of each label: add up their probabilities p instead.")
    ch.close(got, [0.2, 0.4, 0.4, 0.0], "mapped_distribution([0.1, 0.2, 0.3, 0.4], [1, 0, 1, 2])", rtol=1e-12, hint="Entry R adds up p over the microstates whose label is R.")


test_mapped_small(mapped_distribution)

# %%
# HIDDEN
def test_mapped(coarse_labels, mapped_distribution, states):
    import numpy as np
    import check_helpers as ch
    h = 0.4
    q = np.exp(h) / (2 * np.cosh(h))  # independent spins
    up = q**3 + 3 * q**2 * (1 - q)  # block majority up
    single = np.exp(h * states) / (2 * np.cosh(h))
    p = single.prod(axis=1)
    labels = ch.array(ch.call(coarse_labels, states), "coarse_labels(states)", shape=(64,)).astype(int)
    pr = ch.array(ch.call(mapped_distribution, p, labels), "mapped_distribution(p, labels)", shape=(4,))
    ch.close(pr, [(1 - up) ** 2, (1 - up) * up, up * (1 - up), up**2], "mapped_distribution for independent spins", rtol=1e-8, hint="P_map(R) adds up p(r) over the microstates r with label R.")


test_mapped(coarse_labels, mapped_distribution, states)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 2

# %% [markdown]
# **Question 3 — the three terms.** Write `information_terms(p_aa, labels, p_cg)` returning
# `(total, coarse, reconstruction)` as defined above, each computed from its own definition
# (use `kl`). $\Omega(R)$ is the number of microstates with label $R$.

# %% [raw]
# # BEGIN SOLUTION

# %%
def information_terms(p_aa, labels, p_cg):
    """(total, coarse, reconstruction) of the uniform-backmapping decomposition."""
    # BEGIN SOLUTION
    omega = np.bincount(labels, minlength=len(p_cg))
    p_map = mapped_distribution(p_aa, labels)
    q = np.asarray(p_cg)[labels] / omega[labels]
    total = kl(p_aa, q)
    coarse = kl(p_map, p_cg)
    reconstruction = sum(
        p_map[r] * kl(p_aa[labels == r] / p_map[r], np.full(omega[r], 1.0 / omega[r]))
        for r in range(len(p_cg)) if p_map[r] > 0
    )
    return total, coarse, reconstruction
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %%
uniform_cg = np.full(4, 0.25)
with time_limit(60):
    print(information_terms(p_aa, labels, uniform_cg))

# %% [raw]
# # BEGIN TESTS

# %%
def test_terms_independent(mapped_distribution, information_terms, states):
    import numpy as np
    import check_helpers as ch
    ch.prerequisite("Q2", mapped_distribution, (np.array([0.1, 0.2, 0.3, 0.4]), np.array([1, 0, 1, 2])), [0.2, 0.4, 0.4, 0.0])
    h = 0.4
    q = np.exp(h) / (2 * np.cosh(h))
    up = q**3 + 3 * q**2 * (1 - q)
    p = (np.exp(h * states) / (2 * np.cosh(h))).prod(axis=1)
    labels = 2 * (states[:, :3].sum(axis=1) > 0) + (states[:, 3:].sum(axis=1) > 0)
    bern = lambda a: a * np.log(2 * a) + (1 - a) * np.log(2 * (1 - a))  # D(Bern(a) || Bern(1/2))
    h2 = lambda a: -a * np.log(a) - (1 - a) * np.log(1 - a)
    result = ch.parts(ch.call(information_terms, p, labels, np.full(4, 0.25), name="information_terms"), "information_terms(p, labels, uniform)", 3)
    total, coarse, recon = (ch.number(v, n) for v, n in zip(result, ["total", "coarse", "reconstruction"]))
    ch.close(total, 6 * bern(q), "total", rtol=1e-8, hint="total = D(P_AA || q) with q(r) = P_CG(M(r)) / Omega(M(r)) (here every q(r) = 1/64).")
    ch.close(coarse, 2 * bern(up), "coarse", rtol=1e-8, hint="coarse = D(P_map || P_CG) with P_map(R) the mapped distribution.")
    ch.check(not np.isclose(recon, 6 * h2(q) - 2 * h2(up)), "The reconstruction term is a relative entropy to the uniform distribution over Omega(R) states, not a conditional entropy.")
    ch.close(recon, np.log(16) - (6 * h2(q) - 2 * h2(up)), "reconstruction", rtol=1e-8, hint="sum over R of P_map(R) times the relative entropy of the conditional p(r|R) from the uniform 1/Omega(R) on the microstates of R.")


test_terms_independent(mapped_distribution, information_terms, states)

# %%
# HIDDEN
def test_terms_other_cg_model(information_terms, states):
    import numpy as np
    import check_helpers as ch
    h = 0.4
    q = np.exp(h) / (2 * np.cosh(h))
    up = q**3 + 3 * q**2 * (1 - q)  # P(block majority up)
    p = (np.exp(h * states) / (2 * np.cosh(h))).prod(axis=1)
    labels = 2 * (states[:, :3].sum(axis=1) > 0) + (states[:, 3:].sum(axis=1) > 0)
    p_r = np.array([(1 - up) ** 2, (1 - up) * up, up * (1 - up), up**2])
    p_cg = np.array([0.1, 0.2, 0.3, 0.4])
    h2 = lambda a: -a * np.log(a) - (1 - a) * np.log(1 - a)
    result = ch.parts(ch.call(information_terms, p, labels, p_cg, name="information_terms"), "information_terms(p, labels, [0.1, 0.2, 0.3, 0.4])", 3)
    total, coarse, recon = (ch.number(v, n) for v, n in zip(result, ["total", "coarse", "reconstruction"]))
    # q(r) = p_CG(R) / 16: total = -H(p) - sum_R p_R ln p_CG(R) + ln 16
    ch.close(total, -6 * h2(q) - p_r @ np.log(p_cg) + np.log(16), "total", rtol=1e-8, hint="total = D(P_AA || q) with q(r) = P_CG(M(r)) / Omega(M(r)).")
    ch.close(coarse, p_r @ np.log(p_r / p_cg), "coarse", rtol=1e-8, hint="coarse = D(P_map || P_CG): use the p_cg passed in, not a uniform one.")
    ch.close(recon, np.log(16) - 6 * h2(q) + 2 * h2(up), "reconstruction", rtol=1e-8, hint="The reconstruction term does not depend on p_cg.")


test_terms_other_cg_model(information_terms, states)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4

# %% [markdown]
# **Question 4 — the irreducible loss.** For the ferromagnetic chain `p_aa` ($J = 1$, $h = 0$),
# the best coarse model is the mapped distribution itself. Store it in `p_cg_best`, the three
# terms for it in `best_terms`, and the reconstruction term in `irreducible`: no coarse model
# on this mapping can lose less information. The cell also prints the reconstruction term for
# `uniform_cg`: compare the two.

# %% [raw]
# # BEGIN SOLUTION

# %%
with time_limit(60):
    p_cg_best = ...
    best_terms = ...  # (total, coarse, reconstruction) for p_cg_best
    irreducible = ...
    # BEGIN SOLUTION NO PROMPT
    p_cg_best = mapped_distribution(p_aa, labels)
    best_terms = information_terms(p_aa, labels, p_cg_best)
    irreducible = best_terms[2]
    # END SOLUTION
    print(best_terms, information_terms(p_aa, labels, uniform_cg)[2])

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_irreducible(mapped_distribution, information_terms, irreducible, p_cg_best, best_terms, states):
    import numpy as np
    import check_helpers as ch
    ch.prerequisite("Q2", mapped_distribution, (np.array([0.1, 0.2, 0.3, 0.4]), np.array([1, 0, 1, 2])), [0.2, 0.4, 0.4, 0.0])
    energy = -np.sum(states[:, 1:] * states[:, :-1], axis=1)
    p = np.exp(-energy) / np.exp(-energy).sum()
    labels = 2 * (states[:, :3].sum(axis=1) > 0) + (states[:, 3:].sum(axis=1) > 0)
    p_map = np.bincount(labels, weights=p, minlength=4)
    entropy = lambda x: -np.sum(x[x > 0] * np.log(x[x > 0]))
    # sum_R P_map(R) ln Omega(R) - (H(P_AA) - H(P_map)), Omega(R) = 16
    exact = np.log(16) - (entropy(p) - entropy(p_map))
    uniform = np.full(4, 0.25)  # total = D(P_AA || 1/64), coarse = D(P_map || 1/4)
    ch.prerequisite("Q3", information_terms, (p, labels, uniform), (np.log(64) - entropy(p), np.log(4) - entropy(p_map), exact), rtol=1e-8)
    ch.close(ch.array(p_cg_best, "p_cg_best", shape=(4,)), p_map, "p_cg_best", rtol=1e-8, hint="The best coarse model is the mapped distribution of p_aa.")
    terms = [ch.number(v, f"best_terms[{i}]") for i, v in enumerate(ch.parts(best_terms, "best_terms", 3))]
    ch.close(terms, [exact, 0.0, exact], "best_terms", rtol=1e-8, atol=1e-12, hint="information_terms(p_aa, labels, p_cg_best): for the best model the coarse term vanishes and the total is the reconstruction term.")
    ch.close(ch.number(irreducible, "irreducible"), exact, "irreducible", rtol=1e-8, hint="irreducible is the reconstruction term (third entry) for p_cg_best.")


test_irreducible(mapped_distribution, information_terms, irreducible, p_cg_best, best_terms, states)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **What you have.** Exact numbers for the two kinds of information loss: the coarse term,
# which REM minimises, and the reconstruction term, fixed by the mapping alone — a way to
# compare mappings before fitting any model.
#
# ## Your score
#
# The cell below reruns every check and shows the points per question and the total. These
# are the checks you can see; your teacher's grading also runs hidden checks with other inputs.

# %% editable=false deletable=false
check_helpers.score(grader.check_all());
