"""A small sweep over the training plan: each trial a short real run scored on the held-out split.

The tool (``run_sweep`` in tools.py) turns a grid of a few settings into trials, shows them with
their estimated time on the approval card, and starts ONE background job (skills/train/sweep_job.py)
through the engine's job runner. The job trains each trial, scores it with the use case's code metrics
on held-out records, and stops a trial at its halfway check when it is behind the best earlier trial at
theirs. Results: ``sweep.json`` in the session folder, an MLflow parent run with one child per trial.
``write_training_plan(sweep_trial=N)`` puts a trial's settings into training.yaml (with approval).
"""

from __future__ import annotations

import itertools
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from skills.common import jobs
from skills.toolkit import ToolContext, ToolError, ToolResult
from skills.train import runs
from skills.train.plan import LEARNING_RATES, LOAD_SECONDS, format_seconds
from specs.training import TrainingPlan

MAX_TRIALS = 8
"""Most trials one sweep may run."""
TRIAL_MINUTES = 4.0
"""Wall-clock cap of one trial's training; the job stops a trial that reaches it."""
CHECK_AT = 0.5
"""Share of a trial's steps after which it is scored and compared with the earlier trials."""
STOP_MARGIN = 0.05
"""A trial stops at its check when its score is more than this below the best earlier check score."""
EVAL_LIMIT = 48
"""Held-out records each trial answers (spread evenly over the eval split)."""
SCORE_SECONDS_PER_TOKEN = 0.01
"""Rough cost of one generated answer token when scoring, batched (a heuristic, not a measurement)."""
GRID_FIELDS = ("adapter", "learning_rate", "lora_r", "batch_size", "max_steps")
SWEEP_FILE = "sweep.json"


def new_sweep_id() -> str:
    return time.strftime("sweep-%Y%m%d-%H%M%S", time.gmtime())


def grid_of(values: dict[str, Any]) -> dict[str, list[Any]]:
    """The dimensions given (non-empty lists), in GRID_FIELDS order."""
    return {name: list(values[name]) for name in GRID_FIELDS if values.get(name)}


def count_trials(grid: dict[str, list[Any]], plan_adapter: str = "lora") -> int:
    """How many distinct trials the grid makes (LoRA ranks vary LoRA trials only)."""
    others = math.prod(len(values) for name, values in grid.items() if name not in ("adapter", "lora_r"))
    ranks = len(grid.get("lora_r", [])) or 1
    return sum(others * (ranks if adapter == "lora" else 1) for adapter in grid.get("adapter", [plan_adapter]))


def check_grid(args: Any) -> None:
    """Argument checks that need several fields (run with the validation, before approval)."""
    grid = grid_of(args.model_dump())
    for name, values in grid.items():
        repeated = sorted({str(v) for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"`{name}` lists {', '.join(repeated)} more than once")
    if grid.get("lora_r") and grid.get("adapter") == ["full"]:
        raise ValueError("`lora_r` varies LoRA trials only, and `adapter` is only full: add \"lora\" or drop `lora_r`")
    worst = count_trials(grid)  # before the plan is read: as if the plan trained LoRA
    if worst > MAX_TRIALS:
        sizes = " x ".join(f"{len(v)} {k}" for k, v in grid.items())
        raise ValueError(f"{sizes} make {worst} trials; a sweep runs at most {MAX_TRIALS}: give fewer values")
    if sum(len(v) for v in grid.values()) - len(grid) < 1:
        raise ValueError("a sweep compares trials: give at least two values of one setting, "
                         "e.g. learning_rate [0.0001, 0.0003]")


def build_trials(plan: TrainingPlan, grid: dict[str, list[Any]], steps: int) -> list[dict[str, Any]]:
    """One entry per distinct trial: its id, the swept settings and the plan overrides it runs with.

    A trial that changes the adapter and no learning rate is given uses the measured default rate
    of that adapter (a full fine-tune needs a much lower rate than LoRA)."""
    names = list(grid)
    seen: set[str] = set()
    trials: list[dict[str, Any]] = []
    for values in itertools.product(*(grid[n] for n in names)):
        settings = dict(zip(names, values))
        adapter = settings.get("adapter", plan.adapter)
        if adapter != "lora":
            settings.pop("lora_r", None)
        key = json.dumps(settings, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        overrides: dict[str, Any] = {"max_steps": steps, **settings}
        if "learning_rate" not in settings and adapter != plan.adapter:
            overrides["learning_rate"] = LEARNING_RATES[(plan.technique, adapter)]
        overrides["save_steps"] = max(1, overrides["max_steps"])
        overrides["logging_steps"] = 1
        trials.append({"id": f"t{len(trials) + 1}", "settings": settings, "overrides": overrides})
    return trials


def seconds_per_step(plan: TrainingPlan, batch_size: int) -> float:
    """The plan's (measured, else heuristic) seconds a step, scaled to another batch size."""
    sps = plan.estimate.seconds_per_step if plan.estimate else 3.0
    return sps * batch_size / plan.hyperparameters.batch_size


def default_steps(plan: TrainingPlan, grid: dict[str, list[Any]], score_s: float) -> int:
    """Steps of every trial when the grid does not set them: the plan's, cut so the slowest trial
    (the largest batch) fits the trial cap with its loading and scoring."""
    slowest = seconds_per_step(plan, max(grid.get("batch_size", [plan.hyperparameters.batch_size])))
    fits = int((TRIAL_MINUTES * 60 - LOAD_SECONDS - 2 * score_s) / max(slowest, 1e-3))
    return max(2, min(plan.hyperparameters.max_steps, fits))


def score_seconds(records: int, answer_tokens: int) -> float:
    return round(records * answer_tokens * SCORE_SECONDS_PER_TOKEN, 1)


def trial_seconds(plan: TrainingPlan, trial: dict[str, Any], score_s: float) -> float:
    """Estimated wall seconds of one trial: load, training at the plan's speed, two scorings."""
    over = trial["overrides"]
    sps = seconds_per_step(plan, over.get("batch_size", plan.hyperparameters.batch_size))
    return round(LOAD_SECONDS + sps * over["max_steps"] + 2 * score_s, 1)


def check_fits(plan: TrainingPlan, trials: list[dict[str, Any]], score_s: float) -> None:
    """Refuse trials whose training alone cannot fit the trial cap at the plan's speed."""
    cap = TRIAL_MINUTES * 60
    for trial in trials:
        seconds = trial_seconds(plan, trial, score_s)
        if seconds > cap * 1.25:
            sps = seconds_per_step(plan, trial["overrides"].get("batch_size", plan.hyperparameters.batch_size))
            most = max(1, int((cap - LOAD_SECONDS - 2 * score_s) / sps))
            raise ToolError(f"trial {trial['id']} ({describe(trial['settings'])}) needs about {format_seconds(seconds)} at "
                            f"{sps:.2f} s a step; a trial may take {TRIAL_MINUTES:g} min: give max_steps of at most {most}")


def describe(settings: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in settings.items()) or "the plan as is"


def should_stop(score: float | None, best: float | None, margin: float = STOP_MARGIN) -> bool:
    """Whether a trial whose check scored ``score`` stops, given the best check score of the
    earlier trials: only when it is behind that by more than ``margin``."""
    if score is None or best is None:
        return False
    return score < best - margin


def best_trial(trials: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The trial to adopt: the highest held-out score among those that ran to the end (all trials
    when every one stopped early); on a tie (within 0.005) the one that used fewer CPU-minutes."""
    scored = [t for t in trials if t.get("score") is not None]
    finished = [t for t in scored if t.get("status") != "stopped_early"] or scored
    if not finished:
        return None
    top = max(t["score"] for t in finished)
    return min((t for t in finished if t["score"] >= top - 0.005), key=lambda t: t.get("cpu_minutes") or 0.0)


def scoring(use_case: Any, evaluation: Any, plan: TrainingPlan, eval_path: Path) -> dict[str, Any]:
    """How trials are scored: the use case's code metrics (evaluation.yaml's when there is one), ranked
    by the first that compares with the reference, on up to EVAL_LIMIT held-out records."""
    from skills.common.metrics import NEEDS_REFERENCE
    from skills.common.usecase_metrics import answer_tokens, code_metrics

    metrics = code_metrics(use_case, evaluation)
    if not metrics:
        raise ToolError("no code metric scores this use case, and a sweep scores trials by code: add a tenet measured by code")
    records = min(EVAL_LIMIT, sum(1 for line in eval_path.read_text(encoding="utf-8").splitlines() if line.strip()))
    tokens = evaluation.max_new_tokens if evaluation else (answer_tokens(use_case.contract) or 64)
    primary = next((m for m in metrics if m.code in NEEDS_REFERENCE), metrics[0])
    return {"technique": plan.technique, "base_model": plan.base_model, "metric": primary.name,
            "metrics": [m.model_dump(mode="json", include={"name", "code", "params"}) for m in metrics],
            "eval_records": records, "max_new_tokens": tokens, "score_seconds": score_seconds(records, tokens),
            "system_prompt": use_case.contract.system_prompt}


def preview_text(plan: TrainingPlan, trials: list[dict[str, Any]], scoring: dict[str, Any]) -> tuple[str, float]:
    """The approval card's text (every trial with its estimated time) and the sweep's estimated seconds."""
    seconds = [trial_seconds(plan, t, scoring["score_seconds"]) for t in trials]
    est = plan.estimate
    lines = [f"- {t['id']}: {describe(t['settings'])}, {t['overrides']['max_steps']} steps, about {format_seconds(s)}"
             for t, s in zip(trials, seconds)]
    text = (f"Sweep {len(trials)} short {plan.technique.label} trials of training.yaml on {plan.base_model}, each scored by "
            f"{scoring['metric']} on {scoring['eval_records']} held-out records; a trial more than {STOP_MARGIN:g} behind the "
            f"best earlier trial at its halfway check stops early, and none trains past {TRIAL_MINUTES:g} min. About "
            f"{format_seconds(sum(seconds))} in all at {est.seconds_per_step if est else '?'} s a step "
            f"({est.measured_on if est else 'no estimate'}; loading and scoring are rough guesses).\n" + "\n".join(lines))
    return text, sum(seconds)


def job_argv(session_dir: Path, sweep_id: str) -> list[str]:
    return [sys.executable, "-m", "skills.train.sweep_job", "--session", str(session_dir), "--sweep-id", sweep_id]


def running_sweep(ctx: ToolContext) -> Path | None:
    """The folder of a sweep whose job still runs, if any."""
    root = ctx.path("sweeps")
    if not root.is_dir():
        return None
    for folder in sorted(root.iterdir(), reverse=True):
        if folder.is_dir() and jobs.job_running(folder, ctx.jobs):
            return folder
    return None


def start(ctx: ToolContext, plan: TrainingPlan, trials: list[dict[str, Any]], grid: dict[str, list[Any]],
          scoring: dict[str, Any]) -> Path:
    """Write the sweep's plan into sweeps/<id>/ and start its job through the runner."""
    from specs.io import atomic_write_text
    from specs.yamlio import save_spec

    sweep_id = new_sweep_id()
    folder = ctx.path(f"sweeps/{sweep_id}")
    folder.mkdir(parents=True, exist_ok=True)
    save_spec(folder / "training.yaml", plan)
    spec = {"sweep_id": sweep_id, "grid": grid, "trials": trials, "trial_minutes": TRIAL_MINUTES, "check_at": CHECK_AT,
            "stop_margin": STOP_MARGIN, **scoring}
    atomic_write_text(folder / "plan.json", json.dumps(spec, indent=2) + "\n")
    runs.launch(ctx, "sweep", job_argv(ctx.session_dir, sweep_id), folder)
    return folder


def follow(ctx: ToolContext, folder: Path) -> dict[str, Any]:
    """Relay the sweep job's events to the UI until it ends (or the person stops waiting)."""
    def relay(events: list[dict[str, Any]]) -> None:
        for event in events:
            kind, trial = event.get("type"), event.get("trial")
            task = f"sweep trial {event.get('index')}/{event.get('trials')} ({trial})"
            if kind == "progress":
                fields = {k: v for k, v in event.items() if k in ("loss", "learning_rate", "tokens_per_second")}
                ctx.emit({"type": "progress", "task": task, "done": event.get("step"), "total": event.get("total_steps"),
                          "eta_s": event.get("eta_seconds"), **fields})
            elif kind in ("trial_start", "trial_check", "trial_done", "log"):
                ctx.emit({"type": "notice", "text": event.get("message") or f"{task}: {kind}"})
            elif kind == "error":
                ctx.emit({"type": "warning", "text": f"sweep failed: {event.get('message')}"})

    jobs.follow(folder, relay, ctx.jobs, cancel=ctx.cancel)
    if ctx.cancel.is_set() and ctx.cancel_jobs:
        jobs.cancel(folder, ctx.jobs)
    return jobs.read_json(ctx.path(SWEEP_FILE)) if ctx.path(SWEEP_FILE).exists() else {}


def follow_to_result(ctx: ToolContext, folder: Path) -> ToolResult:
    """Follow the sweep's job, then tell the planner every trial, the best one and how to adopt it."""
    result = follow(ctx, folder)
    if result.get("sweep_id") != folder.name:  # the job died before writing sweep.json
        result = {}
    text = summary(result, folder)
    if result.get("status") in ("failed", None):
        text += "\nThe sweep job's log ends with:\n" + jobs.log_tail(folder, ctx.jobs)
    if ctx.cancel.is_set() and not ctx.cancel_jobs and running_sweep(ctx):
        text = f"Stopped following the sweep {folder.name}; it goes on in the background (run_sweep follows it again)."
    trials = [t["id"] for t in result.get("trials") or []]
    best = trials.index(result["best"]) + 1 if result.get("best") in trials else None
    return ToolResult(content=text, data={"sweep_id": folder.name, "status": result.get("status"), "best_trial": best,
                                          "metric": result.get("metric")},
                      files=[SWEEP_FILE] if result else [], is_error=result.get("status") in ("failed", None))


def trial_line(trial: dict[str, Any], metric: str) -> str:
    score = trial.get("score")
    text = f"{trial['id']} ({describe(trial['settings'])}), {trial.get('steps_done', 0)}/{trial['steps']} steps: "
    text += f"{metric} {score:.2f}" if score is not None else "not scored"
    if trial.get("cpu_minutes"):
        text += f", {trial['cpu_minutes']:.1f} CPU-min"
    if trial.get("status") == "stopped_early":
        check = trial.get("check") or {}
        text += f"; stopped early at step {check.get('step')} ({check.get('score', 0):.2f} vs best {check.get('best', 0):.2f})"
    elif trial.get("status") == "time_cap":
        text += f"; stopped at the {TRIAL_MINUTES:g} min cap"
    return text


def summary(result: dict[str, Any], folder: Path) -> str:
    """What the planner reads when the sweep ends."""
    trials = result.get("trials") or []
    if result.get("sweep_id") != folder.name or not trials:
        return f"The sweep {folder.name} left no results ({result.get('status') or 'no sweep.json'})."
    metric = result.get("metric", "score")
    lines = [f"Sweep {folder.name} {result.get('status')}: {len(trials)} trials on {result.get('eval_records')} held-out "
             f"records, scored by {metric}."]
    lines += ["- " + trial_line(t, metric) for t in trials]
    best = next((t for t in trials if t["id"] == result.get("best")), None)
    if best:
        lines.append(f"Best: {best['id']}. write_training_plan(sweep_trial={trials.index(best) + 1}) puts its settings "
                     "into training.yaml.")
    if result.get("mlflow_run_id"):
        lines.append(f"MLflow: parent run {result['mlflow_run_id']}, one child run per trial.")
    return "\n".join(lines)


def trial_plan(session_dir: Path, number: int) -> tuple[TrainingPlan, dict[str, Any], str]:
    """(the plan the sweep varied, the overrides of its trial ``number`` (1-based), a note): what the
    grid set, and max_steps only when the grid compared several lengths."""
    from specs.errors import SpecError
    from specs.yamlio import load_spec

    result = jobs.read_json(Path(session_dir) / SWEEP_FILE)
    trials = result.get("trials") or []
    if not trials:
        raise ToolError("no sweep.json with trials in this session: run_sweep first")
    if not 1 <= number <= len(trials):
        raise ToolError(f"sweep.json has trials 1 to {len(trials)}; there is no trial {number}")
    trial = trials[number - 1]
    base_path = Path(session_dir) / "sweeps" / str(result.get("sweep_id")) / "training.yaml"
    try:
        base = load_spec(base_path, TrainingPlan)
    except (OSError, SpecError) as exc:
        raise ToolError(f"the plan sweep {result.get('sweep_id')} varied is gone ({exc}); run the sweep again") from exc
    overrides = {k: v for k, v in trial["overrides"].items() if k not in ("save_steps", "logging_steps")}
    if len((result.get("grid") or {}).get("max_steps", [])) < 2:
        overrides.pop("max_steps", None)  # the trials' short length, not a setting the sweep compared
    score = trial.get("score")
    note = (f"Settings of sweep trial {trial['id']} ({describe(trial['settings'])}; {result.get('metric')} "
            f"{score if score is None else round(score, 3)}) on the plan that sweep varied.")
    return base, overrides, note
