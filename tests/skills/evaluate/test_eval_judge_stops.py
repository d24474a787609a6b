"""A judge nobody answers, or one that answers after the timeout, stops the judging at once with a clear
message, and what was made is kept: the evaluation writes the answers and their code scores, and the
verdicts given before come from the cache when it runs again. (The reward's judge: tests/skills/train/test_reward.py.)"""

from __future__ import annotations

import json
import threading
import time

import pytest

from skills.evaluate.job import JudgeStopped, judge_or_stop
from specs.evaluation import EvaluationSpec, JudgeRubric, MetricSpec
from tests.loopback import LoopbackServer, Reply, closed_port

ANSWERS = [f"Reply number {k} to the guest." for k in range(12)]


class Emit:
    def __init__(self):
        self.events = []

    def __call__(self, kind, **fields):
        self.events.append({"type": kind, **fields})


def _rows():
    return [{"index": k, "prompt": f"Review {k}", "reference": None, "outputs": {"base": answer},
             "scores": {"base": {"length": float(len(answer))}}} for k, answer in enumerate(ANSWERS)]


def _spec():
    return EvaluationSpec(judge_model="openai/judge", metrics=[
        MetricSpec(name="warm", judge=JudgeRubric(prompt="Is this warm? {output}"))])


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")
    out = tmp_path / "session" / "evals" / "e1"
    out.mkdir(parents=True)
    return out


def test_an_unreachable_judge_stops_the_evaluation_and_keeps_the_answers(folder):
    session = folder.parents[1]
    base = f"http://127.0.0.1:{closed_port()}/v1"
    with pytest.raises(JudgeStopped, match=r"the judge is unreachable: openai/judge could not be reached at "
                                           r".*kept in evals/e1/results.jsonl"):
        judge_or_stop(_rows(), _spec(), ["base"], session, base, Emit(), folder)
    kept = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    assert [r["outputs"]["base"] for r in kept] == ANSWERS and all(r["scores"]["base"]["length"] for r in kept)


def test_a_judge_slower_than_the_timeout_stops_and_its_verdicts_are_not_paid_twice(folder, monkeypatch):
    monkeypatch.setenv("TUNESMITH_TIMEOUT", "1")
    session = folder.parents[1]
    slow, answered = threading.Event(), []

    def judge(body):
        if slow.is_set():
            time.sleep(2.5)  # the verdict comes after the client stopped waiting
        answered.append(1)
        if len(answered) == 5:
            slow.set()
        return Reply(text="Warm enough.\nSCORE: 4")

    with LoopbackServer(responder=judge) as server:
        with pytest.raises(JudgeStopped, match=r"the judge is too slow: openai/judge sent nothing for 1 s"):
            judge_or_stop(_rows(), _spec(), ["base"], session, server.api_base, Emit(), folder)
        asked = len(server.requests)
    assert asked <= 5 + 4, f"{asked} requests: judging went on after the first timeout (concurrency 4)"
    assert (folder / "results.jsonl").exists()
    with LoopbackServer(responder=lambda body: Reply(text="Warm.\nSCORE: 5")) as server:
        rows = _rows()
        usage = judge_or_stop(rows, _spec(), ["base"], session, server.api_base, Emit(), folder)
        assert usage["cache_hits"] >= 5 and len(server.requests) == len(ANSWERS) - usage["cache_hits"]
    assert all(r["scores"]["base"]["warm"] is not None for r in rows)
