"""Messages the agent worker posts to the app; handlers on the app own all UI state."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class AgentEvent(Message):
    """One event the agent yielded (an assistant.events.Event)."""

    def __init__(self, event: Any, generation: int = 0) -> None:
        super().__init__()
        self.event = event
        self.generation = generation
        """Which opened session's agent sent it; events of a session left behind are dropped."""


class AgentIdle(Message):
    """The agent worker finished a turn (normally, with an error, or interrupted)."""

    def __init__(self, error: str | None = None, generation: int = 0) -> None:
        super().__init__()
        self.error = error
        self.generation = generation


class SpecChanged(Message):
    """The person saved a spec file (in the app or in $EDITOR); the agent should hear about it."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__()
        self.name = name
        self.message = message
