r"""Coarse-grained energies that are linear in their parameters.

A basis is a list of scalar functions :math:`\phi_i` of the CG coordinate :math:`R`;
the CG potential is

.. math:: U(R; \theta) = \sum_{i=1}^{m} \theta_i \, \phi_i(R),

so the relative entropy is a convex function of :math:`\theta` and its gradient and
Hessian are averages of :math:`\phi` (see :mod:`remlib.rem`).  Calling a basis on
samples returns the *design matrix* :math:`\Phi_{ki} = \phi_i(R_k)` of shape
``(n_samples, n_functions)``; :meth:`Basis.derivative` gives
:math:`\partial\phi_i/\partial R` for forces, which force matching and drift fitting
use with the same :math:`\theta`.

Bases
-----
:class:`PolynomialBasis`  :math:`\phi_i = x^{p_i}`
:class:`GaussianBasis`    :math:`\phi_i = \exp(-(x - c_i)^2 / 2w^2)`
:class:`BSplineBasis`     cubic B-splines on uniform knots on ``[lower, upper]`` (pair potentials)
:class:`FourierBasis`     :math:`\cos kx, \sin kx` for periodic angles (torsions)
:class:`SeparableBasis`   :math:`U(x) = \sum_d U_d(x_d)` for few-dimensional coordinates

Compiled evaluation
-------------------
Each built-in basis describes itself to numba kernels by a small *spec* (integer kind
codes and parameter arrays, :meth:`Basis._spec`), and :func:`_energy` evaluates the
energy of one configuration from it.  :func:`_bspline_values` evaluates the four
non-zero cubic B-splines (and their derivatives) at one distance, for pair-potential
loops.  A user-defined subclass of :class:`Basis` needs only ``n_functions``,
``_design`` and ``_derivative``; it has no spec, and samplers then use a slower
pure-Python path.
"""
import math
from typing import NamedTuple

import numpy as np

from remlib._numba import njit
from remlib._validation import as_flag, as_float_array, as_positive_int, as_positive_scalar, as_theta, check_memory

__all__ = ["Basis", "PolynomialBasis", "GaussianBasis", "BSplineBasis", "FourierBasis", "SeparableBasis"]

# kind codes of the compiled evaluation path (one per built-in 1-D basis)
_POLYNOMIAL, _GAUSSIAN, _BSPLINE, _FOURIER = 0, 1, 2, 3
# x = upper counts as inside the B-spline interval despite rounding in (x - lower) / h
_UPPER_SLACK = 1e-9


class _Spec(NamedTuple):
    """Numba-friendly description of a (possibly separable) basis.

    Block ``b`` is a 1-D basis of kind ``kinds[b]`` acting on coordinate ``axes[b]``,
    with parameters ``params[pstart[b]:pstart[b+1]]`` and coefficients
    ``theta[tstart[b]:tstart[b+1]]``.
    """

    kinds: np.ndarray
    axes: np.ndarray
    pstart: np.ndarray
    params: np.ndarray
    tstart: np.ndarray


def _single_spec(kind, params, n_functions):
    return _Spec(
        kinds=np.array([kind], dtype=np.int64),
        axes=np.array([0], dtype=np.int64),
        pstart=np.array([0, len(params)], dtype=np.int64),
        params=np.asarray(params, dtype=np.float64),
        tstart=np.array([0, n_functions], dtype=np.int64),
    )


class Basis:
    r"""Base class of CG energy bases, :math:`U(R;\theta) = \sum_i \theta_i \phi_i(R)`.

    Subclasses set ``n_functions`` (and ``dim`` if the coordinate has more than one
    component) and implement ``_design(x)`` and ``_derivative(x)`` (1-D) or
    ``_gradient(x)`` (``dim > 1``) on validated input: ``x`` of shape ``(n,)`` when
    ``dim == 1``, else ``(n, dim)``.

    Attributes
    ----------
    n_functions : int
        Number of basis functions :math:`m`.
    dim : int
        Number of components of the coordinate :math:`R` (1 for the 1-D bases).

    Examples
    --------
    A user-defined basis, :math:`\phi = [x^2, |x|]`:

    >>> import numpy as np
    >>> class MyBasis(Basis):
    ...     n_functions = 2
    ...     def _design(self, x):
    ...         return np.column_stack([x**2, np.abs(x)])
    ...     def _derivative(self, x):
    ...         return np.column_stack([2 * x, np.sign(x)])
    >>> MyBasis().energy([1.0, -2.0], [1.0, 0.5]).tolist()
    [1.5, 5.0]
    """

    n_functions = 0
    dim = 1

    # ----- public protocol -------------------------------------------------
    def __call__(self, x):
        """Design matrix :math:`\\Phi_{ki} = \\phi_i(x_k)`, shape ``(n_samples, n_functions)``."""
        return self._design(self._check_x(x))

    def derivative(self, x):
        """:math:`\\partial \\phi_i / \\partial x` at each sample, shape ``(n_samples, n_functions)``.

        Only for 1-D bases; multi-dimensional bases use :meth:`gradient`.
        """
        if self.dim != 1:
            raise TypeError(f"{type(self).__name__} acts on {self.dim}-dimensional x; use gradient(x)")
        return self._derivative(self._check_x(x))

    def gradient(self, x):
        """:math:`\\nabla_x \\phi_i` at each sample, shape ``(n_samples, n_functions, dim)``."""
        x = self._check_x(x)
        if self.dim == 1:
            return self._derivative(x)[:, :, None]
        return self._gradient(x)

    def energy(self, x, theta):
        r""":math:`U(x;\theta) = \Phi(x)\,\theta`, shape ``(n_samples,)``."""
        return self(x) @ as_theta(theta, self.n_functions)

    def force(self, x, theta):
        r"""Force :math:`-\nabla_x U(x;\theta)`: shape ``(n_samples,)`` for 1-D bases, else ``(n_samples, dim)``."""
        theta = as_theta(theta, self.n_functions)
        if self.dim == 1:
            return -(self.derivative(x) @ theta)
        return -np.einsum("kid,i->kd", self.gradient(x), theta)

    # ----- helpers for subclasses and other modules ------------------------
    def _check_x(self, x):
        """Validate ``x``: ``(n,)`` or ``(n, 1)`` (or a scalar) for 1-D bases, ``(n, dim)`` otherwise."""
        array = as_float_array(x, "x", allow_empty=True, finite=False)
        if np.isnan(array).any():
            raise ValueError("x contains NaN values")
        if self.dim == 1:
            if array.ndim == 0:
                return array.reshape(1)
            if array.ndim == 2 and array.shape[1] == 1:
                return array[:, 0]
            if array.ndim != 1:
                raise ValueError(f"x must have shape (n,) or (n, 1) for a 1-D basis, got {array.shape}")
            return array
        if array.ndim == 1 and array.shape[0] == self.dim:
            return array.reshape(1, self.dim)
        if array.ndim != 2 or array.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n, {self.dim}) for this {self.dim}-dimensional basis, got {array.shape}")
        return array

    def _spec(self):
        """The numba spec (:class:`_Spec`) of this basis, or ``None`` if it has none."""
        return None

    def _design(self, x):
        raise NotImplementedError(f"{type(self).__name__} must implement _design(x)")

    def _derivative(self, x):
        raise NotImplementedError(f"{type(self).__name__} must implement _derivative(x)")

    def _gradient(self, x):
        raise NotImplementedError(f"{type(self).__name__} must implement _gradient(x)")

    def __repr__(self):
        return f"{type(self).__name__}(n_functions={self.n_functions})"


def _integer_powers(x, powers):
    """``x[:, None] ** powers[None, :]`` for integer powers by repeated squaring.

    ``float ** float`` calls the general ``pow`` for every entry; squaring needs
    about ``log2(max |p|)`` multiplications per entry instead (negative powers use
    ``1 / x``; callers reject ``x = 0`` for them).
    """
    powers = np.asarray(powers, dtype=np.int64)
    exponent = np.abs(powers)
    with np.errstate(divide="ignore"):
        base = np.where(powers[None, :] < 0, 1.0 / x[:, None], x[:, None])
    result = np.ones((x.size, powers.size))
    while np.any(exponent):
        odd = (exponent & 1).astype(bool)
        result[:, odd] *= base[:, odd]
        exponent = exponent >> 1
        with np.errstate(over="ignore"):  # columns whose exponent is used up may overflow unused
            base = base * base
    return result


class PolynomialBasis(Basis):
    r"""Monomials :math:`\phi_i(x) = x^{p_i}`.

    Parameters
    ----------
    powers : sequence of int
        Distinct integer powers.  Negative powers (e.g. ``-12, -6`` for a
        Lennard-Jones-like pair basis) are allowed but then ``x = 0`` is rejected.
        A power 0 (a constant) is allowed, but note that a constant shifts the energy
        only: it cannot be fitted by REM (the Hessian is singular).

    Examples
    --------
    >>> basis = PolynomialBasis([2, 4])
    >>> basis([1.0, 2.0]).tolist()
    [[1.0, 1.0], [4.0, 16.0]]
    >>> basis.force([2.0], [-2.0, 1.0]).tolist()   # -dU/dx of x^4 - 2x^2 at x = 2
    [-24.0]
    """

    def __init__(self, powers):
        powers = np.asarray(powers)
        if powers.ndim != 1 or powers.size == 0:
            raise ValueError(f"powers must be a non-empty 1-D sequence of integers, got shape {powers.shape}")
        if not (np.issubdtype(powers.dtype, np.integer) or
                (np.issubdtype(powers.dtype, np.floating) and np.all(powers == np.round(powers)))):
            raise TypeError(f"powers must be integers, got {powers.tolist()}")
        powers = powers.astype(np.int64)
        if len(set(powers.tolist())) != powers.size:
            raise ValueError(f"powers must be distinct, got {powers.tolist()}")
        self.powers = powers
        self.n_functions = int(powers.size)

    def _check_domain(self, x):
        if np.any(self.powers < 0) and np.any(x == 0):
            raise ValueError("x contains 0, where the negative powers of this PolynomialBasis are infinite")

    def _design(self, x):
        self._check_domain(x)
        return _integer_powers(x, self.powers)

    def _derivative(self, x):
        self._check_domain(x)
        # d/dx x^p = p x^(p-1); the power-0 column is 0 (x^-1 is never formed for it)
        shifted = np.where(self.powers == 0, 1, self.powers - 1)
        return np.where(self.powers == 0, 0.0, self.powers * _integer_powers(x, shifted))

    def _spec(self):
        return _single_spec(_POLYNOMIAL, self.powers.astype(np.float64), self.n_functions)

    def __repr__(self):
        return f"PolynomialBasis(powers={self.powers.tolist()})"


class GaussianBasis(Basis):
    r"""Gaussian bumps :math:`\phi_i(x) = \exp\!\left(-\frac{(x - c_i)^2}{2 w^2}\right)`.

    Parameters
    ----------
    centers : array_like, shape (m,)
        Distinct centres :math:`c_i`.
    width : float
        Common width :math:`w > 0`.

    Examples
    --------
    >>> basis = GaussianBasis([-1.0, 1.0], width=0.5)
    >>> basis([1.0]).round(4).tolist()
    [[0.0003, 1.0]]
    """

    def __init__(self, centers, width):
        centers = as_float_array(centers, "centers", ndim=(0, 1)).reshape(-1)
        if np.unique(centers).size != centers.size:
            raise ValueError("centers must be distinct (equal centres give linearly dependent functions)")
        self.centers = centers
        self.width = as_positive_scalar(width, "width")
        self.n_functions = int(centers.size)

    def _design(self, x):
        z = (x[:, None] - self.centers[None, :]) / self.width
        return np.exp(-0.5 * z * z)

    def _derivative(self, x):
        z = (x[:, None] - self.centers[None, :]) / self.width
        return -z / self.width * np.exp(-0.5 * z * z)

    def _spec(self):
        return _single_spec(_GAUSSIAN, np.concatenate([[self.width], self.centers]), self.n_functions)

    def __repr__(self):
        return f"GaussianBasis(centers={self.centers.tolist()}, width={self.width})"


class BSplineBasis(Basis):
    r"""Cubic B-splines on uniform knots covering ``[lower, upper]``.

    With spacing :math:`h = (\mathrm{upper} - \mathrm{lower}) / (m - 3)` and knots
    :math:`t_j = \mathrm{lower} + (j - 3) h`, spline :math:`B_i` (:math:`i = 0..m-1`)
    is supported on :math:`[t_i, t_{i+4}]`.  On the interval
    :math:`x \in [\mathrm{lower} + k h, \mathrm{lower} + (k+1) h]` only
    :math:`B_k, \dots, B_{k+3}` are non-zero; with :math:`u = (x - \mathrm{lower})/h - k`

    .. math::
        B_k = \tfrac{(1-u)^3}{6},\quad B_{k+1} = \tfrac{3u^3 - 6u^2 + 4}{6},\quad
        B_{k+2} = \tfrac{-3u^3 + 3u^2 + 3u + 1}{6},\quad B_{k+3} = \tfrac{u^3}{6},

    and :math:`\sum_i B_i(x) = 1` on ``[lower, upper]`` (partition of unity).

    With ``vanish_at_upper=True`` the knots are spaced :math:`h = (\mathrm{upper} -
    \mathrm{lower}) / m` and only the :math:`m` splines whose support ends at or before
    ``upper`` are kept (:math:`t_{i+4} \le t_{m+3} = \mathrm{upper}`): every potential
    :math:`\sum_i \theta_i B_i` then goes to zero at ``upper`` with two continuous
    derivatives (no jump in value or force at a cutoff), at the price of not representing
    a constant near ``upper`` (no partition of unity there).

    Outside the interval (a choice made for pair potentials on ``[r_min, r_cut]``):

    * ``x > upper``: every function is **zero** (the potential is cut at ``upper``;
      it jumps there by :math:`U(\mathrm{upper}^-)` unless the fit makes that small, or
      ``vanish_at_upper`` removes the jump).
    * ``x < lower``: calling the basis raises ``ValueError``; the compiled samplers
      treat it as an infinite wall (the move is rejected).

    Because the splines sum to one on ``[lower, upper]``, adding a constant to every
    :math:`\theta_i` only shifts the energy there.  A REM fit whose data all lie in
    ``[lower, upper]`` therefore cannot determine :math:`\theta` (singular Hessian);
    pair potentials avoid this because pairs beyond ``upper`` have zero energy.

    Parameters
    ----------
    lower, upper : float
        The interval, ``lower < upper``.
    n_functions : int
        Number of splines :math:`m \ge 4`.
    vanish_at_upper : bool
        Keep only splines that vanish at ``upper`` with their first two derivatives.

    Examples
    --------
    >>> basis = BSplineBasis(0.0, 1.0, 5)
    >>> basis([0.25]).round(4).tolist()
    [[0.0208, 0.4792, 0.4792, 0.0208, 0.0]]
    >>> float(basis([0.7]).sum())            # partition of unity
    1.0
    >>> basis([1.5]).tolist()                # zero beyond upper
    [[0.0, 0.0, 0.0, 0.0, 0.0]]
    >>> smooth = BSplineBasis(0.0, 1.0, 5, vanish_at_upper=True)
    >>> float(np.abs(smooth([1.0])).max()), float(np.abs(smooth.derivative([1.0])).max())  # u, u' vanish at upper
    (0.0, 0.0)
    """

    def __init__(self, lower, upper, n_functions, vanish_at_upper=False):
        lower = as_float_array(lower, "lower", ndim=0).item()
        upper = as_float_array(upper, "upper", ndim=0).item()
        if not upper > lower:
            raise ValueError(f"upper must be greater than lower, got lower={lower}, upper={upper}")
        self.lower, self.upper = lower, upper
        self.n_functions = as_positive_int(n_functions, "n_functions", minimum=4)
        check_memory("n_functions", self.n_functions, 8.0 * self.n_functions**2)  # an (m, m) Hessian
        self.vanish_at_upper = as_flag(vanish_at_upper, "vanish_at_upper")
        # splines of the full uniform basis on [lower, upper]; the last three are dropped if vanish_at_upper
        self._n_full = self.n_functions + 3 if self.vanish_at_upper else self.n_functions
        self.spacing = (upper - lower) / (self._n_full - 3)

    @property
    def knots(self):
        """The uniform knots :math:`t_0, \\dots, t_{m+3}`."""
        return self.lower + (np.arange(self._n_full + 4) - 3) * self.spacing

    def _local(self, x):
        if np.any(x < self.lower):
            raise ValueError(f"x contains values below lower={self.lower}, where BSplineBasis is not defined")
        s = (x - self.lower) / self.spacing  # same arithmetic as the compiled _bspline_values
        inside = s <= self._n_full - 3 + _UPPER_SLACK
        s = np.where(inside, s, 0.0)
        k = np.minimum(np.floor(s).astype(np.int64), self._n_full - 4)
        return inside, k, np.minimum(s - k, 1.0)

    def _scatter(self, inside, k, local):
        out = np.zeros((k.size, self._n_full))
        rows = np.arange(k.size)
        for j in range(4):
            out[rows, k + j] = np.where(inside, local[j], 0.0)
        return out[:, :self.n_functions]

    def _design(self, x):
        inside, k, u = self._local(x)
        v = 1.0 - u
        local = (v**3 / 6, (3 * u**3 - 6 * u**2 + 4) / 6, (-3 * u**3 + 3 * u**2 + 3 * u + 1) / 6, u**3 / 6)
        return self._scatter(inside, k, local)

    def _derivative(self, x):
        inside, k, u = self._local(x)
        h = self.spacing
        local = (-((1 - u) ** 2) / (2 * h), (3 * u**2 - 4 * u) / (2 * h),
                 (-3 * u**2 + 2 * u + 1) / (2 * h), u**2 / (2 * h))
        return self._scatter(inside, k, local)

    def _spec(self):
        if self.vanish_at_upper:
            return None  # the compiled kernels know the full basis only
        return _single_spec(_BSPLINE, [self.lower, self.upper, float(self.n_functions)], self.n_functions)

    def __repr__(self):
        smooth = ", vanish_at_upper=True" if self.vanish_at_upper else ""
        return f"BSplineBasis(lower={self.lower}, upper={self.upper}, n_functions={self.n_functions}{smooth})"


class FourierBasis(Basis):
    r"""Periodic functions :math:`\cos kx` (and :math:`\sin kx`), :math:`k = 1..K`, for angles.

    The functions are ordered :math:`[\cos x, \dots, \cos Kx, \sin x, \dots, \sin Kx]`;
    a constant is left out because it does not change the Boltzmann distribution.

    Parameters
    ----------
    order : int
        Highest harmonic :math:`K \ge 1`.
    sine : bool
        Include the sine terms (default); ``False`` gives an even (symmetric) basis.

    Examples
    --------
    >>> basis = FourierBasis(2)
    >>> basis([0.0]).tolist()
    [[1.0, 1.0, 0.0, 0.0]]
    >>> FourierBasis(3, sine=False).n_functions
    3
    """

    def __init__(self, order, *, sine=True):
        self.order = as_positive_int(order, "order")
        check_memory("order", self.order, 8.0 * (2 * self.order) ** 2)  # an (m, m) Hessian
        if not isinstance(sine, (bool, np.bool_)):
            raise TypeError(f"sine must be True or False, got {type(sine).__name__}")
        self.sine = bool(sine)
        self.n_functions = self.order * (2 if self.sine else 1)

    def _angles(self, x):
        return x[:, None] * np.arange(1, self.order + 1)[None, :]

    def _design(self, x):
        a = self._angles(x)
        return np.hstack([np.cos(a), np.sin(a)]) if self.sine else np.cos(a)

    def _derivative(self, x):
        a = self._angles(x)
        k = np.arange(1, self.order + 1)[None, :]
        return np.hstack([-k * np.sin(a), k * np.cos(a)]) if self.sine else -k * np.sin(a)

    def _spec(self):
        return _single_spec(_FOURIER, [float(self.order), float(self.sine)], self.n_functions)

    def __repr__(self):
        return f"FourierBasis(order={self.order}, sine={self.sine})"


class SeparableBasis(Basis):
    r"""A sum of 1-D bases, one per coordinate: :math:`U(x) = \sum_d U_d(x_d; \theta^{(d)})`.

    The parameter vector is the concatenation :math:`\theta = (\theta^{(0)}, \theta^{(1)}, \dots)`.

    Parameters
    ----------
    *bases : Basis
        One 1-D basis per coordinate, in order.

    Examples
    --------
    >>> basis = SeparableBasis(PolynomialBasis([2]), FourierBasis(1, sine=False))
    >>> basis([[2.0, 0.0]]).tolist()
    [[4.0, 1.0]]
    >>> basis.gradient([[2.0, 0.0]]).shape
    (1, 2, 2)
    """

    def __init__(self, *bases):
        if len(bases) < 2:
            raise ValueError("SeparableBasis needs at least two 1-D bases (one per coordinate)")
        for i, b in enumerate(bases):
            if not isinstance(b, Basis) or b.dim != 1:
                raise TypeError(f"bases[{i}] must be a 1-D Basis, got {b!r}")
        self.bases = tuple(bases)
        self.dim = len(bases)
        self._offsets = np.cumsum([0] + [b.n_functions for b in bases])
        self.n_functions = int(self._offsets[-1])

    def _design(self, x):
        return np.hstack([b(x[:, d]) for d, b in enumerate(self.bases)])

    def _gradient(self, x):
        out = np.zeros((x.shape[0], self.n_functions, self.dim))
        for d, b in enumerate(self.bases):
            out[:, self._offsets[d]:self._offsets[d + 1], d] = b.derivative(x[:, d])
        return out

    def _spec(self):
        specs = [b._spec() for b in self.bases]
        if any(s is None for s in specs):
            return None
        sizes = [s.params.size for s in specs]
        return _Spec(
            kinds=np.concatenate([s.kinds for s in specs]),
            axes=np.arange(self.dim, dtype=np.int64),
            pstart=np.cumsum([0] + sizes).astype(np.int64),
            params=np.concatenate([s.params for s in specs]),
            tstart=self._offsets.astype(np.int64),
        )

    def __repr__(self):
        return f"SeparableBasis({', '.join(map(repr, self.bases))})"


# ----------------------------------------------------------------------------
# numba kernels
# ----------------------------------------------------------------------------
@njit
def _bspline_values(r, lower, h, n, values, derivatives):
    """Non-zero cubic B-splines of :class:`BSplineBasis` at one point ``r``.

    Parameters
    ----------
    r : float
        The point (e.g. a pair distance).
    lower, h : float
        ``basis.lower`` and ``basis.spacing``; ``upper = lower + (n - 3) * h``.
    n : int
        ``basis.n_functions`` (>= 4).
    values, derivatives : float64 arrays of length >= 4 (output)
        Filled with :math:`B_{i_0+j}(r)` and :math:`B'_{i_0+j}(r)`, ``j = 0..3``.

    Returns
    -------
    i0 : int
        Index of the first non-zero spline (``0 <= i0 <= n - 4``); ``-1`` if
        ``r > upper`` (all splines are zero there; outputs are zeroed); ``-2`` if
        ``r < lower`` (outside the basis; the caller decides, outputs zeroed).
    """
    for j in range(4):
        values[j] = 0.0
        derivatives[j] = 0.0
    if r < lower:
        return -2
    s = (r - lower) / h
    if s > n - 3 + _UPPER_SLACK:
        return -1
    k = int(math.floor(s))
    if k > n - 4:
        k = n - 4
    u = min(s - k, 1.0)
    v = 1.0 - u
    values[0] = v * v * v / 6.0
    values[1] = (3.0 * u * u * u - 6.0 * u * u + 4.0) / 6.0
    values[2] = (-3.0 * u * u * u + 3.0 * u * u + 3.0 * u + 1.0) / 6.0
    values[3] = u * u * u / 6.0
    derivatives[0] = -v * v / (2.0 * h)
    derivatives[1] = (3.0 * u * u - 4.0 * u) / (2.0 * h)
    derivatives[2] = (-3.0 * u * u + 2.0 * u + 1.0) / (2.0 * h)
    derivatives[3] = u * u / (2.0 * h)
    return k


@njit
def _bspline_energy(r, lower, h, n, theta):
    r"""Energy and its derivative, :math:`(U(r), dU/dr)`, of a B-spline potential at one ``r``.

    Zero beyond ``upper``; ``(inf, 0)`` below ``lower``.  ``theta`` has length ``n``.
    """
    s = (r - lower) / h
    if r < lower:
        return np.inf, 0.0
    if s > n - 3 + _UPPER_SLACK:
        return 0.0, 0.0
    k = int(math.floor(s))
    if k > n - 4:
        k = n - 4
    u = min(s - k, 1.0)
    v = 1.0 - u
    a, b, c, d = theta[k], theta[k + 1], theta[k + 2], theta[k + 3]
    energy = (a * v * v * v + b * (3.0 * u * u * u - 6.0 * u * u + 4.0)
              + c * (-3.0 * u * u * u + 3.0 * u * u + 3.0 * u + 1.0) + d * u * u * u) / 6.0
    slope = (-a * v * v + b * (3.0 * u * u - 4.0 * u) + c * (-3.0 * u * u + 2.0 * u + 1.0) + d * u * u) / (2.0 * h)
    return energy, slope


@njit
def _ipow(x, power):
    """:math:`x^p` for an integer :math:`p \\ge 0` by repeated squaring (twice as fast as ``x**p`` in numba)."""
    result = 1.0
    while power:
        if power & 1:
            result *= x
        x *= x
        power >>= 1
    return result


@njit
def _block_energy(x, kind, params, theta):
    """Energy of one 1-D basis block at the point ``x`` (see :class:`_Spec`)."""
    total = 0.0
    if kind == _POLYNOMIAL:
        for i in range(theta.size):
            power = int(params[i])
            if power >= 0:
                total += theta[i] * _ipow(x, power)
            elif x == 0.0:
                return np.nan  # undefined, like PolynomialBasis.__call__ (which raises)
            else:
                total += theta[i] * _ipow(1.0 / x, -power)
    elif kind == _GAUSSIAN:
        inv = 1.0 / params[0]
        for i in range(theta.size):
            z = (x - params[i + 1]) * inv
            total += theta[i] * math.exp(-0.5 * z * z)
    elif kind == _BSPLINE:
        n = int(params[2])
        h = (params[1] - params[0]) / (n - 3)
        total = _bspline_energy(x, params[0], h, n, theta)[0]
    else:  # _FOURIER
        order = int(params[0])
        for k in range(order):
            total += theta[k] * math.cos((k + 1) * x)
            if params[1] != 0.0:
                total += theta[order + k] * math.sin((k + 1) * x)
    return total


@njit
def _energy(x, kinds, axes, pstart, params, tstart, theta):
    r"""Compiled :math:`U(x;\theta)` of one configuration ``x`` (shape ``(dim,)``) from a :class:`_Spec`."""
    if kinds.size == 1:
        return _block_energy(x[0], kinds[0], params, theta)
    total = 0.0
    for b in range(kinds.size):
        total += _block_energy(x[axes[b]], kinds[b], params[pstart[b]:pstart[b + 1]],
                               theta[tstart[b]:tstart[b + 1]])
    return total


@njit
def _energies(points, kinds, axes, pstart, params, tstart, theta):
    """:func:`_energy` over many configurations, ``points`` of shape ``(n, dim)``."""
    out = np.empty(points.shape[0])
    if kinds.size == 1:
        for k in range(points.shape[0]):
            out[k] = _block_energy(points[k, 0], kinds[0], params, theta)
        return out
    for k in range(points.shape[0]):
        out[k] = _energy(points[k], kinds, axes, pstart, params, tstart, theta)
    return out
