"""Generator code written by the teacher LLM, refined until a sample batch passes verification.

``write_generator(session_dir, use_case, spec, client)`` asks for a standard-library Python file
with ``generate(payload) -> list[record]`` and ``verify(record) -> True | reason``, saves it as
``generator.py`` in the session, runs a sample batch in the sandbox, and on failure sends the errors
back for a fix, up to ``max_rounds`` times. The code only ever runs in the sandbox.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from specs.data_generation import DataGenerationSpec
from specs.io import atomic_write_text
from specs.use_case import UseCaseSpec
from synth.generate import GenerationError, sample_check
from synth.verify import template_path

GENERATOR_FILE = "generator.py"

CONTRACT = """Write ONE self-contained Python 3 file (standard library only, no network, no file access) with:

def generate(payload) -> list[dict]:
    # payload keys: start (int), n (int), seed, split ("train", "eval" or "sample"), labels (list),
    # schema (JSON schema or None), axes ({name: [[value, weight], ...]}), examples (seed rows)
    # Return n records for indices start..start+n-1, each
    # {"i": index, "input": str, "output": str, "meta": {axis: value, ...}}.
    # Use random.Random(f"{seed}:{split}:{i}") per index so the same index always gives the same record.
    # Make inputs varied and realistic; cover every label and axis value.

def verify(record) -> bool | str:
    # True when the record is correct, else a short reason.

Reply with the code in one ```python block."""


def extract_code(text: str) -> str:
    blocks = re.findall(r"```(?:python|py)?\s*\n(.*?)```", text, flags=re.DOTALL)
    code = max(blocks, key=len) if blocks else text
    return code.strip() + "\n"


def _brief(use_case: UseCaseSpec, spec: DataGenerationSpec, instructions: str) -> str:
    contract = use_case.contract
    lines = [f"Task: {use_case.name} ({use_case.task_type}). {use_case.business_problem.strip()}",
             f"Input: {contract.input_description}", f"Output: {contract.output_description}"]
    if contract.labels:
        lines.append("Labels (exact): " + ", ".join(contract.labels))
    if contract.output_schema:
        lines.append(f"Output JSON schema: {contract.output_schema}")
    if contract.output_regex:
        lines.append(f"Every output must fully match the regex {contract.output_regex}")
    if spec.diversity_axes:
        lines.append("Axes: " + "; ".join(f"{a.name}: {', '.join(v.value for v in a.values)}" for a in spec.diversity_axes))
    if instructions:
        lines.append(f"The person asks: {instructions}")
    example = template_path("arithmetic").read_text(encoding="utf-8")
    return "\n".join(lines) + "\n\n" + CONTRACT + "\n\nA working example for another task:\n```python\n" + example + "```"


def write_generator(session_dir: str | Path, use_case: UseCaseSpec, spec: DataGenerationSpec, client: Any,
                    instructions: str = "", max_rounds: int = 3, sample_size: int = 20) -> dict[str, Any]:
    """Have the teacher write generator.py and refine it until a sample batch passes; returns the last check."""
    from synth.llm import run_sync

    session_dir = Path(session_dir)
    messages = [{"role": "system", "content": "You write correct, deterministic Python data generators."},
                {"role": "user", "content": _brief(use_case, spec, instructions)}]
    gen = spec.generator.model_copy(update={"kind": "programmatic", "template": None, "code_path": GENERATOR_FILE})
    trial = spec.model_copy(update={"generator": gen})
    history: list[dict[str, Any]] = []
    for round_no in range(1, max_rounds + 1):
        reply = run_sync(client.complete(messages, temperature=0.2, max_tokens=4000, cache_key=f"codegen:{round_no}"))
        code = extract_code(reply.text)
        atomic_write_text(session_dir / GENERATOR_FILE, code)
        try:
            check = sample_check(session_dir, use_case, trial, n=sample_size)
            problem = None if check["ok"] else f"only {check['pass_rate']:.0%} of the sample passed: {check['dropped']}"
        except GenerationError as exc:
            check, problem = {"ok": False, "error": str(exc)}, str(exc)
        history.append({"round": round_no, "ok": problem is None, "problem": problem})
        if problem is None:
            return {**check, "rounds": history, "code_path": GENERATOR_FILE}
        messages += [{"role": "assistant", "content": reply.text},
                     {"role": "user", "content": f"The sample batch failed: {problem[:1500]}\nFix the code; reply with the "
                                                 "whole corrected file in one ```python block."}]
    return {"ok": False, "rounds": history, "code_path": GENERATOR_FILE}
