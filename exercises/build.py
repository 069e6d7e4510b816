"""Build the course kit of the Hands-On Practices: student, autograder and master notebooks.

Each practice is authored once, as a jupytext "percent" script
``exercises/practiceN_<topic>.py`` in otter-grader's assign format (raw cells
``# ASSIGNMENT CONFIG``, ``# BEGIN QUESTION``, ``# BEGIN SOLUTION``, ``# BEGIN TESTS`` ...;
solution lines marked ``# SOLUTION`` or inside ``# BEGIN SOLUTION`` / ``# END SOLUTION``).
This script converts each script to its master ``.ipynb`` and runs ``otter assign`` on it
(offline, no Docker).  The kit, under ``--out`` (default ``exercises/dist``, git-ignored)::

    <name>.zip                        what a student gets: <name>/<name>.ipynb + check_helpers.py
    <name>-autograder.zip             the autograder with public and hidden tests: upload it to
                                      Gradescope, or grade offline with ``make grade``
                                      (exercises/grade.py) or ``otter run -a <zip> <notebook>``
    <name>/student/<name>.ipynb       the student notebook (public checks only) + check_helpers.py
    <name>/autograder/<name>.ipynb    the notebook with the solutions filled in (+ tests/ and the
                                      files otter assign writes next to it)
    <name>/master/<name>.ipynb        the master: solutions and all tests in otter's assign format
                                      (+ check_helpers.py, requirements.txt); ``otter assign
                                      <name>.ipynb <folder>`` turns it into the rest

The book's practice pages render the student and solution notebooks (book/_ext/practices.py).

Usage::

    python exercises/build.py                  # all practices, solutions graded by otter
    python exercises/build.py --no-run-tests   # faster: skip grading the solutions
    python exercises/build.py --only practice1_relative_entropy
"""

import argparse
import contextlib
import io
import pathlib
import shutil
import sys
import tempfile
import time
import zipfile

import jupytext

HERE = pathlib.Path(__file__).resolve().parent
HELPERS = HERE / "check_helpers.py"
GRADING_REQUIREMENTS = HERE / "grading_requirements.txt"  # for otter's Docker image (Gradescope)
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def practice_sources():
    """The authored practice scripts, in book order."""
    return sorted(HERE.glob("practice[0-9]*_*.py"))


def write_master(source, staging):
    """Convert one authored script to its master notebook in ``staging``; return the path."""
    staging.mkdir(parents=True, exist_ok=True)
    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata.pop("jupytext", None)
    master = staging / f"{source.stem}.ipynb"
    jupytext.write(notebook, master, fmt="ipynb")
    shutil.copy(HELPERS, staging / HELPERS.name)
    shutil.copy(GRADING_REQUIREMENTS, staging / "requirements.txt")
    return master


def student_bundle(name, result, out):
    """Zip the student folder as ``<name>/...`` into ``out/<name>.zip``."""
    bundle = out / f"{name}.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((result / "student").iterdir()):
            archive.write(path, f"{name}/{path.name}")
    return bundle


def build_one(source, out, *, run_tests=True):
    """Run ``otter assign`` for one practice; return the paths it produced."""
    from otter.assign import main as otter_assign

    name = source.stem
    result = out / name
    if result.exists():
        shutil.rmtree(result)
    log = io.StringIO()
    with tempfile.TemporaryDirectory() as staging:
        master = write_master(source, pathlib.Path(staging) / "master")
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            otter_assign(str(master), str(result), no_run_tests=not run_tests)
        shutil.copytree(master.parent, result / "master")
    zips = sorted((result / "autograder").glob(f"{name}-autograder_*.zip"))
    if len(zips) != 1:
        raise RuntimeError(f"otter assign made {len(zips)} autograder zips for {name}:\n{log.getvalue()}")
    autograder = out / f"{name}-autograder.zip"
    shutil.copy(zips[0], autograder)
    return {
        "name": name,
        "student": result / "student" / f"{name}.ipynb",
        "solution": result / "autograder" / f"{name}.ipynb",
        "master": result / "master" / f"{name}.ipynb",
        "autograder": autograder,
        "bundle": student_bundle(name, result, out),
    }


def build_all(out, *, run_tests=True, only=None, verbose=True):
    """Build every practice (or those named in ``only``); return a list of result dicts."""
    out = pathlib.Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    built = []
    for source in practice_sources():
        if only and source.stem not in only:
            continue
        start = time.perf_counter()
        built.append(build_one(source, out, run_tests=run_tests))
        if verbose:
            graded = "solution graded 100%" if run_tests else "not graded"
            print(f"{source.stem:40s} {time.perf_counter() - start:6.1f} s  ({graded})", flush=True)
    return built


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "dist"), help="output folder (git-ignored)")
    parser.add_argument("--no-run-tests", action="store_true", help="do not grade the solutions")
    parser.add_argument("--only", nargs="*", help="practice names to build")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    built = build_all(args.out, run_tests=not args.no_run_tests, only=args.only)
    print(f"{len(built)} practices built into {args.out} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
