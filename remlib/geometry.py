r"""Geometry of molecules: angles between points, chains in periodic boxes, angle wrapping.

One home for the geometric helpers that the peptide, the torsion bases and the polymer
chapters share; all are plain numpy and vectorised over frames.

=============================  ====================================================
:func:`bond_angle`             angle at ``b`` of three points a-b-c
:func:`dihedral_angle`         dihedral of four points a-b-c-d (IUPAC sign)
:func:`place_atom`             a fourth point from three and internal coordinates (NeRF)
:func:`wrap_angle`             angles mapped to :math:`[-\pi, \pi)`
:func:`chain_bond_lengths`     bond lengths of linear chains in frames of a periodic box
:func:`chain_bond_angles`      bond angles of linear chains in frames of a periodic box
=============================  ====================================================
"""
import numpy as np

from remlib._validation import as_float_array, as_positive_int, as_positive_scalar, as_real_scalar
from remlib.neighbors import check_box, check_positions

__all__ = ["bond_angle", "dihedral_angle", "place_atom", "wrap_angle", "chain_bond_lengths", "chain_bond_angles"]


def _as_points(value, name):
    points = as_float_array(value, name, ndim=(1, 2))
    if points.shape[-1] != 3:
        raise ValueError(f"{name} must have 3 coordinates in its last axis, got shape {points.shape}")
    return points


def bond_angle(a, b, c):
    r"""Angle at ``b`` between the bonds b-a and b-c, in radians.

    .. math:: \theta = \arccos \frac{(\mathbf a-\mathbf b)\cdot(\mathbf c-\mathbf b)}
              {|\mathbf a-\mathbf b|\,|\mathbf c-\mathbf b|}

    Parameters
    ----------
    a, b, c : array_like, shape (3,) or (n, 3)
        Points, or one point per frame.

    Returns
    -------
    float or ndarray, shape (n,)
        :math:`\theta \in [0, \pi]`.

    Raises
    ------
    ValueError
        If a point does not have 3 coordinates in its last axis or holds NaN or inf.

    Examples
    --------
    >>> round(float(np.degrees(bond_angle([1, 0, 0], [0, 0, 0], [0, 1, 0]))), 6)
    90.0
    """
    a, b, c = (_as_points(p, n) for p, n in ((a, "a"), (b, "b"), (c, "c")))
    u, v = a - b, c - b
    cosine = np.sum(u * v, axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return np.arccos(np.clip(cosine, -1.0, 1.0))


def dihedral_angle(a, b, c, d):
    r"""Dihedral angle of the four points a-b-c-d in radians, in :math:`(-\pi, \pi]`.

    With :math:`\mathbf b_1 = \mathbf b-\mathbf a`, :math:`\mathbf b_2 = \mathbf c-\mathbf b`,
    :math:`\mathbf b_3 = \mathbf d-\mathbf c`, the normals
    :math:`\mathbf n_1 = \mathbf b_1\times\mathbf b_2`, :math:`\mathbf n_2 = \mathbf b_2\times\mathbf b_3`
    give (IUPAC sign convention: clockwise looking along b->c is positive)

    .. math:: \phi = \operatorname{atan2}\big(|\mathbf b_2|\, \mathbf b_1\cdot\mathbf n_2,\;
              \mathbf n_1\cdot\mathbf n_2\big).

    Parameters
    ----------
    a, b, c, d : array_like, shape (3,) or (n, 3)
        Points, or one point per frame.

    Returns
    -------
    float or ndarray, shape (n,)
        :math:`\phi \in (-\pi, \pi]`.

    Raises
    ------
    ValueError
        As :func:`bond_angle`.

    Examples
    --------
    >>> a, b, c = [1, 0, 0], [0, 0, 0], [0, 0, 1]
    >>> d = [np.cos(0.5), np.sin(0.5), 1.0]
    >>> round(float(dihedral_angle(a, b, c, d)), 6)
    0.5
    """
    a, b, c, d = (_as_points(p, n) for p, n in ((a, "a"), (b, "b"), (c, "c"), (d, "d")))
    b1, b2, b3 = b - a, c - b, d - c
    n1, n2 = np.cross(b1, b2), np.cross(b2, b3)
    y = np.linalg.norm(b2, axis=-1) * np.sum(b1 * n2, axis=-1)
    x = np.sum(n1 * n2, axis=-1)
    return np.arctan2(y, x)


def place_atom(a, b, c, bond, angle, dihedral):
    r"""Position of atom d from three placed atoms and its internal coordinates (NeRF).

    ``d`` is bonded to ``c`` with length ``bond``, the angle b-c-d is ``angle`` and the
    dihedral a-b-c-d is ``dihedral`` (angles in degrees).  In the frame
    :math:`\hat{\mathbf e}_1 = \widehat{\mathbf c-\mathbf b}`,
    :math:`\hat{\mathbf n} = \widehat{(\mathbf b-\mathbf a)\times\hat{\mathbf e}_1}`,
    :math:`\hat{\mathbf m} = \hat{\mathbf n}\times\hat{\mathbf e}_1`:

    .. math:: \mathbf d = \mathbf c + l\,\big(-\cos\theta\,\hat{\mathbf e}_1
              + \sin\theta\cos\phi\,\hat{\mathbf m} + \sin\theta\sin\phi\,\hat{\mathbf n}\big).

    Parameters
    ----------
    a, b, c : array_like, shape (3,)
        The three placed atoms.
    bond : float
        Bond length :math:`l` of c-d (> 0).
    angle, dihedral : float
        The angle b-c-d :math:`\theta` and the dihedral a-b-c-d :math:`\phi`, in degrees.

    Returns
    -------
    ndarray, shape (3,)

    Raises
    ------
    ValueError
        If a, b and c are collinear (the dihedral is then undefined) or ``bond <= 0``.

    Examples
    --------
    >>> d = place_atom([1, 1, 0], [1, 0, 0], [0, 0, 0], 1.5, 90.0, 180.0)
    >>> print(np.round(d, 6) + 0.0)
    [ 0.  -1.5  0. ]
    """
    a, b, c = (_as_points(p, n) for p, n in ((a, "a"), (b, "b"), (c, "c")))
    bond = as_positive_scalar(bond, "bond")
    angle, dihedral = as_real_scalar(angle, "angle"), as_real_scalar(dihedral, "dihedral")
    if not 0.0 < angle <= 180.0:
        raise ValueError(f"angle must be a bond angle in (0, 180] degrees, got {angle}")
    theta, phi = np.radians(angle), np.radians(dihedral)
    e1 = (c - b) / np.linalg.norm(c - b)
    n = np.cross(b - a, e1)
    norm = np.linalg.norm(n)
    if norm < 1e-10:
        raise ValueError("a, b and c are collinear; the dihedral is undefined")
    n = n / norm
    m = np.cross(n, e1)
    return c + bond * (-np.cos(theta) * e1 + np.sin(theta) * np.cos(phi) * m
                       + np.sin(theta) * np.sin(phi) * n)


def wrap_angle(angle):
    r"""Map angles (radians) to :math:`[-\pi, \pi)`.

    Parameters
    ----------
    angle : array_like, shape () or (n,) or (n, m)

    Returns
    -------
    ndarray, same shape as ``angle``

    Raises
    ------
    ValueError
        If ``angle`` has more than 2 dimensions or holds NaN or inf.

    Examples
    --------
    >>> print(np.round(wrap_angle([np.pi, 3 * np.pi / 2, -np.pi]), 4))
    [-3.1416 -1.5708 -3.1416]
    """
    angle = as_float_array(angle, "angle", ndim=(0, 1, 2), allow_empty=True)
    return (angle + np.pi) % (2 * np.pi) - np.pi


def _chain_bond_vectors(frames, box, chain_length):
    """Minimum-image bond vectors (n_frames, n_chains, chain_length - 1, 3) of linear chains."""
    n_frames, n, _ = frames.shape
    chain_length = as_positive_int(chain_length, "chain_length", minimum=2)
    if n % chain_length:
        raise ValueError(f"chain_length={chain_length} does not divide the number of particles {n}")
    x = frames.reshape(n_frames, n // chain_length, chain_length, 3)
    b = x[:, :, 1:] - x[:, :, :-1]
    return b - box * np.floor(b / box + 0.5)


def chain_bond_lengths(frames, box, chain_length):
    """Bond lengths of linear chains of ``chain_length`` consecutive particles.

    Parameters
    ----------
    frames : array_like, shape (n_frames, n_particles, 3) or (n_particles, 3)
        Positions in ``[0, L)``; particle ``k * chain_length + j`` is bead j of chain k.
    box : array_like, shape (3,)
    chain_length : int
        Beads per chain (>= 2), dividing ``n_particles``.

    Returns
    -------
    ndarray, shape (n_frames, n_chains * (chain_length - 1))
        Minimum-image distances of bonded neighbours.

    Raises
    ------
    ValueError
        If the box, the positions or ``chain_length`` are invalid.

    Examples
    --------
    >>> chain_bond_lengths([[[0.5, 0.5, 0.5], [1.5, 0.5, 0.5], [1.5, 1.5, 0.5]]], [5.0] * 3, 3).tolist()
    [[1.0, 1.0]]
    """
    box = check_box(box)
    frames = check_positions(frames, box, "frames")
    return np.linalg.norm(_chain_bond_vectors(frames, box, chain_length), axis=-1).reshape(frames.shape[0], -1)


def chain_bond_angles(frames, box, chain_length):
    """Bond angles of linear chains (radians, :math:`\\pi` = straight).

    Parameters
    ----------
    frames, box, chain_length
        As in :func:`chain_bond_lengths`.

    Returns
    -------
    ndarray, shape (n_frames, n_chains * (chain_length - 2))
        The angle at every inner bead, between its two bonds.

    Raises
    ------
    ValueError
        As :func:`chain_bond_lengths`.

    Examples
    --------
    >>> frame = [[[0.5, 0.5, 0.5], [1.5, 0.5, 0.5], [1.5, 1.5, 0.5]]]
    >>> np.degrees(chain_bond_angles(frame, [5.0] * 3, 3)).round(6).tolist()
    [[90.0]]
    """
    box = check_box(box)
    frames = check_positions(frames, box, "frames")
    b = _chain_bond_vectors(frames, box, chain_length)
    u, v = -b[:, :, :-1], b[:, :, 1:]
    cos = (u * v).sum(-1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)
    return np.arccos(np.clip(cos, -1.0, 1.0)).reshape(frames.shape[0], -1)
