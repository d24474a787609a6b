"""Cancelling data generation: inline (offline or programmatic) in the tool call, and the background
teacher job through wait_for_data_generation; both keep what was made and resume without duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.jobs import JobRunner
from skills.data import tools as data_tools
from skills.toolkit import ToolContext
from skills.settings import ToolSettings
from specs.yamlio import save_spec
from tests.fake_openai import FakeOpenAI
from synth.records import read_jsonl

SETTINGS = ToolSettings(quality_embeddings=False)


def _cancel_after(ctx: ToolContext, done: int, events: list[dict]) -> None:
    """Make ctx.emit record events and set ctx.cancel once `done` records are reported."""

    def emit(event: dict) -> None:
        events.append(event)
        if event.get("type") == "progress" and (event.get("done") or 0) >= done:
            ctx.cancel.set()

    ctx.emit = emit


def _partial_indices(session: Path, split: str) -> list[int]:
    return [row["i"] for row in read_jsonl(session / "data" / ".partial" / f"{split}.jsonl")]


def test_inline_generation_stops_on_cancel_and_resumes_without_duplicates(bank_session, bank_specs):
    use_case, spec = bank_specs
    big = spec.model_copy(update={"train_count": 4000, "eval_count": 200})
    save_spec(bank_session / "data_generation.yaml", big)
    ctx = ToolContext(session_dir=bank_session, settings=SETTINGS)
    events: list[dict] = []
    _cancel_after(ctx, 200, events)

    result = data_tools.generate_data.fn(ctx)

    assert result.data["status"] == "cancelled"
    assert result.content.startswith("Generation cancelled after ")
    made = _partial_indices(bank_session, "train")
    made_eval = _partial_indices(bank_session, "eval") if (bank_session / "data/.partial/eval.jsonl").exists() else []
    assert 200 <= len(made) < 4000, "it stopped early and kept what it made"
    assert not (bank_session / "data" / "train.jsonl").exists()
    assert any(e.get("rate") is not None and e.get("total") == 4200 for e in events), "progress has a rate and total"

    again = data_tools.generate_data.fn(ToolContext(session_dir=bank_session, settings=SETTINGS))
    assert again.data["status"] == "done", again.content
    assert again.data["resumed_records"] == len(made) + len(made_eval)
    indices = _partial_indices(bank_session, "train")
    assert sorted(indices) == list(range(4000)), "every index made exactly once across both runs"
    assert len(read_jsonl(bank_session / "data" / "train.jsonl")) > 3500
    assert (bank_session / "data" / "quality.json").exists()


def test_scoring_stops_on_cancel_and_keeps_the_last_report(bank_session, bank_specs):
    from synth.generate import generate_dataset
    from synth.quality import ScoringCancelled, score_dataset

    use_case, spec = bank_specs
    generate_dataset(bank_session, use_case, spec)
    score_dataset(bank_session, use_case, spec, embeddings=False, tokenizer=False)
    before = (bank_session / "data" / "quality.json").read_text()
    ctx = ToolContext(session_dir=bank_session, settings=SETTINGS)
    ctx.cancel.set()
    result = data_tools.score_data.fn(ctx)
    assert result.data == {"status": "cancelled"} and "score_data scores the data again" in result.content
    assert (bank_session / "data" / "quality.json").read_text() == before
    import threading

    stop = threading.Event()
    stop.set()
    with pytest.raises(ScoringCancelled):
        score_dataset(bank_session, use_case, spec, embeddings=False, tokenizer=False, cancel=stop)


def test_embedding_subprocess_is_killed_on_cancel():
    import threading
    import time

    from synth.embed import embedding_spread, minilm_folder

    if minilm_folder() is None:
        pytest.skip("the MiniLM package is not installed")
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    result = embedding_spread(["a b c"] * 50 + ["d e f"] * 50, cancel=stop)
    assert result == {"error": "embedding cancelled"}
    assert time.monotonic() - started < 60


def _responder(messages):
    prompt = messages[-1]["content"]
    label = prompt.split("category = ")[1].split(";")[0].strip() if "category = " in prompt else "groceries"
    counter = _responder.count = getattr(_responder, "count", 0) + 1
    return json.dumps({"input": f"CARD {counter * 7919} {label.upper()} SHOP", "output": label})


def _start_teacher_job(session: Path, spec, api_base: str, settings: ToolSettings, *, concurrency: int, train: int):
    """Point data_generation.yaml at the loopback teacher and start generate_data as a real background job."""
    gen = spec.generator.model_copy(update={"kind": "teacher", "model": "openai/fake", "api_base": api_base,
                                            "concurrency": concurrency})
    save_spec(session / "data_generation.yaml", spec.model_copy(update={"generator": gen, "train_count": train,
                                                                         "eval_count": 4}))
    runner = JobRunner(session)
    return data_tools.generate_data.fn(ToolContext(session_dir=session, settings=settings, jobs=runner)), runner


def test_the_background_job_is_followed_cancelled_and_resumed(bank_session, bank_specs, tmp_path):
    use_case, spec = bank_specs
    settings = SETTINGS.model_copy(update={"workspace": tmp_path / "ws"})
    with FakeOpenAI(delay_s=0.2, responder=_responder) as server:
        started, runner = _start_teacher_job(bank_session, spec, server.api_base, settings, concurrency=2, train=40)
        assert started.data["background"] is True

        follow = ToolContext(session_dir=bank_session, settings=settings, jobs=JobRunner(bank_session))
        follow.cancel_jobs = True  # as the progress card's Cancel button asks
        events: list[dict] = []
        _cancel_after(follow, 4, events)
        stopped = data_tools.wait_for_data_generation.fn(follow)
        assert stopped.data["status"] == "cancelled", stopped.content
        assert "resume" in stopped.content
        assert any(e.get("type") == "progress" and e.get("total") == 44 for e in events), "progress was relayed"
        paid = server.requests
        assert 4 <= paid < 44
        nothing = data_tools.cancel_data_generation.fn(ToolContext(session_dir=bank_session, settings=settings, jobs=JobRunner(bank_session)))
        assert nothing.content == "No data generation job is running."

        again = data_tools.generate_data.fn(ToolContext(session_dir=bank_session, settings=settings,
                                                        jobs=runner))
        assert again.data["background"] is True
        done = data_tools.wait_for_data_generation.fn(ToolContext(session_dir=bank_session, settings=settings, jobs=JobRunner(bank_session)))
        assert done.data["status"] == "done", done.content
        assert "Usable records" in done.content
        assert "Teacher: " in done.content and " calls, " in done.content, "what the teacher cost is reported"
        # A cancel abandons the requests in flight (at most the concurrency, 2) instead of waiting for them;
        # every other record was requested once across the cancelled and the resumed job.
        assert 44 <= server.requests <= 44 + 2, server.requests
    assert sorted(_partial_indices(bank_session, "train")) == list(range(40))


def test_esc_stops_watching_but_leaves_the_job_running(bank_session, bank_specs, tmp_path):
    use_case, spec = bank_specs
    settings = SETTINGS.model_copy(update={"workspace": tmp_path / "ws"})
    with FakeOpenAI(delay_s=0.2, responder=_responder) as server:
        _start_teacher_job(bank_session, spec, server.api_base, settings, concurrency=1, train=60)
        follow = ToolContext(session_dir=bank_session, settings=settings, jobs=JobRunner(bank_session))
        _cancel_after(follow, 2, [])
        watching = data_tools.wait_for_data_generation.fn(follow)
        assert watching.data["status"] == "running" and "still running" in watching.content
        cancelled = data_tools.cancel_data_generation.fn(ToolContext(session_dir=bank_session, settings=settings, jobs=JobRunner(bank_session)))
        assert "Generation cancelled after" in cancelled.content or "Cancelled" in cancelled.content
        assert server.requests < 64
