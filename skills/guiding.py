"""The offline planner's contract: each skill's guide.py says what to do next without an LLM.

A guide module defines ``next_turn(state: GuideState) -> Turn | None``. ``None`` means the step is
finished and the planner moves to the next skill. A ``Turn`` is what an LLM would have produced:
some text and, optionally, one tool call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skills.jobcontrol import JobControl
from skills.settings import ToolSettings


@dataclass
class LastTool:
    """The result of the tool the planner called last, if the last message is a tool result."""

    name: str
    content: str
    is_error: bool
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class GuideState:
    session_dir: Path
    messages: list[dict[str, Any]]
    """The conversation so far, OpenAI message format."""
    last_user: str | None
    """The person's latest words, when the last message is the person's."""
    last_tool: LastTool | None
    """The last tool result, when the last message is a tool result."""
    settings: ToolSettings = field(default_factory=ToolSettings)
    """What the person configured (skills/settings.py), as tools get it."""
    jobs: JobControl | None = None
    """The engine's job runner (to see whether a job still runs); None without an engine."""

    def exists(self, relative: str) -> bool:
        return (self.session_dir / relative).exists()


@dataclass
class Turn:
    text: str = ""
    tool: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
