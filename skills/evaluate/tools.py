"""Tools of the evaluation step: write evaluation.yaml, run the evaluation job, wait, show the report, ratings."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from difflib import unified_diff
from pathlib import Path

from skills.common import jobs
from skills.evaluate import examples as ex
from skills.evaluate import judge as judging
from skills.evaluate.plan import build_spec, judged_tenets
from skills.evaluate.report import agreement_sentence, load_report, render_markdown, summary
from skills.toolkit import Estimate, Preview, ToolContext, ToolError, ToolResult, tool
from specs.errors import SpecError
from specs.base import WaitSeconds
from specs.evaluation import EvaluationSpec, ExampleCount, GeneralItems
from specs.use_case import UseCaseSpec
from specs.yamlio import load_spec, render_spec, save_spec

SPEC = "evaluation.yaml"
TOKENS_PER_SECOND = 60.0
"""Greedy tokens a second of the embedded model with batch 8 on 2 CPU cores (28/s unbatched, MEASURED.md)."""
LOAD_SECONDS = 6.0
"""Loading the cached embedded model (or a run on top of it)."""


def _load(ctx: ToolContext, name: str, model: type) -> object:
    try:
        return load_spec(ctx.path(name), model)
    except FileNotFoundError:
        raise ToolError(f"{name} is missing") from None
    except SpecError as exc:
        raise ToolError(f"{name} is not valid: {exc}") from None


def _use_case(ctx: ToolContext) -> UseCaseSpec:
    if not ctx.path("use_case.yaml").exists():
        raise ToolError("use_case.yaml is missing: the tenets evaluation measures come from it; write it first")
    return _load(ctx, "use_case.yaml", UseCaseSpec)  # type: ignore[return-value]


def _existing(ctx: ToolContext) -> EvaluationSpec | None:
    path = ctx.path(SPEC)
    if not path.exists():
        return None
    try:
        return load_spec(path, EvaluationSpec)  # type: ignore[return-value]
    except SpecError:
        return None


def _proposed(ctx: ToolContext, judge_model: str | None, include_prompt_baseline: bool, max_examples: int | None,
              general_items: int | None = None) -> EvaluationSpec:
    judge_model = judge_model or ctx.settings.judge_model
    spec = build_spec(_use_case(ctx), judge_model=judge_model, include_prompt_baseline=include_prompt_baseline,
                      max_examples=max_examples, general_items=general_items, existing=_existing(ctx))
    spec.status = "approved"  # allowing the write is the person's approval of what the diff shows
    return spec


def _diff(ctx: ToolContext, text: str) -> str:
    path = ctx.path(SPEC)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    return "".join(unified_diff(old.splitlines(True), text.splitlines(True), f"a/{SPEC}", f"b/{SPEC}"))


def _findings(ctx: ToolContext, spec: EvaluationSpec) -> list[str]:
    """Blocking findings the person must waive to allow: the evaluation judge is the RLAIF reward judge."""
    conflict = judging.judge_conflict(ctx.session_dir, spec.judge_model)
    return [conflict] if conflict else []


def _unjudged_note(spec: EvaluationSpec) -> str:
    names = judged_tenets(spec)
    if spec.judge_model or not names:
        return ""
    return f" No judge model: code metrics run; these tenets will be reported as not judged: {', '.join(names)}."


def _check_judge(ctx: ToolContext, spec: EvaluationSpec) -> str | None:
    """Refuse an evaluation judge equal to the reward judge unless the person waived that finding."""
    conflict = judging.judge_conflict(ctx.session_dir, spec.judge_model)
    if conflict and not ctx.waived(judging.SAME_JUDGE):
        raise ToolError(conflict.replace("or allow to accept the risk", "or ask the person to allow it and waive "
                                         "this finding"))
    return conflict


def _preview_write(ctx: ToolContext, judge_model: str | None = None, include_prompt_baseline: bool = True,
                   max_examples: int | None = None, general_items: int | None = None) -> Preview:
    spec = _proposed(ctx, judge_model, include_prompt_baseline, max_examples, general_items)
    existing = ctx.path(SPEC).read_text(encoding="utf-8") if ctx.path(SPEC).exists() else None
    text = render_spec(spec, existing)
    kinds = ", ".join(f"{m.name} ({'judge' if m.judge and not m.code else m.code}{' + judge' if m.judge and m.code else ''})"
                      for m in spec.metrics)
    return Preview(summary=f"Write and approve {SPEC}: {kinds}.{_unjudged_note(spec)}", diff=_diff(ctx, text),
                   findings=_findings(ctx, spec))


@tool("ask", preview=_preview_write)
def write_evaluation_spec(ctx: ToolContext, judge_model: str | None = None, include_prompt_baseline: bool = True,
                          max_examples: ExampleCount | None = None,
                          general_items: GeneralItems | None = None) -> ToolResult:
    """Write evaluation.yaml from the use case's success tenets: a code metric or a judge rubric per tenet, plus
    standard metrics that fit the task. Allowing it approves the spec. Call again to rewrite it after the tenets change.

    Args:
        judge_model: litellm model that judges tenets measured by a judge; omit to use the configured judge (none: those tenets are reported as not judged). Must differ from an RLAIF reward judge.
        include_prompt_baseline: also score the base model with a stronger system prompt, to show what prompting alone achieves.
        max_examples: evaluate only the first N held-out records (omit for all).
        general_items: how many items of the shipped general set (the forgetting measure) base and each run answer; 0 turns the measure off; omit to keep the spec's count (default 80).
    """
    spec = _proposed(ctx, judge_model, include_prompt_baseline, max_examples, general_items)
    conflict = _check_judge(ctx, spec)
    save_spec(ctx.path(SPEC), spec)
    lines = [f"Wrote {SPEC} (approved) with {len(spec.metrics)} metrics: " + ", ".join(m.name for m in spec.metrics) + "."]
    if conflict:
        lines.append("Warning: " + conflict)
    if not spec.judge_model and judged_tenets(spec):
        lines.append("No judge model: code metrics will run; the report will name the tenets not judged ("
                     + ", ".join(judged_tenets(spec)) + ").")
    return ToolResult(content=" ".join(lines), files=[SPEC], data={"judge_warning": conflict})


def _runs(ctx: ToolContext, run_ids: list[str] | None) -> list[str]:
    root = ctx.session_dir / "runs"
    if run_ids:
        for run_id in run_ids:
            if not (ctx.path(f"runs/{run_id}") / "final").is_dir():
                raise ToolError(f"run {run_id!r} has no final model (runs/{run_id}/final is missing)")
        return list(run_ids)
    if not root.is_dir():
        return []
    finished = sorted((p for p in root.iterdir() if (p / "final").is_dir()), key=lambda p: (p / "final").stat().st_mtime)
    return [finished[-1].name] if finished else []


def _new_eval_id() -> str:
    return datetime.now(timezone.utc).strftime("eval-%Y%m%d-%H%M%S")


def _command(ctx: ToolContext, eval_id: str, run_ids: list[str]) -> list[str]:
    argv = [sys.executable, "-m", "skills.evaluate.job", "--spec", SPEC, "--session", str(ctx.session_dir),
            "--eval-id", eval_id, "--events", str(ctx.path(f"evals/{eval_id}/events.jsonl"))]
    for run_id in run_ids:
        argv += ["--run-id", run_id]
    if ctx.settings.api_base:
        argv += ["--api-base", ctx.settings.api_base]
    return argv


def _estimate(spec: EvaluationSpec, examples: int, variants: int) -> Estimate:
    from skills.evaluate.forgetting import load_set

    general = load_set(spec.general_items) if spec.general_items != 0 else []
    general_models = variants - int(spec.include_prompt_baseline)  # the general set skips the prompt-only baseline
    seconds = variants * (LOAD_SECONDS + examples * spec.max_new_tokens / TOKENS_PER_SECOND)
    seconds += general_models * sum(item["max_new_tokens"] for item in general) / TOKENS_PER_SECOND
    judged = sum(1 for m in spec.metrics if m.judge is not None) if spec.judge_model else 0
    calls = judged * examples * variants
    note = f"{examples} examples x {variants} models, up to {spec.max_new_tokens} new tokens each"
    if general:
        note += f"; {len(general)} general-set items x {general_models} models (forgetting)"
    return Estimate(seconds=round(seconds), calls=calls or None, tokens=calls * 600 or None, note=note)


def _count(ctx: ToolContext, spec: EvaluationSpec) -> int:
    path = ctx.path(spec.eval_path)
    if not path.exists():
        raise ToolError(f"{spec.eval_path} is missing: generate the data (it holds the held-out records) first")
    count = sum(1 for line in path.open(encoding="utf-8") if line.strip())
    return min(count, spec.max_examples) if spec.max_examples else count


def _preview_run(ctx: ToolContext, run_ids: list[str] | None = None) -> Preview:
    spec = _load(ctx, SPEC, EvaluationSpec)
    runs = _runs(ctx, run_ids)
    variants = 1 + int(spec.include_prompt_baseline) + len(runs)
    order = ["base model"] + (["prompt-only baseline"] if spec.include_prompt_baseline else []) + [f"run {r}" for r in runs]
    note = "" if spec.status == "approved" else f" {SPEC} is a draft: allowing approves it."
    if not runs:
        note += " No finished training run yet: only the base model is scored."
    return Preview(summary=f"Evaluate {', then '.join(order)} on {spec.eval_path}.{note}{_unjudged_note(spec)}",
                   command=" ".join(_command(ctx, "<new id>", runs)),
                   estimate=_estimate(spec, _count(ctx, spec), variants), findings=_findings(ctx, spec))


@tool("ask", preview=_preview_run)
def run_evaluation(ctx: ToolContext, run_ids: list[str] | None = None) -> ToolResult:
    """Start the evaluation job in the background: the base model first, then the prompt-only baseline, then the tuned
    run(s); code metrics and judge rubrics; a report per tenet. Follow it with wait_for_evaluation.

    Args:
        run_ids: training runs to evaluate (folders under runs/); omit for the latest finished run.
    """
    spec = _load(ctx, SPEC, EvaluationSpec)
    if spec.status != "approved":
        spec.status = "approved"  # the person allowed this run after seeing the spec is a draft
        save_spec(ctx.path(SPEC), spec)
    _check_judge(ctx, spec)
    runs = _runs(ctx, run_ids)
    _count(ctx, spec)
    eval_id = _new_eval_id()
    folder = ctx.path(f"evals/{eval_id}")
    folder.mkdir(parents=True, exist_ok=True)
    info = jobs.launch(ctx, "evaluate", _command(ctx, eval_id, runs), folder, runs=runs)
    job_id = info["job_id"]
    what = "the base model" + (" and the prompt-only baseline" if spec.include_prompt_baseline else "")
    what += "".join(f", then run {r}" for r in runs)
    return ToolResult(content=f"Started evaluation {eval_id}: {what}. Call wait_for_evaluation to follow it.",
                      data={"eval_id": eval_id, "job_id": job_id, "runs": runs}, files=[f"evals/{eval_id}"])


def _eval_folder(ctx: ToolContext, eval_id: str | None, *, finished: bool = False) -> tuple[str, Path]:
    eval_id = eval_id or ex.latest_eval_id(ctx.session_dir, finished=finished)
    if not eval_id:
        raise ToolError("no evaluation in this session yet" + (" has finished" if finished else "") + "; call run_evaluation")
    folder = ctx.path(f"evals/{eval_id}")
    if not folder.is_dir():
        raise ToolError(f"no evaluation {eval_id!r} (evals/{eval_id} is missing)")
    return eval_id, folder


@tool("always")
def wait_for_evaluation(ctx: ToolContext, eval_id: str | None = None, timeout_s: WaitSeconds = 3600) -> ToolResult:
    """Wait for an evaluation job to finish, showing its progress, then summarize the result.

    Args:
        eval_id: the evaluation (folder under evals/); omit for the latest.
        timeout_s: stop waiting after this many seconds (the job keeps running).
    """
    eval_id, folder = _eval_folder(ctx, eval_id)
    events_path, offset, deadline = folder / "events.jsonl", 0, time.monotonic() + timeout_s
    while True:
        new, offset = jobs.read_events(events_path, offset)
        for event in new:
            if event.get("type") in ("progress", "status"):
                ctx.emit(event)
            if event.get("type") == "error":
                raise ToolError(f"evaluation {eval_id} failed: {event.get('message')}")
            if event.get("type") == "done":
                return _report_result(ctx, eval_id, folder, prefix=f"Evaluation {eval_id} finished.\n")
        state = jobs.job_status(folder, ctx.jobs)
        if state in ("failed", "cancelled") or (state == "finished" and not (folder / "report.json").exists()):
            log = jobs.log_tail(folder, ctx.jobs, 1500)
            raise ToolError(f"evaluation {eval_id} {state} without a report." + (f"\nThe end of its log:\n{log}" if log else ""))
        if ctx.cancel.is_set():
            if ctx.cancel_jobs and jobs.cancel(folder, ctx.jobs):  # the progress card's Cancel button
                return ToolResult(content=f"Cancelled evaluation {eval_id}; run_evaluation starts a new one.",
                                  data={"eval_id": eval_id, "status": "cancelled"})
            return ToolResult(content=f"Stopped waiting; evaluation {eval_id} goes on as a job. Call "
                              "wait_for_evaluation to follow it again.", data={"eval_id": eval_id, "running": True})
        if time.monotonic() > deadline:
            return ToolResult(content=f"Evaluation {eval_id} is still running after {timeout_s:g} s; call "
                              "wait_for_evaluation again to keep waiting.", data={"eval_id": eval_id, "running": True})
        ctx.cancel.wait(0.5)


def _report_result(ctx: ToolContext, eval_id: str, folder: Path, prefix: str = "") -> ToolResult:
    report = load_report(folder)
    if report is None:
        raise ToolError(f"evaluation {eval_id} has no report yet; call wait_for_evaluation")
    ratings = judging.load_ratings(folder)
    if ratings:
        report["agreement"] = judging.agreement(ratings, ex.load_results(folder))
    markdown = render_markdown(report)
    rel = f"evals/{eval_id}/report.md"
    content = f"{prefix}{summary(report)}\n\nFull report: {rel}"
    if report.get("judge_warning"):
        content += "\nWarning: " + report["judge_warning"]
    return ToolResult(content=content, files=[rel], data={"eval_id": eval_id, "report_path": rel, "markdown": markdown,
                                                           "not_judged": report.get("not_judged", [])})


@tool("always")
def show_evaluation_report(ctx: ToolContext, eval_id: str | None = None) -> ToolResult:
    """Show an evaluation report: per tenet, base against tuned with a confidence interval, win/tie/loss and the largest regressions.

    Args:
        eval_id: the evaluation (folder under evals/); omit for the latest finished one.
    """
    eval_id, folder = _eval_folder(ctx, eval_id, finished=True)
    result = _report_result(ctx, eval_id, folder)
    result.content = result.data["markdown"]
    return result


def _preview_ratings(ctx: ToolContext, ratings: list[dict], eval_id: str | None = None) -> Preview:
    lines = [f"example {r.get('index')} {r.get('variant')} {r.get('metric')}: {r.get('score')}"
             for r in ratings[:20] if isinstance(r, dict)]
    more = f" (and {len(ratings) - 20} more)" if len(ratings) > 20 else ""
    return Preview(summary=f"Record these {len(ratings)} ratings as yours (they set the judge-agreement figure){more}:\n"
                           + "\n".join(lines))


@tool("ask", preview=_preview_ratings, person_only=True)
def rate_answers(ctx: ToolContext, ratings: list[dict], eval_id: str | None = None) -> ToolResult:
    """Store the person's ratings of evaluated answers (evals/<id>/ratings.jsonl) and report how often the judge agrees.
    Only record scores the person gave; never invent them. The person approves the ratings before they are stored.

    Args:
        ratings: one entry per rated answer: {"index": example index, "variant": "base" or "run:<id>", "metric": the judged metric, "score": 0 to 1}.
        eval_id: the evaluation (folder under evals/); omit for the latest finished one.
    """
    eval_id, folder = _eval_folder(ctx, eval_id, finished=True)
    rows = ex.load_results(folder)
    known = {(r["index"], v) for r in rows for v in r.get("outputs", {})}
    for rating in ratings:
        try:
            key = (int(rating["index"]), str(rating["variant"]))
            metric, score = str(rating["metric"]), float(rating["score"])
        except (KeyError, TypeError, ValueError):
            raise ToolError(f"a rating needs index, variant, metric and score (0-1); got {rating!r}") from None
        if key not in known:
            raise ToolError(f"evaluation {eval_id} has no answer of {key[1]!r} for example {key[0]}")
        try:
            judging.save_rating(folder, index=key[0], variant=key[1], metric=metric, score=score)
        except ValueError as exc:
            raise ToolError(str(exc)) from None
    result = judging.update_report_agreement(folder) or judging.agreement(judging.load_ratings(folder), rows)
    return ToolResult(content=f"Stored {len(ratings)} ratings. " + agreement_sentence(result),
                      files=[f"evals/{eval_id}/ratings.jsonl"], data={"agreement": result})


@tool("always")
def finish_evaluation(ctx: ToolContext) -> ToolResult:
    """End the evaluation step and move on to export (call once the person has seen the report)."""
    if ex.latest_eval_id(ctx.session_dir, finished=True) is None:
        raise ToolError("no evaluation has finished yet; run one first")
    return ToolResult(content="Evaluation done; next step: export.", phase="export")
