r"""The information decomposition: total loss = CG relative entropy + reconstruction term.

For a discrete microstate distribution :math:`P_{\mathrm{AA}}(r)`, a mapping
:math:`M: r \mapsto R`, a CG model :math:`p_{\mathrm{CG}}(R)` and a back-mapping
:math:`q(r \mid R)` (a distribution over the microstates of CG state :math:`R`),
the reconstructed microscopic model is
:math:`Q_{\mathrm{recon}}(r) = p_{\mathrm{CG}}(M(r))\, q(r \mid M(r))` and the
chain rule of relative entropy gives

.. math::

    \underbrace{D(P_{\mathrm{AA}} \,\|\, Q_{\mathrm{recon}})}_{\text{total}}
    = \underbrace{D(P_{\mathrm{map}} \,\|\, p_{\mathrm{CG}})}_{\text{coarse}}
    + \underbrace{\sum_R P_{\mathrm{map}}(R)\,
      D\big(P_{\mathrm{AA}}(\cdot \mid R) \,\|\, q(\cdot \mid R)\big)}_{\text{reconstruction}},

with :math:`P_{\mathrm{map}}(R) = \sum_{r: M(r) = R} P_{\mathrm{AA}}(r)`.  The
reconstruction term does not involve :math:`p_{\mathrm{CG}}`, so minimising the
total information loss over CG models is the same as minimising the CG relative
entropy.  With the uniform back-mapping the total equals Shell's
:math:`S_{\mathrm{rel}}` including the mapping entropy
:math:`\langle \ln \Omega(M(r)) \rangle`.
"""
from dataclasses import dataclass

import numpy as np

from remlib._validation import as_distribution, as_float_array
from remlib.divergence import kl_divergence

__all__ = ["information_decomposition", "InformationDecomposition"]


@dataclass(frozen=True)
class InformationDecomposition:
    r"""Result of :func:`information_decomposition` (all divergences in nats).

    Attributes
    ----------
    total : float
        :math:`D(P_{AA} \| Q_{recon})`.
    coarse : float
        :math:`D(P_{map} \| p_{CG})`.
    reconstruction : float
        :math:`\sum_R P_{map}(R) D(P_{AA}(\cdot|R) \| q(\cdot|R))`.
    p_map : ndarray, shape (n_cg,)
        The mapped distribution :math:`P_{map}`.
    q_recon : ndarray, shape (n_micro,)
        :math:`Q_{recon}` over microstates.
    p_conditional : ndarray, shape (n_micro,)
        :math:`P_{AA}(r \mid M(r))` (0 where :math:`P_{map} = 0`).
    backmap : ndarray, shape (n_micro,)
        The back-mapping :math:`q(r \mid M(r))` used.

    Examples
    --------
    >>> parts = information_decomposition([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1], [0.5, 0.5])
    >>> round(parts.total, 6) == round(parts.coarse + parts.reconstruction, 6)
    True
    """

    #: :math:`D(P_{AA} \| Q_{recon})`
    total: float
    #: :math:`D(P_{map} \| p_{CG})`
    coarse: float
    #: :math:`\sum_R P_{map}(R) D(P_{AA}(\cdot|R) \| q(\cdot|R))`
    reconstruction: float
    #: mapped distribution :math:`P_{map}`, shape ``(n_cg,)``
    p_map: np.ndarray
    #: :math:`Q_{recon}` over microstates, shape ``(n_micro,)``
    q_recon: np.ndarray
    #: conditional reference :math:`P_{AA}(r \mid M(r))` over microstates (0 where :math:`P_{map} = 0`)
    p_conditional: np.ndarray
    #: back-mapping :math:`q(r \mid M(r))` used, shape ``(n_micro,)``
    backmap: np.ndarray


def _as_mapping(mapping, n_micro):
    array = np.asarray(mapping)
    if array.ndim != 1 or array.size != n_micro:
        raise ValueError(f"mapping must be a 1-D array with one CG label per microstate ({n_micro}), got shape {array.shape}")
    if array.dtype.kind == "b" or array.dtype.kind not in "iuf":
        raise TypeError(f"mapping must contain integer CG labels, got dtype {array.dtype}")
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise TypeError("mapping must contain integer CG labels")
    array = array.astype(np.int64)
    if np.any(array < 0):
        raise ValueError("mapping contains negative CG labels; labels must be 0, 1, ..., n_cg - 1")
    return array


def _as_backmap(backmap, mapping, n_cg):
    """Uniform within each CG state by default; otherwise check normalisation per CG state."""
    if backmap is None:
        counts = np.bincount(mapping, minlength=n_cg)
        return 1.0 / counts[mapping]
    q = as_float_array(backmap, "backmap", ndim=1)
    if q.size != mapping.size:
        raise ValueError(f"backmap must have one value per microstate ({mapping.size}), got {q.size}")
    if np.any(q < 0):
        raise ValueError("backmap contains negative values")
    sums = np.bincount(mapping, weights=q, minlength=n_cg)
    bad = np.nonzero(np.abs(sums - 1.0) > 1e-8)[0]
    if bad.size:
        raise ValueError(
            f"backmap must sum to 1 over the microstates of each CG state; CG state {bad[0]} sums to {sums[bad[0]]:.6g}")
    return q


def information_decomposition(p_aa, mapping, p_cg, backmap=None):
    r"""Split the total information loss of a CG model into CG and reconstruction parts.

    .. math::

        D(P_{\mathrm{AA}} \| Q_{\mathrm{recon}}) = D(P_{\mathrm{map}} \| p_{\mathrm{CG}})
        + \sum_R P_{\mathrm{map}}(R)\, D\big(P_{\mathrm{AA}}(\cdot|R) \,\|\, q(\cdot|R)\big),
        \qquad Q_{\mathrm{recon}}(r) = p_{\mathrm{CG}}(M(r))\, q(r|M(r)).

    Parameters
    ----------
    p_aa : array_like, shape (n_micro,)
        Non-negative weights of the microstates (normalised inside).
    mapping : array_like of int, shape (n_micro,)
        CG label :math:`M(r) \in \{0, \dots, n_{cg} - 1\}` of each microstate; every
        CG state must have at least one microstate.
    p_cg : array_like, shape (n_cg,)
        Non-negative weights of the CG model (normalised inside).
    backmap : array_like, shape (n_micro,), optional
        :math:`q(r \mid M(r))`; must sum to one over each CG state's microstates.
        Default: uniform, :math:`1/\Omega(M(r))`.

    Returns
    -------
    InformationDecomposition
        ``.total``, ``.coarse``, ``.reconstruction`` (nats; ``inf`` where a model
        excludes a reachable state) and the distributions ``.p_map``,
        ``.q_recon``, ``.p_conditional``, ``.backmap``.

    Raises
    ------
    ValueError
        If a distribution is not 1-D, empty, negative or sums to zero, ``mapping`` does
        not give one label per microstate, uses a label without a CG state or leaves a CG
        state without microstates, or ``backmap`` does not sum to 1 within each CG state.
    TypeError
        If ``mapping`` does not hold integer labels.

    Examples
    --------
    >>> from remlib.information import information_decomposition
    >>> res = information_decomposition([0.4, 0.2, 0.3, 0.1], [0, 0, 1, 1], [0.5, 0.5])
    >>> round(res.coarse, 4), round(res.reconstruction, 4), round(res.total, 4)
    (0.0201, 0.0863, 0.1064)
    """
    p_aa = as_distribution(p_aa, "p_aa")
    if p_aa.ndim != 1:
        raise ValueError(f"p_aa must be 1-D (one weight per microstate), got shape {p_aa.shape}")
    mapping = _as_mapping(mapping, p_aa.size)
    p_cg = as_distribution(p_cg, "p_cg")
    if p_cg.ndim != 1:
        raise ValueError(f"p_cg must be 1-D (one weight per CG state), got shape {p_cg.shape}")
    n_cg = p_cg.size
    if mapping.max() >= n_cg:
        raise ValueError(f"mapping contains label {mapping.max()} but p_cg has only {n_cg} CG states")
    empty = np.nonzero(np.bincount(mapping, minlength=n_cg) == 0)[0]
    if empty.size:
        raise ValueError(f"CG state {empty[0]} has no microstates in mapping; every CG state needs at least one")
    q = _as_backmap(backmap, mapping, n_cg)

    p_map = np.bincount(mapping, weights=p_aa, minlength=n_cg)
    q_recon = p_cg[mapping] * q
    with np.errstate(divide="ignore", invalid="ignore"):
        p_conditional = np.where(p_map[mapping] > 0, p_aa / p_map[mapping], 0.0)
    reconstruction = 0.0
    for state in np.nonzero(p_map > 0)[0]:
        members = mapping == state
        reconstruction += p_map[state] * kl_divergence(p_conditional[members], q[members])
    return InformationDecomposition(
        total=kl_divergence(p_aa, q_recon),
        coarse=kl_divergence(p_map, p_cg),
        reconstruction=float(reconstruction),
        p_map=p_map,
        q_recon=q_recon,
        p_conditional=p_conditional,
        backmap=q,
    )
