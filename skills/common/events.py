"""The one progress-event writer of every job script (``skills/*/job.py``, ``skills/train/sample.py``).

A job appends one JSON object a line to its events file (``--events PATH``, else ``$TUNESMITH_EVENTS``,
which the engine's job runner sets), flushed per event so the app, MCP and headless runs follow it
live; each event has a ``type`` and a ``time``. A short copy goes to stdout, which the runner keeps as
the job's log, unless ``echo`` is off.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

ECHO_CHARS = 300
"""How much of each event the log gets."""


class ProgressEvents:
    """Appends a job's progress events to its events file."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, echo: bool = True, enabled: bool = True):
        chosen = path if path is not None else os.environ.get("TUNESMITH_EVENTS")
        self.path = Path(chosen) if chosen else None
        self.echo = echo
        self.enabled = enabled
        """False in the processes of a multi-process job other than the first (they would repeat it)."""
        if self.path is not None and enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def emit(self, kind: str, /, **fields: Any) -> dict[str, Any]:
        """Write ``{"type": kind, "time": now, **fields}``; returns the event."""
        event = {"type": kind, "time": time.time(), **fields}
        if not self.enabled:
            return event
        line = json.dumps(event, ensure_ascii=False, default=str)
        if self.path is not None:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()
        if self.echo:
            print(line[:ECHO_CHARS], flush=True)
        return event

    __call__ = emit

    def write(self, event: dict[str, Any]) -> None:
        """Write an event made elsewhere (the data engine's ``emit(dict)`` callback)."""
        self.emit(str(event.get("type", "event")), **{key: value for key, value in event.items() if key != "type"})
