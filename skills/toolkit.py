"""What a skill needs to declare tools: the decorator, the context a tool receives, its result.

A tool is a typed function ``fn(ctx, **args)``. Its parameters (after ``ctx``) become a pydantic
model, whose JSON Schema the LLM sees; the docstring's first paragraph is the description and its
``Args:`` section describes each parameter. The engine validates arguments before approval.
"""

from __future__ import annotations

import inspect
import json
import re
import threading
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from skills.jobcontrol import JobControl
from skills.settings import ToolSettings

Permission = Literal["always", "ask", "never"]


class Estimate(BaseModel):
    """What a tool call will cost, shown on the approval card."""

    seconds: float | None = None
    calls: int | None = None
    tokens: int | None = None
    cost_usd: float | None = None
    note: str | None = None


class Preview(BaseModel):
    """What will happen if the call is allowed: shown to the person before they decide."""

    summary: str
    diff: str | None = None
    """Unified diff of a file the tool will write."""
    code: str | None = None
    """Code the tool will run."""
    command: str | None = None
    """Command line the tool will start."""
    estimate: Estimate | None = None
    findings: list[str] = Field(default_factory=list)
    """Blocking findings the person may waive by allowing."""


class ToolResult(BaseModel):
    """What a tool returns. ``content`` is what the model reads next."""

    content: str
    data: dict[str, Any] = Field(default_factory=dict)
    files: list[str] = Field(default_factory=list)
    """Session-relative paths the tool wrote."""
    phase: str | None = None
    """Set to move the session to another phase (a skill name)."""
    is_error: bool = False
    ends_turn: bool = False
    """True when the agent must stop and wait for the person (a question was asked)."""


class ToolError(Exception):
    """Raised by a tool for a failure the model should read and can act on."""


@dataclass(frozen=True)
class Waiver:
    """A blocking finding the person waived when allowing a call. On the approval card and in
    ``Preview.findings`` it reads ``code: message``; a bare ``code`` waives every finding of that code."""

    code: str
    message: str = ""

    @classmethod
    def parse(cls, text: str) -> "Waiver":
        code, sep, message = str(text).partition(":")
        return cls(code.strip(), message.strip()) if sep else cls(str(text).strip())

    def text(self) -> str:
        """How the card shows it (and how ``parse`` reads it back)."""
        return f"{self.code}: {self.message}" if self.message else self.code

    def covers(self, code: str, message: str) -> bool:
        """Whether this waiver waives the finding ``code``/``message``."""
        return self.code == code and (not self.message or self.message == message.strip())

    def to_dict(self) -> dict[str, str]:
        """How files store it (pending decisions, the session log): ``{"code": ..., "message": ...}``."""
        return {"code": self.code, "message": self.message}

    @classmethod
    def read(cls, value: Waiver | str | dict[str, Any]) -> Waiver:
        """A waiver from a file's ``{"code": ..., "message": ...}`` object, or from the ``code: message``
        text that older files (and the card's findings) hold; ValueError for anything else."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        if isinstance(value, dict):
            code, message = value.get("code"), value.get("message") or ""
            if isinstance(code, str) and code.strip() and isinstance(message, str):
                return cls(code.strip(), message.strip())
        raise ValueError(f"a waiver is an object {{\"code\": ..., \"message\": ...}} or text 'code: message', not {value!r}")


@dataclass
class ToolContext:
    """What a running tool may use. Built by the engine; skills never import the engine."""

    session_dir: Path
    settings: ToolSettings = field(default_factory=ToolSettings)
    """What the person configured that tools use (skills/settings.py; never API keys)."""
    emit: Callable[[dict[str, Any]], None] = lambda event: None
    """Send a progress event (e.g. {"type": "progress", "done": 3, "total": 10}) to the UI."""
    jobs: JobControl | None = None
    """The engine's job runner (see skills/jobcontrol.py): the only way a tool starts, watches or
    cancels a background process. None where no engine is at hand; tools that need a job then refuse."""
    approved_waivers: list[Waiver] = field(default_factory=list)
    """The findings the person waived when allowing this call (``code: message`` text given here is read
    into records)."""
    cancel: threading.Event = field(default_factory=threading.Event)
    """Set when the person stops this call (esc, or the Cancel button of its progress card): long work
    stops at its next safe point and returns what it kept; a wait stops waiting."""
    cancel_jobs: bool = False
    """With ``cancel`` set: True when the person asked to cancel the work itself (the progress card's
    Cancel button), so a wait on a background job cancels the job too; False (esc) leaves jobs running."""
    previewed: object | None = None
    """What this call's preview worked out, kept for the run it asked approval for (the engine gives the
    preview and the run one context): a tool that finds its own record here does what the card showed
    instead of working it out again (e.g. write_training_plan writes the plan the person saw)."""

    def __post_init__(self) -> None:
        self.approved_waivers = [Waiver.read(waiver) for waiver in self.approved_waivers]

    @property
    def waivers(self) -> list[Waiver]:
        """The findings the person waived when allowing this call."""
        return list(self.approved_waivers)

    def waived(self, code: str, message: str = "") -> bool:
        """Whether the person waived the finding ``code`` (with ``message``) when allowing this call."""
        return any(waiver.covers(code, message) if message else waiver.code == code for waiver in self.waivers)

    def path(self, relative: str | Path) -> Path:
        """Resolve a session-relative path, refusing anything that escapes the session folder."""
        return safe_join(self.session_dir, relative)


def safe_join(root: Path, relative: str | Path) -> Path:
    """Join ``relative`` under ``root``; raise ToolError on absolute paths, ``..`` or symlinks out."""
    rel = Path(relative)
    if rel.is_absolute():
        raise ToolError(f"path {str(relative)!r} is absolute; give a path inside the session folder")
    if any(part == ".." for part in rel.parts):
        raise ToolError(f"path {str(relative)!r} leaves the session folder")
    root_real = Path(root).resolve()
    target = (root_real / rel).resolve()
    if target != root_real and root_real not in target.parents:
        raise ToolError(f"path {str(relative)!r} resolves outside the session folder (symlink?)")
    return target


@dataclass
class Tool:
    """A typed function the agent may call."""

    name: str
    description: str
    fn: Callable[..., Any]
    args_model: type[BaseModel]
    permission: Permission = "ask"
    preview: Callable[..., Preview] | None = None
    """Optional ``preview(ctx, **args) -> Preview`` describing what the call will do."""
    skill: str | None = None
    person_only: bool = False
    """Only the person may allow this call (waiving a quality finding, rating answers): never --yes,
    a policy file's allow, a remembered "always" rule or the planner. Such a tool has ``ask`` permission."""
    _params: str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.person_only and self.permission != "ask":
            raise ValueError(f"tool {self.name}: a person-only tool needs permission 'ask', not {self.permission!r}")

    def schema(self) -> dict[str, Any]:
        """OpenAI-style function schema, compacted for the planner (see ``compact_schema``). Built once per
        tool (pydantic's schema generation costs milliseconds and every request sizes every tool's schema);
        each call returns its own copy."""
        if self._params is None:
            self._params = json.dumps(compact_schema(self.args_model.model_json_schema()))
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": json.loads(self._params)}}

    def validate(self, arguments: dict[str, Any]) -> BaseModel:
        """Validate arguments; raises pydantic.ValidationError."""
        return self.args_model.model_validate(arguments)

    def describe(self, ctx: ToolContext, args: BaseModel) -> Preview:
        if self.preview is None:
            return Preview(summary=f"{self.name}({_short(args.model_dump())})")
        return self.preview(ctx, **_kwargs(args))

    def run(self, ctx: ToolContext, args: BaseModel) -> ToolResult:
        """Run the tool; a ToolError or any exception becomes an error result."""
        try:
            out = self.fn(ctx, **_kwargs(args))
        except ToolError as exc:
            return ToolResult(content=f"Error: {exc}", is_error=True)
        except ValidationError as exc:
            return ToolResult(content=f"Error: {exc}", is_error=True)
        if isinstance(out, ToolResult):
            return out
        if isinstance(out, str):
            return ToolResult(content=out)
        return ToolResult(content=str(out), data=out if isinstance(out, dict) else {})


_DROPPED_KEYS = ("title", "additionalProperties", "minLength", "maxLength")
"""Schema keys that cost planner tokens and tell it little the validator does not say: every
argument model forbids extra keys, and a call that breaks a bound comes back as a clear error."""
_EMPTY_DEFAULTS = (None, "", [], {})


def compact_schema(node: Any) -> Any:
    """A JSON Schema with what a planner needs and little more: no titles, no ``additionalProperties``
    flags or string length bounds, no empty defaults (the field is optional already), ``anyOf [X,
    null]`` written as ``X``, and no empty ``properties``."""
    if isinstance(node, list):
        return [compact_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED_KEYS and not isinstance(value, dict):
            continue
        if key == "default" and any(value == empty and type(value) is type(empty) for empty in _EMPTY_DEFAULTS):
            continue
        if key in ("properties", "$defs"):
            out[key] = {name: compact_schema(item) for name, item in value.items()}
        else:
            out[key] = compact_schema(value)
    options = out.get("anyOf")
    if isinstance(options, list) and "default" not in out:
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) == 1 and len(kept) < len(options):
            del out["anyOf"]
            out = {**kept[0], **out}
    if out.get("properties") == {}:
        del out["properties"]
    return out


def _checked(check: Callable[[BaseModel], None]) -> Callable[[BaseModel], BaseModel]:
    def run_check(args: BaseModel) -> BaseModel:
        check(args)
        return args

    return run_check


def _kwargs(args: BaseModel) -> dict[str, Any]:
    return {name: getattr(args, name) for name in type(args).model_fields}


def _short(values: dict[str, Any], limit: int = 200) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in values.items())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _docstring_parts(doc: str) -> tuple[str, dict[str, str]]:
    doc = inspect.cleandoc(doc or "")
    match = re.split(r"^\s*Args:\s*$", doc, maxsplit=1, flags=re.MULTILINE)
    description = match[0].strip()
    params: dict[str, str] = {}
    if len(match) == 2:
        current = None
        for line in match[1].splitlines():
            m = re.match(r"^\s{0,8}(\w+)\s*(?:\([^)]*\))?:\s*(.*)$", line)
            if m and not line.startswith(" " * 9):
                current = m.group(1)
                params[current] = m.group(2).strip()
            elif current and line.strip():
                params[current] += " " + line.strip()
    return description, params


def tool(
    permission: Permission = "ask",
    *,
    name: str | None = None,
    preview: Callable[..., Preview] | None = None,
    person_only: bool = False,
    check: Callable[[BaseModel], None] | None = None,
) -> Callable[[Callable[..., Any]], Tool]:
    """Declare a tool. The function's first parameter is the ToolContext. ``person_only``: only the
    person can allow it (see Tool.person_only). ``check(args)`` raises ValueError for arguments that are
    wrong together (e.g. too many combinations): it runs with the validation, before approval."""

    def wrap(fn: Callable[..., Any]) -> Tool:
        description, param_docs = _docstring_parts(fn.__doc__ or "")
        hints = typing.get_type_hints(fn, include_extras=True)
        fields: dict[str, Any] = {}
        params = list(inspect.signature(fn).parameters.values())[1:]
        for param in params:
            annotation = hints.get(param.name, Any)
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[param.name] = (annotation, Field(default=default, description=param_docs.get(param.name)))
        model_name = "".join(part.title() for part in fn.__name__.split("_")) + "Args"
        validators = {"check": model_validator(mode="after")(_checked(check))} if check else None
        args_model = create_model(model_name, __config__=ConfigDict(extra="forbid", allow_inf_nan=False),
                                  __validators__=validators, **fields)
        return Tool(
            name=name or fn.__name__,
            description=description or fn.__name__,
            fn=fn,
            args_model=args_model,
            permission=permission,
            preview=preview,
            person_only=person_only,
        )

    return wrap
