"""A tiny timing harness shared by the benchmark scripts.

Timings use the best of several repeats after one warm-up call (which also triggers numba
compilation), so compilation is never counted.  Each script collects :class:`Figure`
objects (one measured number each, with its unit and target) and hands them to
:func:`write_results`, which writes ``benchmarks/results/<benchmark>.json`` together with
the commit, the date and the machine (CPU, versions, load average: the machine may be
shared, and a loaded machine slows wall times).  ``python benchmarks/report.py`` turns
those files into the table of ``benchmarks/README.md``; :func:`write_results` runs it after
writing into ``benchmarks/results``.

A target is a string read by :mod:`report`: ``">= 2e7"`` or ``"< 0.05"`` (a comparison
and a number in the figure's unit) is checked there; any other text is shown as is.
"""
import datetime
import importlib.util
import json
import math
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"


def best_time(function, *, repeats=5, warmup=1, clock=time.perf_counter):
    """Best time in seconds of ``function()`` over ``repeats`` calls.

    ``clock`` is wall time by default; pass ``time.process_time`` for the CPU time this
    process consumed (on a shared machine, the cost per core of a single-threaded kernel).
    """
    for _ in range(warmup):
        function()
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        function()
        best = min(best, clock() - start)
    return best


@dataclass(frozen=True)
class Figure:
    """One measured number of a benchmark, as stored in its results file.

    ``target`` is ``None`` for a figure shown for comparison only; ``lower_is_better`` says
    which direction is an improvement (times: lower; throughputs and speed-ups: higher).
    """

    name: str
    value: float
    unit: str
    target: str | None = None
    lower_is_better: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"Figure name must be a non-empty str, got {self.name!r}")
        if not isinstance(self.unit, str):
            raise TypeError(f"Figure unit must be a str, got {self.unit!r}")
        if self.target is not None and not isinstance(self.target, str):
            raise TypeError(f"Figure target must be a str or None, got {self.target!r}")
        if not isinstance(self.lower_is_better, bool):
            raise TypeError(f"Figure lower_is_better must be a bool, got {self.lower_is_better!r}")
        value = float(self.value)
        if not math.isfinite(value):
            raise ValueError(f"Figure {self.name!r}: value must be finite, got {self.value!r}")
        object.__setattr__(self, "value", value)


@dataclass
class Row:
    """One kernel timed: ``work`` units done in ``seconds``, optionally against a reference."""

    name: str
    unit: str
    work: float
    seconds: float
    reference_seconds: float | None = None
    target: str | None = None
    speedup_target: str | None = None
    reference: str = "the numpy reference"

    @property
    def throughput(self):
        return self.work / self.seconds

    @property
    def speedup(self):
        if self.reference_seconds is None:
            return None
        return self.reference_seconds / self.seconds

    def figures(self):
        """The throughput (``unit``/s) and, with a reference, the speed-up over it."""
        figures = [Figure(self.name, self.throughput, f"{self.unit}/s", self.target)]
        if self.reference_seconds is not None:
            figures.append(Figure(f"{self.name}: speed-up over {self.reference}", self.speedup, "x",
                                  self.speedup_target))
        return figures


def rows_to_figures(rows):
    """The figures of several :class:`Row` objects, in order."""
    return [figure for row in rows for figure in row.figures()]


def _git_commit():
    result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else "unknown"


#: the commit checked out when the benchmark started (others may commit while it runs)
COMMIT = _git_commit()


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine():
    """The facts about this machine stored with every result (versions, CPUs, load average now)."""
    import numba
    import numpy

    return {"cpus": os.cpu_count(), "cpu_model": _cpu_model(), "python": platform.python_version(),
            "numpy": numpy.__version__, "numba": numba.__version__,
            "load_average": round(os.getloadavg()[0], 2)}


def write_results(benchmark, figures, *, directory=RESULTS):
    """Write ``figures`` of ``benchmark`` to ``directory/<benchmark>.json`` and print them.

    Parameters
    ----------
    benchmark : str
        The benchmark's name (the script's name without ``bench_``), also the file name.
    figures : sequence of Figure or dict
        The measured numbers; a dict must have the fields of :class:`Figure`.
    directory : path, optional
        Where to write (``benchmarks/results`` by default).

    Returns
    -------
    pathlib.Path
        The file written: ``{"benchmark", "commit", "date", "machine", "figures"}``.
    """
    if not isinstance(benchmark, str) or not benchmark.isidentifier():
        raise ValueError(f"benchmark must be a name like 'core', got {benchmark!r}")
    figures = [figure if isinstance(figure, Figure) else Figure(**figure) for figure in figures]
    if not figures:
        raise ValueError("figures is empty: a benchmark must record at least one figure")
    names = [figure.name for figure in figures]
    if len(set(names)) != len(names):
        raise ValueError(f"figure names must be unique within a benchmark: {names}")
    record = {"benchmark": benchmark, "commit": COMMIT,
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": machine(), "figures": [asdict(figure) for figure in figures]}
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{benchmark}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\n{benchmark} (load average {record['machine']['load_average']} on {record['machine']['cpus']} CPUs)")
    for figure in figures:
        target = f"   target {figure.target}" if figure.target else ""
        print(f"  {figure.name}: {figure.value:.3g} {figure.unit}{target}")
    print(f"written to {path}")
    if directory.resolve() == RESULTS.resolve():
        _update_readme_table()
    return path


def _update_readme_table():
    """Rewrite the table of benchmarks/README.md (report.py), so it never lags the results."""
    spec = importlib.util.spec_from_file_location("benchmarks_report", Path(__file__).resolve().parent / "report.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    report.main([])
