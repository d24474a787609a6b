"""Progressive disclosure: which tools a request offers, and the tool that moves to another step.

Each request offers the current step's tools plus the common ones (``skills.catalog.tools_for_step``)
and ``go_to_step``. A step is open when the session has reached it: the current step, every step
before it, and any later step the session was in before (the journey moves forward when a step's
approval tool says so, e.g. ``approve_use_case``). ``go_to_step`` moves between open steps; a tool of
a step that is not open is refused with what to do first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

from skills import catalog
from skills.toolkit import Tool, ToolContext, ToolError, ToolResult, tool

STEP_TOOL = "go_to_step"
DONE = "done"


def step_index(step: str | None) -> int:
    """Position of a step in the journey (``done`` is after the last one; unknown is -1)."""
    if step == DONE:
        return len(catalog.ORDER)
    return catalog.ORDER.index(step) if step in catalog.ORDER else -1


def furthest_step(phase: str, records: Iterable[dict[str, Any]]) -> str:
    """The furthest step this session has been in: its phase now or any phase it logged before."""
    steps = [phase] + [record.get("phase", "") for record in records if record.get("type") == "phase"]
    return max(steps, key=step_index)


def open_steps(phase: str, records: Iterable[dict[str, Any]]) -> list[str]:
    """Steps ``go_to_step`` may move to now."""
    last = step_index(furthest_step(phase, records))
    return [step for step in catalog.ORDER if step_index(step) <= last]


def why_not_offered(tool_: Tool, phase: str, records: list[dict[str, Any]]) -> str:
    """The error the model reads when it calls a tool of another step."""
    step = tool_.skill or "?"
    where = f"`{tool_.name}` is a tool of the {step} step; the session is in the {phase} step."
    if step in open_steps(phase, records):
        return f"Error: {where} Call {STEP_TOOL} with step={step!r} first, then call it again."
    return (f"Error: {where} The {step} step opens when the steps before it are finished and approved; "
            f"go on with the {phase} step (its playbook says how it ends).")


def step_tool(phase: Any, records: Any) -> Tool:
    """The ``go_to_step`` tool for one session: ``phase()`` gives its step now, ``records()`` its log."""

    @tool("always", name=STEP_TOOL)
    def go_to_step(ctx: ToolContext, step: str) -> ToolResult:
        """Move to another step to get its playbook and tools: an earlier one, or one already reached.

        Args:
            step: use_case, data, train, evaluate or export.
        """
        now, allowed = phase(), open_steps(phase(), records())
        if step not in catalog.ORDER:
            raise ToolError(f"there is no step {step!r}; steps: {', '.join(catalog.ORDER)}")
        if step not in allowed:
            raise ToolError(f"the {step} step is not open yet (open: {', '.join(allowed)}); finish the {now} "
                            f"step first: its playbook says which tool ends it")
        if step == now:
            return ToolResult(content=f"Already in the {step} step.", data={"step": step})
        return ToolResult(content=f"Now in the {step} step: its playbook and tools are loaded.",
                          data={"step": step}, phase=step)

    return go_to_step


ALWAYS_IN_FULL = ("ask_user", STEP_TOOL)
"""Common tools whose schema every request carries; the other common ones may travel as one line."""
CHARS_PER_TOKEN = 3.8
"""Cautious estimate for prompts and schemas (common tokenizers read about 4 characters a token here;
tests/assistant/test_disclosure.py counts the real tokens)."""


@dataclass
class Disclosure:
    """What one request offers: tools with their whole schema, and tools with a brief one (their first
    sentence and the argument types, no argument descriptions; a wrong call comes back with the error)."""

    full: list[Tool]
    brief: list[Tool]

    def schemas(self) -> list[dict[str, Any]]:
        """The request's tool schemas, full ones first."""
        return [item.schema() for item in self.full] + [brief_schema(item) for item in self.brief]


def disclose(phase: str, tools: Iterable[Tool], prompt: str, budget_tokens: int) -> Disclosure:
    """The current step's tools and the common ones, in full while the prompt and schemas fit
    ``budget_tokens``; past it, common tools first and then the step's largest schemas go brief."""
    offered = catalog.tools_for_step(phase, tools)
    shown = Disclosure(list(offered), [])
    candidates = [t for t in offered if t.skill is None and t.name not in ALWAYS_IN_FULL]
    candidates += sorted((t for t in offered if t.skill is not None and not _nested(t)),
                         key=lambda t: -len(json.dumps(t.schema())))
    for item in candidates:
        if (len(prompt) + len(json.dumps(shown.schemas()))) / CHARS_PER_TOKEN <= budget_tokens:
            break
        shown.full.remove(item)
        shown.brief.append(item)
    return shown


def brief_schema(item: Tool) -> dict[str, Any]:
    """The tool's schema with its first sentence and the argument types only."""
    params = item.schema()["function"]["parameters"]
    brief: dict[str, Any] = {"type": "object"}
    if params.get("properties"):
        brief["properties"] = {name: _types_only(spec) for name, spec in params["properties"].items()}
    if params.get("required"):
        brief["required"] = params["required"]
    first = " ".join(item.description.split()).split(". ")[0].rstrip(".") + "."
    return {"type": "function", "function": {"name": item.name, "description": first, "parameters": brief}}


def _nested(item: Tool) -> bool:
    """True when an argument is a structured object whose shape lives in ``$defs``: such a tool always
    travels with its whole schema, since the shape is what the model must follow."""
    return "$defs" in item.schema()["function"]["parameters"]


def _types_only(spec: dict[str, Any]) -> dict[str, Any]:
    kept = {key: spec[key] for key in ("type", "enum") if key in spec}
    if "items" in spec:
        kept["items"] = _types_only(spec["items"])
    if "anyOf" in spec:
        kept["anyOf"] = [_types_only(option) for option in spec["anyOf"]]
    return kept
