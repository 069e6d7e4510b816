"""The particle ensemble shared by the pair and bonded REM fits (:mod:`remlib.pairrem`,
:mod:`remlib.polymers`).

A particle model's potential is linear in its parameters through per-frame features
:math:`\\Phi(\\mathbf r) \\in \\mathbb R^m` (pair sums of spline functions, bond and angle
sums), :math:`\\beta U = \\beta\\,\\theta\\cdot\\Phi`.  :func:`~remlib.rem.minimize_relative_entropy`
then fits :math:`\\theta` with the features as the coordinates of an identity basis
(:class:`FrameFeatures`) and model averages from frames of an engine
(:mod:`remlib.engines`: remlib's Monte Carlo, OpenMM or LAMMPS) in
:class:`ParticleEnsemble`, which follows the :class:`~remlib.ensembles.Ensemble` protocol.
"""
import numpy as np
from threadpoolctl import threadpool_limits

from remlib._stats import effective_sample_size, weighted_moments
from remlib._validation import as_generator, as_positive_int, check_memory
from remlib.basis import Basis
from remlib.ensembles import EnsembleAverages

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
    """Model averages of frame features from an engine that samples the particles.

    ``model`` is a :class:`remlib.pairrem.PairModel` or :class:`remlib.polymers.BondedModel`:
    ``model.system(theta, box, beta, md)`` describes the model at ``theta`` for the engine
    (a :class:`remlib.engines.CGSystem`), ``model.features(frames, box)`` gives the
    per-frame features (n_frames, n_functions) of the Monte Carlo model and
    ``model.continued_features(frames, box)`` those of the continued model the MD engines
    run.  Each call of :meth:`averages` runs ``engine.n_chains`` chains of
    ``ceil(n_frames / n_chains)`` frames each, and every chain continues from its own
    last frame of the previous call.

    Parameters
    ----------
    model : PairModel or BondedModel
    box : ndarray, shape (3,)
    start : ndarray, shape (n_particles, 3)
        The first frame of every chain.
    beta : float
    n_frames : int
        Frames per call (over all chains).
    engine : engine object
        :class:`remlib.engines.MonteCarloEngine` (default of the fits),
        :class:`~remlib.engines.OpenMMEngine` or :class:`~remlib.engines.LammpsEngine`.
    seed : None, int or numpy.random.Generator

    Examples
    --------
    >>> from remlib.basis import BSplineBasis
    >>> from remlib.engines import MonteCarloEngine
    >>> from remlib.montecarlo import lattice_positions
    >>> from remlib.pairrem import PairModel
    >>> box = np.full(3, 5.0)
    >>> model = PairModel(BSplineBasis(0.8, 2.5, 6, vanish_at_upper=True))
    >>> ensemble = ParticleEnsemble(model, box, lattice_positions(64, box), beta=1.0, n_frames=4,
    ...                             engine=MonteCarloEngine(burn_in=5, thin=1), seed=0)
    >>> ensemble.averages(FrameFeatures(6), np.zeros(6)).samples.shape
    (4, 6)
    """

    def __init__(self, model, box, start, *, beta, n_frames, engine, seed):
        self.model, self.box, self.beta, self.engine = model, box, beta, engine
        self.dim = model.n_functions
        n_frames = as_positive_int(n_frames, "n_model_frames")
        check_memory("n_model_frames", n_frames, 8.0 * 3 * n_frames * start.shape[0])
        check_memory("n_chains", engine.n_chains, 8.0 * 3 * engine.n_chains * start.shape[0])
        self.states = np.repeat(start[None], engine.n_chains, axis=0)
        self.frames_per_chain = -(-n_frames // engine.n_chains)
        self.rng = as_generator(seed)
        self.frames = None

    @property
    def support(self):
        """``(low, high)`` of shape ``(dim,)``: finite, generous bounds of the features.

        The features are sums of at most :math:`N^2` pair (bond, angle) terms of bounded
        functions, so the particle model is normalisable for every :math:`\\theta`; the
        bounds say so to :func:`~remlib.rem.minimize_relative_entropy` (its check for an
        unconfined model along unbounded coordinates does not apply to features).
        """
        bound = 1e3 * float(self.states.shape[1]) ** 2
        return np.full(self.dim, -bound), np.full(self.dim, bound)

    def sample(self, theta):
        """Run the engine at ``theta``; the frames of all chains, (n_frames, n_particles, 3)."""
        system = self.model.system(theta, self.box, self.beta, md=self.engine.continuous)
        self.frames, self.states = self.engine.sample(system, self.states, self.frames_per_chain, self.rng)
        return self.frames

    def features(self, frames):
        """Features of engine frames: of the continued model for MD engines."""
        if self.engine.continuous:
            return self.model.continued_features(frames, self.box)
        return self.model.features(frames, self.box)

    def averages(self, basis, theta):
        """Sample mean (m,) and covariance (m, m) of the features, with the features as samples."""
        features = self.features(self.sample(theta))
        mean, cov = weighted_moments(features, np.full(len(features), 1.0 / len(features)))
        return EnsembleAverages(mean, cov, samples=features, n_effective=effective_sample_size(features))


#: Decorator for the fits that alternate BLAS with parallel Monte Carlo chains: BLAS on
#: one thread, because an OpenBLAS worker woken by a matrix product keeps spinning on a
#: core for a while afterwards and would slow the next chains down to one core.
blas_on_one_thread = threadpool_limits.wrap(limits=1, user_api="blas")
