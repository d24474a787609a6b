"""A step's background job, started through the engine's runner and found again by its folder.

A tool starts its job with ``launch(ctx, name, argv, folder)``: the engine's job runner (``ctx.jobs``,
see skills/jobcontrol.py) starts the process, and ``<folder>/job.json`` records the job id and its
events file. Any later call, after a restart too, asks the runner about that job id: whether it runs
(``job_running``), how it ended (``job_status``), its log (``log_tail``), cancelling it (``cancel``),
and its events as they come (``follow``). Nothing here starts, signals or reads a process itself.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

from skills import jobcontrol
from skills.jobcontrol import JobControl, JobHandle
from skills.toolkit import ToolContext, ToolError
from specs.io import atomic_write_text

REPO = Path(__file__).resolve().parents[2]
"""The folder job scripts run in (``python -m skills.<step>.job`` resolves from there)."""


def launch(ctx: ToolContext, name: str, argv: list[str], folder: Path, env: dict[str, str] | None = None,
           **record: Any) -> dict[str, Any]:
    """Start ``argv`` through the engine's job runner and record it in ``folder/job.json``
    (job id, events file, argv, start time, name, and ``record``); returns what was recorded."""
    if ctx.jobs is None:
        raise ToolError(f"{name} runs as a background job, and this call has no job runner (start it from tunesmith)")
    folder.mkdir(parents=True, exist_ok=True)
    handle = ctx.jobs.start(name, argv, cwd=str(REPO), env=env or None)
    info = {"job_id": handle.id, "events": str(handle.events_path), "argv": argv, "started": time.time(),
            "name": name, **record}
    atomic_write_text(folder / "job.json", json.dumps(info, indent=2) + "\n")
    return info


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; {} when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def job_handle(folder: Path, jobs: JobControl | None) -> JobHandle | None:
    """The runner's handle on the job recorded in ``folder/job.json``, if the runner knows it."""
    return jobcontrol.find(jobs, read_json(folder / "job.json").get("job_id"))


def job_status(folder: Path, jobs: JobControl | None) -> str | None:
    """running, finished, failed or cancelled, as the runner sees the job; None when it does not know it."""
    handle = job_handle(folder, jobs)
    return handle.status() if handle is not None else None


def job_running(folder: Path, jobs: JobControl | None = None) -> bool:
    """Whether the job recorded in ``folder`` still runs (as the runner sees it; without a runner, no)."""
    return job_status(folder, jobs) == "running"


def cancel(folder: Path, jobs: JobControl | None, grace_s: float = 5.0) -> bool:
    """Stop the job (SIGTERM to its process group, SIGKILL after ``grace_s``); False when it is not running."""
    handle = job_handle(folder, jobs)
    if handle is None or not handle.is_running():
        return False
    handle.cancel(grace_s)
    return True


def log_tail(folder: Path, jobs: JobControl | None, max_bytes: int = 2000) -> str:
    """The end of the job's log, as the runner keeps it ("" when the runner does not know the job)."""
    handle = job_handle(folder, jobs)
    return handle.log_tail(max_bytes) if handle is not None else ""


def events_path(folder: Path) -> Path:
    """The events file of the job recorded in ``folder`` (``folder/events.jsonl`` when none is recorded)."""
    return Path(read_json(folder / "job.json").get("events") or folder / "events.jsonl")


def read_events(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Complete JSON lines of ``path`` after byte ``offset`` and the offset after them (a line still
    being written waits for the next read; a line that is not an object is skipped)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
    except FileNotFoundError:
        return [], offset
    complete = chunk.rfind(b"\n") + 1
    events = []
    for raw in chunk[:complete].splitlines():
        try:
            event = json.loads(raw)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events, offset + complete


def follow(folder: Path, on_events: Callable[[list[dict[str, Any]]], None], jobs: JobControl | None = None,
           timeout_s: float | None = None, interval_s: float = 0.5, cancel: Any = None, offset: int = 0) -> str | None:
    """Pass the job's new events (after byte ``offset`` of its events file) to ``on_events`` until it
    ends, ``timeout_s`` passes or ``cancel`` (an Event) is set; returns the job's status then (None:
    the runner does not know the job)."""
    path = events_path(folder)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        status = job_status(folder, jobs)
        batch, offset = read_events(path, offset)
        if batch:
            on_events(batch)
        stopped = cancel is not None and cancel.is_set()
        if status != "running" or stopped or (deadline is not None and time.monotonic() >= deadline):
            return status
        if cancel is not None:
            cancel.wait(interval_s)
        else:
            time.sleep(interval_s)
