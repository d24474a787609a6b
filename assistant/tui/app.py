"""The tunesmith app: chat on the left, plan and specs on the right, status at the bottom.

The agent runs in a Textual worker and posts each event as a message; the handlers here own
the UI state. The app draws events and collects decisions; it never calls a model itself.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, AsyncGenerator, Callable, Iterable

from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input

from assistant import events as ev
from assistant.agent import Driver
from assistant.config import Settings
from assistant.session import Session, Workspace
from assistant.session_files import describe
from assistant.tui.approver import TuiApprover
from assistant.tui.diffs import change_message
from assistant.tui.history import QUIET_TOOLS, replay
from assistant.tui.messages import AgentEvent, AgentIdle, SpecChanged
from assistant.tui.screens.editor import SpecEditorScreen
from assistant.tui.screens.help import HelpScreen
from assistant.tui.screens.picker import NEW_SESSION, SessionPicker
from assistant.tui.widgets.cards import QuestionCard, ToolCard
from assistant.tui.widgets.chat import ChatView
from assistant.tui.widgets.plan import PlanView
from assistant.tui.widgets.progress import ProgressCard
from assistant.tui.widgets.spec_panel import SpecPanel
from assistant.tui.widgets.status import StatusBar

AgentFactory = Callable[[Settings, Session, TuiApprover], Driver]
"""(settings, session, approver) -> Agent; assistant.runtime.build_agent by default."""

SEED_TOOLS = frozenset({"draft_seed_examples", "show_seed_examples"})
"""After these, the chat points to the seed table (f2)."""
FORCE_STOP_S = 3.0
"""After esc, the turn is cancelled if the agent has not stopped by itself within this time."""
FORCE_STOP_TOOL_S = 30.0
"""The same while a tool runs: it is told to stop and returns what it kept (generation, scoring, waits)."""
WELCOME = "Describe what you want a model to do, in your own words. For example: *I need a model that " \
          "sorts bank transactions into our 12 categories.*"


def _default_factory(settings: Settings, session: Session, approver: TuiApprover) -> Driver:
    from assistant.runtime import build_agent

    return build_agent(settings, session, approver)


class TunesmithApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "tunesmith"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("escape", "interrupt", "Interrupt", show=False),
        Binding("ctrl+s", "focus_specs", "Specs"),
        Binding("ctrl+l", "focus_prompt", "Chat", show=False),
        Binding("f2", "edit_seeds", "Seeds"),
        Binding("f3", "quality_report", "Quality"),
    ]

    def __init__(
        self,
        settings: Settings,
        session: Session | None = None,
        agent_factory: AgentFactory | None = None,
        resume: bool = False,
        workspace: Workspace | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.session = session
        self.agent_factory = agent_factory or _default_factory
        self.resume_on_start = resume
        self._workspace = workspace
        self.agent: Driver | None = None
        self.approver = TuiApprover(self)
        self.busy = False
        self.pending: list[str] = []
        """The person's messages waiting for the agent to finish its turn."""
        self.cards: dict[str, ToolCard] = {}
        self.progress: dict[str, ProgressCard] = {}
        self.active_question: QuestionCard | None = None
        self.idle_event = asyncio.Event()
        self.idle_event.set()
        self.turns = 0
        """Counts agent turns started; a delayed force-stop only cuts off the turn it was armed for."""
        self.generation = 0
        """Counts opened sessions; messages from an earlier session's worker are ignored."""

    # -- layout -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="chat-column"):
                yield ChatView(id="chat")
                yield Input(placeholder="Message tunesmith (enter sends · f1 help · ctrl+p commands)", id="prompt")
            with Vertical(id="side"):
                yield PlanView(id="plan")
                yield SpecPanel(self.session.dir if self.session else Path("/nonexistent"), id="specs")
        yield StatusBar(id="status")
        yield Footer()

    @property
    def chat(self) -> ChatView:
        return self.query_one("#chat", ChatView)

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one("#status", StatusBar)

    @property
    def spec_panel(self) -> SpecPanel:
        return self.query_one("#specs", SpecPanel)

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = Workspace(self.settings.workspace)
        return self._workspace

    async def on_mount(self) -> None:
        self.query_one("#prompt", Input).focus()
        if self.session is not None:
            await self.open_session(self.session, resume=self.resume_on_start)
        elif self.resume_on_start:
            self.show_picker(exit_on_cancel=True)
        else:
            await self.open_session(self.new_session(), resume=False)

    def new_session(self) -> Session:
        return self.workspace.create(planner_model=self.settings.model)

    # -- sessions ---------------------------------------------------------------------------
    async def open_session(self, session: Session, resume: bool = False) -> bool:
        """Show `session`: its conversation, phase, specs; with resume, continue what was pending."""
        try:
            session.lock()
            session.check_writable()
        except Exception as exc:  # noqa: BLE001 - held elsewhere or unwritable: say so, keep the current one
            self.notify(str(exc), title="Cannot open the session", severity="error")
            if session is not self.session:
                session.close()
            return False
        self.generation += 1
        await self._stop_agent()
        self.busy = False
        self.idle_event.set()
        self.status_bar.busy = ""
        if self.session is not None and self.session is not session:
            self._close_session()
        self.session = session
        self.cards.clear()
        self.progress.clear()
        self.active_question = None
        self.pending.clear()
        await self.chat.remove_children()
        meta = session.meta
        status = self.status_bar
        status.session_name = session.name
        status.model = self.settings.model or "guided (offline)"
        status.phase = meta.phase
        usage = meta.usage
        here = usage.by_step.get(meta.phase)
        status.set_usage(usage.prompt_tokens, usage.completion_tokens, usage.cost_usd, usage.cached_prompt_tokens,
                         meta.phase, here.prompt_tokens + here.completion_tokens if here else 0)
        self.query_one("#plan", PlanView).phase = meta.phase
        self.spec_panel.set_session_dir(session.dir)
        self.sub_title = session.name
        records = session.records()
        self.cards = await replay(self.chat, records)
        questions = [w for w in self.chat.children if isinstance(w, QuestionCard) and w.answered is None]
        self.active_question = questions[-1] if questions else None
        for problem in session.problems:
            await self.chat.add_notice(problem, "warning")
        try:
            self.agent = self.agent_factory(self.settings, session, self.approver)
        except Exception as exc:  # noqa: BLE001 - the person sees why; the files stay readable and editable
            self.agent = None
            await self.chat.add_notice(f"The assistant could not start: {type(exc).__name__}: {exc}", "error")
            return True
        # Shown now rather than after the person's first message (the agent would drain them then).
        for notice in self.agent.notices:
            await self.chat.add_notice(notice.text, notice.level)
        self.agent.notices.clear()
        if not records:
            await self.chat.add_assistant(WELCOME)
        if resume and records and records[-1].get("type") != "question":
            # A trailing question waits for the person: nothing to resume until they answer.
            self._run_agent(lambda: self.agent.resume())
        self.call_after_refresh(self._meet_the_person)
        return True

    def _meet_the_person(self) -> None:
        """Show the question that waits for an answer (or the end of the chat) and put the cursor in the input."""
        question = self.active_question
        if question is not None and question.is_attached:
            self.chat.scroll_to_widget(question, animate=False, top=True)
        else:
            self.chat.scroll_end(animate=False)
        self.action_focus_prompt()

    def pop_screen(self) -> Any:
        """Close the top screen; back on the chat, typing goes to the message input again."""
        done = super().pop_screen()
        self.call_after_refresh(self._focus_prompt_on_chat)
        return done

    def _focus_prompt_on_chat(self) -> None:
        if len(self.screen_stack) == 1 and self.screen.is_current:
            self.action_focus_prompt()

    def _close_session(self) -> None:
        if self.session is not None:
            self.session.close()

    def on_unmount(self) -> None:
        if self.session is not None:
            self._close_session()

    def show_picker(self, exit_on_cancel: bool = False) -> None:
        metas = self.workspace.list()

        async def picked(name: str | None) -> None:
            if name is None:
                if exit_on_cancel or self.session is None:
                    self.exit()
                return
            if name == NEW_SESSION:
                await self.open_session(self.new_session(), resume=False)
            else:
                await self.open_session(self.workspace.open(name), resume=True)

        self.push_screen(SessionPicker(metas), picked)

    # -- the agent worker --------------------------------------------------------------------
    def _run_agent(self, make_stream: Callable[[], AsyncGenerator[Any, None]]) -> None:
        self.turns += 1
        self.busy = True
        self.spec_panel.watch_edits = False  # the agent's own writes are not the person's edits
        self.idle_event.clear()
        self.status_bar.busy = "working… (esc interrupts)"
        self.run_worker(self._drive(make_stream), group="agent", exclusive=True, exit_on_error=False)

    async def _drive(self, make_stream: Callable[[], AsyncGenerator[Any, None]]) -> None:
        error: str | None = None
        generation = self.generation
        stream = make_stream()
        try:
            async for event in stream:
                self.post_message(AgentEvent(event, generation))
        except asyncio.CancelledError:
            error = "interrupted"
            raise
        except Exception as exc:  # noqa: BLE001 - shown to the person, the app keeps running
            error = f"{type(exc).__name__}: {exc}"
        finally:
            try:
                await stream.aclose()
            except BaseException:  # noqa: BLE001 - closing a cancelled stream may raise
                pass
            self.post_message(AgentIdle(error, generation))

    async def _stop_agent(self) -> None:
        workers = [w for w in self.workers if w.group == "agent" and not w.is_finished]
        for worker in workers:
            worker.cancel()
        for worker in workers:
            try:
                await worker.wait()
            except Exception:  # noqa: BLE001 - a cancelled worker reports its cancellation
                pass

    def send(self, text: str) -> None:
        """Give the person's words to the agent now, or after the current turn."""
        if self.agent is None:
            self.notify("The assistant is not running (see the error above).", severity="error")
            return
        if self.busy:
            self.pending.append(text)
            return
        self._run_agent(lambda: self.agent.send(text))

    async def wait_idle(self) -> None:
        """For tests: wait until the agent has finished every queued turn."""
        while True:
            await self.idle_event.wait()
            await asyncio.sleep(0)
            if self.idle_event.is_set() and not self.busy:
                return

    # -- input ---------------------------------------------------------------------------------
    @on(Input.Submitted, "#prompt")
    async def on_prompt(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.value = ""
        if not text:
            return
        question = self.active_question
        if question is not None and question.answered is None:
            text = question.choice_for(text) or text
            if not question.allow_free_text and question.choices and text not in question.choices:
                event.input.value = text
                self.notify("Pick one of the choices (its number or a click).", severity="warning")
                return
            question.mark_answered(text)
            self.active_question = None
        await self.chat.add_user(text)
        if self.busy:
            await self.chat.add_notice("The assistant is busy; your message goes next.", "info")
        self.send(text)

    async def on_question_card_answered(self, message: QuestionCard.Answered) -> None:
        message.card.mark_answered(message.answer)
        if self.active_question is message.card:
            self.active_question = None
        await self.chat.add_user(message.answer)
        self.send(message.answer)
        self.query_one("#prompt", Input).focus()

    # -- agent events ---------------------------------------------------------------------------
    async def on_agent_event(self, message: AgentEvent) -> None:
        if message.generation != self.generation:
            return
        event = message.event
        chat = self.chat
        if isinstance(event, ev.TextDelta):
            await chat.append_delta(event.text)
        elif isinstance(event, ev.AssistantMessage):
            await chat.add_assistant(event.content)
        elif isinstance(event, ev.ToolCallStarted):
            await chat.end_stream()
            if event.tool not in QUIET_TOOLS:
                await self._card(event.call_id, event.tool, event.arguments)
        elif isinstance(event, ev.ApprovalRequested):
            card = await self._card(event.call_id, event.tool, event.arguments)
            card.set_preview(event.preview or {})
            card.set_waiting()
        elif isinstance(event, ev.DecisionRecorded):
            card = await self._card(event.call_id, event.tool, {})
            card.set_decision(event.decision, event.comment, event.by)
        elif isinstance(event, ev.ToolFinished):
            self._finish_progress()
            if event.tool in QUIET_TOOLS and event.call_id not in self.cards:
                return
            card = await self._card(event.call_id, event.tool, {})
            card.set_result(event.content, event.is_error, event.files)
            self.spec_panel.refresh_specs(baseline=True)
            if not event.is_error and (event.tool == "show_quality_report" or "data/quality.json" in (event.files or [])):
                await self._quality_card()
            if event.tool in SEED_TOOLS and not event.is_error:
                await chat.add_notice("f2 opens the seed examples as a table you can edit, add to and delete from.",
                                      "info")
        elif isinstance(event, ev.Question):
            await chat.end_stream()
            card = QuestionCard(event.text, event.choices, event.allow_free_text)
            await chat.add(card)
            self.active_question = card
        elif isinstance(event, ev.PhaseChanged):
            self.status_bar.phase = event.phase
            self.query_one("#plan", PlanView).phase = event.phase
        elif isinstance(event, ev.Usage):
            self.status_bar.set_usage(event.prompt_tokens, event.completion_tokens, event.cost_usd,
                                      event.cached_prompt_tokens, event.step, event.step_tokens)
        elif isinstance(event, ev.Progress):
            await self._progress(event)
        elif isinstance(event, ev.Notice):
            await chat.end_stream()
            await chat.add_notice(event.text, event.level)
        elif isinstance(event, ev.TurnEnded):
            await chat.end_stream()

    async def _card(self, call_id: str, tool: str, arguments: dict[str, Any]) -> ToolCard:
        card = self.cards.get(call_id)
        if card is None:
            card = self.cards[call_id] = ToolCard(call_id, tool, arguments)
            await self.chat.add(card)
        return card

    async def _progress(self, event: ev.Progress) -> None:
        card = self.progress.get(event.task)
        if card is None:
            card = self.progress[event.task] = ProgressCard(event.task)
            await self.chat.add(card)
        card.update_from(event)

    def on_progress_card_cancel_requested(self, message: ProgressCard.CancelRequested) -> None:
        """The person pressed Cancel on a progress card: stop the tool (and the job it follows)."""
        if not self.busy or self.agent is None or not message.card.active:
            message.card.finish()
            return
        self.agent.interrupt(cancel_jobs=True)
        self.status_bar.busy = "cancelling… (what was made is kept)"
        self._arm_force_stop(FORCE_STOP_TOOL_S)

    def _finish_progress(self) -> None:
        for card in self.progress.values():
            card.finish()
        self.progress.clear()  # the next run of a task gets a fresh card

    async def on_agent_idle(self, message: AgentIdle) -> None:
        if message.generation != self.generation:
            return
        self._finish_progress()
        self.busy = False
        self.spec_panel.refresh_specs(baseline=True)
        self.spec_panel.watch_edits = True
        self.status_bar.busy = ""
        queued = self.pending.pop(0) if self.pending else None
        await self.chat.end_stream()
        if message.generation == self.generation and message.error:  # still the same session after the await
            if message.error == "interrupted":
                await self.chat.add_notice("Interrupted. Say what to do next.", "warning")
            else:
                await self.chat.add_notice(f"The assistant stopped: {message.error}", "error")
        if queued is not None and message.generation == self.generation:
            self.send(queued)
        if not self.busy:
            self.idle_event.set()

    # -- specs -------------------------------------------------------------------------------------
    def on_spec_panel_open(self, message: SpecPanel.Open) -> None:
        self.open_spec(message.name)

    def open_spec(self, name: str) -> None:
        if self.session is not None:
            self.push_screen(SpecEditorScreen(self.session.dir / name))

    async def on_spec_changed(self, message: SpecChanged) -> None:
        if self.session is None:
            return
        path = self.session.dir / message.name
        self.spec_panel.accept(message.name, path.read_text(encoding="utf-8"))
        await self._tell_agent(message.message)

    async def on_spec_panel_external_edit(self, message: SpecPanel.ExternalEdit) -> None:
        if message.old is None:
            text = f"I wrote {message.name} outside the app and it is valid now. Please re-read it."
        else:
            text = change_message(message.name, message.old, message.new, where="outside the app")
        if text:
            await self._tell_agent(text)

    async def on_spec_panel_became_invalid(self, message: SpecPanel.BecameInvalid) -> None:
        listed = "; ".join(describe(p) for p in message.problems[:3])
        await self.chat.add_notice(f"{message.name} is not valid: {listed}. Open it from the spec list to fix it.",
                                   "warning")

    async def _tell_agent(self, text: str) -> None:
        await self.chat.add_user(text)
        self.send(text)

    # -- actions -----------------------------------------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_edit_seeds(self) -> None:
        """Open data/examples.jsonl as an editable table; what the person saves is told to the agent."""
        if self.session is None:
            return
        from assistant.tui.screens.seeds import SeedTableScreen

        if isinstance(self.screen, SeedTableScreen):
            return
        generation = self.generation

        async def saved(sentence: str | None) -> None:
            if sentence and generation == self.generation:
                await self._tell_agent(sentence)

        self.push_screen(SeedTableScreen(self.session.dir), saved)

    def action_quality_report(self) -> None:
        """The data quality report (data/quality.json) with its charts."""
        if self.session is None:
            return
        from assistant.tui.screens.quality import QualityScreen

        if not isinstance(self.screen, QualityScreen):
            self.push_screen(QualityScreen(self.session.dir))

    async def _quality_card(self) -> None:
        """A compact chart card of data/quality.json in the chat, after a step that made or changed it."""
        from assistant.session_files import read_quality
        from assistant.tui.widgets.quality import QualitySummary

        view = read_quality(self.session.dir) if self.session is not None else None
        if view is None or view.report is None:
            return
        await self.chat.add(QualitySummary(view.report, view.blocking, limits=view.limits))

    def action_focus_specs(self) -> None:
        self.spec_panel.focus()

    def action_focus_prompt(self) -> None:
        self.query_one("#prompt", Input).focus()

    async def action_interrupt(self) -> None:
        """Ask the agent to stop at its next safe point; cancel the turn if it does not within 3 s. With nothing
        running, escape brings the focus back to the message input (from the spec list, say), so what the person
        types next lands there."""
        if not self.busy:
            self.action_focus_prompt()
            return
        if self.agent is None:
            await self._stop_agent()
            return
        self.agent.interrupt()
        self.status_bar.busy = "stopping…"
        # A running tool stops at its next safe point (a record, a measure, a poll) and keeps its work:
        # give it time before the turn is cut off.
        self._arm_force_stop(FORCE_STOP_TOOL_S if self.agent.tool_running else FORCE_STOP_S)

    def _arm_force_stop(self, seconds: float) -> None:
        turn = self.turns

        async def force() -> None:
            if self.busy and self.turns == turn:  # still the turn that was asked to stop
                await self._stop_agent()

        self.set_timer(seconds, force)

    async def action_new_session(self) -> None:
        await self.open_session(self.new_session(), resume=False)

    def action_resume_session(self) -> None:
        self.show_picker()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("New session", "Start a new tunesmith session", self.action_new_session)
        yield SystemCommand("Resume session", "Pick a session to continue", self.action_resume_session)
        if self.session is not None:
            for name in self.spec_panel.states:
                yield SystemCommand(f"Open spec: {name}", f"Edit {name} with live validation",
                                    lambda name=name: self.open_spec(name))
        if self.session is not None:
            yield SystemCommand("Edit seed examples", "The seed examples (data/examples.jsonl) as an editable table",
                                self.action_edit_seeds)
            yield SystemCommand("Data quality report", "data/quality.json with small charts; blocking findings first",
                                self.action_quality_report)
        yield SystemCommand("Help", "Show every key", self.action_help)
        yield SystemCommand("Quit", "Quit tunesmith (the session is saved; resume continues it)", self.action_quit)
        from assistant.tui.screens.playground import evaluation_commands

        yield from evaluation_commands(self)
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command


def run_app(settings: Settings, session: Session | None = None, resume: bool = False) -> int:
    """Run the TUI until the person quits; returns an exit code."""
    app = TunesmithApp(settings, session, resume=resume)
    app.run()
    return app.return_code or 0
