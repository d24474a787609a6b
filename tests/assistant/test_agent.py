"""The agent loop with a scripted model and real sessions and tools."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from assistant.agent import Agent, format_validation, unanswered_calls
from assistant.events import (ApprovalRequested, DecisionRecorded, Notice, PhaseChanged, Progress, Question,
                              TextDelta, ToolFinished, TurnEnded, Usage)
from assistant.session import Workspace
from skills.toolkit import ToolContext, ToolError, ToolResult, tool
from tests.fakes import FixedApprover, HangingApprover, QueueApprover, call, collect, kinds, say, scripted  # noqa: F401

RAN: list[str] = []


@tool("always")
def count_words(ctx: ToolContext, text: str, minimum: int = 0) -> str:
    """Count the words of a text.

    Args:
        text: The text.
        minimum: Smallest count worth reporting.
    """
    RAN.append("count_words")
    return f"{len(text.split())} words"


@tool("ask")
def spend_money(ctx: ToolContext, dollars: float) -> ToolResult:
    """Spend money (needs approval).

    Args:
        dollars: How much.
    """
    RAN.append("spend_money")
    for step in range(3):
        ctx.emit({"type": "progress", "task": "spending", "done": step + 1, "total": 3, "note": "ok"})
    return ToolResult(content=f"spent {dollars}", files=["receipt.txt"], data={"waived": [w.to_dict() for w in ctx.approved_waivers]})


@tool("never")
def delete_everything(ctx: ToolContext) -> str:
    """Never allowed."""
    RAN.append("delete_everything")
    return "gone"


@tool("always")
def ask_user(ctx: ToolContext, question: str, choices: list[str] = []) -> ToolResult:  # noqa: B006 - a tool argument: pydantic copies the default
    """Ask the person.

    Args:
        question: The question.
        choices: Likely answers.
    """
    return ToolResult(content=f"Asked: {question}", data={"question": question, "choices": choices}, ends_turn=True)


@tool("always")
def finish_step(ctx: ToolContext) -> ToolResult:
    """Move on."""
    return ToolResult(content="step approved", phase="data")


@tool("always")
def broken(ctx: ToolContext) -> str:
    """A tool with a bug."""
    raise RuntimeError("boom")


@tool("always")
def refuses(ctx: ToolContext) -> str:
    """A tool that reports a problem the model can fix."""
    raise ToolError("labels must not be empty")


TOOLS = [count_words, spend_money, delete_everything, ask_user, finish_step, broken, refuses]


@pytest.fixture
def session(tmp_path):
    RAN.clear()
    return Workspace(tmp_path / "ws").create("s1")


def make_agent(session, model, approver=None, **kwargs):
    return Agent(session, model, TOOLS, approver=approver, system_prompt=lambda s: "You are a test.", **kwargs)


def tool_messages(session):
    return [m for m in session.messages() if m["role"] == "tool"]


async def test_text_answer_streams_and_is_recorded(session, scripted):
    model = scripted([say("Hello! How can I help you today?")])
    events = await collect(make_agent(session, model).send("hi"))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello! How can I help you today?"
    assert isinstance(events[-1], TurnEnded) and events[-1].reason == "answer"
    assert [m["role"] for m in session.messages()] == ["user", "assistant"]
    assert model.requests[0][0][0] == {"role": "system", "content": "You are a test."}
    usage = [e for e in events if isinstance(e, Usage)][-1]
    assert (usage.prompt_tokens, usage.completion_tokens) == (10, 5)
    reopened = Workspace(session.dir.parent.parent).open("s1")
    assert reopened.meta.usage.prompt_tokens == 10


async def test_always_tool_runs_without_a_decision(session, scripted):
    model = scripted([call("count_words", {"text": "a b c"}), say("Three words.")])
    events = await collect(make_agent(session, model).send("count"))
    assert RAN == ["count_words"]
    assert not [e for e in events if isinstance(e, (ApprovalRequested, DecisionRecorded))]
    assert tool_messages(session)[0]["content"] == "3 words"
    assert model.requests[1][0][-1]["role"] == "tool"


async def test_unknown_tool_becomes_an_error_the_model_reads(session, scripted):
    def sees_error(messages, tools):
        assert messages[-1]["role"] == "tool"
        assert "no tool named 'fly_to_moon'" in messages[-1]["content"]
        assert "count_words" in messages[-1]["content"]

    model = scripted([call("fly_to_moon", {"speed": 3}), say("Sorry, I cannot do that.", expect=sees_error)])
    events = await collect(make_agent(session, model).send("go"))
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert finished[0].is_error and events[-1].reason == "answer"


async def test_malformed_json_arguments_become_an_error_the_model_reads(session, scripted):
    def sees_error(messages, tools):
        assert "not valid JSON" in messages[-1]["content"]

    model = scripted([
        call("count_words", '{"text": "a b'),
        say("Let me retry.", expect=sees_error, tool_calls=[{"name": "count_words", "arguments": {"text": "a b"}}]),
        say("Two words."),
    ])
    events = await collect(make_agent(session, model).send("count"))
    assert RAN == ["count_words"]
    assert [e.is_error for e in events if isinstance(e, ToolFinished)] == [True, False]


async def test_arguments_that_fail_validation_name_the_field(session, scripted):
    def sees_error(messages, tools):
        content = messages[-1]["content"]
        assert "invalid arguments for count_words" in content
        assert "`minimum`" in content and "`text`" in content

    model = scripted([call("count_words", {"minimum": "lots"}), say("I will fix it.", expect=sees_error)])
    await collect(make_agent(session, model).send("count"))
    assert RAN == []


async def test_non_object_arguments_are_an_error(session, scripted):
    model = scripted([call("count_words", "[1, 2]"), say("ok")])
    await collect(make_agent(session, model).send("count"))
    assert "must be a JSON object" in tool_messages(session)[0]["content"]


async def test_tool_errors_and_crashes_become_results(session, scripted):
    model = scripted([call("refuses"), call("broken"), say("Both failed.")])
    await collect(make_agent(session, model).send("go"))
    contents = [m["content"] for m in tool_messages(session)]
    assert contents[0] == "Error: labels must not be empty"
    assert "RuntimeError: boom" in contents[1]


async def test_ask_tool_with_approval_runs_and_forwards_progress(session, scripted):
    approver = FixedApprover("allow_once", waive=["dup"])
    model = scripted([call("spend_money", {"dollars": 2.5}), say("Spent.")])
    events = await collect(make_agent(session, model, approver).send("spend"))
    assert RAN == ["spend_money"]
    order = kinds(events)
    assert order.index("ApprovalRequested") < order.index("DecisionRecorded") < order.index("ToolFinished")
    request = approver.requests[0]
    assert request.tool == "spend_money" and request.arguments == {"dollars": 2.5}
    assert "spend_money" in request.preview["summary"]
    assert [e.done for e in events if isinstance(e, Progress)] == [1, 2, 3]
    assert [e for e in events if isinstance(e, Progress)][0].fields == {"note": "ok"}
    finished = [e for e in events if isinstance(e, ToolFinished)][0]
    assert finished.files == ["receipt.txt"] and finished.data == {"waived": [{"code": "dup", "message": ""}]}
    logged = [r for r in session.records() if r.get("type") == "decision"]
    assert logged[-1]["waive"] == [{"code": "dup", "message": ""}]
    decisions = [r for r in session.records() if r["type"] == "decision"]
    assert decisions[0]["decision"] == "allow_once" and decisions[0]["by"] == "person"
    assert session.meta.pending_approval is None


async def test_rejection_comment_is_what_the_model_reads(session, scripted):
    def sees_comment(messages, tools):
        assert "too expensive, use 1 dollar" in messages[-1]["content"]

    approver = QueueApprover(["reject_once"])
    approver.decisions[0].comment = "too expensive, use 1 dollar"
    model = scripted([call("spend_money", {"dollars": 9}), say("I will use 1 dollar.", expect=sees_comment)])
    await collect(make_agent(session, model, approver).send("spend"))
    assert RAN == []


async def test_rejection_without_comment_ends_the_turn(session, scripted):
    model = scripted([call("spend_money", {"dollars": 9})])
    events = await collect(make_agent(session, model, FixedApprover("reject_once")).send("spend"))
    assert events[-1] == TurnEnded("answer") and RAN == []
    assert "ask what to change" in tool_messages(session)[0]["content"]


async def test_no_approver_rejects_and_records_it(session, scripted):
    model = scripted([call("spend_money", {"dollars": 1})])
    events = await collect(make_agent(session, model).send("spend"))
    assert RAN == [] and not [e for e in events if isinstance(e, ApprovalRequested)]
    decision = [e for e in events if isinstance(e, DecisionRecorded)][0]
    assert (decision.decision, decision.by) == ("reject_once", "no-approver")


async def test_never_tool_never_runs_even_with_yes(session, scripted):
    from assistant.approvals import YesApprover

    model = scripted([call("delete_everything"), say("It is disabled.")])
    await collect(make_agent(session, model, YesApprover()).send("delete"))
    assert RAN == []
    assert "disabled" in tool_messages(session)[0]["content"]


async def test_allow_always_persists_in_the_session(session, scripted):
    model = scripted([call("spend_money", {"dollars": 1}), say("ok"), call("spend_money", {"dollars": 2}), say("ok")])
    approver = QueueApprover(["allow_always"])
    agent = make_agent(session, model, approver)
    await collect(agent.send("spend"))
    reopened = Workspace(session.dir.parent.parent).open("s1")
    assert reopened.meta.approval_rules == {"spend_money": "allow"}
    agent2 = make_agent(reopened, model, approver)
    events = await collect(agent2.send("again"))
    assert RAN == ["spend_money", "spend_money"]
    assert [e.by for e in events if isinstance(e, DecisionRecorded)] == ["policy"]


async def test_ask_user_ends_the_turn_with_a_question(session, scripted):
    model = scripted([ScriptedTwoCalls := call("ask_user", {"question": "Who uses it?", "choices": ["Ops", "Finance"]})])
    ScriptedTwoCalls.tool_calls.append({"name": "count_words", "arguments": {"text": "x"}, "id": None})
    events = await collect(make_agent(session, model).send("start"))
    question = [e for e in events if isinstance(e, Question)][0]
    assert question.text == "Who uses it?" and question.choices == ["Ops", "Finance"]
    assert events[-1] == TurnEnded("question")
    assert RAN == []  # the second call was not run, but answered so the log stays valid
    assert len(tool_messages(session)) == 2 and unanswered_calls(session.records()) == []


async def test_tool_result_phase_moves_the_session(session, scripted):
    model = scripted([call("finish_step"), say("On to data.")])
    events = await collect(make_agent(session, model).send("approve"))
    assert PhaseChanged("data") in events
    assert Workspace(session.dir.parent.parent).open("s1").meta.phase == "data"


async def test_step_limit_ends_with_a_notice(session, scripted):
    model = scripted([call("count_words", {"text": "a"}) for _ in range(3)])
    events = await collect(make_agent(session, model, max_steps=3).send("loop"))
    assert events[-1] == TurnEnded("limit")
    assert any(isinstance(e, Notice) and "3 steps" in e.text for e in events)


async def test_empty_reply_is_a_format_error_the_model_reads(session, scripted):
    def sees_nudge(messages, tools):
        assert "reply was empty" in messages[-1]["content"]

    model = scripted([say(""), say("Here I am.", expect=sees_nudge)])
    events = await collect(make_agent(session, model).send("hi"))
    assert events[-1] == TurnEnded("answer")


async def test_model_error_becomes_a_notice_and_the_session_goes_on(session, scripted):
    model = scripted([say("", error="The provider refused the credentials."), say("Working now.")])
    agent = make_agent(session, model)
    events = await collect(agent.send("hi"))
    assert events[-1] == TurnEnded("error")
    assert any(isinstance(e, Notice) and e.level == "error" for e in events)
    events = await collect(agent.send("again"))
    assert events[-1] == TurnEnded("answer")
    assert [m["role"] for m in session.messages()] == ["user", "user", "assistant"]


async def test_tool_runs_in_a_thread_and_the_loop_stays_live(session, scripted):
    started, release = threading.Event(), threading.Event()

    @tool("always")
    def slow(ctx: ToolContext) -> str:
        """Slow work."""
        started.set()
        release.wait(5)
        return "done"

    model = scripted([call("slow"), say("ok")])
    agent = Agent(session, model, [slow], system_prompt=lambda s: "")
    ticks = 0

    async def ticker():
        nonlocal ticks
        while not started.is_set():
            await asyncio.sleep(0.01)
        for _ in range(5):
            ticks += 1
            await asyncio.sleep(0.01)
        release.set()

    results = await asyncio.gather(collect(agent.send("go")), ticker())
    assert ticks == 5 and results[0][-1] == TurnEnded("answer")


async def test_interrupt_stops_before_the_next_tool(session, scripted):
    model = scripted([call("count_words", {"text": "a"})])
    model.turns[0].tool_calls.append({"name": "count_words", "arguments": {"text": "b"}, "id": None})
    agent = make_agent(session, model)
    events = []
    async for event in agent.send("go"):
        events.append(event)
        if isinstance(event, ToolFinished):
            agent.interrupt()
    assert events[-1] == TurnEnded("interrupted") and RAN == ["count_words"]
    assert unanswered_calls(session.records()) == []


async def test_pending_approval_is_re_asked_on_resume(session, scripted):
    model = scripted([call("spend_money", {"dollars": 3})])
    agent = make_agent(session, model, HangingApprover())
    task = asyncio.ensure_future(collect(agent.send("spend")))
    for _ in range(100):
        await asyncio.sleep(0.01)
        if session.meta.pending_approval:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    reopened = Workspace(session.dir.parent.parent).open("s1")
    assert reopened.meta.pending_approval["tool"] == "spend_money"
    approver = FixedApprover("allow_once")
    model.add(say("Spent 3."))
    events = await collect(make_agent(reopened, model, approver).resume())
    assert approver.requests[0].arguments == {"dollars": 3}
    assert RAN == ["spend_money"] and events[-1] == TurnEnded("answer")
    assert Workspace(session.dir.parent.parent).open("s1").meta.pending_approval is None


async def test_resume_with_nothing_pending_does_nothing(session, scripted):
    model = scripted([say("hi")])
    agent = make_agent(session, model)
    await collect(agent.send("hello"))
    assert await collect(agent.resume()) == []


async def test_notices_are_shown_once(session, scripted):
    model = scripted([say("a"), say("b")])
    agent = make_agent(session, model)
    agent.notices.append(Notice("banner"))
    first = await collect(agent.send("x"))
    second = await collect(agent.send("y"))
    assert Notice("banner") in first and Notice("banner") not in second


def test_format_validation_names_fields():
    from pydantic import ValidationError

    try:
        count_words.validate({"text": 3, "extra": 1})
    except ValidationError as exc:
        text = format_validation(exc)
    assert "`text`" in text and "`extra`" in text and json.dumps(3) in text


async def test_questions_are_recorded_for_replay(session, scripted):
    model = scripted([call("ask_user", {"question": "Which labels?", "choices": ["a", "b"]})])
    await collect(make_agent(session, model).send("start"))
    (record,) = [r for r in session.records() if r["type"] == "question"]
    assert record["text"] == "Which labels?" and record["choices"] == ["a", "b"] and record["allow_free_text"]


async def test_send_after_a_cancelled_turn_closes_its_open_calls(session, scripted):
    model = scripted([call("spend_money", {"dollars": 3}), say("Fine, no spending.")])
    agent = make_agent(session, model, HangingApprover())
    task = asyncio.ensure_future(collect(agent.send("spend")))
    while not session.meta.pending_approval:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await collect(agent.send("never mind"))
    assert unanswered_calls(session.records()) == [] and session.meta.pending_approval is None
    roles = [m["role"] for m in session.messages()]
    assert roles == ["user", "assistant", "tool", "user", "assistant"] and RAN == []


async def test_resume_shows_a_pending_question_without_asking_the_model(session, scripted):
    model = scripted([call("ask_user", {"question": "Which labels?", "choices": ["a", "b"]})])
    await collect(make_agent(session, model).send("start"))
    again = scripted([])  # any model call would fail: nothing is scripted
    events = await collect(make_agent(session, again).resume())
    (question,) = [e for e in events if isinstance(e, Question)]
    assert question.text == "Which labels?" and question.choices == ["a", "b"]
    assert kinds(events)[-1] == "TurnEnded" and again.remaining == 0
