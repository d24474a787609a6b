"""The playground: chat with the base and the tuned model side by side, the same prompt, two answers.

The models run in a separate process (``python -m skills.evaluate.serve``) that answers JSON lines
on stdin/stdout, so the UI never imports torch and never blocks while a model generates. The
process is a job of the engine's runner (assistant/jobs.py, started with pipes); its stderr is the
job's log.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Static

from assistant.jobs import Job, JobRunner

if TYPE_CHECKING:
    from assistant.tui.app import TunesmithApp

SIDES = ("base", "tuned")


class PlaygroundScreen(Screen[None]):
    """Side-by-side chat with base and tuned; escape closes, ctrl+k clears both conversations."""

    DEFAULT_CSS = """
    PlaygroundScreen { layout: vertical; }
    #pg-title { height: 1; padding: 0 1; background: $panel; }
    #pg-columns { height: 1fr; }
    .pg-side { width: 1fr; border: round $primary-darken-2; padding: 0 1; }
    .pg-side-title { text-style: bold; height: 1; }
    .pg-log { height: 1fr; }
    .pg-user { color: $text-muted; margin-top: 1; }
    .pg-answer { margin-bottom: 0; }
    .pg-error { color: $error; }
    #pg-status { height: 1; padding: 0 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("ctrl+k", "clear", "Clear"),
    ]

    def __init__(self, session_dir: Path, run_id: str | None = None, *, command: list[str] | None = None,
                 max_new_tokens: int = 128, jobs: JobRunner | None = None) -> None:
        super().__init__()
        self.session_dir = Path(session_dir)
        self.run_id = run_id
        self.command = command or self.serve_command(self.session_dir, run_id, max_new_tokens)
        self.jobs = jobs or JobRunner(self.session_dir)
        """The engine's job runner: the model server is one of the session's jobs."""
        self.job: Job | None = None
        self.ready = False
        self.busy = False
        self.variants: list[str] = []
        self.history: dict[str, list[dict[str, str]]] = {side: [] for side in SIDES}
        self.answers: list[dict[str, Any]] = []
        """Every answer event received, in order (tests read it)."""
        self._next_id = 0

    @staticmethod
    def serve_command(session_dir: Path, run_id: str | None, max_new_tokens: int) -> list[str]:
        argv = [sys.executable, "-m", "skills.evaluate.serve", "--session", str(session_dir),
                "--max-new-tokens", str(max_new_tokens)]
        return argv + (["--run-id", run_id] if run_id else [])

    def compose(self) -> ComposeResult:
        yield Static("Playground: the same prompt to both models. esc closes, ctrl+k clears.", id="pg-title")
        with Horizontal(id="pg-columns"):
            for side in SIDES:
                with Vertical(classes="pg-side", id=f"pg-{side}"):
                    yield Static(side, classes="pg-side-title", id=f"pg-{side}-title")
                    yield VerticalScroll(classes="pg-log", id=f"pg-{side}-log")
        yield Static("Starting the models…", id="pg-status")
        yield Input(placeholder="Loading the models…", id="pg-input", disabled=True)

    def on_mount(self) -> None:
        self.run_worker(self._serve(), name="playground-serve", group="playground", exclusive=True)

    def _status(self, text: str) -> None:
        self.query_one("#pg-status", Static).update(text)

    async def _serve(self) -> None:
        job = self.job = self.jobs.start("playground", self.command, cwd=str(Path(__file__).resolve().parents[3]),
                                         pipes=True)
        assert job.stdout is not None
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), job.stdout)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                self._on_event(event)
        finally:
            transport.close()
        await asyncio.to_thread(job.wait, None, 0.05)
        if self.is_mounted and self.job is job:
            self.ready = False
            self.query_one("#pg-input", Input).disabled = True
            self._status(f"The model process ended (exit {job.exit_code}); see {job.log_path}. esc closes.")

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "ready":
            self.variants = list(event.get("variants") or [])
            self.ready = True
            run = event.get("run_id")
            self.query_one("#pg-tuned-title", Static).update(f"tuned (run {run})" if run else "tuned: no finished run yet")
            self.query_one("#pg-base-title", Static).update("base")
            box = self.query_one("#pg-input", Input)
            box.disabled = False
            box.placeholder = "Type a prompt for both models and press enter"
            box.focus()
            self._status("Ready." + ("" if run else " No trained run: only the base model answers."))
        elif kind == "answer":
            side = event.get("variant", "base")
            self.answers.append(event)
            self.history.setdefault(side, []).append({"role": "assistant", "content": event.get("text", "")})
            self._add(side, event.get("text", ""), "pg-answer")
            self._status(f"{side} answered in {event.get('seconds', 0):.1f} s.")
        elif kind == "done":
            self.busy = False
            box = self.query_one("#pg-input", Input)
            box.disabled = False
            box.focus()
            self._status("Ready.")
        elif kind == "error":
            self.busy = False
            self.query_one("#pg-input", Input).disabled = not self.ready
            self._status(f"Error: {event.get('message')}")
            self.notify(str(event.get("message")), severity="error", title="Playground")

    def _add(self, side: str, text: str, css: str) -> None:
        log = self.query_one(f"#pg-{side}-log", VerticalScroll)
        log.mount(Static(text or "(empty answer)", classes=css, markup=False))
        log.scroll_end(animate=False)

    @on(Input.Submitted, "#pg-input")
    async def _send(self, message: Input.Submitted) -> None:
        text = message.value.strip()
        if not text or not self.ready or self.busy or self.job is None or self.job.stdin is None:
            return
        message.input.value = ""
        self.busy = True
        message.input.disabled = True
        self._next_id += 1
        for side in self.variants:
            self.history.setdefault(side, []).append({"role": "user", "content": text})
            self._add(side, f"› {text}", "pg-user")
        request = {"id": self._next_id, "messages": {side: self.history[side] for side in self.variants}}
        self._status("Both models are answering…")
        stdin = self.job.stdin
        await asyncio.to_thread(lambda: (stdin.write((json.dumps(request) + "\n").encode()), stdin.flush()))

    def action_clear(self) -> None:
        self.history = {side: [] for side in SIDES}
        for side in SIDES:
            self.query_one(f"#pg-{side}-log", VerticalScroll).remove_children()
        self._status("Cleared." if self.ready else "Starting the models…")

    async def action_close(self) -> None:
        await self.stop()
        self.dismiss(None)

    async def stop(self) -> None:
        """End the model process: close its input, then have the runner cancel it if it lingers."""
        job, self.job = self.job, None
        if job is None or not job.is_running():
            return
        if job.stdin is not None:
            try:
                job.stdin.close()
            except OSError:
                pass
        if await asyncio.to_thread(job.wait, None, 0.05, 3.0) == "running":
            await asyncio.to_thread(job.cancel, 3.0)

    async def on_unmount(self) -> None:
        await self.stop()


def evaluation_commands(app: TunesmithApp) -> Iterator[SystemCommand]:
    """Command-palette entries that open the playground and the rating screen for the app's session.

    The app's ``get_system_commands`` hooks them in with ``yield from evaluation_commands(self)``.
    """
    session = app.session
    if session is None:
        return
    from assistant.tui.screens.rating import RatingScreen

    def rated(result: dict | None) -> None:
        if result and result.get("rated"):
            from assistant.session_files import agreement_sentence

            app.notify(agreement_sentence(result), title="Judge agreement")

    yield SystemCommand("Playground: base vs tuned", "Chat with the base and the tuned model side by side",
                        lambda: app.push_screen(PlaygroundScreen(session.dir)))
    yield SystemCommand("Rate answers", "Rate about 20 evaluated answers; see how often the judge agrees",
                        lambda: app.push_screen(RatingScreen(session.dir), rated))
