"""Sample the base model's answers to training prompts (for the reward dry run).

    python -m skills.train.sample --session DIR --plan training.yaml --n 16 --out runs/dryrun/samples.jsonl --events PATH

Writes one JSONL line per prompt: {"prompt": [messages], "reference": str|None, "completion": str}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from skills.common.events import ProgressEvents


def reference_of(row: dict) -> str | None:
    for key in ("reference", "completion", "chosen"):
        value = row.get(key)
        if isinstance(value, list):
            return "".join(str(m.get("content", "")) for m in value if isinstance(m, dict))
        if value is not None:
            return str(value)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m skills.train.sample")
    parser.add_argument("--session", required=True)
    parser.add_argument("--plan", default="training.yaml")
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--out", required=True, help="output JSONL, relative to the session folder")
    parser.add_argument("--events", default=os.environ.get("TUNESMITH_EVENTS"))
    args = parser.parse_args(argv)
    session = Path(args.session).resolve()

    emit = ProgressEvents(args.events, echo=False)

    import torch

    torch.set_num_threads(int(os.environ.get("TUNESMITH_THREADS", os.cpu_count() or 1)))
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from skills.common.basemodel import resolve_model_path
    from skills.train.general import generate
    from specs.training import TrainingPlan
    from specs.yamlio import load_spec

    plan = load_spec(session / args.plan, TrainingPlan)
    rows = [json.loads(l) for l in (session / plan.data.train_path).read_text(encoding="utf-8").splitlines() if l.strip()]
    step = max(1, len(rows) // args.n)
    picked = rows[::step][: args.n]
    path = resolve_model_path(plan.base_model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    emit("progress", done=0, total=len(picked), message="sampling the base model")
    prompts = [r["prompt"] if isinstance(r["prompt"], list) else [{"role": "user", "content": str(r["prompt"])}] for r in picked]
    answers = generate(model, tokenizer, prompts, max_new_tokens=plan.hyperparameters.max_completion_length)
    out = session / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps({"prompt": p, "reference": reference_of(r), "completion": a}, ensure_ascii=False) + "\n"
                           for p, r, a in zip(prompts, picked, answers)), encoding="utf-8")
    emit("done", samples=len(answers), path=str(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
