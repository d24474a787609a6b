"""Does the forgetting guard reduce forgetting? The demo's full fine-tune with and without the general mix,
then one evaluation of both runs (task metrics and the general set, against the base model).

    python tests/bench/forgetting_guard.py WORKDIR [--steps 8] [--ratio 0.1] [--general-items 120] [--examples 40]

Makes the demo session up to its training step (`tunesmith demo --until train`, the offline data), writes
training_noguard.yaml (general_mix_ratio 0) and training_guard.yaml (the ratio given) from the plan the
training step would write, trains both with the job, and evaluates both in one evaluation job. Prints
RESULT={...} with the general-set means and differences (and their intervals) and the task metrics.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def run(argv: list[str], log: Path) -> None:
    with open(log, "w", encoding="utf-8") as handle:
        code = subprocess.run(argv, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT).returncode
    if code != 0:
        raise SystemExit(f"{' '.join(argv[:4])} exited {code}; see {log}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--ratio", type=float, default=0.1)
    parser.add_argument("--general-items", type=int, default=120)
    parser.add_argument("--examples", type=int, default=40)
    args = parser.parse_args()
    from skills.evaluate.plan import build_spec
    from skills.train.datafacts import inspect_data
    from skills.train.plan import apply_overrides, size_plan
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec, save_spec

    workspace = args.workdir.resolve() / "tunesmith"
    session = workspace / "sessions" / "forget"
    if not (session / "data" / "train.jsonl").exists():
        run([sys.executable, "-m", "assistant", "--workspace", str(workspace), "demo", "--session-name", "forget",
             "--until", "train"], args.workdir / "demo.log")
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
            run([sys.executable, "-m", "skills.train.job", "--session", str(session), "--plan", f"training_{name}.yaml",
                 "--run-id", name], session / f"{name}.log")
    eval_id = f"guard-{args.general_items}"
    run([sys.executable, "-m", "skills.evaluate.job", "--session", str(session), "--eval-id", eval_id,
         "--run-id", "noguard", "--run-id", "guard", "--no-mlflow"], session / "eval.log")
    report = json.loads((session / "evals" / eval_id / "report.json").read_text(encoding="utf-8"))
    forgetting = report["forgetting"]
    out = {"steps": args.steps, "ratio": args.ratio, "general_items": forgetting["items"],
           "general_means": forgetting["means"], "by_category": forgetting["by_category"],
           "general_change": {c["variant"]: [c["diff"], c["ci_low"], c["ci_high"]] for c in forgetting["comparisons"]},
           "findings": forgetting["findings"],
           "task": {m["key"]: m["means"] for m in report["metrics"]}, "load_average": os.getloadavg()}
    print("RESULT=" + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
