r"""Interactive explorers for the book (ipywidgets 8 + matplotlib).

Each function returns an :class:`Explorer`, an ``ipywidgets.VBox`` holding the controls,
the figure (an ``ipywidgets.Image`` with a PNG drawn by matplotlib's Agg backend) and a
status line with the numbers; in Jupyter every control change recomputes with ``remlib``.

The online book runs no Python.  There the same explorer is shown precomputed: when the
environment variable ``REMLIB_STATIC_EXPLORERS`` is set (the book's Sphinx extension
``book/_ext/static_explorers.py`` sets it for the notebooks it executes), displaying an
explorer also emits ``text/html`` with its model run over a grid of control values
(:meth:`Explorer.static_html`, :mod:`remlib._static_explorer`), and the page shows that,
drawn by a small script, instead of the widget.  Each explorer states the grid it is
sampled on (``Explorer.static_grid``).

=================================  ============================================================
:func:`kl_explorer`                bimodal target vs a Gaussian model: :math:`D(p\|q)`, :math:`D(q\|p)`
:func:`moment_matching_explorer`   moments, the relative-entropy landscape, the Newton path
:func:`resolution_explorer`        block size vs total = coarse + reconstruction information loss
:func:`bias_variance_explorer`     sample size and basis size vs training and held-out error
:func:`motion_explorer`            Brownian paths, CG time step and basis vs the mean force
=================================  ============================================================

For programs and tests, an explorer exposes ``.controls`` (name -> widget), ``.result``
(the numbers of the current state, a dict; ``None`` after an invalid choice),
``.message`` (the reason shown for an invalid choice, else ``""``), ``.status``,
``.image`` and ``.update()`` (the callback run after every control change).

Examples
--------
>>> from remlib.widgets import kl_explorer
>>> w = kl_explorer()
>>> w.controls["mu"].value = 2.0
>>> round(w.result["forward"], 3) > 0
True
>>> w.controls["support"].value = (-1.0, 6.0)   # the model excludes the left state
>>> w.result["forward"]
inf
"""
import io
import os

import ipywidgets as widgets
import matplotlib
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from remlib import _widget_models as models
from remlib._static_explorer import StaticControl, explorer_html
from remlib.style import BOOK_RC

__all__ = [
    "Explorer",
    "kl_explorer",
    "moment_matching_explorer",
    "resolution_explorer",
    "bias_variance_explorer",
    "motion_explorer",
]

#: resolution of the figures (pixels per inch); a full-width figure is about 1000 px wide
DPI = 90

LIVE_HINT = "Move the controls: the figure and the numbers are recomputed by remlib in the running kernel."

#: environment variable that makes a displayed explorer also emit its precomputed static HTML
STATIC_ENV = "REMLIB_STATIC_EXPLORERS"

_SLIDER_STYLE = {"description_width": "initial"}

#: the book style with larger text: the figure is scaled down to the width of the page column
WIDGET_RC = {**BOOK_RC, "font.size": 14, "axes.titlesize": 14, "axes.labelsize": 14,
             "xtick.labelsize": 12, "ytick.labelsize": 12, "legend.fontsize": 11}


class Explorer(widgets.VBox):
    """Controls, a figure and a status line driven by a model of :mod:`remlib._widget_models`.

    Parameters
    ----------
    title : str
        One line shown above the controls.
    model : object
        Has ``compute(**values)``, ``setup(fig)``, ``show(result)`` and ``summary(result)``.
    controls : dict
        Control name (a keyword of ``model.compute``) -> ipywidgets value widget.
    figsize : tuple of float
        Figure size in inches.
    static_grid : dict
        Control name -> :class:`remlib._static_explorer.StaticControl`: the values the static
        (precomputed) explorer of the online book offers.
    """

    def __init__(self, title, model, controls, figsize, static_grid):
        self.title = title
        self.static_grid = dict(static_grid)
        self.model = model
        self.controls = dict(controls)
        self.result = None
        self.message = ""
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="100%", height="auto"))
        self.figure = Figure(figsize=figsize, dpi=DPI, layout="constrained")
        FigureCanvasAgg(self.figure)
        with matplotlib.rc_context(WIDGET_RC):
            model.setup(self.figure)
        for artist in model.dynamic:
            artist.set_animated(True)
        self._background = None
        self._legends = []
        header = widgets.HTML(f"<b>{title}</b><br><small>{LIVE_HINT}</small>")
        control_box = widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([header, control_box, self.image, self.status])
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    def static_html(self):
        """The explorer precomputed over ``static_grid``, as an HTML fragment for a static page."""
        return explorer_html(self, self.static_grid)

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if os.environ.get(STATIC_ENV):
            bundle["text/html"] = self.static_html()
        return bundle

    @property
    def values(self):
        """The current control values, as keywords of ``model.compute``."""
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, change):
        self.update()

    def update(self):
        """Recompute for the current control values and redraw (the slider callback).

        An invalid choice (``ValueError``) keeps the last figure and shows the reason.
        """
        try:
            result = self.model.compute(**self.values)
        except ValueError as exc:
            self.result, self.message = None, str(exc)
            self.status.value = f'<span style="color:#D55E00"><b>Cannot show this choice:</b> {exc}</span>'
            return
        self.result, self.message = result, ""
        self.model.show(result)
        self.image.value = self.render()
        self.status.value = self.model.summary(result)

    def render(self):
        """The figure as PNG bytes.

        The first call draws everything but the model's ``dynamic`` artists (the layout is
        computed once, then frozen) and keeps that image; later calls restore it and draw
        only the dynamic artists on top (blitting), which is what keeps an update fast.
        The legends' boxes are pasted back over the dynamic artists.
        """
        canvas = self.figure.canvas
        with matplotlib.rc_context(WIDGET_RC):
            if self._background is None:
                canvas.draw()
                self.figure.set_layout_engine("none")
                canvas.draw()
                self._background = canvas.copy_from_bbox(self.figure.bbox)
                renderer = canvas.get_renderer()
                self._legends = [canvas.copy_from_bbox(ax.get_legend().get_window_extent(renderer))
                                 for ax in self.figure.axes if ax.get_legend() is not None]
            else:
                canvas.restore_region(self._background)
            for artist in self.model.dynamic:
                if artist.get_visible():
                    artist.axes.draw_artist(artist)
            for legend in self._legends:  # legends stay on top of the moving lines
                canvas.restore_region(legend)
        rgba = np.asarray(canvas.buffer_rgba())
        buffer = io.BytesIO()
        PIL.Image.fromarray(rgba[..., :3]).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def _steps(low, high, step):
    """``low, low + step, ..., high`` as rounded floats (a static control's values)."""
    count = int(round((high - low) / step)) + 1
    return [round(low + i * step, 10) for i in range(count)]


def _slider(kind, description, value, low, high, step, **extra):
    return kind(value=value, min=low, max=high, step=step, description=description,
                style=_SLIDER_STYLE, **extra)


def kl_explorer():
    r"""Relative entropy in both directions between a two-state target and a Gaussian model.

    The target :math:`p` is a mixture of two Gaussians; the model :math:`q` is one Gaussian of
    centre :math:`\mu` and width :math:`\sigma`, with zero density outside its support
    :math:`[a, b]`.  Shows both densities, the integrand :math:`p\ln(p/q)` of

    .. math:: D(p\|q) = \int p(x)\ln\frac{p(x)}{q(x)}\,\mathrm{d}x ,

    :math:`D(p\|q)` and :math:`D(q\|p)` as functions of :math:`\mu`, and what happens when the
    model gives zero weight to a region the target reaches (:math:`D(p\|q) = \infty`).

    Returns
    -------
    Explorer
        Controls ``"mu"``, ``"sigma"``, ``"support"``; ``result`` keys ``"forward"``,
        ``"reverse"`` (nats), ``"excluded_mass"``, ``"q"``, ``"integrand"``, ...

    Examples
    --------
    >>> w = kl_explorer()
    >>> w.controls["sigma"].value = 0.6
    >>> w.controls["mu"].value = -2.0
    >>> round(w.result["reverse"], 2)   # the model sits on the 0.6 state: about -ln 0.6
    0.51
    """
    controls = {
        "mu": _slider(widgets.FloatSlider, "model centre μ", 0.0, -4.0, 4.0, 0.1),
        "sigma": _slider(widgets.FloatSlider, "model width σ", 1.0, 0.2, 3.0, 0.05),
        "support": widgets.FloatRangeSlider(value=(-6.0, 6.0), min=-6.0, max=6.0, step=0.1, readout_format=".1f",
                                            description="model support [a, b]", style=_SLIDER_STYLE),
    }
    static_grid = {
        "mu": StaticControl(_steps(-4.0, 4.0, 0.4)),
        "sigma": StaticControl(_steps(0.2, 3.0, 0.2)),
        "support": StaticControl(
            [(-6.0, 6.0), (-4.0, 4.0), (-1.0, 6.0), (-6.0, 1.0)],
            labels=["[−6, 6]: the whole grid", "[−4, 4]: leaves out the far tails",
                    "[−1, 6]: leaves out the left state", "[−6, 1]: leaves out the right state"]),
    }
    return Explorer("Relative entropy of a two-state target and a one-Gaussian model",
                    models.KLModel(), controls, figsize=(11.5, 3.9), static_grid=static_grid)


def moment_matching_explorer():
    r"""REM with the basis :math:`[x^2, x^4]`: moments, landscape and the Newton–Raphson path.

    The target is :math:`F = h(x^2-1)^2` with :math:`h = 2\,kT`; the sliders set
    :math:`\theta = (\theta_2, \theta_4)` of :math:`U_\theta = \theta_2 x^2 + \theta_4 x^4`.
    Shows the two densities, target and model :math:`\langle\phi_i\rangle` (their difference
    is the gradient :math:`\beta(\langle\phi\rangle_{\mathrm{target}} - \langle\phi\rangle_\theta)`),
    and :math:`S(\theta) - S(\theta^*)` with the slider point and the path Newton–Raphson
    takes from it to the optimum.

    Returns
    -------
    Explorer
        Controls ``"theta2"``, ``"theta4"``; ``result`` keys ``"model_moments"``,
        ``"target_moments"``, ``"gradient"``, ``"relative_entropy"``, ``"excess_objective"``,
        ``"path"``, ``"newton_theta"``, ...

    Examples
    --------
    >>> w = moment_matching_explorer()
    >>> w.controls["theta2"].value = -4.0
    >>> w.controls["theta4"].value = 2.0        # the exact answer (-2h, h)
    >>> round(float(w.result["relative_entropy"]), 6)
    0.0
    """
    model = models.MomentMatchingModel()
    controls = {
        "theta2": _slider(widgets.FloatSlider, "θ₂ (x² coefficient)", -1.0, *model.theta2_range, 0.05),
        "theta4": _slider(widgets.FloatSlider, "θ₄ (x⁴ coefficient)", 0.5, 0.05, 3.5, 0.05),
    }
    static_grid = {"theta2": StaticControl(_steps(*model.theta2_range, 0.25)),
                   "theta4": StaticControl(_steps(0.25, 3.5, 0.25))}
    return Explorer("Moment matching: REM with U = θ₂ x² + θ₄ x⁴", model, controls, figsize=(11.5, 4.0),
                    static_grid=static_grid)


def resolution_explorer():
    r"""Information lost by block-spin mappings of a 12-spin Ising chain.

    For each block size the CG model is fitted by REM; the total information loss
    :math:`D(P_{\mathrm{AA}}\|Q_{\mathrm{recon}})` (uniform back-mapping) is shown as stacked
    bars of the coarse term :math:`D(P_{\mathrm{map}}\|p_{\mathrm{CG}})` and the reconstruction
    term.  Controls: the block size, the coupling :math:`\beta J`, the field :math:`\beta h`
    and the CG model family (nearest-neighbour chain of block spins, or independent block spins).

    Returns
    -------
    Explorer
        ``result`` keys ``"total"``, ``"coarse"``, ``"reconstruction"`` (arrays over
        ``model.block_sizes``) and ``"current_*"`` for the chosen block size.

    Examples
    --------
    >>> w = resolution_explorer()
    >>> r = w.result
    >>> bool(abs(r["current_total"] - r["current_coarse"] - r["current_reconstruction"]) < 1e-12)
    True
    """
    model = models.ResolutionModel()
    controls = {
        "block_size": widgets.SelectionSlider(options=list(model.block_sizes), value=3,
                                              description="block size", style=_SLIDER_STYLE),
        "coupling": _slider(widgets.FloatSlider, "coupling βJ", 0.8, 0.0, 1.5, 0.05),
        "field": _slider(widgets.FloatSlider, "field βh", 0.0, -0.5, 0.5, 0.05),
        "cg_model": widgets.Dropdown(options=list(model.cg_models), value=model.cg_models[1],
                                     description="CG model", style=_SLIDER_STYLE),
    }
    static_grid = {"block_size": StaticControl(model.block_sizes),
                   "coupling": StaticControl(_steps(0.0, 1.5, 0.1)),
                   "field": StaticControl(_steps(-0.5, 0.5, 0.25)),
                   "cg_model": StaticControl(model.cg_models)}
    return Explorer("Resolution and information: block spins of a 12-spin Ising chain", model, controls,
                    figsize=(11.0, 4.0), static_grid=static_grid)


def bias_variance_explorer():
    r"""Bias and variance of REM from finite samples: sample size :math:`N` and basis size :math:`m`.

    Several training sets of :math:`N` samples of the entropic channel are fitted with
    polynomial bases of :math:`m` functions.  Shows the fitted PMFs and the true PMF, and, for
    every :math:`m`, the held-out error (exact :math:`D(P\|P_{\hat\theta})`), its estimate on the
    training set, and the approximation error :math:`D(P\|P_{\theta^*})` of the best model.

    Returns
    -------
    Explorer
        Controls ``"n_samples"``, ``"basis_size"``; ``result`` keys ``"thetas"``, ``"pmfs"``,
        ``"train"``, ``"heldout"`` (resample x basis size), their means, ``"n_failed"``.

    Examples
    --------
    >>> w = bias_variance_explorer()
    >>> w.controls["n_samples"].value = 0
    >>> w.message.startswith("No samples")
    True
    """
    model = models.BiasVarianceModel()
    controls = {
        "n_samples": widgets.SelectionSlider(options=list(model.sample_sizes), value=300,
                                             description="sample size N", style=_SLIDER_STYLE),
        "basis_size": _slider(widgets.IntSlider, "basis size m", 4, 0, model.max_basis, 1),
    }
    static_grid = {"n_samples": StaticControl(model.sample_sizes[1:]),
                   "basis_size": StaticControl(range(1, model.max_basis + 1))}
    return Explorer("Bias and variance: REM fits from N samples with m basis functions", model, controls,
                    figsize=(11.0, 4.0), static_grid=static_grid)


def motion_explorer():
    r"""Coarse-graining motion: drifts fitted to projected Brownian paths of a 2-D channel.

    Brownian paths of :class:`remlib.systems.EntropicChannel` are projected on :math:`x`; a
    drift :math:`f_\theta = -\sum_i\theta_i\phi_i'(x)` with :math:`\phi = x, \dots, x^m` is fitted
    by :func:`remlib.fit_drift` to CG frames :math:`\Delta t` apart and compared with the binned
    mean force and the exact :math:`-F'(x)`.

    Returns
    -------
    Explorer
        Controls ``"lag"`` (labelled by the time step :math:`\Delta t`), ``"basis_size"``;
        ``result`` keys ``"theta"``, ``"drift"``, ``"rms_error"``, ``"exact_theta"``, ...

    Examples
    --------
    >>> w = motion_explorer()
    >>> w.controls["basis_size"].value = 4      # x, x^2, x^3, x^4 contains F
    >>> w.controls["lag"].value = 1
    >>> bool(w.result["rms_error"] < 0.5)
    True
    """
    model = models.MotionModel()
    options = [(f"{k * model.dt:.3g}", k) for k in model.lags]
    controls = {
        "lag": widgets.SelectionSlider(options=options, value=5, description="CG time step Δt",
                                       style=_SLIDER_STYLE),
        "basis_size": _slider(widgets.IntSlider, "basis size m", 4, 0, model.max_basis, 1),
    }
    static_grid = {"lag": StaticControl(model.lags, labels=[label for label, _ in options]),
                   "basis_size": StaticControl(range(1, model.max_basis + 1))}
    return Explorer("Coarse-graining motion: fitted drift vs mean force", model, controls, figsize=(11.5, 4.0),
                    static_grid=static_grid)
