"""SIGTERM to a data generation job while its teacher is still thinking: the job stops at once,
says it was cancelled and keeps what it made, instead of waiting for the answer in flight.

A small local teacher takes tens of seconds a record; the loopback teacher here holds every answer
for 120 s, so a job that waited for its request could not end before the test gives up on it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]
HOLD_S = 120.0


def test_sigterm_during_a_teacher_request_stops_the_job(bank_session, bank_specs, tmp_path):
    from specs.yamlio import save_spec

    _, spec = bank_specs
    with FakeOpenAI(delay_s=HOLD_S) as server:
        gen = spec.generator.model_copy(update={"kind": "teacher", "model": "openai/slow-local", "api_base": server.api_base,
                                                "concurrency": 2, "template": None})
        save_spec(bank_session / "data_generation.yaml",
                  spec.model_copy(update={"generator": gen, "train_count": 8, "eval_count": 2}))
        events = tmp_path / "events.jsonl"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-fake", "TUNESMITH_TIMEOUT": str(HOLD_S * 2)}
        with open(tmp_path / "job.log", "w") as log:
            child = subprocess.Popen([sys.executable, "-m", "skills.data.job", "--session", str(bank_session),
                                      "--events", str(events), "--workspace", str(tmp_path / "ws")],
                                     cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 90
                while server.requests < 1 and child.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert server.requests >= 1 and child.poll() is None, (tmp_path / "job.log").read_text()[-2000:]
                os.kill(child.pid, signal.SIGTERM)
                # Well inside the teacher's hold: the job did not wait for the answer in flight.
                code = child.wait(timeout=HOLD_S / 2)
            finally:
                if child.poll() is None:
                    child.kill()
    assert code == 3, (tmp_path / "job.log").read_text()[-2000:]
    kinds = [json.loads(line)["type"] for line in events.read_text().splitlines() if line.strip()]
    assert kinds[-1] == "cancelled", kinds
    assert not (bank_session / "data" / "train.jsonl").exists(), "a cancelled job writes no final split"
