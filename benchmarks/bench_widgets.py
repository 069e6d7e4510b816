"""Responsiveness of the explorers of remlib.widgets: time of one update after a control change.

For every control of every explorer the control is moved through a sequence of distinct
values (as a reader dragging a slider does); each move runs the explorer's callback
(recompute with remlib + redraw + PNG encoding), and its wall-clock and CPU time are
recorded. Caches are not cleared, but every value in the sequence is new for the control,
so the first-visit cost is what is measured (the KL explorer's mu-scan cache and the
resolution explorer's per-coupling cache miss on every move). Construction time (the
precomputation that makes updates fast) is reported separately. Target: every update
< 100 ms.

Run: ``.venv/bin/python benchmarks/bench_widgets.py``
"""
import os
import time

import numpy as np

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
    rows = []
    for function in (widgets.kl_explorer, widgets.moment_matching_explorer, widgets.resolution_explorer,
                     widgets.bias_variance_explorer, widgets.motion_explorer):
        wall, cpu = time.perf_counter(), time.process_time()
        explorer = function()
        build = (time.perf_counter() - wall, time.process_time() - cpu)
        for name in explorer.controls:
            walls, cpus, messages = time_moves(explorer, name)
            rows.append((function.__name__, name, build, walls, cpus, messages))
    load = os.getloadavg()[0]
    print(f"\n### Explorer update times (remlib.widgets), load average {load:.1f} on {os.cpu_count()} cores\n")
    print("| explorer | control moved | moves | update, median wall | max wall | median CPU | max CPU "
          "| construction (wall) | target |")
    print("|---|---|---|---|---|---|---|---|---|")
    for explorer, name, build, walls, cpus, messages in rows:
        met = "met" if walls.max() < 0.1 else ("median met" if np.median(walls) < 0.1 else "not met")
        note = f" ({messages} refused with a message)" if messages else ""
        print(f"| {explorer} | {name}{note} | {walls.size} | {np.median(walls) * 1e3:.0f} ms | "
              f"{walls.max() * 1e3:.0f} ms | {np.median(cpus) * 1e3:.0f} ms | {cpus.max() * 1e3:.0f} ms | "
              f"{build[0]:.1f} s | < 100 ms: {met} |")


if __name__ == "__main__":
    main()
