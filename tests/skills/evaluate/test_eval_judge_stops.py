"""A judge nobody answers, or one that answers after the timeout, stops the judging at once (no request
waits its turn only to fail too), and what was made is kept: the answers and their code scores stand,
the report says why judging stopped, and the verdicts given before come from the cache when the
evaluation runs again. (The reward's judge: tests/skills/train/test_reward.py.)"""

from __future__ import annotations

import threading
import time

import pytest

from skills.evaluate.job import score_judges
from skills.evaluate.report import render_markdown
from specs.evaluation import EvaluationSpec, JudgeRubric, MetricSpec
from tests.loopback import LoopbackServer, Reply, closed_port

ANSWERS = [f"Reply number {k} to the guest." for k in range(12)]


class Emit:
    def __init__(self):
        self.events = []

    def __call__(self, kind, **fields):
        self.events.append({"type": kind, **fields})


def _rows():
    return [{"index": k, "prompt": f"Review {k}", "reference": None, "outputs": {"base": answer, "tuned": answer},
             "scores": {"base": {"length": float(len(answer))}, "tuned": {}}} for k, answer in enumerate(ANSWERS)]


def _spec():
    return EvaluationSpec(judge_model="openai/judge", metrics=[
        MetricSpec(name="warm", judge=JudgeRubric(prompt="Is this warm? {output}"))])


@pytest.fixture
def session(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")
    return tmp_path / "session"


def test_an_unreachable_judge_stops_judging_and_the_answers_stand(session):
    rows, emit = _rows(), Emit()
    usage = score_judges(rows, _spec(), ["base", "tuned"], session, f"http://127.0.0.1:{closed_port()}/v1", emit)
    assert usage["stopped"].startswith("the judge is unreachable: openai/judge could not be reached at")
    assert usage["failures"] == 2 * len(ANSWERS) and usage["calls"] == 0
    assert all(r["scores"]["base"]["warm"] is None and r["scores"]["base"]["length"] for r in rows)
    assert all(r["judge_notes"]["tuned"]["warm"].startswith("not judged: ") for r in rows), "the second batch is not tried"
    assert any(e["type"] == "warning" and "Judging stopped" in e["message"] for e in emit.events)
    text = render_markdown({"eval_id": "e1", "metrics": [], "variants": ["base"], "examples": len(rows), "judge_usage": usage})
    assert "Judging stopped: the judge is unreachable" in text and "evaluate again" in text


def test_a_judge_slower_than_the_timeout_stops_and_its_verdicts_are_not_paid_twice(session, monkeypatch):
    monkeypatch.setenv("TUNESMITH_TIMEOUT", "1")
    slow, answered = threading.Event(), []

    def judge(body):
        if slow.is_set():
            time.sleep(2.5)  # the verdict comes after the client stopped waiting
        answered.append(1)
        if len(answered) == 5:
            slow.set()
        return Reply(text="Warm enough.\nSCORE: 4")

    with LoopbackServer(responder=judge) as server:
        usage = score_judges(_rows(), _spec(), ["base"], session, server.api_base, Emit())
        asked = len(server.requests)
    assert usage["stopped"].startswith("the judge is too slow: openai/judge sent nothing for 1 s")
    assert asked <= 5 + 4, f"{asked} requests: judging went on after the first timeout (concurrency 4)"
    with LoopbackServer(responder=lambda body: Reply(text="Warm.\nSCORE: 5")) as server:
        rows = _rows()
        usage = score_judges(rows, _spec(), ["base"], session, server.api_base, Emit())
        assert usage["cache_hits"] >= 5 and len(server.requests) == len(ANSWERS) - usage["cache_hits"]
    assert "stopped" not in usage and all(r["scores"]["base"]["warm"] is not None for r in rows)
