"""Training levers measured in one process: seconds per optimizer step of the embedded model on one
fixed batch, for each setting, interleaved (A B C A B C ...) so the machine's other load falls on all
of them alike; the ratios are what to read.

    python tests/bench/train_levers.py [--steps 4] [--batch 8] [--length 64]   -> RESULT={...}

Settings: full fine-tune fp32 (the baseline); bf16 autocast (AMX on CPUs that have it); AdamW with
foreach off, foreach on, and fused; one thread instead of all; LoRA r16 on every linear layer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=4, help="timed steps per setting (after one untimed)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=64)
    args = parser.parse_args()
    import torch
    from transformers import AutoModelForCausalLM

    from skills.common.basemodel import resolve_model_path

    threads = int(os.environ.get("TUNESMITH_THREADS") or os.cpu_count() or 1)
    path = resolve_model_path("embedded:SmolLM2-135M-Instruct")
    torch.manual_seed(0)
    batch = torch.randint(0, 49152, (args.batch, args.length))

    full = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    full.train()
    params = list(full.parameters())
    foreach = torch.optim.AdamW(params, lr=1e-5, foreach=True)  # one model; each optimizer keeps its own state
    built = {"fp32": (full, foreach), "bf16_autocast": (full, foreach), "one_thread": (full, foreach),
             "adamw_foreach_off": (full, torch.optim.AdamW(params, lr=1e-5, foreach=False)),
             "adamw_fused": (full, torch.optim.AdamW(params, lr=1e-5, fused=True))}
    from peft import LoraConfig, get_peft_model

    lora = get_peft_model(AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32),
                          LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, task_type="CAUSAL_LM",
                                     target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]))
    lora.train()
    built["lora"] = (lora, torch.optim.AdamW([p for p in lora.parameters() if p.requires_grad], lr=1e-4, foreach=True))
    settings = list(built)

    def step(name: str) -> float:
        model, optimizer = built[name]
        torch.set_num_threads(1 if name == "one_thread" else threads)
        started = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=name == "bf16_autocast"):
            loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return time.perf_counter() - started

    for name in settings:
        step(name)  # untimed: first-step allocations
    times: dict[str, list[float]] = {name: [] for name in settings}
    for _ in range(args.steps):
        for name in settings:
            times[name].append(step(name))
    median = {name: statistics.median(values) for name, values in times.items()}
    tokens = args.batch * args.length
    out = {"seconds_per_step": {n: round(v, 3) for n, v in median.items()},
           "tokens_per_second": {n: round(tokens / v, 1) for n, v in median.items()},
           "speedup_vs_fp32": {n: round(median["fp32"] / v, 3) for n, v in median.items()},
           "batch": args.batch, "length": args.length, "steps": args.steps, "threads": threads,
           "load_average": [round(x, 2) for x in os.getloadavg()]}
    print("RESULT=" + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
