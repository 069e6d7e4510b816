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

README = Path(__file__).resolve().parents[1] / "README.md"
EXACT_THETA = np.array([0.3, -1.5, 1.0])  # coefficients of x, x², x⁴ in the exact PMF


def readme_example():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 1, f"the README should have exactly one python example, found {len(blocks)}"
    return blocks[0]


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
