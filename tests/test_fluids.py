"""The Lennard-Jones fluid against the Johnson-Zollweg-Gubbins (1993) equation of state."""
import numpy as np
import pytest

from remlib.fluids import jzg_equation_of_state, lj_fluid_frames, lj_tail_corrections, lj_thermodynamics


@pytest.mark.parametrize("temperature, density, energy, pressure", [
    # Kolafa & Nezbeda (1994), an independent LJ equation of state, values quoted in
    # bgy3d's eos.f90 (github.com/alexei-matveev/bgy3d): U(1.3, 0.2/0.4), P(1.3, 0.2/0.4)
    (1.3, 0.2, -1.5371511277396868, 0.12147936810578708),
    (1.3, 0.4, -2.806016725054152, 0.11253334756806482),
])
def test_jzg_agrees_with_an_independent_equation_of_state(temperature, density, energy, pressure):
    state = jzg_equation_of_state(density, temperature)
    assert state.energy == pytest.approx(energy, abs=0.01)  # the two fits differ by ~0.3 % here
    assert state.pressure == pytest.approx(pressure, abs=0.012)  # near-critical: P is small


@pytest.mark.parametrize("density, temperature", [(0.3, 3.0), (0.8, 1.0), (0.85, 2.0)])
def test_jzg_is_thermodynamically_consistent(density, temperature):
    """P = ρT + ρ² ∂(A/N)/∂ρ and U/N = ∂(βA/N)/∂β, by central differences."""
    h = 1e-5
    a = lambda rho, t: jzg_equation_of_state(rho, t).free_energy
    state = jzg_equation_of_state(density, temperature)
    dadrho = (a(density + h, temperature) - a(density - h, temperature)) / (2 * h)
    assert state.pressure == pytest.approx(density * temperature + density**2 * dadrho, rel=1e-7)
    b = 1 / temperature
    dbeta_a = (a(density, 1 / (b + h)) * (b + h) - a(density, 1 / (b - h)) * (b - h)) / (2 * h)
    assert state.energy == pytest.approx(dbeta_a, rel=1e-7)


def test_tail_corrections_closed_form():
    # ∫_rc^∞ 4(r^-12 - r^-6) 4π r² dr ρ/2 and the virial analogue, by direct integration
    from scipy.integrate import quad
    rho, rc = 0.7, 2.5
    u = quad(lambda r: 4 * (r**-12 - r**-6) * 4 * np.pi * r**2, rc, np.inf)[0] * rho / 2
    p = -quad(lambda r: r * (-48 * r**-13 + 24 * r**-7) * 4 * np.pi * r**2, rc, np.inf)[0] * rho**2 / 6
    assert lj_tail_corrections(rho, rc) == pytest.approx((u, p), rel=1e-9)


@pytest.mark.parametrize("density, r_cut, name", [(-0.5, 2.5, "density"), (0.5, 0.0, "r_cut"), (0.5, np.nan, "r_cut")])
def test_tail_corrections_reject_bad_input(density, r_cut, name):
    with pytest.raises(ValueError, match=name):
        lj_tail_corrections(density, r_cut)


@pytest.mark.parametrize("density, temperature, seed", [(0.8, 2.0, 1), (0.8, 1.0, 2), (0.3, 3.0, 3)])
def test_lj_monte_carlo_agrees_with_jzg(density, temperature, seed):
    """Energy and pressure of the truncated fluid (r_c = 2.5, tail corrected) within 4 block errors."""
    result = lj_fluid_frames(256, density, temperature, n_frames=150, r_cut=2.5, shift=False, burn_in=200,
                             thin=4, seed=seed)
    assert 0.25 < result.acceptance < 0.55
    estimate = lj_thermodynamics(result.frames, result.box, temperature, r_cut=2.5)
    eos = jzg_equation_of_state(density, temperature)
    z_energy = (estimate.energy - eos.energy) / estimate.energy_error
    z_pressure = (estimate.pressure - eos.pressure) / estimate.pressure_error
    assert abs(z_energy) < 4 and abs(z_pressure) < 4, (z_energy, z_pressure, estimate, eos)
    # and the test has teeth: 2 % off in energy would be caught
    assert abs(estimate.energy - 1.02 * eos.energy) > 2 * estimate.energy_error


def test_thermodynamics_rejects_cutoff_inside_its_energy_grid():
    frames = np.random.default_rng(0).uniform(0, 6.0, size=(2, 20, 3))
    with pytest.raises(ValueError, match="r_cut"):
        lj_thermodynamics(frames, [6.0] * 3, 1.0, r_cut=0.5)


def test_thermodynamics_refuses_pairs_closer_than_its_energy_grid():
    """A pair at r = 0.5 would otherwise be left out of the energy sum without a word."""
    frames = np.stack([np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 2.2], [1.0, 3.0, 3.0]])] * 2)
    frames[1, 1, 2] = 1.5  # second frame: a pair at r = 0.5
    with pytest.raises(ValueError, match="frames: the LJ energy is tabulated from r = 0.6.*frame 1 has 1 pair"):
        lj_thermodynamics(frames, [6.0] * 3, 1.0)
