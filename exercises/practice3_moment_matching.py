# %% [raw]
# # ASSIGNMENT CONFIG
# name: practice3_moment_matching
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
# # Practice 3 — Moment matching
#
# A coarse-grained model linear in its parameters, $U_\theta(x) = \theta\,\phi(x)$, has the
# relative entropy gradient and Hessian
#
# $$\frac{\partial S_{\rm rel}}{\partial\theta} = \beta\left(\langle\phi\rangle_{\rm target}
# - \langle\phi\rangle_\theta\right),\qquad
# \frac{\partial^2 S_{\rm rel}}{\partial\theta^2} = \beta^2\,{\rm Var}_\theta(\phi).$$
#
# At the minimum the model reproduces the target average of $\phi$ — *moment matching*. Here
# $\phi(x) = x^2$: the model is a harmonic well $U_\theta = \theta x^2$, a Gaussian with
# $\langle x^2\rangle_\theta = 1/(2\beta\theta)$. You solve it by hand, then numerically with
# Newton's method, and fit it to a double well.

# %%
import numpy as np

grid = np.linspace(-4.0, 4.0, 8001)


def double_well(x):
    return (x**2 - 1) ** 2


weights = np.exp(-double_well(grid))
target_x2 = np.trapezoid(grid**2 * weights, grid) / np.trapezoid(weights, grid)
print("<x^2> in the double well at beta = 1:", target_x2)

# %% [raw]
# # BEGIN QUESTION
# name: q1

# %% [markdown]
# **Question 1 — by hand.** Setting the gradient to zero gives $\theta^*$ in closed form.
# Write `theta_by_hand(mean_x2, beta=1.0)` returning it.

# %% [raw]
# # BEGIN SOLUTION

# %%
def theta_by_hand(mean_x2, beta=1.0):
    """theta* of U = theta x^2 that matches <x^2> = mean_x2."""
    return 1.0 / (2.0 * beta * mean_x2)  # SOLUTION


print(theta_by_hand(target_x2))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_by_hand(theta_by_hand):
    import check_helpers as ch
    t = ch.number(ch.call(theta_by_hand, 0.5), "theta_by_hand(0.5)")
    ch.check(abs(t - 2.0) > 1e-9, "You forgot the factor 2: <x^2>_theta = 1/(2 beta theta) for U = theta x^2.")
    ch.close(t, 1.0, "theta_by_hand(0.5)", hint="Solve 1/(2 beta theta) = <x^2>_target for theta.")


test_by_hand(theta_by_hand)

# %%
# HIDDEN
def test_by_hand_beta(theta_by_hand):
    import check_helpers as ch
    t = ch.number(ch.call(theta_by_hand, 0.8, beta=2.5), "theta_by_hand(0.8, beta=2.5)")
    ch.close(t, 1 / (2 * 2.5 * 0.8), "theta_by_hand(0.8, beta=2.5)", hint="beta enters as theta* = 1/(2 beta <x^2>).")


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
# $\partial S_{\rm rel}/\partial\theta$ for a target with $\langle x^2\rangle = $ `mean_x2`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def gradient(theta, mean_x2, beta=1.0):
    """dS_rel/dtheta = beta (<x^2>_target - <x^2>_theta)."""
    return beta * (mean_x2 - 1.0 / (2.0 * beta * theta))  # SOLUTION


print(gradient(1.0, target_x2))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_gradient(gradient):
    import numpy as np
    import check_helpers as ch

    def s_rel(theta, s2, beta):  # D(N(0, s2) || N(0, v)) with v = 1/(2 beta theta)
        v = 1 / (2 * beta * theta)
        return 0.5 * (s2 / v - 1 - np.log(s2 / v))

    for theta, s2, beta in [(0.7, 0.9, 1.0), (1.3, 0.2, 2.0)]:
        h = 1e-5
        exact = (s_rel(theta + h, s2, beta) - s_rel(theta - h, s2, beta)) / (2 * h)
        g = ch.number(ch.call(gradient, theta, s2, beta=beta), f"gradient({theta}, {s2}, beta={beta})")
        ch.check(not np.isclose(g, -exact, rtol=1e-5), "Your gradient has the wrong sign: dS/dtheta = beta (<phi>_target - <phi>_theta).")
        ch.close(g, exact, f"gradient({theta}, {s2}, beta={beta})", rtol=1e-5, hint="beta (<x^2>_target - 1/(2 beta theta)); compared with the derivative of the exact Gaussian relative entropy.")


test_gradient(gradient)

# %%
# HIDDEN
def test_gradient_other_values(gradient):
    import numpy as np
    import check_helpers as ch

    def s_rel(theta, s2, beta):  # D(N(0, s2) || N(0, v)) with v = 1/(2 beta theta)
        v = 1 / (2 * beta * theta)
        return 0.5 * (s2 / v - 1 - np.log(s2 / v))

    theta, s2, beta, h = 0.25, 3.0, 0.5, 1e-6
    exact = (s_rel(theta + h, s2, beta) - s_rel(theta - h, s2, beta)) / (2 * h)
    g = ch.number(ch.call(gradient, theta, s2, beta=beta), f"gradient({theta}, {s2}, beta={beta})")
    ch.close(g, exact, f"gradient({theta}, {s2}, beta={beta})", rtol=1e-5, hint="beta (<x^2>_target - 1/(2 beta theta)) for any theta, <x^2> and beta.")
    optimum = 1 / (2 * beta * s2)  # the model variance equals the target's: the gradient vanishes
    g0 = ch.number(ch.call(gradient, optimum, s2, beta=beta), f"gradient({optimum:.4g}, {s2}, beta={beta})")
    ch.close(g0, 0.0, f"gradient({optimum:.4g}, {s2}, beta={beta})", atol=1e-10, hint="At theta* = 1/(2 beta <x^2>) the moments match and the gradient is zero.")


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


print(hessian(1.0))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_hessian(hessian):
    import numpy as np
    import check_helpers as ch

    def s_rel(theta, s2, beta):
        v = 1 / (2 * beta * theta)
        return 0.5 * (s2 / v - 1 - np.log(s2 / v))

    for theta, beta in [(0.7, 1.0), (1.3, 2.0)]:
        h = 1e-4
        exact = (s_rel(theta + h, 0.5, beta) - 2 * s_rel(theta, 0.5, beta) + s_rel(theta - h, 0.5, beta)) / h**2
        value = ch.number(ch.call(hessian, theta, beta=beta), f"hessian({theta}, beta={beta})")
        ch.check(not np.isclose(value, 3 / (4 * theta**2), rtol=1e-4), "You used <x^4> instead of Var(x^2) = <x^4> - <x^2>^2.")
        ch.close(value, exact, f"hessian({theta}, beta={beta})", rtol=1e-4, hint="beta^2 (<x^4> - <x^2>^2) with <x^2> = v = 1/(2 beta theta), <x^4> = 3 v^2.")


test_hessian(hessian)

# %%
# HIDDEN
def test_hessian_independent_of_beta(hessian):
    import check_helpers as ch
    theta = 0.2
    values = [ch.number(ch.call(hessian, theta, beta=beta), f"hessian({theta}, beta={beta})") for beta in (0.3, 3.0)]
    # Var(x^2) = 2 v^2 with v = 1/(2 beta theta): beta^2 * 2 v^2 = 1/(2 theta^2) for every beta
    for beta, value in zip((0.3, 3.0), values):
        ch.close(value, 1 / (2 * theta**2), f"hessian({theta}, beta={beta})", rtol=1e-8, hint="beta^2 Var(x^2) = beta^2 * 2 v^2 with v = 1/(2 beta theta): beta cancels.")


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
# gradient and Hessian until $|g| <$ `tol`, and returns $\theta$. Fit the double well:
# `theta_star = newton_fit(target_x2, 0.5)`. It must agree with your answer by hand.
# (Newton converges here for $0 < \theta_0 < 1/(\beta\langle x^2\rangle)$.)

# %% [raw]
# # BEGIN SOLUTION

# %%
def newton_fit(mean_x2, theta0, beta=1.0, tol=1e-12, max_iter=100):
    """Newton-Raphson for dS_rel/dtheta = 0."""
    # BEGIN SOLUTION
    theta = theta0
    for _ in range(max_iter):
        g = gradient(theta, mean_x2, beta)
        if abs(g) < tol:
            break
        theta = theta - g / hessian(theta, beta)
    return theta
    # END SOLUTION


theta_star = newton_fit(target_x2, 0.5)  # SOLUTION
print(theta_star, theta_by_hand(target_x2))

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_newton(newton_fit):
    import check_helpers as ch
    t = ch.number(ch.call(newton_fit, 2.0, 0.1), "newton_fit(2.0, 0.1)")
    ch.close(t, 0.25, "newton_fit(2.0, 0.1)", rtol=1e-8, hint="theta <- theta - gradient/hessian until |gradient| < tol; the answer is 1/(2 * 2.0).")


test_newton(newton_fit)

# %%
# HIDDEN
def test_theta_star(theta_star):
    import numpy as np
    import check_helpers as ch
    x = np.linspace(-4.0, 4.0, 16001)
    w = np.exp(-((x**2 - 1) ** 2))
    mean_x2 = np.trapezoid(x**2 * w, x) / np.trapezoid(w, x)
    t = ch.number(theta_star, "theta_star")
    ch.close(t, 1 / (2 * mean_x2), "theta_star", rtol=1e-6, hint="theta_star = newton_fit(target_x2, 0.5) must match 1/(2 <x^2>_double well).")


test_theta_star(theta_star)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **What you have.** The two facts REM rests on: the gradient is a difference of averages
# (moment matching at the optimum) and the Hessian is a variance, so $S_{\rm rel}$ is convex in
# parameters that enter linearly and Newton's method converges in a handful of steps.
