"""A real `run_sweep` on a use-case-suite family's session: the train step's tool through the engine's job
runner (skills/train/sweep_job.py, one job), then sweep.json copied with the load average and the date.

    python tests/bench/suite_sweep.py --session WS/sessions/NAME --grid '{"adapter": ["full", "lora"], ...}' --out FILE
    python tests/bench/suite_sweep.py --intervals FILE    (adds each trial's 95% Wilson interval of its score)

The session is the family's headless run as tests/suite/test_use_case_suite.py builds it
(`tunesmith run --describe TEXT --data tests/suite/data/FILE --until evaluate --policy-file P`, which ends
with training.yaml written). Results: skills/train/references/defaults.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def wilson(share: float, n: int, z: float = 1.96) -> list[float]:
    """95% Wilson interval of a share of ``n`` records each scored 0 or 1 (label_match, numeric_tolerance)."""
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(max(0.0, centre - half), 3), round(min(1.0, centre + half), 3)]


def add_intervals(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    n = data["sweep"]["eval_records"]
    for trial in data["sweep"]["trials"]:
        if trial.get("score") is not None:
            trial["score_interval_95"] = wilson(trial["score"], n)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--session")
    parser.add_argument("--grid", help="run_sweep's arguments as JSON")
    parser.add_argument("--out")
    parser.add_argument("--intervals", help="a file this script wrote: add the intervals")
    args = parser.parse_args()
    if args.intervals:
        add_intervals(Path(args.intervals))
        return 0

    from assistant.jobs import JobRunner
    from skills.toolkit import ToolContext
    from skills.train import tools

    session = Path(args.session).resolve()
    ctx = ToolContext(session_dir=session, jobs=JobRunner(session))
    grid = json.loads(args.grid)
    started, load_before = time.time(), os.getloadavg()
    result = tools.run_sweep.run(ctx, tools.run_sweep.validate(grid))
    print(result.content)
    swept = json.loads((session / "sweep.json").read_text(encoding="utf-8"))
    out = {"family": session.name, "session": str(session), "grid": grid, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
           "wall_seconds": round(time.time() - started, 1), "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
           "machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "threads": os.environ.get("TUNESMITH_THREADS", "auto"),
           "train_records": sum(1 for _ in open(session / "data/train.jsonl", encoding="utf-8")),
           "eval_records": sum(1 for _ in open(session / "data/eval.jsonl", encoding="utf-8")),
           "tool_result": result.content, "sweep": swept}
    Path(args.out).write_text(json.dumps(out, indent=2, default=str) + "\n", encoding="utf-8")
    return 1 if result.is_error else 0


if __name__ == "__main__":
    sys.exit(main())
