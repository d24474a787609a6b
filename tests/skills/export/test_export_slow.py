"""The real export job on a tiny trained LoRA adapter: merged HF folder that answers through transformers'
pipeline, a GGUF file run in llama.cpp and compared with the merged model, Ollama Modelfile pointing at it,
vLLM command, model card, lineage. And the converter's quantizations on the embedded model."""

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

ROOT = Path(__file__).resolve().parents[3]
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

    from assistant.jobs import JobRunner

    ctx = ToolContext(session_dir=session, jobs=JobRunner(session))  # the app's runner starts the export job
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
    assert (out / "s1.gguf").stat().st_size > 50e6 and not (out / "GGUF.md").exists()
    check = json.loads((out / "gguf_check.json").read_text())
    assert check["quantization"] == "q8_0" and check["prompts"] == len(ROWS)
    assert [r["prompt"] for r in check["rows"]] == [t for t, _ in ROWS]
    assert all(r["hf"] and r["gguf"] for r in check["rows"]), "both models answered every check prompt"
    assert check["identical"] == sum(r["hf"] == r["gguf"] for r in check["rows"])
    assert "GGUF file (q8_0)" in result.content and f"{check['identical']} of the evaluation's first {len(ROWS)}" in result.content
    modelfile = (out / "Modelfile").read_text()
    assert modelfile.startswith("FROM ./s1.gguf") and "<|im_start|>" in modelfile and 'PARAMETER stop "<|im_end|>"' in modelfile
    assert "vllm serve" in (out / "serve_vllm.sh").read_text()
    card = (out / "README.md").read_text()
    assert "## Use case" in card and "groceries" in card and "## Lineage" in card
    assert "## GGUF check" in card and "agreement" in card

    shown = _cli("lineage", "s1", workspace=workspace)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "export" in shown.stdout and "All links check out." in shown.stdout

    spec = session / "use_case.yaml"
    spec.write_text(spec.read_text().replace("groceries", "food", 1))
    changed = _cli("lineage", "s1", workspace=workspace)
    assert changed.returncode == 1 and "use_case.yaml changed" in changed.stdout
    bad = {link.kind for link in lineage.check(session) if not link.ok}
    assert bad == {"use_case", "export"}


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("outtype,file_type", [("f16", 1), ("q8_0", 7)])
def test_the_converter_writes_the_chosen_quantization(tmp_path, monkeypatch, outtype, file_type):
    import gguf as gguf_package

    from skills.export.job import convert_gguf
    from skills.common.basemodel import resolve_model_path

    monkeypatch.delenv("TUNESMITH_LLAMA_CPP", raising=False)
    target = tmp_path / "m.gguf"
    ok, log = convert_gguf(resolve_model_path("embedded:SmolLM2-135M-Instruct"), target, outtype)
    assert ok, log
    reader = gguf_package.GGUFReader(str(target))
    field = reader.fields["general.file_type"]
    assert int(field.parts[field.data[0]][0]) == file_type
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.slow
def test_a_failed_conversion_leaves_no_file_and_says_why(tmp_path, monkeypatch):
    from skills.export.job import convert_gguf

    monkeypatch.delenv("TUNESMITH_LLAMA_CPP", raising=False)
    (tmp_path / "hf").mkdir()
    ok, log = convert_gguf(tmp_path / "hf", tmp_path / "m.gguf", "q8_0", timeout_s=300)
    assert not ok and log
    assert not (tmp_path / "m.gguf").exists() and not list(tmp_path.glob("*.partial"))
