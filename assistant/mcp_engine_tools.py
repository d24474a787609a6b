"""Tools the MCP server adds beside the skills' tools: where the session stands, and its background
jobs (status, wait with progress notifications, cancel), read from the engine's JobRunner files so
jobs started before a restart are followed the same way. Also the session files offered as resources."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

WAIT_DEFAULT_S = 120.0
"""How long wait_job waits by default before answering that the job still runs."""
POLL_S = 0.5

RESOURCE_FILES = {
    "use_case.yaml": "the use-case spec", "data_generation.yaml": "how the data is generated",
    "training.yaml": "the training plan", "reward.yaml": "the reward spec", "reward.py": "the reward function",
    "evaluation.yaml": "the evaluation spec", "export.yaml": "the export spec", "generator.py": "the data generator",
    "data/quality.json": "the data quality report", "data/generation.json": "what data generation made",
    "lineage.jsonl": "what each artifact came from", "notes.md": "facts the person stated",
}
"""Session files offered as resources when they exist (path -> what it is)."""


def session_resources(folder: Path) -> list[tuple[str, str]]:
    """(session-relative path, description) of the specs, reports and lineage present."""
    found = [(rel, what) for rel, what in RESOURCE_FILES.items() if (folder / rel).is_file()]
    for report in sorted(folder.glob("evals/*/report.md")):
        found.append((report.relative_to(folder).as_posix(), f"evaluation report {report.parent.name}"))
    for run in sorted(folder.glob("runs/*/run.json")):
        found.append((run.relative_to(folder).as_posix(), f"training run {run.parent.name}"))
    return found


class _Empty(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _JobArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_id: str | None = Field(None, description="The job (from job_status); omit for the latest one.")


class _WaitArgs(_JobArgs):
    timeout_s: float = Field(WAIT_DEFAULT_S, ge=0, le=3600,
                             description="Stop waiting after this many seconds (the job goes on).")


@dataclass
class EngineTool:
    name: str
    description: str
    args: type[BaseModel]
    fn: Callable[[Any, Any, Any], Awaitable[str]]

    def schema(self) -> dict[str, Any]:
        schema = self.args.model_json_schema()
        schema.pop("title", None)
        return schema

    async def run(self, server: Any, ctx: Any, arguments: dict[str, Any]) -> Any:
        from assistant.agent import format_validation
        from assistant.mcp_server import _text

        try:
            args = self.args.model_validate(arguments)
        except ValidationError as exc:
            return _text(f"Error: invalid arguments for {self.name}: {format_validation(exc)}", error=True)
        try:
            return _text(await self.fn(server, ctx, args))
        except LookupError as exc:
            return _text(f"Error: {exc.args[0]}", error=True)


def _pick(server: Any, job_id: str | None) -> Any:
    jobs = server.runner.list()
    if job_id:
        match = [job for job in jobs if job.id == job_id]
        if not match:
            raise LookupError(f"no job {job_id!r} in this session; jobs: {', '.join(j.id for j in jobs) or 'none'}")
        return match[0]
    if not jobs:
        raise LookupError("no background job was started in this session yet")
    running = [job for job in jobs if job.status() == "running"]
    return (running or jobs)[-1]


def _last_progress(job: Any) -> dict[str, Any] | None:
    last = None
    try:
        lines = job.events_path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    import json

    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("type") == "progress":
            last = event
    return last


def _describe(job: Any) -> str:
    status = job.status()
    state = job.state
    line = f"{job.id} ({state.name}): {status}, started {state.started}"
    if state.ended:
        line += f", ended {state.ended}"
    if state.reason:
        line += f" ({state.reason})"
    last = _last_progress(job)
    if last is not None:
        done, total = last.get("done", last.get("step")), last.get("total", last.get("total_steps"))
        line += f"; last progress: {last.get('task') or state.name} {done}" + (f"/{total}" if total else "")
    return line


async def _session_status(server: Any, ctx: Any, args: _Empty) -> str:
    from assistant.pending import pending_request, waiting_decisions

    session = server.session
    lines = [f"Session {session.name} at step {session.meta.phase} ({session.dir})."]
    pending = pending_request(session.meta)
    if pending is not None:
        lines.append(f"Waiting for the person's approval of {pending.tool}: `tunesmith approve {session.name}`.")
    for decided in waiting_decisions(session.dir):
        lines.append(f"The person decided {decided.get('decision')} for {decided.get('tool')}; call it again with "
                     "the same arguments.")
    jobs = server.runner.list()
    lines += ["Jobs:"] + [f"- {_describe(job)}" for job in jobs] if jobs else ["No background jobs."]
    lines.append("Tools of this step: " + ", ".join(sorted(server.offered())))
    return "\n".join(lines)


async def _job_status(server: Any, ctx: Any, args: _JobArgs) -> str:
    if args.job_id:
        return _describe(_pick(server, args.job_id))
    jobs = server.runner.list()
    return "\n".join(f"- {_describe(job)}" for job in jobs) if jobs else "No background jobs in this session."


async def _wait_job(server: Any, ctx: Any, args: _WaitArgs) -> str:
    import anyio

    from assistant.mcp_gate import ProgressReporter

    job = _pick(server, args.job_id)
    reporter = ProgressReporter(ctx)
    last = _last_progress(job)
    if last is not None:
        await reporter.job_event(last, job.name)
    job.events()  # from here on, only new events
    deadline = anyio.current_time() + args.timeout_s
    while True:
        status = job.status()
        for event in job.events():
            await reporter.job_event(event, job.name)
        if status != "running":
            break
        if anyio.current_time() >= deadline:
            return f"Still running after {args.timeout_s:g} s: {_describe(job)}. Call wait_job again to follow it."
        await anyio.sleep(POLL_S)
    text = f"Job ended: {_describe(job)}."
    if status == "failed":
        text += "\nEnd of its log:\n" + job.log_tail(1500)
    return text + "\nThe step's own tools report what it made (e.g. wait_for_data_generation, training_status)."


async def _cancel_job(server: Any, ctx: Any, args: _JobArgs) -> str:
    import anyio

    job = _pick(server, args.job_id)
    if job.status() != "running":
        return f"Not running: {_describe(job)}."
    await anyio.to_thread.run_sync(job.cancel)
    return f"Cancelled: {_describe(job)}."


ENGINE_TOOLS = {tool.name: tool for tool in [
    EngineTool("session_status", "Where the session stands: its step, an approval waiting for the person, "
               "decisions waiting to be used, its background jobs, and the tools of this step.", _Empty, _session_status),
    EngineTool("job_status", "The session's background jobs (data generation, training, evaluation, export) with "
               "their status and last progress, including jobs started before a restart.", _JobArgs, _job_status),
    EngineTool("wait_job", "Follow a background job until it ends or the timeout passes, sending its progress as "
               "progress notifications; the job goes on when the wait stops.", _WaitArgs, _wait_job),
    EngineTool("cancel_job", "Cancel a running background job (what it made so far is kept).", _JobArgs, _cancel_job),
]}
"""Engine tools by name, offered in every step."""
