"""Throughput of the reference models' numba force kernels (remlib.systems).

A force kernel is called one configuration at a time from compiled code, as a
Brownian-dynamics loop does.  The numpy reference is the same loop in Python
calling the vectorised ``model.force`` on one configuration per call; the batched
numpy call on all configurations at once is shown for comparison.

Run: ``.venv/bin/python benchmarks/bench_systems.py`` (writes ``benchmarks/results/systems.json``).
"""
import numba
import numpy as np

from harness import Row, best_time, rows_to_figures, write_results
from remlib.systems import DoubleWell, EntropicChannel, GaussianChain


@numba.njit
def _sum_forces(kernel, configurations):
    total = 0.0
    for i in range(configurations.shape[0]):
        total += kernel(configurations[i]).sum()
    return total


def _python_loop(model, configurations, shape):
    total = 0.0
    for row in configurations:
        total += model.force(row.reshape(shape)).sum()
    return total


def main():
    rng = np.random.default_rng(0)
    n, n_ref = 200_000, 5_000
    models = [
        ("DoubleWell", DoubleWell(barrier=2.0), (1,)),
        ("EntropicChannel", EntropicChannel(), (2,)),
        ("GaussianChain(16 beads, 3-D)", GaussianChain(16, dim=3), (16, 3)),
    ]
    rows = []
    for name, model, shape in models:
        dim = int(np.prod(shape))
        configs = rng.normal(size=(n, dim))
        kernel = model.force_kernel
        compiled = best_time(lambda: _sum_forces(kernel, configs), repeats=3)
        per_call = best_time(lambda: _python_loop(model, configs[:n_ref], shape), repeats=2) * n / n_ref
        batched = best_time(lambda: model.force(configs.reshape((n,) + shape)), repeats=3)
        rows.append(Row(f"{name}.force_kernel (one config per call)", "configs", n, compiled, per_call))
        rows.append(Row(f"{name}.force numpy batch (all configs in one call)", "configs", n, batched))
    write_results("systems", rows_to_figures(rows))


if __name__ == "__main__":
    main()
