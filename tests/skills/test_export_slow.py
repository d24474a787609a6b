"""The real export job on a tiny trained LoRA adapter: merged HF folder that answers through transformers'
pipeline, GGUF instructions (no llama.cpp here), Ollama Modelfile, vLLM command, model card, lineage."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.session import Workspace
from skills.export import tools as X
from skills.toolkit import ToolContext
from specs import lineage

ROOT = Path(__file__).resolve().parents[2]
ROWS = [("2026-01-03 REWE SAGT DANKE -23.10 EUR", "groceries"), ("2026-01-04 UBER TRIP -12.00 EUR", "transport"),
        ("2026-01-05 NETFLIX.COM -9.99 EUR", "entertainment"), ("2026-01-06 SALARY ACME +3100.00 EUR", "income")]


def _cli(*args, workspace):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "assistant.cli", "--workspace", str(workspace), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_export_merges_answers_and_links_back_to_the_spec(tmp_path, monkeypatch):
    monkeypatch.delenv("TUNESMITH_LLAMA_CPP", raising=False)
    workspace = tmp_path / "ws"
    session = Workspace(workspace).create("s1").dir
    (session / "data").mkdir()
    shutil.copy(ROOT / "specs/examples/bank_transactions.use_case.yaml", session / "use_case.yaml")
    shutil.copy(ROOT / "specs/examples/bank_transactions.training.yaml", session / "training.yaml")
    rows = [json.dumps({"prompt": [{"role": "user", "content": t}], "completion": [{"role": "assistant", "content": l}]})
            for t, l in ROWS]
    (session / "data/eval.jsonl").write_text("\n".join(rows) + "\n")
    lineage.record(session, "use_case", "use_case.yaml")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNESMITH_THREADS": "2"}
    trained = subprocess.run([sys.executable, str(ROOT / "tests/skills/eval_adapter.py"), str(session / "data/eval.jsonl"),
                              str(session / "runs/r1/final"), "2"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert trained.returncode == 0, trained.stderr[-2000:]
    lineage.record(session, "run", "runs/r1/final", inputs=["training.yaml", "data/eval.jsonl"])

    ctx = ToolContext(session_dir=session)
    wrote = X.write_export_spec.run(ctx, X.write_export_spec.validate({"formats": ["hf_merged", "gguf", "ollama", "vllm"]}))
    assert not wrote.is_error, wrote.content
    preview = X.export_model.describe(ctx, X.export_model.validate({}))
    assert "run r1" in preview.summary and "skills.export.job" in preview.command and "GGUF" in preview.summary
    progress = []
    ctx.emit = progress.append
    result = X.export_model.run(ctx, X.export_model.validate({}))
    assert not result.is_error, result.content
    assert result.phase == "done" and progress, "progress events reach the UI"

    out = session / "export"
    assert (out / "hf/config.json").exists() and (out / "hf/model.safetensors").exists()
    assert not (out / "hf/adapter_config.json").exists(), "the LoRA adapter is merged in"
    tokenizer_files = {p.name for p in (out / "hf").iterdir()}
    assert "tokenizer.json" in tokenizer_files
    template = (out / "hf/chat_template.jinja").read_text() if "chat_template.jinja" in tokenizer_files else \
        json.loads((out / "hf/tokenizer_config.json").read_text()).get("chat_template", "")
    assert "<|im_start|>" in template, "the chat template travels with the export"
    verify = json.loads((out / "verify.json").read_text())
    assert verify["prompt"] == ROWS[0][0] and verify["answer"].strip()
    assert "convert_hf_to_gguf.py" in (out / "GGUF.md").read_text()
    modelfile = (out / "Modelfile").read_text()
    assert modelfile.startswith("FROM ./hf") and "<|im_start|>" in modelfile and 'PARAMETER stop "<|im_end|>"' in modelfile
    assert "vllm serve" in (out / "serve_vllm.sh").read_text()
    card = (out / "README.md").read_text()
    assert "## Use case" in card and "groceries" in card and "## Lineage" in card

    shown = _cli("lineage", "s1", workspace=workspace)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "export" in shown.stdout and "All links check out." in shown.stdout

    spec = session / "use_case.yaml"
    spec.write_text(spec.read_text().replace("groceries", "food", 1))
    changed = _cli("lineage", "s1", workspace=workspace)
    assert changed.returncode == 1 and "use_case.yaml changed" in changed.stdout
    bad = {link.kind for link in lineage.check(session) if not link.ok}
    assert bad == {"use_case", "export"}
