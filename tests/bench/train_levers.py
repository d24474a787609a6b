"""Training levers measured in one process on real SFT batches of the demo's task (the bank template,
the demo's 12 labels, the chat template, loss on the answer only), settings interleaved (A B A B ...)
so the machine's other load falls on all of them alike; the ratios are what to read.

    python tests/bench/train_levers.py [--steps 8] [--batch 8] [--out FILE]   -> RESULT={...}

What it measures:
- precision: two copies of the full model from the same weights, trained on the same batches, one in
  fp32 and one under bf16 autocast (fp32 master weights and optimizer): seconds per step and the loss
  at every step (the curves must agree for bf16 to be adoptable); the same for LoRA r16.
- optimizer: AdamW's step alone on the full model's parameters, for-loop (torch's CPU default) vs
  foreach vs fused.
- threads: forward+backward with 1 thread vs all cores.
- prompt: tokens per record with the contract's system prompt, with its first sentence only, and with
  an empty system message; seconds per step of a batch of each.
- batch size: tokens/s at batch 4, 8 and 16 under the faster precision.
- length grouping: share of padding in random vs length-grouped batches of the data.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

LABELS = ["groceries", "dining", "transport", "subscriptions", "utilities", "rent", "entertainment", "shopping",
          "health", "travel", "income", "transfers"]


def demo_prompts() -> dict[str, str | None]:
    from skills.common.prompt import short_prompt
    from skills.use_case.drafting import classification_prompt

    contract = classification_prompt("bank transaction", LABELS)
    return {"contract": contract, "short": short_prompt(contract), "empty": ""}


def encode(tokenizer, records, system: str | None):
    """input_ids and labels (-100 on the prompt) the way TRL's prompt/completion format trains."""
    out = []
    for record in records:
        messages = ([{"role": "system", "content": system}] if system is not None else []) + \
                   [{"role": "user", "content": record["input"]}]
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        full = prompt + record["output"] + "<|im_end|>\n"
        p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        ids = tokenizer(full, add_special_tokens=False)["input_ids"]
        out.append((ids, [-100] * len(p_ids) + ids[len(p_ids):]))
    return out


def collate(torch, items, pad_id: int):
    width = max(len(ids) for ids, _ in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    labels = torch.full((len(items), width), -100, dtype=torch.long)
    mask = torch.zeros((len(items), width), dtype=torch.long)
    for row, (a, b) in enumerate(items):
        ids[row, :len(a)] = torch.tensor(a)
        labels[row, :len(b)] = torch.tensor(b)
        mask[row, :len(a)] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def padding_share(items, batch: int, grouped: bool, seed: int = 0) -> float:
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    if grouped:  # mega-batches of 50 batches sorted by length, as transformers' LengthGroupedSampler does
        mega = batch * 50
        order = [i for k in range(0, len(order), mega) for i in sorted(order[k:k + mega], key=lambda i: -len(items[i][0]))]
    real = padded = 0
    for k in range(0, len(order) - batch + 1, batch):
        lengths = [len(items[i][0]) for i in order[k:k + batch]]
        real += sum(lengths)
        padded += max(lengths) * len(lengths)
    return round(1 - real / padded, 3)


def demo_setup(torch, n: int = 512) -> tuple[int, list[float], str, object, int, list[dict]]:
    """Threads (set), the load average before, the embedded model's path, its tokenizer and pad id, and ``n``
    records of the demo's task: what each bench script of the demo's batches starts from."""
    from transformers import AutoTokenizer

    from skills.common.basemodel import resolve_model_path
    from synth.templates import classification

    threads = int(os.environ.get("TUNESMITH_THREADS") or os.cpu_count() or 1)
    torch.set_num_threads(threads)
    load_before = [round(x, 2) for x in os.getloadavg()]
    path = resolve_model_path("embedded:SmolLM2-135M-Instruct")
    tokenizer = AutoTokenizer.from_pretrained(path)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    records = classification.generate({"labels": LABELS, "n": n, "seed": 1, "split": "train",
                                       "axes": {"style": [[s, 1] for s in classification._STYLES]}})
    return threads, load_before, path, tokenizer, pad, records


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=8, help="timed steps per setting (after one untimed)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None, help="also write the result JSON here")
    args = parser.parse_args()
    import torch
    from transformers import AutoModelForCausalLM

    threads, load_before, path, tokenizer, pad, records = demo_setup(torch)
    prompts = demo_prompts()
    encoded = {name: encode(tokenizer, records, text) for name, text in prompts.items()}
    tokens_per_record = {name: round(statistics.mean(len(ids) for ids, _ in items), 1) for name, items in encoded.items()}
    padding = {name: {"random": padding_share(items, args.batch, False), "grouped": padding_share(items, args.batch, True)}
               for name, items in encoded.items()}
    torch.manual_seed(0)

    def batches(name: str, batch: int, count: int):
        items = encoded[name]
        return [collate(torch, items[k * batch:(k + 1) * batch], pad) for k in range(count)]

    base = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    base.train()

    def step(model, optimizer, data, bf16: bool, n_threads: int = threads) -> tuple[float, float]:
        torch.set_num_threads(n_threads)
        started = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(**data).loss
        loss.backward()
        if optimizer is not None:
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        else:
            model.zero_grad(set_to_none=True)
        return time.perf_counter() - started, float(loss.detach())

    def curves(models: dict, data: list, lr: float) -> dict:
        """Each setting trains its own copy on the same batches, interleaved; loss and time per step."""
        opts = {n: torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=lr) for n, (m, _) in models.items()}
        out = {n: {"seconds": [], "loss": []} for n in models}
        for k, batch in enumerate(data):
            for name, (model, bf16) in models.items():
                seconds, loss = step(model, opts[name], batch, bf16)
                out[name]["loss"].append(round(loss, 4))
                print(f"step {k} {name}: {seconds:.2f} s, loss {loss:.4f}", file=sys.stderr, flush=True)
                if k:  # the first step allocates
                    out[name]["seconds"].append(round(seconds, 3))
        return out

    result: dict = {"tokens_per_record": tokens_per_record, "padding_share": padding, "prompts": prompts}
    # precision, full fine-tune: fp32 vs bf16 autocast from the same weights on the same batches
    data = batches("contract", args.batch, args.steps + 1)
    full = curves({"fp32": (copy.deepcopy(base), False), "bf16_autocast": (copy.deepcopy(base), True)}, data, 5e-5)
    result["full"] = full
    from peft import LoraConfig, get_peft_model

    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

    def lora_copy():
        return get_peft_model(copy.deepcopy(base), LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0,
                                                              task_type="CAUSAL_LM", target_modules=targets))
    torch.manual_seed(0)
    lora_a = lora_copy()
    lora_b = copy.deepcopy(lora_a)
    result["lora"] = curves({"fp32": (lora_a, False), "bf16_autocast": (lora_b, True)}, data, 3e-4)
    del lora_a, lora_b
    for part in ("full", "lora"):
        median = {n: statistics.median(v["seconds"]) for n, v in result[part].items()}
        result[part + "_speedup_bf16"] = round(median["fp32"] / median["bf16_autocast"], 3)
        result[part + "_max_loss_gap"] = round(max(abs(a - b) for a, b in zip(result[part]["fp32"]["loss"],
                                                                               result[part]["bf16_autocast"]["loss"])), 4)
    bf16 = result["full_speedup_bf16"] > 1.05
    result["faster_precision"] = "bf16_autocast" if bf16 else "fp32"

    # optimizer step alone on the full model's parameters (for-loop, foreach, fused)
    params = [p for p in base.parameters()]
    for p in params:
        p.grad = torch.randn_like(p) * 1e-3
    kinds = {"for_loop": dict(foreach=False), "foreach": dict(foreach=True), "fused": dict(fused=True)}
    opts = {k: torch.optim.AdamW(params, lr=1e-9, **kw) for k, kw in kinds.items()}
    opt_times: dict[str, list[float]] = {k: [] for k in kinds}
    for k in range(args.steps + 1):
        for name, opt in opts.items():
            started = time.perf_counter()
            opt.step()
            if k:
                opt_times[name].append(time.perf_counter() - started)
    result["optimizer_step_seconds"] = {k: round(statistics.median(v), 3) for k, v in opt_times.items()}
    del opts
    base.zero_grad(set_to_none=True)

    # threads, prompt length and batch size: forward+backward only (no optimizer), the faster precision
    def timed(settings: dict) -> dict:
        times: dict[str, list[float]] = {n: [] for n in settings}
        for k in range(max(3, args.steps // 2) + 1):
            for name, (batch, n_threads) in settings.items():
                seconds, _ = step(base, None, batch[k % len(batch)], bf16, n_threads)
                if k:
                    times[name].append(seconds)
        return {n: round(statistics.median(v), 3) for n, v in times.items()}

    one = batches("contract", args.batch, 2)
    result["threads_fwd_bwd_seconds"] = timed({f"{threads}_threads": (one, threads), "1_thread": (one, 1)})
    per_prompt = {name: batches(name, args.batch, 2) for name in prompts}
    seconds = timed({name: (b, threads) for name, b in per_prompt.items()})
    result["prompt_fwd_bwd_seconds"] = seconds
    result["prompt_records_per_second"] = {n: round(args.batch / s, 2) for n, s in seconds.items()}
    sizes = {f"batch_{b}": (batches("short", b, 2), threads) for b in (4, 8, 16)}
    seconds = timed(sizes)
    real = {f"batch_{b}": sum(len(ids) for ids, _ in encoded["short"][:b]) for b in (4, 8, 16)}
    result["batch_tokens_per_second"] = {n: round(real[n] / s, 1) for n, s in seconds.items()}
    result.update(batch=args.batch, steps=args.steps, threads=threads, cores=os.cpu_count(), torch=torch.__version__,
                  load_average_before=load_before, load_average_after=[round(x, 2) for x in os.getloadavg()])
    line = json.dumps(result)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print("RESULT=" + line, flush=True)


if __name__ == "__main__":
    main()
