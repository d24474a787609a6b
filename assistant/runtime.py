"""Wire an Agent for a session from the settings: the model, the tools, the approval policy."""

from __future__ import annotations

import importlib
from typing import Any

from assistant.agent import Agent
from assistant.approvals import Approver, Policy, PolicyFileError, YesApprover, policy_conflicts, unknown_tools_in_policy
from assistant.config import Settings
from assistant.events import Notice
from assistant.jobs import JobRunner
from assistant.session import Session
from skills.toolkit import Tool

OFFLINE_BANNER = (
    "No LLM is configured, so the offline guided planner runs: it follows each step's script and "
    "understands only simple answers. To use an LLM, start with --model <litellm model string> or set "
    "TUNESMITH_MODEL (e.g. openai/gpt-4.1, anthropic/claude-sonnet-4-5, ollama/qwen3, or openai/<name> "
    "with --api-base for a local OpenAI-compatible server); API keys are read from the environment "
    "(OPENAI_API_KEY, ANTHROPIC_API_KEY, ...) and never written to disk."
)

LOCAL_PLANNER_TEMPERATURE = 0.2
"""Sampling temperature of a planner served on this machine (loopback --api-base or Ollama)."""
LOCAL_PLANNER_MAX_TOKENS = 1536
"""Longest answer asked of a planner served on this machine: the longest tool call of the journey (write_use_case)
takes well under 1,000 tokens, and a small model that loops (seen: 6,000+ tokens from a 1.5B model at 8 a second)
would otherwise hold the run for many minutes."""

LOCAL_CALL_PREFIX = '<tool_call>\n{"name": "'
"""How a tool call starts in the chat templates of the open models served locally (Qwen2.5, Hermes and others that
use <tool_call> tags). After a turn that ended without a call, a headless run sends it as the start of the answer
(llama.cpp's server continues an assistant message that ends the request): the model then names the tool and
writes its arguments. Seen with Qwen2.5-Coder-1.5B: asked to call a tool, it ended its turn at once (one token);
with this start it wrote the call."""

LOCAL_NAMED_CALL_PREFIX = '<tool_call>\n{{"name": "{name}", "arguments": {{'
"""The same, naming the tool: after a call that failed or changed nothing, a headless run starts the call its
files point to (assistant.next_call) and the model writes the arguments. It ends inside the arguments' brace:
ended before it, Qwen2.5-Coder-1.5B left the brace out. Seen with Qwen2.5-Coder-1.5B: left to name
the tool after a refused go_to_step, it called go_to_step again, ten times."""


def build_model(settings: Settings, session: Session, jobs: JobRunner | None = None) -> Any:
    """LitellmModel when a planner model is configured, else the offline GuidedModel (whose guides
    see the session's jobs through ``jobs``)."""
    model_name = settings.model
    if model_name:
        from assistant.model import LitellmModel

        from skills.data.teacher_speed import is_local

        # A model served on this machine is a small one: sampling at the server's default (0.8 for llama.cpp)
        # makes its tool calls wander; hosted models keep their provider's default (some accept no other).
        local = model_name.startswith("ollama") or is_local(settings.api_base)
        return LitellmModel(model_name, api_base=settings.api_base, timeout_s=settings.timeout,
                            temperature=LOCAL_PLANNER_TEMPERATURE if local else None,
                            max_tokens=LOCAL_PLANNER_MAX_TOKENS if local else None,
                            call_prefix=LOCAL_CALL_PREFIX if local else None,
                            named_call_prefix=LOCAL_NAMED_CALL_PREFIX if local else None, on_this_machine=local)
    from assistant.guided import GuidedModel

    return GuidedModel(session.dir, settings, phase=lambda: session.meta.phase, records=session.records,
                       jobs=jobs or JobRunner(session.dir))


def collect_tools() -> list[Tool]:
    """The tools of every skill (skills.catalog) plus the common tools (skills/common_tools.py)."""
    from skills import catalog

    tools: dict[str, Tool] = {}
    try:
        common = importlib.import_module("skills.common_tools")
    except ModuleNotFoundError:
        common = None
    if common is not None:
        for value in vars(common).values():
            if isinstance(value, Tool):
                tools[value.name] = value
    for skill in catalog.discover():
        for item in skill.tools():
            tools.setdefault(item.name, item)
    return list(tools.values())


def build_agent(settings: Settings, session: Session, approver: Approver | None = None, *,
                tools: list[Tool] | None = None, model: Any = None) -> Agent:
    """The agent for this session. Headless runs: ``settings.yes`` gives the --yes approver when no
    approver is passed; ``settings.policy_file`` adds standing rules from a YAML file."""
    if tools is None:
        from assistant.steps import step_tool

        tools = [*collect_tools(), step_tool(lambda: session.meta.phase, session.records)]
    jobs = JobRunner(session.dir)
    model = model or build_model(settings, session, jobs)
    policy_file = settings.policy_file
    policy = Policy.for_session(session.meta, policy_file)
    conflicts = policy_conflicts(policy, tools)
    if conflicts:
        raise PolicyFileError(f"{policy_file}: " + "; ".join(conflicts))
    if approver is None and settings.yes:
        approver = YesApprover()
    session.meta.planner_model = settings.model
    agent = Agent(session, model, tools, approver=approver, policy=policy, settings=settings,
                  jobs=jobs)
    if not settings.model:
        agent.notices.append(Notice(OFFLINE_BANNER, "info"))
    person_only = sorted(t.name for t in tools if t.person_only)
    if (policy.file_default == "allow" and policy_file) or settings.yes:
        if person_only:
            agent.notices.append(Notice(f"Only the person can allow {', '.join(person_only)}: "
                                        "--yes and policy files do not cover them.", "info"))
    unknown = unknown_tools_in_policy(policy, tools)
    if unknown:
        agent.notices.append(Notice(f"The policy file names tools that do not exist: {', '.join(unknown)}", "warning"))
    return agent
