r"""Model ensembles: how the averages :math:`\langle\phi\rangle_\theta` and :math:`\mathrm{Cov}_\theta(\phi)` are obtained.

REM needs averages of the basis functions over the CG model's Boltzmann distribution

.. math:: p_\theta(R) = \frac{e^{-\beta U(R;\theta)}}{Z(\theta)}, \qquad
          Z(\theta) = \int e^{-\beta U(R;\theta)}\, dR .

:class:`GridEnsemble` computes them exactly by quadrature over grid points (and gives
:math:`\ln Z`, hence exact relative entropies); :class:`MetropolisEnsemble` estimates
them from a Metropolis Monte Carlo chain run by a numba kernel.  Both return an
:class:`EnsembleAverages` from ``averages(basis, theta)``: the :class:`Ensemble`
protocol, which the particle ensembles of :mod:`remlib.pairrem` follow as well.
"""
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from remlib._numba import njit
from remlib._stats import effective_sample_size, logsumexp, weighted_moments
from remlib._validation import (
    as_count,
    as_float_array,
    as_generator,
    as_positive_int,
    as_positive_scalar,
    as_theta,
    as_weights,
    check_basis,
    kernel_seed,
)
from remlib.basis import _block_energy, _energy

__all__ = ["Ensemble", "EnsembleAverages", "GridEnsemble", "MetropolisEnsemble", "effective_sample_size"]


@dataclass
class EnsembleAverages:
    r"""Averages of the basis functions over a model ensemble.

    Attributes
    ----------
    mean : ndarray, shape (m,)
        :math:`\langle\phi_i\rangle_\theta`.
    cov : ndarray, shape (m, m)
        :math:`\mathrm{Cov}_\theta(\phi_i, \phi_j)`.
    samples : ndarray or None
        The configurations averaged over (sampling ensembles), ``(n,)`` or ``(n, dim)``.
    n_effective : float
        Effective number of independent samples (``inf`` for exact quadrature).
    log_partition : float or None
        :math:`\ln Z(\theta)` when the ensemble knows it (grids).

    Examples
    --------
    >>> from remlib.basis import PolynomialBasis
    >>> avg = GridEnsemble(np.linspace(-10, 10, 2001)).averages(PolynomialBasis([2]), [0.5])
    >>> avg.mean.shape, avg.cov.shape, avg.n_effective
    ((1,), (1, 1), inf)
    """

    mean: np.ndarray
    cov: np.ndarray
    samples: np.ndarray | None = None
    n_effective: float = np.inf
    log_partition: float | None = None


@runtime_checkable
class Ensemble(Protocol):
    r"""The written protocol every ensemble (engine) follows.

    :func:`~remlib.rem.minimize_relative_entropy` needs nothing else from a model
    ensemble: :class:`GridEnsemble` and :class:`MetropolisEnsemble` follow it, and so do
    the particle ensembles that :func:`~remlib.pairrem.fit_pair_potential_rem` and
    :func:`~remlib.polymers.fit_bonded_rem` build, and any ensemble a user writes.

    Attributes
    ----------
    beta : float
        Inverse temperature :math:`\beta = 1/k_BT` of the model
        :math:`p_\theta \propto e^{-\beta U(R;\theta)}`.
    dim : int
        Number of CG coordinates per configuration; a basis used with the ensemble
        must act on ``dim`` coordinates (``basis.dim == dim``).
    support : (ndarray, ndarray)
        ``(low, high)``, each of shape ``(dim,)``: the region the model lives in
        (infinite bounds for an unconfined model).

    Methods
    -------
    averages(basis, theta)
        An :class:`EnsembleAverages`: :math:`\langle\phi\rangle_\theta` (m,),
        :math:`\mathrm{Cov}_\theta(\phi)` (m, m) and, for sampling ensembles, the
        configurations averaged over (``samples``) with their effective number
        (``n_effective``); for exact ensembles :math:`\ln Z(\theta)`
        (``log_partition``).  A sampling ensemble draws fresh samples at each call.

    Examples
    --------
    >>> isinstance(GridEnsemble(np.linspace(-5, 5, 101)), Ensemble)
    True
    """

    beta: float
    dim: int

    @property
    def support(self) -> tuple[np.ndarray, np.ndarray]:
        ...

    def averages(self, basis, theta) -> EnsembleAverages:
        ...


class GridEnsemble:
    r"""Exact model averages by quadrature over grid points.

    With points :math:`R_k` and quadrature weights :math:`w_k`,

    .. math::
        \ln Z(\theta) = \ln \sum_k w_k e^{-\beta U(R_k;\theta)}, \qquad
        P_k = \frac{w_k e^{-\beta U(R_k;\theta)}}{Z(\theta)}, \qquad
        \langle\phi\rangle_\theta = \sum_k P_k \phi(R_k),

    evaluated stably with ``logsumexp``.  A bounded grid is a model confined to the
    grid's range (hard walls), so every :math:`\theta` gives a normalisable model.

    Parameters
    ----------
    grid : array_like, shape (n,) or (n, dim)
        Grid points.  A 1-D grid must be strictly increasing (``n >= 2``).
    beta : float
        Inverse temperature :math:`\beta = 1/k_BT`.
    weights : array_like, shape (n,), optional
        Quadrature weights (times any Jacobian, e.g. :math:`4\pi r^2 \Delta r`).  Default
        for a 1-D grid: the width of each point's cell (points are cell centres; cells end
        half-way to the neighbours, the end cells are symmetric), i.e. :math:`\Delta x`
        for every point of a uniform grid, so target ``weights`` proportional to
        :math:`e^{-\beta U(x_k)}` on the same grid describe exactly the model with
        potential :math:`U`.  Default for ``(n, dim)`` points: ones (then :math:`\ln Z`
        is known only up to the log of the cell volume).

    Examples
    --------
    A harmonic well :math:`U = x^2/2` has :math:`Z = \sqrt{2\pi}` and :math:`\langle x^2\rangle = 1`:

    >>> import numpy as np
    >>> from remlib.basis import PolynomialBasis
    >>> ens = GridEnsemble(np.linspace(-10, 10, 2001))
    >>> avg = ens.averages(PolynomialBasis([2]), [0.5])
    >>> round(float(avg.mean[0]), 6), round(float(ens.log_partition(PolynomialBasis([2]), [0.5])), 6)
    (1.0, 0.918939)
    """

    def __init__(self, grid, *, beta=1.0, weights=None):
        points = as_float_array(grid, "grid", ndim=(1, 2))
        if points.ndim == 2 and points.shape[1] == 1:
            points = points[:, 0]
        self.points = points
        self.dim = 1 if points.ndim == 1 else points.shape[1]
        self.beta = as_positive_scalar(beta, "beta")
        self._cells = weights is None
        if weights is not None:
            self.weights = as_weights(weights, points.shape[0])
        elif self.dim == 1:
            if points.size < 2 or np.any(np.diff(points) <= 0):
                raise ValueError("grid must be strictly increasing with at least 2 points (or pass weights)")
            gaps = np.diff(points)
            self.weights = 0.5 * (np.concatenate([gaps, gaps[-1:]]) + np.concatenate([gaps[:1], gaps]))
        else:
            self.weights = np.ones(points.shape[0])
        self._log_weights = np.log(self.weights)

    @property
    def support(self):
        """``(low, high)`` arrays of shape ``(dim,)``: the region the model lives in.

        For a 1-D grid with default weights, the outer edges of the end cells; otherwise the
        range of the points in each coordinate.
        """
        points = self.points.reshape(self.points.shape[0], -1)
        low, high = points.min(axis=0), points.max(axis=0)
        if self.dim == 1 and self._cells:
            low, high = low - 0.5 * self.weights[0], high + 0.5 * self.weights[-1]
        return low, high

    def __repr__(self):
        return f"GridEnsemble(n_points={self.points.shape[0]}, dim={self.dim}, beta={self.beta})"

    def design(self, basis):
        """The design matrix of ``basis`` on the grid, checked to be finite."""
        check_basis(basis, self.dim)
        phi = basis(self.points)
        bad = ~np.all(np.isfinite(phi), axis=1)
        if np.any(bad):
            raise ValueError(f"basis values are not finite at grid point(s) {self.points[bad][:3].tolist()}")
        return phi

    def log_partition_from_design(self, design, theta):
        r""":math:`\ln Z(\theta) = \ln \sum_k w_k e^{-\beta\,\phi(R_k)\cdot\theta}` from a design matrix.

        Parameters
        ----------
        design : ndarray, shape (n_points, m)
            :math:`\phi(R_k)` from :meth:`design`.
        theta : ndarray, shape (m,)

        Returns
        -------
        float
            ``inf`` when :math:`Z` overflows (no check: a line search may try such
            :math:`\theta`).

        Examples
        --------
        >>> from remlib.basis import PolynomialBasis
        >>> ens = GridEnsemble(np.linspace(-10, 10, 2001))
        >>> round(ens.log_partition_from_design(ens.design(PolynomialBasis([2])), np.array([0.5])), 6)
        0.918939
        """
        design, theta = self._check_design(design, theta)
        return logsumexp(self._log_weights - self.beta * (design @ theta))

    def _check_design(self, design, theta):
        """``design`` (n_points, m) finite and ``theta`` (m,) finite, else a clear error naming them."""
        design = as_float_array(design, "design", ndim=2)
        if design.shape[0] != self.points.shape[0]:
            raise ValueError(f"design must have one row per grid point ({self.points.shape[0]}), got shape "
                             f"{design.shape}")
        return design, as_theta(theta, design.shape[1])

    def _log_probabilities(self, phi, theta):
        """Normalised log-probabilities of the grid points and ln Z, from a design matrix."""
        log_w = self._log_weights - self.beta * (phi @ theta)
        log_z = logsumexp(log_w)
        if not np.isfinite(log_z):
            raise ValueError("the model's partition function is not finite on the grid (theta too large?)")
        return log_w - log_z, float(log_z)

    def averages_from_design(self, design, theta):
        r"""Exact averages from a design matrix: :meth:`averages` without rebuilding :math:`\phi(R_k)`.

        Parameters
        ----------
        design, theta
            As in :meth:`log_partition_from_design`.

        Returns
        -------
        EnsembleAverages
            ``mean`` (m,), ``cov`` (m, m) and ``log_partition``.

        Raises
        ------
        ValueError
            If :math:`Z(\theta)` is not finite on the grid.

        Examples
        --------
        >>> from remlib.basis import PolynomialBasis
        >>> ens = GridEnsemble(np.linspace(-10, 10, 2001))
        >>> round(float(ens.averages_from_design(ens.design(PolynomialBasis([2])), np.array([0.5])).mean[0]), 6)
        1.0
        """
        design, theta = self._check_design(design, theta)
        log_p, log_z = self._log_probabilities(design, theta)
        mean, cov = weighted_moments(design, np.exp(log_p))
        return EnsembleAverages(mean=mean, cov=cov, log_partition=log_z)

    def averages(self, basis, theta):
        r"""Exact :math:`\langle\phi\rangle_\theta`, :math:`\mathrm{Cov}_\theta(\phi)` and :math:`\ln Z`."""
        return self.averages_from_design(self.design(basis), as_theta(theta, basis.n_functions))

    def probabilities(self, basis, theta):
        """Probabilities :math:`P_k` of the grid points (quadrature weight included; they sum to 1)."""
        return np.exp(self._log_probabilities(self.design(basis), as_theta(theta, basis.n_functions))[0])

    def density(self, basis, theta):
        r"""The normalised density :math:`p_\theta(R_k) = e^{-\beta U(R_k;\theta)}/Z(\theta)` at the points."""
        phi = self.design(basis)
        theta = as_theta(theta, basis.n_functions)
        return np.exp(-self.beta * (phi @ theta) - self._log_probabilities(phi, theta)[1])

    def log_partition(self, basis, theta):
        r""":math:`\ln Z(\theta) = \ln \sum_k w_k e^{-\beta U(R_k;\theta)}`."""
        return self._log_probabilities(self.design(basis), as_theta(theta, basis.n_functions))[1]


# ----------------------------------------------------------------------------
# Metropolis Monte Carlo
# ----------------------------------------------------------------------------
_OK, _BAD_START, _BAD_ENERGY = 0, 1, 2


@njit
def _metropolis_step(x, trial, energy, step, low, high, beta, kinds, axes, pstart, params, tstart, theta):
    """One Metropolis proposal from ``x`` (updated in place).

    Returns ``(energy, accepted, status)``; status 2 = NaN or :math:`-\\infty` energy at ``trial``.
    """
    inside = True
    for d in range(x.size):
        trial[d] = x[d] + step[d] * (2.0 * np.random.random() - 1.0)
        if trial[d] < low[d] or trial[d] > high[d]:
            inside = False
    if not inside:
        return energy, False, _OK
    new = _energy(trial, kinds, axes, pstart, params, tstart, theta)
    if np.isnan(new) or new == -np.inf:
        return energy, False, _BAD_ENERGY
    delta = beta * (new - energy)
    if delta <= 0.0 or np.random.random() < np.exp(-delta):
        x[:] = trial
        return new, True, _OK
    return energy, False, _OK


@njit
def _metropolis_kernel(x0, step, low, high, n_samples, burn_in, thin, beta, spec, theta, seed):
    """Metropolis chain for :math:`U(x;\\theta)` given by a basis spec (:class:`remlib.basis._Spec`).

    Uniform proposals :math:`x' = x + \\Delta (2\\xi - 1)` (all coordinates at once),
    moves outside ``[low, high]`` and to :math:`U = +\\infty` rejected.  Returns
    ``(samples (n_samples, dim), n_accepted (production only), status, x_status)``;
    status 1 = initial energy not finite, 2 = NaN or :math:`-\\infty` energy at ``x_status``.
    """
    np.random.seed(seed)
    kinds, axes, pstart, params, tstart = spec  # once per chain, not per step
    samples = np.empty((n_samples, x0.size))
    x = x0.copy()
    trial = x0.copy()
    energy = _energy(x, kinds, axes, pstart, params, tstart, theta)
    if not np.isfinite(energy):
        return samples, 0, _BAD_START, x
    for _ in range(burn_in):
        energy, moved, status = _metropolis_step(x, trial, energy, step, low, high, beta,
                                                 kinds, axes, pstart, params, tstart, theta)
        if status != _OK:
            return samples, 0, status, trial
    accepted = 0
    for k in range(n_samples):
        for _ in range(thin):
            energy, moved, status = _metropolis_step(x, trial, energy, step, low, high, beta,
                                                     kinds, axes, pstart, params, tstart, theta)
            if status != _OK:
                return samples, accepted, status, trial
            accepted += moved
        samples[k] = x
    return samples, accepted, _OK, x


@njit
def _metropolis_kernel_1d(x0, step, low, high, n_samples, burn_in, thin, beta, kind, params, theta, seed):
    """Scalar version of :func:`_metropolis_kernel` for one coordinate and one basis block (faster)."""
    np.random.seed(seed)
    samples = np.empty((n_samples, 1))
    x = x0
    energy = _block_energy(x, kind, params, theta)
    if not np.isfinite(energy):
        return samples, 0, _BAD_START, x
    accepted = 0
    stored = 0
    countdown = burn_in + thin
    while stored < n_samples:
        trial = x + step * (2.0 * np.random.random() - 1.0)
        if low <= trial <= high:
            new = _block_energy(trial, kind, params, theta)
            if np.isnan(new) or new == -np.inf:
                return samples, accepted, _BAD_ENERGY, trial
            delta = beta * (new - energy)
            if delta <= 0.0 or np.random.random() < np.exp(-delta):
                x = trial
                energy = new
                if countdown <= thin:
                    accepted += 1
        countdown -= 1
        if countdown == 0:
            samples[stored, 0] = x
            stored += 1
            countdown = thin
    return samples, accepted, _OK, x


def _metropolis_reference(x0, step, low, high, n_samples, burn_in, thin, beta, energy, rng):
    """Plain Python/numpy Metropolis chain, one proposal per loop iteration.

    The readable reference of :func:`_metropolis_kernel` (same algorithm, its own
    random numbers) and the sampler for bases without a compiled spec.  ``energy``
    maps one configuration ``(dim,)`` to a float.
    """
    x = np.array(x0, dtype=float)
    current = energy(x)
    if not np.isfinite(current):
        return None, 0, _BAD_START, x
    samples = np.empty((n_samples, x.size))
    accepted = 0
    for i in range(burn_in + n_samples * thin):
        trial = x + step * (2.0 * rng.random(x.size) - 1.0)
        if np.all((trial >= low) & (trial <= high)):
            new = energy(trial)
            if np.isnan(new) or new == -np.inf:
                return samples, accepted, _BAD_ENERGY, trial
            delta = beta * (new - current)
            if delta <= 0.0 or rng.random() < np.exp(-delta):
                x, current = trial, new
                accepted += i >= burn_in
        if i >= burn_in and (i - burn_in) % thin == thin - 1:
            samples[(i - burn_in) // thin] = x
    return samples, accepted, _OK, x


class MetropolisEnsemble:
    r"""Model averages from a Metropolis Monte Carlo chain (numba kernel).

    Each call to :meth:`sample` (or :meth:`averages`) runs a fresh chain from ``x0``:
    ``burn_in`` proposals are discarded, then every ``thin``-th state is kept until
    ``n_samples`` are stored.  Proposals move all coordinates by independent uniform
    steps in :math:`[-\Delta, \Delta]` and are accepted with probability
    :math:`\min(1, e^{-\beta[U(x') - U(x)]})`.  Successive calls draw fresh random
    numbers from the ensemble's generator, so an ensemble built with the same ``seed``
    reproduces the same sequence of chains.

    Built-in bases run in a compiled kernel; a user-defined :class:`~remlib.basis.Basis`
    without a compiled spec runs in a pure-Python loop (correct but ~100x slower).

    Parameters
    ----------
    x0 : float or array_like, shape (dim,)
        Starting configuration (1-D models: a number).
    step_size : float or array_like, shape (dim,)
        Maximum displacement :math:`\Delta` per coordinate.
    n_samples : int
        Number of stored samples per chain.
    beta : float
        Inverse temperature.
    burn_in : int
        Proposals discarded before storing samples.
    thin : int
        Store every ``thin``-th state.
    bounds : (low, high), optional
        Hard walls: proposals outside ``[low, high]`` (per coordinate) are rejected, so a
        model that is not normalisable on the whole line is still well defined.
    seed : None, int or numpy.random.Generator
        Random seed.

    Attributes
    ----------
    acceptance_rate : float or None
        Fraction of accepted proposals after burn-in in the last chain.

    Examples
    --------
    >>> from remlib.basis import PolynomialBasis
    >>> ens = MetropolisEnsemble(0.0, 2.0, 20000, seed=1)
    >>> avg = ens.averages(PolynomialBasis([2]), [0.5])      # U = x^2/2: <x^2> = 1
    >>> bool(abs(avg.mean[0] - 1.0) < 0.1), bool(0.3 < ens.acceptance_rate < 0.8)
    (True, True)
    """

    def __init__(self, x0, step_size, n_samples, *, beta=1.0, burn_in=1000, thin=1, bounds=None, seed=None):
        self.x0 = as_float_array(x0, "x0", ndim=(0, 1)).reshape(-1)
        self.dim = self.x0.size
        step = as_float_array(step_size, "step_size", ndim=(0, 1)).reshape(-1)
        if step.size not in (1, self.dim):
            raise ValueError(f"step_size must be a number or have {self.dim} entries, got {step.size}")
        if np.any(step <= 0):
            raise ValueError("step_size must be > 0")
        self.step_size = np.broadcast_to(step, (self.dim,)).copy()
        self.n_samples = as_count(n_samples, "n_samples", 2 * 8 * self.dim)  # samples and their energies
        self.beta = as_positive_scalar(beta, "beta")
        self.burn_in = as_positive_int(burn_in, "burn_in", minimum=0)
        self.thin = as_positive_int(thin, "thin")
        self.low, self.high = self._check_bounds(bounds)
        self._rng = as_generator(seed)
        self.acceptance_rate = None

    def _check_bounds(self, bounds):
        if bounds is None:
            return np.full(self.dim, -np.inf), np.full(self.dim, np.inf)
        if not isinstance(bounds, (tuple, list, np.ndarray)) or len(bounds) != 2:
            raise TypeError(f"bounds must be None or a pair (low, high), got {type(bounds).__name__}")
        low, high = (np.broadcast_to(as_float_array(b, "bounds", ndim=(0, 1), finite=False), (self.dim,)).copy()
                     for b in bounds)
        if np.any(np.isnan(low)) or np.any(np.isnan(high)) or np.any(low >= high):
            raise ValueError(f"bounds must satisfy low < high, got {bounds}")
        if np.any(self.x0 < low) or np.any(self.x0 > high):
            raise ValueError(f"x0={self.x0.tolist()} lies outside bounds {bounds}")
        return low, high

    @property
    def support(self):
        """``(low, high)`` arrays of shape ``(dim,)``: the hard walls (infinite without ``bounds``)."""
        return self.low, self.high

    def __repr__(self):
        return (f"MetropolisEnsemble(dim={self.dim}, n_samples={self.n_samples}, beta={self.beta}, "
                f"burn_in={self.burn_in}, thin={self.thin})")

    def sample(self, basis, theta):
        """Run one chain for :math:`U(x;\\theta)`: samples ``(n_samples,)`` (1-D) or ``(n_samples, dim)``."""
        check_basis(basis, self.dim)
        theta = as_theta(theta, basis.n_functions)
        args = (self.x0, self.step_size, self.low, self.high, self.n_samples, self.burn_in, self.thin, self.beta)
        spec = basis._spec()
        if spec is not None and self.dim == 1:
            samples, accepted, status, where = _metropolis_kernel_1d(
                self.x0[0], self.step_size[0], self.low[0], self.high[0], *args[4:],
                int(spec.kinds[0]), spec.params, theta, kernel_seed(self._rng))
        elif spec is not None:
            samples, accepted, status, where = _metropolis_kernel(*args, spec, theta, kernel_seed(self._rng))
        else:
            def energy(x):
                return float(basis.energy(x if basis.dim > 1 else x[0], theta)[0])

            samples, accepted, status, where = _metropolis_reference(*args, energy, self._rng)
        if status == _BAD_START:
            raise ValueError(f"the energy at x0={self.x0.tolist()} is not finite for theta={theta.tolist()}")
        if status == _BAD_ENERGY:
            raise ValueError(f"non-finite energy (NaN or -inf) met during sampling at x={np.ravel(where).tolist()} "
                             f"for theta={theta.tolist()}; the model may not be bounded below")
        self.acceptance_rate = accepted / (self.n_samples * self.thin)
        return samples[:, 0] if self.dim == 1 else samples

    def averages(self, basis, theta):
        r"""Sample estimates of :math:`\langle\phi\rangle_\theta` and :math:`\mathrm{Cov}_\theta(\phi)`, with the samples."""
        samples = self.sample(basis, theta)
        phi = basis(samples)
        mean, cov = weighted_moments(phi, np.full(phi.shape[0], 1.0 / phi.shape[0]))
        return EnsembleAverages(mean=mean, cov=cov, samples=samples, n_effective=effective_sample_size(phi))
