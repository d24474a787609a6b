"""Tool calls that a model wrote in its message text instead of the API's ``tool_calls`` field.

Small local models often answer with a fenced JSON object ``{"name": ..., "arguments": {...}}``, a
bare one, or the ``<tool_call>{...}</tool_call>`` form of several open chat templates. Such a text
is taken as a call only when it names a tool the agent knows; anything else stays plain text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
_FENCED = re.compile(r"```[ \t]*(?:json|tool_call|tool|javascript|js)?[ \t]*\n(.*?)\n?[ \t]*```", re.S | re.I)


@dataclass
class TextCalls:
    """What was found: the calls (OpenAI shape) and the text left once their JSON is taken out."""

    calls: list[dict[str, Any]]
    remaining: str


def find_calls(text: str, names: Iterable[str], id_prefix: str = "text_call") -> TextCalls | None:
    """The tool calls written in ``text`` whose name is in ``names``; None when there are none."""
    known = set(names)
    if not text or not known or "{" not in text:
        return None
    for pattern in (_TAGGED, _FENCED):
        found, remaining = _from_blocks(pattern, text, known)
        if found:
            return TextCalls(_shaped(found, id_prefix), remaining)
    stripped = text.strip()
    start = stripped.find("{")
    if start == -1:
        return None
    parsed = _loads(stripped[start:])
    found = _calls_in(parsed, known) if parsed is not None else []
    if not found:
        return None
    return TextCalls(_shaped(found, id_prefix), stripped[:start].strip())


def _from_blocks(pattern: re.Pattern[str], text: str, known: set[str]) -> tuple[list[tuple[str, Any]], str]:
    found: list[tuple[str, Any]] = []
    kept = text
    for match in pattern.finditer(text):
        parsed = _loads(match.group(1))
        calls = _calls_in(parsed, known) if parsed is not None else []
        if calls:
            found += calls
            kept = kept.replace(match.group(0), "")
    return found, kept.strip()


def _loads(text: str) -> Any:
    """JSON from the text; a trailing remark after the object is ignored."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        value, _ = json.JSONDecoder().raw_decode(text)
        return value
    except ValueError:
        return None


def _calls_in(value: Any, known: set[str]) -> list[tuple[str, Any]]:
    """(name, arguments) pairs from one object or a list of them; [] when any is not a known call."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if not isinstance(item, dict):
            return []
        if isinstance(item.get("function"), dict):  # {"type": "function", "function": {"name", "arguments"}}
            item = item["function"]
        name = item.get("name") or item.get("tool")
        arguments = item.get("arguments", item.get("parameters", item.get("args", {})))
        if not isinstance(name, str) or name not in known:
            return []
        out.append((name, arguments))
    return out


def _shaped(found: list[tuple[str, Any]], id_prefix: str) -> list[dict[str, Any]]:
    calls = []
    for index, (name, arguments) in enumerate(found):
        text = arguments if isinstance(arguments, str) else json.dumps(arguments if arguments is not None else {})
        calls.append({"id": f"{id_prefix}_{index}", "type": "function", "function": {"name": name, "arguments": text}})
    return calls
