"""Simple liquids: the Lennard-Jones fluid, its equation of state, and g(r).

The Lennard-Jones (LJ) pair potential in reduced units (:math:`\\sigma = \\varepsilon = k_B = 1`),

.. math:: u(r) = 4\\left(r^{-12} - r^{-6}\\right),

is truncated at :math:`r_c` (and optionally shifted by :math:`-u(r_c)`).  Its thermodynamics
is known accurately from the modified Benedict–Webb–Rubin equation of state of Johnson,
Zollweg & Gubbins (1993, Mol. Phys. 78, 591) fitted to simulations of the full potential;
:func:`lj_thermodynamics` turns frames of the truncated fluid into full-LJ estimates by the
standard long-range corrections (pair correlations taken as 1 beyond :math:`r_c`).

The structure functions (:func:`radial_distribution`) live in :mod:`remlib.neighbors` and
are re-exported here.
"""
from dataclasses import dataclass

import numpy as np

from remlib._validation import as_count, as_flag, as_float_array, as_positive_scalar
from remlib._stats import block_standard_error
from remlib.montecarlo import lattice_positions, metropolis_particles, tabulate_pair
from remlib.neighbors import check_box, check_positions, pair_grid_weights, radial_distribution

__all__ = ["lj_potential", "lj_fluid_frames", "lj_thermodynamics", "jzg_equation_of_state",
           "JZGState", "ThermoEstimate", "radial_distribution"]

#: MBWR coefficients x_1..x_32 of Johnson, Zollweg & Gubbins (1993), Table 10, with gamma = 3
_JZG_X = np.array([
    0.8623085097507421, 2.976218765822098, -8.402230115796038, 0.1054136629203555, -0.8564583828174598,
    1.582759470107601, 0.7639421948305453, 1.753173414312048, 2.798291772190376e3, -4.8394220260857657e-2,
    0.9963265197721935, -3.698000291272493e1, 2.084012299434647e1, 8.305402124717285e1, -9.574799715203068e2,
    -1.477746229234994e2, 6.398607852471505e1, 1.603993673294834e1, 6.805916615864377e1, -2.791293578795945e3,
    -6.245128304568454, -8.116836104958410e3, 1.488735559561229e1, -1.059346754655084e4, -1.131607632802822e2,
    -8.867771540418822e3, -3.986982844450543e1, -4.689270299917261e3, 2.593535277438717e2, -2.694523589434903e3,
    -7.218487631550215e2, 1.721802063863269e2,
])
_JZG_GAMMA = 3.0
#: a_i(T) = sum of x_k T^p over (i, k, p) (Table 5 of the paper; k is 1-based)
_JZG_A = [(1, 1, 1), (1, 2, 0.5), (1, 3, 0), (1, 4, -1), (1, 5, -2), (2, 6, 1), (2, 7, 0), (2, 8, -1),
          (2, 9, -2), (3, 10, 1), (3, 11, 0), (3, 12, -1), (4, 13, 0), (5, 14, -1), (5, 15, -2), (6, 16, -1),
          (7, 17, -1), (7, 18, -2), (8, 19, -2)]
#: b_i(T) likewise
_JZG_B = [(1, 20, -2), (1, 21, -3), (2, 22, -2), (2, 23, -4), (3, 24, -2), (3, 25, -3), (4, 26, -2),
          (4, 27, -4), (5, 28, -2), (5, 29, -3), (6, 30, -2), (6, 31, -3), (6, 32, -4)]


def lj_potential(r, *, shift_at=None):
    """Lennard-Jones pair energy :math:`4(r^{-12} - r^{-6})`, minus its value at ``shift_at``.

    Parameters
    ----------
    r : array_like
        Distances (reduced units, :math:`\\sigma = \\epsilon = 1`).
    shift_at : float, optional
        Distance at which the shifted potential is zero (usually the cutoff).

    Returns
    -------
    ndarray, shape of ``r``
        :math:`u(r)` in units of :math:`\\epsilon` (``inf`` at ``r = 0``).

    Raises
    ------
    TypeError
        If ``r`` is not an array of real numbers or ``shift_at`` not a number.
    ValueError
        If ``r`` contains NaN, infinite or negative values, or ``shift_at`` is not positive.

    Examples
    --------
    >>> round(float(lj_potential(2 ** (1 / 6))), 6)
    -1.0
    """
    r = as_float_array(r, "r", allow_empty=True)
    if np.any(r < 0):
        raise ValueError("r must contain distances >= 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(r > 0, 4.0 * (r**-12 - r**-6), np.inf)
    if shift_at is not None:
        shift_at = as_positive_scalar(shift_at, "shift_at")
        u = u - 4.0 * (shift_at**-12 - shift_at**-6)
    return u


def _temperature_coefficients(terms, count, temperature, energy):
    """Coefficients sum x_k T^p; with ``energy`` the (1 - p) x_k T^p of U = A - T dA/dT."""
    out = np.zeros(count)
    for i, k, p in terms:
        out[i - 1] += (1.0 - p if energy else 1.0) * _JZG_X[k - 1] * temperature**p
    return out


def _jzg_g_integrals(density):
    """G_1..G_6 of the MBWR free energy (recursion of JZG eq. 7)."""
    f = np.exp(-_JZG_GAMMA * density**2)
    g = np.empty(6)
    g[0] = (1.0 - f) / (2.0 * _JZG_GAMMA)
    for n in range(1, 6):
        g[n] = -(f * density ** (2 * n) - 2 * n * g[n - 1]) / (2.0 * _JZG_GAMMA)
    return g


@dataclass(frozen=True)
class JZGState:
    """Full-LJ thermodynamics from the JZG equation of state (reduced units).

    Attributes
    ----------
    pressure : float
    energy : float
        Excess (configurational) internal energy per particle.
    free_energy : float
        Excess Helmholtz energy per particle.

    Examples
    --------
    >>> JZGState(pressure=5.31, energy=-4.76, free_energy=-2.0).energy
    -4.76
    """

    pressure: float
    energy: float
    free_energy: float


def jzg_equation_of_state(density, temperature):
    """Pressure, excess energy and free energy of the full LJ fluid (Johnson et al. 1993).

    .. math::

        \\frac{A_\\mathrm{ex}}{N} = \\sum_{i=1}^{8} \\frac{a_i \\rho^i}{i} + \\sum_{i=1}^{6} b_i G_i,\\quad
        P = \\rho T + \\sum_{i=1}^{8} a_i \\rho^{i+1} + e^{-\\gamma\\rho^2}\\sum_{i=1}^{6} b_i \\rho^{2i+1},\\quad
        \\frac{U_\\mathrm{ex}}{N} = \\sum_{i=1}^{8} \\frac{c_i \\rho^i}{i} + \\sum_{i=1}^{6} d_i G_i,

    with the temperature-dependent :math:`a_i, b_i` built from the 32 published
    coefficients :math:`x_k` (:math:`\\gamma = 3`) and :math:`c_i, d_i` from
    :math:`U = A - T\\,\\partial A/\\partial T`.

    Parameters
    ----------
    density, temperature : float
        Reduced number density :math:`\\rho` and temperature :math:`T` (> 0).

    Returns
    -------
    JZGState
        ``pressure``, and the excess ``energy`` and ``free_energy`` per particle.

    Raises
    ------
    ValueError
        If ``density`` or ``temperature`` is not a finite number > 0.
    TypeError
        If either is not a real number.

    Examples
    --------
    >>> state = jzg_equation_of_state(0.8, 2.0)
    >>> round(state.energy, 2), round(state.pressure, 2)
    (-4.76, 5.31)
    """
    density = as_positive_scalar(density, "density")
    temperature = as_positive_scalar(temperature, "temperature")
    a = _temperature_coefficients(_JZG_A, 8, temperature, energy=False)
    b = _temperature_coefficients(_JZG_B, 6, temperature, energy=False)
    c = _temperature_coefficients(_JZG_A, 8, temperature, energy=True)
    d = _temperature_coefficients(_JZG_B, 6, temperature, energy=True)
    powers = np.arange(1, 9)
    g = _jzg_g_integrals(density)
    f = np.exp(-_JZG_GAMMA * density**2)
    pressure = (density * temperature + np.sum(a * density ** (powers + 1))
                + f * np.sum(b * density ** (2 * np.arange(1, 7) + 1)))
    free_energy = np.sum(a * density**powers / powers) + b @ g
    energy = np.sum(c * density**powers / powers) + d @ g
    return JZGState(float(pressure), float(energy), float(free_energy))


def lj_tail_corrections(density, r_cut):
    """Long-range corrections per particle (energy) and to the pressure, g(r) = 1 beyond r_cut.

    .. math::

        \\frac{U_\\mathrm{tail}}{N} = \\frac{8\\pi\\rho}{3}\\left(\\frac{r_c^{-9}}{3} - r_c^{-3}\\right),\\qquad
        P_\\mathrm{tail} = \\frac{16\\pi\\rho^2}{3}\\left(\\frac{2 r_c^{-9}}{3} - r_c^{-3}\\right).

    Examples
    --------
    >>> [round(v, 4) for v in lj_tail_corrections(0.8, 2.5)]
    [-0.4283, -0.6844]
    """
    density = as_positive_scalar(density, "density")
    r_cut = as_positive_scalar(r_cut, "r_cut")
    energy = 8.0 * np.pi * density / 3.0 * (r_cut**-9 / 3.0 - r_cut**-3)
    pressure = 16.0 * np.pi * density**2 / 3.0 * (2.0 * r_cut**-9 / 3.0 - r_cut**-3)
    return float(energy), float(pressure)


def lj_fluid_frames(n_particles, density, temperature, n_frames, *, r_cut=2.5, shift=True, burn_in=300,
                    thin=2, seed=None):
    """Frames of the truncated (and by default shifted) LJ fluid from Metropolis MC.

    Starts from a simple cubic lattice in a cubic box of volume ``n_particles / density``.

    Parameters
    ----------
    n_particles : int
    density, temperature : float
        Reduced number density :math:`\\rho` and temperature :math:`T` (``beta = 1/T``).
    n_frames : int
    r_cut : float
        Cutoff; the box edge must be at least ``2 r_cut``.
    shift : bool
        Shift the potential to zero at the cutoff.
    burn_in, thin : int
        Sweeps discarded first and sweeps between frames.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    MonteCarloResult
        ``.frames`` (n_frames, n_particles, 3), ``.box``, ``.energies``, ``.acceptance``.

    Raises
    ------
    ValueError
        If an argument is out of range or the box edge is below ``2 r_cut``.

    Examples
    --------
    >>> result = lj_fluid_frames(128, 0.5, 2.0, n_frames=3, burn_in=20, seed=0)
    >>> result.frames.shape, round(float(result.box[0]), 3)
    ((3, 128, 3), 6.35)
    """
    n_particles = as_count(n_particles, "n_particles", 3 * 8, minimum=2)
    density = as_positive_scalar(density, "density")
    temperature = as_positive_scalar(temperature, "temperature")
    box = np.full(3, (n_particles / density) ** (1.0 / 3.0))
    table = lj_table(r_cut, shift=as_flag(shift, "shift"))
    start = lattice_positions(n_particles, box)
    return metropolis_particles(start, box, table, n_frames=n_frames, beta=1.0 / temperature, burn_in=burn_in,
                                thin=thin, step_size=0.1, seed=seed)


def lj_table(r_cut=2.5, *, shift=True, r_min=0.6, n_grid=8192):
    """Tabulated LJ pair potential for :func:`remlib.montecarlo.metropolis_particles`.

    Parameters
    ----------
    r_cut : float
        Cutoff of the table.
    shift : bool
        Shift the potential to zero at ``r_cut``.
    r_min : float
        Start of the table (a hard core below, never reached at liquid temperatures).
    n_grid : int
        Grid points in :math:`s = r^2`.

    Returns
    -------
    Table
        The pair table (see :func:`remlib.tabulate_pair`).

    Raises
    ------
    ValueError
        If ``r_cut <= r_min`` or a value is out of range.

    Examples
    --------
    >>> table = lj_table(2.5)
    >>> round(float(table(1.0)), 4), float(table(2.6))
    (0.0163, 0.0)
    """
    r_cut = as_positive_scalar(r_cut, "r_cut")
    return tabulate_pair(lambda r: lj_potential(r, shift_at=r_cut if shift else None),
                         r_min=r_min, r_cut=r_cut, n_grid=n_grid)


@dataclass(frozen=True)
class ThermoEstimate:
    """Block-averaged full-LJ estimates from frames of the truncated fluid.

    Attributes
    ----------
    energy, energy_error : float
        Excess energy per particle (with tail and shift corrections) and its standard error.
    pressure, pressure_error : float
        Pressure (ideal + virial + tail correction) and its standard error.

    Examples
    --------
    >>> est = ThermoEstimate(energy=-4.7, energy_error=0.02, pressure=5.3, pressure_error=0.1)
    >>> abs(est.energy - (-4.76)) < 4 * est.energy_error
    True
    """

    energy: float
    energy_error: float
    pressure: float
    pressure_error: float


def lj_thermodynamics(frames, box, temperature, *, r_cut=2.5, n_blocks=10):
    """Full-LJ energy per particle and pressure estimated from truncated-fluid frames.

    Per frame, with :math:`V` the volume and the sums over pairs within :math:`r_c`,

    .. math::

        \\frac{U}{N} = \\frac{1}{N}\\sum_{i<j} 4(r^{-12} - r^{-6}) + \\frac{U_\\mathrm{tail}}{N},\\qquad
        P = \\rho T + \\frac{1}{3V}\\sum_{i<j} 24\\,(2 r^{-12} - r^{-6}) + P_\\mathrm{tail}

    (the unshifted pair energy is used, so the shift only changes the sampled weights,
    by :math:`e^{\\beta u(r_c) N_{r<r_c}}`, a small effect at liquid densities).  Error
    bars come from :func:`remlib.block_standard_error` over ``n_blocks``.

    Parameters
    ----------
    frames : array_like, shape (n_frames, n_particles, 3)
        Frames of the truncated fluid (e.g. :func:`lj_fluid_frames`), in time order.
    box : array_like, shape (3,)
    temperature : float
        The temperature the frames were sampled at.
    r_cut : float
        The cutoff they were sampled with.
    n_blocks : int
        Blocks for the standard errors (at most ``n_frames``).

    Returns
    -------
    ThermoEstimate
        ``energy`` and ``pressure`` with their standard errors.

    Raises
    ------
    ValueError
        If the frames, box, cutoff or ``n_blocks`` are invalid (e.g. fewer frames than
        blocks).

    Examples
    --------
    >>> result = lj_fluid_frames(128, 0.5, 2.0, n_frames=20, burn_in=200, seed=0)
    >>> est = lj_thermodynamics(result.frames, result.box, 2.0)
    >>> eos = jzg_equation_of_state(0.5, 2.0)
    >>> abs(est.energy - eos.energy) < 4 * est.energy_error
    True
    """
    box = check_box(box)
    frames = check_positions(frames, box, "frames")
    temperature = as_positive_scalar(temperature, "temperature")
    if as_positive_scalar(r_cut, "r_cut") <= 0.6:
        raise ValueError(f"r_cut must exceed 0.6 (the energy grid starts at r = 0.6), got {r_cut}")
    n = frames.shape[1]
    volume = float(np.prod(box))
    density = n / volume
    s_grid = np.linspace(0.36, r_cut**2, 8192)
    try:
        weights = pair_grid_weights(frames, box, r_cut=r_cut, s_grid=s_grid)
    except ValueError as error:  # pairs closer than 0.6: not frames of an LJ fluid at any sane temperature
        raise ValueError(
            f"frames: the LJ energy is tabulated from r = 0.6 and cannot include closer pairs ({error})") from None
    pair_energy = weights @ (4.0 * (s_grid**-6 - s_grid**-3))
    virial = weights @ (24.0 * (2.0 * s_grid**-6 - s_grid**-3))
    u_tail, p_tail = lj_tail_corrections(density, r_cut)
    energy = pair_energy / n + u_tail
    pressure = density * temperature + virial / (3.0 * volume) + p_tail
    return ThermoEstimate(float(energy.mean()), float(block_standard_error(energy, n_blocks)),
                          float(pressure.mean()), float(block_standard_error(pressure, n_blocks)))
