"""The records of a session's conversation log: the shapes other modules write, and the check
that a line read back is one of them (so a malformed line is skipped, never a crash later)."""

from __future__ import annotations

import json
from typing import Any

MESSAGE_TYPES = ("system", "user", "assistant", "tool")


NOT_JSON = object()
"""What ``parse_line`` returns for a line that is not JSON."""


def parse_line(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return NOT_JSON


def record_problem(record: Any) -> str | None:
    """Why a parsed line cannot be a record of the log, or None when it can."""
    if record is NOT_JSON:
        return "not valid JSON"
    if not isinstance(record, dict):
        return "not a JSON object"
    kind = record.get("type")
    if not isinstance(kind, str):
        return "a record without a string `type`"
    if kind in MESSAGE_TYPES:
        return _message_problem(record.get("message"), kind)
    if kind == "question":
        choices = record.get("choices")
        if not isinstance(record.get("text", ""), str) or not (choices is None or isinstance(choices, list)):
            return "a question whose `text` is not a string or whose `choices` is not a list"
    return None


def _message_problem(message: Any, kind: str) -> str | None:
    if not isinstance(message, dict):
        return f"a {kind} record without a `message` object"
    if message.get("role") != kind:
        return f"a {kind} record whose message role is {message.get('role')!r}"
    content = message.get("content")
    if not (content is None or isinstance(content, (str, list))):
        return f"a {kind} message whose `content` is {type(content).__name__}"
    if kind == "tool" and not isinstance(message.get("tool_call_id", ""), str):
        return "a tool result whose `tool_call_id` is not a string"
    calls = message.get("tool_calls")
    if kind == "assistant" and calls is not None:
        if not isinstance(calls, list):
            return "an assistant message whose `tool_calls` is not a list"
        for index, call in enumerate(calls):
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(function, dict):
                return f"tool call {index + 1} has no `function` object (it is {function!r})"
            if not isinstance(function.get("name"), str) or not isinstance(call.get("id", ""), str):
                return f"tool call {index + 1} has no string `name` or `id`"
            if not isinstance(function.get("arguments", ""), (str, dict)):
                return f"tool call {index + 1} has `arguments` that are neither a JSON string nor an object"
    return None


def user_record(content: str, **extra: Any) -> dict[str, Any]:
    return {"type": "user", "message": {"role": "user", "content": content}, **extra}


def assistant_record(content: str | None, tool_calls: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content or ""}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {"type": "assistant", "message": message, **extra}


def tool_record(tool_call_id: str, name: str, content: str, **extra: Any) -> dict[str, Any]:
    message = {"role": "tool", "tool_call_id": tool_call_id, "name": name, "content": content}
    return {"type": "tool", "message": message, **extra}
