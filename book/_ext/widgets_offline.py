"""Sphinx glue: Jupyter widgets rendered from the book's own copy of the widget manager.

myst-nb puts ``require.js`` and ``@jupyter-widgets/html-manager``'s ``embed-amd.js`` on each
page that holds a widget (``nb_ipywidgets_js`` in ``_config.yml`` points both at
``_static/``). Two things are needed on top for the widgets to render offline:

1. The manager's AMD modules find their assets (icon fonts) relative to their module URL,
   which require.js derives from the page's own folder. An inline ``require.config`` placed
   between the two scripts maps the modules onto ``_static/html-manager/``.
2. The manager typesets math in widgets (``HTMLMath``, labels) with the MathJax 2 call
   ``MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])``, while the book uses MathJax 3.
   A small shim provides ``MathJax.Hub.Queue`` on top of ``MathJax.typesetPromise``, and
   MathJax is loaded on every widget page (Sphinx loads it only where the text has math).
"""
import json

from sphinx.builders.html._assets import _JavaScript

_MODULES = (
    "@jupyter-widgets/base",
    "@jupyter-widgets/controls",
    "@jupyter-widgets/base7",
    "@jupyter-widgets/controls7",
    "@jupyter-widgets/html-manager",
)

# runs right after require.js: the folder of embed-amd.js is next to requirejs/ in _static
REQUIRE_CONFIG = (
    "(function () {"
    " var s = document.querySelector('script[src*=\"requirejs/require.js\"]');"
    " var base = new URL('../html-manager/', s.src).href;"
    " var paths = {'@jupyter-widgets/html-manager/dist': base.slice(0, -1)};"
    + "".join(f" paths['{m}'] = base + '{m.split('/')[1]}';" for m in _MODULES)
    + " require.config({paths: paths});"
    "})();"
)

# runs before MathJax 3 loads; MathJax replaces window.MathJax, so Hub is set again when ready
MATHJAX_HUB_SHIM = r"""(function () {
  var pending = [];
  function typeset(element) {
    var mj = window.MathJax;
    if (mj && mj.typesetPromise && mj.startup && mj.startup.promise) {
      mj.startup.promise = mj.startup.promise.then(function () {
        return mj.typesetPromise(element ? [element] : undefined);
      });
    } else {
      pending.push(element);
    }
  }
  var hub = {Queue: function () {
    for (var i = 0; i < arguments.length; i++) {
      var job = arguments[i];
      if (Array.isArray(job) && job[0] === 'Typeset') typeset(job[2]);
    }
  }};
  var config = window.MathJax = window.MathJax || {};
  config.Hub = hub;
  config.startup = config.startup || {};
  var ready = config.startup.ready;
  config.startup.ready = function () {
    if (ready) { ready(); } else { window.MathJax.startup.defaultReady(); }
    window.MathJax.Hub = hub;
    var waiting = pending; pending = [];
    waiting.forEach(typeset);
  };
})();"""


def _filename(js):
    return str(getattr(js, "filename", js) or "")


def _add_widget_glue(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    names = [_filename(js) for js in scripts]
    embed = next((i for i, n in enumerate(names) if n.endswith("html-manager/embed-amd.js")), None)
    if embed is None:
        return
    scripts = list(scripts)
    scripts.insert(embed, _JavaScript("", body=REQUIRE_CONFIG))
    # sphinx stores static scripts as "_static/<path>"
    mathjax_names = {app.config.mathjax_path, f"_static/{app.config.mathjax_path}"}
    mathjax = next((i for i, n in enumerate(_filename(js) for js in scripts)
                    if n in mathjax_names), None)
    if mathjax is None:
        # sphinx loads MathJax only on pages with math in the text; widgets may hold math too
        scripts.append(_JavaScript("", body=f"window.MathJax = {json.dumps(app.config.mathjax3_config or {})}"))
        scripts.append(_JavaScript(f"_static/{app.config.mathjax_path}", defer="defer"))
        mathjax = len(scripts) - 1
    scripts.insert(mathjax, _JavaScript("", body=MATHJAX_HUB_SHIM))
    context["script_files"] = scripts


def setup(app):
    # the explorers of remlib.widgets are shown precomputed instead of as widgets
    app.setup_extension("static_explorers")
    # after myst-nb (widget scripts) and sphinx.ext.mathjax have added their scripts
    app.connect("html-page-context", _add_widget_glue, priority=950)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
