"""Checks of the book build: strictness, completeness, offline assets, notebook downloads.

The tests on ``_build/html`` need `make book` first (`make test` runs it); they fail, not
skip, when the book is missing. The throw-away books are built here with the Makefile's own
build command (see book_helpers.py).
"""
import importlib.util
import json
import re
from pathlib import Path

import nbformat
import yaml

from book_helpers import GOOD_PAGE, HTML, NOTEBOOK_HEADER, ROOT, build, make_book, require_built_book


def _load_offline_book():
    spec = importlib.util.spec_from_file_location(
        "offline_book", ROOT / "book" / "_ext" / "offline_book.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def toc_files():
    """Every file listed in _toc.yml (root first), as paths without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def is_notebook(source):
    """A MyST page is a notebook when its front matter names a kernel."""
    text = source.read_text()
    return text.startswith("---") and "kernelspec:" in text.split("---", 2)[1]


def built_pages():
    html = require_built_book()
    return [p for p in html.rglob("*.html") if not {"_static", "_sources"} & set(p.relative_to(html).parts)]


# --- the strict build, proved on throw-away books ---------------------------------------


def test_good_throwaway_book_builds(good_book):
    directory, code, log = good_book
    assert code == 0, f"a correct page failed to build with the book's config:\n{log[-4000:]}"
    assert (directory / "_build" / "html" / "book" / "index.html").is_file()


def test_a_failing_cell_fails_the_build(tmp_path, good_book):
    # the same page builds (previous test); only the raising cell differs
    page = GOOD_PAGE + "\n```{code-cell} ipython3\nraise RuntimeError('claim-is-false-7f3a')\n```\n"
    code, log = build(make_book(tmp_path, {"book/index": page}))
    assert code != 0, "a page with a raising cell was built without error"
    assert "claim-is-false-7f3a" in log, "the build log does not show the failing cell's error"


def test_a_failing_assert_in_a_check_cell_fails_the_build(tmp_path):
    page = NOTEBOOK_HEADER + "# Check\n\n```{code-cell} ipython3\nassert 1 + 1 == 3, 'arith-check-91c2'\n```\n"
    code, log = build(make_book(tmp_path, {"book/index": page}))
    assert code != 0
    assert "arith-check-91c2" in log


def test_a_page_loading_a_cdn_script_fails_the_build(tmp_path):
    page = (
        "# Remote\n\nText.\n\n"
        '<script src="https://cdn.jsdelivr.net/npm/left-pad@1.3.0/index.js"></script>\n'
    )
    code, log = build(make_book(tmp_path, {"book/index": page}))
    assert code != 0
    assert "from another host" in log


def test_remote_asset_detector():
    remote_assets = _load_offline_book().remote_assets
    assert remote_assets('<script src="https://unpkg.com/a.js"></script>')
    assert remote_assets('<script src="//cdn.example.org/a.js"></script>')
    assert remote_assets('<link rel="stylesheet" href="https://fonts.googleapis.com/css">')
    assert remote_assets("<script>var u = 'https://cdnjs.cloudflare.com/x.js'</script>")
    assert not remote_assets('<script src="../_static/mathjax/tex-mml-chtml.js"></script>')
    assert not remote_assets('<a href="https://doi.org/10.1063/1.2992060">Shell 2008</a>')
    assert not remote_assets('<link rel="canonical" href="https://example.org/book/">')


# --- the built book ---------------------------------------------------------------------


def test_every_toc_page_was_built():
    html = require_built_book()
    missing = [f for f in toc_files() if not (html / f"{f}.html").is_file()]
    assert not missing, f"pages in _toc.yml without HTML (run `make book`): {missing}"
    sources = [f for f in toc_files() if not (ROOT / f"{f}.md").is_file() and not (ROOT / f"{f}.ipynb").is_file()]
    assert not sources, f"_toc.yml lists pages that do not exist: {sources}"


def test_built_pages_load_nothing_from_other_hosts():
    remote_assets = _load_offline_book().remote_assets
    offenders = {}
    for page in built_pages():
        found = remote_assets(page.read_text(encoding="utf-8", errors="replace"))
        if found:
            offenders[str(page.relative_to(HTML))] = found
    assert not offenders, f"pages that load from a CDN or another host: {offenders}"


def test_offline_javascript_is_served_by_the_book():
    html = require_built_book()
    for asset in ("mathjax/tex-mml-chtml.js", "requirejs/require.js", "html-manager/embed-amd.js"):
        assert (html / "_static" / asset).is_file(), f"_static/{asset} missing from the built book"
    fonts = list((html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert fonts, "MathJax's web fonts are missing from the built book"
    intro = (html / "book" / "intro.html").read_text()
    assert re.search(r'<script[^>]+src="\.\./_static/mathjax/tex-mml-chtml\.js', intro)


def test_widget_pages_load_the_local_widget_manager(good_book):
    directory, code, log = good_book
    assert code == 0, log[-4000:]
    page = (directory / "_build" / "html" / "book" / "index.html").read_text()
    require = re.search(r'<script[^>]+src="\.\./_static/requirejs/require\.js', page)
    embed = re.search(r'<script[^>]+src="\.\./_static/html-manager/embed-amd\.js', page)
    assert require and embed, "a widget page does not load require.js and embed-amd.js from _static"
    assert require.start() < embed.start(), "require.js must load before embed-amd.js"
    assert "application/vnd.jupyter.widget-state+json" in page


def test_every_notebook_page_offers_its_ipynb():
    html = require_built_book()
    notebooks = [f for f in toc_files() if is_notebook(ROOT / f"{f}.md")]
    assert notebooks, "no notebook page in the book"
    for name in notebooks:
        ipynb = html / "_sources" / f"{name}.ipynb"
        assert ipynb.is_file(), f"{name}: no downloadable notebook at {ipynb}"
        nb = nbformat.read(ipynb, as_version=4)
        nbformat.validate(nb)
        code_cells = [c for c in nb.cells if c.cell_type == "code"]
        assert code_cells and any(c.outputs for c in code_cells), f"{name}.ipynb was not executed"
        page = (html / f"{name}.html").read_text()
        href = f"{Path(name).name}.ipynb"
        assert re.search(rf'href="[^"]*_sources/{re.escape(name)}\.ipynb"', page), (
            f"{name}.html has no download link to {href}"
        )


def test_launch_buttons_point_at_the_configured_repository():
    html = require_built_book()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].rstrip("/")
    org_repo = "/".join(repo.split("/")[-2:])
    branch = config["repository"]["branch"]
    colab_branch = config["sphinx"]["config"]["colab_notebooks_branch"]
    intro = (html / "book" / "intro.html").read_text()
    # Binder opens the MyST source (jupytext, postBuild); Colab the executed notebook
    assert f"https://mybinder.org/v2/gh/{org_repo}/{branch}?urlpath=lab/tree/book/intro.md" in intro
    colab = f"https://colab.research.google.com/github/{org_repo}/blob/{colab_branch}/book/intro.ipynb"
    assert colab in intro
    assert ".md" not in re.search(r'https://colab[^"]*', intro).group(0)


def test_colab_notebooks_get_a_setup_cell_that_installs_remlib(tmp_path):
    from IPython.core.inputtransformer2 import TransformerManager

    spec = importlib.util.spec_from_file_location("colab_notebooks", ROOT / "scripts" / "colab_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    original = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    converted = module.colab_notebook(original, config)
    nbformat.validate(converted)
    assert [c.source for c in converted.cells[1:]] == ["x = 1"]
    assert len(original.cells) == 1, "the original notebook must not be changed"
    setup = converted.cells[0].source
    repo = config["repository"]["url"].rstrip("/")
    assert f"git+{repo}@{config['repository']['branch']}" in setup
    assert 'if "google.colab" in sys.modules:' in setup
    # the cell is valid IPython (the %pip magic inside the if-block) ...
    python = TransformerManager().transform_cell(setup)
    compile(python, "setup-cell", "exec")
    # ... and does nothing outside Colab
    calls = []
    namespace = {"get_ipython": lambda: type("IP", (), {"run_line_magic": lambda *a: calls.append(a)})()}
    exec(python, namespace)
    assert calls == []


def test_status_page_lists_the_executed_notebooks():
    html = require_built_book()
    status = (html / "book" / "status.html").read_text()
    table = status[status.find("<table") : status.rfind("</table>")]
    assert table, "the status page has no execution table"
    for name in toc_files():
        if is_notebook(ROOT / f"{name}.md"):
            assert name in table, f"{name} missing from the execution table"


def test_api_page_documents_every_public_name():
    """book/api.html has an entry with a description for every name of remlib.__all__."""
    import remlib

    html = require_built_book()
    page = (html / "book" / "api.html").read_text()
    entries = dict(re.findall(r'<dt class="sig sig-object py" id="remlib\.(\w+)">.*?</dt>\s*<dd>(.*?)</dd>', page,
                              flags=re.S))
    missing = sorted(set(remlib.__all__) - set(entries))
    assert not missing, f"the API page does not document {missing}"
    empty = sorted(name for name in remlib.__all__ if not re.sub(r"<[^>]+>|\s", "", entries[name]))
    assert not empty, f"the API page shows no docstring for {empty}"


def test_executed_notebooks_have_no_error_outputs():
    html = require_built_book()
    for ipynb in (html / "_sources").rglob("*.ipynb"):
        nb = json.loads(ipynb.read_text())
        errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, f"{ipynb.name} has error outputs: {errors[:1]}"
