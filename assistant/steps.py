"""Progressive disclosure: which tools a request offers, and the tool that moves to another step.

Each request offers the current step's tools plus the common ones (``skills.catalog.tools_for_step``)
and ``go_to_step``. A step is open when the session has reached it: the current step, every step
before it, and any later step the session was in before (the journey moves forward when a step's
approval tool says so, e.g. ``approve_use_case``). ``go_to_step`` moves between open steps; a tool of
a step that is not open is refused with what to do first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from skills import catalog
from skills.toolkit import Tool, ToolContext, ToolError, ToolResult, tool

STEP_TOOL = "go_to_step"
DONE = "done"


JOURNEY: tuple[str, ...] = tuple(catalog.ORDER)
"""The journey's steps in order (what the plan view draws)."""


def step_descriptions() -> dict[str, str]:
    """Each step's one-line description from its SKILL.md; empty when a SKILL.md is broken (its own
    test reports it; the plan view then shows no tooltips rather than failing)."""
    try:
        return {skill.name: skill.description for skill in catalog.discover()}
    except Exception:  # noqa: BLE001 - a broken SKILL.md must not take the UI down
        return {}


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


ENDING_TOOLS = {"use_case": "approve_use_case", "data": "finish_data_step", "train": "wait_for_training",
                "evaluate": "finish_evaluation", "export": "export_model"}
"""The tool whose success moves each step on (named in go_to_step's error, for models that cannot find it)."""


def step_tool(phase: Any, records: Any) -> Tool:
    """The ``go_to_step`` tool for one session: ``phase()`` gives its step now, ``records()`` its log."""

    @tool("always", name=STEP_TOOL)
    def go_to_step(ctx: ToolContext, step: str) -> ToolResult:
        """Go back to an earlier step (or one already reached) when the person asks to revisit it. Not for the
        current step's work: its own tools do that, and its last tool moves on.

        Args:
            step: use_case, data, train, evaluate or export.
        """
        now, allowed = phase(), open_steps(phase(), records())
        if step not in catalog.ORDER:
            raise ToolError(f"there is no step {step!r}; steps: {', '.join(catalog.ORDER)}")
        if step not in allowed:
            ends = ENDING_TOOLS.get(now)
            how = (f"call {ends} (once the person agreed to what it finishes)" if ends
                   else "its playbook says which tool ends it")
            raise ToolError(f"the {step} step is not open yet (open: {', '.join(allowed)}); finish the {now} "
                            f"step first: {how}")
        if step == now:
            return ToolResult(content=f"Already in the {step} step: this call changed nothing.",
                              data={"step": step, "unchanged": True})
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
    """What one request offers, as the schema each tool travels with: ``full``; ``brief`` (the first
    sentence of the description, argument descriptions only on required arguments); ``bare`` (the
    first sentence and the argument names, types, enums and defaults)."""

    tools: list[Tool]
    brief: set[str] = field(default_factory=set)
    bare: set[str] = field(default_factory=set)
    unnamed: set[str] = field(default_factory=set)
    """Bare, and without a description: the name says what the tool does."""

    def schemas(self) -> list[dict[str, Any]]:
        """The request's tool schemas, in the order of ``tools``."""
        out = []
        for item in self.tools:
            if item.name in self.bare or item.name in self.unnamed:
                schema = brief_schema(item, bare=True)
                if item.name in self.unnamed:
                    del schema["function"]["description"]
            else:
                schema = brief_schema(item) if item.name in self.brief else item.schema()
            out.append(schema)
        return out


def disclose(phase: str, tools: Iterable[Tool], prompt: str, budget_tokens: int) -> Disclosure:
    """The current step's tools and the common ones, in full while the prompt and schemas fit
    ``budget_tokens``. Past it, tools go brief in this order: the common ones, then the step's
    tools from the largest schema down, and last those whose arguments are structured objects; if
    that is not enough, they go bare in the same order, and then lose their description too."""
    offered = catalog.tools_for_step(phase, tools)
    shown = Disclosure(offered)
    size = {item.name: len(json.dumps(item.schema())) for item in offered}
    candidates = [t.name for t in offered if t.skill is None and t.name not in ALWAYS_IN_FULL]
    candidates += [t.name for t in sorted((t for t in offered if t.skill is not None),
                                          key=lambda t: (_nested(t), -size[t.name]))]
    for level in (shown.brief, shown.bare, shown.unnamed):
        for name in candidates:
            if (len(prompt) + len(json.dumps(shown.schemas()))) / CHARS_PER_TOKEN <= budget_tokens:
                return shown
            level.add(name)
    return shown


def brief_schema(item: Tool, bare: bool = False) -> dict[str, Any]:
    """The tool's schema with the first sentence of its description and, unless ``bare``, argument
    descriptions on the arguments a call must give (structure, types, enums and defaults all stay)."""
    params = _described(item.schema()["function"]["parameters"], keep_required=not bare)
    return {"type": "function", "function": {"name": item.name, "description": first_sentence(item.description),
                                             "parameters": params}}


def first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = _SENTENCE_END.search(text)
    return text[:match.start() + 1] if match else text


_SENTENCE_END = re.compile(r"(?<!e\.g)(?<!i\.e)\.\s")


def _described(node: Any, keep_required: bool) -> Any:
    if isinstance(node, list):
        return [_described(item, keep_required) for item in node]
    if not isinstance(node, dict):
        return node
    required = set(node.get("required", [])) if keep_required else set()
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: _described(spec if name in required else
                                         {k: v for k, v in spec.items() if k != "description"}, keep_required)
                        for name, spec in value.items()}
        elif key == "$defs":
            out[key] = {name: _described(spec, keep_required) for name, spec in value.items()}
        else:
            out[key] = _described(value, keep_required)
    return out


def _nested(item: Tool) -> bool:
    """True when an argument is a structured object whose shape lives in ``$defs``: such a tool goes
    brief last, since that shape is what the model must follow."""
    return "$defs" in item.schema()["function"]["parameters"]
