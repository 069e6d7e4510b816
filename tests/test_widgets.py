"""The explorers of remlib.widgets, driven programmatically like a reader moving the sliders.

Every test sets control values on the widget, then checks the numbers it shows against an
independent route (quadrature, closed forms, exact enumeration, or the remlib function called
directly on the same data), that the figure changed, and that impossible choices produce a
message in the widget instead of an exception.
"""
import base64
import itertools

import ipywidgets
from ipywidgets.embed import dependency_state
import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp

import remlib
from remlib.basis import PolynomialBasis
from remlib.divergence import kl_divergence, kl_from_energies
from remlib._static_explorer import (
    PAYLOAD_TYPE,
    QUANTUM,
    StaticControl,
    decode_payload,
    encode_payload,
    explorer_payload,
)
from remlib.widgets import (
    STATIC_ENV,
    bias_variance_explorer,
    kl_explorer,
    moment_matching_explorer,
    motion_explorer,
    resolution_explorer,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


EXPLORERS = {"kl": kl_explorer, "mm": moment_matching_explorer, "resolution": resolution_explorer,
             "bias": bias_variance_explorer, "motion": motion_explorer}


def _explorer_fixture(name):
    """A module-scoped fixture ``name`` that builds the explorer once (construction precomputes)."""
    return pytest.fixture(scope="module", name=name)(lambda: EXPLORERS[name]())


kl, mm, resolution, bias, motion = (_explorer_fixture(name) for name in EXPLORERS)


def png(widget):
    return bytes(widget.image.value)


def set_values(widget, **values):
    for name, value in values.items():
        widget.controls[name].value = value
    assert widget.message == "", widget.message
    return widget.result


def assert_refuses(widget, text, **values):
    """A bad choice shows ``text`` in the status line, keeps the figure and raises nothing."""
    image = png(widget)
    for name, value in values.items():
        widget.controls[name].value = value
    assert widget.result is None
    assert text in widget.message and text in widget.status.value
    assert png(widget) == image


# ---------------------------------------------------------------------------------------
# common behaviour


@pytest.mark.parametrize("name", list(EXPLORERS))
def test_every_explorer_is_a_widget_with_a_default_figure(name, request):
    widget = request.getfixturevalue(name)
    assert isinstance(widget, ipywidgets.VBox)
    assert png(widget).startswith(PNG_SIGNATURE) and len(png(widget)) > 10_000
    assert widget.result is not None and widget.message == ""
    assert "recomputed by remlib" in widget.children[0].value
    assert all(isinstance(c, ipywidgets.ValueWidget) for c in widget.controls.values())


@pytest.mark.parametrize("name", list(EXPLORERS))
def test_the_embedded_widget_state_has_the_figure_and_only_standard_widgets(name, request):
    """The static book shows what ipywidgets embeds: the Image's PNG must be in that state, and
    every model must be a built-in ipywidgets 8 model (any front end with plain ipywidgets renders
    it: JupyterLab, the classic notebook, VS Code, the book's vendored widget manager)."""
    widget = request.getfixturevalue(name)
    state = dependency_state([widget])
    modules = {(s["model_module"], s["model_module_version"]) for s in state.values()}
    assert modules <= {("@jupyter-widgets/base", "2.0.0"), ("@jupyter-widgets/controls", "2.0.0")}, modules
    images = [s for s in state.values() if s["model_name"] == "ImageModel"]
    assert len(images) == 1
    (buffer,) = images[0]["buffers"]
    assert buffer["path"] == ["value"] and base64.b64decode(buffer["data"]) == png(widget)


# ---------------------------------------------------------------------------------------
# 1. KL explorer


def mixture_pdf(x):
    return 0.6 * stats.norm.pdf(x, -2.0, 0.6) + 0.4 * stats.norm.pdf(x, 2.0, 0.6)


def quad_kl(p, q, low, high):
    value, _ = integrate.quad(lambda t: p(t) * np.log(p(t) / q(t)), low, high, limit=200, points=[-2, 0, 2])
    return value


def test_kl_explorer_matches_quadrature_in_both_directions(kl):
    result = set_values(kl, support=(-6.0, 6.0), mu=0.5, sigma=1.3)
    q = stats.norm(0.5, 1.3).pdf
    assert result["forward"] == pytest.approx(quad_kl(mixture_pdf, q, -6, 6), abs=2e-3)
    assert result["reverse"] == pytest.approx(quad_kl(q, mixture_pdf, -6, 6), abs=2e-3)
    # and exactly what remlib computes for these energies on the explorer's grid
    x = kl.model.x
    u_p, u_q = -np.log(mixture_pdf(x)), 0.5 * ((x - 0.5) / 1.3) ** 2
    assert result["forward"] == pytest.approx(kl_from_energies(u_p, u_q, x), rel=1e-9)
    assert result["reverse"] == pytest.approx(kl_from_energies(u_q, u_p, x), rel=1e-9)


def test_kl_explorer_moves_with_the_sliders(kl):
    before = set_values(kl, support=(-6.0, 6.0), mu=0.0, sigma=1.0)
    forward, image = before["forward"], png(kl)
    after = set_values(kl, mu=1.5)
    assert after["forward"] != forward and png(kl) != image
    assert np.allclose(after["q"], stats.norm.pdf(kl.model.x, 1.5, 1.0) / np.trapezoid(
        stats.norm.pdf(kl.model.x, 1.5, 1.0), kl.model.x))


def test_kl_explorer_forward_scan_is_minimal_at_the_moments(kl):
    """Forward KL over Gaussians is minimised by moment matching: mu = <x>_p, sigma^2 = Var_p."""
    mean = 0.6 * -2.0 + 0.4 * 2.0
    variance = 0.36 + 4.0 - mean**2
    result = set_values(kl, support=(-6.0, 6.0), sigma=round(np.sqrt(variance) / 0.05) * 0.05)
    best = kl.model.mu_scan[np.argmin(result["scan_forward"])]
    assert best == pytest.approx(mean, abs=0.11)  # the scan's spacing is 0.2


@pytest.mark.parametrize("mu, sigma", [(0.0, 1.0), (4.0, 0.2)])
def test_kl_explorer_integrand_integrates_to_the_divergence(kl, mu, sigma):
    """The plotted p ln(p/q) integrates to the D(p||q) shown, also where q underflows (log space)."""
    result = set_values(kl, support=(-6.0, 6.0), mu=mu, sigma=sigma)
    assert np.all(np.isfinite(result["integrand"]))
    assert np.trapezoid(result["integrand"], kl.model.x) == pytest.approx(result["forward"], rel=1e-6)


def test_kl_explorer_reverse_direction_seeks_the_heavier_mode(kl):
    result = set_values(kl, support=(-6.0, 6.0), sigma=0.6, mu=-2.0)
    # the model is the 0.6 component: D(q||p) = -ln 0.6 minus a tiny overlap correction
    assert result["reverse"] == pytest.approx(-np.log(0.6), abs=1e-3)


def test_kl_explorer_zero_weight_region_makes_the_forward_divergence_infinite(kl):
    result = set_values(kl, sigma=1.0, mu=0.0, support=(-1.0, 6.0))
    assert result["forward"] == np.inf
    assert "infinite" in kl.status.value
    # the reverse direction stays finite: the truncated Gaussian against the target
    z = stats.norm.cdf(6.0) - stats.norm.cdf(-1.0)
    q = lambda t: stats.norm.pdf(t) / z  # noqa: E731
    # the grid resolves the cut at x = -1 to one spacing (0.015), where q ~ 0.3 and ln(q/p) ~ 1
    assert result["reverse"] == pytest.approx(quad_kl(q, mixture_pdf, -1.0, 6.0), abs=5e-3)
    excluded = 0.6 * stats.norm.cdf(1.0 / 0.6) + 0.4 * stats.norm.cdf(-3.0 / 0.6)
    assert result["excluded_mass"] == pytest.approx(excluded, abs=5e-3)
    assert np.all(np.isinf(result["integrand"][kl.model.x < -1.0]))


def test_kl_explorer_refuses_an_empty_support(kl):
    set_values(kl, support=(-6.0, 6.0))
    assert_refuses(kl, "support", support=(1.0, 1.0))
    set_values(kl, support=(-6.0, 6.0))
    with pytest.raises(ValueError, match="σ"):
        kl.model.compute(mu=0.0, sigma=0.0, support=(-6, 6))


# ---------------------------------------------------------------------------------------
# 2. moment matching


def test_moment_matching_target_moments_by_quadrature(mm):
    weight = lambda t, k: t**k * np.exp(-2.0 * (t**2 - 1) ** 2)  # noqa: E731
    norm = integrate.quad(weight, -2.5, 2.5, args=(0,))[0]
    exact = [integrate.quad(weight, -2.5, 2.5, args=(k,))[0] / norm for k in (2, 4)]
    np.testing.assert_allclose(mm.result["target_moments"], exact, rtol=1e-4)


def test_moment_matching_sliders_give_remlib_model_moments_and_newton_path(mm):
    result = set_values(mm, theta2=-1.5, theta4=0.8)
    averages = mm.model.ensemble.averages(PolynomialBasis([2, 4]), [-1.5, 0.8])
    np.testing.assert_allclose(result["model_moments"], averages.mean, rtol=1e-12)
    np.testing.assert_allclose(result["gradient"], result["target_moments"] - averages.mean)
    path = result["path"]
    np.testing.assert_allclose(path[0], [-1.5, 0.8])
    # Newton-Raphson ends at the exact representation of h(x^2 - 1)^2: theta = (-2h, h)
    np.testing.assert_allclose(path[-1], [-4.0, 2.0], atol=1e-6)
    x = mm.model.x
    u = -1.5 * x**2 + 0.8 * x**4
    assert result["relative_entropy"] == pytest.approx(kl_from_energies(2 * (x**2 - 1) ** 2, u, x), rel=1e-9)
    # the landscape is S(theta) - S(theta*) = D(theta) - D(theta*), and D(theta*) = 0
    assert result["excess_objective"] == pytest.approx(result["relative_entropy"], rel=1e-3)


def test_moment_matching_at_the_optimum_the_moments_match(mm):
    image = png(mm)
    result = set_values(mm, theta2=-4.0, theta4=2.0)
    assert png(mm) != image
    np.testing.assert_allclose(result["model_moments"], result["target_moments"], rtol=1e-6)
    assert abs(result["relative_entropy"]) < 1e-8
    assert len(result["path"]) <= 2


def test_moment_matching_landscape_is_the_objective(mm):
    model = mm.model
    i, j = 7, 20
    theta = (model.t2[j], model.t4[i])
    expected = remlib.relative_entropy_objective(model.basis, model.ensemble, model.x, theta,
                                                 weights=model.target_weights)
    expected -= remlib.relative_entropy_objective(model.basis, model.ensemble, model.x, (-4.0, 2.0),
                                                  weights=model.target_weights)
    assert model.landscape[i, j] == pytest.approx(expected, abs=1e-9)
    assert model.landscape.min() >= -1e-9


# ---------------------------------------------------------------------------------------
# 3. resolution and information


def enumerated_chain(coupling, field, n=12):
    """All 2^n states of the periodic Ising chain and their Boltzmann probabilities (numpy only)."""
    states = np.array(list(itertools.product([-1, 1], repeat=n)))
    energy = -coupling * (states * np.roll(states, -1, axis=1)).sum(axis=1) - field * states.sum(axis=1)
    weights = np.exp(-(energy - energy.min()))
    return states, weights / weights.sum()


def entropy(p):
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def test_resolution_terms_add_up_and_move_with_the_controls(resolution):
    first = set_values(resolution, block_size=3, coupling=0.8, field=0.0, cg_model="nearest-neighbour chain")
    np.testing.assert_allclose(first["total"], first["coarse"] + first["reconstruction"], atol=1e-12)
    image = png(resolution)
    second = set_values(resolution, coupling=1.2)
    assert not np.allclose(second["reconstruction"], first["reconstruction"])
    assert png(resolution) != image


def test_resolution_reconstruction_term_by_enumeration(resolution):
    """Odd blocks, uniform back-mapping: every CG state has 2^(n - n_blocks) microstates, so
    reconstruction = (n - n_blocks) ln 2 - [H(P_AA) - H(P_map)]."""
    result = set_values(resolution, block_size=3, coupling=0.7, field=0.2, cg_model="nearest-neighbour chain")
    states, p = enumerated_chain(0.7, 0.2)
    cg = np.sign(states.reshape(-1, 4, 3).sum(axis=2))
    _, labels = np.unique(cg, axis=0, return_inverse=True)
    p_map = np.bincount(labels.ravel(), weights=p)
    expected = 8 * np.log(2) - (entropy(p) - entropy(p_map))
    assert result["current_reconstruction"] == pytest.approx(expected, abs=1e-10)


def test_resolution_decimation_gives_the_exact_renormalised_coupling(resolution):
    """Block size 2 with the majority rule (ties -> first spin) is decimation; summing out every
    second spin of a chain gives an Ising chain with tanh K' = tanh^2 K exactly."""
    result = set_values(resolution, block_size=2, coupling=0.8, field=0.0, cg_model="nearest-neighbour chain")
    assert result["current_theta"][0] == pytest.approx(np.arctanh(np.tanh(0.8) ** 2), abs=1e-8)
    assert abs(result["current_coarse"]) < 1e-10


def test_resolution_independent_spins_lose_the_multi_information(resolution):
    """With h = 0 the best independent-spin model is uniform: coarse = n_blocks ln 2 - H(P_map);
    the reconstruction term does not depend on the CG model."""
    chain_fit = set_values(resolution, block_size=4, coupling=0.9, field=0.0, cg_model="nearest-neighbour chain")
    independent = set_values(resolution, cg_model="independent block spins")
    np.testing.assert_allclose(independent["reconstruction"], chain_fit["reconstruction"], atol=1e-12)
    expected = 3 * np.log(2) - entropy(independent["current_p_map"])
    assert independent["current_coarse"] == pytest.approx(expected, abs=1e-9)
    # a chain of block spins can only do better; for one block (size 12) both models coincide
    assert np.all(independent["coarse"][:-1] > chain_fit["coarse"][:-1] + 0.05)
    assert independent["coarse"][-1] == pytest.approx(chain_fit["coarse"][-1], abs=1e-12)


# ---------------------------------------------------------------------------------------
# 4. bias and variance


def test_bias_variance_fits_are_remlib_fits_of_the_training_sets(bias):
    result = set_values(bias, n_samples=100, basis_size=3)
    model = bias.model
    basis = PolynomialBasis([1, 2, 3])
    for index, theta in enumerate(result["thetas"]):
        data = model.training_set(100, index)
        direct = remlib.minimize_relative_entropy(basis, model.ensemble, data, tol=1e-10)
        np.testing.assert_allclose(theta, direct.theta, atol=1e-6)
        # held-out: the discrete relative entropy on the grid, an independent route
        q = model.ensemble.probabilities(basis, theta)
        assert result["heldout"][index, 2] == pytest.approx(kl_divergence(model.p_true, q), rel=1e-8)
        # training estimate: mean of ln P - ln P_theta over the training samples
        cell = np.log(model.u[1] - model.u[0])
        ln_p = -model.channel.pmf(2 * data) - logsumexp(cell - model.F)
        u = basis.energy(model.u, theta)
        ln_q = -basis.energy(data, theta) - logsumexp(cell - u)
        assert result["train"][index, 2] == pytest.approx(np.mean(ln_p - ln_q), abs=1e-10)
    assert png(bias).startswith(PNG_SIGNATURE)


def test_bias_variance_heldout_error_never_beats_the_best_model(bias):
    """Pythagoras for exponential families: D(P||P_hat) = D(P||P*) + D(P*||P_hat) >= D(P||P*)."""
    for n in bias.model.sample_sizes[1:]:
        result = set_values(bias, n_samples=n, basis_size=2)
        held = result["heldout"]
        ok = np.isfinite(held)
        assert np.all(held[ok] >= np.broadcast_to(bias.model.approximation, held.shape)[ok] - 1e-9)


def test_bias_variance_shows_overfitting_and_its_cure(bias):
    small = set_values(bias, n_samples=30, basis_size=8)
    assert small["train_mean"][7] < small["heldout_mean"][7]          # optimistic on its own data
    image = png(bias)
    large = set_values(bias, n_samples=3000)
    assert png(bias) != image
    assert large["heldout_mean"][7] < small["heldout_mean"][7]        # more data, smaller error


def test_bias_variance_bad_choices_show_a_message(bias):
    set_values(bias, n_samples=100, basis_size=3)
    assert_refuses(bias, "No samples", n_samples=0)
    set_values(bias, n_samples=100)
    assert_refuses(bias, "Empty basis", basis_size=0)
    result = set_values(bias, n_samples=10, basis_size=10)
    assert result["n_failed"] > 0 and "did not converge" in bias.status.value


# ---------------------------------------------------------------------------------------
# 5. coarse-graining motion


def test_motion_fit_is_fit_drift_on_the_projected_frames(motion):
    model = motion.model
    for lag, size in [(1, 4), (50, 2)]:
        result = set_values(motion, lag=lag, basis_size=size)
        basis = PolynomialBasis(np.arange(1, size + 1))
        direct = remlib.fit_drift(model.paths[::lag], lag * model.dt, basis, mapping=lambda r: r[:, 0]).theta
        np.testing.assert_allclose(result["theta"], direct, rtol=1e-10)
        np.testing.assert_allclose(result["drift"], basis.force(model.xs, direct), rtol=1e-10)
        assert result["time_step"] == pytest.approx(lag * 2e-3)


def test_motion_short_time_step_recovers_the_mean_force(motion):
    """F = U1 + a x^2 / 2 (+ const): theta = (c, a/2 - 2h, 0, h) in the basis x..x^4."""
    short = set_values(motion, lag=1, basis_size=4)
    np.testing.assert_allclose(short["exact_theta"], [0.3, 0.25 - 2.0, 0.0, 1.0])
    channel = motion.model.channel
    np.testing.assert_allclose(motion.model.exact, channel.mean_force(motion.model.xs))
    assert short["rms_error"] < 0.3
    image = png(motion)
    long = set_values(motion, lag=200)
    assert png(motion) != image
    assert long["rms_error"] > 2 * short["rms_error"]   # a long interval sees an effective drift


def test_motion_empty_basis_shows_a_message(motion):
    set_values(motion, lag=5, basis_size=3)
    assert "cannot represent" in motion.status.value
    assert_refuses(motion, "Empty basis", basis_size=0)


# ---------------------------------------------------------------------------------------
# the static explorer of the online book (remlib._static_explorer)


def _polyline(data, index):
    """Delta-coded tenths of a pixel -> (n, 2) canvas pixels (y down), as the page's script reads them."""
    return np.cumsum(np.array(data["arrays"][index], dtype=float).reshape(-1, 2), axis=0) / QUANTUM


@pytest.fixture(scope="module")
def kl_payload(kl):
    set_values(kl, support=(-6.0, 6.0), mu=0.0, sigma=1.0)
    grid = {"mu": StaticControl([-1.2, 0.4, 2.0]), "sigma": StaticControl([0.6, 1.0]),
            "support": StaticControl([(-6.0, 6.0), (-1.0, 6.0)])}
    return decode_payload(encode_payload(explorer_payload(kl, grid)))


def test_static_payload_has_a_frame_per_combination_first_control_fastest(kl_payload, kl):
    data = kl_payload
    assert len(data["frames"]) == len(data["summaries"]) == 3 * 2 * 2
    assert [c["name"] for c in data["controls"]] == ["mu", "sigma", "support"]
    assert [c["default"] for c in data["controls"]] == [1, 1, 0]     # mu 0 -> 0.4 (closest), sigma 1
    assert data["controls"][2]["kind"] == "select" and data["controls"][0]["kind"] == "range"
    # frame k = i_mu + 3 (i_sigma + 2 i_support): the numbers are remlib's for those values
    x = kl.model.x
    u_p = -np.log(mixture_pdf(x))
    for i_mu, mu in enumerate([-1.2, 0.4, 2.0]):
        for i_sigma, sigma in enumerate([0.6, 1.0]):
            summary = data["summaries"][i_mu + 3 * i_sigma]
            forward = kl_from_energies(u_p, 0.5 * ((x - mu) / sigma) ** 2, x)
            assert f"D(p‖q) = {forward:.3f}</b>" in summary
            assert "D(p‖q) = ∞" in data["summaries"][i_mu + 3 * i_sigma + 6]   # support [-1, 6]
    # the widget is back at its own values after the grid was run
    assert kl.result["mu"] == 0.0 and kl.result["sigma"] == 1.0


def test_static_payload_draws_the_model_density_where_matplotlib_puts_it(kl_payload, kl):
    """The stored pixels of the model curve, mapped back through the axes, lie on N(mu, sigma^2)."""
    data = kl_payload
    ax = kl.model.axes[0]
    artist = kl.model.dynamic.index(kl.model.q_line)
    state = data["states"][data["frames"][2 + 3 * 1][artist]]      # mu = 2.0, sigma = 1.0, whole support
    assert state["k"] == "line" and data["artists"][artist] == 0
    pixels = np.concatenate([_polyline(data, s) for s in state["p"]])
    # canvas pixels (y down, `scale` times the live figure's) -> the live figure's display pixels
    display = np.column_stack([pixels[:, 0], data["height"] - pixels[:, 1]]) / data["scale"]
    xy = ax.transData.inverted().transform(display)
    inside = (xy[:, 0] > -6) & (xy[:, 0] < 6)
    density = stats.norm.pdf(xy[inside, 0], 2.0, 1.0)
    pixel = 1.05 / ax.bbox.height          # one pixel in density units
    assert np.all(np.abs(xy[inside, 1] - density) < 0.6 * pixel)
    assert data["scale"] == 1.5 and data["width"] == round(1.5 * kl.figure.bbox.width)
    assert inside.sum() > 20 and xy[:, 0].min() < -5.9 and xy[:, 0].max() > 5.9


def test_static_payload_panels_and_background(kl_payload):
    data = kl_payload
    assert data["background"].startswith("data:image/png;base64,")
    assert len(data["panels"]) == len(data["clips"]) == 3
    for (x0, y0, x1, y1), (cx0, cy0, cx1, cy1) in zip(data["panels"], data["clips"]):
        assert 0 <= x0 <= cx0 < cx1 <= x1 <= data["width"] and 0 <= y0 <= cy0 < cy1 <= y1 <= data["height"]
    lefts = sorted(p[0] for p in data["panels"])
    rights = sorted(p[2] for p in data["panels"])
    assert all(r <= l + 1 for r, l in zip(rights[:-1], lefts[1:]))   # panels side by side, not overlapping


def test_static_html_only_when_building_the_book(kl, monkeypatch):
    monkeypatch.delenv(STATIC_ENV, raising=False)
    assert "text/html" not in kl._repr_mimebundle_()
    monkeypatch.setenv(STATIC_ENV, "1")
    original = kl.static_grid
    kl.static_grid = {"mu": StaticControl([0.0, 1.0]), "sigma": StaticControl([1.0]),
                      "support": StaticControl([(-6.0, 6.0)])}
    try:
        bundle = kl._repr_mimebundle_()
    finally:
        kl.static_grid = original
    assert "application/vnd.jupyter.widget-view+json" in bundle
    html = bundle["text/html"]
    assert html.startswith('<div class="remlib-explorer">')
    encoded = html.split(f'<script type="{PAYLOAD_TYPE}">')[1].split("</script>")[0]
    assert len(decode_payload(encoded)["frames"]) == 2


@pytest.mark.parametrize("name", list(EXPLORERS))
def test_every_static_grid_covers_the_widget_defaults_and_the_controls(name):
    widget = EXPLORERS[name]()   # a fresh one: its controls at their defaults
    assert set(widget.static_grid) == set(widget.controls)
    for control_name, control in widget.static_grid.items():
        assert control.index(widget.controls[control_name].value) is not None
        if control.kind == "range":   # the slider's default is a grid point
            assert np.isclose(control.values[control.index(widget.controls[control_name].value)],
                              widget.controls[control_name].value)


def test_static_explorer_refuses_bad_grids(kl, bias):
    with pytest.raises(ValueError, match="at least one"):
        StaticControl([])
    with pytest.raises(ValueError, match="labels"):
        StaticControl([1, 2], labels=["one"])
    with pytest.raises(ValueError, match="grid must name the controls"):
        explorer_payload(kl, {"mu": StaticControl([0.0])})
    with pytest.raises(ValueError, match="refuses"):
        explorer_payload(bias, {"n_samples": StaticControl([0]), "basis_size": StaticControl([2])})
