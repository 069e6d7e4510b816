"""The course kit of the Hands-On Practices: what `make assignments` builds and `make grade`.

* exercises/build.py writes, for a practice, every file its docstring's layout names (the
  layout the "For teachers" page documents): the student notebook and zip, the autograder
  zip, the notebook with the solutions and the master;
* exercises/grade.py grades a class folder with otter (offline, no Docker) into a CSV
  gradebook: a correct, a partly wrong, a blank, a renamed (another file name, in a folder),
  a hanging (an endless loop at the top level of a cell) and a broken (not JSON) submission,
  and a folder without a notebook.  The points come from otter's own grading; the maxima are
  read from the autograder's test files, so a correct submission's total equals the maximum
  only if both agree.  The hanging one is stopped at the time limit and leaves no process.
"""
import ast
import csv
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from book_helpers import load_module

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "exercises"
PRACTICE = "practice3_moment_matching"  # the shortest practice to grade
OTHER = "practice1_relative_entropy"  # a submission of the wrong practice
TIME_LIMIT = 60.0  # seconds per submission in the test (a solution takes 7-20 s here)


build = load_module("exercises_build", EXERCISES / "build.py")
grade = load_module("exercises_grade", EXERCISES / "grade.py")


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """The kit of one practice, built (without grading the solution) into a temporary dist."""
    dist = tmp_path_factory.mktemp("dist")
    built = {b["name"]: b for b in build.build_all(dist, run_tests=False, only=[PRACTICE, OTHER], verbose=False)}
    return dist, built[PRACTICE]


def documented_layout():
    """The paths of the layout in build.py's docstring, with <name> in place of the practice."""
    doc = build.__doc__
    block = doc[doc.index("::") + 2 : doc.index("The book's")]
    return re.findall(r"^    (<name>\S*)", block, re.MULTILINE)  # entries; continuations indent more


def test_the_kit_has_every_documented_file(kit):
    dist, info = kit
    layout = documented_layout()
    assert len(layout) == 5, layout
    for entry in layout:
        path = dist / entry.replace("<name>", PRACTICE)
        assert path.is_file(), f"{entry} missing from the kit"
    assert {"student", "solution", "master", "autograder", "bundle"} <= set(info)
    teachers = (ROOT / "book" / "practices" / "teachers.md").read_text()
    for entry in layout:
        assert f"`{entry}`" in teachers, f"the teachers page does not document {entry}"


def test_student_solution_and_master_differ_as_they_should(kit):
    dist, info = kit
    student = nbformat.read(info["student"], as_version=4)
    solution = nbformat.read(info["solution"], as_version=4)
    master = info["master"].read_text()
    answers = [i for i, c in enumerate(student.cells) if "otter_answer_cell" in c.metadata.get("tags", [])]
    assert answers and all("..." in student.cells[i].source for i in answers)
    for i in answers:  # the same cell, filled in
        assert "otter_assign_solution_cell" in solution.cells[i].metadata.get("tags", [])
        assert solution.cells[i].source != student.cells[i].source
    assert "# BEGIN TESTS" in master and "# HIDDEN" in master  # the master keeps every test
    with zipfile.ZipFile(info["bundle"]) as archive:
        assert sorted(archive.namelist()) == [f"{PRACTICE}/check_helpers.py", f"{PRACTICE}/{PRACTICE}.ipynb"]
    with zipfile.ZipFile(info["autograder"]) as archive:
        tests = [n for n in archive.namelist() if re.fullmatch(r"tests/q\d+\.py", n)]
        assert tests and any("hidden=True" in archive.read(n).decode() for n in tests)


def _code_cell(source):
    return nbformat.v4.new_code_cell(source)


def _make_wrong(notebook, question, names):
    """After the answer cell of ``question``, double what each of ``names`` gives."""
    cell = _code_cell(
        f"for _name in {names!r}:\n"
        "    _value = globals()[_name]\n"
        "    globals()[_name] = ((lambda f: lambda *a, **k: 2 * f(*a, **k))(_value)\n"
        "                        if callable(_value) else 2 * _value)")
    check = next(i for i, c in enumerate(notebook.cells) if c.source.strip() == f'grader.check("{question}")')
    notebook.cells.insert(check, cell)
    return notebook


def _test_arguments(autograder, question):
    """The names the tests of ``question`` take from the student's notebook."""
    with zipfile.ZipFile(autograder) as archive:
        tree = ast.parse(archive.read(f"tests/{question}.py").decode())
    return sorted({a.arg for node in tree.body if isinstance(node, ast.FunctionDef) for a in node.args.args})


@pytest.fixture(scope="module")
def class_folder(kit, tmp_path_factory):
    dist, info = kit
    folder = tmp_path_factory.mktemp("class") / "submissions"
    folder.mkdir()
    solution = nbformat.read(info["solution"], as_version=4)
    nbformat.write(solution, folder / "alice.ipynb")  # correct
    wrong = _make_wrong(nbformat.read(info["solution"], as_version=4), "q1", _test_arguments(info["autograder"], "q1"))
    nbformat.write(wrong, folder / "bob.ipynb")  # partly wrong: q1
    shutil.copy(info["student"], folder / "carol.ipynb")  # blank
    (folder / "dave").mkdir()
    nbformat.write(solution, folder / "dave" / "Copy of practice 3 (1).ipynb")  # renamed
    hanging = nbformat.read(info["solution"], as_version=4)
    hanging.cells.insert(3, _code_cell("while True:\n    pass"))
    nbformat.write(hanging, folder / "erin.ipynb")  # an endless loop at the top level
    (folder / "frank.ipynb").write_text('{"cells": [')  # broken: not JSON
    (folder / "gina").mkdir()  # a folder without a notebook
    shutil.copy(dist / OTHER / "student" / f"{OTHER}.ipynb", folder / "harry.ipynb")  # another practice
    return folder


@pytest.fixture(scope="module")
def gradebook(kit, class_folder):
    dist, info = kit
    out = class_folder.parent / "grades.csv"
    start = time.perf_counter()
    rows = grade.grade_class(PRACTICE, class_folder, out=out, timeout=TIME_LIMIT, jobs=2, dist=dist,
                             verbose=False)
    elapsed = time.perf_counter() - start
    with open(out, newline="") as handle:
        table = list(csv.DictReader(handle))
    return rows, table, elapsed


@pytest.mark.timeout(600)
def test_gradebook_of_a_class(kit, gradebook):
    dist, info = kit
    rows, table, elapsed = gradebook
    maxima = grade.question_points(info["autograder"])
    questions = list(maxima)
    assert questions == [f"q{i}" for i in range(1, len(questions) + 1)]
    possible = sum(maxima.values())
    assert list(table[0]) == ["student", *questions, "total", "possible", "note"]
    by_student = {row["student"]: row for row in table}
    assert sorted(by_student) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "harry"]
    points = {s: {q: float(r[q]) for q in questions} for s, r in by_student.items()}
    for student, row in by_student.items():
        assert float(row["total"]) == pytest.approx(sum(points[student].values())), student
        assert float(row["possible"]) == possible
    # correct, and correct under another name: every point (otter's grading = the test files' maxima)
    for student in ("alice", "dave"):
        assert points[student] == maxima, (student, by_student[student]["note"])
        assert by_student[student]["note"] == ""
    # partly wrong: q1 lost, the rest kept
    assert points["bob"]["q1"] == 0.0
    assert {q: p for q, p in points["bob"].items() if q != "q1"} == {q: m for q, m in maxima.items() if q != "q1"}
    assert by_student["bob"]["note"] == ""
    # blank: graded, nothing scored
    assert float(by_student["carol"]["total"]) == 0.0 and by_student["carol"]["note"] == ""
    # hanging: stopped at the limit, zero, with a note
    assert float(by_student["erin"]["total"]) == 0.0
    assert by_student["erin"]["note"] == f"timed out after {TIME_LIMIT:g} s (an endless loop?): 0 points"
    # broken and empty: a note that says why
    assert float(by_student["frank"]["total"]) == 0.0
    assert by_student["frank"]["note"].startswith("not graded:") and "JSON" in by_student["frank"]["note"]
    assert by_student["gina"]["note"] == "not graded: the folder must hold one notebook, it holds none"
    assert float(by_student["harry"]["total"]) == 0.0
    assert by_student["harry"]["note"].startswith("not graded:") and f"assignment '{OTHER}'" in by_student["harry"]["note"]
    assert [r["student"] for r in rows] == [r["student"] for r in table]
    # six otter runs (about 10-20 s each) and one at the limit, two at a time
    assert elapsed < 4 * TIME_LIMIT


def test_feedback_reports(gradebook, class_folder):
    rows, table, elapsed = gradebook
    feedback = class_folder.parent / "grades-feedback"
    assert sorted(p.stem for p in feedback.glob("*.txt")) == sorted(r["student"] for r in table)
    alice = (feedback / "alice.txt").read_text()
    assert all(re.search(rf"^{q}: (\S+) of \1 points$", alice, re.MULTILINE) for q in table[0] if q[:1] == "q")
    assert "failed" not in alice
    bob = (feedback / "bob.txt").read_text()
    q1 = bob[bob.index("q1:"):bob.index("q2:")]
    assert q1.startswith("q1: 0 of") and "Test case failed" in q1 and "AssertionError" in q1
    assert (feedback / "erin.txt").read_text().startswith("timed out")
    assert "NotJSONError" in (feedback / "frank.txt").read_text()


def test_no_grading_process_is_left_behind(gradebook):
    time.sleep(2)  # a killed kernel's parent poller needs a moment
    left = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"rem-grade-" in cmdline:
                left.append(cmdline.decode(errors="replace"))
    assert left == []


def test_bad_arguments_get_clear_errors(kit, tmp_path):
    dist, _ = kit
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        grade.grade_class(PRACTICE, tmp_path, timeout=0, dist=dist)
    with pytest.raises(ValueError, match="jobs must be an integer >= 1"):
        grade.grade_class(PRACTICE, tmp_path, jobs=0, dist=dist)
    with pytest.raises(ValueError, match="submissions must be a folder"):
        grade.grade_class(PRACTICE, tmp_path / "missing", dist=dist)
    with pytest.raises(ValueError, match="practice must be one of"):
        grade.grade_class("practice9_nothing", tmp_path, dist=tmp_path)


def test_make_grade_runs_grade_py_with_the_settings():
    """`make -n` (nothing is run) shows the command the target runs."""
    command = ["make", "-n", "-C", str(ROOT), "grade", f"PRACTICE={PRACTICE}", "SUBMISSIONS=class folder",
               "TIMEOUT=42", "JOBS=2", "GRADES=out.csv"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(l for l in output.splitlines() if "exercises/grade.py" in l)
    assert f'"{PRACTICE}" "class folder" --timeout 42 --jobs 2 --out "out.csv"' in line


# --- the practices in the book --------------------------------------------------------------


def _page_text(html):
    """The text of a built page's article (tags dropped, entities decoded, spaces collapsed)."""
    import html as html_module

    article = html[html.index('<article'):html.index('</article>')]
    text = html_module.unescape(re.sub(r"<[^>]+>", "", article))
    return " ".join(text.split())


def _squash(text):
    """``text`` with spaces collapsed and Sphinx's smart quotes, dashes and ellipses undone."""
    for fancy, plain in [("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"'),
                         ("\u2026", "..."), ("\u2014", "---"), ("\u2013", "--")]:
        text = text.replace(fancy, plain)
    return " ".join(text.split())


@pytest.fixture(scope="module")
def practice_books(tmp_path_factory):
    """The Hands-On Practices part built twice as throw-away books: solutions shown, and hidden
    (``practices_show_solutions: false``), each with its own copy of exercises/."""
    from book_helpers import build as build_book, make_book

    pages = {f"book/practices/{p.stem}": p.read_text()
             for p in [ROOT / "book" / "practices" / "index.md",
                       *sorted((ROOT / "book" / "practices").glob("practice*.md")),
                       ROOT / "book" / "practices" / "teachers.md"]}
    books = {}
    for show in (True, False):
        directory = make_book(tmp_path_factory.mktemp(f"practices_book_{show}"), pages)
        exercises = directory / "exercises"
        exercises.mkdir()
        for path in [*EXERCISES.glob("*.py"), EXERCISES / "grading_requirements.txt"]:
            shutil.copy(path, exercises / path.name)
        build.build_all(exercises / "dist", run_tests=False, verbose=False)  # the downloads
        config = directory / "_config.yml"
        assert "practices_show_solutions: true" in config.read_text()
        config.write_text(config.read_text().replace("practices_show_solutions: true",
                                                     f"practices_show_solutions: {str(show).lower()}"))
        code, log = build_book(directory)
        assert code == 0, log[-4000:]
        books[show] = directory / "_build" / "html"
    return books


def _practices():
    return [path.stem for path in build.practice_sources()]


@pytest.mark.parametrize("name", _practices())
def test_practice_page_shows_the_whole_practice(practice_books, kit, name, tmp_path):
    extension = load_module("practices_ext", ROOT / "book" / "_ext" / "practices.py")
    (info,) = build.build_all(tmp_path, run_tests=False, only=[name], verbose=False)
    student = nbformat.read(info["student"], as_version=4)
    solution = nbformat.read(info["solution"], as_version=4)
    tests = student.metadata["otter"]["tests"]
    for show, html in practice_books.items():
        page = (html / "book" / "practices" / f"{name}.html").read_text()
        text = _page_text(page)
        squashed = _squash(text)
        # every code cell as the student gets it (starter code with ..., the checks), none run
        for cell in student.cells:
            if cell.cell_type == "code":
                assert _squash(cell.source) in squashed, f"{name}: code cell missing:\n{cell.source}"
        assert "cell_output" not in page and "cell_input" not in page, f"{name}: the page executed cells"
        # every question and the hints its public checks give
        for question, source in tests.items():
            assert f'grader.check("{question}")' in text
            for message in extension.check_messages(source):
                assert _squash(message) in squashed, f"{name} {question}: hint missing: {message}"
        assert text.count("Hints: what this check says") == sum(
            1 for source in tests.values() if extension.check_messages(source))
        for cell in student.cells:
            for line in cell.source.splitlines() if cell.cell_type == "markdown" else []:
                if line.startswith("**Question"):
                    assert re.match(r"\*\*(Question \d+)", line).group(1) in text
        # the solutions: folded when shown, absent when hidden
        answers = [(mine, full) for mine, full in zip(student.cells, solution.cells) if mine.source != full.source]
        assert answers
        assert page.count("practice-solution") == (len(answers) if show else 0), (name, show)
        for mine, full in answers:
            shown = _squash(extension.SOLUTION_MARKERS.sub("", full.source))
            assert (shown in squashed) == show, f"{name} (solutions shown: {show}):\n{full.source}"
        assert re.search(r"<details[^>]*practice-solution", page) or not show  # a dropdown, folded


def test_practice_pages_open_the_student_notebook_in_colab(practice_books):
    """The Colab link opens the student notebook that the build writes to _sources (pushed to
    the notebooks branch); its first cell installs otter and unpacks the checks on Colab only."""
    import os
    import sys
    import types

    import yaml
    from IPython.core.inputtransformer2 import TransformerManager

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    org_repo = "/".join(config["repository"]["url"].rstrip("/").split("/")[-2:])
    branch = config["sphinx"]["config"]["colab_notebooks_branch"]
    html = practice_books[True]
    for name in _practices():
        page = (html / "book" / "practices" / f"{name}.html").read_text()
        url = f"https://colab.research.google.com/github/{org_repo}/blob/{branch}/book/practices/{name}.ipynb"
        assert f'href="{url}"' in page, name
        notebook = nbformat.read(html / "_sources" / "book" / "practices" / f"{name}.ipynb", as_version=4)
        nbformat.validate(notebook)
        setup, cells = notebook.cells[0], notebook.cells[1:]
        assert 'if "google.colab" in sys.modules:' in setup.source
        assert not any("..." not in c.source and "otter_answer_cell" in c.metadata.get("tags", []) for c in cells)
        python = TransformerManager().transform_cell(setup.source)
        calls = []
        ipython = types.SimpleNamespace(run_line_magic=lambda *a: calls.append(a))
        exec(python, {"get_ipython": lambda: ipython})
        assert calls == []  # outside Colab: nothing
        work = Path(html.parent / f"colab-{name}")
        work.mkdir()
        here = os.getcwd()
        sys.modules["google.colab"] = types.ModuleType("google.colab")
        try:
            os.chdir(work)
            exec(python, {"get_ipython": lambda: ipython})
        finally:
            os.chdir(here)
            del sys.modules["google.colab"]
        assert calls and "otter-grader==" in " ".join(calls[0][1:])
        assert (work / "check_helpers.py").read_text() == (EXERCISES / "check_helpers.py").read_text()
        questions = sorted(p.stem for p in (work / "tests").glob("*.py"))
        assert questions == sorted(notebook.metadata["otter"]["tests"])
        assert not any("hidden=True" in p.read_text() for p in (work / "tests").glob("*.py"))


def test_pages_do_not_state_what_the_student_derives():
    """Practices 3, 7 and 8: the page's introduction does not give the answers."""
    given = {"practice3_moment_matching": [r"1/(2\beta"], "practice7_dynamics": [r"1 - \tfrac12\ln 2"],
             "practice8_gaussian_chain": ["3nk/(2n^2+1)", "33/28"]}
    for name, answers in given.items():
        text = (ROOT / "book" / "practices" / f"{name}.md").read_text()
        for answer in answers:
            assert answer not in text, (name, answer)
