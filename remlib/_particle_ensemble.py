"""The particle ensemble shared by the pair and bonded REM fits (:mod:`remlib.pairrem`,
:mod:`remlib.polymers`).

A particle model's potential is linear in its parameters through per-frame features
:math:`\\Phi(\\mathbf r) \\in \\mathbb R^m` (pair sums of spline functions, bond and angle
sums), :math:`\\beta U = \\beta\\,\\theta\\cdot\\Phi`.  :func:`~remlib.rem.minimize_relative_entropy`
then fits :math:`\\theta` with the features as the coordinates of an identity basis
(:class:`FrameFeatures`) and model averages from Metropolis Monte Carlo of the particles
(:class:`ParticleEnsemble`, which follows the :class:`~remlib.ensembles.Ensemble` protocol).
"""
import numpy as np
from threadpoolctl import threadpool_limits

from remlib._stats import effective_sample_size, weighted_moments
from remlib._validation import as_generator, as_positive_int
from remlib.basis import Basis
from remlib.ensembles import EnsembleAverages
from remlib.montecarlo import metropolis_chains

__all__ = ["FrameFeatures", "ParticleEnsemble", "blas_on_one_thread"]


class FrameFeatures(Basis):
    """Identity basis on precomputed per-frame features (n_frames, n_functions).

    Its coordinates are the features themselves, so ``dim == n_functions``.

    Examples
    --------
    >>> FrameFeatures(2)(np.array([[1.0, 2.0]])).tolist()
    [[1.0, 2.0]]
    """

    def __init__(self, n_functions):
        self.n_functions = n_functions
        self.dim = n_functions

    def _design(self, x):
        return x


class ParticleEnsemble:
    """Model averages of frame features from Metropolis Monte Carlo of particles.

    ``tables(theta)`` returns the keyword arguments (``pair`` and, for chains, ``bond``,
    ``angle``, ``chain_length``, ``exclude``) of :func:`remlib.montecarlo.metropolis_particles`;
    ``features(frames)`` the per-frame features (n_frames, n_functions).  Each call of
    :meth:`averages` runs ``n_chains`` independent chains in parallel
    (:func:`remlib.montecarlo.metropolis_chains`) of ``ceil(n_frames / n_chains)`` frames
    each, and every chain continues from its own last frame of the previous call.

    Parameters
    ----------
    tables : callable
        ``theta (m,) -> dict`` of table keywords.
    features : callable
        ``frames (n_frames, n_particles, 3) -> (n_frames, m)``.
    n_functions : int
        ``m``, also the ensemble's ``dim`` (the features are its coordinates).
    box : ndarray, shape (3,)
    start : ndarray, shape (n_particles, 3)
        The first frame of every chain.
    beta : float
    n_frames, burn_in, thin : int
        Frames per call (over all chains), sweeps before the first frame of each call,
        sweeps between frames.
    seed : None, int or numpy.random.Generator
    n_chains : int

    Examples
    --------
    >>> from remlib.montecarlo import lattice_positions, tabulate_pair
    >>> box = np.full(3, 5.0)
    >>> table = tabulate_pair(lambda r: 4 * (r**-12 - r**-6), r_min=0.8, r_cut=2.5)
    >>> ensemble = ParticleEnsemble(lambda theta: {"pair": table}, lambda f: f[:, :1, 0], 1, box,
    ...                             lattice_positions(64, box), beta=1.0, n_frames=4, burn_in=5, thin=1, seed=0)
    >>> ensemble.averages(FrameFeatures(1), np.zeros(1)).samples.shape
    (4, 1)
    """

    def __init__(self, tables, features, n_functions, box, start, *, beta, n_frames, burn_in, thin, seed,
                 n_chains=1):
        self.tables, self.features, self.box, self.beta = tables, features, box, beta
        self.dim = n_functions
        self.n_chains = as_positive_int(n_chains, "n_chains")
        self.states = np.repeat(start[None], self.n_chains, axis=0)
        n_frames = as_positive_int(n_frames, "n_model_frames")
        self.frames_per_chain = -(-n_frames // self.n_chains)
        self.burn_in = as_positive_int(burn_in, "burn_in", minimum=0)
        self.thin = as_positive_int(thin, "thin")
        self.rng = as_generator(seed)
        self.frames = None

    @property
    def support(self):
        """``(low, high)`` of shape ``(dim,)``: unbounded features."""
        return np.full(self.dim, -np.inf), np.full(self.dim, np.inf)

    def sample(self, theta):
        """Run the chains at ``theta``; the frames of all chains, (n_frames, n_particles, 3)."""
        chains = metropolis_chains(self.states, self.box, n_chains=self.n_chains, n_frames=self.frames_per_chain,
                                   beta=self.beta, burn_in=self.burn_in, thin=self.thin, seed=self.rng,
                                   **self.tables(theta))
        self.states = np.stack([chain.frames[-1] for chain in chains])
        self.frames = np.concatenate([chain.frames for chain in chains])
        return self.frames

    def averages(self, basis, theta):
        """Sample mean (m,) and covariance (m, m) of the features, with the features as samples."""
        features = self.features(self.sample(theta))
        mean, cov = weighted_moments(features, np.full(len(features), 1.0 / len(features)))
        return EnsembleAverages(mean, cov, samples=features, n_effective=effective_sample_size(features))


#: Decorator for the fits that alternate BLAS with parallel Monte Carlo chains: BLAS on
#: one thread, because an OpenBLAS worker woken by a matrix product keeps spinning on a
#: core for a while afterwards and would slow the next chains down to one core.
blas_on_one_thread = threadpool_limits.wrap(limits=1, user_api="blas")
