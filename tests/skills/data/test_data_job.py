"""The data job as a subprocess: teacher generation cancelled with SIGTERM resumes without paying twice."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from specs.data_generation import DataGenerationSpec
from specs.yamlio import load_spec, save_spec
from tests.fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parents[3]


def _responder(messages):
    prompt = messages[-1]["content"]
    label = prompt.split("category = ")[1].split(";")[0].strip()
    return json.dumps({"input": f"CARD {time.monotonic_ns()} {label.upper()} SHOP", "output": label})


def test_sigterm_then_resume(tmp_path):
    session = tmp_path / "s"
    session.mkdir()
    shutil.copy(ROOT / "specs/examples/bank_transactions.use_case.yaml", session / "use_case.yaml")
    spec = load_spec(ROOT / "specs/examples/bank_transactions.data_generation.yaml", DataGenerationSpec)
    with FakeOpenAI(delay_s=0.25, responder=_responder) as server:
        gen = spec.generator.model_copy(update={"kind": "teacher", "model": "openai/fake", "api_base": server.api_base,
                                                "concurrency": 2})
        save_spec(session / "data_generation.yaml", spec.model_copy(update={"generator": gen, "train_count": 30,
                                                                             "eval_count": 4}))
        argv = [sys.executable, "-m", "skills.data.job", "--session", str(session), "--events",
                str(session / "events.jsonl"), "--no-embeddings", "--workspace", str(tmp_path / "ws")]
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        partial = session / "data" / ".partial" / "train.jsonl"
        deadline = time.time() + 120
        while time.time() < deadline and (not partial.exists() or len(partial.read_text().splitlines()) < 4):
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 3
        first = server.requests
        assert 4 <= first < 34
        events = [json.loads(line) for line in (session / "events.jsonl").read_text().splitlines()]
        assert events[-1]["type"] == "cancelled"
        again = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr[-2000:]
        # The stop abandons the requests in flight (at most the concurrency, 2); every other record is
        # requested once across both runs.
        assert 34 <= server.requests <= 34 + 2, server.requests
    rows = [json.loads(line) for line in partial.read_text().splitlines()]
    assert sorted(r["i"] for r in rows) == list(range(30))
    assert (session / "data" / "quality.json").exists()
