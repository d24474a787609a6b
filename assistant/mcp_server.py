"""`tunesmith mcp [SESSION]`: the session as a Model Context Protocol server over stdio.

A coding agent (Claude Code, Cursor, ...) is the planner: it sees the current step's tools (plus the
common ones and a few to follow jobs), the skill playbooks as prompts, and the session's specs,
reports and lineage as resources. Every call goes through the engine's Agent: validated, gated by
the same approvals (assistant.mcp_gate: the person decides, never the client), run, and written to
the conversation log with who decided. Long work runs as the engine's background jobs; their
progress reaches the client as progress notifications, and they outlive the server.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import Any

HELP = "serve a session to a coding agent (Claude Code, Cursor, ...) over MCP on stdio"
LEFT_OUT = {"ask_user"}
"""Skill tools a client does not get: it asks the person in its own chat."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", nargs="?", help="session to open, or to create when it does not exist "
                                                   "(default: a new session)")


def main(args: argparse.Namespace) -> int:
    from assistant.approvals import PolicyFileError
    from assistant.config import Settings
    from assistant.session import SessionError, Workspace

    settings = Settings.from_args(args)
    workspace = Workspace(settings.workspace)
    try:
        if args.session and workspace.exists(args.session):
            session = workspace.open(args.session)
        else:
            session = workspace.create(args.session)
        session.lock()  # one writer per session, like the app
    except SessionError as exc:
        print(f"tunesmith mcp: {exc}", file=sys.stderr)
        return 1
    if settings.yes:
        print("tunesmith mcp: --yes is ignored here; the person approves (elicitation, `tunesmith approve`) "
              "or a --policy-file allows", file=sys.stderr)
    try:
        import anyio

        server = SessionServer(settings, session)
        print(f"tunesmith mcp: session {session.name} at step {session.meta.phase} ({session.dir})", file=sys.stderr)
        anyio.run(server.serve)
    except PolicyFileError as exc:
        print(f"tunesmith mcp: {exc}", file=sys.stderr)
        return 2
    finally:
        session.close()
    return 0


class _ClientPlanner:
    """Stands in for the Model: the MCP client plans, so the agent never asks a model here."""

    name = "mcp-client"

    async def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Any:
        from assistant.model import ModelError

        raise ModelError("the MCP client plans this session; the engine asks no model")
        yield  # pragma: no cover


class SessionServer:
    """One session served to one client; holds the session's lock while it runs."""

    def __init__(self, settings: Any, session: Any) -> None:
        from assistant.jobs import JobRunner
        from assistant.runtime import build_agent

        self.settings, self.session = settings, session
        self.agent = build_agent(settings, session, model=_ClientPlanner())
        self.runner = JobRunner(session.dir)
        self.reattached = [job.id for job in self.runner.reattach()]
        self._lock: Any = None

    # -- what the client sees ------------------------------------------------------------------
    def offered(self) -> dict[str, Any]:
        """The tools of the current step, the common ones and go_to_step (the planner's progressive disclosure)."""
        return {tool.name: tool for tool in self.agent.offered() if tool.name not in LEFT_OUT}

    def instructions(self) -> str:
        from skills import catalog

        steps = ", ".join(skill.name for skill in catalog.discover())
        running = f" Jobs still running from before: {', '.join(self.reattached)} (follow them with wait_job)." \
            if self.reattached else ""
        return (f"tunesmith session {self.session.name}, at step {self.session.meta.phase} (steps: {steps}). "
                "You plan; the tools do the work and write every file in the session folder. Read the current "
                "step's playbook (the prompt named after the step) first. Ask the person yourself, one question "
                "at a time. Tools marked 'needs approval' ask the person; when they answer that approval is "
                "pending, tell the person to run `tunesmith approve " + self.session.name + "` in a terminal, then "
                "call the same tool again. Never decide for the person. Long work starts a background job and "
                "returns; follow it with wait_job or job_status. go_to_step moves back to an earlier step." + running)

    def mcp_tools(self) -> list[Any]:
        import mcp_types as types

        from assistant.mcp_engine_tools import ENGINE_TOOLS

        listed = []
        for tool in self.offered().values():
            schema = tool.args_model.model_json_schema()
            schema.pop("title", None)
            gate = " (needs the person's approval)" if tool.permission == "ask" else ""
            listed.append(types.Tool(name=tool.name, description=tool.description + gate, input_schema=schema))
        for spec in ENGINE_TOOLS.values():
            listed.append(types.Tool(name=spec.name, description=spec.description, input_schema=spec.schema()))
        return listed

    # -- MCP handlers --------------------------------------------------------------------------
    async def on_list_tools(self, ctx: Any, params: Any) -> Any:
        import mcp_types as types

        return types.ListToolsResult(tools=self.mcp_tools())

    async def on_call_tool(self, ctx: Any, params: Any) -> Any:
        from assistant.mcp_engine_tools import ENGINE_TOOLS

        name, arguments = params.name, dict(params.arguments or {})
        if name in ENGINE_TOOLS:
            return await ENGINE_TOOLS[name].run(self, ctx, arguments)
        if name in LEFT_OUT:
            return _text(f"{name} is not offered here: ask the person yourself, in your own chat.", error=True)
        async with self._lock:  # the agent refuses, and logs, a tool of another step with what to do first
            return await self._run_skill_tool(ctx, params, name, arguments)

    async def _run_skill_tool(self, ctx: Any, params: Any, name: str, arguments: dict[str, Any]) -> Any:
        import mcp_types as types

        from assistant.agent import AgentStop
        from assistant.events import DecisionRecorded, Progress, ToolFinished
        from assistant.mcp_gate import InputNeeded, McpApprover, ProgressReporter
        from assistant.pending import ApprovalPending
        from assistant.session import tool_record

        call_id = f"mcp-{uuid.uuid4().hex[:12]}"
        call = {"id": call_id, "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)}}
        self.agent.approver = McpApprover(self.session.name, self.session.dir, ctx, params)
        phase = self.session.meta.phase
        progress = ProgressReporter(ctx)
        finished, decided = None, None
        try:
            planner = _planner(ctx)
            self.session.meta.planner_model = planner
            async for event in self.agent.run_call(call, planner=planner):
                if isinstance(event, Progress):
                    await progress.event(event)
                elif isinstance(event, DecisionRecorded):
                    decided = event
                elif isinstance(event, ToolFinished):
                    finished = event
        except AgentStop as stop:  # the loop's special outcomes (e.g. the same failing call again and again)
            return _text(str(stop), error=True)
        except ApprovalPending as pending:
            self.session.append(tool_record(call_id, name, str(pending), is_error=True, pending=True))
            return _text(str(pending), error=True)
        except InputNeeded as need:
            self.session.append(tool_record(call_id, name, "Waiting for the person's answer in the client's "
                                            "approval form.", is_error=True, pending=True))
            return types.InputRequiredResult(input_requests={need.key: need.request}, request_state=need.key)
        finally:
            self.agent.approver = None
            self.session.save_meta()
        if self.session.meta.phase != phase:
            await _notify(ctx.session.send_tool_list_changed)
        if self.session.meta.phase != phase or (finished is not None and finished.files):
            await _notify(ctx.session.send_resource_list_changed)
        text = finished.content if finished is not None else f"{name} did not run."
        if decided is not None and finished is not None and not finished.is_error:
            text += f"\n(Approved: {decided.decision} by {decided.by}.)"
        if self.session.meta.phase != phase:
            text += f"\n(The session moved to the step {self.session.meta.phase}; its tools are listed now.)"
        return _text(text, error=finished is None or finished.is_error)

    async def on_list_prompts(self, ctx: Any, params: Any) -> Any:
        import mcp_types as types

        from skills import catalog

        return types.ListPromptsResult(prompts=[
            types.Prompt(name=skill.name, title=f"tunesmith step: {skill.name}", description=skill.description)
            for skill in catalog.discover()])

    async def on_get_prompt(self, ctx: Any, params: Any) -> Any:
        import mcp_types as types
        from mcp.shared.exceptions import MCPError

        from skills import catalog

        try:
            skill = catalog.get(params.name)
        except KeyError:
            names = ", ".join(skill.name for skill in catalog.discover())
            raise MCPError(types.INVALID_PARAMS, f"no prompt named {params.name!r}; prompts: {names}") from None
        body = skill.body()
        return types.GetPromptResult(description=skill.description, messages=[
            types.PromptMessage(role="user", content=types.TextContent(type="text", text=body))])

    async def on_list_resources(self, ctx: Any, params: Any) -> Any:
        import mcp_types as types

        from assistant.mcp_engine_tools import session_resources

        return types.ListResourcesResult(resources=[
            types.Resource(uri=self.uri(rel), name=rel, description=what, mime_type=_mime(rel))
            for rel, what in session_resources(self.session.dir)])

    async def on_read_resource(self, ctx: Any, params: Any) -> Any:
        import mcp_types as types
        from mcp.shared.exceptions import MCPError

        from skills.toolkit import ToolError, safe_join

        prefix = self.uri("")
        uri = str(params.uri)
        if not uri.startswith(prefix):
            raise MCPError(types.INVALID_PARAMS, f"{uri} is not a resource of session {self.session.name} "
                                                 f"(its resources start with {prefix})")
        rel = uri[len(prefix):]
        try:
            path = safe_join(self.session.dir, rel)
        except ToolError as exc:
            raise MCPError(types.INVALID_PARAMS, str(exc)) from None
        if not path.is_file():
            raise MCPError(types.INVALID_PARAMS, f"{rel} does not exist in session {self.session.name}")
        text = path.read_text(encoding="utf-8", errors="replace")
        return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, text=text, mime_type=_mime(rel))])

    def uri(self, rel: str) -> str:
        return f"tunesmith://{self.session.name}/{rel}"

    # -- running ---------------------------------------------------------------------------------
    async def serve(self) -> None:
        import anyio
        from mcp.server.lowlevel import NotificationOptions, Server
        from mcp.server.stdio import stdio_server

        from assistant import __version__

        self._lock = anyio.Lock()
        server = Server("tunesmith", version=__version__, instructions=self.instructions(),
                        on_list_tools=self.on_list_tools, on_call_tool=self.on_call_tool,
                        on_list_prompts=self.on_list_prompts, on_get_prompt=self.on_get_prompt,
                        on_list_resources=self.on_list_resources, on_read_resource=self.on_read_resource)
        options = server.create_initialization_options(NotificationOptions(tools_changed=True, resources_changed=True))
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, options)


def _planner(ctx: Any) -> str:
    """``mcp:<client name>``: who planned a call, in the log and the sessions table."""
    params = ctx.session.client_params
    info = params.client_info if params is not None else None
    return f"mcp:{info.name}" if info is not None and info.name else "mcp:client"


def _text(text: str, error: bool = False) -> Any:
    import mcp_types as types

    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=error)


async def _notify(send: Any) -> None:
    """Tell the client the step's tools or the session's files changed (a client that cannot hear it re-lists)."""
    try:
        await send()
    except Exception:  # noqa: BLE001 (2026-07-28 connections hear changes only on subscriptions)
        pass


def _mime(rel: str) -> str:
    return {".yaml": "application/yaml", ".yml": "application/yaml", ".json": "application/json",
            ".jsonl": "application/jsonl", ".md": "text/markdown", ".py": "text/x-python"}.get(Path(rel).suffix,
                                                                                              "text/plain")
