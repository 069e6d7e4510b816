"""One figure style for the whole book.

Every page starts with ``use_book_style()`` so that all figures share fonts, sizes and the
colour cycle. The colours are the Okabe–Ito palette, which stays distinguishable for the
common forms of colour-vision deficiency. Figures are drawn on an opaque white card with
dark text, so they read the same whether the book is shown in its light or its dark theme.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from remlib.style import use_book_style, OKABE_ITO, label_axes
>>> use_book_style()
>>> import matplotlib.pyplot as plt
>>> fig, ax = plt.subplots()
>>> label_axes(ax, "bond length $R$", "free energy $F(R)$", xunit="nm", yunit="kT")
>>> ax.get_xlabel()
'bond length $R$ (nm)'
>>> plt.rcParams["axes.prop_cycle"].by_key()["color"][0] == OKABE_ITO["blue"]
True
>>> plt.close(fig)
"""
from cycler import cycler

#: The Okabe–Ito colour-blind-safe palette (Okabe & Ito, "Color Universal Design", 2008).
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Order in which lines get their colours: strong, well-separated colours first; yellow
#: (weak on white) and black (the colour of reference/exact curves) last.
COLOR_CYCLE = tuple(
    OKABE_ITO[name]
    for name in (
        "blue",
        "vermillion",
        "bluish_green",
        "orange",
        "reddish_purple",
        "sky_blue",
        "yellow",
        "black",
    )
)

#: Colour conventionally used for the exact / reference answer in a figure.
EXACT_COLOR = OKABE_ITO["black"]

#: Line styles that accompany the colours, so curves stay apart in grey-scale print too.
LINE_STYLES = ("-", "--", "-.", ":")

_TEXT = "#222222"

BOOK_RC = {
    "figure.figsize": (6.4, 3.8),
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    # an opaque white card: readable on the light and on the dark theme of the book
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "figure.constrained_layout.use": True,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "text.color": _TEXT,
    "axes.labelcolor": _TEXT,
    "axes.edgecolor": _TEXT,
    "xtick.color": _TEXT,
    "ytick.color": _TEXT,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#d9d9d9",
    "grid.linewidth": 0.6,
    "lines.linewidth": 2.0,
    "lines.markersize": 5,
    "image.cmap": "cividis",
    "axes.prop_cycle": cycler(color=list(COLOR_CYCLE)),
}


def use_book_style():
    """Apply the book's matplotlib style (fonts, sizes, white card, Okabe–Ito colours).

    Call it once at the top of a page; it changes ``matplotlib.rcParams`` in place.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> use_book_style()
    >>> plt.rcParams["figure.facecolor"]
    'white'
    >>> len(plt.rcParams["axes.prop_cycle"])
    8
    """
    import matplotlib as mpl

    mpl.rcParams.update(BOOK_RC)


def axis_label(name, unit=None):
    """Return an axis label ``"name (unit)"``, or ``name`` alone for a dimensionless axis.

    Parameters
    ----------
    name : str
        What is plotted, e.g. ``"distance $r$"``.
    unit : str or None
        Its unit, e.g. ``"nm"`` or ``"kT"``; ``None`` for a dimensionless quantity.

    Examples
    --------
    >>> axis_label("free energy $F$", "kT")
    'free energy $F$ (kT)'
    >>> axis_label("iteration")
    'iteration'
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if not name.strip():
        raise ValueError("name must be a non-empty string")
    if unit is None:
        return name
    if not isinstance(unit, str):
        raise TypeError(f"unit must be a string or None, got {type(unit).__name__}")
    if not unit.strip():
        raise ValueError("unit must be a non-empty string or None")
    return f"{name} ({unit})"


def label_axes(ax, xlabel, ylabel, *, xunit=None, yunit=None, title=None):
    """Label both axes of ``ax`` (with units) and optionally give it a title.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> label_axes(ax, "$x$", "probability density $p(x)$", yunit="1/nm", title="target")
    >>> ax.get_ylabel(), ax.get_title()
    ('probability density $p(x)$ (1/nm)', 'target')
    >>> plt.close(fig)
    """
    ax.set_xlabel(axis_label(xlabel, xunit))
    ax.set_ylabel(axis_label(ylabel, yunit))
    if title is not None:
        ax.set_title(title)
