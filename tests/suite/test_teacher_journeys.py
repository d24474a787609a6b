"""Headless journeys from a description with a teacher configured: `tunesmith run --describe TEXT --data FILE
--teacher-model openai/teacher --api-base URL --until evaluate --policy-file P`, the teacher being a small
model played behind the loopback OpenAI-compatible server (tests/teacher_llm.py: records from what each
request asks, with the mistakes small models make). The FAQ bot, which offline stops and says it needs
examples or a teacher, gets records grounded in the document and reaches the training plan; so do bug
summaries, whose offline run blocks at the gate, with the person's reports topped up by the teacher."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAI
from tests.suite.test_use_case_suite import DATA, POLICY, ROOT, read_jsonl, user_input
from tests.teacher_llm import SmallTeacher

pytestmark = pytest.mark.slow  # a few minutes each: hundreds of teacher requests through the data job

FAQ_BOT = "A bot that answers customer questions using only our FAQ document, for our support team."
BUG_SUMMARIES = "Summarize bug reports in two lines for our engineers. We have past reports with summaries."


def journey(tmp_path: Path, description: str, data: str) -> tuple[subprocess.CompletedProcess, Path, SmallTeacher]:
    (tmp_path / "policy.yaml").write_text(POLICY)
    teacher = SmallTeacher()
    with FakeOpenAI(delay_s=0.0, responder=teacher) as server:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNESMITH_QUALITY_EMBEDDINGS": "0",
               "OPENAI_API_KEY": "sk-test-loopback"}
        env.pop("TUNESMITH_YES", None)
        argv = [sys.executable, "-m", "assistant.cli", "--workspace", str(tmp_path / "ws"), "--teacher-model",
                "openai/teacher", "--api-base", server.api_base, "run", "--describe", description, "--data",
                str(DATA / data), "--until", "evaluate", "--policy-file", str(tmp_path / "policy.yaml"),
                "--session-name", "journey"]
        run = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=2400)
    return run, tmp_path / "ws" / "sessions" / "journey", teacher


def reaches_the_plan(run: subprocess.CompletedProcess, session: Path, teacher: SmallTeacher) -> dict:
    out = run.stdout + run.stderr
    assert "Traceback" not in out, out[-3000:]
    assert run.returncode == 3 and "needs approval: measure_training_speed" in out, out[-3000:]
    assert "technique: sft" in (session / "training.yaml").read_text()
    quality = json.loads((session / "data" / "quality.json").read_text())
    assert not [f for f in quality["findings"] if f["severity"] == "high" and not f.get("waived")], quality["findings"]
    report = json.loads((session / "data" / "generation.json").read_text())
    assert report["generator"] == "teacher" and report["usage"]["calls"] >= 200
    assert any(k.startswith("teacher reply") for k in report["dropped"]) and report["repaired"], report
    assert "Dropped: " in out and "Teacher replies repaired and kept:" in out, "the run says what it dropped and why"
    assert sum(teacher.mistakes.values()) > 0
    train, evals = read_jsonl(session / "data" / "train.jsonl"), read_jsonl(session / "data" / "eval.jsonl")
    assert evals and not {user_input(r) for r in train} & {user_input(r) for r in evals}
    return quality


def test_the_faq_bot_gets_grounded_records_from_its_document_and_reaches_the_plan(tmp_path):
    run, session, teacher = journey(tmp_path, FAQ_BOT, "faq.md")
    quality = reaches_the_plan(run, session, teacher)
    assert "documents/faq.md" in (session / "data_generation.yaml").read_text()
    faq = (DATA / "faq.md").read_text()
    rows = read_jsonl(session / "data" / "train.jsonl") + read_jsonl(session / "data" / "eval.jsonl")
    answers = [r["completion"][0]["content"] for r in rows]
    assert len(answers) >= 100 and all(answer in faq for answer in answers), "every answer is a line of the FAQ"
    assert len(set(answers)) >= 8, "the answers cover the document, not one line of it"
    assert quality["metrics"]["sources"]["train"] == {"teacher": len(read_jsonl(session / "data" / "train.jsonl"))}


def test_bug_summaries_top_up_the_persons_reports_with_the_teacher(tmp_path):
    run, session, teacher = journey(tmp_path, BUG_SUMMARIES, "bug_reports.jsonl")
    quality = reaches_the_plan(run, session, teacher)
    sources = quality["metrics"]["sources"]["train"]
    assert sources.get("person") and sources.get("teacher", 0) >= 100, sources
    limit = 300  # the two-line summaries fit the contract's size
    assert all(len(r["completion"][0]["content"]) <= limit for r in read_jsonl(session / "data" / "train.jsonl"))
