"""The offline journey through the real runtime: use case -> data -> the quality gate -> train phase."""

from __future__ import annotations

from assistant.events import Notice, Question
from assistant.session import Workspace


async def _collect(stream):
    """Events of one turn; stops at the move to training (the train step would start measuring)."""
    from assistant.events import PhaseChanged

    events = []
    async for event in stream:
        events.append(event)
        if isinstance(event, PhaseChanged) and event.phase == "train":
            await stream.aclose()
            break
    return events


async def test_guided_journey_passes_the_data_step(tmp_path, monkeypatch):
    from assistant.approvals import YesApprover
    from assistant.config import Settings
    from assistant.runtime import build_agent

    monkeypatch.setenv("TUNESMITH_QUALITY_EMBEDDINGS", "0")
    session = Workspace(tmp_path / "ws").create("journey")
    agent = build_agent(Settings.load({}, workspace=str(tmp_path / "ws")), session, YesApprover())
    text = "I need a model that categorizes bank transactions into our 12 categories."
    for _ in range(40):
        events = await _collect(agent.send(text))
        assert not [e for e in events if isinstance(e, Notice) and e.level == "error"], events
        if session.meta.phase not in ("use_case", "data"):
            break
        questions = [e for e in events if isinstance(e, Question)]
        text = questions[-1].choices[0] if questions and questions[-1].choices else "continue"
    assert session.meta.phase == "train"
    for name in ("data/examples.jsonl", "data_generation.yaml", "data/train.jsonl", "data/eval.jsonl",
                 "data/quality.json"):
        assert (session.dir / name).exists(), name
    from synth.quality import blocking_findings

    assert blocking_findings(session.dir) == []
    from specs import lineage

    links = {link.kind: link for link in lineage.check(session.dir)}
    assert links["data"].ok and links["data"].entry["generator"] == "programmatic"
    assert links["quality"].ok and set(links["quality"].entry["inputs"]) == {"data/train.jsonl", "data/eval.jsonl"}
