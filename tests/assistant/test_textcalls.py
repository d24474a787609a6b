"""Tool calls written in the message text (as small local models do) are taken as calls when they name
a known tool, through real litellm streaming from the loopback server; the log says how they came."""

from __future__ import annotations

import json

import pytest

from assistant.agent import Agent
from assistant.events import ToolFinished, TurnEnded
from assistant.model import LitellmModel
from assistant.session import Workspace
from assistant.textcalls import find_calls
from skills.toolkit import ToolContext, tool
from tests.fakes import collect
from tests.loopback import LoopbackServer, Reply

NAMES = {"lookup", "show_file"}


@pytest.mark.parametrize("text, remaining", [
    ('```json\n{"name": "lookup", "arguments": {"merchant": "Aldi"}}\n```', ""),
    ('Let me check.\n```\n{"name": "lookup", "arguments": {"merchant": "Aldi"}}\n```\nOne moment.', "Let me check.\n\nOne moment."),
    ('{"name": "lookup", "arguments": {"merchant": "Aldi"}}', ""),
    ('I will look it up: {"name": "lookup", "parameters": {"merchant": "Aldi"}}', "I will look it up:"),
    ('<tool_call>\n{"name": "lookup", "arguments": {"merchant": "Aldi"}}\n</tool_call>', ""),
    ('{"type": "function", "function": {"name": "lookup", "arguments": "{\\"merchant\\": \\"Aldi\\"}"}}', ""),
])
def test_each_written_form_becomes_one_call(text, remaining):
    found = find_calls(text, NAMES)
    assert found is not None and found.remaining == remaining
    (call,) = found.calls
    assert call["function"]["name"] == "lookup" and json.loads(call["function"]["arguments"]) == {"merchant": "Aldi"}


@pytest.mark.parametrize("text", [
    "Aldi is a supermarket, so groceries.",
    '```json\n{"name": "fly_to_moon", "arguments": {}}\n```',
    '{"category": "groceries", "confidence": 0.9}',
    '```json\n{"name": "lookup", "arguments": {"merchant": "Al',
    "",
])
def test_text_that_is_not_a_known_call_stays_text(text):
    assert find_calls(text, NAMES) is None


@pytest.mark.parametrize("text, arguments, remaining", [
    ('lookup(merchant="Aldi")', {"merchant": "Aldi"}, ""),
    ("Checking.\n```python\nlookup(merchant='Aldi', exact=true, limit=None)\n```", {"merchant": "Aldi", "exact": True, "limit": None},
     "Checking."),
    ('lookup(merchant="Aldi (Berlin), \\"the\\" one", tags=["a", "b"], where={"city": "Berlin"})',
     {"merchant": 'Aldi (Berlin), "the" one', "tags": ["a", "b"], "where": {"city": "Berlin"}}, ""),
])
def test_a_python_style_call_becomes_a_call(text, arguments, remaining):
    # Qwen2.5-Coder-1.5B under llama.cpp wrote `ask_user(question="...", choices=[...], allow_free_text=false)`
    found = find_calls(text, NAMES)
    assert found is not None and found.remaining == remaining
    (call,) = found.calls
    assert call["function"]["name"] == "lookup" and json.loads(call["function"]["arguments"]) == arguments


def test_a_call_inside_extra_braces_after_an_echoed_tool_list_is_the_call_not_the_schema():
    # Qwen2.5-Coder-1.5B copied a tool's schema from its prompt in <tools>, then wrote the call in doubled braces
    text = ('<tools>\n{"type": "function", "function": {"name": "lookup", "description": "Look up a merchant.", '
            '"parameters": {"type": "object", "properties": {"merchant": {"type": "string"}}, "required": ["merchant"]}}}\n'
            '</tools>\n{{"name": "lookup", "arguments": {"merchant": "Aldi"}}}')
    found = find_calls(text, NAMES)
    assert found is not None and found.remaining == ""
    (call,) = found.calls
    assert json.loads(call["function"]["arguments"]) == {"merchant": "Aldi"}
    echoed_only = text.split("</tools>")[0] + "</tools>"
    assert find_calls(echoed_only, NAMES) is None  # a schema alone is no call
    schema = '{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}'
    assert find_calls(schema, NAMES) is None


def test_positional_arguments_follow_the_tools_parameter_order_when_it_is_known():
    order = {"lookup": ["merchant", "exact"], "show_file": ["path"]}
    found = find_calls('show_file("use_case.yaml")\nlookup("Aldi", True)', NAMES, params=order)
    assert [json.loads(c["function"]["arguments"]) for c in found.calls] == [{"path": "use_case.yaml"},
                                                                             {"merchant": "Aldi", "exact": True}]
    assert find_calls('show_file("a", "b")', NAMES, params=order) is None  # more than the tool takes


def test_two_python_style_calls_in_one_message_run_in_order():
    text = 'show_file(path="use_case.yaml")\n\nlookup(merchant="Aldi")'
    found = find_calls(text, NAMES)
    assert [c["function"]["name"] for c in found.calls] == ["show_file", "lookup"] and found.remaining == ""


@pytest.mark.parametrize("text", [
    "I will call lookup next.",
    'lookup("Aldi")',  # positional, and the tool's parameter order not given: which one is meant is a guess
    'lookup(merchant=open("/etc/passwd").read())',  # not a literal: never evaluated
    'lookup(**{"merchant": "Aldi"})',
    'fly_to_moon(speed="fast")',
    'lookup(merchant="Aldi"',
])
def test_python_style_text_that_is_not_a_literal_known_call_stays_text(text):
    assert find_calls(text, NAMES) is None


def test_two_tagged_calls():
    text = ('<tool_call>{"name": "lookup", "arguments": {"merchant": "A"}}</tool_call>\n'
            '<tool_call>{"name": "show_file", "arguments": {"path": "x"}}</tool_call>')
    found = find_calls(text, NAMES, id_prefix="t")
    assert [c["function"]["name"] for c in found.calls] == ["lookup", "show_file"]
    assert [c["id"] for c in found.calls] == ["t_0", "t_1"]


@tool("always")
def lookup(ctx: ToolContext, merchant: str) -> str:
    """Look up a merchant's category.

    Args:
        merchant: The merchant name.
    """
    return f"{merchant}: groceries"


async def test_a_call_written_in_the_content_runs_through_litellm_and_the_log_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")
    written = 'I will look it up.\n```json\n{"name": "lookup", "arguments": {"merchant": "Aldi"}}\n```'
    with LoopbackServer([Reply(text=written), Reply(text="Aldi is groceries.")]) as server:
        session = Workspace(tmp_path / "ws").create("s")
        model = LitellmModel("openai/loopback", api_base=server.api_base, timeout_s=5, max_retries=0)
        events = await collect(Agent(session, model, [lookup], system_prompt=lambda s: "Be brief.").send("Aldi?"))
        assert [e.content for e in events if isinstance(e, ToolFinished)] == ["Aldi: groceries"]
        assert events[-1] == TurnEnded("answer")
        sent = server.requests[1]["messages"]
    assistant = [r for r in session.records() if r["type"] == "assistant"][0]
    assert assistant["recovered_from_text"] == written and assistant["message"]["content"] == "I will look it up."
    assert assistant["message"]["tool_calls"][0]["function"]["name"] == "lookup"
    assert sent[-2]["tool_calls"][0]["function"]["name"] == "lookup" and sent[-1]["role"] == "tool"


async def test_a_reply_cut_off_at_the_length_limit_is_dropped_and_the_model_told_to_be_short(tmp_path, monkeypatch):
    # a small local model that loops writes on until max_tokens; the run neither keeps that text nor stops
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")
    rambling = "<tools>\n" + "I will look up the merchant and then " * 40
    with LoopbackServer([Reply(text=rambling, finish_reason="length", completion_tokens=1536),
                         Reply(text='lookup(merchant="Aldi")'), Reply(text="Aldi is groceries.")]) as server:
        session = Workspace(tmp_path / "ws").create("s")
        model = LitellmModel("openai/loopback", api_base=server.api_base, timeout_s=5, max_retries=0, max_tokens=1536)
        events = await collect(Agent(session, model, [lookup], system_prompt=lambda s: "Be brief.").send("Aldi?"))
        assert [e.content for e in events if isinstance(e, ToolFinished)] == ["Aldi: groceries"]
        assert server.requests[0]["max_tokens"] == 1536
        second = server.requests[1]["messages"]
    assert "cut off and dropped" in second[-1]["content"] and "1536 tokens" in second[-1]["content"]
    assert not any(rambling[:40] in str(m.get("content")) for m in second)
