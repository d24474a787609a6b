"""Behaviour of the app's parts through Pilot: picker, palette, approval decisions, spec edits
outside and inside the app, a responsive UI while the agent streams, interrupting."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import time

from textual import events
from textual.widgets import Input, SelectionList

from assistant import events as ev
from assistant.session import Workspace, user_record
from assistant.tui.app import TunesmithApp
from assistant.tui.screens.editor import SpecEditorScreen
from assistant.tui.widgets.cards import ToolCard

from tests.tui.conftest import DIFF, USE_CASE_YAML, ReplayAgent, write_use_case
from tests.tui.helpers import approval, idle, screen_name, until

SIZE = (110, 34)


def app_with(settings, session, turns, agents=None, **kwargs):
    agents = [] if agents is None else agents

    def factory(settings, session, approver):
        agents.append(ReplayAgent(approver, turns))
        return agents[-1]

    return TunesmithApp(settings, session, agent_factory=factory, **kwargs), agents


async def say(pilot, text):
    prompt = pilot.app.query_one("#prompt", Input)
    prompt.value = text
    prompt.focus()
    await pilot.press("enter")


def approval_turn(findings=()):
    preview = {"summary": "Update use_case.yaml", "diff": DIFF, "findings": list(findings)}
    return [ev.ToolCallStarted("c1", "update_use_case", {}), ev.ApprovalRequested("c1", "update_use_case", {}, preview),
            ev.TurnEnded("answer")]


async def test_resume_without_a_name_opens_the_picker(settings):
    workspace = Workspace(settings.workspace)
    first = workspace.create("first")
    second = workspace.create("second")
    second.append(user_record("sort my bank transactions"))
    second.save_meta()
    for s in (first, second):
        s.close()
    app, agents = app_with(settings, None, [], resume=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: screen_name(pilot) == "SessionPicker", what="the picker")
        options = app.screen.query_one("#picker-list")
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == ["second", "first"]
        await pilot.press("enter")
        await until(pilot, lambda: app.session is not None and app.session.name == "second", what="session opened")
        assert ("user", "sort my bank transactions") in app.chat.transcript()
        assert app.status_bar.session_name == "second"


async def test_palette_lists_session_spec_help_and_quit_commands(settings, session):
    write_use_case(session.dir)
    app, _ = app_with(settings, session, [])
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "use_case.yaml" in app.spec_panel.states, what="spec panel")
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for title in ("New session", "Resume session", "Open spec: use_case.yaml", "Help", "Quit"):
            assert title in titles
        assert titles.count("Quit") == 1
        next(c for c in app.get_system_commands(app.screen) if c.title == "Help").callback()
        await until(pilot, lambda: screen_name(pilot) == "HelpScreen", what="help")
        await pilot.press("escape")
        await until(pilot, lambda: screen_name(pilot) == "Screen", what="help closed")
        await app.action_new_session()
        await pilot.pause()
        assert app.session.name != "demo" and app.status_bar.session_name == app.session.name


async def test_reject_always_with_a_comment(settings, session):
    app, agents = app_with(settings, session, [approval_turn()])
    async with app.run_test(size=SIZE) as pilot:
        await say(pilot, "change it")
        modal = await approval(pilot)
        modal.query_one("#approval-comment", Input).focus()
        await pilot.press(*"keep rent", "escape")  # escape leaves the field; keys decide again
        await pilot.press("R")
        await idle(pilot)
        decision = agents[0].decisions[0]
        assert (decision.kind, decision.comment, decision.waive) == ("reject_always", "keep rent", [])
        card = app.query_one(ToolCard)
        assert card.state == "rejected"


async def test_allow_needs_each_blocking_finding_waived(settings, session):
    app, agents = app_with(settings, session, [approval_turn(["pii_in_outputs", "train_eval_leakage"])])
    async with app.run_test(size=SIZE) as pilot:
        await say(pilot, "go")
        modal = await approval(pilot)
        await pilot.press("a")
        await pilot.pause()
        assert screen_name(pilot) == "ApprovalScreen", "allowing with unwaived findings is refused"
        assert "Waive each blocking finding" in str(modal.query_one("#approval-error").render())
        modal.query_one(SelectionList).select_all()
        await pilot.press("a")
        await idle(pilot)
        decision = agents[0].decisions[0]
        assert decision.kind == "allow_once" and decision.waive == [ev.Waiver("pii_in_outputs"), ev.Waiver("train_eval_leakage")]


async def test_open_in_editor_saves_a_valid_edit_and_tells_the_agent(settings, session, tmp_path, monkeypatch):
    write_use_case(session.dir)
    script = tmp_path / "fake_editor.py"
    script.write_text(textwrap.dedent("""
        import sys, pathlib
        path = pathlib.Path(sys.argv[1])
        path.write_text(path.read_text().replace("primary_users: The finance team", "primary_users: The audit team"))
    """))
    monkeypatch.setenv("VISUAL", f"{sys.executable} {script}")
    app, agents = app_with(settings, session, [])
    async with app.run_test(size=SIZE) as pilot:
        app.open_spec("use_case.yaml")
        await until(pilot, lambda: isinstance(app.screen, SpecEditorScreen) and app.screen.query("#spec-editor"),
                    what="the editor")
        await pilot.press("ctrl+o")
        await until(pilot, lambda: agents[0].sent, what="the agent to hear of the edit")
        assert "primary_users: The audit team" in (session.dir / "use_case.yaml").read_text()
        assert agents[0].sent[0].startswith("I edited use_case.yaml in the app")
        assert "+primary_users: The audit team" in agents[0].sent[0]


async def test_an_edit_outside_the_app_is_validated_and_reported(settings, session):
    path = write_use_case(session.dir)
    app, agents = app_with(settings, session, [])
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.spec_panel.status() == {"use_case.yaml": 0}, what="valid spec")
        path.write_text(USE_CASE_YAML.replace("task_type: classification", "task_type: sorting"))
        await until(pilot, lambda: app.spec_panel.status() == {"use_case.yaml": 1}, what="invalid spec")
        await until(pilot, lambda: any(k == "notice-warning" and "use_case.yaml is not valid" in t
                                       for k, t in app.chat.transcript()), what="a notice")
        assert not agents[0].sent, "an invalid edit is not sent to the agent"
        path.write_text(USE_CASE_YAML.replace("status: draft", "constraints: [English only]\nstatus: draft"))
        await until(pilot, lambda: agents[0].sent, what="the agent to hear of the edit")
        assert agents[0].sent[0].startswith("I edited use_case.yaml outside the app")
        assert "+constraints: [English only]" in agents[0].sent[0]
        assert "sorting" not in agents[0].sent[0], "the diff is against the last valid version"


async def test_a_spec_fixed_outside_the_app_is_reported(settings, session):
    path = write_use_case(session.dir, USE_CASE_YAML.replace("task_type: classification", "task_type: sorting"))
    app, agents = app_with(settings, session, [])
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.spec_panel.status() == {"use_case.yaml": 1}, what="invalid spec")
        path.write_text(USE_CASE_YAML)
        await until(pilot, lambda: agents[0].sent, what="the agent to hear of the fix")
        assert agents[0].sent == ["I wrote use_case.yaml outside the app and it is valid now. Please re-read it."]


class SlowAgent:
    """Streams a long answer slowly; stops at the next chunk when interrupted, as the real loop does."""

    tool_running: str | None = None

    def __init__(self, chunks: int = 3000, delay: float = 0.01) -> None:
        self.chunks, self.delay = chunks, delay
        self.interrupted = False
        self.streamed = 0
        self.notices: list[ev.Notice] = []

    def interrupt(self, cancel_jobs: bool = False) -> None:
        self.interrupted = True

    async def send(self, text):
        self.interrupted = False
        for index in range(self.chunks):
            if self.interrupted:
                yield ev.Notice("Stopped: you interrupted.", "warning")
                yield ev.TurnEnded("interrupted")
                return
            self.streamed += 1
            yield ev.TextDelta(f"word{index} ")
            await asyncio.sleep(self.delay)
        yield ev.TurnEnded("answer")

    async def resume(self):
        return
        yield


async def test_the_ui_answers_while_the_agent_streams_and_escape_interrupts(settings, session):
    agent = SlowAgent()
    app = TunesmithApp(settings, session, agent_factory=lambda *_: agent)
    async with app.run_test(size=SIZE) as pilot:
        await say(pilot, "write a long answer")
        await until(pilot, lambda: agent.streamed >= 5, what="streaming to start")
        prompt = app.query_one("#prompt", Input)
        worst = 0.0
        for char in "typing while it streams":
            expected = prompt.value + char
            started = time.monotonic()
            prompt.post_message(events.Key(char, char))
            while prompt.value != expected:
                await asyncio.sleep(0.001)
            worst = max(worst, time.monotonic() - started)
        print(f"worst key-to-input delay while streaming: {worst * 1000:.0f} ms")
        assert prompt.value == "typing while it streams"
        assert worst < 1.0, "the UI must answer keys while the model streams"
        assert app.busy and agent.streamed < agent.chunks
        await until(pilot, lambda: "word" in "".join(t for k, t in app.chat.transcript() if k == "assistant"),
                    what="streamed text on screen")
        app.set_focus(None)
        await pilot.press("escape")
        await idle(pilot, timeout=10)
        assert agent.interrupted and agent.streamed < agent.chunks
        assert any("interrupted" in t for k, t in app.chat.transcript() if k.startswith("notice"))


async def test_progress_events_draw_a_bar_and_a_loss_chart(settings, session):
    from textual.widgets import ProgressBar, Sparkline

    from assistant.tui.widgets.progress import ProgressCard

    turn = [ev.ToolCallStarted("c1", "start_training", {})]
    turn += [ev.Progress("train", 0, None, None, None, {"step": step, "total_steps": 10, "loss": 2.0 / step,
                                                        "eta_seconds": 3.0 * (10 - step)}) for step in range(1, 6)]
    turn += [ev.ToolFinished("c1", "start_training", "Training started."), ev.TurnEnded("answer")]
    app, _ = app_with(settings, session, [turn])
    async with app.run_test(size=SIZE) as pilot:
        await say(pilot, "train")
        await idle(pilot)
        card = app.query_one(ProgressCard)
        assert card.summary.startswith("■ train: 5/10 · 50% · ETA 15 s · loss 0.4"), "the tool ended: the card is finished"
        assert card.query_one(ProgressBar).percentage == 0.5
        assert card.query_one(Sparkline).data == [2.0, 1.0, 2.0 / 3, 0.5, 0.4]


async def test_a_question_without_free_text_takes_only_its_choices(settings, session):
    turn = [ev.Question("Approve the spec?", ["Approve it", "Change it"], allow_free_text=False), ev.TurnEnded("question")]
    app, agents = app_with(settings, session, [turn])
    async with app.run_test(size=SIZE) as pilot:
        await say(pilot, "start")
        await idle(pilot)
        await say(pilot, "maybe later")
        await pilot.pause()
        assert agents[0].sent == ["start"]
        assert app.query_one("#prompt", Input).value == "maybe later", "the text stays for the person to change"
        await say(pilot, "2")
        await idle(pilot)
        assert agents[0].sent == ["start", "Change it"]


async def test_an_agent_that_cannot_start_is_reported(settings, session):
    def broken(*_):
        raise RuntimeError("no skills found")

    app = TunesmithApp(settings, session, agent_factory=broken)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any(k == "notice-error" and "no skills found" in t for k, t in app.chat.transcript())
        await say(pilot, "hello")
        await pilot.pause()
        assert not app.busy


async def test_editing_an_approved_spec_makes_it_a_draft_again(settings, session):
    from textual.widgets import TextArea

    approved = USE_CASE_YAML.replace("status: draft", "status: approved")
    path = write_use_case(session.dir, approved)
    app, agents = app_with(settings, session, [])
    async with app.run_test(size=SIZE) as pilot:
        app.open_spec("use_case.yaml")
        await until(pilot, lambda: isinstance(app.screen, SpecEditorScreen) and app.screen.query("#spec-editor"),
                    what="the editor")
        app.screen.query_one(TextArea).load_text(approved.replace("The finance team", "The audit team"))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: agents[0].sent, what="the agent to hear of the edit")
        text = path.read_text()
        assert "primary_users: The audit team" in text and "status: draft" in text
        assert "+status: draft" in agents[0].sent[0]


async def test_switching_sessions_mid_turn_leaves_the_old_turn_behind(settings, session):
    agent = SlowAgent()
    app = TunesmithApp(settings, session, agent_factory=lambda *_: agent)
    async with app.run_test(size=SIZE) as pilot:
        await say(pilot, "write a long answer")
        await until(pilot, lambda: agent.streamed >= 3, what="streaming to start")
        await app.action_new_session()
        await pilot.pause()
        await pilot.pause(0.2)
        assert app.session.name != "demo" and not app.busy
        kinds = [kind for kind, _ in app.chat.transcript()]
        assert "user" not in kinds and not any(k.startswith("notice-warning") for k in kinds)
