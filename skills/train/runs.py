"""Training runs on disk: start a job, read its state and events, cancel it, find interrupted runs.

A run is ``<session>/runs/<id>/``. The tool that starts it writes ``job.json`` (job id, events file,
pid); the job writes ``run.json`` (status, steps, MLflow id) and ``metrics.jsonl``. Skills do not
import the engine, so when the engine's job handle is not at hand (after a restart) the state is
read from the files the engine's JobRunner keeps under ``<session>/jobs/``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from specs.io import atomic_write_text

_HANDLES: dict[str, Any] = {}
"""Job handles of runs started by this process, by run folder path."""


def new_run_id(prefix: str = "run") -> str:
    return time.strftime(f"{prefix}-%Y%m%d-%H%M%S", time.gmtime())


def job_argv(session: Path, run_id: str, plan: str = "training.yaml", resume: bool = False, warmup_steps: int | None = None) -> list[str]:
    argv = [sys.executable, "-m", "skills.train.job", "--plan", plan, "--session", str(session), "--run-id", run_id]
    if resume:
        argv.append("--resume")
    if warmup_steps:
        argv += ["--warmup", "--max-steps", str(warmup_steps)]
    return argv


def job_env(settings: dict[str, Any]) -> dict[str, str]:
    """Environment a training job needs from the settings: where the reward's judge model answers."""
    env = {}
    if settings.get("api_base") and not os.environ.get("TUNESMITH_JUDGE_API_BASE"):
        env["TUNESMITH_JUDGE_API_BASE"] = str(settings["api_base"])
    if settings.get("judge_model") and not os.environ.get("TUNESMITH_JUDGE_MODEL"):
        env["TUNESMITH_JUDGE_MODEL"] = str(settings["judge_model"])
    return env


def launch(ctx, name: str, argv: list[str], run_dir: Path) -> dict[str, Any]:
    """Start ``argv`` through the engine's job runner (or a plain subprocess) and record job.json."""
    run_dir.mkdir(parents=True, exist_ok=True)
    repo = str(Path(__file__).resolve().parents[2])
    extra_env = job_env(ctx.settings)
    if ctx.start_job is not None:
        handle = ctx.start_job(name, argv, cwd=repo, env=extra_env or None)
        state = getattr(handle, "state", None)
        info = {"job_id": getattr(handle, "id", None), "events": str(getattr(handle, "events_path", "") or ""),
                "pid": getattr(state, "pid", None), "jobs_dir": str(ctx.session_dir / "jobs")}
    else:
        events = run_dir / "events.jsonl"
        log = open(run_dir / "job.log", "ab")
        env = {**os.environ, **extra_env, "TUNESMITH_EVENTS": str(events)}
        handle = subprocess.Popen([*argv, "--events", str(events)], cwd=repo, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
        info = {"job_id": None, "events": str(events), "pid": handle.pid, "log": str(run_dir / "job.log")}
    info.update(argv=argv, started=time.time(), name=name)
    _HANDLES[str(run_dir)] = handle
    atomic_write_text(run_dir / "job.json", json.dumps(info, indent=2) + "\n")
    return info


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (ended, not yet reaped) counts as gone
        return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") == -1
    except OSError:
        return True


def job_running(run_dir: Path) -> bool:
    """Whether the run's job process is still alive."""
    handle = _HANDLES.get(str(run_dir))
    if handle is not None:
        if hasattr(handle, "is_running"):
            return bool(handle.is_running())
        if hasattr(handle, "poll"):
            return handle.poll() is None
    job = read_json(run_dir / "job.json")
    if job.get("job_id") and job.get("jobs_dir"):
        if Path(job["jobs_dir"], f"{job['job_id']}.exit").exists():
            return False
    return _alive(job.get("pid"))


def run_state(run_dir: Path) -> dict[str, Any]:
    """Status of a run: finished, failed, cancelled, running, interrupted (process gone) or starting."""
    run = read_json(run_dir / "run.json")
    job = read_json(run_dir / "job.json")
    status = run.get("status") or ("starting" if job else "unknown")
    running = job_running(run_dir) if job else False
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


def interrupted_runs(session: Path) -> list[str]:
    """Runs whose job died before finishing (e.g. SIGKILL, machine stop): resume them with --resume."""
    return [p.name for p in list_runs(session) if run_state(p)["status"] == "interrupted"]


def cancel(run_dir: Path, grace_s: float = 5.0) -> bool:
    """Stop a run's job (SIGTERM to its process group, SIGKILL after ``grace_s``)."""
    handle = _HANDLES.get(str(run_dir))
    if handle is not None and hasattr(handle, "cancel"):
        handle.cancel()
        return True
    pid = read_json(run_dir / "job.json").get("pid")
    if not _alive(pid):
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return True
        end = time.monotonic() + grace_s
        while time.monotonic() < end and _alive(pid):
            time.sleep(0.1)
        if not _alive(pid):
            break
    if handle is not None and hasattr(handle, "wait"):
        handle.wait()
    return True


def follow(run_dir: Path, on_events: Callable[[list[dict[str, Any]]], None], timeout_s: float | None = None,
           interval_s: float = 0.5, cancel: Any = None) -> dict[str, Any]:
    """Block until the run's job ends (or ``timeout_s``, or ``cancel`` is set), passing new events to ``on_events``."""
    events_path = Path(read_json(run_dir / "job.json").get("events") or run_dir / "events.jsonl")
    offset = 0
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        running = job_running(run_dir)
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
            handle = _HANDLES.get(str(run_dir))
            if not running and handle is not None and hasattr(handle, "wait") and hasattr(handle, "poll"):
                handle.wait()
            return run_state(run_dir)
        if cancel is not None:
            cancel.wait(interval_s)
        else:
            time.sleep(interval_s)


def log_tail(run_dir: Path, max_bytes: int = 2000) -> str:
    job = read_json(run_dir / "job.json")
    candidates = [job.get("log")]
    if job.get("job_id") and job.get("jobs_dir"):
        candidates.append(str(Path(job["jobs_dir"], f"{job['job_id']}.log")))
    for name in candidates:
        if name and Path(name).exists():
            data = Path(name).read_bytes()[-max_bytes:]
            return data.decode("utf-8", "replace")
    return ""
