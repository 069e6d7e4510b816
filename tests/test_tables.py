"""LAMMPS and GROMACS table export: files parse back and forces equal -dU/dr."""
import numpy as np
import pytest

from remlib.basis import BSplineBasis
from remlib.fluids import lj_potential
from remlib.pairrem import PairModel, PairPotentialResult
from remlib.tables import read_gromacs_table, read_lammps_table, write_gromacs_table, write_lammps_table


@pytest.fixture
def fit():
    model = PairModel(BSplineBasis(0.85, 2.5, 14))
    r = np.linspace(0.85, 2.5, 400)
    theta = np.linalg.lstsq(model.basis(r), lj_potential(r, shift_at=2.5), rcond=None)[0]
    return PairPotentialResult("rem", model, theta, r, model.potential(r, theta))


def test_lammps_table_round_trip_and_forces(fit, tmp_path):
    path = write_lammps_table(tmp_path / "cg.table", fit, n_points=2001, keyword="CG_LJ")
    text = (tmp_path / "cg.table").read_text().splitlines()
    assert "CG_LJ" in text and "N 2001 R 0.85 2.5" in text
    table = read_lammps_table(path, "CG_LJ")
    np.testing.assert_allclose(table["r"], np.linspace(0.85, 2.5, 2001))
    np.testing.assert_allclose(table["energy"], fit.model.potential(table["r"], fit.theta), rtol=1e-10, atol=1e-11)
    # forces equal -dU/dr (central differences of the written energies, O(h^2))
    du = np.gradient(table["energy"], table["r"])
    np.testing.assert_allclose(table["force"][1:-1], -du[1:-1], atol=2e-3 * np.abs(table["force"]).max())


def test_lammps_table_units(fit, tmp_path):
    plain = read_lammps_table(write_lammps_table(tmp_path / "a.table", fit, n_points=11))
    scaled = read_lammps_table(write_lammps_table(tmp_path / "b.table", fit, n_points=11, length=0.34, energy=0.996))
    np.testing.assert_allclose(scaled["r"], 0.34 * plain["r"])
    np.testing.assert_allclose(scaled["energy"], 0.996 * plain["energy"])
    np.testing.assert_allclose(scaled["force"], 0.996 / 0.34 * plain["force"])


def test_gromacs_table_columns_and_forces(fit, tmp_path):
    data = read_gromacs_table(write_gromacs_table(tmp_path / "table.xvg", fit, spacing=0.002, extension=1.0))
    r, u, f = data[:, 0], data[:, 5], data[:, 6]
    np.testing.assert_allclose(np.diff(r), 0.002)
    assert r[0] == 0.0 and r[-1] == pytest.approx(3.5)
    assert np.all(data[:, 1:5] == 0.0)
    inside = (r >= 0.85) & (r <= 2.5)
    np.testing.assert_allclose(u[inside], fit.model.potential(r[inside], fit.theta), rtol=1e-9, atol=1e-10)
    smooth = (r > 0.87) & (r < 2.48)
    du = np.gradient(u, r)
    np.testing.assert_allclose(f[smooth], -du[smooth], atol=2e-3 * np.abs(f).max())
    assert np.all(u[r > 2.5] == 0.0) and np.all(f[r > 2.5] == 0.0)
    below = r < 0.85  # linear continuation: constant force, continuous energy
    assert np.all(f[below] == f[inside][0])
    assert u[below][-1] == pytest.approx(u[inside][0] + f[inside][0] * (0.85 - r[below][-1]))


def test_bad_export_input(fit, tmp_path):
    with pytest.raises(ValueError, match="keyword"):
        write_lammps_table(tmp_path / "x", fit, keyword="two words")
    with pytest.raises(TypeError, match="PairPotentialResult"):
        write_gromacs_table(tmp_path / "x", object())
    (tmp_path / "broken.table").write_text("CG\nN 3 R 1 2\n\n1 1.0 0 0\n2 1.5 0 0\n")
    with pytest.raises(ValueError, match="3 rows"):
        read_lammps_table(tmp_path / "broken.table")


def test_pair_result_plot(fit):
    import matplotlib

    matplotlib.use("Agg")
    ax = fit.plot()
    r, u = ax.lines[0].get_data()
    np.testing.assert_allclose(u, fit.potential)
    assert ax.get_legend().get_texts()[0].get_text() == "rem"
