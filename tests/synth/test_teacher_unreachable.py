"""A teacher nobody answers for fails generation at once with a clear message; what was made before is
kept, and a rerun resumes from it."""

from __future__ import annotations

import threading

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
