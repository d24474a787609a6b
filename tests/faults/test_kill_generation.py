"""SIGKILL of a data generation job mid-way, then resume: no duplicates, the requested count, no
teacher answer paid for twice (beyond the calls in flight at the kill).

The real job (``python -m skills.data.job``) generates with a teacher LLM (a loopback fake that
answers after 50 ms) and is killed once a dozen records are on disk; the rerun resumes from
``data/.partial/`` and the workspace cache. tests/synth/test_generate.py covers a polite cancel.
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
from synth.generate import generate_dataset
from synth.records import read_jsonl

ROOT = Path(__file__).resolve().parents[2]
TRAIN, EVAL, CONCURRENCY = 48, 12, 2


def responder(messages):
    prompt = messages[-1]["content"]
    label = prompt.split("category = ")[1].split(";")[0].strip() if "category = " in prompt else "groceries"
    # Distinct per request text (the prompt's sampled axes differ), stable for the same request.
    tag = abs(hash(prompt)) % 10**8
    return json.dumps({"input": f"CARD PURCHASE {tag} {label.upper()} STORE LTD", "output": label})


def wait_for_lines(path: Path, count: int, child: subprocess.Popen, log: Path, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        if child.poll() is not None:
            raise AssertionError(f"the job ended early ({child.returncode}): {log.read_text()[-3000:]}")
        time.sleep(0.02)
    raise AssertionError(f"the job wrote fewer than {count} records in {timeout_s} s")


def test_kill_generation_job_then_resume_without_duplicates(bank_session, bank_specs, tmp_path):
    from specs.yamlio import save_spec

    use_case, spec = bank_specs
    workspace = tmp_path / "ws"
    with FakeOpenAI(delay_s=0.05, responder=responder) as server:
        gen = spec.generator.model_copy(update={"kind": "teacher", "model": "openai/fake", "api_base": server.api_base,
                                                "concurrency": CONCURRENCY, "template": None})
        spec = spec.model_copy(update={"generator": gen, "train_count": TRAIN, "eval_count": EVAL})
        save_spec(bank_session / "data_generation.yaml", spec)
        partial = bank_session / "data" / ".partial" / "train.jsonl"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-fake"}
        log = open(tmp_path / "job.log", "w")
        child = subprocess.Popen([sys.executable, "-m", "skills.data.job", "--session", str(bank_session),
                                  "--events", str(tmp_path / "events.jsonl"), "--workspace", str(workspace)],
                                 cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_lines(partial, 12, child, tmp_path / "job.log")
            os.kill(child.pid, signal.SIGKILL)
            assert child.wait(timeout=30) == -signal.SIGKILL
        finally:
            if child.poll() is None:
                child.kill()
            log.close()
        before = read_jsonl(partial)
        assert 12 <= len(before) < TRAIN, "the kill must land mid-way"
        assert not (bank_session / "data" / "train.jsonl").exists()
        paid_before = server.requests

        report = generate_dataset(bank_session, use_case, spec, workspace=workspace)
    assert report["status"] == "done"
    assert report["resumed_records"] >= len(before)
    rows = read_jsonl(partial)
    indices = [row["i"] for row in rows]
    assert len(indices) == len(set(indices)) == TRAIN, "every index once, none twice"
    assert {row["i"]: row for row in rows if row["i"] in {b["i"] for b in before}} == {b["i"]: b for b in before}, \
        "records written before the kill are kept as they were"
    eval_rows = read_jsonl(bank_session / "data" / ".partial" / "eval.jsonl")
    assert sorted(row["i"] for row in eval_rows) == list(range(EVAL))
    # Requests answered before the kill are served from the cache; only the ones in flight are paid again.
    assert server.requests <= TRAIN + EVAL + CONCURRENCY, (server.requests, paid_before)
    train = read_jsonl(bank_session / "data" / "train.jsonl")
    assert len(train) == report["train_records"] > TRAIN // 2, report["dropped"]
    inputs = [row["prompt"][-1]["content"] for row in train]
    assert len(inputs) == len(set(inputs)), "no duplicate training records"
