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

CHECKOUT_LITTER = ("mlruns", "mlartifacts", "mlflow.db")
"""What a job would leave in the checkout if it wrote relative to its working folder."""


@pytest.fixture(autouse=True, scope="session")
def _nothing_written_into_the_checkout():
    """Fail the run when the tests leave MLflow files in the repository (jobs run with it as cwd)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    before = {name for name in CHECKOUT_LITTER if (root / name).exists()}
    yield
    left = [name for name in CHECKOUT_LITTER if (root / name).exists() and name not in before]
    assert not left, f"the tests wrote {left} into the checkout {root}; a job must write inside its session"


@pytest.fixture(autouse=True)
def _mlflow_store_stays_in_its_test():
    """``mlflow.set_tracking_uri`` also writes ``$MLFLOW_TRACKING_URI`` (so that child processes inherit
    it); a test that calls it would send every later test's jobs to its own store. Put both back."""
    import sys

    before = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    if "mlflow" in sys.modules:
        sys.modules["mlflow"].set_tracking_uri(before)
    if before is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = before


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A Workspace in a temp folder, also set as $TUNESMITH_HOME for subprocesses."""
    from assistant.session import Workspace

    root = tmp_path / "ws"
    monkeypatch.setenv("TUNESMITH_HOME", str(root))
    return Workspace(root)


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if text.encode() in handle.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


@pytest.fixture(autouse=True)
def _no_leaked_jobs(request):
    """Background jobs outlive the app by design; in tests, one left running after its test would
    slow every later test. Kill any process still working in this test's temp folder, and fail."""
    uses_tmp = "tmp_path" in request.fixturenames and os.path.isdir("/proc")
    folder = str(request.getfixturevalue("tmp_path")) if uses_tmp else None
    yield
    if folder is None:
        return
    leaked = _processes_mentioning(folder)
    if not leaked:
        return
    import signal
    import time

    deadline = time.monotonic() + 10.0  # a job that reported `done` gets a moment to exit on its own
    while leaked and time.monotonic() < deadline:
        time.sleep(0.2)
        leaked = _processes_mentioning(folder)
    for pid in leaked:
        try:
            os.killpg(pid, signal.SIGKILL) if os.getpgid(pid) == pid else os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if leaked:
        pytest.fail(f"the test left {len(leaked)} process(es) running in {folder}: killed them", pytrace=False)


@pytest.fixture
def bank_session(tmp_path):
    """A session folder holding the shipped bank-transaction use case and data generation spec."""
    import shutil
    from pathlib import Path

    examples = Path(__file__).resolve().parents[1] / "specs" / "examples"
    session = tmp_path / "session"
    session.mkdir()
    shutil.copy(examples / "bank_transactions.use_case.yaml", session / "use_case.yaml")
    shutil.copy(examples / "bank_transactions.data_generation.yaml", session / "data_generation.yaml")
    return session


@pytest.fixture
def bank_specs(bank_session):
    """The loaded (use case, data generation spec) of ``bank_session``."""
    from specs.data_generation import DataGenerationSpec
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec

    return load_spec(bank_session / "use_case.yaml", UseCaseSpec), load_spec(bank_session / "data_generation.yaml", DataGenerationSpec)
