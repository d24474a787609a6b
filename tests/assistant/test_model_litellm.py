"""LitellmModel through real litellm against the loopback OpenAI-compatible server."""

from __future__ import annotations

import time

import pytest

from assistant.agent import Agent
from assistant.events import Notice, TextDelta, ToolFinished, TurnEnded
from assistant.model import LitellmModel, ModelError, ModelReply, redact
from assistant.session import Workspace
from skills.toolkit import ToolContext, tool
from tests.fakes import collect
from tests.loopback import LoopbackServer, Reply, ToolCallSpec, closed_port


@tool("always")
def lookup(ctx: ToolContext, merchant: str) -> str:
    """Look up a merchant's category.

    Args:
        merchant: The merchant name.
    """
    return f"{merchant}: groceries"


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


def make_model(server, **kwargs):
    options = dict(timeout_s=1.0, max_retries=2, backoff_s=0.01, max_backoff_s=0.2)
    options.update(kwargs)
    return LitellmModel("openai/loopback", api_base=server.api_base, **options)


async def ask(model, messages=None, tools=None):
    items = [item async for item in model.stream(messages or [{"role": "user", "content": "hi"}], tools or [lookup.schema()])]
    return "".join(i.text for i in items if isinstance(i, TextDelta)), items[-1]


@pytest.fixture(autouse=True)
def fake_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")


async def test_text_streams_in_pieces(server):
    server.add(Reply(text="Hello from the loopback server."))
    model = make_model(server)
    pieces = [i async for i in model.stream([{"role": "user", "content": "hi"}], [])]
    deltas = [p.text for p in pieces if isinstance(p, TextDelta)]
    assert len(deltas) > 1 and "".join(deltas) == "Hello from the loopback server."
    reply = pieces[-1]
    assert isinstance(reply, ModelReply) and reply.content == "Hello from the loopback server."
    assert (reply.prompt_tokens, reply.completion_tokens, reply.cost_usd) == (11, 7, 0.0)
    request = server.requests[0]
    assert request["stream"] is True and request["stream_options"] == {"include_usage": True}
    assert "tools" not in request


async def test_tool_calls_assemble_from_deltas(server):
    server.add(Reply(text="Checking.", tool_calls=[ToolCallSpec("lookup", {"merchant": "Aldi"}, id="call_a"),
                                                   ToolCallSpec("lookup", {"merchant": "Shell"}, id="call_b")]))
    model = make_model(server)
    _, reply = await ask(model)
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in reply.tool_calls] == [
        ("call_a", "lookup", '{"merchant": "Aldi"}'), ("call_b", "lookup", '{"merchant": "Shell"}')]
    assert server.requests[0]["tools"][0]["function"]["name"] == "lookup"


async def test_rate_limit_retries_after_the_given_wait(server):
    server.add(Reply(fault="429", retry_after=0.3), Reply(text="ok now"))
    model = make_model(server)
    start = time.monotonic()
    items = [i async for i in model.stream([{"role": "user", "content": "hi"}], [])]
    assert items[-1].content == "ok now" and model.retries_done == 1
    assert time.monotonic() - start >= 0.3
    (notice,) = [i for i in items if isinstance(i, Notice)]
    assert notice.level == "warning" and "Rate limited" in notice.text and "retrying in 0.3 s (attempt 2 of 3)" in notice.text


async def test_server_error_retries(server):
    server.add(Reply(fault="500"), Reply(fault="500"), Reply(text="recovered"))
    model = make_model(server)
    assert (await ask(model))[0] == "recovered" and model.retries_done == 2


async def test_a_timed_out_request_is_not_sent_again(server):
    """The server may still be working on it: a second copy would queue behind the first."""
    server.add(Reply(fault="hang", hang_s=3), Reply(text="never asked"))
    model = make_model(server, timeout_s=0.5)
    with pytest.raises(ModelError, match=r"sent nothing for 0.5 s.*not sent again.*--timeout or TUNESMITH_TIMEOUT"):
        await ask(model)
    assert len(server.requests) == 1 and model.retries_done == 0


async def test_a_slow_stream_is_never_cut_while_it_keeps_coming(server):
    text = "A small model on a CPU writes a few words a second."
    server.add(Reply(text=text, chunk_delay_s=0.2))  # about 9 chunks: 1.8 s in all, each within the timeout
    model = make_model(server, timeout_s=0.6)
    started = time.monotonic()
    assert (await ask(model))[0] == text
    assert time.monotonic() - started > 0.6 * 2 and len(server.requests) == 1


async def test_retries_give_up_with_a_clear_message(server):
    server.add(*[Reply(fault="500")] * 3)
    model = make_model(server, max_retries=2)
    with pytest.raises(ModelError, match="gave up after 3 attempts"):
        await ask(model)


async def test_refused_connection_gives_up_clearly():
    model = LitellmModel("openai/loopback", api_base=f"http://127.0.0.1:{closed_port()}/v1", timeout_s=1,
                         max_retries=1, backoff_s=0.01)
    with pytest.raises(ModelError, match="could not reach the model"):
        await ask(model)


async def test_truncated_stream_is_an_error_not_a_short_answer(server):
    server.add(Reply(text="This answer will be cut off half way through the stream.", fault="truncate"))
    model = make_model(server)
    with pytest.raises(ModelError, match="broke off"):
        await ask(model)


async def test_authentication_error_says_where_keys_go(server):
    server.add(Reply(fault="401"))
    with pytest.raises(ModelError) as info:
        await ask(make_model(server))
    assert "OPENAI_API_KEY" in str(info.value) and "sk-test-loopback" not in str(info.value)
    assert len(server.requests) == 1  # not retried


async def test_context_window_error_is_explained(server):
    server.add(Reply(fault="context"))
    with pytest.raises(ModelError, match="longer than 'openai/loopback' can read"):
        await ask(make_model(server))


def test_redact_removes_keys(monkeypatch):
    monkeypatch.setenv("MY_PROVIDER_API_KEY", "abcdef123456")
    assert "abcdef123456" not in redact("bad key abcdef123456 and sk-proj-zzzzzzzzzz and Bearer xyz")
    assert "sk-proj" not in redact("sk-proj-zzzzzzzzzz")


# -- the agent over litellm: each fault ends in a retry or a notice, and the session survives --------

@pytest.fixture
def session(tmp_path):
    return Workspace(tmp_path / "ws").create("loop")


def agent_for(session, server, **kwargs):
    return Agent(session, make_model(server, **kwargs), [lookup], system_prompt=lambda s: "Be brief.")


async def test_agent_runs_a_tool_over_litellm(server, session):
    server.add(Reply(tool_calls=[ToolCallSpec("lookup", {"merchant": "Aldi"})]), Reply(text="Aldi is groceries."))
    events = await collect(agent_for(session, server).send("What is Aldi?"))
    assert [e.content for e in events if isinstance(e, ToolFinished)] == ["Aldi: groceries"]
    assert events[-1] == TurnEnded("answer")
    second = server.requests[1]["messages"]
    assert second[0] == {"role": "system", "content": "Be brief."}
    assert second[-1]["role"] == "tool" and second[-1]["content"] == "Aldi: groceries"
    assert second[-2]["tool_calls"][0]["function"]["name"] == "lookup"
    assert session.meta.usage.prompt_tokens == 22


async def test_malformed_tool_json_from_the_server_goes_back_to_the_model(server, session):
    server.add(Reply(tool_calls=[ToolCallSpec("lookup", '{"merchant": "Al')]), Reply(text="Sorry, let me fix that."))
    events = await collect(agent_for(session, server).send("What is Aldi?"))
    assert [e.is_error for e in events if isinstance(e, ToolFinished)] == [True]
    assert "not valid JSON" in server.requests[1]["messages"][-1]["content"]
    assert events[-1] == TurnEnded("answer")


@pytest.mark.parametrize("faults, survives_by", [
    ([Reply(fault="429", retry_after=0.05)], "retry"),
    ([Reply(fault="500")], "retry"),
    ([Reply(fault="hang", hang_s=2)], "notice"),
    ([Reply(fault="500")] * 2, "notice"),
    ([Reply(text="cut short by the server half way", fault="truncate")], "notice"),
    ([Reply(fault="401")], "notice"),
])
async def test_the_session_survives_each_fault(server, session, faults, survives_by):
    server.add(*faults)
    server.add(Reply(text="first answer"), Reply(text="second answer"))
    agent = agent_for(session, server, max_retries=1, timeout_s=0.5)
    events = await collect(agent.send("one"))
    if survives_by == "retry":
        assert events[-1] == TurnEnded("answer")
    else:
        assert events[-1] == TurnEnded("error")
        assert [e for e in events if isinstance(e, Notice) and e.level == "error"]
    events = await collect(agent.send("two"))
    assert events[-1] == TurnEnded("answer")
    reopened = Workspace(session.dir.parent.parent).open("loop")
    assert reopened.problems == []
    roles = [m["role"] for m in reopened.messages()]
    assert roles[-1] == "assistant" and roles.count("user") == 2
    last_request = server.requests[-1]["messages"]
    assert [m["role"] for m in last_request if m["role"] == "user"] == ["user", "user"]


async def test_cost_comes_from_litellm_prices_and_adds_up_per_session(server, session):
    server.add(Reply(text="a", prompt_tokens=1000, completion_tokens=500), Reply(text="b", prompt_tokens=1000, completion_tokens=500))
    model = LitellmModel("openai/gpt-4o-mini", api_base=server.api_base, timeout_s=2)
    _, reply = await ask(model)
    assert reply.cost_usd == pytest.approx(1000 * 0.15e-6 + 500 * 0.6e-6)
    agent = Agent(session, model, [], system_prompt=lambda s: "")
    await collect(agent.send("hi"))
    usage = Workspace(session.dir.parent.parent).open("loop").meta.usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (1000, 500)
    assert usage.cost_usd == pytest.approx(reply.cost_usd)


async def test_use_case_step_over_litellm_with_the_real_tools(server, tmp_path):
    """An LLM (scripted on the loopback server) asks, writes use_case.yaml, and approves it after the person."""
    import json as _json

    from assistant.approvals import YesApprover
    from assistant.config import Settings
    from assistant.events import Question
    from assistant.guided import GuidedModel
    from assistant.runtime import build_agent

    # Valid write_use_case arguments, as the offline planner produces them for this description.
    offline = Workspace(tmp_path / "ws").create("offline")
    guided_agent = build_agent(Settings.load({}, workspace=str(tmp_path / "ws")), offline, YesApprover())
    assert isinstance(guided_agent.model, GuidedModel)
    text = "I need a model that categorizes bank transactions into our 12 categories."
    for _ in range(15):
        events = await collect(guided_agent.send(text))
        if (offline.dir / "use_case.yaml").exists():
            break
        questions = [e for e in events if isinstance(e, Question)]
        text = questions[-1].choices[0] if questions and questions[-1].choices else "yes"
    calls = [c for r in offline.records() if r["type"] == "assistant" for c in r["message"].get("tool_calls", [])]
    arguments = _json.loads([c for c in calls if c["function"]["name"] == "write_use_case"][0]["function"]["arguments"])

    server.add(
        Reply(tool_calls=[ToolCallSpec("ask_user", {"question": "Who uses the answers?", "choices": ["An app", "A team"]})]),
        Reply(text="Writing the spec.", tool_calls=[ToolCallSpec("write_use_case", arguments)]),
        Reply(text="Please review use_case.yaml."),
        Reply(tool_calls=[ToolCallSpec("approve_use_case", {})]),
        Reply(text="Approved. Next: data."),
    )
    session = Workspace(tmp_path / "ws").create("online")
    settings = Settings.load({}, workspace=str(tmp_path / "ws"), model="openai/loopback", api_base=server.api_base)
    agent = build_agent(settings, session, YesApprover())
    events = await collect(agent.send("I need a model that categorizes bank transactions into our 12 categories."))
    assert events[-1] == TurnEnded("question")
    events = await collect(agent.send("An app"))
    assert [e.is_error for e in events if isinstance(e, ToolFinished)] == [False], events
    assert (session.dir / "use_case.yaml").exists() and events[-1] == TurnEnded("answer")
    events = await collect(agent.send("I approve it"))
    assert session.meta.phase == "data" and events[-1] == TurnEnded("answer")
    assert "use_case" in server.requests[0]["messages"][0]["content"]  # the system prompt names the step
