r"""Potentials of mean force: from mapped samples (Boltzmann inversion) and by quadrature.

The potential of mean force of a CG coordinate :math:`R = M(\mathbf r)` is

.. math::

    F(R) = -k_BT \ln P_{\mathrm{map}}(R) + \text{const},\qquad
    P_{\mathrm{map}}(R) = \int \delta(M(\mathbf r) - R)\, P_{\mathrm{AA}}(\mathbf r)\, d\mathbf r .

From samples, :math:`P_{\mathrm{map}}` is a normalised histogram.  For a
distance or an angle the volume element brings a Jacobian (:math:`r^2` or
:math:`\sin\theta`) that is divided out so that a structureless system has a
flat PMF.  For a low-dimensional model the integral is done on a grid.
"""
from dataclasses import dataclass

import numbers

import numpy as np

from remlib._stats import logsumexp, trapezoid_weights
from remlib._validation import as_count, as_float_array, as_positive_scalar

__all__ = ["PMFResult", "pmf_from_samples", "pmf_on_grid", "JACOBIANS"]

#: Jacobian corrections: the measure of a bin [a, b] of the CG coordinate.
JACOBIANS = {
    None: lambda a, b: b - a,
    "distance": lambda a, b: (b**3 - a**3) / 3.0,  # ∫ r^2 dr
    "angle": lambda a, b: np.cos(a) - np.cos(b),  # ∫ sin θ dθ
}
_DOMAINS = {"distance": (0.0, np.inf), "angle": (0.0, np.pi)}


def _samples_2d(samples):
    """Samples as ``(n, d)``; a 1-D array is one coordinate."""
    samples = as_float_array(samples, "samples", ndim=(1, 2))
    return samples[:, None] if samples.ndim == 1 else samples


def _sample_weights(weights, n):
    if weights is None:
        return np.ones(n)
    weights = as_float_array(weights, "weights", ndim=1)
    if weights.size != n:
        raise ValueError(f"weights must have one value per sample ({n}), got {weights.size}")
    if np.any(weights < 0):
        raise ValueError("weights contains negative values")
    if weights.sum() <= 0:
        raise ValueError("weights sums to zero")
    return weights


@dataclass(frozen=True)
class PMFResult:
    """A potential of mean force on histogram bins, from :func:`pmf_from_samples`.

    Attributes
    ----------
    centers : ndarray, shape (n_bins,), or tuple of d such arrays
        Bin centres (one array per coordinate).
    pmf : ndarray, shape (n_bins,) or (n_bins_1, ..., n_bins_d)
        :math:`F_k` in units of :math:`1/\\beta`, minimum 0, ``inf`` in empty bins.
    error : ndarray, same shape as ``pmf``
        Delta-method standard error of :math:`F_k` for independent samples (``inf`` in
        empty bins).

    Examples
    --------
    >>> result = pmf_from_samples([0.2, 0.4, 0.6, 1.5], [0.0, 1.0, 2.0])
    >>> result.centers.tolist(), result.pmf.round(4).tolist()
    ([0.5, 1.5], [0.0, 1.0986])
    """

    centers: np.ndarray | tuple
    pmf: np.ndarray
    error: np.ndarray


def pmf_from_samples(samples, bins, *, beta=1.0, weights=None, range=None, jacobian=None):
    r"""Potential of mean force of one or a few CG coordinates from (weighted) samples.

    .. math::

        F_k = -k_BT \ln \frac{\hat p_k}{J_k} - \min_j\Big(-k_BT \ln \frac{\hat p_j}{J_j}\Big),
        \qquad \hat p_k = \frac{\sum_{i \in k} w_i}{\sum_i w_i},

    where :math:`J_k` is the bin's measure: its width, :math:`\int r^2 dr`
    (``jacobian="distance"``) or :math:`\int \sin\theta\, d\theta` (``"angle"``),
    integrated exactly over the bin so that a uniform density in space gives a
    flat PMF.  Empty bins give ``inf``.

    The statistical error is the delta-method standard error of :math:`-k_BT \ln \hat p_k` for independent samples,

    .. math::

        \sigma_{F_k} = k_BT \frac{\sqrt{\sum_i w_i^2 (\mathbb 1_{i\in k} - \hat p_k)^2}}{\hat p_k \sum_i w_i}
        \;\;\big(= k_BT\sqrt{1/n_k - 1/n}\ \text{unweighted}\big),

    which excludes the uncertainty of the shift to the minimum (``inf`` in empty bins).

    Parameters
    ----------
    samples : array_like, shape (n,) or (n, d)
        Mapped samples of the CG coordinate(s).
    bins : int or array_like
        Number of bins or bin edges, as in ``numpy.histogram`` (one coordinate)
        or ``numpy.histogramdd`` (``d`` coordinates, flat measure per axis).
    beta : float
        Inverse temperature.
    weights : array_like, shape (n,), optional
        Non-negative per-sample weights (e.g. reweighting factors).
    range : (float, float) or sequence of pairs, optional
        Histogram range (one pair per coordinate); samples outside are ignored.
    jacobian : {None, "distance", "angle"}
        Volume-element correction for one coordinate (angles in radians, in [0, π]).

    Returns
    -------
    PMFResult
        ``centers`` (n_bins,) or a tuple of d such arrays, ``pmf`` (n_bins,) or
        (n_bins_1, ..., n_bins_d) in kT units times ``1/beta`` with minimum 0, and its
        standard ``error`` of the same shape.

    Raises
    ------
    ValueError
        If ``samples`` or ``weights`` are empty, of the wrong shape or not finite,
        ``weights`` are negative or sum to zero, ``bins``/``range`` are invalid or
        hold no sample, ``jacobian`` is unknown, or samples or bins lie outside the
        jacobian's domain.

    Examples
    --------
    >>> import numpy as np
    >>> from remlib.pmf import pmf_from_samples
    >>> x = np.random.default_rng(0).normal(size=100000)
    >>> result = pmf_from_samples(x, 5, range=(-2, 2))
    >>> np.round(result.pmf, 1).tolist()  # exact: -ln(P_bin / P_centre) = 1.21, 0.30, 0
    [1.2, 0.3, 0.0, 0.3, 1.2]
    """
    beta = as_positive_scalar(beta, "beta")
    samples = _samples_2d(samples)
    n, dim = samples.shape
    weights = _sample_weights(weights, n)
    if jacobian not in JACOBIANS:
        raise ValueError(f"jacobian must be None, 'distance' or 'angle', got {jacobian!r}")
    if jacobian is not None:
        if dim != 1:
            raise ValueError(f"jacobian={jacobian!r} applies to one coordinate; samples have {dim} columns")
        low, high = _DOMAINS[jacobian]
        if samples.min() < low or samples.max() > high:
            raise ValueError(f"samples must lie in [{low}, {high}] for jacobian={jacobian!r}")
    counts, edges, member, inside = _histogram(samples, bins, range, weights)
    if jacobian is not None and (edges[0][0] < _DOMAINS[jacobian][0] or edges[0][-1] > _DOMAINS[jacobian][1]):
        raise ValueError(f"bins/range must lie inside {_DOMAINS[jacobian]} for jacobian={jacobian!r}")
    total = weights.sum()
    p = counts / total
    measure = JACOBIANS[jacobian](edges[0][:-1], edges[0][1:])
    for e in edges[1:]:
        measure = np.multiply.outer(measure, np.diff(e))
    with np.errstate(divide="ignore"):
        F = -np.log(p / measure) / beta
    F -= F[np.isfinite(F)].min()
    centers = [0.5 * (e[:-1] + e[1:]) for e in edges]
    centers = centers[0] if dim == 1 else tuple(centers)
    # sum_i w_i^2 (1[i in k] - p_k)^2 = S_k (1 - 2 p_k) + p_k^2 S, with S_k = sum_{i in k} w_i^2
    sq = weights**2
    s_k = np.bincount(member[inside], weights=sq[inside], minlength=p.size).reshape(p.shape)
    variance = s_k * (1 - 2 * p) + p**2 * sq.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        error = np.where(p > 0, np.sqrt(np.maximum(variance, 0.0)) / (p * total) / beta, np.inf)
    return PMFResult(centers, F, error)


def _histogram(samples, bins, range, weights):
    """Weighted histogram of ``(n, d)`` samples, the edges per axis, each sample's flat bin, inside mask."""
    dim = samples.shape[1]
    bins = bins[()] if isinstance(bins, np.ndarray) and bins.ndim == 0 else bins
    if isinstance(bins, (bool, np.bool_, str, bytes)) or bins is None:
        raise TypeError(f"bins must be a number of bins or bin edges, got {type(bins).__name__}")
    if isinstance(bins, numbers.Integral):
        as_count(bins, "bins", 2 * 8 * dim)
    elif dim == 1:
        edges = as_float_array(bins, "bins", ndim=1)
        if edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError(f"invalid bins: edges must be at least 2 increasing values, got {edges.tolist()[:5]}")
    try:
        if dim == 1:
            counts, edges = np.histogram(samples[:, 0], bins=bins, range=range, weights=weights)
            edges = [edges]
        else:
            counts, edges = np.histogramdd(samples, bins=bins, range=range, weights=weights)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"invalid bins or range: {exc}") from exc
    inside = np.ones(samples.shape[0], dtype=bool)
    index = []
    for k, e in enumerate(edges):
        inside &= (samples[:, k] >= e[0]) & (samples[:, k] <= e[-1])
        index.append(np.digitize(samples[:, k], e[1:-1]))
    if not np.any(inside & (weights > 0)):
        raise ValueError("no samples (with positive weight) fall inside the histogram range")
    member = np.ravel_multi_index(index, counts.shape)
    return counts, list(edges), member, inside


def _grid_axes(grids):
    if isinstance(grids, np.ndarray) and grids.ndim == 1:
        grids = [grids]
    if isinstance(grids, (str, bytes)) or not hasattr(grids, "__iter__"):
        raise TypeError(f"grids must be a sequence of 1-D coordinate arrays, got {type(grids).__name__}")
    grids = [as_float_array(g, f"grids[{k}]", ndim=1) for k, g in enumerate(grids)]
    if not grids:
        raise ValueError("grids must hold at least one coordinate axis")
    return grids


def pmf_on_grid(energy, grids, *, axis=0, beta=1.0):
    r"""Exact PMF of a low-dimensional model by integrating out the other coordinates on a grid.

    .. math::

        F(x_a) = -k_BT \ln \int e^{-\beta U(\mathbf x)}\, \prod_{b \ne a} dx_b
               \;-\; \min(\cdot),

    evaluated with trapezoid weights in log space (log-sum-exp), shifted so its
    minimum is 0.

    Parameters
    ----------
    energy : callable or array_like
        Either a function of configurations ``(n_points, dim)`` returning
        ``(n_points,)`` energies (e.g. ``EntropicChannel().energy``), or the
        energies already tabulated on the grid, shape ``(len(grids[0]), ...)``
        (``indexing="ij"``).  ``+inf`` is allowed (forbidden region).
    grids : sequence of array_like
        One strictly increasing 1-D array per coordinate.
    axis : int or tuple of int
        The coordinate(s) kept; all others are integrated out.
    beta : float
        Inverse temperature.

    Returns
    -------
    F : ndarray
        Shape ``(len(grids[axis]),)`` (or the kept axes' shape), minimum 0.

    Raises
    ------
    ValueError
        If a grid is empty or not strictly increasing, ``energy`` has the wrong shape, NaN
        or ``-inf`` values or is ``+inf`` everywhere, ``axis`` is out of range, or ``beta``
        is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from remlib.pmf import pmf_on_grid
    >>> x = np.linspace(-2, 2, 5)
    >>> y = np.linspace(-10, 10, 2001)
    >>> energy = lambda r: r[:, 0]**2 + 0.5 * (1 + r[:, 0]**2) * r[:, 1]**2
    >>> np.round(pmf_on_grid(energy, [x, y]), 4).tolist()  # x^2 + ln(1 + x^2) / 2
    [4.8047, 1.3466, 0.0, 1.3466, 4.8047]
    """
    beta = as_positive_scalar(beta, "beta")
    grids = _grid_axes(grids)
    shape = tuple(g.size for g in grids)
    axis = axis[()] if isinstance(axis, np.ndarray) and axis.ndim == 0 else axis
    keep = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    for a in keep:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)) or not -len(grids) <= a < len(grids):
            raise ValueError(f"axis must be integer(s) in range({len(grids)}), got {axis!r}")
    keep = tuple(sorted({int(a) % len(grids) for a in keep}))
    if callable(energy):
        mesh = np.stack(np.meshgrid(*grids, indexing="ij"), axis=-1).reshape(-1, len(grids))
        values = np.asarray(energy(mesh), dtype=np.float64)
        if values.shape != (mesh.shape[0],):
            raise ValueError(f"energy must return one value per grid point ({mesh.shape[0]},), got {values.shape}")
        values = values.reshape(shape)
    else:
        values = as_float_array(energy, "energy", finite=False)
        if values.shape != shape:
            raise ValueError(f"energy must have the grid's shape {shape}, got {values.shape}")
    if np.any(np.isnan(values)) or np.any(values == -np.inf):
        raise ValueError("energy contains NaN or -inf values")
    log_terms = -beta * values
    for k, g in enumerate(grids):
        if k in keep:
            if g.size > 1 and np.any(np.diff(g) <= 0):
                raise ValueError(f"grids[{k}] must be strictly increasing")
            continue
        w = trapezoid_weights(g, name=f"grids[{k}]")
        log_terms = log_terms + np.log(w).reshape([-1 if i == k else 1 for i in range(len(grids))])
    others = tuple(k for k in range(len(grids)) if k not in keep)
    log_marginal = logsumexp(log_terms, axis=others) if others else log_terms
    if not np.any(np.isfinite(log_marginal)):
        raise ValueError("energy is +inf everywhere on the grid")
    F = -log_marginal / beta
    return F - F[np.isfinite(F)].min()
