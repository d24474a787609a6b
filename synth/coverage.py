"""Axis coverage measured on the content: does each diversity axis value change what its records say?

``content_coverage(train, spec, labels)`` backs the quality report's ``axis_gap`` findings: a label axis
counts answers, a numeric axis (`under 20`, `20 to 200`, `over 200`) reads the magnitudes the inputs
state, and any other axis compares the words, token shapes and lengths of each value's records.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from specs.data_generation import DataGenerationSpec
from synth.records import answer_text


def words(text: str) -> list[str]:
    """The lower-cased words of a text (what distinct-n, the n-gram overlap and coverage count)."""
    return re.findall(r"\w+", text.lower())


REALIZED_GAP = 0.3
"""A value's records must differ from the other values' in how often some word occurs by at least this share."""


def _features(text: str) -> set[str]:
    """What a text says and how it is written: its words (numbers aside) and the shapes of its tokens
    (`Aa`, `A`, `0-0-0`, `·`), so a change of case, layout or punctuation counts as much as new words."""
    found = {w for w in words(text) if not w.isdigit()}
    shapes = {"shape:" + re.sub(r"(.)\1+", r"\1", re.sub(r"[A-Z]", "A", re.sub(r"[a-z]", "a", re.sub(r"\d", "0", tok))))
              for tok in text.split()}
    return found | shapes | {f"length:{len(text.split()) // 6}"}


def _word_shares(texts: list[str]) -> dict[str, float]:
    counts: Counter = Counter()
    for text in texts:
        counts.update(_features(text))
    return {w: c / max(1, len(texts)) for w, c in counts.items()}


_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_NOT_QUANTITY = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2}:\d{2}(?::\d{2})?|"
                           rf"\b\d{{1,2}}\s+{_MONTHS}(?![a-z])|\b{_MONTHS}\s+\d{{1,2}}\b", re.IGNORECASE)
"""Dates and times: numbers, but no magnitudes."""
_QUANTITY = re.compile(r"(?<![\w#.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![A-Za-z]*\d)|(?<![\w#.])\d+(?:\.\d+)?(?![A-Za-z]*\d)")
"""A number standing for an amount: not part of an identifier (`TR2082`, `#1234`, `1Z99`)."""


def quantity_spans(text: str) -> list[tuple[int, int]]:
    """Where the text states a magnitude (an amount, a count, a measure): (start, end) of each number that is no
    date, time or part of an identifier (`CO2`, `TR2082`, `#1234`)."""
    blanked = _NOT_QUANTITY.sub(lambda m: " " * len(m.group(0)), text)
    return [m.span() for m in _QUANTITY.finditer(blanked)]


def quantities(text: str) -> list[float]:
    """The magnitudes a text states (amounts, counts, measures), dates, times and identifiers aside."""
    return [float(text[a:b].replace(",", "")) for a, b in quantity_spans(text)]


def value_range(value: str) -> tuple[float, float] | None:
    """The range of numbers an axis value names (`under 20`, `20 to 200`, `over 200`, `5-10 items`), or None."""
    text = value.lower().replace(",", "")
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)]
    if len(numbers) == 2 and re.search(r"\d\s*(?:to|-|–|and)\s*(?:[^\d\s]\s*)?\d", text):
        return min(numbers), max(numbers)
    if len(numbers) == 1:
        if re.search(r"\b(?:under|below|less|fewer|up to|at most|smaller)\b", text):
            return float("-inf"), numbers[0]
        if re.search(r"\b(?:over|above|more|greater|at least|larger|bigger)\b", text) or text.rstrip().endswith("+"):
            return numbers[0], float("inf")
    return None


def _in_range(text: str, span: tuple[float, float]) -> bool:
    return any(span[0] <= n <= span[1] for n in quantities(text))


def _number_gaps(texts: dict[str, list[str]], spans: dict[str, tuple[float, float]]) -> dict[str, float]:
    """For a numeric axis: how much more often a value's records state a number in its range than every other
    value's records do (values with under 5 records are not judged)."""
    judged = [v for v, group in texts.items() if len(group) >= 5]
    shares = {(v, u): sum(_in_range(t, spans[v]) for t in texts[u]) / len(texts[u]) for v in judged for u in judged}
    return {v: round(min(shares[(v, v)] - shares[(v, u)] for u in judged if u != v), 3) for v in judged if len(judged) > 1}


def content_coverage(train: list[dict[str, Any]], spec: DataGenerationSpec, labels: list[str]) -> dict[str, Any]:
    """Per axis and value: records tagged with it (``counts``) and records whose content shows it
    (``content_counts``). A label axis counts answers. A numeric axis (every value names a range: `under 20`,
    `20 to 200`, `over 200`) counts a value's records when they state a number in its range at least 30 points
    more often than each other value's records. Any other value counts its records only when their words,
    token shapes or lengths differ from each other value's records (some feature at least 30 points more or
    less frequent), so a value that changed nothing covers nothing; with under 5 records it is not judged."""
    out: dict[str, Any] = {}
    for axis in spec.diversity_axes:
        values = [v.value for v in axis.values]
        tagged = Counter(str((r.get("meta") or {}).get(axis.name)) for r in train)
        counts = {v: tagged.get(v, 0) for v in values}
        gaps: dict[str, float] = {}
        spans = {v: value_range(v) for v in values}
        texts: dict[str, list[str]] = {v: [] for v in values}
        for record in train:
            value = str((record.get("meta") or {}).get(axis.name))
            if value in texts:
                texts[value].append(str(record.get("input", "")))
        if labels and set(values) <= set(labels):
            answers = Counter(answer_text(r).strip() for r in train)
            content = {v: answers.get(v, 0) for v in values}
        elif all(spans.values()):
            gaps = _number_gaps(texts, spans)  # type: ignore[arg-type]
            content = {v: len(own) if gaps.get(v, REALIZED_GAP) >= REALIZED_GAP else 0 for v, own in texts.items()}
            out[axis.name] = {"counts": counts, "content_counts": content, "measured_on": "numbers",
                              "covered": round(sum(1 for c in content.values() if c) / max(1, len(values)), 3),
                              "number_gap": gaps}
            continue
        else:
            content = {}
            shares = {v: _word_shares(group) for v, group in texts.items() if len(group) >= 5}
            for value, own in texts.items():
                others = [v for v in shares if v != value]
                if value not in shares or not others:
                    content[value] = len(own)  # too few records to judge
                    continue
                mine = shares[value]
                gaps[value] = round(min(max(abs(mine.get(w, 0.0) - shares[u].get(w, 0.0)) for w in set(mine) | set(shares[u]))
                                        for u in others), 3)  # it must differ from every other value
                content[value] = len(own) if gaps[value] >= REALIZED_GAP else 0
        out[axis.name] = {"counts": counts, "content_counts": content,
                          "covered": round(sum(1 for c in content.values() if c) / max(1, len(values)), 3)}
        if gaps:
            out[axis.name]["word_gap"] = gaps
    return out
