"""TRL's fused LM head on the CPU: every position scored (TRL's default off Triton) against the answer's
positions only (what the job does, skills.train.job.score_answers_only), through the real SFTTrainer on
the demo's task, full fine-tune and LoRA, the two settings alternating run by run from the same weights.

    python tests/bench/answer_only_head.py [--steps 8] [--prompt short|contract] [--out FILE]  -> RESULT={...}

Reads: seconds per step (median after the first) and the loss at every step (they must agree).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--prompt", default="short", choices=["short", "contract"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer
    from trl.trainer import utils as trl_utils

    from skills.common.basemodel import resolve_model_path
    from skills.train.job import score_answers_only
    from synth.records import to_training_row
    from synth.templates import classification
    from tests.bench.train_levers import LABELS, demo_prompts

    threads = int(os.environ.get("TUNESMITH_THREADS") or os.cpu_count() or 1)
    torch.set_num_threads(threads)
    load_before = [round(x, 2) for x in os.getloadavg()]
    path = resolve_model_path("embedded:SmolLM2-135M-Instruct")
    tokenizer = AutoTokenizer.from_pretrained(path)
    system = demo_prompts()[args.prompt]
    records = classification.generate({"labels": LABELS, "n": 256, "seed": 1, "split": "train",
                                       "axes": {"style": [[s, 1] for s in classification._STYLES]}})
    rows = [to_training_row(r, "sft", system) for r in records]
    for row in rows:
        row.pop("meta")
    dataset = Dataset.from_list(rows)
    default_rule = trl_utils._use_triton

    def run(adapter: str, answers_only: bool) -> dict:
        trl_utils._use_triton = default_rule
        if answers_only:
            score_answers_only()
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        peft = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, task_type="CAUSAL_LM",
                          target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]) \
            if adapter == "lora" else None
        config = SFTConfig(output_dir=tempfile.mkdtemp(prefix="head-"), max_steps=args.steps + 1,
                           per_device_train_batch_size=args.batch, learning_rate=5e-5 if adapter == "full" else 3e-4,
                           logging_steps=1, save_strategy="no", seed=0, report_to=[], use_cpu=True, bf16=False,
                           disable_tqdm=True, dataloader_num_workers=0, max_length=128,
                           train_sampling_strategy="group_by_length")
        trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer, peft_config=peft)
        marks: list[tuple[float, float]] = []

        class Clock(TrainerCallback):
            def on_log(self, a, state, control, logs=None, **kw):
                if logs and "loss" in logs:
                    marks.append((time.perf_counter(), float(logs["loss"])))

        trainer.add_callback(Clock())
        trainer.train()
        seconds = [round(b[0] - a[0], 3) for a, b in zip(marks, marks[1:])]
        return {"seconds": seconds, "loss": [round(m[1], 4) for m in marks]}

    out: dict = {}
    for adapter in ("full", "lora"):
        runs = {}
        for answers_only in (False, True, False, True):
            key = "answers_only" if answers_only else "every_position"
            result = run(adapter, answers_only)
            runs.setdefault(key, []).append(result)
            print(adapter, key, result, file=sys.stderr, flush=True)
        median = {k: statistics.median(s for r in v for s in r["seconds"]) for k, v in runs.items()}
        out[adapter] = {"median_seconds_per_step": {k: round(v, 3) for k, v in median.items()},
                        "speedup": round(median["every_position"] / median["answers_only"], 3),
                        "max_loss_gap": round(max(abs(a - b) for a, b in zip(runs["every_position"][0]["loss"],
                                                                              runs["answers_only"][0]["loss"])), 5),
                        "runs": runs}
    out.update(prompt=args.prompt, batch=args.batch, steps=args.steps, threads=threads, torch=torch.__version__,
               load_average_before=load_before, load_average_after=[round(x, 2) for x in os.getloadavg()])
    if args.out:
        args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print("RESULT=" + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
