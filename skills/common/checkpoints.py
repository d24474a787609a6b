"""Training checkpoints on disk: ``runs/<id>/checkpoints/checkpoint-<step>/``."""

from __future__ import annotations

from pathlib import Path


def last_checkpoint(folder: Path) -> Path | None:
    """The newest checkpoint whose save completed (trainer_state.json is written last)."""
    if not folder.is_dir():
        return None
    done = [p for p in folder.glob("checkpoint-*") if (p / "trainer_state.json").exists() and p.name.split("-")[-1].isdigit()]
    return max(done, key=lambda p: int(p.name.split("-")[-1]), default=None)
