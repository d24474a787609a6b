"""Load the base model (and a tuned run on top of it) and generate answers in batches.

Imported only by the job scripts (skills.evaluate.job, skills.evaluate.serve): torch,
transformers and peft are imported inside the functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run_model_dir(session_dir: Path, run_id: str) -> tuple[str, Path]:
    """What a training run left: ("adapter", folder) for LoRA, ("full", folder) for a full model."""
    final = Path(session_dir) / "runs" / run_id / "final"
    if (final / "adapter_config.json").exists():
        return "adapter", final
    if (final / "config.json").exists():
        return "full", final
    raise FileNotFoundError(f"runs/{run_id}/final holds neither a LoRA adapter (adapter_config.json) "
                            "nor a model (config.json); finish or resume that training run first")


def set_threads() -> None:
    import torch

    from skills.common.threads import cpu_threads

    torch.set_num_threads(cpu_threads(limit=4))


def load(base_model: str, *, run: tuple[str, Path] | None = None) -> tuple[Any, Any]:
    """(model, tokenizer): the base model, with a run's LoRA adapter applied or a run's full model."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from skills.common.basemodel import resolve_model_path

    set_threads()
    if run is not None and run[0] == "full":
        folder = run[1]
    else:
        folder = resolve_model_path(base_model)
    tokenizer_folder = run[1] if run is not None and (run[1] / "tokenizer_config.json").exists() else folder
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_folder))
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    if run is not None and run[0] == "adapter":
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(run[1]))
    model.eval()
    return model, tokenizer


def generate(model: Any, tokenizer: Any, conversations: list[list[dict[str, str]]], *,
             max_new_tokens: int = 64) -> list[str]:
    """Greedy answers for a batch of conversations (chat template, left padding)."""
    import torch

    texts = [tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations]
    batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.inference_mode():
        out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                             pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    new_tokens = out[:, batch["input_ids"].shape[1]:]
    return [text.strip() for text in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]


def generate_all(model: Any, tokenizer: Any, conversations: list[list[dict[str, str]]], *, batch_size: int = 8,
                 max_new_tokens: int = 64, on_batch: Any = None) -> list[str]:
    """Answers for every conversation, ``batch_size`` at a time (shortest first, so padding stays small)."""
    order = sorted(range(len(conversations)), key=lambda i: sum(len(m["content"]) for m in conversations[i]))
    answers: list[str] = [""] * len(conversations)
    done = 0
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        for i, text in zip(chunk, generate(model, tokenizer, [conversations[i] for i in chunk],
                                           max_new_tokens=max_new_tokens)):
            answers[i] = text
        done += len(chunk)
        if on_batch is not None:
            on_batch(done, len(conversations))
    return answers
