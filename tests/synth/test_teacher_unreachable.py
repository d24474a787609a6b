"""A teacher nobody answers for, or one that answers after the timeout, fails generation at once with a
clear message; what was made before is kept, and a rerun resumes from it. (The judge: the evaluation
and the reward, tests/skills/evaluate/test_eval_judge_stops.py.)"""

from __future__ import annotations

import threading
import time

import pytest

from synth.generate import GenerationError, generate_dataset
from synth.records import read_jsonl
from tests.bench.data_engine import teacher_reply
from tests.loopback import LoopbackServer, Reply, closed_port


def test_an_unreachable_teacher_stops_generation_and_keeps_the_records(bank_session, bank_specs, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")
    use_case, spec = bank_specs
    stop, answered = threading.Event(), []

    def teacher(body):
        answered.append(1)
        if len(answered) == 5:
            stop.set()  # the person stops the first run after a few records
        return Reply(text=teacher_reply(body["messages"]))

    gen = spec.generator.model_copy(update={"kind": "teacher", "model": "openai/teacher", "concurrency": 1, "max_retries": 1})
    spec = spec.model_copy(update={"train_count": 20, "eval_count": 4})
    with LoopbackServer(responder=teacher) as server:
        first = spec.model_copy(update={"generator": gen.model_copy(update={"api_base": server.api_base})})
        generate_dataset(bank_session, use_case, first, cancel=stop)
    made = read_jsonl(bank_session / "data" / ".partial" / "train.jsonl")
    assert 1 <= len(made) < 20

    gone = spec.model_copy(update={"generator": gen.model_copy(update={"api_base": f"http://127.0.0.1:{closed_port()}/v1"})})
    with pytest.raises(GenerationError, match=r"teacher is unreachable: openai/teacher could not be reached at "
                                              r"http://127.0.0.1:\d+/v1 after 2 attempts.*records already made are kept"):
        generate_dataset(bank_session, use_case, gone)
    assert read_jsonl(bank_session / "data" / ".partial" / "train.jsonl")[:len(made)] == made, "nothing made was lost"
    assert not (bank_session / "data" / "train.jsonl").exists()


def test_a_teacher_that_answers_after_the_timeout_stops_the_batch_and_keeps_the_records(bank_session, bank_specs,
                                                                                          monkeypatch):
    """The first answers come in time, then the server takes longer than the timeout: the batch stops at
    the first timeout (no request waits its turn only to time out too), with a message that says so, and
    a rerun against a prompt server asks only for what was not made."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")
    monkeypatch.setenv("TUNESMITH_TIMEOUT", "1")
    use_case, spec = bank_specs
    slow = threading.Event()

    def teacher(body):
        if slow.is_set():
            time.sleep(2.5)  # the answer comes, but after the client stopped waiting
        elif len(answered) == 4:
            slow.set()
        answered.append(1)
        return Reply(text=teacher_reply(body["messages"]))

    answered: list[int] = []
    gen = spec.generator.model_copy(update={"kind": "teacher", "model": "openai/teacher", "concurrency": 2,
                                            "timeout_s": 1, "max_retries": 2})
    spec = spec.model_copy(update={"train_count": 20, "eval_count": 4})
    with LoopbackServer(responder=teacher) as server:
        late = spec.model_copy(update={"generator": gen.model_copy(update={"api_base": server.api_base})})
        with pytest.raises(GenerationError, match=r"the teacher is too slow: openai/teacher sent nothing for 1 s .*"
                                                  r"--timeout.*records already made are kept"):
            generate_dataset(bank_session, use_case, late)
        asked = len(server.requests)
    made = [row for split in ("train", "eval") for row in read_jsonl(bank_session / "data" / ".partial" / f"{split}.jsonl")]
    assert len(made) >= 4 and all("record" in row for row in made), "the answers that came in time are kept"
    assert asked <= 5 + gen.concurrency, f"{asked} requests: the batch went on after the first timeout"
    slow.clear()
    answered.clear()
    with LoopbackServer(responder=lambda body: Reply(text=teacher_reply(body["messages"]))) as server:
        again = spec.model_copy(update={"generator": gen.model_copy(update={"api_base": server.api_base})})
        report = generate_dataset(bank_session, use_case, again)
        assert report["status"] == "done"
        assert len(server.requests) == 24 - len(made), "only what was not made is asked again"
