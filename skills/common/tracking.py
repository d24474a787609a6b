"""MLflow tracking of a training run: the plan as params, metrics, data and spec hashes, the model.

Imported by the training job (mlflow is imported inside functions). The default store is a SQLite
file in the workspace, ``sqlite:///<workspace>/mlflow.db``; ``MLFLOW_TRACKING_URI`` overrides it.
A resumed run continues the same MLflow run (its id is kept in ``runs/<id>/run.json``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

EXPERIMENT = "tunesmith"
SPEC_FILES = ("use_case.yaml", "data_generation.yaml", "training.yaml", "reward.yaml", "reward.py")


def workspace_of(session_dir: Path) -> Path:
    """The workspace holding a session (``<workspace>/sessions/<name>``), else the session itself."""
    session_dir = Path(session_dir).resolve()
    if session_dir.parent.name == "sessions":
        return session_dir.parent.parent
    return session_dir


def default_uri(workspace: Path) -> str:
    return f"sqlite:///{Path(workspace).resolve() / 'mlflow.db'}"


def ensure_experiment(mlflow: Any, uri: str) -> None:
    """Create the experiment with artifacts beside a SQLite store (not in the job's working folder,
    where MLflow would put ``./mlruns`` by default)."""
    client = mlflow.MlflowClient(uri)
    if client.get_experiment_by_name(EXPERIMENT) is not None:
        return
    location = None
    if uri.startswith("sqlite:///"):
        location = (Path(uri[len("sqlite:///"):]).parent / "mlartifacts").resolve().as_uri()
    try:
        client.create_experiment(EXPERIMENT, artifact_location=location)
    except Exception:  # noqa: BLE001 - another process created it first
        pass


def tracking_uri(session_dir: Path) -> str:
    """``MLFLOW_TRACKING_URI`` when set, else the workspace's SQLite store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or default_uri(workspace_of(session_dir))


def file_sha256(path: Path) -> str | None:
    if not path.exists():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def flatten(prefix: str, value: Any, out: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    else:
        out[prefix] = ",".join(map(str, value)) if isinstance(value, list) else value
    return out


class RunTracker:
    """One MLflow run for one training run; every method is a no-op once disabled."""

    def __init__(self, session_dir: Path, run_id: str, uri: str | None = None):
        self.session_dir = Path(session_dir)
        self.run_id = run_id
        self.uri = uri or tracking_uri(self.session_dir)
        self.mlflow_run_id: str | None = None
        self.enabled = True
        self._mlflow: Any = None

    def start(self, plan: Any, existing_run_id: str | None = None, parent_run_id: str | None = None) -> str | None:
        """Start (or continue) the MLflow run and log params, tags, dataset and spec hashes; with
        ``parent_run_id`` (the active run of this process) it is that run's child, e.g. a sweep's trial."""
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        try:
            import mlflow
        except ImportError:
            self.enabled = False
            return None
        self._mlflow = mlflow
        mlflow.set_tracking_uri(self.uri)
        self._ensure_experiment(mlflow)
        mlflow.set_experiment(EXPERIMENT)
        if existing_run_id:
            run = mlflow.start_run(run_id=existing_run_id)
            self.mlflow_run_id = run.info.run_id
            mlflow.set_tag("tunesmith.resumed", "true")
            return self.mlflow_run_id
        run = mlflow.start_run(run_name=self.run_id, nested=parent_run_id is not None, parent_run_id=parent_run_id)
        self.mlflow_run_id = run.info.run_id
        data = plan.model_dump(mode="json", exclude={"estimate", "reason"})
        params = flatten("", data, {})
        mlflow.log_params({k: ("" if v is None else str(v))[:500] for k, v in params.items()})
        train = self.session_dir / plan.data.train_path
        eval_ = self.session_dir / plan.data.eval_path
        tags = {
            "tunesmith.session": self.session_dir.name,
            "tunesmith.session_dir": str(self.session_dir),
            "tunesmith.run_id": self.run_id,
            "tunesmith.technique": plan.technique,
            "tunesmith.adapter": plan.adapter,
            "tunesmith.base_model": plan.base_model,
            "tunesmith.dataset.train": plan.data.train_path,
            "tunesmith.dataset.train_sha256": file_sha256(train) or "missing",
            "tunesmith.dataset.eval": plan.data.eval_path,
            "tunesmith.dataset.eval_sha256": file_sha256(eval_) or "missing",
        }
        for name in SPEC_FILES:
            digest = file_sha256(self.session_dir / name)
            if digest:
                tags[f"tunesmith.spec.{name}.sha256"] = digest
        mlflow.set_tags(tags)
        self._log_dataset(train, "training")
        self._log_dataset(eval_, "evaluation")
        return self.mlflow_run_id

    def _ensure_experiment(self, mlflow) -> None:
        ensure_experiment(mlflow, self.uri)

    def _log_dataset(self, path: Path, context: str) -> None:
        if not path.exists():
            return
        try:
            from mlflow.data.meta_dataset import MetaDataset
            from mlflow.data.filesystem_dataset_source import FileSystemDatasetSource

            source = FileSystemDatasetSource(uri=str(path.resolve()))
            dataset = MetaDataset(source=source, name=path.name, digest=(file_sha256(path) or "")[:16])
            self._mlflow.log_input(dataset, context=context)
        except Exception:  # noqa: BLE001 - dataset logging is a nicety; tags carry the hash
            pass

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        if not self.enabled or self._mlflow is None:
            return
        clean = {k.replace("/", "."): float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
        if clean:
            self._mlflow.log_metrics(clean, step=step)

    def log_model(self, folder: Path) -> None:
        """Log the final adapter or model folder as an artifact (``model/``)."""
        if self._mlflow is not None and folder.exists():
            self._mlflow.log_artifacts(str(folder), artifact_path="model")

    def log_file(self, path: Path) -> None:
        if self._mlflow is not None and path.exists():
            self._mlflow.log_artifact(str(path))

    def end(self, status: str = "FINISHED") -> None:
        if self._mlflow is not None and self._mlflow.active_run() is not None:
            self._mlflow.end_run(status=status)
