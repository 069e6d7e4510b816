"""Time the Hands-On Practices: building them, grading them, and each ``grader.check``.

Prints a markdown table. For every practice: the time of ``otter assign`` with grading of the
solution (what ``make assignments`` does), the time of otter's grading of the solution
notebook alone (``otter run``'s code path, in a fresh kernel), and the slowest
``grader.check("qN")`` over its questions, called through ``otter.Notebook.check`` with the
solution's variables and the public tests the student sees.  Also the time of the largest call
a check makes with a valid but slow answer (practice 2's histogram as a Python loop), against
the per-call limit of ``check_helpers.DEFAULT_TIMEOUT``.

Usage: ``python exercises/benchmark_checks.py [--out DIR]`` (default: a temporary folder).
"""

import argparse
import contextlib
import io
import json
import os
import pathlib
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build  # noqa: E402


def solution_namespace(notebook_path):
    """Execute the solution notebook's code cells (without otter's cells) in one namespace."""
    import matplotlib

    matplotlib.use("Agg")
    env = {"__name__": "__main__"}
    notebook = json.loads(pathlib.Path(notebook_path).read_text())
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in notebook["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "code" and "otter.Notebook" not in source and "grader.check" not in source:
                exec(compile(source, str(notebook_path), "exec"), env)
    return env


def slowest_check(info):
    """The slowest grader.check over the questions of one practice (seconds, question)."""
    import otter

    student_dir = info["student"].parent
    env = solution_namespace(info["solution"])
    questions = sorted(json.loads(info["student"].read_text())["metadata"]["otter"]["tests"])
    cwd = os.getcwd()
    os.chdir(student_dir)
    sys.path.insert(0, str(student_dir))
    try:
        grader = otter.Notebook(info["student"].name)
        times = []
        for question in questions:
            start = time.perf_counter()
            result = grader.check(question, global_env=env)
            times.append((time.perf_counter() - start, question))
            if not result.passed_all:
                raise RuntimeError(f"{info['name']} {question} fails on the solution:\n{result}")
    finally:
        os.chdir(cwd)
        sys.path.remove(str(student_dir))
    return max(times)


LOOP_HISTOGRAM = """
def histogram_density(samples, edges):
    counts = [0] * (len(edges) - 1)
    for s in samples:
        for i in range(len(edges) - 1):
            if edges[i] <= s < edges[i + 1]:
                counts[i] += 1
                break
    return np.array([c / (len(samples) * (edges[i + 1] - edges[i])) for i, c in enumerate(counts)])
"""
"""A valid but slow answer to practice 2's Q1: a Python loop over samples and bins."""


def slowest_call_of_a_loop_answer(info):
    """Practice 2's Q3 check (200,000 samples through ``histogram_density``) with the loop
    answer: the time of its slowest checked call, to compare with ``DEFAULT_TIMEOUT``."""
    import check_helpers

    env = solution_namespace(info["solution"])
    exec(LOOP_HISTOGRAM, env)
    start = time.perf_counter()
    env["distance_pmf"](env["r_samples"], env["edges_r"])
    return time.perf_counter() - start, check_helpers.DEFAULT_TIMEOUT


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="output folder (default: temporary)")
    args = parser.parse_args(argv)
    from otter.api import grade_submission

    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(args.out or tmp)
        rows, total_start = [], time.perf_counter()
        for source in build.practice_sources():
            start = time.perf_counter()
            info = build.build_one(source, out, run_tests=True)
            assign_time = time.perf_counter() - start
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                results = grade_submission(str(info["solution"]), str(info["autograder"]), quiet=True)
            grade_time = time.perf_counter() - start
            assert results.total == results.possible
            check_time, question = slowest_check(info)
            rows.append((info["name"], assign_time, grade_time, check_time, question))
            if info["name"] == "practice2_pmf":
                loop_time, limit = slowest_call_of_a_loop_answer(info)
        total = time.perf_counter() - total_start
    print("| practice | otter assign + grading (s) | otter grading alone (s) | slowest grader.check (s) |")
    print("|---|---|---|---|")
    for name, assign_time, grade_time, check_time, question in rows:
        print(f"| {name} | {assign_time:.1f} | {grade_time:.1f} | {check_time:.2f} ({question}) |")
    print(f"\npractice 2, Q3 with a Python-loop histogram_density: {loop_time:.2f} s for the checked "
          f"call (limit {limit:g} s per call)")
    print(f"all practices: {sum(r[1] for r in rows):.0f} s to build and grade, "
          f"{sum(r[2] for r in rows):.0f} s to grade the solutions again; whole script {total:.0f} s")


if __name__ == "__main__":
    main()
