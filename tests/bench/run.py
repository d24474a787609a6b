"""`make bench`: measure the project's claims and write one JSON report plus a short table.

    python -m tests.bench.run [--out bench-report.json] [--quick] [--skip-demo] [--only NAME,...]

`--only` updates just those benchmarks in an existing report (each result says when and how it
was measured).

Every benchmark runs its heavy part in subprocesses (helper scripts under tests/bench/), repeats,
and reports medians; one failing benchmark is recorded in the report and the others go on.

  planner       tokens of the planner's system prompt + tool schemas on each step
  help          `tunesmith --help` wall time
  first_paint   process start to the first painted TUI screen (headless)
  tui_latency   worst key-press-to-screen delay while the planner streams and CPU-heavy work runs
  teacher       teacher generation records/s against a loopback LLM answering after 200 ms, concurrency 1 and 16
  quality       time to score 20,000 records (duplicates, diversity, embeddings, tokens, PII, ...)
  training      tokens/s and MFU of tunesmith's SFT job against a plain TRL script, full fine-tune and LoRA,
                with the fp32 matmul rate measured in the same run
  levers        training levers on real SFT batches of the demo's task: bf16 autocast vs fp32 (time and loss),
                AdamW for-loop/foreach/fused, threads, system prompt length, batch size, length grouping
  demo          `tunesmith demo` end to end (`--quick` stops it when training is reached)

`--quick` shrinks the long parts (fewer repeats and steps; the demo stops at the train step);
`--skip-demo` leaves the demo out. Only the standard library is imported here. The README's Measured
table is rendered from the committed report (tests/bench/report.json) by `python -m tests.bench.table`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "bench-report.json"
QUIET_ENV = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "MLFLOW_DISABLE_TELEMETRY": "true", "HF_HUB_OFFLINE": "1",
             "TOKENIZERS_PARALLELISM": "false", "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1"}


class BenchError(Exception):
    """A benchmark's subprocess failed; the message carries the end of its output."""


@dataclass
class Options:
    quick: bool
    skip_demo: bool
    repeats: int
    """Repeats of the quick benchmarks (help, first paint, latency, teacher)."""
    heavy_repeats: int
    """Repeats of quality scoring and training."""
    train_steps: int
    workdir: Path


def bench_threads() -> int:
    """Torch threads for the training benchmarks, the same rule as the jobs' default (all cores, one when
    the machine is already busier than its cores), passed to both sides of each comparison."""
    cores = os.cpu_count() or 1
    return int(os.environ.get("TUNESMITH_THREADS") or (1 if os.getloadavg()[0] > cores else cores))


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **QUIET_ENV, **extra}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return env


def _run(argv: list[str], timeout_s: float, env: dict[str, str] | None = None) -> str:
    """Run a command from the repo root; return its stdout, or raise BenchError with its output tail."""
    try:
        proc = subprocess.run(argv, cwd=REPO, env=env or _env(), capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{' '.join(argv[:4])} ran past {timeout_s:.0f} s") from exc
    if proc.returncode != 0:
        tail = (proc.stdout[-1500:] + "\n" + proc.stderr[-2500:]).strip()
        raise BenchError(f"{' '.join(argv[:4])} exited {proc.returncode}:\n{tail}")
    return proc.stdout


def _result(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT=")]
    if not lines:
        raise BenchError(f"no RESULT line in the output: {stdout[-1000:]}")
    return json.loads(lines[-1][len("RESULT="):])


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def _module(name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", name, *args]


def tunesmith_command() -> list[str]:
    """The installed `tunesmith` script next to this Python, else `python -m assistant`."""
    script = Path(sys.executable).with_name("tunesmith")
    return [str(script)] if script.exists() else _module("assistant")


# -- the benchmarks -----------------------------------------------------------------------------------

def bench_help(o: Options) -> dict[str, Any]:
    runs = []
    for _ in range(max(5, o.repeats)):
        started = time.perf_counter()
        _run([*tunesmith_command(), "--help"], 60)
        runs.append(round(time.perf_counter() - started, 3))
    return {"median_s": _median(runs), "runs_s": runs}


def bench_first_paint(o: Options) -> dict[str, Any]:
    runs = []
    for i in range(max(5, o.repeats)):
        started = time.time()
        out = _run(_module("tests.bench.tui_first_paint", str(o.workdir / f"paint-{i}")), 120)
        painted = [line for line in out.splitlines() if line.startswith("PAINTED ")]
        if not painted:
            raise BenchError(f"the app never said PAINTED: {out[-800:]}")
        runs.append(round(float(painted[-1].split()[1]) - started, 3))
    return {"median_s": _median(runs), "runs_s": runs,
            "how": "subprocess start to the first refresh after Textual's Ready event, headless, new session"}


def bench_tui_latency(o: Options) -> dict[str, Any]:
    """Quick: CPU-bound stand-ins keep every core busy. Full: a real training job runs (measured once it trains)."""
    runs = []
    for i in range(o.repeats):
        args = ["--presses", "30" if o.quick else "60"]
        if not o.quick:
            session = o.workdir / f"latency-train-{i}"
            _run(_module("tests.bench.training_session", str(session), "--max-steps", "100000", "--n-train", "256"), 300)
            events = session / "events.jsonl"
            job = _module("skills.train.job", "--session", str(session), "--run-id", "latency", "--events", str(events))
            args += ["--job-argv", json.dumps(job), "--job-events", str(events)]
        runs.append(_result(_run(_module("tests.bench.tui_latency", *args), 1200)))
    return {"worst_ms": max(r["worst_ms"] for r in runs), "median_worst_ms": _median([r["worst_ms"] for r in runs]),
            "median_ms": _median([r["median_ms"] for r in runs]), "runs": runs,
            "how": "real Agent streaming ~200 chars/s into the real app (Pilot, headless) while a training job "
                   "(full) or CPU-bound processes (--quick) keep every core busy; key event -> prompt updated -> "
                   "next screen refresh"}


def bench_teacher(o: Options) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for concurrency, records in ((1, 16), (16, 160)):
        runs = [_result(_run(_module("tests.bench.data_engine", "teacher", "--concurrency", str(concurrency),
                                     "--records", str(records)), 600)) for _ in range(o.repeats)]
        out[f"c{concurrency}"] = {"median_records_per_s": _median([r["records_per_s"] for r in runs]), "runs": runs}
    out["speedup_16_vs_1"] = round(out["c16"]["median_records_per_s"] / out["c1"]["median_records_per_s"], 2)
    out["how"] = "synth generate_dataset, teacher generator, loopback fake LLM answering after 200 ms, empty cache"
    return out


def bench_quality(o: Options) -> dict[str, Any]:
    runs = [_result(_run(_module("tests.bench.data_engine", "quality", "--records", "20000"), 1800))
            for _ in range(o.heavy_repeats)]
    return {"median_s": _median([r["seconds"] for r in runs]), "runs": runs}


def _train_tunesmith(session: Path, run_id: str) -> dict[str, Any]:
    events = session / f"{run_id}.events.jsonl"
    started = time.perf_counter()
    _run(_module("skills.train.job", "--session", str(session), "--run-id", run_id, "--events", str(events)), 3600,
         env=_env(TUNESMITH_THREADS=str(bench_threads())))
    wall = time.perf_counter() - started
    rows = [json.loads(line) for line in (session / "runs" / run_id / "metrics.jsonl").read_text().splitlines() if line.strip()]
    last = rows[-1]
    return {"tokens_per_second": last["tokens_per_second"], "seconds_per_step": last["seconds_per_step"],
            "steps": last["step"], "process_seconds": round(wall, 1)}


def _train_plain(session: Path) -> dict[str, Any]:
    started = time.perf_counter()
    out = _result(_run([sys.executable, str(REPO / "tests" / "bench" / "plain_trl_sft.py"), str(session)], 3600,
                       env=_env(TUNESMITH_THREADS=str(bench_threads()))))
    out["process_seconds"] = round(time.perf_counter() - started, 1)
    return out


def _matmul(o: Options) -> dict[str, Any]:
    return _result(_run([sys.executable, str(REPO / "tests" / "bench" / "matmul_rate.py"), "--seconds", "3"], 300,
                        env=_env(TUNESMITH_THREADS=str(bench_threads()))))


def mfu(params: int, tokens_per_second: float, fp32_gflops: float) -> float:
    """Model FLOPs utilization: 6 x parameters x useful tokens/s over the fp32 matmul rate."""
    return round(6 * params * tokens_per_second / (fp32_gflops * 1e9), 3)


def bench_training(o: Options) -> dict[str, Any]:
    """Full fine-tune and LoRA: tunesmith's SFT job against a plain TRL script with the same settings,
    with the fp32 matmul rate measured before and after in the same benchmark (the MFU denominator)."""
    sessions = {}
    for adapter in ("full", "lora"):
        folder = o.workdir / f"train-{adapter}"
        args = ["--n-train", "256", "--max-steps", str(o.train_steps), "--batch-size", "4", "--max-length", "128",
                "--adapter", adapter]
        _run(_module("tests.bench.training_session", str(folder), *args), 300)
        sessions[adapter] = folder
    matmul = [_matmul(o)]
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {a: {"tunesmith": [], "plain_trl": []} for a in sessions}
    for i in range(o.heavy_repeats):  # back to back, alternating which goes first
        for adapter, folder in sessions.items():
            order = ["tunesmith", "plain_trl"] if i % 2 == 0 else ["plain_trl", "tunesmith"]
            for which in order:
                run = _train_tunesmith(folder, f"bench-{i}") if which == "tunesmith" else _train_plain(folder)
                runs[adapter][which].append(run)
    matmul.append(_matmul(o))
    fp32 = max(m["fp32_gflops"] for m in matmul)  # the least disturbed window of the run
    params = next(r["params"] for a in runs.values() for r in a["plain_trl"] if r.get("params"))
    out: dict[str, Any] = {"matmul": {"fp32_gflops": fp32, "bf16_gflops": max(m["bf16_gflops"] for m in matmul),
                                      "runs": matmul}, "params": params}
    for adapter, items in runs.items():
        medians = {name: _median([r["tokens_per_second"] for r in rows]) for name, rows in items.items()}
        out[adapter] = {"median_tokens_per_s": medians,
                        "tunesmith_vs_plain": round(medians["tunesmith"] / medians["plain_trl"], 3),
                        "mfu": {name: mfu(params, value, fp32) for name, value in medians.items()}, "runs": items}
    out["settings"] = {"model": "embedded:SmolLM2-135M-Instruct", "lora": "r16, every linear layer",
                       "steps": o.train_steps, "batch_size": 4, "max_length": 128, "records": 256, "threads": bench_threads(),
                       "cores": os.cpu_count()}
    out["how"] = ("non-padding tokens seen from the 2nd to the last step over that time; MFU = 6 x parameters x those "
                  "tokens/s over the best fp32 matmul rate (2048x2048, torch) measured before and after the runs; "
                  "for LoRA 6 x parameters overstates the work (no weight gradients for the frozen layers)")
    return out


def bench_levers(o: Options) -> dict[str, Any]:
    """Seconds per optimizer step for each training lever, interleaved in one process (ratios to read)."""
    return _result(_run([sys.executable, str(REPO / "tests" / "bench" / "train_levers.py"),
                         "--steps", "2" if o.quick else "6"], 3600, env=_env(TUNESMITH_THREADS=str(os.cpu_count() or 1))))


def bench_demo(o: Options) -> dict[str, Any]:
    import resource

    until = ["--until", "train"] if o.quick else []
    workspace = o.workdir / "demo-ws"
    started = time.perf_counter()
    out = _run([*tunesmith_command(), "demo", "--workspace", str(workspace), *until], 3600)
    seconds = round(time.perf_counter() - started, 1)
    # ru_maxrss of waited-for descendants: the largest single process of the demo (the training job)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "until": "train" if o.quick else "done",
            "largest_process_peak_gib": round(peak_kib / 1024**2, 2), "training": demo_training(workspace),
            "evaluation": demo_evaluation(workspace), "forgetting": demo_forgetting(workspace),
            "last_lines": out.strip().splitlines()[-3:]}


def demo_training(workspace: Path) -> dict[str, Any] | None:
    """The demo's training run: steps, wall seconds, and the warm-up's measured speed that cut the steps
    to the training cap (None when it stopped before training)."""
    runs = sorted(workspace.glob("sessions/*/runs/*/run.json"))
    if not runs:
        return None
    run = json.loads(runs[-1].read_text(encoding="utf-8"))
    out: dict[str, Any] = {"steps": run.get("steps"), "total_steps": run.get("total_steps")}
    if run.get("started") and run.get("ended"):
        out["wall_seconds"] = round(run["ended"] - run["started"], 1)
    plan = runs[-1].parents[2] / "training.yaml"
    for line in plan.read_text(encoding="utf-8").splitlines() if plan.exists() else []:
        key, _, value = line.strip().partition(": ")  # the estimate block's flat fields; no YAML library here
        if key in ("seconds_per_step", "measured_on") and key not in out:
            out[key] = float(value) if key == "seconds_per_step" else value
    return out


def demo_forgetting(workspace: Path) -> list[dict[str, Any]]:
    """The demo's general-set change per tuned run, with its interval (empty when it did not evaluate)."""
    reports = sorted(workspace.glob("sessions/*/evals/*/report.json"))
    if not reports:
        return []
    section = json.loads(reports[-1].read_text(encoding="utf-8")).get("forgetting") or {}
    return [{"variant": c.get("variant"), "items": c.get("n"), "base": c.get("mean_before"), "mean": c.get("mean_after"),
             "difference": c.get("diff"), "interval": [c.get("ci_low"), c.get("ci_high")]}
            for c in section.get("comparisons", [])]


def demo_evaluation(workspace: Path) -> list[dict[str, Any]]:
    """Per metric of the demo's evaluation report: the base mean, each run's mean and its difference with
    the bootstrap interval (empty when the demo stopped before evaluating)."""
    reports = sorted(workspace.glob("sessions/*/evals/*/report.json"))
    if not reports:
        return []
    report = json.loads(reports[-1].read_text(encoding="utf-8"))
    out = []
    for metric in report.get("metrics", []):
        for comparison in metric.get("comparisons", []):
            out.append({"metric": metric.get("key"), "base": comparison.get("mean_before"),
                        "variant": comparison.get("variant"), "mean": comparison.get("mean_after"),
                        "difference": comparison.get("diff"),
                        "interval": [comparison.get("ci_low"), comparison.get("ci_high")], "records": comparison.get("n"),
                        **({"mean_interval": [comparison["after_ci_low"], comparison["after_ci_high"]]}
                           if comparison.get("after_ci_low") is not None else {})})
    return out


def bench_planner(o: Options) -> dict[str, Any]:
    """System prompt + tool schemas of the planner's request on each step (tokens, litellm's counter); without
    --quick also the planner tokens of the whole journey driven by the scripted LLM (its slow test)."""
    out = _result(_run(_module("tests.bench.planner_requests"), 300))
    out["how"] = ("real agent, one request per step on a session holding every kind of file; schemas counted as "
                  "the JSON a chat template writes into the prompt")
    if not o.quick:
        log = _run([sys.executable, "-m", "pytest", "tests/assistant/test_llm_journey_slow.py", "-q", "-s", "-p",
                    "no:cacheprovider", "-p", "no:warnings"], 3600)
        lines = [line for line in log.splitlines() if line.startswith("JOURNEY_USAGE=")]
        if not lines:
            raise BenchError(f"the journey test printed no usage: {log[-800:]}")
        out["journey"] = {**json.loads(lines[-1][len("JOURNEY_USAGE="):]),
                          "how": "tests/assistant/test_llm_journey_slow.py: every planner request of the scripted "
                                 "journey, messages + tool schemas, counted with litellm's token counter"}
    return out


BENCHMARKS: list[tuple[str, Callable[[Options], dict[str, Any]]]] = [
    ("planner", bench_planner),
    ("help", bench_help), ("first_paint", bench_first_paint), ("tui_latency", bench_tui_latency),
    ("teacher", bench_teacher), ("quality", bench_quality), ("training", bench_training), ("levers", bench_levers),
    ("demo", bench_demo),
]


# -- report -------------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(), "python": platform.python_version(),
                            "cpus": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    try:
        model = [l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")]
        info["cpu"] = model[0] if model else platform.processor()
        mem = [l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")]
        info["memory_gib"] = round(int(mem[0].split()[1]) / 1024**2, 1) if mem else None
    except OSError:
        pass
    from importlib import metadata

    for package in ("torch", "transformers", "trl", "textual", "litellm"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return info


def table(results: dict[str, Any]) -> list[tuple[str, str]]:
    """(what, value) rows for the screen and the README."""
    rows: list[tuple[str, str]] = []

    def get(name: str) -> dict[str, Any] | None:
        value = results.get(name)
        if value is None:
            return None
        if "error" in value:
            rows.append((name, "FAILED: " + value["error"].splitlines()[0][:80]))
            return None
        return value

    if r := get("planner"):
        per_step = ", ".join(f"{step} {v['total']}" for step, v in r["steps"].items())
        rows.append(("planner system prompt + tool schemas per step (tokens)", per_step))
        if r.get("journey"):
            j = r["journey"]
            rows.append(("planner tokens for the whole journey (scripted LLM)", f"{j['prompt_tokens']:,} in {j['requests']} requests"))
            rows.append(("largest planner request of the journey", f"{j['largest_request']:,} tokens"))
    if r := get("help"):
        rows.append(("`tunesmith --help`", f"{r['median_s']:.2f} s"))
    if r := get("first_paint"):
        rows.append(("start to first painted TUI screen", f"{r['median_s']:.2f} s"))
    if r := get("tui_latency"):
        rows.append(("worst key-to-screen delay while streaming + CPU busy",
                     f"{r['median_worst_ms']:.0f} ms (typical {r['median_ms']:.0f} ms)"))
    if r := get("teacher"):
        rows.append(("teacher generation, 200 ms LLM, concurrency 1", f"{r['c1']['median_records_per_s']:.1f} records/s"))
        rows.append(("teacher generation, 200 ms LLM, concurrency 16",
                     f"{r['c16']['median_records_per_s']:.1f} records/s ({r['speedup_16_vs_1']:.1f}x)"))
    if r := get("quality"):
        rows.append(("quality scoring of 20,000 records", f"{r['median_s']:.1f} s"))
    if r := get("training"):
        rows.append(("fp32 matmul rate (torch, same run)", f"{r['matmul']['fp32_gflops']:.0f} GFLOP/s "
                                                           f"(bf16 {r['matmul']['bf16_gflops']:.0f})"))
        for adapter, name in (("full", "full fine-tune"), ("lora", "LoRA")):
            m, u = r[adapter]["median_tokens_per_s"], r[adapter]["mfu"]
            rows.append((f"SFT {name} tokens/s: plain TRL script", f"{_rate(m['plain_trl'])} (MFU {u['plain_trl']:.2f})"))
            rows.append((f"SFT {name} tokens/s: tunesmith job",
                         f"{_rate(m['tunesmith'])} (MFU {u['tunesmith']:.2f}; {r[adapter]['tunesmith_vs_plain']:.2f}x plain)"))
    if r := get("levers"):
        rows.append(("training step under bf16 autocast, against fp32 (one process)",
                     f"full {r['full_speedup_bf16']:.2f}x, LoRA {r['lora_speedup_bf16']:.2f}x"))
        opt = r["optimizer_step_seconds"]
        rows.append(("AdamW step of the full model: for-loop / foreach / fused",
                     f"{opt['for_loop']:.2f} / {opt['foreach']:.2f} / {opt['fused']:.2f} s"))
        tokens, per_s = r["tokens_per_record"], r["prompt_records_per_second"]
        rows.append(("demo record with the contract's / the short system prompt",
                     f"{tokens['contract']:.0f} / {tokens['short']:.0f} tokens; "
                     f"{per_s['short'] / per_s['contract']:.2f}x the records a second"))
    if r := get("demo"):
        label = "demo end to end" if r["until"] == "done" else "demo until the train step (--quick)"
        peak = f", largest process {r['largest_process_peak_gib']:.1f} GiB" if r.get("largest_process_peak_gib") else ""
        rows.append((label, f"{r['seconds'] / 60:.1f} min{peak}"))
        if t := r.get("training"):
            speed = f", warm-up {t['seconds_per_step']:.2f} s a step on {t.get('measured_on', '?')}" if t.get("seconds_per_step") else ""
            rows.append(("demo training run", f"{t['steps']} steps in {t.get('wall_seconds', 0):.0f} s{speed}"))
        for item in r.get("evaluation") or []:
            if item.get("variant") != "prompt_baseline" and item.get("base") is not None and item.get("mean") is not None:
                low, high = item.get("interval") or (None, None)
                change = (f" ({item['difference']:+.2f}, 95% CI [{low:+.2f}, {high:+.2f}], {item['records']} records)"
                          if None not in (item.get("difference"), low, high) else "")
                own = item.get("mean_interval")
                own = f" [{own[0]:.2f}, {own[1]:.2f}]" if own and None not in own else ""
                rows.append((f"demo evaluation: {item['metric']}, base → {item['variant']}",
                             f"{item['base']:.2f} → {item['mean']:.2f}{own}{change}"))
        for item in r.get("forgetting") or []:
            if None not in (item.get("base"), item.get("mean"), item.get("difference"), *(item.get("interval") or [None])):
                low, high = item["interval"]
                rows.append((f"demo general set (forgetting), base → {item['variant']}",
                             f"{item['base']:.2f} → {item['mean']:.2f} ({item['difference']:+.2f}, 95% CI "
                             f"[{low:+.2f}, {high:+.2f}], {item['items']} items)"))
    return rows


def _rate(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def markdown(rows: list[tuple[str, str]]) -> str:
    return "\n".join(["| Measure | Median |", "|---|---|", *[f"| {what} | {value} |" for what, value in rows]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON report path (default bench-report.json)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and steps; the demo stops at training")
    parser.add_argument("--skip-demo", action="store_true", help="leave the demo out")
    parser.add_argument("--only", default=None, help="comma-separated benchmarks: " + ", ".join(n for n, _ in BENCHMARKS))
    parser.add_argument("--repeats", type=int, default=None, help="repeats of the quick benchmarks (default 3, --quick 1)")
    parser.add_argument("--heavy-repeats", type=int, default=None,
                        help="repeats of quality scoring and training (default 2, --quick 1)")
    parser.add_argument("--train-steps", type=int, default=None, help="optimizer steps per training run (default 10, --quick 4)")
    args = parser.parse_args(argv)
    chosen = [n.strip() for n in args.only.split(",")] if args.only else [n for n, _ in BENCHMARKS]
    unknown = sorted(set(chosen) - {n for n, _ in BENCHMARKS})
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(unknown)}")
    if args.skip_demo and "demo" in chosen:
        chosen.remove("demo")
    workdir = Path(tempfile.mkdtemp(prefix="tunesmith-bench-"))
    options = Options(quick=args.quick, skip_demo=args.skip_demo,
                      repeats=args.repeats or (1 if args.quick else 3),
                      heavy_repeats=args.heavy_repeats or (1 if args.quick else 2),
                      train_steps=args.train_steps or (4 if args.quick else 10), workdir=workdir)
    settings = {"quick": args.quick, "repeats": options.repeats, "heavy_repeats": options.heavy_repeats,
                "train_steps": options.train_steps}
    report: dict[str, Any] = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                              "machine": machine(), "options": {**settings, "skip_demo": args.skip_demo},
                              "results": {}}
    if args.only and args.out.exists():  # a partial run updates its benchmarks in the existing report
        try:
            previous = json.loads(args.out.read_text(encoding="utf-8"))
            report["results"] = dict(previous.get("results") or {})
            report["started"] = previous.get("started", report["started"])
        except (OSError, ValueError):
            pass
    try:
        for name, bench in BENCHMARKS:
            if name not in chosen:
                continue
            print(f"bench: {name} ...", flush=True)
            load = [round(x, 2) for x in os.getloadavg()]
            started = time.perf_counter()
            try:
                result = bench(options)
            except Exception as exc:  # noqa: BLE001 - recorded; the other benchmarks go on
                result = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=3)}
            result["bench_seconds"] = round(time.perf_counter() - started, 1)
            result["measured"] = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **settings,
                                  "load_average_before": load}
            report["results"][name] = result
            status = "failed" if "error" in result else "done"
            print(f"bench: {name} {status} in {result['bench_seconds']:.0f} s", flush=True)
            _write(args.out, report)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rows = table(report["results"])
    report["table_markdown"] = markdown(rows)
    _write(args.out, report)
    width = max((len(what) for what, _ in rows), default=10)
    print()
    for what, value in rows:
        print(f"  {what.ljust(width)}  {value}")
    print(f"\nreport: {args.out}")
    return 1 if any("error" in r for r in report["results"].values()) else 0


def _write(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


if __name__ == "__main__":
    raise SystemExit(main())
