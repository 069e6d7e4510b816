# %% [raw]
# # ASSIGNMENT CONFIG
# name: practice3_moment_matching
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
# # Practice 3 — Moment matching
#
# A coarse-grained model linear in its parameters, $U_\theta(x) = \theta\,\phi(x)$, has a
# relative entropy $D(\theta) = D_{\rm KL}(P_{\rm map}\,\|\,P_\theta)$ with gradient and Hessian
#
# $$\frac{\partial D}{\partial\theta} = \beta\left(\langle\phi\rangle_{\rm map}
# - \langle\phi\rangle_\theta\right),\qquad
# \frac{\partial^2 D}{\partial\theta^2} = \beta^2\,{\rm Var}_\theta(\phi).$$
#
# At the minimum the model reproduces the target average of $\phi$ — *moment matching*. Here
# $\phi(x) = x^2$: the model is a harmonic well $U_\theta = \theta x^2$, a Gaussian with
# $\langle x^2\rangle_\theta = 1/(2\beta\theta)$. You solve it by hand, then numerically with
# Newton's method, and fit it to a double well.
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

grid = np.linspace(-4.0, 4.0, 8001)


def double_well(x):
    return (x**2 - 1) ** 2


weights = np.exp(-double_well(grid))
target_x2 = np.trapezoid(grid**2 * weights, grid) / np.trapezoid(weights, grid)
print("<x^2>_map in the double well at beta = 1:", target_x2)

# %% [raw]
# # BEGIN QUESTION
# name: q1

# %% [markdown]
# **Question 1 — by hand.** Setting the gradient to zero gives $\theta^*$ in closed form.
# Write `theta_by_hand(mean_x2, beta=1.0)` returning it for a target with
# $\langle x^2\rangle_{\rm map} = $ `mean_x2`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def theta_by_hand(mean_x2, beta=1.0):
    """theta* of U = theta x^2 that matches <x^2>_map = mean_x2."""
    return 1.0 / (2.0 * beta * mean_x2)  # SOLUTION

# %% [raw]
# # END SOLUTION

# %%
with time_limit(60):
    print(theta_by_hand(target_x2))

# %% [raw]
# # BEGIN TESTS

# %%
def test_by_hand(theta_by_hand):
    import check_helpers as ch
    t = ch.number(ch.call(theta_by_hand, 0.5), "theta_by_hand(0.5)")
    ch.check(abs(t - 2.0) > 1e-9, "You forgot the factor 2: <x^2>_theta = 1/(2 beta theta) for U = theta x^2.")
    ch.close(t, 1.0, "theta_by_hand(0.5)", hint="Set <x^2>_theta = 1/(2 beta theta) equal to the target's <x^2> and solve for theta.")


test_by_hand(theta_by_hand)

# %%
# HIDDEN
def test_by_hand_beta(theta_by_hand):
    import check_helpers as ch
    t = ch.number(ch.call(theta_by_hand, 0.8, beta=2.5), "theta_by_hand(0.8, beta=2.5)")
    ch.close(t, 1 / (2 * 2.5 * 0.8), "theta_by_hand(0.8, beta=2.5)", hint="beta enters <x^2>_theta, so it enters theta* too.")


test_by_hand_beta(theta_by_hand)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2

# %% [markdown]
# **Question 2 — the gradient.** Write `gradient(theta, mean_x2, beta=1.0)` returning
# $\partial D/\partial\theta$ for a target with $\langle x^2\rangle_{\rm map} = $ `mean_x2`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def gradient(theta, mean_x2, beta=1.0):
    """dD/dtheta = beta (<x^2>_map - <x^2>_theta)."""
    return beta * (mean_x2 - 1.0 / (2.0 * beta * theta))  # SOLUTION

# %% [raw]
# # END SOLUTION

# %%
with time_limit(60):
    print(gradient(1.0, target_x2))

# %% [raw]
# # BEGIN TESTS

# %%
def test_gradient(gradient):
    import numpy as np
    import check_helpers as ch

    def d_kl(theta, s2, beta):  # D(N(0, s2) || N(0, v)) with v = 1/(2 beta theta)
        v = 1 / (2 * beta * theta)
        return 0.5 * (s2 / v - 1 - np.log(s2 / v))

    for theta, s2, beta in [(0.7, 0.9, 1.0), (1.3, 0.2, 2.0)]:
        h = 1e-5
        exact = (d_kl(theta + h, s2, beta) - d_kl(theta - h, s2, beta)) / (2 * h)
        g = ch.number(ch.call(gradient, theta, s2, beta=beta), f"gradient({theta}, {s2}, beta={beta})")
        ch.check(not np.isclose(g, -exact, rtol=1e-5), "Your gradient has the wrong sign: dD/dtheta = beta (<phi>_map - <phi>_theta).")
        ch.close(g, exact, f"gradient({theta}, {s2}, beta={beta})", rtol=1e-5, hint="Compared with the derivative of the exact Gaussian relative entropy: a difference of two averages of x^2, times beta.")


test_gradient(gradient)

# %%
# HIDDEN
def test_gradient_other_values(gradient):
    import numpy as np
    import check_helpers as ch

    def d_kl(theta, s2, beta):  # D(N(0, s2) || N(0, v)) with v = 1/(2 beta theta)
        v = 1 / (2 * beta * theta)
        return 0.5 * (s2 / v - 1 - np.log(s2 / v))

    theta, s2, beta, h = 0.25, 3.0, 0.5, 1e-6
    exact = (d_kl(theta + h, s2, beta) - d_kl(theta - h, s2, beta)) / (2 * h)
    g = ch.number(ch.call(gradient, theta, s2, beta=beta), f"gradient({theta}, {s2}, beta={beta})")
    ch.close(g, exact, f"gradient({theta}, {s2}, beta={beta})", rtol=1e-5, hint="The gradient must hold for any theta, <x^2> and beta.")
    optimum = 1 / (2 * beta * s2)  # the model variance equals the target's: the gradient vanishes
    g0 = ch.number(ch.call(gradient, optimum, s2, beta=beta), f"gradient({optimum:.4g}, {s2}, beta={beta})")
    ch.close(g0, 0.0, f"gradient({optimum:.4g}, {s2}, beta={beta})", atol=1e-10, hint="Where the moments match the gradient is zero.")


test_gradient_other_values(gradient)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3

# %% [markdown]
# **Question 3 — the Hessian.** Write `hessian(theta, beta=1.0)` returning
# $\beta^2{\rm Var}_\theta(x^2)$. For a Gaussian of variance $v$, $\langle x^4\rangle = 3v^2$.
# (Surprise: the result does not depend on $\beta$.)

# %% [raw]
# # BEGIN SOLUTION

# %%
def hessian(theta, beta=1.0):
    """beta^2 Var_theta(x^2) for U = theta x^2."""
    # BEGIN SOLUTION
    v = 1.0 / (2.0 * beta * theta)
    return beta**2 * (3 * v**2 - v**2)
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %%
with time_limit(60):
    print(hessian(1.0))

# %% [raw]
# # BEGIN TESTS

# %%
def test_hessian(hessian):
    import numpy as np
    import check_helpers as ch

    def d_kl(theta, s2, beta):
        v = 1 / (2 * beta * theta)
        return 0.5 * (s2 / v - 1 - np.log(s2 / v))

    for theta, beta in [(0.7, 1.0), (1.3, 2.0)]:
        h = 1e-4
        exact = (d_kl(theta + h, 0.5, beta) - 2 * d_kl(theta, 0.5, beta) + d_kl(theta - h, 0.5, beta)) / h**2
        value = ch.number(ch.call(hessian, theta, beta=beta), f"hessian({theta}, beta={beta})")
        ch.check(not np.isclose(value, 3 / (4 * theta**2), rtol=1e-4), "You used <x^4> instead of Var(x^2) = <x^4> - <x^2>^2.")
        ch.close(value, exact, f"hessian({theta}, beta={beta})", rtol=1e-4, hint="Compared with the second derivative of the exact Gaussian relative entropy: beta^2 times the variance of x^2 under the model.")


test_hessian(hessian)

# %%
# HIDDEN
def test_hessian_independent_of_beta(hessian):
    import check_helpers as ch
    theta = 0.2
    values = [ch.number(ch.call(hessian, theta, beta=beta), f"hessian({theta}, beta={beta})") for beta in (0.3, 3.0)]
    # Var(x^2) = 2 v^2 with v = 1/(2 beta theta): beta^2 * 2 v^2 = 1/(2 theta^2) for every beta
    for beta, value in zip((0.3, 3.0), values):
        ch.close(value, 1 / (2 * theta**2), f"hessian({theta}, beta={beta})", rtol=1e-8, hint="v depends on beta too: write the variance in terms of v = 1/(2 beta theta) and beta cancels.")


test_hessian_independent_of_beta(hessian)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 2

# %% [markdown]
# **Question 4 — Newton–Raphson.** Write `newton_fit(mean_x2, theta0, beta=1.0, tol=1e-12,
# max_iter=100)` that iterates $\theta \leftarrow \theta - g(\theta)/h(\theta)$ with your
# `gradient` and `hessian` until $|g| <$ `tol`. Return `(theta, history)`: the final $\theta$
# and the list of all iterates $[\theta_0, \theta_1, \dots]$, starting with `theta0` and ending
# with the returned $\theta$. Then fit the double well from $\theta_0 = 0.5$ and store the
# result in `theta_star`; it must agree with your answer by hand.
# (Newton converges here for $0 < \theta_0 < 1/(\beta\langle x^2\rangle_{\rm map})$.)

# %% [raw]
# # BEGIN SOLUTION

# %%
def newton_fit(mean_x2, theta0, beta=1.0, tol=1e-12, max_iter=100):
    """Newton-Raphson for dD/dtheta = 0; returns (theta, list of the iterates)."""
    # BEGIN SOLUTION
    theta = theta0
    history = [theta]
    for _ in range(max_iter):
        g = gradient(theta, mean_x2, beta)
        if abs(g) < tol:
            break
        theta = theta - g / hessian(theta, beta)
        history.append(theta)
    return theta, history
    # END SOLUTION


with time_limit(60):
    theta_star = ...  # Newton's fit of the double well from theta0 = 0.5
    # BEGIN SOLUTION NO PROMPT
    theta_star, _ = newton_fit(target_x2, 0.5)
    # END SOLUTION
    print(theta_star, theta_by_hand(target_x2))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_newton(gradient, hessian, newton_fit):
    import numpy as np
    import check_helpers as ch
    ch.prerequisite("Q2", gradient, (0.7, 0.9), 0.9 - 1 / 1.4)
    ch.prerequisite("Q3", hessian, (0.7,), 1 / (2 * 0.7**2))
    theta, history = ch.parts(ch.call(newton_fit, 2.0, 0.1), "newton_fit(2.0, 0.1)", 2)
    theta = ch.number(theta, "newton_fit(2.0, 0.1)[0]")
    steps = ch.array(history, "newton_fit(2.0, 0.1)[1] (the history)", shape=(None,))
    ch.check(len(steps) >= 3, f"The history has {len(steps)} entries: Newton needs several steps from theta0 = 0.1; return every iterate, starting with theta0.")
    ch.close(steps[0], 0.1, "newton_fit(2.0, 0.1)[1][0]", rtol=1e-12, hint="The history starts with theta0.")
    ch.close(steps[-1], theta, "newton_fit(2.0, 0.1)[1][-1]", rtol=1e-12, hint="The history ends with the theta you return.")
    # Newton for g = m - 1/(2 t), h = 1/(2 t^2) (beta = 1): t <- t - g/h = t - 2 t^2 (m - 1/(2 t))
    newton = steps[:-1] - 2 * steps[:-1] ** 2 * (2.0 - 1 / (2 * steps[:-1]))
    bad = np.flatnonzero(~np.isclose(steps[1:], newton, rtol=1e-9, atol=1e-14))
    ch.check(bad.size == 0, f"Entry {bad[0] + 1 if bad.size else 0} of the history is not a Newton step from the entry before it: each new theta is theta - gradient/hessian at the previous theta.")
    ch.close(theta, 0.25, "newton_fit(2.0, 0.1)[0]", rtol=1e-8, hint="Keep iterating until |gradient| < tol, then return the last theta.")


test_newton(gradient, hessian, newton_fit)

# %%
def test_theta_star(gradient, hessian, theta_star):
    import numpy as np
    import check_helpers as ch
    ch.prerequisite("Q2", gradient, (0.7, 0.9), 0.9 - 1 / 1.4)
    ch.prerequisite("Q3", hessian, (0.7,), 1 / (2 * 0.7**2))
    x = np.linspace(-4.0, 4.0, 16001)
    w = np.exp(-((x**2 - 1) ** 2))
    mean_x2 = np.trapezoid(x**2 * w, x) / np.trapezoid(w, x)
    t = ch.number(theta_star, "theta_star")
    ch.close(t, 1 / (2 * mean_x2), "theta_star", rtol=1e-6, hint="theta_star is the theta newton_fit returns for the double well's <x^2> (target_x2) from theta0 = 0.5.")


test_theta_star(gradient, hessian, theta_star)

# %%
# HIDDEN
def test_newton_with_beta(newton_fit):
    import numpy as np
    import check_helpers as ch
    m, t0, beta = 0.3, 0.2, 2.5
    theta, history = ch.parts(ch.call(newton_fit, m, t0, beta=beta), "newton_fit(0.3, 0.2, beta=2.5)", 2)
    steps = ch.array(history, "newton_fit(0.3, 0.2, beta=2.5)[1]", shape=(None,))
    ch.close(ch.number(theta, "newton_fit(0.3, 0.2, beta=2.5)[0]"), 1 / (2 * beta * m), "newton_fit(0.3, 0.2, beta=2.5)[0]", rtol=1e-8, hint="Pass beta on to gradient and hessian.")
    # g = beta (m - 1/(2 beta t)) and h = 1/(2 t^2) for every beta
    newton = steps[:-1] - 2 * steps[:-1] ** 2 * beta * (m - 1 / (2 * beta * steps[:-1]))
    ch.check(len(steps) >= 3 and np.allclose(steps[1:], newton, rtol=1e-9, atol=1e-14), "With beta = 2.5 the history is not a sequence of Newton steps theta - gradient/hessian.")


test_newton_with_beta(newton_fit)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **What you have.** The two facts REM rests on: the gradient is a difference of averages
# (moment matching at the optimum) and the Hessian is a variance, so $D(\theta)$ is convex in
# parameters that enter linearly and Newton's method converges in a handful of steps.
#
# ## Your score
#
# The cell below reruns every check and shows the points per question and the total. These
# are the checks you can see; your teacher's grading also runs hidden checks with other inputs.

# %% editable=false deletable=false
check_helpers.score(grader.check_all());
