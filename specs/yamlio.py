"""Read and write spec files: located errors on load, comments and key order kept on save.

`load_spec` turns any text into a valid spec or a `SpecError` that lists every problem with its
line, column and field. `save_spec` merges the new values into the person's existing document, so
what they wrote around the values (comments, key order, quoting) survives, and it never replaces a
valid file with one that does not load back to the same spec.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scalarstring import LiteralScalarString

from specs.base import SpecFile
from specs.errors import Problem, SpecError, problems_from_validation
from specs.io import atomic_write_text

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
MODELINE_PREFIX = "# yaml-language-server: $schema="
MAX_NODES = 1_000_000
"""Largest number of values a document may expand to (aliases can multiply a small text)."""


# ----------------------------------------------------------------------------- parsing


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = False
    yaml.default_flow_style = False
    yaml.width = 4096  # long values stay on their line instead of wrapping onto the next
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def parse_yaml(text: str, file: str = "<text>") -> Any:
    """Parse YAML text round-trip (nodes keep their positions); syntax errors become a SpecError."""
    try:
        return _yaml().load(text)
    except MarkedYAMLError as exc:
        raise SpecError([_syntax_problem(exc, file, text)]) from None
    except ReaderError as exc:
        position = max(0, min(exc.position, len(text)))
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        character = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        message = f"the text contains a character YAML does not allow ({character})"
        raise SpecError([Problem(file, line, column, "", message, "printable characters")]) from None
    except RecursionError:
        raise SpecError([Problem(file, None, None, "", "the YAML is nested too deeply", None)]) from None
    except Exception as exc:  # ruamel raises plain errors on some malformed input (bad dates, merges)
        raise SpecError([Problem(file, None, None, "", f"cannot read the YAML: {exc}", None)]) from None


_OPENED = {"flow sequence": ("`[`", "`]`"), "flow mapping": ("`{`", "`}`"), "quoted scalar": ("quote", "closing quote")}
"""Constructs that open at one place and fail later: the error names both places."""


def _syntax_problem(exc: MarkedYAMLError, file: str, text: str = "") -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    problem = (exc.problem or "").strip()
    context = (exc.context or "").strip()
    opened = _opened_construct(exc, context, problem, text)
    if opened is not None:
        return Problem(file, *opened)
    message = f"YAML syntax error: {problem}" if problem else "YAML syntax error"
    if context and "duplicate key" not in problem:
        message += f" ({context})"
    allowed = None
    if "\t" in problem or "\\t" in problem:
        allowed = "indentation with spaces; YAML does not allow tabs there"
    elif "duplicate key" in problem:
        message = "duplicate key: " + problem.removeprefix("found ")
        allowed = "each key once per mapping"
    elif "expected a single document" in (context + problem):
        allowed = "a single YAML document (no second `---`)"
    return Problem(file, line, column, "", message, allowed)


def _opened_construct(exc: MarkedYAMLError, context: str, problem: str, text: str) -> tuple | None:
    """(line, column, path, message, allowed) at where an unclosed `[`, `{` or quote opened, naming
    where parsing failed too; None for other errors."""
    start, end = exc.context_mark, exc.problem_mark
    kind = next((k for k in _OPENED if k in context), None)
    if kind is None or start is None or end is None or (start.line, start.column) == (end.line, end.column):
        return None
    opener, closer = _OPENED[kind]
    if kind == "quoted scalar":
        lines = text.splitlines()
        char = lines[start.line][start.column] if start.line < len(lines) and start.column < len(lines[start.line]) else ""
        opener, closer = (f"`{char}`", f"closing `{char}`") if char in "'\"" and char else (opener, closer)
    failed = f"line {end.line + 1}, column {end.column + 1}"
    if "end of stream" in problem:
        detail = f"the file ends at {failed} without the {closer}"
    else:
        detail = f"parsing failed at {failed}: {problem}"
    where = f"the {opener} opened at line {start.line + 1}, column {start.column + 1}"
    if end.line > start.line or "end" in problem:
        message = f"YAML syntax error: {where} is never closed; {detail}"
    else:
        message = f"YAML syntax error inside {where}: {detail}"
    return start.line + 1, start.column + 1, "", message, f"a {closer} to match the {opener} on line {start.line + 1}"


def to_plain(node: Any, file: str = "<text>") -> Any:
    """The ruamel document as plain dicts, lists and scalars; refuses cycles and alias bombs."""
    count = 0
    on_stack: set[int] = set()

    def walk(value: Any) -> Any:
        nonlocal count
        count += 1
        if count > MAX_NODES:
            raise SpecError([Problem(file, None, None, "", f"the document expands to more than {MAX_NODES} values", None)])
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, ScalarBoolean):
            return bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, str):
            return str(value)
        if isinstance(value, TaggedScalar):
            return str(value.value)
        if isinstance(value, (_dt.date, _dt.datetime, bytes)):
            return value
        if isinstance(value, (dict, list, set, tuple)):
            if id(value) in on_stack:
                raise SpecError([Problem(file, None, None, "", "an alias refers to a value that contains it", None)])
            on_stack.add(id(value))
            try:
                if isinstance(value, dict):
                    return {_plain_key(k): walk(v) for k, v in value.items()}
                return [walk(v) for v in value]
            finally:
                on_stack.discard(id(value))
        return str(value)

    return walk(node)


def _plain_key(key: Any) -> Any:
    if key is None or isinstance(key, bool):
        return key
    if isinstance(key, ScalarBoolean):
        return bool(key)
    for kind in (int, float, str):
        if isinstance(key, kind):
            return kind(key)
    return str(key)


def validate_document(doc: Any, model: type[SpecFile], file: str = "<text>") -> SpecFile:
    """Validate a parsed document (ruamel nodes or plain data) against ``model``."""
    if doc is None:
        raise SpecError([Problem(file, 1, 1, "", "the file is empty", _mapping_allowed(model))])
    if not isinstance(doc, dict):
        line, column = _start(doc)
        kind = "a list" if isinstance(doc, list) else f"a single value ({type(to_plain(doc, file)).__name__})"
        message = f"the file must be a mapping of keys to values, but it is {kind}"
        raise SpecError([Problem(file, line, column, "", message, _mapping_allowed(model))])
    data = to_plain(doc, file)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SpecError(problems_from_validation(exc, doc, model, file)) from None
    except RecursionError:
        raise SpecError([Problem(file, None, None, "", "the document is nested too deeply", None)]) from None
    except Exception as exc:  # a validator that trips over odd input must still come out as a problem
        raise SpecError([Problem(file, None, None, "", f"cannot validate: {exc}", None)]) from None


def _start(node: Any) -> tuple[int | None, int | None]:
    lc = getattr(node, "lc", None)
    if lc is not None and getattr(lc, "line", None) is not None:
        return lc.line + 1, lc.col + 1
    return 1, 1


def _mapping_allowed(model: type[SpecFile]) -> str:
    required = [name for name, field in model.model_fields.items() if field.is_required()]
    text = f"a mapping with the keys of a {model.__name__}"
    return text + (f" (required: {', '.join(required)})" if required else "")


def loads_spec(text: str, model: type[SpecFile], file: str = "<text>") -> SpecFile:
    """Validate spec text (YAML, or JSON for JSON files) that is not (yet) on disk; raises SpecError."""
    if file.endswith(".json"):
        return _loads_json(text, model, file)
    return validate_document(parse_yaml(text, file), model, file)


def _loads_json(text: str, model: type[SpecFile], file: str) -> SpecFile:
    def refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen[key] = value
        return seen

    try:
        data = json.loads(text, object_pairs_hook=refuse_duplicates)
    except json.JSONDecodeError as exc:
        raise SpecError([Problem(file, exc.lineno, exc.colno, "", f"JSON syntax error: {exc.msg}", "valid JSON")]) from None
    except (ValueError, RecursionError) as exc:
        raise SpecError([Problem(file, None, None, "", f"cannot read the JSON: {exc}", "valid JSON")]) from None
    try:
        return validate_document(data, model, file)
    except SpecError as error:
        # Plain JSON values carry no positions; JSON is (nearly always) YAML, so re-read it for them.
        try:
            doc = _yaml().load(text)
            if isinstance(doc, dict):
                validate_document(doc, model, file)
        except SpecError as located:
            raise located from None
        except Exception:
            pass
        raise error from None


def read_text(path: str | os.PathLike, file: str | None = None) -> str:
    """A spec file's text, or a SpecError that says why it cannot be read."""
    file = file if file is not None else str(path)
    target = Path(path)
    if not target.exists():
        raise SpecError([Problem(file, None, None, "", "no such file", None)])
    if target.is_dir():
        raise SpecError([Problem(file, None, None, "", "this is a folder, not a spec file", None)])
    try:
        raw = target.read_bytes()
    except OSError as exc:
        raise SpecError([Problem(file, None, None, "", f"cannot read the file: {exc.strerror or exc}", None)]) from None
    if b"\x00" in raw:
        raise SpecError([Problem(file, None, None, "", "this is a binary file, not a YAML spec", "UTF-8 text")])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = f"the file is not UTF-8 text (byte {exc.start})"
        raise SpecError([Problem(file, line, None, "", message, "UTF-8 text")]) from None


def load_spec(path: str | os.PathLike, model: type[SpecFile] | None = None) -> SpecFile:
    """Read and validate a spec file; the model comes from the file name unless given.

    Raises SpecError (and only SpecError) whose ``problems`` locate every issue.
    """
    from specs.registry import JSON_FILES, SPEC_FILES, model_for

    file = str(path)
    text = read_text(path, file)
    if model is None:
        model = model_for(path)
        if model is None:
            known = ", ".join([*SPEC_FILES, *JSON_FILES])
            message = "unknown spec file name: tunesmith cannot tell which spec this is"
            raise SpecError([Problem(file, None, None, "", message, f"one of {known} (or <name>.use_case.yaml style)")])
    return loads_spec(text, model, file)


# ----------------------------------------------------------------------------- rendering


def schema_reference(model: type[SpecFile], path: str | os.PathLike | None = None) -> str:
    """Where the modeline points: the committed JSON Schema of ``model``.

    yaml-language-server resolves a relative modeline path against the YAML file itself and also
    takes absolute paths. A relative path survives moving a whole project (a repository with its
    examples, a project folder with its own .venv and its workspace), so it is used when the file
    and the installed schemas share a project folder. When they share only the home folder or the
    root (the app installed with pipx, a session under /tmp), a relative path would be a fragile
    climb through unrelated folders, so the absolute path of the installed schema is used instead.
    """
    from specs.registry import schema_name

    schema = SCHEMA_DIR / f"{schema_name(model)}.schema.json"
    if path is not None:
        folder = Path(os.path.abspath(path)).parent
        try:
            common = Path(os.path.commonpath([folder, schema]))
        except ValueError:  # different drives
            common = Path(folder.anchor)
        shallow = {Path(common.anchor), Path.home(), *Path.home().parents}
        if common not in shallow:
            return Path(os.path.relpath(schema, folder)).as_posix()
    return schema.as_posix()


def render_spec(spec: SpecFile, existing_text: str | None = None, path: str | os.PathLike | None = None) -> str:
    """The YAML text of ``spec``; with ``existing_text``, that document updated in place.

    Every field that has a value is written (defaults too) so the person sees every setting;
    optional fields left unset stay out of the file. With an existing
    document, its comments, key order, quoting and indentation are kept: changed values are
    replaced, new keys go at the end of their mapping, keys the spec no longer has are removed.
    ``path`` (where the file will live) lets the schema modeline be a relative path.
    """
    data = _without_unset(spec, spec.model_dump(mode="json"))
    yaml = _yaml()
    doc = None
    if existing_text:
        try:
            doc = yaml.load(existing_text)
            _match_indent(yaml, existing_text)
        except Exception:
            doc = None
    body = None
    if isinstance(doc, CommentedMap):
        try:
            merge_into(doc, data)
            body = _strip_modeline(_dump(yaml, doc))
        except Exception:  # odd layouts (merge keys, custom tags) that ruamel cannot re-emit
            body = None
        if body is not None and not _loads_back(body, spec):
            # Anchors and aliases share nodes, so one change can land in several places;
            # then the person's layout cannot hold the new values and a clean document is written.
            body = None
    if body is None:
        body = _strip_modeline(_dump(_yaml(), to_node(data)))
    reference = schema_reference(type(spec), path)
    if path is None and existing_text:
        # Without a destination, keep a modeline that already names this schema, so that a diff
        # preview shows the same first line that save_spec(path, ...) will write.
        current = _modeline(existing_text)
        if current and current.endswith("/" + Path(reference).name):
            reference = current
    return f"{MODELINE_PREFIX}{reference}\n{body}"


def _dump(yaml: YAML, doc: Any) -> str:
    stream = io.StringIO()
    yaml.dump(doc, stream)
    return stream.getvalue()


def _loads_back(text: str, spec: SpecFile) -> bool:
    try:
        check_rendered(text, spec)
    except SpecError:
        return False
    return True


def _modeline(text: str) -> str | None:
    for line in text.splitlines()[:5]:
        if line.startswith(MODELINE_PREFIX):
            return line.removeprefix(MODELINE_PREFIX).strip() or None
    return None


def _strip_modeline(text: str) -> str:
    lines = text.splitlines(keepends=True)
    kept = [line for i, line in enumerate(lines) if not (i < 5 and line.startswith("# yaml-language-server:"))]
    return "".join(kept)


def _match_indent(yaml: YAML, text: str) -> None:
    """Write sequences with the dash offset the person used (`- x` flush or indented under the key)."""
    previous_key_indent = None
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if stripped.startswith("- ") and previous_key_indent is not None:
            offset = max(0, indent - previous_key_indent)
            yaml.indent(mapping=2, sequence=offset + 2, offset=offset)
            return
        previous_key_indent = indent if stripped.rstrip().endswith(":") else None


def to_node(value: Any) -> Any:
    """Plain data as ruamel nodes in block style, multi-line strings as literal blocks."""
    if isinstance(value, dict):
        node = CommentedMap()
        for key, item in value.items():
            node[key] = to_node(item)
        return node
    if isinstance(value, list):
        return CommentedSeq(to_node(item) for item in value)
    if isinstance(value, str) and "\n" in value.rstrip("\n"):
        return LiteralScalarString(value)
    return value


def _same(node: Any, value: Any) -> bool:
    try:
        plain = to_plain(node)
    except SpecError:
        return False
    return _equal(plain, value)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return a == b  # the person's `2` stays `2` for a float field
    return type(a) is type(b) and a == b


def _without_unset(model: Any, data: Any) -> Any:
    """``data`` (a model's JSON dump) without the model fields whose value is None: unset optional
    fields stay out of a new file. Only model fields are dropped, never keys of free-form dicts."""
    from pydantic import BaseModel

    if isinstance(model, BaseModel) and isinstance(data, dict):
        out = {}
        for key, value in data.items():
            attr = getattr(model, key, None) if key in type(model).model_fields else None
            if key in type(model).model_fields and attr is None:
                continue
            out[key] = _without_unset(attr, value) if attr is not None else value
        return out
    if isinstance(model, list) and isinstance(data, list):
        return [_without_unset(m, d) for m, d in zip(model, data)]
    return data


def merge_into(node: CommentedMap, data: dict) -> None:
    """Update ``node`` in place to hold ``data``, keeping what surrounds unchanged values.
    Keys the person wrote stay when they are only unset (None) in ``data``."""
    for key in [k for k in node if k not in data]:
        if node[key] is None:
            continue  # the person wrote `key: null` (or left it empty): keep their line
        del node[key]
    for key, value in data.items():
        if key not in node:
            node[key] = to_node(value)
        else:
            node[key] = _merged(node[key], value)


def _merged(old: Any, value: Any) -> Any:
    if isinstance(old, CommentedMap) and isinstance(value, dict):
        merge_into(old, value)
        return old
    if isinstance(old, CommentedSeq) and isinstance(value, list):
        for index, item in enumerate(value):
            if index < len(old):
                old[index] = _merged(old[index], item)
            else:
                old.append(to_node(item))
        while len(old) > len(value):
            del old[len(old) - 1]
        return old
    if _same(old, value):
        return old
    return to_node(value)


# ----------------------------------------------------------------------------- saving


def save_spec(path: str | os.PathLike, spec: SpecFile) -> Path:
    """Write ``spec`` to ``path`` atomically, keeping the existing file's comments and order.

    The text is rendered, read back and compared with ``spec`` before anything is written; when
    it would not load back to the same valid spec, SpecError is raised and the file is untouched.
    """
    target = Path(path)
    file = str(path)
    valid_spec(spec, file)
    if target.suffix == ".json":
        text = json.dumps(spec.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    else:
        existing = None
        if target.is_file():
            try:
                existing = read_text(target, file)
            except SpecError:
                existing = None
        text = render_spec(spec, existing, path=target)
    check_rendered(text, spec, file)
    return atomic_write_text(target, text)


def valid_spec(spec: SpecFile, file: str = "<spec>") -> SpecFile:
    """``spec`` validated afresh (it may have been built without validation); else SpecError."""
    try:
        return type(spec).model_validate(spec.model_dump(mode="json", warnings=False))
    except ValidationError as exc:
        raise SpecError(problems_from_validation(exc, None, type(spec), file)) from None
    except Exception as exc:
        raise SpecError([Problem(file, None, None, "", f"cannot validate the spec: {exc}", None)]) from None


def check_rendered(text: str, spec: SpecFile, file: str = "<text>") -> SpecFile:
    """Load ``text`` back as ``type(spec)`` and make sure it is exactly ``spec``; else SpecError."""
    expected = valid_spec(spec, file).model_dump(mode="json")
    reloaded = loads_spec(text, type(spec), file)
    # compared as JSON text, where NaN equals NaN (quality metrics may hold one)
    if _canonical(reloaded.model_dump(mode="json")) != _canonical(expected):
        message = "the written text would not load back to the same spec; nothing was written"
        raise SpecError([Problem(file, None, None, "", message, None)])
    return reloaded


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
