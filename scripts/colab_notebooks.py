"""Prepare the executed notebooks of the built book for Google Colab.

Usage: python scripts/colab_notebooks.py OUTPUT_DIR

Copies every ``_build/html/_sources/**/*.ipynb`` (the executed pages) to OUTPUT_DIR, keeping
their paths, and puts a first cell in each that installs ``remlib`` from the book's
repository (``repository: url`` and ``branch`` in ``_config.yml``) when, and only when, the
notebook runs on Colab. The publishing workflow pushes OUTPUT_DIR to the branch that the
Colab launch buttons open (``colab_notebooks_branch`` in ``_config.yml``).
"""
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "_build" / "html" / "_sources"

SETUP_TEMPLATE = """\
# On Google Colab: install remlib, the library of this book (does nothing elsewhere)
import sys
if "google.colab" in sys.modules:
    %pip install --quiet "remlib @ git+{url}@{branch}"
"""


def setup_cell(config):
    """The Colab set-up cell for the repository named in ``config`` (the parsed _config.yml)."""
    repository = config["repository"]
    source = SETUP_TEMPLATE.format(url=repository["url"].rstrip("/"), branch=repository.get("branch", "main"))
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["colab-setup"]
    return cell


def colab_notebook(notebook, config):
    """Return a copy of ``notebook`` with the set-up cell first."""
    result = nbformat.from_dict(notebook)
    result.cells = [setup_cell(config)] + list(result.cells)
    return result


def main(argv):
    if len(argv) != 2:
        raise SystemExit(__doc__)
    output = Path(argv[1])
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    notebooks = sorted(SOURCES.rglob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"no notebooks in {SOURCES}: run `make book` first")
    for path in notebooks:
        target = output / path.relative_to(SOURCES)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(colab_notebook(nbformat.read(path, as_version=4), config), target)
        print(target)


if __name__ == "__main__":
    main(sys.argv)
