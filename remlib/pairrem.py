"""Pair potentials for particle systems: relative entropy minimization, IBI and force matching.

The CG model of a simple liquid is a pair potential in a cubic B-spline basis
(:class:`remlib.basis.BSplineBasis` on ``[r_min, r_cut]``, a hard core below ``r_min``),

.. math:: U(R;\\theta) = \\sum_{I<J} u(r_{IJ}), \\qquad u(r) = \\sum_i \\theta_i B_i(r),

so the frame "features" are the pair sums :math:`\\Phi_i(R) = \\sum_{I<J} B_i(r_{IJ})` and
REM needs only :math:`\\langle\\Phi\\rangle` and :math:`\\mathrm{Cov}(\\Phi)`.  Pair sums are
computed exactly for the tabulated model the Monte Carlo kernel samples: the
potential is tabulated on a fine grid of :math:`s = r^2` and linearly interpolated,
and :math:`\\Phi` uses the same interpolation weights (:func:`remlib.neighbors.pair_grid_weights`).

Three methods, one basis, so their answers compare directly:

* :func:`fit_pair_potential_rem` -- Newton–Raphson on the relative entropy by
  :func:`remlib.rem.minimize_relative_entropy` (reweighting for the line search,
  re-sampling when the effective sample size drops, steepest-descent fallback,
  stopping when the gradient is within its own noise);
* :func:`iterative_boltzmann_inversion` -- :math:`u_{k+1} = u_k + k_BT\\ln(g_k/g_\\mathrm{target})`;
* :func:`pair_force_matching` -- least squares on the mapped forces (MS-CG).
"""
import warnings
from dataclasses import dataclass, field

import numpy as np

from remlib._particle_ensemble import FrameFeatures, ParticleEnsemble, blas_on_one_thread
from remlib._validation import as_count, as_float_array, as_positive_int, as_positive_scalar, as_theta, check_instance
from remlib.basis import BSplineBasis
from remlib.engines import CGSystem, get_engine
from remlib.montecarlo import Table, metropolis_particles
from remlib.neighbors import (
    check_box,
    check_cutoff,
    check_positions,
    pair_grid_weights,
    pair_list,
    radial_distribution,
)
from remlib.rem import REMResult, minimize_relative_entropy
from remlib.tables import INNER_FRACTION, continued_design, pair_energy_force

__all__ = ["PairModel", "PairPotentialResult", "fit_pair_potential_rem", "iterative_boltzmann_inversion",
           "pair_force_matching", "pair_forces"]


class PairModel:
    """A pair potential in a B-spline basis, tabulated for Monte Carlo.

    Parameters
    ----------
    basis : BSplineBasis
        Splines on ``[r_min, r_cut]``; below ``basis.lower`` the model has a hard core.
    n_grid : int
        Points of the tabulation grid in :math:`s = r^2`.

    Attributes
    ----------
    basis : BSplineBasis
    r_min, r_cut : float
    s_grid : ndarray, shape (n_grid,)
    design : ndarray, shape (n_grid, n_functions)
        :math:`B_i(\\sqrt{s_k})`.

    Examples
    --------
    The splines sum to one, so equal coefficients give a constant potential up to r_cut:

    >>> model = PairModel(BSplineBasis(0.9, 2.5, 6))
    >>> theta = np.full(6, -0.5)
    >>> round(float(model.potential(1.5, theta)), 6), float(model.potential(0.8, theta))
    (-0.5, inf)
    """

    def __init__(self, basis, n_grid=2048):
        if not isinstance(basis, BSplineBasis):
            raise TypeError(f"basis must be a remlib.basis.BSplineBasis, got {type(basis).__name__}")
        self.basis = basis
        self.r_min, self.r_cut = basis.lower, basis.upper
        self.s_grid = np.linspace(self.r_min**2, self.r_cut**2, as_count(n_grid, "n_grid", 8 * 8, minimum=16))
        self.design = basis(np.sqrt(self.s_grid))
        self.n_functions = basis.n_functions
        # the grid of the MD engines' frames, down to the table's inner distance with the same spacing
        spacing = self.s_grid[1] - self.s_grid[0]
        below = int(np.ceil((self.r_min**2 - (INNER_FRACTION * self.r_min) ** 2) / spacing))
        self._md_s_grid = np.linspace(self.s_grid[0] - below * spacing, self.s_grid[-1], below + self.s_grid.size)
        self._md_design = continued_design(basis, np.sqrt(self._md_s_grid))

    def table(self, theta):
        """The tabulated pair potential :math:`u(r) = \\sum_i \\theta_i B_i(r)` for the MC kernel."""
        return Table(self.s_grid, self.design @ as_theta(theta, self.n_functions), "r2")

    def features(self, frames, box):
        """Pair sums :math:`\\Phi_i = \\sum_{I<J} B_i(r_{IJ})` per frame, shape (n_frames, n_functions)."""
        box = check_box(box)
        frames = check_positions(frames, box, "frames")
        return pair_grid_weights(frames, box, r_cut=self.r_cut, s_grid=self.s_grid) @ self.design

    def continued_features(self, frames, box):
        """Pair sums of the basis continued below r_min (:func:`remlib.tables.continued_design`).

        For frames of an MD engine, which runs the potential continued below the hard
        core; pairs down to the tables' inner distance ``INNER_FRACTION * r_min`` count.
        """
        box = check_box(box)
        frames = check_positions(frames, box, "frames")
        return pair_grid_weights(frames, box, r_cut=self.r_cut, s_grid=self._md_s_grid) @ self._md_design

    def system(self, theta, box, beta, md=True):
        """The model at ``theta`` for an engine (:class:`remlib.engines.CGSystem`); ``md``: with the MD tables."""
        pair = None
        if md:
            r = np.linspace(INNER_FRACTION * self.r_min, self.r_cut, 2000)
            pair = (r, *pair_energy_force(self, theta, r))
        return CGSystem(box, beta, {"pair": self.table(theta)}, pair)

    def potential(self, r, theta):
        """:math:`u(r)` (inf below r_min, 0 beyond r_cut)."""
        r = as_float_array(r, "r", allow_empty=True)
        if np.any(r < 0):
            raise ValueError("r must contain distances >= 0")
        theta = as_theta(theta, self.basis.n_functions)
        inside = r >= self.r_min
        u = np.full(r.shape, np.inf)
        u[inside] = self.basis(r[inside]) @ theta
        return u


def _pair_ensemble(model, box, start, beta, n_model_frames, burn_in, thin, seed, n_chains, engine):
    engine = get_engine(engine, burn_in=burn_in, thin=thin, n_chains=n_chains)
    if engine.continuous and not model.basis.vanish_at_upper:
        warnings.warn("an MD engine with smooth_cutoff=False: MD does not feel the step of u at r_cut, so it samples "
                      "a different model from the one whose features REM matches; use smooth_cutoff=True",
                      UserWarning, stacklevel=3)
    return ParticleEnsemble(model, box, start, beta=beta, n_frames=n_model_frames, engine=engine, seed=seed)


@dataclass
class PairPotentialResult:
    """A fitted pair potential and how it was obtained.

    Attributes
    ----------
    method : str
        ``"rem"``, ``"ibi"`` or ``"force matching"``.
    model : PairModel
        Basis and tabulation; ``model.table(theta)`` is ready for Monte Carlo.
    theta : ndarray, shape (n_functions,)
    r : ndarray
        Distances on which ``potential`` is reported.
    potential : ndarray
        :math:`u(r)`.
    converged : bool
    n_iter : int
    history : dict
        Method-specific records per iteration (REM: the ``history`` of :attr:`rem`;
        IBI: ``"g_rms"``, the RMS deviation of g(r) from the target).
    rem : REMResult or None
        The relative entropy minimization itself (``method="rem"`` only): Newton steps,
        model re-samplings (``rem.n_resamples``) and its history.

    Examples
    --------
    >>> model = PairModel(BSplineBasis(0.9, 2.5, 6))
    >>> fit = PairPotentialResult("rem", model, np.zeros(6), np.array([1.0, 2.0]), np.zeros(2))
    >>> fit.method, fit.rem is None
    ('rem', True)
    """

    method: str
    model: PairModel
    theta: np.ndarray
    r: np.ndarray
    potential: np.ndarray
    converged: bool = True
    n_iter: int = 0
    history: dict = field(default_factory=dict, repr=False)
    rem: REMResult | None = field(default=None, repr=False)

    def sample(self, start, box, *, n_frames, beta=1.0, burn_in=100, thin=2, seed=None):
        """Frames of the fitted model by Metropolis MC from ``start`` (e.g. a target frame).

        Returns a :class:`remlib.montecarlo.MonteCarloResult`; compare its g(r) with the target's.

        Examples
        --------
        >>> model = PairModel(BSplineBasis(0.9, 2.5, 6))
        >>> fit = PairPotentialResult("rem", model, np.array([3.0, 0.5, -1.0, -0.3, 0.0, 0.0]), None, None)
        >>> from remlib.montecarlo import lattice_positions
        >>> start = lattice_positions(125, [6.0] * 3)
        >>> fit.sample(start, [6.0] * 3, n_frames=4, burn_in=10, seed=1).frames.shape
        (4, 125, 3)
        """
        check_positions(start, check_box(box), "start")  # errors name this method's argument
        return metropolis_particles(start, box, self.model.table(self.theta), n_frames=n_frames, beta=beta,
                                    burn_in=burn_in, thin=thin, seed=seed)

    def plot(self, ax=None, **kwargs):
        """Plot u(r) on ``ax`` (a new figure if None); returns the axes."""
        import matplotlib.pyplot as plt
        from matplotlib.axes import Axes

        if ax is not None:
            check_instance(ax, Axes, "ax", "a matplotlib Axes or None")
        ax = ax or plt.subplots(figsize=(4.5, 3.2))[1]
        ax.plot(self.r, self.potential, label=kwargs.pop("label", self.method), **kwargs)
        ax.axhline(0.0, color="0.7", lw=0.8)
        ax.set_xlabel("$r$")
        ax.set_ylabel("$u(r)$ (energy units, $k_BT = 1/\\beta$)")
        ax.legend()
        return ax


# --------------------------------------------------------------------------- shared set-up

def _setup(frames, box, r_cut, n_functions, r_min, smooth_cutoff):
    box = check_box(box)
    frames = check_positions(frames, box, "frames")
    r_cut = check_cutoff(r_cut, box, "r_cut")
    n_functions = as_positive_int(n_functions, "n_functions", minimum=4)
    closest = min(_closest_distance(frame, box, r_cut) for frame in frames)
    if r_min is None:
        # just below the closest pair: r_min**2 rounded could exceed that pair's r**2 as the MC kernel
        # computes it, and the model chain starts from the last target frame
        r_min = closest * (1 - 1e-9)
    r_min = as_positive_scalar(r_min, "r_min")
    if r_min >= r_cut:
        raise ValueError(f"r_min={r_min} must be below r_cut={r_cut}")
    if closest < r_min * (1 - 1e-12):
        raise ValueError(f"r_min={r_min}: the target has pairs at r={closest:.4g} inside the model's hard core; "
                         "lower r_min to at most the closest target distance")
    return frames, box, PairModel(BSplineBasis(r_min, r_cut, n_functions, vanish_at_upper=smooth_cutoff))


def _closest_distance(frame, box, r_cut):
    distances = pair_list(frame, box, r_max=r_cut).distances
    return float(distances.min()) if distances.size else r_cut


def _check_sampled(features, model):
    """Every spline must be sampled by the target, else its coefficient is undetermined."""
    empty = np.flatnonzero(features.mean(axis=0) <= 1e-9 * max(features.mean(axis=0).max(), 1e-300))
    if empty.size:
        knots = model.basis.knots
        raise ValueError(
            f"basis functions {empty.tolist()} (support within [{knots[empty[0]]:.3g}, {knots[empty[-1] + 4]:.3g}]) "
            f"are never sampled by the target pairs; raise r_min (the target's closest pair sets the default) "
            f"or use fewer functions")


def _start(theta0, model, r_min):
    """``theta0`` as coefficients of ``model``'s basis, which must not depend on the target.

    The coefficients mean a potential only in the basis they were fitted in,
    ``BSplineBasis(r_min, r_cut, n_functions, vanish_at_upper=smooth_cutoff)``; with
    ``r_min=None`` its start comes from the target's closest pair, so ``theta0`` of the
    right length could silently stand for another potential.
    """
    theta0 = as_theta(theta0, model.n_functions, "theta0")
    if r_min is None:
        raise ValueError(f"theta0 needs an explicit r_min: its coefficients mean a potential only in the basis "
                         f"on [r_min, r_cut] they were fitted in, and r_min=None takes r_min from this target's "
                         f"closest pair ({model.r_min:.6g}); pass the r_min theta0 was fitted with "
                         f"(a fit's result.model.r_min)")
    return theta0


def _fit_on_grid(model, r, values, weights=None):
    """Least-squares θ with Σθ_i B_i(r) ≈ values (weighted)."""
    design = model.basis(r)
    w = np.ones_like(values) if weights is None else weights
    theta, *_ = np.linalg.lstsq(design * np.sqrt(w)[:, None], values * np.sqrt(w), rcond=None)
    return theta


def _target_rdf(frames, box, model, bins):
    r, g = radial_distribution(frames, box, r_max=model.r_cut, bins=bins)
    keep = r >= model.r_min
    return r[keep], g[keep]


def _boltzmann_inversion(model, r, g, beta):
    """θ of the potential of mean force :math:`-k_BT\\ln g(r)` (empty bins get the largest value)."""
    positive = g > 0
    pmf = np.where(positive, -np.log(np.where(positive, g, 1.0)) / beta, 0.0)
    pmf[~positive] = pmf[positive].max() if positive.any() else 0.0
    return _fit_on_grid(model, r, pmf)


def _result(method, model, theta, converged, n_iter, history, rem=None):
    r = np.linspace(model.r_min, model.r_cut, 400)
    return PairPotentialResult(method, model, theta, r, model.potential(r, theta), converged, n_iter, history, rem)


# --------------------------------------------------------------------------- methods

@blas_on_one_thread
def fit_pair_potential_rem(frames, box, *, r_cut, n_functions=16, r_min=None, beta=1.0, theta0=None,
                           n_model_frames=100, burn_in=100, thin=2, n_chains=1, max_iter=30, tol=1e-6,
                           regularization=0.0, smooth_cutoff=True, engine=None, seed=None):
    """Fit a pair potential by relative entropy minimization (Chaimovich & Shell 2011).

    Minimises :math:`S(\\theta) = \\beta\\langle U_\\theta\\rangle_\\mathrm{target} + \\ln Z(\\theta)`
    with gradient :math:`\\beta(\\langle\\Phi\\rangle_\\mathrm{target} - \\langle\\Phi\\rangle_\\theta)` and
    Hessian :math:`\\beta^2\\mathrm{Cov}_\\theta(\\Phi)` of the pair features
    :math:`\\Phi_i = \\sum_{I<J} B_i(r_{IJ})`; the model averages come from Metropolis MC
    with the tabulated potential, and the Newton iteration, reweighted line search,
    re-sampling, Hessian guard and noise-based stopping rule are those of
    :func:`remlib.rem.minimize_relative_entropy`.  The start is the potential of mean
    force :math:`-k_BT \\ln g(r)`.

    The stopping rule takes the noise of the model averages from batch means of the
    features within one model run, which cannot see correlations that outlast the run;
    it therefore errs towards more Newton steps, not towards stopping early.

    Parameters
    ----------
    frames : array_like, shape (n_frames, n_particles, 3)
        Mapped target configurations (sites in ``[0, L)``).
    box : array_like, shape (3,)
    r_cut : float
        Cutoff of the pair potential (at most half the box).
    n_functions : int
        Number of cubic B-splines on ``[r_min, r_cut]``.
    r_min : float, optional
        Start of the splines and hard core below; default just below (1e-9 relative) the closest target pair.
    beta : float
    theta0 : array_like, shape (n_functions,), optional
        Starting coefficients (default: Boltzmann inversion of the target g(r)), in the basis
        ``BSplineBasis(r_min, r_cut, n_functions, vanish_at_upper=smooth_cutoff)``.  Needs an
        explicit ``r_min`` (``r_min=None`` would take the basis from the target): pass the
        settings ``theta0`` was fitted with, e.g. ``theta0=fit.theta`` with the same
        ``r_cut``, ``n_functions``, ``smooth_cutoff`` and ``r_min=fit.model.r_min``.
    n_model_frames, burn_in, thin : int
        Model Monte Carlo per re-sampling: frames, burn-in sweeps and sweeps between frames.
    n_chains : int
        Independent model chains run in parallel threads (one per core), each giving
        ``ceil(n_model_frames / n_chains)`` frames after its own ``burn_in``.  Every chain
        continues from its last frame at the next re-sampling.
    max_iter : int
    tol : float
        Gradient-norm tolerance (the statistical stopping rule usually ends the fit first).
    regularization : float
        Ridge term :math:`\\tfrac{\\lambda}{2}\\|\\theta\\|^2`.  It guards the rarely sampled splines
        next to the hard core; for dense liquids (LJ at rho = 0.8) ``1e-2`` makes the
        Newton iteration converge in about 15 steps instead of creeping along them.
    smooth_cutoff : bool
        Only splines that vanish at ``r_cut`` with two derivatives
        (``BSplineBasis(..., vanish_at_upper=True)``), so u and its force go smoothly to
        zero there and an MD engine runs the same model as the Monte Carlo (default).
        ``False`` uses the full basis, whose potential may jump at ``r_cut``.
    engine : None, "montecarlo", "openmm", "lammps" or an engine object
        What samples the model (:mod:`remlib.engines`): default remlib's Monte Carlo
        with ``burn_in``, ``thin`` and ``n_chains``; an engine object brings its own
        settings (e.g. ``OpenMMEngine(thin=200)`` on a GPU, ``LammpsEngine()``).
    seed : None, int or numpy.random.Generator

    Returns
    -------
    PairPotentialResult
        ``rem`` is the :class:`~remlib.rem.REMResult` of the fit, ``history`` its history.

    Raises
    ------
    ValueError
        If the frames, box, cutoff or a count is invalid, the target has pairs inside
        the hard core below ``r_min``, or some spline sees no target pair; if ``theta0``
        has not ``n_functions`` finite entries, or is given with ``r_min=None``.
    TypeError
        If an argument has the wrong type (e.g. ``theta0`` of strings, a count not an int).

    Warns
    -----
    RuntimeWarning
        If the fit does not converge within ``max_iter`` steps.

    Examples
    --------
    >>> from remlib.fluids import lj_fluid_frames
    >>> import warnings; warnings.simplefilter("ignore")   # two iterations do not converge
    >>> target = lj_fluid_frames(108, 0.5, 2.0, n_frames=20, burn_in=100, seed=0)
    >>> fit = fit_pair_potential_rem(target.frames, target.box, r_cut=2.5, n_functions=8, beta=0.5,
    ...                              n_model_frames=20, burn_in=20, max_iter=2, seed=1)
    >>> fit.theta.shape, fit.method
    ((8,), 'rem')
    """
    frames, box, model = _setup(frames, box, r_cut, n_functions, r_min, smooth_cutoff)
    beta = as_positive_scalar(beta, "beta")
    target = model.features(frames, box)
    _check_sampled(target, model)
    if theta0 is None:
        theta0 = _boltzmann_inversion(model, *_target_rdf(frames, box, model, 4 * n_functions), beta)
    else:
        theta0 = _start(theta0, model, r_min)
    ensemble = _pair_ensemble(model, box, frames[-1], beta, n_model_frames, burn_in, thin, seed, n_chains, engine)
    rem = minimize_relative_entropy(FrameFeatures(model.basis.n_functions), ensemble, target, theta0=theta0,
                                    tol=tol, max_iter=max_iter, regularization=regularization)
    return _result("rem", model, rem.theta, rem.converged, rem.n_iter, rem.history, rem)


@blas_on_one_thread
def iterative_boltzmann_inversion(frames, box, *, r_cut, n_functions=16, r_min=None, beta=1.0, theta0=None,
                                  bins=None, n_iterations=10, n_model_frames=100, burn_in=100, thin=2, n_chains=1,
                                  tol=0.0, smooth_cutoff=True, engine=None, seed=None):
    """Iterative Boltzmann inversion (Reith, Pütz & Müller-Plathe 2003) in the spline basis.

    .. math::

        u_0 = -k_BT\\ln g_\\mathrm{target}(r),\\qquad
        u_{k+1}(r) = u_k(r) + k_BT \\ln\\frac{g_k(r)}{g_\\mathrm{target}(r)},

    each update evaluated on the g(r) bins and projected on the B-splines by least
    squares (bins where either g vanishes are skipped).  Stops after ``n_iterations`` or
    when the RMS deviation of g(r) from the target falls below ``tol``.  The model runs
    as in :func:`fit_pair_potential_rem` (``n_model_frames``, ``burn_in``, ``thin``,
    ``n_chains``, ``smooth_cutoff``, ``engine``).

    Parameters
    ----------
    frames : array_like, shape (n_frames, n_particles, 3)
        Mapped target configurations (sites in ``[0, L)``).
    box : array_like, shape (3,)
    r_cut, n_functions, r_min, beta, smooth_cutoff, engine
        As in :func:`fit_pair_potential_rem`.
    theta0 : array_like, shape (n_functions,), optional
        Coefficients of :math:`u_0` (default: the Boltzmann inversion above) in the basis IBI
        builds, ``BSplineBasis(r_min, r_cut, n_functions, vanish_at_upper=smooth_cutoff)``.
        Needs an explicit ``r_min`` (``r_min=None`` would take the basis from the target, so
        coefficients of the right length could silently mean another potential): pass the
        settings ``theta0`` was fitted with, e.g. ``theta0=fit.theta`` with the same
        ``r_cut``, ``n_functions``, ``smooth_cutoff`` and ``r_min=fit.model.r_min``.
    bins : int, optional
        Bins of g(r) on ``[r_min, r_cut]`` (default ``4 * n_functions``).
    n_iterations : int
        Largest number of updates.
    n_model_frames, burn_in, thin, n_chains : int
        Model Monte Carlo per iteration, as in :func:`fit_pair_potential_rem`.
    tol : float
        Stop when the RMS deviation of g(r) from the target is below ``tol`` (0: run all
        ``n_iterations``).
    seed : None, int or numpy.random.Generator

    Returns
    -------
    PairPotentialResult
        ``history["g_rms"]`` (n_iter,) per iteration, ``history["r"], history["g_target"],
        history["g_model"]`` (bins,) of the last model run.

    Raises
    ------
    ValueError
        If the frames, box, cutoff, ``tol`` or a count is invalid, the target has pairs
        inside the hard core below ``r_min``, or some spline sees no target pair; if
        ``theta0`` has not ``n_functions`` finite entries, or is given with ``r_min=None``.
    TypeError
        If an argument has the wrong type (e.g. ``theta0`` of strings, a count not an int).

    Examples
    --------
    >>> from remlib.fluids import lj_fluid_frames
    >>> target = lj_fluid_frames(108, 0.5, 2.0, n_frames=20, burn_in=100, seed=0)
    >>> ibi = iterative_boltzmann_inversion(target.frames, target.box, r_cut=2.5, n_functions=8, beta=0.5,
    ...                                     n_iterations=2, n_model_frames=20, burn_in=20, seed=1)
    >>> len(ibi.history["g_rms"])
    2
    >>> more = iterative_boltzmann_inversion(target.frames, target.box, r_cut=2.5, n_functions=8, beta=0.5,
    ...                                      r_min=ibi.model.r_min, theta0=ibi.theta, n_iterations=1,
    ...                                      n_model_frames=20, burn_in=20, seed=2)   # continues from ibi
    >>> len(more.history["g_rms"])
    1
    """
    frames, box, model = _setup(frames, box, r_cut, n_functions, r_min, smooth_cutoff)
    beta = as_positive_scalar(beta, "beta")
    tol = as_positive_scalar(tol, "tol", allow_zero=True)
    n_iterations = as_positive_int(n_iterations, "n_iterations")
    _check_sampled(model.features(frames, box), model)
    bins = 4 * n_functions if bins is None else as_count(bins, "bins", 8 * len(frames))
    r, g_target = _target_rdf(frames, box, model, bins)
    if theta0 is None:
        theta = _boltzmann_inversion(model, r, g_target, beta)
    else:
        theta = _start(theta0, model, r_min)
    ensemble = _pair_ensemble(model, box, frames[-1], beta, n_model_frames, burn_in, thin, seed, n_chains, engine)
    g_rms = []
    converged = False
    for iteration in range(n_iterations):
        g_model = _target_rdf(ensemble.sample(theta), box, model, bins)[1]
        g_rms.append(float(np.sqrt(np.mean((g_model - g_target) ** 2))))
        if g_rms[-1] <= tol:
            converged = True
            break
        both = (g_model > 0) & (g_target > 0)
        u = model.basis(r) @ theta
        update = np.where(both, np.log(np.where(both, g_model, 1.0) / np.where(both, g_target, 1.0)) / beta, 0.0)
        theta = _fit_on_grid(model, r, u + update, weights=both.astype(float) + 1e-6)
    history = {"g_rms": np.array(g_rms), "r": r, "g_target": g_target, "g_model": g_model}
    return _result("ibi", model, theta, converged or tol == 0.0, len(g_rms), history)


def _force_design(frame, box, model, molecule=None, exclude=None):
    """(n_particles * 3, n_functions) matrix A with forces = A θ for one frame."""
    pairs = pair_list(frame, box, r_max=model.r_cut, molecule=molecule, exclude=exclude)
    i, j, delta = pairs.i, pairs.j, pairs.delta
    r = np.sqrt((delta**2).sum(axis=1))
    if np.any(r < model.r_min):
        raise ValueError(f"a pair at r={r.min():.4g} lies inside the hard core r_min={model.r_min}")
    # force on i from j: -u'(r) (x_i - x_j)/r = u'(r) delta / r
    contribution = model.basis.derivative(r)[:, None, :] * (delta / r[:, None])[:, :, None]
    design = np.zeros((frame.shape[0], 3, model.basis.n_functions))
    np.add.at(design, i, contribution)
    np.add.at(design, j, -contribution)
    return design.reshape(-1, model.basis.n_functions)


def pair_forces(frames, box, model, theta):
    """Forces :math:`\\mathbf{F}_I = -\\nabla_I \\sum_{J<K} u(r_{JK})` of a spline pair potential.

    Parameters
    ----------
    frames : array_like, shape (n_frames, n_particles, 3) or (n_particles, 3)
        Positions in ``[0, L)``.
    box : array_like, shape (3,)
    model : PairModel
        The spline basis of :math:`u(r) = \\sum_i \\theta_i B_i(r)`.
    theta : array_like, shape (n_functions,)

    Returns
    -------
    ndarray, shape (n_frames, n_particles, 3)

    Raises
    ------
    ValueError
        If the box or the positions are invalid, or the model's cutoff exceeds half the box.

    Examples
    --------
    Two particles 1.2 apart in a linear potential u = 1 - r/2.5 (slope -0.4) repel with force 0.4:

    >>> model = PairModel(BSplineBasis(0.9, 2.5, 5))
    >>> theta = 1 - model.basis.knots[2:7] / 2.5 + 0.0 * np.arange(5)  # linear functions are reproduced
    >>> forces = pair_forces([[1.0, 1.0, 1.0], [2.2, 1.0, 1.0]], [6.0] * 3, model, theta)
    >>> forces[0].round(6).tolist()
    [[-0.4, 0.0, 0.0], [0.4, 0.0, 0.0]]
    """
    box = check_box(box)
    frames = check_positions(frames, box, "frames")
    check_instance(model, PairModel, "model", "a remlib.PairModel")
    theta = as_theta(theta, model.n_functions)
    return np.stack([(_force_design(f, box, model) @ theta).reshape(-1, 3) for f in frames])


def pair_force_matching(frames, forces, box, *, r_cut, n_functions=16, r_min=None, smooth_cutoff=True):
    """Pair force matching (multiscale coarse-graining, Izvekov & Voth 2005) in the spline basis.

    Minimises :math:`\\chi^2(\\theta) = \\langle \\sum_I |\\mathbf{F}_I - \\mathbf{F}_I(R;\\theta)|^2\\rangle`,
    linear least squares because :math:`\\mathbf{F}_I(R;\\theta) = \\sum_i \\theta_i
    \\sum_J -B_i'(r_{IJ})\\,\\hat{\\mathbf{r}}_{JI}`.  The potential is fixed by its forces
    up to a constant; splines vanish beyond ``r_cut`` so the constant is set there.

    Parameters
    ----------
    frames : array_like, shape (n_frames, n_particles, 3)
    forces : array_like, shape (n_frames, n_particles, 3)
        Mapped reference forces on the sites.
    box, r_cut, n_functions, r_min, smooth_cutoff
        As in :func:`fit_pair_potential_rem`.

    Returns
    -------
    PairPotentialResult
        ``history["residual"]``: mean squared force residual per component.

    Raises
    ------
    ValueError
        If frames and forces differ in shape, or the box, cutoff or ``n_functions`` is
        invalid.

    Examples
    --------
    Forces generated by a spline potential are matched exactly:

    >>> from remlib.fluids import lj_fluid_frames
    >>> target = lj_fluid_frames(108, 0.5, 2.0, n_frames=3, burn_in=50, seed=0)
    >>> model = PairModel(BSplineBasis(0.8, 2.5, 8, vanish_at_upper=True))
    >>> theta = np.array([5.0, 1.0, -1.0, -0.5, -0.2, -0.1, -0.05, 0.02])
    >>> forces = pair_forces(target.frames, target.box, model, theta)
    >>> fm = pair_force_matching(target.frames, forces, target.box, r_cut=2.5, n_functions=8, r_min=0.8)
    >>> np.round(fm.theta, 6).tolist() == theta.tolist()
    True
    """
    frames, box, model = _setup(frames, box, r_cut, n_functions, r_min, smooth_cutoff)
    forces = as_float_array(forces, "forces", ndim=3)
    if forces.shape != frames.shape:
        raise ValueError(f"forces must have the shape of frames {frames.shape}, got {forces.shape}")
    m = model.basis.n_functions
    normal = np.zeros((m, m))
    rhs = np.zeros(m)
    for frame, force in zip(frames, forces):
        design = _force_design(frame, box, model)
        normal += design.T @ design
        rhs += design.T @ force.reshape(-1)
    # forces cannot see a constant: sum_i B_i = 1 on [r_min, r_cut] makes (1, ..., 1) a null direction
    eigenvalues = np.linalg.eigvalsh(normal)
    if eigenvalues[1] <= 1e-12 * eigenvalues[-1]:
        warnings.warn("force matching normal equations are (nearly) singular: some splines are barely sampled; "
                      "the minimum-norm solution is returned", RuntimeWarning, stacklevel=2)
    theta = np.linalg.lstsq(normal, rhs, rcond=1e-13)[0]
    theta -= model.basis([model.r_cut])[0] @ theta  # u(r_cut) = 0
    residual = (np.sum(forces**2) - 2 * rhs @ theta + theta @ normal @ theta) / forces.size
    return _result("force matching", model, theta, True, 1, {"residual": float(residual)})
