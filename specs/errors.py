"""Problems found in a spec file, located for a person to fix: file, line, column, field and what is allowed."""

from __future__ import annotations

import difflib
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec file.

    ``line`` and ``column`` are 1-based and None when the problem has no place in the text
    (a missing file, a file that is not text). ``path`` is the field path, such as
    ``contract.labels[2]``; empty for the whole document.
    """

    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    allowed: str | None = None

    def __str__(self) -> str:
        from specs.validate import format_problem

        return format_problem(self)


class SpecError(ValueError):
    """A spec file (or a spec about to be written) is not valid; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        summary = "; ".join(str(p) for p in self.problems[:5])
        more = len(self.problems) - 5
        if more > 0:
            summary += f"; and {more} more"
        super().__init__(summary or "invalid spec")


# ----------------------------------------------------------------------------- pydantic errors


def problems_from_validation(exc: Any, doc: Any, model: type[BaseModel], file: str) -> list[Problem]:
    """One located Problem per pydantic error (errors of the branches of one union are merged).

    ``doc`` is the parsed document: ruamel nodes give positions; plain data or None give none.
    """
    groups: dict[tuple, list[tuple[tuple, dict]]] = {}
    for error in exc.errors(include_url=False):
        clean = _clean_loc(doc, model, tuple(error.get("loc", ())))
        groups.setdefault(clean, []).append((clean, error))
    problems = []
    for clean, errors in groups.items():
        try:
            problems.append(_problem(doc, model, file, clean, [e for _, e in errors]))
        except Exception:  # locating is a courtesy; the message must still come out
            error = errors[0][1]
            problems.append(Problem(file, None, None, _path_text(clean), str(error.get("msg", "invalid")), None))
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems


def _problem(doc: Any, model: type[BaseModel], file: str, loc: tuple, errors: list[dict]) -> Problem:
    error = errors[0]
    kind = error.get("type", "")
    annotation, info = _field_at(model, [part for part in loc if part != "[key]"])
    point_at_key = kind in ("extra_forbidden", "invalid_key") or (loc and loc[-1] == "[key]")
    node_loc = tuple(part for part in loc if part != "[key]")
    line, column, found = _locate(doc, node_loc, point_at_key)
    message = _message(error)
    allowed = _allowed(error, annotation, info, model, node_loc)
    if loc and loc[-1] == "[key]":
        message = f"the key `{error.get('input')}` is not a string"
    path = node_loc
    if kind == "missing":
        description = _first_sentence(info.description) if info is not None and info.description else None
        message = f"missing required field `{loc[-1]}`" + (f": {description}" if description else "")
        allowed = _describe(annotation, info)
    elif kind == "extra_forbidden":
        names = _field_names(model, node_loc[:-1])
        message = f"unknown key `{loc[-1]}`"
        close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
        if close:
            message += f" (did you mean `{close[0]}`?)"
        allowed = "one of the keys: " + ", ".join(names) if names else None
    elif kind == "literal_error" or all(e.get("type") == "literal_error" for e in errors):
        values = _literal_values(annotation)
        given = error.get("input")
        message = f"`{given}` is not an allowed value" if isinstance(given, (str, int, float)) else message
        if isinstance(given, str) and values:
            close = difflib.get_close_matches(given, [str(v) for v in values], n=1, cutoff=0.6)
            if close:
                message += f" (did you mean `{close[0]}`?)"
        allowed = _describe(annotation, info) if values else allowed
    elif kind == "value_error" and found:
        refined = _refine_cross_field(doc, node_loc, message)
        if refined is not None:
            path, (line, column) = refined
    elif len(errors) > 1:
        message = "the value matches none of the allowed forms"
        allowed = _describe(annotation, info)
    return Problem(file, line, column, _path_text(path), message, allowed)


def _message(error: dict) -> str:
    message = str(error.get("msg", "invalid value"))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


# ----------------------------------------------------------------------------- locating


def _clean_loc(doc: Any, model: type[BaseModel], loc: tuple) -> tuple:
    """Drop pydantic's union-branch labels (`literal[...]`, `str`) that are not keys of the data."""
    clean: list = []
    node = doc
    current: Any = model
    for index, part in enumerate(loc):
        if part == "[key]":
            clean.append(part)
            continue
        child, ok = _child(node, part)
        is_field = _is_field(current, part)
        if ok or is_field or (isinstance(part, int) and isinstance(node, list)):
            clean.append(part)
            node = child if ok else None
            current = _descend(current, part)
            continue
        if index == len(loc) - 1 and isinstance(node, dict) and isinstance(part, str) and "[" not in part:
            clean.append(part)  # a missing key of a plain mapping field
    return tuple(clean)


def _child(node: Any, part: Any) -> tuple[Any, bool]:
    if isinstance(node, dict):
        if part in node:
            return node[part], True
        for key in node:
            if str(key) == str(part):
                return node[key], True
        return None, False
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part], True
    return None, False


def _position(node: Any, part: Any, key: bool) -> tuple[int, int] | None:
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if isinstance(node, dict):
            actual = part if part in node else next(k for k in node if str(k) == str(part))
            line, column = lc.key(actual) if key else lc.value(actual)
        else:
            line, column = lc.item(part)
    except Exception:
        return None
    return line + 1, column + 1


def _locate(doc: Any, loc: tuple, point_at_key: bool) -> tuple[int | None, int | None, bool]:
    """Line and column of the value at ``loc`` (or of its key); for a missing key, of its parent."""
    if doc is None or getattr(doc, "lc", None) is None:
        return None, None, False
    position: tuple[int, int] | None = (doc.lc.line + 1, doc.lc.col + 1) if doc.lc.line is not None else (1, 1)
    node = doc
    for index, part in enumerate(loc):
        child, ok = _child(node, part)
        if not ok:
            return (*position, False) if position else (None, None, False)
        last = index == len(loc) - 1
        # point at the key of a mapping value unless the value itself is the problem
        here = _position(node, part, key=point_at_key or not last or isinstance(child, (dict, list)))
        position = here or position
        node = child
    return (*position, True) if position else (None, None, True)


def _refine_cross_field(doc: Any, loc: tuple, message: str) -> tuple[tuple, tuple[int, int]] | None:
    """Point a cross-field error at the field it names: a present key named in backticks, else the
    key whose value is named in backticks; inside a list, at the first repeated item."""
    node = doc
    for part in loc:
        node, ok = _child(node, part)
        if not ok:
            return None
    if not isinstance(node, dict):
        return None
    quoted = re.findall(r"`([^`]+)`", message)
    target = next((q for q in quoted if q in node), None)
    if target is None:
        target = next((k for q in quoted for k, v in node.items() if isinstance(v, str) and v == q), None)
    if target is None and ("unique" in message or "repeat" in message or "same name" in message):
        target = next((k for k, v in node.items() if isinstance(v, list) and _repeated_index(v) is not None), None)
    if target is None:
        return None
    child = node[target]
    position = _position(node, target, key=True)
    path = (*loc, target)
    if isinstance(child, list):
        repeated = _repeated_index(child)
        if repeated is not None:
            position = _position(child, repeated, key=False) or position
            path = (*path, repeated)
    return (path, position) if position else None


def _repeated_index(items: list) -> int | None:
    seen: set = set()
    for index, item in enumerate(items):
        key = item.get("name") if isinstance(item, dict) else item
        try:
            if key in seen:
                return index
            seen.add(key)
        except TypeError:
            return None
    return None


def _path_text(loc: tuple) -> str:
    text = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


# ----------------------------------------------------------------------------- what is allowed


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _is_field(current: Any, part: Any) -> bool:
    model = _model_in(current) or next((m for m in map(_model_in, _branches(current)) if m), None)
    return model is not None and isinstance(part, str) and part in model.model_fields


def _branches(annotation: Any) -> tuple:
    annotation = _unwrap(annotation)
    return get_args(annotation) if _is_union(annotation) else (annotation,)


def _descend(annotation: Any, part: Any) -> Any:
    for branch in _branches(annotation):
        branch = _unwrap(branch)
        model = _model_in(branch)
        if model is not None and isinstance(part, str) and part in model.model_fields:
            return model.model_fields[part].annotation
        origin = get_origin(branch)
        if origin is list and isinstance(part, int):
            return get_args(branch)[0] if get_args(branch) else Any
        if origin is dict:
            return get_args(branch)[1] if get_args(branch) else Any
    return Any


def _field_at(model: type[BaseModel], loc: list) -> tuple[Any, FieldInfo | None]:
    annotation: Any = model
    info: FieldInfo | None = None
    for part in loc:
        owner = next((m for m in map(_model_in, _branches(annotation)) if m), None)
        info = owner.model_fields.get(part) if owner is not None and isinstance(part, str) else None
        annotation = _descend(annotation, part)
    return annotation, info


def _field_names(model: type[BaseModel], loc: tuple) -> list[str]:
    annotation, _ = _field_at(model, list(loc))
    owner = next((m for m in map(_model_in, _branches(annotation)) if m), None)
    return list(owner.model_fields) if owner is not None else []


def _literal_values(annotation: Any) -> list:
    values: list = []
    for branch in _branches(annotation):
        branch = _unwrap(branch)
        if get_origin(branch) is Literal:
            values.extend(get_args(branch))
    return values


def _describe(annotation: Any, info: FieldInfo | None = None, plural: bool = False) -> str:
    branches = [b for b in _branches(annotation) if b is not type(None)]
    optional = len(branches) < len(_branches(annotation))
    if not branches:
        return "null (leave it empty)"
    literals = [v for b in branches if get_origin(_unwrap(b)) is Literal for v in get_args(_unwrap(b))]
    others = [b for b in branches if get_origin(_unwrap(b)) is not Literal]
    kinds = [_describe_type(b, plural) for b in others]
    if literals:
        kinds.insert(0, _describe_type(Literal[tuple(literals)], plural))
    text = " or ".join(dict.fromkeys(kinds))
    unit = "character" if str in branches else "item"
    bounds = _bounds(info, unit)
    text = f"{text} ({bounds})" if bounds else text
    return f"{text}, or empty" if optional else text


def _describe_type(annotation: Any, plural: bool = False) -> str:
    annotation = _unwrap(annotation)
    if _is_union(annotation):
        return " or ".join(dict.fromkeys(_describe_type(a, plural) for a in get_args(annotation)))
    if annotation is type(None):
        return "null (leave empty)"
    if get_origin(annotation) is Literal:
        return ("values from: " if plural else "one of: ") + ", ".join(str(v) for v in get_args(annotation))
    model = _model_in(annotation)
    if model is not None:
        return ("mappings" if plural else "a mapping") + " with the keys: " + ", ".join(model.model_fields)
    origin = get_origin(annotation)
    if origin is list:
        item = get_args(annotation)[0] if get_args(annotation) else Any
        return ("lists" if plural else "a list") + f" of {_describe_type(item, plural=True)}"
    if origin is dict:
        args = get_args(annotation)
        value = f" to {_describe_type(args[1], plural=True)}" if args and args[1] is not Any else ""
        return ("mappings" if plural else "a mapping") + f" of names{value}"
    names = {str: ("a string", "strings"), int: ("a whole number", "whole numbers"),
             float: ("a number", "numbers"), bool: ("true or false", "true/false values")}
    if annotation in names:
        return names[annotation][1 if plural else 0]
    return "any value" if annotation is Any else getattr(annotation, "__name__", str(annotation))


def _bounds(info: FieldInfo | None, unit: str = "item") -> str:
    if info is None:
        return ""
    parts = []
    for meta in info.metadata:
        for attr, word in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if getattr(meta, attr, None) is not None:
                parts.append(f"{word} {getattr(meta, attr)}")
        for attr, word in (("min_length", "at least"), ("max_length", "at most")):
            count = getattr(meta, attr, None)
            if count is not None:
                parts.append(f"{word} {count} {unit}{'' if count == 1 else 's'}")
    return ", ".join(parts)


def _allowed(error: dict, annotation: Any, info: FieldInfo | None, model: type[BaseModel], loc: tuple) -> str | None:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    comparisons = {"greater_than_equal": ("ge", ">="), "greater_than": ("gt", ">"),
                   "less_than_equal": ("le", "<="), "less_than": ("lt", "<")}
    if kind in comparisons:
        key, word = comparisons[kind]
        return f"a number {word} {ctx.get(key)}"
    if kind in ("too_short", "string_too_short"):
        unit = "character" if kind.startswith("string") else "item"
        count = ctx.get("min_length")
        return f"at least {count} {unit}{'s' if count != 1 else ''}"
    if kind in ("too_long", "string_too_long"):
        unit = "character" if kind.startswith("string") else "item"
        count = ctx.get("max_length")
        return f"at most {count} {unit}{'s' if count != 1 else ''}"
    if kind == "invalid_key" or (loc and error.get("loc", ())[-1:] == ("[key]",)):
        return "keys that are strings"
    if kind == "value_error":
        return None
    if kind == "literal_error" and ctx.get("expected"):
        return f"one of: {ctx['expected']}"
    if kind == "model_type" or kind == "model_attributes_type":
        return _describe(annotation, None)
    return _describe(annotation, info) if annotation is not Any else None


def _first_sentence(text: str) -> str:
    head = text.strip().split("\n")[0]
    match = re.match(r"(.+?[.!?])(\s+[A-Z]|$)", head)
    return match.group(1) if match else head
