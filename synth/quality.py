"""The quality report (data/quality.json) and the training gate built on it.

``score_dataset(session_dir, use_case, spec)`` measures train.jsonl and eval.jsonl: exact and
near-duplicates (MinHash LSH), distinct-n, embedding spread (MiniLM, in a subprocess), token
lengths in the base model's tokenizer, label balance, axis coverage, PII, toxicity (small word
list), train/eval n-gram overlap, and per-row reasons. High-severity findings block training:
``blocking_findings(session_dir)`` lists them; ``waive(session_dir, codes, comment)`` records the
person's waiver in quality.json.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from specs.data_generation import DataGenerationSpec
from specs.io import atomic_write_text
from specs.quality import Finding, QualityReport
from specs.use_case import UseCaseSpec
from synth.coverage import content_coverage, words as _words
from synth.pii import find_pii, find_toxic
from synth.records import answer_text, from_training_row, read_jsonl, sha256_files

QUALITY = "data/quality.json"
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}
MAX_ROWS = 50
SCORING_STEPS = ("duplicates", "diversity", "embeddings", "lengths", "coverage", "pii", "overlap", "done")
"""The measures in the order they run (progress events count them)."""
EMBED_SAMPLE = 1000
SOURCE_WORDS = {"person": "your data", "template": "shipped template", "teacher": "teacher", "offline": "offline expansion",
                "paraphrase": "paraphrases", "unknown": "unknown origin"}
"""How the report names where records came from (``meta.source``)."""


class ScoringCancelled(Exception):
    """The person stopped the scoring; data/quality.json was left as it was."""


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def data_files(session_dir: Path) -> tuple[Path, Path]:
    return Path(session_dir) / "data" / "train.jsonl", Path(session_dir) / "data" / "eval.jsonl"


def current_hash(session_dir: Path) -> str:
    return sha256_files(*data_files(session_dir))


# --- metrics ----------------------------------------------------------------------------------------

def _shingles(text: str) -> list[bytes]:
    norm = _norm(text)
    return [g.encode("utf-8") for g in {norm[j:j + 5] for j in range(max(1, len(norm) - 4))}]


def near_duplicates(texts: list[str], threshold: float, num_perm: int = 64,
                    answers: list[str] | None = None) -> list[int | None]:
    """For each text, the index of an earlier near-duplicate (MinHash Jaccard >= threshold over char 5-grams), or None.

    With ``answers``, only an earlier text with the same answer counts: two nearly identical inputs with
    different answers ("turn the lights on" / "off", 30 or 60 days' notice) are a contrast to learn, not a copy."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    out: list[int | None] = []
    same = [_norm(a) for a in answers] if answers is not None else None
    for k, m in enumerate(MinHash.bulk([_shingles(t) for t in texts], num_perm=num_perm, seed=1)):
        hits = [int(h) for h in lsh.query(m)]
        if same is not None:
            hits = [h for h in hits if same[h] == same[k]]
        out.append(min(hits) if hits else None)
        lsh.insert(str(k), m, check_duplication=False)
    return out


class NearCopyIndex:
    """Texts seen so far, to ask whether a new one nearly copies any of them (the measure of ``near_duplicates``)."""

    def __init__(self, threshold: float, num_perm: int = 64):
        from datasketch import MinHashLSH

        self.num_perm, self.size = num_perm, 0
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)

    def _hash(self, text: str):
        from datasketch import MinHash

        m = MinHash(num_perm=self.num_perm, seed=1)
        m.update_batch(_shingles(text))
        return m

    def copy_of(self, text: str) -> int | None:
        """The position (in the order added) of the first text this one nearly copies, or None."""
        hits = self._lsh.query(self._hash(text)) if self.size else []
        return min(int(h) for h in hits) if hits else None

    def add(self, text: str) -> None:
        self._lsh.insert(str(self.size), self._hash(text), check_duplication=False)
        self.size += 1


def word_grams(text: str, n: int) -> list[tuple[str, ...]]:
    """The text's word n-grams in order (repeats kept): what distinct-n counts."""
    words = _words(text)
    return [tuple(words[j:j + n]) for j in range(len(words) - n + 1)]


def distinct_n(texts: list[str], n: int) -> float:
    total, seen = 0, set()
    for text in texts:
        grams = word_grams(text, n)
        total += len(grams)
        seen.update(grams)
    return round(len(seen) / total, 4) if total else 0.0


def ngram_set(text: str, n: int) -> set[tuple[str, ...]]:
    words = _words(text)
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[j:j + n]) for j in range(len(words) - n + 1)}


def leaking_grams(train: list[str], n: int, common_share: float = 0.01) -> set[tuple[str, ...]]:
    """The training n-grams that could leak: those of a few records only. A phrase in many records
    (at least ``common_share`` of them and 3: a greeting, a signature, a template's frame) says nothing
    about any one record, so it is left out."""
    counts: Counter = Counter()
    for text in train:
        counts.update(ngram_set(text, n))
    common = max(3, int(len(train) * common_share))
    return {gram for gram, count in counts.items() if count < common}


def overlap(train: list[str], evals: list[str], n: int) -> list[int]:
    """Eval indices sharing a record-specific word n-gram with training (records shorter than n compare whole)."""
    grams = leaking_grams(train, n)
    return [k for k, text in enumerate(evals) if ngram_set(text, n) & grams]


def _percentile(values: list[int], q: float) -> int:
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --- the report -------------------------------------------------------------------------------------

def score_dataset(session_dir: str | Path, use_case: UseCaseSpec, spec: DataGenerationSpec, *,
                  embeddings: bool = True, tokenizer: bool = True,
                  emit: Callable[[dict[str, Any]], None] | None = None, cancel: Any = None) -> QualityReport:
    """Score data/train.jsonl and data/eval.jsonl, write data/quality.json, and return the report.

    ``cancel`` (a threading.Event) stops between measures with ScoringCancelled; nothing is written then."""
    session_dir = Path(session_dir)
    train_path, eval_path = data_files(session_dir)
    train = [from_training_row(r) for r in read_jsonl(train_path)]
    evals = [from_training_row(r) for r in read_jsonl(eval_path)]
    gen_report = session_dir / "data" / "generation.json"
    generation = json.loads(gen_report.read_text(encoding="utf-8")) if gen_report.exists() else {}
    dropped = generation.get("dropped", {})
    report = score_records(train, evals, use_case, spec, embeddings=embeddings, tokenizer=tokenizer, emit=emit,
                           raw_train=read_jsonl(train_path), raw_eval=read_jsonl(eval_path), cancel=cancel,
                           eval_gap=None if evals else why_no_eval(generation))
    report.dropped = dropped
    if generation.get("top_up"):
        report.findings.append(top_up_finding(generation["top_up"]))
    if dropped:
        total = sum(dropped.values())
        report.findings.append(Finding(code="dropped_by_verification", severity="info",
                                       message=f"{total} records were left out by verification and deduplication: " +
                                       ", ".join(f"{k} ({v})" for k, v in sorted(dropped.items(), key=lambda x: -x[1]))))
    report.data_hash = current_hash(session_dir)
    previous = load_report(session_dir)
    if previous is not None and previous.data_hash == report.data_hash:
        waived = {f.code: f for f in previous.findings if f.waived}
        for finding in report.findings:
            if finding.code in waived:
                finding.waived, finding.waiver_comment = True, waived[finding.code].waiver_comment
    save_report(session_dir, report)
    return report


def _reasons(dropped: dict[str, int]) -> str:
    return ", ".join(f"{reason} ({count})" for reason, count in sorted(dropped.items(), key=lambda x: -x[1]))


def why_no_eval(generation: dict[str, Any]) -> str:
    """Why a generation left the eval split empty, from its report (data/generation.json)."""
    if not generation:
        return "data/eval.jsonl is empty"
    held = generation.get("imported_eval_records", 0)
    made = (generation.get("generated") or {}).get("eval", 0)
    lost = (generation.get("dropped_by_split") or {}).get("eval") or {}
    if not held and not made:
        return ("none were asked for: your data held out no rows and data_generation.yaml's generator made none; "
                "import your data with an eval share, give your own eval file, or raise eval_count")
    asked = " and ".join(part for part in (f"{held} of your held-out rows" if held else "",
                                           f"{made} generated records" if made else "") if part)
    return f"{asked} went in and none passed" + (f": {_reasons(lost)}" if lost else "")


def top_up_finding(top_up: dict[str, Any]) -> Finding:
    """What the generated top-up of the person's rows added, and why not more (informational, never a block)."""
    asked, added = top_up.get("asked", 0), top_up.get("added", 0)
    why = top_up.get("not_added") or {}
    message = f"your {top_up.get('person', 0)} training rows were topped up with {added} of the {asked} generated " \
              "records asked for" + (f"; not added: {_reasons(why)}" if why else "") + "."
    if added < asked:
        message += (" A generated record joins only when it nearly copies no other record and no eval record, shares "
                    "no phrase with your eval rows and brings word pairs the data does not have yet.")
    return Finding(code="top_up", severity="info", message=message)


def score_records(train: list[dict[str, Any]], evals: list[dict[str, Any]], use_case: UseCaseSpec,
                  spec: DataGenerationSpec, *, embeddings: bool = True, tokenizer: bool = True,
                  emit: Callable[[dict[str, Any]], None] | None = None, raw_train: list[dict[str, Any]] | None = None,
                  raw_eval: list[dict[str, Any]] | None = None, cancel: Any = None,
                  eval_gap: str | None = None) -> QualityReport:
    """The report of these records; ``eval_gap`` says why there are no eval records, when there are none."""
    q = spec.quality
    timings: dict[str, float] = {}
    findings: list[Finding] = []
    reasons: dict[str, list[str]] = {}
    metrics: dict[str, Any] = {}

    def mark(key: str, reason: str) -> None:
        reasons.setdefault(key, [])
        if reason not in reasons[key]:
            reasons[key].append(reason)

    def step(name: str) -> None:
        if cancel is not None and cancel.is_set():
            raise ScoringCancelled(f"quality scoring was stopped before `{name}`; score_data scores the data again")
        timings[name] = time.monotonic()
        if emit is not None:
            done = SCORING_STEPS.index(name)
            emit({"type": "progress", "task": "quality", "done": done, "total": len(SCORING_STEPS) - 1,
                  "message": "scored" if name == "done" else f"scoring {name}"})

    inputs = [str(r.get("input", "")) for r in train]
    answers = [answer_text(r) for r in train]
    # duplicates
    step("duplicates")
    first_seen: dict[str, int] = {}
    exact = []
    for k, (text, _answer) in enumerate(zip(inputs, answers)):
        key = _norm(text)
        if key in first_seen:
            exact.append(k)
            mark(f"train:{k}", f"exact duplicate of train:{first_seen[key]}")
        else:
            first_seen[key] = k
    near_of = near_duplicates(inputs, q.near_duplicate_jaccard, answers=answers) if inputs else []
    exact_set = set(exact)
    near = [k for k, other in enumerate(near_of) if other is not None and k not in exact_set]
    for k in near:
        mark(f"train:{k}", f"near duplicate of train:{near_of[k]} (same answer)")
    n_train = max(1, len(train))
    dup_rate = (len(exact) + len(near)) / n_train
    metrics["duplicates"] = {"exact": len(exact), "near": len(near), "exact_rate": round(len(exact) / n_train, 4),
                             "near_rate": round(len(near) / n_train, 4), "rate": round(dup_rate, 4),
                             "near_threshold": q.near_duplicate_jaccard}
    if dup_rate > q.max_duplicate_rate:
        findings.append(Finding(code="duplicates", severity="high", rows=(exact + near)[:MAX_ROWS],
                                message=f"{dup_rate:.1%} of training records are duplicates ({len(exact)} exact, "
                                        f"{len(near)} near); the limit is {q.max_duplicate_rate:.0%}. Generate more "
                                        "varied records (more axes or values, another generator) or dedupe."))
    # size
    if len(train) < q.min_records:
        findings.append(Finding(code="too_few_records", severity="high",
                                message=f"only {len(train)} usable training records; at least {q.min_records} are needed."))
    # diversity
    step("diversity")
    metrics["distinct"] = {"distinct_1": distinct_n(inputs, 1), "distinct_2": distinct_n(inputs, 2),
                           "distinct_3": distinct_n(inputs, 3)}
    if inputs and metrics["distinct"]["distinct_2"] < q.min_distinct_2:
        findings.append(Finding(code="low_diversity", severity="medium",
                                message=f"inputs reuse the same word pairs (distinct-2 = {metrics['distinct']['distinct_2']}, "
                                        f"the floor is {q.min_distinct_2:g})."))
    if embeddings and len(inputs) >= 2:
        step("embeddings")
        from synth.embed import embedding_spread

        sample = inputs if len(inputs) <= EMBED_SAMPLE else [inputs[k] for k in range(0, len(inputs), len(inputs) // EMBED_SAMPLE + 1)]
        metrics["embedding"] = embedding_spread(sample, cancel=cancel)
    else:
        metrics["embedding"] = {"skipped": True}
    # lengths
    step("lengths")
    metrics["tokens"] = token_lengths(train, raw_train, use_case, q.max_tokens, tokenizer)
    over = metrics["tokens"].pop("over_rows", [])
    for k in over:
        mark(f"train:{k}", f"longer than {q.max_tokens} tokens")
    if over:
        findings.append(Finding(code="over_max_tokens", severity="medium", rows=over[:MAX_ROWS],
                                message=f"{len(over)} records are longer than the training maximum of {q.max_tokens} "
                                        "tokens and would be truncated."))
    # labels
    labels = use_case.contract.labels
    if labels:
        counts = Counter(answers)
        per_label = {label: counts.get(label, 0) for label in labels}
        present = [c for c in per_label.values() if c > 0]
        ratio = (max(present) / min(present)) if present else 0.0
        missing = [label for label, c in per_label.items() if c == 0]
        metrics["labels"] = {"counts": per_label, "imbalance": round(ratio, 2), "missing": missing}
        if missing or ratio > q.max_label_imbalance:
            detail = f"labels never seen in training: {', '.join(missing)}" if missing else \
                f"the most frequent label has {ratio:.1f}x the records of the rarest (limit {q.max_label_imbalance:g}:1)"
            findings.append(Finding(code="label_imbalance", severity="high", message=detail + "."))
    # axes
    step("coverage")
    coverage = content_coverage(train, spec, labels or [])
    for name, entry in coverage.items():
        gaps = [v for v, c in entry["content_counts"].items() if c == 0]
        if gaps and train:
            tagged = [v for v in gaps if entry["counts"].get(v)]
            detail = f"; records tagged {', '.join(tagged[:10])} read like other values' records (the axis did not " \
                     "change their content)" if tagged else ""
            findings.append(Finding(code=f"axis_gap:{name}", severity="low",
                                    message=f"axis {name}: no records whose content shows {', '.join(gaps[:10])}{detail}."))
    metrics["coverage"] = coverage
    metrics["sources"] = {split: dict(Counter(str((r.get("meta") or {}).get("source", "unknown")) for r in records))
                          for split, records in (("train", train), ("eval", evals))}
    # PII and toxicity
    step("pii")
    pii_in, pii_out, toxic = Counter(), Counter(), Counter()
    out_rows, tox_rows = [], []
    for split, records in (("train", train), ("eval", evals)):
        for k, record in enumerate(records):
            for kind in find_pii(str(record.get("input", ""))):
                pii_in[kind] += 1
                mark(f"{split}:{k}", f"PII in input: {kind}")
            for kind in find_pii(answer_text(record)):
                pii_out[kind] += 1
                mark(f"{split}:{k}", f"PII in output: {kind}")
                if split == "train":
                    out_rows.append(k)
            words = find_toxic(str(record.get("input", "")) + " " + answer_text(record))
            if words:
                toxic.update(words)
                mark(f"{split}:{k}", "toxic words: " + ", ".join(words))
                tox_rows.append(k)
    metrics["pii"] = {"inputs": dict(pii_in), "outputs": dict(pii_out),
                      "method": "regular expressions: email, phone, card (Luhn), IBAN (mod 97), US SSN"}
    metrics["toxicity"] = {"words": dict(toxic), "records": len(tox_rows),
                           "method": "small English word list (profanity, slurs, insults); not a classifier"}
    if pii_out:
        findings.append(Finding(code="pii_in_outputs", severity="high" if q.block_pii_in_outputs else "medium",
                                rows=out_rows[:MAX_ROWS], message="answers contain personal data: " +
                                ", ".join(f"{k} ({v})" for k, v in pii_out.items()) + ". The model would learn to emit it."))
    if pii_in:
        findings.append(Finding(code="pii_in_inputs", severity="medium", message="inputs contain personal data: " +
                                ", ".join(f"{k} ({v})" for k, v in pii_in.items()) + "."))
    if tox_rows:
        findings.append(Finding(code="toxicity", severity="medium", rows=tox_rows[:MAX_ROWS],
                                message=f"{len(tox_rows)} records contain words from the toxicity word list."))
    if not evals:
        findings.append(Finding(code="no_eval_records", severity="high",
                                message="there are no eval records, so evaluation cannot compare the tuned model with the "
                                        "base model" + (f": {eval_gap}" if eval_gap else "") + "."))
    # leakage
    step("overlap")
    eval_inputs = [str(r.get("input", "")) for r in evals]
    leaks = overlap(inputs, eval_inputs, q.overlap_ngram)
    metrics["overlap"] = {"ngram": q.overlap_ngram, "eval_records_overlapping": len(leaks),
                          "rate": round(len(leaks) / max(1, len(evals)), 4)}
    for k in leaks:
        mark(f"eval:{k}", f"shares a {q.overlap_ngram}-word sequence with training")
    if leaks:
        findings.append(Finding(code="train_eval_overlap", severity="medium" if q.allow_train_eval_overlap else "high",
                                rows=leaks[:MAX_ROWS],
                                message=f"{len(leaks)} eval records share {q.overlap_ngram}-word sequences with training "
                                        "(leakage: evaluation would overstate quality). Drop or regenerate them."))
    step("done")
    names = list(timings)
    metrics["seconds"] = {names[k]: round(timings[names[k + 1]] - timings[names[k]], 3) for k in range(len(names) - 1)}
    findings.sort(key=lambda f: SEVERITY_ORDER[f.severity])
    return QualityReport(train_records=len(train), eval_records=len(evals), metrics=metrics, findings=findings,
                         row_reasons=dict(list(reasons.items())[:2000]))


def token_lengths(train: list[dict[str, Any]], raw: list[dict[str, Any]] | None, use_case: UseCaseSpec,
                  max_tokens: int, use_tokenizer: bool) -> dict[str, Any]:
    from synth.records import user_messages
    from synth.tokens import TokenCounter

    counter = TokenCounter(use_case.base_model if use_tokenizer else "none:estimate", convert=use_tokenizer)
    system = use_case.contract.system_prompt
    prompts = []
    for k, record in enumerate(train):
        prompts.append((raw[k].get("prompt") if raw and isinstance(raw[k].get("prompt"), list) else None) or
                       user_messages(str(record.get("input", "")), system))
    lengths = counter.count_chats(prompts, [answer_text(r) for r in train])
    over = [k for k, n in enumerate(lengths) if n > max_tokens]
    return {"method": counter.method, "tokenizer": counter.source, "max_allowed": max_tokens,
            "mean": round(statistics.fmean(lengths), 1) if lengths else 0, "p50": _percentile(lengths, 0.5),
            "p95": _percentile(lengths, 0.95), "max": max(lengths) if lengths else 0, "over_max": len(over),
            "histogram": _histogram(lengths), "over_rows": over}


def _histogram(values: list[int], bins: int = 10) -> list[list[int]]:
    if not values:
        return []
    low, high = min(values), max(values)
    width = max(1, (high - low + bins) // bins)
    counts = Counter((v - low) // width for v in values)
    return [[low + b * width, counts.get(b, 0)] for b in range(bins)]


# --- the gate ---------------------------------------------------------------------------------------

def load_report(session_dir: str | Path) -> QualityReport | None:
    path = Path(session_dir) / QUALITY
    if not path.exists():
        return None
    try:
        return QualityReport.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError:
        return None


def save_report(session_dir: str | Path, report: QualityReport) -> Path:
    return atomic_write_text(Path(session_dir) / QUALITY, report.model_dump_json(indent=2))


def blocking_findings(session_dir: str | Path) -> list[Finding]:
    """High-severity findings that block training: unwaived ones, or a missing/stale report."""
    session_dir = Path(session_dir)
    report = load_report(session_dir)
    if report is None:
        return [Finding(code="no_quality_report", severity="high",
                        message="there is no quality report (data/quality.json); generate and score the data first.")]
    found = report.blocking()
    if report.data_hash and report.data_hash != current_hash(session_dir):
        found.append(Finding(code="stale_quality_report", severity="high",
                             message="train.jsonl or eval.jsonl changed after the quality report; score the data again."))
    return found


def waive(session_dir: str | Path, codes: list[str], comment: str) -> list[Finding]:
    """Record the person's waiver of findings (by code) in quality.json; returns the waived findings."""
    report = load_report(session_dir)
    if report is None:
        raise ValueError("there is no quality report to waive findings in")
    known = {f.code for f in report.findings}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValueError(f"no finding(s) {unknown} in the report; findings: {', '.join(sorted(known)) or 'none'}")
    waived = []
    for finding in report.findings:
        if finding.code in codes:
            finding.waived, finding.waiver_comment = True, comment or "waived by the person"
            waived.append(finding)
    save_report(session_dir, report)
    return waived


def summary(report: QualityReport) -> str:
    """A short plain-text view of the report (what the chat shows; the TUI draws charts from metrics)."""
    m = report.metrics
    lines = [f"Usable records: {report.train_records} train, {report.eval_records} eval."]
    sources = m.get("sources") or {}
    if sources:
        lines.append("From: " + "; ".join(f"{split} " + ", ".join(f"{SOURCE_WORDS.get(k, k)} {v}" for k, v in counts.items())
                                          for split, counts in sources.items() if counts) + ".")
    if report.dropped:
        lines.append("Dropped by verification: " + ", ".join(f"{k} {v}" for k, v in report.dropped.items()))
    d = m.get("duplicates", {})
    lines.append(f"Duplicates: {d.get('exact', 0)} exact, {d.get('near', 0)} near ({d.get('rate', 0):.1%}).")
    dist = m.get("distinct", {})
    emb = m.get("embedding", {})
    spread = f", embedding spread {emb['spread']}" if "spread" in emb else ""
    lines.append(f"Diversity: distinct-1 {dist.get('distinct_1')}, distinct-2 {dist.get('distinct_2')}{spread}.")
    t = m.get("tokens", {})
    lines.append(f"Tokens per record ({t.get('method', '?')}): p50 {t.get('p50')}, p95 {t.get('p95')}, max {t.get('max')}"
                 f" (limit {t.get('max_allowed')}, {t.get('over_max', 0)} over).")
    if "labels" in m:
        lines.append("Labels: " + ", ".join(f"{k} {v}" for k, v in m["labels"]["counts"].items()) +
                     f" (imbalance {m['labels']['imbalance']}:1).")
    lines.append(f"Train/eval overlap: {m.get('overlap', {}).get('eval_records_overlapping', 0)} eval records.")
    if report.findings:
        lines.append("Findings:")
        for f in report.findings:
            flag = " (waived)" if f.waived else ""
            lines.append(f"- [{f.severity}] {f.code}: {f.message}{flag}")
    else:
        lines.append("No findings.")
    return "\n".join(lines)
