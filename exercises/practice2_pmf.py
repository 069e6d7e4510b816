# %% [raw]
# # ASSIGNMENT CONFIG
# name: practice2_pmf
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
# # Practice 2 — The potential of mean force from samples
#
# The potential of mean force (PMF) of a coarse coordinate $\xi$ is the free energy
# $F(\xi) = -k_BT \ln P(\xi) + \text{const}$. From samples one estimates $P$ with a histogram
# and inverts it (Boltzmann inversion). For a distance $r$ between particles in 3-D, the
# histogram also counts the volume of a spherical shell, $4\pi r^2\,dr$; that Jacobian must be
# divided out before inverting, or the PMF gets a spurious $-2k_BT\ln r$.
#
# Units: $\beta = 1/k_BT$, energies in $k_BT$.
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


def exact_samples(energy, lower, upper, n, seed, beta=1.0):
    """Exact samples of p(x) ~ exp(-beta energy(x)) on [lower, upper] by inverse CDF on a fine grid."""
    grid = np.linspace(lower, upper, 20001)
    weight = np.exp(-beta * (energy(grid) - energy(grid).min()))
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (weight[1:] + weight[:-1]) * np.diff(grid))])
    rng = np.random.default_rng(seed)
    return np.interp(rng.uniform(0, cdf[-1], n), cdf, grid)


def double_well(x):
    return (x**2 - 1) ** 2


x_samples = exact_samples(double_well, -2.5, 2.5, 100_000, seed=2)

# %% [raw]
# # BEGIN QUESTION
# name: q1

# %% [markdown]
# **Question 1.** Write `histogram_density(samples, edges)` returning the estimated probability
# density in each bin: the count divided by the number of samples **and** by the bin width
# (bins may have different widths). Do not use `density=True`; count yourself or with
# `np.histogram(samples, edges)[0]`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def histogram_density(samples, edges):
    """Normalised histogram: counts / (n_samples * bin width)."""
    # BEGIN SOLUTION
    samples = np.asarray(samples, dtype=float)
    counts = np.histogram(samples, edges)[0]
    return counts / (samples.size * np.diff(edges))
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %%
with time_limit(60):
    print(histogram_density([0.1, 0.2, 0.6], [0.0, 0.5, 1.0]))

# %% [raw]
# # BEGIN TESTS

# %%
def test_density_small(histogram_density):
    import numpy as np
    import check_helpers as ch
    d = ch.array(ch.call(histogram_density, [0.1, 0.2, 0.6], [0.0, 0.5, 1.0]), "histogram_density([0.1, 0.2, 0.6], [0, 0.5, 1])", shape=(2,))
    ch.check(not np.allclose(d, [2, 1]), "You returned raw counts: divide by the number of samples and by the bin width.")
    ch.check(not np.allclose(d, [2 / 3, 1 / 3]), "You divided by the number of samples but not by the bin width (0.5 here).")
    ch.close(d, [4 / 3, 2 / 3], "histogram_density([0.1, 0.2, 0.6], [0, 0.5, 1])", hint="A density integrates to 1 over the bins: sum(density * width) = 1.")


test_density_small(histogram_density)

# %%
# HIDDEN
def test_density_uneven(histogram_density):
    import numpy as np
    import check_helpers as ch
    rng = np.random.default_rng(11)
    samples = rng.normal(size=5000)
    edges = np.array([-4.0, -2.0, -1.0, -0.5, 0.0, 0.3, 1.0, 2.5, 4.0])
    d = ch.array(ch.call(histogram_density, samples, edges), "histogram_density(normal samples, uneven edges)", shape=(8,))
    ch.close(d, np.histogram(samples, edges, density=True)[0], "histogram_density with uneven bins", hint="Each bin has its own width: divide by np.diff(edges), not by one width.")


test_density_uneven(histogram_density)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2

# %% [markdown]
# **Question 2 — Boltzmann inversion.** Write `boltzmann_inversion(density, beta=1.0)`
# returning $F = -\beta^{-1}\ln P$ shifted so that its minimum is 0, with `np.inf` in bins where
# the density is 0 (and no warnings for them). Then compute the PMF of the double-well samples,
# `f_double_well`, on the bins `edges_x`; it should follow $U(x) = (x^2-1)^2$.

# %%
edges_x = np.linspace(-2.0, 2.0, 41)

# %% [raw]
# # BEGIN SOLUTION

# %%
def boltzmann_inversion(density, beta=1.0):
    """F = -ln(density)/beta, minimum shifted to 0, inf where density == 0."""
    # BEGIN SOLUTION
    density = np.asarray(density, dtype=float)
    free = np.full(density.shape, np.inf)
    positive = density > 0
    free[positive] = -np.log(density[positive]) / beta
    return free - free[positive].min()
    # END SOLUTION


with time_limit(60):
    f_double_well = ...  # the PMF of x_samples on the bins edges_x
    # BEGIN SOLUTION NO PROMPT
    f_double_well = boltzmann_inversion(histogram_density(x_samples, edges_x))
    # END SOLUTION
print(np.round(f_double_well, 2))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_inversion_exact(boltzmann_inversion):
    import numpy as np
    import check_helpers as ch
    energy = np.array([0.0, 1.0, 3.0])
    density = np.exp(-2.0 * energy) / 7.3
    f = ch.array(ch.call(boltzmann_inversion, density, beta=2.0), "boltzmann_inversion(density, beta=2)", shape=(3,))
    ch.check(not np.allclose(f, energy.max() - energy), "The sign is wrong: F = -kT ln P is lowest where P is highest.")
    ch.check(not np.allclose(f, 2.0 * energy), "beta is not used: with beta = 2 your F is twice the right one. F = -ln(P) / beta.")
    ch.check(not np.allclose(f, 4.0 * energy), "You multiplied by beta: F = -kT ln P, and kT = 1 / beta.")
    ch.close(f, energy, "boltzmann_inversion(exp(-2 U)/Z, beta=2)", hint="F = -ln(P) / beta, then subtract the minimum.")
    g = ch.array(ch.call(boltzmann_inversion, np.array([0.5, 0.0, 0.25])), "boltzmann_inversion([0.5, 0, 0.25])", shape=(3,), allow_inf=True)
    ch.check(np.isinf(g[1]) and g[1] > 0, "An empty bin (density 0) must give F = +inf.")
    ch.close(g[[0, 2]], [0.0, np.log(2)], "boltzmann_inversion([0.5, 0, 0.25]) (finite bins)", hint="Shift so that the minimum over the non-empty bins is 0 (an empty bin's inf is not a minimum).")


test_inversion_exact(boltzmann_inversion)

# %%
def test_double_well_pmf(histogram_density, boltzmann_inversion, f_double_well, x_samples, edges_x):
    import numpy as np
    import check_helpers as ch
    ch.prerequisite("Q1", histogram_density, ([0.1, 0.2, 0.6], [0.0, 0.5, 1.0]), [4 / 3, 2 / 3])
    energy = np.array([0.0, 1.0, 3.0])
    ch.prerequisite("the check above", boltzmann_inversion, (np.exp(-2.0 * energy) / 7.3,), energy, kwargs={"beta": 2.0})
    f = ch.array(f_double_well, "f_double_well", shape=(40,))
    # exact bin probabilities by quadrature of exp(-(x^2 - 1)^2) on [-2.5, 2.5]
    fine = np.linspace(-2.5, 2.5, 200001)
    w = np.exp(-((fine**2 - 1) ** 2))
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (w[1:] + w[:-1]) * np.diff(fine))])
    prob = np.diff(np.interp(edges_x, fine, cdf)) / cdf[-1]
    counts = np.histogram(x_samples, edges_x)[0]
    ok = counts > 400
    exact = -np.log(prob / np.diff(edges_x))
    diff = (f - exact)[ok]
    offset = np.average(diff, weights=counts[ok])
    z = (diff - offset) * np.sqrt(counts[ok])  # sd of -ln(count) is 1/sqrt(count)
    ch.check(np.max(np.abs(z)) < 5, f"f_double_well deviates from (x^2-1)^2 by {np.max(np.abs(z)):.1f} standard errors: it is the Boltzmann inversion of the density of x_samples on the bins edges_x.")


test_double_well_pmf(histogram_density, boltzmann_inversion, f_double_well, x_samples, edges_x)

# %%
# HIDDEN
def test_inversion_other_beta(boltzmann_inversion):
    import numpy as np
    import check_helpers as ch
    density = np.array([0.0, 0.1, 0.4, 0.0, 0.2])
    f = ch.array(ch.call(boltzmann_inversion, density, beta=0.5), "boltzmann_inversion([0, 0.1, 0.4, 0, 0.2], beta=0.5)", shape=(5,), allow_inf=True)
    ch.check(np.isinf(f[[0, 3]]).all() and (f[[0, 3]] > 0).all(), "Every empty bin must give F = +inf.")
    ch.close(f[[1, 2, 4]], [2 * np.log(4), 0.0, 2 * np.log(2)], "boltzmann_inversion([0, 0.1, 0.4, 0, 0.2], beta=0.5) (finite bins)", rtol=1e-10, hint="F = -ln(P) / beta for any beta, minimum over the non-empty bins shifted to 0.")


test_inversion_other_beta(boltzmann_inversion)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 2

# %% [markdown]
# **Question 3 — the Jacobian of a distance.** `r_samples` are lengths $r = |\mathbf{x}|$ of
# 3-D vectors with independent Gaussian components of variance $\sigma^2 = 0.64$, i.e. a
# harmonic bond with $U = |\mathbf{x}|^2 / (2\sigma^2)$. The radial density is
# $P(r) \propto 4\pi r^2 e^{-\beta U(r)}$. Write `distance_pmf(r_samples, edges, beta=1.0)` that
# divides the histogram density by $4\pi r^2$ at the bin centres before Boltzmann inversion, so
# that the result is $U(r) = r^2/(2\sigma^2)$ up to a constant.

# %%
sigma = 0.8
rng = np.random.default_rng(3)
r_samples = np.linalg.norm(rng.normal(scale=sigma, size=(200_000, 3)), axis=1)
edges_r = np.linspace(0.05, 2.4, 48)

# %% [raw]
# # BEGIN SOLUTION

# %%
def distance_pmf(r_samples, edges, beta=1.0):
    """PMF of a 3-D distance with the r^2 Jacobian divided out."""
    # BEGIN SOLUTION
    edges = np.asarray(edges, dtype=float)
    centers = 0.5 * (edges[1:] + edges[:-1])
    density = histogram_density(r_samples, edges) / (4 * np.pi * centers**2)
    return boltzmann_inversion(density, beta=beta)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %%
with time_limit(60):
    f_distance = distance_pmf(r_samples, edges_r)
print(np.round(f_distance[:8], 3))

# %% [raw]
# # BEGIN TESTS

# %%
def test_distance_pmf(histogram_density, boltzmann_inversion, distance_pmf, r_samples, edges_r, sigma):
    import numpy as np
    import check_helpers as ch
    ch.prerequisite("Q1", histogram_density, ([0.1, 0.2, 0.6], [0.0, 0.5, 1.0]), [4 / 3, 2 / 3])
    energy = np.array([0.0, 1.0, 3.0])
    ch.prerequisite("Q2", boltzmann_inversion, (np.exp(-2.0 * energy) / 7.3,), energy, kwargs={"beta": 2.0})
    f = ch.array(ch.call(distance_pmf, r_samples, edges_r), "distance_pmf(r_samples, edges_r)", shape=(len(edges_r) - 1,))
    centers = 0.5 * (edges_r[1:] + edges_r[:-1])
    counts = np.histogram(r_samples, edges_r)[0]
    ok = counts > 400
    exact = centers**2 / (2 * sigma**2)
    naive = exact - 2 * np.log(centers)

    def misfit(reference):
        diff = (f - reference)[ok]
        z = (diff - np.average(diff, weights=counts[ok])) * np.sqrt(counts[ok])
        return np.max(np.abs(z))

    ch.check(not (misfit(naive) < 6 < misfit(exact)), "Your PMF has the extra -2 kT ln r of the shell volume: divide the density by 4 pi r^2 (the Jacobian) before the inversion.")
    ch.check(misfit(exact) < 6, f"distance_pmf deviates from r^2/(2 sigma^2) by {misfit(exact):.1f} standard errors: divide the density by the shell area at each bin centre, then invert.")


test_distance_pmf(histogram_density, boltzmann_inversion, distance_pmf, r_samples, edges_r, sigma)

# %%
# HIDDEN
def test_distance_pmf_exact_counts(distance_pmf):
    import numpy as np
    import check_helpers as ch
    # 30 samples in [1, 2) and 90 in [2, 3.5): densities 0.25 and 0.5, bin centres 1.5 and 2.75
    samples = np.concatenate([np.full(30, 1.5), np.full(90, 2.9)])
    shell = np.array([0.25, 0.5]) / (4 * np.pi * np.array([1.5, 2.75]) ** 2)
    exact = -np.log(shell) / 2.0
    f = ch.array(ch.call(distance_pmf, samples, np.array([1.0, 2.0, 3.5]), beta=2.0), "distance_pmf(samples, [1, 2, 3.5], beta=2)", shape=(2,))
    ch.close(f, exact - exact.min(), "distance_pmf(samples, [1, 2, 3.5], beta=2)", rtol=1e-8, atol=1e-10, hint="Unequal bin widths, beta passed on to the inversion, minimum shifted to 0.")


test_distance_pmf_exact_counts(distance_pmf)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4

# %% [markdown]
# **Question 4 — a spring constant from the PMF.** Fit $F(r) \approx \tfrac12 k r^2 + c$ to
# `f_distance` by linear least squares over the bins with $0.3 < r < 1.8$ and store $k$ in
# `k_fit`. Theory says $k = 1/(\beta\sigma^2)$. (What would you get without the Jacobian?)

# %% [raw]
# # BEGIN SOLUTION

# %%
k_fit = ...  # spring constant from the least-squares fit
# BEGIN SOLUTION NO PROMPT
centers_r = 0.5 * (edges_r[1:] + edges_r[:-1])
window = (centers_r > 0.3) & (centers_r < 1.8)
design = np.column_stack([0.5 * centers_r[window] ** 2, np.ones(window.sum())])
k_fit = np.linalg.lstsq(design, f_distance[window], rcond=None)[0][0]
# END SOLUTION
print(k_fit, 1 / sigma**2)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_k_fit(distance_pmf, k_fit, sigma):
    import numpy as np
    import check_helpers as ch
    samples = np.concatenate([np.full(30, 1.5), np.full(90, 2.9)])
    shell = -np.log(np.array([0.25, 0.5]) / (4 * np.pi * np.array([1.5, 2.75]) ** 2)) / 2.0
    ch.prerequisite("Q3", distance_pmf, (samples, np.array([1.0, 2.0, 3.5])), shell - shell.min(), kwargs={"beta": 2.0})
    k = ch.number(k_fit, "k_fit")
    ch.close(k, 1 / sigma**2, "k_fit", rtol=0.03, hint="Fit F = k r^2 / 2 + c (note the 1/2) to f_distance on 0.3 < r < 1.8: a linear least-squares problem in (k, c).")


test_k_fit(distance_pmf, k_fit, sigma)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **What you have.** A PMF estimator from samples, and the reason every radial distribution or
# bond-length PMF in the book carries a Jacobian: without it a free harmonic bond looks as if
# it had a minimum at $r = \sqrt{2}\,\sigma$.
#
# ## Your score
#
# The cell below reruns every check and shows the points per question and the total. These
# are the checks you can see; your teacher's grading also runs hidden checks with other inputs.

# %% editable=false deletable=false
check_helpers.score(grader.check_all());
