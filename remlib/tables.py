"""Export fitted CG potentials as LAMMPS and GROMACS tables, and read them back.

A fitted potential :math:`u(r) = \\sum_i \\theta_i B_i(r)` is written with its exact force
:math:`f(r) = -u'(r) = -\\sum_i \\theta_i B_i'(r)` from the spline derivatives, so a
production engine sees the same model.

* LAMMPS pair tables (``pair_style table linear N`` + ``pair_coeff * * file KEYWORD``): a
  section ``KEYWORD`` / ``N n R r_lo r_hi`` / blank line / ``n`` lines ``index r u f``.
  The CG model has a hard core below ``r_min`` (the closest target pair), which MD
  cannot run; the table therefore starts at ``r_inner < r_min`` and continues ``u``
  below ``r_min`` with its tangent plus a steep, smooth repulsion,
  :math:`u(r) = u_0 + u_0'(r - r_0) + A[(r_0/r)^{12} - 1 + 12(r - r_0)/r_0]` with
  :math:`r_0 = r_\\mathrm{min}` (value and force continuous at :math:`r_0`), so LAMMPS
  never stops with "Pair distance < table inner cutoff".
* LAMMPS bond and angle tables (``bond_style table``, ``angle_style table``) of a
  :class:`remlib.polymers.BondedResult`: outside the fitted range (where the Monte Carlo
  model has a hard wall) the potential continues with its tangent plus a stiff
  harmonic wall :math:`\\tfrac{K}{2}d^2` (``d`` the distance from the range); angles in
  degrees over ``[0, 180]``, angle forces :math:`-\\mathrm dU/\\mathrm d\\vartheta` per degree.
* GROMACS tabulated bonds and angles (bond type 8 or 9, angle type 8 with table number
  ``n`` and force constant 1 in the topology; ``gmx mdrun -tableb table_b0.xvg
  table_a0.xvg``): three columns ``x, V, -V'``, bonds from ``r = 0`` (GROMACS requires
  it; a longer bond stops ``mdrun``), angles in degrees over ``[0, 180]`` with forces per
  degree; outside the fitted range the same tangent and wall as in the LAMMPS tables.
  GROMACS 2020 and later cannot run tabulated pair potentials (the Verlet scheme takes
  only cut-off and PME Lennard-Jones), so pair potentials go to LAMMPS or OpenMM
  (:mod:`remlib.engines`).

A pair potential that does not vanish at ``r_cut`` jumps there: Monte Carlo feels the
step, MD does not, so an engine would run a different model from the one REM
optimised.  The writers warn with the size of the jump in :math:`k_BT`; fits with
``smooth_cutoff=True`` (the default of :mod:`remlib.pairrem`) have no jump.

Values are in the model's reduced units times ``length`` and ``energy`` (e.g.
``length=0.34`` nm and ``energy=0.996`` kJ/mol for argon).

Examples
--------
One bonded fit (:func:`example_bonded_fit` stands for a fit of
:func:`remlib.polymers.fit_bonded_rem`) as LAMMPS and GROMACS bond tables, which hold
the same potential where both are tabulated:

>>> import os, tempfile
>>> folder, fit = tempfile.mkdtemp(), example_bonded_fit()
>>> lammps = read_lammps_table(write_lammps_bond_table(os.path.join(folder, "bond.table"), fit))
>>> gromacs = read_gromacs_bonded_table(write_gromacs_bond_table(os.path.join(folder, "table_b0.xvg"), fit))
>>> bool(np.allclose(np.interp(lammps.r, gromacs.x, gromacs.energy), lammps.energy, atol=1e-3))
True
"""
import os
import re
import warnings

from dataclasses import dataclass

import numpy as np

from remlib._validation import as_path, as_positive_int, as_positive_scalar

__all__ = ["LammpsTable", "LammpsAngleTable", "write_lammps_table", "read_lammps_table", "write_lammps_bond_table",
           "write_lammps_angle_table", "read_lammps_angle_table", "GromacsTable", "write_gromacs_bond_table",
           "write_gromacs_angle_table", "read_gromacs_bonded_table", "continued_design", "pair_repulsion",
           "harmonic_wall", "pair_energy_force", "bonded_energy_force", "cutoff_jump", "example_bonded_fit"]

#: Where a LAMMPS pair table starts, as a fraction of r_min (the repulsion there is ~4000 A).
INNER_FRACTION = 0.5
#: Height scale A of the repulsion below r_min, in the model's energy units.
REPULSION = 1.0
#: Stiffness K of the harmonic walls outside the bond and angle ranges (per length² or rad²).
WALL = 1.0e4


def _model_of(potential):
    """The PairModel of a fitted potential (TypeError for anything else)."""
    model = getattr(potential, "model", None)
    if model is None or getattr(potential, "theta", None) is None or not hasattr(model, "r_cut"):
        raise TypeError("potential must be a PairPotentialResult (with .model and .theta), "
                        f"got {type(potential).__name__}")
    return model


def _bonded_model_of(result):
    """The BondedModel of a bonded fit (TypeError for anything else)."""
    model = getattr(result, "model", None)
    if model is None or not hasattr(model, "bond_basis") or getattr(result, "theta", None) is None:
        raise TypeError(f"result must be a BondedResult (with .model and .theta), got {type(result).__name__}")
    return model


def _parse_rows(path, numbered_lines, columns):
    """Rows of ``len(columns)`` finite numbers with increasing distance ``r``, errors naming file and line.

    ``numbered_lines`` are ``(line number, text)`` pairs; the column named ``"r"`` must
    increase strictly from row to row.
    """
    rows = []
    for number, text in numbered_lines:
        text = text.strip()
        fields = text.split()
        try:
            values = [float(field) for field in fields]
        except ValueError:
            values = None
        if values is None or len(values) != len(columns):
            raise ValueError(f"{path}, line {number}: expected {len(columns)} numbers ({', '.join(columns)}), "
                             f"got {text[:80]!r}")
        if not all(np.isfinite(values)):
            raise ValueError(f"{path}, line {number}: NaN or infinite value in {text[:80]!r}")
        rows.append(values)
    data = np.array(rows, dtype=float).reshape(-1, len(columns))
    r = data[:, columns.index("r")]
    decreasing = np.flatnonzero(np.diff(r) <= 0)
    if decreasing.size:
        number = numbered_lines[decreasing[0] + 1][0]
        raise ValueError(f"{path}, line {number}: distances must increase, r = {r[decreasing[0] + 1]:g} follows "
                         f"r = {r[decreasing[0]]:g}")
    return data


def continued_design(basis, x, *, above=False):
    """Design matrix of a spline basis continued linearly (tangent) outside ``[lower, upper]``.

    Below ``lower`` row ``x`` is :math:`B_i(l) + B_i'(l)(x - l)`, and with ``above=True``
    beyond ``upper`` likewise from ``upper``; inside it is :math:`B_i(x)`.  A potential
    :math:`\\theta\\cdot B` continued this way stays linear in :math:`\\theta`, with value
    and slope continuous at the edges, so frames of an MD engine (which may step a
    little beyond the range where the Monte Carlo model has a hard wall) still have
    features.  Without ``above``, beyond ``upper`` the rows are the basis' own (zero).

    Examples
    --------
    >>> from remlib.basis import BSplineBasis
    >>> basis = BSplineBasis(1.0, 2.0, 4)
    >>> theta = np.array([1.0, 2.0, 3.0, 4.0])   # a linear function on [1, 2]
    >>> (continued_design(basis, np.array([0.5, 1.5, 2.5]), above=True) @ theta).round(6).tolist()
    [1.5, 2.5, 3.5]
    """
    x = np.asarray(x, dtype=float)
    upper = basis.upper if above else np.inf
    clipped = np.clip(x, basis.lower, upper)
    design = basis(clipped)
    for edge, outside in ((basis.lower, x < basis.lower), (upper, x > upper)):
        if outside.any():
            design[outside] += (x[outside] - edge)[:, None] * basis.derivative(np.array([edge]))
    return design


def pair_repulsion(r, r_min, height=REPULSION):
    """Energy and force of the repulsion added below ``r_min``: :math:`A[(r_0/r)^{12} - 1 + 12(r - r_0)/r_0]`.

    Zero with zero slope at and above ``r_min``. Returns ``(u, f = -du/dr)``.

    Examples
    --------
    >>> u, f = pair_repulsion(np.array([0.5, 1.0, 1.2]), 1.0)
    >>> u.round(1).tolist(), f.round(1).tolist()
    ([4089.0, 0.0, 0.0], [98292.0, 0.0, 0.0])
    """
    r = np.asarray(r, dtype=float)
    below = r < r_min
    ratio = np.where(below, r_min / np.where(below, r, r_min), 1.0)
    u = np.where(below, height * (ratio**12 - 1 + 12 * (r - r_min) / r_min), 0.0)
    f = np.where(below, height * (12 * ratio**12 / np.where(below, r, r_min) - 12 / r_min), 0.0)
    return u, f


def harmonic_wall(x, lower, upper, stiffness=WALL):
    """Energy and force (-dU/dx) of :math:`\\tfrac{K}{2}d^2`, d the distance of ``x`` outside ``[lower, upper]``.

    Examples
    --------
    >>> [v.tolist() for v in harmonic_wall(np.array([0.0, 1.5, 3.0]), 1.0, 2.0, 2.0)]
    [[1.0, 0.0, 1.0], [2.0, -0.0, -2.0]]
    """
    x = np.asarray(x, dtype=float)
    d = np.where(x < lower, x - lower, np.where(x > upper, x - upper, 0.0))
    return 0.5 * stiffness * d**2, -stiffness * d


def pair_energy_force(model, theta, r, height=REPULSION):
    """u(r) and f(r) = -u'(r) of a pair model as MD runs it (continued below r_min, zero beyond r_cut)."""
    theta = np.asarray(theta, dtype=float)
    u_wall, f_wall = pair_repulsion(r, model.r_min, height)
    u = continued_design(model.basis, r) @ theta + u_wall
    f = -(_continued_derivative(model.basis, r) @ theta) + f_wall
    return u, f


def bonded_energy_force(basis, theta, x, stiffness=WALL):
    """u(x) and -u'(x) of a bond or angle potential continued outside its range by tangent and wall."""
    theta = np.asarray(theta, dtype=float)
    u_wall, f_wall = harmonic_wall(x, basis.lower, basis.upper, stiffness)
    u = continued_design(basis, x, above=True) @ theta + u_wall
    f = -(_continued_derivative(basis, x, above=True) @ theta) + f_wall
    return u, f


def _continued_derivative(basis, x, above=False):
    """Derivative of :func:`continued_design` with respect to x."""
    x = np.asarray(x, dtype=float)
    upper = basis.upper if above else np.inf
    derivative = basis.derivative(np.clip(x, basis.lower, upper))
    for edge, outside in ((basis.lower, x < basis.lower), (upper, x > upper)):
        if outside.any():
            derivative[outside] = basis.derivative(np.array([edge]))
    return derivative


def bond_grid(basis, n_points, margin=0.5, from_zero=False):
    """Even grid over a bond basis' range widened by ``margin`` times its width (from at least lower / 10).

    With ``from_zero`` the grid starts at 0 instead (GROMACS bond tables must).
    """
    width = basis.upper - basis.lower
    start = 0.0 if from_zero else max(basis.lower - margin * width, 0.1 * basis.lower)
    return np.linspace(start, basis.upper + margin * width, n_points)


def _bonded_columns(result, kind, x, length=1.0, energy=1.0):
    """Energy, force and header comment of a bonded fit's ``kind`` ("bond" or "angle") potential on ``x``.

    ``x`` holds bond lengths in model units or angles in degrees; the energies are scaled
    by ``energy`` and the forces are :math:`-\\mathrm dU/\\mathrm dr` in ``energy / length``
    or :math:`-\\mathrm dU/\\mathrm d\\vartheta` per degree.  Outside the fitted range the
    potential continues with its tangent plus the wall of :func:`harmonic_wall`.  The
    LAMMPS and GROMACS writers share it.
    """
    model = _bonded_model_of(result)
    theta_bond, theta_angle = model.split(result.theta)
    method = getattr(result, "method", "fit")
    if kind == "bond":
        basis = model.bond_basis
        u, f = bonded_energy_force(basis, theta_bond, x)
        comment = (f"bond potential from remlib ({method}); u and f = -du/dr; outside the fitted range "
                   f"[{basis.lower * length:.6g}, {basis.upper * length:.6g}] tangent plus a harmonic wall "
                   f"K = {WALL * energy / length**2:g}")
        return u * energy, f * energy / length, comment
    basis = model.angle_basis
    u, f = bonded_energy_force(basis, theta_angle, np.radians(x))
    comment = (f"angle potential from remlib ({method}); angle in degrees, u, and f = -du/dangle per degree; "
               f"outside the fitted range [{np.degrees(basis.lower):.6g}, {np.degrees(basis.upper):.6g}] tangent "
               f"plus a harmonic wall K = {WALL * energy:g} per rad^2")
    return u * energy, f * energy * np.pi / 180, comment


def cutoff_jump(model, theta):
    """The step :math:`u(r_c^-)` of a pair potential at its cutoff (0 for a smooth-cutoff basis)."""
    return float((model.basis(np.array([model.r_cut * (1 - 1e-12)])) @ np.asarray(theta, dtype=float))[0])


def _warn_jump(potential, model, beta):
    jump = cutoff_jump(model, potential.theta)
    if abs(jump) * beta > 1e-6:
        warnings.warn(f"the pair potential jumps by {jump * beta:.3g} k_BT at r_cut = {model.r_cut:g} (the "
                      "table cuts it there); MD does not feel that step, Monte Carlo does, so the engine runs "
                      "a different model. Fit with smooth_cutoff=True for a potential that vanishes at r_cut.",
                      UserWarning, stacklevel=3)


def _check_keyword(keyword):
    if not isinstance(keyword, str) or not keyword or any(c.isspace() for c in keyword):
        raise ValueError(f"keyword must be a non-empty word without spaces, got {keyword!r}")


def write_section(path, comment, keyword, header, x, u, f):
    """Write one LAMMPS table section to ``path`` and return the path.

    The file holds ``# comment``, a blank line, ``keyword``, ``header`` (e.g.
    ``N n R lo hi``), a blank line and one line ``index x u f`` per point.

    Parameters
    ----------
    path : str or path-like
    comment, keyword, header : str
    x, u, f : array_like, shape (n,)
        Abscissa, energy and force of each point.

    Returns
    -------
    str or path-like
        ``path``.

    Raises
    ------
    OSError
        If the file cannot be written.

    Examples
    --------
    >>> import os, tempfile
    >>> path = write_section(os.path.join(tempfile.mkdtemp(), "t.table"), "demo", "PAIR", "N 2", [1.0, 2.0],
    ...                      [0.5, 0.0], [1.0, 0.0])
    >>> open(path).read().splitlines()[2:]
    ['PAIR', 'N 2', '', '1 1 0.5 1', '2 2 0 0']
    """
    lines = [f"# {comment}", "", keyword, header, ""]
    lines += [f"{k + 1} {a:.12g} {b:.12g} {c:.12g}" for k, (a, b, c) in enumerate(zip(x, u, f))]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def write_lammps_table(path, potential, *, n_points=2000, keyword="REM", length=1.0, energy=1.0,
                       r_inner=None, beta=1.0):
    """Write ``potential`` as a LAMMPS ``pair_style table`` file and return the path.

    The table runs from ``r_inner`` to ``r_cut`` in ``n_points`` even steps.  Below the
    model's ``r_min`` (its hard core, which MD cannot run) the potential continues with
    its tangent plus the steep repulsion of :func:`pair_repulsion` (value and force
    continuous at ``r_min``; about 4000 energy units at the default ``r_inner``), said so
    in the file header.  Use ``pair_style table linear N`` with ``N >= n_points``.

    Parameters
    ----------
    path : str or path-like
    potential : PairPotentialResult
    n_points : int
        Table points (``N n R r_inner r_cut``).
    keyword : str
        Section name used in ``pair_coeff * * path keyword``.
    length, energy : float
        Unit conversion factors applied to r and u (forces get ``energy / length``).
    r_inner : float, optional
        First distance, in model units (default ``0.5 * r_min``; at most ``r_min``).
    beta : float
        :math:`1/k_BT` of the model, used to report a jump at ``r_cut`` in :math:`k_BT`.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    TypeError, ValueError
        A bad argument (``potential`` not a pair fit, a keyword with spaces, ...).

    Warns
    -----
    UserWarning
        If the potential does not vanish at ``r_cut`` (the table then jumps there).

    Examples
    --------
    >>> import tempfile, os
    >>> from remlib.basis import BSplineBasis
    >>> from remlib.pairrem import PairModel, PairPotentialResult
    >>> model = PairModel(BSplineBasis(0.9, 2.5, 6, vanish_at_upper=True))
    >>> fit = PairPotentialResult("rem", model, np.array([3.0, 0.5, -1.0, -0.3, -0.1, 0.0]), None, None)
    >>> path = write_lammps_table(os.path.join(tempfile.mkdtemp(), "cg.table"), fit, n_points=50)
    >>> table = read_lammps_table(path)
    >>> table.keyword, table.r.size, round(float(table.r[0]), 3), round(float(table.r[-1]), 3)
    ('REM', 50, 0.45, 2.5)
    """
    path = as_path(path)
    n_points = as_positive_int(n_points, "n_points", minimum=2, maximum=10**7)
    length = as_positive_scalar(length, "length")
    energy = as_positive_scalar(energy, "energy")
    beta = as_positive_scalar(beta, "beta")
    _check_keyword(keyword)
    model = _model_of(potential)
    r_inner = INNER_FRACTION * model.r_min if r_inner is None else as_positive_scalar(r_inner, "r_inner")
    if r_inner > model.r_min:
        raise ValueError(f"r_inner={r_inner} must be at most r_min={model.r_min}")
    _warn_jump(potential, model, beta)
    r = np.linspace(r_inner, model.r_cut, n_points)
    u, f = pair_energy_force(model, potential.theta, r)
    comment = (f"pair potential from remlib ({getattr(potential, 'method', 'fit')}); u and f = -du/dr; below "
               f"r_min = {model.r_min * length:.6g} (the model's hard core) u continues with its tangent plus "
               f"a steep repulsion A[(r0/r)^12 - 1 + 12 (r - r0)/r0], A = {REPULSION * energy:g}")
    return write_section(path, comment, keyword, f"N {n_points} R {r[0] * length:.12g} {r[-1] * length:.12g}",
                          r * length, u * energy, f * energy / length)


def example_bonded_fit():
    """A small bonded fit for trying the bonded writers (the examples of this module use it).

    A :class:`remlib.polymers.BondedResult` with fixed coefficients, built as
    :func:`remlib.polymers.fit_bonded_rem` builds its result: 5 bond splines on
    ``[0.9, 1.1]``, 5 angle splines on ``[1.5, 3.0]`` radians (the last coefficient of
    each 0), the WCA pair interaction, chains of 4 beads.  Its source shows how to build
    a ``BondedResult`` from coefficients of your own.

    Returns
    -------
    BondedResult

    Examples
    --------
    >>> fit = example_bonded_fit()
    >>> fit.model.n_functions, fit.model.bond_basis.lower, fit.model.angle_basis.upper
    (8, 0.9, 3.0)
    """
    from remlib.basis import BSplineBasis  # imported here: remlib.polymers imports this module
    from remlib.montecarlo import tabulate_pair
    from remlib.polymers import BondedModel, BondedResult

    pair = tabulate_pair(lambda r: 4 * (r**-12 - r**-6) + 1.0, r_min=0.7, r_cut=2 ** (1 / 6))
    model = BondedModel(BSplineBasis(0.9, 1.1, 5), BSplineBasis(1.5, 3.0, 5), pair, chain_length=4)
    return BondedResult("rem", model, np.array([2.0, 0.0, -0.5, 1.0, 1.0, 0.5, 0.0, 0.2]))


def write_lammps_bond_table(path, result, *, n_points=2000, keyword="BOND", length=1.0, energy=1.0, margin=0.5):
    """Write the bond potential of a bonded fit as a LAMMPS ``bond_style table`` file.

    The table covers the fitted range widened by ``margin`` times its width on both
    sides (from at least a tenth of the lower end); outside the fitted range the
    potential continues with its tangent plus the wall of :func:`harmonic_wall`.  Use
    ``bond_style table linear N`` and ``bond_coeff 1 path keyword``.

    Parameters
    ----------
    path : str or path-like
    result : BondedResult
    n_points : int
        Table points (``N n``), evenly spaced over the fitted range widened by ``margin``.
    keyword : str
        Section name used in ``bond_coeff 1 path keyword``.
    length, energy : float
        Unit conversion factors.
    margin : float
        Extra range on each side, as a fraction of the fitted range.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    TypeError, ValueError
        A bad argument (``result`` not a bonded fit, a keyword with spaces, ...).

    Examples
    --------
    >>> import tempfile, os
    >>> fit = example_bonded_fit()
    >>> table = read_lammps_table(write_lammps_bond_table(os.path.join(tempfile.mkdtemp(), "b"), fit))
    >>> round(float(table.r[0]), 3), round(float(table.r[-1]), 3)
    (0.8, 1.2)
    """
    path = as_path(path)
    n_points = as_positive_int(n_points, "n_points", minimum=2, maximum=10**7)
    length = as_positive_scalar(length, "length")
    energy = as_positive_scalar(energy, "energy")
    margin = as_positive_scalar(margin, "margin", allow_zero=True)
    _check_keyword(keyword)
    r = bond_grid(_bonded_model_of(result).bond_basis, n_points, margin)
    u, f, comment = _bonded_columns(result, "bond", r, length, energy)
    return write_section(path, comment, keyword, f"N {n_points}", r * length, u, f)


def write_lammps_angle_table(path, result, *, n_points=1801, keyword="ANGLE", energy=1.0):
    """Write the angle potential of a bonded fit as a LAMMPS ``angle_style table`` file.

    Angles :math:`\\vartheta` in degrees from 0 to 180 (LAMMPS requires the whole range),
    energies and forces :math:`-\\mathrm dU/\\mathrm d\\vartheta` per degree (LAMMPS
    converts them to radians); outside the fitted range the potential continues with its
    tangent plus the wall of :func:`harmonic_wall` (K per rad²).  Use
    ``angle_style table linear N`` and ``angle_coeff 1 path keyword``.

    Parameters
    ----------
    path : str or path-like
    result : BondedResult
    n_points : int
        Table points from 0 to 180 degrees (1801: a tenth of a degree apart).
    keyword : str
        Section name used in ``angle_coeff 1 path keyword``.
    energy : float
        Unit conversion factor applied to energies and forces.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    TypeError, ValueError
        A bad argument (``result`` not a bonded fit, a keyword with spaces, ...).

    Examples
    --------
    >>> import tempfile, os
    >>> fit = example_bonded_fit()
    >>> table = read_lammps_angle_table(write_lammps_angle_table(os.path.join(tempfile.mkdtemp(), "a"), fit))
    >>> table.angle[[0, -1]].tolist()
    [0.0, 180.0]
    """
    path = as_path(path)
    n_points = as_positive_int(n_points, "n_points", minimum=2, maximum=10**7)
    energy = as_positive_scalar(energy, "energy")
    _check_keyword(keyword)
    degrees = np.linspace(0.0, 180.0, n_points)
    u, f, comment = _bonded_columns(result, "angle", degrees, energy=energy)
    return write_section(path, comment, keyword, f"N {n_points}", degrees, u, f)


@dataclass(frozen=True)
class LammpsTable:
    """One section of a LAMMPS pair or bond table, as read by :func:`read_lammps_table`.

    Attributes
    ----------
    keyword : str
        The section's name (``pair_coeff * * file KEYWORD``).
    r : ndarray, shape (n,)
        Distances, increasing.
    energy, force : ndarray, shape (n,)
        :math:`u(r)` and :math:`f(r) = -u'(r)`.

    Examples
    --------
    >>> table = LammpsTable("SOFT", np.array([1.0, 2.0]), np.array([0.5, 0.0]), np.array([1.0, 0.0]))
    >>> table.keyword, table.r.size
    ('SOFT', 2)
    """

    keyword: str
    r: np.ndarray
    energy: np.ndarray
    force: np.ndarray


@dataclass(frozen=True)
class LammpsAngleTable:
    """One section of a LAMMPS angle table, as read by :func:`read_lammps_angle_table`.

    Attributes
    ----------
    keyword : str
    angle : ndarray, shape (n,)
        Angles in degrees from 0 to 180.
    energy, force : ndarray, shape (n,)
        :math:`U(\\vartheta)` and :math:`-\\mathrm dU/\\mathrm d\\vartheta` per degree.

    Examples
    --------
    >>> flat = LammpsAngleTable("FLAT", np.array([0.0, 180.0]), np.zeros(2), np.zeros(2))
    >>> flat.angle.tolist()
    [0.0, 180.0]
    """

    keyword: str
    angle: np.ndarray
    energy: np.ndarray
    force: np.ndarray


def read_lammps_table(path, keyword=None):
    """Read one section of a LAMMPS pair or bond table.

    Checks that the section has the ``N`` entries its header declares, numbered 1..N,
    with finite values and increasing distances, and that ``R lo hi`` matches the first
    and last distance.

    Parameters
    ----------
    path : str or path-like
    keyword : str, optional
        The section to read; the first section when None.

    Returns
    -------
    LammpsTable
        ``keyword`` and the arrays ``r``, ``energy``, ``force`` of shape (n,).

    Raises
    ------
    ValueError
        A malformed section, naming the file and the line (also NaN, inf, decreasing r).
    TypeError
        ``path`` is not a path or ``keyword`` not a string.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "two.table")
    >>> _ = open(path, "w").write("SOFT\\nN 2 R 1.0 2.0\\n\\n1 1.0 0.5 1.0\\n2 2.0 0.0 0.0\\n")
    >>> table = read_lammps_table(path)
    >>> table.keyword, table.r.tolist(), table.energy.tolist()
    ('SOFT', [1.0, 2.0], [0.5, 0.0])
    """
    path = as_path(path)
    if keyword is not None and not isinstance(keyword, str):
        raise TypeError(f"keyword must be a section name (str) or None, got {type(keyword).__name__}")
    with open(path) as handle:
        lines = [line.split("#")[0].strip() for line in handle]
    k = 0
    while k < len(lines):
        if lines[k] and (keyword is None or lines[k] == keyword) and k + 1 < len(lines) and lines[k + 1].startswith("N "):
            break
        k += 1
    else:
        raise ValueError(f"{path}: no table section (keyword={keyword!r}) with an 'N ...' line found")
    name, header = lines[k], lines[k + 1].split()
    bounds = None
    try:
        n = int(header[1])
        bounds = [float(v) for v in header[header.index("R") + 1: header.index("R") + 3]] if "R" in header else None
    except (ValueError, IndexError):
        n = 0
    if n < 1 or (bounds is not None and len(bounds) != 2):
        raise ValueError(f"{path}, line {k + 2}: expected 'N n [R lo hi]' with n >= 1, got {lines[k + 1]!r}")
    numbered = [(number + 1, line) for number, line in enumerate(lines) if number >= k + 2 and line][:n]
    data = _parse_rows(path, numbered, ("index", "r", "energy", "force"))
    if data.shape[0] != n or not np.array_equal(data[:, 0], np.arange(1, n + 1)):
        raise ValueError(f"{path}: section {name} must have {n} rows 'index r e f' numbered 1..{n}")
    if bounds is not None and not np.allclose([data[0, 1], data[-1, 1]], bounds):
        raise ValueError(f"{path}, line {k + 2}: R {bounds[0]} {bounds[1]} does not match the tabulated distances")
    return LammpsTable(name, data[:, 1], data[:, 2], data[:, 3])


def read_lammps_angle_table(path, keyword=None):
    """Read one section of a LAMMPS angle table.

    The checks of :func:`read_lammps_table`, and the angles must span 0 to 180 degrees.

    Parameters
    ----------
    path : str or path-like
    keyword : str, optional
        The section to read; the first section when None.

    Returns
    -------
    LammpsAngleTable
        ``keyword`` and the arrays ``angle`` (degrees), ``energy``, ``force`` of shape (n,).

    Raises
    ------
    ValueError
        A malformed section (naming the file and the line), or angles not from 0 to 180.
    TypeError
        ``path`` is not a path or ``keyword`` not a string.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "flat.table")
    >>> _ = open(path, "w").write("FLAT\\nN 3\\n\\n1 0.0 0.0 0.0\\n2 90.0 0.0 0.0\\n3 180.0 0.0 0.0\\n")
    >>> read_lammps_angle_table(path).angle.tolist()
    [0.0, 90.0, 180.0]
    """
    table = read_lammps_table(path, keyword)
    if not np.allclose([table.r[0], table.r[-1]], [0.0, 180.0]):
        raise ValueError(f"{path}: section {table.keyword}: angles must run from 0 to 180 degrees, "
                         f"got {table.r[0]:g} to {table.r[-1]:g}")
    return LammpsAngleTable(table.keyword, table.r, table.energy, table.force)


_GROMACS_SUFFIX = {"bond": "b", "angle": "a"}
_GROMACS_TABLE = {"bond": "a bond table", "angle": "an angle table"}


def _gromacs_table_name(path, kinds=("bond", "angle")):
    """``(kind, n)`` of a GROMACS table path ``..._b<n>.xvg`` or ``..._a<n>.xvg`` of one of ``kinds``.

    ``n`` is written as ``gmx mdrun -tableb`` looks for it: ``0`` or without leading zeros
    (for bond table 1 it looks for a name ending in ``_b1.xvg``, so ``table_b01.xvg`` is
    never found).
    """
    name = os.path.basename(path)
    match = re.fullmatch(r".*_([ab])(0|[1-9]\d*)\.xvg", name)
    kind = {"b": "bond", "a": "angle"}[match.group(1)] if match else None
    if kind not in kinds:
        endings = " or ".join(f"_{_GROMACS_SUFFIX[k]}<n>.xvg ({_GROMACS_TABLE[k]})" for k in kinds)
        padded = re.fullmatch(r".*_([ab])(0\d+)\.xvg", name)
        hint = (f" (no leading zeros: for table {int(padded.group(2))} gmx mdrun looks for a name ending in "
                f"_{padded.group(1)}{int(padded.group(2))}.xvg)" if padded else "")
        raise ValueError(f"path must end in {endings}, n the table number of the topology without leading "
                         f"zeros: gmx mdrun -tableb finds a table by that ending (e.g. table_b0.xvg for bond "
                         f"table 0, table_b12.xvg for bond table 12); got {path!r}{hint}")
    return kind, int(match.group(2))


def _write_xvg(path, comment, x, u, f):
    """Write a three-column GROMACS table ``x u f`` with a ``#`` comment line; return ``path``."""
    lines = [f"# {comment}"] + [f"{a:.12g} {b:.12g} {c:.12g}" for a, b, c in zip(x, u, f)]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def write_gromacs_bond_table(path, result, *, n_points=2000, length=1.0, energy=1.0, margin=0.5):
    """Write the bond potential of a bonded fit as a GROMACS tabulated-bond file ``table_b<n>.xvg``.

    Three columns :math:`r`, :math:`V(r)`, :math:`-V'(r)` on ``n_points`` even steps from
    :math:`r = 0` (GROMACS requires it) to the fitted range's upper end plus ``margin``
    times its width; a longer bond stops ``mdrun``.  Outside the fitted range the
    potential continues with its tangent plus the wall of :func:`harmonic_wall`, as in
    :func:`write_lammps_bond_table`.  In the topology use bonds of type 8 (with
    exclusions) or 9 with table number ``n`` and force constant 1
    (``i j 8 n 1.0``), and run ``gmx mdrun -tableb table_b<n>.xvg``.

    Parameters
    ----------
    path : str or path-like
        Ends in ``_b<n>.xvg``, ``n`` the table number of the topology.
    result : BondedResult
    n_points : int
        Table rows, evenly spaced from :math:`r = 0` to the end of the table (the fitted
        range's upper end plus ``margin`` times its width).
    length, energy : float
        Unit conversion factors (GROMACS wants nm and kJ/mol; forces get ``energy / length``).
    margin : float
        Extra range beyond the fitted upper end, as a fraction of the fitted range.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    TypeError, ValueError
        A bad argument (``result`` not a bonded fit, a file name GROMACS would not find, ...).

    Examples
    --------
    >>> import tempfile, os
    >>> fit = example_bonded_fit()
    >>> path = write_gromacs_bond_table(os.path.join(tempfile.mkdtemp(), "table_b0.xvg"), fit, n_points=121)
    >>> table = read_gromacs_bonded_table(path)
    >>> table.kind, table.number, float(table.x[0]), round(float(table.x[-1]), 3)
    ('bond', 0, 0.0, 1.2)
    """
    path = as_path(path)
    _gromacs_table_name(path, ("bond",))
    n_points = as_positive_int(n_points, "n_points", minimum=2, maximum=10**7)
    length = as_positive_scalar(length, "length")
    energy = as_positive_scalar(energy, "energy")
    margin = as_positive_scalar(margin, "margin", allow_zero=True)
    r = bond_grid(_bonded_model_of(result).bond_basis, n_points, margin, from_zero=True)
    u, f, comment = _bonded_columns(result, "bond", r, length, energy)
    return _write_xvg(path, comment, r * length, u, f)


def write_gromacs_angle_table(path, result, *, n_points=1801, energy=1.0):
    """Write the angle potential of a bonded fit as a GROMACS tabulated-angle file ``table_a<n>.xvg``.

    Three columns: the angle :math:`\\vartheta` in degrees from 0 to 180 (GROMACS requires
    the whole range), :math:`U(\\vartheta)` and :math:`-\\mathrm dU/\\mathrm d\\vartheta` per
    degree (GROMACS converts to radians); outside the fitted range the potential continues
    with its tangent plus the wall of :func:`harmonic_wall`, as in
    :func:`write_lammps_angle_table`.  In the topology use angles of type 8 with table
    number ``n`` and force constant 1 (``i j k 8 n 1.0``), and run ``gmx mdrun -tableb
    table_a<n>.xvg``.

    Parameters
    ----------
    path : str or path-like
        Ends in ``_a<n>.xvg``, ``n`` the table number of the topology.
    result : BondedResult
    n_points : int
        Table points from 0 to 180 degrees (1801: a tenth of a degree apart).
    energy : float
        Unit conversion factor applied to energies and forces (GROMACS wants kJ/mol).

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    TypeError, ValueError
        A bad argument (``result`` not a bonded fit, a file name GROMACS would not find, ...).

    Examples
    --------
    >>> import tempfile, os
    >>> fit = example_bonded_fit()
    >>> path = write_gromacs_angle_table(os.path.join(tempfile.mkdtemp(), "cg_a1.xvg"), fit, n_points=181)
    >>> table = read_gromacs_bonded_table(path)
    >>> table.kind, table.number, table.x[[0, -1]].tolist()
    ('angle', 1, [0.0, 180.0])
    """
    path = as_path(path)
    _gromacs_table_name(path, ("angle",))
    n_points = as_positive_int(n_points, "n_points", minimum=2, maximum=10**7)
    energy = as_positive_scalar(energy, "energy")
    degrees = np.linspace(0.0, 180.0, n_points)
    u, f, comment = _bonded_columns(result, "angle", degrees, energy=energy)
    return _write_xvg(path, comment, degrees, u, f)


@dataclass(frozen=True)
class GromacsTable:
    """A GROMACS tabulated bond or angle, as read by :func:`read_gromacs_bonded_table`.

    Attributes
    ----------
    kind : {"bond", "angle"}
        From the file name (``_b<n>.xvg`` or ``_a<n>.xvg``).
    number : int
        The table number ``n`` of the topology.
    x : ndarray, shape (n_points,)
        Distances from 0, or angles in degrees from 0 to 180.
    energy, force : ndarray, shape (n_points,)
        :math:`V(x)` and :math:`-V'(x)` (per degree for angles).

    Examples
    --------
    >>> flat = GromacsTable("angle", 0, np.array([0.0, 180.0]), np.zeros(2), np.zeros(2))
    >>> flat.kind, flat.x.tolist()
    ('angle', [0.0, 180.0])
    """

    kind: str
    number: int
    x: np.ndarray
    energy: np.ndarray
    force: np.ndarray


def read_gromacs_bonded_table(path):
    """Read a GROMACS tabulated bond (``_b<n>.xvg``) or angle (``_a<n>.xvg``) file.

    Checks what ``gmx mdrun`` checks: three finite columns (``#`` and ``@`` lines
    skipped), evenly spaced increasing ``x``, bonds from 0 and angles from 0 to 180 degrees.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    GromacsTable
        ``kind``, ``number`` and the arrays ``x``, ``energy``, ``force``.

    Raises
    ------
    ValueError
        A file name without ``_b<n>.xvg`` or ``_a<n>.xvg``, or a malformed table (naming the
        file and, for a bad row, the line).
    TypeError
        ``path`` is not a path.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "table_b2.xvg")
    >>> _ = open(path, "w").write("# harmonic\\n0.0 0.5 1.0\\n1.0 0.0 0.0\\n2.0 0.5 -1.0\\n")
    >>> table = read_gromacs_bonded_table(path)
    >>> table.kind, table.number, table.energy.tolist()
    ('bond', 2, [0.5, 0.0, 0.5])
    """
    path = as_path(path)
    kind, number = _gromacs_table_name(path)
    with open(path) as handle:
        numbered = [(k + 1, line) for k, line in enumerate(handle) if line.strip() and line.lstrip()[0] not in "#@"]
    data = _parse_rows(path, numbered, ("r", "energy", "force"))
    x = data[:, 0]
    if x.size < 2 or not np.allclose(np.diff(x), x[1] - x[0], rtol=5e-3, atol=0.0):
        raise ValueError(f"{path}: a GROMACS table needs at least two rows with evenly spaced x")
    if x[0] != 0.0 or (kind == "angle" and x[-1] != 180.0):
        expected = "start at 0" if kind == "bond" else "run from 0 to 180 degrees"
        raise ValueError(f"{path}: the {kind} table must {expected}, got {x[0]:g} to {x[-1]:g}")
    return GromacsTable(kind, number, x, data[:, 1], data[:, 2])
