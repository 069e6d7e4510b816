r"""The computations and figures behind the explorers of :mod:`remlib.widgets`.

Each explorer has one model class here.  A model

* precomputes, in ``__init__``, everything that no control changes (grids, samples,
  trajectories, landscapes), so that a slider move stays fast;
* ``compute(**values)`` -> ``dict`` of the numbers the explorer shows, obtained by calling
  the public functions of :mod:`remlib` for the control values (a ``ValueError`` with a
  reader-facing message for values that have no answer, e.g. zero samples);
* ``setup(fig)`` draws the figure once and keeps its artists; ``show(result)`` moves the
  artists to a new result (no new axes, no new figure);
* ``summary(result)`` -> one line of HTML with the numbers.

Nothing here imports ipywidgets: the models can be used and tested without a notebook.
"""
import warnings
from functools import lru_cache

import numpy as np
from scipy.special import logsumexp

from remlib._validation import as_float_array, as_positive_int, as_real_scalar
from remlib.basis import Basis, PolynomialBasis
from remlib.divergence import kl_from_energies, log_likelihood, log_likelihood_from_energies
from remlib.dynamics import brownian_dynamics
from remlib.ensembles import GridEnsemble
from remlib.information import information_decomposition
from remlib.pathspace import fit_drift, mean_force
from remlib.rem import minimize_relative_entropy, relative_entropy_objective
from remlib.style import EXACT_COLOR, OKABE_ITO
from remlib.systems import DoubleWell, EntropicChannel, IsingChain

__all__ = ["KLModel", "MomentMatchingModel", "ResolutionModel", "BiasVarianceModel", "MotionModel"]

GREY = "0.82"
BLUE, VERMILLION, GREEN = OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["bluish_green"]


def _fmt(value, digits=3):
    """A number for the status line: ``∞`` for an infinite value."""
    if np.isinf(value):
        return "∞"
    return f"{value:.{digits}g}" if abs(value) < 1e-3 and value != 0 else f"{value:.{digits}f}"


def _finite_mean(values):
    """Column means over the finite entries (NaN for a column without any: all fits failed)."""
    finite = np.isfinite(values)
    counts = finite.sum(axis=0)
    sums = np.where(finite, values, 0.0).sum(axis=0)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _quiet_rem(*args, **kwargs):
    """``minimize_relative_entropy`` without its non-convergence warning (read ``.converged``)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*converge.*", category=RuntimeWarning)
        return minimize_relative_entropy(*args, **kwargs)


# =======================================================================================
# 1. KL explorer


class KLModel:
    r"""Bimodal target :math:`p` and a single-Gaussian model :math:`q_{\mu,\sigma}` on a support.

    The target is the two-state mixture of the relative-entropy page (weights 0.6 and 0.4,
    centres :math:`\mp 2`, width 0.6).  The model is :math:`N(\mu, \sigma^2)` restricted to
    the support :math:`[a, b]` (zero density outside).  Both divergences are
    :func:`remlib.divergence.kl_from_energies` on the grid, in log space.
    """

    weights = (0.6, 0.4)
    centres = (-2.0, 2.0)
    width = 0.6

    def __init__(self, n_grid=801, n_scan=41):
        self.x = np.linspace(-6.0, 6.0, n_grid)
        log_parts = [np.log(w) - 0.5 * ((self.x - c) / self.width) ** 2 for w, c in zip(self.weights, self.centres)]
        self.u_p = -(np.logaddexp(*log_parts) - np.log(np.sqrt(2 * np.pi) * self.width))
        self.p = np.exp(-self.u_p)
        self.mu_scan = np.linspace(-4.0, 4.0, n_scan)
        self._scan = lru_cache(maxsize=32)(self._scan_mu)

    def _scan_mu(self, sigma, support):
        """Both divergences over ``mu_scan`` (columns forward, reverse) for one width and support."""
        energies = [self.model_energy(m, sigma, support) for m in self.mu_scan]
        return np.array([[kl_from_energies(self.u_p, u, self.x), kl_from_energies(u, self.u_p, self.x)]
                         for u in energies])

    def model_energy(self, mu, sigma, support):
        """Energy :math:`-\\ln q` (up to a constant) of the model, ``+inf`` outside ``support``."""
        low, high = support
        u = 0.5 * ((self.x - mu) / sigma) ** 2 + np.log(sigma)
        return np.where((self.x >= low) & (self.x <= high), u, np.inf)

    def compute(self, mu, sigma, support):
        mu, sigma = as_real_scalar(mu, "mu"), as_real_scalar(sigma, "sigma")
        support = as_float_array(support, "support", ndim=1)
        if support.shape != (2,):
            raise ValueError(f"support must be two numbers (a, b), got {support.size}")
        low, high = support
        if sigma <= 0:
            raise ValueError("The model width σ must be positive.")
        inside = (self.x >= low) & (self.x <= high)
        if not inside.any() or high <= low:
            raise ValueError("The model support [a, b] is empty: widen it so that the model has somewhere "
                             "to put its probability.")
        u_q = self.model_energy(mu, sigma, support)
        forward = kl_from_energies(self.u_p, u_q, self.x)
        reverse = kl_from_energies(u_q, self.u_p, self.x)
        # log q in log space (finite on the support even where q underflows), normalised on the grid
        shift = u_q[inside].min()
        log_q = -(u_q - shift) - np.log(np.trapezoid(np.exp(-(u_q - shift)), self.x))
        q = np.exp(log_q)
        integrand = np.where(inside, self.p * (-self.u_p - log_q), np.inf)
        scan = self._scan(float(sigma), (float(low), float(high)))
        return {
            "mu": float(mu), "sigma": float(sigma), "support": (float(low), float(high)),
            "forward": float(forward), "reverse": float(reverse),
            "excluded_mass": float(np.trapezoid(np.where(inside, 0.0, self.p), self.x)),
            "q": q, "integrand": integrand, "scan_forward": scan[:, 0], "scan_reverse": scan[:, 1],
        }

    def setup(self, fig):
        ax0, ax1, ax2 = fig.subplots(1, 3)
        self.axes = (ax0, ax1, ax2)
        ax0.fill_between(self.x, self.p, color=GREY, label="target $p$")
        (self.q_line,) = ax0.plot(self.x, self.p, color=BLUE, label="model $q$")
        ax0.set(xlim=(-6, 6), ylim=(0, 1.05), xlabel="$x$", ylabel="probability density",
                title="target and model")
        ax0.legend(loc="upper right")
        (self.integrand_line,) = ax1.plot(self.x, self.p, color=VERMILLION)
        ax1.axhline(0.0, color="0.4", lw=0.8)
        ax1.set(xlim=(-6, 6), ylim=(-0.6, 1.6), xlabel="$x$", ylabel=r"$p\,\ln(p/q)$",
                title=r"integrand of $D(p\|q)$")
        self.shades = [ax.axvspan(-6, -6, color=VERMILLION, alpha=0.12, lw=0) for ax in (ax0, ax1)]
        self.shades += [ax.axvspan(6, 6, color=VERMILLION, alpha=0.12, lw=0) for ax in (ax0, ax1)]
        self.infinite_note = ax1.text(0.5, 0.93, "", transform=ax1.transAxes, ha="center", va="top",
                                      fontsize=11, color=VERMILLION)
        (self.scan_f,) = ax2.plot(self.mu_scan, self.mu_scan, color=BLUE, label=r"$D(p\|q)$")
        (self.scan_r,) = ax2.plot(self.mu_scan, self.mu_scan, "--", color=VERMILLION, label=r"$D(q\|p)$")
        (self.point_f,) = ax2.plot([0], [0], "o", color=BLUE)
        (self.point_r,) = ax2.plot([0], [0], "s", color=VERMILLION)
        ax2.set(xlim=(-4, 4), ylim=(0, 6), xlabel=r"model centre $\mu$", ylabel="relative entropy (nats)",
                title=r"both directions vs $\mu$ (this $\sigma$)")
        ax2.legend(loc="upper center")
        self.scan_note = ax2.text(0.5, 0.75, "", transform=ax2.transAxes, ha="center", fontsize=11, color=BLUE)
        self.dynamic = [*self.shades, self.q_line, self.integrand_line, self.infinite_note, self.scan_note,
                        self.scan_f, self.scan_r, self.point_f, self.point_r]

    def show(self, r):
        self.q_line.set_ydata(r["q"])
        finite = np.where(np.isfinite(r["integrand"]), r["integrand"], np.nan)
        self.integrand_line.set_ydata(finite)
        low, high = r["support"]
        for shade, (a, b) in zip(self.shades, [(-6, low)] * 2 + [(high, 6)] * 2):
            shade.set_x(a)
            shade.set_width(max(b - a, 0.0))
        cut = r["excluded_mass"] > 0 and (low > -6 or high < 6)
        self.infinite_note.set_text("shaded: q = 0 < p, integrand = +∞" if cut else "")
        self.scan_note.set_text("D(p‖q) = ∞ for every μ" if np.all(np.isinf(r["scan_forward"])) else "")
        self.scan_f.set_ydata(np.where(np.isfinite(r["scan_forward"]), r["scan_forward"], np.nan))
        self.scan_r.set_ydata(np.where(np.isfinite(r["scan_reverse"]), r["scan_reverse"], np.nan))
        self.point_f.set_data([r["mu"]], [min(r["forward"], 5.9)])
        self.point_r.set_data([r["mu"]], [min(r["reverse"], 5.9)])

    def summary(self, r):
        text = (f"<b>D(p‖q) = {_fmt(r['forward'])}</b> nats (the REM direction) &nbsp;·&nbsp; "
                f"<b>D(q‖p) = {_fmt(r['reverse'])}</b> nats")
        if np.isinf(r["forward"]):
            text += (f"<br>The model gives zero weight to a region where the target has probability "
                     f"{r['excluded_mass']:.2g}: D(p‖q) is infinite, D(q‖p) stays finite.")
        return text


# =======================================================================================
# 2. moment matching


class MomentMatchingModel:
    r"""REM of :math:`F = h(x^2-1)^2` (``DoubleWell(barrier=2)``) with the basis :math:`[x^2, x^4]`.

    Grid :math:`|x| \le 2.5`; target weights :math:`e^{-\beta F}` times the trapezoid weights, as
    on the REM page.  The landscape :math:`S(\theta) - S(\theta^*)` is tabulated once with
    :func:`remlib.relative_entropy_objective`; each slider move runs Newton–Raphson
    (:func:`remlib.minimize_relative_entropy`) from the slider point.
    """

    theta2_range = (-6.0, 1.0)
    theta4_range = (0.05, 3.5)

    def __init__(self, n_grid=401, n_landscape=(36, 30)):
        from remlib.divergence import trapezoid_weights

        self.well = DoubleWell(barrier=2.0)
        self.x = np.linspace(-2.5, 2.5, n_grid)
        self.F = self.well.pmf(self.x)
        self.target_weights = trapezoid_weights(self.x) * np.exp(-self.F)
        self.target_density = np.exp(-self.F) / np.trapezoid(np.exp(-self.F), self.x)
        self.ensemble = GridEnsemble(self.x)
        self.basis = PolynomialBasis([2, 4])
        self.target_moments = self.target_weights @ self.basis(self.x) / self.target_weights.sum()
        self.optimum = minimize_relative_entropy(self.basis, self.ensemble, self.x,
                                                 weights=self.target_weights, tol=1e-10).theta
        self.objective_min = self.objective(self.optimum)
        self.t2 = np.linspace(*self.theta2_range, n_landscape[0])
        self.t4 = np.linspace(*self.theta4_range, n_landscape[1])
        self.landscape = np.array([[self.objective((a, b)) for a in self.t2] for b in self.t4]) - self.objective_min

    def objective(self, theta):
        return relative_entropy_objective(self.basis, self.ensemble, self.x, theta, weights=self.target_weights)

    def compute(self, theta2, theta4):
        theta = np.array([as_real_scalar(theta2, "theta2"), as_real_scalar(theta4, "theta4")])
        averages = self.ensemble.averages(self.basis, theta)
        newton = _quiet_rem(self.basis, self.ensemble, self.x, weights=self.target_weights, theta0=theta, tol=1e-10)
        density = self.ensemble.density(self.basis, theta)
        return {
            "theta": theta,
            "model_moments": averages.mean,
            "target_moments": self.target_moments,
            "gradient": self.ensemble.beta * (self.target_moments - averages.mean),
            "relative_entropy": kl_from_energies(self.F, self.basis.energy(self.x, theta), self.x),
            "excess_objective": self.objective(theta) - self.objective_min,
            "path": newton.history["theta"],
            "newton_theta": newton.theta,
            "newton_steps": newton.n_iter,
            "density": density / np.trapezoid(density, self.x),
        }

    def setup(self, fig):
        ax0, ax1, ax2 = fig.subplots(1, 3, width_ratios=(1.0, 0.8, 1.1))
        ax0.fill_between(self.x, self.target_density, color=GREY, label="target")
        (self.density_line,) = ax0.plot(self.x, self.target_density, color=BLUE, label=r"model $p_\theta$")
        ax0.set(xlim=(-2.5, 2.5), ylim=(0, 1.6), xlabel="$x$", ylabel="probability density",
                title="target and model")
        ax0.legend(loc="upper right")
        positions = np.arange(2)
        ax1.bar(positions - 0.2, self.target_moments, 0.4, color=GREY, label="target")
        self.bars = ax1.bar(positions + 0.2, self.target_moments, 0.4, color=BLUE, label="model")
        ax1.set_xticks(positions, [r"$\langle x^2\rangle$", r"$\langle x^4\rangle$"])
        ax1.set(ylim=(0, 8), ylabel="average", title="moments")
        ax1.legend(loc="upper left")
        levels = [0.01, 0.03, 0.1, 0.3, 1, 2, 4, 8]
        cs = ax2.contour(self.t2, self.t4, self.landscape, levels=levels, cmap="cividis", linewidths=1)
        ax2.clabel(cs, fontsize=9, fmt="%g")
        ax2.plot(*self.optimum, "k*", ms=11, label=r"optimum $\theta^*$")
        (self.path_line,) = ax2.plot([0], [0], "o-", color=VERMILLION, ms=3, lw=1, label="Newton path")
        (self.point,) = ax2.plot([0], [0], "o", color=BLUE, ms=8, label=r"slider $\theta$")
        ax2.set(xlim=self.theta2_range, ylim=self.theta4_range, xlabel=r"$\theta_2$ (kT)",
                ylabel=r"$\theta_4$ (kT)", title=r"$S(\theta)-S(\theta^*)$ (nats)")
        ax2.legend(loc="upper right", fontsize=10)
        self.dynamic = [self.density_line, *self.bars, self.path_line, self.point]

    def show(self, r):
        self.density_line.set_ydata(r["density"])
        for bar, value in zip(self.bars, r["model_moments"]):
            bar.set_height(min(value, 7.9))
        self.path_line.set_data(r["path"][:, 0], r["path"][:, 1])
        self.point.set_data([r["theta"][0]], [r["theta"][1]])

    def summary(self, r):
        m, t = r["model_moments"], r["target_moments"]
        return (f"⟨x²⟩: model {m[0]:.3f}, target {t[0]:.3f} &nbsp;·&nbsp; ⟨x⁴⟩: model {m[1]:.3f}, "
                f"target {t[1]:.3f} &nbsp;·&nbsp; "
                f"<b>S_rel = D(target‖model) = {_fmt(r['relative_entropy'])}</b> nats"
                f"<br>Newton–Raphson from here reaches θ = ({r['newton_theta'][0]:.3f}, "
                f"{r['newton_theta'][1]:.3f}) in {r['newton_steps']} steps, where the moments match.")


# =======================================================================================
# 3. resolution and information


class _BlockSpinBasis(Basis):
    """CG energy of ``n_blocks`` block spins: ``[-sum_b S_b S_{b+1}, -sum_b S_b]`` or the field only."""

    def __init__(self, n_blocks, couplings=True):
        self.dim = n_blocks
        self.couplings = couplings and n_blocks > 1
        self.n_functions = 2 if self.couplings else 1

    def _design(self, spins):
        spins = spins.reshape(spins.shape[0], self.dim)  # a 1-D basis gets (n,)
        field = -spins.sum(axis=1)
        if not self.couplings:
            return field[:, None]
        return np.column_stack([-(spins * np.roll(spins, -1, axis=1)).sum(axis=1), field])


class ResolutionModel:
    r"""Information decomposition of block-spin mappings of a periodic 12-spin Ising chain.

    For each block size the CG model is fitted by REM on the exact mapped distribution
    (:func:`remlib.minimize_relative_entropy` on the enumerated CG states), and
    :func:`remlib.information_decomposition` splits the total information loss with the
    uniform back-mapping into the coarse and the reconstruction term.
    """

    n_spins = 12
    block_sizes = (2, 3, 4, 6, 12)
    cg_models = ("nearest-neighbour chain", "independent block spins")

    def __init__(self):
        self._cache = lru_cache(maxsize=64)(self._all_blocks)

    def _one_block(self, chain, block_size, cg_model):
        blocks = chain.block_spin(block_size)
        p_aa = chain.probabilities
        p_map = np.bincount(blocks.labels, weights=p_aa, minlength=blocks.n_states)
        states = blocks.cg_spins.astype(float)
        basis = _BlockSpinBasis(states.shape[1], couplings=cg_model == self.cg_models[0])
        ensemble = GridEnsemble(states)
        fit = minimize_relative_entropy(basis, ensemble, states, weights=p_map, tol=1e-10)
        p_cg = ensemble.probabilities(basis, fit.theta)
        parts = information_decomposition(p_aa, blocks.labels, p_cg)
        return {"theta": fit.theta, "p_map": p_map, "p_cg": p_cg, "total": parts.total,
                "coarse": parts.coarse, "reconstruction": parts.reconstruction}

    def _all_blocks(self, coupling, field, cg_model):
        chain = IsingChain(self.n_spins, J=coupling, h=field, beta=1.0, periodic=True)
        return tuple(self._one_block(chain, b, cg_model) for b in self.block_sizes)

    def compute(self, block_size, coupling, field, cg_model):
        if block_size not in self.block_sizes:
            raise ValueError(f"Choose a block size among {self.block_sizes} (it must divide {self.n_spins}).")
        if cg_model not in self.cg_models:
            raise ValueError(f"Choose a CG model among {self.cg_models}.")
        coupling, field = as_real_scalar(coupling, "coupling"), as_real_scalar(field, "field")
        rows = self._cache(float(coupling), float(field), cg_model)
        current = rows[self.block_sizes.index(block_size)]
        return {
            "block_size": block_size,
            "total": np.array([r["total"] for r in rows]),
            "coarse": np.array([r["coarse"] for r in rows]),
            "reconstruction": np.array([r["reconstruction"] for r in rows]),
            **{f"current_{k}": v for k, v in current.items()},
        }

    def setup(self, fig):
        ax0, ax1 = fig.subplots(1, 2, width_ratios=(1.0, 1.2))
        positions = np.arange(len(self.block_sizes))
        zeros = np.zeros(positions.size)
        self.coarse_bars = ax0.bar(positions, zeros, 0.6, color=BLUE, label="coarse")
        self.recon_bars = ax0.bar(positions, zeros, 0.6, color=OKABE_ITO["orange"], label="reconstruction")
        (self.total_marks,) = ax0.plot(positions, zeros, "_", color=EXACT_COLOR, ms=26, mew=2, label="total")
        self.highlight = ax0.axvspan(-0.4, 0.4, color="0.9", zorder=0)
        ax0.set_xticks(positions, [str(b) for b in self.block_sizes])
        ax0.set(xlabel="block size (spins per CG site)", ylabel="information loss (nats)",
                title="total = coarse + reconstruction", ylim=(0, 10))
        ax0.legend(loc="upper center", ncols=3, fontsize=10, markerscale=0.5)
        self.state_axis = ax1
        (self.map_line,) = ax1.plot([0.5], [0.5], "o", color=GREY, mec="0.4", ms=5, label=r"mapped $P_{\mathrm{map}}$")
        (self.cg_line,) = ax1.plot([0.5], [0.5], ".", color=BLUE, ms=5, label=r"CG model $p_{\mathrm{CG}}$")
        ax1.set(xlabel="CG state (label / number of states)", ylabel="probability", yscale="log",
                xlim=(-0.02, 1.02), ylim=(1e-9, 3.0), title="the CG distributions of this block size")
        ax1.legend(loc="lower right", fontsize=10)
        self.state_note = ax1.text(0.03, 0.95, "", transform=ax1.transAxes, va="top", fontsize=11)
        self.dynamic = [self.highlight, *self.coarse_bars, *self.recon_bars, self.total_marks,
                        self.map_line, self.cg_line, self.state_note]

    def show(self, r):
        index = self.block_sizes.index(r["block_size"])
        for c_bar, r_bar, c, rec in zip(self.coarse_bars, self.recon_bars, r["coarse"], r["reconstruction"]):
            c_bar.set_height(c)
            r_bar.set_y(c)
            r_bar.set_height(rec)
        self.total_marks.set_ydata(r["total"])
        self.highlight.set_x(index - 0.4)
        n_states = r["current_p_map"].size
        states = np.arange(n_states) / n_states
        self.map_line.set_data(states, r["current_p_map"])
        self.cg_line.set_data(states, r["current_p_cg"])
        self.state_note.set_text(f"block size {r['block_size']}: {n_states} CG states")

    def summary(self, r):
        return (f"Block size {r['block_size']}: <b>total {r['current_total']:.4f}</b> = coarse "
                f"{r['current_coarse']:.4f} + reconstruction {r['current_reconstruction']:.4f} nats "
                f"(uniform back-mapping). Block size 1 keeps every spin: no reconstruction term.")


# =======================================================================================
# 4. bias and variance


class BiasVarianceModel:
    r"""REM fits of the entropic-channel PMF from finite samples, basis size and sample size.

    As on the approximation page: ``EntropicChannel(barrier=2, tilt=0.4, a=8,
    kappa_form="quadratic")``, models :math:`\sum_{k\le m}\theta_k u^k` in :math:`u = x/2` on the
    grid :math:`|x|\le 2`.  For each sample size, ``n_resamples`` training sets (fixed seeds) are
    fitted for every basis size (cached).  Held-out error: the exact
    :math:`D(P\|P_{\hat\theta})` on the grid (an infinitely large test set); training error:
    :math:`\frac1N\sum_i[\ln P(x_i) - \ln P_{\hat\theta}(x_i)]` on the training set itself.
    """

    sample_sizes = (0, 10, 30, 100, 300, 1000, 3000)
    max_basis = 10
    half_width = 2.0

    def __init__(self, n_resamples=5, n_grid=161):
        self.channel = EntropicChannel(barrier=2.0, tilt=0.4, a=8.0, kappa_form="quadratic")
        self.x = np.linspace(-self.half_width, self.half_width, n_grid)
        self.u = self.x / self.half_width
        self.ensemble = GridEnsemble(self.u)
        self.F = self.channel.pmf(self.x)
        self.p_true = np.exp(-(self.F - self.F.min()))
        self.p_true /= self.p_true.sum()
        self.true_log_partition = logsumexp(np.log(self.u[1] - self.u[0]) - self.F)
        self.true_objective = self.p_true @ self.F + self.true_log_partition   # -<ln P>_P on the grid
        self.n_resamples = n_resamples
        self.bases = [PolynomialBasis(np.arange(1, m + 1)) for m in range(1, self.max_basis + 1)]
        best = self._fit_all(self.u, self.p_true)
        self.approximation = np.array([self.heldout(b, t) for b, t in zip(self.bases, best)])
        # every (N, m) is fitted once here, so that moving a slider only looks the fits up
        self.fits = {n: self._fits_for(n) for n in self.sample_sizes if n > 0}

    def heldout(self, basis, theta):
        """Exact :math:`D(P\\|P_\\theta) = S(\\theta) - [\\beta\\langle F\\rangle_P + \\ln Z_F]` on the grid."""
        objective = relative_entropy_objective(basis, self.ensemble, self.u, theta, weights=self.p_true)
        return objective - self.true_objective

    def training_set(self, n_samples, index):
        x = self.channel.sample(n_samples, seed=1000 * n_samples + index)[:, 0]
        return x[np.abs(x) <= self.half_width] / self.half_width

    def _fit_all(self, target, weights=None):
        """Warm-started fits of the basis sizes 1..max_basis; ``None`` where a fit fails."""
        thetas, theta = [], np.zeros(0)
        for basis in self.bases:
            start = np.append(theta, 0.0)
            try:
                fit = _quiet_rem(basis, self.ensemble, target, weights=weights, theta0=start, max_iter=200, tol=1e-10)
            except ValueError:
                fit = None
            if fit is None or not fit.converged:
                thetas.append(None)
                continue
            theta = fit.theta
            thetas.append(theta)
        return thetas

    def _fits_for(self, n_samples):
        rows = []
        for index in range(self.n_resamples):
            data = self.training_set(n_samples, index)
            thetas = self._fit_all(data)
            true_ll = log_likelihood_from_energies(self.channel.pmf(data * self.half_width), self.true_log_partition)
            train = [np.nan if t is None else true_ll - log_likelihood(b, t, data, self.ensemble)
                     for b, t in zip(self.bases, thetas)]
            held = [np.nan if t is None else self.heldout(b, t) for b, t in zip(self.bases, thetas)]
            rows.append((thetas, np.array(train), np.array(held)))
        return rows

    def compute(self, n_samples, basis_size):
        n_samples = as_positive_int(n_samples, "n_samples", minimum=0)
        basis_size = as_positive_int(basis_size, "basis_size", minimum=0)
        if n_samples < 1:
            raise ValueError("No samples: with N = 0 there is nothing to fit. Choose a sample size N ≥ 10.")
        if basis_size < 1:
            raise ValueError("Empty basis: with m = 0 functions the model is flat and has nothing to fit. "
                             "Choose a basis size m ≥ 1.")
        if basis_size > self.max_basis:
            raise ValueError(f"Choose a basis size m ≤ {self.max_basis}.")
        if n_samples not in self.fits:
            raise ValueError(f"Choose a sample size N among {self.sample_sizes[1:]}.")
        rows = self.fits[n_samples]
        basis = self.bases[basis_size - 1]
        thetas = [row[0][basis_size - 1] for row in rows]
        pmfs = [None if t is None else basis.energy(self.u, t) - basis.energy(self.u, t).min() for t in thetas]
        train = np.array([row[1] for row in rows])
        heldout = np.array([row[2] for row in rows])
        return {
            "n_samples": int(n_samples), "basis_size": int(basis_size), "thetas": thetas, "pmfs": pmfs,
            "train": train, "heldout": heldout,
            "train_mean": _finite_mean(train),
            "heldout_mean": _finite_mean(heldout),
            "n_failed": int(sum(t is None for t in thetas)),
        }

    def setup(self, fig):
        ax0, ax1 = fig.subplots(1, 2)
        true_pmf = self.F - self.F.min()
        self.pmf_lines = [ax0.plot(self.x, true_pmf, color=BLUE, lw=1.2, alpha=0.7,
                                   label="REM fits (resamples)" if i == 0 else None)[0]
                          for i in range(self.n_resamples)]
        ax0.plot(self.x, true_pmf, color=EXACT_COLOR, lw=2.5, label="true PMF")
        ax0.set(xlim=(-2, 2), ylim=(-0.5, 10), xlabel="$x$", ylabel="PMF (kT)", title="fitted PMFs")
        ax0.legend(loc="upper center", fontsize=10)
        sizes = np.arange(1, self.max_basis + 1)
        ax1.plot(sizes, np.maximum(self.approximation, 1e-6), ":", color="0.4", label="approximation (bias)")
        (self.heldout_line,) = ax1.plot(sizes, sizes, "o-", color=VERMILLION, label="held-out (exact)")
        (self.train_line,) = ax1.plot(sizes, sizes, "s--", color=BLUE, label="training set")
        self.current = ax1.axvline(1, color="0.6", lw=1)
        ax1.axhline(0.0, color="0.4", lw=0.6)
        ax1.set(xlabel="basis size $m$", ylabel="relative entropy (nats)", yscale="symlog",
                xlim=(0.5, self.max_basis + 0.5), ylim=(-1, 100), title="training vs held-out")
        ax1.set_yscale("symlog", linthresh=1e-3)
        ax1.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=10)
        self.n_note = ax1.text(0.03, 0.04, "", transform=ax1.transAxes, fontsize=10)
        self.dynamic = [*self.pmf_lines, self.current, self.heldout_line, self.train_line, self.n_note]

    def show(self, r):
        for line, pmf in zip(self.pmf_lines, r["pmfs"]):
            line.set_visible(pmf is not None)
            if pmf is not None:
                line.set_ydata(pmf)
        self.heldout_line.set_ydata(r["heldout_mean"])
        self.train_line.set_ydata(r["train_mean"])
        self.current.set_xdata([r["basis_size"]] * 2)
        self.n_note.set_text(f"N = {r['n_samples']} samples")

    def summary(self, r):
        m = r["basis_size"] - 1
        text = (f"N = {r['n_samples']}, m = {r['basis_size']} (mean of {self.n_resamples} training sets): "
                f"<b>held-out D = {_fmt(r['heldout_mean'][m])}</b> nats, training estimate "
                f"{_fmt(r['train_mean'][m])} nats; best possible with m functions "
                f"{_fmt(self.approximation[m])} nats.")
        if r["n_failed"]:
            text += (f"<br>{r['n_failed']} of {self.n_resamples} fits did not converge: "
                     f"{r['n_samples']} samples do not "
                     f"determine {r['basis_size']} parameters (the likelihood has no maximum).")
        return text


# =======================================================================================
# 5. coarse-graining motion


class MotionModel:
    r"""Brownian paths of the entropic channel and drifts fitted to their projection on :math:`x`.

    ``EntropicChannel(barrier=1, tilt=0.3, kappa0=4, a=0.5)`` as on the motion page
    (:math:`F = U_1 + a x^2/2` up to a constant).  One set of paths is run once
    (:func:`remlib.brownian_dynamics`, every step stored); the "time step" control picks the
    interval :math:`\Delta t` between the CG frames that :func:`remlib.fit_drift` sees, and the
    basis is :math:`x, x^2, \dots, x^m`.  The binned mean force (:func:`remlib.mean_force`)
    uses the atomistic forces at the same frames.
    """

    dt = 2e-3
    lags = (1, 2, 5, 10, 25, 50, 100, 200)
    max_basis = 6

    def __init__(self, n_walkers=100, n_steps=2000, seed=7):
        self.channel = EntropicChannel(barrier=1.0, tilt=0.3, kappa0=4.0, a=0.5)
        start = self.channel.sample(n_walkers, seed=seed)
        self.paths = brownian_dynamics(self.channel, start, self.dt, n_steps, seed=seed + 1)
        self.cg_paths = np.ascontiguousarray(self.paths[:, :, :1])
        flat = self.paths.reshape(-1, 2)
        self.edges = np.linspace(-1.6, 1.6, 17)
        binned = mean_force(flat[:, 0], self.channel.force(flat)[:, 0], self.edges)
        self.centers, self.binned, self.binned_err = binned.centers, binned.mean_force, binned.stderr
        self.xs = np.linspace(-1.7, 1.7, 171)
        self.exact = self.channel.mean_force(self.xs)
        rho = self.channel.density(self.xs)
        self.rho = rho / rho.sum()
        # every (time step, basis) is fitted once here; a slider move only looks the fit up
        self.bases = [PolynomialBasis(np.arange(1, m + 1)) for m in range(1, self.max_basis + 1)]
        self.thetas = {(k, b.n_functions): self.fit(k, b) for k in self.lags for b in self.bases}

    def fit(self, lag, basis):
        """Drift fitted by :func:`remlib.fit_drift` to the CG frames ``lag`` steps apart."""
        return fit_drift(self.cg_paths[::lag], lag * self.dt, basis).theta

    def exact_theta(self, basis_size):
        """Coefficients of ``F`` in the basis x..x^m (``None`` if ``m < 4``: not representable)."""
        if basis_size < 4:
            return None
        c = self.channel
        theta = np.zeros(basis_size)
        theta[[0, 1, 3]] = c.tilt, c.a / 2 - 2 * c.barrier, c.barrier
        return theta

    def compute(self, lag, basis_size):
        basis_size = as_positive_int(basis_size, "basis_size", minimum=0)
        if basis_size < 1:
            raise ValueError("Empty basis: with m = 0 functions there is no drift to fit. Choose a basis size m ≥ 1.")
        if basis_size > self.max_basis:
            raise ValueError(f"Choose a basis size m ≤ {self.max_basis}.")
        lag = as_positive_int(lag, "lag")
        if lag not in self.lags:
            raise ValueError(f"Choose a CG time step Δt among {[k * self.dt for k in self.lags]}.")
        basis = self.bases[basis_size - 1]
        theta = self.thetas[lag, basis_size]
        drift = basis.force(self.xs, theta)
        return {
            "lag": int(lag), "time_step": lag * self.dt, "basis_size": int(basis_size), "theta": theta,
            "drift": drift, "exact_theta": self.exact_theta(basis_size),
            "rms_error": float(np.sqrt(self.rho @ (drift - self.exact) ** 2)),
        }

    def setup(self, fig):
        ax0, ax1, ax2 = fig.subplots(1, 3, width_ratios=(1.0, 1.0, 1.1))
        gx, gy = np.meshgrid(np.linspace(-1.8, 1.8, 90), np.linspace(-1.0, 1.0, 60))
        energy = self.channel.energy(np.stack([gx, gy], axis=-1))
        ax0.contourf(gx, gy, np.minimum(energy, 6), levels=12, cmap="Greys_r", alpha=0.6)
        for walker, color in zip(range(3), (BLUE, VERMILLION, GREEN)):
            ax0.plot(self.paths[:500:2, walker, 0], self.paths[:500:2, walker, 1], color=color, lw=0.6)
        ax0.set(xlabel="$x$ (kept)", ylabel="$y$ (eliminated)", title="paths in the channel",
                xlim=(-1.8, 1.8), ylim=(-1, 1))
        t = np.arange(self.paths.shape[0]) * self.dt
        ax1.plot(t[:1001], self.paths[:1001, 0, 0], color="0.6", lw=0.7, label="every step")
        (self.sampled,) = ax1.plot(t[:1001], self.paths[:1001, 0, 0], "o-", color=BLUE, ms=3, lw=1,
                                   label=r"CG frames every $\Delta t$")
        ax1.set(xlabel="time $t$", ylabel="$x(t)$", title="CG path of one walker", xlim=(0, t[1000]))
        ax1.legend(loc="upper right", fontsize=10)
        self.time = t
        ax2.errorbar(self.centers, self.binned, yerr=self.binned_err, fmt="o", color="0.45", ms=4,
                     label="binned mean force")
        ax2.plot(self.xs, self.exact, color=EXACT_COLOR, lw=2, label=r"exact $-F'(x)$")
        (self.drift_line,) = ax2.plot(self.xs, self.exact, "--", color=VERMILLION, lw=2, label="fitted drift")
        ax2.set(xlabel="$x$", ylabel="force (kT per length)", title="mean force and fitted drift",
                xlim=(-1.7, 1.7), ylim=(-8, 8))
        ax2.legend(loc="upper right", fontsize=10)
        self.dynamic = [self.sampled, self.drift_line]

    def show(self, r):
        frames = np.arange(0, 1001, r["lag"])
        self.sampled.set_data(self.time[frames], self.paths[frames, 0, 0])
        self.sampled.set_marker("o" if frames.size < 120 else "")
        self.drift_line.set_ydata(r["drift"])

    def summary(self, r):
        theta = ", ".join(f"{v:.2f}" for v in r["theta"])
        text = (f"Δt = {r['time_step']:.3g}, basis x…x^{r['basis_size']}: fitted θ = ({theta}); "
                f"<b>RMS distance of the fitted drift from −F′ = {r['rms_error']:.3f}</b> (weighted by the "
                f"equilibrium density).")
        if r["exact_theta"] is not None:
            exact = ", ".join(f"{v:.2f}" for v in r["exact_theta"])
            text += f"<br>Exact θ for this basis: ({exact})."
        else:
            text += ("<br>This basis cannot represent F = U₁ + a x²/2 (it needs x, x², x⁴): "
                     "the fit is a projection.")
        return text
