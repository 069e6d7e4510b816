r"""Reference "all-atom" models whose coarse-grained answers are known exactly.

========================  =================================================================
:class:`DoubleWell`       1-D :math:`U(x) = h (x^2 - 1)^2 + c x`; its PMF is :math:`U` itself
:class:`EntropicChannel`  2-D :math:`U(x, y) = U_1(x) + \kappa(x) y^2 / 2`; the PMF of
                          :math:`x` has an entropic part :math:`\tfrac{k_BT}{2} \ln \kappa(x)`
:class:`GaussianChain`    ideal harmonic chain; decimation and centre-of-mass mappings with
                          exact Gaussian CG bond statistics
:class:`IsingChain`       1-D Ising chain small enough to enumerate; block-spin mappings
========================  =================================================================

Continuous models have ``energy`` and ``force`` (vectorised numpy over
configurations), exact answers (``pmf``, ``mean_force``, ``log_partition``),
an exact sampler ``sample(n, beta=..., seed=...)``, and ``force_kernel``: a
``numba.njit`` function of ONE configuration (array ``(dim,)``) returning the
force ``(dim,)``.  ``force_kernel`` can be passed as an argument to another
jitted function (e.g. a Brownian-dynamics loop).  It is built once per set of
parameters (cached), so two models with equal parameters share one kernel and
a jitted caller compiles once for them.
"""
import functools
from dataclasses import dataclass

import numpy as np
from scipy import integrate

from remlib._numba import njit
from remlib._stats import logsumexp
from remlib._validation import (
    as_count,
    as_flag,
    as_float_array,
    as_generator,
    as_positive_int,
    as_positive_scalar,
    check_memory,
)

__all__ = ["DoubleWell", "EntropicChannel", "GaussianChain", "IsingChain", "BlockSpinMapping", "IdealCGChain"]


def _as_real(value, name):
    return float(as_float_array(value, name, ndim=0))


# --------------------------------------------------------------------------- 1-D helpers
def _support(reduced_pmf, cutoff=60.0):
    """An interval outside which ``exp(-reduced_pmf)`` is below ``exp(-cutoff)`` of its maximum.

    ``reduced_pmf`` must be confining (grow without bound in both directions).
    """
    half_width = 2.0
    while True:
        x = np.linspace(-half_width, half_width, 4001)
        values = reduced_pmf(x)
        lowest = values.min()
        if values[0] - lowest > cutoff and values[-1] - lowest > cutoff:
            inside = np.nonzero(values - lowest <= cutoff)[0]
            lower = x[max(inside[0] - 1, 0)]
            upper = x[min(inside[-1] + 1, x.size - 1)]
            return float(lower), float(upper)
        half_width *= 2.0
        if half_width > 1e6:
            raise ValueError("the potential does not confine the coordinate; no finite sampling interval")


def _log_partition_1d(reduced_pmf):
    """:math:`\\ln \\int e^{-f(x)} dx` by adaptive quadrature on the support of ``f``."""
    lower, upper = _support(reduced_pmf)
    shift = reduced_pmf(np.linspace(lower, upper, 4001)).min()
    value, _ = integrate.quad(lambda t: np.exp(-(reduced_pmf(np.array([t]))[0] - shift)), lower, upper,
                              limit=500, epsabs=0.0, epsrel=1e-12)
    return float(np.log(value) - shift)


def _inverse_cdf_sample(reduced_pmf, n, rng, n_grid=200001):
    """Exact-in-the-limit samples of :math:`p(x) \\propto e^{-f(x)}` by inverting the CDF.

    The CDF is the cumulative trapezoid integral on a fine grid over the support;
    within a cell the density is taken constant (error :math:`O(\\Delta x^2)`).
    """
    lower, upper = _support(reduced_pmf)
    x = np.linspace(lower, upper, n_grid)
    f = reduced_pmf(x)
    density = np.exp(-(f - f.min()))
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(x))])
    cdf /= cdf[-1]
    return np.interp(rng.random(n), cdf, x)


class _OneDimensionalPMF:
    """Exact answers shared by models whose CG coordinate is one real number ``x``.

    Subclasses define ``pmf(x, beta=...)`` and ``mean_force(x, beta=...)``.
    """

    def _reduced(self, beta):
        return lambda x: beta * self.pmf(x, beta=beta)

    def log_partition(self, *, beta=1.0):
        r""":math:`\ln Z = \ln \int e^{-\beta F(x)}\,dx` (adaptive quadrature)."""
        beta = as_positive_scalar(beta, "beta")
        return _log_partition_1d(self._reduced(beta))

    def free_energy(self, *, beta=1.0):
        r""":math:`A = -k_BT \ln Z`."""
        beta = as_positive_scalar(beta, "beta")
        return -self.log_partition(beta=beta) / beta

    def density(self, x, *, beta=1.0):
        r"""Normalised density of the CG coordinate, :math:`P(x) = e^{-\beta F(x)} / Z`."""
        beta = as_positive_scalar(beta, "beta")
        return np.exp(-beta * self.pmf(x, beta=beta) - self.log_partition(beta=beta))

    def support(self, *, beta=1.0):
        """An interval ``(lower, upper)`` holding all but ~e^-60 of the probability (used by the samplers)."""
        beta = as_positive_scalar(beta, "beta")
        return _support(self._reduced(beta))

    def _sample_x(self, n, beta, seed):
        n = as_count(n, "n", 2 * 8)
        beta = as_positive_scalar(beta, "beta")
        return _inverse_cdf_sample(self._reduced(beta), n, as_generator(seed)), beta


# --------------------------------------------------------------------------- double well
# Force kernels are closures over the model's float parameters (compile-time constants),
# declared with remlib._numba's cached ``njit``: numba keys a closure's cache entry on the
# values it closes over, so a new process loads the kernel of the same model instead of
# compiling it.  lru_cache makes equal parameters return the same dispatcher, so jitted
# callers compile once per model.  Each distinct parameter value writes one more on-disk
# cache entry: fine for the book's fixed models, while a parameter sweep grows the cache.
@functools.lru_cache(maxsize=None)
def _double_well_kernel(h, c):
    @njit
    def force_kernel(x):
        out = np.empty(1)
        out[0] = -(4.0 * h * x[0] * (x[0] * x[0] - 1.0) + c)
        return out

    return force_kernel


class DoubleWell(_OneDimensionalPMF):
    r"""One particle in a (tilted) quartic double well.

    .. math::

        U(x) = h\,(x^2 - 1)^2 + c\,x, \qquad F(x) = -\partial_x U = -4 h x (x^2 - 1) - c .

    The coordinate is its own CG coordinate, so the exact PMF is :math:`U`.

    Parameters
    ----------
    barrier : float
        :math:`h > 0`, the barrier height of the untilted well (kT units).
    tilt : float
        :math:`c`, a linear tilt that makes one well deeper.

    Examples
    --------
    >>> import numpy as np
    >>> from remlib.systems import DoubleWell
    >>> dw = DoubleWell(barrier=2.0)
    >>> dw.energy(np.array([0.0, 1.0])).tolist()
    [2.0, 0.0]
    >>> x = dw.sample(20000, seed=1)
    >>> round(float(np.mean(x**2)), 1)
    0.9
    """

    def __init__(self, barrier=1.0, tilt=0.0):
        self.barrier = as_positive_scalar(barrier, "barrier")
        self.tilt = _as_real(tilt, "tilt")

    def __repr__(self):
        return f"DoubleWell(barrier={self.barrier}, tilt={self.tilt})"

    def energy(self, x):
        """:math:`U(x)`, elementwise over an array of positions of any shape."""
        x = as_float_array(x, "x")
        return self.barrier * (x * x - 1.0) ** 2 + self.tilt * x

    def force(self, x):
        """:math:`-U'(x)`, elementwise (same shape as ``x``)."""
        x = as_float_array(x, "x")
        return -(4.0 * self.barrier * x * (x * x - 1.0) + self.tilt)

    @property
    def force_kernel(self):
        """numba function ``f(x) -> force`` for one configuration ``x`` of shape ``(1,)``."""
        return _double_well_kernel(self.barrier, self.tilt)

    def pmf(self, x, *, beta=1.0):
        r"""Exact PMF :math:`F(x) = U(x)` (no other coordinates; ``beta`` does not enter)."""
        as_positive_scalar(beta, "beta")
        return self.energy(x)

    def mean_force(self, x, *, beta=1.0):
        """Exact mean force :math:`-F'(x) = -U'(x)`."""
        as_positive_scalar(beta, "beta")
        return self.force(x)

    def minima(self):
        """Positions of the local minima of :math:`U`, ascending."""
        roots = np.roots([4.0 * self.barrier, 0.0, -4.0 * self.barrier, self.tilt])
        real = np.sort(roots[np.abs(roots.imag) < 1e-10].real)
        curvature = 4.0 * self.barrier * (3.0 * real**2 - 1.0)
        return real[curvature > 0]

    def sample(self, n, *, beta=1.0, seed=None):
        r"""``n`` independent exact samples of :math:`P(x) \propto e^{-\beta U(x)}`, shape ``(n,)``."""
        x, _ = self._sample_x(n, beta, seed)
        return x


# --------------------------------------------------------------------------- entropic channel
_KAPPA_FORMS = ("exp", "quadratic")


@functools.lru_cache(maxsize=None)
def _channel_kernel(h, c, kappa0, a, exponential):
    @njit
    def force_kernel(r):
        x = r[0]
        y = r[1]
        if exponential:
            kappa = kappa0 * np.exp(a * x * x)
            dkappa = 2.0 * a * x * kappa
        else:
            kappa = kappa0 * (1.0 + a * x * x)
            dkappa = 2.0 * kappa0 * a * x
        out = np.empty(2)
        out[0] = -(4.0 * h * x * (x * x - 1.0) + c) - 0.5 * dkappa * y * y
        out[1] = -kappa * y
        return out

    return force_kernel


class EntropicChannel(_OneDimensionalPMF):
    r"""A 2-D channel whose width depends on :math:`x`: the PMF of :math:`x` has an entropic part.

    .. math::

        U(x, y) = U_1(x) + \tfrac12 \kappa(x)\, y^2, \qquad U_1(x) = h (x^2-1)^2 + c x,

    with :math:`\kappa(x) = \kappa_0 e^{a x^2}` (``kappa_form="exp"``) or
    :math:`\kappa(x) = \kappa_0 (1 + a x^2)` (``"quadratic"``).  Integrating out
    :math:`y` (a Gaussian) gives the exact PMF of the mapping :math:`M(x, y) = x`:

    .. math::

        F(x) = -k_BT \ln \int e^{-\beta U(x, y)} dy
             = U_1(x) + \frac{k_BT}{2} \ln \frac{\beta \kappa(x)}{2\pi}.

    The entropic term grows with temperature.  For the exponential form it is
    :math:`k_BT\,a x^2/2`, so :math:`F` is a polynomial in :math:`x^2, x^4`
    (exactly representable by ``PolynomialBasis([2, 4])``).

    Parameters
    ----------
    barrier, tilt : float
        :math:`h > 0` and :math:`c` of :math:`U_1`.
    kappa0 : float
        :math:`\kappa_0 > 0`, the transverse stiffness at :math:`x = 0`.
    a : float
        How fast the stiffness changes with :math:`x` (``a >= 0`` for the quadratic form).
    kappa_form : {"exp", "quadratic"}

    Examples
    --------
    >>> import numpy as np
    >>> from remlib.systems import EntropicChannel
    >>> ch = EntropicChannel(barrier=1.0, kappa0=2.0, a=1.0)
    >>> r = ch.sample(5, seed=0)
    >>> r.shape
    (5, 2)
    >>> x = np.array([0.0, 1.0])
    >>> np.round(ch.pmf(x) - ch.pmf(x)[0], 3).tolist()  # U1(1) - U1(0) + a/2
    [0.0, -0.5]
    """

    def __init__(self, barrier=1.0, tilt=0.0, kappa0=1.0, a=1.0, kappa_form="exp"):
        self.barrier = as_positive_scalar(barrier, "barrier")
        self.tilt = _as_real(tilt, "tilt")
        self.kappa0 = as_positive_scalar(kappa0, "kappa0")
        self.a = _as_real(a, "a")
        if kappa_form not in _KAPPA_FORMS:
            raise ValueError(f"kappa_form must be one of {_KAPPA_FORMS}, got {kappa_form!r}")
        if kappa_form == "quadratic" and self.a < 0:
            raise ValueError(f"a must be >= 0 for kappa_form='quadratic' (kappa must stay positive), got {self.a}")
        self.kappa_form = kappa_form

    def __repr__(self):
        return (f"EntropicChannel(barrier={self.barrier}, tilt={self.tilt}, kappa0={self.kappa0}, a={self.a}, "
                f"kappa_form={self.kappa_form!r})")

    def _u1(self, x):
        return self.barrier * (x * x - 1.0) ** 2 + self.tilt * x

    def _du1(self, x):
        return 4.0 * self.barrier * x * (x * x - 1.0) + self.tilt

    def kappa(self, x):
        r""":math:`\kappa(x)`, the transverse stiffness."""
        x = as_float_array(x, "x")
        if self.kappa_form == "exp":
            return self.kappa0 * np.exp(self.a * x * x)
        return self.kappa0 * (1.0 + self.a * x * x)

    def _dlog_kappa(self, x):
        if self.kappa_form == "exp":
            return 2.0 * self.a * x
        return 2.0 * self.a * x / (1.0 + self.a * x * x)

    @staticmethod
    def _configurations(r):
        r = as_float_array(r, "r")
        if r.ndim == 0 or r.shape[-1] != 2:
            raise ValueError(f"r must have shape (..., 2) (columns x, y), got {r.shape}")
        return r[..., 0], r[..., 1]

    def energy(self, r):
        """:math:`U(x, y)` for configurations ``r`` of shape ``(..., 2)``; returns shape ``(...)``."""
        x, y = self._configurations(r)
        return self._u1(x) + 0.5 * self.kappa(x) * y * y

    def force(self, r):
        r""":math:`-\nabla U` for configurations of shape ``(..., 2)``; returns the same shape."""
        x, y = self._configurations(r)
        kappa = self.kappa(x)
        fx = -self._du1(x) - 0.5 * kappa * self._dlog_kappa(x) * y * y
        return np.stack([fx, -kappa * y], axis=-1)

    @property
    def force_kernel(self):
        """numba function ``f(r) -> force`` for one configuration ``r = (x, y)``."""
        return _channel_kernel(self.barrier, self.tilt, self.kappa0, self.a, self.kappa_form == "exp")

    def pmf(self, x, *, beta=1.0):
        r"""Exact :math:`F(x) = U_1(x) + \frac{k_BT}{2}\ln\frac{\beta\kappa(x)}{2\pi}` (not shifted)."""
        beta = as_positive_scalar(beta, "beta")
        x = as_float_array(x, "x")
        return self._u1(x) + 0.5 / beta * np.log(beta * self.kappa(x) / (2.0 * np.pi))

    def mean_force(self, x, *, beta=1.0):
        r"""Exact mean force :math:`-F'(x) = -U_1'(x) - \frac{k_BT}{2} \kappa'(x)/\kappa(x)`."""
        beta = as_positive_scalar(beta, "beta")
        x = as_float_array(x, "x")
        return -self._du1(x) - 0.5 / beta * self._dlog_kappa(x)

    def sample(self, n, *, beta=1.0, seed=None):
        r"""``n`` exact samples ``(n, 2)``: :math:`x` from :math:`e^{-\beta F}`, then :math:`y | x \sim \mathcal N(0, 1/\beta\kappa(x))`."""
        rng = as_generator(seed)
        x, beta = self._sample_x(n, beta, rng)
        y = rng.normal(size=x.size) / np.sqrt(beta * self.kappa(x))
        return np.stack([x, y], axis=1)


# --------------------------------------------------------------------------- Gaussian chain
@dataclass(frozen=True)
class IdealCGChain:
    """The best ideal CG chain for a mapped Gaussian chain (:meth:`GaussianChain.ideal_cg_chain`).

    Attributes
    ----------
    spring : float
        Spring constant :math:`K^*` of the ideal CG chain that minimises the relative entropy.
    relative_entropy : float
        The relative entropy at :math:`K^*` (nats).

    Examples
    --------
    >>> best = GaussianChain(8, k=1.0).ideal_cg_chain("decimation", 2)
    >>> best.spring, abs(best.relative_entropy) < 1e-12
    (0.5, True)
    """

    spring: float
    relative_entropy: float
_CHAIN_MAPPINGS = ("decimation", "center_of_mass")


@functools.lru_cache(maxsize=None)
def _chain_kernel(n_beads, dim, k):
    @njit
    def force_kernel(flat):
        out = np.zeros(n_beads * dim)
        for i in range(n_beads - 1):
            for d in range(dim):
                f = k * (flat[(i + 1) * dim + d] - flat[i * dim + d])
                out[i * dim + d] += f
                out[(i + 1) * dim + d] -= f
        return out

    return force_kernel


class GaussianChain:
    r"""Ideal harmonic chain of ``n_beads`` beads (the Rouse / Gaussian chain).

    .. math::

        U(\mathbf r_0, \dots, \mathbf r_{N-1}) = \frac{k}{2} \sum_{i=0}^{N-2} |\mathbf r_{i+1} - \mathbf r_i|^2 .

    The bond vectors :math:`\mathbf b_i = \mathbf r_{i+1} - \mathbf r_i` are
    independent Gaussians with variance :math:`k_BT/k` per Cartesian component,
    so the chain is sampled exactly (with :math:`\mathbf r_0 = 0`; the energy is
    translation invariant).  Every linear mapping :math:`\mathbf R = M \mathbf r`
    gives Gaussian CG bond vectors :math:`\mathbf B = D M L\, \mathbf b` whose
    covariance :math:`\frac{k_BT}{k} (DML)(DML)^\top` (per component) is exact:

    * ``"decimation"`` (keep every ``block``-th bead): CG bonds are sums of
      ``block`` independent bonds, uncorrelated, with variance
      :math:`\text{block}\,k_BT/k` — an ideal chain with spring :math:`k/\text{block}`.
    * ``"center_of_mass"`` (blocks of ``block`` consecutive beads): CG bond variance
      :math:`\frac{k_BT}{k}\big(1 + \frac{(m-1)(2m-1)}{3m}\big)` and neighbouring
      CG bonds correlated with covariance :math:`\frac{k_BT}{k}\frac{m^2-1}{6m}`:
      no ideal CG chain reproduces it exactly.

    Configurations have shape ``(..., n_beads, dim)``; ``force_kernel`` works on a
    flat vector of length ``n_beads * dim``.

    Parameters
    ----------
    n_beads : int
        Beads of the chain (>= 2).
    k : float
        Spring constant (> 0).
    dim : int
        Cartesian dimensions per bead.

    Examples
    --------
    >>> from remlib.systems import GaussianChain
    >>> chain = GaussianChain(7, k=2.0)
    >>> chain.cg_bond_covariance("decimation", 3).round(3).tolist()
    [[1.5, 0.0], [0.0, 1.5]]
    >>> chain.sample(4, seed=0).shape
    (4, 7, 1)
    """

    def __init__(self, n_beads, k=1.0, *, dim=1):
        self.n_beads = as_positive_int(n_beads, "n_beads", minimum=2)
        check_memory("n_beads", self.n_beads, 8.0 * self.n_beads**2)  # (n_beads, n_beads) matrices
        self.k = as_positive_scalar(k, "k")
        self.dim = as_count(dim, "dim", 8 * self.n_beads)

    def __repr__(self):
        return f"GaussianChain(n_beads={self.n_beads}, k={self.k}, dim={self.dim})"

    def _positions(self, positions):
        positions = as_float_array(positions, "positions")
        if positions.ndim < 2 or positions.shape[-2:] != (self.n_beads, self.dim):
            raise ValueError(f"positions must have shape (..., {self.n_beads}, {self.dim}), got {positions.shape}")
        return positions

    def bond_vectors(self, positions):
        """:math:`\\mathbf b_i = \\mathbf r_{i+1} - \\mathbf r_i`, shape ``(..., n_beads - 1, dim)``."""
        return np.diff(self._positions(positions), axis=-2)

    def energy(self, positions):
        """:math:`U` for configurations ``(..., n_beads, dim)``; returns shape ``(...)``."""
        bonds = self.bond_vectors(positions)
        return 0.5 * self.k * np.sum(bonds * bonds, axis=(-2, -1))

    def force(self, positions):
        r""":math:`-\partial U / \partial \mathbf r_i`, same shape as ``positions``."""
        bonds = self.bond_vectors(positions)
        force = np.zeros(bonds.shape[:-2] + (self.n_beads, self.dim))
        force[..., :-1, :] += self.k * bonds
        force[..., 1:, :] -= self.k * bonds
        return force

    @property
    def force_kernel(self):
        """numba function ``f(flat) -> force`` on one flattened configuration ``(n_beads * dim,)``."""
        return _chain_kernel(self.n_beads, self.dim, self.k)

    def sample(self, n, *, beta=1.0, seed=None):
        """``n`` exact independent configurations ``(n, n_beads, dim)`` with the first bead at the origin."""
        n = as_count(n, "n", 2 * 8 * self.n_beads * self.dim)
        beta = as_positive_scalar(beta, "beta")
        bonds = as_generator(seed).normal(scale=1.0 / np.sqrt(beta * self.k), size=(n, self.n_beads - 1, self.dim))
        positions = np.zeros((n, self.n_beads, self.dim))
        positions[:, 1:, :] = np.cumsum(bonds, axis=1)
        return positions

    def mapping_matrix(self, mapping, block):
        """The linear CG map :math:`M` of shape ``(n_cg, n_beads)``: ``R = M @ r``.

        ``"decimation"`` keeps beads ``0, block, 2 block, ...``; ``"center_of_mass"``
        averages consecutive blocks of ``block`` beads (``n_beads`` must be a multiple).
        """
        if mapping not in _CHAIN_MAPPINGS:
            raise ValueError(f"mapping must be one of {_CHAIN_MAPPINGS}, got {mapping!r}")
        block = as_positive_int(block, "block")
        if block > self.n_beads - 1:
            raise ValueError(f"block must be at most n_beads - 1 = {self.n_beads - 1} (two CG sites), got {block}")
        if mapping == "decimation":
            kept = np.arange(0, self.n_beads, block)
            matrix = np.zeros((kept.size, self.n_beads))
            matrix[np.arange(kept.size), kept] = 1.0
            return matrix
        if self.n_beads % block:
            raise ValueError(f"block ({block}) must divide n_beads ({self.n_beads}) for the centre-of-mass mapping")
        return np.kron(np.eye(self.n_beads // block), np.full((1, block), 1.0 / block))

    def map(self, positions, mapping, block):
        """CG positions ``(..., n_cg, dim)`` of configurations ``(..., n_beads, dim)``."""
        return np.einsum("Ji,...id->...Jd", self.mapping_matrix(mapping, block), self._positions(positions))

    def cg_bond_covariance(self, mapping, block, *, beta=1.0):
        r"""Exact covariance ``(n_cg - 1, n_cg - 1)`` of one Cartesian component of the CG bond vectors.

        .. math::

            \operatorname{Cov}(\mathbf B) = \frac{k_BT}{k} A A^\top,\qquad A = D\,M\,L,

        with :math:`L` the bonds-to-positions map (:math:`\mathbf r_0 = 0`) and
        :math:`D` the CG difference operator.  Components are independent and identical.
        """
        beta = as_positive_scalar(beta, "beta")
        matrix = self.mapping_matrix(mapping, block)
        to_positions = np.tril(np.ones((self.n_beads, self.n_beads - 1)), k=-1)
        a = np.diff(matrix @ to_positions, axis=0)
        return a @ a.T / (beta * self.k)

    def ideal_cg_chain(self, mapping, block, *, beta=1.0):
        r"""The REM-optimal ideal CG chain for a mapping, and its exact relative entropy.

        The CG model is an ideal chain of the CG sites,
        :math:`U_{\mathrm{CG}} = \frac{K}{2}\sum_J |\mathbf B_J|^2` (one parameter).
        Moment matching, :math:`\langle \sum_J |\mathbf B_J|^2\rangle_K =
        \langle \sum_J |\mathbf B_J|^2\rangle_{\mathrm{map}}`, gives
        :math:`K^* = (n_{cg} - 1) / (\beta \operatorname{tr}\Sigma)` with :math:`\Sigma`
        from :meth:`cg_bond_covariance`, and, per Cartesian component,

        .. math::

            S_{\mathrm{rel}} = \mathrm{dim} \times
            D\big(\mathcal N(0, \Sigma) \,\|\, \mathcal N(0, I / \beta K^*)\big),

        which is 0 for decimation and positive for centre-of-mass blocks (correlated
        CG bonds that no ideal chain reproduces).  CG bonds and CG positions modulo a
        translation are related by a unit-Jacobian linear map, so this is the relative
        entropy of the CG configurations.

        Returns
        -------
        IdealCGChain
            ``spring`` and ``relative_entropy``.

        Examples
        --------
        >>> from remlib.systems import GaussianChain
        >>> chain = GaussianChain(8, k=1.0, dim=3)
        >>> chain.ideal_cg_chain("decimation", 2).spring
        0.5
        >>> round(chain.ideal_cg_chain("center_of_mass", 2).relative_entropy, 4)
        0.0857
        """
        from remlib.divergence import kl_gaussian

        beta = as_positive_scalar(beta, "beta")
        cov = self.cg_bond_covariance(mapping, block, beta=beta)
        n_bonds = cov.shape[0]
        spring = n_bonds / (beta * np.trace(cov))
        model = np.eye(n_bonds) / (beta * spring)
        value = self.dim * kl_gaussian(np.zeros(n_bonds), cov, np.zeros(n_bonds), model)
        return IdealCGChain(float(spring), float(value))


# --------------------------------------------------------------------------- Ising chain
@dataclass(frozen=True, eq=False)
class BlockSpinMapping:
    """A block-spin CG mapping of an :class:`IsingChain` (:meth:`IsingChain.block_spin`).

    Attributes
    ----------
    labels : ndarray of int, shape (2**n_spins,)
        The CG state of every microstate.
    n_states : int
        Number of CG states.
    cg_spins : ndarray of int, shape (n_states, n_blocks)
        The block spins of every CG state.

    Examples
    --------
    >>> mapping = IsingChain(4).block_spin(2)
    >>> mapping.n_states, mapping.cg_spins.shape, mapping.labels.shape
    (4, (4, 2), (16,))
    """

    labels: np.ndarray
    n_states: int
    cg_spins: np.ndarray
_BLOCK_RULES = ("majority", "magnetization")


class IsingChain:
    r"""A 1-D Ising chain small enough to enumerate all :math:`2^n` states.

    .. math::

        E(\mathbf s) = -J \sum_{\langle i, j\rangle} s_i s_j - h \sum_i s_i,
        \qquad P(\mathbf s) = e^{-\beta E(\mathbf s)} / Z,

    with nearest-neighbour pairs :math:`(i, i+1)` (and :math:`(n-1, 0)` if ``periodic``).
    State index :math:`k` has spin :math:`s_i = +1` when bit :math:`i` of :math:`k` is set.

    Parameters
    ----------
    n_spins : int
        Number of spins, 2 to 20.
    J, h : float
        Coupling and field (kT units times ``beta``).
    beta : float
        Inverse temperature.
    periodic : bool
        Whether spin ``n - 1`` couples to spin ``0``.

    Examples
    --------
    >>> from remlib.systems import IsingChain
    >>> chain = IsingChain(4, J=1.0, beta=0.5)
    >>> chain.states.shape
    (16, 4)
    >>> mapping = chain.block_spin(2)
    >>> mapping.n_states, mapping.cg_spins.tolist()
    (4, [[-1, -1], [1, -1], [-1, 1], [1, 1]])
    """

    def __init__(self, n_spins, J=1.0, h=0.0, *, beta=1.0, periodic=True):
        self.n_spins = as_positive_int(n_spins, "n_spins", minimum=2)
        if self.n_spins > 20:
            raise ValueError(f"n_spins must be <= 20 for exact enumeration, got {self.n_spins}")
        self.J = _as_real(J, "J")
        self.h = _as_real(h, "h")
        self.beta = as_positive_scalar(beta, "beta")
        self.periodic = as_flag(periodic, "periodic")
        bits = (np.arange(2**self.n_spins)[:, None] >> np.arange(self.n_spins)) & 1
        #: all states, shape ``(2**n_spins, n_spins)``, entries ±1
        self.states = (2 * bits - 1).astype(np.int64)

    def __repr__(self):
        return f"IsingChain(n_spins={self.n_spins}, J={self.J}, h={self.h}, beta={self.beta}, periodic={self.periodic})"

    def energy(self, spins):
        """:math:`E(\\mathbf s)` for spin configurations ``(..., n_spins)`` of ±1."""
        spins = as_float_array(spins, "spins")
        if spins.ndim == 0 or spins.shape[-1] != self.n_spins:
            raise ValueError(f"spins must have shape (..., {self.n_spins}), got {spins.shape}")
        if np.any(np.abs(spins) != 1):
            raise ValueError("spins must be +1 or -1")
        pairs = spins[..., :-1] * spins[..., 1:]
        coupling = pairs.sum(axis=-1)
        if self.periodic:
            coupling = coupling + spins[..., -1] * spins[..., 0]
        return -self.J * coupling - self.h * spins.sum(axis=-1)

    @functools.cached_property
    def energies(self):
        """Energies of all states, shape ``(2**n_spins,)``."""
        return self.energy(self.states)

    @functools.cached_property
    def log_partition(self):
        r""":math:`\ln Z = \ln \sum_{\mathbf s} e^{-\beta E(\mathbf s)}` by enumeration."""
        return logsumexp(-self.beta * self.energies)

    @property
    def probabilities(self):
        """Exact Boltzmann probabilities of all states, shape ``(2**n_spins,)``."""
        return np.exp(-self.beta * self.energies - self.log_partition)

    def sample(self, n, *, seed=None):
        """Indices ``(n,)`` of ``n`` exact independent samples (``states[indices]`` gives the spins)."""
        n = as_count(n, "n", 8)
        return as_generator(seed).choice(self.states.shape[0], size=n, p=self.probabilities)

    def block_spin(self, block_size, rule="majority"):
        r"""Block-spin mapping: an integer CG label for every microstate.

        The chain is cut into ``n_spins / block_size`` consecutive blocks.

        * ``"majority"``: a block's CG spin is the sign of its spin sum; a tie
          (even ``block_size``, zero sum) takes the block's first spin.  Label
          :math:`\sum_b [S_b = +1]\, 2^b`; ``cg_spins`` are ±1.
        * ``"magnetization"``: a block's CG value is its spin sum
          :math:`S_b \in \{-m, -m+2, \dots, m\}`; label in base :math:`m + 1` with
          digit :math:`(S_b + m)/2`; ``cg_spins`` are the sums.

        Returns
        -------
        BlockSpinMapping
            ``labels`` ``(2**n_spins,)`` ints in ``range(n_states)``, ``n_states``,
            and ``cg_spins`` ``(n_states, n_blocks)``, the CG configuration of each label.
        """
        block_size = as_positive_int(block_size, "block_size")
        if self.n_spins % block_size:
            raise ValueError(f"block_size ({block_size}) must divide n_spins ({self.n_spins})")
        if rule not in _BLOCK_RULES:
            raise ValueError(f"rule must be one of {_BLOCK_RULES}, got {rule!r}")
        n_blocks = self.n_spins // block_size
        blocks = self.states.reshape(-1, n_blocks, block_size)
        sums = blocks.sum(axis=2)
        if rule == "majority":
            cg = np.where(sums != 0, np.sign(sums), blocks[:, :, 0])
            base, digits = 2, (cg + 1) // 2
        else:
            cg = sums
            base, digits = block_size + 1, (sums + block_size) // 2
        place = base ** np.arange(n_blocks)
        labels = digits @ place
        n_states = base**n_blocks
        label_digits = (np.arange(n_states)[:, None] // place) % base
        cg_spins = 2 * label_digits - 1 if rule == "majority" else 2 * label_digits - block_size
        return BlockSpinMapping(labels.astype(np.int64), int(n_states), cg_spins.astype(np.int64))
