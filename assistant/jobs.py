"""Background jobs: job scripts run as subprocesses that outlive the app.

Each job runs under a small wrapper process that leads its own process group (so cancel reaches
the whole tree and closing the app does not) and that writes an exit marker when the job ends,
so an app started later still learns how the job finished. Files, under ``<session>/jobs/``:

    <id>.json          JobState: pid, argv, status, started, paths (written atomically)
    <id>.log           the job's stdout and stderr
    <id>.events.jsonl  JSONL progress events the job appends; its path is passed as ``--events PATH``
                       (appended to argv unless argv already has ``--events``) and as
                       ``$TUNESMITH_EVENTS``
    <id>.exit          {"exit_code": int, "ended": iso time}, written by the wrapper at the end

Status: ``running``, ``finished`` (exit 0), ``failed`` (other exit, or the wrapper vanished
without a marker), ``cancelled`` (cancel() was called).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Callable, Literal

from pydantic import BaseModel, ConfigDict

from specs.io import atomic_write_text

JobStatus = Literal["running", "finished", "failed", "cancelled"]
ENDED = ("finished", "failed", "cancelled")

# The wrapper: runs argv, passes on nothing (the group signal already reaches the job), and
# records the exit code atomically. Kept as source so it needs no import path.
_WRAPPER = r"""
import json, os, signal, subprocess, sys, time
exit_path, argv = sys.argv[1], sys.argv[2:]
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(sig, lambda *_: None)
try:
    code = subprocess.Popen(argv).wait()
except OSError as exc:
    print(f"tunesmith: could not start job: {exc}", file=sys.stderr, flush=True)
    code = 127
tmp = exit_path + ".tmp"
with open(tmp, "w") as f:
    json.dump({"exit_code": code, "ended": time.time()}, f)
    f.flush()
    os.fsync(f.fileno())
os.replace(tmp, exit_path)
sys.exit(code if 0 <= code < 256 else 1)
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class JobState(BaseModel):
    """What ``jobs/<id>.json`` holds."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)

    id: str
    """Job id, also the stem of its files."""
    name: str
    """What the job is, e.g. train or evaluate."""
    argv: list[str]
    """The command line of the job itself (without the wrapper)."""
    cwd: str | None = None
    """Working folder of the job."""
    pid: int | None = None
    """Process id of the wrapper, which is also the job's process group id."""
    status: JobStatus = "running"
    """running, finished, failed or cancelled."""
    started: str
    """When the job started (UTC, ISO)."""
    ended: str | None = None
    """When the job ended (UTC, ISO)."""
    exit_code: int | None = None
    """Exit code of the job (negative: killed by that signal)."""
    log: str
    """Path of the job's stdout/stderr log."""
    events: str
    """Path of the job's JSONL events."""
    exit_marker: str
    """Path of the exit marker the wrapper writes."""
    reason: str | None = None
    """Why it failed or was cancelled, in words."""


class Job:
    """A handle on one job; cheap to create from its state file."""

    def __init__(self, state_path: Path, state: JobState, process: subprocess.Popen[bytes] | None = None):
        self.state_path = state_path
        self.state = state
        self._process = process
        self._offset = 0
        self._partial = b""

    @property
    def id(self) -> str:
        return self.state.id

    @property
    def name(self) -> str:
        return self.state.name

    @property
    def log_path(self) -> Path:
        return Path(self.state.log)

    @property
    def events_path(self) -> Path:
        return Path(self.state.events)

    @property
    def stdin(self) -> IO[bytes] | None:
        """The job's stdin, for a job started with ``pipes`` by this runner; else None."""
        return self._process.stdin if self._process is not None else None

    @property
    def stdout(self) -> IO[bytes] | None:
        """The job's stdout, for a job started with ``pipes`` by this runner; else None."""
        return self._process.stdout if self._process is not None else None

    @property
    def exit_code(self) -> int | None:
        self.status()
        return self.state.exit_code

    def __repr__(self) -> str:
        return f"Job({self.id!r}, {self.state.status})"

    def events(self) -> list[dict[str, Any]]:
        """Events the job appended since the last call (complete lines only)."""
        try:
            with open(self.events_path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        self._offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        out = []
        for raw in lines:
            if not raw.strip():
                continue
            try:
                event = json.loads(raw)
            except ValueError:
                event = {"type": "unparsed", "text": raw.decode("utf-8", "replace")}
            out.append(event if isinstance(event, dict) else {"type": "value", "value": event})
        return out

    def status(self) -> JobStatus:
        """Current status; notices the end of the job and records it in the state file."""
        if self.state.status != "running":
            return self.state.status
        if self._process is not None:
            if self._process.poll() is None:
                return "running"
        elif _is_our_process(self.state.pid, self.state.exit_marker):
            return "running"
        self._record_end()
        return self.state.status

    def is_running(self) -> bool:
        return self.status() == "running"

    def cancel(self, grace_s: float = 5.0) -> JobStatus:
        """SIGTERM the job's process group; SIGKILL it after ``grace_s`` seconds."""
        if self.status() != "running":
            return self.state.status
        self.state.status = "cancelled"
        self.state.reason = "cancelled by the person"
        self._save()
        pgid = self.state.pid
        _signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and self._alive():
            time.sleep(0.05)
        if self._alive():
            _signal_group(pgid, signal.SIGKILL)
            while self._alive():
                time.sleep(0.02)
        if not self._read_exit_marker() and self._process is not None:
            self.state.exit_code = self._process.returncode
        self.state.ended = self.state.ended or _now()
        self._save()
        return self.state.status

    def wait(
        self,
        poll_cb: Callable[[list[dict[str, Any]]], None] | None = None,
        interval_s: float = 0.2,
        timeout_s: float | None = None,
    ) -> JobStatus:
        """Wait until the job ends, calling ``poll_cb(new_events)`` as events arrive (without a
        callback the events stay unread for ``events()``).

        Returns the final status, or ``running`` when ``timeout_s`` passed first.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            status = self.status()
            if poll_cb is not None:
                events = self.events()
                if events:
                    poll_cb(events)
            if status != "running":
                return status
            if deadline is not None and time.monotonic() >= deadline:
                return status
            time.sleep(interval_s)

    def log_tail(self, max_bytes: int = 4000) -> str:
        """The end of the job's log, for error messages and the UI."""
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - max_bytes))
                return handle.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    # -- internals --------------------------------------------------------------------------
    def _alive(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return _is_our_process(self.state.pid, self.state.exit_marker)

    def _read_exit_marker(self) -> bool:
        try:
            marker = json.loads(Path(self.state.exit_marker).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        self.state.exit_code = int(marker.get("exit_code", 1))
        ended = marker.get("ended")
        if isinstance(ended, (int, float)):
            self.state.ended = datetime.fromtimestamp(ended, timezone.utc).isoformat()
        return True

    def _record_end(self) -> None:
        if self._read_exit_marker():
            code = self.state.exit_code
            self.state.status = "finished" if code == 0 else "failed"
            if code != 0:
                self.state.reason = f"exited with code {code}"
        else:
            if self._process is not None and self._process.returncode is not None:
                self.state.exit_code = self._process.returncode
            self.state.status = "failed"
            self.state.reason = "the job stopped without an exit record (killed, or the machine stopped)"
        self.state.ended = self.state.ended or _now()
        self._save()

    def _save(self) -> None:
        atomic_write_text(self.state_path, self.state.model_dump_json(indent=2) + "\n")


class JobRunner:
    """Starts, lists and reattaches to the jobs of one session."""

    def __init__(self, session_dir: str | os.PathLike[str]):
        self.session_dir = Path(session_dir)
        self.jobs_dir = self.session_dir / "jobs"
        self._live: dict[str, Job] = {}

    def start(
        self,
        name: str,
        argv: list[str],
        cwd: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
        pipes: bool = False,
    ) -> Job:
        """Start ``argv`` in the background. ``env`` is added to this process's environment.

        ``pipes``: the job talks over its stdin and stdout (``Job.stdin``/``Job.stdout``, e.g. the
        playground's model server) instead of a log and ``--events``; stderr still goes to the log.
        """
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        job_id = f"{stamp}-{_safe(name)}-{uuid.uuid4().hex[:6]}"
        base = self.jobs_dir / job_id
        argv = [str(arg) for arg in argv]
        if pipes:  # events, if any, come on stdout; the path is still in $TUNESMITH_EVENTS
            events = Path(f"{base}.events.jsonl")
        elif "--events" in argv[:-1]:  # the caller chose the events file
            events = Path(argv[argv.index("--events") + 1])
            if cwd is not None and not events.is_absolute():
                events = Path(cwd) / events
        else:
            events = Path(f"{base}.events.jsonl")
            argv += ["--events", str(events)]
        state = JobState(
            id=job_id,
            name=name,
            argv=argv,
            cwd=str(cwd) if cwd is not None else None,
            started=_now(),
            log=f"{base}.log",
            events=str(events),
            exit_marker=f"{base}.exit",
        )
        events.parent.mkdir(parents=True, exist_ok=True)
        events.touch()
        full_env = {**os.environ, **(env or {}), "TUNESMITH_EVENTS": str(events), "TUNESMITH_JOB_ID": job_id}
        with open(state.log, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", _WRAPPER, state.exit_marker, *argv],
                cwd=state.cwd,
                env=full_env,
                stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
                stdout=subprocess.PIPE if pipes else log,
                stderr=log if pipes else subprocess.STDOUT,
                start_new_session=True,
            )
        state.pid = process.pid
        job = Job(Path(f"{base}.json"), state, process)
        job._save()
        self._live[job_id] = job
        return job

    def get(self, job_id: str) -> Job:
        if job_id in self._live:
            return self._live[job_id]
        path = self.jobs_dir / f"{job_id}.json"
        job = Job(path, JobState.model_validate_json(path.read_text(encoding="utf-8")))
        self._live[job_id] = job
        return job

    def list(self) -> list[Job]:
        """Every job of the session, oldest first; unreadable state files are skipped."""
        if not self.jobs_dir.is_dir():
            return []
        jobs = []
        for path in sorted(self.jobs_dir.glob("*.json")):
            try:
                jobs.append(self.get(path.stem))
            except (OSError, ValueError):
                continue
        return jobs

    def reattach(self) -> list[Job]:
        """After a restart: jobs still running (same pid, same command), the dead ones recorded.

        A job whose process is gone is marked finished or failed by its exit marker, or failed
        when there is none.
        """
        return [job for job in self.list() if job.status() == "running"]


def _safe(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)
    return cleaned.strip("-")[:40] or "job"


def _is_our_process(pid: int | None, marker: str) -> bool:
    """True when ``pid`` is alive and is our wrapper for this job (not a reused pid)."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return _pid_alive(pid) and not Path("/proc").is_dir()
    if not cmdline:  # a zombie has an empty command line
        return False
    return marker.encode() in cmdline.split(b"\0")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int | None, sig: int) -> None:
    if not pgid:
        return
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
