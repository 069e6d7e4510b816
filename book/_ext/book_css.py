"""Sphinx glue: the book's own stylesheet (``book/_ext/book_static/book.css``) on every page.

Its one rule makes long code lines wrap at the width of the page column instead of running
off the right edge (the browser test checks that no code block scrolls sideways).
"""
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "book_static"


def _add_static_dir(app, config):
    config.html_static_path = [*config.html_static_path, str(STATIC_DIR)]


def setup(app):
    app.connect("config-inited", _add_static_dir)
    app.add_css_file("book.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
