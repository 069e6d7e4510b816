"""How long the book takes to build: cold from a fresh clone, per page, and cached.

Usage: .venv/bin/python benchmarks/bench_book.py [--keep]

Clones the repository's committed state (HEAD) into a temporary directory and, as a user of
a fresh clone would, runs ``make env`` (the clone's own ``.venv``; pip's download cache
makes this faster than on a new machine), then ``make book`` twice: first cold (no
execution cache, no numba cache, no simulation data: every page executes and every kernel
compiles), then again with nothing changed. (The clone must have its own environment: an
editable install of remlib in a shared ``.venv`` would run this checkout's remlib instead.)
Prints markdown tables with the wall times and each page's execution time, against the
targets of the book's issue (full build < 10 min, no page > 60 s, cached rebuild < 30 s).
"""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_FULL, TARGET_PAGE, TARGET_CACHED = 600.0, 60.0, 30.0


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
        rows.append((page, float(record.data.get("execution_seconds", float("nan")))))
    return sorted(rows)


def mark(ok):
    return "yes" if ok else "**no**"


def main(keep=False):
    workdir = Path(tempfile.mkdtemp(prefix="bench_book_"))
    clone = workdir / "book"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = make(clone, "env")
    cold = make(clone, "book")
    cached = make(clone, "book")
    pages = page_times(clone)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True).stdout.strip()

    print(f"\n### Building the book (commit {commit}, {os.cpu_count()} cores)\n")
    print("| build | wall time | target | met |")
    print("|---|---|---|---|")
    print(f"| `make env` (the clone's .venv, pip cache warm) | {env:.0f} s | | |")
    print(f"| cold `make book` (fresh clone) | {cold:.0f} s | < {TARGET_FULL:.0f} s | {mark(cold < TARGET_FULL)} |")
    print(f"| cached `make book` (nothing changed) | {cached:.1f} s | < {TARGET_CACHED:.0f} s | {mark(cached < TARGET_CACHED)} |")
    print("\n| page | execution time (cold) | under 60 s |")
    print("|---|---|---|")
    for page, seconds in pages:
        print(f"| {page} | {seconds:.1f} s | {mark(seconds < TARGET_PAGE)} |")
    if keep:
        print(f"\n(the clone is kept in {clone})")
    else:
        subprocess.run(["rm", "-rf", str(workdir)], check=True)


if __name__ == "__main__":
    main(keep="--keep" in sys.argv[1:])
