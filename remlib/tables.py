"""Export fitted pair potentials as LAMMPS and GROMACS tables.

A fitted potential :math:`u(r) = \\sum_i \\theta_i B_i(r)` (a
:class:`remlib.pairrem.PairPotentialResult`) is written with its exact force
:math:`f(r) = -u'(r) = -\\sum_i \\theta_i B_i'(r)` from the spline derivatives, so a
production engine sees the same model.

* LAMMPS (``pair_style table linear N`` + ``pair_coeff * * file KEYWORD``): a section
  ``KEYWORD`` / ``N n R r_lo r_hi`` / blank line / ``n`` lines ``index r u f`` on
  ``[r_min, r_cut]``.
* GROMACS (tabulated user interactions, ``table.xvg``): seven columns
  ``r, f, -f', g, -g', h, -h'`` from ``r = 0`` in steps of ``spacing`` (0.002 nm is the
  GROMACS default); the potential goes into the repulsion columns ``h, -h'`` (use
  ``C6 = 0, C12 = 1`` for the pair), the Coulomb and dispersion columns are zero.  Below
  ``r_min`` the potential is continued linearly with the force at ``r_min`` (GROMACS
  tables must start at 0; the CG model never samples there).

Values are in the model's reduced units times ``length`` and ``energy`` (e.g.
``length=0.34`` nm and ``energy=0.996`` kJ/mol for argon).
"""
import numpy as np

from remlib._validation import as_path, as_positive_int, as_positive_scalar, check_memory

__all__ = ["write_lammps_table", "read_lammps_table", "write_gromacs_table", "read_gromacs_table"]


def _model_of(potential):
    """The PairModel of a fitted potential (TypeError for anything else)."""
    model = getattr(potential, "model", None)
    if model is None or getattr(potential, "theta", None) is None:
        raise TypeError("potential must be a PairPotentialResult (with .model and .theta), "
                        f"got {type(potential).__name__}")
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


def _energy_force(potential, r):
    """u(r) and f(r) = -u'(r) of a fitted pair potential on [r_min, r_cut]."""
    basis = _model_of(potential).basis
    return basis(r) @ potential.theta, -(basis.derivative(r) @ potential.theta)


def write_lammps_table(path, potential, *, n_points=1000, keyword="REM", length=1.0, energy=1.0):
    """Write ``potential`` as a LAMMPS ``pair_style table`` file and return the path.

    Parameters
    ----------
    path : str or path-like
    potential : PairPotentialResult
    n_points : int
        Table points, evenly spaced in r on ``[r_min, r_cut]`` (``N n R r_min r_cut``).
    keyword : str
        Section name used in ``pair_coeff * * path keyword``.
    length, energy : float
        Unit conversion factors applied to r and u (forces get ``energy / length``).

    Examples
    --------
    >>> import tempfile, os
    >>> from remlib.basis import BSplineBasis
    >>> from remlib.pairrem import PairModel, PairPotentialResult
    >>> model = PairModel(BSplineBasis(0.9, 2.5, 6))
    >>> fit = PairPotentialResult("rem", model, np.array([3.0, 0.5, -1.0, -0.3, 0.0, 0.0]), None, None)
    >>> path = write_lammps_table(os.path.join(tempfile.mkdtemp(), "cg.table"), fit, n_points=50)
    >>> table = read_lammps_table(path)
    >>> table["keyword"], table["r"].size, round(float(table["r"][-1]), 3)
    ('REM', 50, 2.5)
    """
    path = as_path(path)
    n_points = as_positive_int(n_points, "n_points", minimum=2, maximum=10**7)
    length = as_positive_scalar(length, "length")
    energy = as_positive_scalar(energy, "energy")
    if not isinstance(keyword, str) or not keyword or any(c.isspace() for c in keyword):
        raise ValueError(f"keyword must be a non-empty word without spaces, got {keyword!r}")
    model = _model_of(potential)
    r = np.linspace(model.r_min, model.r_cut, n_points)
    u, f = _energy_force(potential, r)
    r_out, u_out, f_out = r * length, u * energy, f * energy / length
    lines = [f"# pair potential from remlib ({getattr(potential, 'method', 'fit')}); u and f = -du/dr",
             "", keyword, f"N {n_points} R {r_out[0]:.12g} {r_out[-1]:.12g}", ""]
    lines += [f"{k + 1} {a:.12g} {b:.12g} {c:.12g}" for k, (a, b, c) in enumerate(zip(r_out, u_out, f_out))]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def read_lammps_table(path, keyword=None):
    """Read one section of a LAMMPS pair table: dict with ``keyword``, ``r``, ``energy``, ``force``.

    Checks that the section has the ``N`` entries its header declares, numbered 1..N,
    with finite values and increasing distances, and that ``R lo hi`` matches the first
    and last distance.  Errors name the file and the line.
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
        raise ValueError(f"{path}: no table section {keyword or ''} with an 'N ...' line found")
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
    return {"keyword": name, "r": data[:, 1], "energy": data[:, 2], "force": data[:, 3]}


def write_gromacs_table(path, potential, *, spacing=0.002, extension=1.0, length=1.0, energy=1.0):
    """Write ``potential`` as a GROMACS tabulated-interaction file (``table.xvg``).

    Columns ``r, f, -f', g, -g', h, -h'`` from 0 to ``r_cut + extension`` (in output
    units) with step ``spacing``: f = g = 0, h = u, -h' = -u' (zero beyond r_cut).

    Examples
    --------
    >>> import tempfile, os
    >>> from remlib.basis import BSplineBasis
    >>> from remlib.pairrem import PairModel, PairPotentialResult
    >>> model = PairModel(BSplineBasis(0.9, 2.5, 6))
    >>> fit = PairPotentialResult("rem", model, np.array([3.0, 0.5, -1.0, -0.3, 0.0, 0.0]), None, None)
    >>> path = write_gromacs_table(os.path.join(tempfile.mkdtemp(), "table.xvg"), fit, spacing=0.01)
    >>> read_gromacs_table(path).shape
    (351, 7)
    """
    path = as_path(path)
    spacing = as_positive_scalar(spacing, "spacing")
    extension = as_positive_scalar(extension, "extension", allow_zero=True)
    length = as_positive_scalar(length, "length")
    energy = as_positive_scalar(energy, "energy")
    model = _model_of(potential)
    check_memory("spacing", spacing, 8 * 8 * (model.r_cut * length + extension) / spacing)
    r_out = np.arange(0.0, model.r_cut * length + extension + 0.5 * spacing, spacing)
    r = r_out / length
    u = np.zeros_like(r)
    f = np.zeros_like(r)
    inside = (r >= model.r_min) & (r <= model.r_cut)
    u[inside], f[inside] = _energy_force(potential, r[inside])
    below = r < model.r_min
    u_min, f_min = (v[0] for v in _energy_force(potential, np.array([model.r_min])))
    u[below] = u_min + f_min * (model.r_min - r[below])
    f[below] = f_min
    zero = np.zeros_like(r)
    table = np.column_stack([r_out, zero, zero, zero, zero, u * energy, f * energy / length])
    header = (f"# pair potential from remlib ({getattr(potential, 'method', 'fit')}): columns r, f, -f', g, -g', "
              "h, -h'; potential in h (use C6 = 0, C12 = 1)")
    np.savetxt(path, table, fmt="%.10e", header=header, comments="")
    return path


def read_gromacs_table(path):
    """Read a GROMACS table (7 columns, '#' and '@' lines skipped) as an array (n, 7).

    Values must be finite and distances increase uniformly from 0; errors name the file
    and the line.
    """
    path = as_path(path)
    with open(path) as handle:
        numbered = [(number + 1, line) for number, line in enumerate(handle)
                    if line.strip() and line.lstrip()[0] not in "#@"]
    data = _parse_rows(path, numbered, ("r", "f", "-f'", "g", "-g'", "h", "-h'"))
    if data.shape[0] < 2:
        raise ValueError(f"{path}: a GROMACS table needs at least two rows")
    if not np.allclose(np.diff(data[:, 0]), data[1, 0] - data[0, 0]) or data[0, 0] != 0.0:
        raise ValueError(f"{path}: the distances must start at 0 with uniform spacing")
    return data
