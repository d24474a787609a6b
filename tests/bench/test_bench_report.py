"""`make bench` writes one JSON report and a table; a failing benchmark is recorded, the rest go on."""

from __future__ import annotations

import json

from assistant import bench


def test_report_records_a_failure_and_keeps_going(tmp_path, monkeypatch, capsys):
    def boom(options):
        raise bench.BenchError("the helper exited 1:\nTraceback ...")

    def fine(options):
        return {"median_s": 0.25, "runs_s": [0.2, 0.25, 0.3]}

    monkeypatch.setattr(bench, "BENCHMARKS", [("help", fine), ("quality", boom), ("first_paint", fine)])
    out = tmp_path / "report.json"
    code = bench.main(["--out", str(out), "--quick", "--skip-demo"])
    report = json.loads(out.read_text())
    assert code == 1, "a failed benchmark makes the exit code say so"
    assert report["results"]["help"]["median_s"] == 0.25
    assert report["results"]["first_paint"]["median_s"] == 0.25, "benchmarks after a failure still run"
    assert report["results"]["quality"]["error"].startswith("BenchError: the helper exited 1")
    assert report["machine"]["cpus"] and report["options"]["quick"] is True
    assert "| `tunesmith --help` | 0.25 s |" in report["table_markdown"]
    shown = capsys.readouterr().out
    assert "FAILED: BenchError" in shown and "0.25 s" in shown


def test_help_benchmark_runs_for_real(tmp_path):
    out = tmp_path / "report.json"
    assert bench.main(["--out", str(out), "--only", "help"]) == 0
    result = json.loads(out.read_text())["results"]["help"]
    assert len(result["runs_s"]) >= 5 and result["median_s"] > 0


def test_the_demo_row_carries_its_evaluation_outcome(tmp_path):
    folder = tmp_path / "sessions" / "demo-1" / "evals" / "e1"
    folder.mkdir(parents=True)
    comparison = {"variant": "run-1", "against": "base", "n": 120, "mean_before": 0.03, "mean_after": 0.26,
                  "diff": 0.22, "ci_low": 0.14, "ci_high": 0.31}
    (folder / "report.json").write_text(json.dumps({"metrics": [
        {"key": "correct_label", "means": {"base": 0.03, "run-1": 0.26}, "comparisons": [comparison]}]}))
    evaluation = bench.demo_evaluation(tmp_path)
    assert evaluation == [{"metric": "correct_label", "base": 0.03, "variant": "run-1", "mean": 0.26,
                           "difference": 0.22, "interval": [0.14, 0.31], "records": 120}]
    rows = bench.table({"demo": {"seconds": 390.0, "until": "done", "largest_process_peak_gib": 4.6,
                                 "evaluation": evaluation}})
    assert rows == [("demo end to end", "6.5 min, largest process 4.6 GiB"),
                    ("demo evaluation: correct_label, base → run-1", "0.03 → 0.26")]
    assert bench.demo_evaluation(tmp_path / "nothing") == []
