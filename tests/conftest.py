"""Shared test set-up: offline, quiet libraries and a throwaway workspace. Keep this file small."""

from __future__ import annotations

import os

import pytest

for _name, _value in {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "HF_HUB_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_name, _value)


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A Workspace in a temp folder, also set as $TUNESMITH_HOME for subprocesses."""
    from assistant.session import Workspace

    root = tmp_path / "ws"
    monkeypatch.setenv("TUNESMITH_HOME", str(root))
    return Workspace(root)
