"""How a skill reaches the engine's job runner: the operations, as protocols.

The engine's ``assistant.jobs.JobRunner`` is the only code that starts, watches, cancels and
reattaches processes. A tool gets it as ``ctx.jobs`` (a guide as ``state.jobs``); skills never
import the engine, so they see it through these two protocols only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class JobHandle(Protocol):
    """One background job."""

    @property
    def id(self) -> str: ...

    @property
    def events_path(self) -> Path:
        """The JSONL file the job appends its progress events to."""
        ...

    def status(self) -> str:
        """``running``, ``finished``, ``failed`` or ``cancelled``."""
        ...

    def is_running(self) -> bool: ...

    def cancel(self, grace_s: float = 5.0) -> str:
        """SIGTERM the job's process group, SIGKILL after ``grace_s``; returns the final status."""
        ...

    def log_tail(self, max_bytes: int = 4000) -> str:
        """The end of the job's stdout and stderr."""
        ...


@runtime_checkable
class JobControl(Protocol):
    """Starts jobs and finds them again (after a restart too)."""

    def start(self, name: str, argv: list[str], cwd: str | os.PathLike[str] | None = None,
              env: dict[str, str] | None = None) -> JobHandle:
        """Start ``argv`` in the background; ``env`` is added to the environment."""
        ...

    def get(self, job_id: str) -> Any:
        """The handle of a job started earlier (raises OSError or ValueError when it is unknown)."""
        ...


def find(jobs: JobControl | None, job_id: str | None) -> JobHandle | None:
    """The handle of ``job_id``, or None when there is no runner or no such job."""
    if jobs is None or not job_id:
        return None
    try:
        return jobs.get(job_id)
    except (OSError, ValueError, KeyError):
        return None
