"""Playground and rating screens, driven with a Pilot. The playground's model process is a stand-in that
speaks the serve protocol here; test_playground_slow.py runs the real one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from textual.app import App

from assistant.tui.screens.playground import PlaygroundScreen
from assistant.tui.screens.rating import RatingScreen
from skills.evaluate.report import build_report, write_report

FAKE_SERVER = r"""
import json, sys
print(json.dumps({"type": "ready", "variants": ["base", "tuned"], "run_id": "r1"}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    for side in ("base", "tuned"):
        msgs = req["messages"][side]
        turns = sum(1 for m in msgs if m["role"] == "user")
        text = f"{side} says {msgs[-1]['content'][::-1]} (turn {turns})"
        print(json.dumps({"type": "answer", "id": req["id"], "variant": side, "text": text, "seconds": 0.01}), flush=True)
    print(json.dumps({"type": "done", "id": req["id"]}), flush=True)
"""


class Host(App[None]):
    def __init__(self, screen):
        super().__init__()
        self.first = screen

    def on_mount(self) -> None:
        self.push_screen(self.first)


async def wait_for(pilot, condition, tries: int = 200) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


async def test_same_prompt_two_answers_side_by_side(tmp_path):
    screen = PlaygroundScreen(tmp_path, command=[sys.executable, "-c", FAKE_SERVER])
    app = Host(screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: screen.ready)
        assert "run r1" in str(screen.query_one("#pg-tuned-title").render())
        await pilot.press(*"hello", "enter")
        await wait_for(pilot, lambda: len(screen.answers) == 2 and not screen.busy)
        assert [a["variant"] for a in screen.answers] == ["base", "tuned"]
        await pilot.press(*"again", "enter")
        await wait_for(pilot, lambda: len(screen.answers) == 4 and not screen.busy)
        assert screen.answers[2]["text"] == "base says niaga (turn 2)"
        base_log = [str(w.render()) for w in screen.query_one("#pg-base-log").children]
        tuned_log = [str(w.render()) for w in screen.query_one("#pg-tuned-log").children]
        assert base_log[0] == "› hello" and tuned_log[1] == "tuned says olleh (turn 1)"
        assert len(screen.history["tuned"]) == 4
        job = screen.job
        assert job.name == "playground" and (tmp_path / "jobs" / f"{job.id}.json").exists(), "a job of the engine's runner"
        await pilot.press("escape")
        await pilot.pause()
        assert job is not None and not job.is_running()
        assert not isinstance(app.screen, PlaygroundScreen)


def write_eval(session: Path) -> Path:
    folder = session / "evals" / "e1"
    folder.mkdir(parents=True)
    rows = [{"index": i, "prompt": f"input {i}", "reference": "ok", "outputs": {"base": f"answer {i}"},
             "scores": {"base": {"polite": 1.0 if i % 2 else 0.0}}} for i in range(4)]
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    columns = [{"key": "polite", "metric": "polite", "tenet": "polite", "kind": "judge", "method": "judge (numeric)"}]
    write_report(folder, build_report(rows, columns, ["base"], eval_id="e1"))
    return folder


async def test_rating_screen_stores_ratings_and_reports_agreement(tmp_path):
    folder = write_eval(tmp_path)
    screen = RatingScreen(tmp_path, n=20)
    results = []
    app = Host(screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert len(screen.items) == 4 and screen.metric == "polite"
        first = screen.items[0]
        assert str(screen.query_one("#rt-output").render()) == first["output"]
        # rate every answer 5 (pass): the judge passes the odd ones only
        for _ in range(4):
            await pilot.press("5")
        await pilot.pause()
        assert "agrees with you on 2 of 4" in str(screen.query_one("#rt-result").render())
        screen.dismiss = lambda result=None: results.append(result)  # capture what the screen hands back
        await pilot.press("escape")
    ratings = [json.loads(l) for l in (folder / "ratings.jsonl").read_text().splitlines()]
    assert len(ratings) == 4 and all(r["score"] == 1.0 and r["metric"] == "polite" for r in ratings)
    assert results and results[0]["agree"] == 2 and results[0]["compared"] == 4
    assert "agrees with you on 2 of 4" in (folder / "report.md").read_text()


async def test_rating_screen_without_an_evaluation(tmp_path):
    screen = RatingScreen(tmp_path)
    async with Host(screen).run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        assert "Nothing to rate" in str(screen.query_one("#rt-head").render())


def test_palette_commands_open_the_two_screens(tmp_path):
    from types import SimpleNamespace

    from assistant.tui.screens.playground import evaluation_commands

    pushed = []
    app = SimpleNamespace(session=SimpleNamespace(dir=tmp_path), push_screen=lambda screen, cb=None: pushed.append(screen),
                          notify=lambda *a, **k: None)
    commands = list(evaluation_commands(app))
    assert [c.title for c in commands] == ["Playground: base vs tuned", "Rate answers"]
    for command in commands:
        command.callback()
    assert [type(s).__name__ for s in pushed] == ["PlaygroundScreen", "RatingScreen"]
    assert list(evaluation_commands(SimpleNamespace(session=None))) == []
