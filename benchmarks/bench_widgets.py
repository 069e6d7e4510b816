"""Responsiveness of the explorers of remlib.widgets: time of one update after a control change.

For every control of every explorer the control is moved through a sequence of distinct
values (as a reader dragging a slider does); each move runs the explorer's callback
(recompute with remlib + redraw + PNG encoding), and its wall-clock and CPU time are
recorded. Caches are not cleared, but every value in the sequence is new for the control,
so the first-visit cost is what is measured (the KL explorer's mu-scan cache and the
resolution explorer's per-coupling cache miss on every move). Construction time (the
precomputation that makes updates fast) is reported separately. Target: every update
< 100 ms of wall time (on a loaded machine the CPU time shows the work itself).

Run: ``.venv/bin/python benchmarks/bench_widgets.py`` (writes ``benchmarks/results/widgets.json``).
"""
import time

import numpy as np
from harness import Figure, write_results

from remlib import widgets

N_MOVES = 12


def _moves(control, n):
    """``n`` distinct values of a control, spread over its range, none equal to the current one."""
    if hasattr(control, "options"):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        values = [v for v in options if v != control.value]
        return [values[i % len(values)] for i in range(n)] if len(set(map(str, values))) > 1 else values
    if isinstance(control.value, tuple):  # range slider: move the lower end
        lows = np.linspace(control.min, 0.0, n + 1)[1:]
        return [(round(float(a), 1), control.value[1]) for a in lows]
    values = np.linspace(control.min, control.max, n + 2)[1:-1]
    if isinstance(control.value, int):
        values = np.unique(np.round(values).astype(int))
    values = [v.item() for v in values if v != control.value]
    return values[:n]


def time_moves(explorer, name):
    """Wall and CPU seconds of each update triggered by moving control ``name``."""
    control = explorer.controls[name]
    start_value = control.value
    walls, cpus, messages = [], [], 0
    for value in _moves(control, N_MOVES):
        wall, cpu = time.perf_counter(), time.process_time()
        control.value = value
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        messages += explorer.message != ""
    control.value = start_value
    return np.array(walls), np.array(cpus), messages


def main():
    figures = []
    for function in (widgets.kl_explorer, widgets.moment_matching_explorer, widgets.resolution_explorer,
                     widgets.bias_variance_explorer, widgets.motion_explorer):
        wall, cpu = time.perf_counter(), time.process_time()
        explorer = function()
        figures.append(Figure(f"{function.__name__}: construction, wall time", time.perf_counter() - wall, "s",
                              lower_is_better=True))
        for name in explorer.controls:
            walls, cpus, messages = time_moves(explorer, name)
            label = f"{function.__name__}, {name} moved {walls.size} times"
            label += f" ({messages} refused with a message)" if messages else ""
            figures += [Figure(f"{label}: median update, wall time", np.median(walls) * 1e3, "ms", "< 100", True),
                        Figure(f"{label}: slowest update, wall time", walls.max() * 1e3, "ms", "< 100", True),
                        Figure(f"{label}: slowest update, CPU time", cpus.max() * 1e3, "ms", "< 100", True)]
    write_results("widgets", figures)


if __name__ == "__main__":
    main()
