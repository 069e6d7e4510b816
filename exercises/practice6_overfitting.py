# %% [raw]
# # ASSIGNMENT CONFIG
# name: practice6_overfitting
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
# # Practice 6 — Bias and overfitting: choosing the basis size
#
# With samples instead of an exact target, relative entropy minimisation is maximum
# likelihood: $D(\theta) = -\ell(\theta) + \text{const}$, with $\ell(\theta)$ the average
# log-likelihood $\langle\ln P_\theta\rangle_{\rm data}$ of the samples. A richer basis always
# fits the training samples better — but past some size it fits their noise. The honest score
# is the average log-likelihood of *held-out* samples the fit never saw.
#
# The data: 60 samples of the double well $P(x) \propto e^{-(x^2-1)^2}$ on $[-2.5, 2.5]$.
# The models: $U_\theta(x) = \sum_{k=1}^{m}\theta_k \phi_k(x)$ with the Legendre polynomials
# $\phi_k(x) = P_k(x/2.5)$, for basis sizes $m = 1,\dots,8$. The setup cell gives you
# `design(x, m)` (the basis values) and `fit_theta(m, samples)` (a Newton–Raphson REM fit, as
# in Practice 4).
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
from numpy.polynomial import legendre

half_width = 2.5
grid = np.linspace(-half_width, half_width, 1001)
dx = grid[1] - grid[0]


def design(x, m):
    """Basis values P_1..P_m of x / half_width, shape (n, m)."""
    return legendre.legvander(np.asarray(x, dtype=float) / half_width, m)[:, 1:]


def exact_samples(n, seed):
    """Exact samples of exp(-(x^2 - 1)^2) on [-half_width, half_width] by inverse CDF."""
    fine = np.linspace(-half_width, half_width, 20001)
    w = np.exp(-((fine**2 - 1) ** 2))
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (w[1:] + w[:-1]) * np.diff(fine))])
    return np.interp(np.random.default_rng(seed).uniform(0, cdf[-1], n), cdf, fine)


def fit_theta(m, samples, tol=1e-9, max_iter=200):
    """REM / maximum-likelihood fit of the m-function model (Newton with step halving)."""
    phi = design(grid, m)
    target = design(samples, m).mean(axis=0)
    theta = np.zeros(m)

    def objective(t):  # theta . <phi>_data + ln Z(theta)
        u = phi @ t
        return t @ target - u.min() + np.log(np.sum(np.exp(-(u - u.min()))) * dx)

    for _ in range(max_iter):
        u = phi @ theta
        w = np.exp(-(u - u.min()))
        w /= w.sum()
        mean = w @ phi
        if np.linalg.norm(target - mean) < tol:
            break
        centred = phi - mean
        step = -np.linalg.solve(centred.T @ (centred * w[:, None]), target - mean)
        a = 1.0
        while objective(theta + a * step) > objective(theta) and a > 1e-10:
            a /= 2
        theta = theta + a * step
    return theta


x_train = exact_samples(60, seed=1)
x_test = exact_samples(20000, seed=99)
sizes = np.arange(1, 9)

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 2

# %% [markdown]
# **Question 1.** Write `log_likelihood(theta, samples)` returning the average
# $\ell(\theta) = \frac1N\sum_i \ln P_\theta(x_i)$ with $\ln P_\theta(x) = -U_\theta(x) - \ln Z(\theta)$
# and $Z(\theta) = \sum_{\rm grid} e^{-U_\theta}\,\Delta x$ (`dx`). The number of basis
# functions is `len(theta)`. Subtract the minimum of $U$ on the grid before exponentiating.

# %% [raw]
# # BEGIN SOLUTION

# %%
def log_likelihood(theta, samples):
    """Average log-density of `samples` under the model with parameters theta."""
    # BEGIN SOLUTION
    theta = np.asarray(theta, dtype=float)
    m = len(theta)
    u_grid = design(grid, m) @ theta
    log_z = -u_grid.min() + np.log(np.sum(np.exp(-(u_grid - u_grid.min()))) * dx)
    return float(np.mean(-design(samples, m) @ theta) - log_z)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %%
with time_limit(60):
    print(log_likelihood(fit_theta(4, x_train), x_test))

# %% [raw]
# # BEGIN TESTS

# %%
def test_ll_gaussian(log_likelihood):
    import numpy as np
    import check_helpers as ch
    # c P_2(x/2.5) = (3c/(2 L^2)) x^2 - c/2: with c = 4 L^2 / 3 a Gaussian exp(-2 x^2), variance 1/4
    L, a = 2.5, 2.0
    theta = np.array([0.0, 4 * L**2 / 3])
    x = np.array([0.1, -0.5, 1.0])
    exact = np.mean(-a * x**2) - 0.5 * np.log(np.pi / a)
    ll = ch.number(ch.call(log_likelihood, theta, x), "log_likelihood(theta_gauss, [0.1, -0.5, 1.0])")
    ch.check(not np.isclose(ll, np.mean(-a * x**2) + 2 * L**2 / 3), "You forgot ln Z(theta): without normalisation the likelihood is meaningless.")
    ch.check(not np.isclose(ll, np.mean(-a * x**2) + theta[1] + 0.5 * np.log(np.pi / a)), "Sign of ln Z: ln p = -U - ln Z.")
    ch.close(ll, exact, "log_likelihood(theta_gauss, [0.1, -0.5, 1.0])", rtol=1e-5, hint="Compared with the exact value for the Gaussian exp(-2 x^2): the average of -U over the samples, minus ln Z.")


test_ll_gaussian(log_likelihood)

# %%
# HIDDEN
def test_ll_one_function(log_likelihood):
    import numpy as np
    import check_helpers as ch
    # m = 1: U = c P_1(x/L) = c x / L, and Z = dx * sum over the grid is a geometric series
    L, c = 2.5, 1.7
    n_grid, dx = 1001, 5.0 / 1000
    ratio = np.exp(-c * dx / L)
    z = dx * np.exp(c) * (1 - ratio**n_grid) / (1 - ratio)
    x = np.array([-1.0, 0.3, 2.0])
    exact = np.mean(-c * x / L) - np.log(z)
    ll = ch.number(ch.call(log_likelihood, np.array([c]), x), "log_likelihood([1.7], [-1, 0.3, 2])")
    ch.close(ll, exact, "log_likelihood([1.7], [-1, 0.3, 2])", rtol=1e-8, hint="The number of basis functions is len(theta); Z is the grid sum of exp(-U) times dx.")


test_ll_one_function(log_likelihood)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 2

# %% [markdown]
# **Question 2 — the two curves.** For each size $m$ in `sizes`, fit on `x_train` and store
# the training log-likelihood in `ll_train` and the held-out one (on `x_test`) in `ll_test`
# (arrays of length 8).

# %% [raw]
# # BEGIN SOLUTION

# %%
with time_limit(120):
    ll_train = ...  # array of 8 training log-likelihoods
    ll_test = ...  # array of 8 held-out log-likelihoods
    # BEGIN SOLUTION NO PROMPT
    fits = [fit_theta(m, x_train) for m in sizes]
    ll_train = np.array([log_likelihood(t, x_train) for t in fits])
    ll_test = np.array([log_likelihood(t, x_test) for t in fits])
    # END SOLUTION
print(np.round(ll_train, 3))
print(np.round(ll_test, 3))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_curves(log_likelihood, ll_train, ll_test):
    import numpy as np
    import check_helpers as ch
    x = np.array([0.1, -0.5, 1.0])
    ch.prerequisite("Q1", log_likelihood, (np.array([0.0, 4 * 2.5**2 / 3]), x), np.mean(-2.0 * x**2) - 0.5 * np.log(np.pi / 2.0), rtol=1e-5)
    train = ch.array(ll_train, "ll_train", shape=(8,))
    test = ch.array(ll_test, "ll_test", shape=(8,))
    ch.check(not np.allclose(train, test), "ll_train and ll_test are identical: evaluate ll_test on x_test.")
    # nested models: the maximum likelihood on the training data cannot decrease with m
    ch.check(np.all(np.diff(train) > -1e-6), "ll_train must not decrease with m (each model contains the smaller ones): fit on x_train and evaluate on x_train.")


test_curves(log_likelihood, ll_train, ll_test)

# %%
# HIDDEN
def test_truth_level(ll_test, x_test):
    import numpy as np
    import check_helpers as ch
    fine = np.linspace(-2.5, 2.5, 20001)
    w = np.exp(-((fine**2 - 1) ** 2))
    z = np.trapezoid(w, fine)
    neg_entropy = np.trapezoid(w / z * np.log(w / z), fine)  # <ln p> of the true model
    log_p = -((x_test**2 - 1) ** 2) - np.log(z)
    se = log_p.std() / np.sqrt(len(x_test))
    test = ch.array(ll_test, "ll_test", shape=(8,))
    # m = 4 contains the truth: its held-out score is at most <ln p> (+ noise) and close to it
    ch.check(test[3] < neg_entropy + 4 * se, f"ll_test[3] = {test[3]:.3f} beats the true model ({neg_entropy:.3f}): is it evaluated on x_test?")
    ch.check(test[3] > neg_entropy - 0.1, f"ll_test[3] = {test[3]:.3f} is far below the true model's {neg_entropy:.3f}: fit on x_train with m = 4 functions.")


test_truth_level(ll_test, x_test)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3

# %% [markdown]
# **Question 3 — choose.** Store in `best_m` the basis size with the best held-out
# likelihood. The cell prints the gap between the training and the held-out likelihood for
# every size: compare the gap at `best_m` with the gap at $m = 8$.

# %% [raw]
# # BEGIN SOLUTION

# %%
best_m = ...  # the basis size m with the best held-out likelihood
# BEGIN SOLUTION NO PROMPT
best_m = int(sizes[np.argmax(ll_test)])
# END SOLUTION
print(best_m, np.round(ll_train - ll_test, 3))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_best_m(best_m, ll_train, ll_test):
    import numpy as np
    import check_helpers as ch
    try:
        train = ch.array(ll_train, "ll_train", shape=(8,))
        test = ch.array(ll_test, "ll_test", shape=(8,))
        ch.check(np.all(np.diff(train) > -1e-6) and not np.allclose(train, test), "they do not pass the check of Q2 yet")
    except AssertionError as error:
        raise AssertionError(f"This question uses ll_train and ll_test ({str(error).rstrip('.')}): fix Q2 first.") from None
    m = ch.number(best_m, "best_m")
    ch.check(m != 8 or np.argmax(test) == 7, "best_m = 8 is the choice of the training likelihood, which always prefers the largest basis: choose by ll_test.")
    ch.check(m == np.argmax(test) + 1, f"best_m = {m}, but ll_test is largest at another size: sizes start at m = 1, while array positions start at 0.")
    ch.check(m in (4, 5), f"best_m = {m}: the true potential needs P_2 and P_4 (m >= 4) and 60 samples do not support many more.")


test_best_m(best_m, ll_train, ll_test)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **What you have.** A model-selection rule you can use with any basis: the training
# relative entropy only ever improves, the held-out one finds the size the data can support.
#
# ## Your score
#
# The cell below reruns every check and shows the points per question and the total. These
# are the checks you can see; your teacher's grading also runs hidden checks with other inputs.

# %% editable=false deletable=false
check_helpers.score(grader.check_all());
