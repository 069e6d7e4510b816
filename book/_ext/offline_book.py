"""Sphinx glue that keeps the built book offline-complete.

1. Thebe (live code through Binder) is switched off in this book, but sphinx-thebe still
   puts a ``THEBE_JS_URL = "https://unpkg.com/..."`` constant and its loader script on every
   page. This extension drops both from the pages, so a page mentions no CDN at all.
2. After the HTML is written, every page is scanned for scripts, stylesheets and fonts that
   would be fetched from another host. Each one is reported as a Sphinx warning, which the
   strict build (``-W``) turns into an error. Ordinary hyperlinks (``<a href>``) are allowed.
"""
import re
from pathlib import Path

from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

#: a script/stylesheet/font/image loaded from another host (protocol-relative URLs too)
_REMOTE_ASSET = re.compile(
    r"""<(?:script|img|iframe|source)\b[^>]*\bsrc\s*=\s*["']?(?:https?:)?//[^"'\s>]+"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?//[^"'\s>]+[^>]*>"""
    r"""|@import\s+(?:url\()?["']?(?:https?:)?//[^"'\s)]+""",
    re.IGNORECASE,
)
#: names of the usual JavaScript CDNs, looked for inside <script> elements
_CDN_NAME = re.compile(r"unpkg\.com|jsdelivr\.net|cdnjs\.|cdn\.|googleapis\.com", re.IGNORECASE)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.IGNORECASE | re.DOTALL)
# <link rel="..."> to other hosts that do not fetch anything (canonical URL, etc.) are fine
_HARMLESS_LINK_REL = re.compile(r"""rel\s*=\s*["']?(?:canonical|author|license)""", re.IGNORECASE)


def remote_assets(html):
    """Return the pieces of ``html`` that would load something from another host.

    Examples
    --------
    >>> remote_assets('<script src="https://cdn.jsdelivr.net/npm/x.js"></script>')
    ['<script src="https://cdn.jsdelivr.net/npm/x.js']
    >>> remote_assets('<script src="../_static/x.js"></script><a href="https://doi.org">d</a>')
    []
    >>> remote_assets('<script>const U = "https://unpkg.com/thebe";</script>')
    ['https://unpkg.com/thebe";']
    """
    found = []
    for match in _REMOTE_ASSET.finditer(html):
        text = match.group(0)
        if text.lower().startswith("<link") and _HARMLESS_LINK_REL.search(text):
            continue
        found.append(text)
    for script in _SCRIPT.finditer(html):
        for name in _CDN_NAME.finditer(script.group(0)):
            start = name.start()
            found.append(script.group(0)[max(0, start - 8) : start + 20].split(" ")[-1])
    return found


def _drop_thebe(app, pagename, templatename, context, doctree):
    """Remove sphinx-thebe's CDN constant and loader when thebe is not used."""
    if app.config.html_theme_options.get("launch_buttons", {}).get("thebe"):
        return
    scripts = context.get("script_files")
    if not scripts:
        return

    def is_thebe(js):
        filename = str(getattr(js, "filename", js) or "")
        body = getattr(js, "attributes", {}).get("body", "") or ""
        return filename.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in body

    context["script_files"] = [js for js in scripts if not is_thebe(js)]


def _check_offline(app, exception):
    """Warn (an error under -W) for every page that loads an asset from another host."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    # only the pages of this build (an old _build/html may hold pages no longer in the book)
    names = sorted(app.env.found_docs) + ["genindex", "search"]
    pages = [Path(app.builder.get_outfilename(name)) for name in names]
    for page in pages:
        if not page.is_file():
            continue
        for asset in remote_assets(page.read_text(encoding="utf-8", errors="replace")):
            LOGGER.warning(
                "%s loads %s from another host; the book must work offline "
                "(serve it from book/_vendor, see scripts/vendor_js.sh)",
                page.relative_to(outdir),
                asset,
                type="offline_book",
            )


def setup(app):
    app.connect("html-page-context", _drop_thebe, priority=900)
    app.connect("build-finished", _check_offline)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
