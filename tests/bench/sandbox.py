"""The sandbox's figures for the README: start-up cost per run and attacks stopped.

    python tests/bench/sandbox.py [--runs 20] [--skip-attacks]

Start-up cost: the median wall time of ``run_python`` on a function that returns at once (the whole
confined run: folder, process, rlimits, preloaded modules, user switch, Landlock, seccomp, result),
next to the median start of the same bare interpreter (``python -I -S -c pass``). Attacks: runs
tests/security/test_kernel_sandbox.py's attack matrix (every attack through check_generator, the
reward dry run and the custom scorer) and counts the cases that passed (stopped and reported).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def startup(runs: int) -> dict:
    from synth.sandbox import _interpreter, kernel_support, run_python

    support = kernel_support()
    bare, confined = [], []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([_interpreter(), "-I", "-S", "-c", "pass"], check=True)
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = run_python("def f(p):\n    return p\n", "f", 1, timeout_s=30)
        confined.append(time.perf_counter() - started)
        if not result.ok:
            raise SystemExit(f"the confined run failed: {result.error}")
    return {"confined": support.ok, "layers": list(support.applied), "missing": support.missing, "runs": runs,
            "median_run_ms": round(statistics.median(confined) * 1000, 1),
            "median_bare_interpreter_ms": round(statistics.median(bare) * 1000, 1),
            "median_added_ms": round((statistics.median(confined) - statistics.median(bare)) * 1000, 1)}


def attacks() -> dict:
    from tests.security.sandbox_attacks import ATTACKS

    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                        "tests/security/test_kernel_sandbox.py", "-k", "test_attack_is_stopped"],
                       cwd=REPO, capture_output=True, text=True)
        cases = ET.parse(report).getroot().iter("testcase")
        outcomes = [not any(child.tag in ("failure", "error", "skipped") for child in case) for case in cases]
    return {"kinds": len(ATTACKS), "tools": ["check_generator (generate)", "check_generator (verify)",
                                             "dry_run_reward", "custom_scorer"],
            "tried": len(outcomes), "stopped_and_reported": sum(outcomes)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--skip-attacks", action="store_true")
    args = parser.parse_args()
    import os

    out = {"load_average_at_start": [round(x, 1) for x in os.getloadavg()], "startup": startup(args.runs)}
    if not args.skip_attacks:
        out["attacks"] = attacks()
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
