"""Scripted models and fake approvers for tests (real parts everywhere else, no mocks).

    model = ScriptedModel([
        say("Let me look."),
        call("show_file", {"path": "use_case.yaml"}, text="Reading it."),
        say("Done."),
    ])
    ...
    model.assert_all_used()   # or use the `scripted` fixture, which checks at teardown

A scripted turn may carry ``expect``: a function that receives the request's messages and tool
schemas and asserts what the agent sent (e.g. that the last message is a tool error).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable

import pytest

from assistant.events import ApprovalRequested, Decision, TextDelta
from assistant.model import ModelError, ModelReply


@dataclass
class ScriptedTurn:
    text: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    """Each {"name", "arguments" (dict or raw str), optional "id"}."""
    expect: Callable[[list[dict[str, Any]], list[dict[str, Any]]], Any] | None = None
    error: str | None = None
    """Raise ModelError with this message instead of answering."""
    prompt_tokens: int = 10
    completion_tokens: int = 5
    cost_usd: float = 0.0


def say(text: str, **kwargs: Any) -> ScriptedTurn:
    return ScriptedTurn(text=text, **kwargs)


def call(name: str, arguments: dict[str, Any] | str | None = None, *, text: str = "", id: str | None = None,
         **kwargs: Any) -> ScriptedTurn:
    return ScriptedTurn(text=text, tool_calls=[{"name": name, "arguments": arguments or {}, "id": id}], **kwargs)


class ScriptedModel:
    """Replays turns in order; fails when asked for more, and on assert_all_used() when some are left."""

    name = "scripted"

    def __init__(self, turns: list[ScriptedTurn] | None = None) -> None:
        self.turns = list(turns or [])
        self.requests: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]] = []
        self._calls = 0

    def add(self, *turns: ScriptedTurn) -> None:
        self.turns.extend(turns)

    @property
    def remaining(self) -> int:
        return len(self.turns)

    async def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncIterator[TextDelta | ModelReply]:
        self.requests.append((json.loads(json.dumps(messages)), tools))
        if not self.turns:
            raise AssertionError(f"ScriptedModel: request {len(self.requests)} has no scripted turn left; "
                                 f"last message: {messages[-1] if messages else None}")
        turn = self.turns.pop(0)
        if turn.expect is not None:
            turn.expect(messages, tools)
        if turn.error:
            raise ModelError(turn.error)
        for start in range(0, len(turn.text), 16):
            yield TextDelta(turn.text[start:start + 16])
        calls = []
        for call_spec in turn.tool_calls:
            self._calls += 1
            arguments = call_spec["arguments"]
            calls.append({
                "id": call_spec.get("id") or f"scripted_{self._calls}",
                "type": "function",
                "function": {"name": call_spec["name"],
                             "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments)},
            })
        yield ModelReply(content=turn.text, tool_calls=calls, prompt_tokens=turn.prompt_tokens,
                         completion_tokens=turn.completion_tokens, cost_usd=turn.cost_usd)

    def assert_all_used(self) -> None:
        assert not self.turns, f"ScriptedModel: {len(self.turns)} scripted turn(s) left unused: {self.turns}"


class FixedApprover:
    """Answers every request with the same decision kind; records the requests."""

    asks_person = True  # stands for the person at the app's approval card

    def __init__(self, kind: str = "allow_once", comment: str | None = None, waive: list[str] | None = None) -> None:
        self.kind, self.comment, self.waive = kind, comment, list(waive or [])
        self.requests: list[ApprovalRequested] = []

    async def decide(self, request: ApprovalRequested) -> Decision:
        self.requests.append(request)
        return Decision(self.kind, self.comment, by="person", waive=list(self.waive))  # type: ignore[arg-type]


class QueueApprover:
    """Answers requests with the given decisions in order; fails the test if it runs out."""

    asks_person = True  # stands for the person at the app's approval card

    def __init__(self, decisions: list[Decision | str]) -> None:
        self.decisions = [Decision(d) if isinstance(d, str) else d for d in decisions]  # type: ignore[arg-type]
        self.requests: list[ApprovalRequested] = []

    async def decide(self, request: ApprovalRequested) -> Decision:
        self.requests.append(request)
        assert self.decisions, f"QueueApprover: no decision left for {request.tool}"
        return self.decisions.pop(0)


class HangingApprover:
    """Never answers (the person walked away): for tests of interrupt and resume."""

    asks_person = True  # stands for the person at the app's approval card

    def __init__(self) -> None:
        self.requests: list[ApprovalRequested] = []

    async def decide(self, request: ApprovalRequested) -> Decision:
        import asyncio

        self.requests.append(request)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def collect(events: AsyncIterator[Any]) -> list[Any]:
    """All events of one agent turn, as a list."""
    return [event async for event in events]


def kinds(events: list[Any]) -> list[str]:
    return [type(event).__name__ for event in events]


@pytest.fixture
def scripted() -> Any:
    """``scripted(turns) -> ScriptedModel``; at teardown every model made must have used all its turns."""
    made: list[ScriptedModel] = []

    def make(turns: list[ScriptedTurn] | None = None) -> ScriptedModel:
        model = ScriptedModel(turns)
        made.append(model)
        return model

    yield make
    for model in made:
        model.assert_all_used()
