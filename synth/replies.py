"""JSON out of what a model wrote: the mistakes small models make are repaired where the meaning is sure.

``read_json(text)`` returns ``(value, repairs)``: the first JSON object or list in the reply and the
names of what had to be fixed to read it. It takes a fenced ```json block, prose before or after
the JSON, trailing commas, and a list cut off part way (the objects that were complete are kept).
What cannot be read raises ``ReplyError`` with the reason in words (empty, not JSON).
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```[\w-]*\s*\n?(.*?)(?:```|$)", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_DECODER = json.JSONDecoder()


class ReplyError(ValueError):
    """The reply holds no JSON that can be read; the message says why in a few words."""


def read_json(text: str) -> tuple[Any, list[str]]:
    """The JSON value a model reply carries, and the repairs it needed (empty when it was clean)."""
    stripped = (text or "").strip()
    if not stripped:
        raise ReplyError("empty")
    repairs: list[str] = []
    fenced = _FENCE.search(stripped)
    if fenced and fenced.group(1).strip():
        if stripped[:fenced.start()].strip() or stripped[fenced.end():].strip():
            repairs.append("prose around the JSON")
        body = fenced.group(1).strip()
    else:
        body = stripped
    value, more = _decode(body)
    if value is None:
        raise ReplyError("not JSON")
    return value, repairs + more


def _decode(body: str) -> tuple[Any, list[str]]:
    try:
        return json.loads(body), []
    except json.JSONDecodeError:
        pass
    start = min((k for k in (body.find("{"), body.find("[")) if k >= 0), default=-1)
    if start < 0:
        return None, []
    repairs = ["prose around the JSON"] if body[:start].strip() else []
    for candidate, fix in ((body[start:], None), (_TRAILING_COMMA.sub(r"\1", body[start:]), "trailing comma")):
        try:
            value, end = _DECODER.raw_decode(candidate)
        except json.JSONDecodeError:
            continue
        if candidate[end:].strip() and "prose around the JSON" not in repairs:
            repairs.append("prose around the JSON")
        return value, repairs + ([fix] if fix else [])
    items = _complete_items(_TRAILING_COMMA.sub(r"\1", body[start:]))
    if items:
        return items, repairs + ["cut off: kept the complete items"]
    return None, []


def _complete_items(text: str) -> list[Any]:
    """The complete values at the top of a JSON list that breaks off (a reply cut short)."""
    if not text.startswith("["):
        return []
    items, position = [], 1
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        try:
            value, position = _DECODER.raw_decode(text, position)
        except json.JSONDecodeError:
            return items
        items.append(value)
