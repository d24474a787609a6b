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

    session = Workspace(tmp_path / "ws").create("journey")
    agent = build_agent(Settings.load({}, workspace=str(tmp_path / "ws"), quality_embeddings=False), session, YesApprover())
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


async def test_guided_data_step_follows_the_teacher_job_to_the_gate(tmp_path, monkeypatch):
    """A teacher generator runs as a background job: the planner starts it, follows it with
    wait_for_data_generation (progress relayed), and goes on to the gate when it is done."""
    import json
    import shutil
    from pathlib import Path

    from assistant.approvals import YesApprover
    from assistant.config import Settings
    from assistant.events import Progress, ToolFinished
    from assistant.runtime import build_agent
    from specs.data_generation import DataGenerationSpec
    from specs.yamlio import load_spec, save_spec
    from tests.fake_openai import FakeOpenAI

    def responder(messages):
        prompt = messages[-1]["content"]
        label = prompt.split("category = ")[1].split(";")[0].strip() if "category = " in prompt else "groceries"
        responder.count += 1
        return json.dumps({"input": f"CARD {responder.count * 7919} {label.upper()} SHOP {responder.count}",
                           "output": label})

    responder.count = 0
    root = Path(__file__).resolve().parents[3]
    session = Workspace(tmp_path / "ws").create("teacher")
    shutil.copy(root / "specs/examples/bank_transactions.use_case.yaml", session.dir / "use_case.yaml")
    spec = load_spec(root / "specs/examples/bank_transactions.data_generation.yaml", DataGenerationSpec)
    from synth import seeds

    seeds.save(session.dir, [{"input": "TESCO STORES 2231", "output": "groceries"}])
    session.meta.phase = "data"
    session.save_meta()
    with FakeOpenAI(delay_s=0.02, responder=responder) as server:
        gen = spec.generator.model_copy(update={"kind": "teacher", "model": "openai/fake", "api_base": server.api_base,
                                                "concurrency": 4})
        save_spec(session.dir / "data_generation.yaml", spec.model_copy(update={
            "generator": gen, "train_count": 120, "eval_count": 24}))
        agent = build_agent(Settings.load({}, workspace=str(tmp_path / "ws"), quality_embeddings=False), session, YesApprover())
        seen: list = []
        for _ in range(12):
            seen += await _collect(agent.send("continue"))
            if session.meta.phase != "data":
                break
    tools = [e.tool for e in seen if isinstance(e, ToolFinished)]
    assert tools.index("generate_data") < tools.index("wait_for_data_generation") < tools.index("finish_data_step")
    assert any(isinstance(e, Progress) and e.task == "generate" and e.total == 144 for e in seen)
    waited = next(e for e in seen if isinstance(e, ToolFinished) and e.tool == "wait_for_data_generation")
    assert waited.content.startswith("Generation done") and "Teacher: 144 calls" in waited.content
    assert session.meta.phase == "train" and server.requests == 144
