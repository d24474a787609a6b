"""The playground with the real model process: the embedded base model and a tiny LoRA adapter on it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from textual.app import App

from assistant.tui.screens.playground import PlaygroundScreen

ROOT = Path(__file__).resolve().parents[2]


class Host(App[None]):
    def __init__(self, screen):
        super().__init__()
        self.first = screen

    def on_mount(self) -> None:
        self.push_screen(self.first)


async def wait_for(pilot, condition, seconds: float) -> None:
    for _ in range(int(seconds / 0.25)):
        if condition():
            return
        await pilot.pause(0.25)
    raise AssertionError("condition not met in time")


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_playground_answers_with_base_and_tuned_side_by_side(tmp_path):
    session = tmp_path / "s1"
    (session / "data").mkdir(parents=True)
    shutil.copy(ROOT / "specs" / "examples" / "bank_transactions.use_case.yaml", session / "use_case.yaml")
    row = {"prompt": [{"role": "user", "content": "2026-01-04 UBER TRIP -12.00 EUR"}],
           "completion": [{"role": "assistant", "content": "transport"}]}
    (session / "data" / "train.jsonl").write_text(json.dumps(row) + "\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    trained = subprocess.run([sys.executable, str(ROOT / "tests/skills/eval_adapter.py"), str(session / "data/train.jsonl"),
                              str(session / "runs/r1/final"), "1"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert trained.returncode == 0, trained.stderr[-2000:]

    screen = PlaygroundScreen(session, max_new_tokens=8)
    app = Host(screen)
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_for(pilot, lambda: screen.ready, 240)
        assert screen.variants == ["base", "tuned"]
        await pilot.press(*"NETFLIX.COM -9.99 EUR", "enter")
        await wait_for(pilot, lambda: len(screen.answers) == 2 and not screen.busy, 240)
        assert [a["variant"] for a in screen.answers] == ["base", "tuned"]
        assert all(isinstance(a["text"], str) for a in screen.answers)
        job = screen.job
        await pilot.press("escape")
        await pilot.pause()
        assert job is not None and not job.is_running()
