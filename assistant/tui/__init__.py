"""The terminal face of tunesmith (Textual). The only package that imports textual.

Import `run_app` / `TunesmithApp` from `assistant.tui.app`; this package stays import-light.
"""

from __future__ import annotations

from typing import Any


def run_app(settings: Any, session: Any = None, resume: bool = False) -> int:
    """Start the app (lazy import so `tunesmith --help` never loads textual)."""
    from assistant.tui.app import run_app as _run_app

    return _run_app(settings, session, resume=resume)
