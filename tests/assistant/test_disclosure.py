"""Progressive disclosure: each request carries the skill index, the current step's playbook and that
step's tools; moving between steps is a tool call; old tool results are shortened in the request only."""

from __future__ import annotations

import json

import pytest

from assistant.agent import PROMPT_BUDGET_TOKENS
from assistant.config import Settings
from assistant.events import Notice, PhaseChanged, ToolFinished, TurnEnded
from assistant.history import estimate_tokens
from assistant.runtime import build_agent
from assistant.session import Workspace, assistant_record, tool_record, user_record
from skills import catalog
from skills.common_tools import COMMON_TOOLS
from tests.fakes import ScriptedModel, call, collect, say

STEPS = [*catalog.ORDER, "done"]
EVERY_FILE = ["use_case.yaml", "data_generation.yaml", "training.yaml", "evaluation.yaml", "export.yaml",
              "reward.py", "notes.md", "lineage.jsonl", "data/examples.jsonl", "data/train.jsonl",
              "data/eval.jsonl", "data/quality.json", "data/imported.jsonl", "runs/run-20261202-010101/metrics.jsonl",
              "runs/run-20261202-010101/adapter/adapter_config.json", "evals/eval-20261202-0202/report.md",
              "evals/eval-20261202-0202/results.jsonl", "exports/export-1/Modelfile"]


def tokens(messages=None, text=None) -> int:
    import litellm

    return litellm.token_counter(model="gpt-4o", messages=messages, text=text)


@pytest.fixture
def full_session(tmp_path):
    """A session that holds every kind of file, so the files listing is as long as it gets."""
    session = Workspace(tmp_path / "ws").create("s")
    for name in EVERY_FILE:
        path = session.dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")
    return session


def first_request(session, tmp_path, phase):
    session.meta.phase = phase
    model = ScriptedModel([say("ok")])
    agent = build_agent(Settings.load({}, workspace=str(tmp_path / "ws")), session, model=model)
    return agent, model


@pytest.mark.parametrize("phase", STEPS)
async def test_system_prompt_and_tool_schemas_fit_3000_tokens_on_every_step(full_session, tmp_path, phase):
    agent, model = first_request(full_session, tmp_path, phase)
    await collect(agent.send("hi"))
    messages, schemas = model.requests[0]
    # The schemas counted as the JSON a chat template writes into the prompt (what a local server reads).
    total = tokens(messages=messages[:1]) + tokens(text=json.dumps(schemas))
    assert total <= PROMPT_BUDGET_TOKENS, f"{phase}: {total} tokens"
    offered = {s["function"]["name"] for s in schemas}
    own = {t.name for t in catalog.get(phase).tools()} if phase in catalog.ORDER else set()
    others = {t.name for skill in catalog.discover() if skill.name != phase for t in skill.tools()}
    assert own <= offered and not (others & offered), "only the current step's tools travel"
    assert {t.name for t in COMMON_TOOLS} | {"go_to_step"} <= offered
    if phase in catalog.ORDER:
        assert catalog.get(phase).body().strip()[:120] in messages[0]["content"]
    for skill in catalog.discover():
        assert skill.description in messages[0]["content"], "the skill index names every step"


async def test_a_tool_of_a_later_step_is_refused_with_what_to_do(tmp_path):
    session = Workspace(tmp_path / "ws").create("s")
    model = ScriptedModel([call("start_training", {}), call("go_to_step", {"step": "train"}), say("I will finish this step first.")])
    agent = build_agent(Settings.load({}, workspace=str(tmp_path / "ws")), session, model=model)
    events = await collect(agent.send("train it now"))
    results = [e for e in events if isinstance(e, ToolFinished)]
    assert results[0].is_error and "tool of the train step" in results[0].content and "use_case" in results[0].content
    assert results[1].is_error and "not open yet" in results[1].content
    assert "call approve_use_case" in results[1].content  # a small model cannot find the step's last tool alone
    assert session.meta.phase == "use_case" and events[-1] == TurnEnded("answer")
    model.assert_all_used()


async def test_go_to_step_moves_back_and_the_next_request_carries_that_steps_tools(tmp_path):
    session = Workspace(tmp_path / "ws").create("s")
    session.meta.phase = "train"
    session.append({"type": "phase", "phase": "train"})
    model = ScriptedModel([call("update_use_case", {"changes": {}}), call("go_to_step", {"step": "use_case"}),
                           say("Back in the use case."), call("go_to_step", {"step": "train"}), say("Training again.")])
    agent = build_agent(Settings.load({}, workspace=str(tmp_path / "ws")), session, model=model)
    events = await collect(agent.send("change the tenets"))
    results = [e for e in events if isinstance(e, ToolFinished)]
    assert "Call go_to_step with step='use_case' first" in results[0].content
    assert PhaseChanged("use_case") in events and session.meta.phase == "use_case"
    names = [{s["function"]["name"] for s in schemas} for _, schemas in model.requests]
    assert "start_training" in names[0] and "update_use_case" not in names[0]
    assert "update_use_case" in names[2] and "start_training" not in names[2]
    await collect(agent.send("back to training"))
    assert session.meta.phase == "train", "a step the session reached before is open again"


def long_session(session, results: int, size: int) -> None:
    session.append(user_record("Build me a transaction classifier."))
    for i in range(results):
        session.append(assistant_record(f"Step {i}.", [{"id": f"c{i}", "type": "function",
                                                        "function": {"name": "show_file", "arguments": "{}"}}]))
        session.append(tool_record(f"c{i}", "show_file", f"result {i} " + "row of data, " * (size // 13)))
        if i % 10 == 9:
            session.append(user_record(f"Go on ({i})."))


async def test_old_tool_results_are_shortened_in_the_request_and_kept_whole_in_the_log(tmp_path):
    session = Workspace(tmp_path / "ws").create("s")
    long_session(session, results=60, size=3000)
    model = ScriptedModel([say("ok")])
    agent = build_agent(Settings.load({}, workspace=str(tmp_path / "ws")), session, model=model)
    await collect(agent.send("what now?"))
    messages, schemas = model.requests[0]
    assert tokens(messages=messages) + tokens(text=json.dumps(schemas)) <= 16_000 - 2_000, "fits a 16k context"
    assert messages[1]["content"] == "Build me a transaction classifier.", "the person's first request stays"
    tool_messages = [m for m in messages if m["role"] == "tool"]
    assert "shortened in this request" in tool_messages[0]["content"]
    assert tool_messages[-1]["content"].startswith("result 59") and "shortened" not in tool_messages[-1]["content"]
    ids = {c["id"] for m in messages if m["role"] == "assistant" for c in m.get("tool_calls", [])}
    assert all(m["tool_call_id"] in ids for m in tool_messages), "no tool result loses its call"
    logged = [r for r in Workspace(tmp_path / "ws").open("s").records() if r["type"] == "tool"]
    assert len(logged) == 60 and all(len(r["message"]["content"]) > 2900 for r in logged)


async def test_a_short_session_travels_whole(tmp_path):
    session = Workspace(tmp_path / "ws").create("s")
    long_session(session, results=3, size=3000)
    model = ScriptedModel([say("ok")])
    agent = build_agent(Settings.load({}, workspace=str(tmp_path / "ws")), session, model=model)
    await collect(agent.send("what now?"))
    assert not [m for m in model.requests[0][0] if "shortened" in str(m.get("content"))]
    assert estimate_tokens(model.requests[0][0]) > 3000


async def test_the_same_failing_call_is_not_run_again_and_a_third_ends_the_turn(tmp_path):
    session = Workspace(tmp_path / "ws").create("s")
    bad = {"path": "nope.yaml"}
    model = ScriptedModel([call("show_file", bad), call("show_file", bad), call("show_file", bad),
                           call("show_file", bad), say("It is missing.")])
    agent = build_agent(Settings.load({}, workspace=str(tmp_path / "ws")), session, model=model)
    events = await collect(agent.send("show nope.yaml"))
    results = [e.content for e in events if isinstance(e, ToolFinished)]
    assert "no file 'nope.yaml'" in results[0] and "same call to show_file that just failed" in results[1]
    assert events[-1] == TurnEnded("error") and any(isinstance(e, Notice) and "3 times" in e.text for e in events)
    events = await collect(agent.send("try once more"))
    assert "no file" in [e.content for e in events if isinstance(e, ToolFinished)][0], "after the person spoke it runs"
    model.assert_all_used()


def test_brief_and_bare_schemas_keep_every_argument_and_what_is_required():
    from assistant.runtime import collect_tools
    from assistant.steps import brief_schema

    for item in collect_tools():
        full = item.schema()["function"]["parameters"]
        for bare in (False, True):
            short = brief_schema(item, bare=bare)["function"]
            assert short["name"] == item.name and short["description"] and len(short["description"]) <= len(item.description)
            params = short["parameters"]
            assert set(params.get("properties", {})) == set(full.get("properties", {})), item.name
            assert params.get("required") == full.get("required") and set(params.get("$defs", {})) == set(full.get("$defs", {}))
            assert len(json.dumps(params)) <= len(json.dumps(full))


async def test_a_context_length_error_shortens_the_history_and_asks_again(tmp_path, monkeypatch):
    from assistant.agent import Agent
    from assistant.model import LitellmModel
    from tests.loopback import LoopbackServer, Reply

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")
    session = Workspace(tmp_path / "ws").create("s")
    long_session(session, results=12, size=3000)
    with LoopbackServer([Reply(fault="context"), Reply(text="Shorter now; here is the answer.")]) as server:
        model = LitellmModel("openai/loopback", api_base=server.api_base, timeout_s=5, max_retries=0)
        agent = Agent(session, model, COMMON_TOOLS, system_prompt=lambda s: "Be brief.")
        events = await collect(agent.send("what now?"))
        first, second = (json.dumps(r["messages"]) for r in server.requests)
    assert events[-1] == TurnEnded("answer")
    assert any(isinstance(e, Notice) and e.level == "warning" and "shortened" in e.text for e in events)
    assert len(second) < len(first) * 0.6, "the second request carries about half the history"
    assert json.loads(second)[-1]["content"] == "what now?", "the person's last words still travel"
