"""Tools of the data step that generate the records: in the call, or as a background job through the
engine's runner (teacher or paraphrase generation), followed, cancelled and resumed."""

from __future__ import annotations

import json
import sys
from typing import Any

from skills.common.jobs import cancel, follow, job_running, launch, log_tail, read_json
from skills.data.access import _data_spec, _teacher, _use_case
from skills.data.teacher_speed import is_local, known_speed, local_call_seconds
from skills.toolkit import Estimate, Preview, ToolContext, ToolError, ToolResult, tool
from specs.base import WaitSeconds
from specs.data_generation import DataGenerationSpec
from specs.use_case import UseCaseSpec
from synth import importing, seeds
from synth.generate import GenerationError, sample_check


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
        api_base = spec.generator.api_base or ctx.settings.api_base
        if _is_local(api_base):
            timed = known_speed(ctx, model, api_base)
            each = float(timed["seconds_per_record"]) if timed else local_call_seconds(prompt, 120)
            seconds = total * each
            note += (f"; a model served on this machine answers one request at a time, about {each:.0f} s a record "
                     + (f"(timed on it, {timed['measured']})" if timed else "(the measured speed of a 1.5B model on two cores)"))
        else:
            seconds = total * 2.0 / spec.generator.concurrency
        return Estimate(calls=total, tokens=est["tokens"], cost_usd=cost, seconds=round(seconds, 1), note=note)
    return Estimate(seconds=round(1 + total / 800, 1), calls=0, cost_usd=0.0,
                    note=f"{spec.generator.kind} generator on this machine; quality scoring adds ~10-40 s")


# A model served on this machine: its timing (data/teacher_speed.json) or the measured guess; a hosted API
# answers in ~2 s and in parallel.
_is_local = is_local


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


def _run_generation(ctx: ToolContext, spec: DataGenerationSpec, use_case: UseCaseSpec) -> dict[str, Any]:
    """Generate in this call, stopping at the next record when the person cancels (ctx.cancel)."""
    from synth.generate import generate_dataset
    from synth.quality import ScoringCancelled, score_dataset, summary

    report = generate_dataset(ctx.session_dir, use_case, spec, emit=ctx.emit, teacher_model=ctx.settings.teacher_model,
                              api_base=ctx.settings.api_base, workspace=ctx.settings.workspace, cancel=ctx.cancel)
    if report["status"] == "done":
        try:
            quality = score_dataset(ctx.session_dir, use_case, spec, emit=ctx.emit, embeddings=ctx.settings.quality_embeddings,
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
        for flag, value in (("--teacher-model", ctx.settings.teacher_model), ("--api-base", ctx.settings.api_base),
                            ("--workspace", ctx.settings.workspace)):
            if value:
                argv += [flag, str(value)]
        if not ctx.settings.quality_embeddings:
            argv.append("--no-embeddings")
        if ctx.jobs is not None:
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
    for number, step in enumerate(report.get("top_up_rounds") or [], 1):
        asked = ", ".join(f"{n} {split}" for split, n in step.get("asked", {}).items())
        kept = step.get("kept", {})
        lines.append(f"Top-up {number} (fewer kept than asked): asked the teacher for {asked} more; then "
                     f"{kept.get('train', 0)} train and {kept.get('eval', 0)} eval kept."
                     + (f" It stopped: {step['error']}" if step.get("error") else ""))
    if report.get("repaired"):
        lines.append("Teacher replies repaired and kept: " + ", ".join(f"{k} {v}" for k, v in report["repaired"].items()))
    usage = report.get("usage")
    if usage:
        cost = f"${usage['cost_usd']:.4f}" if usage.get("cost_known") else "unknown cost (no price for this model)"
        lines.append(f"Teacher: {usage['calls']} calls, {usage['cache_hits']} cache hits, "
                     f"{usage['prompt_tokens'] + usage['completion_tokens']} tokens, {cost}.")
    if quality:
        lines.append(quality)
    return "\n".join(lines)


def _relay_job(ctx: ToolContext, events: list[dict[str, Any]], seen: dict[str, Any]) -> None:
    for event in events:
        kind = event.get("type")
        if kind == "progress":
            ctx.emit({k: v for k, v in event.items() if k != "time"})
        elif kind in ("done", "cancelled", "paraphrase", "failed"):
            seen[kind] = event


def _job_outcome(ctx: ToolContext, seen: dict[str, Any]) -> ToolResult:
    from synth.quality import load_report, summary

    report_path = ctx.path("data/generation.json")
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    if "failed" in seen:  # the job said why it stopped (e.g. the teacher is unreachable); what it made is kept
        return ToolResult(content=f"Data generation stopped: {seen['failed'].get('message', '')}", is_error=True,
                          data={"status": "failed"})
    if "done" in seen or (report.get("status") == "done" and ctx.path("data/quality.json").exists()):
        quality = load_report(ctx.session_dir)
        text = _report_text(report, summary(quality) if quality is not None else None)
        return ToolResult(content=text, data={"status": "done", **{k: v for k, v in report.items() if k != "quality"}},
                          files=["data/train.jsonl", "data/eval.jsonl", "data/quality.json"])
    if "cancelled" in seen or report.get("status") == "cancelled":
        return ToolResult(content=_cancelled_text(report), data={"status": "cancelled", **report})
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
    job_dir = ctx.path(JOB_DIR)
    if not (job_dir / "job.json").exists() or not job_running(job_dir, ctx.jobs):
        return ToolResult(content="No data generation job is running.")
    cancel(job_dir, ctx.jobs)
    report_path = ctx.path("data/generation.json")
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    return ToolResult(content=_cancelled_text(report) if report else "Cancelled the data generation job; "
                      "generate_data resumes it.", data={"status": "cancelled"})
