"""Short training trials on the demo's data, scored on its held-out merchants: the cheap loop behind the
demo's defaults (skills/train/references/defaults.md) and its `--train-minutes` curve.

    python tests/bench/demo_trials.py --work DIR --trials '[{"adapter": "full", "max_steps": 60}, ...]' --out FILE
    python tests/bench/demo_trials.py --work DIR --minutes 2,4,8,16 --out FILE      (the curve)

The data is the demo's own: `tunesmith demo --until train` writes it once under DIR (the bank template,
the guided planner's data_generation.yaml). Each trial is the plan tunesmith proposes for that data
(skills.train.plan.size_plan, the recommended adapter) with the trial's overrides, trained by the real
job (skills/train/job.py). `--minutes` cuts the steps as the demo does: a warm-up measures seconds per
step, then fit_budget fits the plan to each budget. Every run is then scored by greedy answers on
data/eval.jsonl (the demo's held-out merchants), asked as the run was trained (its system prompt), with
the evaluation's label_match; the interval is a 95% bootstrap over records. Also per slice: held-out
brand names (e.g. ALDI) and held-out composed names (e.g. NORTHSIDE FOODS).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
ENV = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "MLFLOW_DISABLE_TELEMETRY": "true", "HF_HUB_OFFLINE": "1",
       "TOKENIZERS_PARALLELISM": "false", "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1"}


def _env() -> dict[str, str]:
    env = {**os.environ, **ENV}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return env


def demo_data(work: Path) -> Path:
    """The demo's session up to its train step (data generated, quality gate passed)."""
    found = sorted((work / "ws" / "sessions").glob("*/data/eval.jsonl"))
    if not found:
        subprocess.run([sys.executable, "-m", "assistant", "demo", "--workspace", str(work / "ws"), "--until", "train"],
                       cwd=REPO, env=_env(), check=True, capture_output=True, text=True, timeout=1800)
        found = sorted((work / "ws" / "sessions").glob("*/data/eval.jsonl"))
    return found[-1].parents[1]


def trial_session(source: Path, folder: Path, overrides: dict) -> Path:
    """A session folder holding the demo's use case and data and the plan for this trial."""
    from skills.train.datafacts import inspect_data
    from skills.train.plan import apply_overrides, size_plan
    from skills.train.recommend import recommend
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec, save_spec

    shutil.rmtree(folder, ignore_errors=True)
    (folder / "data").mkdir(parents=True)
    shutil.copy(source / "use_case.yaml", folder / "use_case.yaml")
    for name in ("train.jsonl", "eval.jsonl"):
        shutil.copy(source / "data" / name, folder / "data" / name)
    use_case = load_spec(folder / "use_case.yaml", UseCaseSpec)
    facts = inspect_data(folder / "data" / "train.jsonl", folder / "data" / "eval.jsonl")
    adapter = overrides.get("adapter") or recommend(use_case, facts).adapter
    plan, _ = size_plan("sft", adapter, use_case.base_model, facts)
    plan = apply_overrides(plan, {**{k: v for k, v in overrides.items() if k != "adapter"}, "mlflow": False})
    save_spec(folder / "training.yaml", plan)
    return folder


def train(folder: Path, run_id: str, extra: list[str] | None = None) -> dict:
    events = folder / f"{run_id}.events.jsonl"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "skills.train.job", "--session", str(folder), "--run-id", run_id,
                    "--events", str(events), *(extra or [])], cwd=REPO, env=_env(), check=True,
                   capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - started
    rows = [json.loads(l) for l in events.read_text().splitlines() if l.strip()]
    progress = [r for r in rows if r["type"] == "progress"]
    estimate = next((r for r in rows if r["type"] == "estimate"), None)
    return {"wall_seconds": round(wall, 1), "steps": progress[-1]["step"] if progress else 0,
            "seconds_per_step": progress[-1].get("seconds_per_step") if progress else None,
            "tokens_per_second": progress[-1].get("tokens_per_second") if progress else None,
            "loss_first": progress[0].get("loss") if progress else None,
            "loss_last": progress[-1].get("loss") if progress else None, "estimate": estimate}


def brand_names() -> set[str]:
    from synth.templates.classification import VOCAB

    return {m for entry in VOCAB.values() for m in entry["merchants"]}


def score(folder: Path, run_id: str | None) -> dict:
    """label_match of greedy answers on data/eval.jsonl, overall and per slice, with bootstrap intervals."""
    from skills.evaluate import generation
    from skills.evaluate.metrics import label_match
    from skills.common.prompt import run_system_prompt
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec

    use_case = load_spec(folder / "use_case.yaml", UseCaseSpec)
    rows = [json.loads(l) for l in (folder / "data" / "eval.jsonl").read_text().splitlines() if l.strip()]
    contract = use_case.contract.system_prompt
    system = run_system_prompt(folder / "runs" / run_id, contract) if run_id else contract
    conversations = [[{"role": "system", "content": system}] if system else [] for _ in rows]
    for conv, row in zip(conversations, rows):
        conv.extend(m for m in row["prompt"] if m["role"] != "system")
    run = generation.run_model_dir(folder, run_id) if run_id else None
    model, tokenizer = generation.load(use_case.base_model, run=run)
    answers = generation.generate_all(model, tokenizer, conversations, batch_size=16, max_new_tokens=8)
    hits = [label_match(a, r["completion"][0]["content"], {}) or 0.0 for a, r in zip(answers, rows)]
    brands = brand_names()
    named = [h for h, r in zip(hits, rows) if r["meta"].get("merchant") in brands]
    composed = [h for h, r in zip(hits, rows) if r["meta"].get("merchant") not in brands]
    return {"correct_label": interval(hits), "brand_names": interval(named), "composed_names": interval(composed),
            "system_prompt": system, "sample": [{"input": r["prompt"][-1]["content"], "answer": a}
                                                 for a, r in list(zip(answers, rows))[:5]]}


def interval(hits: list[float], samples: int = 2000) -> dict:
    if not hits:
        return {"mean": None, "n": 0}
    rng = random.Random(0)
    means = sorted(sum(rng.choice(hits) for _ in hits) / len(hits) for _ in range(samples))
    return {"mean": round(sum(hits) / len(hits), 3), "low": round(means[int(0.025 * samples)], 3),
            "high": round(means[int(0.975 * samples)], 3), "n": len(hits)}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--trials", default=None, help="JSON list of plan overrides, one trial each")
    parser.add_argument("--minutes", default=None, help="comma-separated training budgets (the demo's curve)")
    parser.add_argument("--base", action="store_true", help="also score the base model")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    import platform

    source = demo_data(args.work)
    out: dict = {"data": str(source), "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                 "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "trials": []}
    if args.base:
        out["base"] = score(trial_session(source, args.work / "base", {}), None)
    trials = [dict(t) for t in json.loads(args.trials)] if args.trials else []
    if args.minutes:
        from skills.train.plan import fit_budget
        from specs.training import TimeEstimate, TrainingPlan
        from specs.yamlio import load_spec, save_spec

        folder = trial_session(source, args.work / "warmup", {})
        warm = train(folder, "warmup", ["--warmup", "--max-steps", "4"])
        sps = warm["estimate"]["seconds_per_step"]
        out["warmup"] = warm
        for minutes in (float(m) for m in args.minutes.split(",")):
            folder = trial_session(source, args.work / f"min-{minutes:g}", {})
            plan = load_spec(folder / "training.yaml", TrainingPlan)
            plan.estimate = TimeEstimate(seconds_per_step=sps, total_seconds=sps * plan.hyperparameters.max_steps)
            fit_budget(plan, minutes)
            save_spec(folder / "training.yaml", plan)
            trials.append({"train_minutes": minutes, "max_steps": plan.hyperparameters.max_steps, "_folder": str(folder)})
    for k, trial in enumerate(trials):
        folder = Path(trial.pop("_folder")) if "_folder" in trial else \
            trial_session(source, args.work / f"trial-{k}", {key: v for key, v in trial.items() if key != "train_minutes"})
        load = load_average()
        result = {"overrides": trial, "load_average_before": load, "train": train(folder, "run")}
        result["eval"] = score(folder, "run")
        result["load_average_after"] = load_average()
        out["trials"].append(result)
        print(json.dumps({"overrides": trial, "steps": result["train"]["steps"], "wall": result["train"]["wall_seconds"],
                          "correct_label": result["eval"]["correct_label"], "brand": result["eval"]["brand_names"]["mean"],
                          "composed": result["eval"]["composed_names"]["mean"]}), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    out["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
