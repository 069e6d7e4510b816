r"""Relative entropy (Kullback–Leibler divergence) and log-likelihood.

The relative entropy of a model distribution :math:`Q` with respect to a
reference distribution :math:`P` is

.. math::

    D_{\mathrm{KL}}(P \,\|\, Q) = \sum_x P(x) \ln \frac{P(x)}{Q(x)} \;\ge 0,

with :math:`0 \ln 0 = 0` and :math:`D = \infty` when :math:`Q(x) = 0 < P(x)`
(the "safety net": a model that forbids a state that happens is infinitely
wrong).  This module evaluates it for discrete distributions, for densities
tabulated on a grid (directly or from energies, in log space), for Gaussians in
closed form, and from all-atom samples through the coarse-graining formula

.. math::

    S_{\mathrm{rel}} = \beta \langle U_{\mathrm{CG}}(M(\mathbf r))
        - U_{\mathrm{AA}}(\mathbf r) \rangle_{\mathrm{AA}}
        - \beta (A_{\mathrm{CG}} - A_{\mathrm{AA}})
        + \langle S_{\mathrm{map}} \rangle_{\mathrm{AA}} .

All values are in nats.
"""
from dataclasses import dataclass

import numpy as np
from scipy.special import kl_div

from remlib._stats import logsumexp, trapezoid_weights
from remlib._validation import (
    as_distribution,
    as_float_array,
    as_positive_scalar,
    check_basis,
    outside_support,
)

__all__ = [
    "kl_divergence",
    "kl_gaussian",
    "kl_divergence_grid",
    "kl_from_energies",
    "trapezoid_weights",
    "relative_entropy_from_samples",
    "log_likelihood",
    "log_likelihood_from_energies",
    "SampleEstimate",
]

@dataclass(frozen=True)
class SampleEstimate:
    """A Monte Carlo estimate with its standard error (:func:`relative_entropy_from_samples`).

    Attributes
    ----------
    value : float
        The estimate.
    stderr : float
        Its standard error (standard deviation of the estimate over repeated samplings).

    Examples
    --------
    >>> est = SampleEstimate(0.52, 0.01)
    >>> abs(est.value - 0.5) < 3 * est.stderr
    True
    """

    value: float
    stderr: float


def _check_same_shape(a, b, name_a, name_b):
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")


def kl_divergence(p, q):
    r"""Discrete relative entropy :math:`D_{\mathrm{KL}}(p \| q)` in nats.

    .. math::

        D_{\mathrm{KL}}(p \,\|\, q) = \sum_i p_i \ln \frac{p_i}{q_i},

    after normalising ``p`` and ``q`` to sum to one.  Terms with
    :math:`p_i = 0` contribute zero; the result is ``inf`` if some
    :math:`q_i = 0 < p_i`.  The sum is evaluated as
    :math:`\sum_i (p_i \ln(p_i/q_i) - p_i + q_i)`, whose terms are each
    non-negative, so rounding never produces a negative divergence.

    Parameters
    ----------
    p, q : array_like
        Non-negative weights of the same shape (any number of dimensions).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``p`` or ``q`` is empty, holds NaN, inf or negative entries, sums to zero, or
        the two differ in shape.

    Examples
    --------
    >>> from remlib.divergence import kl_divergence
    >>> round(kl_divergence([0.5, 0.5], [0.9, 0.1]), 4)
    0.5108
    >>> kl_divergence([1, 1], [1, 0])
    inf
    """
    p = as_distribution(p, "p")
    q = as_distribution(q, "q")
    _check_same_shape(p, q, "p", "q")
    return float(np.sum(kl_div(p, q)))


def _as_covariance(cov, dim, name):
    cov = as_float_array(cov, name, ndim=(0, 2))
    if dim == 0:
        if cov.ndim != 0:
            raise ValueError(f"{name} must be a scalar variance when the mean is a scalar, got shape {cov.shape}")
        if cov <= 0:
            raise ValueError(f"{name} must be a positive variance, got {float(cov)}")
        return cov.reshape(1, 1)
    if cov.shape != (dim, dim):
        raise ValueError(f"{name} must have shape ({dim}, {dim}) to match the mean, got {cov.shape}")
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12 * np.abs(cov).max()):
        raise ValueError(f"{name} must be symmetric")
    try:
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError as exc:
        raise ValueError(f"{name} must be positive definite") from exc
    return cov


def kl_gaussian(mean0, cov0, mean1, cov1):
    r"""Closed-form :math:`D_{\mathrm{KL}}(\mathcal N_0 \,\|\, \mathcal N_1)` of two Gaussians.

    .. math::

        D = \tfrac12 \Big[\operatorname{tr}(\Sigma_1^{-1}\Sigma_0)
            + (\mu_1 - \mu_0)^\top \Sigma_1^{-1} (\mu_1 - \mu_0) - d
            + \ln \frac{\det \Sigma_1}{\det \Sigma_0}\Big].

    Parameters
    ----------
    mean0, mean1 : float or array_like, shape (d,)
        Means.  Scalars for one dimension.
    cov0, cov1 : float or array_like, shape (d, d)
        Variances (when the means are scalars) or symmetric positive-definite
        covariance matrices.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If a mean or covariance has the wrong shape or non-finite entries, or a covariance
        is not symmetric positive definite.

    Examples
    --------
    >>> from remlib.divergence import kl_gaussian
    >>> round(kl_gaussian(0.0, 1.0, 1.0, 2.0), 4)
    0.3466
    >>> round(kl_gaussian([0, 0], [[1, 0], [0, 1]], [0, 0], [[2, 0], [0, 2]]), 4)
    0.1931
    """
    mean0 = as_float_array(mean0, "mean0", ndim=(0, 1))
    mean1 = as_float_array(mean1, "mean1", ndim=(0, 1))
    _check_same_shape(mean0, mean1, "mean0", "mean1")
    dim = mean0.size if mean0.ndim else 0
    cov0 = _as_covariance(cov0, dim, "cov0")
    cov1 = _as_covariance(cov1, dim, "cov1")
    chol1 = np.linalg.cholesky(cov1)
    chol0 = np.linalg.cholesky(cov0)
    # Σ1^{-1} Σ0 trace and Mahalanobis term through triangular solves
    a = np.linalg.solve(chol1, chol0)
    diff = np.linalg.solve(chol1, np.atleast_1d(mean1 - mean0))
    logdet = 2.0 * (np.log(np.diag(chol1)).sum() - np.log(np.diag(chol0)).sum())
    d = cov0.shape[0]
    value = 0.5 * (np.sum(a * a) + diff @ diff - d + logdet)
    return float(max(value, 0.0))


def _grid_weights(x, shape):
    """Product trapezoid weights for a grid of ``shape`` given one axis array per dimension."""
    # a list/tuple whose items are themselves 1-D arrays is one grid per axis;
    # anything else (an array, or a plain list of numbers) is the grid of 1-D values
    per_axis = isinstance(x, (list, tuple)) and len(x) > 0 and all(np.ndim(axis) == 1 for axis in x)
    axes = list(x) if per_axis else [x]
    if len(axes) != len(shape):
        raise ValueError(f"x must give one grid per dimension of the tabulated values ({len(shape)}), got {len(axes)}")
    w = np.ones(shape)
    for k, axis in enumerate(axes):
        label = f"x[{k}]" if len(shape) > 1 else "x"
        wk = trapezoid_weights(axis, name=label)
        if wk.size != shape[k]:
            raise ValueError(f"{label} has {wk.size} points but the values have {shape[k]} along axis {k}")
        w = w * wk.reshape([-1 if i == k else 1 for i in range(len(shape))])
    return w


def _as_energies(u, name):
    """Energies may be +inf (zero density) but never NaN or -inf."""
    u = as_float_array(u, name, finite=False)
    if np.any(np.isnan(u)) or np.any(u == -np.inf):
        raise ValueError(f"{name} contains NaN or -inf values")
    if not np.any(np.isfinite(u)):
        raise ValueError(f"{name} is +inf everywhere; the density would be zero")
    return u


def kl_from_energies(u_p, u_q, x, *, beta=1.0):
    r"""Relative entropy of two Boltzmann densities tabulated as energies on a grid.

    With :math:`p \propto e^{-\beta u_p}` and :math:`q \propto e^{-\beta u_q}`,
    each normalised by the trapezoid rule (evaluated as a log-sum-exp, so large
    energies do not underflow),

    .. math::

        D(p \| q) = \int p(x) \ln\frac{p(x)}{q(x)}\,dx
                  = \int p\,\beta (u_q - u_p)\,dx + \ln Z_q - \ln Z_p .

    Parameters
    ----------
    u_p, u_q : array_like
        Energies (kT units times ``beta``) on the grid; ``+inf`` marks zero density.
    x : array_like or sequence of array_like
        The grid: one strictly increasing 1-D array for 1-D values, or one array
        per axis for tabulated values on a tensor-product grid (``indexing="ij"``).
    beta : float
        Inverse temperature.

    Returns
    -------
    float
        ``inf`` if ``q`` vanishes where ``p`` does not.

    Raises
    ------
    ValueError
        If the energies differ in shape, hold NaN or ``-inf``, do not match the grid, the
        grid is not strictly increasing, or ``beta`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from remlib.divergence import kl_from_energies
    >>> x = np.linspace(-12, 12, 2001)
    >>> round(kl_from_energies(x**2 / 2, x**2 / 4, x), 4)  # N(0, 1) vs N(0, 2)
    0.0966
    """
    beta = as_positive_scalar(beta, "beta")
    u_p = _as_energies(u_p, "u_p")
    u_q = _as_energies(u_q, "u_q")
    _check_same_shape(u_p, u_q, "u_p", "u_q")
    log_w = np.log(_grid_weights(x, u_p.shape))
    log_p = -beta * u_p + log_w
    log_q = -beta * u_q + log_w
    log_p -= logsumexp(log_p)
    log_q -= logsumexp(log_q)
    support = np.isfinite(log_p)
    if np.any(~np.isfinite(log_q[support])):
        return float("inf")
    mass_p = np.exp(log_p[support])
    mass_q = np.exp(log_q)
    # termwise non-negative form: p ln(p/q) - p + q
    value = np.sum(mass_p * (log_p[support] - log_q[support]) - mass_p + mass_q[support]) + mass_q[~support].sum()
    return float(max(value, 0.0))


def kl_divergence_grid(p, q, x):
    r"""Relative entropy of two densities tabulated on a grid (trapezoid rule).

    .. math::

        D(p \| q) = \int p(x) \ln \frac{p(x)}{q(x)}\, dx,

    after normalising both densities with the same trapezoid weights.  Zero
    density where ``p`` vanishes contributes nothing; ``inf`` if ``q`` vanishes
    where ``p`` does not.

    Parameters
    ----------
    p, q : array_like
        Non-negative (unnormalised) density values on the grid.
    x : array_like or sequence of array_like
        One strictly increasing array (1-D values) or one per axis
        (tensor-product grid, ``indexing="ij"``).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the densities are empty, hold NaN, inf or negative values, integrate to zero,
        differ in shape, or do not match a strictly increasing grid.

    Examples
    --------
    >>> import numpy as np
    >>> from remlib.divergence import kl_divergence_grid
    >>> x = np.linspace(-12, 12, 2001)
    >>> round(kl_divergence_grid(np.exp(-x**2 / 2), np.exp(-(x - 1)**2 / 2), x), 4)
    0.5
    """
    p = as_distribution(p, "p")
    q = as_distribution(q, "q")
    _check_same_shape(p, q, "p", "q")
    with np.errstate(divide="ignore"):
        return kl_from_energies(-np.log(p), -np.log(q), x, beta=1.0)


def _sample_column(values, n, name):
    array = as_float_array(values, name, ndim=(0, 1))
    if array.ndim == 0:
        return np.full(n, float(array))
    if array.size != n:
        raise ValueError(f"{name} must be a scalar or have one value per sample ({n}), got {array.size}")
    return array


def relative_entropy_from_samples(u_cg, u_aa, *, beta=1.0, free_energy_cg, free_energy_aa, mapping_entropy=0.0):
    r"""Estimate :math:`S_{\mathrm{rel}}` from independent all-atom samples.

    .. math::

        S_{\mathrm{rel}} = \beta \langle U_{\mathrm{CG}}(M(\mathbf r))
            - U_{\mathrm{AA}}(\mathbf r)\rangle_{\mathrm{AA}}
            - \beta (A_{\mathrm{CG}} - A_{\mathrm{AA}})
            + \langle S_{\mathrm{map}}\rangle_{\mathrm{AA}},

    where :math:`A = -k_BT \ln Z` are the free energies of the two models and
    :math:`S_{\mathrm{map}}(\mathbf r) = \ln \Omega(M(\mathbf r))` is the
    mapping entropy (the log of the number, or volume, of microstates that map
    onto the same CG state).  The standard error assumes independent samples.

    Parameters
    ----------
    u_cg : array_like, shape (n,)
        CG energy of the mapped samples, :math:`U_{\mathrm{CG}}(M(\mathbf r_i))`.
    u_aa : array_like, shape (n,)
        All-atom energy of the same samples.
    beta : float
        Inverse temperature.
    free_energy_cg, free_energy_aa : float
        :math:`A_{\mathrm{CG}}`, :math:`A_{\mathrm{AA}}` (energy units).
    mapping_entropy : float or array_like, shape (n,)
        :math:`S_{\mathrm{map}}` per sample (or one constant).

    Returns
    -------
    SampleEstimate
        ``(value, stderr)`` in nats.

    Raises
    ------
    ValueError
        If ``u_cg`` and ``u_aa`` differ in shape, hold fewer than 2 samples or non-finite
        values, ``mapping_entropy`` is neither a number nor one value per sample, or
        ``beta`` is not positive.

    Examples
    --------
    >>> from remlib.divergence import relative_entropy_from_samples
    >>> est = relative_entropy_from_samples([1.0, 2.0, 3.0], [0.5, 1.0, 1.5],
    ...                                     free_energy_cg=0.5, free_energy_aa=0.0)
    >>> round(est.value, 3), round(est.stderr, 3)
    (0.5, 0.289)
    """
    beta = as_positive_scalar(beta, "beta")
    u_cg = as_float_array(u_cg, "u_cg", ndim=1)
    u_aa = as_float_array(u_aa, "u_aa", ndim=1)
    _check_same_shape(u_cg, u_aa, "u_cg", "u_aa")
    a_cg = float(as_float_array(free_energy_cg, "free_energy_cg", ndim=0))
    a_aa = float(as_float_array(free_energy_aa, "free_energy_aa", ndim=0))
    if u_cg.size < 2:
        raise ValueError(f"u_cg needs at least 2 samples for a standard error, got {u_cg.size}")
    s_map = _sample_column(mapping_entropy, u_cg.size, "mapping_entropy")
    terms = beta * (u_cg - u_aa) + s_map
    stderr = terms.std(ddof=1) / np.sqrt(terms.size)
    return SampleEstimate(float(terms.mean() - beta * (a_cg - a_aa)), float(stderr))


def log_likelihood_from_energies(energies, log_partition, *, beta=1.0):
    r"""Average log-likelihood of samples under a Boltzmann model, from arrays.

    .. math::

        \ell = \frac1n \sum_{i=1}^n \ln p(x_i)
             = -\beta \frac1n \sum_i U(x_i) - \ln Z,
        \qquad p(x) = e^{-\beta U(x)} / Z .

    Parameters
    ----------
    energies : array_like, shape (n,)
        Model energies :math:`U(x_i)` of the samples.
    log_partition : float
        :math:`\ln Z` of the model (same normalisation convention as the
        density whose likelihood is wanted).
    beta : float
        Inverse temperature.

    Returns
    -------
    float
        :math:`\ell` in nats per sample.

    Raises
    ------
    ValueError
        If ``energies`` is empty, not 1-D or not finite, ``log_partition`` is not one
        finite number, or ``beta`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from remlib.divergence import log_likelihood_from_energies
    >>> x = np.array([-1.0, 0.0, 1.0])
    >>> round(log_likelihood_from_energies(x**2 / 2, 0.5 * np.log(2 * np.pi)), 4)
    -1.2523
    """
    beta = as_positive_scalar(beta, "beta")
    energies = as_float_array(energies, "energies", ndim=1)
    log_partition = float(as_float_array(log_partition, "log_partition", ndim=0))
    return float(-beta * energies.mean() - log_partition)


def log_likelihood(basis, theta, samples, ensemble):
    r"""Average log-likelihood of CG samples under the model :math:`U(R;\theta) = \phi(R)\cdot\theta`.

    .. math::

        \ell(\theta) = -\beta \langle \phi \rangle_{\mathrm{samples}} \cdot \theta
                       - \ln Z(\theta),

    with :math:`\ln Z(\theta)` from ``ensemble.log_partition(basis, theta)``
    and :math:`\beta` = ``ensemble.beta``.  Maximising :math:`\ell` over
    :math:`\theta` is the same as minimising the relative entropy.

    Parameters
    ----------
    basis : remlib.basis.Basis
        ``basis(samples)`` gives the design matrix ``(n, m)``.
    theta : array_like, shape (m,)
        Parameters.
    samples : array_like
        Mapped samples (as accepted by ``basis``).
    ensemble : remlib.ensembles.GridEnsemble
        Any ensemble with ``log_partition(basis, theta)`` and ``beta``.

    Returns
    -------
    float
        :math:`\ell(\theta)`; ``-inf`` if a sample lies outside the ensemble's
        ``support`` (e.g. beyond the grid), where the model has zero probability.

    Raises
    ------
    TypeError
        If ``ensemble`` has no ``log_partition`` and ``beta`` (e.g. a sampling ensemble),
        or ``basis`` is not a :class:`~remlib.basis.Basis`.
    ValueError
        If ``theta`` or ``samples`` do not fit the basis or are not finite.

    Examples
    --------
    >>> import numpy as np
    >>> from remlib.basis import PolynomialBasis
    >>> from remlib.ensembles import GridEnsemble
    >>> from remlib.divergence import log_likelihood
    >>> ens = GridEnsemble(np.linspace(-10, 10, 4001))
    >>> x = np.array([-1.0, 0.0, 1.0])  # under N(0, 1): mean of -x^2/2 - ln sqrt(2 pi)
    >>> round(log_likelihood(PolynomialBasis([2]), [0.5], x, ens), 4)
    -1.2523
    """
    if not hasattr(ensemble, "log_partition") or not hasattr(ensemble, "beta"):
        raise TypeError("ensemble must provide log_partition(basis, theta) and beta, e.g. a GridEnsemble")
    check_basis(basis, getattr(ensemble, "dim", getattr(basis, "dim", 1)))
    samples = as_float_array(samples, "samples")
    energies = basis.energy(samples, theta)
    if np.any(outside_support(ensemble, samples)):
        return -np.inf  # a sample where the model has zero probability
    return log_likelihood_from_energies(energies, ensemble.log_partition(basis, theta), beta=ensemble.beta)
