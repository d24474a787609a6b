"""Tool calls that a model wrote in its message text instead of the API's ``tool_calls`` field.

Small local models often answer with a fenced JSON object ``{"name": ..., "arguments": {...}}``, a
bare one, the ``<tool_call>{...}</tool_call>`` form of several open chat templates, or a Python-style
call ``ask_user(question="...", choices=["a", "b"])`` (seen from Qwen2.5-Coder-1.5B under llama.cpp).
Such a text is taken as a call only when it names a tool the agent knows (and, for the Python form,
passes every argument by keyword as a literal); anything else stays plain text.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
_FENCED = re.compile(r"```[ \t]*(?:json|tool_call|tool|javascript|js)?[ \t]*\n(.*?)\n?[ \t]*```", re.S | re.I)


@dataclass
class TextCalls:
    """What was found: the calls (OpenAI shape) and the text left once their JSON is taken out."""

    calls: list[dict[str, Any]]
    remaining: str


def find_calls(text: str, names: Iterable[str], id_prefix: str = "text_call",
               params: Mapping[str, Sequence[str]] | None = None) -> TextCalls | None:
    """The tool calls written in ``text`` whose name is in ``names``; None when there are none. ``params``
    (tool -> its parameter names in order) lets a Python-style call pass arguments by position
    (``go_to_step("data")``); without it only keywords count."""
    known = set(names)
    order = {name: list(names_) for name, names_ in (params or {}).items()}
    if not text or not known:
        return None
    text = _ECHOED.sub("", text)  # tool schemas the model copied from its prompt are no calls
    if "{" not in text:
        return _python_form(text, known, id_prefix, order)
    for pattern in (_TAGGED, _FENCED):
        found, remaining = _from_blocks(pattern, text, known)
        if found:
            return TextCalls(_shaped(found, id_prefix), remaining)
    stripped = text.strip()
    start = stripped.find("{")
    parsed = _loads(stripped[start:])
    found = _calls_in(parsed, known) if parsed is not None else []
    if found:
        return TextCalls(_shaped(found, id_prefix), stripped[:start].strip())
    return _named_objects(stripped, known, id_prefix) or _python_form(text, known, id_prefix, order)


_ECHOED = re.compile(r"<tools>.*?(?:</tools>|$)", re.S)
_NAMED = re.compile(r"\{\s*\"name\"\s*:")


def _named_objects(text: str, known: set[str], id_prefix: str) -> TextCalls | None:
    """Call objects ``{"name": ..., "arguments": ...}`` found anywhere in the text, e.g. inside extra braces
    (``{{"name": "read_file", "arguments": {...}}}``, seen from Qwen2.5-Coder-1.5B)."""
    found: list[tuple[str, Any]] = []
    first, pos = None, 0
    for match in _NAMED.finditer(text):
        if match.start() < pos:
            continue
        try:
            value, end = json.JSONDecoder().raw_decode(text, match.start())
        except ValueError:
            continue
        calls = _calls_in(value, known)
        if calls:
            found += calls
            first = match.start() if first is None else first
            pos = end
    if not found:
        return None
    return TextCalls(_shaped(found, id_prefix), text[:first].rstrip(" {\n").strip())


_PY_START = re.compile(r"(?<![\w.])([A-Za-z_]\w*)[ \t]*\(")
_EMPTY_FENCE = re.compile(r"```[ \t]*\w*[ \t]*\n?\s*```")
_WORDS = {"true": True, "false": False, "null": None, "none": None}


def _python_form(text: str, known: set[str], id_prefix: str, order: dict[str, list[str]]) -> TextCalls | None:
    """Python-style calls of known tools, ``name(key=value, ...)``, each in order; None when there are none."""
    found: list[tuple[str, Any]] = []
    kept, pos = [], 0
    for match in _PY_START.finditer(text):
        if match.start() < pos or match.group(1) not in known:
            continue
        end = _closing(text, match.end() - 1)
        call = _py_call(text[match.start():end], order) if end is not None else None
        if call is None:
            continue
        found.append(call)
        kept.append(text[pos:match.start()])
        pos = end
    if not found:
        return None
    remaining = _EMPTY_FENCE.sub("", "".join(kept) + text[pos:])
    return TextCalls(_shaped(found, id_prefix), re.sub(r"\n{3,}", "\n\n", remaining).strip())


def _closing(text: str, open_at: int) -> int | None:
    """Index just after the bracket that closes the one at ``open_at`` (strings and nesting respected)."""
    depth, quote, i = 0, None, open_at
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _py_call(source: str, params: dict[str, list[str]]) -> tuple[str, dict[str, Any]] | None:
    try:
        node = ast.parse(source.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        return None
    order = params.get(node.func.id) or []
    if len(node.args) > len(order):
        return None  # positional arguments need the tool's parameter order
    arguments: dict[str, Any] = {}
    for name, value in zip(order, node.args):
        try:
            arguments[name] = _literal(value)
        except ValueError:
            return None
    for keyword in node.keywords:
        if keyword.arg is None:
            return None
        try:
            arguments[keyword.arg] = _literal(keyword.value)
        except ValueError:
            return None
    return node.func.id, arguments


def _literal(node: ast.AST) -> Any:
    """A literal value, with JSON's true/false/null also read (small models mix the two)."""
    if isinstance(node, ast.Name) and node.id.lower() in _WORDS:
        return _WORDS[node.id.lower()]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [_literal(item) for item in node.elts]
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise ValueError("** in a dict")
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values)}  # type: ignore[arg-type]
    return ast.literal_eval(node)


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
        if "arguments" not in item and isinstance(item.get("parameters"), dict) and \
                ("properties" in item["parameters"] or item["parameters"].get("type") == "object"):
            return []  # a tool's schema (echoed from the prompt), not a call
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
