"""`tunesmith demo` and `tunesmith run` end to end in subprocesses: plain progress, approvals from --yes or a
policy file, and exit codes (0 goal reached, 2 bad usage, 3 an approval was needed)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tunesmith(workspace, *args):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNESMITH_QUALITY_EMBEDDINGS": "0"}
    env.pop("TUNESMITH_YES", None)
    return subprocess.run([sys.executable, "-m", "assistant.cli", "--workspace", str(workspace), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_demo_then_headless_replay_with_and_without_approvals(tmp_path):
    ws = tmp_path / "ws"
    demo = tunesmith(ws, "demo", "--until", "data")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "-> write_use_case" in demo.stdout and "allow_once by --yes" in demo.stdout
    session = ws / "sessions" / "demo-bank-transactions-1"
    assert "status: approved" in (session / "use_case.yaml").read_text()
    assert json.loads((session / "session.json").read_text())["phase"] == "data"

    refused = tunesmith(ws, "run", "demo-bank-transactions-1", "--until", "train")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "needs approval" in refused.stdout and "--yes" in refused.stdout
    decisions = [json.loads(line) for line in (session / "conversation.jsonl").read_text().splitlines()]
    assert any(r.get("type") == "decision" and r["by"] == "no-approver" and r["decision"] == "reject_once" for r in decisions)
    assert not (session / "data" / "train.jsonl").exists(), "nothing ran without an approval"

    policy = tmp_path / "policy.yaml"
    policy.write_text("default: allow\ntools:\n  start_training: reject\n")
    done = tunesmith(ws, "run", "demo-bank-transactions-1", "--until", "train", "--policy-file", str(policy))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (session / "data" / "train.jsonl").exists() and (session / "data" / "quality.json").exists()
    assert json.loads((session / "session.json").read_text())["phase"] == "train"


def test_run_reports_bad_usage_without_a_traceback(tmp_path):
    ws = tmp_path / "ws"
    missing = tunesmith(ws, "run", "nope")
    assert missing.returncode == 2 and "no session named 'nope'" in missing.stdout and "Traceback" not in missing.stderr
    assert tunesmith(ws, "demo", "--until", "use_case").returncode == 0
    bad_policy = tmp_path / "policy.yaml"
    bad_policy.write_text("defaults: allow\n")
    broken = tunesmith(ws, "run", "demo-bank-transactions-1", "--policy-file", str(bad_policy))
    assert broken.returncode == 2 and "policy.yaml" in broken.stdout and "Traceback" not in broken.stderr
    unknown = tunesmith(ws, "run", "demo-bank-transactions-1", "--from", "dance")
    assert unknown.returncode == 2 and "unknown step 'dance'" in unknown.stdout
