"""Training runs on disk: start a job, read its state and events, cancel it, find interrupted runs.

A run is ``<session>/runs/<id>/``. The tool that starts it writes ``job.json`` (job id, events file);
the job writes ``run.json`` (status, steps, MLflow id) and ``metrics.jsonl``. The process itself
belongs to the engine's job runner, reached through ``skills.jobcontrol`` (``ctx.jobs``): whether it
still runs, its log and its cancelling are asked of the runner, by job id, after a restart too.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

from skills import jobcontrol
from skills.jobcontrol import JobControl, JobHandle
from skills.settings import ToolSettings
from skills.toolkit import ToolError
from specs.io import atomic_write_text


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


def launch(ctx, name: str, argv: list[str], run_dir: Path) -> dict[str, Any]:
    """Start ``argv`` through the engine's job runner (``ctx.jobs``) and record job.json."""
    if ctx.jobs is None:
        raise ToolError(f"{name} runs as a background job, and this call has no job runner (start it from tunesmith)")
    run_dir.mkdir(parents=True, exist_ok=True)
    repo = str(Path(__file__).resolve().parents[2])
    handle = ctx.jobs.start(name, argv, cwd=repo, env=job_env(ctx.settings) or None)
    info = {"job_id": handle.id, "events": str(handle.events_path), "argv": argv, "started": time.time(), "name": name}
    atomic_write_text(run_dir / "job.json", json.dumps(info, indent=2) + "\n")
    return info


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def job_handle(run_dir: Path, jobs: JobControl | None) -> JobHandle | None:
    """The runner's handle on the job recorded in the run's job.json, if any."""
    return jobcontrol.find(jobs, read_json(run_dir / "job.json").get("job_id"))


def job_running(run_dir: Path, jobs: JobControl | None = None) -> bool:
    """Whether the run's job is still running (as the runner sees it; without a runner, no)."""
    handle = job_handle(run_dir, jobs)
    return handle is not None and handle.is_running()


def run_state(run_dir: Path, jobs: JobControl | None = None) -> dict[str, Any]:
    """Status of a run: finished, failed, cancelled, running, interrupted (process gone) or starting."""
    run = read_json(run_dir / "run.json")
    job = read_json(run_dir / "job.json")
    status = run.get("status") or ("starting" if job else "unknown")
    running = job_running(run_dir, jobs) if job else False
    if status in ("running", "starting") and not running:
        status = "finished" if (run_dir / "final").is_dir() and run.get("status") == "finished" else "interrupted"
    metrics = last_metrics(run_dir)
    from skills.train.job import last_checkpoint

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


def interrupted_runs(session: Path, jobs: JobControl | None = None) -> list[str]:
    """Runs whose job died before finishing (e.g. SIGKILL, machine stop): resume them with --resume."""
    return [p.name for p in list_runs(session) if run_state(p, jobs)["status"] == "interrupted"]


def cancel(run_dir: Path, jobs: JobControl | None, grace_s: float = 5.0) -> bool:
    """Stop a run's job (SIGTERM to its process group, SIGKILL after ``grace_s``); False when it is not running."""
    handle = job_handle(run_dir, jobs)
    if handle is None or not handle.is_running():
        return False
    handle.cancel(grace_s)
    return True


def follow(run_dir: Path, on_events: Callable[[list[dict[str, Any]]], None], jobs: JobControl | None = None,
           timeout_s: float | None = None, interval_s: float = 0.5, cancel: Any = None) -> dict[str, Any]:
    """Block until the run's job ends (or ``timeout_s``, or ``cancel`` is set), passing new events to ``on_events``."""
    events_path = Path(read_json(run_dir / "job.json").get("events") or run_dir / "events.jsonl")
    offset = 0
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        running = job_running(run_dir, jobs)
        if events_path.exists():
            with open(events_path, "rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
            complete = chunk.rfind(b"\n") + 1
            offset += complete
            batch = []
            for raw in chunk[:complete].splitlines():
                try:
                    batch.append(json.loads(raw))
                except ValueError:
                    continue
            if batch:
                on_events(batch)
        stopped = cancel is not None and cancel.is_set()
        if not running or stopped or (deadline is not None and time.monotonic() >= deadline):
            return run_state(run_dir, jobs)
        if cancel is not None:
            cancel.wait(interval_s)
        else:
            time.sleep(interval_s)


def log_tail(run_dir: Path, jobs: JobControl | None, max_bytes: int = 2000) -> str:
    """The end of the run's job log, as the runner keeps it."""
    handle = job_handle(run_dir, jobs)
    return handle.log_tail(max_bytes) if handle is not None else ""
