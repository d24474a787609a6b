"""Tools of the data step: seed examples, data_generation.yaml, generation, the quality gate."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any

from pydantic import Field

from specs import lineage
from skills.toolkit import Estimate, Preview, ToolContext, ToolError, ToolResult, tool
from specs.base import WaitSeconds
from specs.data_generation import DataGenerationSpec
from specs.use_case import UseCaseSpec
from specs.yamlio import render_spec, save_spec
from synth import importing, seeds
from skills.data.access import SPEC_FILE, _client, _data_spec, _diff, _teacher, _use_case
from skills.data.own_data import attach_document, import_data, inspect_data_file  # noqa: F401 (tools of this step)
from synth.generate import GenerationError, sample_check
from synth.plan import default_spec



# --- seeds -----------------------------------------------------------------------------------------

def _draft(ctx: ToolContext, count: int, use_teacher: bool) -> list[dict[str, Any]]:
    use_case = _use_case(ctx)
    spec = _data_spec(ctx, required=False)
    fmt = spec.format if spec else "sft"
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
    return seeds.draft_offline(use_case, count, fmt=fmt)


def _preview_draft(ctx: ToolContext, count: int = 12, use_teacher: bool = False) -> Preview:
    if use_teacher:
        model, _ = _teacher(ctx)
        return Preview(summary=f"Ask the teacher {model or '(none configured)'} for {count} seed examples and save "
                               "them to data/examples.jsonl", estimate=Estimate(calls=1, tokens=3000))
    rows = _draft(ctx, count, False)
    return Preview(summary=f"Save {len(rows)} drafted seed examples to data/examples.jsonl:\n" + seeds.table(rows))


@tool("ask", preview=_preview_draft)
def draft_seed_examples(ctx: ToolContext, count: Annotated[int, Field(ge=1, le=100)] = 12, use_teacher: bool = False) -> ToolResult:
    """Draft 5-20 seed examples from the approved use case and save them to data/examples.jsonl
    (replacing earlier seeds). The person can then edit, add and delete rows.

    Args:
        count: How many examples to draft (5-20); classification drafts at least one per label.
        use_teacher: Draft with the configured teacher LLM instead of the offline templates.
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


# --- data_generation.yaml ------------------------------------------------------------------------------

def _proposed_spec(ctx: ToolContext, changes: dict[str, Any] | None) -> DataGenerationSpec:
    current = _data_spec(ctx, required=False)
    if current is None:
        model, base = _teacher(ctx)
        own, _ = importing.load_imported(ctx.session_dir)
        use_case = _use_case(ctx)
        said_pairs = use_case.own_data is not None and use_case.own_data.kind == "preference_pairs" and not own
        fmt = "preference" if said_pairs or (own and all(r.get("chosen") and r.get("rejected") for r in own)) else "sft"
        current = default_spec(use_case, teacher_model=model, api_base=base, fmt=fmt, own_records=len(own))
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


def _preview_spec(ctx: ToolContext, changes: dict[str, Any] | None = None) -> Preview:
    spec = _proposed_spec(ctx, changes)
    existing = ctx.path(SPEC_FILE).read_text(encoding="utf-8") if ctx.path(SPEC_FILE).exists() else None
    text = render_spec(spec, existing, ctx.path(SPEC_FILE))
    return Preview(summary=f"Write {SPEC_FILE}: {spec.train_count} train + {spec.eval_count} eval records, "
                           f"format {spec.format}, generator {spec.generator.kind}", diff=_diff(ctx, SPEC_FILE, text))


@tool("ask", preview=_preview_spec)
def write_data_generation_spec(ctx: ToolContext, changes: dict[str, Any] | None = None) -> ToolResult:
    """Write data_generation.yaml: defaults from the use case the first time, then the given changes
    (the person's comments in the file are kept).

    Args:
        changes: Field path -> new value, e.g. {"train_count": 800, "generator.kind": "teacher",
            "quality.max_tokens": 256, "diversity_axes": [...]}. Omit to write the defaults.
    """
    spec = _proposed_spec(ctx, changes)
    save_spec(ctx.path(SPEC_FILE), spec)
    axes = ", ".join(f"{a.name} ({len(a.values)})" for a in spec.diversity_axes) or "none"
    return ToolResult(content=f"Wrote {SPEC_FILE}: {spec.train_count} train + {spec.eval_count} eval, format "
                              f"{spec.format}, generator {spec.generator.kind}"
                              f"{' (' + spec.generator.template + ')' if spec.generator.template else ''}, axes {axes}.",
                      files=[SPEC_FILE])


# --- generation -------------------------------------------------------------------------------------

def _estimate(ctx: ToolContext, spec: DataGenerationSpec) -> Estimate:
    total = spec.train_count + spec.eval_count
    if spec.generator.kind == "teacher":
        from synth.generate import grounding_texts, teacher_request
        from synth.llm import estimate_cost, rough_tokens

        model, _ = _teacher(ctx, spec)
        try:
            documents = grounding_texts(ctx.session_dir, spec)
        except GenerationError:
            documents = {}
        sample = teacher_request(_use_case(ctx), spec, "train", 0, seeds.load(ctx.session_dir), documents)
        prompt = sum(rough_tokens(m["content"]) for m in sample["messages"])
        est = estimate_cost(model or "", total, prompt, 120)
        cost = est["cost_usd"]
        note = f"teacher {model}; cached answers are not paid again" + ("" if cost is not None else "; no known price")
        return Estimate(calls=total, tokens=est["tokens"], cost_usd=cost, seconds=total * 2.0 / spec.generator.concurrency,
                        note=note)
    return Estimate(seconds=round(1 + total / 800, 1), calls=0, cost_usd=0.0,
                    note=f"{spec.generator.kind} generator on this machine; quality scoring adds ~10-40 s")


def _preview_generate(ctx: ToolContext) -> Preview:
    spec = _data_spec(ctx)
    code = None
    if spec.generator.kind == "programmatic":
        from synth.generate import programmatic_code

        try:
            code = programmatic_code(ctx.session_dir, spec).read_text(encoding="utf-8")[:60000]
        except GenerationError as exc:
            code = f"# {exc}"
    held = len(importing.load_imported(ctx.session_dir)[1])
    evals = f"no eval records (your {held} held-out rows are the eval split)" if held else f"{spec.eval_count} eval records"
    return Preview(summary=f"Generate {spec.train_count} train records and {evals} with the "
                           f"{spec.generator.kind} generator, verify them, write data/train.jsonl and data/eval.jsonl, "
                           "and score their quality", code=code, estimate=_estimate(ctx, spec))


def _embeddings(ctx: ToolContext) -> bool:
    """Embedding spread costs a subprocess with sentence-transformers (~10-30 s); the setting
    ``quality_embeddings`` or TUNESMITH_QUALITY_EMBEDDINGS=0 turns it off."""
    if "quality_embeddings" in ctx.settings:
        return bool(ctx.settings["quality_embeddings"])
    return os.environ.get("TUNESMITH_QUALITY_EMBEDDINGS", "1").strip().lower() not in ("0", "false", "no", "off")


def _run_generation(ctx: ToolContext, spec: DataGenerationSpec, use_case: UseCaseSpec) -> dict[str, Any]:
    """Generate in this call, stopping at the next record when the person cancels (ctx.cancel)."""
    from synth.generate import generate_dataset
    from synth.quality import ScoringCancelled, score_dataset, summary

    report = generate_dataset(ctx.session_dir, use_case, spec, emit=ctx.emit, settings=ctx.settings, cancel=ctx.cancel)
    if report["status"] == "done":
        try:
            quality = score_dataset(ctx.session_dir, use_case, spec, emit=ctx.emit, embeddings=_embeddings(ctx),
                                    cancel=ctx.cancel)
            report["quality"] = summary(quality)
        except ScoringCancelled as exc:
            report["quality"] = f"Not scored: {exc}."
    return report


def _cancelled_text(report: dict[str, Any]) -> str:
    made = sum((report.get("generated") or {}).values())
    asked = sum((report.get("requested") or {}).values())
    return (f"Generation cancelled after {made} of {asked} records. They are kept in data/.partial/; "
            "run generate_data again to resume (nothing is made twice, teacher answers come from the cache).")


JOB_DIR = "data/job"
"""Where the background data job's job.json lives (its events, pid and log)."""


@tool("ask", preview=_preview_generate)
def generate_data(ctx: ToolContext) -> ToolResult:
    """Generate the records data_generation.yaml asks for, verify each against the use case, write
    data/train.jsonl and data/eval.jsonl, and score them (data/quality.json). A rerun resumes: records
    already made are kept and teacher answers come from the cache.
    """
    from synth.generate import generation_running

    spec, use_case = _data_spec(ctx), _use_case(ctx)
    if generation_running(ctx.session_dir):
        raise ToolError("data generation is already running for this session; wait for it to end or cancel it")
    if spec.generator.kind == "programmatic":
        check = sample_check(ctx.session_dir, use_case, spec, examples=seeds.load(ctx.session_dir))
        if not check["ok"]:
            raise ToolError(f"the generator's sample batch failed verification (pass rate {check['pass_rate']:.0%}; "
                            f"reasons {check['dropped']}); fix the generator before running at scale")
    background = spec.generator.kind == "teacher" or spec.generator.paraphrase
    if background:
        events = ctx.path("data/generate.events.jsonl")
        argv = [sys.executable, "-m", "skills.data.job", "--session", str(ctx.session_dir), "--events", str(events)]
        for key in ("teacher_model", "api_base", "workspace"):
            if ctx.settings.get(key):
                argv += [f"--{key.replace('_', '-')}", str(ctx.settings[key])]
        if not _embeddings(ctx):
            argv.append("--no-embeddings")
        if ctx.jobs is not None:
            from skills.common.jobs import launch

            info = launch(ctx, "generate-data", argv, ctx.path(JOB_DIR))
            return ToolResult(content=f"Started data generation as a background job ({info.get('job_id')}). "
                                      "wait_for_data_generation shows its progress; cancel_data_generation stops it, "
                                      "and generate_data again resumes it.",
                              data={"job": str(info.get("job_id")), "background": True})
        if spec.generator.paraphrase:  # the paraphraser loads torch: only in a job, which needs the runner
            raise ToolError("paraphrasing runs as a background job, and this call has no job runner "
                            "(start it from tunesmith)")
    try:
        report = _run_generation(ctx, spec, use_case)
    except GenerationError as exc:
        raise ToolError(str(exc)) from exc
    if report["status"] == "cancelled":
        return ToolResult(content=_cancelled_text(report), data={k: v for k, v in report.items() if k != "quality"})
    return ToolResult(content=_report_text(report, report.get("quality")),
                      data={k: v for k, v in report.items() if k != "quality"},
                      files=["data/train.jsonl", "data/eval.jsonl", "data/quality.json"])


def _report_text(report: dict[str, Any], quality: str | None) -> str:
    """What a finished generation made, dropped and spent, then the quality summary."""
    lines = [f"Generation {report.get('status', 'done')}: {report.get('train_records', 0)} train and "
             f"{report.get('eval_records', 0)} eval records kept."]
    if report.get("dropped"):
        lines.append("Dropped: " + ", ".join(f"{k} {v}" for k, v in report["dropped"].items()))
    usage = report.get("usage")
    if usage:
        cost = f"${usage['cost_usd']:.4f}" if usage.get("cost_known") else "unknown cost (no price for this model)"
        lines.append(f"Teacher: {usage['calls']} calls, {usage['cache_hits']} cache hits, "
                     f"{usage['prompt_tokens'] + usage['completion_tokens']} tokens, {cost}.")
    if quality:
        lines.append(quality)
    return "\n".join(lines)


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


def _relay_job(ctx: ToolContext, events: list[dict[str, Any]], seen: dict[str, Any]) -> None:
    for event in events:
        kind = event.get("type")
        if kind == "progress":
            ctx.emit({k: v for k, v in event.items() if k != "time"})
        elif kind in ("done", "cancelled", "paraphrase"):
            seen[kind] = event


def _job_outcome(ctx: ToolContext, seen: dict[str, Any]) -> ToolResult:
    from synth.quality import load_report, summary

    report_path = ctx.path("data/generation.json")
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    if "done" in seen or (report.get("status") == "done" and ctx.path("data/quality.json").exists()):
        quality = load_report(ctx.session_dir)
        text = _report_text(report, summary(quality) if quality is not None else None)
        return ToolResult(content=text, data={"status": "done", **{k: v for k, v in report.items() if k != "quality"}},
                          files=["data/train.jsonl", "data/eval.jsonl", "data/quality.json"])
    if "cancelled" in seen or report.get("status") == "cancelled":
        return ToolResult(content=_cancelled_text(report), data={"status": "cancelled", **report})
    from skills.common.jobs import log_tail

    return ToolResult(content="The data generation job ended without finishing: " + (log_tail(ctx.path(JOB_DIR), ctx.jobs)[-800:]
                              or "no log") + "\nRun generate_data again to resume.", is_error=True,
                      data={"status": "failed"})


@tool("always")
def wait_for_data_generation(ctx: ToolContext, timeout_s: WaitSeconds | None = None) -> ToolResult:
    """Follow the background data generation job (teacher or paraphrase), showing its progress, until it
    ends; then report what it made and the quality summary. The person's esc stops the waiting (the job
    goes on); the Cancel button of the progress card cancels the job.

    Args:
        timeout_s: Stop waiting after this many seconds (the job goes on); omit to wait to the end.
    """
    from skills.common.jobs import cancel, follow, job_running, read_json

    job_dir = ctx.path(JOB_DIR)
    if not (job_dir / "job.json").exists():
        raise ToolError("no data generation job was started in this session; generate_data starts one")
    seen: dict[str, Any] = {}
    follow(job_dir, lambda events: _relay_job(ctx, events, seen), ctx.jobs, timeout_s=timeout_s, cancel=ctx.cancel)
    if job_running(job_dir, ctx.jobs):
        if ctx.cancel.is_set() and ctx.cancel_jobs:
            cancel(job_dir, ctx.jobs)
            follow(job_dir, lambda events: _relay_job(ctx, events, seen), ctx.jobs, timeout_s=10)
            return _job_outcome(ctx, {**seen, "cancelled": True})
        job = read_json(job_dir / "job.json")
        return ToolResult(content=f"Data generation job {job.get('job_id')} is still running; its progress shows while "
                                  "wait_for_data_generation runs. cancel_data_generation stops it.",
                          data={"status": "running"})
    return _job_outcome(ctx, seen)


@tool("always")
def cancel_data_generation(ctx: ToolContext) -> ToolResult:
    """Cancel the background data generation job. What it made is kept; generate_data resumes it."""
    from skills.common.jobs import cancel, job_running

    job_dir = ctx.path(JOB_DIR)
    if not (job_dir / "job.json").exists() or not job_running(job_dir, ctx.jobs):
        return ToolResult(content="No data generation job is running.")
    cancel(job_dir, ctx.jobs)
    report_path = ctx.path("data/generation.json")
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    return ToolResult(content=_cancelled_text(report) if report else "Cancelled the data generation job; "
                      "generate_data resumes it.", data={"status": "cancelled"})


# --- quality gate -----------------------------------------------------------------------------------

@tool("always")
def score_data(ctx: ToolContext) -> ToolResult:
    """Score data/train.jsonl and data/eval.jsonl again (after the person edited them) and show the report."""
    from synth.quality import score_dataset, summary

    if not ctx.path("data/train.jsonl").exists():
        raise ToolError("there is no data/train.jsonl yet; run generate_data first")
    from synth.quality import ScoringCancelled

    try:
        report = score_dataset(ctx.session_dir, _use_case(ctx), _data_spec(ctx), emit=ctx.emit,
                               embeddings=_embeddings(ctx), cancel=ctx.cancel)
    except ScoringCancelled as exc:
        return ToolResult(content=f"Stopped: {exc}.", data={"status": "cancelled"})
    return ToolResult(content=summary(report), data={"blocking": [f.code for f in report.blocking()]},
                      files=["data/quality.json"])


@tool("always")
def show_quality_report(ctx: ToolContext) -> ToolResult:
    """Show data/quality.json: the measurements and the findings, blocking ones first."""
    from synth.quality import blocking_findings, load_report, summary

    report = load_report(ctx.session_dir)
    if report is None:
        raise ToolError("there is no quality report yet; run generate_data or score_data")
    blocking = blocking_findings(ctx.session_dir)
    return ToolResult(content=summary(report), data={"blocking": [f.code for f in blocking],
                                                     "metrics": report.metrics})


def _preview_waive(ctx: ToolContext, codes: list[str], comment: str) -> Preview:
    from synth.quality import load_report

    report = load_report(ctx.session_dir)
    found = [f"{f.code}: {f.message}" for f in (report.findings if report else []) if f.code in codes]
    return Preview(summary="Waive these quality findings so training may start anyway (recorded in data/quality.json)",
                   findings=found)


@tool("ask", preview=_preview_waive, person_only=True)
def waive_findings(ctx: ToolContext, codes: list[str], comment: str) -> ToolResult:
    """Record the person's waiver of blocking quality findings; only the person can allow this (never --yes or a policy).

    Args:
        codes: Finding codes to waive, e.g. ["label_imbalance"].
        comment: The person's reason, kept in data/quality.json.
    """
    from synth.quality import waive

    try:
        waived = waive(ctx.session_dir, codes, comment)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    return ToolResult(content=f"Waived: {', '.join(f.code for f in waived)} ({comment}).", files=["data/quality.json"])


@tool("always")
def finish_data_step(ctx: ToolContext) -> ToolResult:
    """Move on to training when the data passes the quality gate (no unwaived high-severity findings)."""
    from synth.quality import blocking_findings, load_report

    blocking = blocking_findings(ctx.session_dir)
    if blocking:
        raise ToolError("training is blocked by: " + "; ".join(f"{f.code}: {f.message}" for f in blocking) +
                        " Fix the data (edit data_generation.yaml, regenerate) or ask the person to waive.")
    spec = _data_spec(ctx)
    generator = spec.generator
    teacher = (generator.model or ctx.settings.get("teacher_model")) if generator.kind == "teacher" else None
    lineage.record(ctx.session_dir, "data", "data/train.jsonl", inputs=["use_case.yaml", "data_generation.yaml", "data/eval.jsonl"],
                   generator=generator.kind, template=generator.template, teacher=teacher, seed=spec.seed)
    waived = [f.code for f in load_report(ctx.session_dir).findings if f.waived] if ctx.path("data/quality.json").exists() else []
    lineage.record(ctx.session_dir, "quality", "data/quality.json", inputs=["data/train.jsonl", "data/eval.jsonl"],
                   waived=waived or None)
    return ToolResult(content="The data passed the quality gate. Next: the training plan.", phase="train")
