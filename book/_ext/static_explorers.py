"""Sphinx glue: the explorers of ``remlib.widgets`` are interactive in the static book.

An explorer displayed in a notebook emits the ipywidget (live in Jupyter) and, when the
environment variable ``REMLIB_STATIC_EXPLORERS`` is set, ``text/html`` with the explorer's
model precomputed over a grid of control values (``remlib/_static_explorer.py``). This
extension

1. sets that variable, so the notebooks executed for the book (their kernels inherit the
   environment of the build) emit the static explorer;
2. in every output that holds a static explorer, drops the ipywidget view, so the page shows
   the static explorer (a widget there would only be a still image with dead sliders);
3. on pages with a static explorer, adds ``remlib-explorer.js`` and ``.css`` (copied from
   ``book/_ext/explorer_static`` to ``_static``) and, when no widget is left on the page,
   removes the embedded widget state and the widget manager's scripts.
"""
import os
from pathlib import Path

from docutils import nodes
from sphinx.builders.html._assets import _CascadingStyleSheet, _JavaScript
from sphinx.transforms.post_transforms import SphinxPostTransform

STATIC_ENV = "REMLIB_STATIC_EXPLORERS"
STATIC_DIR = Path(__file__).resolve().parent / "explorer_static"
EXPLORER_MARK = 'class="remlib-explorer"'
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


class PreferStaticExplorer(SphinxPostTransform):
    """In a mime bundle with a static explorer (text/html), drop the widget view."""

    default_priority = 3  # before myst-nb's SelectMimeType (4) picks the widget view

    def run(self, **kwargs):
        def is_bundle(node):
            return isinstance(node, nodes.Element) and node.get("nb_element") == "mime_bundle"

        for bundle in list(self.document.findall(is_bundle)):
            html = [c for c in bundle.children if c.get("mime_type") == "text/html"]
            if html and EXPLORER_MARK in html[0].astext():
                for child in list(bundle.children):
                    if child.get("mime_type") == WIDGET_VIEW:
                        bundle.remove(child)


def _script_name(js):
    return str(getattr(js, "filename", js) or "")


def _is_widget_script(js):
    attributes = getattr(js, "attributes", {}) or {}
    name = _script_name(js)
    return (attributes.get("type") == WIDGET_STATE or name.endswith("html-manager/embed-amd.js")
            or name.endswith("requirejs/require.js"))


def _add_explorer_assets(app, pagename, templatename, context, doctree):
    body = context.get("body") or ""
    if EXPLORER_MARK not in body:
        return
    scripts = list(context.get("script_files") or [])
    if f'type="{WIDGET_VIEW}"' not in body:
        scripts = [js for js in scripts if not _is_widget_script(js)]
    context["script_files"] = [*scripts, _JavaScript("_static/remlib-explorer.js", defer="defer")]
    context["css_files"] = [*(context.get("css_files") or []), _CascadingStyleSheet("_static/remlib-explorer.css")]


def _add_static_dir(app, config):
    config.html_static_path = [*config.html_static_path, str(STATIC_DIR)]


def setup(app):
    os.environ[STATIC_ENV] = "1"
    app.add_post_transform(PreferStaticExplorer)
    app.connect("config-inited", _add_static_dir)
    # after myst-nb has added the widget scripts (500), before widgets_offline's glue (950)
    app.connect("html-page-context", _add_explorer_assets, priority=940)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
