"""LAMMPS and GROMACS table export: files parse back, forces equal -dU/dr, the continuation
below r_min and outside the bonded ranges is smooth (the tangent plus a harmonic wall, in closed
form), jumps at the cutoff warn, GROMACS bonded tables hold what GROMACS requires."""
import warnings

import numpy as np
import pytest

from remlib.basis import BSplineBasis
from remlib.fluids import lj_potential
from remlib.montecarlo import tabulate_pair
from remlib.pairrem import PairModel, PairPotentialResult
from remlib.polymers import BondedModel, BondedResult
from remlib.tables import (
    WALL,
    continued_design,
    read_gromacs_bonded_table,
    read_lammps_angle_table,
    read_lammps_table,
    write_gromacs_angle_table,
    write_gromacs_bond_table,
    write_lammps_angle_table,
    write_lammps_bond_table,
    write_lammps_table,
)


def _lj_fit(smooth):
    model = PairModel(BSplineBasis(0.85, 2.5, 14, vanish_at_upper=smooth))
    r = np.linspace(0.85, 2.5, 400)
    theta = np.linalg.lstsq(model.basis(r), lj_potential(r, shift_at=2.5), rcond=None)[0]
    return PairPotentialResult("rem", model, theta, r, model.potential(r, theta))


@pytest.fixture
def fit():
    return _lj_fit(smooth=True)


@pytest.fixture
def bonded():
    pair = tabulate_pair(lambda r: 4 * (r**-12 - r**-6) + 1.0, r_min=0.7, r_cut=2 ** (1 / 6))
    model = BondedModel(BSplineBasis(0.85, 1.15, 7), BSplineBasis(1.6, 3.0, 7), pair, 4)
    r = np.linspace(0.85, 1.15, 50)
    t = np.linspace(1.6, 3.0, 50)
    ones = np.ones((50, 1))  # the potentials up to a constant (the last spline's coefficient is 0)
    theta_b = np.linalg.lstsq(np.hstack([model.bond_basis(r)[:, :-1], ones]), 200 * (r - 1.0) ** 2, rcond=None)[0]
    theta_a = np.linalg.lstsq(np.hstack([model.angle_basis(t)[:, :-1], ones]), 3 * (1 + np.cos(t)), rcond=None)[0]
    return BondedResult("rem", model, np.concatenate([theta_b[:-1], theta_a[:-1]]))


def test_smooth_basis_vanishes_at_the_cutoff(fit):
    """Value, slope and curvature of every spline of the smooth basis are 0 at r_cut (cubic B-splines)."""
    basis = fit.model.basis
    h = basis.spacing
    for r in (2.5 - 1e-9, 2.5):
        assert np.abs(basis([r])).max() < 1e-20 and np.abs(basis.derivative([r])).max() < 1e-12
    # curvature -> 0 at the cutoff: the last spline is ((r_cut - r)/h)^3 / 6 there, B'' = (r_cut - r) / h^3
    r = 2.5 - np.array([2e-3, 1e-3, 0.0])
    second = (basis(r[:1]) - 2 * basis(r[1:2]) + basis(r[2:])) / 1e-6
    assert np.abs(second).max() < 1.01 * 2e-3 / h**3
    # the smooth basis is the full basis on m + 3 splines without its last three
    full = BSplineBasis(0.85, 2.5, basis.n_functions + 3)
    x = np.linspace(0.85, 2.5, 77)
    np.testing.assert_allclose(basis(x), full(x)[:, : basis.n_functions], atol=1e-15)
    assert fit.potential[-1] == 0.0


def test_lammps_table_round_trip_and_forces(fit, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a smooth fit writes without a jump warning
        path = write_lammps_table(tmp_path / "cg.table", fit, n_points=2001, keyword="CG_LJ")
    text = (tmp_path / "cg.table").read_text()
    assert "CG_LJ" in text.splitlines() and "N 2001 R 0.425 2.5" in text and "steep repulsion" in text
    table = read_lammps_table(path, "CG_LJ")
    r, u, f = table.r, table.energy, table.force
    np.testing.assert_allclose(r, np.linspace(0.425, 2.5, 2001))
    inside = r >= 0.85
    np.testing.assert_allclose(u[inside], fit.model.potential(r[inside], fit.theta), rtol=1e-10, atol=1e-11)
    # forces equal -dU/dr everywhere, including the continuation (central differences, O(h^2))
    du = np.gradient(u, r)
    smooth = r > 0.5
    np.testing.assert_allclose(f[smooth][1:-1], -du[smooth][1:-1], rtol=2e-2, atol=2e-3 * np.abs(f[inside]).max())
    # below r_min: repulsive, rising steeply, continuous value and force at r_min
    below = ~inside
    assert np.all(np.diff(u[below]) < 0) and np.all(f[below] > 0) and u[0] > 1000
    k = np.flatnonzero(inside)[0]
    step = r[1] - r[0]
    assert abs(u[k - 1] - u[k]) < 2 * abs(f[k]) * step and abs(f[k - 1] - f[k]) < 0.05 * abs(f[k]) + 1e-9
    assert u[-1] == 0.0 and f[-1] == 0.0


def test_lammps_table_units(fit, tmp_path):
    plain = read_lammps_table(write_lammps_table(tmp_path / "a.table", fit, n_points=11))
    scaled = read_lammps_table(write_lammps_table(tmp_path / "b.table", fit, n_points=11, length=0.34, energy=0.996))
    np.testing.assert_allclose(scaled.r, 0.34 * plain.r)
    np.testing.assert_allclose(scaled.energy, 0.996 * plain.energy)
    np.testing.assert_allclose(scaled.force, 0.996 / 0.34 * plain.force)


def test_jump_at_the_cutoff_warns_in_kbt(tmp_path):
    fit = _lj_fit(smooth=False)
    jump = float(fit.model.basis([2.5])[0] @ fit.theta)
    assert abs(jump) > 1e-4  # the least-squares fit of the full basis does not vanish exactly at r_cut
    with pytest.warns(UserWarning, match=f"jumps by {2 * jump:.3g} k_BT"):
        write_lammps_table(tmp_path / "jump.table", fit, n_points=50, beta=2.0)


def test_continued_design_is_the_tangent():
    basis = BSplineBasis(1.0, 2.0, 6)
    theta = np.array([3.0, -1.0, 0.5, 2.0, -0.5, 1.0])
    for edge, x in ((1.0, np.array([0.5, 0.9])), (2.0, np.array([2.1, 2.7]))):
        u_edge = basis([edge])[0] @ theta
        slope = basis.derivative([edge])[0] @ theta
        np.testing.assert_allclose(continued_design(basis, x, above=True) @ theta, u_edge + slope * (x - edge))
    inside = np.linspace(1.0, 2.0, 9)
    np.testing.assert_array_equal(continued_design(basis, inside, above=True), basis(inside))
    np.testing.assert_array_equal(continued_design(basis, np.array([2.5])), basis([2.5]))  # pairs: zero beyond


def _away_from(x, edges):
    """Interior grid points more than 1.5 steps from every edge (central differences stay on one side)."""
    step = x[1] - x[0]
    away = np.min(np.abs(x[:, None] - np.asarray(edges)[None]), axis=1) > 1.5 * step
    away[[0, -1]] = False
    return away


def test_bond_table(bonded, tmp_path):
    table = read_lammps_table(write_lammps_bond_table(tmp_path / "bond.table", bonded, n_points=1001))
    r, u, f = table.r, table.energy, table.force
    assert table.keyword == "BOND" and r[0] == pytest.approx(0.7) and r[-1] == pytest.approx(1.3)
    inside = (r >= 0.85) & (r <= 1.15)
    np.testing.assert_allclose(u[inside], bonded.bond_potential(r[inside]), atol=1e-10)
    assert np.ptp(u[inside] - 200 * (r[inside] - 1) ** 2) < 1e-6  # the harmonic bond, up to a constant
    du = np.gradient(u, r)
    away = _away_from(r, [0.85, 1.15])  # the walls start there: the force has a kink
    np.testing.assert_allclose(f[away], -du[away], atol=1e-2 * np.abs(f).max())
    # walls outside the range push back in
    assert np.all(f[r < 0.8] > 0) and np.all(f[r > 1.2] < 0) and u[0] > u[inside][0] and u[-1] > u[inside][-1]


def test_angle_table_in_degrees(bonded, tmp_path):
    table = read_lammps_angle_table(write_lammps_angle_table(tmp_path / "angle.table", bonded, n_points=1801))
    angle, u, f = table.angle, table.energy, table.force
    np.testing.assert_allclose(angle, np.linspace(0, 180, 1801))
    radians = np.radians(angle)
    inside = (radians >= 1.6) & (radians <= 3.0)
    np.testing.assert_allclose(u[inside], bonded.angle_potential(radians[inside]), atol=1e-10)
    # the force column is -dU/d(angle in degrees)
    du = np.gradient(u, angle)
    away = _away_from(angle, np.degrees([1.6, 3.0]))
    np.testing.assert_allclose(f[away], -du[away], atol=1e-2 * np.abs(f[inside]).max())


def test_gromacs_bond_table_from_zero_with_the_tangent_and_wall(bonded, tmp_path):
    """Bond table: from r = 0 (GROMACS requires it) to the upper end plus half the fitted range,
    the harmonic bond 200 (r - 1)^2 (up to a constant) inside the fitted range [0.85, 1.15],
    outside it the closed form u(e) + u'(e)(r - e) + K/2 (r - e)^2 from the nearer edge e;
    converted to other units by length and energy."""
    length, energy = 0.5, 2.5
    table = read_gromacs_bonded_table(write_gromacs_bond_table(tmp_path / "cg_b3.xvg", bonded, n_points=1301,
                                                                length=length, energy=energy))
    assert (table.kind, table.number) == ("bond", 3)
    r, u, f = table.x / length, table.energy / energy, table.force * length / energy
    assert r[0] == 0.0 and r[-1] == pytest.approx(1.3)
    np.testing.assert_allclose(np.diff(r), 0.001, rtol=1e-9)
    constant = bonded.bond_potential(np.array([1.0]))[0]
    exact_u = 200 * (r - 1) ** 2 + constant
    for edge, outside in ((0.85, r < 0.85), (1.15, r > 1.15)):
        d = r[outside] - edge
        exact_u[outside] = 200 * (edge - 1) ** 2 + constant + 400 * (edge - 1) * d + 0.5 * WALL * d**2
    np.testing.assert_allclose(u, exact_u, rtol=1e-9, atol=1e-6)
    # the force column is -dU/dr (central differences of the file's own energies, away from the kinks)
    du = np.gradient(u, r)
    away = _away_from(r, [0.85, 1.15])
    np.testing.assert_allclose(f[away], -du[away], atol=1e-6 * np.abs(f).max())
    # the same potential as the LAMMPS bond table where both are tabulated
    lammps = read_lammps_table(write_lammps_bond_table(tmp_path / "bond.table", bonded, n_points=601))
    np.testing.assert_allclose(np.interp(lammps.r, r, u), lammps.energy, atol=1e-3 * np.ptp(lammps.energy))


def _harmonic_angle_fit(bonded, stiffness, theta0):
    """``bonded`` with the angle potential exactly k/2 (θ - θ0)² + c on the fitted range, and c.

    Coefficients by Marsden's identity for uniform cubic B-splines (not by a fit): with knots
    spaced h and spline i centred at c_i = lower + (i - 1) h, the coefficients c_i give x and
    c_i² - h²/3 give x², so (c_i - θ0)² - h²/3 give (x - θ0)².  The model fixes the last
    coefficient at 0, which shifts the potential by c = -(that coefficient) (partition of unity).
    """
    model = bonded.model
    basis = model.angle_basis
    h = (basis.upper - basis.lower) / (basis.n_functions - 3)
    centres = basis.lower + (np.arange(basis.n_functions) - 1) * h
    coefficients = 0.5 * stiffness * ((centres - theta0) ** 2 - h**2 / 3)
    theta = np.concatenate([bonded.theta[: model.n_bond], coefficients[:-1] - coefficients[-1]])
    return BondedResult("rem", model, theta), -coefficients[-1]


def test_gromacs_angle_table_in_degrees_from_0_to_180(bonded, tmp_path):
    """Angle table of the harmonic angle k/2 (θ - θ0)^2 (+ a constant): exactly 0 to 180 degrees
    (GROMACS compares the ends exactly), energies scaled by energy; inside the fitted range
    [1.6, 3.0] rad the closed form with forces -dU/dθ · π/180 per degree; outside it
    u(e) + u'(e) d + K/2 d^2 (d = θ - e in radians, e the nearer edge) and its slope."""
    stiffness, theta0, energy = 30.0, 2.2, 2.0
    harmonic, constant = _harmonic_angle_fit(bonded, stiffness, theta0)
    path = write_gromacs_angle_table(tmp_path / "table_a0.xvg", harmonic, n_points=1801, energy=energy)
    rows = [line.split() for line in open(path) if not line.startswith("#")]
    assert rows[0][0] == "0" and rows[-1][0] == "180"
    table = read_gromacs_bonded_table(path)
    assert (table.kind, table.number) == ("angle", 0)
    np.testing.assert_allclose(table.x, np.linspace(0.0, 180.0, 1801), rtol=1e-12)
    radians = np.radians(table.x)
    exact_u = 0.5 * stiffness * (radians - theta0) ** 2 + constant
    exact_du = stiffness * (radians - theta0)  # dU/dθ per radian
    for edge, outside in ((1.6, radians < 1.6), (3.0, radians > 3.0)):
        d = radians[outside] - edge
        exact_u[outside] = 0.5 * stiffness * (edge - theta0) ** 2 + constant + stiffness * (edge - theta0) * d \
            + 0.5 * WALL * d**2
        exact_du[outside] = stiffness * (edge - theta0) + WALL * d
    assert np.sum(radians < 1.6) > 900 and np.sum(radians > 3.0) > 70  # both walls are tabulated
    np.testing.assert_allclose(table.energy, energy * exact_u, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(table.force, -energy * exact_du * np.pi / 180, rtol=1e-9, atol=1e-9)


def test_gromacs_table_numbers_are_written_as_mdrun_looks_for_them(bonded, tmp_path):
    """gmx mdrun -tableb finds table n by the ending _b<n>.xvg (or _a<n>.xvg) with n printed as %d:
    a name with leading zeros (table_b01.xvg for table 1) is never found, so the writers and the
    reader refuse it, naming path and the ending mdrun looks for; 0 and 10 are fine."""
    for name, ending in (("table_b01.xvg", "_b1.xvg"), ("cg_b00.xvg", "_b0.xvg"), ("chain_a007.xvg", "_a7.xvg")):
        message = (rf"^path must end in .*without leading zeros.*got '.*{name}' "
                   rf"\(no leading zeros: .* looks for a name ending in {ending}\)$")
        write = write_gromacs_bond_table if "_b" in ending else write_gromacs_angle_table
        with pytest.raises(ValueError, match=message):
            write(tmp_path / name, bonded)
        (tmp_path / name).write_text("0 0 0\n90 0 0\n180 0 0\n")  # a table that would read if the name did
        with pytest.raises(ValueError, match=message):
            read_gromacs_bonded_table(tmp_path / name)
    for name, number in (("table_b0.xvg", 0), ("table_b10.xvg", 10)):
        table = read_gromacs_bonded_table(write_gromacs_bond_table(tmp_path / name, bonded, n_points=101))
        assert (table.kind, table.number) == ("bond", number)


def test_bad_export_input(fit, bonded, tmp_path):
    with pytest.raises(ValueError, match="keyword"):
        write_lammps_table(tmp_path / "x", fit, keyword="two words")
    with pytest.raises(ValueError, match="r_inner"):
        write_lammps_table(tmp_path / "x", fit, r_inner=1.0)
    with pytest.raises(TypeError, match="BondedResult"):
        write_gromacs_bond_table(tmp_path / "table_b0.xvg", fit)
    with pytest.raises(ValueError, match=r"_b<n>.xvg \(a bond table\).*got '.*table_a0.xvg'"):
        write_gromacs_bond_table(tmp_path / "table_a0.xvg", bonded)  # mdrun -tableb would not find it
    with pytest.raises(ValueError, match=r"_a<n>.xvg"):
        write_gromacs_angle_table(tmp_path / "angle.xvg", bonded)
    (tmp_path / "table_b0.xvg").write_text("0.1 0 0\n0.2 0 0\n")
    with pytest.raises(ValueError, match="bond table must start at 0"):
        read_gromacs_bonded_table(tmp_path / "table_b0.xvg")
    (tmp_path / "table_a0.xvg").write_text("0 0 0\n90 0 0\n")
    with pytest.raises(ValueError, match="from 0 to 180 degrees"):
        read_gromacs_bonded_table(tmp_path / "table_a0.xvg")
    (tmp_path / "table_a1.xvg").write_text("0 0 0\n10 0 0\n180 0 0\n")
    with pytest.raises(ValueError, match="evenly spaced"):
        read_gromacs_bonded_table(tmp_path / "table_a1.xvg")
    with pytest.raises(TypeError, match="BondedResult"):
        write_lammps_bond_table(tmp_path / "x", fit)
    with pytest.raises(TypeError, match="PairPotentialResult"):
        write_lammps_table(tmp_path / "x", bonded)
    (tmp_path / "broken.table").write_text("CG\nN 3 R 1 2\n\n1 1.0 0 0\n2 1.5 0 0\n")
    with pytest.raises(ValueError, match="3 rows"):
        read_lammps_table(tmp_path / "broken.table")
    (tmp_path / "short.table").write_text("A\nN 2\n\n1 0.0 0 0\n2 90.0 0 0\n")
    with pytest.raises(ValueError, match="0 to 180"):
        read_lammps_angle_table(tmp_path / "short.table")


def test_plots_label_energy_units(fit, bonded):
    import matplotlib

    matplotlib.use("Agg")
    ax = fit.plot()
    r, u = ax.lines[0].get_data()
    np.testing.assert_allclose(u, fit.potential)
    assert ax.get_legend().get_texts()[0].get_text() == "rem"
    for label in (ax.get_ylabel(), bonded.plot()[0].get_ylabel()):
        assert "energy units" in label and "/ $k_BT$" not in label
