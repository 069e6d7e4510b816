# %% [raw]
# # ASSIGNMENT CONFIG
# name: practice8_gaussian_chain
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
# # Practice 8 — REM and force matching disagree: the centre-of-mass Gaussian chain
#
# An ideal chain of 16 beads joined by harmonic springs of constant $k$
# ($U = \tfrac k2\sum_j (x_{j+1}-x_j)^2$, one Cartesian component — the others are independent
# copies) is coarse-grained into $M = 4$ blocks of $n = 4$ beads, each represented by its
# centre of mass $R_I$. The coarse model is again a chain of springs, of constant $K$, between
# consecutive centres. Which $K$? Relative entropy minimisation (REM) and force matching (FM)
# give **different** answers, because the mapped distribution is not a chain of independent
# springs: neighbouring centre-of-mass bonds share the beads' fluctuations. You derive the REM
# answer by hand, then measure both.
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

import numpy as np

n_per_block, n_blocks, k_spring, beta = 4, 4, 2.0, 1.0


def sample_chain(n_samples, n_beads, k, beta=1.0, seed=0):
    """Exact equilibrium configurations (n_samples, n_beads) of the free 1-D Gaussian chain (x_0 = 0)."""
    bonds = np.random.default_rng(seed).normal(scale=1 / np.sqrt(beta * k), size=(n_samples, n_beads - 1))
    return np.concatenate([np.zeros((n_samples, 1)), np.cumsum(bonds, axis=1)], axis=1)


x_chain = sample_chain(20000, n_per_block * n_blocks, k_spring, beta, seed=8)

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 2

# %% [markdown]
# **Question 1 — REM by hand.** The coarse model has independent bonds $\Delta R$ with variance
# $1/(\beta K)$, and REM matches $\langle\Delta R^2\rangle$: $K_{\rm REM} =
# 1/(\beta\langle\Delta R^2\rangle)$. Write the bond between two neighbouring centres as a sum
# of the $2n - 1$ bead bonds $b_l$ (each of variance $1/(\beta k)$, independent) that lie
# between them: $\Delta R = \sum_l c_l b_l$ with $c_l = l/n$ for $l \le n$ and $c_l = (2n-l)/n$
# for $n < l < 2n$. Sum the squares and write `k_rem_formula(n, k, beta=1.0)` returning
# $K_{\rm REM}$ in closed form.

# %% [raw]
# # BEGIN SOLUTION

# %%
def k_rem_formula(n, k, beta=1.0):
    """REM spring constant between centres of mass of blocks of n beads."""
    return 3 * n * k / (2 * n**2 + 1)  # SOLUTION

# %% [raw]
# # END SOLUTION

# %%
with time_limit(60):
    print(k_rem_formula(n_per_block, k_spring))

# %% [raw]
# # BEGIN TESTS

# %%
def test_k_rem_formula(k_rem_formula):
    import numpy as np
    import check_helpers as ch
    for n in (1, 2, 3, 5):
        c = np.array([j / n if j <= n else (2 * n - j) / n for j in range(1, 2 * n)])
        exact = 2.0 / np.sum(c**2)  # k = 2: K = 1 / (beta * sum(c^2) / (beta k))
        got = ch.number(ch.call(k_rem_formula, n, 2.0), f"k_rem_formula({n}, 2.0)")
        ch.check(not (n > 1 and np.isclose(got, 2.0 / n)), "K = k/n treats the blocks as rigid springs in series; the centre-of-mass bond also contains the bonds inside both blocks, weighted by c_l.")
        ch.close(got, exact, f"k_rem_formula({n}, 2.0)", rtol=1e-10, hint="Write sum_l c_l^2 over l = 1..2n-1 in closed form (1^2 + 2^2 + ... + n^2 = n(n+1)(2n+1)/6 helps); <dR^2> is that sum times 1/(beta k).")


test_k_rem_formula(k_rem_formula)

# %%
# HIDDEN
def test_k_rem_formula_other_k_and_beta(k_rem_formula):
    import numpy as np
    import check_helpers as ch
    n, k = 8, 0.7
    c = np.array([j / n if j <= n else (2 * n - j) / n for j in range(1, 2 * n)])
    exact = k / np.sum(c**2)  # K = 1 / (beta <dR^2>), <dR^2> = sum(c^2) / (beta k): beta cancels
    for beta in (1.0, 2.5):
        got = ch.number(ch.call(k_rem_formula, n, k, beta=beta), f"k_rem_formula({n}, {k}, beta={beta})")
        ch.close(got, exact, f"k_rem_formula({n}, {k}, beta={beta})", rtol=1e-10, hint="K_REM is proportional to k and independent of beta: both <dR^2> and 1/(beta K) carry the same 1/beta.")


test_k_rem_formula_other_k_and_beta(k_rem_formula)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2

# %% [markdown]
# **Question 2 — REM measured.** Write `com_positions(x, n)` mapping configurations
# `(n_samples, n * M)` to block centres `(n_samples, M)` (consecutive blocks of `n` beads).
# Then measure `k_rem_measured` $= 1/(\beta\langle\Delta R^2\rangle)$ from `x_chain`, averaging
# over samples and the three coarse bonds.

# %% [raw]
# # BEGIN SOLUTION

# %%
def com_positions(x, n):
    """Centres of mass of consecutive blocks of n equal-mass beads."""
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    return x.reshape(x.shape[0], -1, n).mean(axis=2)
    # END SOLUTION


with time_limit(60):
    r_chain = com_positions(x_chain, n_per_block)
    k_rem_measured = ...  # 1 / (beta <dR^2>) from r_chain
    # BEGIN SOLUTION NO PROMPT
    k_rem_measured = 1 / (beta * np.mean(np.diff(r_chain, axis=1) ** 2))
    # END SOLUTION
    print(k_rem_measured, k_rem_formula(n_per_block, k_spring))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_com(com_positions):
    import numpy as np
    import check_helpers as ch
    x = np.arange(12, dtype=float).reshape(2, 6) ** 2
    got = ch.array(ch.call(com_positions, x, 3), "com_positions(x, 3)", shape=(2, 2))
    ch.check(not np.allclose(got, x[:, :6].reshape(2, 3, 2).mean(axis=2)[:, :2]), "Blocks are consecutive groups of n beads: reshape to (n_samples, M, n).")
    ch.close(got, [[(0 + 1 + 4) / 3, (9 + 16 + 25) / 3], [(36 + 49 + 64) / 3, (81 + 100 + 121) / 3]], "com_positions(x, 3)", hint="Average the n positions of each block.")


test_com(com_positions)

# %%
def test_k_rem_measured(com_positions, k_rem_measured):
    import numpy as np
    import check_helpers as ch
    ch.prerequisite("the check above", com_positions, (np.arange(12.0).reshape(2, 6) ** 2, 3), [[5 / 3, 50 / 3], [149 / 3, 302 / 3]])
    got = ch.number(k_rem_measured, "k_rem_measured")
    # <dR^2> = sum_l c_l^2 / (beta k) = (2 n^2 + 1) / (3 n beta k); 20,000 samples of 3 bonds: 1 % noise
    ch.check(not np.isclose(got, 1 / (3 * 4 * 2.0 / (2 * 16 + 1)), rtol=0.03), "k_rem_measured is inverted: it is 1 / (beta <dR^2>), not <dR^2>.")
    ch.close(got, 3 * 4 * 2.0 / (2 * 16 + 1), "k_rem_measured", rtol=0.03, hint="Average (R_{I+1} - R_I)^2 over the samples and the three coarse bonds of r_chain, then K = 1 / (beta <dR^2>).")


test_k_rem_measured(com_positions, k_rem_measured)

# %%
# HIDDEN
def test_com_other_blocks(com_positions):
    import numpy as np
    import check_helpers as ch
    x = np.random.default_rng(4).normal(size=(3, 10))
    got = ch.array(ch.call(com_positions, x, 2), "com_positions(3 x 10 configurations, 2)", shape=(3, 5))
    ch.close(got, 0.5 * (x[:, 0::2] + x[:, 1::2]), "com_positions(3 x 10 configurations, 2)", rtol=1e-12, hint="Any block size n and any number of samples: one centre per consecutive block of n beads.")


test_com_other_blocks(com_positions)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 2

# %% [markdown]
# **Question 3 — force matching.** The force on bead $j$ is
# $f_j = k(x_{j+1}-x_j) - k(x_j-x_{j-1})$ (a term is absent at a chain end). Write
# `mapped_forces(x, n, k)` returning the total force on each block, $f_I = \sum_{j\in I} f_j$,
# shape `(n_samples, M)`. The model force is $K\,G_I$ with
# $G_I = (R_{I+1}-R_I) - (R_I-R_{I-1})$ (again without the missing neighbour at the ends).
# Force matching minimises $\langle\sum_I (f_I - K G_I)^2\rangle$; store its solution
# $K_{\rm FM} = \sum f_I G_I / \sum G_I^2$ (sums over samples and blocks) in `k_fm_measured`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def mapped_forces(x, n, k):
    """Total spring force on each block of n beads."""
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    bond = np.diff(x, axis=1)
    f = np.zeros_like(x)
    f[:, :-1] += k * bond
    f[:, 1:] -= k * bond
    return f.reshape(x.shape[0], -1, n).sum(axis=2)
    # END SOLUTION


with time_limit(60):
    k_fm_measured = ...  # sum(f_I G_I) / sum(G_I^2)
    # BEGIN SOLUTION NO PROMPT
    forces = mapped_forces(x_chain, n_per_block, k_spring)
    d_r = np.diff(r_chain, axis=1)
    g = np.zeros_like(r_chain)
    g[:, :-1] += d_r
    g[:, 1:] -= d_r
    k_fm_measured = np.sum(forces * g) / np.sum(g * g)
    # END SOLUTION
print(k_fm_measured)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_mapped_forces(mapped_forces):
    import numpy as np
    import check_helpers as ch
    x = np.array([[0.0, 1.0, 3.0, 2.0]])
    got = ch.array(ch.call(mapped_forces, x, 2, 2.0), "mapped_forces([[0, 1, 3, 2]], 2, 2.0)", shape=(1, 2))
    # bead forces 2*[1, 2-1, -1-2, 1] = [2, 2, -6, 2]; the inner springs cancel inside a block
    ch.check(not np.allclose(got, [[-4.0, 4.0]]), "Sign error: f_j = k (x_{j+1} - x_j) - k (x_j - x_{j-1}) pulls bead j towards its neighbours.")
    ch.close(got, [[4.0, -4.0]], "mapped_forces([[0, 1, 3, 2]], 2, 2.0)", hint="Sum the bead forces of each block; springs inside a block cancel, only the spring across the block boundary remains.")


test_mapped_forces(mapped_forces)

# %%
def test_k_fm(com_positions, mapped_forces, k_fm_measured):
    import numpy as np
    import check_helpers as ch
    ch.prerequisite("Q2", com_positions, (np.arange(12.0).reshape(2, 6) ** 2, 3), [[5 / 3, 50 / 3], [149 / 3, 302 / 3]])
    ch.prerequisite("the check above", mapped_forces, (np.array([[0.0, 1.0, 3.0, 2.0]]), 2, 2.0), [[4.0, -4.0]])
    n, n_blocks, k = 4, 4, 2.0
    beads = n * n_blocks
    pos = np.tril(np.ones((beads, beads - 1)), -1)  # bead positions as sums of independent bonds
    com = np.kron(np.eye(n_blocks), np.full((1, n), 1 / n)) @ pos
    d = com[1:] - com[:-1]
    d_pad = np.vstack([np.zeros(beads - 1), d, np.zeros(beads - 1)])
    g = d_pad[1:] - d_pad[:-1]
    bead_force = k * (np.eye(beads, beads - 1) - np.eye(beads, beads - 1, -1))
    f = np.kron(np.eye(n_blocks), np.ones((1, n))) @ bead_force
    exact = np.sum(f * g) / np.sum(g * g)  # <f.G>/<G.G> with unit-variance bonds (the bond variance cancels)
    got = ch.number(k_fm_measured, "k_fm_measured")
    ch.close(got, exact, "k_fm_measured", rtol=0.03, hint="K_FM = sum(f_I G_I) / sum(G_I^2) over samples and blocks, with the block forces of x_chain (n = 4, k = 2) and G_I from the centres r_chain.")


test_k_fm(com_positions, mapped_forces, k_fm_measured)

# %%
# HIDDEN
def test_mapped_forces_other(mapped_forces):
    import numpy as np
    import check_helpers as ch
    x = np.random.default_rng(6).normal(size=(2, 9))
    k = 0.5
    bead = np.zeros_like(x)
    for j in range(9):  # bead forces one by one
        if j + 1 < 9:
            bead[:, j] += k * (x[:, j + 1] - x[:, j])
        if j > 0:
            bead[:, j] -= k * (x[:, j] - x[:, j - 1])
    got = ch.array(ch.call(mapped_forces, x, 3, k), "mapped_forces(2 x 9 configurations, 3, 0.5)", shape=(2, 3))
    ch.close(got, bead.reshape(2, 3, 3).sum(axis=2), "mapped_forces(2 x 9 configurations, 3, 0.5)", rtol=1e-10, atol=1e-12, hint="Any n and k: no spring beyond the chain ends, block forces summed over consecutive blocks of n beads.")


test_mapped_forces_other(mapped_forces)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4

# %% [markdown]
# **Question 4 — what each model gets right.** Store `ratio = k_fm_measured / k_rem_measured`.
# Then store the coarse bond variance of the target, `bond_var_target`
# $=\langle\Delta R^2\rangle$, and those the two models predict, `bond_var_rem`
# $= 1/(\beta K_{\rm REM})$ and `bond_var_fm` $= 1/(\beta K_{\rm FM})$ (measured constants).
# REM reproduces the structure exactly; the stiffer FM spring underestimates the fluctuations.

# %% [raw]
# # BEGIN SOLUTION

# %%
ratio = ...
bond_var_target = ...
bond_var_rem = ...
bond_var_fm = ...
# BEGIN SOLUTION NO PROMPT
ratio = k_fm_measured / k_rem_measured
bond_var_target = np.mean(np.diff(r_chain, axis=1) ** 2)
bond_var_rem = 1 / (beta * k_rem_measured)
bond_var_fm = 1 / (beta * k_fm_measured)
# END SOLUTION
print(ratio, bond_var_target, bond_var_rem, bond_var_fm)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_ratio(k_rem_measured, k_fm_measured, ratio, bond_var_target, bond_var_rem, bond_var_fm):
    import numpy as np
    import check_helpers as ch
    for value, name, question, exact in [(k_rem_measured, "k_rem_measured", "Q2", 24 / 33), (k_fm_measured, "k_fm_measured", "Q3", 6 / 7)]:
        try:
            ch.check(np.isclose(ch.number(value, name), exact, rtol=0.03), f"`{name}` does not pass the check of {question} yet")
        except AssertionError as error:
            raise AssertionError(f"This question uses {name} ({str(error).rstrip('.')}): fix {question} first.") from None
    k_rem, k_fm = float(k_rem_measured), float(k_fm_measured)
    r = ch.number(ratio, "ratio")
    ch.check(not np.isclose(r, k_rem / k_fm, rtol=1e-6), "ratio is inverted: k_fm_measured / k_rem_measured.")
    ch.close(r, k_fm / k_rem, "ratio", rtol=1e-8, hint="ratio = k_fm_measured / k_rem_measured.")
    target = ch.number(bond_var_target, "bond_var_target")
    ch.close(target, 1 / k_rem, "bond_var_target", rtol=1e-8, hint="bond_var_target = <(R_{I+1} - R_I)^2> over samples and bonds of r_chain.")
    ch.close(ch.number(bond_var_rem, "bond_var_rem"), target, "bond_var_rem", rtol=1e-8, hint="bond_var_rem = 1/(beta k_rem_measured): it equals <dR^2> by construction (moment matching).")
    ch.close(ch.number(bond_var_fm, "bond_var_fm"), 1 / k_fm, "bond_var_fm", rtol=1e-8, hint="bond_var_fm = 1/(beta k_fm_measured): smaller than the target variance.")


test_ratio(k_rem_measured, k_fm_measured, ratio, bond_var_target, bond_var_rem, bond_var_fm)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **What you have.** A derivation and a measurement of a textbook fact: the two standard
# coarse-graining methods disagree when the coarse model cannot represent the mapped
# distribution. REM matches the coarse structure (here the bond variance) exactly; force
# matching matches the projected forces and gets a stiffer spring.
#
# ## Your score
#
# The cell below reruns every check and shows the points per question and the total. These
# are the checks you can see; your teacher's grading also runs hidden checks with other inputs.

# %% editable=false deletable=false
check_helpers.score(grader.check_all());
