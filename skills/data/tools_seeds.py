"""Tools of the data step for the seed examples (data/examples.jsonl): draft, show, add, edit, delete."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field

from skills.data.access import _client, _data_spec, _teacher, _use_case
from skills.toolkit import Estimate, Preview, ToolContext, ToolError, ToolResult, tool
from synth import seeds
from synth.generate import GenerationError


def _draft(ctx: ToolContext, count: int, use_teacher: bool | None) -> list[dict[str, Any]]:
    use_case = _use_case(ctx)
    spec = _data_spec(ctx, required=False)
    fmt = spec.format if spec else "sft"
    if use_teacher is None:  # not said: the teacher the person configured, else offline
        use_teacher = bool(_teacher(ctx, spec)[0])
    if use_teacher:
        model, base = _teacher(ctx, spec)
        if not model:
            raise ToolError("no teacher model is configured (--teacher-model); draft offline instead")
        from synth.generate import grounding_texts

        try:
            documents = grounding_texts(ctx.session_dir, spec) if spec else {}
        except GenerationError as exc:
            raise ToolError(str(exc)) from exc
        return seeds.draft_with_teacher(use_case, _client(ctx, model, base), count, fmt, documents)
    try:
        return seeds.draft_offline(use_case, count, fmt=fmt)
    except seeds.NeedsData as exc:
        if _teacher(ctx, spec)[0]:
            raise ToolError(f"{exc} A teacher is configured: call draft_seed_examples(use_teacher=true).") from exc
        raise


def _preview_draft(ctx: ToolContext, count: int = 12, use_teacher: bool | None = None) -> Preview:
    if use_teacher is None:
        use_teacher = bool(_teacher(ctx, _data_spec(ctx, required=False))[0])
    if use_teacher:
        model, _ = _teacher(ctx)
        return Preview(summary=f"Ask the teacher {model or '(none configured)'} for {count} seed examples and save "
                               "them to data/examples.jsonl", estimate=Estimate(calls=1, tokens=3000))
    rows = _draft(ctx, count, False)
    return Preview(summary=f"Save {len(rows)} drafted seed examples to data/examples.jsonl:\n" + seeds.table(rows))


@tool("ask", preview=_preview_draft)
def draft_seed_examples(ctx: ToolContext, count: Annotated[int, Field(ge=1, le=100)] = 12,
                        use_teacher: bool | None = None) -> ToolResult:
    """Draft 5-20 seed examples from the approved use case and save them to data/examples.jsonl
    (replacing earlier seeds). The person can then edit, add and delete rows.

    Args:
        count: How many examples to draft (5-20); classification drafts at least one per label.
        use_teacher: true: the configured teacher LLM drafts; false: the offline templates; left out: the teacher
            when one is configured.
    """
    try:
        rows = _draft(ctx, count, use_teacher)
    except seeds.SeedError as exc:
        raise ToolError(str(exc)) from exc
    seeds.save(ctx.session_dir, rows)
    return ToolResult(content=f"Saved {len(rows)} seed examples to data/examples.jsonl:\n{seeds.table(rows)}",
                      data={"rows": rows}, files=[seeds.EXAMPLES])


@tool("always")
def show_seed_examples(ctx: ToolContext) -> ToolResult:
    """Show the seed examples in data/examples.jsonl as a numbered table."""
    rows = seeds.load(ctx.session_dir)
    if not rows:
        return ToolResult(content="There are no seed examples yet; draft them with draft_seed_examples.")
    return ToolResult(content=seeds.table(rows, width=100), data={"rows": rows})


@tool("ask")
def add_seed_example(ctx: ToolContext, input: str, output: str | None = None, chosen: str | None = None,
                     rejected: str | None = None) -> ToolResult:
    """Add one seed example to data/examples.jsonl.

    Args:
        input: What the model receives.
        output: The ideal answer (SFT and prompt-only tasks).
        chosen: The better answer (preference tasks).
        rejected: The worse answer (preference tasks).
    """
    row = {"input": input, "output": output if output is not None else chosen, "chosen": chosen, "rejected": rejected}
    try:
        index = seeds.add_row(ctx.session_dir, row)
    except seeds.SeedError as exc:
        raise ToolError(str(exc)) from exc
    return ToolResult(content=f"Added seed example {index}.", files=[seeds.EXAMPLES])


@tool("ask")
def edit_seed_example(ctx: ToolContext, index: int, input: str | None = None, output: str | None = None,
                      chosen: str | None = None, rejected: str | None = None) -> ToolResult:
    """Change fields of one seed example (rows are numbered from 0 as show_seed_examples lists them).

    Args:
        index: The row number.
        input: New input, if it changes.
        output: New answer, if it changes.
        chosen: New chosen answer (preference tasks), if it changes.
        rejected: New rejected answer (preference tasks), if it changes.
    """
    changes = {k: v for k, v in {"input": input, "output": output, "chosen": chosen, "rejected": rejected}.items()
               if v is not None}
    if not changes:
        raise ToolError("nothing to change: give input, output, chosen or rejected")
    try:
        row = seeds.update_row(ctx.session_dir, index, changes)
    except seeds.SeedError as exc:
        raise ToolError(str(exc)) from exc
    return ToolResult(content=f"Seed example {index} is now: {json.dumps(row, ensure_ascii=False)}",
                      files=[seeds.EXAMPLES])


@tool("ask")
def delete_seed_examples(ctx: ToolContext, indices: list[int]) -> ToolResult:
    """Delete seed examples by row number.

    Args:
        indices: Row numbers to delete (from show_seed_examples).
    """
    try:
        count = seeds.delete_rows(ctx.session_dir, indices)
    except seeds.SeedError as exc:
        raise ToolError(str(exc)) from exc
    return ToolResult(content=f"Deleted {count} seed example(s).", files=[seeds.EXAMPLES])
