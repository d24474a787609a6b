"""Notice when a headless run goes round in a circle, so it stops and says why instead of spinning.

A turn is summed up by what it did: its step, each tool call with its arguments and its result, the
question it ended on, and the reply headless would send. When a turn's summary equals an earlier
one's, the next turn would do the same again with the same result: nothing can change without a
person. Where a job reported progress, how far it got is part of the summary: waiting on a job that
moves on is no repeat, regenerating the same data again is.

What the assistant said is its streamed text, or, once a reply is complete, the reply's recorded text
(``AssistantMessage``: a tool call written as text is no longer part of it). An LLM planner seldom
says a thing twice in the very same words: a turn that only talks (no tool call, no question card)
also repeats an earlier such turn of the same step when most of its words are the same ones
(``SAME_WORDS``), since nothing but words changed in between.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from assistant.events import AssistantMessage, Event, Progress, Question, TextDelta, ToolCallStarted, ToolFinished

_CLOCK = re.compile(r"\b\d+(?:\.\d+)?\s*(?:ms|s|sec|seconds?|min|minutes?)\b|\b\d{2}:\d{2}(?::\d{2})?\b")
"""Durations and clock times in a result differ between identical runs; they are left out of the summary."""
SAME_WORDS = 0.6
"""Share of shared words (Jaccard, over words of 3+ letters) at which two talking-only turns say the same."""


@dataclass
class _Turn:
    calls: list[tuple[str, str, str, bool]] = field(default_factory=list)
    pending: dict[str, tuple[str, str]] = field(default_factory=dict)
    replies: list[str] = field(default_factory=list)
    streamed: str = ""
    question: tuple[str, tuple[str, ...]] | None = None
    progress: dict[str, tuple[float, float | None]] = field(default_factory=dict)

    @property
    def said(self) -> str:
        return " ".join([*self.replies, self.streamed]).strip()


class RepeatWatch:
    """Feed it every event of a turn with ``observe``; ``end_turn`` says why the run would repeat, or None."""

    def __init__(self) -> None:
        self._seen: dict[tuple, int] = {}
        self._talk: list[tuple[str, str, frozenset[str], int]] = []
        """Earlier turns that only talked: (step, reply, their words, turn number)."""
        self._turn = _Turn()
        self._count = 0

    def observe(self, event: Event) -> None:
        turn = self._turn
        if isinstance(event, ToolCallStarted):
            turn.pending[event.call_id] = (event.tool, json.dumps(event.arguments, sort_keys=True, default=str))
        elif isinstance(event, ToolFinished):
            tool, arguments = turn.pending.pop(event.call_id, (event.tool, ""))
            turn.calls.append((tool, arguments, _CLOCK.sub("#", event.content), event.is_error))
        elif isinstance(event, Question):
            turn.question = (event.text, tuple(event.choices))
        elif isinstance(event, TextDelta):
            turn.streamed += event.text
        elif isinstance(event, AssistantMessage):  # the reply as recorded replaces what streamed of it
            turn.streamed = ""
            if event.content.strip():
                turn.replies.append(event.content)
        elif isinstance(event, Progress):
            turn.progress[event.task] = (event.done, event.total)

    def end_turn(self, phase: str, reply: str) -> str | None:
        """Close the turn; when it repeats an earlier one exactly, a sentence naming the step and why."""
        turn, self._turn = self._turn, _Turn()
        self._count += 1
        key = (phase, tuple(turn.calls), tuple(sorted(turn.progress.items())), turn.question,
               turn.said if not turn.calls and turn.question is None else "", reply)
        first = self._seen.setdefault(key, self._count)
        if first != self._count:
            return f"step {phase} would repeat turn {first} with the same result: {_why(turn, reply)}"
        if turn.calls or turn.question is not None or not turn.said:
            return None
        words = _words(turn.said)
        for step, answer, before, number in self._talk:
            if step == phase and answer == reply and words and len(words & before) / len(words | before) >= SAME_WORDS:
                return (f"step {phase} would repeat turn {number} with the same result: the assistant said the same "
                        f"thing again in other words ({_short(turn.said, 160)!r}) and the reply would again be {reply!r}.")
        self._talk.append((phase, reply, words, self._count))
        return None


def _why(turn: _Turn, reply: str) -> str:
    if turn.calls:
        work = [call for call in turn.calls if call[0] != "ask_user"] or turn.calls
        tool, arguments, content, _ = work[0]
        shown = "" if arguments in ("", "{}") else _short(arguments, 120)
        result = _short(content.strip().splitlines()[0] if content.strip() else "(empty)", 160)
        ending = f", then the question {_short(turn.question[0], 120)!r}" if turn.question else ""
        return (f"the tool call {tool}({shown}) gave the same result as before ({result}){ending}, "
                f"and the answer would again be {reply!r}.")
    if turn.question is not None:
        return f"the question {_short(turn.question[0], 160)!r} was asked again and would get the same answer {reply!r}."
    return f"the assistant said the same thing again ({_short(turn.said, 160)!r}) and the reply would again be {reply!r}."


def _words(text: str) -> frozenset[str]:
    return frozenset(word for word in re.findall(r"[^\W\d_]{3,}", text.lower()))


def _short(text: Any, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
