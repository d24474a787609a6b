"""Does the forgetting guard reduce forgetting? The demo's full fine-tune with and without the general mix,
then one evaluation of both runs (task metrics and the general set, against the base model).

    python tests/bench/forgetting_guard.py WORKDIR [--steps 8] [--ratio 0.1] [--general-items 120] [--examples 40]
                                               [--out FILE.json]

Makes the demo session up to its training step (`tunesmith demo --until train`, the offline data), writes
training_noguard.yaml (general_mix_ratio 0) and training_guard.yaml (the ratio given) from the plan the
training step would write, trains both with the job, and evaluates both in one evaluation job. Prints
RESULT={...} (and writes it to --out) with the general-set means, each run's change against the base model,
the guard's paired change against the run without it (overall and per kind, each with its 95% bootstrap
interval), the task metrics, wall times and load averages.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def run(argv: list[str], log: Path) -> float:
    """Run a step, its output in ``log``; return its wall seconds."""
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as handle:
        code = subprocess.run(argv, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT).returncode
    if code != 0:
        raise SystemExit(f"{' '.join(argv[:4])} exited {code}; see {log}")
    return round(time.perf_counter() - started, 1)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def guard_vs_noguard(rows: list[dict], samples: int) -> dict:
    """The guard's run against the run without it on the same general-set items: paired change with its
    95% bootstrap interval, overall and per kind."""
    from skills.evaluate.report import compare

    def one(subset: list[dict]) -> dict:
        c = compare(subset, "general", "run:guard", against="run:noguard", samples=samples, top_k=0)
        return {k: c[k] for k in ("n", "mean_before", "mean_after", "diff", "ci_low", "ci_high", "win", "tie", "loss")}

    categories = sorted({r["category"] for r in rows})
    return {"all": one(rows), **{c: one([r for r in rows if r["category"] == c]) for c in categories}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--ratio", type=float, default=0.1)
    parser.add_argument("--general-items", type=int, default=120)
    parser.add_argument("--examples", type=int, default=40)
    parser.add_argument("--out", type=Path, default=None, help="also write the result here as JSON")
    args = parser.parse_args()
    started, load_before, walls = datetime.now(timezone.utc).isoformat(timespec="seconds"), load(), {}
    from skills.evaluate.plan import build_spec
    from skills.train.datafacts import inspect_data
    from skills.train.plan import apply_overrides, size_plan
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec, save_spec

    workspace = args.workdir.resolve() / "tunesmith"
    session = workspace / "sessions" / "forget"
    if not (session / "data" / "train.jsonl").exists():
        walls["demo_until_train"] = run([sys.executable, "-m", "assistant", "--workspace", str(workspace), "demo",
                                         "--session-name", "forget", "--until", "train"], args.workdir / "demo.log")
    use_case = load_spec(session / "use_case.yaml", UseCaseSpec)
    plan, _ = size_plan("sft", "full", use_case.base_model, inspect_data(session / "data/train.jsonl"))
    plan = apply_overrides(plan, {"max_steps": args.steps, "save_steps": args.steps, "mlflow": False})
    for name, ratio in (("noguard", 0.0), ("guard", args.ratio)):
        save_spec(session / f"training_{name}.yaml", apply_overrides(plan, {"general_mix_ratio": ratio}))
    spec = build_spec(use_case, include_prompt_baseline=False, max_examples=args.examples)
    spec.general_items, spec.status = args.general_items, "approved"
    save_spec(session / "evaluation.yaml", spec)
    for name in ("noguard", "guard"):
        if not (session / "runs" / name / "final").exists():
            walls[f"train_{name}"] = run([sys.executable, "-m", "skills.train.job", "--session", str(session),
                                          "--plan", f"training_{name}.yaml", "--run-id", name], session / f"{name}.log")
    for name in ("noguard", "guard"):  # a run trained by an earlier invocation keeps its own wall time
        state = json.loads((session / "runs" / name / "run.json").read_text(encoding="utf-8"))
        walls.setdefault(f"train_{name}", round(state["ended"] - state["started"], 1))
    eval_id = f"guard-{args.general_items}"
    reused = (session / "evals" / eval_id / "outputs").is_dir()
    walls["evaluate"] = run([sys.executable, "-m", "skills.evaluate.job", "--session", str(session), "--eval-id", eval_id,
                             "--run-id", "noguard", "--run-id", "guard", "--no-mlflow"], session / "eval.log")
    folder = session / "evals" / eval_id
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    general_rows = [json.loads(line) for line in (folder / "general.jsonl").read_text(encoding="utf-8").splitlines() if line]
    forgetting = report["forgetting"]
    out = {"started": started, "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
           "command": " ".join(["python", "tests/bench/forgetting_guard.py", "WORKDIR", *sys.argv[2:]]),
           "steps": args.steps, "batch_size": plan.hyperparameters.batch_size, "ratio": args.ratio,
           "general_items": forgetting["items"], "general_means": forgetting["means"], "by_category": forgetting["by_category"],
           "general_change": {c["variant"]: [c["diff"], c["ci_low"], c["ci_high"]] for c in forgetting["comparisons"]},
           "general_change_by_category": {c["variant"]: c["categories"] for c in forgetting["comparisons"]},
           "guard_vs_noguard": guard_vs_noguard(general_rows, spec.bootstrap_samples),
           "findings": forgetting["findings"],
           "task": {m["key"]: {"means": m["means"], "changes": {c["variant"]: [c["diff"], c["ci_low"], c["ci_high"]]
                                                                for c in m.get("comparisons", [])}}
                    for m in report["metrics"]},
           "task_examples": args.examples, "wall_seconds": walls, "evaluation_reused_answers": reused, "load_average_before": load_before,
           "load_average_after": load()}
    if args.out:
        args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print("RESULT=" + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
