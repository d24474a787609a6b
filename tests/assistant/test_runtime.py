"""Wiring an agent from settings, and the system prompt."""

from __future__ import annotations

import pytest

from assistant.approvals import YesApprover
from assistant.config import Settings
from assistant.events import Notice
from assistant.guided import GuidedModel
from assistant.model import LitellmModel
from assistant.prompts import system_prompt
from assistant.runtime import OFFLINE_BANNER, build_agent, collect_tools
from assistant.session import Workspace
from skills import catalog
from tests.fakes import FixedApprover, collect


def settings_for(tmp_path, **flags):
    return Settings.load({}, workspace=str(tmp_path / "ws"), **flags)


def test_offline_agent_uses_the_guided_model_and_says_how_to_configure(tmp_path):
    session = Workspace(tmp_path / "ws").create("s")
    agent = build_agent(settings_for(tmp_path), session, None)
    assert isinstance(agent.model, GuidedModel) and agent.approver is None
    (banner,) = agent.notices
    assert banner == Notice(OFFLINE_BANNER) and "--model" in banner.text and "TUNESMITH_MODEL" in banner.text
    assert "API key" in banner.text or "OPENAI_API_KEY" in banner.text
    assert session.meta.planner_model is None


def test_configured_model_uses_litellm(tmp_path):
    session = Workspace(tmp_path / "ws").create("s")
    settings = settings_for(tmp_path, model="openai/local", api_base="http://127.0.0.1:9/v1")
    approver = FixedApprover()
    agent = build_agent(settings, session, approver)
    assert isinstance(agent.model, LitellmModel)
    assert (agent.model.model, agent.model.api_base) == ("openai/local", "http://127.0.0.1:9/v1")
    assert agent.approver is approver and agent.notices == []
    assert session.meta.planner_model == "openai/local"


def test_yes_and_policy_file_for_headless_runs(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("tools:\n  write_use_case: allow\n  no_such_tool: reject\n")
    session = Workspace(tmp_path / "ws").create("s")
    agent = build_agent(settings_for(tmp_path, yes=True, policy_file=str(policy)), session, None)
    assert isinstance(agent.approver, YesApprover)
    assert agent.policy.file_rules == {"write_use_case": "allow", "no_such_tool": "reject"}
    assert any("no_such_tool" in n.text and n.level == "warning" for n in agent.notices)


def test_tools_of_all_skills_and_the_common_tools(tmp_path):
    tools = collect_tools()
    names = [t.name for t in tools]
    assert len(names) == len(set(names))
    assert {"ask_user", "show_file", "list_files"} <= set(names)
    for skill in catalog.discover():
        assert {t.name for t in skill.tools()} <= set(names)
    for item in tools:
        assert item.schema()["function"]["parameters"]["type"] == "object"


def test_tool_context_gets_settings_without_secrets_and_a_job_starter(tmp_path, monkeypatch):
    from skills.jobcontrol import JobControl

    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-in-settings")
    session = Workspace(tmp_path / "ws").create("s")
    agent = build_agent(settings_for(tmp_path, model="openai/x"), session, None)
    ctx = agent._context()
    assert ctx.settings.judge_model == ctx.settings.teacher_model == "openai/x"
    assert "sk-never-in-settings" not in repr(ctx.settings)
    assert isinstance(ctx.jobs, JobControl) and ctx.session_dir == session.dir


def test_system_prompt_lists_skills_and_loads_only_the_current_body(tmp_path):
    session = Workspace(tmp_path / "ws").create("s")
    (session.dir / "use_case.yaml").write_text("name: x\n")
    skills = catalog.discover()
    text = system_prompt(session)
    assert "one question per turn" in text and "approval" in text
    for skill in skills:
        assert f"- {skill.name}" in text and skill.description in text
    current = [s for s in skills if s.name == session.meta.phase]
    others = [s for s in skills if s.name != session.meta.phase]
    if current:
        assert current[0].body().strip()[:200] in text
    for skill in others:
        body = skill.body().strip()
        if len(body) > 80:
            assert body[:200] not in text
    assert "Current step: use_case" in text and "- use_case.yaml" in text
    assert "conversation.jsonl" not in text


async def test_offline_banner_is_the_first_event(tmp_path):
    session = Workspace(tmp_path / "ws").create("s")
    agent = build_agent(settings_for(tmp_path), session, None)
    events = await collect(agent.send("I want a model that sorts support tickets by urgency."))
    assert events[0] == Notice(OFFLINE_BANNER)


def test_timeout_setting_reaches_the_planner_model(tmp_path):
    from assistant.config import DEFAULT_TIMEOUT_S, Settings, SettingsError
    from assistant.model import LitellmModel

    session = Workspace(tmp_path / "ws").create("s")
    assert Settings.load({}, workspace=str(tmp_path)).timeout == DEFAULT_TIMEOUT_S == 600
    from_env = Settings.load({"TUNESMITH_TIMEOUT": "900", "TUNESMITH_MODEL": "openai/x"}, workspace=str(tmp_path))
    model = build_agent(from_env, session, None).model
    assert isinstance(model, LitellmModel) and model.timeout_s == 900
    assert Settings.load({"TUNESMITH_TIMEOUT": "900"}, workspace=str(tmp_path), timeout=30).timeout == 30, "the flag wins"
    with pytest.raises(SettingsError, match=r"--timeout or TUNESMITH_TIMEOUT: .*number.*'soon'"):
        Settings.load({"TUNESMITH_TIMEOUT": "soon"}, workspace=str(tmp_path))


def test_a_planner_served_on_this_machine_samples_cold_and_a_hosted_one_keeps_its_default(tmp_path):
    from assistant.runtime import LOCAL_PLANNER_TEMPERATURE, build_model

    session = Workspace(tmp_path / "ws").create("t")
    local = build_model(Settings(workspace=tmp_path, model="openai/qwen", api_base="http://127.0.0.1:8080/v1"), session)
    ollama = build_model(Settings(workspace=tmp_path, model="ollama/qwen2.5:1.5b-instruct"), session)
    hosted = build_model(Settings(workspace=tmp_path, model="openai/gpt-4.1"), session)
    assert local.temperature == ollama.temperature == LOCAL_PLANNER_TEMPERATURE and hosted.temperature is None
