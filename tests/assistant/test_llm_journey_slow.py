"""The whole journey driven by a scripted LLM planner through real litellm streaming from the loopback
server: use case, seeds, data spec, teacher generation, quality gate, technique, reward and its dry
run, a few training steps of the embedded model, evaluation with an LLM judge (the same server),
export. The planner makes the mistakes real models make on the way, and the session recovers."""

from __future__ import annotations

import json

import pytest

from tests.assistant import llm_journey as script
from tests.assistant.test_llm_journey_fast import journey, play, planner_requests, results  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow


@pytest.mark.timeout(2400)
async def test_a_scripted_llm_drives_the_whole_journey(journey, monkeypatch):
    monkeypatch.setenv("TUNESMITH_THREADS", "2")
    server, session, agent = journey
    turns = script.use_case_with_mistakes() + script.data_step() + script.train_evaluate_export(steps=2)
    seen = await play(server, agent, turns)
    calls = [(tool, error, text) for events in seen for tool, error, text in results(events)]
    failed = {tool for tool, error, _ in calls if error}
    expected = {"start_training", "classify_emails", "write_use_case", "write_training_plan", "export_model"}
    assert failed == expected, [c for c in calls if c[1] and c[0] not in expected]
    assert session.meta.phase == "done"
    for name in ("use_case.yaml", "data/examples.jsonl", "data_generation.yaml", "data/train.jsonl", "data/quality.json",
                 "training.yaml", "reward.yaml", "reward.py", "evaluation.yaml", "export.yaml"):
        assert (session.dir / name).exists(), name
    run = next((session.dir / "runs").glob("*/final"))
    assert run.exists()
    report = json.loads(next((session.dir / "evals").glob("*/report.json")).read_text())
    assert "sensible_for_unclear" in json.dumps(report), "the judge scored the judge tenet"
    assert report["forgetting"]["items"] == 8, "the general set's size the planner asked for (as a string)"
    judged = [r for r in server.requests if r.get("model") == "judge"]
    assert judged and all("SCORE" in r["messages"][0]["content"] for r in judged)
    assert (session.dir / "export" / "hf" / "config.json").exists()

    usage = json.loads((session.dir / "session.json").read_text())["usage"]
    assert set(usage["by_step"]) >= {"use_case", "data", "train", "evaluate", "export"}
    assert usage["requests"] == len(planner_requests(server))
    print(f"JOURNEY_USAGE={json.dumps(measured(planner_requests(server)))}")


def measured(requests: list[dict]) -> dict:
    """The planner's requests counted with litellm's token counter (the loopback's own usage numbers are
    scripted): prompt tokens in all, the largest request, and how many a request carried on average."""
    import litellm

    sizes = [litellm.token_counter(model="gpt-4o", messages=r["messages"]) +
             litellm.token_counter(model="gpt-4o", text=json.dumps(r.get("tools", []))) for r in requests]
    return {"requests": len(sizes), "prompt_tokens": sum(sizes), "largest_request": max(sizes),
            "mean_request": round(sum(sizes) / len(sizes))}
