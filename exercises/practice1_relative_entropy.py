# %% [raw]
# # ASSIGNMENT CONFIG
# name: practice1_relative_entropy
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
# # Practice 1 — Relative entropy by hand
#
# The relative entropy (Kullback–Leibler divergence) of a model $q$ from a distribution $p$
# over discrete states $i$ is
#
# $$D_{\rm KL}(p\,\|\,q) = \sum_i p_i \ln\frac{p_i}{q_i}\qquad\text{(in nats)}.$$
#
# In this practice you write it yourself, see that it is not symmetric, meet the infinite
# penalty for a model that forbids a state the data visit, and finally use it to fit a model.
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

import math

import numpy as np

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 2

# %% [markdown]
# **Question 1.** Write `kl_divergence(p, q)` that returns $D_{\rm KL}(p\|q)$ in nats as a
# float.
#
# * normalise `p` and `q` inside (so counts may be passed),
# * a state with $p_i = 0$ contributes nothing ($0 \ln 0 = 0$),
# * return `math.inf` if some state has $q_i = 0 < p_i$.

# %% [raw]
# # BEGIN SOLUTION

# %%
def kl_divergence(p, q):
    """Relative entropy D_KL(p||q) in nats of two discrete distributions."""
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

# %% [raw]
# # END SOLUTION

# %%
with time_limit(60):
    print(kl_divergence([0.5, 0.5], [0.9, 0.1]))

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
    ch.check(d >= 0, f"Negative relative entropy ({d:.4g}) is impossible: is it ln(p/q), not ln(q/p)?")
    ch.close(d, exact, "kl_divergence([0.5, 0.5], [0.9, 0.1])", hint="Each state contributes p_i times the log of a ratio of the two probabilities.")
    ch.close(ch.number(ch.call(kl_divergence, [0.3, 0.7], [0.3, 0.7]), "kl_divergence(p, p)"), 0.0, "kl_divergence(p, p)", atol=1e-12, hint="D(p||p) must be exactly 0.")


test_kl_example(kl_divergence)

# %%
def test_kl_normalises(kl_divergence):
    import numpy as np
    import check_helpers as ch
    d_probabilities = ch.number(ch.call(kl_divergence, [0.5, 0.5], [0.9, 0.1]), "kl_divergence([0.5, 0.5], [0.9, 0.1])")
    ch.check(np.isclose(d_probabilities, np.log(5 / 3)), "Make kl_divergence right for probabilities first (the check above); this check then tries counts.")
    d = ch.number(ch.call(kl_divergence, [1, 1], [9, 1]), "kl_divergence([1, 1], [9, 1])")
    ch.close(d, np.log(5 / 3), "kl_divergence([1, 1], [9, 1])", hint="Counts must give the same answer as the probabilities they stand for: normalise p and q inside the function.")


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
    ch.close(d, exact, "kl_divergence(binomial(0.3), binomial(0.55))", hint="Sum over all states, not only the first two.")


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
# $D_{\rm KL}(p\|q)$ in `d_forward`, $D_{\rm KL}(q\|p)$ in `d_backward` and their difference
# `d_forward - d_backward` in `asymmetry`.

# %%
p_uniform = np.full(4, 0.25)
q_peaked = np.array([0.7, 0.1, 0.1, 0.1])

# %% [raw]
# # BEGIN SOLUTION

# %%
with time_limit(60):
    d_forward = ...  # D_KL(p_uniform || q_peaked)
    d_backward = ...  # D_KL(q_peaked || p_uniform)
    asymmetry = ...
    # BEGIN SOLUTION NO PROMPT
    d_forward = kl_divergence(p_uniform, q_peaked)
    d_backward = kl_divergence(q_peaked, p_uniform)
    asymmetry = d_forward - d_backward
    # END SOLUTION
print(d_forward, d_backward, asymmetry)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_asymmetry(kl_divergence, d_forward, d_backward, asymmetry):
    import numpy as np
    import check_helpers as ch
    ch.prerequisite("Q1", kl_divergence, ([0.5, 0.5], [0.9, 0.1]), np.log(5 / 3))
    fwd = 0.25 * np.log(0.25 / 0.7) + 0.75 * np.log(2.5)
    bwd = 0.7 * np.log(2.8) + 0.3 * np.log(0.4)
    f = ch.number(d_forward, "d_forward")
    b = ch.number(d_backward, "d_backward")
    a = ch.number(asymmetry, "asymmetry")
    ch.check(not (np.isclose(f, bwd) and np.isclose(b, fwd)), "d_forward and d_backward are swapped: d_forward = D(p||q) averages over the uniform p.")
    ch.close(f, fwd, "d_forward", hint="d_forward is the relative entropy of q_peaked from p_uniform: p_uniform goes first.")
    ch.close(b, bwd, "d_backward", hint="d_backward exchanges the roles of the two distributions.")
    ch.close(a, fwd - bwd, "asymmetry", hint="asymmetry = d_forward - d_backward.")


test_asymmetry(kl_divergence, d_forward, d_backward, asymmetry)

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
# visit is infinitely bad: $D_{\rm KL}(p\|q) = \infty$. The cell below checks that your
# function returns `inf` for $p = (1/2, 1/2)$, $q = (1, 0)$. A common fix mixes a little of the
# uniform distribution into the model, $q_\varepsilon = (1-\varepsilon)\,q + \varepsilon\,(1/2, 1/2)$.
#
# Write `smoothed_penalty(eps)` returning $D_{\rm KL}(p\|q_\varepsilon)$. As
# $\varepsilon \to 0$ the penalty grows like a constant times $\ln(1/\varepsilon)$: measure that
# constant as a finite-difference slope between $\varepsilon = 10^{-6}$ and $\varepsilon = 10^{-8}$
# (how much the penalty grows per unit of $\ln(1/\varepsilon)$) and store it in `slope`.
# Compare it with the probabilities in `p_half`: can you see why it approaches one of them?

# %%
p_half = np.array([0.5, 0.5])
q_forbids = np.array([1.0, 0.0])
with time_limit(60):
    print(kl_divergence(p_half, q_forbids))

# %% [raw]
# # BEGIN SOLUTION

# %%
def smoothed_penalty(eps):
    """D_KL(p_half || (1 - eps) q_forbids + eps * uniform)."""
    # BEGIN SOLUTION
    q_eps = (1 - eps) * q_forbids + eps * np.full(2, 0.5)
    return kl_divergence(p_half, q_eps)
    # END SOLUTION


with time_limit(60):
    slope = ...  # growth of the penalty per unit of ln(1/eps), between eps = 1e-6 and 1e-8
    # BEGIN SOLUTION NO PROMPT
    slope = (smoothed_penalty(1e-8) - smoothed_penalty(1e-6)) / np.log(100)
    # END SOLUTION
print(smoothed_penalty(1e-3), slope)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_infinite(kl_divergence):
    import math
    import numpy as np
    import check_helpers as ch
    ch.prerequisite("Q1", kl_divergence, ([0.5, 0.5], [0.9, 0.1]), np.log(5 / 3))
    d = ch.number(ch.call(kl_divergence, [0.5, 0.5], [1.0, 0.0]), "kl_divergence([0.5, 0.5], [1, 0])", allow_inf=True)
    ch.check(math.isinf(d) and d > 0, f"kl_divergence([0.5, 0.5], [1, 0]) = {d}, expected inf: a state with q_i = 0 < p_i makes D infinite.")
    back = ch.number(ch.call(kl_divergence, [1.0, 0.0], [0.5, 0.5]), "kl_divergence([1, 0], [0.5, 0.5])", allow_inf=True)
    ch.check(not math.isinf(back), "kl_divergence([1, 0], [0.5, 0.5]) is inf, but here q has no zero where p > 0: return inf only if q_i = 0 for a state with p_i > 0.")
    ch.close(back, math.log(2), "kl_divergence([1, 0], [0.5, 0.5])", hint="States with p_i = 0 contribute nothing, even where q_i > 0.")


test_infinite(kl_divergence)

# %%
def test_smoothed(smoothed_penalty):
    import numpy as np
    import check_helpers as ch
    eps = 1e-3
    exact = 0.5 * np.log(0.5 / (1 - eps / 2)) + 0.5 * np.log(1 / eps)
    d = ch.number(ch.call(smoothed_penalty, eps), "smoothed_penalty(1e-3)")
    ch.close(d, exact, "smoothed_penalty(1e-3)", rtol=1e-8, hint="q_eps = (1 - eps) q_forbids + eps (1/2, 1/2) sums to 1; the penalty is D(p_half || q_eps).")


test_smoothed(smoothed_penalty)

# %%
def test_slope(slope):
    import numpy as np
    import check_helpers as ch
    d = lambda e: 0.5 * np.log(0.5 / (1 - e / 2)) + 0.5 * np.log(1 / e)
    exact = (d(1e-8) - d(1e-6)) / np.log(100)
    s = ch.number(slope, "slope")
    ch.check(s > 0, f"slope = {s:.4g}: the penalty grows as eps shrinks, so the slope per unit of ln(1/eps) is positive (ln(1/eps) grows by ln(100) from 1e-6 to 1e-8).")
    ch.close(s, exact, "slope", rtol=1e-6, hint="Divide the change of smoothed_penalty between eps = 1e-6 and 1e-8 by the change of ln(1/eps) between them.")


test_slope(slope)

# %%
# HIDDEN
def test_smoothed_other_eps(smoothed_penalty):
    import numpy as np
    import check_helpers as ch
    for eps in (0.2, 1.0):  # at eps = 1 the model is uniform, equal to p_half: D = 0
        exact = 0.5 * np.log(0.5 / (1 - eps / 2)) + 0.5 * np.log(1 / eps)
        d = ch.number(ch.call(smoothed_penalty, eps), f"smoothed_penalty({eps})")
        ch.close(d, exact, f"smoothed_penalty({eps})", rtol=1e-8, atol=1e-12, hint="Mix with the weight eps passed in, for any eps in (0, 1].")


test_smoothed_other_eps(smoothed_penalty)

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
# On the grid `thetas`, find the $\theta$ that minimises $D_{\rm KL}(p\|q_\theta)$ (store it in
# `theta_forward`) and the one that minimises $D_{\rm KL}(q_\theta\|p)$ (`theta_reverse`).
#
# The forward fit — the one relative entropy minimisation makes — matches the mean and covers
# both modes; the reverse fit picks one mode.

# %%
k_states = np.arange(11)


def binomial_pmf(theta):
    """Binomial(10, theta) probabilities of k = 0..10."""
    coefficients = np.array([math.comb(10, int(k)) for k in k_states])
    return coefficients * theta**k_states * (1 - theta) ** (10 - k_states)


p_bimodal = 0.5 * binomial_pmf(0.2) + 0.5 * binomial_pmf(0.8)
thetas = np.linspace(0.01, 0.99, 981)

# %% [raw]
# # BEGIN SOLUTION

# %%
with time_limit(60):
    theta_forward = ...  # minimiser of D_KL(p_bimodal || q_theta) on thetas
    theta_reverse = ...  # minimiser of D_KL(q_theta || p_bimodal) on thetas
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
def test_forward(kl_divergence, theta_forward):
    import numpy as np
    import check_helpers as ch
    ch.prerequisite("Q1", kl_divergence, ([0.5, 0.5], [0.9, 0.1]), np.log(5 / 3))
    t = ch.number(theta_forward, "theta_forward")
    # exponential family: the forward minimiser matches the mean, 10 theta = <k>_p = 5
    ch.close(t, 0.5, "theta_forward", atol=0.0051, hint="The forward fit matches the mean of p_bimodal. Did you swap the arguments (that is theta_reverse)?")


test_forward(kl_divergence, theta_forward)

# %%
def test_reverse(kl_divergence, theta_reverse):
    import numpy as np
    import check_helpers as ch
    ch.prerequisite("Q1", kl_divergence, ([0.5, 0.5], [0.9, 0.1]), np.log(5 / 3))
    t = ch.number(theta_reverse, "theta_reverse")
    ch.check(abs(t - 0.5) > 0.05, f"theta_reverse = {t:.3f} is the forward fit: in D_KL(q_theta || p_bimodal) the model comes first.")
    ch.check(min(abs(t - 0.2), abs(t - 0.8)) < 0.05, f"theta_reverse = {t:.3f}: minimise D_KL(q_theta || p_bimodal) over thetas; the reverse fit sits near one mode.")


test_reverse(kl_divergence, theta_reverse)

# %%
# HIDDEN
def test_reverse_is_the_grid_minimiser(theta_reverse):
    import math
    import numpy as np
    import check_helpers as ch
    k = np.arange(11)
    comb = np.array([math.comb(10, int(j)) for j in k])
    pmf = lambda t: comb * t**k * (1 - t) ** (10 - k)
    p = 0.5 * pmf(0.2) + 0.5 * pmf(0.8)
    grid = np.linspace(0.01, 0.99, 981)
    reverse = [np.sum(pmf(t) * np.log(pmf(t) / p)) for t in grid]
    best = grid[int(np.argmin(reverse))]  # the problem is symmetric: 1 - best is as good
    t = ch.number(theta_reverse, "theta_reverse")
    ch.check(min(abs(t - best), abs(t - (1 - best))) < 1e-9, f"theta_reverse = {t:.4f} is not the minimiser on the grid ({best:.2f} or {1 - best:.2f}).")


test_reverse_is_the_grid_minimiser(theta_reverse)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **What you have.** A relative entropy you can trust, its asymmetry, its infinite penalty for
# forbidden states, and the central fact behind REM: minimising $D_{\rm KL}(p\|q_\theta)$ over
# an exponential family matches averages — here the mean.
#
# ## Your score
#
# The cell below reruns every check and shows the points per question and the total. These
# are the checks you can see; your teacher's grading also runs hidden checks with other inputs.

# %% editable=false deletable=false
check_helpers.score(grader.check_all());
