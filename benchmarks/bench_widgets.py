"""Responsiveness of the explorers of remlib.widgets: time of one update after a control change.

For every control of every explorer the control is moved through a sequence of distinct
values (as a reader dragging a slider does); each move runs the explorer's callback
(recompute with remlib + redraw + PNG encoding), and its wall-clock and CPU time are
recorded. Caches are not cleared, but every value in the sequence is new for the control,
so the first-visit cost is what is measured (the KL explorer's mu-scan cache and the
resolution explorer's per-coupling cache miss on every move). Construction time (the
precomputation that makes updates fast) is reported separately. Target: every update
< 100 ms of wall time (on a loaded machine the CPU time shows the work itself).

The static explorers of the online book (``remlib/_static_explorer.py``, drawn by
``book/_ext/explorer_static/remlib-explorer.js``) are measured in headless Debian chromium on a
minimal page holding one explorer: the time to precompute its grid, the weight it adds to a
page (its HTML and the script and style sheet; target <= 2 MB), and, for every control moved
through its values, the script's time per input and the time from the input to the next
painted frame (target < 50 ms).  For the KL explorer two other ways are measured for
comparison: a flip-book of the live explorer's own PNGs (one per grid point, swapped by a
script), and uPlot (npm ``uplot``, fetched with ``npm pack`` into a temporary folder) drawing
the same grid precomputed in data coordinates.

Run: ``.venv/bin/python benchmarks/bench_widgets.py [live|static]`` (both by default; writes
``benchmarks/results/widgets.json`` and ``benchmarks/results/widgets_static.json``).
"""
import base64
import itertools
import json
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
from harness import Figure, write_results

from remlib import widgets

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "book" / "_ext" / "explorer_static"
CHROMIUM = "/usr/bin/chromium"
UPLOT = "uplot@1.6.31"

N_MOVES = 12


def _moves(control, n):
    """``n`` distinct values of a control, spread over its range, none equal to the current one."""
    if hasattr(control, "options"):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        values = [v for v in options if v != control.value]
        return [values[i % len(values)] for i in range(n)] if len(set(map(str, values))) > 1 else values
    if isinstance(control.value, tuple):  # range slider: move the lower end
        lows = np.linspace(control.min, 0.0, n + 1)[1:]
        return [(round(float(a), 1), control.value[1]) for a in lows]
    values = np.linspace(control.min, control.max, n + 2)[1:-1]
    if isinstance(control.value, int):
        values = np.unique(np.round(values).astype(int))
    values = [v.item() for v in values if v != control.value]
    return values[:n]


def time_moves(explorer, name):
    """Wall and CPU seconds of each update triggered by moving control ``name``."""
    control = explorer.controls[name]
    start_value = control.value
    walls, cpus, messages = [], [], 0
    for value in _moves(control, N_MOVES):
        wall, cpu = time.perf_counter(), time.process_time()
        control.value = value
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        messages += explorer.message != ""
    control.value = start_value
    return np.array(walls), np.array(cpus), messages


def live_figures():
    figures = []
    for function in (widgets.kl_explorer, widgets.moment_matching_explorer, widgets.resolution_explorer,
                     widgets.bias_variance_explorer, widgets.motion_explorer):
        wall, cpu = time.perf_counter(), time.process_time()
        explorer = function()
        figures.append(Figure(f"{function.__name__}: construction, wall time", time.perf_counter() - wall, "s",
                              lower_is_better=True))
        for name in explorer.controls:
            walls, cpus, messages = time_moves(explorer, name)
            label = f"{function.__name__}, {name} moved {walls.size} times"
            label += f" ({messages} refused with a message)" if messages else ""
            figures += [Figure(f"{label}: median update, wall time", np.median(walls) * 1e3, "ms", "< 100", True),
                        Figure(f"{label}: slowest update, wall time", walls.max() * 1e3, "ms", "< 100", True),
                        Figure(f"{label}: slowest update, CPU time", cpus.max() * 1e3, "ms", "< 100", True)]
    return figures


# ---------------------------------------------------------------------------------------
# the static explorers in a browser

#: set control ``name`` of the page's explorer to position ``index``; times until the next frame
_MOVE = r"""async ([selector, index]) => {
  const input = document.querySelector(selector);
  const t0 = performance.now();
  input.value = String(index);
  input.dispatchEvent(new Event('input', {bubbles: true}));
  const handled = performance.now();
  await new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve, 0)));
  return [handled - t0, performance.now() - t0];
}"""


def _page(body, head=""):
    return (f'<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width">{head}</head>'
            f'<body><main style="max-width: 800px; margin: auto">{body}</main></body></html>')


def _measure(browser, path, selectors, ready):
    """Move every control (CSS selector -> number of positions) through all its positions.

    Returns the script times and the input-to-next-frame times (ms) of every move.
    """
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_selector(ready, timeout=30_000)
    handler, repaint = [], []
    for selector, count in selectors.items():
        for index in [*range(count), 0]:
            h, r = page.evaluate(_MOVE, [selector, index])
            handler.append(h)
            repaint.append(r)
    page.close()
    return np.array(handler), np.array(repaint)


def _latency_figures(label, handler, repaint):
    return [Figure(f"{label}: input to next painted frame, median", float(np.median(repaint)), "ms", "< 50", True),
            Figure(f"{label}: input to next painted frame, slowest", float(repaint.max()), "ms", "< 50", True),
            Figure(f"{label}: script time per input, slowest", float(handler.max()), "ms", None, True)]


def static_figures(browser, folder):
    figures = []
    script = (ASSETS / "remlib-explorer.js").read_text()
    style = (ASSETS / "remlib-explorer.css").read_text()
    for function in (widgets.kl_explorer, widgets.moment_matching_explorer, widgets.resolution_explorer,
                     widgets.bias_variance_explorer, widgets.motion_explorer):
        explorer = function()
        start = time.perf_counter()
        html = explorer.static_html()
        seconds = time.perf_counter() - start
        path = folder / f"{function.__name__}.html"
        path.write_text(_page(html, f"<style>{style}</style><script defer>{script}</script>"))
        weight = len(html.encode()) + len(script.encode()) + len(style.encode())
        selectors = {f'[data-control="{name}"]': len(control.values)
                     for name, control in explorer.static_grid.items()}
        handler, repaint = _measure(browser, path, selectors, ".remlib-explorer[data-ready]")
        label = f"static {function.__name__} ({np.prod([len(c.values) for c in explorer.static_grid.values()])} grid points)"
        figures += [Figure(f"{label}: precomputation, wall time", seconds, "s", None, True),
                    Figure(f"{label}: weight added to the page", weight / 1e6, "MB", "<= 2", True),
                    *_latency_figures(f"{label}, {handler.size} moves", handler, repaint)]
        if function is widgets.kl_explorer:
            figures += flip_book_figures(browser, folder, explorer)
            figures += uplot_figures(browser, folder, explorer)
    return figures


def flip_book_figures(browser, folder, explorer):
    """Alternative: one PNG of the live explorer per grid point, swapped into an <img>.

    The weight of the whole grid is extrapolated from the PNGs of the mu-row at the default
    sigma and support (the row the page holds and the latency is measured on).
    """
    grid = explorer.static_grid
    frames = []
    for mu in grid["mu"].values:
        explorer.controls["mu"].value = mu
        frames.append("data:image/png;base64," + base64.b64encode(bytes(explorer.image.value)).decode())
    explorer.controls["mu"].value = 0.0
    n_grid = np.prod([len(c.values) for c in grid.values()])
    weight = np.mean([len(f) for f in frames]) * n_grid
    body = (f'<input type="range" id="mu" min="0" max="{len(frames) - 1}" value="0">'
            f'<img id="figure" style="width: 100%" src="{frames[0]}">'
            f"<script>const frames = {json.dumps(frames)}; const img = document.getElementById('figure');"
            "document.getElementById('mu').addEventListener('input', e => { img.src = frames[e.target.value]; });"
            "document.body.dataset.ready = 'true';</script>")
    path = folder / "flip_book.html"
    path.write_text(_page(body))
    handler, repaint = _measure(browser, path, {"#mu": len(frames)}, "body[data-ready]")
    label = f"KL alternative, PNG flip-book ({n_grid} PNGs)"
    return [Figure(f"{label}: weight added to the page (extrapolated)", weight / 1e6, "MB", "<= 2", True),
            *_latency_figures(f"{label}, mu row, {handler.size} moves", handler, repaint)]


def _fetch_uplot(folder):
    """uPlot's browser build from npm (``npm pack``), or None without npm."""
    try:
        subprocess.run(["npm", "pack", "--silent", UPLOT], cwd=folder, check=True, capture_output=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"uPlot comparison skipped: npm pack {UPLOT} failed ({exc})", file=sys.stderr)
        return None
    tarball = next(folder.glob("uplot-*.tgz"))
    subprocess.run(["tar", "xzf", tarball.name], cwd=folder, check=True)
    package = folder / "package" / "dist"
    return (package / "uPlot.iife.min.js").read_text(), (package / "uPlot.min.css").read_text()


def uplot_figures(browser, folder, explorer):
    """Alternative: the same grid precomputed in data coordinates, drawn by uPlot (three charts).

    Per grid point the model density, the integrand (every 4th grid point: 201 values), both
    divergence scans over mu and the two numbers are stored (deflated JSON, like the chosen
    way); a script looks them up and calls ``setData`` on three uPlot charts.
    """
    library = _fetch_uplot(folder)
    if library is None:
        return []
    script, style = library
    model, grid = explorer.model, explorer.static_grid
    names = list(grid)
    frames = []
    for combination in itertools.product(*(grid[n].values for n in reversed(names))):
        r = model.compute(**dict(zip(names, reversed(combination))))
        integrand = np.where(np.isfinite(r["integrand"]), r["integrand"], None)[::4]
        scan_f = np.where(np.isfinite(r["scan_forward"]), r["scan_forward"], None)
        scan_r = np.where(np.isfinite(r["scan_reverse"]), r["scan_reverse"], None)
        frames.append([np.round(r["q"][::4], 4).tolist(),
                       [None if v is None else round(v, 4) for v in integrand],
                       [None if v is None else round(v, 4) for v in scan_f],
                       [None if v is None else round(v, 4) for v in scan_r],
                       r["forward"] if np.isfinite(r["forward"]) else None, r["reverse"]])
    data = {"x": model.x[::4].round(3).tolist(), "p": np.round(model.p[::4], 4).tolist(),
            "mu": model.mu_scan.round(3).tolist(), "sizes": [len(grid[n].values) for n in names], "frames": frames}
    encoded = base64.b64encode(zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 9)).decode()
    controls = "".join(f'<input type="range" id="{n}" min="0" max="{len(grid[n].values) - 1}" value="0">'
                       for n in names)
    body = controls + '<div id="charts"></div><p id="status"></p>' + f"""<script>
(async () => {{
  const bytes = Uint8Array.from(atob("{encoded}"), c => c.charCodeAt(0));
  const text = await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"))).text();
  const d = JSON.parse(text), names = {json.dumps(names)};
  const opts = (title, series) => ({{title, width: 260, height: 240, scales: {{x: {{time: false}}}},
    series: [{{}}, ...series.map(([label, stroke]) => ({{label, stroke, width: 2}}))]}});
  const host = document.getElementById('charts');
  const f0 = d.frames[0];
  const a = new uPlot(opts('target and model', [['p', '#aaa'], ['q', '#0072B2']]), [d.x, d.p, f0[0]], host);
  const b = new uPlot(opts('integrand', [['p ln(p/q)', '#D55E00']]), [d.x, f0[1]], host);
  const c = new uPlot(opts('both directions', [['D(p||q)', '#0072B2'], ['D(q||p)', '#D55E00']]), [d.mu, f0[2], f0[3]], host);
  const index = names.map(() => 0), status = document.getElementById('status');
  names.forEach((n, i) => document.getElementById(n).addEventListener('input', e => {{
    index[i] = Number(e.target.value);
    let k = 0, stride = 1;
    index.forEach((v, j) => {{ k += v * stride; stride *= d.sizes[j]; }});
    const f = d.frames[k];
    a.setData([d.x, d.p, f[0]]); b.setData([d.x, f[1]]); c.setData([d.mu, f[2], f[3]]);
    status.textContent = 'D(p||q) = ' + (f[4] === null ? 'inf' : f[4].toFixed(3)) + ', D(q||p) = ' + f[5].toFixed(3);
  }}));
  document.body.dataset.ready = 'true';
}})();
</script>"""
    path = folder / "uplot.html"
    path.write_text(_page(body, f"<style>{style}</style><script>{script}</script>"))
    selectors = {f"#{n}": len(grid[n].values) for n in names}
    handler, repaint = _measure(browser, path, selectors, "body[data-ready]")
    weight = len(body.encode()) + len(script.encode()) + len(style.encode())
    label = f"KL alternative, uPlot ({len(frames)} grid points)"
    return [Figure(f"{label}: weight added to the page", weight / 1e6, "MB", "<= 2", True),
            *_latency_figures(f"{label}, {handler.size} moves", handler, repaint)]


def main(parts):
    if "live" in parts:
        write_results("widgets", live_figures())
    if "static" in parts:
        from playwright.sync_api import sync_playwright

        with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
            try:
                figures = static_figures(browser, Path(folder))
            finally:
                browser.close()
        write_results("widgets_static", figures)


if __name__ == "__main__":
    main(sys.argv[1:] or ["live", "static"])
