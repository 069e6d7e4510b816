"""Grade a whole class for one Hands-On Practice, offline and without Docker.

Every submission is graded by ``otter run`` (otter-grader's non-containerised grading, the
same tests as the Gradescope autograder, public and hidden) in its own process, which is
killed when it exceeds the time limit, so one endless loop cannot stop the class.  The
result is one CSV gradebook::

    student,q1,q2,...,total,possible,note

one row per submission: the points of every question, their sum, the practice's maximum,
and a note when the submission could not be graded (the notebook is not valid JSON, it is
another practice, its grading raised) or ran out of time (then its points are 0).  Next to
it, ``<gradebook>-feedback/<student>.txt`` holds otter's report of each submission: the
result of every test, hidden ones included (for the teacher), or the end of otter's output
when grading failed.

Submissions, in ``SUBMISSIONS``:

* ``<student>.ipynb`` (or ``<student>.zip``, a zip holding the notebook): the student is the
  file name without its extension;
* ``<student>/`` a folder holding the student's notebook under any name (as a JupyterHub
  collects them); a folder with no or several notebooks gets a note.

Usage::

    python exercises/grade.py practice3_moment_matching submissions/
    python exercises/grade.py practice3_moment_matching submissions/ --out grades.csv \\
        --timeout 300 --jobs 2

The autograder is ``exercises/dist/<practice>-autograder.zip``, built by ``make assignments``
(and built here, without grading the solution, when it is missing).
"""

import argparse
import concurrent.futures
import csv
import importlib.util
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
DIST = HERE / "dist"
DEFAULT_TIMEOUT = 300.0
"""Seconds one submission may take to grade (grading a finished notebook takes seconds)."""


def autograder_zip(practice, dist=DIST):
    """The autograder zip of ``practice`` in ``dist``, built (tests not run) when missing."""
    path = pathlib.Path(dist) / f"{practice}-autograder.zip"
    if not path.is_file():
        spec = importlib.util.spec_from_file_location("exercises_build", HERE / "build.py")
        build = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(build)
        names = [source.stem for source in build.practice_sources()]
        if practice not in names:
            raise ValueError(f"practice must be one of {names}, got {practice!r}")
        build.build_all(dist, run_tests=False, only=[practice])
    return path


def question_points(autograder):
    """``{question: maximum points}`` of an autograder zip (``tests/q1.py`` -> ``q1``), in natural order."""
    from otter.test_files import ExceptionTestFile

    points = {}
    with zipfile.ZipFile(autograder) as archive:
        for member in archive.namelist():
            if re.fullmatch(r"tests/[^/]+\.py", member):
                name = pathlib.PurePath(member).stem
                points[name] = ExceptionTestFile.from_string(archive.read(member).decode(), path=member).possible
    order = sorted(points, key=lambda name: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)])
    return {name: points[name] for name in order}


def find_submissions(folder):
    """``[(student, path or None, problem)]`` for every submission in ``folder``, sorted by student."""
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise ValueError(f"submissions must be a folder, got {str(folder)!r}")
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix in (".ipynb", ".zip"):
            found.append((entry.stem, entry, ""))
        elif entry.is_dir():
            notebooks = sorted(p for p in entry.glob("*.ipynb") if not p.name.startswith("."))
            if len(notebooks) == 1:
                found.append((entry.name, notebooks[0], ""))
            else:
                names = ", ".join(p.name for p in notebooks) or "none"
                found.append((entry.name, None, f"not graded: the folder must hold one notebook, it holds {names}"))
    return found


def _last_line(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def _kill_processes_naming(folder):
    """Kill every process whose command line names ``folder`` (Linux; elsewhere nothing)."""
    proc = pathlib.Path("/proc")
    if not proc.is_dir():
        return
    needle = str(folder).encode()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "cmdline").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except OSError:
            pass  # the process ended meanwhile


def grade_one(submission, autograder, timeout):
    """Grade one notebook with ``otter run`` in its own process group.

    Returns ``({question: points}, note, report)``: the points are empty when grading failed
    or timed out, the note then says why; the report is otter's output for every question (or
    the end of its output when grading failed).
    """
    with tempfile.TemporaryDirectory(prefix="rem-grade-") as scratch:
        scratch = pathlib.Path(scratch)
        # otter run's temporary folders and its kernel's connection file go into scratch, so a
        # killed run leaves no files behind, and its kernel is found by its command line
        env = dict(os.environ, TMPDIR=str(scratch), JUPYTER_RUNTIME_DIR=str(scratch / "runtime"))
        command = [sys.executable, "-m", "otter", "run", "--no-logo", "-a", str(autograder),
                   "-o", str(scratch), str(submission)]
        process = subprocess.Popen(command, cwd=scratch, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # otter and its children
            process.communicate()
            _kill_processes_naming(scratch)  # the kernel, which runs in a session of its own
            note = f"timed out after {timeout:g} s (an endless loop?): 0 points"
            return {}, note, note
        results = scratch / "results.json"
        if process.returncode != 0 or not results.is_file():
            tail = "\n".join(output.splitlines()[-40:])
            return {}, f"not graded: {_last_line(output)}", f"not graded; the end of otter's output:\n{tail}"
        tests = [t for t in json.loads(results.read_text())["tests"] if "max_score" in t]
        report = "\n\n".join(f"{t['name']}: {float(t['score']):g} of {float(t['max_score']):g} points\n"
                               f"{t.get('output', '')}" for t in tests)
        return {t["name"]: float(t["score"]) for t in tests}, "", report


def grade_class(practice, submissions, *, out=None, timeout=DEFAULT_TIMEOUT, jobs=1, dist=DIST,
                verbose=True):
    """Grade every submission of ``submissions`` for ``practice``; write and return the gradebook.

    Parameters
    ----------
    practice : str
        Practice name, e.g. ``"practice3_moment_matching"``.
    submissions : path
        Folder of submissions (see the module docstring).
    out : path, optional
        CSV file to write; default ``<submissions>-grades.csv`` next to the folder.
    timeout : float
        Seconds one submission may take to grade.
    jobs : int
        Submissions graded at the same time.

    Returns
    -------
    rows : list of dict
        One dict per submission with keys ``student``, the question names, ``total``,
        ``possible`` and ``note`` (as written to the CSV; each submission's report goes to
        ``<out>-feedback/<student>.txt``).

    Raises
    ------
    ValueError
        If ``timeout`` or ``jobs`` is not positive, or the practice or folder does not exist.
    """
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if not (isinstance(jobs, int) and jobs >= 1):
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    submissions = pathlib.Path(submissions).resolve()
    found = find_submissions(submissions)
    autograder = autograder_zip(practice, dist).resolve()
    maxima = question_points(autograder)
    names = list(maxima)
    out = pathlib.Path(out) if out else submissions.with_name(f"{submissions.name}-grades.csv")
    feedback = out.with_name(f"{out.stem}-feedback")
    feedback.mkdir(parents=True, exist_ok=True)

    def task(item):
        student, path, problem = item
        start = time.perf_counter()
        points, note, report = grade_one(path, autograder, timeout) if path else ({}, problem, problem)
        (feedback / f"{student}.txt").write_text(report + "\n")
        if verbose:
            print(f"{student:30s} {time.perf_counter() - start:6.1f} s  "
                  f"{sum(points.values()):g} points  {note}", flush=True)
        return student, points, note

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        graded = list(pool.map(task, found))
    possible = sum(maxima.values())
    rows = []
    for student, points, note in graded:
        row = {"student": student}
        row.update({name: points.get(name, 0.0) for name in names})
        row.update(total=sum(row[name] for name in names), possible=possible, note=note)
        rows.append(row)
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["student", *names, "total", "possible", "note"])
        writer.writeheader()
        writer.writerows(rows)
    if verbose:
        print(f"{len(rows)} submissions graded into {out} (otter's reports in {feedback}); maximum points: "
              + ", ".join(f"{name} {value:g}" for name, value in maxima.items()) + f", total {possible:g}")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("practice", help="practice name, e.g. practice3_moment_matching")
    parser.add_argument("submissions", help="folder of submitted notebooks")
    parser.add_argument("--out", help="CSV gradebook (default: <submissions>-grades.csv)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds per submission (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    parser.add_argument("--dist", default=str(DIST), help="folder of the built assignments")
    args = parser.parse_args(argv)
    try:
        grade_class(args.practice, args.submissions, out=args.out, timeout=args.timeout,
                    jobs=args.jobs, dist=args.dist)
    except ValueError as error:
        parser.error(str(error))
    return 0


if __name__ == "__main__":
    sys.exit(main())
