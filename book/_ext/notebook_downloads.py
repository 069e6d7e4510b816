"""Sphinx glue: the downloadable ``.ipynb`` of every page carries its outputs.

sphinx-book-theme offers each MyST notebook page for download by copying
``_build/jupyter_execute/<page>.ipynb`` to ``_build/html/_sources/<page>.ipynb``. myst-nb
1.4 writes that file with outputs only when the page was executed in this build; when the
outputs came from the jupyter-cache (``execute_notebooks: cache``, every rebuild) it writes
the notebook without them. Before the theme copies the file, this extension merges the
cached outputs into it, so a downloaded notebook looks the same after a fresh and after a
cached build.
"""
from pathlib import Path

import nbformat
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)


def _has_outputs(notebook):
    return any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def _merge_cached_outputs(app, pagename, templatename, context, doctree):
    config = getattr(app.env, "mystnb_config", None)
    if config is None or config.execution_mode != "cache":
        return
    path = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not path.is_file():
        return
    notebook = nbformat.read(path, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if not code_cells or _has_outputs(notebook):
        return
    from jupyter_cache import get_cache

    cache = get_cache(config.execution_cache_path)
    try:
        _, merged = cache.merge_match_into_notebook(notebook)
    except KeyError:
        LOGGER.warning(
            "%s: no cached execution found for the downloadable notebook", pagename,
            type="notebook_downloads",
        )
        return
    nbformat.write(merged, path)


def setup(app):
    # before sphinx-book-theme's launch buttons (priority 500) copy the notebook to _sources
    app.connect("html-page-context", _merge_cached_outputs, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
