"""Benchmark helpers for the data engine. Each prints one ``RESULT=<json>`` line.

    python -m tests.bench.data_engine teacher --concurrency 16 --records 160
        teacher generation (synth.generate with the teacher generator) against the loopback fake
        OpenAI server answering after 200 ms; records/s over the whole run (cache empty; litellm
        is imported before the clock starts)
    python -m tests.bench.data_engine quality --records 20000
        synth.quality.score_dataset on 20,000 records (made by the offline generator first, untimed)
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def bank_session(folder: Path):
    from specs.data_generation import DataGenerationSpec
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("use_case", "data_generation"):
        shutil.copy(REPO / f"specs/examples/bank_transactions.{name}.yaml", folder / f"{name}.yaml")
    return load_spec(folder / "use_case.yaml", UseCaseSpec), load_spec(folder / "data_generation.yaml", DataGenerationSpec)


def teacher_reply(messages) -> str:
    prompt = messages[-1]["content"]
    label = prompt.split("category = ")[1].split(";")[0].strip() if "category = " in prompt else "groceries"
    return json.dumps({"input": f"CARD PURCHASE {abs(hash(prompt)) % 10**8} {label.upper()} STORE", "output": label})


def teacher(concurrency: int, records: int, delay_s: float) -> dict:
    from tests.fake_openai import FakeOpenAI
    from synth.generate import generate_dataset
    from synth.llm import _litellm

    _litellm()  # the one-off import (seconds) is start-up, not throughput
    folder = Path(tempfile.mkdtemp(prefix="tunesmith-bench-teacher-"))
    try:
        use_case, spec = bank_session(folder / "session")
        with FakeOpenAI(delay_s=delay_s, responder=teacher_reply) as server:
            gen = spec.generator.model_copy(update={"kind": "teacher", "model": "openai/fake", "api_base": server.api_base,
                                                    "concurrency": concurrency, "template": None})
            eval_count = max(1, records // 10)
            spec = spec.model_copy(update={"generator": gen, "train_count": records - eval_count, "eval_count": eval_count})
            started = time.perf_counter()
            report = generate_dataset(folder / "session", use_case, spec, workspace=folder / "ws")
            seconds = time.perf_counter() - started
        assert report["status"] == "done", report
        return {"concurrency": concurrency, "records": records, "seconds": round(seconds, 3),
                "records_per_s": round(records / seconds, 2), "calls": report["usage"]["calls"],
                "server_delay_s": delay_s}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def quality(records: int) -> dict:
    from synth.generate import generate_dataset
    from synth.quality import score_dataset

    folder = Path(tempfile.mkdtemp(prefix="tunesmith-bench-quality-"))
    try:
        use_case, spec = bank_session(folder / "session")
        eval_count = records // 10
        spec = spec.model_copy(update={"train_count": records - eval_count, "eval_count": eval_count})
        report = generate_dataset(folder / "session", use_case, spec)
        scored = report["train_records"] + report["eval_records"]
        started = time.perf_counter()
        quality_report = score_dataset(folder / "session", use_case, spec)
        seconds = time.perf_counter() - started
        return {"records_requested": records, "records_scored": scored, "seconds": round(seconds, 2),
                "records_per_s": round(scored / seconds, 1), "findings": len(quality_report.findings)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["teacher", "quality"])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--delay-s", type=float, default=0.2)
    args = parser.parse_args()
    if args.what == "teacher":
        result = teacher(args.concurrency, args.records or 10 * args.concurrency, args.delay_s)
    else:
        result = quality(args.records or 20_000)
    print("RESULT=" + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
