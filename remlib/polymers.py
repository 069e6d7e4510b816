"""Bead-spring chains and molecular liquids: reference models and bonded REM.

Reference bead-spring polymer (in a periodic box, reduced units):

.. math::

    U = \\sum_\\text{bonds} \\tfrac{k}{2}(r - r_0)^2
      + \\sum_{|i-j| \\ge 2} u_\\mathrm{LJ}(r_{ij}),

with the Lennard-Jones pair (truncated at ``r_cut``; ``r_cut = 2^{1/6}`` gives the purely
repulsive WCA chain) acting between all beads that are not bonded, including the 1-3
neighbours (with FENE bonds, Kremer–Grest style, also between bonded beads).  A CG model with bond and angle potentials plus the same pair interaction
from 1-4 neighbours on cannot represent the 1-3 term exactly (it couples both bonds
and the angle): REM finds the bond and angle potentials whose distributions match the
target, while direct Boltzmann inversion,

.. math:: u_b(r) = -k_BT\\ln\\frac{P(r)}{r^2},\\qquad u_a(\\vartheta) = -k_BT\\ln\\frac{P(\\vartheta)}{\\sin\\vartheta},

counts the effect of the other interactions twice and misses.

Molecular liquid: flexible LJ dimers (harmonic bond, LJ between atoms of different
molecules) mapped to one site per molecule at the centre of mass; the exact CG
potential (the many-body PMF) is not pairwise, so REM, IBI and force matching
give different pair potentials.
"""
from dataclasses import dataclass, field

import numpy as np

from remlib._particle_ensemble import FrameFeatures, ParticleEnsemble, blas_on_one_thread
from remlib._validation import (
    as_float_array,
    as_generator,
    as_positive_int,
    as_theta,
    as_positive_scalar,
    as_count,
    check_instance,
    check_memory,
    check_table,
)
from remlib.basis import BSplineBasis
from remlib.engines import CGSystem, get_engine
from remlib.fluids import lj_potential
from remlib.geometry import chain_bond_angles, chain_bond_lengths
from remlib.montecarlo import metropolis_particles, tabulate_angle, tabulate_bond, tabulate_pair
from remlib.neighbors import check_box, check_positions, pair_list, wrap_positions
from remlib.pmf import pmf_from_samples
from remlib.rem import REMResult, minimize_relative_entropy
from remlib.tables import INNER_FRACTION, bond_grid, bonded_energy_force, continued_design, pair_repulsion

__all__ = ["bead_spring_frames", "BondedModel", "BondedResult", "fit_bonded_rem", "bonded_boltzmann_inversion",
           "lj_dimer_frames", "DimerLiquid", "center_of_mass", "reference_tables"]


def _lattice_walks(n_chains, chain_length, box, rng):
    """Non-overlapping self-avoiding walks on a unit cubic lattice (a safe start)."""
    cells = np.floor(box).astype(int)
    occupied = set()
    chains = []
    moves = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])
    for _ in range(n_chains):
        for _attempt in range(1000):
            site = rng.integers(0, cells)
            walk = [tuple(site)]
            while len(walk) < chain_length:
                options = [tuple((np.array(walk[-1]) + m) % cells) for m in moves]
                options = [o for o in options if o not in occupied and o not in walk]
                if not options:
                    break
                walk.append(options[rng.integers(len(options))])
            if len(walk) == chain_length and not occupied.intersection(walk):
                occupied.update(walk)
                chains.append(walk)
                break
        else:
            raise ValueError("box: could not place the chains without overlap; use a larger box")
    return (np.array(chains, dtype=float).reshape(-1, 3) + 0.5) * (box / cells)


def bead_spring_frames(n_chains, chain_length, n_frames, *, box, bond="harmonic", bond_k=100.0, bond_r0=1.0,
                       r_cut=2.5, temperature=1.0, burn_in=500, thin=5, seed=None):
    """Frames of the bead-spring reference polymer (harmonic bonds + LJ between non-bonded beads).

    Parameters
    ----------
    n_chains, chain_length : int
    n_frames : int
    box : array_like, shape (3,)
        At least ``2 r_cut`` along every edge.
    bond : {"harmonic", "fene"}
        Harmonic bond :math:`\\tfrac{k}{2}(r - r_0)^2`, or FENE
        :math:`-\\tfrac{k}{2} r_0^2 \\ln(1 - (r/r_0)^2)` (Kremer–Grest: ``bond_k=30, bond_r0=1.5``
        with ``r_cut=2**(1/6)``).
    bond_k, bond_r0 : float
        Spring constant and rest length (harmonic) or maximum extension (FENE).
    r_cut : float
        LJ cutoff (``2**(1/6)`` for WCA); the potential is shifted to 0 there.
    temperature : float
    burn_in, thin : int
        Sweeps.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    MonteCarloResult

    Raises
    ------
    ValueError
        If an argument is out of range, ``bond`` is unknown or the box is too small.

    Examples
    --------
    >>> run = bead_spring_frames(4, 8, 5, box=[8.0] * 3, burn_in=20, seed=0)
    >>> run.frames.shape, bool(np.all(np.abs(chain_bond_lengths(run.frames, run.box, 8) - 1.0) < 0.4))
    ((5, 32, 3), True)
    """
    box = check_box(box)
    rng = as_generator(seed)
    chain_length = as_count(chain_length, "chain_length", 3 * 8, minimum=2)
    start = _lattice_walks(as_count(n_chains, "n_chains", 3 * 8 * chain_length), chain_length, box, rng)
    return metropolis_particles(start, box, n_frames=n_frames, beta=1.0 / as_positive_scalar(temperature, "temperature"),
                                burn_in=burn_in, thin=thin, step_size=0.05, seed=rng,
                                **reference_tables(chain_length, bond_k, bond_r0, r_cut, bond=bond))


def reference_tables(chain_length, bond_k=100.0, bond_r0=1.0, r_cut=2.5, exclude=None, bond="harmonic"):
    """MC keyword arguments (pair, bond, chain_length, exclude) of the bead-spring reference.

    ``exclude`` defaults to 1 for harmonic bonds (no pair term between bonded beads) and
    to 0 for FENE bonds (Kremer–Grest: the WCA repulsion also acts along bonds).

    Examples
    --------
    >>> tables = reference_tables(10, 30.0, 1.5, 2 ** (1 / 6), bond="fene")
    >>> round(float(tables["bond"](0.97)), 3), float(tables["bond"](1.6))
    (18.279, inf)
    """
    k = as_positive_scalar(bond_k, "bond_k")
    r0 = as_positive_scalar(bond_r0, "bond_r0")
    pair = tabulate_pair(lambda r: lj_potential(r, shift_at=r_cut), r_min=0.6, r_cut=r_cut, n_grid=4096)
    if bond == "harmonic":
        table = tabulate_bond(lambda r: 0.5 * k * (r - r0) ** 2, r_min=0.0, r_max=3.0 * r0, n_grid=4096)
    elif bond == "fene":
        table = tabulate_bond(lambda r: -0.5 * k * r0**2 * np.log1p(-((r / r0) ** 2)), r_min=0.0,
                              r_max=r0 * (1 - 1e-6), n_grid=4096)
    else:
        raise ValueError(f"bond must be 'harmonic' or 'fene', got {bond!r}")
    if exclude is None:
        exclude = 0 if bond == "fene" else 1
    return {"pair": pair, "bond": table, "chain_length": chain_length, "exclude": exclude}


# --------------------------------------------------------------------------- bonded CG model

class BondedModel:
    """Bond and angle potentials in B-spline bases, with a fixed pair interaction.

    :math:`U = \\sum_\\text{bonds} \\sum_i \\theta^b_i B_i(r) + \\sum_\\text{angles} \\sum_j
    \\theta^a_j C_j(\\vartheta) + \\sum_{|i-j| > \\text{exclude}} u(r_{ij})`; bonds and angles
    have hard walls outside their spline ranges.

    The numbers of bonds and angles are fixed, so (splines summing to one) a constant
    added to either potential changes nothing: the last spline of each basis gets the
    coefficient 0 and ``theta`` holds the other ``n_bond - 1`` and ``n_angle - 1``.

    Parameters
    ----------
    bond_basis, angle_basis : BSplineBasis
        Splines of the bond length and of the bond angle (radians).
    pair : Table
        Fixed pair potential (not fitted), from :func:`remlib.montecarlo.tabulate_pair`.
    chain_length : int
        Beads per linear chain.
    exclude : int
        No pair term for beads ``|i - j| <= exclude`` apart along a chain.
    n_grid : int
        Points of the tabulation grids of the bond and angle potentials.

    Attributes
    ----------
    bond_basis, angle_basis : BSplineBasis
    pair : Table
    chain_length, exclude : int
    n_functions : int
        Number of fitted coefficients.

    Examples
    --------
    >>> from remlib.montecarlo import tabulate_pair
    >>> pair = tabulate_pair(lambda r: 4 * (r**-12 - r**-6) + 1.0, r_min=0.7, r_cut=2 ** (1 / 6))
    >>> model = BondedModel(BSplineBasis(0.8, 1.2, 6), BSplineBasis(1.5, 3.1, 6), pair, chain_length=8)
    >>> model.n_functions
    10
    """

    def __init__(self, bond_basis, angle_basis, pair, chain_length, exclude=2, n_grid=2048):
        check_instance(bond_basis, BSplineBasis, "bond_basis", "a remlib.BSplineBasis")
        check_instance(angle_basis, BSplineBasis, "angle_basis", "a remlib.BSplineBasis")
        self.bond_basis, self.angle_basis, self.pair = bond_basis, angle_basis, check_table(pair, "pair", "r2")
        self.chain_length = as_positive_int(chain_length, "chain_length", minimum=3)
        self.exclude = as_positive_int(exclude, "exclude", minimum=0)
        n_grid = as_positive_int(n_grid, "n_grid", minimum=2)
        check_memory("n_grid", n_grid, 2 * 8 * n_grid)
        self.n_bond = bond_basis.n_functions - 1
        self.n_functions = self.n_bond + angle_basis.n_functions - 1
        self._r = np.linspace(bond_basis.lower, bond_basis.upper, n_grid)
        self._t = np.linspace(angle_basis.lower, angle_basis.upper, n_grid)

    def split(self, theta):
        """Full coefficient vectors (θ_bond, θ_angle) of the two bases (last entries 0)."""
        theta = as_theta(theta, self.n_functions)
        return np.append(theta[: self.n_bond], 0.0), np.append(theta[self.n_bond:], 0.0)

    def tables(self, theta):
        """Keyword arguments of :func:`metropolis_particles` for parameters ``theta``."""
        tb, ta = self.split(theta)
        bond = tabulate_bond(lambda r: self.bond_basis(r) @ tb, r_min=self._r[0], r_max=self._r[-1], n_grid=self._r.size)
        # angle tables span [0, π]: infinite outside the spline range
        theta_grid = np.linspace(0.0, np.pi, 4096)
        inside = (theta_grid >= self._t[0]) & (theta_grid <= self._t[-1])
        values = np.full(theta_grid.size, 1e6)
        values[inside] = self.angle_basis(theta_grid[inside]) @ ta
        angle = tabulate_angle(lambda t: np.interp(t, theta_grid, values), n_grid=theta_grid.size)
        return {"pair": self.pair, "bond": bond, "angle": angle, "chain_length": self.chain_length,
                "exclude": self.exclude}

    def system(self, theta, box, beta, md=True):
        """The model at ``theta`` for an engine (:class:`remlib.engines.CGSystem`); ``md``: with the MD tables.

        MD tables continue the bond and angle potentials outside their ranges (tangent plus
        wall, as :func:`remlib.tables.write_lammps_bond_table` writes them) and the fixed pair
        table below its ``r_min`` (tangent plus :func:`remlib.tables.pair_repulsion`).
        """
        tables = self.tables(theta)
        pair = bond = angle = None
        if md:
            tb, ta = self.split(theta)
            r = bond_grid(self.bond_basis, 2000)
            bond = (r, *bonded_energy_force(self.bond_basis, tb, r))
            t = np.linspace(0.0, np.pi, 1801)
            angle = (t, *bonded_energy_force(self.angle_basis, ta, t))
            pair = _continued_table(self.pair)
        return CGSystem(box, beta, tables, pair, bond, angle, self.chain_length, self.exclude)

    def continued_features(self, frames, box):
        """:meth:`features` of the bond and angle bases continued outside their ranges (MD engine frames)."""
        r = chain_bond_lengths(frames, box, self.chain_length)
        t = chain_bond_angles(frames, box, self.chain_length)
        fb = continued_design(self.bond_basis, r.reshape(-1), above=True).reshape(*r.shape, -1).sum(axis=1)
        fa = continued_design(self.angle_basis, t.reshape(-1), above=True).reshape(*t.shape, -1).sum(axis=1)
        return np.hstack([fb[:, :-1], fa[:, :-1]])

    def features(self, frames, box):
        """Per-frame sums :math:`[\\sum_b B_i(r_b), \\sum_a C_j(\\vartheta_a)]`, shape (n_frames, n_functions)."""
        r = chain_bond_lengths(frames, box, self.chain_length)
        t = chain_bond_angles(frames, box, self.chain_length)
        fb = self.bond_basis(r.reshape(-1)).reshape(*r.shape, -1).sum(axis=1)
        fa = self.angle_basis(np.maximum(t.reshape(-1), self.angle_basis.lower)).reshape(*t.shape, -1).sum(axis=1)
        return np.hstack([fb[:, :-1], fa[:, :-1]])


def _continued_table(table, n_points=2000):
    """``(r, u, f)`` of a fixed MC pair table on [INNER_FRACTION r_min, r_cut], continued below r_min."""
    r_min, r_cut = np.sqrt(table.grid[0]), np.sqrt(table.grid[-1])
    r = np.linspace(INNER_FRACTION * r_min, r_cut, n_points)
    inside = r >= r_min
    u = np.empty_like(r)
    u[inside] = table(r[inside])
    f = -np.gradient(u[inside], r[inside]) if inside.sum() > 1 else np.zeros(inside.sum())
    u_wall, f_wall = pair_repulsion(r[~inside], r_min)
    u[~inside] = u[inside][0] - f[0] * (r[~inside] - r_min) + u_wall
    return r, u, np.concatenate([f[0] + f_wall, f])


@dataclass
class BondedResult:
    """Fitted bond and angle potentials.

    Attributes
    ----------
    method : str
        ``"rem"`` or ``"boltzmann inversion"``.
    model : BondedModel
    theta : ndarray
        Bond coefficients followed by angle coefficients.
    converged : bool
    history : dict
        Method-specific records (REM: the ``history`` of :attr:`rem`).
    rem : REMResult or None
        The relative entropy minimization (``method="rem"`` only).
    model_frames : ndarray or None, shape (n_frames, n_particles, 3)
        The model frames of the last re-sampling (``method="rem"`` only).

    Examples
    --------
    >>> from remlib.montecarlo import tabulate_pair
    >>> pair = tabulate_pair(lambda r: 4 * (r**-12 - r**-6) + 1.0, r_min=0.7, r_cut=2 ** (1 / 6))
    >>> model = BondedModel(BSplineBasis(0.8, 1.2, 6), BSplineBasis(1.5, 3.1, 6), pair, chain_length=8)
    >>> result = BondedResult("boltzmann inversion", model, np.zeros(model.n_functions))
    >>> round(float(result.bond_potential(np.array([1.0]))[0]), 6)
    0.0
    """

    method: str
    model: BondedModel
    theta: np.ndarray
    converged: bool = True
    history: dict = field(default_factory=dict, repr=False)
    rem: REMResult | None = field(default=None, repr=False)
    model_frames: np.ndarray | None = field(default=None, repr=False)

    def bond_potential(self, r):
        """The fitted bond potential :math:`u_b(r)` at bond lengths ``r`` (finite; any shape up to 1-D)."""
        r = as_float_array(r, "r", ndim=(0, 1), allow_empty=True)
        return self.model.bond_basis(r) @ self.model.split(self.theta)[0]

    def angle_potential(self, angle):
        """The fitted angle potential :math:`u_a(\\vartheta)` at bond angles ``angle`` (radians)."""
        angle = as_float_array(angle, "angle", ndim=(0, 1), allow_empty=True)
        return self.model.angle_basis(angle) @ self.model.split(self.theta)[1]

    def plot(self, axes=None, **kwargs):
        """Bond and angle potentials on two axes (a new figure if None); returns the axes."""
        import matplotlib.pyplot as plt
        from matplotlib.axes import Axes

        if axes is not None and (isinstance(axes, (str, bytes)) or not hasattr(axes, "__len__") or len(axes) != 2
                                 or not all(isinstance(ax, Axes) for ax in axes)):
            raise TypeError(f"axes must be None or two matplotlib Axes (bond, angle), got {type(axes).__name__}")
        axes = plt.subplots(1, 2, figsize=(8, 3.2))[1] if axes is None else axes
        r = np.linspace(self.model.bond_basis.lower, self.model.bond_basis.upper, 200)
        a = np.linspace(self.model.angle_basis.lower, self.model.angle_basis.upper, 200)
        label = kwargs.pop("label", self.method)
        axes[0].plot(r, self.bond_potential(r), label=label, **kwargs)
        axes[1].plot(np.degrees(a), self.angle_potential(a), label=label, **kwargs)
        axes[0].set_xlabel("bond length $r$")
        axes[1].set_xlabel(r"bond angle $\vartheta$ (degrees)")
        axes[0].set_ylabel("$u$ (energy units, $k_BT = 1/\\beta$)")
        axes[0].legend()
        return axes


def _bonded_model(frames, box, chain_length, n_bond, n_angle, pair, exclude):
    r = chain_bond_lengths(frames, box, chain_length)
    t = chain_bond_angles(frames, box, chain_length)
    n_bond = as_positive_int(n_bond, "n_bond", minimum=4)
    n_angle = as_positive_int(n_angle, "n_angle", minimum=4)
    check_memory("n_bond", n_bond, 8.0 * n_bond**2)  # (m, m) Hessians
    check_memory("n_angle", n_angle, 8.0 * n_angle**2)
    bond_basis = BSplineBasis(r.min(), r.max(), n_bond)
    angle_basis = BSplineBasis(t.min(), t.max(), n_angle)
    return BondedModel(bond_basis, angle_basis, pair, chain_length, exclude), r.reshape(-1), t.reshape(-1)


def _boltzmann_theta(basis, values, jacobian, beta, bins=60):
    """Spline projection of the Boltzmann-inverted PMF :math:`-k_BT\\ln(P(x)/J(x))` of ``values``."""
    result = pmf_from_samples(values, bins, beta=beta, range=(basis.lower, basis.upper), jacobian=jacobian)
    filled = np.isfinite(result.pmf)
    theta, *_ = np.linalg.lstsq(basis(result.centers[filled]), result.pmf[filled], rcond=None)
    return theta[:-1] - theta[-1]  # constant removed (splines sum to one): last coefficient 0


def bonded_boltzmann_inversion(frames, box, chain_length, *, pair, exclude=2, n_bond=8, n_angle=8, beta=1.0):
    """Direct Boltzmann inversion of the bond and angle distributions (each on its own).

    .. math:: u_b(r) = -k_BT\\ln\\frac{P(r)}{r^2},\\qquad u_a(\\vartheta) = -k_BT\\ln\\frac{P(\\vartheta)}{\\sin\\vartheta}

    projected on the splines (the same bases as :func:`fit_bonded_rem`).

    Parameters
    ----------
    frames : array_like, shape (n_frames, n_chains * chain_length, 3)
        Mapped target frames in ``[0, L)``.
    box : array_like, shape (3,)
    chain_length : int
    pair : Table
        Fixed CG pair potential, kept in the returned model.
    exclude, n_bond, n_angle, beta
        As in :func:`fit_bonded_rem`.

    Returns
    -------
    BondedResult
        ``method="boltzmann inversion"``, its model and ``theta`` (bond coefficients,
        then angle coefficients).

    Raises
    ------
    ValueError
        If the frames, box or chain options are invalid.

    Examples
    --------
    >>> from remlib.montecarlo import tabulate_pair
    >>> run = bead_spring_frames(4, 8, 10, box=[8.0] * 3, burn_in=20, seed=0)
    >>> pair = tabulate_pair(lambda r: 4 * (r**-12 - r**-6) + 1.0, r_min=0.7, r_cut=2 ** (1 / 6))
    >>> fit = bonded_boltzmann_inversion(run.frames, run.box, 8, pair=pair)
    >>> fit.method, fit.theta.shape
    ('boltzmann inversion', (14,))
    """
    box = check_box(box)
    frames = check_positions(frames, box, "frames")
    beta = as_positive_scalar(beta, "beta")
    model, r, t = _bonded_model(frames, box, chain_length, n_bond, n_angle, pair, exclude)
    theta = np.concatenate([_boltzmann_theta(model.bond_basis, r, "distance", beta),
                            _boltzmann_theta(model.angle_basis, t, "angle", beta)])
    return BondedResult("boltzmann inversion", model, theta)


@blas_on_one_thread
def fit_bonded_rem(frames, box, chain_length, *, pair, exclude=2, n_bond=8, n_angle=8, beta=1.0,
                   n_model_frames=100, burn_in=100, thin=2, n_chains=1, max_iter=30, tol=1e-6, regularization=1e-2,
                   engine=None, seed=None):
    """REM for the bond and angle potentials of a chain, with a fixed pair interaction.

    The features are :math:`\\Phi = [\\sum_b B_i(r_b), \\sum_a C_j(\\vartheta_a)]`; the model
    averages come from Metropolis MC of the chains (bond/angle tables from θ, the pair
    table ``pair`` between beads more than ``exclude`` apart), and the Newton iteration
    is :func:`remlib.rem.minimize_relative_entropy`, started from direct Boltzmann
    inversion.  Spline ranges are the observed ranges of the target bonds and angles.

    Parameters
    ----------
    frames : array_like, shape (n_frames, n_chains * chain_length, 3)
    box : array_like, shape (3,)
    chain_length : int
    pair : Table
        Fixed CG pair potential (from :func:`remlib.montecarlo.tabulate_pair`).
    exclude : int
        Pairs within a chain with ``|i - j| <= exclude`` have no pair term (default 2:
        bonds and angles carry 1-2 and 1-3 interactions).
    n_bond, n_angle : int
        Numbers of splines.
    beta : float
    n_model_frames, burn_in, thin, n_chains, max_iter, tol, engine, seed
        As in :func:`remlib.pairrem.fit_pair_potential_rem` (``n_chains`` independent model
        runs in parallel threads; ``engine`` the sampler of :mod:`remlib.engines`).
    regularization : float
        Ridge term :math:`\\tfrac{\\lambda}{2}\\|\\theta\\|^2` of the REM objective: the edge
        splines of bond and angle ranges see few samples, and without it a noisy Newton
        step can run away along them (observed with 10 splines per term).

    Returns
    -------
    BondedResult
        ``rem`` is the :class:`~remlib.rem.REMResult` of the fit, ``model_frames`` the
        model frames of its last re-sampling.

    Raises
    ------
    ValueError
        If the frames, box, chain options or a count is invalid.

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")   # two iterations do not converge
    >>> from remlib.montecarlo import tabulate_pair
    >>> run = bead_spring_frames(4, 8, 10, box=[8.0] * 3, burn_in=20, seed=0)
    >>> pair = tabulate_pair(lambda r: 4 * (r**-12 - r**-6) + 1.0, r_min=0.7, r_cut=2 ** (1 / 6))
    >>> fit = fit_bonded_rem(run.frames, run.box, 8, pair=pair, n_model_frames=10, burn_in=5, max_iter=2, seed=1)
    >>> fit.method, fit.theta.shape, fit.rem.n_iter <= 2
    ('rem', (14,), True)
    """
    start = bonded_boltzmann_inversion(frames, box, chain_length, pair=pair, exclude=exclude, n_bond=n_bond,
                                       n_angle=n_angle, beta=beta)
    box = check_box(box)
    frames = check_positions(frames, box, "frames")
    model = start.model
    target = model.features(frames, box)
    engine = get_engine(engine, burn_in=burn_in, thin=thin, n_chains=n_chains)
    ensemble = ParticleEnsemble(model, box, frames[-1], beta=beta, n_frames=n_model_frames, engine=engine, seed=seed)
    rem = minimize_relative_entropy(FrameFeatures(model.n_functions), ensemble, target, theta0=start.theta,
                                    tol=tol, max_iter=max_iter, regularization=regularization)
    return BondedResult("rem", model, rem.theta, rem.converged, rem.history, rem, ensemble.frames)


# --------------------------------------------------------------------------- molecular liquid

def center_of_mass(frames, box, atoms_per_molecule):
    """Centre of mass of each molecule (equal masses, minimum image within the molecule), wrapped.

    Parameters
    ----------
    frames : array_like, shape (n_frames, n_molecules * atoms_per_molecule, 3)
        Positions in ``[0, L)``; molecule k holds atoms ``k * atoms_per_molecule ...``.
    box : array_like, shape (3,)
    atoms_per_molecule : int

    Returns
    -------
    ndarray, shape (n_frames, n_molecules, 3)
        Centres in ``[0, L)``.

    Raises
    ------
    ValueError
        If the box or the positions are invalid, or ``atoms_per_molecule`` does not divide
        the number of atoms.

    Examples
    --------
    >>> center_of_mass([[[0.2, 1.0, 1.0], [3.8, 1.0, 1.0]]], [4.0] * 3, 2).round(6).tolist()
    [[[0.0, 1.0, 1.0]]]
    """
    box = check_box(box)
    frames = check_positions(frames, box, "frames")
    n_frames, n, _ = frames.shape
    atoms_per_molecule = as_positive_int(atoms_per_molecule, "atoms_per_molecule")
    if n % atoms_per_molecule:
        raise ValueError(f"atoms_per_molecule={atoms_per_molecule} does not divide the number of atoms {n}")
    x = frames.reshape(n_frames, n // atoms_per_molecule, atoms_per_molecule, 3)
    d = x - x[:, :, :1]
    d -= box * np.floor(d / box + 0.5)
    return wrap_positions(x[:, :, 0] + d.mean(axis=2), box)


@dataclass
class DimerLiquid:
    """Flexible LJ dimers and their centre-of-mass mapping.

    Attributes
    ----------
    frames : ndarray, shape (n_frames, 2 n_molecules, 3)
        Atomistic frames.
    com : ndarray, shape (n_frames, n_molecules, 3)
        Mapped CG sites.
    com_forces : ndarray, shape (n_frames, n_molecules, 3)
        Mapped forces: sum of the intermolecular forces on each molecule's atoms.
    box : ndarray, shape (3,)

    Examples
    --------
    >>> liquid = DimerLiquid(np.zeros((1, 4, 3)), np.zeros((1, 2, 3)), np.zeros((1, 2, 3)), np.full(3, 5.0))
    >>> liquid.com.shape
    (1, 2, 3)
    """

    frames: np.ndarray
    com: np.ndarray
    com_forces: np.ndarray
    box: np.ndarray


def lj_dimer_frames(n_molecules, density, temperature, n_frames, *, bond_k=200.0, bond_r0=0.6, r_cut=2.5,
                    burn_in=300, thin=4, seed=None):
    """Frames of a liquid of flexible LJ dimers, mapped to one site per molecule.

    Atoms of different molecules interact by the LJ potential shifted at ``r_cut``; the
    two atoms of a molecule by a harmonic bond :math:`\\tfrac{k}{2}(r - r_0)^2` only.
    ``density`` is the number of molecules per volume.

    Parameters
    ----------
    n_molecules : int
    density, temperature : float
        Molecules per volume and the temperature (reduced units).
    n_frames : int
    bond_k, bond_r0 : float
        The intramolecular harmonic bond.
    r_cut : float
        LJ cutoff (the box edge must be at least ``2 r_cut``).
    burn_in, thin : int
        Sweeps.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    DimerLiquid
        Atomistic frames, the centres of mass ``com`` (n_frames, n_molecules, 3) and
        their mapped forces ``com_forces`` (n_frames, n_molecules, 3).

    Raises
    ------
    ValueError
        If an argument is out of range or the box is too small for ``r_cut``.

    Examples
    --------
    >>> liquid = lj_dimer_frames(64, 0.25, 2.0, n_frames=2, burn_in=20, seed=0)
    >>> liquid.com.shape, liquid.com_forces.shape
    ((2, 64, 3), (2, 64, 3))
    """
    n_molecules = as_count(n_molecules, "n_molecules", 2 * 3 * 8, minimum=2)
    density = as_positive_scalar(density, "density")
    bond_r0 = as_positive_scalar(bond_r0, "bond_r0")
    box = np.full(3, (n_molecules / density) ** (1 / 3))
    rng = as_generator(seed)
    walks = _lattice_walks(n_molecules, 2, box, rng)
    bonds = walks[1::2] - walks[::2]
    bonds -= box * np.floor(bonds / box + 0.5)
    start = walks.copy()
    start[1::2] = wrap_positions(walks[::2] + bond_r0 * bonds / np.linalg.norm(bonds, axis=1)[:, None], box)
    tables = reference_tables(2, bond_k, bond_r0, r_cut)
    run = metropolis_particles(start, box, n_frames=n_frames, beta=1.0 / as_positive_scalar(temperature, "temperature"),
                               burn_in=burn_in, thin=thin, step_size=0.05, seed=rng, **tables)
    molecule = np.repeat(np.arange(n_molecules), 2)
    forces = np.stack([_lj_atom_forces(frame, box, r_cut, molecule) for frame in run.frames])
    com_forces = forces.reshape(n_frames, n_molecules, 2, 3).sum(axis=2)
    return DimerLiquid(run.frames, center_of_mass(run.frames, box, 2), com_forces, box)


def _lj_atom_forces(frame, box, r_cut, molecule):
    """Intermolecular LJ forces on each atom of one frame (n_atoms, 3)."""
    pairs = pair_list(frame, box, r_max=r_cut, molecule=molecule)
    i, j, delta = pairs.i, pairs.j, pairs.delta
    r2 = (delta**2).sum(axis=1)
    # force on i from j: -u'(r) (x_i - x_j)/r = u'(r)/r * delta, u'(r)/r = -24 (2 r^-14 - r^-8)
    scale = -24.0 * (2.0 * r2**-7 - r2**-4)
    contribution = scale[:, None] * delta
    forces = np.zeros_like(frame)
    np.add.at(forces, i, contribution)
    np.add.at(forces, j, -contribution)
    return forces
