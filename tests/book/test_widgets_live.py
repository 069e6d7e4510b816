"""A live explorer in a real JupyterLab: the widget renders and redraws when a slider moves.

Issue 8 asks that the explorers work in JupyterLab.  This test starts ``jupyter lab`` on
127.0.0.1 in a temporary directory holding a one-cell notebook, opens it in headless Debian
chromium, runs the cell, waits for the explorer's sliders and figure, presses ArrowRight on
the first slider (``mu``) and checks that the kernel received the new value (the readout)
and sent back a new figure (the image's ``src`` changes).  Every browser request must go to
127.0.0.1.  The server (and its kernel) is always killed; the whole test is bounded by
``BUDGET`` seconds.  ``make test`` installs chromium and jupyterlab; if either is missing the
test fails, it is never skipped.
"""
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import sync_playwright

from book_helpers import Deadline, jupyterlab, only_localhost, wait_for_idle_kernel
from test_browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 55.0  # seconds for the whole test, server start included
CELL = "from remlib.widgets import kl_explorer; w = kl_explorer(); w"


@pytest.fixture
def deadline():
    return Deadline(BUDGET)


@pytest.fixture
def lab(tmp_path, deadline):
    """A JupyterLab server on 127.0.0.1 serving a one-cell notebook; yields its URL."""
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(CELL)],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    work = tmp_path / "work"
    work.mkdir()
    nbformat.write(notebook, work / "explorer.ipynb")
    with jupyterlab(work, tmp_path, deadline) as (base, token):
        yield f"{base}/lab/tree/explorer.ipynb?token={token}"


def test_kl_explorer_runs_live_in_jupyterlab(lab, deadline):
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found: `make test` installs Debian's chromium")
    outside = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route("**/*", only_localhost(outside))
            page.goto(lab, timeout=deadline.ms())
            editor = page.locator(".jp-Notebook .jp-Cell .cm-content").first
            editor.wait_for(timeout=deadline.ms())
            wait_for_idle_kernel(page, deadline)
            editor.click(timeout=deadline.ms())
            page.keyboard.press("Shift+Enter")

            sliders = page.locator(".jp-OutputArea .jupyter-widgets.widget-slider")
            sliders.first.wait_for(timeout=deadline.ms())
            assert sliders.count() == 3  # mu, sigma, support
            image = page.locator(".jp-OutputArea img.widget-image")
            page.wait_for_function(
                "() => { const im = document.querySelector('.jp-OutputArea img.widget-image');"
                " return im && im.complete && im.naturalWidth > 0; }", timeout=deadline.ms())
            before = image.get_attribute("src")
            readout = sliders.first.locator(".widget-readout")
            assert float(readout.inner_text()) == pytest.approx(0.0)

            sliders.first.locator(".noUi-handle").first.focus(timeout=deadline.ms())
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "before => { const im = document.querySelector('.jp-OutputArea img.widget-image');"
                " return im && im.src !== before && im.complete && im.naturalWidth > 0; }",
                arg=before, timeout=deadline.ms())
            assert float(readout.inner_text()) == pytest.approx(0.1)  # one step of the mu slider
            assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
        except Exception:
            shot = ROOT / "_artifacts" / "screenshots" / "live_jupyterlab_failure.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot))
            print("output area:", page.locator(".jp-Notebook").first.inner_text()[:2000])
            raise
        finally:
            browser.close()
    assert outside == [], f"requests left 127.0.0.1: {outside}"
