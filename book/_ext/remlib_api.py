"""Sphinx glue: the API reference page, generated from remlib itself at build time.

``.. remlib-api::`` (book/api.md, inside an ``{eval-rst}`` block) expands to one section
per module of remlib, in the order of the module table in the docstring of
``remlib/__init__.py``: the module's line of that table, a summary table (autosummary) and
the documentation (autodoc, numpy-style docstrings read by napoleon) of every name of
``remlib.__all__`` that the module defines. A name defined in a module that the table does
not list goes to a last section, *Other names*. So a name added to ``remlib.__all__``
appears on the page without editing it, and a name removed disappears.
"""
import importlib
import inspect
import re

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

_TABLE_ROW = re.compile(r"^``(remlib\.\w+)``\s+(.+?)\s*$", re.MULTILINE)


def module_table(package):
    """[(module name, one-line description)] from the package docstring's module table."""
    return _TABLE_ROW.findall(package.__doc__ or "")


def public_names_by_module(package_name="remlib"):
    """{defining module: [public names]} for every name of the package's ``__all__``."""
    package = importlib.import_module(package_name)
    groups = {}
    for name in package.__all__:
        module = getattr(getattr(package, name), "__module__", None) or package_name
        groups.setdefault(module, []).append(name)
    return package, groups


def _directive(obj):
    if inspect.isclass(obj):
        return "autoclass", [":members:"]
    if callable(obj):
        return "autofunction", []
    return "autodata", []


def api_rst(package_name="remlib"):
    """The reStructuredText of the whole reference (one section per module)."""
    package, groups = public_names_by_module(package_name)
    sections = [(module, description) for module, description in module_table(package) if module in groups]
    listed = {module for module, _ in sections}
    others = sorted(module for module in groups if module not in listed)
    lines = [f".. currentmodule:: {package_name}", ""]

    def section(title, intro, names):
        lines.extend([title, "-" * len(title), "", intro, "", ".. autosummary::", ""])
        lines.extend(f"   {name}" for name in names)
        lines.append("")
        for name in names:
            directive, options = _directive(getattr(package, name))
            lines.append(f".. {directive}:: {name}")
            lines.extend(f"   {option}" for option in options)
            lines.append("")

    for module, description in sections:
        section(f"``{module}``", description[0].upper() + description[1:] + ".", groups[module])
    if others:
        names = [name for module in others for name in groups[module]]
        section("Other names", "Defined in " + ", ".join(f"``{m}``" for m in others) + ".", names)
    return lines


class RemlibAPI(SphinxDirective):
    """``.. remlib-api::`` -- the generated reference of every public name of remlib."""

    has_content = False

    def run(self):
        try:
            lines = api_rst()
        except Exception as error:  # an import error of remlib: a build error naming it
            raise self.error(f"remlib-api: cannot read remlib's public names: {error!r}") from error
        parsed = nodes.Element()
        nested_parse_with_titles(self.state, StringList(lines, source="<remlib-api>"), parsed)
        return parsed.children


def setup(app):
    app.add_directive("remlib-api", RemlibAPI)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
