"""Paraphrase generated training inputs with the embedded local model (job-only: imports torch).

A deterministic share of the generated training records gets a reworded input with the same
answer; the new records go to ``data/.partial/paraphrase.jsonl`` keyed by the source index, so a
cancelled run resumes, and ``synth.generate.assemble`` verifies them like every other record (a
paraphrase that lost what the answer depends on is dropped by the verifier and counted).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from specs.data_generation import DataGenerationSpec
from specs.use_case import UseCaseSpec
from synth.generate import Progress
from synth.records import PartialWriter

PROMPT = ("Rewrite the text below with different wording. Keep every name, number and fact; "
          "answer with the rewritten text only.\n\nText: {text}")


def pick_indices(total: int, share: float) -> list[int]:
    """Evenly spaced source indices, about ``share`` of ``total``."""
    count = max(0, min(total, int(round(total * share))))
    if count == 0:
        return []
    step = total / count
    return sorted({int(k * step) for k in range(count)})


def paraphrase_records(session_dir: Path, use_case: UseCaseSpec, spec: DataGenerationSpec,
                       emit: Callable[[dict[str, Any]], None] | None = None, cancel: threading.Event | None = None,
                       max_new_tokens: int = 48) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from skills.common.basemodel import resolve_model_path

    partial_root = Path(session_dir) / "data" / ".partial"
    source = PartialWriter(partial_root / "train.jsonl")
    source.close()
    records = dict(source.records())
    share = float(spec.extra.get("paraphrase_share", 0.25))
    todo = [i for i in pick_indices(spec.train_count, share) if i in records]
    out = PartialWriter(partial_root / "paraphrase.jsonl")
    pending = [i for i in todo if i not in out.done]
    progress = Progress(emit, len(todo), len(todo) - len(pending), task="paraphrase", every_s=1.0)
    folder = resolve_model_path(use_case.base_model)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    model.eval()
    torch.manual_seed(spec.seed)
    for i in pending:
        if cancel is not None and cancel.is_set():
            break
        record = records[i]
        messages = [{"role": "user", "content": PROMPT.format(text=record["input"])}]
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        with torch.no_grad():
            generated = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False)
        text = tokenizer.decode(generated[0][ids["input_ids"].shape[1]:], skip_special_tokens=True)
        text = text.strip().splitlines()[0].strip().strip('"') if text.strip() else ""
        if not text or text == record["input"]:
            out.add(i, None, "paraphrase empty or unchanged")
        else:
            meta = {**(record.get("meta") or {}), "paraphrase_of": str(i)}
            out.add(i, {**record, "input": text, "meta": meta})
        progress.advance()
    out.close()
    progress.advance(0, force=True)
    return {"paraphrased": len(out.records()), "attempted": len(out.done), "planned": len(todo)}
