# %% [raw]
# # ASSIGNMENT CONFIG
# name: practice8_gaussian_chain
# export_cell: false
# check_all_cell: true
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
# An ideal chain of $N = 16$ beads joined by harmonic springs of constant $k$
# ($U = \tfrac k2\sum_j (x_{j+1}-x_j)^2$, one Cartesian component — the others are independent
# copies) is coarse-grained into $M = 4$ blocks of $n = 4$ beads, each represented by its
# centre of mass $R_I$. The coarse model is again a chain of springs, of constant $K$, between
# consecutive centres. Which $K$? Relative entropy minimisation (REM) and force matching (FM)
# give **different** answers, because the mapped distribution is not a chain of independent
# springs: neighbouring centre-of-mass bonds share the beads' fluctuations. You derive the REM
# answer by hand, then measure both.

# %%
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
# of the $2n - 1$ bead bonds $b_m$ (each of variance $1/(\beta k)$, independent) that lie
# between them: $\Delta R = \sum_m c_m b_m$ with $c_m = m/n$ for $m \le n$ and $c_m = (2n-m)/n$
# for $n < m < 2n$. Sum the squares and write `k_rem_formula(n, k, beta=1.0)` returning
# $K_{\rm REM}$ in closed form.

# %% [raw]
# # BEGIN SOLUTION

# %%
def k_rem_formula(n, k, beta=1.0):
    """REM spring constant between centres of mass of blocks of n beads."""
    return 3 * n * k / (2 * n**2 + 1)  # SOLUTION


print(k_rem_formula(n_per_block, k_spring))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_k_rem_formula(k_rem_formula):
    import numpy as np
    import check_helpers as ch
    for n in (1, 2, 3, 5):
        c = np.array([m / n if m <= n else (2 * n - m) / n for m in range(1, 2 * n)])
        exact = 2.0 / np.sum(c**2)  # k = 2: K = 1 / (beta * sum(c^2) / (beta k))
        got = ch.number(ch.call(k_rem_formula, n, 2.0), f"k_rem_formula({n}, 2.0)")
        ch.check(not (n > 1 and np.isclose(got, 2.0 / n)), "K = k/n treats the blocks as rigid springs in series; the centre-of-mass bond also contains the bonds inside both blocks, weighted by c_m.")
        ch.close(got, exact, f"k_rem_formula({n}, 2.0)", rtol=1e-10, hint="sum of c_m^2 = (2 n^2 + 1) / (3 n), so K_REM = 3 n k / (2 n^2 + 1) (no beta).")


test_k_rem_formula(k_rem_formula)

# %%
# HIDDEN
def test_k_rem_formula_other_k_and_beta(k_rem_formula):
    import numpy as np
    import check_helpers as ch
    n, k = 8, 0.7
    c = np.array([m / n if m <= n else (2 * n - m) / n for m in range(1, 2 * n)])
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
# `(n_samples, N)` to block centres `(n_samples, N // n)` (consecutive blocks of `n` beads).
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


r_chain = com_positions(x_chain, n_per_block)
k_rem_measured = 1 / (beta * np.mean(np.diff(r_chain, axis=1) ** 2))  # SOLUTION
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
    ch.check(not np.allclose(got, x[:, :6].reshape(2, 3, 2).mean(axis=2)[:, :2]), "Blocks are consecutive groups of n beads: reshape to (n_samples, N // n, n).")
    ch.close(got, [[(0 + 1 + 4) / 3, (9 + 16 + 25) / 3], [(36 + 49 + 64) / 3, (81 + 100 + 121) / 3]], "com_positions(x, 3)", hint="Average the n positions of each block.")


test_com(com_positions)

# %%
# HIDDEN
def test_k_rem_measured(k_rem_measured):
    import check_helpers as ch
    got = ch.number(k_rem_measured, "k_rem_measured")
    ch.close(got, 3 * 4 * 2.0 / (2 * 16 + 1), "k_rem_measured", rtol=0.03, hint="1 / (beta * mean of (R_{I+1} - R_I)^2) over samples and bonds; expected K_REM = 24/33.")


test_k_rem_measured(k_rem_measured)

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
# `mapped_forces(x, n, k)` returning the total force on each block, $F_I = \sum_{j\in I} f_j$,
# shape `(n_samples, N // n)`. The model force is $K\,G_I$ with
# $G_I = (R_{I+1}-R_I) - (R_I-R_{I-1})$ (again without the missing neighbour at the ends).
# Force matching minimises $\langle\sum_I (F_I - K G_I)^2\rangle$; store its solution
# $K_{\rm FM} = \sum F_I G_I / \sum G_I^2$ (sums over samples and blocks) in `k_fm_measured`.

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


k_fm_measured = ...  # sum(F G) / sum(G G)
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
# HIDDEN
def test_k_fm(k_fm_measured):
    import numpy as np
    import check_helpers as ch
    n, m_blocks, k = 4, 4, 2.0
    beads = n * m_blocks
    pos = np.tril(np.ones((beads, beads - 1)), -1)  # bead positions as sums of independent bonds
    com = np.kron(np.eye(m_blocks), np.full((1, n), 1 / n)) @ pos
    d = com[1:] - com[:-1]
    d_pad = np.vstack([np.zeros(beads - 1), d, np.zeros(beads - 1)])
    g = d_pad[1:] - d_pad[:-1]
    bead_force = k * (np.eye(beads, beads - 1) - np.eye(beads, beads - 1, -1))
    f = np.kron(np.eye(m_blocks), np.ones((1, n))) @ bead_force
    exact = np.sum(f * g) / np.sum(g * g)  # <F.G>/<G.G> with unit-variance bonds (the bond variance cancels)
    got = ch.number(k_fm_measured, "k_fm_measured")
    ch.close(got, exact, "k_fm_measured", rtol=0.03, hint="K_FM = sum(F * G) / sum(G * G) over samples and blocks, with F = mapped_forces(x_chain, 4, 2.0).")


test_k_fm(k_fm_measured)

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
def test_ratio(ratio, bond_var_target, bond_var_rem, bond_var_fm):
    import check_helpers as ch
    r = ch.number(ratio, "ratio")
    ch.check(abs(r - 28 / 33) > 0.05, "ratio is inverted: k_fm_measured / k_rem_measured.")
    ch.close(r, (6 / 7) / (24 / 33), "ratio", rtol=0.04, hint="Exact: K_FM / K_REM = (6/7) / (24/33) = 33/28 for n = 4, M = 4.")
    target = ch.number(bond_var_target, "bond_var_target")
    ch.close(ch.number(bond_var_rem, "bond_var_rem"), target, "bond_var_rem", rtol=1e-8, hint="bond_var_rem = 1/(beta k_rem_measured) equals <dR^2> by construction (moment matching).")
    ch.close(ch.number(bond_var_fm, "bond_var_fm"), target * 28 / 33, "bond_var_fm", rtol=0.04, hint="bond_var_fm = 1/(beta k_fm_measured): smaller than the target variance.")


test_ratio(ratio, bond_var_target, bond_var_rem, bond_var_fm)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **What you have.** A derivation and a measurement of a textbook fact: the two standard
# coarse-graining methods disagree when the coarse model cannot represent the mapped
# distribution. REM matches the coarse structure (here the bond variance) exactly; force
# matching matches the projected forces and gets a stiffer spring.
