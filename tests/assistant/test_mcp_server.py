"""`tunesmith mcp` driven by a real MCP client (the mcp package's stdio client spawning the command):
the step's tools, prompts and resources, the use-case step to an approved spec, approvals through
elicitation (both protocol eras), a rejection, a pending approval given with `tunesmith approve` in a
terminal, person-only decisions that never pass through the client, and the lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "specs" / "examples"


def server(workspace: Path, *args: str) -> StdioServerParameters:
    env = {**os.environ, "TUNESMITH_QUALITY_EMBEDDINGS": "0"}
    return StdioServerParameters(command=sys.executable, args=["-m", "assistant", "--workspace", str(workspace), "mcp", *args],
                                 cwd=str(ROOT), env=env)


def use_case_args() -> dict[str, Any]:
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec

    spec = load_spec(EXAMPLES / "bank_transactions.use_case.yaml", UseCaseSpec).model_dump(mode="json")
    return {key: spec[key] for key in ("name", "business_problem", "primary_users", "task_type", "contract",
                                        "success_tenets", "constraints")}


class Person:
    """Answers elicitation forms as a person would, and keeps what the form showed."""

    def __init__(self, *answers: types.ElicitResult) -> None:
        self.answers = list(answers)
        self.shown: list[str] = []

    async def __call__(self, ctx: Any, params: Any) -> types.ElicitResult:
        self.shown.append(params.message)
        assert params.requested_schema["required"] == ["decision"]
        return self.answers.pop(0)


def allow(kind: str = "allow_once", comment: str | None = None) -> types.ElicitResult:
    content = {"decision": kind, **({"comment": comment} if comment else {})}
    return types.ElicitResult(action="accept", content=content)


def records(workspace: Path, session: str) -> list[dict[str, Any]]:
    path = workspace / "sessions" / session / "conversation.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def decisions(workspace: Path, session: str) -> list[tuple[str, str, str]]:
    return [(r["tool"], r["decision"], r["by"]) for r in records(workspace, session) if r["type"] == "decision"]


def names(result: types.ListToolsResult) -> set[str]:
    return {tool.name for tool in result.tools}


def text(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


async def test_lists_the_steps_tools_prompts_resources_and_holds_the_lock(tmp_path):
    from assistant.session import SessionError, Workspace

    ws = tmp_path / "ws"
    async with Client(server(ws, "s1"), mode="legacy", cache=None) as client:
        assert "tunesmith session s1, at step use_case" in client.instructions
        tools = names(await client.list_tools())
        assert {"write_use_case", "approve_use_case", "show_file", "go_to_step", "session_status", "wait_job", "job_status"} <= tools
        assert not tools & {"generate_data", "start_training", "ask_user"}, "only this step's tools"
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert "needs the person's approval" in listed["write_use_case"].description
        assert "success_tenets" in listed["write_use_case"].input_schema["properties"]
        prompts = {prompt.name for prompt in (await client.list_prompts()).prompts}
        assert prompts == {"use_case", "data", "train", "evaluate", "export"}
        playbook = await client.get_prompt("use_case")
        from skills import catalog
        assert playbook.messages[0].content.text == catalog.get("use_case").body()
        assert (await client.list_resources()).resources == []
        other = await client.call_tool("generate_data", {})
        assert other.is_error and "is a tool of the data step" in text(other), text(other)
        with pytest.raises(SessionError, match="open in another tunesmith"):
            Workspace(ws).open("s1").lock()
        second = subprocess.run([sys.executable, "-m", "assistant", "--workspace", str(ws), "mcp", "s1"], cwd=ROOT,
                                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert second.returncode == 1 and "open in another tunesmith" in second.stderr
    Workspace(ws).open("s1").lock()  # given back when the client closed


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_use_case_step_to_an_approved_spec_through_elicitation(tmp_path, mode):
    """legacy: the 2025 handshake (Claude Code, Cursor) asks over the back-channel; auto: 2026-07-28,
    the client answers the form and retries the call."""
    ws = tmp_path / "ws"
    person = Person(allow(), allow())
    heard: list[str] = []

    async def hear(message: Any) -> None:
        if isinstance(message, types.ServerNotification):
            heard.append(message.method)

    async with Client(server(ws, "s1"), mode=mode, elicitation_callback=person, cache=None, message_handler=hear,
                      client_info=types.Implementation(name="agent-under-test", version="1")) as client:
        written = await client.call_tool("write_use_case", use_case_args())
        assert not written.is_error, text(written)
        assert "Wrote use_case.yaml (status: draft)" in text(written)
        assert "by person (MCP elicitation)" in text(written)
        card = person.shown[0]
        assert "Approve write_use_case?" in card and "Changes:\n```diff" in card and "+name: Transaction categorizer" in card
        resources = {str(r.uri) for r in (await client.list_resources()).resources}
        assert "tunesmith://s1/use_case.yaml" in resources
        read = await client.read_resource("tunesmith://s1/use_case.yaml")
        assert "status: draft" in read.contents[0].text
        approved = await client.call_tool("approve_use_case", {})
        assert not approved.is_error, text(approved)
        assert "moved to the step data" in text(approved)
        if mode == "legacy":  # 2026-07-28 clients hear list changes only on subscriptions; they re-list
            assert "notifications/tools/list_changed" in heard and "notifications/resources/list_changed" in heard
        tools = names(await client.list_tools())
        assert {"generate_data", "write_data_generation_spec", "waive_findings"} <= tools
        assert "write_use_case" not in tools
    spec = (ws / "sessions" / "s1" / "use_case.yaml").read_text(encoding="utf-8")
    assert "status: approved" in spec
    assert json.loads((ws / "sessions" / "s1" / "session.json").read_text())["phase"] == "data"
    assert decisions(ws, "s1") == [("write_use_case", "allow_once", "person (MCP elicitation)"),
                                   ("approve_use_case", "allow_once", "person (MCP elicitation)")]
    calls = [r for r in records(ws, "s1") if r["type"] == "assistant"]
    assert calls and all(r["model"] == "mcp:agent-under-test" for r in calls), "who planned each call"
    assert not person.answers


async def test_rejected_approvals_run_nothing_and_the_comment_reaches_the_client(tmp_path):
    ws = tmp_path / "ws"
    person = Person(types.ElicitResult(action="decline"), allow("reject_once", "the tenets are too vague"))
    async with Client(server(ws, "s1"), mode="legacy", elicitation_callback=person, cache=None) as client:
        declined = await client.call_tool("write_use_case", use_case_args())
        assert declined.is_error and "rejected this call" in text(declined)
        commented = await client.call_tool("write_use_case", use_case_args())
        assert commented.is_error and "the tenets are too vague" in text(commented)
    assert not (ws / "sessions" / "s1" / "use_case.yaml").exists()
    assert decisions(ws, "s1") == [("write_use_case", "reject_once", "person (MCP elicitation)")] * 2


def approve_in_terminal(ws: Path, session: str, typed: str) -> tuple[int, str]:
    """`tunesmith approve SESSION` with a pseudo-terminal as its terminal; ``typed`` is what the person types."""
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "--workspace", str(ws), "approve", session],
                            stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, close_fds=True)
    os.close(slave)
    os.write(master, typed.encode())
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return proc.wait(timeout=60), out.decode("utf-8", "replace")


async def test_pending_approval_given_with_tunesmith_approve(tmp_path):
    import anyio

    ws = tmp_path / "ws"
    async with Client(server(ws, "s1"), mode="legacy", cache=None) as client:  # no elicitation
        pending = await client.call_tool("write_use_case", use_case_args())
        assert pending.is_error and "Approval pending" in text(pending) and "`tunesmith approve s1`" in text(pending)
        assert not (ws / "sessions" / "s1" / "use_case.yaml").exists()
        status = await client.call_tool("session_status", {})
        assert "Waiting for the person's approval of write_use_case" in text(status)
        no_terminal = subprocess.run([sys.executable, "-m", "assistant", "--workspace", str(ws), "approve", "s1"],
                                     cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
        assert no_terminal.returncode == 2 and "interactive terminal" in no_terminal.stderr
        code, shown = await anyio.to_thread.run_sync(approve_in_terminal, ws, "s1", "a\nlooks right\n")
        assert code == 0, shown
        assert "Approve write_use_case?" in shown and "+name: Transaction categorizer" in shown
        assert "Recorded: allow once for write_use_case" in shown
        again = await client.call_tool("write_use_case", use_case_args())
        assert not again.is_error, text(again)
        assert "by person (tunesmith approve)" in text(again)
        third = await client.call_tool("write_use_case", use_case_args())
        assert third.is_error and "Approval pending" in text(third), "a decision is used once"
    assert (ws / "sessions" / "s1" / "use_case.yaml").exists()
    assert decisions(ws, "s1") == [("write_use_case", "allow_once", "person (tunesmith approve)")]
    decided = [r for r in records(ws, "s1") if r["type"] == "decision"][0]
    assert decided["comment"] == "looks right"


async def test_person_only_decisions_never_pass_through_the_client(tmp_path):
    """A waiver is the person's alone: not the client's elicitation answer, not a policy file; the
    person gives it with `tunesmith approve`, which asks them to waive each finding."""
    import anyio

    from assistant.session import Workspace
    from specs.quality import Finding, QualityReport

    ws = tmp_path / "ws"
    session = Workspace(ws).create("s1")
    session.meta.phase = "data"
    session.save_meta()
    report = QualityReport(train_records=60, eval_records=10, findings=[
        Finding(code="pii_in_outputs", severity="high", message="3 outputs contain an email address", rows=[1, 4, 9])])
    session.write_text("data/quality.json", report.model_dump_json(indent=2))
    session.close()
    refused = tmp_path / "refused.yaml"
    refused.write_text("tools:\n  waive_findings: allow\n")
    started = subprocess.run([sys.executable, "-m", "assistant", "--workspace", str(ws), "mcp", "s1", "--policy-file",
                              str(refused)], cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert started.returncode == 2 and "only the person can allow waive_findings" in started.stderr
    policy = tmp_path / "policy.yaml"
    policy.write_text("default: allow\n")
    person = Person(allow())
    waiver = {"codes": ["pii_in_outputs"], "comment": "test addresses"}
    async with Client(server(ws, "s1", "--policy-file", str(policy)), mode="legacy", elicitation_callback=person,
                      cache=None) as client:
        waived = await client.call_tool("waive_findings", waiver)
        assert waived.is_error and "Only the person may decide" in text(waived)
        assert person.shown == [], "the client is never asked"
        code, shown = await anyio.to_thread.run_sync(approve_in_terminal, ws, "s1", "A\nq\n")
        assert code == 1 and "Allow always" not in shown, "no standing rule for a person-only decision"
        code, shown = await anyio.to_thread.run_sync(approve_in_terminal, ws, "s1", "a\ny\nthey are test data\n")
        assert code == 0, shown
        assert "Waive 'pii_in_outputs: 3 outputs contain an email address'?" in shown
        again = await client.call_tool("waive_findings", waiver)
        assert not again.is_error, text(again)
        assert person.shown == []
    quality = json.loads((ws / "sessions" / "s1" / "data" / "quality.json").read_text())
    assert quality["findings"][0]["waived"] is True
    assert decisions(ws, "s1") == [("waive_findings", "allow_once", "person (tunesmith approve)")]


def test_the_readme_configurations_start_this_server():
    """The README's Claude Code command and .mcp.json name the same command line, and it and the
    .cursor/mcp.json one are `tunesmith mcp SESSION` (Cursor's with the project's workspace)."""
    import re

    from assistant.cli import build_parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## From a coding agent (MCP)", 1)[1].split("\n## ", 1)[0]
    configs = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, flags=re.S)]
    assert len(configs) == 2, "one .mcp.json and one .cursor/mcp.json"
    added = re.search(r"claude mcp add --scope project tunesmith -- (.+)", section).group(1).split()
    claude, cursor = (config["mcpServers"]["tunesmith"] for config in configs)
    assert [claude["command"], *claude["args"]] == added
    for entry in (claude, cursor):
        assert entry["command"] == "tunesmith"
        args = build_parser(entry["args"]).parse_args(entry["args"])
        assert args.extra_module == "assistant.mcp_server" and args.session == "bank"
    assert build_parser(cursor["args"]).parse_args(cursor["args"]).workspace == "${workspaceFolder}/tunesmith"
