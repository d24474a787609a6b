"""Offline planner for the export step: write export.yaml, export after approval, show the lineage."""

from __future__ import annotations

from skills.guiding import GuideState, Turn


def next_turn(state: GuideState) -> Turn | None:
    last = state.last_tool
    if last is not None and last.name == "export_model" and not last.is_error:
        return Turn(text="Here is how every artifact links back to the spec.", tool="show_lineage")
    if last is not None and last.name == "show_lineage":
        return None
    if last is not None and last.is_error:
        return Turn(
            text=f"That did not work: {last.content}",
            tool="ask_user",
            arguments={"question": "What should I do?", "choices": ["Try the export again", "Stop here"]},
        )
    if state.last_user is not None and "stop" in state.last_user.lower():
        return None
    if not state.exists("export.yaml"):
        return Turn(
            text="The model is trained and evaluated. Next I write export.yaml: a merged Hugging Face folder, "
            "an Ollama Modelfile, the vLLM command and a GGUF file if llama.cpp's converter is available.",
            tool="write_export_spec",
            arguments={"formats": ["hf_merged", "gguf", "ollama", "vllm"]},
        )
    return Turn(text="Exporting the latest finished run.", tool="export_model")
