"""Provider keys come from the environment and never reach disk, logs or the screen."""

from __future__ import annotations

import logging

from assistant.config import Settings
from assistant.events import Notice
from assistant.runtime import build_agent
from assistant.session import Workspace
from tests.fakes import FixedApprover, collect
from tests.loopback import LoopbackServer, Reply, ToolCallSpec

SECRET = "sk-test-SECRET123"


async def test_a_session_never_writes_the_api_key(tmp_path, monkeypatch, caplog, capfd):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    workspace = Workspace(tmp_path / "ws")
    session = workspace.create("secret")
    with LoopbackServer([
        Reply(text="Let me look at the files.", tool_calls=[ToolCallSpec("list_files", {})]),
        Reply(tool_calls=[ToolCallSpec("ask_user", {"question": "Who uses it?", "choices": ["Ops", "Finance"]})]),
        Reply(text="Thanks, noted."),
        Reply(fault="401"),  # the provider echoes the key in its error message
    ]) as server:
        settings = Settings.load({}, workspace=str(tmp_path / "ws"), model="openai/loopback", api_base=server.api_base)
        agent = build_agent(settings, session, FixedApprover("allow_once"))
        agent.model.timeout_s, agent.model.backoff_s = 2.0, 0.01
        events = await collect(agent.send("I need a model that sorts bank transactions."))
        events += await collect(agent.send("Ops"))
        events += await collect(agent.send("and again"))
        assert server.headers[0]["authorization"] == f"Bearer {SECRET}"  # the key was really used
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert any("refused the credentials" in text for text in notices)
    assert all(SECRET not in text for text in notices)
    assert all(SECRET not in repr(event) for event in events)

    files = [p for p in (tmp_path / "ws").rglob("*") if p.is_file()]
    assert any(p.name == "conversation.jsonl" for p in files) and any(p.name == "session.json" for p in files)
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), f"the API key leaked into {path}"
    out, err = capfd.readouterr()
    assert SECRET not in out and SECRET not in err
    assert SECRET not in caplog.text
