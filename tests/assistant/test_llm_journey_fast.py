"""The use-case step and the data step driven by a scripted LLM through real litellm streaming from the
loopback server, with the mistakes real models make; the session recovers from each. The teacher is
the same server. (The whole journey, training to export, is tests/assistant/test_llm_journey_slow.py.)"""

from __future__ import annotations

import json

import pytest

from assistant.approvals import YesApprover
from assistant.config import Settings
from assistant.events import Progress, Question, ToolFinished, TurnEnded
from assistant.runtime import build_agent
from assistant.session import Workspace
from tests.assistant import llm_journey as script
from tests.fakes import collect
from tests.loopback import LoopbackServer


@pytest.fixture
def journey(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")
    script.teacher_and_judge.count = 0
    with LoopbackServer(responder=script.teacher_and_judge) as server:
        settings = Settings.load({}, workspace=str(tmp_path / "ws"), quality_embeddings=False, model=script.PLANNER, api_base=server.api_base,
                                 teacher_model=script.TEACHER, judge_model=script.JUDGE, timeout=60)
        session = Workspace(tmp_path / "ws").create("llm")
        agent = build_agent(settings, session, YesApprover())
        yield server, session, agent


async def play(server, agent, turns):
    """Send each person's message after queueing the planner's replies for it; all events."""
    seen = []
    for text, replies in turns:
        server.add(*replies)
        events = await collect(agent.send(text))
        assert events[-1].reason in ("answer", "question"), events[-3:]
        assert not server.replies, f"replies left unused after {text!r}: {server.replies}"
        seen.append(events)
    return seen


def results(events):
    return [(e.tool, e.is_error, e.content) for e in events if isinstance(e, ToolFinished)]


def planner_requests(server):
    return [r for r in server.requests if r.get("model") == "planner"]


async def test_use_case_step_recovers_from_each_mistake(journey):
    server, session, agent = journey
    no_call, asked, written, approved = await play(server, agent, script.use_case_with_mistakes())

    assert no_call[-1] == TurnEnded("answer") and not results(no_call), "a reply without a call ends the turn"
    later, unknown, ask = results(asked)
    assert later[0] == "start_training" and later[1] and "tool of the train step" in later[2]
    assert unknown[0] == "classify_emails" and unknown[1] and "no tool named 'classify_emails'" in unknown[2]
    assert ask[0] == "ask_user" and not ask[1], "the call written as JSON text was taken"
    assert [e for e in asked if isinstance(e, Question)][0].choices == ["A triage bot", "Support agents"]
    record = [r for r in session.records() if r.get("recovered_from_text")]
    assert len(record) == 1 and record[0]["message"]["tool_calls"][0]["function"]["name"] == "ask_user"

    wrong, missing, repeated, wrote = results(written)
    assert wrong[1] and "`task_type`" in wrong[2] and "`success_tenets`" in wrong[2]
    assert missing[1] and "`contract`" in missing[2] and "Field required" in missing[2]
    assert repeated[1] and "same call to write_use_case that just failed" in repeated[2]
    assert wrote == ("write_use_case", False, wrote[2]) and (session.dir / "use_case.yaml").exists()
    assert results(approved)[0][:2] == ("approve_use_case", False) and session.meta.phase == "data"

    requests = planner_requests(server)
    assert all(r["stream"] is True for r in requests)
    errors_seen = [m["content"] for m in requests[-3]["messages"] if m["role"] == "tool"]
    assert any("same call" in text for text in errors_seen), "the model read each error"
    names = {t["function"]["name"] for t in requests[0]["tools"]}
    assert "write_use_case" in names and "start_training" not in names, "only the use-case step's tools"
    usage = json.loads((session.dir / "session.json").read_text())["usage"]
    assert usage["by_step"]["use_case"]["requests"] == len(requests) - 1 and usage["by_step"]["data"]["requests"] == 1


@pytest.mark.slow
async def test_data_step_with_the_teacher_on_the_same_server(journey):
    server, session, agent = journey
    await play(server, agent, script.use_case_with_mistakes())
    (data,) = await play(server, agent, script.data_step(train_count=60, eval_count=12))
    done = {tool: (error, text) for tool, error, text in results(data)}
    assert not any(error for error, _ in done.values()), done
    assert session.meta.phase == "train"
    rates = [e for e in data if isinstance(e, Progress) and e.task == "generate" and e.rate and e.eta_s is not None]
    assert rates, "the teacher's measured rate and ETA reach the progress bar"
    teacher = [r for r in server.requests if r.get("model") == "teacher"]
    assert len(teacher) >= 72, "the teacher wrote the records through the same server"
    rows = [json.loads(line) for line in (session.dir / "data" / "train.jsonl").read_text().splitlines()]
    assert len(rows) >= 50 and all("Subject:" in json.dumps(row) for row in rows)
