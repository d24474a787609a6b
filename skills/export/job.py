"""Export a trained run: merged HF folder, GGUF (when llama.cpp's converter is here), Ollama
Modelfile, the vLLM command and a model card.

    python -m skills.export.job --session DIR --spec export.yaml --events PATH

Reads top to bottom; torch/transformers/peft are imported inside main().
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from skills.export.artifacts import (
    find_converter,
    gguf_instructions,
    model_card,
    ollama_modelfile,
    pick_run,
    vllm_command,
)
from specs import lineage
from specs.io import atomic_write_text
from specs.yamlio import load_spec


def emit(path: Path, **event) -> None:
    event.setdefault("time", time.time())
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(event) + "\n")
        handle.flush()
    print(json.dumps(event), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--session", required=True, type=Path)
    parser.add_argument("--spec", default="export.yaml")
    parser.add_argument("--events", type=Path)
    args = parser.parse_args(argv)
    session = args.session.resolve()
    events = args.events or session / "export.events.jsonl"
    spec = load_spec(session / args.spec)
    run_dir = pick_run(session, spec.run_id)
    plan = load_spec(run_dir / "training.yaml") if (run_dir / "training.yaml").exists() else load_spec(session / "training.yaml")
    use_case = load_spec(session / "use_case.yaml")
    out = session / spec.output_dir
    out.mkdir(parents=True, exist_ok=True)
    name = spec.model_name or session.name
    total = 2 + len(spec.formats)
    emit(events, type="progress", task="export", done=0, total=total, message=f"exporting run {run_dir.name}")

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

    from skills.train.basemodel import resolve_model_path

    final = run_dir / "final"
    hf_dir = out / "hf"
    staging = out / ".hf.partial"
    shutil.rmtree(staging, ignore_errors=True)
    if (final / "adapter_config.json").exists():
        from peft import PeftModel

        base_path = resolve_model_path(plan.base_model)
        model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)
        model = PeftModel.from_pretrained(model, final).merge_and_unload()
        tokenizer = AutoTokenizer.from_pretrained(final if (final / "tokenizer_config.json").exists() else base_path)
    else:
        model = AutoModelForCausalLM.from_pretrained(final, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(final)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    shutil.rmtree(hf_dir, ignore_errors=True)
    os.replace(staging, hf_dir)
    emit(events, type="progress", task="export", done=1, total=total, message=f"merged model saved to {hf_dir}")

    # Prove the folder answers through transformers' pipeline, with the chat template it carries.
    generator = pipeline("text-generation", model=str(hf_dir), tokenizer=str(hf_dir), device="cpu")
    probe = _probe_prompt(session)
    messages = ([{"role": "system", "content": use_case.contract.system_prompt}] if use_case.contract.system_prompt else [])
    messages.append({"role": "user", "content": probe})
    answer = generator(messages, max_new_tokens=32, do_sample=False)[0]["generated_text"][-1]["content"]
    atomic_write_text(out / "verify.json", json.dumps({"prompt": probe, "answer": answer}, indent=2))
    emit(events, type="progress", task="export", done=2, total=total, message=f"pipeline answered: {answer[:80]!r}")

    written = ["hf"]
    done = 2
    gguf_file = out / f"{name}.gguf"
    if "gguf" in spec.formats:
        converter = find_converter()
        if converter is None:
            atomic_write_text(out / "GGUF.md", gguf_instructions(hf_dir, gguf_file, spec.gguf_quantization))
            emit(events, type="notice", level="warning", message="llama.cpp's convert_hf_to_gguf.py was not found; wrote GGUF.md with the steps")
        else:
            cmd = [sys.executable, str(converter), str(hf_dir), "--outfile", str(gguf_file), "--outtype", spec.gguf_quantization]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                emit(events, type="notice", level="error", message=f"GGUF conversion failed: {proc.stderr[-500:]}")
            else:
                written.append(gguf_file.name)
        done += 1
        emit(events, type="progress", task="export", done=done, total=total, message="gguf step finished")
    if "ollama" in spec.formats:
        source = f"./{gguf_file.name}" if gguf_file.exists() else "./hf"
        atomic_write_text(out / "Modelfile", ollama_modelfile(source, use_case.contract.system_prompt))
        written.append("Modelfile")
        done += 1
        emit(events, type="progress", task="export", done=done, total=total, message="Ollama Modelfile written")
    if "vllm" in spec.formats:
        command = vllm_command(hf_dir, name, plan.hyperparameters.max_length)
        atomic_write_text(out / "serve_vllm.sh", "#!/bin/sh\n" + command + "\n")
        written.append("serve_vllm.sh")
        done += 1
        emit(events, type="progress", task="export", done=done, total=total, message=command)
    if spec.model_card:
        atomic_write_text(out / "README.md", model_card(session, name, use_case, plan, run_dir))
        written.append("README.md")
    lineage.record(
        session, "export", spec.output_dir,
        inputs=[str((run_dir / "final").relative_to(session)), "use_case.yaml", "export.yaml"],
        run_id=run_dir.name, formats=written,
    )
    emit(events, type="done", task="export", files=[f"{spec.output_dir}/{w}" for w in written])
    return 0


def _probe_prompt(session: Path) -> str:
    for name in ("data/eval.jsonl", "data/train.jsonl", "data/examples.jsonl"):
        path = session / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            prompt = row.get("prompt") or row.get("messages") or row.get("input")
            if isinstance(prompt, list):
                users = [m["content"] for m in prompt if m.get("role") == "user"]
                if users:
                    return users[-1]
            elif isinstance(prompt, str):
                return prompt
    return "Hello! What can you do?"


if __name__ == "__main__":
    sys.exit(main())
