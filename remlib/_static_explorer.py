r"""An explorer of :mod:`remlib.widgets` precomputed over a grid of control values, for a static page.

The online book has no Python kernel.  For it, the explorer's own model is run here, at build
time, for every combination of a grid of control values: ``model.compute`` gives the numbers,
``model.show`` moves the figure's artists and ``model.summary`` writes the status line, exactly
as a slider move does in Jupyter.  What is stored per combination is what the live explorer
would draw: the status line and, for each of the model's ``dynamic`` artists, its geometry in
the figure's pixel coordinates (matplotlib's transforms, scales and path simplification
applied here).  The static parts of the figure (axes, labels, legends, fixed curves) are one
PNG.  The page's script (``book/_ext/explorer_static/remlib-explorer.js``) only looks a
combination up and strokes the stored pixels on a canvas: no formula is evaluated in
JavaScript.

Payload (JSON, deflated, base64)::

    {"title", "width", "height", "scale", "background": PNG data URL,
     "controls": [{"name", "label", "kind": "range" | "select", "labels", "default", "sampling"}],
     "panels": [[x0, y0, x1, y1], ...]    # one crop of the figure per axes (canvas pixels)
     "clips": [[x0, y0, x1, y1], ...]     # the axes' plotting areas
     "legends": [[panel, x0, y0, x1, y1], ...],
     "artists": [panel index of each dynamic artist],
     "arrays": [[int, ...], ...]          # flat x, y pairs in tenths of a pixel, delta-coded
     "states": [{...}, ...]               # one drawable state of one artist
     "frames": [[state index or -1 per artist], ...], "summaries": [html, ...]}

Frame ``k`` belongs to the control indices ``(i_0, i_1, ...)`` with
``k = i_0 + n_0 (i_1 + n_1 (i_2 + ...))`` (the first control varies fastest).
"""
import base64
import io
import itertools
import json
import zlib

import matplotlib
import numpy as np
import PIL.Image
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path
from matplotlib.text import Text

__all__ = ["StaticControl", "explorer_payload", "encode_payload", "decode_payload", "explorer_html"]

#: pixel coordinates are stored in units of 1/QUANTUM pixel
QUANTUM = 10
#: the static figure has SCALE times the pixels of the live one (sharp on high-density screens)
SCALE = 1.5
#: the markers the page's script can draw
MARKERS = ("o", "s", "_", ".", "None", "")
#: HTML class of the element that the page's script turns into an explorer
HTML_CLASS = "remlib-explorer"
#: script type of the payload inside that element
PAYLOAD_TYPE = "application/vnd.remlib.explorer+json"


class StaticControl:
    """The values a control takes in the static explorer.

    Parameters
    ----------
    values : sequence
        Keyword values of ``model.compute`` (numbers, strings or tuples), in the order shown.
    labels : sequence of str, optional
        What the reader sees for each value (default: the value formatted with ``%g``).
        The static explorer starts at the value closest to the live control's.

    Examples
    --------
    >>> c = StaticControl([0.5, 1.0, 1.5])
    >>> c.labels, c.kind, c.sampling()
    (['0.5', '1', '1.5'], 'range', '0.5 to 1.5 in steps of 0.5 (3 values)')
    >>> StaticControl(["a", "b"]).kind
    'select'
    """

    def __init__(self, values, labels=None):
        self.values = list(values)
        if not self.values:
            raise ValueError("values must hold at least one control value")
        self.labels = [str(v) for v in labels] if labels is not None else [_label(v) for v in self.values]
        if len(self.labels) != len(self.values):
            raise ValueError(f"labels has {len(self.labels)} entries for {len(self.values)} values")
        numeric = all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in self.values)
        self.kind = "range" if numeric else "select"

    def index(self, value):
        """Position of ``value`` among the values (the closest one for numbers; else the first)."""
        if self.kind == "range":
            return int(np.argmin(np.abs(np.asarray(self.values, dtype=float) - value)))
        return self.values.index(value) if value in self.values else 0

    def sampling(self):
        """How finely the control is sampled, in words."""
        if self.kind == "range" and len(self.values) > 2:
            steps = np.diff(np.asarray(self.values, dtype=float))
            if np.allclose(steps, steps[0], rtol=1e-6):
                return (f"{self.labels[0]} to {self.labels[-1]} in steps of {steps[0]:.3g} "
                        f"({len(self.values)} values)")
        return f"{len(self.values)} values: " + ", ".join(self.labels)


def _label(value):
    if isinstance(value, tuple):
        return "[" + ", ".join(_label(v) for v in value) + "]"
    if isinstance(value, str):
        return value
    return f"{value:g}".replace("-", "−")


def _css_color(color, alpha=None):
    r, g, b, a = to_rgba(color, alpha)
    return f"rgba({round(255 * r)},{round(255 * g)},{round(255 * b)},{a:.3g})"


class _Pool:
    """Distinct JSON-able items, each stored once; ``add`` returns its index."""

    def __init__(self):
        self.items, self._index = [], {}

    def add(self, item):
        key = json.dumps(item, separators=(",", ":"))
        if key not in self._index:
            self._index[key] = len(self.items)
            self.items.append(item)
        return self._index[key]


class _Recorder:
    """Turns the dynamic artists of a figure into pooled drawable states (canvas pixels)."""

    def __init__(self, figure, panels):
        self.figure, self.panels = figure, panels
        self.height = figure.canvas.get_width_height()[1]
        self.px_per_pt = figure.dpi / 72.0
        self.arrays, self.states = _Pool(), _Pool()

    def _array(self, xy):
        """Display coordinates (y up) -> pooled delta-coded ints in canvas tenths of a pixel (y down)."""
        q = np.rint(np.column_stack([xy[:, 0], self.height - xy[:, 1]]) * QUANTUM).astype(np.int64)
        q = np.clip(q, -10**6, 10**6)
        q[1:] -= q[:-1].copy()
        return self.arrays.add(q.ravel().tolist())

    def _clip(self, artist):
        box = artist.axes.bbox.extents
        pad = 20.0
        return (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)

    def line(self, artist):
        xy = artist.get_transform().transform(artist.get_xydata())
        state = {"k": "line", "c": _css_color(artist.get_color(), artist.get_alpha()),
                 "w": round(artist.get_linewidth() * self.px_per_pt, 2)}
        segments = []
        if artist.get_linestyle() not in ("None", "", " ", "none"):
            path = Path(xy).cleaned(remove_nans=True, clip=self._clip(artist), simplify=True)
            current = []
            for vertex, code in zip(path.vertices, path.codes):
                if code == Path.MOVETO and current:
                    segments.append(current)
                    current = []
                if code in (Path.MOVETO, Path.LINETO):
                    current.append(vertex)
            if current:
                segments.append(current)
            offset, dashes = artist._dash_pattern  # the dashes matplotlib draws, in points
            if dashes:
                state["d"] = [round(d * self.px_per_pt, 2) for d in dashes]
        state["p"] = [self._array(np.array(s)) for s in segments if len(s) > 1]
        marker = artist.get_marker()
        if marker not in MARKERS:
            raise ValueError(f"the static explorer cannot draw marker {marker!r} (only {MARKERS})")
        if marker not in ("None", ""):
            x0, y0, x1, y1 = self._clip(artist)
            finite = np.all(np.isfinite(xy), axis=1)
            inside = finite & (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
            state.update(m=marker, ms=round(artist.get_markersize() * self.px_per_pt, 2),
                         mf=_css_color(artist.get_markerfacecolor(), artist.get_alpha()),
                         me=_css_color(artist.get_markeredgecolor(), artist.get_alpha()),
                         mw=round(artist.get_markeredgewidth() * self.px_per_pt, 2),
                         mp=self._array(xy[inside]) if inside.any() else -1)
        return state

    def patch(self, artist):
        polygon = artist.get_transform().transform(artist.get_path().vertices)
        state = {"k": "patch", "f": _css_color(artist.get_facecolor()), "poly": self._array(polygon)}
        if artist.get_linewidth() > 0 and to_rgba(artist.get_edgecolor())[3] > 0:
            state.update(e=_css_color(artist.get_edgecolor()), w=round(artist.get_linewidth() * self.px_per_pt, 2))
        return state

    def text(self, artist):
        if not artist.get_text():
            return None
        x, y = artist.get_transform().transform(artist.get_position())
        return {"k": "text", "t": artist.get_text(), "x": round(float(x), 1),
                "y": round(float(self.height - y), 1), "c": _css_color(artist.get_color(), artist.get_alpha()),
                "s": round(artist.get_fontsize() * self.px_per_pt, 2), "ha": artist.get_horizontalalignment(),
                "va": artist.get_verticalalignment()}

    def record(self, artist):
        """Pooled index of the artist's current state; -1 when it draws nothing."""
        if not artist.get_visible():
            return -1
        if isinstance(artist, Line2D):
            state = self.line(artist)
        elif isinstance(artist, Patch):
            state = self.patch(artist)
        elif isinstance(artist, Text):
            state = self.text(artist)
        else:
            raise TypeError(f"the static explorer cannot draw a {type(artist).__name__}")
        return -1 if state is None else self.states.add(state)


def _canvas_box(bbox, height, width, pad=0.0):
    """A display bounding box (y up) -> [x0, y0, x1, y1] in canvas pixels (y down), within the figure."""
    x0, y0, x1, y1 = bbox.extents
    box = [np.floor(x0 - pad), np.floor(height - y1 - pad), np.ceil(x1 + pad), np.ceil(height - y0 + pad)]
    return [int(min(max(v, 0), limit)) for v, limit in zip(box, (width, height, width, height))]


def _png_data_url(rgba):
    image = PIL.Image.fromarray(np.ascontiguousarray(rgba[..., :3]))
    image = image.quantize(colors=256, method=PIL.Image.Quantize.MEDIANCUT, dither=PIL.Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="png", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def explorer_payload(explorer, grid, scale=SCALE):
    """Run ``explorer``'s model over ``grid`` and return the static explorer's data (a dict).

    Parameters
    ----------
    explorer : remlib.widgets.Explorer
        A constructed explorer (its figure has been drawn once and its layout frozen).
    grid : dict
        Control name (every name of ``explorer.controls``) -> :class:`StaticControl`.
    scale : float, optional
        Pixels of the static figure per pixel of the live one.

    Returns
    -------
    dict
        The payload described in the module docstring.

    Raises
    ------
    ValueError
        If ``grid`` does not name exactly the explorer's controls, or a combination of its
        values has no answer (``model.compute`` refuses it).
    """
    if set(grid) != set(explorer.controls):
        raise ValueError(f"grid must name the controls {sorted(explorer.controls)}, got {sorted(grid)}")
    names = list(explorer.controls)
    controls = [grid[name] for name in names]
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    model, figure = explorer.model, explorer.figure
    canvas = figure.canvas
    from remlib.widgets import WIDGET_RC

    live_dpi = figure.dpi
    figure.set_dpi(live_dpi * scale)  # the layout is frozen: everything scales with the dpi
    try:
        with matplotlib.rc_context(WIDGET_RC):
            canvas.draw()  # the model's dynamic artists are animated: this draws the static parts only
        width, height = canvas.get_width_height()
        background = _png_data_url(np.asarray(canvas.buffer_rgba()))
        renderer = canvas.get_renderer()
        axes = list(figure.axes)
        panels = [_canvas_box(ax.get_tightbbox(renderer), height, width, pad=3) for ax in axes]
        clips = [_canvas_box(ax.bbox, height, width) for ax in axes]
        legends = [[i, *_canvas_box(ax.get_legend().get_window_extent(renderer), height, width)]
                   for i, ax in enumerate(axes) if ax.get_legend() is not None]
        recorder = _Recorder(figure, panels)
        frames, summaries = [], []
        # the first control varies fastest (the models cache over the later ones)
        for combination in itertools.product(*(c.values for c in reversed(controls))):
            values = dict(zip(names, reversed(combination)))
            try:
                result = model.compute(**values)
            except ValueError as exc:
                raise ValueError(f"the static grid holds a choice the model refuses ({values}): {exc}") from exc
            model.show(result)
            frames.append([recorder.record(artist) for artist in model.dynamic])
            summaries.append(model.summary(result))
    finally:
        figure.set_dpi(live_dpi)
        explorer.update()  # back to the widget's own state
    defaults = [c.index(explorer.controls[n].value) for n, c in zip(names, controls)]
    return {
        "title": explorer.title,
        "width": width, "height": height, "scale": scale, "background": background,
        "controls": [{"name": n, "label": explorer.controls[n].description, "kind": c.kind,
                      "labels": c.labels, "default": d, "sampling": c.sampling()}
                     for n, c, d in zip(names, controls, defaults)],
        "panels": panels, "clips": clips, "legends": legends,
        "artists": [axes.index(artist.axes) for artist in model.dynamic],
        "arrays": recorder.arrays.items, "states": recorder.states.items,
        "frames": frames, "summaries": summaries,
    }


def encode_payload(payload):
    """The payload as base64 text of its deflated JSON (what the page carries)."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.b64encode(zlib.compress(text, 9)).decode("ascii")


def decode_payload(encoded):
    """Inverse of :func:`encode_payload` (for tests and measurements)."""
    return json.loads(zlib.decompress(base64.b64decode(encoded)).decode("utf-8"))


def explorer_html(explorer, grid):
    """The static explorer as one HTML fragment: a placeholder and its payload.

    The page's script replaces the placeholder by the controls, the figure and the status
    line; without the script (a notebook viewer) only the placeholder's sentence shows, and
    no control that does nothing.
    """
    encoded = encode_payload(explorer_payload(explorer, grid))
    return (f'<div class="{HTML_CLASS}">'
            f'<p class="{HTML_CLASS}-fallback"><b>{explorer.title}</b>: an interactive explorer. '
            "Its controls work in the online book and, with a running Python kernel, in Jupyter.</p>"
            f'<script type="{PAYLOAD_TYPE}">{encoded}</script></div>')
