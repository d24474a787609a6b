"""Tools of the data step for data_generation.yaml and its programmatic generator: write the spec,
have the teacher write generator.py, check a sample batch in the sandbox."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field

from skills.data.access import SPEC_FILE, _client, _data_spec, _diff, _teacher, _use_case
from skills.toolkit import Estimate, Preview, ToolContext, ToolError, ToolResult, tool
from specs.data_generation import DataGenerationSpec
from specs.yamlio import render_spec, save_spec
from synth import importing, seeds
from synth.generate import GenerationError, sample_check
from synth.plan import default_spec


def _proposed_spec(ctx: ToolContext, changes: dict[str, Any] | None, notes: list[str] | None = None,
                   probe: bool = False) -> DataGenerationSpec:
    """The spec to write: the file's as it is, or the defaults the first time, then ``changes``. The first
    time, for a teacher served on this machine, the counts are fitted to --teacher-minutes at its speed
    (timed with one real request when ``probe``; else its last timing, else the measured local guess);
    ``notes`` collects what that did."""
    current = _data_spec(ctx, required=False)
    first = current is None
    if current is None:
        model, base = _teacher(ctx)
        own, _ = importing.load_imported(ctx.session_dir)
        use_case = _use_case(ctx)
        said_pairs = use_case.own_data is not None and use_case.own_data.kind == "preference_pairs" and not own
        fmt = "preference" if said_pairs or (own and all(r.get("chosen") and r.get("rejected") for r in own)) else "sft"
        current = default_spec(use_case, teacher_model=model, api_base=base, fmt=fmt, own_records=len(own))
    if first and current.generator.kind == "teacher" and not {"train_count", "eval_count"} & set(changes or {}):
        current = _fit_to_local_teacher(ctx, current, notes if notes is not None else [], probe)
    if not changes:
        return current
    data = current.model_dump(mode="json")
    for key, value in changes.items():
        target = data
        parts = key.split(".")
        for part in parts[:-1]:
            if not isinstance(target.get(part), dict):
                raise ToolError(f"`{key}`: {part} is not a section of {SPEC_FILE}")
            target = target[part]
        target[parts[-1]] = value
    try:
        return DataGenerationSpec.model_validate(data)
    except ValueError as exc:
        raise ToolError(f"the change breaks {SPEC_FILE}: {exc}") from exc


def _fit_to_local_teacher(ctx: ToolContext, spec: DataGenerationSpec, notes: list[str], probe: bool) -> DataGenerationSpec:
    from skills.data import teacher_speed as speed
    from synth.llm import LLMError

    model, base = _teacher(ctx, spec)
    if not model or not speed.is_local(base):
        return spec
    known = speed.known_speed(ctx, model, base)
    if known is None and probe:
        ctx.emit({"type": "notice", "text": f"Timing one request of the teacher {model} at {base} (a model on this machine "
                                            "answers one request at a time)..."})
        try:
            known = speed.measure(ctx, spec, model, base)
            notes.append(f"The teacher answered one real request in {known['seconds_per_record']:.1f} s "
                         f"(kept in {speed.SPEED_FILE}; its answer is cached for the data job).")
        except LLMError as exc:
            notes.append(f"The teacher did not answer the timing request ({str(exc)[:200]}); the counts use the "
                         "measured guess for a 1.5B model on two CPU cores. generate_data will need its server running.")
    if known is not None:
        seconds = float(known["seconds_per_record"])
    else:
        seconds = speed.local_call_seconds(speed.prompt_tokens(speed.first_request(ctx, spec)))
        if not probe:
            notes.append(f"The teacher is served on this machine: on approval one real request is timed first and the "
                         f"counts fitted to {ctx.settings.teacher_minutes:g} min of generation (guessed now at "
                         f"{seconds:.0f} s a record, the measured speed of a 1.5B model on two CPU cores).")
    fitted, note = speed.fit_counts(spec, seconds, ctx.settings.teacher_minutes)
    if note:
        notes.append(note)
    return fitted


def _preview_spec(ctx: ToolContext, changes: dict[str, Any] | None = None) -> Preview:
    notes: list[str] = []
    spec = _proposed_spec(ctx, changes, notes)
    existing = ctx.path(SPEC_FILE).read_text(encoding="utf-8") if ctx.path(SPEC_FILE).exists() else None
    text = render_spec(spec, existing, ctx.path(SPEC_FILE))
    return Preview(summary=f"Write {SPEC_FILE}: {spec.train_count} train + {spec.eval_count} eval records, "
                           f"format {spec.format}, generator {spec.generator.kind}" + "".join(f"\n{n}" for n in notes),
                   diff=_diff(ctx, SPEC_FILE, text))


@tool("ask", preview=_preview_spec)
def write_data_generation_spec(ctx: ToolContext, changes: dict[str, Any] | None = None) -> ToolResult:
    """Write data_generation.yaml: defaults from the use case the first time, then the given changes
    (the person's comments in the file are kept).

    Args:
        changes: Field path -> new value, e.g. {"train_count": 800, "generator.kind": "teacher",
            "quality.max_tokens": 256, "diversity_axes": [...]}. Omit to write the defaults.
    """
    notes: list[str] = []
    spec = _proposed_spec(ctx, changes, notes, probe=True)
    save_spec(ctx.path(SPEC_FILE), spec)
    axes = ", ".join(f"{a.name} ({len(a.values)})" for a in spec.diversity_axes) or "none"
    return ToolResult(content=f"Wrote {SPEC_FILE}: {spec.train_count} train + {spec.eval_count} eval, format "
                              f"{spec.format}, generator {spec.generator.kind}"
                              f"{' (' + spec.generator.template + ')' if spec.generator.template else ''}, axes {axes}."
                              + "".join(f" {n}" for n in notes),
                      files=[SPEC_FILE])


def _preview_check(ctx: ToolContext, count: int = 20) -> Preview:
    from synth.generate import programmatic_code

    spec = _data_spec(ctx)
    return Preview(summary=f"Run the generator code on a sample of {count} records in the sandbox and verify them",
                   code=programmatic_code(ctx.session_dir, spec).read_text(encoding="utf-8")[:60000])


@tool("ask", preview=_preview_check)
def check_generator(ctx: ToolContext, count: Annotated[int, Field(ge=1, le=1000)] = 20) -> ToolResult:
    """Run the programmatic generator on a small sample batch (sandboxed) and verify it, before running at scale.

    Args:
        count: Sample size.
    """
    spec = _data_spec(ctx)
    if spec.generator.kind != "programmatic":
        raise ToolError("the generator is not programmatic")
    try:
        check = sample_check(ctx.session_dir, _use_case(ctx), spec, n=count, examples=seeds.load(ctx.session_dir))
    except GenerationError as exc:
        raise ToolError(str(exc)) from exc
    shown = "\n".join(json.dumps({k: r.get(k) for k in ("input", "output")}, ensure_ascii=False) for r in check["sample"])
    return ToolResult(content=f"Sample: {check['passed']}/{check['records']} passed verification"
                              f"{' ' + str(check['dropped']) if check['dropped'] else ''}.\n{shown}", data=check)


def _preview_codegen(ctx: ToolContext, instructions: str = "") -> Preview:
    model, _ = _teacher(ctx)
    return Preview(summary=f"Ask the teacher {model or '(none configured)'} to write generator.py (generate + verify), "
                           "run a sample batch of it in the sandbox, and let it fix failures (up to 3 rounds)",
                   estimate=Estimate(calls=3, tokens=15000, note="at most 3 calls; cached answers are not paid again"))


@tool("ask", preview=_preview_codegen)
def write_generator_code(ctx: ToolContext, instructions: str = "") -> ToolResult:
    """Have the teacher LLM write generator.py for the programmatic generator, refined in the sandbox until
    a sample batch passes verification; on success data_generation.yaml points at it.

    Args:
        instructions: Anything the generator must do (e.g. "include refunds and foreign currencies").
    """
    from synth.codegen import write_generator

    spec = _data_spec(ctx)
    model, base = _teacher(ctx, spec)
    if not model:
        raise ToolError("writing generator code needs a teacher model (--teacher-model); use a shipped template instead")
    result = write_generator(ctx.session_dir, _use_case(ctx), spec, _client(ctx, model, base), instructions)
    rounds = "; ".join(f"round {r['round']}: {'passed' if r['ok'] else r['problem'][:120]}" for r in result["rounds"])
    if not result["ok"]:
        raise ToolError(f"generator.py still fails after {len(result['rounds'])} rounds ({rounds}); edit it or use a template")
    changes = {"generator.kind": "programmatic", "generator.template": None, "generator.code_path": "generator.py"}
    save_spec(ctx.path(SPEC_FILE), _proposed_spec(ctx, changes))
    return ToolResult(content=f"generator.py passes its sample batch ({rounds}); data_generation.yaml now uses it.",
                      files=["generator.py", SPEC_FILE])
