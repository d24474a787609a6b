"""torch.compile as a lever for the full fine-tune on this CPU: eager against compiled (inductor), from the same
weights on the same real SFT batches of the demo's task (short system prompt, loss on the answer only), fused
AdamW, the two interleaved step by step so the machine's other load falls on both alike.

    python tests/bench/compile_lever.py [--steps 12] [--batch 8] [--out FILE]   -> RESULT={...}

Batches keep their own widths (as length-grouped batches do), so the compiled model is built with
dynamic shapes; the first compiled steps (compilation) are timed apart from the steady ones.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.train_levers import collate, demo_prompts, demo_setup, encode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=12, help="timed steps per side after the warm-up steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed first steps per side (compilation)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    import torch
    from transformers import AutoModelForCausalLM

    threads, load_before, path, tokenizer, pad, records = demo_setup(torch)
    items = encode(tokenizer, records, demo_prompts()["short"])
    total = args.warmup + args.steps
    data = [collate(torch, items[k * args.batch:(k + 1) * args.batch], pad) for k in range(total)]
    widths = [int(d["input_ids"].shape[1]) for d in data]
    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    base.train()
    eager = copy.deepcopy(base)
    compiled_model = copy.deepcopy(base)
    compile_started = time.perf_counter()
    compiled = torch.compile(compiled_model, dynamic=True)
    sides = {"eager": (eager, torch.optim.AdamW(eager.parameters(), lr=1e-4, fused=True)),
             "compiled": (compiled, torch.optim.AdamW(compiled_model.parameters(), lr=1e-4, fused=True))}
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    losses: dict[str, list[float]] = {name: [] for name in sides}
    warm: dict[str, float] = {name: 0.0 for name in sides}
    tokens = [int((d["attention_mask"]).sum()) for d in data]
    for k, batch in enumerate(data):
        for name, (model, optimizer) in sides.items():
            started = time.perf_counter()
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            took = time.perf_counter() - started
            losses[name].append(round(float(loss.detach()), 4))
            if k < args.warmup:
                warm[name] += took
            else:
                seconds[name].append(took)
            print(f"step {k} {name}: width {widths[k]}, {took:.2f} s, loss {losses[name][-1]:.4f}", file=sys.stderr, flush=True)
    timed_tokens = sum(tokens[args.warmup:])
    result = {
        "measured": {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "threads": threads,
                     "load_average_before": load_before, "torch": torch.__version__, "batch": args.batch,
                     "warmup_steps": args.warmup, "timed_steps": args.steps, "widths": widths},
        "median_step_seconds": {n: round(statistics.median(v), 3) for n, v in seconds.items()},
        "tokens_per_second": {n: round(timed_tokens / sum(v), 1) for n, v in seconds.items()},
        "warmup_seconds": {n: round(v, 1) for n, v in warm.items()},
        "compile_wall_seconds_from_start": round(time.perf_counter() - compile_started, 1),
        "max_loss_gap": round(max(abs(a - b) for a, b in zip(losses["eager"], losses["compiled"])), 4),
        "losses": losses,
    }
    result["compiled_speedup"] = round(result["median_step_seconds"]["eager"] / result["median_step_seconds"]["compiled"], 3)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print("RESULT=" + json.dumps(result))


if __name__ == "__main__":
    main()
