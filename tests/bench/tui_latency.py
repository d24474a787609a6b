"""Benchmark helper: the TUI's input-to-screen delay while the planner streams and a CPU-heavy job runs.

Drives the real app with a Pilot (headless). The agent is the real Agent with a model that streams
a long markdown answer in small pieces for the whole measurement; next to it a subprocess keeps
every CPU core busy (the stand-in for a training job; ``--job-argv`` runs a given command instead,
e.g. a real training job, and ``--job-events`` waits until it is training before measuring). Each measurement sends one key event the way the terminal driver does (Pilot.press would
also wait for the app to go idle, which it never does while streaming), waits until the prompt
holds the character and then for the next screen refresh: key press -> screen updated. Prints one JSON line.

    python -m tests.bench.tui_latency [--presses 40] [--cpu-burners N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BURN = "import time\nwhile True:\n    sum(i * i for i in range(10000))\n"


class StreamingModel:
    """Streams markdown for ``seconds``: a short piece every ``every_s`` (about 200 characters a second)."""

    name = "bench-stream"

    def __init__(self, seconds: float = 600.0, every_s: float = 0.02) -> None:
        self.seconds, self.every_s = seconds, every_s

    async def stream(self, messages, tools):
        from assistant.events import TextDelta
        from assistant.model import ModelReply

        pieces, started, n = [], time.monotonic(), 0
        while time.monotonic() - started < self.seconds:
            n += 1
            piece = f"word{n} " if n % 40 else f"\n\n## Part {n // 40}\n\n- item **{n}** with `code`\n"
            pieces.append(piece)
            yield TextDelta(piece)
            await asyncio.sleep(self.every_s)
        yield ModelReply(content="".join(pieces))


async def measure(presses: int, gap_s: float) -> dict:
    from pathlib import Path

    from assistant.agent import Agent
    from assistant.config import Settings
    from assistant.session import Workspace
    from assistant.tui import app as app_module
    from assistant.tui.app import TunesmithApp
    from textual import events
    from textual.widgets import Input

    class BenchApp(TunesmithApp):
        CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))

    model = StreamingModel()
    folder = tempfile.mkdtemp(prefix="tunesmith-bench-tui-")
    settings = Settings.load(env={}, workspace=folder)
    session = Workspace(folder).create("latency")
    app = BenchApp(settings, session, agent_factory=lambda s, sess, approver: Agent(sess, model, [], approver=approver))
    delays: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"stream please", "enter")
        for _ in range(200):  # wait until the answer is streaming
            await pilot.pause(0.05)
            if app.busy and app.chat.children:
                break
        await pilot.pause(1.0)
        prompt = app.query_one("#prompt", Input)
        for _ in range(presses):
            refreshed = asyncio.Event()
            before = prompt.value
            key = events.Key("x", "x")
            key.set_sender(app)
            started = time.perf_counter()
            app._driver.send_message(key)  # what the terminal driver does when a key arrives
            while prompt.value == before:
                await asyncio.sleep(0.001)
            app.call_after_refresh(refreshed.set)
            await refreshed.wait()
            delays.append(time.perf_counter() - started)
            await asyncio.sleep(gap_s)
        streaming = app.busy
        await app._stop_agent()
        await pilot.pause()
    shutil.rmtree(folder, ignore_errors=True)
    return {"presses": len(delays), "worst_ms": round(1000 * max(delays), 1),
            "median_ms": round(1000 * statistics.median(delays), 1),
            "p95_ms": round(1000 * sorted(delays)[int(0.95 * (len(delays) - 1))], 1),
            "still_streaming_at_end": streaming}


def wait_for_progress(path: str, job: subprocess.Popen, timeout_s: float = 900.0) -> None:
    """Wait until the job has logged a training step (model loaded, training under way)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if job.poll() is not None:
            raise SystemExit(f"the background job ended with {job.returncode} before training")
        try:
            if '"progress"' in open(path, encoding="utf-8").read():
                return
        except FileNotFoundError:
            pass
        time.sleep(0.5)
    raise SystemExit("the background job logged no progress in time")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--gap-s", type=float, default=0.1)
    parser.add_argument("--cpu-burners", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--job-argv", default=None, help="JSON list: a real job to run instead of the CPU burners")
    parser.add_argument("--job-events", default=None, help="wait until this events file reports progress")
    args = parser.parse_args()
    if args.job_argv:
        jobs = [subprocess.Popen(json.loads(args.job_argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        if args.job_events:
            wait_for_progress(args.job_events, jobs[0])
    else:
        jobs = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(args.cpu_burners)]
    try:
        result = asyncio.run(measure(args.presses, args.gap_s))
    finally:
        for job in jobs:
            job.kill()
            job.wait()
    result["background"] = "a training job" if args.job_argv else f"{args.cpu_burners} CPU-bound processes"
    print("RESULT=" + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
