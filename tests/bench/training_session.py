"""A prepared session folder for training benchmarks and fault tests: the bank use case, generated
classification records as TRL prompt/completion rows, and a training.yaml.

    from tests.bench.training_session import make_training_session
    session = make_training_session(tmp / "s", n_train=64, max_steps=4, save_steps=2)

Also a command line, used by tests/bench/run.py:  python -m tests.bench.training_session DIR [--packing] ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LABELS = ["groceries", "dining", "transport", "utilities", "housing", "healthcare"]
SYSTEM = ("Categorize the bank transaction. Answer with one word: groceries, dining, transport, utilities, "
          "housing or healthcare.")


def make_training_session(folder: Path, *, n_train: int = 64, n_eval: int = 8, max_steps: int = 4, save_steps: int = 2,
                          batch_size: int = 4, max_length: int = 128, packing: bool = False, adapter: str = "lora",
                          learning_rate: float = 3e-4, seed: int = 0) -> Path:
    """Write use_case.yaml, data/train.jsonl, data/eval.jsonl and training.yaml under ``folder``."""
    from specs.training import Compute, DataMix, Hyperparameters, TrainingPlan
    from specs.use_case import UseCaseSpec
    from specs.yamlio import loads_spec, save_spec
    from synth.records import to_training_row
    from synth.templates import classification

    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    text = (REPO / "specs/examples/bank_transactions.use_case.yaml").read_text(encoding="utf-8")
    spec = loads_spec(text, UseCaseSpec)
    pattern = "^(" + "|".join(LABELS) + ")$"
    tenets = [t.model_copy(update={"params": {"pattern": pattern}}) if t.metric == "regex" else t
              for t in spec.success_tenets]
    contract = spec.contract.model_copy(update={"labels": list(LABELS), "system_prompt": SYSTEM})
    save_spec(folder / "use_case.yaml", spec.model_copy(update={"success_tenets": tenets, "contract": contract}))
    for split, count, data_seed in (("train", n_train, 1), ("eval", n_eval, 2)):
        rows = classification.generate({"labels": list(LABELS), "n": count, "seed": data_seed, "split": split})
        lines = [json.dumps(to_training_row(r, "sft", SYSTEM)) + "\n" for r in rows]
        (folder / "data" / f"{split}.jsonl").write_text("".join(lines), encoding="utf-8")
    hp = Hyperparameters(learning_rate=learning_rate, max_steps=max_steps, batch_size=batch_size, max_length=max_length,
                         packing=packing, save_steps=save_steps, logging_steps=1, seed=seed, warmup_ratio=0.0)
    plan = TrainingPlan(technique="sft", adapter=adapter, hyperparameters=hp, compute=Compute(device="cpu"),
                        data=DataMix(), mlflow=False)
    save_spec(folder / "training.yaml", plan)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a prepared training session folder.")
    parser.add_argument("folder")
    parser.add_argument("--n-train", type=int, default=64)
    parser.add_argument("--max-steps", type=int, default=4)
    parser.add_argument("--save-steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--packing", action="store_true")
    parser.add_argument("--adapter", default="lora")
    args = parser.parse_args()
    make_training_session(Path(args.folder), n_train=args.n_train, max_steps=args.max_steps, save_steps=args.save_steps,
                          batch_size=args.batch_size, max_length=args.max_length, packing=args.packing,
                          adapter=args.adapter)


if __name__ == "__main__":
    main()
