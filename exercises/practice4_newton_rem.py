# %% [raw]
# # ASSIGNMENT CONFIG
# name: practice4_newton_rem
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
# # Practice 4 — Newton–Raphson relative entropy minimisation
#
# The coarse-grained model is $U_\theta(x) = \theta_1 x^2 + \theta_2 x^4$, i.e. a basis
# $\phi(x) = (x^2, x^4)$ of $m = 2$ functions, and $P_\theta(x) \propto e^{-\beta U_\theta(x)}$
# with $\beta = 1$. Averages are exact sums over a fine grid (quadrature). The relative entropy
# $D(\theta) = D_{\rm KL}(P_{\rm map}\,\|\,P_\theta)$ has the gradient
# $g = \beta(\langle\phi\rangle_{\rm map} - \langle\phi\rangle_\theta)$ and the Hessian
# $H = \beta^2\,{\rm Cov}_\theta(\phi)$; one Newton–Raphson step is
#
# $$\theta \leftarrow \theta - H^{-1} g .$$
#
# The target is the double well $U(x) = (x^2-1)^2 = x^4 - 2x^2 + 1$, which the basis contains:
# REM must find $\theta^* = (-2, 1)$ exactly.
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

grid = np.linspace(-3.0, 3.0, 2001)


def basis(x):
    """Design matrix (n, 2): columns x^2 and x^4."""
    x = np.asarray(x, dtype=float)
    return np.column_stack([x**2, x**4])


def grid_average(energy_values, values):
    """Average of `values` (rows = grid points) under exp(-energy) on the grid."""
    w = np.exp(-(energy_values - energy_values.min()))
    return w @ values / w.sum()


target_mean = grid_average((grid**2 - 1) ** 2, basis(grid))


def relative_entropy(theta, target_mean):
    """D(theta) up to a theta-independent constant: theta . <phi>_map + ln Z(theta)."""
    u = basis(grid) @ np.asarray(theta, dtype=float)
    return float(np.asarray(theta) @ target_mean - u.min() + np.log(np.trapezoid(np.exp(-(u - u.min())), grid)))


print("<x^2>_map, <x^4>_map:", target_mean)

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 2

# %% [markdown]
# **Question 1.** Write `model_averages(theta)` returning `(mean, cov)`: the averages
# $\langle\phi\rangle_\theta$ (shape `(2,)`) and the covariance ${\rm Cov}_\theta(\phi)$
# (shape `(2, 2)`) under $P_\theta$ on `grid`. Subtract the minimum energy before `np.exp` to
# avoid overflow.

# %% [raw]
# # BEGIN SOLUTION

# %%
def model_averages(theta):
    """(<phi>_theta, Cov_theta(phi)) by quadrature on `grid`."""
    # BEGIN SOLUTION
    phi = basis(grid)
    u = phi @ np.asarray(theta, dtype=float)
    w = np.exp(-(u - u.min()))
    w = w / w.sum()
    mean = w @ phi
    centred = phi - mean
    cov = centred.T @ (centred * w[:, None])
    return mean, cov
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %%
with time_limit(60):
    print(model_averages([4.0, 0.0]))

# %% [raw]
# # BEGIN TESTS

# %%
def test_averages_gaussian(model_averages):
    import numpy as np
    import check_helpers as ch
    result = ch.parts(ch.call(model_averages, np.array([4.0, 0.0]), name="model_averages"), "model_averages([4, 0])", 2)
    mean = ch.array(result[0], "mean", shape=(2,))
    cov = ch.array(result[1], "cov", shape=(2, 2))
    v = 0.125  # theta = (4, 0): a Gaussian with variance 1/(2*4); <x^2n> = (2n-1)!! v^n
    ch.close(mean, [v, 3 * v**2], "mean at theta=(4, 0)", rtol=1e-6, hint="Compared with the exact Gaussian moments: weight each grid point by exp(-U) and normalise the weights to sum 1.")
    ch.check(not np.allclose(cov, [[3 * v**2, 15 * v**3], [15 * v**3, 105 * v**4]], rtol=1e-4), "You returned <phi_i phi_j>, not the covariance: subtract <phi_i><phi_j>.")
    ch.close(cov, [[2 * v**2, 12 * v**3], [12 * v**3, 96 * v**4]], "cov at theta=(4, 0)", rtol=1e-6, hint="Compared with the exact Gaussian covariance of (x^2, x^4).")


test_averages_gaussian(model_averages)

# %%
# HIDDEN
def test_averages_quartic(model_averages):
    import math
    import numpy as np
    import check_helpers as ch
    # theta = (0, 1): p ~ exp(-x^4), <x^2k> = Gamma((2k+1)/4) / Gamma(1/4)
    m = [math.gamma((2 * k + 1) / 4) / math.gamma(0.25) for k in range(5)]
    result = ch.parts(ch.call(model_averages, np.array([0.0, 1.0]), name="model_averages"), "model_averages([0, 1])", 2)
    mean = ch.array(result[0], "mean", shape=(2,))
    cov = ch.array(result[1], "cov", shape=(2, 2))
    ch.close(mean, [m[1], m[2]], "mean at theta=(0, 1)", rtol=1e-6, hint="<x^2> and <x^4> under exp(-x^4); weights exp(-U) normalised over the grid.")
    exact_cov = [[m[2] - m[1] ** 2, m[3] - m[1] * m[2]], [m[3] - m[1] * m[2], m[4] - m[2] ** 2]]
    ch.close(cov, exact_cov, "cov at theta=(0, 1)", rtol=1e-6, hint="Cov = <phi_i phi_j> - <phi_i><phi_j>.")


test_averages_quartic(model_averages)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 2

# %% [markdown]
# **Question 2 — the Newton step.** Write `newton_step(theta, target_mean)` returning the new
# parameters $\theta - H^{-1}g$ (use `np.linalg.solve`, not an explicit inverse).

# %% [raw]
# # BEGIN SOLUTION

# %%
def newton_step(theta, target_mean):
    """One full Newton-Raphson step for D(theta) at beta = 1."""
    # BEGIN SOLUTION
    mean, cov = model_averages(theta)
    g = np.asarray(target_mean) - mean
    return np.asarray(theta, dtype=float) - np.linalg.solve(cov, g)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %%
with time_limit(60):
    print(newton_step(np.array([4.0, 0.0]), np.array([0.3, 0.2])))

# %% [raw]
# # BEGIN TESTS

# %%
def test_newton_step(model_averages, newton_step):
    import numpy as np
    import check_helpers as ch
    v = 0.125
    mean = np.array([v, 3 * v**2])
    cov = np.array([[2 * v**2, 12 * v**3], [12 * v**3, 96 * v**4]])
    ch.prerequisite("Q1", model_averages, (np.array([4.0, 0.0]),), (mean, cov))
    theta = np.array([4.0, 0.0])
    target = np.array([0.3, 0.2])
    g = target - mean
    expected = theta - np.linalg.solve(cov, g)
    new = ch.array(ch.call(newton_step, theta, target), "newton_step([4, 0], [0.3, 0.2])", shape=(2,))
    ch.check(not np.allclose(new, theta + np.linalg.solve(cov, g), rtol=1e-5), "Sign error: with g = beta(<phi>_map - <phi>_theta) the step is theta - H^-1 g; you moved uphill in D.")
    ch.check(not np.allclose(new, theta - g, rtol=1e-5), "That is a gradient step: a Newton step solves a linear system with the Hessian.")
    ch.close(new, expected, "newton_step([4, 0], [0.3, 0.2])", rtol=1e-5, hint="g from the target and model averages, H from the model covariance (beta = 1), then theta - H^-1 g.")


test_newton_step(model_averages, newton_step)

# %%
# HIDDEN
def test_newton_step_quartic(newton_step):
    import math
    import numpy as np
    import check_helpers as ch
    m = [math.gamma((2 * k + 1) / 4) / math.gamma(0.25) for k in range(5)]  # <x^2k> under exp(-x^4)
    theta, target = np.array([0.0, 1.0]), np.array([0.5, 0.4])
    mean = np.array([m[1], m[2]])
    cov = np.array([[m[2] - m[1] ** 2, m[3] - m[1] * m[2]], [m[3] - m[1] * m[2], m[4] - m[2] ** 2]])
    expected = theta - np.linalg.solve(cov, target - mean)
    new = ch.array(ch.call(newton_step, theta, target), "newton_step([0, 1], [0.5, 0.4])", shape=(2,))
    ch.close(new, expected, "newton_step([0, 1], [0.5, 0.4])", rtol=1e-5, hint="The step must hold at any theta and target.")


test_newton_step_quartic(newton_step)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 2

# %% [markdown]
# **Question 3 — fit the double well.** Far from the minimum a full Newton step can overshoot
# so far that $D$ goes *up*. Write `fit(theta0, target_mean, tol=1e-10, max_iter=100)` that
# repeats Newton steps with a safeguard: when a step would increase $D$ (compare with
# `relative_entropy`), move a shorter distance along the same direction instead, shortening it
# until $D$ no longer increases. Stop when the norm of the gradient is below `tol` and return
# `(theta, n_iter)`, where `n_iter` counts the Newton steps taken. Then fit from
# $\theta_0 = (1, 1)$ and store the results in `theta_fit` and `n_iter`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def fit(theta0, target_mean, tol=1e-10, max_iter=100):
    """Newton-Raphson REM with a safeguarded step; returns (theta, n_iter)."""
    # BEGIN SOLUTION
    theta = np.asarray(theta0, dtype=float)
    for n_iter in range(max_iter):
        mean, _ = model_averages(theta)
        if np.linalg.norm(np.asarray(target_mean) - mean) < tol:
            return theta, n_iter
        delta = newton_step(theta, target_mean) - theta
        a, d0 = 1.0, relative_entropy(theta, target_mean)
        while relative_entropy(theta + a * delta, target_mean) > d0 and a > 1e-8:
            a /= 2
        theta = theta + a * delta
    return theta, max_iter
    # END SOLUTION


with time_limit(60):
    theta_fit, n_iter = ..., ...  # fit from theta0 = (1, 1)
    # BEGIN SOLUTION NO PROMPT
    theta_fit, n_iter = fit([1.0, 1.0], target_mean)
    # END SOLUTION
print(theta_fit, n_iter)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_fit_double_well(model_averages, newton_step, theta_fit, n_iter):
    import numpy as np
    import check_helpers as ch
    v = 0.125
    mean = np.array([v, 3 * v**2])
    cov = np.array([[2 * v**2, 12 * v**3], [12 * v**3, 96 * v**4]])
    ch.prerequisite("Q1", model_averages, (np.array([4.0, 0.0]),), (mean, cov))
    target = np.array([0.3, 0.2])
    ch.prerequisite("Q2", newton_step, (np.array([4.0, 0.0]), target), np.array([4.0, 0.0]) - np.linalg.solve(cov, target - mean), rtol=1e-5)
    theta = ch.array(theta_fit, "theta_fit", shape=(2,))
    ch.check(not np.allclose(theta, [1.0, -2.0], atol=1e-3), "theta_fit is reversed: the basis is (x^2, x^4).")
    ch.close(theta, [-2.0, 1.0], "theta_fit", atol=1e-6, hint="The double well lies in the basis, so REM recovers it exactly; iterate until the gradient norm is below tol, not for a fixed number of steps.")
    steps = ch.number(n_iter, "n_iter")
    ch.check(steps == int(steps) and 1 <= steps < 40, f"n_iter = {n_iter}: from (1, 1) the safeguarded Newton fit reaches tol in about ten Newton steps; count one per Newton step (not per shortening of a step).")


test_fit_double_well(model_averages, newton_step, theta_fit, n_iter)

# %%
# HIDDEN
def test_fit_other_start(fit, target_mean):
    import numpy as np
    import check_helpers as ch
    result = ch.parts(ch.call(fit, np.array([2.0, 0.1]), target_mean, name="fit"), "fit([2, 0.1], target_mean)", 2)
    theta = ch.array(result[0], "fit([2, 0.1], target_mean)[0]", shape=(2,))
    ch.close(theta, [-2.0, 1.0], "fit([2, 0.1], target_mean)[0]", atol=1e-6, hint="The minimum does not depend on the start: D is convex in theta.")


test_fit_other_start(fit, target_mean)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4

# %% [markdown]
# **Question 4 — a target outside the basis.** Tilt the double well,
# $U_{\rm t}(x) = (x^2-1)^2 + 0.4x^3$; no $\theta$ reproduces it. Compute its averages
# `tilted_mean` $= \langle\phi\rangle_{\rm t}$ with `grid_average`, fit `theta_tilted` from
# $(1, 1)$, and verify that the model reproduces the target averages of both basis functions.

# %% [raw]
# # BEGIN SOLUTION

# %%
with time_limit(60):
    tilted_mean = ...  # <phi> of the tilted well
    theta_tilted = ...  # REM fit to tilted_mean from (1, 1)
    # BEGIN SOLUTION NO PROMPT
    tilted_mean = grid_average((grid**2 - 1) ** 2 + 0.4 * grid**3, basis(grid))
    theta_tilted, _ = fit([1.0, 1.0], tilted_mean)
    # END SOLUTION
    print(theta_tilted, model_averages(theta_tilted)[0], tilted_mean)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_tilted(fit, target_mean, tilted_mean, theta_tilted):
    import numpy as np
    import check_helpers as ch
    ch.prerequisite("Q3", fit, (np.array([1.0, 1.0]), target_mean), (np.array([-2.0, 1.0]), None), atol=1e-6)
    x = np.linspace(-3.0, 3.0, 2001)
    phi = np.column_stack([x**2, x**4])

    def average(u):
        w = np.exp(-(u - u.min()))
        return w @ phi / w.sum()

    target = average((x**2 - 1) ** 2 + 0.4 * x**3)
    ch.close(ch.array(tilted_mean, "tilted_mean", shape=(2,)), target, "tilted_mean", rtol=1e-8, hint="grid_average of basis(grid) under the tilted energy (x^2 - 1)^2 + 0.4 x^3 on grid.")
    theta = ch.array(theta_tilted, "theta_tilted", shape=(2,))
    ch.close(average(phi @ theta), target, "<phi> of the fitted model", rtol=1e-6, hint="At the REM optimum <phi>_theta = <phi>_map (moment matching): fit to tilted_mean.")


test_tilted(fit, target_mean, tilted_mean, theta_tilted)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **What you have.** A working REM optimiser in a dozen lines: quadratic convergence near the
# minimum, a safeguard far from it, and moment matching as the certificate of the
# optimum — the structure of `remlib.minimize_relative_entropy`.
#
# ## Your score
#
# The cell below reruns every check and shows the points per question and the total. These
# are the checks you can see; your teacher's grading also runs hidden checks with other inputs.

# %% editable=false deletable=false
check_helpers.score(grader.check_all());
