# %% [raw]
# # ASSIGNMENT CONFIG
# name: practice1_relative_entropy
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
# # Practice 1 — Relative entropy by hand
#
# The relative entropy (Kullback–Leibler divergence) of a distribution $p$ from a model $q$
# over discrete states $i$ is
#
# $$D(p\,\|\,q) = \sum_i p_i \ln\frac{p_i}{q_i}\qquad\text{(in nats)}.$$
#
# In this practice you write it yourself, see that it is not symmetric, meet the infinite
# penalty for a model that forbids a state the data visit, and finally use it to fit a model.
#
# Run the first cell, then answer each question and run the `grader.check` cell below it.
# A failed check tells you what is probably wrong.

# %%
import math

import numpy as np

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 2

# %% [markdown]
# **Question 1.** Write `kl_divergence(p, q)` that returns $D(p\|q)$ in nats as a float.
#
# * normalise `p` and `q` inside (so counts may be passed),
# * a state with $p_i = 0$ contributes nothing ($0 \ln 0 = 0$),
# * return `math.inf` if some state has $q_i = 0 < p_i$.

# %% [raw]
# # BEGIN SOLUTION

# %%
def kl_divergence(p, q):
    """Relative entropy D(p||q) in nats of two discrete distributions."""
    # BEGIN SOLUTION
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    p = p / p.sum()
    q = q / q.sum()
    visited = p > 0
    if np.any(q[visited] == 0):
        return math.inf
    return float(np.sum(p[visited] * np.log(p[visited] / q[visited])))
    # END SOLUTION


print(kl_divergence([0.5, 0.5], [0.9, 0.1]))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_kl_example(kl_divergence):
    import numpy as np
    import check_helpers as ch
    d = ch.number(ch.call(kl_divergence, [0.5, 0.5], [0.9, 0.1]), "kl_divergence([0.5, 0.5], [0.9, 0.1])")
    exact = np.log(5 / 3)  # 0.5 ln(0.5/0.9) + 0.5 ln(0.5/0.1) = 0.5 ln(25/9)
    reverse = 0.9 * np.log(1.8) + 0.1 * np.log(0.2)
    ch.check(not np.isclose(d, reverse), "You computed D(q||p): the arguments are swapped. D(p||q) averages ln(p/q) over p.")
    ch.check(not np.isclose(d, exact / np.log(2)), "Your value is in bits: use the natural logarithm np.log, not np.log2.")
    ch.check(d >= 0, f"Negative relative entropy ({d:.4g}) is impossible: are p and q normalised, and is it ln(p/q), not ln(q/p)?")
    ch.close(d, exact, "kl_divergence([0.5, 0.5], [0.9, 0.1])", hint="D(p||q) = sum_i p_i ln(p_i / q_i).")
    ch.close(ch.number(ch.call(kl_divergence, [0.3, 0.7], [0.3, 0.7]), "kl_divergence(p, p)"), 0.0, "kl_divergence(p, p)", atol=1e-12, hint="D(p||p) must be exactly 0.")


test_kl_example(kl_divergence)

# %%
def test_kl_normalises(kl_divergence):
    import numpy as np
    import check_helpers as ch
    d = ch.number(ch.call(kl_divergence, [1, 1], [9, 1]), "kl_divergence([1, 1], [9, 1])")
    ch.close(d, np.log(5 / 3), "kl_divergence([1, 1], [9, 1])", hint="Counts must give the same answer as probabilities: divide p and q by their sums inside the function.")


test_kl_normalises(kl_divergence)

# %%
# HIDDEN
def test_kl_binomial(kl_divergence):
    import math
    import numpy as np
    import check_helpers as ch
    n, a, b = 12, 0.3, 0.55
    k = np.arange(n + 1)
    binom = lambda t: np.array([math.comb(n, int(j)) for j in k]) * t**k * (1 - t) ** (n - k)
    exact = n * (a * np.log(a / b) + (1 - a) * np.log((1 - a) / (1 - b)))  # D(Bin||Bin) = n D(Bern||Bern)
    d = ch.number(ch.call(kl_divergence, binom(a), binom(b)), "kl_divergence(binomial(0.3), binomial(0.55))")
    ch.close(d, exact, "kl_divergence(binomial(0.3), binomial(0.55))", hint="D(p||q) = sum_i p_i ln(p_i / q_i) over all states.")


test_kl_binomial(kl_divergence)

# %%
# HIDDEN
def test_kl_zero_p(kl_divergence):
    import numpy as np
    import check_helpers as ch
    d = ch.number(ch.call(kl_divergence, [0.5, 0.5, 0.0], [0.25, 0.25, 0.5]), "kl_divergence([0.5, 0.5, 0], [0.25, 0.25, 0.5])")
    ch.close(d, np.log(2), "kl_divergence([0.5, 0.5, 0], [0.25, 0.25, 0.5])", hint="A state with p_i = 0 contributes 0 (0 ln 0 = 0); skip it.")


test_kl_zero_p(kl_divergence)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2

# %% [markdown]
# **Question 2 — asymmetry.** For $p = (1/4, 1/4, 1/4, 1/4)$ and $q = (0.7, 0.1, 0.1, 0.1)$ store
# $D(p\|q)$ in `d_forward`, $D(q\|p)$ in `d_backward` and their difference
# `d_forward - d_backward` in `asymmetry`.

# %% [raw]
# # BEGIN SOLUTION

# %%
p_uniform = np.full(4, 0.25)
q_peaked = np.array([0.7, 0.1, 0.1, 0.1])
d_forward = kl_divergence(p_uniform, q_peaked)  # SOLUTION
d_backward = kl_divergence(q_peaked, p_uniform)  # SOLUTION
asymmetry = d_forward - d_backward  # SOLUTION
print(d_forward, d_backward, asymmetry)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_asymmetry(d_forward, d_backward, asymmetry):
    import numpy as np
    import check_helpers as ch
    fwd = 0.25 * np.log(0.25 / 0.7) + 0.75 * np.log(2.5)
    bwd = 0.7 * np.log(2.8) + 0.3 * np.log(0.4)
    f = ch.number(d_forward, "d_forward")
    b = ch.number(d_backward, "d_backward")
    a = ch.number(asymmetry, "asymmetry")
    ch.check(not (np.isclose(f, bwd) and np.isclose(b, fwd)), "d_forward and d_backward are swapped: d_forward = D(p||q) averages over the uniform p.")
    ch.close(f, fwd, "d_forward", hint="d_forward = kl_divergence(p_uniform, q_peaked).")
    ch.close(b, bwd, "d_backward", hint="d_backward = kl_divergence(q_peaked, p_uniform).")
    ch.close(a, fwd - bwd, "asymmetry", hint="asymmetry = d_forward - d_backward.")


test_asymmetry(d_forward, d_backward, asymmetry)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 2

# %% [markdown]
# **Question 3 — the infinite penalty.** A model that gives zero probability to a state the data
# visit is infinitely bad: $D(p\|q) = \infty$. Check that your function returns `inf` for
# $p = (1/2, 1/2)$, $q = (1, 0)$. A common fix mixes a little of the uniform distribution into the
# model, $q_\varepsilon = (1-\varepsilon)\,q + \varepsilon\,(1/2, 1/2)$.
#
# Write `smoothed_penalty(eps)` returning $D(p\|q_\varepsilon)$, and store in `slope` the rate at
# which it grows with $\ln(1/\varepsilon)$, measured between $\varepsilon = 10^{-6}$ and
# $10^{-8}$: `slope = (D(1e-8) - D(1e-6)) / ln(100)`. Which probability does it approach?

# %% [raw]
# # BEGIN SOLUTION

# %%
p_half = np.array([0.5, 0.5])
q_forbids = np.array([1.0, 0.0])


def smoothed_penalty(eps):
    """D(p_half || (1 - eps) q_forbids + eps * uniform)."""
    # BEGIN SOLUTION
    q_eps = (1 - eps) * q_forbids + eps * np.full(2, 0.5)
    return kl_divergence(p_half, q_eps)
    # END SOLUTION


slope = (smoothed_penalty(1e-8) - smoothed_penalty(1e-6)) / np.log(100)  # SOLUTION
print(kl_divergence(p_half, q_forbids), smoothed_penalty(1e-3), slope)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_infinite(kl_divergence):
    import math
    import check_helpers as ch
    d = ch.number(ch.call(kl_divergence, [0.5, 0.5], [1.0, 0.0]), "kl_divergence([0.5, 0.5], [1, 0])", allow_inf=True)
    ch.check(math.isinf(d) and d > 0, f"kl_divergence([0.5, 0.5], [1, 0]) = {d}, expected inf: a state with q_i = 0 < p_i makes D infinite.")
    back = ch.number(ch.call(kl_divergence, [1.0, 0.0], [0.5, 0.5]), "kl_divergence([1, 0], [0.5, 0.5])")
    ch.close(back, math.log(2), "kl_divergence([1, 0], [0.5, 0.5])", hint="The other direction is finite: states with p_i = 0 contribute nothing.")


test_infinite(kl_divergence)

# %%
def test_smoothed(smoothed_penalty):
    import numpy as np
    import check_helpers as ch
    eps = 1e-3
    exact = 0.5 * np.log(0.5 / (1 - eps / 2)) + 0.5 * np.log(1 / eps)
    d = ch.number(ch.call(smoothed_penalty, eps), "smoothed_penalty(1e-3)")
    ch.close(d, exact, "smoothed_penalty(1e-3)", rtol=1e-8, hint="q_eps = (1 - eps) * q_forbids + eps * [0.5, 0.5] must stay normalised; then D(p_half || q_eps).")


test_smoothed(smoothed_penalty)

# %%
# HIDDEN
def test_slope(slope):
    import numpy as np
    import check_helpers as ch
    d = lambda e: 0.5 * np.log(0.5 / (1 - e / 2)) + 0.5 * np.log(1 / e)
    exact = (d(1e-8) - d(1e-6)) / np.log(100)
    s = ch.number(slope, "slope")
    ch.close(s, exact, "slope", rtol=1e-6, hint="slope = (smoothed_penalty(1e-8) - smoothed_penalty(1e-6)) / ln(100); it approaches p of the forbidden state, 1/2.")


test_slope(slope)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 2

# %% [markdown]
# **Question 4 — fitting with relative entropy.** The data $p$ are bimodal on $k = 0,\dots,10$:
# an equal mixture of two binomial distributions with success probabilities 0.2 and 0.8. The
# model family is a single binomial $q_\theta(k) = \binom{10}{k}\theta^k(1-\theta)^{10-k}$.
# On the grid `thetas`, find the $\theta$ that minimises $D(p\|q_\theta)$ (store it in
# `theta_forward`) and the one that minimises $D(q_\theta\|p)$ (`theta_reverse`).
#
# The forward fit — the one relative entropy minimisation makes — matches the mean and covers
# both modes; the reverse fit picks one mode.

# %% [raw]
# # BEGIN SOLUTION

# %%
k_states = np.arange(11)


def binomial_pmf(theta):
    """Binomial(10, theta) probabilities of k = 0..10."""
    coefficients = np.array([math.comb(10, int(k)) for k in k_states])
    return coefficients * theta**k_states * (1 - theta) ** (10 - k_states)


p_bimodal = 0.5 * binomial_pmf(0.2) + 0.5 * binomial_pmf(0.8)
thetas = np.linspace(0.01, 0.99, 981)
theta_forward = ...  # minimiser of D(p_bimodal || q_theta) on thetas
theta_reverse = ...  # minimiser of D(q_theta || p_bimodal) on thetas
# BEGIN SOLUTION NO PROMPT
forward = np.array([kl_divergence(p_bimodal, binomial_pmf(t)) for t in thetas])
reverse = np.array([kl_divergence(binomial_pmf(t), p_bimodal) for t in thetas])
theta_forward = thetas[np.argmin(forward)]
theta_reverse = thetas[np.argmin(reverse)]
# END SOLUTION
print(theta_forward, theta_reverse)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_forward(theta_forward):
    import check_helpers as ch
    t = ch.number(theta_forward, "theta_forward")
    # exponential family: the forward minimiser matches the mean, 10 theta = <k>_p = 5
    ch.close(t, 0.5, "theta_forward", atol=0.0051, hint="The forward fit matches the mean <k>_p = 5, so theta = 0.5. Did you swap the arguments (that is theta_reverse)?")


test_forward(theta_forward)

# %%
# HIDDEN
def test_reverse(theta_reverse):
    import check_helpers as ch
    t = ch.number(theta_reverse, "theta_reverse")
    ch.check(min(abs(t - 0.2), abs(t - 0.8)) < 0.05, f"theta_reverse = {t:.3f}: minimise kl_divergence(binomial_pmf(theta), p_bimodal) (model first); it should sit near one mode, 0.2 or 0.8.")


test_reverse(theta_reverse)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **What you have.** A relative entropy you can trust, its asymmetry, its infinite penalty for
# forbidden states, and the central fact behind REM: minimising $D(p\|q_\theta)$ over an
# exponential family matches averages — here the mean.
