"""The book's figure style: Okabe–Ito colours, opaque white card, readable text."""
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from remlib import style  # noqa: E402

# Okabe & Ito, "Color Universal Design" (2008): the eight colours as published (RGB 0-255)
PUBLISHED = {
    "black": (0, 0, 0),
    "orange": (230, 159, 0),
    "sky_blue": (86, 180, 233),
    "bluish_green": (0, 158, 115),
    "yellow": (240, 228, 66),
    "blue": (0, 114, 178),
    "vermillion": (213, 94, 0),
    "reddish_purple": (204, 121, 167),
}


def contrast_ratio(color, background="white"):
    """WCAG 2 contrast ratio between two colours."""

    def luminance(c):
        rgb = np.array(to_rgb(c))
        linear = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted([luminance(color), luminance(background)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_palette_is_the_published_okabe_ito_palette():
    assert set(style.OKABE_ITO) == set(PUBLISHED)
    for name, rgb in PUBLISHED.items():
        assert np.allclose(np.array(to_rgb(style.OKABE_ITO[name])) * 255, rgb, atol=0.5), name
    assert sorted(style.COLOR_CYCLE) == sorted(style.OKABE_ITO.values())


def test_first_colours_stand_out_on_the_white_card():
    # the first three colours of the cycle are drawn most often: WCAG 3:1 for graphics
    assert all(contrast_ratio(c) >= 3.0 for c in style.COLOR_CYCLE[:3])
    assert contrast_ratio(style.BOOK_RC["text.color"]) >= 7.0


def test_use_book_style_gives_an_opaque_white_figure():
    with plt.rc_context():
        style.use_book_style()
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
        colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    image = plt.imread(io.BytesIO(buffer.getvalue()))
    assert image.shape[2] == 4
    corner = image[2, 2]
    assert np.allclose(corner, [1, 1, 1, 1]), "the saved figure must be an opaque white card"
    assert colours == list(style.COLOR_CYCLE)


@pytest.mark.parametrize("bad, error", [("", ValueError), ("   ", ValueError), (None, TypeError), (3, TypeError)])
def test_axis_label_rejects_bad_names(bad, error):
    with pytest.raises(error, match="name"):
        style.axis_label(bad)


@pytest.mark.parametrize("bad, error", [("", ValueError), (2.0, TypeError)])
def test_axis_label_rejects_bad_units(bad, error):
    with pytest.raises(error, match="unit"):
        style.axis_label("x", bad)
