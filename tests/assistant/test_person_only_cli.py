"""Person-only decisions through the real `tunesmith run`: a planner (a scripted LLM behind the
loopback server) that tries to waive a PII finding or record ratings is stopped with exit 3 under
--yes and under a policy file's allow; the finding is named and nothing is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from assistant.session import Workspace
from specs.quality import Finding, QualityReport
from tests.loopback import LoopbackServer, Reply, ToolCallSpec

ROOT = Path(__file__).resolve().parents[2]
PII = "pii_in_outputs"


def tunesmith(workspace: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-loopback-not-a-real-key"}
    for name in ("TUNESMITH_YES", "TUNESMITH_POLICY_FILE", "TUNESMITH_MODEL"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "assistant.cli", "--workspace", str(workspace), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def _session_with_pii(tmp_path: Path) -> Path:
    session = Workspace(tmp_path / "ws").create("pii")
    session.meta.phase = "data"
    session.save_meta()
    report = QualityReport(train_records=60, eval_records=10, findings=[
        Finding(code=PII, severity="high", message="3 outputs contain an email address", rows=[1, 4, 9])])
    (session.dir / "data").mkdir()
    (session.dir / "data" / "quality.json").write_text(report.model_dump_json(indent=2))
    session.close()
    return session.dir


def _waive_attempt() -> list[Reply]:
    return [Reply(text="Waiving it.", tool_calls=[ToolCallSpec("waive_findings", {"codes": [PII], "comment": "fine"})]),
            Reply(text="Done.")] * 2


def test_yes_does_not_waive_a_pii_finding_and_the_run_stops_with_exit_3(tmp_path):
    folder = _session_with_pii(tmp_path)
    with LoopbackServer(_waive_attempt()) as server:
        out = tunesmith(tmp_path / "ws", "run", "pii", "--until", "train", "--yes",
                        "--model", "openai/loopback", "--api-base", server.api_base)
    assert out.returncode == 3, out.stdout + out.stderr
    assert "needs the person: waive_findings" in out.stdout and f"{PII}: 3 outputs contain an email address" in out.stdout
    assert "Traceback" not in out.stderr
    report = json.loads((folder / "data" / "quality.json").read_text())
    assert report["findings"][0]["waived"] is False
    decisions = [json.loads(line) for line in (folder / "conversation.jsonl").read_text().splitlines()]
    assert [d["by"] for d in decisions if d["type"] == "decision"] == ["person-only"]


def test_a_policy_file_cannot_waive_either(tmp_path):
    folder = _session_with_pii(tmp_path)
    allow_all = tmp_path / "allow_all.yaml"
    allow_all.write_text("default: allow\n")
    with LoopbackServer(_waive_attempt()) as server:
        out = tunesmith(tmp_path / "ws", "run", "pii", "--until", "train", "--policy-file", str(allow_all),
                        "--model", "openai/loopback", "--api-base", server.api_base)
    assert out.returncode == 3, out.stdout + out.stderr
    assert "needs the person: waive_findings" in out.stdout and PII in out.stdout
    assert json.loads((folder / "data" / "quality.json").read_text())["findings"][0]["waived"] is False

    naming = tmp_path / "naming.yaml"
    naming.write_text("default: ask\ntools:\n  waive_findings: allow\n")
    refused = tunesmith(tmp_path / "ws", "run", "pii", "--policy-file", str(naming))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "tools.waive_findings: allow is refused: only the person can allow waive_findings" in refused.stdout
    assert "Traceback" not in refused.stderr


def test_yes_does_not_record_ratings_as_the_persons(tmp_path):
    session = Workspace(tmp_path / "ws").create("rate")
    session.meta.phase = "evaluate"
    session.save_meta()
    session.close()
    ratings = [{"index": 0, "variant": "base", "metric": "tone", "score": 1.0}]
    script = [Reply(tool_calls=[ToolCallSpec("rate_answers", {"ratings": ratings})]), Reply(text="Stored.")]
    with LoopbackServer(script) as server:
        out = tunesmith(tmp_path / "ws", "run", "rate", "--until", "export", "--yes",
                        "--model", "openai/loopback", "--api-base", server.api_base)
    assert out.returncode == 3, out.stdout + out.stderr
    assert "needs the person: rate_answers" in out.stdout and "example 0 base tone: 1.0" in out.stdout
    assert not list(session.dir.rglob("ratings.jsonl"))
