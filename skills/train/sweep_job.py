"""The sweep job: the trials of one approved sweep, each a short real training run scored on held-out data.

    python -m skills.train.sweep_job --session DIR --sweep-id ID [--events PATH]

Reads ``sweeps/<id>/plan.json`` (the trials the person approved, written by run_sweep) and
``sweeps/<id>/training.yaml`` (the plan they vary). Each trial loads the base model, trains with the
training job's own code (skills/train/job.py: model, data, LoRA config, trainer arguments, TRL
trainer, progress) for its steps, answers up to ``eval_records`` held-out prompts greedily at its
halfway check and at its end, and scores the answers with the use case's code metrics. At the check,
a trial more than ``stop_margin`` behind the best earlier trial's check score stops (``should_stop``).
Nothing is saved but numbers: ``sweep.json`` in the session (rewritten after every trial),
``sweeps/<id>/<trial>/metrics.jsonl``, and MLflow: a parent run with one child run per trial.

Events (JSONL): start, trial_start, progress (with ``trial``), trial_check, trial_done, done, error.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from skills.common.events import ProgressEvents
from skills.train import job
from skills.train.sweep import SWEEP_FILE, best_trial, describe, should_stop
from specs.io import atomic_write_text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m skills.train.sweep_job", description="Run an approved sweep.")
    parser.add_argument("--session", required=True, help="session folder")
    parser.add_argument("--sweep-id", required=True, help="folder name under sweeps/")
    parser.add_argument("--events", default=os.environ.get("TUNESMITH_EVENTS"), help="JSONL progress file")
    return parser.parse_args(argv)


class TrialEvents(ProgressEvents):
    """The job's events, each marked with the trial it belongs to."""

    def __init__(self, events: ProgressEvents, trial: str, index: int, trials: int):
        super().__init__(str(events.path) if events.path else None)
        self.marks = {"trial": trial, "index": index, "trials": trials}

    def emit(self, kind: str, /, **fields: Any) -> dict[str, Any]:
        return super().emit(kind, **self.marks, **fields)


def eval_items(path: Path, limit: int, system_prompt: str | None) -> list[dict[str, Any]]:
    """Up to ``limit`` held-out records, spread evenly: prompt messages (with the use case's system
    prompt when the record has none) and the reference answer."""
    from skills.train.sample import reference_of

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    picked = [rows[round(i * len(rows) / limit)] for i in range(limit)] if len(rows) > limit else rows
    items = []
    for row in picked:
        messages = row["prompt"] if isinstance(row["prompt"], list) else [{"role": "user", "content": str(row["prompt"])}]
        if system_prompt and messages[0].get("role") != "system":
            messages = [{"role": "system", "content": system_prompt}, *messages]
        items.append({"messages": messages, "reference": reference_of({k: v for k, v in row.items() if k != "prompt"})})
    return items


def score(model: Any, tokenizer: Any, items: list[dict[str, Any]], metrics: list[dict[str, Any]], max_new_tokens: int) -> dict[str, float | None]:
    """Mean of each code metric over the model's greedy answers (examples a metric cannot score are left out)."""
    from skills.common import metrics as code_metrics
    from skills.train.general import generate

    was_training = model.training
    model.eval()
    try:
        answers = generate(model, tokenizer, [item["messages"] for item in items], max_new_tokens=max_new_tokens)
    finally:
        model.train(was_training)
    means: dict[str, float | None] = {}
    for metric in metrics:
        values = [code_metrics.score(metric["code"], answer, item["reference"], metric["params"])
                  for answer, item in zip(answers, items)]
        scored = [v for v in values if v is not None]
        means[metric["name"]] = round(sum(scored) / len(scored), 4) if scored else None
    return means


class Sweep:
    """The sweep's state: its plan, the trials done so far, sweep.json and the MLflow parent run."""

    def __init__(self, session: Path, folder: Path, spec: dict[str, Any], events: ProgressEvents):
        self.session, self.folder, self.spec, self.events = session, folder, spec, events
        self.results: list[dict[str, Any]] = []
        self.mlflow: Any = None
        self.parent_id: str | None = None

    def write(self, status: str) -> dict[str, Any]:
        best = best_trial(self.results) if status == "finished" else None
        keep = ("sweep_id", "technique", "base_model", "metric", "grid", "eval_records", "trial_minutes", "check_at", "stop_margin")
        state = {**{k: self.spec.get(k) for k in keep}, "status": status, "metrics": [m["name"] for m in self.spec["metrics"]],
                 "mlflow_run_id": self.parent_id, "trials": self.results, "best": best["id"] if best else None,
                 "updated": time.time()}
        atomic_write_text(self.session / SWEEP_FILE, json.dumps(state, indent=2, default=str) + "\n")
        return state

    def start_tracking(self) -> None:
        """The MLflow parent run (the trials are its children); the sweep goes on without it if MLflow fails."""
        try:
            import mlflow

            from skills.common.tracking import EXPERIMENT, ensure_experiment, tracking_uri

            uri = tracking_uri(self.session)
            mlflow.set_tracking_uri(uri)
            ensure_experiment(mlflow, uri)
            mlflow.set_experiment(EXPERIMENT)
            run = mlflow.start_run(run_name=self.spec["sweep_id"], tags={
                "tunesmith.kind": "sweep", "tunesmith.sweep_id": self.spec["sweep_id"], "tunesmith.session": self.session.name,
                "tunesmith.session_dir": str(self.session)})
            params = {"technique": self.spec["technique"], "base_model": self.spec["base_model"], "metric": self.spec["metric"],
                      "trials": len(self.spec["trials"]), "eval_records": self.spec["eval_records"],
                      "check_at": self.spec["check_at"], "stop_margin": self.spec["stop_margin"],
                      **{f"grid.{k}": ",".join(map(str, v)) for k, v in self.spec["grid"].items()}}
            mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
            self.mlflow, self.parent_id = mlflow, run.info.run_id
        except Exception as exc:  # noqa: BLE001 - the sweep goes on without tracking
            self.events.emit("log", message=f"MLflow tracking disabled: {type(exc).__name__}: {exc}")

    def end_tracking(self, status: str, best: dict[str, Any] | None) -> None:
        if self.mlflow is None:
            return
        while self.mlflow.active_run() is not None and self.mlflow.active_run().info.run_id != self.parent_id:
            self.mlflow.end_run(status="KILLED")  # a child cut off by cancelling
        if best is not None:
            self.mlflow.set_tags({"tunesmith.best_trial": best["id"]})
            self.mlflow.log_metrics({"best_score": best["score"]})
        self.mlflow.end_run(status=status)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    session = Path(args.session).resolve()
    folder = session / "sweeps" / args.sweep_id
    events = ProgressEvents(args.events)
    spec = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    state = Sweep(session, folder, spec, events)

    def cancelled(*_: Any) -> None:
        state.write("cancelled")
        state.end_tracking("KILLED", None)
        events.emit("cancelled", message=f"sweep cancelled after {len(state.results)} trials; sweep.json keeps them")
        sys.exit(143)

    signal.signal(signal.SIGTERM, cancelled)
    try:
        run(state)
    except Exception as exc:  # reported as an event, then re-raised for the log
        events.emit("error", message=f"{type(exc).__name__}: {exc}")
        state.write("failed")
        state.end_tracking("FAILED", None)
        raise
    return 0


def run(state: Sweep) -> None:
    import torch

    from skills.common.threads import cpu_threads

    torch.set_num_threads(cpu_threads())
    spec, events = state.spec, state.events
    base = job.load_plan(state.folder / "training.yaml")
    items = eval_items(state.session / base.data.eval_path, spec["eval_records"], spec.get("system_prompt"))
    events.emit("start", sweep_id=spec["sweep_id"], trials=len(spec["trials"]), eval_records=len(items))
    state.write("running")
    state.start_tracking()
    for index, trial in enumerate(spec["trials"], start=1):
        trial_events = TrialEvents(events, trial["id"], index, len(spec["trials"]))
        state.results.append(run_trial(state, base, trial, items, trial_events))
        state.write("running")
        gc.collect()  # one trial's model and optimizer state in memory at a time
    final = state.write("finished")
    best = next((t for t in state.results if t["id"] == final["best"]), None)
    state.end_tracking("FINISHED", best)
    events.emit("done", sweep_id=spec["sweep_id"], best=final["best"], message=f"sweep done: best {final['best']}")


def run_trial(state: Sweep, base: Any, trial: dict[str, Any], items: list[dict[str, Any]], events: TrialEvents) -> dict[str, Any]:
    from transformers import TrainerCallback

    from skills.train.plan import apply_overrides
    from skills.common.tracking import RunTracker

    spec, session = state.spec, state.session
    plan = apply_overrides(base, trial["overrides"])
    steps = plan.hyperparameters.max_steps
    trial_dir = state.folder / trial["id"]
    trial_dir.mkdir(parents=True, exist_ok=True)
    (trial_dir / "metrics.jsonl").unlink(missing_ok=True)
    events.emit("trial_start", settings=trial["settings"], total_steps=steps,
                message=f"trial {trial['id']}: {describe(trial['settings'])}, {steps} steps")
    started_wall, started_cpu = time.monotonic(), time.process_time()
    model, tokenizer = job.load_model(plan)
    dataset, trained_prompt = job.training_dataset(plan, session, model, tokenizer, events.emit)
    if trained_prompt.get("system_prompt"):  # asked as it was trained: with the shortened system prompt
        short = {"role": "system", "content": trained_prompt["system_prompt"]}
        items = [{**item, "messages": [short if m["role"] == "system" else m for m in item["messages"]]} for item in items]
    common = job.trainer_args(plan, trial_dir / "checkpoints", steps, save=False)
    trainer = job.build_trainer(plan, model, tokenizer, dataset, job.lora_config(plan), common, session, plan.hyperparameters)
    progress = job.Progress(events, trial_dir, steps)
    tracker = None
    if state.mlflow is not None:
        tracker = RunTracker(session, f"{spec['sweep_id']}-{trial['id']}")
        tracker.start(plan, parent_run_id=state.parent_id)
        state.mlflow.set_tags({"tunesmith.kind": "sweep_trial", "tunesmith.sweep_id": spec["sweep_id"], "tunesmith.trial": trial["id"]})
        progress.tracker = tracker
    check_step = max(1, round(steps * spec["check_at"])) if steps > 1 else None
    earlier = [t["check"]["score"] for t in state.results if t.get("check") and t["check"].get("score") is not None]
    outcome: dict[str, Any] = {"status": "finished", "check": None, "scoring_cpu": 0.0}
    cap_s = spec["trial_minutes"] * 60

    def measure() -> dict[str, float | None]:
        cpu = time.process_time()
        means = score(trainer.model, tokenizer, items, spec["metrics"], spec["max_new_tokens"])
        outcome["scoring_cpu"] += time.process_time() - cpu
        return means

    class Check(TrainerCallback):
        def on_log(self, targs, tstate, control, logs=None, **kwargs):
            progress.log(tstate, logs or {})

        def on_step_end(self, targs, tstate, control, **kwargs):
            if tstate.global_step == check_step and check_step < steps:
                means = measure()
                value, best = means.get(spec["metric"]), max(earlier) if earlier else None
                stop = should_stop(value, best, spec["stop_margin"])
                outcome["check"] = {"step": tstate.global_step, "score": value, "best": best, "stop": stop, "scores": means}
                verdict = "stops early" if stop else "goes on"
                events.emit("trial_check", step=tstate.global_step, score=value, best=best, stop=stop,
                            message=f"trial {trial['id']} at step {tstate.global_step}: {spec['metric']} {value} "
                                    f"(best earlier check {best}): {verdict}")
                if stop:
                    outcome["status"] = "stopped_early"
                    control.should_training_stop = True
            if outcome["status"] == "finished" and time.monotonic() - outcome["training_since"] > cap_s and tstate.global_step < steps:
                outcome["status"] = "time_cap"
                control.should_training_stop = True

    trainer.add_callback(Check())
    progress.begin()
    outcome["training_since"] = time.monotonic()  # the cap counts training (and its check), not loading
    trainer.train()
    done_steps = trainer.state.global_step
    means = outcome["check"]["scores"] if outcome["status"] == "stopped_early" else measure()
    train_cpu = time.process_time() - started_cpu - outcome["scoring_cpu"]
    value = means.get(spec["metric"])
    result = {"id": trial["id"], "settings": trial["settings"], "overrides": trial["overrides"], "steps": steps,
              "steps_done": done_steps, "status": outcome["status"], "check": outcome["check"], "score": value,
              "scores": means, "train_cpu_seconds": round(train_cpu, 1), "cpu_minutes": round(train_cpu / 60, 3),
              "wall_seconds": round(time.monotonic() - started_wall, 1),
              "score_per_cpu_minute": round(value / (train_cpu / 60), 4) if value is not None and train_cpu > 0 else None,
              "mlflow_run_id": tracker.mlflow_run_id if tracker else None}
    if tracker is not None:
        numbers = {"score": value, "cpu_minutes": result["cpu_minutes"], "wall_seconds": result["wall_seconds"],
                   "steps_done": done_steps, "score_per_cpu_minute": result["score_per_cpu_minute"],
                   **{f"score.{k}": v for k, v in means.items()}}
        if outcome["check"]:
            numbers["check_score"] = outcome["check"]["score"]
        tracker.log_metrics({k: v for k, v in numbers.items() if v is not None}, done_steps)
        state.mlflow.set_tags({"tunesmith.trial_status": outcome["status"],
                               "tunesmith.stopped_early": str(outcome["status"] == "stopped_early").lower()})
        tracker.log_file(trial_dir / "metrics.jsonl")
        tracker.end("FINISHED")
    events.emit("trial_done", score=value, status=outcome["status"], cpu_minutes=result["cpu_minutes"],
                message=f"trial {trial['id']} {outcome['status']}: {spec['metric']} {value} after {done_steps} steps, "
                        f"{result['cpu_minutes']:.2f} CPU-min")
    return result


if __name__ == "__main__":
    sys.exit(main())
