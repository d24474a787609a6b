"""The offline planner: no LLM, deterministic. Each step's skills/<name>/guide.py says what to do next.

``GuidedModel`` reads the phase of the session, builds a GuideState from the conversation and asks
the current skill's guide for the next Turn. It answers in the same shapes an LLM would (text
streamed as TextDelta, then a ModelReply with at most one tool call carrying an id and JSON
arguments), so the agent loop, approvals, sessions and the TUI cannot tell the difference.
When a guide returns None the step is done: it moves to the next skill in ORDER and says so
(``ModelReply.phase``). A step without a guide says it is not available offline.

It gets the same requests as an LLM (the current step's tools, progressive disclosure): its move to
the next step is ``ModelReply.phase``, which the agent applies before it checks the reply's call, so
the call is checked against the tools of the step the planner moved to, as an LLM's would be after
``go_to_step``. The offline journey thereby also proves that every step offers what it needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, AsyncIterator, Callable

from assistant.config import Settings, tool_settings
from assistant.events import TextDelta
from assistant.model import ModelError, ModelReply
from skills import catalog
from skills.guiding import GuideState, LastTool, Turn
from skills.jobcontrol import JobControl
from skills.settings import ToolSettings

CONFIGURE_HINT = (
    "Configure an LLM to go on: start with --model <litellm model string> (or set TUNESMITH_MODEL), "
    "for example openai/gpt-4.1 with OPENAI_API_KEY in the environment, or openai/<name> with "
    "--api-base for a local OpenAI-compatible server."
)


class GuidedModel:
    """Offline planner over the skills' guides."""

    name = "guided (offline)"

    def __init__(self, session_dir: str | Path, settings: Settings | ToolSettings | None = None, *,
                 phase: Callable[[], str] | None = None,
                 records: Callable[[], list[dict[str, Any]]] | None = None,
                 jobs: JobControl | None = None) -> None:
        self.session_dir = Path(session_dir)
        self.jobs = jobs
        self.settings = tool_settings(settings)
        self._phase = phase
        self._records = records

    async def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncIterator[TextDelta | ModelReply]:
        try:
            reply = self.reply(messages, {t["function"]["name"] for t in tools if "function" in t})
        except Exception as exc:  # a guide bug becomes a notice; the session goes on
            raise ModelError(f"The offline planner failed in step {self.current_phase()}: {type(exc).__name__}: {exc}") from exc
        if reply.content:
            yield TextDelta(reply.content)
        yield reply

    def reply(self, messages: list[dict[str, Any]], tool_names: set[str] | None = None) -> ModelReply:
        """The next reply for this conversation (pure: same inputs, same reply)."""
        state = self._state(messages)
        phase = self.current_phase()
        said: list[str] = []
        moved = None
        while phase in catalog.ORDER:
            try:
                guide = catalog.get(phase).guide()
            except KeyError:
                guide = None
            if guide is None:
                said.append(f"The {phase} step is not available offline yet. {CONFIGURE_HINT}")
                return ModelReply(content="\n\n".join(said), phase=moved)
            turn: Turn | None = guide.next_turn(state)
            if turn is not None:
                # After a move the request's tools are the old step's: the agent checks the call instead.
                if turn.tool and tool_names is not None and moved is None and turn.tool not in tool_names:
                    said.append(f"{turn.text}\n\n(The {phase} step needs the tool {turn.tool!r}, which is not installed.)".strip())
                    return ModelReply(content="\n\n".join(said), phase=moved)
                if turn.text:
                    said.append(turn.text)
                return ModelReply(content="\n\n".join(said), tool_calls=_calls(turn, len(messages)), phase=moved)
            following = _next_phase(phase)
            said.append(f"The {phase} step is done." + (f" Next: {following}." if following != "done" else ""))
            phase = moved = following
            # The next step starts fresh: its guide sees the person's last words, not the old tool result.
            state = GuideState(state.session_dir, state.messages, state.last_user, None, state.settings, state.jobs)
        said.append("All steps are done. The exported model and its lineage are in the session folder.")
        return ModelReply(content="\n\n".join(said), phase=moved)

    def current_phase(self) -> str:
        """The session's phase; an unknown one (an unreadable session.json) starts from the first step."""
        if self._phase is not None:
            phase = self._phase()
        else:
            try:
                phase = json.loads((self.session_dir / "session.json").read_text(encoding="utf-8")).get("phase")
            except (OSError, ValueError):
                phase = None
        return phase if phase in (*catalog.ORDER, "done") else catalog.ORDER[0]

    def _state(self, messages: list[dict[str, Any]]) -> GuideState:
        chat = [m for m in messages if m.get("role") != "system"]
        last = chat[-1] if chat else {}
        last_user = last.get("content") if last.get("role") == "user" else None
        last_tool = None
        if last.get("role") == "tool":
            record = self._tool_record(last.get("tool_call_id"))
            last_tool = LastTool(
                name=last.get("name") or record.get("message", {}).get("name", ""),
                content=str(last.get("content") or ""),
                is_error=bool(record.get("is_error", str(last.get("content", "")).startswith(("Error", "Not run")))),
                data=dict(record.get("data") or {}),
            )
        return GuideState(self.session_dir, chat, last_user, last_tool, self.settings, self.jobs)

    def _tool_record(self, call_id: str | None) -> dict[str, Any]:
        """The logged tool record (it carries is_error and data that chat messages leave out)."""
        for record in reversed(self._read_records()):
            if record.get("type") == "tool" and record.get("message", {}).get("tool_call_id") == call_id:
                return record
        return {}

    def _read_records(self) -> list[dict[str, Any]]:
        if self._records is not None:
            return self._records()
        out = []
        try:
            lines = (self.session_dir / "conversation.jsonl").read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out


def _next_phase(phase: str) -> str:
    index = catalog.ORDER.index(phase)
    return catalog.ORDER[index + 1] if index + 1 < len(catalog.ORDER) else "done"


def _calls(turn: Turn, position: int) -> list[dict[str, Any]]:
    if not turn.tool:
        return []
    return [{
        "id": f"guided_{position}",
        "type": "function",
        "function": {"name": turn.tool, "arguments": json.dumps(turn.arguments)},
    }]
