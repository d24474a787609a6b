"""How fast the person's own teacher writes a record, and a data set sized to that speed.

A teacher served on this machine (a loopback `api_base`: llama.cpp, Ollama, vLLM on localhost) answers one
request at a time and shares the CPU: a 1.5B model on two cores takes tens of seconds a record
(shared/MEASURED.md), so the usual 300-660 records would take hours. When data_generation.yaml is first
written for such a teacher, one real request of the spec (the first train record's) is timed and the
counts are fitted to the teacher-minutes budget (``--teacher-minutes``, 30 by default). The answer of
that request is cached like any other, so the data job does not ask for it again. The measurement is
kept in data/teacher_speed.json and the approval card's estimate of generate_data uses it.
"""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timezone
from typing import Any

from skills.toolkit import ToolContext
from specs.data_generation import DataGenerationSpec

SPEED_FILE = "data/teacher_speed.json"

LOCAL_PROMPT_TOKENS_S, LOCAL_OUTPUT_TOKENS_S = 35.0, 6.0
"""A 1.5B instruct model served by llama.cpp on two CPU cores (shared/MEASURED.md: 30-45 prompt tokens/s,
4-8 generated tokens/s): the guess used until the person's own server was timed."""
OUTPUT_TOKENS = 120
"""Tokens a teacher reply is assumed to take (one record as JSON)."""
MIN_EVAL = 20
TRAIN_MARGIN = 1.3
"""Train records asked for over the quality gate's floor, for the replies verification drops."""


def local_call_seconds(prompt_tokens: int, output_tokens: int = OUTPUT_TOKENS) -> float:
    return prompt_tokens / LOCAL_PROMPT_TOKENS_S + output_tokens / LOCAL_OUTPUT_TOKENS_S


def is_local(api_base: str | None) -> bool:
    """True for a server on this machine (loopback host), which shares its CPU and answers one at a time."""
    from urllib.parse import urlparse

    host = (urlparse(api_base).hostname or "") if api_base else ""
    return host in {"localhost", "127.0.0.1", "::1", "0.0.0.0"} or host.startswith("127.")


def known_speed(ctx: ToolContext, model: str | None, api_base: str | None) -> dict[str, Any] | None:
    """The last timing of this teacher (same model and server) in this session, if any."""
    path = ctx.path(SPEED_FILE)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("model") != model or data.get("api_base") != api_base:
        return None
    seconds = data.get("seconds_per_record")
    return data if isinstance(seconds, (int, float)) and 0 < seconds < 86_400 else None


def first_request(ctx: ToolContext, spec: DataGenerationSpec, index: int = 0) -> dict[str, Any]:
    from skills.data.access import _use_case
    from synth import seeds
    from synth.generate import GenerationError, grounding_texts, teacher_request

    try:
        documents = grounding_texts(ctx.session_dir, spec)
    except GenerationError:
        documents = {}
    request = teacher_request(_use_case(ctx), spec, "train", index, seeds.load(ctx.session_dir), documents)
    request.pop("_axes", None)
    return request


def prompt_tokens(request: dict[str, Any]) -> int:
    from synth.llm import rough_tokens

    return sum(rough_tokens(str(m.get("content") or "")) for m in request["messages"])


def measure(ctx: ToolContext, spec: DataGenerationSpec, model: str, api_base: str | None) -> dict[str, Any]:
    """Send one real request of ``spec`` to the teacher and time it; save and return the result.
    Raises synth.llm.LLMError (unreachable, too slow, cancelled) when no answer came."""
    from skills.data.access import _client
    from specs.io import atomic_write_text
    from synth.llm import LLMError, run_sync

    client = _client(ctx, model, api_base, concurrency=1)
    for index in range(4):  # a cached answer says nothing of the speed: try the next record's request
        request = first_request(ctx, spec, index)
        started = time.monotonic()
        answer = run_sync(client.complete(**request, cancel=ctx.cancel))
        seconds = time.monotonic() - started
        if not answer.cached:
            break
    else:
        raise LLMError("the first requests of this spec were all answered before (cached); nothing to time")
    result = {"model": model, "api_base": api_base, "seconds_per_record": round(seconds, 2),
              "prompt_tokens": answer.prompt_tokens or prompt_tokens(request),
              "completion_tokens": answer.completion_tokens, "concurrency": 1,
              "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "how": "one real teacher request of data_generation.yaml (its answer is cached and used by the data job)"}
    atomic_write_text(ctx.path(SPEED_FILE), json.dumps(result, indent=2) + "\n")
    return result


def fit_counts(spec: DataGenerationSpec, seconds_per_record: float, minutes: float) -> tuple[DataGenerationSpec, str | None]:
    """``spec`` with train/eval counts cut so generation fits ``minutes`` at ``seconds_per_record``,
    never under what the quality gate needs; a note when it cut."""
    total = spec.train_count + spec.eval_count
    fits = int(minutes * 60 / max(seconds_per_record, 1e-3))
    if fits >= total:
        return spec, None
    eval_count = max(MIN_EVAL, round(fits * spec.eval_count / total)) if spec.eval_count else 0
    eval_count = min(eval_count, spec.eval_count)
    floor = math.ceil(spec.quality.min_records * TRAIN_MARGIN)
    train_count = min(spec.train_count, max(floor, fits - eval_count))
    fitted = spec.model_copy(update={"train_count": train_count, "eval_count": eval_count})
    hours = total * seconds_per_record / 3600
    over = train_count + eval_count > fits
    note = (f"At {seconds_per_record:.1f} s a record, the usual {spec.train_count} train + {spec.eval_count} eval records "
            f"would take about {hours:.1f} h; asking for {train_count} + {eval_count}, "
            + (f"the fewest the quality gate accepts (about {(train_count + eval_count) * seconds_per_record / 60:.0f} min)"
               if over else f"about {minutes:g} min of generation")
            + ". More: --teacher-minutes, or changes {\"train_count\": N}.")
    return fitted, note
