"""Benchmark helper: start the TUI headless on a new session and print the wall-clock time when its
first screen has been painted, then exit. tests/bench/run.py runs it as a subprocess and subtracts the
time it started the process, so imports and interpreter start-up count.

    python -m tests.bench.tui_first_paint WORKSPACE      -> prints "PAINTED <unix time>"
"""

from __future__ import annotations

import sys
import time


def main(workspace: str) -> None:
    from pathlib import Path

    from assistant.config import Settings
    from assistant.tui import app as app_module
    from assistant.tui.app import TunesmithApp

    class FirstPaint(TunesmithApp):
        CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))

        def on_ready(self) -> None:  # Textual sends Ready after the first screen is composed and shown
            self.call_after_refresh(self.painted)

        def painted(self) -> None:
            print(f"PAINTED {time.time():.6f}", flush=True)
            self.exit()

    settings = Settings.load(env={}, workspace=workspace)
    FirstPaint(settings).run(headless=True, size=(120, 40))


if __name__ == "__main__":
    main(sys.argv[1])
