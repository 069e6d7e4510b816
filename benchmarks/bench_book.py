"""How long the book takes to build: cold from a fresh clone, per page, and cached.

Usage: .venv/bin/python benchmarks/bench_book.py [--keep]

Clones the repository's committed state (HEAD) into a temporary directory and, as a user of
a fresh clone would, runs ``make env`` (the clone's own ``.venv``; pip's download cache
makes this faster than on a new machine), then ``make book`` twice: first cold (no
execution cache, no numba cache, no simulation data: every page executes and every kernel
compiles), then again with nothing changed. (The clone must have its own environment: an
editable install of remlib in a shared ``.venv`` would run this checkout's remlib instead.)
Writes ``benchmarks/results/book.json``: the wall times and each page's execution time,
against the targets: cold build < 6 min, cached rebuild < 30 s, no page over 30 s except
the biomolecular page (three alanine-dipeptide simulations when ``data/`` is empty), whose
budget is 4 min cold, and the water page (two all-atom water runs), 5 min cold. It builds the whole book twice and takes minutes: run it on a quiet
machine.
"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import Figure, write_results

ROOT = Path(__file__).resolve().parents[1]
TARGET_FULL, TARGET_CACHED = "< 360", "< 30"
# every other page: < 30 s; the two pages that run OpenMM when data/ is empty have their own budgets
PAGE_TARGETS = {"book/applications/biomolecules": "< 240", "book/applications/water": "< 300"}


def make(clone, target):
    start = time.perf_counter()
    result = subprocess.run(["make", target], cwd=clone, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-5000:] + result.stderr[-5000:])
        raise SystemExit(f"make {target} failed in {clone}")
    return seconds


def page_times(clone):
    """(page, execution seconds) of every executed page, from the build's jupyter-cache."""
    from jupyter_cache import get_cache

    cache = get_cache(clone / "_build" / ".jupyter_cache")
    rows = []
    for record in cache.list_cache_records():
        page = Path(record.uri).relative_to(clone).with_suffix("").as_posix()
        if "execution_seconds" not in record.data:
            print(f"note: no execution time recorded for {page}")
            continue
        rows.append((page, float(record.data["execution_seconds"])))
    return sorted(rows)


def main(keep=False):
    workdir = Path(tempfile.mkdtemp(prefix="bench_book_"))
    clone = workdir / "book"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = make(clone, "env")
    cold = make(clone, "book")
    cached = make(clone, "book")
    figures = [Figure("make env (the clone's .venv, pip download cache warm), wall time", env, "s",
                      lower_is_better=True),
               Figure("cold make book (fresh clone: no execution, numba or simulation cache), wall time", cold, "s",
                      TARGET_FULL, lower_is_better=True),
               Figure("cached make book (nothing changed), wall time", cached, "s", TARGET_CACHED,
                      lower_is_better=True)]
    figures += [Figure(f"page {page}: execution time (cold)", seconds, "s", PAGE_TARGETS.get(page, "< 30"),
                       lower_is_better=True) for page, seconds in page_times(clone)]
    write_results("book", figures)
    if keep:
        print(f"\n(the clone is kept in {clone})")
    else:
        subprocess.run(["rm", "-rf", str(workdir)], check=True)


if __name__ == "__main__":
    main(keep="--keep" in sys.argv[1:])
