"""The scripted model itself: it replays turns, checks expectations, and fails on leftovers."""

from __future__ import annotations

import json

import pytest

from assistant.events import TextDelta
from assistant.model import ModelError, ModelReply
from tests.fakes import ScriptedModel, call, say


async def replies(model, messages=None):
    return [item async for item in model.stream(messages or [{"role": "user", "content": "hi"}], [])]


async def test_replays_text_and_tool_calls_in_llm_shapes():
    model = ScriptedModel([say("hello there, this is a longer text"), call("show_file", {"path": "a.yaml"}, text="Look.")])
    first = await replies(model)
    assert "".join(i.text for i in first if isinstance(i, TextDelta)) == "hello there, this is a longer text"
    second = (await replies(model))[-1]
    assert isinstance(second, ModelReply)
    (tool_call,) = second.tool_calls
    assert tool_call["type"] == "function" and tool_call["id"]
    assert json.loads(tool_call["function"]["arguments"]) == {"path": "a.yaml"}
    model.assert_all_used()


async def test_expectations_check_the_request():
    def expects_tool_result(messages, tools):
        assert messages[-1]["role"] == "tool"

    model = ScriptedModel([say("x", expect=expects_tool_result)])
    with pytest.raises(AssertionError):
        await replies(model, [{"role": "user", "content": "hi"}])


async def test_leftover_turns_fail_and_extra_requests_fail():
    model = ScriptedModel([say("one"), say("two")])
    await replies(model)
    with pytest.raises(AssertionError, match="1 scripted turn"):
        model.assert_all_used()
    await replies(model)
    with pytest.raises(AssertionError, match="no scripted turn left"):
        await replies(model)


async def test_scripted_errors_raise_model_error():
    model = ScriptedModel([say("", error="provider down")])
    with pytest.raises(ModelError, match="provider down"):
        await replies(model)


def test_raw_argument_strings_pass_through():
    turn = call("f", '{"broken')
    assert turn.tool_calls[0]["arguments"] == '{"broken'
