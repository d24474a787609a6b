"""`make bench` writes one JSON report and a table; a failing benchmark is recorded, the rest go on."""

from __future__ import annotations

import json

from tests.bench import run as bench


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
    general = {"variant": "run-1", "n": 80, "mean_before": 0.31, "mean_after": 0.25, "diff": -0.06,
               "ci_low": -0.2, "ci_high": 0.07}
    (folder / "report.json").write_text(json.dumps({"metrics": [
        {"key": "correct_label", "means": {"base": 0.03, "run-1": 0.26}, "comparisons": [comparison]}],
        "forgetting": {"comparisons": [general]}}))
    run = tmp_path / "sessions" / "demo-1" / "runs" / "run-1"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"steps": 44, "total_steps": 44, "started": 100.0, "ended": 290.5}))
    (run.parents[1] / "training.yaml").write_text("technique: sft\nestimate:\n  seconds_per_step: 4.747\n"
                                                  "  total_seconds: 238.9\n  measured_on: x86_64, 1 CPU threads of 2\n")
    evaluation = bench.demo_evaluation(tmp_path)
    assert evaluation == [{"metric": "correct_label", "base": 0.03, "variant": "run-1", "mean": 0.26,
                           "difference": 0.22, "interval": [0.14, 0.31], "records": 120}]
    training = bench.demo_training(tmp_path)
    assert training == {"steps": 44, "total_steps": 44, "wall_seconds": 190.5, "seconds_per_step": 4.747,
                        "measured_on": "x86_64, 1 CPU threads of 2"}
    rows = bench.table({"demo": {"seconds": 390.0, "until": "done", "largest_process_peak_gib": 4.6, "training": training,
                                 "evaluation": evaluation, "forgetting": bench.demo_forgetting(tmp_path)}})
    assert rows == [("demo end to end", "6.5 min, largest process 4.6 GiB"),
                    ("demo training run", "44 steps in 190 s, warm-up 4.75 s a step on x86_64, 1 CPU threads of 2"),
                    ("demo evaluation: correct_label, base → run-1", "0.03 → 0.26 (+0.22, 95% CI [+0.14, +0.31], 120 records)"),
                    ("demo general set (forgetting), base → run-1", "0.31 → 0.25 (-0.06, 95% CI [-0.20, +0.07], 80 items)")]
    assert bench.demo_evaluation(tmp_path / "nothing") == [] and bench.demo_training(tmp_path / "nothing") is None
    assert bench.demo_forgetting(tmp_path / "nothing") == []


def _training_result():
    runs = {"tunesmith": [{"tokens_per_second": 150.0}], "plain_trl": [{"tokens_per_second": 100.0}]}
    return {"matmul": {"fp32_gflops": 160.0, "bf16_gflops": 500.0, "runs": []}, "params": 134_515_008,
            "full": {"median_tokens_per_s": {"tunesmith": 150.0, "plain_trl": 100.0}, "tunesmith_vs_plain": 1.5,
                     "mfu": {"tunesmith": bench.mfu(134_515_008, 150.0, 160.0), "plain_trl": bench.mfu(134_515_008, 100.0, 160.0)},
                     "runs": runs},
            "lora": {"median_tokens_per_s": {"tunesmith": 130.0, "plain_trl": 100.0}, "tunesmith_vs_plain": 1.3,
                     "mfu": {"tunesmith": 0.66, "plain_trl": 0.5}, "runs": runs}}


def test_mfu_is_six_params_tokens_over_the_matmul_rate():
    assert bench.mfu(134_515_008, 198.2, 160.0) == round(6 * 134_515_008 * 198.2 / 160e9, 3)
    rows = dict(bench.table({"training": _training_result()}))
    assert rows["fp32 matmul rate (torch, same run)"] == "160 GFLOP/s (bf16 500)"
    assert rows["SFT full fine-tune tokens/s: tunesmith job"] == "150 (MFU 0.76; 1.50x plain)"
    assert rows["SFT LoRA tokens/s: plain TRL script"] == "100 (MFU 0.50)"


def test_the_readme_table_is_rendered_from_the_report(tmp_path):
    from tests.bench import table as bench_table

    report = {"started": "2026-12-02T03:00:00+00:00",
              "machine": {"cpu": "Some CPU", "cpus": 2, "memory_gib": 23.5, "python": "3.11.7", "torch": "2.13.0+cpu"},
              "results": {"help": {"median_s": 0.04, "measured": {"at": "2026-12-02T03:01:00+00:00",
                                                                   "load_average_before": [9.5, 8.0, 7.0], "repeats": 3}},
                          "training": _training_result()}}
    (tmp_path / "r.json").write_text(json.dumps(report))
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n## Measured\n\n<!-- bench-table:begin -->\nold numbers\n<!-- bench-table:end -->\n\nafter\n")
    assert bench_table.main(["--report", str(tmp_path / "r.json"), "--readme", str(readme), "--check"]) == 1
    assert bench_table.main(["--report", str(tmp_path / "r.json"), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "old numbers" not in text and text.endswith("<!-- bench-table:end -->\n\nafter\n")
    assert "Some CPU, 2 cores, 23.5 GiB" in text and "Report started 2026-12-02" in text
    assert "| help | 2026-12-02 03:01 | 9.5 / 8.0 / 7.0 | repeats 3 |" in text
    assert "| `tunesmith --help` | 0.04 s |" in text and "(MFU 0.76; 1.50x plain)" in text
    assert bench_table.main(["--report", str(tmp_path / "r.json"), "--readme", str(readme), "--check"]) == 0
    (tmp_path / "plain.md").write_text("no markers\n")
    assert bench_table.main(["--report", str(tmp_path / "r.json"), "--readme", str(tmp_path / "plain.md")]) == 2



def test_the_committed_readme_shows_the_committed_report():
    from tests.bench import table as bench_table

    assert bench_table.main(["--check"]) == 0, "run python -m tests.bench.table after updating the bench report"
