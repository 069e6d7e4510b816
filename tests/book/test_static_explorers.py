"""The explorers in the static book: every control of every explorer, moved in a real browser.

The five explorers of ``remlib.widgets`` are shown in the built HTML precomputed over a grid of
control values (``remlib/_static_explorer.py``, ``book/_ext/static_explorers.py``). For each
explorer page, in headless Debian chromium:

* the controls are native sliders and selects with an accessible name and value, the page
  holds no ipywidget (no dead slider), and the explorer works without any other host;
* every control is moved through several values, with the keyboard and by setting its
  value: each move changes the figure (the canvases' pixels) and the status line, and the
  numbers in the status line are those that ``remlib`` computes for that setting (the
  explorer's model run here, in the test process, for the values the page shows);
* the time from the input to the next painted frame is measured, and the weight the explorer
  adds to the page (its HTML fragment and its script and style sheet); both must stay below
  generous limits (the targets, 50 ms and 2 MB, are measured in benchmarks/bench_widgets.py).

The test runs on a throw-away book with the five explorers (built like ``make book``), and on
the real ``_build/html`` when the book is built.
"""
import math
import re

import pytest

from book_helpers import NOTEBOOK_HEADER, build, make_book, require_built_book
from test_browser import browser, serve  # noqa: F401 (browser: the fixture of the book's browser test)

from remlib import widgets

MAX_LATENCY_MS = 500.0
MAX_ADDED_BYTES = 5_000_000
NUMBER = r"(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|∞)"


def _kl(r, values):
    return {r"D\(p‖q\) = " + NUMBER: r["forward"], r"D\(q‖p\) = " + NUMBER: r["reverse"]}


def _moment_matching(r, values):
    return {r"⟨x²⟩: model " + NUMBER: r["model_moments"][0], r"⟨x⁴⟩: model " + NUMBER: r["model_moments"][1],
            r"D\(target‖model\) = " + NUMBER: r["relative_entropy"],
            r"reaches θ = \(" + NUMBER: r["newton_theta"][0], r"reaches θ = \([^,]+, " + NUMBER: r["newton_theta"][1]}


def _resolution(r, values):
    return {r"total " + NUMBER: r["current_total"], r"coarse " + NUMBER: r["current_coarse"],
            r"reconstruction " + NUMBER: r["current_reconstruction"]}


def _bias_variance(r, values):
    m = values["basis_size"] - 1
    return {r"held-out D = " + NUMBER: r["heldout_mean"][m], r"training estimate " + NUMBER: r["train_mean"][m]}


def _motion(r, values):
    numbers = {r"RMS distance of the fitted drift from −F′ = " + NUMBER: r["rms_error"]}
    numbers.update({r"fitted θ = \(" + r"[^,)]+, " * i + NUMBER: t for i, t in enumerate(r["theta"])})
    return numbers


#: explorer function -> (page of the real book, the numbers of its status line)
EXPLORERS = {
    "kl_explorer": ("book/principles/relative_entropy.html", _kl),
    "moment_matching_explorer": ("book/principles/rem.html", _moment_matching),
    "resolution_explorer": ("book/principles/information.html", _resolution),
    "bias_variance_explorer": ("book/principles/approximation.html", _bias_variance),
    "motion_explorer": ("book/principles/motion.html", _motion),
}


def explorer_page(function):
    return NOTEBOOK_HEADER + f"""
# {function}

```{{code-cell}} ipython3
from remlib.widgets import {function}

{function}()
```
"""


#: an ordinary widget next to an explorer: it stays a widget, with its manager
MIXED_CELL = """
```{code-cell} ipython3
import ipywidgets

ipywidgets.IntSlider(value=3, min=0, max=10, description="n")
```
"""


@pytest.fixture(scope="module")
def explorer_book(tmp_path_factory):
    """A throw-away book with one page per explorer, built like the real one; its URL."""
    pages = {"book/index": NOTEBOOK_HEADER + "# Explorers\n\nOne page per explorer.\n"}
    pages.update({f"book/{name}": explorer_page(name) for name in EXPLORERS})
    pages["book/mixed"] = explorer_page("motion_explorer") + MIXED_CELL
    directory = make_book(tmp_path_factory.mktemp("explorer_book"), pages)
    code, log = build(directory)
    assert code == 0, log[-4000:]
    html = directory / "_build" / "html"
    server, url = serve(html)
    yield html, url
    server.shutdown()


@pytest.fixture(scope="module")
def real_book():
    html = require_built_book()
    server, url = serve(html)
    yield html, url
    server.shutdown()


@pytest.fixture(scope="module")
def explorers():
    """The explorers built here, in the test process: their models give the expected numbers."""
    return {name: getattr(widgets, name)() for name in EXPLORERS}


_MOVE = r"""async ([name, index, how]) => {
  const input = document.querySelector(`[data-control="${name}"]`);
  const canvases = [...document.querySelectorAll('.remlib-explorer-figure canvas')];
  const status = document.querySelector('.remlib-explorer-status');
  const before = {pixels: canvases.map(c => c.toDataURL()).join(), status: status.textContent};
  const t0 = performance.now();
  if (how === 'set') {
    input.value = String(index);
    input.dispatchEvent(new Event('input', {bubbles: true}));
  }
  const handled = performance.now();
  await new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const painted = performance.now();
  return {handler_ms: handled - t0, repaint_ms: painted - t0, value: Number(input.value),
          pixels_changed: canvases.map(c => c.toDataURL()).join() !== before.pixels,
          status_changed: status.textContent !== before.status, status: status.textContent,
          frame: document.querySelector('.remlib-explorer').dataset.frame};
}"""


def _check_numbers(status, expected):
    for pattern, value in expected.items():
        match = re.search(pattern, status)
        assert match, f"{pattern!r} not in the status line {status!r}"
        shown = match.group(1)
        if shown == "∞":
            assert math.isinf(value), f"{pattern}: shown ∞, remlib gives {value}"
            continue
        decimals = len(shown.split(".")[1].split("e")[0]) if "." in shown else 0
        tolerance = abs(value) * 1e-2 if "e" in shown else 0.5 * 10.0**-decimals + 1e-9
        assert abs(float(shown) - value) <= tolerance, f"{pattern}: shown {shown}, remlib gives {value}"


def _same(a, b):
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _visit(current, n):
    """Several distinct positions across a control's range, each one a move (not ``current``)."""
    picks = [n - 1, 0, n // 3, (2 * n) // 3]
    picks = [i for k, i in enumerate(picks) if i not in picks[:k]]
    return [i for i in picks if i != current] + ([current] if n > 1 else [])


def exercise_explorer(browser, url, html_root, page_name, number_check, explorer):
    """Open one explorer page and move every control; returns the measurements."""
    problems = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))

    def only_local(route):
        if route.request.url.startswith(("data:", "blob:")) or "127.0.0.1" in route.request.url.split("/")[2]:
            route.continue_()
        else:
            problems.append(f"request to another host: {route.request.url}")
            route.abort()

    page.route("**/*", only_local)
    latencies = []
    try:
        page.goto(url + page_name, wait_until="load")
        assert page.locator(".remlib-explorer").count() == 1, (
            f"{page_name} holds no static explorer (a book built before them? `make book` rebuilds it)")
        page.wait_for_selector(".remlib-explorer[data-ready]", timeout=20_000)
        # no ipywidget and no hint to download the page is left on an explorer page
        assert page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count() == 0
        assert page.locator('script[type="application/vnd.jupyter.widget-state+json"]').count() == 0
        assert "download the page" not in page.locator("main").inner_text()
        grid = explorer.static_grid
        names = list(explorer.controls)
        indices = {n: grid[n].index(explorer.controls[n].value) for n in names}
        for control in names:
            label = explorer.controls[control].description
            role = "combobox" if grid[control].kind == "select" else "slider"
            assert page.get_by_role(role, name=label, exact=True).count() == 1, (control, role, label)
            n = len(grid[control].values)
            # the keyboard first: one step with the arrow key
            key = "ArrowDown" if role == "combobox" else "ArrowRight"
            if indices[control] == n - 1:
                key = "ArrowUp" if role == "combobox" else "ArrowLeft"
            page.get_by_role(role, name=label, exact=True).press(key)
            step = page.evaluate(_MOVE, [control, 0, "read"])
            assert step["value"] != indices[control], f"{control}: {key} did not move the control"
            indices[control] = step["value"]
            values = {c: grid[c].values[indices[c]] for c in names}
            expected = number_check(explorer.model.compute(**values), values)
            _check_numbers(step["status"], expected)
            for index in _visit(indices[control], n):
                move = page.evaluate(_MOVE, [control, index, "set"])
                assert move["value"] == index
                indices[control] = index
                values = {c: grid[c].values[indices[c]] for c in names}
                previous, expected = expected, number_check(explorer.model.compute(**values), values)
                assert move["pixels_changed"], f"{control} -> {values}: the figure did not change"
                # (a few settings have the same numbers by symmetry, e.g. the field h and -h)
                if any(not _same(previous[k], expected[k]) for k in expected):
                    assert move["status_changed"], f"{control} -> {values}: the numbers did not change"
                if role == "slider":  # the value is shown beside the slider and given to assistive technology
                    shown = page.locator(f'[data-control="{control}"]')
                    assert shown.get_attribute("aria-valuetext") == grid[control].labels[index]
                _check_numbers(move["status"], expected)
                latencies.append(move["repaint_ms"])
        added = page.evaluate(r"""() => [...document.querySelectorAll(
          'link[href*="remlib-explorer"], script[src*="remlib-explorer"]')].map(e => e.href || e.src)""")
    finally:
        page.close()
    assert not problems, "\n".join(problems)
    text = (html_root / page_name).read_text(encoding="utf-8")
    fragment = re.search(r'<div class="remlib-explorer">.*?</script></div>', text, re.DOTALL)
    assert fragment, "the explorer's HTML is not in the page"
    assets = [html_root / "_static" / a.rsplit("/_static/", 1)[1].split("?")[0] for a in added]
    assert len(assets) == 2 and all(a.is_file() for a in assets), added
    weight = len(fragment.group(0).encode("utf-8")) + sum(a.stat().st_size for a in assets)
    return latencies, weight


def _run(browser, book, page_name, name, explorers):
    html, url = book
    explorer = explorers[name]
    latencies, weight = exercise_explorer(browser, url, html, page_name, EXPLORERS[name][1], explorer)
    assert len(latencies) >= 2 * len(explorer.controls)
    assert max(latencies) < MAX_LATENCY_MS, f"input-to-repaint latencies (ms): {latencies}"
    assert weight < MAX_ADDED_BYTES, f"the explorer adds {weight} bytes to the page"


@pytest.mark.parametrize("name", list(EXPLORERS))
def test_static_explorer_on_a_throwaway_book(browser, explorer_book, explorers, name):
    _run(browser, explorer_book, f"book/{name}.html", name, explorers)


@pytest.mark.parametrize("name", list(EXPLORERS))
def test_static_explorer_in_the_built_book(browser, real_book, explorers, name):
    _run(browser, real_book, EXPLORERS[name][0], name, explorers)


def test_a_page_with_an_explorer_and_a_widget_keeps_the_widget(browser, explorer_book):
    """The widget state and manager are dropped only from pages whose widgets were all explorers."""
    html, url = explorer_book
    text = (html / "book" / "mixed.html").read_text(encoding="utf-8")
    assert 'type="application/vnd.jupyter.widget-state+json"' in text and "html-manager/embed-amd.js" in text
    assert text.count('type="application/vnd.jupyter.widget-view+json"') == 1   # the IntSlider only
    page = browser.new_page()
    try:
        page.goto(url + "book/mixed.html", wait_until="load")
        page.wait_for_selector(".remlib-explorer[data-ready]", timeout=20_000)
        page.wait_for_selector(".widget-slider, .widget-hslider", timeout=20_000)
        assert page.get_by_role("slider", name="basis size m", exact=True).count() == 1
    finally:
        page.close()
    for name in EXPLORERS:   # an explorer-only page carries neither
        text = (html / "book" / f"{name}.html").read_text(encoding="utf-8")
        assert "widget-state+json" not in text and "embed-amd.js" not in text and "require.js" not in text
