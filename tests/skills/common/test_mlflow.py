"""MLflow tracking: a run logged to the SQLite store and to a real `mlflow server` on loopback reads back."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from skills.common.tracking import RunTracker, default_uri, tracking_uri
from specs.training import TrainingPlan
from tests.skills.train.test_train_fixtures import make_session


def _log_a_run(session, uri):
    plan = TrainingPlan(hyperparameters={"max_steps": 7, "learning_rate": 3e-4})
    (session / "training.yaml").write_text("technique: sft\n")
    final = session / "runs" / "r1" / "final"
    final.mkdir(parents=True)
    (final / "adapter_config.json").write_text("{}")
    tracker = RunTracker(session, "r1", uri=uri)
    run_id = tracker.start(plan)
    for step in (1, 2, 3):
        tracker.log_metrics({"loss": 3.0 / step, "rewards/correct/mean": 0.1 * step, "note": "text is skipped"}, step)
    tracker.log_model(final)
    tracker.end()
    return run_id


def _check(uri, run_id, session):
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["technique"] == "sft"
    assert run.data.params["hyperparameters.max_steps"] == "7"
    assert run.data.params["hyperparameters.lora_targets"].startswith("q_proj")
    assert run.data.tags["tunesmith.session"] == session.name
    assert run.data.tags["tunesmith.run_id"] == "r1"
    assert len(run.data.tags["tunesmith.dataset.train_sha256"]) == 64
    assert "tunesmith.spec.use_case.yaml.sha256" in run.data.tags
    history = client.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == [1, 2, 3] and history[-1].value == pytest.approx(1.0)
    assert "rewards.correct.mean" in run.data.metrics
    assert [a.path for a in client.list_artifacts(run_id, "model")] == ["model/adapter_config.json"]


def test_sqlite_store_reads_back(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    session = make_session(tmp_path, n_train=5, n_eval=2)
    uri = tracking_uri(session)
    assert uri == default_uri(tmp_path) and uri.endswith("/mlflow.db")
    _check(uri, _log_a_run(session, uri), session)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_real_mlflow_server_on_loopback(tmp_path):
    session = make_session(tmp_path, n_train=5, n_eval=2)
    port = _free_port()
    argv = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}", "--artifacts-destination", str(tmp_path / "artifacts")]
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 150
        while True:
            try:
                with urllib.request.urlopen(uri + "/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, "mlflow server exited early"
            assert time.monotonic() < deadline, "mlflow server did not start within 150 s"
            time.sleep(0.5)
        _check(uri, _log_a_run(session, uri), session)
    finally:
        import os
        import signal

        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_tunesmith_mlflow_prints_the_workspace_store(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    out = subprocess.run([sys.executable, "-m", "assistant", "--workspace", str(tmp_path / "ws"), "mlflow", "--print-uri"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"sqlite:///{(tmp_path / 'ws').resolve() / 'mlflow.db'}"


def test_artifacts_live_beside_the_sqlite_store(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    session = make_session(tmp_path / "ws", n_train=5, n_eval=2)
    uri = tracking_uri(session)
    run_id = _log_a_run(session, uri)
    from mlflow import MlflowClient

    location = MlflowClient(uri).get_run(run_id).info.artifact_uri
    assert location.startswith((tmp_path / "ws" / "mlartifacts").as_uri())
    assert not (tmp_path / "mlruns").exists()
