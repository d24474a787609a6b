"""Serve base and tuned answers over stdin/stdout JSON lines, for the playground (the UI never imports torch).

    python -m skills.evaluate.serve --session DIR [--run-id RUN] [--max-new-tokens N]

Once loaded it writes ``{"type": "ready", "variants": ["base", "tuned"], "run_id": ...}``. Each request line
``{"id": 1, "prompt": "text"}`` (one turn) or ``{"id": 1, "messages": {"base": [...], "tuned": [...]}}``
(each side's own conversation, without the system prompt) gets one ``{"type": "answer", "id", "variant",
"text", "seconds"}`` per variant, then ``{"type": "done", "id"}``; a failure gets ``{"type": "error", "id",
"message"}``. End of input ends the server. Without a finished run only ``base`` answers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

BASE, TUNED = "base", "tuned"


def latest_run(session: Path) -> str | None:
    runs = session / "runs"
    if not runs.is_dir():
        return None
    finished = sorted((p for p in runs.iterdir() if (p / "final").is_dir()), key=lambda p: (p / "final").stat().st_mtime)
    return finished[-1].name if finished else None


class Models:
    """The base model and the tuned one; a LoRA run shares the base weights (its adapter is switched off for base)."""

    def __init__(self, session: Path, run_id: str | None):
        from skills.evaluate import generation
        from skills.evaluate.examples import load_optional
        from specs.use_case import UseCaseSpec

        use_case = load_optional(session / "use_case.yaml", UseCaseSpec)
        self.system_prompt = use_case.contract.system_prompt if use_case else None
        from skills.common.prompt import run_system_prompt

        self.tuned_prompt = run_system_prompt(session / "runs" / run_id, self.system_prompt) if run_id else self.system_prompt
        base_model = use_case.base_model if use_case else "embedded:SmolLM2-135M-Instruct"
        self.generation = generation
        self.run = generation.run_model_dir(session, run_id) if run_id else None
        if self.run is None or self.run[0] == "adapter":
            self.model, self.tokenizer = generation.load(base_model, run=self.run)
            self.full = None
        else:
            self.model, self.tokenizer = generation.load(base_model)
            self.full = generation.load(base_model, run=self.run)
        self.variants = [BASE] + ([TUNED] if self.run else [])

    def answer(self, variant: str, messages: list[dict[str, str]], max_new_tokens: int) -> str:
        system = self.tuned_prompt if variant == TUNED else self.system_prompt  # each model asked as it was trained
        conversation = ([{"role": "system", "content": system}] if system else []) + messages
        if variant == TUNED and self.full is not None:
            model, tokenizer = self.full
            return self.generation.generate(model, tokenizer, [conversation], max_new_tokens=max_new_tokens)[0]
        switch = contextlib.nullcontext()
        if variant == BASE and self.run is not None:
            switch = self.model.disable_adapter()
        with switch:
            return self.generation.generate(self.model, self.tokenizer, [conversation], max_new_tokens=max_new_tokens)[0]


def handle(models: Models, request: dict[str, Any], out: TextIO, default_tokens: int) -> None:
    rid = request.get("id")
    tokens = int(request.get("max_new_tokens") or default_tokens)
    if "messages" in request:
        conversations = request["messages"]
    else:
        conversations = {v: [{"role": "user", "content": str(request["prompt"])}] for v in models.variants}
    for variant in models.variants:
        if variant not in conversations:
            continue
        started = time.time()
        text = models.answer(variant, conversations[variant], tokens)
        write(out, {"type": "answer", "id": rid, "variant": variant, "text": text, "seconds": round(time.time() - started, 2)})
    write(out, {"type": "done", "id": rid})


def write(out: TextIO, event: dict[str, Any]) -> None:
    out.write(json.dumps(event, ensure_ascii=False) + "\n")
    out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m skills.evaluate.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--session", required=True)
    parser.add_argument("--run-id", default=None, help="the tuned run (default: the latest finished run)")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    args = parser.parse_args(argv)
    out, sys.stdout = sys.stdout, sys.stderr  # only protocol lines go to the real stdout
    session = Path(args.session).resolve()
    try:
        run_id = args.run_id or latest_run(session)
        models = Models(session, run_id)
    except Exception as exc:  # noqa: BLE001 - told to the screen, which shows it
        write(out, {"type": "error", "id": None, "message": f"could not load the models: {type(exc).__name__}: {exc}"})
        return 1
    write(out, {"type": "ready", "variants": models.variants, "run_id": run_id})
    for line in sys.stdin:
        if not line.strip():
            continue
        request: dict[str, Any] = {}
        try:
            request = json.loads(line)
            handle(models, request, out, args.max_new_tokens)
        except Exception as exc:  # noqa: BLE001 - one bad request must not end the playground
            rid = request.get("id") if isinstance(request, dict) else None
            write(out, {"type": "error", "id": rid, "message": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
