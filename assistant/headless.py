"""Drive an agent without the TUI: plain progress lines, questions answered by a policy, exit codes.

Exit codes: 0 the pipeline reached its goal; 1 a step failed (model error, tool error it could not
get past) or would repeat with the same result; 3 an approval was needed and nothing allowed it
(use --yes or a policy file), or a person-only decision (waiving a finding, rating answers) waits for the person;
4 the turn limit was reached.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, TextIO

from assistant.events import (ApprovalRequested, AssistantMessage, DecisionRecorded, Event, Notice, PhaseChanged,
                              Progress, Question, TextDelta, ToolCallStarted, ToolFinished, TurnEnded)
from assistant.repeats import RepeatWatch

EXIT_OK, EXIT_FAILED, EXIT_NEEDS_APPROVAL, EXIT_LIMIT = 0, 1, 3, 4


def first_choice(question: Question) -> str:
    """Answer a question with its first choice (headless default), or 'continue' when it has none."""
    return question.choices[0] if question.choices else "continue"


NO_ONE_TO_ASK = ("Nobody is at the keyboard to answer questions in this headless run. Take what my first message "
                 "says; where it is silent, choose the usual default, say which, and call the next tool of this step.")
"""A headless run's answer to an LLM planner's question that offers no choices: "continue" answers nothing, and a
small model asks again."""


def first_choice_or_decide(question: Question) -> str:
    """Headless answers for an LLM planner: the first choice, or NO_ONE_TO_ASK when the question has none."""
    return question.choices[0] if question.choices else NO_ONE_TO_ASK


class Printer:
    """Plain, line-oriented progress for a terminal or a CI log."""

    def __init__(self, out: TextIO = sys.stdout, progress_every_s: float = 10.0) -> None:
        self.out = out
        self.progress_every_s = progress_every_s
        self._last_progress: dict[str, tuple[float, float]] = {}
        self._said: list[str] = []
        self.started = time.monotonic()

    def line(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        self.out.write(f"[{int(elapsed // 60):02d}:{int(elapsed % 60):02d}] {text}\n")
        self.out.flush()

    def flush_text(self) -> None:
        """Print what the assistant said since the last event (its words come before its tool call)."""
        text = "".join(self._said).strip()
        self._said = []
        for line in text.splitlines()[:8]:
            if line.strip():
                self.line("   " + line[:200])

    def __call__(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self._said.append(event.text)
            return
        self.flush_text()
        if isinstance(event, AssistantMessage):
            return
        if isinstance(event, ToolCallStarted):
            self.line(f"-> {event.tool}")
        elif isinstance(event, ApprovalRequested):
            self.line(f"   approval asked: {event.preview.get('summary', event.tool)}")
        elif isinstance(event, DecisionRecorded):
            self.line(f"   {event.decision} by {event.by}" + (f": {event.comment}" if event.comment else ""))
        elif isinstance(event, ToolFinished):
            head = event.content.strip().splitlines()[:6]
            mark = "!! " if event.is_error else "   "
            for text in head:
                self.line(mark + text[:200])
        elif isinstance(event, Progress):
            self._progress(event)
        elif isinstance(event, Question):
            self.line(f"?  {event.text}" + (f"  [{' | '.join(event.choices)}]" if event.choices else ""))
        elif isinstance(event, PhaseChanged):
            self.line(f"== step: {event.phase}")
        elif isinstance(event, Notice):
            self.line(f"{event.level}: {event.text}")

    def _progress(self, event: Progress) -> None:
        now = time.monotonic()
        last_time, last_share = self._last_progress.get(event.task, (0.0, -1.0))
        share = (event.done / event.total) if event.total else 0.0
        finished = bool(event.total) and event.done >= event.total
        if not finished and now - last_time < self.progress_every_s and share - last_share < 0.25:
            return
        self._last_progress[event.task] = (now, share)
        parts = [f"{event.task}: {event.done:g}" + (f"/{event.total:g}" if event.total else "")]
        if event.rate:
            parts.append(f"{event.rate:.2f}/s")
        if event.eta_s is not None:
            parts.append(f"eta {event.eta_s:.0f}s")
        extra = {k: v for k, v in event.fields.items() if isinstance(v, (int, float, str)) and k in ("loss", "reward_mean", "message", "step")}
        parts += [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in extra.items()]
        self.line("   " + "  ".join(parts))


GO_ON = ("continue. Nobody is at the keyboard in this headless run, so do not wait for me: call the next tool "
         "of this step. Approvals are decided when a tool asks for one.")
"""What a headless run says to an LLM planner that ended its turn without a question or a tool call (small local
models often end with "Approve." or a summary): plain "continue" leaves them guessing. The guided planner gets
"continue"."""


def go_on_for(session: Any) -> str:
    """GO_ON for the step the session is at: it names the tool that ends the step and the call its files point to
    next (a small model that wrote "Approve." or an apology needs the names)."""
    from assistant.next_call import next_call
    from assistant.steps import ENDING_TOOLS

    phase = session.meta.phase
    ends, hint = ENDING_TOOLS.get(phase), next_call(session.dir, phase)
    if hint:
        return f"continue. Nobody is at the keyboard in this headless run, so do not wait for me. Call this next: {hint}"
    return GO_ON + (f" When this step's work is done, call {ends} to end it." if ends else "")


async def drive(agent: Any, first_message: str | None, *, answer: Callable[[Question], str] = first_choice,
                printer: Callable[[Event], None] | None = None, goal_phase: str = "done", max_turns: int = 120,
                go_on: str | Callable[[Any], str] = "continue") -> int:
    """Run turns until the session reaches ``goal_phase``; answer questions with ``answer``, and a turn that
    asked nothing with ``go_on`` (a text, or a function of the session)."""
    show = printer or Printer()
    session = agent.session
    events = agent.send(first_message) if first_message else agent.resume()
    watch = RepeatWatch()
    for _ in range(max_turns):
        question, ended, rejected = None, None, None
        async for event in events:
            show(event)
            watch.observe(event)
            if isinstance(event, PhaseChanged) and event.phase == goal_phase:
                break  # the goal step is reached: do not start its work
            if isinstance(event, Question):
                question = event
            elif isinstance(event, TurnEnded):
                ended = event
            elif isinstance(event, DecisionRecorded) and (event.source == "no_approver" or event.needs_person):
                rejected = event
        if isinstance(show, Printer):
            show.flush_text()
        if session.meta.phase == goal_phase:
            await events.aclose()
            return EXIT_OK
        if rejected is not None:
            if isinstance(show, Printer) and rejected.needs_person:
                show.line(f"needs the person: {rejected.tool}. {rejected.comment}")
            elif isinstance(show, Printer):
                show.line(f"needs approval: {rejected.tool}. Run again with --yes, or a --policy-file that allows it.")
            return EXIT_NEEDS_APPROVAL
        if ended is not None and ended.reason == "error":
            return EXIT_FAILED
        reply = answer(question) if question is not None else (go_on if isinstance(go_on, str) else go_on(session))
        if question is None and ended is not None and ended.reason == "answer" and hasattr(agent, "insist_on_call"):
            agent.insist_on_call()  # it answered without a call and nobody is here to reply: the next answer is one
        repeated = watch.end_turn(session.meta.phase, reply)
        if repeated is not None:  # the same step with the same result again: only a person can change it
            if isinstance(show, Printer):
                show.line(f"stopped: {repeated}")
            return EXIT_FAILED
        if isinstance(show, Printer):
            show.line(f">  {reply}")
        events = agent.send(reply)
    return EXIT_LIMIT
