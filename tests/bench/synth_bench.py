"""Benchmarks of the data engine; ``python -m tests.bench.synth_bench`` prints one JSON object (test helpers, not product code).

- ``bench_generation()``: teacher generation throughput (records/s) through the real generator,
  litellm and a loopback OpenAI-compatible server that answers after 200 ms, at concurrency 1 and
  16 (cache off, so every record is a real request). Aim: >= 12x at 16.
- ``bench_quality(n=20000)``: seconds to score n training records (plus n/10 eval) end to end:
  MinHash near-duplicates, distinct-n, tokenizer lengths, labels, coverage, PII, toxicity, overlap,
  and the MiniLM embedding spread on a 2,000-record sample (in its subprocess).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "specs" / "examples"


def _bank_specs() -> tuple[Any, Any]:
    from specs.data_generation import DataGenerationSpec
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec

    use_case = load_spec(EXAMPLES / "bank_transactions.use_case.yaml", UseCaseSpec)
    spec = load_spec(EXAMPLES / "bank_transactions.data_generation.yaml", DataGenerationSpec)
    return use_case, spec


def _responder(messages: list[dict[str, Any]]) -> str:
    prompt = str(messages[-1].get("content", ""))
    label = prompt.split("category = ")[1].split(";")[0].strip() if "category = " in prompt else "groceries"
    return json.dumps({"input": f"CARD PURCHASE {abs(hash(prompt + str(time.monotonic_ns()))) % 10**9} STORE",
                       "output": label})


def bench_generation(delay_s: float = 0.2, records: dict[int, int] | None = None) -> dict[str, Any]:
    """Records per second of the teacher generator at concurrency 1 and 16 against a 200 ms fake LLM."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from tests.fake_openai import FakeOpenAI
    from synth.generate import generate_dataset
    from synth.llm import LLMClient, run_sync

    records = records or {1: 25, 16: 200}
    use_case, spec = _bank_specs()
    out: dict[str, Any] = {"delay_s": delay_s, "runs": {}}
    with FakeOpenAI(delay_s=delay_s, responder=_responder) as server:
        warm = LLMClient("openai/fake", api_base=server.api_base)
        run_sync(warm.complete([{"role": "user", "content": "warm up"}]))  # import litellm, open the pool
        for concurrency, count in records.items():
            session = Path(tempfile.mkdtemp(prefix="tunesmith-bench-"))
            try:
                gen = spec.generator.model_copy(update={"kind": "teacher", "model": "openai/fake",
                                                        "api_base": server.api_base, "concurrency": concurrency})
                run_spec = spec.model_copy(update={"generator": gen, "train_count": count, "eval_count": 1})
                client = LLMClient("openai/fake", api_base=server.api_base, concurrency=concurrency, cache_dir=None)
                started = time.perf_counter()
                report = generate_dataset(session, use_case, run_spec, client=client)
                seconds = time.perf_counter() - started
            finally:
                shutil.rmtree(session, ignore_errors=True)
            made = count + 1
            out["runs"][str(concurrency)] = {"records": made, "seconds": round(seconds, 3),
                                             "records_per_s": round(made / seconds, 2),
                                             "kept": report.get("train_records", 0)}
    one, sixteen = out["runs"]["1"]["records_per_s"], out["runs"]["16"]["records_per_s"]
    out["speedup_16_vs_1"] = round(sixteen / one, 2) if one else None
    out["target_speedup"] = 12
    return out


def bench_quality(n: int = 20000, embeddings: bool = True) -> dict[str, Any]:
    """Seconds to score n records with the full quality report."""
    from synth.generate import generate_dataset
    from synth.quality import score_dataset

    use_case, spec = _bank_specs()
    session = Path(tempfile.mkdtemp(prefix="tunesmith-bench-"))
    try:
        gen = spec.generator.model_copy(update={"kind": "offline"})
        run_spec = spec.model_copy(update={"generator": gen, "train_count": n, "eval_count": max(1, n // 10)})
        t0 = time.perf_counter()
        generate_dataset(session, use_case, run_spec)
        generated = time.perf_counter() - t0
        t1 = time.perf_counter()
        report = score_dataset(session, use_case, run_spec, embeddings=embeddings)
        scored = time.perf_counter() - t1
    finally:
        shutil.rmtree(session, ignore_errors=True)
    return {"records": report.train_records, "eval_records": report.eval_records, "seconds": round(scored, 2),
            "records_per_s": round(report.train_records / scored, 1) if scored else None,
            "generation_seconds": round(generated, 2), "embeddings": embeddings,
            "embedding_sample": report.metrics.get("embedding", {}).get("n"),
            "token_method": report.metrics.get("tokens", {}).get("method"),
            "steps_seconds": report.metrics.get("seconds", {})}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="tunesmith data engine benchmarks (JSON on stdout)")
    parser.add_argument("--records", type=int, default=20000, help="records to score in the quality benchmark")
    parser.add_argument("--only", choices=["generation", "quality"])
    parser.add_argument("--no-embeddings", action="store_true", help="skip the MiniLM spread in bench_quality")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {}
    if args.only in (None, "generation"):
        result["generation"] = bench_generation()
    if args.only in (None, "quality"):
        result["quality"] = bench_quality(args.records, embeddings=not args.no_embeddings)
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
