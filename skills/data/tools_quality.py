"""Tools of the data step for the quality gate: score the data, show the report, waive findings, finish the step."""

from __future__ import annotations

from skills.data.access import _data_spec, _use_case
from skills.toolkit import Preview, ToolContext, ToolError, ToolResult, tool
from specs import lineage


@tool("always")
def score_data(ctx: ToolContext) -> ToolResult:
    """Score data/train.jsonl and data/eval.jsonl again (after the person edited them) and show the report."""
    from synth.quality import score_dataset, summary

    if not ctx.path("data/train.jsonl").exists():
        raise ToolError("there is no data/train.jsonl yet; run generate_data first")
    from synth.quality import ScoringCancelled

    try:
        report = score_dataset(ctx.session_dir, _use_case(ctx), _data_spec(ctx), emit=ctx.emit,
                               embeddings=ctx.settings.quality_embeddings, cancel=ctx.cancel)
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
    teacher = (generator.model or ctx.settings.teacher_model) if generator.kind == "teacher" else None
    lineage.record(ctx.session_dir, "data", "data/train.jsonl", inputs=["use_case.yaml", "data_generation.yaml", "data/eval.jsonl"],
                   generator=generator.kind, template=generator.template, teacher=teacher, seed=spec.seed)
    waived = [f.code for f in load_report(ctx.session_dir).findings if f.waived] if ctx.path("data/quality.json").exists() else []
    lineage.record(ctx.session_dir, "quality", "data/quality.json", inputs=["data/train.jsonl", "data/eval.jsonl"],
                   waived=waived or None)
    return ToolResult(content="The data passed the quality gate. Next: the training plan.", phase="train")
