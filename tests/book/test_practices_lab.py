"""A student can work on the practices in JupyterLab: answer cells are editable, and typing works.

Issue 17 found every answer cell of every student notebook locked (``"editable": false``):
the tests had injected answers programmatically and never noticed.  Here

* every student notebook (built by exercises/build.py, as the book's zips are) is read: the
  cells a student fills (with ``...``) are editable and deletable, each question has one
  under its text and before its check, and otter's own cells (the set-up and the checks) are
  locked;
* in a real JupyterLab in headless Debian chromium, a student notebook is opened, its cells
  are run from the top, the check of question 1 fails on the blank answer, the answer is
  typed into the answer cell, run, and the check passes; typed into the locked check cell,
  the same keys change nothing.  Every browser request must go to 127.0.0.1; the whole browser test is
  bounded by ``BUDGET`` seconds.
"""
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import sync_playwright

from book_helpers import Deadline, jupyterlab, load_module, only_localhost, wait_for_idle_kernel
from test_browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 150.0  # seconds for the browser test, server start included
LIVE_PRACTICE = "practice3_moment_matching"


build = load_module("exercises_build", ROOT / "exercises" / "build.py")
PRACTICES = [path.stem for path in build.practice_sources()]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("practices")
    return {info["name"]: info for info in build.build_all(out, run_tests=False, verbose=False)}


def _locked(cell):
    return cell.metadata.get("editable") is False or cell.metadata.get("deletable") is False


def _check_of(cell):
    match = re.fullmatch(r'grader\.check\("([^"]+)"\)', cell.source.strip())
    return match and match.group(1)


@pytest.mark.parametrize("name", PRACTICES)
def test_answer_cells_are_editable_and_otter_cells_locked(built, name):
    notebook = nbformat.read(built[name]["student"], as_version=4)
    questions = list(notebook.metadata["otter"]["tests"])
    assert questions
    answers_before_check, answers = {}, []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tagged = "otter_answer_cell" in cell.metadata.get("tags", [])
        if tagged or re.search(r"(^|[\s=(\[,])\.\.\.($|[\s)\],])", cell.source, re.MULTILINE):
            assert tagged, f"{name}: a cell with ... is not an answer cell:\n{cell.source}"
            assert not _locked(cell), f"{name}: answer cell is locked:\n{cell.source}\n{cell.metadata}"
            answers.append(cell)
        elif _check_of(cell):
            assert _locked(cell), f"{name}: the check {cell.source} can be edited"
            answers_before_check[_check_of(cell)] = len(answers)
            answers = []
        elif "otter.Notebook(" in cell.source or "check_all()" in cell.source:
            assert _locked(cell), f"{name}: otter's cell can be edited:\n{cell.source}"
    assert sorted(answers_before_check) == sorted(questions)
    for question, count in answers_before_check.items():
        assert count >= 1, f"{name} {question}: no answer cell before its check"


def _cell_text(page, index):
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".cm-content").inner_text()


def _output_text(page, index):
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea").inner_text()


@pytest.mark.timeout(300)
def test_a_student_types_an_answer_in_jupyterlab(built, tmp_path):
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found: `make test` installs Debian's chromium")
    deadline = Deadline(BUDGET)
    info = built[LIVE_PRACTICE]
    work = tmp_path / "work"
    shutil.copytree(info["student"].parent, work)  # the notebook and check_helpers.py, as unzipped
    student = nbformat.read(info["student"], as_version=4)
    solution = nbformat.read(info["solution"], as_version=4)
    check = next(i for i, c in enumerate(student.cells) if _check_of(c) == "q1")
    answer = max(i for i in range(check) if "otter_answer_cell" in student.cells[i].metadata.get("tags", []))
    typed = re.sub(r"^[ \t]*# (BEGIN|END) SOLUTION\n|[ \t]*# SOLUTION$", "", solution.cells[answer].source,
                   flags=re.MULTILINE)
    assert typed != student.cells[answer].source
    outside = []
    with jupyterlab(work, tmp_path, deadline) as (base, token), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.route("**/*", only_localhost(outside))
            page.goto(f"{base}/lab/tree/{info['student'].name}?token={token}", timeout=deadline.ms())
            cells = page.locator(".jp-Notebook .jp-Cell")
            cells.first.locator(".cm-content").wait_for(timeout=deadline.ms())
            wait_for_idle_kernel(page, deadline)
            # run from the top through the blank answer and its check (Shift+Enter, cell by cell)
            cells.first.click(timeout=deadline.ms())
            for _ in range(check + 1):
                page.keyboard.press("Shift+Enter")
            page.wait_for_function(
                "i => { const c = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];"
                " return c && /results:|passed!/.test(c.querySelector('.jp-OutputArea')?.innerText || ''); }",
                arg=check, timeout=deadline.ms())
            blank = _output_text(page, check)
            assert "results:" in blank and "passed!" not in blank, blank

            # the locked check: its editor takes the focus (edit mode) but not the typing
            cells.nth(check).locator(".cm-content").click(timeout=deadline.ms())
            page.locator(".jp-Notebook.jp-mod-editMode").wait_for(timeout=deadline.ms())
            page.keyboard.type("zzz")
            assert _cell_text(page, check).strip() == 'grader.check("q1")'
            page.keyboard.press("Escape")

            # the answer cell: select its text, type the answer, run it, run the check
            cells.nth(answer).locator(".cm-content").click(timeout=deadline.ms())
            page.keyboard.press("Control+a")
            page.keyboard.type("# my answer")
            page.keyboard.press("Enter")
            page.keyboard.insert_text(typed)
            assert _cell_text(page, answer).startswith("# my answer")
            assert "return" in _cell_text(page, answer)
            for _ in range(check - answer + 1):  # the answer, then the cells through the check
                page.keyboard.press("Shift+Enter")
            page.wait_for_function(
                "i => /passed!/.test(document.querySelectorAll('.jp-Notebook .jp-Cell')[i]"
                ".querySelector('.jp-OutputArea')?.innerText || '')", arg=check, timeout=deadline.ms())
            assert "passed!" in _output_text(page, check) and "results:" not in _output_text(page, check)
            assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
        except Exception:
            shot = ROOT / "_artifacts" / "screenshots" / "practice_jupyterlab_failure.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
            print("notebook:", page.locator(".jp-Notebook").first.inner_text()[:3000])
            raise
        finally:
            browser.close()
    assert outside == [], f"requests left 127.0.0.1: {outside}"
