"""`tunesmith mlflow`: start the MLflow UI on the workspace's tracking store (SQLite by default)."""

from __future__ import annotations

import argparse

HELP = "start the MLflow UI on the workspace's tracking store"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address the UI listens on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port of the UI (default 5000)")
    parser.add_argument("--backend-store-uri", metavar="URI", default=None,
                        help="tracking store (default: $MLFLOW_TRACKING_URI, else sqlite:///<workspace>/mlflow.db)")
    parser.add_argument("--print-uri", action="store_true", help="print the tracking store URI and exit")


def store_uri(args: argparse.Namespace) -> str:
    import os

    from assistant.config import Settings
    from skills.common.tracking import default_uri

    if args.backend_store_uri:
        return args.backend_store_uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    return default_uri(Settings.from_args(args).workspace)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(args: argparse.Namespace) -> int:
    import os
    import subprocess
    import sys

    uri = store_uri(args)
    if args.print_uri:
        print(uri)
        return 0
    if uri.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(uri[len("sqlite:///"):]) or ".", exist_ok=True)
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    argv = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri, "--host", args.host, "--port", str(args.port),
            "--workers", "1"]
    print(f"MLflow UI on http://{args.host}:{args.port} (store {uri}); Ctrl-C stops it.", flush=True)
    import signal

    process = subprocess.Popen(argv, env=env)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        return 0
