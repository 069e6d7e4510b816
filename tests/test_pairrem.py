"""Pair-potential REM, IBI and force matching recover a known pair potential (Henderson's theorem)."""
import warnings

import numpy as np
import pytest
from scipy.stats import chi2

from remlib.basis import BSplineBasis
from remlib.ensembles import effective_sample_size
from remlib.fluids import lj_potential, radial_distribution
from remlib.montecarlo import lattice_positions, metropolis_chains, metropolis_particles
from remlib.pairrem import (
    PairModel,
    fit_pair_potential_rem,
    iterative_boltzmann_inversion,
    pair_force_matching,
    pair_forces,
)

N, DENSITY, BETA, R_MIN, R_CUT, M = 200, 0.5, 0.5, 0.85, 2.5, 12
BOX = np.full(3, (N / DENSITY) ** (1 / 3))


@pytest.fixture(scope="module")
def truth():
    """A pair potential exactly representable in the basis (LJ projected on the splines) and its frames.

    The basis is the fits' default: splines that vanish at r_cut (``smooth_cutoff=True``)."""
    model = PairModel(BSplineBasis(R_MIN, R_CUT, M, vanish_at_upper=True))
    r = np.linspace(R_MIN, R_CUT, 300)
    theta = np.linalg.lstsq(model.basis(r), lj_potential(r, shift_at=R_CUT), rcond=None)[0]
    run = metropolis_particles(lattice_positions(N, BOX), BOX, model.table(theta), n_frames=200, beta=BETA,
                               burn_in=300, thin=4, seed=11)
    again = metropolis_particles(run.frames[-1], BOX, model.table(theta), n_frames=200, beta=BETA,
                                 burn_in=50, thin=4, seed=12)
    return model, theta, run.frames, again.frames


def rdf(frames):
    return radial_distribution(frames, BOX, r_max=R_CUT, bins=40)


def rdf_distance(a, b):
    (r, ga), (_, gb) = rdf(a), rdf(b)
    return np.sqrt(np.mean((ga - gb)[r > R_MIN] ** 2))


@pytest.mark.parametrize("n_chains", [1, 2])
def test_rem_recovers_the_potential_within_noise(truth, n_chains):
    """With 2 chains the model frames come from two parallel runs of 100 frames each."""
    model, theta_true, frames, independent = truth
    fit = fit_pair_potential_rem(frames, BOX, r_cut=R_CUT, n_functions=M, r_min=R_MIN, beta=BETA,
                                 n_model_frames=200, burn_in=50, thin=2, n_chains=n_chains, seed=1)
    rem = fit.rem
    assert fit.converged and rem.n_resamples >= 2
    # the error of θ in the Hessian metric is chi-square distributed: the noise of the target and
    # of the model samples θ was computed from, plus a margin of one 0.99 quantile of the model
    # noise for what the stopping rule leaves (over seeds 1-30 the bound was exceeded 0/30 times
    # with one chain and with two; largest 1.78 and 2.11).  The model's n_eff scales with the
    # sweeps it spans: the fit's 200 frames every 2 sweeps span half the 200 frames every 4
    # sweeps of the independent run
    n_target = effective_sample_size(model.features(frames, BOX))
    n_model = effective_sample_size(model.features(independent, BOX)) * (200 * 2) / (200 * 4)
    delta = fit.theta - theta_true
    bound = chi2.ppf(0.999, M) * (1 / n_target + 1 / n_model) + chi2.ppf(0.99, M) / n_model
    assert delta @ rem.hessian @ delta < bound
    # resolution of this sample (n_eff ~ 35-65): a well 60 % too deep falls outside the bound
    wrong = np.where(np.arange(M) >= 2, 0.6 * theta_true, 0.0)
    assert wrong @ rem.hessian @ wrong > bound
    # g(r) of the fitted model matches the target as well as an independent run of the true model does
    check = metropolis_particles(frames[-1], BOX, model.table(fit.theta), n_frames=200, beta=BETA, burn_in=50,
                                 thin=4, seed=5)
    assert rdf_distance(check.frames, frames) < 2 * rdf_distance(independent, frames) + 0.005
    # a wrong potential (40 % weaker) is resolved by the same comparison
    wrong = metropolis_particles(frames[-1], BOX, model.table(0.6 * theta_true), n_frames=200, beta=BETA,
                                 burn_in=50, thin=4, seed=6)
    assert rdf_distance(wrong.frames, frames) > 2 * rdf_distance(independent, frames) + 0.005


def test_force_matching_recovers_the_potential_exactly(truth):
    model, theta_true, frames, _ = truth
    forces = pair_forces(frames[:20], BOX, model, theta_true)
    fit = pair_force_matching(frames[:20], forces, BOX, r_cut=R_CUT, n_functions=M, r_min=R_MIN)
    shift = model.basis([R_CUT])[0] @ theta_true  # force matching fixes u(r_cut) = 0
    np.testing.assert_allclose(fit.theta, theta_true - shift, atol=1e-7)
    assert fit.history["residual"] < 1e-12


def test_pair_forces_are_minus_the_energy_gradient(truth):
    model, theta_true, frames, _ = truth
    frame = frames[0]
    forces = pair_forces(frame, BOX, model, theta_true)[0]
    h = 1e-5

    def energy(x):  # exact spline energy, all pairs by numpy
        i, j = np.triu_indices(N, k=1)
        d = x[j] - x[i]
        r = np.linalg.norm(d - BOX * np.floor(d / BOX + 0.5), axis=1)
        return (model.basis(r[r < R_CUT]) @ theta_true).sum()

    for particle in (0, 57):
        numeric = []
        for d in range(3):
            plus, minus = frame.copy(), frame.copy()
            plus[particle, d] += h
            minus[particle, d] -= h
            numeric.append(-(energy(plus) - energy(minus)) / (2 * h))
        np.testing.assert_allclose(forces[particle], numeric, rtol=1e-6, atol=1e-6)


def test_ibi_reproduces_g_and_recovers_the_potential(truth):
    model, theta_true, frames, independent = truth
    fit = iterative_boltzmann_inversion(frames, BOX, r_cut=R_CUT, n_functions=M, r_min=R_MIN, beta=BETA,
                                        n_iterations=8, n_model_frames=100, burn_in=50, seed=2)
    noise = rdf_distance(independent, frames)
    assert min(fit.history["g_rms"]) < fit.history["g_rms"][0]
    check = metropolis_particles(frames[-1], BOX, model.table(fit.theta), n_frames=200, beta=BETA, burn_in=50,
                                 thin=4, seed=7)
    assert rdf_distance(check.frames, frames) < 2 * noise + 0.01
    # Henderson: matching g(r) on bins finer than the splines matches the pair features, the condition REM
    # solves, so IBI's θ error in the metric of the true model's Hessian β²Cov(Φ) obeys REM's chi-square
    # bound (target noise + noise of the last model run + what a noisy stop leaves); a 40 % weaker
    # potential lies outside it
    features = model.features(independent, BOX)
    hessian = BETA**2 * np.cov(features, rowvar=False)
    n_target = effective_sample_size(model.features(frames, BOX))
    n_model = 100 * effective_sample_size(features) / 200
    bound = chi2.ppf(0.999, M) * (1 / n_target + 1 / n_model) + chi2.ppf(0.99, M) / n_model
    delta = fit.theta - theta_true
    assert delta @ hessian @ delta < bound, (delta @ hessian @ delta, bound)
    wrong = np.where(np.arange(M) >= 2, 0.6 * theta_true, 0.0)
    assert wrong @ hessian @ wrong > bound


def test_number_of_model_chains_must_be_positive(truth):
    frames = truth[2]
    with pytest.raises(ValueError, match="n_chains"):
        fit_pair_potential_rem(frames, BOX, r_cut=R_CUT, n_functions=M, r_min=R_MIN, beta=BETA, n_chains=0)


def test_spline_range_never_sampled_is_an_error(truth):
    _, _, frames, _ = truth
    with pytest.raises(ValueError, match="never sampled"):
        fit_pair_potential_rem(frames, BOX, r_cut=R_CUT, n_functions=M, r_min=0.3, beta=BETA)
    with pytest.raises(ValueError, match="hard core"):
        fit_pair_potential_rem(frames, BOX, r_cut=R_CUT, n_functions=M, r_min=1.0, beta=BETA)
    with pytest.raises(ValueError, match="half the shortest box edge"):
        iterative_boltzmann_inversion(frames, BOX, r_cut=4.0, n_functions=M, beta=BETA)
    with pytest.raises(ValueError, match="shape of frames"):
        pair_force_matching(frames[:2], np.zeros((2, N, 2)), BOX, r_cut=R_CUT, r_min=R_MIN)


def test_default_hard_core_admits_the_start_frame_holding_the_closest_pair(truth):
    """The model chain starts from the last target frame; when that frame holds the closest target pair,
    the default r_min (the closest distance) must not put that pair inside the tabulated hard core."""
    _, _, frames, _ = truth
    distances = [min(np.linalg.norm((f[i] - f[i + 1:]) - BOX * np.round((f[i] - f[i + 1:]) / BOX), axis=1).min()
                     for i in range(N - 1)) for f in frames[:20]]
    ordered = np.concatenate([np.delete(frames[:20], np.argmin(distances), axis=0),
                              frames[[int(np.argmin(distances))]]])
    for fit in (fit_pair_potential_rem, iterative_boltzmann_inversion):
        kwargs = {"max_iter": 1} if fit is fit_pair_potential_rem else {"n_iterations": 1}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # one iteration does not converge
            result = fit(ordered, BOX, r_cut=R_CUT, n_functions=M, beta=BETA, n_model_frames=5, burn_in=2,
                         seed=1, **kwargs)
        assert result.model.r_min <= min(distances)


def test_model_chains_run_while_blas_keeps_to_one_thread(truth, monkeypatch):
    """A spinning OpenBLAS worker would take the core of the second chain (see blas_on_one_thread)."""
    from threadpoolctl import threadpool_info

    import remlib.engines as engines

    seen = []

    def recording(*args, **kwargs):
        seen.extend(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")
        return metropolis_chains(*args, **kwargs)

    monkeypatch.setattr(engines, "metropolis_chains", recording)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one Newton step does not converge
        fit_pair_potential_rem(truth[2], BOX, r_cut=R_CUT, n_functions=M, r_min=R_MIN, beta=BETA,
                               n_model_frames=10, burn_in=2, max_iter=1, n_chains=2, seed=0)
    assert seen and set(seen) == {1}
