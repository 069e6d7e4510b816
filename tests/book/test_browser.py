"""Open every built page in a real (headless) browser and check what a reader sees.

For each page of ``_build/html`` (served over http on 127.0.0.1): no raw TeX left in the
text, MathJax output wherever there is math and no MathJax error, every image loaded,
every local link pointing at an existing file and anchor, no JavaScript error and no failed
request, every embedded widget rendered, and no request to any other host (the book must
work offline). One screenshot per page goes to ``_artifacts/screenshots/``.

Debian's chromium is used (``make test`` installs it); playwright downloads no browser.
"""
import functools
import http.server
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
from playwright.sync_api import sync_playwright

from book_helpers import HTML, ROOT, require_built_book

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "_artifacts" / "screenshots"

# TeX that must never be visible as text once MathJax has run (code is excluded)
RAW_TEX = re.compile(
    r"\$\$|\\\[|\\\]|\\\(|\\\)|\\begin\{|\\end\{|\\(?:frac|mathrm|sum|int|label)\b"
    r"|\$[^$\n]*(?:\\[A-Za-z]|[_^])[^$\n]*\$"  # $...$ with a TeX command, sub- or superscript
)

# ---------------------------------------------------------------------------------------
# serving and browsing


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    """Serve ``directory`` on a free port of 127.0.0.1 in a thread; return (server, url)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found: `make test` installs Debian's chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def book_server():
    require_built_book()
    server, url = serve(HTML)
    yield url
    server.shutdown()


def page_names(html):
    """The HTML pages of a built book (not the theme's static files or the sources)."""
    return sorted(
        str(p.relative_to(html))
        for p in html.rglob("*.html")
        if not {"_static", "_sources"} & set(p.relative_to(html).parts)
    )


# ---------------------------------------------------------------------------------------
# what is checked on one page

_INSPECT = r"""() => {
  const main = document.querySelector('main') || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, mjx-assistive-mml, .highlight, textarea')
       .forEach(e => e.remove());
  const math = [...main.querySelectorAll('.math')];
  const widgetScripts = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
  return {
    text: clone.textContent,
    mathTotal: math.length,
    mathUnrendered: math.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
    mathErrors: [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || e.textContent),
    images: [...document.images].map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    codeCutOff: [...main.querySelectorAll('pre')]
      .filter(e => e.scrollWidth > e.clientWidth + 1)
      .map(e => e.textContent.split('\n').reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 80)),
    widgets: widgetScripts.map(s => {
      const area = s.parentElement;
      const view = area.querySelector('.widget-subarea, .jupyter-widgets, .lm-Widget');
      const box = view ? view.getBoundingClientRect() : null;
      return {rendered: !!view && view.childElementCount > 0 && box.height > 0 && box.width > 0};
    }),
  };
}"""

_SETTLE = r"""async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const until = async (test, ms) => {
    const t0 = Date.now();
    while (!test()) { if (Date.now() - t0 > ms) return false; await sleep(100); }
    return true;
  };
  const problems = [];
  const hasMath = () => document.querySelector('.math, .widget-htmlmath') !== null;
  const mathJaxUp = () => window.MathJax && MathJax.startup && MathJax.startup.promise;
  if (hasMath()) {
    if (!await until(mathJaxUp, 20000)) problems.push('MathJax did not start within 20 s');
    else await MathJax.startup.promise;
  }
  const scripts = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
  const drawn = () => scripts.every(s => s.parentElement.querySelector('.widget-subarea, .jupyter-widgets, .lm-Widget'));
  if (scripts.length && !await until(drawn, 20000)) problems.push('widgets were not drawn within 20 s');
  if (scripts.length && mathJaxUp()) { await sleep(300); await MathJax.startup.promise; }
  return problems;
}"""


@functools.lru_cache(maxsize=None)
def _anchors(path):
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return frozenset(re.findall(r"""\b(?:id|name)\s*=\s*["']([^"']+)["']""", text))


def broken_local_links(root, page, hrefs):
    """Local ``hrefs`` of ``page`` (relative to ``root``) whose file or anchor is missing."""
    broken = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:", "data:")):
            continue
        path, fragment = urldefrag(href)
        path = unquote(urlsplit(path).path)
        target = (root / page).parent / path if path else root / page
        target = target.resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file() or not target.is_relative_to(root.resolve()):
            broken.append(href)
            continue
        fragment = unquote(fragment)
        if fragment and target.suffix == ".html" and fragment not in _anchors(str(target)):
            broken.append(href)
    return broken


_REFRESH = re.compile(
    r"""<meta[^>]+http-equiv=["']?refresh["']?[^>]*content=["'][^"']*url=([^"'>]+)""", re.IGNORECASE
)


def redirect_target(root, name):
    """The target of a redirect stub page (like the top-level index.html), else None."""
    match = _REFRESH.search((root / name).read_text(encoding="utf-8", errors="replace"))
    return match.group(1).strip() if match else None


def screenshot_path(screenshot_dir, name):
    return screenshot_dir / (name.replace("/", "__").removesuffix(".html") + ".png")


def check_page(browser, base_url, root, name, screenshot_dir):
    """Open one page and return the list of problems found (empty when the page is fine).

    A redirect stub is not rendered; its target must exist.
    """
    target = redirect_target(root, name)
    if target is not None:
        return [f"redirect to a missing page: {href}" for href in broken_local_links(root, name, [target])]
    problems = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))

    def only_local(route):
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            problems.append(f"request to another host (the book must work offline): {route.request.url}")
            route.abort()

    page.route("**/*", only_local)
    try:
        response = page.goto(base_url + name, wait_until="load", timeout=60_000)
        if response is None or response.status != 200:
            problems.append(f"HTTP status {response.status if response else None}")
        problems.extend(page.evaluate(_SETTLE))
        info = page.evaluate(_INSPECT)
        for match in RAW_TEX.finditer(info["text"]):
            context = info["text"][max(0, match.start() - 40) : match.end() + 40].replace("\n", " ")
            problems.append(f"raw TeX in the page text: ...{context}...")
        for text in info["mathUnrendered"]:
            problems.append(f"math not rendered by MathJax: {text!r}")
        for error in info["mathErrors"]:
            problems.append(f"MathJax error: {error}")
        for image in info["images"]:
            if not image["ok"]:
                problems.append(f"image did not load: {image['src']}")
        for href in broken_local_links(root, name, info["links"]):
            problems.append(f"broken internal link: {href}")
        for line in info["codeCutOff"]:
            problems.append(f"code cut off at the right edge (it scrolls sideways): {line!r}")
        for i, widget in enumerate(info["widgets"]):
            if not widget["rendered"]:
                problems.append(f"widget #{i} rendered nothing")
        shot = screenshot_path(screenshot_dir, name)
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    return problems


# ---------------------------------------------------------------------------------------
# the tests


def _book_pages():
    if not (HTML / "index.html").is_file():
        return ["<no built book>"]
    return page_names(HTML)


@pytest.mark.parametrize("name", _book_pages())
def test_built_page_renders_cleanly(browser, book_server, name):
    root = require_built_book()
    problems = check_page(browser, book_server, root, name, SCREENSHOTS)
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


def test_every_page_has_a_screenshot(browser, book_server):
    root = require_built_book()
    for name in page_names(root):
        if redirect_target(root, name) is not None:
            continue
        shot = screenshot_path(SCREENSHOTS, name)
        assert shot.is_file() and shot.stat().st_size > 1000, f"no screenshot for {name}"


def test_math_and_widgets_render_offline_on_a_throwaway_page(browser, good_book, tmp_path):
    """A page with math and a live widget state renders completely from the book's own files."""
    directory, code, log = good_book
    assert code == 0, log[-4000:]
    html = directory / "_build" / "html"
    server, url = serve(html)
    try:
        problems = check_page(browser, url, html, "book/index.html", tmp_path)
        widget_only = check_page(browser, url, html, "book/widget.html", tmp_path)
        page = browser.new_page()
        page.goto(url + "book/index.html", wait_until="load")
        assert not page.evaluate(_SETTLE)
        slider = page.locator(".widget-slider, .widget-hslider")
        math_in_widget = page.locator(".widget-htmlmath mjx-container")
        counts = slider.count(), math_in_widget.count(), page.locator("mjx-container").count()
        page.close()
    finally:
        server.shutdown()
    assert not problems, "\n".join(problems)
    assert not widget_only, "\n".join(widget_only)
    assert counts[0] == 1, "the IntSlider widget was not drawn"
    assert counts[1] == 1, "the math inside the HTMLMath widget was not typeset"
    assert counts[2] >= 3, "inline and display math were not typeset"


def test_the_checks_catch_broken_pages(browser, tmp_path):
    """The page checks are not vacuous: a page with each defect is reported."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "other.html").write_text('<html><body><main><p id="here">x</p></main></body></html>')
    (site / "bad.html").write_text(
        "<html><body><main>"
        "<p>$$ x^2 $$ and \\begin{align} a \\end{align} and $\\theta_1$</p>"
        '<img src="missing.png" alt="missing">'
        '<a href="other.html#here">ok</a> <a href="nowhere.html">dead</a> '
        '<a href="other.html#gone">dead anchor</a>'
        '<pre style="white-space: pre; overflow-x: auto; width: 200px">' + "x = 1  # " + "long " * 40 + "</pre>"
        "<script>throw new Error('boom-4711')</script>"
        '<script src="https://cdn.jsdelivr.net/npm/x@1/x.js"></script>'
        "</main></body></html>"
    )
    server, url = serve(site)
    try:
        problems = "\n".join(check_page(browser, url, site, "bad.html", tmp_path))
    finally:
        server.shutdown()
    assert "raw TeX" in problems and "$$" in problems and "\\begin{" in problems
    assert "$\\theta_1$" in problems
    assert "image did not load" in problems
    assert "nowhere.html" in problems and "other.html#gone" in problems
    assert "other.html#here" not in problems
    assert "boom-4711" in problems
    assert "code cut off" in problems
    assert "another host" in problems
