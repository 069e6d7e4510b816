"""pytest configuration of the book group: makes tests/book/book_helpers.py importable and builds one throw-away book.

(pytest runs with --import-mode=importlib, so test modules cannot import each other or
conftest; the helpers live in book_helpers.py on sys.path.)
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from book_helpers import GOOD_PAGE, WIDGET_ONLY_PAGE, build, make_book  # noqa: E402


@pytest.fixture(scope="session")
def good_book(tmp_path_factory):
    """A throw-away book (math, figure, widgets) built like the real one; (dir, code, log)."""
    pages = {"book/index": GOOD_PAGE, "book/widget": WIDGET_ONLY_PAGE}
    directory = make_book(tmp_path_factory.mktemp("good_book"), pages)
    code, log = build(directory)
    return directory, code, log
