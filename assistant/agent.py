"""The agent loop: ask the model, gate each tool call, run it, append the result, save.

It yields events (assistant.events) and imports no UI. Every record it writes goes to the
session's append-only conversation log; session meta is saved after every step.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any, AsyncGenerator, AsyncIterator, Callable, Protocol

from pydantic import ValidationError

from assistant.approvals import NO_APPROVER, Approver, Policy, asks_person, needs_person
from assistant.config import Settings, tool_settings
from assistant.events import (ApprovalRequested, AssistantMessage, DecisionRecorded, Event, Notice, PhaseChanged, Progress,
                              Question, ToolCallStarted, ToolFinished, TurnEnded, Usage)
from assistant import history, steps
from assistant.model import ContextTooLong, Model, ModelError, ModelReply, UnreadableReply
from assistant.session import Session, assistant_record, tool_record, user_record
from assistant.textcalls import find_calls
from skills.catalog import tools_for_step
from skills.jobcontrol import JobControl
from skills.settings import ToolSettings
from skills.toolkit import Preview, Tool, ToolContext, ToolResult

PROMPT_BUDGET_TOKENS = 3_000
"""Most tokens the system prompt and the tool schemas of one request may take (steps.disclose)."""
REPLY_TOKENS = 2_000
"""Room left in the context for the model's answer."""
REPEATS_BEFORE_STOP = 3
"""The same failing call this many times in a row ends the turn: the person says how to go on."""


class AgentStop(Exception):
    """A special outcome that ends the turn; ``str(exc)`` is the notice appended to the log."""

    reason = "answer"


class StepLimitReached(AgentStop):
    reason = "limit"


class Interrupted(AgentStop):
    reason = "interrupted"


class RepeatedFailure(AgentStop):
    reason = "error"


def _writes_tool_response(text: str) -> bool:
    """Whether a reply imitates the chat template's tool result (small models write the person's answer there)."""
    lowered = text.lower()
    return "<tool_response>" in lowered or "</tool_response>" in lowered


class FormatError(Exception):
    """The model's reply could not be used; the message is appended for the model to read."""


class Driver(Protocol):
    """What the app drives: the agent loop below, or a stand-in with the same surface (tests)."""

    notices: list[Notice]
    """Shown once when the session opens (e.g. the offline banner)."""

    def send(self, text: str) -> AsyncGenerator[Event, None]: ...

    def resume(self) -> AsyncGenerator[Event, None]: ...

    def interrupt(self, cancel_jobs: bool = False) -> None: ...

    @property
    def tool_running(self) -> str | None: ...


class Agent:
    def __init__(self, session: Session, model: Model, tools: list[Tool], approver: Approver | None = None,
                 policy: Policy | None = None, settings: Settings | ToolSettings | None = None, *, max_steps: int = 30,
                 system_prompt: Callable[[Session], str] | None = None,
                 jobs: JobControl | None = None, context_tokens: int = 16_000) -> None:
        self.session, self.model, self.approver = session, model, approver
        self.tools = {tool.name: tool for tool in tools}
        self.policy = policy or Policy.for_session(session.meta)
        self.settings = tool_settings(settings)
        self.max_steps, self.jobs = max_steps, jobs
        self.context_tokens = context_tokens
        """The planner's context window: requests are shortened to fit it (history.fit)."""
        self._failed: tuple[str, str] | None = None
        self._repeats = 0
        self.system_prompt = system_prompt or _default_prompt
        self.notices: list[Notice] = []
        """Shown once at the start of the next send()/resume() (e.g. the offline banner)."""
        self._interrupted = False
        self._running: ToolContext | None = None
        self._running_name: str | None = None
        self._insist = False
        """The next request starts the model's answer with its tool-call opening (``model.call_prefix``)."""
        self.calls_only = False
        """Every request insists on a call (a headless run, where nobody reads the model's words), except the one after
        a started call the model did not finish."""
        self._unfinished = False
        self.hint: Callable[[Session], str | None] | None = None
        """The call the session's files point to next (assistant.next_call), added to a failed or idle call's result;
        a headless run with an LLM planner sets it."""
        self._turn_fails: dict[tuple[str, str], int] = {}
        self._turn_progress: set[tuple[str, str]] = set()
        self._steer: str | None = None
        """The tool whose call just failed or changed nothing: when the hint (``hint``) names another tool, the next
        started call names that one. A failed call of the hinted tool itself is the model's to mend (or to ask)."""

    def insist_on_call(self) -> None:
        """Start the model's next answer with the opening of a tool call, where its model can be prefilled
        (``call_prefix``: a planner on a local server). A headless run uses it after a turn that ended without a
        call; the agent itself after an empty or dropped reply. The model still writes the tool's name and
        arguments; every gate applies."""
        self._insist = bool(getattr(self.model, "call_prefix", None))

    def interrupt(self, cancel_jobs: bool = False) -> None:
        """Ask the loop to stop at the next safe point (between stream chunks or tool calls).

        A running tool is told too (``ctx.cancel``): long work stops and returns what it kept. With
        ``cancel_jobs`` a tool waiting on a background job cancels the job as well."""
        self._interrupted = True
        ctx = self._running
        if ctx is not None:
            ctx.cancel_jobs = ctx.cancel_jobs or cancel_jobs
            ctx.cancel.set()

    def offered(self) -> list[Tool]:
        """The tools the model may call now: the current step's and the common ones (progressive
        disclosure; steps.disclose decides which travel with their whole schema)."""
        return tools_for_step(self.session.meta.phase, self.tools.values())

    @property
    def tool_running(self) -> str | None:
        """The name of the tool running now, if any."""
        return self._running_name if self._running is not None else None

    async def send(self, text: str) -> AsyncGenerator[Event, None]:
        """Append the person's words and run until the turn ends."""
        self._skip(unanswered_calls(self.session.records()), "Not run: stopped before it finished.")
        self.session.meta.pending_approval = None
        self.session.append(user_record(text))
        async for event in self._turn([]):
            yield event

    async def resume(self) -> AsyncGenerator[Event, None]:
        """Continue after a restart: re-ask a pending approval, finish unanswered tool calls."""
        records = self.session.records()
        pending = unanswered_calls(records)
        last = self.session.messages()[-1:] or [{"role": "assistant"}]
        waiting = records[-1] if records and records[-1].get("type") == "question" else None
        if not pending and (last[0]["role"] == "assistant" or waiting):
            for event in self._drain_notices():
                yield event
            if waiting:  # the person still owes an answer: show the question again, do not re-ask the model
                yield Question(waiting.get("text", ""), list(waiting.get("choices") or []), waiting.get("allow_free_text", True))
                yield TurnEnded("question")
            return
        async for event in self._turn(pending):
            yield event

    async def run_call(self, call: dict[str, Any], planner: str) -> AsyncIterator[Event]:
        """One tool call that a planner outside this loop made (an MCP client named ``planner``):
        record it, check it, gate it, run it, record the result. Approver exceptions propagate."""
        self._interrupted = False
        self.session.append(assistant_record("", [call], model=planner))
        try:
            async for event in self._call(call):
                yield event
        finally:
            self.session.save_meta()

    async def _turn(self, calls: list[dict[str, Any]]) -> AsyncIterator[Event]:
        """Ask, gate, run, observe, save; until the model answers without tools or a stop."""
        self._interrupted = False
        self._turn_fails, self._turn_progress = {}, set()
        for event in self._drain_notices():
            yield event
        try:
            for _ in range(self.max_steps):
                try:
                    if not calls:
                        async for item in self._ask_model():
                            if isinstance(item, ModelReply):
                                calls = item.tool_calls
                            else:
                                yield item
                        if not calls:
                            yield TurnEnded("answer")
                            return
                    async for event in self._calls(calls):
                        yield event
                    if isinstance(event, TurnEnded):
                        return
                    calls = []
                except FormatError as exc:
                    self.session.append(user_record(str(exc), hidden=True))
                finally:
                    self.session.save_meta()
            raise StepLimitReached(f"Stopped after {self.max_steps} steps without an answer. Say 'continue' to go on.")
        except AgentStop as stop:
            yield self._notice(str(stop), "warning")
            yield TurnEnded(stop.reason)  # type: ignore[arg-type]
        except ModelError as exc:
            yield self._notice(str(exc), "error")
            yield TurnEnded("error")

    async def _calls(self, calls: list[dict[str, Any]]) -> AsyncIterator[Event]:
        """Handle one reply's tool calls in order; ends with TurnEnded when the person must speak."""
        for index, call in enumerate(calls):
            if self._interrupted:
                self._skip(calls[index:], "Not run: the person interrupted.")
                raise Interrupted("Stopped: you interrupted. Say how to go on.")
            try:
                async for event in self._call(call):
                    yield event
            except RepeatedFailure:
                self._skip(calls[index + 1:], "Not run: the turn ended after a repeated failing call.")
                raise
            if self._interrupted and not isinstance(event, (Question, TurnEnded)):
                self._skip(calls[index + 1:], "Not run: the person interrupted.")
                raise Interrupted("Stopped: you interrupted. Say how to go on.")
            if isinstance(event, (Question, TurnEnded)):
                self._skip(calls[index + 1:], "Not run: the turn ended to wait for the person.")
                if isinstance(event, Question):
                    yield TurnEnded("question")
                return

    async def _ask_model(self) -> AsyncIterator[Event | ModelReply]:
        """Stream one model reply, record it and its usage; yields TextDelta, events and the reply."""
        local = bool(getattr(self.model, "on_this_machine", False)) and self.system_prompt is _default_prompt
        prompt = _default_prompt(self.session, files=False) if local else self.system_prompt(self.session)
        shown = steps.disclose(self.session.meta.phase, self.tools.values(), prompt, PROMPT_BUDGET_TOKENS)
        system = {"role": "system", "content": prompt}
        schemas = shown.schemas()
        offered_names = {schema.get("function", {}).get("name") for schema in schemas}
        budget = self.context_tokens - REPLY_TOKENS - history.estimate_tokens([system, schemas])
        reply = None
        insist = self._insist or (self.calls_only and not self._unfinished)
        prefix, self._insist, self._unfinished = (getattr(self.model, "call_prefix", None) if insist else None), False, False
        steer, self._steer = self._steer, None
        named = getattr(self.model, "named_call_prefix", None)
        hint = self.hint(self.session) if prefix and steer and named and self.hint else None
        hinted = _tool_name(hint)
        if hinted in self.tools and hinted in offered_names and hinted != steer:  # off the files' path and nothing came of it: start their call
            prefix = named.format(name=hinted) + _closed(_known_arguments(hint, self.tools[hinted]))
        tried: set[str | None] = set()
        for attempt in range(3):
            messages = [system, *_readable_calls(history.fit(self.session.messages(close_dangling=True, this_step=local), max(budget, 1)))]
            if local:
                messages = _with_note(messages, _files_note(self.session))
            if prefix:  # the answer continues this assistant text (a prefill); it is put back in front below
                messages.append({"role": "assistant", "content": prefix})
            try:
                async for item in self.model.stream(messages, schemas):
                    if self._interrupted:
                        raise Interrupted("Stopped: you interrupted the answer. Say how to go on.")
                    if isinstance(item, ModelReply):
                        reply = item
                    else:
                        yield item
                break
            except UnreadableReply:
                # llama.cpp could not read the call the model wrote (a tool this request does not offer): the same
                # request would give the same answer, so the answer is started with the call the files point to
                # (the model writes its arguments), else left free
                if attempt == 2:
                    raise
                # the hinted call with its known arguments, then by name only (seen: after a start that held
                # {"train_count": 120}, Qwen2.5-Coder-1.5B wrote '"}}' and the server could not read the call), then free
                tried.add(prefix)
                hint = self.hint(self.session) if self.hint else None
                hinted = _tool_name(hint)
                options = ([named.format(name=hinted) + _closed(_known_arguments(hint, self.tools.get(hinted))),
                            named.format(name=hinted)] if named and hinted in offered_names else [])
                prefix = next((option for option in options if option not in tried), None)
                yield self._notice("The model named a tool this step does not offer, and the server could not read "
                                   "its answer; asking again" + (f", starting the call {hinted}." if prefix else "."),
                                   "warning")
            except ContextTooLong:
                if attempt == 2:
                    raise
                budget = min(budget, history.estimate_tokens(messages[1:])) // 2  # half of what was sent
                yield self._notice("The conversation is longer than the model can read: older messages are "
                                   "shortened in the request (the log keeps them) and it is sent again.", "warning")
        if prefix and reply is not None and not reply.tool_calls:
            reply.content = prefix + reply.content
        elif prefix and reply is not None:
            reply.tool_calls = [_with_started_arguments(call, prefix) for call in reply.tool_calls]
        if reply is None or (not reply.content.strip() and not reply.tool_calls):
            self.insist_on_call()
            raise FormatError("(tunesmith) Your last reply was empty. Answer the person, or call one of the tools.")
        written = None
        if not reply.tool_calls:
            found = find_calls(reply.content, self.tools, id_prefix=f"text_call_{len(self.session.records())}",
                               params={name: list(tool.args_model.model_fields) for name, tool in self.tools.items()})
            if found is not None:
                written, reply.content, reply.tool_calls = reply.content, found.remaining, found.calls
        if not reply.tool_calls and _writes_tool_response(reply.content):
            self.insist_on_call()
            ends = steps.ENDING_TOOLS.get(self.session.meta.phase)
            raise FormatError("(tunesmith) Your last reply wrote a <tool_response> itself, so it was dropped: tool "
                              "results and the person's replies come only from tunesmith, after a tool call. Call a "
                              "tool instead: ask_user to ask the person" + (f", or {ends} when this step's work is done"
                                                                              if ends else "") + ".")
        if prefix and not reply.tool_calls:
            self._unfinished = True
            raise FormatError("(tunesmith) Your last reply began a tool call but it could not be read as one: write "
                              '<tool_call>{"name": "<tool>", "arguments": {...}}</tool_call> with a tool of this step '
                              "and JSON arguments.")
        if getattr(reply, "cut_off", False) and not reply.tool_calls:
            self.insist_on_call()
            raise FormatError(f"(tunesmith) Your last reply ran on to the length limit ({reply.completion_tokens or 'many'} "
                              "tokens) without a tool call, so it was cut off and dropped. Answer in a few sentences, "
                              "or call one tool.")
        if reply.phase and reply.phase != self.session.meta.phase:
            yield self._set_phase(reply.phase)
        usage, step = self.session.meta.usage, self.session.meta.phase
        counted = usage.add_step(step, reply.prompt_tokens, reply.cached_prompt_tokens, reply.completion_tokens,
                                 reply.cost_usd)
        extra = {"recovered_from_text": written} if written is not None else {}
        if prefix:
            extra["prefilled"] = prefix
        self.session.append(assistant_record(reply.content, reply.tool_calls, model=self.model.name, **extra))
        yield AssistantMessage(reply.content, list(reply.tool_calls))
        yield Usage(usage.prompt_tokens, usage.completion_tokens, usage.cost_usd, usage.cached_prompt_tokens, step,
                    counted.prompt_tokens + counted.completion_tokens)
        yield reply

    async def _call(self, call: dict[str, Any]) -> AsyncIterator[Event]:
        """Check, gate, run and record one tool call."""
        call_id, name = call.get("id", ""), call.get("function", {}).get("name", "")
        tool, args, raw, error = self._parse(call)
        yield ToolCallStarted(call_id, name, raw)
        key = (name, _canonical(call.get("function", {}).get("arguments")))
        self._repeats = self._repeats + 1 if key == self._failed else 0
        if not self._repeats and self._turn_fails.get(key, 0) + 1 >= REPEATS_BEFORE_STOP:  # again, with others between
            self._failed, self._repeats = None, 0
            yield self._result(call_id, name, ToolResult(content="Not run: the same call failed twice before in this "
                                                                 "turn.", is_error=True))
            raise RepeatedFailure(f"The model sent the same failing call to {name} {REPEATS_BEFORE_STOP} times in one "
                                  "turn, with other calls between. Say how to go on, or change what its error names.")
        if self._repeats:
            if self._repeats + 1 >= REPEATS_BEFORE_STOP:
                self._failed, self._repeats = None, 0
                yield self._result(call_id, name, ToolResult(content="Not run: the same call failed before.", is_error=True))
                raise RepeatedFailure(f"The model sent the same failing call to {name} {REPEATS_BEFORE_STOP} times. "
                                      "Say how to go on, or change what its error names.")
            error = (f"Error: this is the same call to {name} that just failed, so it was not run again. Read the "
                     f"error before it and change what it names, or ask the person with ask_user.")
        if error:
            self._failed = key
            self._turn_fails[key] = self._turn_fails.get(key, 0) + 1
            yield self._result(call_id, name, ToolResult(content=error, is_error=True))
            return
        ctx = self._context()
        decision = None
        gate = self.policy.gate(tool)
        if gate.action == "decided":
            decision = gate.decision
        elif gate.action == "ask":
            request = ApprovalRequested(call_id, name, raw, _preview(tool, ctx, args).model_dump(), tool.person_only)
            self.session.meta.pending_approval = request.to_dict()
            self.session.save_meta()
            if tool.person_only and not asks_person(self.approver):
                decision = needs_person(request)
            elif self.approver is None:
                decision = dataclasses.replace(NO_APPROVER)
            else:
                yield request
                decision = await self.approver.decide(request)
            if self.policy.remember(name, decision):
                self.policy.store(self.session.meta)
            self.session.meta.pending_approval = None
        if decision is not None:
            self.session.append({"type": "decision", "call_id": call_id, "tool": name, "decision": decision.kind,
                                 "comment": decision.comment, "by": decision.by, "source": decision.source,
                                 "waive": [waiver.to_dict() for waiver in decision.waive]})
            yield DecisionRecorded(call_id, name, decision.kind, decision.comment, decision.by, decision.needs_person,
                                   decision.source)
            if not decision.allowed:
                why = f" Their comment: {decision.comment}" if decision.comment else " They gave no reason; ask what to change."
                yield self._result(call_id, name, ToolResult(content=f"Not run: {decision.by} rejected this call.{why}", is_error=True))
                if decision.ends_turn:
                    yield TurnEnded("answer")
                return
            ctx.approved_waivers = list(decision.waive) if asks_person(self.approver) else []
        async for event in self._run(tool, ctx, args, call_id):
            if isinstance(event, ToolFinished) and event.call_id == call_id:
                self._failed = key if event.is_error else None
                if event.is_error:
                    self._turn_fails[key] = self._turn_fails.get(key, 0) + 1
                elif event.files and (name, event.content) not in self._turn_progress:
                    # the step made progress (a file written, with a result not seen in this turn): earlier failures
                    # are no loop; the same result again (a deterministic regeneration) is no progress
                    self._turn_progress.add((name, event.content))
                    self._turn_fails = {}
            yield event

    async def _run(self, tool: Tool, ctx: ToolContext, args: Any, call_id: str) -> AsyncIterator[Event]:
        """Run the tool in a worker thread, forwarding its progress events while it runs."""
        loop, queue = asyncio.get_running_loop(), asyncio.Queue()
        ctx.emit = lambda event: loop.call_soon_threadsafe(queue.put_nowait, event)
        if self._interrupted:  # stopped while the approval was pending: the tool starts told to stop
            ctx.cancel.set()
        self._running, self._running_name = ctx, tool.name
        try:
            task = asyncio.ensure_future(asyncio.to_thread(_run_safely, tool, ctx, args))
            try:
                while not task.done() or not queue.empty():
                    getter = asyncio.ensure_future(queue.get())
                    await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
                    if getter.done():
                        yield _progress(tool.name, getter.result())
                    else:
                        getter.cancel()
            except BaseException:
                ctx.cancel.set()  # the turn itself was cancelled: the thread still stops at its next safe point
                raise
            result = task.result()
        finally:
            self._running, self._running_name = None, None
        yield self._result(call_id, tool.name, result)
        if result.phase and result.phase != self.session.meta.phase:
            yield self._set_phase(result.phase)
        if result.ends_turn:
            data = result.data
            question = Question(data.get("question") or result.content, list(data.get("choices") or []),
                                bool(data.get("allow_free_text", True)))
            self.session.append({**question.to_dict(), "type": "question", "call_id": call_id})
            yield question

    def _parse(self, call: dict[str, Any]) -> tuple[Tool | None, Any, dict[str, Any], str | None]:
        """(tool, validated args, raw args, error message for the model)."""
        function = call.get("function", {})
        name, text = function.get("name", ""), function.get("arguments") or "{}"
        tool, offered = self.tools.get(name), [item.name for item in self.offered()]
        if tool is None:
            return None, None, {}, (f"Error: there is no tool named {name!r}. Tools you can call in the "
                                    f"{self.session.meta.phase} step: {', '.join(offered) or 'none'}.")
        if name not in offered and tool.permission != "never":  # a disabled tool is refused by the policy below
            return tool, None, {}, steps.why_not_offered(tool, self.session.meta.phase, self.session.records())
        try:
            raw = json.loads(text) if isinstance(text, str) else dict(text)
        except ValueError as exc:
            return tool, None, {}, f"Error: the arguments of {name} are not valid JSON ({exc}). Send one JSON object."
        if not isinstance(raw, dict):
            return tool, None, {}, f"Error: the arguments of {name} must be a JSON object, not {type(raw).__name__}."
        try:
            return tool, tool.validate(raw), raw, None
        except ValidationError as exc:
            return tool, None, raw, f"Error: invalid arguments for {name}: {format_validation(exc)}"

    def _result(self, call_id: str, name: str, result: ToolResult) -> ToolFinished:
        idle = result.is_error or bool(result.data.get("unchanged"))
        self._steer = name if idle else None
        hint = self.hint(self.session) if self.hint and idle else None
        if hint and hint not in result.content:
            result = result.model_copy(update={"content": f"{result.content}\n\n(tunesmith) Call this next: {hint}"})
        self.session.append(tool_record(call_id, name, result.content, is_error=result.is_error,
                                        data=result.data, files=result.files))
        return ToolFinished(call_id, name, result.content, result.is_error, list(result.files), dict(result.data))

    def _skip(self, calls: list[dict[str, Any]], why: str) -> None:
        for call in calls:
            name = call.get("function", {}).get("name", "")
            self.session.append(tool_record(call.get("id", ""), name, why, is_error=True, skipped=True))

    def _set_phase(self, phase: str) -> PhaseChanged:
        self.session.meta.phase = phase
        self._turn_fails, self._failed = {}, None  # what failed in the last step may be right in this one
        self.session.append({"type": "phase", "phase": phase})
        self.session.save_meta()
        return PhaseChanged(phase)

    def _notice(self, text: str, level: str = "info") -> Notice:
        self.session.append({"type": "notice", "text": text, "level": level})
        return Notice(text, level)  # type: ignore[arg-type]

    def _drain_notices(self) -> list[Notice]:
        notices, self.notices = self.notices, []
        return notices

    def _context(self) -> ToolContext:
        return ToolContext(session_dir=self.session.dir, settings=self.settings, jobs=self.jobs)


def _readable_calls(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages with every earlier tool call's arguments as a JSON object: a call the model wrote with broken
    arguments stays in the log as written (its result says why it failed), but llama.cpp's server refuses a whole
    request whose history holds one (HTTP 500, "Failed to parse tool call arguments as JSON")."""
    out = []
    for message in messages:
        calls = message.get("tool_calls") if message.get("role") == "assistant" else None
        if calls and not all(_is_object(call.get("function", {}).get("arguments")) for call in calls):
            message = {**message, "tool_calls": [
                call if _is_object(call.get("function", {}).get("arguments"))
                else {**call, "function": {**call.get("function", {}), "arguments": "{}"}} for call in calls]}
        out.append(message)
    return out


def _with_started_arguments(call: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A call the server read from a started answer: llama.cpp takes the tool's name from the prefill but the
    arguments only from what the model wrote after it, so a prefill that opened the arguments (``"arguments": {``)
    leaves them without their opening brace. Put back what the prefill opened when that makes them an object."""
    function = call.get("function") or {}
    arguments = function.get("arguments")
    opened = prefix.split('"arguments":', 1)[1].strip() if '"arguments":' in prefix else ""
    if not opened:
        return call
    if _is_json_object(opened):
        # the start held the arguments in full (a hint's own, closed): the model had only to end the call, and
        # llama.cpp streams the name alone (seen with Qwen2.5-Coder-1.5B; litellm reports "{}"), or a stray brace
        return {**call, "function": {**function, "arguments": opened}}
    if _is_object(arguments) or not isinstance(arguments, str):
        return call
    mended = opened + arguments
    return {**call, "function": {**function, "arguments": mended}} if _is_json_object(mended) else call


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _closed(known: str) -> str:
    """A hint's arguments given in full close the started call's arguments: the model has only to end the call.
    Left open, Qwen2.5-Coder-1.5B went on from ``{"changes": {"train_count": 69}`` with ``"}}`` (llama.cpp could
    not read it) and, started again by name only, wrote ``{}``."""
    return known + "}" if known else ""


def _is_object(arguments: Any) -> bool:
    if isinstance(arguments, dict):
        return True
    try:
        return isinstance(json.loads(arguments or "{}"), dict)
    except (TypeError, ValueError):
        return False


def _known_arguments(hint: str | None, tool: Tool | None) -> str:
    """The arguments a hint gives in full, such as ``write_data_generation_spec(changes={"train_count": 120})``,
    as JSON text that goes on from a started call's opening brace: ``"changes": {"train_count": 120}``. Empty when
    the hint gives none, or gives one only in words (``description=<the person's first message>``), or names an
    argument the tool does not take. Seen with Qwen2.5-Coder-1.5B: started on the hinted call by name, it wrote
    ``{"changes": {}}`` where the hint said train_count 120, and regenerated the same too-small data."""
    import ast

    text = hint or ""
    opened = text.find("(")
    if tool is None or opened < 0:
        return ""
    for end in (i for i, char in enumerate(text) if char == ")" and i > opened):
        try:
            node = ast.parse(text[:end + 1], mode="eval").body
        except SyntaxError:
            continue
        if not isinstance(node, ast.Call) or node.args or not node.keywords:
            return ""
        fields = getattr(tool.args_model, "model_fields", {})
        values = {}
        for keyword in node.keywords:
            if keyword.arg not in fields:
                return ""
            try:
                values[keyword.arg] = ast.literal_eval(keyword.value)
            except (ValueError, SyntaxError):
                return ""
        return json.dumps(values, ensure_ascii=False)[1:-1]
    return ""


def _tool_name(call: str | None) -> str | None:
    """The tool a hint such as ``ask_user(question="...")`` calls."""
    head = (call or "").split("(", 1)[0].strip()
    return head if head.isidentifier() else None


def _run_safely(tool: Tool, ctx: ToolContext, args: Any) -> ToolResult:
    try:
        return tool.run(ctx, args)
    except Exception as exc:  # noqa: BLE001 (a tool bug must not end the session)
        return ToolResult(content=f"Error: {tool.name} failed: {type(exc).__name__}: {exc}", is_error=True)


def _preview(tool: Tool, ctx: ToolContext, args: Any) -> Preview:
    try:
        return tool.describe(ctx, args)
    except Exception as exc:  # noqa: BLE001 (the card still shows what will run)
        return Preview(summary=f"{tool.name}({json.dumps(args.model_dump(mode='json'))[:300]}) (preview failed: {exc})")


def _progress(tool_name: str, event: dict[str, Any]) -> Event:
    event = dict(event)
    kind = event.pop("type", "progress")
    if kind in ("notice", "message", "warning"):
        return Notice(str(event.get("text") or event.get("message") or event), "warning" if kind == "warning" else "info")
    known = {key: event.pop(key, None) for key in ("task", "done", "total", "rate", "eta_s")}
    return Progress(task=str(known["task"] or tool_name), done=float(known["done"] or 0), total=known["total"],
                    rate=known["rate"], eta_s=known["eta_s"], fields=event)


def format_validation(exc: ValidationError) -> str:
    """Pydantic errors as `field.path: message (got value)`, one per line."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(arguments)"
        got = f" (got {error['input']!r})" if error["type"] not in ("missing", "extra_forbidden") else ""
        parts.append(f"`{where}`: {error['msg']}{got}")
    return "; ".join(parts)


def _canonical(arguments: Any) -> str:
    """Arguments as one comparable string (key order and spacing do not matter)."""
    try:
        value = json.loads(arguments) if isinstance(arguments, str) else arguments
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return str(arguments)


def unanswered_calls(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool calls of the last assistant message that have no tool result yet (after a restart)."""
    calls: list[dict[str, Any]] = []
    answered: set[str] = set()
    for record in records:
        message = record.get("message") or {}
        if record.get("type") == "assistant":
            calls, answered = list(message.get("tool_calls") or []), set()
        elif record.get("type") == "tool":
            answered.add(message.get("tool_call_id", ""))
    return [call for call in calls if call.get("id") not in answered]


def _default_prompt(session: Session, files: bool = True) -> str:
    from assistant.prompts import system_prompt

    return system_prompt(session, files=files)


def _files_note(session: Session) -> str:
    from assistant.prompts import files_note

    return files_note(session)


def _with_note(messages: list[dict[str, Any]], note: str) -> list[dict[str, Any]]:
    """The request with ``note`` at the end of its last message from the person or a tool (the log is not changed)."""
    for index in range(len(messages) - 1, 0, -1):
        message = messages[index]
        if message.get("role") in ("user", "tool") and isinstance(message.get("content"), str):
            return [*messages[:index], {**message, "content": f"{message['content']}\n\n{note}"}, *messages[index + 1:]]
    return messages
