"""The real evaluation job on the embedded model: base, prompt-only baseline and a tiny trained LoRA adapter
over 8 held-out records, scored, reported and logged to MLflow beside the training run."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skills.evaluate import tools as T
from skills.toolkit import ToolContext
from specs.evaluation import EvaluationSpec
from specs.yamlio import load_spec, save_spec

ROOT = Path(__file__).resolve().parents[3]
RECORDS = [("2026-01-03 REWE SAGT DANKE -23.10 EUR", "groceries"), ("2026-01-04 UBER TRIP -12.00 EUR", "transport"),
           ("2026-01-05 NETFLIX.COM -9.99 EUR", "entertainment"), ("2026-01-06 SALARY ACME +3100.00 EUR", "income"),
           ("2026-01-07 SHELL STATION -45.00 EUR", "transport"), ("2026-01-08 RENT MAY -950.00 EUR", "housing"),
           ("2026-01-09 PIZZERIA ROMA -18.50 EUR", "dining"), ("2026-01-10 LUFTHANSA -220.00 EUR", "travel")]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_evaluation_job_compares_base_baseline_and_a_trained_adapter(tmp_path):
    session = tmp_path / "ws" / "sessions" / "s1"
    (session / "data").mkdir(parents=True)
    shutil.copy(ROOT / "specs" / "examples" / "bank_transactions.use_case.yaml", session / "use_case.yaml")
    lines = [json.dumps({"prompt": [{"role": "user", "content": t}], "completion": [{"role": "assistant", "content": l}]})
             for t, l in RECORDS]
    (session / "data" / "eval.jsonl").write_text("\n".join(lines) + "\n")
    store = f"sqlite:///{tmp_path / 'ws' / 'mlflow.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNESMITH_THREADS": "2", "MLFLOW_TRACKING_URI": store}
    trained = subprocess.run([sys.executable, str(ROOT / "tests/skills/eval_adapter.py"), str(session / "data/eval.jsonl"),
                              str(session / "runs/r1/final"), "3"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert (session / "runs/r1/final/adapter_config.json").exists()

    ctx = ToolContext(session_dir=session)
    result = T.write_evaluation_spec.run(ctx, T.write_evaluation_spec.validate({"max_examples": 8}))
    assert not result.is_error, result.content
    spec = load_spec(session / "evaluation.yaml", EvaluationSpec)
    spec.max_new_tokens = 12
    spec.general_items = 8
    save_spec(session / "evaluation.yaml", spec)

    import mlflow

    mlflow.set_tracking_uri(store)
    # the training run's experiment, with its artifacts in the workspace as the training job makes it
    experiment_id = mlflow.MlflowClient().create_experiment(
        "tunesmith-train-test", artifact_location=(tmp_path / "ws" / "mlartifacts").resolve().as_uri())
    with mlflow.start_run(experiment_id=experiment_id, run_name="r1", tags={"tunesmith.run_id": "r1"}) as train_run:
        pass

    events = session / "evals" / "e1" / "events.jsonl"
    argv = [sys.executable, "-m", "skills.evaluate.job", "--spec", "evaluation.yaml", "--session", str(session),
            "--eval-id", "e1", "--events", str(events), "--run-id", "r1"]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    kinds = [json.loads(line)["type"] for line in events.read_text().splitlines()]
    assert kinds[0] == "start" and kinds[-1] == "done" and "progress" in kinds
    folder = session / "evals" / "e1"
    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 8
    assert all(set(r["outputs"]) == {"base", "prompt_baseline", "run:r1"} for r in rows)
    assert all(r["outputs"]["base"] for r in rows)
    assert sorted(p.name for p in (folder / "outputs").iterdir()) == [
        "base.jsonl", "general.base.jsonl", "general.run_r1.jsonl", "prompt_baseline.jsonl", "run_r1.jsonl"]
    report = json.loads((folder / "report.json").read_text())
    assert report["variants"] == ["base", "prompt_baseline", "run:r1"]
    assert report["not_judged"] == ["sensible_on_ambiguous"]
    label = next(m for m in report["metrics"] if m["key"] == "correct_category")
    comparison = next(c for c in label["comparisons"] if c["variant"] == "run:r1")
    assert comparison["n"] == 8 and comparison["win"] + comparison["tie"] + comparison["loss"] == 8
    assert "## Not judged" in (folder / "report.md").read_text()
    forgetting = report["forgetting"]  # the general set: base and the run, never the prompt-only baseline
    assert forgetting["items"] == 8 and list(forgetting["means"]) == ["base", "run:r1"]
    [general] = forgetting["comparisons"]
    assert general["n"] == 8 and general["ci_low"] <= general["diff"] <= general["ci_high"]
    general_rows = [json.loads(line) for line in (folder / "general.jsonl").read_text().splitlines()]
    assert len(general_rows) == 8 and all(set(r["scores"]) == {"base", "run:r1"} for r in general_rows)
    assert "## General abilities (forgetting)" in (folder / "report.md").read_text()

    [run] = mlflow.search_runs(search_all_experiments=True, filter_string="tags.`tunesmith.train_run_id` = 'r1'",
                               output_format="list")
    assert run.info.run_id == report["mlflow_run_id"]
    assert run.data.tags["tunesmith.eval_id"] == "e1"
    assert run.info.experiment_id == experiment_id
    assert run.data.tags["tunesmith.train_mlflow_run_id"] == train_run.info.run_id
    assert "correct_category.run_r1" in run.data.metrics
