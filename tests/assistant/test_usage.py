"""Tokens (prompt, cached prompt, completion) and money per step: session.json, the status bar, the run's report."""

from __future__ import annotations

import pytest

from assistant.agent import Agent
from assistant.events import Usage
from assistant.model import LitellmModel
from assistant.session import Workspace
from skills.toolkit import ToolContext, ToolResult, tool
from tests.fakes import collect
from tests.loopback import LoopbackServer, Reply, ToolCallSpec


@tool("always")
def finish_step(ctx: ToolContext) -> ToolResult:
    """Finish this step."""
    return ToolResult(content="Done; next step: data.", phase="data")


async def test_usage_is_counted_per_step_with_cached_tokens(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")
    replies = [Reply(tool_calls=[ToolCallSpec("finish_step", {})], prompt_tokens=900, cached_tokens=0, completion_tokens=20),
               Reply(text="Now the data.", prompt_tokens=1000, cached_tokens=800, completion_tokens=30),
               Reply(text="Still data.", prompt_tokens=1100, cached_tokens=1000, completion_tokens=10)]
    with LoopbackServer(replies) as server:
        session = Workspace(tmp_path / "ws").create("s")
        model = LitellmModel("openai/loopback", api_base=server.api_base, timeout_s=5, max_retries=0)
        agent = Agent(session, model, [finish_step], system_prompt=lambda s: "Be brief.")
        first = await collect(agent.send("go"))
        second = await collect(agent.send("more"))
    usage = Workspace(tmp_path / "ws").open("s").meta.usage
    assert (usage.prompt_tokens, usage.cached_prompt_tokens, usage.completion_tokens, usage.requests) == (3000, 1800, 60, 3)
    assert usage.largest_request == 1100
    steps = {name: (u.prompt_tokens, u.cached_prompt_tokens, u.completion_tokens, u.requests) for name, u in usage.by_step.items()}
    assert steps == {"use_case": (900, 0, 20, 1), "data": (2100, 1800, 40, 2)}
    last = [e for e in second if isinstance(e, Usage)][-1]
    assert (last.step, last.step_tokens, last.cached_prompt_tokens) == ("data", 2140, 1800)
    assert [e for e in first if isinstance(e, Usage)][0].step == "use_case"
    report = usage.report()
    assert report[0].startswith("use_case: 1 requests, 900 prompt tokens (0 cached), 20 completion")
    assert report[-1].startswith("all steps: 3 requests, 3,000 prompt tokens (1,800 cached), 60 completion, largest request 1,100")


@pytest.mark.parametrize("step_tokens, cached, shown", [(0, 0, "tokens 1,234  │"), (2140, 1800, "tokens 1,234 (data 2,140; cached 1,800)")])
def test_status_bar_shows_the_steps_tokens_once_there_are_some(step_tokens, cached, shown):
    from assistant.tui.widgets.status import StatusBar

    bar = StatusBar()
    bar.set_usage(1000, 234, 0.0, cached, "data", step_tokens)
    assert shown in bar.render()
