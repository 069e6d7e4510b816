"""Sphinx glue: a practice page shows the whole practice as a student sees it.

A page of the Hands-On Practices holds the directive ::

    ```{practice} practice3_moment_matching
    ```

At build time the directive runs ``otter assign`` (through ``exercises/build.py``, without
grading) on the practice's single source
``exercises/<name>.py`` and renders the student notebook in the page: every markdown cell,
every code cell as code (nothing is executed), each answer cell marked as such, under
each check the hints its public tests give, and, under each answer cell, the solution in a
folded dropdown.

The role ``{practice-colab}`<name>``` is a link that opens the student notebook in Google
Colab.  At the end of the build the notebook is written to
``_build/html/_sources/<page folder>/<name>.ipynb`` with a first cell that, on Colab only,
installs otter-grader and unpacks ``check_helpers.py`` and the public checks (Colab cannot
open the files next to a notebook); the publishing workflow pushes the notebooks of
``_sources`` to the branch the Colab buttons open (``colab_notebooks_branch``, see
colab_links.py).

Settings (``sphinx: config:`` in ``_config.yml``):

``practices_show_solutions`` (default ``true``)
    ``false`` leaves the solutions out of the built book altogether (for a course that
    grades the practices).
``practices_source_dir`` (default ``"exercises"``)
    the folder of the practice sources and ``build.py``, relative to the book's root.
"""
import ast
import base64
import importlib.util
import io
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import nbformat
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective, SphinxRole

COLAB_SETUP = """\
# On Google Colab: install otter-grader and unpack check_helpers.py and the checks
# (does nothing elsewhere)
import sys
if "google.colab" in sys.modules:
    %pip install --quiet otter-grader=={version}
    import base64, io, zipfile
    zipfile.ZipFile(io.BytesIO(base64.b64decode(
        "{payload}"
    ))).extractall()
"""

SOLUTION_MARKERS = re.compile(r"^[ \t]*# (?:BEGIN|END) SOLUTION[ \t]*\n|[ \t]*# SOLUTION[ \t]*$", re.MULTILINE)
MARKDOWN_SPECIALS = re.compile(r"([\\*_\[\]<>$|{}#~])")


# --- building the notebooks ------------------------------------------------------------


def _source_dir(app):
    return (Path(app.confdir) / app.config.practices_source_dir).resolve()


def built_practice(app, name):
    """``(student, solution)`` notebooks of practice ``name``, built once per Sphinx run."""
    cache = app.practices_cache
    if name not in cache:
        source_dir = _source_dir(app)
        source = source_dir / f"{name}.py"
        if not source.is_file():
            raise ExtensionError(f"practice {name!r}: no source {source}")
        if "build" not in cache:
            spec = importlib.util.spec_from_file_location("exercises_build", source_dir / "build.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            cache["build"] = module
            cache["out"] = Path(tempfile.mkdtemp(prefix="rem-practices-"))
        info = cache["build"].build_one(source, cache["out"], run_tests=False)
        cache[name] = (nbformat.read(info["student"], as_version=4),
                       nbformat.read(info["solution"], as_version=4),
                       info["student"].parent / "check_helpers.py")
    return cache[name]


# --- the page ----------------------------------------------------------------------------


def _fence(code):
    ticks = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", code)), default=0))
    return f"{ticks}python\n{code.rstrip()}\n{ticks}"


def _dropdown(title, body, css_class):
    return f"::::{{dropdown}} {title}\n:class-container: {css_class}\n\n{body}\n::::"


def _drop_title(markdown):
    """The cell without its level-1 heading (the page has its own title)."""
    return re.sub(r"\A\s*# [^\n]*\n*", "", markdown)


def check_messages(test_source):
    """The messages a check's tests can give: ``hint=`` and ``message=`` strings and the
    message of ``check(condition, message)``, in order, each once."""
    found = []
    for node in ast.walk(ast.parse(test_source)):
        if not isinstance(node, ast.Call):
            continue
        candidates = [kw.value for kw in node.keywords if kw.arg in ("hint", "message")]
        if getattr(node.func, "attr", getattr(node.func, "id", None)) == "check" and len(node.args) >= 2:
            candidates.append(node.args[1])
        found += [(c.lineno, c.col_offset, c.value) for c in candidates
                  if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    return list(dict.fromkeys(text for _, _, text in sorted(found)))


def _escape(text):
    """Plain text for markdown: specials escaped, backtick spans kept as code."""
    parts = re.split(r"(`[^`]+`)", text)
    return "".join(p if p.startswith("`") else MARKDOWN_SPECIALS.sub(r"\\\1", p) for p in parts)


def practice_markdown(student, solution, show_solutions):
    """MyST markdown showing ``student`` cell by cell, with hints and (folded) solutions."""
    if [c.cell_type for c in student.cells] != [c.cell_type for c in solution.cells]:
        raise ExtensionError("the student and solution notebooks do not have the same cells")
    tests = student.metadata.get("otter", {}).get("tests", {})
    blocks = []
    for mine, full in zip(student.cells, solution.cells):
        if mine.cell_type == "markdown":
            blocks.append(_drop_title(mine.source))
            continue
        if mine.cell_type != "code":
            continue
        if "otter_answer_cell" in mine.metadata.get("tags", []):
            blocks.append("*Your answer* — replace each `...`, then run the cell:")
        blocks.append(_fence(mine.source))
        if show_solutions and full.source != mine.source:
            blocks.append(_dropdown("Solution", _fence(SOLUTION_MARKERS.sub("", full.source)),
                                    "practice-solution"))
        check = re.fullmatch(r'grader\.check\("([^"]+)"\)', mine.source.strip())
        if check and check.group(1) in tests:
            messages = check_messages(tests[check.group(1)])
            if messages:
                listing = "\n".join(f"- {_escape(m)}" for m in messages)
                blocks.append(_dropdown("Hints: what this check says when an answer is wrong",
                                        listing, "practice-hints"))
    return "\n\n".join(blocks) + "\n"


def colab_url(app, docname, name):
    """The Colab address of the practice's student notebook, or None without a Colab button."""
    theme = app.config.html_theme_options or {}
    colab = (theme.get("launch_buttons") or {}).get("colab_url", "").rstrip("/")
    branch = getattr(app.config, "colab_notebooks_branch", "")
    match = re.match(r"https://github\.com/([^/]+)/([^/]+?)/?$", theme.get("repository_url", ""))
    if not (colab and branch and match):
        return None
    folder = str(Path(docname).parent)
    return f"{colab}/github/{match.group(1)}/{match.group(2)}/blob/{branch}/{folder}/{name}.ipynb"


class PracticeDirective(SphinxDirective):
    """``{practice} <name>``: the practice ``<name>`` as a student sees it."""

    required_arguments = 1
    has_content = False

    def run(self):
        name = self.arguments[0]
        self.env.note_dependency(str(_source_dir(self.env.app) / f"{name}.py"))
        self.env.note_dependency(str(_source_dir(self.env.app) / "check_helpers.py"))
        student, solution, _ = built_practice(self.env.app, name)
        self.env.practice_pages = getattr(self.env, "practice_pages", {})
        self.env.practice_pages[self.env.docname] = name
        show = self.config.practices_show_solutions
        text = practice_markdown(student, solution, show)
        if show:
            text = "Each solution is folded under its answer cell: try first.\n\n" + text
        container = nodes.container(classes=["practice"])
        self.state.nested_parse(StringList(text.splitlines(), source=f"{name}.py"), 0, container)
        return [container]


class ColabRole(SphinxRole):
    """``{practice-colab}`<name>``: a link that opens the practice's student notebook in Colab."""

    def run(self):
        url = colab_url(self.env.app, self.env.docname, self.text)
        if url is None:
            message = self.inliner.reporter.error(
                "practice-colab: the book has no Colab launch button (launch_buttons: colab_url, "
                "repository: url on GitHub, colab_notebooks_branch)", line=self.lineno)
            return [], [message]
        return [nodes.reference(self.rawtext, "Open it in Google Colab", refuri=url)], []


# --- the Colab notebooks ---------------------------------------------------------------


def colab_notebook(student, helpers, version):
    """``student`` with a first cell that, on Colab, installs otter and unpacks the checks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(helpers, "check_helpers.py")
        for question, source in student.metadata.get("otter", {}).get("tests", {}).items():
            archive.writestr(f"tests/{question}.py", source)
    payload = base64.b64encode(buffer.getvalue()).decode()
    cell = nbformat.v4.new_code_cell(COLAB_SETUP.format(version=version, payload=payload))
    cell.metadata.update(tags=["colab-setup"], cellView="form", jupyter={"source_hidden": True})
    notebook = nbformat.from_dict(student)
    notebook.cells = [cell] + list(notebook.cells)
    return notebook


def _write_colab_notebooks(app, exception):
    try:
        if exception is None and app.builder.format == "html":
            from otter import __version__

            for docname, name in sorted(getattr(app.env, "practice_pages", {}).items()):
                student, _, helpers = built_practice(app, name)
                target = Path(app.outdir) / "_sources" / Path(docname).parent / f"{name}.ipynb"
                target.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(colab_notebook(student, helpers, __version__), target)
    finally:
        if "out" in app.practices_cache:
            shutil.rmtree(app.practices_cache["out"], ignore_errors=True)


def _init_cache(app):
    app.practices_cache = {}


def _purge(app, env, docname):
    getattr(env, "practice_pages", {}).pop(docname, None)


def _merge(app, env, docnames, other):
    env.practice_pages = getattr(env, "practice_pages", {})
    env.practice_pages.update({d: n for d, n in getattr(other, "practice_pages", {}).items() if d in docnames})


def setup(app):
    app.add_config_value("practices_show_solutions", True, "env", [bool])
    app.add_config_value("practices_source_dir", "exercises", "env", [str])
    app.add_directive("practice", PracticeDirective)
    app.add_role("practice-colab", ColabRole())
    app.connect("builder-inited", _init_cache)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("build-finished", _write_colab_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
