"""Fit the conversation into the planner's context: shorten what the model no longer needs.

Only the request is shortened; the session log keeps every message whole. Tool results older than
the last few are cut to their opening lines first; when the request is still over its budget, older
long messages are cut too, then the oldest exchanges are left out (the first request of the person
stays, so the model still knows what the session is for).
"""

from __future__ import annotations

import json
from typing import Any

RECENT_TOOL_RESULTS = 4
"""Tool results counted from the end that always travel whole."""
OLD_RESULT_CHARS = 400
"""An older tool result longer than this is cut to it."""
OLD_MESSAGE_CHARS = 300
"""When the request is still too long: words of the person and the model before their last message."""
CHARS_PER_TOKEN = 3.0
"""A cautious estimate (English and JSON run at 3.5-4.5 characters a token in common tokenizers)."""


def estimate_tokens(value: Any) -> int:
    """Tokens a message list (or any JSON value) takes, estimated from its characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return int(len(text) / CHARS_PER_TOKEN) + 1


def cut(text: str, limit: int, what: str = "result") -> str:
    """The text's opening ``limit`` characters and a note saying the rest is in the session log."""
    if len(text) <= limit:
        return text
    return (f"{text[:limit].rstrip()}\n[... {what} shortened in this request ({len(text)} characters in all); "
            f"the session log keeps it whole: call the tool again or show_file to read it]")


def fit(messages: list[dict[str, Any]], budget_tokens: int) -> list[dict[str, Any]]:
    """A copy of ``messages`` (the conversation without the system prompt) that fits ``budget_tokens``."""
    out = [dict(message) for message in messages]
    tool_positions = [i for i, message in enumerate(out) if message.get("role") == "tool"]
    for i in tool_positions[:-RECENT_TOOL_RESULTS]:
        out[i]["content"] = cut(str(out[i].get("content") or ""), OLD_RESULT_CHARS)
    if estimate_tokens(out) <= budget_tokens:
        return out
    last_user = max((i for i, m in enumerate(out) if m.get("role") == "user"), default=0)
    for i, message in enumerate(out[:last_user]):
        if message.get("role") in ("user", "assistant") and isinstance(message.get("content"), str):
            out[i]["content"] = cut(message["content"], OLD_MESSAGE_CHARS, "message")
    for i in tool_positions[-RECENT_TOOL_RESULTS:-1]:
        out[i]["content"] = cut(str(out[i].get("content") or ""), OLD_RESULT_CHARS)
    if estimate_tokens(out) <= budget_tokens:
        return out
    return _drop_oldest(out, budget_tokens)


def _drop_oldest(messages: list[dict[str, Any]], budget_tokens: int) -> list[dict[str, Any]]:
    """Leave out whole exchanges from the start (a tool result never loses the call it answers)."""
    first = next((i for i, m in enumerate(messages) if m.get("role") == "user"), None)
    head = [messages[first]] if first is not None else []
    rest = messages[first + 1:] if first is not None else list(messages)
    users = [i for i, m in enumerate(rest) if m.get("role") == "user"]
    keep = len(rest) - users[-1] if users else min(len(rest), 2)  # the person's last words and what followed
    dropped = 0
    while len(rest) > keep and estimate_tokens(head + rest) > budget_tokens:
        rest.pop(0)
        dropped += 1
        while rest and rest[0].get("role") == "tool":  # its assistant call went: it goes too
            rest.pop(0)
            dropped += 1
    if not dropped:
        return head + rest
    note = {"role": "user", "content": f"(tunesmith) {dropped} earlier messages are left out of this request to fit "
                                       f"the model's context; the session log keeps them. Files hold what was made."}
    return head + [note] + rest
