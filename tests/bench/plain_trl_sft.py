"""The baseline for tunesmith's SFT job: a plain TRL SFTTrainer script, written the way the TRL docs
show, with the same model, data and settings as a prepared session's training.yaml (LoRA or a full
fine-tune, batch, length, learning rate, steps, threads, CPU, no checkpoints). It measures tokens/s exactly as the job
does: non-padding tokens seen between the first and the last logged step, over the time between.

    python tests/bench/plain_trl_sft.py SESSION_DIR   -> prints RESULT={"tokens_per_second": ..., ...}
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(session: Path) -> None:
    import torch
    import yaml
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from skills.common.basemodel import resolve_model_path

    torch.set_num_threads(int(os.environ.get("TUNESMITH_THREADS", os.cpu_count() or 1)))
    plan = yaml.safe_load((session / "training.yaml").read_text())
    hp = plan["hyperparameters"]
    model_path = resolve_model_path(plan["base_model"])
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    dataset = load_dataset("json", data_files=str(session / plan["data"]["train_path"]), split="train")
    dataset = dataset.remove_columns([c for c in dataset.column_names if c not in ("prompt", "completion")])
    params = sum(p.numel() for p in model.parameters())
    peft_config = None
    if plan.get("adapter", "lora") == "lora":
        peft_config = LoraConfig(r=hp["lora_r"], lora_alpha=hp["lora_alpha"], lora_dropout=hp["lora_dropout"],
                                 target_modules=hp["lora_targets"], task_type="CAUSAL_LM")
    points: list[tuple[int, float, int]] = []

    class Clock(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "train_loss" not in logs:
                points.append((state.global_step, time.monotonic(), int(state.num_input_tokens_seen or 0)))

    config = SFTConfig(
        output_dir=tempfile.mkdtemp(prefix="plain-trl-"), max_steps=hp["max_steps"],
        per_device_train_batch_size=hp["batch_size"], gradient_accumulation_steps=hp["grad_accum"],
        learning_rate=hp["learning_rate"], warmup_steps=hp["warmup_ratio"], weight_decay=hp["weight_decay"],
        logging_steps=1, save_strategy="no", seed=hp["seed"], report_to=[], use_cpu=True, bf16=False,
        gradient_checkpointing=False, disable_tqdm=True, dataloader_num_workers=0,
        include_num_input_tokens_seen="non_padding", max_length=hp["max_length"], packing=hp["packing"])
    trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer,
                         peft_config=peft_config)
    trainer.add_callback(Clock())
    started = time.monotonic()
    trainer.train()
    wall = time.monotonic() - started
    use = points[1:] if len(points) > 2 else points
    (s0, t0, k0), (s1, t1, k1) = use[0], use[-1]
    print("RESULT=" + json.dumps({"tokens_per_second": round((k1 - k0) / (t1 - t0), 1),
                                  "seconds_per_step": round((t1 - t0) / (s1 - s0), 3),
                                  "steps": points[-1][0], "train_seconds": round(wall, 1), "params": params}), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
