"""Sphinx glue: the Colab launch button opens the page's executed ``.ipynb``.

The pages are MyST-markdown files, which Colab cannot open; sphinx-book-theme's Colab button
points at ``book/<page>.md``. The publishing workflow (.github/workflows/book.yml) pushes the
executed notebooks, each with a first cell that installs ``remlib`` on Colab
(scripts/colab_notebooks.py), to the branch named by the Sphinx setting
``colab_notebooks_branch``; this extension points the Colab button there.
"""
import re


def _point_colab_at_notebooks(app, pagename, templatename, context, doctree):
    branch = app.config.colab_notebooks_branch
    if not branch:
        return
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if isinstance(group, dict) else []:
            if button.get("text") != "Colab":
                continue
            # .../github/<org>/<repo>/blob/<branch>/<path>.<ext>  ->  blob/<notebooks>/<path>.ipynb
            button["url"] = re.sub(
                r"/blob/[^/]+/(.*)\.[^./]+$",
                lambda m: f"/blob/{branch}/{m.group(1)}.ipynb",
                button["url"],
            )


def setup(app):
    app.add_config_value("colab_notebooks_branch", "", "html")
    # after sphinx-book-theme has made the launch buttons (priority 501)
    app.connect("html-page-context", _point_colab_at_notebooks, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
