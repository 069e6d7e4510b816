"""The benchmark record: results files in the shared format, and the table generated from them.

benchmarks/harness.py writes ``results/<benchmark>.json``; benchmarks/report.py checks
each file against the format and writes the table of benchmarks/README.md.
"""
import importlib.util
import json
import math
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_module(name):
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


harness = load_module("harness")
report = load_module("report")


def test_written_results_have_the_shared_format_and_read_back(tmp_path, capsys):
    figures = [harness.Figure("fit", 0.9, "ms", "< 50", lower_is_better=True),
               {"name": "moves", "value": 1.5e6, "unit": "moves/s", "target": ">= 2e6", "lower_is_better": False}]
    figures += harness.Row("kernel", "points", 1000, 0.5, reference_seconds=2.0, speedup_target=">= 50").figures()
    path = harness.write_results("demo", figures, directory=tmp_path)
    record = report.load(path)
    assert path == tmp_path / "demo.json"
    assert set(record) == {"benchmark", "commit", "date", "machine", "figures"}
    assert record["machine"]["cpus"] >= 1 and math.isfinite(record["machine"]["load_average"])
    values = {figure["name"]: figure["value"] for figure in record["figures"]}
    assert values == {"fit": 0.9, "moves": 1.5e6, "kernel": 2000.0, "kernel: speed-up over the numpy reference": 4.0}
    assert [report.met(figure) for figure in record["figures"]] == ["yes", "**no**", "", "**no**"]
    assert "fit: 0.9 ms" in capsys.readouterr().out


@pytest.mark.parametrize("bad, error", [
    ({"name": "a", "value": float("nan"), "unit": "s"}, ValueError),
    ({"name": "a", "value": 1.0, "unit": "s", "target": 5}, TypeError),
    ({"name": "", "value": 1.0, "unit": "s"}, TypeError),
    ({"name": "a", "value": 1.0, "unit": "s", "lower_is_better": "yes"}, TypeError),
])
def test_a_bad_figure_is_refused(bad, error):
    with pytest.raises(error, match="Figure"):
        harness.Figure(**bad)


def test_write_results_refuses_bad_records(tmp_path):
    with pytest.raises(ValueError, match="benchmark"):
        harness.write_results("not a name", [harness.Figure("a", 1.0, "s")], directory=tmp_path)
    with pytest.raises(ValueError, match="empty"):
        harness.write_results("demo", [], directory=tmp_path)
    with pytest.raises(ValueError, match="unique"):
        harness.write_results("demo", [harness.Figure("a", 1.0, "s")] * 2, directory=tmp_path)


def test_load_names_what_is_wrong(tmp_path):
    path = tmp_path / "demo.json"
    path.write_text(json.dumps({"benchmark": "demo", "commit": "x", "date": "d", "figures": []}))
    with pytest.raises(ValueError, match="machine"):
        report.load(path)


@pytest.mark.parametrize("target, value, expected", [
    (">= 2e7", 2.4e7, "yes"), (">= 2e7", 1e7, "**no**"), ("< 50", 49.0, "yes"), ("< 50", 50.0, "**no**"),
    ("<= 4", 4.0, "yes"), ("> 0.33", 0.2, "**no**"), ("no per-step allocation", 16.0, ""), (None, 1.0, ""),
])
def test_targets_are_checked_when_they_are_a_comparison(target, value, expected):
    assert report.met({"target": target, "value": value}) == expected


def test_render_replaces_only_the_part_between_the_markers():
    text = f"prose before\n{report.START}\nold table\n{report.END}\nprose after\n"
    record = {"benchmark": "demo", "commit": "0123456789abcdef", "date": "2026-01-01T00:00:00+00:00",
              "machine": {"cpus": 2, "cpu_model": "cpu", "python": "3.11", "numpy": "2", "numba": "0.6",
                          "load_average": 1.5},
              "figures": [{"name": "fit", "value": 0.9, "unit": "ms", "target": "< 50", "lower_is_better": True}]}
    new = report.render(text, [record])
    assert new.startswith("prose before\n") and new.endswith("prose after\n") and "old table" not in new
    assert "| fit | 0.9 | ms | lower | < 50 | yes |" in new and "load average 1.5" in new
    with pytest.raises(ValueError, match="marker"):
        report.render("no markers", [record])


def test_the_committed_results_are_valid_and_the_readme_table_is_current():
    records = [report.load(path) for path in sorted((BENCHMARKS / "results").glob("*.json"))]
    assert records, "benchmarks/results has no results files"
    readme = (BENCHMARKS / "README.md").read_text()
    assert report.render(readme, records) == readme, "run python benchmarks/report.py"
