# %% [raw]
# # ASSIGNMENT CONFIG
# name: practice7_dynamics
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
# # Practice 7 — Coarse-graining motion
#
# Overdamped Langevin (Brownian) dynamics in a force field $f(x) = -U'(x)$,
# $dx = \gamma^{-1}f(x)\,dt + \sqrt{2/(\beta\gamma)}\,dW_t$, discretised by Euler–Maruyama:
#
# $$x_{n+1} = x_n + \frac{f(x_n)}{\gamma}\,\Delta t + \sqrt{\frac{2\Delta t}{\beta\gamma}}\;\xi_n,
# \qquad \xi_n \sim \mathcal N(0, 1).$$
#
# You write the integrator, learn a drift (a force field) from trajectories by least squares,
# estimate the mean force of a 2-D system along one coordinate, and integrate it into the
# potential of mean force $F$, which contains an entropic part the bare energy does not show.
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

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 2

# %% [markdown]
# **Question 1.** Write `euler_maruyama(force, x0, dt, n_steps, beta=1.0, gamma=1.0, seed=0)`.
# `x0` is an array of walker positions `(n_walkers,)`, `force(x)` is vectorised; return the
# trajectory of shape `(n_steps + 1, n_walkers)` with `x0` as its first row. Draw the noise
# from `np.random.default_rng(seed)` so that the same seed gives the same trajectory.

# %% [raw]
# # BEGIN SOLUTION

# %%
def euler_maruyama(force, x0, dt, n_steps, beta=1.0, gamma=1.0, seed=0):
    """Euler-Maruyama trajectory of overdamped Langevin dynamics, shape (n_steps + 1, n_walkers)."""
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    x = np.array(x0, dtype=float)
    traj = np.empty((n_steps + 1, x.size))
    traj[0] = x
    noise = np.sqrt(2 * dt / (beta * gamma))
    for n in range(n_steps):
        x = x + force(x) * dt / gamma + noise * rng.standard_normal(x.size)
        traj[n + 1] = x
    return traj
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %%
with time_limit(60):
    ou = euler_maruyama(lambda x: -2.0 * x, np.ones(4000), 0.01, 100)
print(ou.shape, ou[-1].mean(), ou[-1].var())

# %% [raw]
# # BEGIN TESTS

# %%
def test_em_ou(euler_maruyama):
    import numpy as np
    import check_helpers as ch
    k, dt, n, walkers, beta, gamma = 2.0, 0.01, 100, 4000, 1.0, 1.0
    traj = ch.array(ch.call(euler_maruyama, lambda x: -k * x, np.ones(walkers), dt, n, beta=beta, gamma=gamma, seed=5), "euler_maruyama(OU)", shape=(n + 1, walkers))
    ch.check(np.allclose(traj[0], 1.0), "The first row of the trajectory must be x0.")
    a = 1 - k * dt / gamma  # exact moments of the discrete scheme
    mean = a**n
    var = 2 * dt / (beta * gamma) * (1 - a ** (2 * n)) / (1 - a**2)
    z_mean = (traj[-1].mean() - mean) / np.sqrt(var / walkers)
    z_var = (traj[-1].var() - var) / (var * np.sqrt(2 / (walkers - 1)))
    ch.check(abs(z_mean) < 5, f"The mean at t = 1 is off by {z_mean:.1f} standard errors: the drift term is f(x) dt / gamma.")
    ch.check(not (abs(traj[-1].var() / var - 0.5) < 0.1), "The variance is half the right one: the noise is sqrt(2 dt / (beta gamma)), did you forget the 2?")
    ch.check(abs(z_var) < 5, f"The variance at t = 1 is off by {z_var:.1f} standard errors: noise amplitude sqrt(2 dt / (beta gamma)) times a standard normal.")


test_em_ou(euler_maruyama)

# %%
# HIDDEN
def test_em_beta_gamma_seed(euler_maruyama):
    import numpy as np
    import check_helpers as ch
    k, dt, n, walkers, beta, gamma = 1.0, 0.02, 50, 4000, 2.0, 1.5
    traj = ch.array(ch.call(euler_maruyama, lambda x: -k * x, np.zeros(walkers), dt, n, beta=beta, gamma=gamma, seed=1), "euler_maruyama(beta=2, gamma=1.5)", shape=(n + 1, walkers))
    a = 1 - k * dt / gamma
    var = 2 * dt / (beta * gamma) * (1 - a ** (2 * n)) / (1 - a**2)
    z_var = (traj[-1].var() - var) / (var * np.sqrt(2 / (walkers - 1)))
    ch.check(abs(z_var) < 5, f"With beta = 2, gamma = 1.5 the variance is off by {z_var:.1f} standard errors: drift f dt / gamma, noise sqrt(2 dt / (beta gamma)).")
    again = ch.array(ch.call(euler_maruyama, lambda x: -k * x, np.zeros(walkers), dt, n, beta=beta, gamma=gamma, seed=1), "euler_maruyama (second call)", shape=(n + 1, walkers))
    ch.check(np.array_equal(traj, again), "The same seed must give the same trajectory: use np.random.default_rng(seed).")


test_em_beta_gamma_seed(euler_maruyama)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 2

# %% [markdown]
# **Question 2 — learning the drift.** With $\beta = \gamma = 1$ and a model force
# $f_\theta(x) = -\sum_k \theta_k \phi_k'(x)$, the path-space relative entropy is minimised by
# least squares: $\min_\theta \sum_{n,w} \left(\Delta x_{n,w}/\Delta t - f_\theta(x_{n,w})\right)^2$
# over steps $n$ and walkers $w$. Write `fit_drift(traj, dt, basis_derivative)` where
# `basis_derivative(x)` returns $\phi_k'(x)$ with shape `(len(x), m)`; return $\theta$ (use
# `np.linalg.lstsq`). Then fit `well_traj`, a trajectory of the double well $U = x^4 - 2x^2$
# made with your integrator, with $\phi = (x^2, x^4)$, and store the result in `theta_drift`:
# you should find $\theta \approx (-2, 1)$.

# %%
def well_basis_derivative(x):
    return np.column_stack([2 * x, 4 * x**3])


walkers0 = np.where(np.arange(200) % 2 == 0, -1.0, 1.0)
with time_limit(60):
    well_traj = euler_maruyama(lambda x: -(4 * x**3 - 4 * x), walkers0, 1e-3, 1000, seed=7)

# %% [raw]
# # BEGIN SOLUTION

# %%
def fit_drift(traj, dt, basis_derivative):
    """Least-squares drift parameters theta of f = -phi'(x) . theta from a trajectory."""
    # BEGIN SOLUTION
    traj = np.asarray(traj, dtype=float)
    x = traj[:-1].ravel()
    velocity = (np.diff(traj, axis=0) / dt).ravel()
    return np.linalg.lstsq(-basis_derivative(x), velocity, rcond=None)[0]
    # END SOLUTION


with time_limit(60):
    theta_drift = ...  # the drift parameters of well_traj
    # BEGIN SOLUTION NO PROMPT
    theta_drift = fit_drift(well_traj, 1e-3, well_basis_derivative)
    # END SOLUTION
print(theta_drift)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_fit_drift(fit_drift):
    import numpy as np
    import check_helpers as ch
    dt, steps, walkers = 1e-3, 1000, 200
    rng = np.random.default_rng(21)
    x = np.where(np.arange(walkers) % 2 == 0, -1.0, 1.0)
    traj = np.empty((steps + 1, walkers))
    traj[0] = x
    for n in range(steps):  # reference Euler-Maruyama data for U = x^4 - 2 x^2
        x = x - (4 * x**3 - 4 * x) * dt + np.sqrt(2 * dt) * rng.standard_normal(walkers)
        traj[n + 1] = x
    deriv = lambda y: np.column_stack([2 * y, 4 * y**3])
    theta = ch.array(ch.call(fit_drift, traj, dt, deriv), "fit_drift(traj, dt, basis_derivative)", shape=(2,))
    a = deriv(traj[:-1].ravel())
    sd = np.sqrt(np.diag(2 / dt * np.linalg.inv(a.T @ a)))  # least-squares errors, noise variance 2/dt
    z = (theta - np.array([-2.0, 1.0])) / sd
    ch.check(not np.all(np.abs((theta + np.array([-2.0, 1.0])) / sd) < 5), "Sign error: the model force is f = -phi'(x) . theta, so regress dx/dt on -phi'(x).")
    ch.check(np.max(np.abs(z)) < 5, f"theta = {np.round(theta, 3)} is {np.max(np.abs(z)):.1f} standard errors from (-2, 1): regress (x[n+1] - x[n]) / dt on -phi'(x[n]) over all steps and walkers.")


test_fit_drift(fit_drift)

# %%
def test_theta_drift(euler_maruyama, theta_drift, well_traj):
    import numpy as np
    import check_helpers as ch
    # without noise (beta -> infinity) Euler-Maruyama is x_{n+1} = (1 - dt) x_n for f = -x
    ch.prerequisite("Q1", euler_maruyama, (lambda x: -x, np.ones(3), 0.1, 4), np.outer(0.9 ** np.arange(5), np.ones(3)), kwargs={"beta": 1e30}, rtol=1e-9)
    traj = ch.array(well_traj, "well_traj", shape=(1001, 200))
    theta = ch.array(theta_drift, "theta_drift", shape=(2,))
    a = np.column_stack([2 * traj[:-1].ravel(), 4 * traj[:-1].ravel() ** 3])
    sd = np.sqrt(np.diag(2 / 1e-3 * np.linalg.inv(a.T @ a)))  # least-squares errors, noise variance 2/dt
    z = (theta - np.array([-2.0, 1.0])) / sd
    ch.check(np.max(np.abs(z)) < 5, f"theta_drift = {np.round(theta, 3)} is {np.max(np.abs(z)):.1f} standard errors from (-2, 1): fit well_traj (time step 1e-3) with well_basis_derivative.")


test_theta_drift(euler_maruyama, theta_drift, well_traj)

# %%
# HIDDEN
def test_fit_drift_noise_free(fit_drift):
    import numpy as np
    import check_helpers as ch
    # deterministic Euler steps of f = -phi'(x) . theta with phi = (x, x^2, x^3): the least-squares
    # fit must return theta exactly
    theta_true = np.array([0.5, -1.0, 0.3])
    deriv = lambda y: np.column_stack([np.ones_like(y), 2 * y, 3 * y**2])
    dt, x = 0.01, np.linspace(-1.5, 1.5, 7)
    traj = [x]
    for _ in range(30):
        x = x - deriv(x) @ theta_true * dt
        traj.append(x)
    theta = ch.array(ch.call(fit_drift, np.array(traj), dt, deriv), "fit_drift(noise-free traj, 0.01, basis_derivative)", shape=(3,))
    ch.close(theta, theta_true, "fit_drift(noise-free traj, 0.01, basis_derivative)", rtol=1e-8, atol=1e-10, hint="Without noise (x[n+1] - x[n]) / dt = -phi'(x[n]) . theta exactly; use all steps and all walkers (columns).")


test_fit_drift_noise_free(fit_drift)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3

# %% [markdown]
# **Question 3 — the mean force of a channel.** Now a 2-D system,
# $U(x, y) = (x^2-1)^2 + \tfrac12\kappa(x)\,y^2$ with $\kappa(x) = 1 + x^2$: the channel
# narrows away from $x = 0$. `x_channel`, `fx_channel` hold exact equilibrium samples of $x$ and
# the $x$-component of the force, $f_x = -\partial U/\partial x$, at each sample. Write
# `binned_mean_force(x, fx, edges)` returning the average force in each bin (the mean force).

# %%
def sample_channel(n, seed):
    """Exact samples (x, f_x) of exp(-U(x, y)) with U = (x^2-1)^2 + (1 + x^2) y^2 / 2."""
    rng = np.random.default_rng(seed)
    fine = np.linspace(-2.2, 2.2, 20001)
    w = np.exp(-((fine**2 - 1) ** 2)) / np.sqrt(1 + fine**2)  # marginal of x
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (w[1:] + w[:-1]) * np.diff(fine))])
    x = np.interp(rng.uniform(0, cdf[-1], n), cdf, fine)
    y = rng.standard_normal(n) / np.sqrt(1 + x**2)
    return x, -4 * x * (x**2 - 1) - x * y**2


x_channel, fx_channel = sample_channel(200_000, seed=3)
edges_channel = np.linspace(-1.6, 1.6, 33)

# %% [raw]
# # BEGIN SOLUTION

# %%
def binned_mean_force(x, fx, edges):
    """Average of fx over the samples in each bin of x."""
    # BEGIN SOLUTION
    counts = np.histogram(x, edges)[0]
    sums = np.histogram(x, edges, weights=fx)[0]
    return sums / counts
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %%
with time_limit(60):
    mean_force = binned_mean_force(x_channel, fx_channel, edges_channel)
print(np.round(mean_force, 2))

# %% [raw]
# # BEGIN TESTS

# %%
def test_mean_force(binned_mean_force, x_channel, fx_channel, edges_channel):
    import numpy as np
    import check_helpers as ch
    got = ch.array(ch.call(binned_mean_force, x_channel, fx_channel, edges_channel), "binned_mean_force(x, fx, edges)", shape=(32,))
    fine = np.linspace(-1.6, 1.6, 64001)
    p = np.exp(-((fine**2 - 1) ** 2)) / np.sqrt(1 + fine**2)
    exact_force = -4 * fine * (fine**2 - 1) - fine / (1 + fine**2)  # -dF/dx, F = U1 + ln(kappa)/2
    index = np.clip(np.searchsorted(edges_channel, fine, side="right") - 1, 0, 31)
    exact = np.bincount(index, weights=p * exact_force) / np.bincount(index, weights=p)
    counts = np.histogram(x_channel, edges_channel)[0]
    sums = np.histogram(x_channel, edges_channel, weights=fx_channel)[0]
    ch.check(not np.allclose(got, sums), "You returned the sum of the forces per bin: divide by the number of samples in the bin.")
    spread = np.sqrt(np.histogram(x_channel, edges_channel, weights=fx_channel**2)[0] / counts - (sums / counts) ** 2)
    z = (got - exact) / (spread / np.sqrt(counts))
    ch.check(np.max(np.abs(z)) < 5, f"The mean force is {np.max(np.abs(z)):.1f} standard errors from the exact -dF/dx in bin {np.argmax(np.abs(z))}: average fx over the samples whose x falls in each bin.")


test_mean_force(binned_mean_force, x_channel, fx_channel, edges_channel)

# %%
# HIDDEN
def test_mean_force_small(binned_mean_force):
    import numpy as np
    import check_helpers as ch
    x = np.array([0.1, 0.2, 0.7, 1.5, 1.9])
    fx = np.array([1.0, 3.0, -2.0, 5.0, 7.0])
    got = ch.array(ch.call(binned_mean_force, x, fx, np.array([0.0, 0.5, 1.0, 2.0])), "binned_mean_force(x, fx, [0, 0.5, 1, 2])", shape=(3,))
    ch.close(got, [2.0, -2.0, 6.0], "binned_mean_force(x, fx, [0, 0.5, 1, 2])", rtol=1e-12, hint="Average fx over the samples in each bin (bins of unequal width).")


test_mean_force_small(binned_mean_force)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 2

# %% [markdown]
# **Question 4 — from mean force to PMF.** Write `pmf_from_mean_force(centers, mean_force)`
# returning $F(x) = -\int^x \langle f_x\rangle\,dx'$ by the cumulative trapezoid rule, shifted
# so that its minimum is 0. Apply it to your mean force at the bin centres and store the
# barrier $F(0) - F(1)$ (use `np.interp` at 0 and 1) in `barrier`. The bare energy barrier is
# 1; the exact PMF is $F = (x^2-1)^2 + \tfrac12\ln(1+x^2)$: compare your barrier with its
# barrier. The channel is wider at the top, and that entropy lowers the barrier.

# %% [raw]
# # BEGIN SOLUTION

# %%
def pmf_from_mean_force(centers, mean_force):
    """F(x) = -cumulative integral of the mean force (trapezoid), minimum shifted to 0."""
    # BEGIN SOLUTION
    centers = np.asarray(centers, dtype=float)
    mean_force = np.asarray(mean_force, dtype=float)
    steps = 0.5 * (mean_force[1:] + mean_force[:-1]) * np.diff(centers)
    free = -np.concatenate([[0.0], np.cumsum(steps)])
    return free - free.min()
    # END SOLUTION


centers_channel = 0.5 * (edges_channel[1:] + edges_channel[:-1])
with time_limit(60):
    pmf_channel = pmf_from_mean_force(centers_channel, mean_force)
    barrier = ...  # F(0) - F(1) of pmf_channel
    # BEGIN SOLUTION NO PROMPT
    barrier = np.interp(0.0, centers_channel, pmf_channel) - np.interp(1.0, centers_channel, pmf_channel)
    # END SOLUTION
print(barrier)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_pmf_exact(pmf_from_mean_force):
    import numpy as np
    import check_helpers as ch
    x = np.linspace(-1.6, 1.6, 3201)
    force = -4 * x * (x**2 - 1) - x / (1 + x**2)
    exact = (x**2 - 1) ** 2 + 0.5 * np.log(1 + x**2)
    got = ch.array(ch.call(pmf_from_mean_force, x, force), "pmf_from_mean_force(x, exact mean force)", shape=(3201,))
    ch.check(not np.allclose(got, (-exact) - (-exact).min(), atol=1e-3), "Sign error: the PMF is minus the integral of the mean force (F' = -<f>).")
    ch.close(got, exact - exact.min(), "pmf_from_mean_force(x, exact mean force)", atol=1e-5, hint="F(x_i) is minus the trapezoid-rule integral of the mean force from the first point up to x_i; then subtract the minimum.")


test_pmf_exact(pmf_from_mean_force)

# %%
def test_barrier(binned_mean_force, pmf_from_mean_force, barrier):
    import numpy as np
    import check_helpers as ch
    ch.prerequisite("Q3", binned_mean_force, (np.array([0.1, 0.2, 0.7, 1.5, 1.9]), np.array([1.0, 3.0, -2.0, 5.0, 7.0]), np.array([0.0, 0.5, 1.0, 2.0])), [2.0, -2.0, 6.0])
    x = np.linspace(-1.0, 1.0, 5)
    ch.prerequisite("the check above", pmf_from_mean_force, (x, -2 * x), x**2)
    b = ch.number(barrier, "barrier")
    ch.check(abs(b - 1.0) > 0.1, "barrier is the bare energy barrier 1: the PMF from the mean force includes the entropic term ln(kappa)/2.")
    ch.close(b, 1 - 0.5 * np.log(2), "barrier", atol=0.04, hint="barrier = F(0) - F(1) of the PMF of your mean force at the bin centres (np.interp reads F at 0 and at 1).")


test_barrier(binned_mean_force, pmf_from_mean_force, barrier)

# %%
# HIDDEN
def test_pmf_uneven_grid(pmf_from_mean_force):
    import numpy as np
    import check_helpers as ch
    # a linear mean force -2 (x - 0.3): the trapezoid rule is exact, F = (x - 0.3)^2 - min
    x = np.array([-1.0, -0.6, 0.1, 0.3, 0.45, 1.2])
    got = ch.array(ch.call(pmf_from_mean_force, x, -2 * (x - 0.3)), "pmf_from_mean_force(uneven x, -2 (x - 0.3))", shape=(6,))
    ch.close(got, (x - 0.3) ** 2, "pmf_from_mean_force(uneven x, -2 (x - 0.3))", rtol=1e-10, atol=1e-12, hint="Each trapezoid uses its own width x[j+1] - x[j].")


test_pmf_uneven_grid(pmf_from_mean_force)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **What you have.** Your own Brownian dynamics, a drift learned from paths that recovers the
# potential, and the mean force of a coordinate whose PMF is not its energy: exactly the
# quantities `remlib.dynamics` and `remlib.pathspace` compute at scale.
#
# ## Your score
#
# The cell below reruns every check and shows the points per question and the total. These
# are the checks you can see; your teacher's grading also runs hidden checks with other inputs.

# %% editable=false deletable=false
check_helpers.score(grader.check_all());
