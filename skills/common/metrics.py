"""Code metrics: each scores one answer against its reference, from 0 (bad) to 1 (good).

Pure Python, no heavy imports: the tools, the job and the tests all use it. A metric returns
``None`` when it cannot score an example (no reference to compare with), so the report counts
only examples that were really scored.
"""

from __future__ import annotations

import json
import math
import re
import string
from pathlib import Path
from typing import Any, Callable, Iterable

from synth.answers import final_number

Score = float | None

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.IGNORECASE)


def normalize(text: str) -> str:
    """Lowercase, drop punctuation, articles and extra spaces (SQuAD-style normalization)."""
    text = (text or "").lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    return normalize(text).split()


def exact_match(output: str, reference: str | None, params: dict[str, Any] | None = None) -> Score:
    """1 when the answer equals the reference after normalization (``normalize: false`` compares raw, stripped;
    ``json: true`` compares the parsed JSON values)."""
    if reference is None:
        return None
    params = params or {}
    if params.get("json"):
        ok, got = parse_json(output)
        ok_ref, expected = parse_json(reference)
        if ok_ref:
            return float(ok and got == expected)
    if params.get("normalize", True):
        return float(normalize(output) == normalize(reference))
    return float((output or "").strip() == reference.strip())


def f1(output: str, reference: str | None, params: dict[str, Any] | None = None) -> Score:
    """Token-overlap F1 between the answer and the reference."""
    if reference is None:
        return None
    out, ref = tokens(output), tokens(reference)
    if not out and not ref:
        return 1.0
    if not out or not ref:
        return 0.0
    counts: dict[str, int] = {}
    for tok in ref:
        counts[tok] = counts.get(tok, 0) + 1
    common = 0
    for tok in out:
        if counts.get(tok, 0) > 0:
            common += 1
            counts[tok] -= 1
    if common == 0:
        return 0.0
    precision, recall = common / len(out), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def _lcs_length(a: list[str], b: list[str]) -> int:
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(output: str, reference: str | None, params: dict[str, Any] | None = None) -> Score:
    """ROUGE-L F-measure: longest common token subsequence of answer and reference."""
    if reference is None:
        return None
    out, ref = tokens(output), tokens(reference)
    if not out and not ref:
        return 1.0
    lcs = _lcs_length(out, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(out), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def regex(output: str, reference: str | None, params: dict[str, Any] | None = None) -> Score:
    """1 when the whole answer (stripped) matches ``pattern`` (``search: true`` accepts a match anywhere)."""
    params = params or {}
    pattern = params.get("pattern")
    if not pattern:
        raise ValueError("the regex metric needs a `pattern` parameter")
    flags = re.IGNORECASE if params.get("ignore_case") else 0
    text = (output or "").strip()
    found = re.search(pattern, text, flags) if params.get("search") else re.fullmatch(pattern, text, flags | re.DOTALL)
    return float(found is not None)


def parse_json(text: str) -> tuple[bool, Any]:
    """Parse an answer as JSON, tolerating a ```json fence around it."""
    body = (text or "").strip()
    fence = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", body, re.DOTALL)
    if fence:
        body = fence.group(1)
    try:
        return True, json.loads(body)
    except (ValueError, TypeError):
        return False, None


def json_valid(output: str, reference: str | None, params: dict[str, Any] | None = None) -> Score:
    """1 when the answer parses as JSON."""
    return float(parse_json(output)[0])


def json_schema(output: str, reference: str | None, params: dict[str, Any] | None = None) -> Score:
    """1 when the answer parses as JSON and is valid against ``schema``."""
    import jsonschema

    params = params or {}
    schema = params.get("schema")
    if not isinstance(schema, dict):
        raise ValueError("the json_schema metric needs a `schema` parameter (a JSON Schema object)")
    ok, value = parse_json(output)
    if not ok:
        return 0.0
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError:
        return 0.0
    return 1.0


def extract_label(output: str, labels: Iterable[str] | None) -> str | None:
    """The label an answer names: the whole answer if it is one, else the first label found in it."""
    text = (output or "").strip().strip(".\"'` ")
    options = list(labels or [])
    if not options:
        return text or None
    lowered = {label.lower(): label for label in options}
    if text.lower() in lowered:
        return lowered[text.lower()]
    best: tuple[int, int, str] | None = None
    for label in options:
        match = re.search(r"(?<!\w)" + re.escape(label) + r"(?!\w)", text, re.IGNORECASE)
        if match:
            key = (match.start(), -len(label), label)
            best = key if best is None or key < best else best
    return best[2] if best else None


def label_match(output: str, reference: str | None, params: dict[str, Any] | None = None) -> Score:
    """1 when the label named in the answer equals the reference label (``strict: true``: the answer must be only the label)."""
    if reference is None:
        return None
    params = params or {}
    if params.get("strict"):
        return float((output or "").strip().lower() == reference.strip().lower())
    found = extract_label(output, params.get("labels"))
    return float(found is not None and found.strip().lower() == reference.strip().lower())


def accuracy(output: str, reference: str | None, params: dict[str, Any] | None = None) -> Score:
    """Share of answers that are right: label match when labels are given, else normalized exact match."""
    if (params or {}).get("labels"):
        return label_match(output, reference, params)
    return exact_match(output, reference, params)


def numeric_tolerance(output: str, reference: str | None, params: dict[str, Any] | None = None) -> Score:
    """1 when the answer's number is within ``tolerance`` (absolute) or ``relative`` (share) of the reference's.

    Both are read by synth.answers.final_number (the `Answer:` line, else the last number), as the reward reads them."""
    if reference is None:
        return None
    params = params or {}
    expected = final_number(reference)
    if expected is None:
        return None
    got = final_number(output)
    if got is None or math.isnan(got):
        return 0.0
    tolerance = float(params.get("tolerance", 1e-6))
    relative = params.get("relative")
    allowed = max(tolerance, abs(expected) * float(relative)) if relative is not None else tolerance
    return float(abs(got - expected) <= allowed)


def length_bounds(output: str, reference: str | None, params: dict[str, Any] | None = None) -> Score:
    """1 when the answer's length in characters is within ``min_chars`` .. ``max_chars`` (words with ``min_words``/``max_words``)."""
    params = params or {}
    text = (output or "").strip()
    chars, words = len(text), len(text.split())
    checks = [
        ("min_chars", chars, lambda v, b: v >= b), ("max_chars", chars, lambda v, b: v <= b),
        ("min_words", words, lambda v, b: v >= b), ("max_words", words, lambda v, b: v <= b),
    ]
    if not any(params.get(name) is not None for name, _, _ in checks):
        raise ValueError("the length_bounds metric needs `max_chars`, `min_chars`, `max_words` or `min_words`")
    return float(all(ok(value, params[name]) for name, value, ok in checks if params.get(name) is not None))


def _sql_body(text: str) -> str:
    body = (text or "").strip()
    fence = re.fullmatch(r"```(?:sql)?\s*(.*?)\s*```", body, re.DOTALL | re.IGNORECASE)
    return (fence.group(1) if fence else body).strip()


def _sql_rows(db: Any, sql: str) -> list | None:
    import sqlite3

    try:
        return sorted(map(repr, db.execute(sql).fetchall()))
    except (sqlite3.Error, ValueError):
        return None


def sql_valid(output: str, reference: str | None, params: dict[str, Any] | None = None) -> Score:
    """1 when the answer is one SQL statement that SQLite parses. With ``schema`` (DDL, optionally with
    INSERTs) it must also run on that database; with ``compare_results: true`` and a reference, its rows
    must equal the reference query's rows."""
    import sqlite3

    params = params or {}
    sql = _sql_body(output)
    if not sql:
        return 0.0
    db = sqlite3.connect(":memory:")
    try:
        if params.get("schema"):
            db.executescript(str(params["schema"]))
        try:
            db.execute("EXPLAIN " + sql)
        except sqlite3.Warning:  # more than one statement
            return 0.0
        except sqlite3.Error as exc:
            unknown_name = re.match(r"no such (table|column|function)", str(exc))
            return float(bool(unknown_name) and not params.get("schema"))
        if params.get("compare_results") and params.get("schema") and reference is not None:
            expected = _sql_rows(db, _sql_body(reference))
            return float(expected is not None and _sql_rows(db, sql) == expected)
        return 1.0
    finally:
        db.close()


CODE_METRICS: dict[str, Callable[[str, str | None, dict[str, Any] | None], Score]] = {
    "exact_match": exact_match,
    "f1": f1,
    "rouge_l": rouge_l,
    "regex": regex,
    "json_valid": json_valid,
    "json_schema": json_schema,
    "label_match": label_match,
    "accuracy": accuracy,
    "numeric_tolerance": numeric_tolerance,
    "length_bounds": length_bounds,
    "sql_valid": sql_valid,
}
"""Every built-in code metric by name (``custom`` runs a scorer file in the sandbox instead)."""

NEEDS_REFERENCE = {"exact_match", "f1", "rouge_l", "label_match", "accuracy", "numeric_tolerance"}
"""Metrics that compare with a reference answer (examples without one are skipped)."""


def score(metric: str, output: str, reference: str | None, params: dict[str, Any] | None = None) -> Score:
    """Score one answer with a built-in code metric."""
    try:
        fn = CODE_METRICS[metric]
    except KeyError:
        raise ValueError(f"unknown code metric {metric!r}; known: {', '.join(sorted(CODE_METRICS))}, custom") from None
    return fn(output, reference, params)


CUSTOM_WRAPPER = '''
_scorer = {{"__name__": "tunesmith_scorer"}}
with open("scorer.py", encoding="utf-8") as _file:
    exec(compile(_file.read(), "scorer.py", "exec"), _scorer)

def tunesmith_score_all(items):
    fn = _scorer[{function!r}]
    out = []
    for item in items:
        value = fn(item["prompt"], item["output"], item.get("reference"))
        out.append(None if value is None else float(value))
    return out
'''


def score_custom(scorer_path: str, items: list[dict[str, Any]], *, function: str = "score",
                 timeout_s: float = 60, memory_mb: int = 1024, session_dir: str | None = None) -> list[Score]:
    """Run a person's scorer file in the sandbox on many answers at once.

    The file defines ``score(prompt, output, reference) -> float`` (0-1, or None to skip).
    ``items`` are dicts with ``prompt``, ``output`` and ``reference``. The scorer runs in a folder of
    its own holding a copy of itself (``scorer.py``) and of what it scores (``items.jsonl``), never
    in the session folder.
    """
    import tempfile

    from synth.sandbox import run_python, unconfined_approved

    try:
        scorer_text = Path(scorer_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuntimeError(f"custom scorer {scorer_path} cannot be read: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="tunesmith-scorer-") as own:
        Path(own, "scorer.py").write_text(scorer_text, encoding="utf-8")
        Path(own, "items.jsonl").write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items),
                                            encoding="utf-8")
        source = CUSTOM_WRAPPER.format(function=function)
        result = run_python(source, "tunesmith_score_all", items, timeout_s=timeout_s, memory_mb=memory_mb, cwd=own,
                            allow_unconfined=unconfined_approved(session_dir))
    if not result.ok:
        detail = result.error or result.stderr or "no output"
        raise RuntimeError(f"custom scorer {scorer_path} failed: {str(detail).strip()[-500:]}")
    values = list(result.value or [])
    if len(values) != len(items):
        raise RuntimeError(f"custom scorer {scorer_path} returned {len(values)} scores for {len(items)} answers")
    return [None if v is None else max(0.0, min(1.0, float(v))) for v in values]
