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
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
from playwright.sync_api import sync_playwright

from test_browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
JUPYTER = Path(sys.executable).parent / "jupyter"
BUDGET = 55.0  # seconds for the whole test, server start included
CELL = "from remlib.widgets import kl_explorer; w = kl_explorer(); w"


class Deadline:
    """Remaining time of a fixed budget, in seconds and in playwright's milliseconds."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def seconds(self):
        left = self.end - time.monotonic()
        if left <= 0:
            pytest.fail(f"live JupyterLab test exceeded its {BUDGET:.0f} s budget")
        return left

    def ms(self):
        return self.seconds() * 1000.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url, process, log, deadline):
    """Poll the server's status API until it answers (or the server dies)."""
    while True:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            pytest.fail(f"jupyter lab exited with code {process.returncode} before answering:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        deadline.seconds()
        time.sleep(0.3)


@pytest.fixture
def deadline():
    return Deadline(BUDGET)


@pytest.fixture
def lab(tmp_path, deadline):
    """A JupyterLab server on 127.0.0.1 serving a one-cell notebook; yields its URL."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        pytest.fail("jupyterlab is not installed: `make test` installs it from requirements.txt")
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(CELL)],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    work = tmp_path / "work"
    work.mkdir()
    nbformat.write(notebook, work / "explorer.ipynb")
    token, port = secrets.token_hex(16), free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    for name, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                      ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                      ("IPYTHONDIR", "ipython")]:
        env[name] = str(tmp_path / sub)
    command = [str(JUPYTER), "lab", "--no-browser", f"--ServerApp.token={token}", f"--port={port}",
               "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={work}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly",  # no PyPI queries from the extension manager
               "--allow-root"]
    log_path = tmp_path / "lab.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/api/status?token={token}", process, log_path, deadline)
        yield f"{base}/lab/tree/explorer.ipynb?token={token}"
    finally:
        for sig, wait in [(signal.SIGTERM, 10), (signal.SIGKILL, 5)]:
            if process.poll() is not None:
                break
            try:
                os.killpg(process.pid, sig)  # the server and the kernel it started
                process.wait(timeout=wait)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        log.close()


def test_kl_explorer_runs_live_in_jupyterlab(lab, deadline):
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found: `make test` installs Debian's chromium")
    outside = []

    def only_localhost(route):
        if urlsplit(route.request.url).hostname not in ("127.0.0.1", None):
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route("**/*", only_localhost)
            page.goto(lab, timeout=deadline.ms())
            editor = page.locator(".jp-Notebook .jp-Cell .cm-content").first
            editor.wait_for(timeout=deadline.ms())
            # a cell run before the kernel is connected is silently not executed: wait for "Idle"
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]"
                ".some(e => /\\|\\s*Idle/.test(e.textContent))", timeout=deadline.ms())
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
