"""The benchmark report: its structure, never its numbers (those belong in
reports/, not in timed tests)."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stress.bench import bugfind, machine, markdown, peers, plots, report, runner
from stress.bench.summary import summarise
from stress.cli import main
from stress.errors import UsageError

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
THREADS = (1, 4)  # 4 is past this machine's 2 cores: the report must say so


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    rc = main(["bench", "--quick", "--out", str(out), "--threads", ",".join(map(str, THREADS)),
               "--seconds", "0.01", "--reps", "1", "--stall-seconds", "0.05", "--stall-reps", "1"])
    assert rc == 0
    return out


def test_quick_writes_markdown_json_and_plots(quick_report):
    assert (quick_report / "report.md").is_file()
    assert (quick_report / "report.json").is_file()
    pngs = sorted(quick_report.glob("*.png"))
    assert len(pngs) >= 3
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {p.name for p in pngs} >= {"throughput.png", "throughput_normalised.png", "unreclaimed.png", "stall.png"}


def test_every_variant_has_a_row_at_every_thread_count(quick_report):
    data = json.loads((quick_report / "report.json").read_text())
    rows = {(r["target"], r["workload"], r["threads"]) for r in data["summary"]["throughput"]}
    for variant in runner.VARIANTS:
        for n in THREADS:
            assert (variant, "pairs", n) in rows
            assert (variant, "mixed", n) in rows
        assert (variant, "producer-consumer", 4) in rows
    for name in data["peers"]["available"]:
        assert (name, "pairs", 1) in rows
    # the reuse control runs at one thread only: naive is never run free with company
    assert ("naive", "pairs", 1) in rows and ("naive", "pairs", 4) not in rows
    # every raw sample is kept, with what a reader needs to recompute the medians
    sample = data["samples"][0]
    assert {"target", "workload", "threads", "rep", "seconds", "mops", "enqueues", "dequeues", "empties",
            "unreclaimed_avg", "unreclaimed_peak", "pool_peak", "exhausted", "others_cores"} <= set(sample)
    assert data["stall"] and all("series" in s for s in data["stall"])
    assert {"cpu", "cores", "compiler", "our_flags"} <= set(data["machine"])


def test_other_work_is_the_machines_busy_time_minus_ours():
    # (machine busy CPU-seconds, our CPU-seconds) before and after 2 s of wall time
    assert runner.others_cores((100.0, 40.0), (103.0, 41.0), 2.0) == 1.0
    assert runner.others_cores((100.0, 40.0), (101.0, 41.5), 2.0) == 0.0   # tick rounding: never negative
    assert runner.others_cores(None, (1.0, 1.0), 2.0) is None


def test_markdown_sections_and_labels(quick_report):
    md = (quick_report / "report.md").read_text()
    for heading in ("## Machine", "## Method", "## Headline figures", "## What the figures say",
                    "## Throughput", "## Normalised to `leaky`", "## Memory", "## Stalled thread",
                    markdown.REUSE_SECTION):
        assert heading in md
    for variant in runner.VARIANTS:
        assert f"| {variant} |" in md
    for png in ("throughput.png", "throughput_normalised.png", "unreclaimed.png", "stall.png"):
        assert f"({png})" in md
    assert "**Other work.**" in md
    if (os.cpu_count() or 1) < 4:
        assert "4 thr ⚠" in md and "oversubscribed" in md
    data = json.loads((quick_report / "report.json").read_text())
    for name, why in data["peers"]["missing"].items():
        assert f"`{name}` {why}" in md


def test_missing_peers_are_listed_with_their_own_package(monkeypatch):
    # ck's headers are found (any header the compiler has will do), liburcu's are not:
    # only urcu_lfq is missing, and its line names liburcu-dev alone
    monkeypatch.setitem(peers._HEADERS, "ck", (("stdio.h", "stdlib.h"), []))
    monkeypatch.setitem(peers._HEADERS, "urcu", (("lfs_no_such_header.h",), []))
    assert peers.probe("ck") is None
    why = peers.probe("urcu")
    assert why == "not installed (lfs_no_such_header.h not found) — apt-get install liburcu-dev"
    assert "libck-dev" not in why


def test_a_peer_probe_never_prints_a_tool_error(monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent/cc")
    assert peers.probe("ck") == "not probed — the C compiler (/nonexistent/cc) does not run"
    monkeypatch.setenv("CC", "false")  # runs, fails, prints nothing useful
    assert peers.probe("ck") == "not probed — the C compiler (false) does not run"


def test_package_versions_are_none_when_dpkg_does_not_know_them():
    assert machine.package_version("lfstress-no-such-package") is None


def test_naive_is_not_benchmarked():
    with pytest.raises(UsageError, match="naive"):
        runner.with_overrides(runner.QUICK, variants=("naive",)).validate()


def test_bad_workload_is_a_usage_error(capsys):
    assert main(["bench", "--quick", "--workloads", "pairs,lifo"]) == 2
    assert "unknown workload 'lifo'" in capsys.readouterr().err


def test_search_report_structure(tmp_path):
    out = tmp_path / "search"
    files = [SCENARIOS / "msqueue_aba_dequeue.toml", SCENARIOS / "deferred_cleanup_enqueue.toml"]
    rc = main(["bench", "--search", "--quick", "--out", str(out), "--seeds", "2", "--seconds", "2",
               "--schedulers", "pct,exhaustive", "--scenarios", ",".join(map(str, files))])
    assert rc == 0
    md = (out / "report.md").read_text()
    for heading in ("## Machine", "## Method", "## What the figures say",
                    "## Executions to the first violation", "## Seconds to the first violation"):
        assert heading in md
    assert "(bug_finding.png)" in md
    assert (out / "bug_finding.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((out / "report.json").read_text())
    rows = {(r["scenario"], r["variant"], r["scheduler"], r["path"]): r for r in data["rows"]}
    pct = rows[("msqueue_aba_dequeue.toml", "naive", "pct", "python+checks")]
    assert pct["seeds"] == 2 and pct["found"] == 2 and len(pct["runs"]) == 2
    assert {"executions_median", "seconds_median", "executions_min", "executions_max"} <= set(pct)
    assert all({"seed", "found", "executions_to_first", "seconds_to_first", "kinds"} <= set(run)
               for run in pct["runs"])
    assert rows[("msqueue_aba_dequeue.toml", "naive", "exhaustive", "python+checks")]["seeds"] == 1
    # every bug variant of the files is there; the native path says when it cannot see the bug
    assert {(s, v) for s, v, _, _ in rows} == {("msqueue_aba_dequeue.toml", "naive"),
                                                 ("deferred_cleanup_enqueue.toml", "hazard"),
                                                 ("deferred_cleanup_enqueue.toml", "epoch"),
                                                 ("deferred_cleanup_enqueue.toml", "leaky")}
    assert rows[("deferred_cleanup_enqueue.toml", "leaky", "pct", "native")]["not_applicable"]
    assert "| n/a |" in md


def test_every_series_has_a_colour_of_its_own():
    drawn = [*runner.VARIANTS, "naive", *peers.ALL_PEERS, "mpsc", "ring"]  # the last two: a user's structures
    styles = {target: plots.style(target, drawn) for target in drawn}
    colours = [s["color"] for s in styles.values()]
    assert len(set(colours)) == len(colours), styles
    # a scheme's peer is drawn apart from ours: dashed, hollow markers
    for ours, peer in (("tagged", "ck_fifo_mpmc"), ("hazard", "ck_hp_fifo"), ("epoch", "urcu_lfq")):
        assert styles[ours]["ls"] == "-" and styles[peer]["ls"] == "--"
        assert styles[peer]["mfc"] == "white" != styles[ours]["mfc"]


def _drawn_figures(monkeypatch, quick_report) -> dict[str, object]:
    """The figures plots.py draws for the quick report, kept open instead of saved."""
    figures = {}
    monkeypatch.setattr(plots, "save", lambda fig, path, **layout: figures.setdefault(path.name, fig) and path)
    res = report.load(quick_report / "report.json")
    summary = summarise(res)
    plots.plot_throughput(res, summary, quick_report, normalised=False)
    plots.plot_throughput(res, summary, quick_report, normalised=True)
    plots.plot_unreclaimed(res, summary, quick_report)
    plots.plot_stall(res, summary, quick_report)
    return figures


def test_legends_sit_outside_every_axes_and_label_the_band(monkeypatch, quick_report):
    figures = _drawn_figures(monkeypatch, quick_report)
    assert set(figures) == set(plots.PLOTS)
    for name, fig in figures.items():
        fig.tight_layout()
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
        assert legends, name
        for legend in legends:
            box = legend.get_window_extent(renderer)
            for ax in fig.axes:
                assert not box.overlaps(ax.get_window_extent(renderer)), name
    texts = [t.get_text() for legend in figures["throughput_normalised.png"].legends for t in legend.get_texts()]
    assert any(text.startswith("published range") for text in texts), texts
    pyplot = plots.pyplot()
    for fig in figures.values():
        pyplot.close(fig)


def test_the_flags_printed_are_the_ones_the_extension_was_built_with(quick_report):
    built = machine.build_flags("free")
    spec = importlib.util.spec_from_file_location("lfs_build_cffi", ROOT / "native" / "build_cffi.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    _sources, chosen, _libraries = build._ENGINES["LFS_BUILD_FREE"]
    assert set(chosen) <= set(built.split()) and "-std=gnu11" in built.split()
    data = json.loads((quick_report / "report.json").read_text())
    assert data["machine"]["our_flags"] == built
    assert f"`{built}`" in (quick_report / "report.md").read_text()


HISTORY = re.compile(r"\bcommit [0-9a-f]{7}|\bthe issue\b|\bissue \d|## Findings|\bfixed:|\bused to\b|"
                     r"\bbefore the fix|\bpreviously\b|\bwhile writing this\b", re.IGNORECASE)


def test_reports_say_what_was_measured_not_the_projects_history(quick_report):
    rendered = [quick_report / "report.md", *sorted((ROOT / "reports").rglob("*.md"))]
    for path in rendered:
        found = HISTORY.findall(path.read_text())
        assert not found, (path, found)


def test_the_benchmarks_of_lfstress_itself_run_from_the_checkout_and_ship_apart():
    for name in ("stepping", "search", "linearizability", "robustness", "supervision"):
        proc = subprocess.run([sys.executable, "-m", f"tests.benchmarks.{name}", "--help"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and "usage:" in proc.stdout, proc.stderr
    product = [p for p in (ROOT / "stress").rglob("*.py")
               if re.search(r"^\s*(from|import) tests\b", p.read_text(), re.MULTILINE)]
    assert not product, product


@pytest.mark.parametrize("name, json_name, md_name", [
    ("stepping", "stepping.json", "stepping.md"),
    ("search", "search-bench.json", "search-bench.md"),
    ("linearizability", "linearizability-bench.json", "linearizability-bench.md"),
    ("robustness", "robustness.json", "robustness.md"),
    ("supervision", "supervision.json", "supervision.md"),
])
def test_committed_self_benchmark_reports_render_from_their_json(tmp_path, name, json_name, md_name):
    benchmark = importlib.import_module(f"tests.benchmarks.{name}")
    benchmark.write_report(json.loads((ROOT / "reports" / json_name).read_text()), tmp_path)
    assert (tmp_path / md_name).read_text() == (ROOT / "reports" / md_name).read_text()


def test_committed_bench_reports_render_from_their_json(tmp_path):
    example = ROOT / "reports" / "bench-example"
    report.write(report.load(example / "report.json"), tmp_path / "bench")
    assert (tmp_path / "bench" / "report.md").read_text() == (example / "report.md").read_text()
    search_example = ROOT / "reports" / "bench-search-example"
    bugfind.write(json.loads((search_example / "report.json").read_text()), tmp_path / "search")
    assert (tmp_path / "search" / "report.md").read_text() == (search_example / "report.md").read_text()
