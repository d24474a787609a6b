"""Waiting helpers for Pilot tests: poll the app's state between message-queue drains, never fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

from textual.pilot import Pilot


async def until(pilot: Pilot, condition: Callable[[], Any], timeout: float = 30.0, what: str = "") -> None:
    """Let the app process messages until `condition()` is true (fails after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


async def idle(pilot: Pilot, timeout: float = 30.0) -> None:
    """Wait until the agent finished every queued turn, then let the UI catch up."""
    await asyncio.wait_for(pilot.app.wait_idle(), timeout)
    await pilot.pause()


def screen_name(pilot: Pilot) -> str:
    return type(pilot.app.screen).__name__


async def approval(pilot: Pilot, timeout: float = 30.0) -> Any:
    """Wait for the approval modal and return it."""
    await until(pilot, lambda: screen_name(pilot) == "ApprovalScreen", timeout, "the approval modal")
    await pilot.pause()
    return pilot.app.screen
