"""The person's own data: read it, propose a column mapping and a format, validate, dedupe, split.

``read_table(path)`` reads JSONL/JSON, CSV/TSV, parquet, or a folder saved with datasets'
``save_to_disk``. ``propose(rows)`` looks at the column names and contents and returns the
detected format (text + label, input + JSON output, prompt + reference answer, chosen/rejected
pairs, conversations) and the mapping it suggests; the person confirms or changes it.
``prepare(rows, mapping, check, ...)`` maps the rows, drops (and reports by file line) the rows
that break the contract and the duplicates, and holds out a stratified eval split that is never
trained on (or takes the person's own eval file). Every row keeps ``meta.source = "person"``.
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from synth.records import read_jsonl
from synth.split import NEAR, NGRAM, stratified_split

IMPORTED = "data/imported.jsonl"
"""The person's rows that join training (verified like generated ones)."""
IMPORTED_EVAL = "data/imported_eval.jsonl"
"""The person's held-out rows: the eval split, never trained on."""
PROPOSAL = "data/import_proposal.json"
"""The last inspected file, its detected format and proposed mapping (what the guide offers to import)."""
ROW_FIELDS = ("input", "output", "chosen", "rejected", "reference", "messages")

DataKind = Literal["text_label", "input_json", "prompt_reference", "preference_pairs", "conversations", "input_output",
                   "unknown"]
KIND_WORDS = {
    "text_label": "text + label (classification)",
    "input_json": "input + JSON output (extraction)",
    "prompt_reference": "prompt + reference answer (checkable)",
    "preference_pairs": "prompt + chosen/rejected answers (preference pairs)",
    "conversations": "conversations (chat turns)",
    "input_output": "input + free-text answer",
    "unknown": "not recognized",
}
DATA_FORMAT = {"preference_pairs": "preference"}
"""The data_generation.yaml format a kind trains in (sft for every other kind)."""

NAMES = {
    "input": ["input", "text", "prompt", "question", "query", "description", "memo", "transaction", "instruction",
              "email", "message", "review", "comment", "sentence", "document", "body", "content", "source", "clause"],
    "output": ["output", "label", "category", "class", "intent", "target", "completion", "response", "answer",
               "summary", "rewrite", "json", "fields", "sql", "grade", "score", "topic", "queue", "tags"],
    "chosen": ["chosen", "preferred", "better", "good", "human", "winner"],
    "rejected": ["rejected", "dispreferred", "worse", "bad", "ai", "loser"],
    "reference": ["reference", "solution", "gold", "expected", "ground_truth"],
    "messages": ["messages", "conversation", "conversations", "dialog", "dialogue", "turns", "chat"],
}


class DataFileError(ValueError):
    """The data cannot be read or mapped; the message names the file, the line or the column."""


# --- reading -----------------------------------------------------------------------------------------

def read_table(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Rows of a JSONL/JSON, CSV/TSV, parquet file, or a folder saved with datasets' save_to_disk."""
    path = Path(path)
    if path.is_dir():
        import datasets  # a saved Hugging Face dataset folder

        try:
            loaded = datasets.load_from_disk(str(path))
        except (FileNotFoundError, ValueError) as exc:
            raise DataFileError(f"{path}: not a folder saved with datasets' save_to_disk ({exc})") from exc
        if isinstance(loaded, datasets.DatasetDict):
            loaded = loaded["train"] if "train" in loaded else loaded[next(iter(loaded))]
        count = len(loaded) if limit is None else min(limit, len(loaded))
        return [dict(loaded[k]) for k in range(count)]
    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson"):
            rows = _jsonl(path)
        elif suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            rows = data if isinstance(data, list) else data.get("data", [])
        elif suffix in (".csv", ".tsv"):
            with path.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle, delimiter="\t" if suffix == ".tsv" else ","))
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            rows = pq.read_table(path).to_pylist()
        else:
            raise DataFileError(f"{path.name}: unsupported file type; use .jsonl, .json, .csv, .tsv, .parquet or a "
                               "saved dataset folder")
    except (UnicodeDecodeError, json.JSONDecodeError, csv.Error) as exc:
        raise DataFileError(f"{path.name}: cannot be read as {suffix[1:]}: {exc}") from exc
    rows = [r for r in rows if isinstance(r, dict)]
    return rows[:limit] if limit is not None else rows


def _jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataFileError(f"{path.name}, line {number}: not a JSON object ({exc.msg})") from exc
        if not isinstance(value, dict):
            raise DataFileError(f"{path.name}, line {number}: a row must be a JSON object, not {type(value).__name__}")
        rows.append(value)
    return rows


def columns(rows: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows[:200]:
        for key in row:
            seen.setdefault(str(key), None)
    return list(seen)


# --- proposing a mapping and a format ---------------------------------------------------------------------

def _is_conversation(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(m, dict) and "content" in m for m in value)


def _json_object(value: Any) -> bool:
    if isinstance(value, dict):
        return True
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            return isinstance(json.loads(value), dict)
        except json.JSONDecodeError:
            return False
    return False


def _by_name(cols: list[str], field_name: str, taken: set[str]) -> str | None:
    lowered = {c.lower().replace("-", "_").replace(" ", "_"): c for c in cols if c not in taken}
    for option in NAMES[field_name]:
        if option in lowered:
            return lowered[option]
    for option in NAMES[field_name]:  # a name that contains the word: "memo_text", "human_reply"
        for key, col in lowered.items():
            if option in key.split("_"):
                return col
    return None


@dataclass
class Proposal:
    kind: DataKind
    mapping: dict[str, str]
    reasons: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    """For text + label data: the distinct labels, as written in the data (most frequent first)."""

    @property
    def words(self) -> str:
        return KIND_WORDS[self.kind]

    @property
    def data_format(self) -> str:
        return DATA_FORMAT.get(self.kind, "sft")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "format": self.data_format, "mapping": self.mapping, "reasons": self.reasons,
                "labels": self.labels}


def propose(rows: list[dict[str, Any]]) -> Proposal:
    """The format the rows look like and the mapping that fits it, from column names and contents."""
    cols = columns(rows)
    sample = rows[:500]
    taken: set[str] = set()
    conv = next((c for c in cols if sum(_is_conversation(r.get(c)) for r in sample) > len(sample) / 2), None)
    if conv is not None:
        return Proposal("conversations", {"messages": conv}, [f"`{conv}` holds lists of chat turns"])
    mapping: dict[str, str] = {}
    chosen, rejected = _by_name(cols, "chosen", taken), None
    if chosen:
        rejected = _by_name(cols, "rejected", {chosen})
    if chosen and rejected:
        taken |= {chosen, rejected}
        source = _by_name(cols, "input", taken)
        mapping = {"input": source, "chosen": chosen, "rejected": rejected} if source else {"chosen": chosen,
                                                                                               "rejected": rejected}
        return Proposal("preference_pairs", mapping, [f"`{chosen}` and `{rejected}` hold a better and a worse answer"])
    source = _by_name(cols, "input", taken)
    if source is None:  # the longest text column is the input
        lengths = {c: sum(len(str(r.get(c) or "")) for r in sample) for c in cols}
        source = max(lengths, key=lengths.get) if lengths else None
    if source is None:
        return Proposal("unknown", {}, ["no column looks like the input"])
    taken.add(source)
    mapping["input"] = source
    reference = _by_name(cols, "reference", taken)
    answer = _by_name(cols, "output", taken)
    if answer is None:
        others = [c for c in cols if c not in taken and any(str(r.get(c) or "").strip() for r in sample)]
        answer = others[0] if len(others) == 1 else None
    if answer is None and reference is None:
        return Proposal("unknown", mapping, [f"`{source}` is the input; no column looks like the answer"])
    if answer is None:
        mapping["reference"] = reference
        return Proposal("prompt_reference", mapping, [f"`{reference}` holds reference answers"])
    mapping["output"] = answer
    values = [r.get(answer) for r in sample if r.get(answer) not in (None, "")]
    if values and sum(_json_object(v) for v in values) > len(values) * 0.8:
        return Proposal("input_json", mapping, [f"`{answer}` holds JSON objects"])
    texts = [str(v).strip() for v in values]
    counts = Counter(texts)
    if texts and len(counts) <= max(2, min(50, len(texts) // 3)) and max(len(t) for t in texts) <= 40:
        labels = [label for label, _ in counts.most_common()]
        return Proposal("text_label", mapping, [f"`{answer}` holds {len(counts)} distinct short labels"], labels)
    numeric = sum(_is_number(t) for t in texts)
    if texts and (reference is not None or numeric > len(texts) * 0.8):
        if reference is not None:
            mapping["reference"] = reference
        why = f"`{answer}` holds numeric answers a program can check" if numeric > len(texts) * 0.8 else \
            f"`{reference}` holds reference answers"
        return Proposal("prompt_reference", mapping, [why])
    return Proposal("input_output", mapping, [f"`{answer}` holds free-text answers"])


def _is_number(text: str) -> bool:
    """A number, or an answer ending with an `Answer: <number>` line: a program can check it."""
    from synth.answers import ANSWER_LINE, final_number

    try:
        float(text.replace(",", "").strip())
        return True
    except ValueError:
        return bool(ANSWER_LINE.search(text)) and final_number(text) is not None


def numeric_answer(record: dict[str, Any], answer_line: bool, pattern: str | None) -> dict[str, Any]:
    """A math row with its answer in the contract's form. With ``answer_line`` (the contract asks for a final
    `Answer: <number>` line) an answer without that line gets it, the number read as the metric reads it (the
    last number); a number-only contract whose ``pattern`` the answer breaks gets that number alone. An answer
    with no number is left as it is (verification says so)."""
    import re

    from synth.answers import ANSWER_LINE, NUMBER

    answer = str(record.get("output") or "").strip()
    lines = ANSWER_LINE.findall(answer)
    numbers = NUMBER.findall(lines[-1]) if lines else []
    token = numbers[0] if numbers else (NUMBER.findall(answer) or [None])[-1]
    if token is None:
        return record
    if answer_line and not lines:
        answer = (answer + "\n" if answer != token else "") + f"Answer: {token}"
    elif not answer_line and pattern and not re.fullmatch(pattern, answer) and re.fullmatch(pattern, token):
        answer = token
    return {**record, "output": answer}


# --- mapping, validating, deduplicating, splitting ----------------------------------------------------------

def _flatten(turns: list[dict[str, Any]]) -> tuple[str, str] | None:
    """A conversation as (input: the turns before the last answer, output: the last answer)."""
    last = max((k for k, m in enumerate(turns) if m.get("role") in ("assistant", "gpt", "bot")), default=None)
    if last is None or last == 0:
        return None
    before = [m for m in turns[:last] if m.get("role") != "system"]
    if len(before) == 1:
        return str(before[0].get("content", "")), str(turns[last].get("content", ""))
    text = "\n".join(f"{'User' if m.get('role') in ('user', 'human') else 'Assistant'}: {m.get('content', '')}"
                     for m in before)
    return text, str(turns[last].get("content", ""))


def map_rows(rows: list[dict[str, Any]], mapping: dict[str, str], name: str = "the data") -> list[dict[str, Any]]:
    """Flat records ``{input, output?, chosen?, rejected?, reference?, meta}`` with ``meta.line`` (1-based row)."""
    bad = sorted(set(mapping) - set(ROW_FIELDS))
    if bad:
        raise DataFileError(f"cannot map to {bad}; map columns to {', '.join(ROW_FIELDS)}")
    if "input" not in mapping and "messages" not in mapping:
        raise DataFileError("the column mapping needs an `input` column (or `messages` for conversations)")
    cols = set(columns(rows))
    missing = [c for c in mapping.values() if c not in cols]
    if missing:
        raise DataFileError(f"column(s) {missing} not in {name}; its columns are: {', '.join(sorted(cols))}")
    out = []
    for number, row in enumerate(rows, start=1):
        if "messages" in mapping:
            turns = row.get(mapping["messages"])
            pair = _flatten(turns) if _is_conversation(turns) else None
            mapped: dict[str, Any] = {"input": pair[0], "output": pair[1]} if pair else {"input": ""}
        else:
            mapped = {key: row.get(col) for key, col in mapping.items()}
        for key, value in list(mapped.items()):
            if isinstance(value, (dict, list)):
                mapped[key] = json.dumps(value, ensure_ascii=False)
            elif value is not None:
                mapped[key] = str(value).strip()
        if "chosen" in mapped and "output" not in mapped:
            mapped["output"] = mapped["chosen"]
        if "reference" in mapped and "output" not in mapped:
            mapped["output"] = mapped["reference"]
        mapped = {k: v for k, v in mapped.items() if v not in (None, "")}
        mapped["meta"] = {"source": "person", "line": str(number)}
        out.append(mapped)
    return out


@dataclass
class Prepared:
    train: list[dict[str, Any]]
    eval: list[dict[str, Any]]
    problems: list[str]
    """Per dropped row: `line N: reason` (the first 20 are shown to the person)."""
    dropped: dict[str, int]
    eval_from: str
    """`split` (held out here, stratified) or `file` (the person's eval file)."""

    def text(self, name: str) -> str:
        lines = [f"{len(self.train)} rows for training and {len(self.eval)} held out for evaluation "
                 f"({'your eval file' if self.eval_from == 'file' else 'a stratified split, never trained on'})."]
        if self.dropped:
            lines.append("Left out: " + ", ".join(f"{reason} ({count})" for reason, count in self.dropped.items()) + ".")
            lines += [f"  {name}, {p}" for p in self.problems[:20]]
        return "\n".join(lines)


def _key(record: dict[str, Any]) -> str:
    return " ".join(str(record.get("input", "")).lower().split())


def _answer(record: dict[str, Any]) -> str:
    return " ".join(str(record.get("output", record.get("chosen", ""))).lower().split())


def clean(records: list[dict[str, Any]], check: Callable[[dict[str, Any]], str | None],
          seen: set[str] | None = None, near: float = NEAR,
          near_of: list[dict[str, Any]] | None = None) -> tuple[list[dict[str, Any]], list[str], dict[str, int]]:
    """Records that pass ``check`` (the contract): the first copy of each input only, and no near copy (the
    quality report's measure: MinHash Jaccard >= ``near``) of an earlier row with the same answer. With
    ``near_of`` (the training rows, when these are the person's eval file), no near copy of any of those."""
    from synth.quality import NearCopyIndex

    seen = set() if seen is None else seen
    kept, problems, dropped = [], [], Counter()
    lines: dict[str, list[str]] = defaultdict(list)
    indexes: dict[str, NearCopyIndex] = defaultdict(lambda: NearCopyIndex(near))
    train_index = NearCopyIndex(near)
    for row in near_of or []:
        train_index.add(str(row.get("input", "")))
    for record in records:
        line = record["meta"].get("line", "?")
        text = str(record.get("input", ""))
        reason = "empty input" if not text.strip() else check(record)
        if reason is None and _key(record) in seen:
            reason = "duplicate input"
        copy = None
        if reason is None and near_of is not None:
            copy = train_index.copy_of(text)
            reason = None if copy is None else "near copy of a training row"
        if reason is None and near_of is None:
            copy = indexes[_answer(record)].copy_of(text)
            reason = None if copy is None else "near copy of an earlier row with the same answer"
        if reason is not None:
            dropped[reason] += 1
            where = f" (line {lines[_answer(record)][copy]})" if near_of is None and copy is not None else ""
            problems.append(f"line {line}: {reason}{where}")
            continue
        seen.add(_key(record))
        indexes[_answer(record)].add(text)
        lines[_answer(record)].append(line)
        kept.append(record)
    return kept, problems, dict(dropped)


def prepare(rows: list[dict[str, Any]], mapping: dict[str, str], check: Callable[[dict[str, Any]], str | None], *,
            by_label: bool, eval_rows: list[dict[str, Any]] | None = None, eval_share: float = 0.2,
            seed: int = 0, near: float = NEAR, ngram: int = NGRAM,
            normalize: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> Prepared:
    """Map, validate, dedupe and split the person's rows (their eval file, when given, is the eval split).
    ``normalize`` puts a mapped row's answer in the contract's form before it is checked."""
    mapped = map_rows(rows, mapping)
    if normalize is not None:
        mapped = [normalize(r) for r in mapped]
    kept, problems, dropped = clean(mapped, check, near=near)
    if eval_rows is not None:
        seen = {_key(r) for r in kept}
        evals = map_rows(eval_rows, mapping, "the eval file")
        if normalize is not None:
            evals = [normalize(r) for r in evals]
        held, eval_problems, eval_dropped = clean(evals, check, seen, near=near, near_of=kept)
        problems += [f"eval file {p}" for p in eval_problems]
        for reason, count in eval_dropped.items():
            dropped[f"eval: {reason}"] = dropped.get(f"eval: {reason}", 0) + count
        return Prepared(kept, held, problems, dropped, "file")
    split = stratified_split(kept, eval_share, by_label, seed, n=ngram, threshold=near)
    train, held = split.train, split.eval
    if split.aside:
        reason = "set aside: shares a phrase with a held-out row (neither trained on nor evaluated)"
        dropped[reason] = len(split.aside)
        problems += [f"line {r['meta'].get('line', '?')}: {reason}" for r in split.aside]
    for record in held:
        record["meta"]["split"] = "eval"
    return Prepared(train, held, problems, dropped, "split")


def sample(rows: list[dict[str, Any]], n: int, seed: int = 0) -> list[dict[str, Any]]:
    if len(rows) <= n:
        return list(rows)
    return random.Random(seed).sample(rows, n)


def load_imported(session_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The person's imported (train, eval) rows of a session."""
    return read_jsonl(Path(session_dir) / IMPORTED), read_jsonl(Path(session_dir) / IMPORTED_EVAL)
