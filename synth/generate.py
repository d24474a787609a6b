"""Make the dataset: run the chosen generator, verify every record, write TRL-ready train/eval files.

``generate_dataset(session_dir, use_case, spec, emit=..., cancel=...)`` is the one entry point (the
data tool calls it inline, the data job calls it in a subprocess). Every generator writes each
finished record index to ``data/.partial/<split>.jsonl`` at once, so a cancel or a crash loses
nothing and a re-run skips the indices already done (no duplicates, no repeated teacher spend).
Progress events: ``{"type": "progress", "task": "generate", "done", "total", "rate", "eta_s"}``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from specs.data_generation import DataGenerationSpec
from specs.io import atomic_write_text
from specs.use_case import UseCaseSpec
from synth import seeds as seedrows
from synth.plan import currency_of, is_transaction_task, known_label_share, math_topics, wants_answer_line
from synth.quality import leaking_grams, ngram_set
from synth.topup import TopUp, settle_eval
from synth.records import PartialWriter, read_jsonl, request_hash, to_training_row, write_jsonl
from synth.sandbox import run_python, unconfined_approved
from synth.templates import classification
from synth.expand import expand_seed, sample_axes
from synth.importing import IMPORTED, IMPORTED_EVAL
from synth.teacher import parse_teacher_record, teacher_request
from synth.verify import Verifier, template_path

Emit = Callable[[dict[str, Any]], None]
SPLITS = ("train", "eval")
REPORT = "data/generation.json"


class GenerationError(Exception):
    """The generator cannot run as specified; the message says what to change."""


class Progress:
    """Throttled progress events with rate and ETA."""

    def __init__(self, emit: Emit | None, total: int, already: int, task: str = "generate", every_s: float = 0.5):
        self.emit, self.total, self.done, self.task = emit, total, already, task
        self.start_done, self.started, self.every_s, self._last = already, time.monotonic(), every_s, 0.0
        self._last_done, self._step = already, max(1, total // 100)
        self._lock = threading.Lock()

    def advance(self, count: int = 1, force: bool = False) -> None:
        with self._lock:
            self.done += count
            now = time.monotonic()
            due = now - self._last >= self.every_s or self.done - self._last_done >= self._step
            if self.emit is None or (not force and not due and self.done < self.total):
                return
            self._last, self._last_done = now, self.done
            rate = (self.done - self.start_done) / max(1e-6, now - self.started)
            eta = (self.total - self.done) / rate if rate > 0 else None
            self.emit({"type": "progress", "task": self.task, "done": self.done, "total": self.total,
                       "rate": round(rate, 2), "eta_s": None if eta is None else round(eta, 1)})


def axes_payload(spec: DataGenerationSpec) -> dict[str, list[list[Any]]]:
    return {a.name: [[v.value, v.weight] for v in a.values] for a in spec.diversity_axes}


def fingerprint(use_case: UseCaseSpec, spec: DataGenerationSpec, examples: list[dict[str, Any]]) -> str:
    """Changes when anything that shapes the records changes; partial files of another fingerprint are discarded."""
    return request_hash({"contract": use_case.contract.model_dump(mode="json"), "task": use_case.task_type,
                         "axes": axes_payload(spec), "generator": spec.generator.model_dump(mode="json"),
                         "format": spec.format, "seed": spec.seed, "examples": examples})


# --- generators: each yields (index, record or None, drop reason) for the indices asked ----------------

def programmatic_code(session_dir: Path, spec: DataGenerationSpec) -> Path:
    gen = spec.generator
    if gen.code_path:
        path = Path(session_dir) / gen.code_path
        if not path.exists():
            raise GenerationError(f"generator code {gen.code_path} does not exist in the session folder")
        return path
    try:
        return template_path(gen.template or "")
    except ValueError as exc:
        raise GenerationError(str(exc)) from exc


def template_payload(use_case: UseCaseSpec, spec: DataGenerationSpec, split: str, start: int, n: int,
                     examples: list[dict[str, Any]]) -> dict[str, Any]:
    contract = use_case.contract
    return {"labels": list(contract.labels or []), "schema": contract.output_schema, "start": start, "n": n,
            "seed": spec.seed, "split": split, "axes": axes_payload(spec), "examples": examples[:200],
            "task_type": use_case.task_type, "answer_line": wants_answer_line(use_case),
            "currency": currency_of(use_case, examples), "topics": math_topics(use_case)}



def run_code_batch(code: Path, payload: dict[str, Any], spec: DataGenerationSpec,
                   session_dir: Path | None = None) -> list[dict[str, Any]]:
    gen = spec.generator
    result = run_python(code, "generate", payload, timeout_s=gen.timeout_s, memory_mb=gen.memory_mb,
                        allow_unconfined=unconfined_approved(session_dir))
    if not result.ok:
        raise GenerationError(f"generator code failed: {(result.error or '').strip()[:600]}")
    if not isinstance(result.value, list):
        raise GenerationError("generator code must return a list of records")
    return [r for r in result.value if isinstance(r, dict)]


def sample_check(session_dir: Path, use_case: UseCaseSpec, spec: DataGenerationSpec, n: int = 20,
                 examples: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Run the programmatic generator on a sample batch and verify it: the gate before running at scale."""
    code = programmatic_code(session_dir, spec)
    records = run_code_batch(code, template_payload(use_case, spec, "sample", 0, n, examples or []), spec, session_dir)
    verifier = Verifier(use_case, spec, session_dir, code_verifier=code if _defines(code, "verify") else None)
    outcome = verifier.check_all(records)
    rate = len(outcome.kept) / max(1, len(records))
    return {"records": len(records), "passed": len(outcome.kept), "pass_rate": round(rate, 3),
            "dropped": outcome.dropped, "sample": records[:5], "ok": bool(records) and rate >= 0.9}


def _defines(code: Path, name: str) -> bool:
    return f"def {name}(" in code.read_text(encoding="utf-8")


def programmatic_records(session_dir: Path, use_case: UseCaseSpec, spec: DataGenerationSpec, split: str,
                         todo: list[int], examples: list[dict[str, Any]], cancel: threading.Event | None,
                         batch: int = 250) -> Iterable[tuple[int, dict[str, Any] | None, str | None]]:
    code = programmatic_code(session_dir, spec)
    for start, n in _runs(todo, batch):
        if cancel is not None and cancel.is_set():
            return
        made = {r.get("i"): r for r in run_code_batch(code, template_payload(use_case, spec, split, start, n, examples), spec,
                                                      session_dir)}
        for i in range(start, start + n):
            record = made.get(i)
            yield (i, _strip_index(record), None) if record else (i, None, "generator returned nothing")


def _runs(indices: list[int], batch: int) -> Iterable[tuple[int, int]]:
    """Group sorted indices into (start, count) runs of consecutive numbers, at most ``batch`` long."""
    run_start, count = None, 0
    for i in sorted(indices):
        if run_start is not None and i == run_start + count and count < batch:
            count += 1
            continue
        if run_start is not None:
            yield run_start, count
        run_start, count = i, 1
    if run_start is not None:
        yield run_start, count


def _strip_index(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k != "i"}
    out["meta"] = {str(k): str(v) for k, v in (out.get("meta") or {}).items()}
    return out


def offline_records(use_case: UseCaseSpec, spec: DataGenerationSpec, split: str, todo: list[int],
                    examples: list[dict[str, Any]], cancel: threading.Event | None
                    ) -> Iterable[tuple[int, dict[str, Any] | None, str | None]]:
    """The bank vocabulary for a bank-transaction task it knows; else the examples (the person's or the
    seeds) expanded. With no examples it says what it needs instead of making anything up."""
    labels = list(use_case.contract.labels or [])
    if labels and is_transaction_task(use_case) and known_label_share(labels) >= 0.5 \
            and not classification.missing_labels(labels, examples):
        for start, n in _runs(todo, 500):
            if cancel is not None and cancel.is_set():
                return
            payload = template_payload(use_case, spec, split, start, n, examples)
            for record in classification.generate(payload):
                if cancel is not None and cancel.is_set():
                    return
                yield record["i"], _strip_index(record), None
        return
    if not examples:
        gap = seedrows.offline_gap(use_case) or "offline generation expands examples and there are none yet"
        raise GenerationError(seedrows.needs_data_message(use_case, gap))
    missing = {label for label in labels if not any(str(e.get("output", "")) == label for e in examples)}
    for i in todo:
        if cancel is not None and cancel.is_set():
            return
        lacking = [v for v in sample_axes(spec, split, i).values() if v in missing]
        if lacking:  # nothing to expand for this label: counted, and the quality report names the label
            yield i, None, f"no example of the label {lacking[0]} to expand"
            continue
        yield i, expand_seed(spec, split, i, examples, labels, classify=use_case.task_type == "classification",
                             keep_numbers=use_case.task_type == "math"), None


def grounding_texts(session_dir: Path, spec: DataGenerationSpec, limit: int = 6000) -> dict[str, str]:
    """The grounding documents' text (the first ``limit`` characters of each), for the teacher's prompt."""
    out = {}
    for doc in spec.grounding_documents[:3]:
        path = Path(session_dir) / doc.path
        if not path.is_file():
            raise GenerationError(f"grounding document {doc.path} does not exist (paths are relative to the session folder)")
        out[doc.path] = path.read_text(encoding="utf-8", errors="replace")[:limit]
    return out


# --- the orchestrator ---------------------------------------------------------------------------------

def generate_dataset(session_dir: str | Path, use_case: UseCaseSpec, spec: DataGenerationSpec, *,
                     emit: Emit | None = None, cancel: threading.Event | None = None,
                     teacher_model: str | None = None, api_base: str | None = None,
                     workspace: str | Path | None = None, client: Any = None) -> dict[str, Any]:
    """Generate (resuming), verify, and write data/train.jsonl and data/eval.jsonl. Returns the report.

    ``teacher_model`` and ``api_base`` are the teacher's when the spec's generator names none;
    ``workspace`` shares the teacher's answer cache across sessions (see ``cache_dir``).
    Only one generation runs per session at a time (a lock file); a second raises GenerationError."""
    session_dir = Path(session_dir)
    teacher = Teacher(teacher_model, api_base, Path(workspace) if workspace else None)
    with generation_lock(session_dir):
        return _generate(session_dir, use_case, spec, emit, cancel, teacher, client)


@dataclass(frozen=True)
class Teacher:
    """The configured teacher (used when the spec's generator names no model or server)."""

    model: str | None = None
    api_base: str | None = None
    workspace: Path | None = None


LOCK = "data/.generate.lock"


@contextlib.contextmanager
def generation_lock(session_dir: Path):
    path = Path(session_dir) / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise GenerationError("data generation is already running for this session; wait for it or cancel it") from exc
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def generation_running(session_dir: str | Path) -> bool:
    """True while another process (or thread) generates data for this session."""
    try:
        with generation_lock(Path(session_dir)):
            return False
    except GenerationError:
        return True


def _generate(session_dir: Path, use_case: UseCaseSpec, spec: DataGenerationSpec, emit: Emit | None,
              cancel: threading.Event | None, teacher: Teacher, client: Any) -> dict[str, Any]:
    started = time.monotonic()
    examples = seedrows.load(session_dir)
    # every generator (the expansion, templates, the teacher's examples) draws on all of the person's rows, not 20 seeds
    known = {str(e.get("input")) for e in examples}
    examples += [r for r in read_jsonl(session_dir / IMPORTED) if str(r.get("input")) not in known]
    partial_root = session_dir / "data" / ".partial"
    print_ = fingerprint(use_case, spec, examples)
    marker = partial_root / "fingerprint"
    if marker.exists() and marker.read_text().strip() != print_:
        for old in partial_root.glob("*.jsonl"):
            old.unlink()
    partial_root.mkdir(parents=True, exist_ok=True)
    marker.write_text(print_)
    writers = {split: PartialWriter(partial_root / f"{split}.jsonl") for split in SPLITS}
    held_out = (session_dir / IMPORTED_EVAL).exists() and bool(read_jsonl(session_dir / IMPORTED_EVAL))
    counts = {"train": spec.train_count, "eval": 0 if held_out else spec.eval_count}  # the person's eval rows stand alone
    todo = {s: [i for i in range(counts[s]) if i not in writers[s].done] for s in SPLITS}
    resumed = sum(len(w.done) for w in writers.values())
    progress = Progress(emit, sum(counts.values()), resumed)
    kind = spec.generator.kind
    usage = None
    try:
        if kind == "teacher":
            usage = _run_teacher(session_dir, use_case, spec, todo, writers, examples, progress, cancel, teacher, client)
        else:
            for split in SPLITS:
                if kind == "programmatic":
                    produced = programmatic_records(session_dir, use_case, spec, split, todo[split], examples, cancel)
                else:
                    produced = offline_records(use_case, spec, split, todo[split], examples, cancel)
                for i, record, reason in produced:
                    writers[split].add(i, record, reason)
                    progress.advance()
    finally:
        for writer in writers.values():
            writer.close()
    progress.advance(0, force=True)
    cancelled = bool(cancel is not None and cancel.is_set()) or any(
        len(writers[s].done) < counts[s] for s in SPLITS)
    report: dict[str, Any] = {"status": "cancelled" if cancelled else "done", "generator": kind,
                              "resumed_records": resumed, "requested": counts,
                              "generated": {s: len(writers[s].done) for s in SPLITS}}
    if usage is not None:
        report["repaired"] = usage.pop("repaired", {})
        report["usage"] = usage
    if not cancelled:
        report.update(assemble(session_dir, use_case, spec, writers))
        if kind == "teacher" and not report.get("imported_records"):
            topped = _top_up_teacher(session_dir, use_case, spec, counts, writers, report, examples, emit, cancel,
                                     teacher, client)
            if topped is not None:
                extra_usage, rounds, assembled = topped
                report["top_up_rounds"] = rounds
                report["generated"] = {s: len(writers[s].done) for s in SPLITS}
                report.update(assembled)
                if usage is not None:
                    usage = _add_usage(report["usage"], extra_usage)
                    report["usage"] = usage
    report["seconds"] = round(time.monotonic() - started, 2)
    atomic_write_text(session_dir / REPORT, json.dumps(report, indent=2))
    return report


TOP_UP_ROUNDS = 2
"""Rounds of more teacher requests when verification kept fewer records than the spec asks for."""


def _top_up_teacher(session_dir: Path, use_case: UseCaseSpec, spec: DataGenerationSpec, counts: dict[str, int],
                    writers: dict[str, PartialWriter], made: dict[str, Any], examples: list[dict[str, Any]],
                    emit: Emit | None, cancel: threading.Event | None, teacher: Teacher,
                    client: Any) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]] | None:
    """Ask the teacher for more records when verification and deduplication kept fewer than asked: ``train_count``
    means records in train.jsonl, not requests. Each round asks for the shortfall at the share the records so far
    kept (at most as many again as asked), and all rounds together ask at most as many records as the first pass
    (so at most about as long again; a count, not a clock, so that a rerun asks the same).
    Seen: Qwen2.5-Coder-1.5B as a teacher got half its unit conversions wrong by its own arithmetic; 25 of 50
    training records were kept and the quality gate blocked. None when nothing was asked."""
    rounds: list[dict[str, Any]] = []
    usage: dict[str, Any] = {}
    left = sum(len(w.done) for w in writers.values())
    for _ in range(TOP_UP_ROUNDS):
        kept = {"train": int(made.get("train_records", 0)), "eval": int(made.get("eval_records", 0))}
        extra: dict[str, int] = {}
        for split in SPLITS:
            short, tried = counts[split] - kept[split], len(writers[split].done)
            if short <= 0 or counts[split] <= 0:
                continue
            share = kept[split] / tried if tried and kept[split] else 0.0
            extra[split] = min(counts[split], math.ceil(short / share * 1.2) if share else counts[split])
        fits = left
        if not extra or fits < 1 or (cancel is not None and cancel.is_set()):
            break
        if sum(extra.values()) > fits:  # cut to what is left, in proportion
            scale = fits / sum(extra.values())
            extra = {split: max(1, int(n * scale)) for split, n in extra.items()}
        todo: dict[str, list[int]] = {split: [] for split in SPLITS}
        for split, n in extra.items():
            start = max([counts[split] - 1, *writers[split].done]) + 1
            todo[split] = list(range(start, start + n))
        if emit is not None:
            emit({"type": "status", "message": "verification kept " + ", ".join(
                f"{kept[s]} of {counts[s]} {s}" for s in extra) + "; asking the teacher for " + ", ".join(
                f"{n} more {s}" for s, n in extra.items())})
        began = time.monotonic()
        progress = Progress(emit, sum(len(t) for t in todo.values()), 0)
        failed = None
        try:
            got = _run_teacher(session_dir, use_case, spec, todo, writers, examples, progress, cancel, teacher, client)
        except GenerationError as exc:  # what the first pass made stands; the top-up ends here
            got, failed = {}, str(exc)
        finally:
            for writer in writers.values():
                writer.close()
        repaired = got.pop("repaired", {}) or {}
        made_repaired = Counter(made.get("repaired") or {})
        made_repaired.update(repaired)
        usage = _add_usage(usage, got)
        left -= sum(len(t) for t in todo.values())
        rounds.append({"asked": {s: len(t) for s, t in todo.items() if t}, "seconds": round(time.monotonic() - began, 2)})
        made = assemble(session_dir, use_case, spec, writers)
        made["repaired"] = dict(made_repaired)
        rounds[-1]["kept"] = {"train": made["train_records"], "eval": made["eval_records"]}
        if failed is not None:
            rounds[-1]["error"] = failed
            break
        if cancel is not None and cancel.is_set():
            break
    return (usage, rounds, made) if rounds else None


def _add_usage(total: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    out = dict(total)
    for key, value in more.items():
        if isinstance(value, bool):
            out[key] = bool(out.get(key, True)) and value
        elif isinstance(value, (int, float)):
            out[key] = out.get(key, 0) + value
        elif key not in out:
            out[key] = value
    return out


def _run_teacher(session_dir: Path, use_case: UseCaseSpec, spec: DataGenerationSpec, todo: dict[str, list[int]],
                 writers: dict[str, PartialWriter], examples: list[dict[str, Any]], progress: Progress,
                 cancel: threading.Event | None, teacher: Teacher, client: Any) -> dict[str, Any]:
    """Ask the teacher for every record still to do; returns its usage and what its replies needed
    repaired (``repaired``: repair -> count). A teacher nobody answers, or one that answers after the
    timeout, stops the batch at once (GenerationError); what it made stays in data/.partial."""
    from synth.llm import LLMClient, LLMStopped, LLMUnreachable, configured_timeout, run_sync

    gen = spec.generator
    if client is None:
        model = gen.model or teacher.model
        if not model:
            raise GenerationError("the teacher generator needs a model: set generator.model or --teacher-model")
        client = LLMClient(model, api_base=gen.api_base or teacher.api_base,
                           cache_dir=cache_dir(session_dir, teacher.workspace), concurrency=gen.concurrency,
                           max_retries=gen.max_retries, timeout_s=max(gen.timeout_s, configured_timeout()))
    jobs = [(split, i) for split in SPLITS for i in todo[split]]
    documents = grounding_texts(session_dir, spec)
    requests = [teacher_request(use_case, spec, split, i, examples, documents) for split, i in jobs]
    axes = [r.pop("_axes") for r in requests]
    repaired: Counter = Counter()

    def done(k: int, result: Any) -> None:
        split, i = jobs[k]
        if isinstance(result, LLMStopped) or (isinstance(result, BaseException) and "cancelled" in str(result)):
            return  # not made: a rerun asks again
        if isinstance(result, BaseException):
            writers[split].add(i, None, "teacher call failed: " + str(result)[:60])
            progress.advance()
            return
        record, reason, repairs = parse_teacher_record(result.text, axes[k], finish_reason=result.finish_reason,
                                                       use_case=use_case, fmt=spec.format)
        if record is not None:
            repaired.update(repairs)
        writers[split].add(i, record, reason)
        progress.advance()

    results = run_sync(client.map(requests, on_done=done, cancel=cancel))
    stopped = next((r for r in results if isinstance(r, LLMStopped)), None)
    if stopped is not None:  # what was made stays in data/.partial; a rerun resumes
        made = sum(len(w.done) for w in writers.values())
        what = "unreachable" if isinstance(stopped, LLMUnreachable) else "too slow"
        fix = "Start its server (or fix generator.api_base / --api-base)" if isinstance(stopped, LLMUnreachable) else \
            "Check the server, or allow more time (--timeout)"
        raise GenerationError(f"the teacher is {what}: {stopped}. {fix} and generate again: the records already made "
                              f"are kept ({made} in data/.partial).")
    return {**client.usage.to_dict(), "repaired": dict(repaired)}


def with_rejected(record: dict[str, Any], labels: list[str], k: int) -> dict[str, Any]:
    """Preference records need a rejected answer: for label tasks without one, a different label."""
    if record.get("rejected") is not None or not labels:
        return record
    chosen = str(record.get("chosen", record.get("output", "")))
    others = [label for label in labels if label != chosen]
    if not others:
        return record
    return {**record, "chosen": chosen, "rejected": others[k % len(others)]}


def _sourced(record: dict[str, Any], source: str) -> dict[str, Any]:
    """The record with ``meta.source`` saying where it came from (kept when the generator set it)."""
    meta = dict(record.get("meta") or {})
    meta.setdefault("source", source)
    return {**record, "meta": meta}


def _from(record: dict[str, Any], source: str) -> bool:
    return (record.get("meta") or {}).get("source") == source


def cache_dir(session_dir: Path, workspace: str | Path | None) -> Path:
    """Teacher responses are cached per workspace when one is known (shared across sessions), else per session."""
    return Path(workspace) / "cache" / "llm" if workspace else Path(session_dir) / "data" / ".cache" / "llm"


def _count(dropped: dict[str, int], reason: str, by: int = 1) -> None:
    dropped[reason] = dropped.get(reason, 0) + by


def assemble(session_dir: Path, use_case: UseCaseSpec, spec: DataGenerationSpec,
             writers: dict[str, PartialWriter]) -> dict[str, Any]:
    """Verify, keep only the generated records that add something (synth.topup), hold the person's eval rows
    apart from training, and write the TRL files."""
    code_verifier = None
    if spec.generator.kind == "programmatic":
        code = programmatic_code(session_dir, spec)
        code_verifier = code if _defines(code, "verify") else None
    verifier = Verifier(use_case, spec, session_dir, code_verifier=code_verifier)
    dropped: dict[str, int] = {}
    by_split: dict[str, dict[str, int]] = {split: {} for split in SPLITS}
    not_added: dict[str, int] = {}
    for split, writer in writers.items():
        for reason, count in writer.dropped().items():
            _count(dropped, reason, count)
            _count(by_split[split], reason, count)
            if split == "train":
                _count(not_added, reason, count)
    imported = read_jsonl(session_dir / IMPORTED)
    imported_eval = read_jsonl(session_dir / IMPORTED_EVAL)
    labels = list(use_case.contract.labels or [])
    paraphrases = PartialWriter(session_dir / "data" / ".partial" / "paraphrase.jsonl")
    paraphrases.close()
    for reason, count in paraphrases.dropped().items():
        _count(dropped, reason, count)
    source = {"programmatic": "template", "teacher": "teacher", "offline": "offline"}[spec.generator.kind]
    n = spec.quality.overlap_ngram
    top_up = TopUp(spec, imported_eval, [str(r.get("input", "")) for r in imported + imported_eval])

    def verified(records: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
        if spec.format == "preference":
            records = [with_rejected(r, labels, k) for k, r in enumerate(records)]
        outcome = verifier.check_all(records)
        for record, reason in zip(records, outcome.reasons):
            if reason is not None:
                _count(dropped, reason)
                _count(by_split[split], reason)
                if split == "train" and (record.get("meta") or {}).get("source") != "person":
                    _count(not_added, reason)
        return outcome.kept

    generated = [_sourced(r, source) for _, r in writers["train"].records()]
    # records past the count asked come from top-up rounds: they fill the shortfall and no more
    extra = {str(r.get("input")) for i, r in writers["train"].records() if i >= spec.train_count}
    generated += [_sourced(r, "paraphrase") for _, r in paraphrases.records()]
    train: list[dict[str, Any]] = []
    spare = 0
    for record in verified(imported + generated, "train"):
        text = str(record["input"])
        if text in extra and _from(record, source) and sum(_from(r, source) for r in train) >= spec.train_count:
            spare += 1
            continue
        if (record.get("meta") or {}).get("source") == "person":
            if " ".join(text.lower().split()) in top_up.seen:
                _count(dropped, "exact duplicate")
                continue
            top_up.add(text)
            train.append(record)
            continue
        reason = top_up.reason(text)
        if reason is None:
            train.append(record)
        else:
            _count(dropped, reason)
            _count(not_added, reason)
    seen_train = {" ".join(str(r["input"]).lower().split()) for r in train}
    train_grams = set() if spec.quality.allow_train_eval_overlap else leaking_grams([str(r["input"]) for r in train], n)
    evals, seen = [], set()
    eval_extra = {str(r.get("input")) for i, r in writers["eval"].records() if i >= spec.eval_count}
    for record in verified(imported_eval + [_sourced(r, source) for _, r in writers["eval"].records()], "eval"):
        key = " ".join(str(record["input"]).lower().split())
        if str(record["input"]) in eval_extra and _from(record, source) and \
                sum(_from(r, source) for r in evals) >= spec.eval_count:
            spare += 1
            continue
        person = (record.get("meta") or {}).get("source") == "person"
        reason = "exact duplicate" if key in seen else "eval copy of a train input" if key in seen_train else None
        if reason is None and not person and (top_up.train_index.copy_of(str(record["input"])) is not None or
                                              ngram_set(str(record["input"]), n) & train_grams):
            reason = "eval shares a phrase with train"
        if reason is not None:
            _count(dropped, reason)
            _count(by_split["eval"], reason)
            continue
        seen.add(key)
        evals.append(record)
    moved = 0
    if not spec.quality.allow_train_eval_overlap:
        train, evals, moved = settle_eval(train, evals, n)
        if moved:
            _count(dropped, "held-out row moved to training (shares a phrase with it)", moved)
    system = use_case.contract.system_prompt
    final = {"train": train, "eval": evals}
    for split in SPLITS:
        write_jsonl(session_dir / "data" / f"{split}.jsonl",
                    [to_training_row(r, spec.format, system) for r in final[split]])
    sources = {split: dict(Counter(str((r.get("meta") or {}).get("source", source)) for r in final[split]))
               for split in SPLITS}
    report = {"train_records": len(train), "eval_records": len(evals), "dropped": dropped,
              "dropped_by_split": by_split, "sources": sources, "imported_records": len(imported),
              "imported_eval_records": len(imported_eval), "paraphrased_records": len(paraphrases.records()),
              "files": ["data/train.jsonl", "data/eval.jsonl"]}
    if spare:
        report["spare_records"] = spare  # top-up records past the count asked, left in data/.partial
    if imported:
        person = sum(1 for r in train if (r.get("meta") or {}).get("source") == "person")
        report["top_up"] = {"person": person, "asked": spec.train_count + len(paraphrases.records()),
                            "added": len(train) - person, "not_added": not_added}
    return report
