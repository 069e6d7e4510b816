r"""Coarse-graining a peptide onto its backbone dihedrals (and onto beads).

The CG coordinate of alanine dipeptide is the pair of backbone dihedrals
:math:`R = (\phi, \psi)` on the torus :math:`[-\pi, \pi)^2`.  Torsions are periodic,
so the natural linear basis for :math:`U(\phi, \psi; \theta)` is a 2-D Fourier
series (:class:`TorsionBasis`); the torus has a flat measure, so no Jacobian enters
the PMF.  Conformational basins of the Ramachandran plane (C7eq/C5/PII, αR, αL/C7ax)
are labelled by :func:`basin_labels` and their populations, with block-averaged
error bars, by :func:`basin_populations`.  :func:`map_to_beads` maps heavy-atom
positions onto a few beads for a bead-level CG model.
"""
from dataclasses import dataclass

import numpy as np

from remlib._stats import block_standard_error
from remlib._validation import as_float_array, as_positive_int, check_memory
from remlib.basis import Basis
from remlib.geometry import wrap_angle

__all__ = ["TorsionBasis", "TorusGrid", "torus_grid", "BASINS", "basin_labels", "BasinPopulations", "basin_populations",
           "block_standard_error", "map_to_beads"]


class TorsionBasis(Basis):
    r"""2-D Fourier basis on the torus of two dihedrals :math:`(\phi, \psi)`.

    The functions are, in this order,

    .. math::
        \cos k\phi,\ \sin k\phi \ (k = 1..K);\quad \cos l\psi,\ \sin l\psi \ (l = 1..K);\quad
        \{\cos k\phi, \sin k\phi\} \times \{\cos l\psi, \sin l\psi\} \ (k, l = 1..K_\times),

    i.e. the real form of :math:`e^{i(k\phi + l\psi)}` up to order :math:`K` in each
    angle alone and :math:`K_\times` in the coupling terms; the constant is left out.
    :math:`m = 4K + 4K_\times^2` functions.  ``cross_order=0`` gives the separable model
    :math:`U_1(\phi) + U_2(\psi)`.

    Parameters
    ----------
    order : int
        :math:`K \ge 1`.
    cross_order : int, optional
        :math:`0 \le K_\times \le K`; default :math:`K`.

    Examples
    --------
    >>> basis = TorsionBasis(2, cross_order=1)
    >>> basis.n_functions
    12
    >>> print(np.round(basis([[np.pi / 2, 0.0]])[0], 3) + 0.0)
    [ 0. -1.  1.  0.  1.  1.  0.  0.  0.  0.  1.  0.]
    """

    dim = 2

    def __init__(self, order, cross_order=None):
        self.order = as_positive_int(order, "order")
        cross = self.order if cross_order is None else cross_order
        self.cross_order = as_positive_int(cross, "cross_order", minimum=0)
        if self.cross_order > self.order:
            raise ValueError(f"cross_order must be <= order ({self.order}), got {self.cross_order}")
        self.n_functions = 4 * self.order + 4 * self.cross_order**2
        check_memory("order", self.order, 8.0 * self.n_functions**2)  # an (m, m) Hessian

    @staticmethod
    def _harmonics(angle, order):
        """cos and sin of k*angle, k = 1..order, and their derivatives: 4 arrays (n, order)."""
        k = np.arange(1, order + 1)[None, :]
        a = angle[:, None] * k
        c, s = np.cos(a), np.sin(a)
        return c, s, -k * s, k * c

    def _parts(self, x):
        """Values and derivatives of each block: list of (value, d/dphi, d/dpsi)."""
        K, Kc = self.order, self.cross_order
        cp, sp, dcp, dsp = self._harmonics(x[:, 0], K)
        cq, sq, dcq, dsq = self._harmonics(x[:, 1], K)
        zero = np.zeros_like(cp)
        blocks = [(cp, dcp, zero), (sp, dsp, zero), (cq, zero, dcq), (sq, zero, dsq)]
        n = x.shape[0]
        for f, df in ((cp[:, :Kc], dcp[:, :Kc]), (sp[:, :Kc], dsp[:, :Kc])):
            for g, dg in ((cq[:, :Kc], dcq[:, :Kc]), (sq[:, :Kc], dsq[:, :Kc])):
                blocks.append(((f[:, :, None] * g[:, None, :]).reshape(n, -1),
                               (df[:, :, None] * g[:, None, :]).reshape(n, -1),
                               (f[:, :, None] * dg[:, None, :]).reshape(n, -1)))
        return blocks

    def _design(self, x):
        return np.hstack([b[0] for b in self._parts(x)])

    def _gradient(self, x):
        parts = self._parts(x)
        return np.stack([np.hstack([b[1] for b in parts]), np.hstack([b[2] for b in parts])], axis=-1)

    def __repr__(self):
        return f"TorsionBasis(order={self.order}, cross_order={self.cross_order})"


@dataclass(frozen=True, eq=False)
class TorusGrid:
    r"""Quadrature nodes and weights on the torus (:func:`torus_grid`).

    Attributes
    ----------
    points : ndarray, shape ((n+1)**2, 2)
        Nodes :math:`(\phi_i, \psi_j)`, :math:`\phi` varying slowest.
    weights : ndarray, shape ((n+1)**2,)
        Quadrature weights; they sum to :math:`(2\pi)^2`.

    Examples
    --------
    >>> grid = TorusGrid(np.zeros((1, 2)), np.array([4 * np.pi**2]))
    >>> grid.points.shape, round(float(grid.weights.sum() / (2 * np.pi) ** 2), 12)
    ((1, 2), 1.0)
    """

    points: np.ndarray
    weights: np.ndarray


def torus_grid(n_intervals):
    r"""Quadrature nodes and weights on the torus :math:`[-\pi, \pi]^2` for a :class:`~remlib.ensembles.GridEnsemble`.

    The nodes :math:`\phi_i = -\pi + i h`, :math:`i = 0..n` (:math:`h = 2\pi/n`), include
    both ends, and the weights are the product trapezoid weights
    :math:`h^2 \cdot \{1, \tfrac12, \tfrac14\}` (interior, edge, corner).  For a
    periodic integrand this is the periodic rectangle rule, exact for trigonometric
    polynomials of degree below :math:`n`; including the end points keeps every
    dihedral in :math:`[-\pi, \pi]` inside the grid's range.

    Parameters
    ----------
    n_intervals : int
        :math:`n \ge 2` intervals per angle.

    Returns
    -------
    TorusGrid
        ``points`` ((n+1)**2, 2), the nodes :math:`(\phi_i, \psi_j)` with :math:`\phi`
        varying slowest (``reshape(n+1, n+1)`` gives ``[i_phi, j_psi]``), and their
        ``weights`` ((n+1)**2,), which sum to :math:`(2\pi)^2`.

    Raises
    ------
    ValueError
        If ``n_intervals < 2``.
    TypeError
        If ``n_intervals`` is not an integer.

    Examples
    --------
    >>> torus = torus_grid(4)
    >>> torus.points.shape, round(float(torus.weights.sum() / (2 * np.pi) ** 2), 12)
    ((25, 2), 1.0)
    >>> round(float(torus.weights @ np.cos(torus.points[:, 0]) ** 2 / torus.weights.sum()), 12)  # <cos^2> = 1/2
    0.5
    """
    n = as_positive_int(n_intervals, "n_intervals", minimum=2)
    check_memory("n_intervals", n, 3 * 8.0 * (n + 1) ** 2)  # (n + 1)^2 points and weights
    nodes = np.linspace(-np.pi, np.pi, n + 1)
    w1 = np.full(n + 1, 2 * np.pi / n)
    w1[[0, -1]] *= 0.5
    phi, psi = np.meshgrid(nodes, nodes, indexing="ij")
    return TorusGrid(np.column_stack([phi.ravel(), psi.ravel()]), np.outer(w1, w1).ravel())


#: Basins of the Ramachandran plane as (name, φ-range, ψ-range) rectangles in degrees,
#: half-open [lower, upper).  The left half of the plane is φ ∈ [-180°, 0°) ∪ [120°, 180°)
#: (the β region wraps around φ = ±180°); the right half is φ ∈ [0°, 120°).  ψ ranges
#: likewise wrap.  Every point belongs to exactly one basin.
BASINS = {
    "C5/PII": ([(-180, 0), (120, 180)], [(120, 180), (-180, -120)]),
    "C7eq": ([(-180, 0), (120, 180)], [(0, 120)]),
    "alphaR": ([(-180, 0), (120, 180)], [(-120, 0)]),
    "alphaL": ([(0, 120)], [(0, 180), (-180, -150)]),
    "C7ax": ([(0, 120)], [(-150, 0)]),
}


def _in_ranges(values, ranges):
    return np.logical_or.reduce([(values >= lo) & (values < hi) for lo, hi in ranges])


def basin_labels(phi, psi):
    """Index into ``list(BASINS)`` of the basin of each (φ, ψ) pair (radians).

    Examples
    --------
    >>> names = list(BASINS)
    >>> labels = basin_labels(np.radians([-80, -70, 60, 75, -150]), np.radians([70, -40, 40, -60, 160]))
    >>> [names[i] for i in labels]
    ['C7eq', 'alphaR', 'alphaL', 'C7ax', 'C5/PII']
    """
    phi = as_float_array(phi, "phi", ndim=1)
    psi = as_float_array(psi, "psi", ndim=1)
    if phi.shape != psi.shape:
        raise ValueError(f"phi and psi must have the same shape, got {phi.shape} and {psi.shape}")
    phi_deg, psi_deg = np.degrees(wrap_angle(phi)), np.degrees(wrap_angle(psi))
    labels = np.full(phi.shape, -1)
    for index, (phi_ranges, psi_ranges) in enumerate(BASINS.values()):
        labels[_in_ranges(phi_deg, phi_ranges) & _in_ranges(psi_deg, psi_ranges)] = index
    return labels


@dataclass(frozen=True)
class BasinPopulations:
    """Populations of the basins of :data:`BASINS` (:func:`basin_populations`).

    Attributes
    ----------
    populations : dict of str to float
        The (weighted) fraction of samples in each basin; they sum to one.
    errors : dict of str to float, or None
        Their block-averaged standard errors (``None`` when no ``n_blocks`` was given).

    Examples
    --------
    >>> result = BasinPopulations({"C7eq": 0.6, "alphaR": 0.4}, None)
    >>> result.populations["C7eq"], result.errors
    (0.6, None)
    """

    populations: dict
    errors: dict | None = None


def basin_populations(phi, psi, *, weights=None, n_blocks=None):
    """Population of each basin of :data:`BASINS`, optionally weighted.

    Parameters
    ----------
    phi, psi : array_like, shape (n,)
        Dihedrals in radians (frames of a trajectory, or grid points).
    weights : array_like, shape (n,), optional
        Non-negative weights (model probabilities on a grid); normalised inside.
    n_blocks : int, optional
        If given, also estimate block-averaged standard errors for a time series
        (``n_blocks`` contiguous blocks; for weights, the delta-method error of the
        ratio :math:`\\sum w\\,\\mathbb 1 / \\sum w`, see :func:`block_standard_error`).

    Returns
    -------
    BasinPopulations
        ``populations`` (basin name -> fraction) and, with ``n_blocks``, their
        ``errors`` (basin name -> standard error; else ``None``).

    Raises
    ------
    ValueError
        If ``phi`` and ``psi`` differ in shape or are not finite, ``weights`` has the wrong
        shape, negative entries or a zero sum, or there are fewer samples than ``n_blocks``.

    Examples
    --------
    >>> pops = basin_populations(np.radians([-80.0, -70.0]), np.radians([70.0, -40.0])).populations
    >>> pops["C7eq"], pops["alphaR"], pops["alphaL"]
    (0.5, 0.5, 0.0)
    """
    labels = basin_labels(phi, psi)
    onehot = (labels[:, None] == np.arange(len(BASINS))[None, :]).astype(float)
    if weights is None:
        weights = np.ones(labels.size)
    else:
        weights = as_float_array(weights, "weights", ndim=1)
        if weights.shape != labels.shape:
            raise ValueError(f"weights must have shape {labels.shape}, got {weights.shape}")
        if np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError("weights must be non-negative with a positive sum")
    pops = dict(zip(BASINS, (weights @ onehot) / weights.sum()))
    pops = {k: float(v) for k, v in pops.items()}
    if n_blocks is None:
        return BasinPopulations(pops)
    errors = _block_ratio_error(weights[:, None] * onehot, weights, n_blocks)
    return BasinPopulations(pops, {k: float(v) for k, v in zip(BASINS, errors)})


def _block_ratio_error(numerator, denominator, n_blocks):
    r"""Block error of the ratio estimator :math:`R = \sum N / \sum D` (delta method).

    With block sums :math:`N_b, D_b`, :math:`\sigma_R = \operatorname{sd}_b(N_b - R D_b) /
    (\sqrt{n_b}\,\bar D)`; for constant :math:`D` it is the plain block error of
    :math:`N/D`.  Unlike the spread of per-block ratios, it stays valid when single
    blocks carry little weight (reweighted biased runs).
    """
    n_blocks = as_positive_int(n_blocks, "n_blocks", minimum=2)
    if denominator.size < n_blocks:
        raise ValueError(f"{denominator.size} frames are fewer than n_blocks={n_blocks}")
    size = denominator.size // n_blocks
    num = numerator[: size * n_blocks].reshape(n_blocks, size, -1).sum(axis=1)
    den = denominator[: size * n_blocks].reshape(n_blocks, size).sum(axis=1)
    ratio = num.sum(axis=0) / den.sum()
    residual = num - ratio[None, :] * den[:, None]
    return residual.std(axis=0, ddof=1) / (np.sqrt(n_blocks) * den.mean())


def map_to_beads(positions, groups, *, masses=None):
    r"""Map atom positions to bead positions, each bead the (mass-weighted) centre of a group.

    .. math:: \mathbf R_I = \frac{\sum_{i \in I} m_i \mathbf r_i}{\sum_{i \in I} m_i}

    Parameters
    ----------
    positions : array_like, shape (n_frames, n_atoms, 3)
    groups : sequence of sequence of int
        Atom indices of each bead (a bead may be a single atom).
    masses : array_like, shape (n_atoms,), optional
        Defaults to equal masses.

    Returns
    -------
    ndarray, shape (n_frames, n_beads, 3)

    Raises
    ------
    ValueError
        If ``positions`` is not (n_frames, n_atoms, 3), ``groups`` is empty or lists atoms
        out of range, or ``masses`` are not ``n_atoms`` positive numbers.

    Examples
    --------
    >>> x = np.array([[[0.0, 0, 0], [2.0, 0, 0], [4.0, 0, 0]]])
    >>> map_to_beads(x, [[0, 1], [2]])[0].tolist()
    [[1.0, 0.0, 0.0], [4.0, 0.0, 0.0]]
    """
    positions = as_float_array(positions, "positions", ndim=3)
    n_atoms = positions.shape[1]
    if positions.shape[2] != 3:
        raise ValueError(f"positions must have shape (n_frames, n_atoms, 3), got {positions.shape}")
    masses = np.ones(n_atoms) if masses is None else as_float_array(masses, "masses", ndim=1)
    if masses.shape != (n_atoms,) or np.any(masses <= 0):
        raise ValueError(f"masses must be {n_atoms} positive numbers, got shape {masses.shape}")
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__len__"):
        raise TypeError(f"groups must be a sequence of atom-index lists, got {type(groups).__name__}")
    if len(groups) == 0:
        raise ValueError("groups is empty; at least one bead is needed")
    beads = []
    for b, group in enumerate(groups):
        raw = np.asarray(group)
        if raw.dtype.kind not in "iu" and raw.size:
            raise TypeError(f"groups[{b}] must list integer atom indices, got {raw.dtype} values")
        index = raw.astype(np.int64).reshape(-1)
        if index.size == 0 or index.min() < 0 or index.max() >= n_atoms:
            raise ValueError(f"groups[{b}] must list atom indices in [0, {n_atoms}), got {list(group)}")
        w = masses[index] / masses[index].sum()
        beads.append(np.einsum("fad,a->fd", positions[:, index], w))
    return np.stack(beads, axis=1)
