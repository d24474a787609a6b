"""Training runs on disk: their command, their state and events, the interrupted ones.

A run is ``<session>/runs/<id>/``. The tool that starts it writes ``job.json`` (job id, events file,
through skills/common/jobs.py); the job writes ``run.json`` (status, steps, MLflow id) and
``metrics.jsonl``. The process belongs to the engine's job runner (``ctx.jobs``): whether it still
runs, its log and its cancelling are asked of the runner by job id (skills/common/jobs.py).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

from skills.common import jobs
from skills.common.checkpoints import last_checkpoint
from skills.jobcontrol import JobControl
from skills.settings import ToolSettings
from skills.toolkit import ToolContext


def new_run_id(prefix: str = "run") -> str:
    return time.strftime(f"{prefix}-%Y%m%d-%H%M%S", time.gmtime())


def job_argv(session: Path, run_id: str, plan: str = "training.yaml", resume: bool = False, warmup_steps: int | None = None) -> list[str]:
    argv = [sys.executable, "-m", "skills.train.job", "--plan", plan, "--session", str(session), "--run-id", run_id]
    if resume:
        argv.append("--resume")
    if warmup_steps:
        argv += ["--warmup", "--max-steps", str(warmup_steps)]
    return argv


def job_env(settings: ToolSettings) -> dict[str, str]:
    """Environment a training job needs from the settings: where the reward's judge model answers."""
    env = {}
    if settings.api_base and not os.environ.get("TUNESMITH_JUDGE_API_BASE"):
        env["TUNESMITH_JUDGE_API_BASE"] = settings.api_base
    if settings.judge_model and not os.environ.get("TUNESMITH_JUDGE_MODEL"):
        env["TUNESMITH_JUDGE_MODEL"] = settings.judge_model
    return env


def launch(ctx: ToolContext, name: str, argv: list[str], run_dir: Path) -> dict[str, Any]:
    """Start a training-side job (training, warm-up, sampling) through the engine's runner, with the
    environment it needs from the settings, and record it in ``run_dir/job.json``."""
    return jobs.launch(ctx, name, argv, run_dir, env=job_env(ctx.settings))


def run_state(run_dir: Path, runner: JobControl | None = None) -> dict[str, Any]:
    """Status of a run: finished, failed, cancelled, running, interrupted (process gone) or starting."""
    run = jobs.read_json(run_dir / "run.json")
    job = jobs.read_json(run_dir / "job.json")
    status = run.get("status") or ("starting" if job else "unknown")
    running = jobs.job_running(run_dir, runner) if job else False
    if status in ("running", "starting") and not running:
        status = "finished" if (run_dir / "final").is_dir() and run.get("status") == "finished" else "interrupted"
    metrics = last_metrics(run_dir)
    checkpoint = last_checkpoint(run_dir / "checkpoints")
    return {"run_id": run_dir.name, "status": status, "running": running, "step": metrics.get("step", 0),
            "total_steps": run.get("total_steps"), "last": metrics, "checkpoint": checkpoint.name if checkpoint else None,
            "final": (run_dir / "final").is_dir(), "mlflow_run_id": run.get("mlflow_run_id"), "error": run.get("error"),
            "events": job.get("events")}


def last_metrics(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return {}
    last: dict[str, Any] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            last = json.loads(line)
        except ValueError:
            continue
    return last


def list_runs(session: Path) -> list[Path]:
    """Training run folders (not warm-ups or dry runs), oldest first."""
    root = session / "runs"
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and ((p / "job.json").exists() or (p / "run.json").exists())
             and not p.name.startswith(("warmup", "dryrun"))]
    return sorted(found, key=lambda p: p.stat().st_mtime)


def interrupted_runs(session: Path, runner: JobControl | None = None) -> list[str]:
    """Runs whose job died before finishing (e.g. SIGKILL, machine stop): resume them with --resume."""
    return [p.name for p in list_runs(session) if run_state(p, runner)["status"] == "interrupted"]


def follow(run_dir: Path, on_events: Callable[[list[dict[str, Any]]], None], runner: JobControl | None = None,
           timeout_s: float | None = None, cancel: Any = None) -> dict[str, Any]:
    """Follow the run's job (skills/common/jobs.py ``follow``) and return the run's state when it stops."""
    jobs.follow(run_dir, on_events, runner, timeout_s=timeout_s, cancel=cancel)
    return run_state(run_dir, runner)
