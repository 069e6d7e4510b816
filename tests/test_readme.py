"""The README's example runs, prints what the README says it prints, and its fit is right.

The fitted θ is compared with the exact potential of mean force of the entropic channel,
F(x) = x⁴ - 1.5 x² + 0.3 x + const (barrier 1, tilt 0.3, a = 1: U₁(x) + (kT/2) a x²), within
the fit's own sampling error: REM on n independent exact samples is maximum likelihood in
an exponential family, so n (θ̂ - θ)ᵀ Cov_θ(φ) (θ̂ - θ) is χ²-distributed with m = 3 degrees
of freedom (Cov_θ(φ) computed here by quadrature, independently of remlib).
"""
import contextlib
import io
import re
from pathlib import Path

import numpy as np
from scipy import stats

from engine_helpers import require_lmp

README = Path(__file__).resolve().parents[1] / "README.md"
EXACT_THETA = np.array([0.3, -1.5, 1.0])  # coefficients of x, x², x⁴ in the exact PMF


def readme_blocks():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 2, f"the README should have two python examples (a fit, a trajectory), found {len(blocks)}"
    return blocks


def readme_example():
    return readme_blocks()[0]


def test_readme_stays_a_readme_for_users():
    """At most about 150 lines: measurements belong to benchmarks/README.md, not here."""
    lines = README.read_text().splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines; move details to the book or benchmarks/"
    for command in ("make book", "make test", "_build/html/index.html", "CITATION.cff"):
        assert command in README.read_text(), f"the README no longer mentions {command}"


def test_readme_example_prints_what_it_says_and_fits_the_exact_pmf():
    code = readme_example()
    assert len(code.splitlines()) <= 20, "the README's example should stay short"
    namespace = {}
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code, str(README), "exec"), namespace)
    printed = output.getvalue().strip()
    claimed = re.search(r"print\(.*\)\s*#\s*(.*)$", code, flags=re.M).group(1).strip()
    assert printed == claimed, f"the README says the example prints {claimed!r}, it prints {printed!r}"

    fit, n = namespace["fit"], namespace["x"].size
    assert fit.converged
    x = np.linspace(-4.0, 4.0, 40001)
    phi = np.stack([x, x**2, x**4])
    p = np.exp(-(EXACT_THETA @ phi))
    p /= np.trapezoid(p, x)
    mean = np.trapezoid(phi * p, x, axis=1)
    cov = np.trapezoid((phi - mean[:, None])[:, None] * (phi - mean[:, None])[None] * p, x, axis=2)
    error = fit.theta - EXACT_THETA
    chi2 = n * error @ cov @ error
    assert chi2 < stats.chi2.ppf(0.999, df=3), (fit.theta, chi2)


SIGMA = 3.166  # Å, the README's unit of length


def _water_like_trajectory(directory):
    """conf.gro + traj.xtc: one-atom 'SOL' molecules at the sites of an LJ fluid, in Å."""
    import MDAnalysis as mda

    import remlib

    run = remlib.lj_fluid_frames(256, 0.8, 2.0, 40, burn_in=100, thin=5, seed=4)
    n = run.frames.shape[1]
    u = mda.Universe.empty(n, n_residues=n, atom_resindex=np.arange(n), trajectory=True)
    u.add_TopologyAttr("names", ["OW"] * n)
    u.add_TopologyAttr("resnames", ["SOL"] * n)
    u.add_TopologyAttr("resids", np.arange(1, n + 1))
    u.load_new((run.frames * SIGMA).astype(np.float32), order="fac",
               dimensions=np.r_[run.box * SIGMA, 90.0, 90.0, 90.0])
    u.atoms.write(str(directory / "conf.gro"))
    with mda.Writer(str(directory / "traj.xtc"), n_atoms=n) as writer:
        for _ in u.trajectory:
            writer.write(u.atoms)
    return run


def test_readme_trajectory_to_lammps_walkthrough(tmp_path, monkeypatch):
    """The README's second example runs on a trajectory file pair, and LAMMPS runs its table."""
    import subprocess

    import remlib

    run = _water_like_trajectory(tmp_path)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(readme_blocks()[1], str(README), "exec"), namespace)
    cg = namespace["cg"]
    assert cg.frames.shape == run.frames.shape
    np.testing.assert_allclose(cg.box, run.box, rtol=1e-5)
    table = remlib.read_lammps_table(tmp_path / "cg.table")
    assert table.keyword == "REM" and table.r.size == 2000
    assert abs(table.r[-1] - 2.5 * SIGMA) < 1e-6

    match = re.search(r"`(pair_style table linear \d+)` and `(pair_coeff \* \* cg\.table REM)`",
                      README.read_text())
    assert match, "the README no longer gives the LAMMPS pair_style and pair_coeff lines"
    require_lmp()  # skips (fails under `make test`) without LAMMPS, after the README's parts above passed
    frame = run.frames[-1] * SIGMA
    edges = run.box * SIGMA
    data = [f"water-like sites\n\n{len(frame)} atoms\n1 atom types\n"]
    data += [f"0 {edge} {lo}lo {lo}hi\n" for edge, lo in zip(edges, "xyz")]
    data += ["\nMasses\n\n1 18.015\n\nAtoms # atomic\n\n"]
    data += [f"{i + 1} 1 {x} {y} {z}\n" for i, (x, y, z) in enumerate(frame)]
    (tmp_path / "sites.data").write_text("".join(data))
    (tmp_path / "in.cg").write_text(
        "units real\natom_style atomic\nread_data sites.data\n"
        f"{match.group(1)}\n{match.group(2)}\n"
        "velocity all create 298.15 7\nfix 1 all nvt temp 298.15 298.15 200.0\ntimestep 2.0\n"
        "thermo 250\nrun 1000\n")
    done = subprocess.run(["lmp", "-in", "in.cg", "-log", "none"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Loop time" in done.stdout and "ERROR" not in done.stdout
