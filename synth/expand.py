"""Offline expansion of the person's examples: new records whose content really differs.

``expand_seed(spec, split, index, examples, labels)`` makes record ``index`` from the examples. It swaps
one part (a sentence; parts never cross a line, so the layout stays) for a part of another example in
the same role (`Question:`, `Student (...):`, a free sentence): for a label task (or any classification,
whose answer judges the whole input), from an example with the same answer that shares the base's
context (the parts seen with several labels, such as the question a student answers), so the label stays
right; for any other task, only a part the answer does not rest
on, so the answer stays right. Amounts and counts change (dates, times and identifiers such as `CO2`
stay); a number the answer repeats changes in the answer too, and a number that is a label answer stays.
Each sampled axis value changes the text the way it says (`formal` expands contractions and adds a
greeting, `casual` contracts and drops formalities, `terse` drops filler words, `upper`/`lower` change
case for label tasks only, where the answer does not quote the input). An axis value it cannot realize
leaves the text as it is, and the quality report's content coverage shows that.
"""

from __future__ import annotations

import random
import re
from typing import Any

from specs.data_generation import DataGenerationSpec

CONTRACTIONS = [("do not", "don't"), ("does not", "doesn't"), ("did not", "didn't"), ("cannot", "can't"),
                ("will not", "won't"), ("is not", "isn't"), ("are not", "aren't"), ("was not", "wasn't"),
                ("I am", "I'm"), ("it is", "it's"), ("we are", "we're"), ("you are", "you're"), ("I have", "I've"),
                ("that is", "that's"), ("I would", "I'd"), ("there is", "there's")]
GREETINGS = ["Hello,", "Good morning,", "Dear team,", "Hi there,"]
CLOSINGS = ["Thank you.", "Kind regards.", "Many thanks in advance."]
CASUAL_ENDS = ["thx", "cheers", "any help appreciated", "ty"]
FILLER = {"the", "a", "an", "please", "of", "to", "just", "really", "very", "that", "hello", "hi", "dear", "thanks",
          "thank", "you", "kindly", "regards"}
_SENTENCE = re.compile(r"(?<=[.!?])[ \t]+")


def sample_axes(spec: DataGenerationSpec, split: str, index: int) -> dict[str, str]:
    """The axis values of one record: drawn jointly, reproducibly from (seed, split, index)."""
    rng = random.Random(f"{spec.seed}:{split}:{index}:axes")
    return {a.name: rng.choices([v.value for v in a.values], [v.weight for v in a.values])[0]
            for a in spec.diversity_axes}


def _replace_phrases(text: str, pairs: list[tuple[str, str]]) -> str:
    for old, new in pairs:
        text = re.sub(r"(?<![\w'])" + re.escape(old) + r"(?![\w'])", new, text, flags=re.IGNORECASE)
    return text


def restyle(text: str, value: str, rng: random.Random, change_case: bool) -> str:
    """The text changed as the axis value says; unchanged when the value names no known style."""
    style = value.lower()
    if "formal" in style and "informal" not in style:
        body = _replace_phrases(text, [(b, a) for a, b in CONTRACTIONS])
        body = body[:1].upper() + body[1:]
        if not body.rstrip().endswith((".", "!", "?")):
            body = body.rstrip() + "."
        if len(body) > 25 and not body.lower().startswith(("hello", "dear", "good morning", "hi")):
            body = f"{rng.choice(GREETINGS)} {body} {rng.choice(CLOSINGS)}"
        return body
    if "casual" in style or "informal" in style:
        body = _replace_phrases(text, CONTRACTIONS)
        body = re.sub(r"^(?:hello|dear [\w ]+|good morning|hi there),?\s*", "", body, flags=re.IGNORECASE)
        body = re.sub(r"\s*(?:thank you|kind regards|many thanks[\w ]*)[.!]?\s*$", "", body, flags=re.IGNORECASE)
        body = body[:1].lower() + body[1:]
        return f"{body.rstrip('.')} {rng.choice(CASUAL_ENDS)}" if len(body) > 25 else body
    if "terse" in style or "short" in style:
        words = [w for w in text.split() if w.lower().strip(",.!?") not in FILLER]
        return " ".join(words) if words else text
    if change_case and ("upper" in style or "shout" in style):
        return text.upper()
    if change_case and "lower" in style:
        return text.lower()
    return text


ANSWER_KEYS = ("output", "chosen", "rejected", "reference")
_ROLE = re.compile(r"^([A-Za-z][\w ]{0,20}?)\s*(?:\([^)]*\))?:\s")
"""A part that opens with a field name (`Question:`, `Student (Kenji):`, `Reporter:`) plays that role."""
_CONTENT_WORD = re.compile(r"[a-z]{4,}")


def _parts(text: str) -> list[list[str]]:
    """The text's lines, each split into its sentences (the layout is kept: parts never cross a line)."""
    return [[p for p in _SENTENCE.split(line.strip()) if p] for line in text.split("\n")]


def _join(parts: list[list[str]]) -> str:
    return "\n".join(" ".join(line) for line in parts)


def _key(part: str) -> str:
    return " ".join(part.lower().split())


def _role(part: str) -> str | None:
    match = _ROLE.match(part)
    return match.group(1).lower() if match else None


class _Pool:
    """What the examples say, per part: which answers each part occurs with (for a label task, a part seen
    with several labels carries none: it is the context the label is judged in, like a question a student
    answers), and each example's parts."""

    def __init__(self, examples: list[dict[str, Any]]):
        self.examples = examples
        self.parts = [_parts(str(e.get("input", ""))) for e in examples]
        self.answers_of: dict[str, set[str]] = {}
        for example, parts in zip(examples, self.parts):
            for part in (p for line in parts for p in line):
                self.answers_of.setdefault(_key(part), set()).add(str(example.get("output", "")))

    def context(self, part: str) -> bool:
        return _role(part) is not None and len(self.answers_of.get(_key(part), ())) > 1


_POOLS: list[_Pool] = []


def _pool(examples: list[dict[str, Any]]) -> _Pool:
    """The examples' pool, built once per examples list (a generation expands hundreds of records from one)."""
    if not _POOLS or _POOLS[0].examples is not examples:
        _POOLS[:] = [_Pool(examples)]
    return _POOLS[0]


def _answer_free(part: str, answers: list[str]) -> bool:
    """No content word of the part is in the answer: the answer does not rest on what the part says."""
    said = " ".join(answers).lower()
    return not any(w in said for w in _CONTENT_WORD.findall(part.lower()))


def _recombine(base: int, pool: _Pool, label_task: bool, rng: random.Random) -> list[list[str]]:
    """The base example's parts with one part swapped for a part of another example in the same role (a
    field name, else the same place from the start or the end: an opening, a closing verdict).

    A label task swaps a part for one of an example with the same label that shares the base's context (its
    parts seen with several labels: a question, a reference answer), so the label stays right. Any other task
    swaps a part the answer does not rest on (no content word of it is in the answer) for such a part of
    another example, so the answer stays right; a part the answer draws on is never replaced."""
    example = pool.examples[base]
    parts = [list(line) for line in pool.parts[base]]
    answer = str(example.get("output", ""))
    answers = [str(example[k]) for k in ANSWER_KEYS if example.get(k) is not None]
    context = {_key(p) for line in parts for p in line if label_task and pool.context(p)}
    places = [(i, j) for i, line in enumerate(parts) for j in range(len(line))]
    slots = [n for n, (i, j) in enumerate(places)
             if _key(parts[i][j]) not in context and (label_task or _answer_free(parts[i][j], answers))]
    if not slots:
        return parts
    present = {_key(p) for line in parts for p in line}
    donors: list[tuple[str, int, int]] = []  # (part, place from the start, place from the end)
    for k, (other, other_parts) in enumerate(zip(pool.examples, pool.parts)):
        if k == base:
            continue
        flat = [p for line in other_parts for p in line]
        if label_task:
            if str(other.get("output", "")) != answer or not context <= {_key(p) for p in flat}:
                continue
            fits = [_key(p) not in context for p in flat]
        else:
            other_answers = [str(other[key]) for key in ANSWER_KEYS if other.get(key) is not None]
            fits = [_answer_free(p, other_answers) and _answer_free(p, answers) for p in flat]
        donors += [(p, n, len(flat) - 1 - n) for n, (p, ok) in enumerate(zip(flat, fits)) if ok]
    at = rng.choice(slots)
    i, j = places[at]
    role, alone = _role(parts[i][j]), len(places) == 1
    fitting = list(dict.fromkeys(
        p for p, start, end in donors
        if _role(p) == role and _key(p) not in present and len(p) > 3
        and (role is not None or alone or start == at or end == len(places) - 1 - at)))
    if not fitting:
        return parts
    if label_task and alone and role is None:  # one sentence: it gains one of the donor's
        parts[i].insert(rng.choice([0, len(parts[i])]), rng.choice(fitting))
    else:
        parts[i][j] = rng.choice(fitting)
    return parts


def _new_number(token: str, rng: random.Random) -> str:
    value = float(token.replace(",", ""))
    if "." in token:
        return f"{rng.uniform(0.5, 2) * value:.{len(token.split('.')[1])}f}"
    return str(max(1, int(value * rng.uniform(0.3, 3))))


def _renumber(text: str, answers: dict[str, str], label_task: bool, rng: random.Random) -> tuple[str, dict[str, str]]:
    """The amounts, counts and measures of the text changed (dates, times and identifiers such as `CO2` stay).
    For a label task a number that is the answer stays. For any other task a number the answer repeats is
    changed in the answer too, the same way, so the answer still says what the input does."""
    from synth.coverage import quantity_spans

    spans = quantity_spans(text)
    if not spans:
        return text, answers
    said = {k: {v[a:b] for a, b in quantity_spans(v)} for k, v in answers.items()}
    new: dict[str, str] = {}
    out, last = [], 0
    for a, b in spans:
        token = text[a:b]
        if label_task and token in answers.values():
            changed = token
        else:
            changed = new.setdefault(token, _new_number(token, rng))
        out += [text[last:a], changed]
        last = b
    text = "".join(out) + text[last:]
    if label_task:
        return text, answers
    moved = {}
    for key, value in answers.items():
        for token in sorted(said[key] & set(new), key=len, reverse=True):
            value = re.sub(r"(?<![\w.,])" + re.escape(token) + r"(?![\w]|[.,]\d)", new[token], value)
        moved[key] = value
    return text, moved


def expand_seed(spec: DataGenerationSpec, split: str, index: int, examples: list[dict[str, Any]],
                labels: list[str] | None = None, classify: bool = False, keep_numbers: bool = False) -> dict[str, Any]:
    """Record ``index`` of ``split``, made from the examples (see the module docstring). With ``classify`` the
    answer judges the whole input (a label, or a JSON object of classes), so it is treated like a label. With
    ``keep_numbers`` (math: the answer is computed from every number and sentence of the problem) no part is
    swapped and no number changed; only the wording is restyled, so the answer stays right."""
    rng = random.Random(f"{spec.seed}:{split}:{index}")
    meta = sample_axes(spec, split, index)
    wanted = [k for k, e in enumerate(examples) if str(e.get("output", "")) in meta.values()] or list(range(len(examples)))
    at = wanted[index % len(wanted)]
    base = examples[at]
    answer = str(base.get("output", base.get("chosen", "")))
    label_task = classify or (bool(labels) and answer in (labels or []))
    text = str(base["input"])
    if rng.random() < 0.7 and not keep_numbers:
        text = _join(_recombine(at, _pool(examples), label_task, rng))
    answers = {k: str(base[k]) for k in ANSWER_KEYS if base.get(k) is not None}
    if not keep_numbers:
        text, answers = _renumber(text, answers, label_task, rng)
    for value in meta.values():
        if value != answer:
            text = restyle(text, value, rng, change_case=label_task)
    record: dict[str, Any] = dict(answers)
    record.update(input=text, meta={**meta, "seed_row": str(at), "source": "offline"})
    return record
