r"""Statistics helpers shared by remlib's modules: one home for each estimator.

========================  =============================================================
:func:`logsumexp`          stable :math:`\ln\sum_k e^{a_k}` (numpy only, no scipy import)
:func:`weighted_moments`   mean and covariance of rows under normalised weights
:func:`effective_sample_size`  :math:`n_\mathrm{eff}` of a correlated series (batch means)
:func:`block_standard_error`   standard error of a correlated series' mean (block averages)
:func:`trapezoid_weights`  quadrature weights of the trapezoid rule on a grid
========================  =============================================================

The public ones are re-exported where users meet them: ``remlib.effective_sample_size``,
``remlib.block_standard_error`` and :func:`remlib.divergence.trapezoid_weights`.
"""
import numpy as np

from remlib._validation import as_float_array, as_positive_int

__all__ = ["logsumexp", "weighted_moments", "effective_sample_size", "block_standard_error", "trapezoid_weights"]


def logsumexp(values, axis=None):
    r"""Stable :math:`\ln\sum_k e^{a_k}` over all entries or along ``axis``.

    The largest entry is taken out before exponentiating, so entries of :math:`\pm 10^3`
    neither overflow nor underflow.  All-:math:`-\infty` input gives :math:`-\infty`; a
    :math:`+\infty` entry gives :math:`+\infty`.  numpy only: importing scipy would add a
    large part of a second to every start-up.

    Parameters
    ----------
    values : array_like
        The exponents :math:`a_k`.
    axis : None, int or tuple of int
        Axes summed over (``None``: all entries).

    Returns
    -------
    float or ndarray
        A float for ``axis=None``; else an array of the shape of ``values`` without ``axis``.

    Raises
    ------
    ValueError
        If ``values`` is empty.

    Examples
    --------
    >>> round(float(logsumexp([1000.0, 1000.0])), 6)
    1000.693147
    >>> logsumexp(np.log([[1.0, 3.0], [2.0, 2.0]]), axis=1).round(6).tolist()
    [1.386294, 1.386294]
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("values is empty; logsumexp needs at least one entry")
    top = np.max(values, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        total = np.log(np.sum(np.exp(values - top), axis=axis, keepdims=True)) + top
    if axis is None:
        return float(total.reshape(()))
    return np.squeeze(total, axis=axis)


def weighted_moments(values, weights):
    r"""Mean and covariance of the rows of ``values`` under normalised weights.

    .. math::

        \mu = \sum_k p_k \phi_k, \qquad
        \Sigma = \sum_k p_k (\phi_k - \mu)(\phi_k - \mu)^\top

    (the population covariance: no Bessel correction, as a quadrature needs).

    Parameters
    ----------
    values : ndarray, shape (n, m)
        One row :math:`\phi_k` per point or sample.
    weights : ndarray, shape (n,)
        Probabilities :math:`p_k` summing to one.

    Returns
    -------
    mean : ndarray, shape (m,)
    cov : ndarray, shape (m, m)

    Examples
    --------
    >>> mean, cov = weighted_moments(np.array([[0.0], [2.0]]), np.array([0.25, 0.75]))
    >>> mean.tolist(), cov.tolist()
    ([1.5], [[0.75]])
    """
    mean = weights @ values
    centred = values - mean
    return mean, centred.T @ (centred * weights[:, None])


def effective_sample_size(values, n_batches=None):
    r"""Effective number of independent samples of a correlated series, by batch means.

    With :math:`B` batches of length :math:`L`, the statistical inefficiency is
    :math:`g = L\,\mathrm{Var}(\bar a_b)/\mathrm{Var}(a)` and :math:`n_\mathrm{eff} = n/g`
    (clipped to ``[1, n]``).  For several columns the smallest value is returned.
    Default :math:`B \approx \sqrt{n}` (batches much longer than the correlation time).
    A series too short for batches of 2 samples (:math:`n < 2B`) returns :math:`n`, i.e.
    it is treated as independent, not estimated.

    Parameters
    ----------
    values : array_like, shape (n,) or (n, k)
        A time series (rows in time order), one column per observable.
    n_batches : int, optional
        Number of batches :math:`B \ge 2` (default :math:`\max(\lfloor\sqrt n\rfloor, 2)`).

    Returns
    -------
    float
        :math:`n_\mathrm{eff}` in ``[1, n]``.

    Raises
    ------
    ValueError
        If ``values`` is empty, not 1-D or 2-D, or holds NaN or infinite entries, or if
        ``n_batches < 2``.
    TypeError
        If ``n_batches`` is not an integer.

    Examples
    --------
    >>> values = np.random.default_rng(0).normal(size=20000)   # independent samples
    >>> bool(0.8 < effective_sample_size(values) / 20000 <= 1.0)
    True
    """
    values = as_float_array(values, "values", ndim=(1, 2))
    values = values.reshape(values.shape[0], -1)
    n = values.shape[0]
    if n_batches is None:
        n_batches = max(int(np.sqrt(n)), 2)
    length = n // as_positive_int(n_batches, "n_batches", minimum=2)
    if length < 2:
        return float(n)
    variance = values.var(axis=0)
    batches = values[: length * n_batches].reshape(n_batches, length, -1).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inefficiency = np.where(variance > 0, length * batches.var(axis=0, ddof=1) / variance, 1.0)
    return float(np.clip(n / np.max(np.maximum(inefficiency, 1e-300)), 1.0, n))


def block_standard_error(values, n_blocks=20):
    r"""Standard error of the mean of a correlated time series by block averaging.

    The series is cut into ``n_blocks`` contiguous blocks (a remainder at the end is
    dropped); with block means :math:`\bar a_b`,

    .. math:: \sigma_{\bar a} = \sqrt{\frac{1}{n_b (n_b - 1)} \sum_b (\bar a_b - \bar a)^2}.

    Blocks much longer than the correlation time make the block means independent.

    Parameters
    ----------
    values : array_like, shape (n,) or (n, k)
        A time series (rows in time order), one column per observable.
    n_blocks : int
        Number of blocks :math:`n_b \ge 2`.

    Returns
    -------
    float or ndarray, shape (k,)
        The standard error of each column's mean (a 0-d array for a 1-D series).

    Raises
    ------
    ValueError
        If ``values`` is empty, not 1-D or 2-D, or holds NaN or infinite entries, or
        has fewer than ``n_blocks`` rows, or if ``n_blocks < 2``.
    TypeError
        If ``n_blocks`` is not an integer.

    Examples
    --------
    Blocks of 5 samples of 0, 1, 0, 1, ... have means 0.4 and 0.6 in turn:

    >>> round(float(block_standard_error(np.tile([0.0, 1.0], 50), n_blocks=20)), 5)
    0.02294
    """
    values = as_float_array(values, "values", ndim=(1, 2))
    n_blocks = as_positive_int(n_blocks, "n_blocks", minimum=2)
    if values.shape[0] < n_blocks:
        raise ValueError(f"values has {values.shape[0]} entries, fewer than n_blocks={n_blocks}")
    size = values.shape[0] // n_blocks
    means = values[: size * n_blocks].reshape(n_blocks, size, *values.shape[1:]).mean(axis=1)
    return means.std(axis=0, ddof=1) / np.sqrt(n_blocks)


def trapezoid_weights(x, name="x"):
    r"""Trapezoid-rule weights :math:`w_i` so that :math:`\int f\,dx \approx \sum_i w_i f(x_i)`.

    Parameters
    ----------
    x : array_like, shape (n,)
        Strictly increasing grid, ``n >= 2``.
    name : str
        Argument name for error messages.

    Returns
    -------
    ndarray, shape (n,)
        :math:`w_i = (x_{i+1} - x_{i-1})/2` inside, half a gap at the two ends.

    Raises
    ------
    ValueError
        If ``x`` has fewer than 2 points or is not strictly increasing.

    Examples
    --------
    >>> trapezoid_weights([0.0, 1.0, 2.0, 4.0]).tolist()
    [0.5, 1.0, 1.5, 1.0]
    """
    x = as_float_array(x, name, ndim=1)
    if x.size < 2:
        raise ValueError(f"{name} needs at least 2 grid points, got {x.size}")
    dx = np.diff(x)
    if np.any(dx <= 0):
        raise ValueError(f"{name} must be strictly increasing")
    w = np.zeros_like(x)
    w[:-1] += 0.5 * dx
    w[1:] += 0.5 * dx
    return w
