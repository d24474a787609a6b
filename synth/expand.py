"""Offline expansion of the person's examples: new records whose content really differs.

``expand_seed(spec, split, index, examples, labels)`` makes record ``index`` from the examples:
for a label task it recombines sentences of examples with the same label (the label stays right,
the content is new); numbers that are not part of the answer change; and each sampled axis value
changes the text the way it says (`formal` expands contractions and adds a greeting, `casual`
contracts and drops formalities, `terse` drops filler words, `upper`/`lower` change case for label
tasks only, where the answer does not quote the input). An axis value it cannot realize leaves
the text as it is, and the quality report's content coverage shows that.
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
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


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


def _recombine(text: str, others: list[str], rng: random.Random) -> str:
    """Swap one sentence of ``text`` for a sentence of another example with the same label."""
    donors = [s for other in others for s in _SENTENCE.split(other.strip()) if len(s) > 3]
    if not donors:
        return text
    parts = _SENTENCE.split(text.strip())
    if len(parts) >= 2:
        parts[rng.randrange(len(parts))] = rng.choice(donors)
    else:
        parts.append(rng.choice(donors)) if rng.random() < 0.5 else parts.insert(0, rng.choice(donors))
    return " ".join(parts)


def expand_seed(spec: DataGenerationSpec, split: str, index: int, examples: list[dict[str, Any]],
                labels: list[str] | None = None) -> dict[str, Any]:
    """Record ``index`` of ``split``, made from the examples (see the module docstring)."""
    rng = random.Random(f"{spec.seed}:{split}:{index}")
    meta = sample_axes(spec, split, index)
    wanted = [e for e in examples if str(e.get("output", "")) in meta.values()] or examples
    base = wanted[index % len(wanted)]
    answer = str(base.get("output", base.get("chosen", "")))
    label_task = bool(labels) and answer in (labels or [])
    text = str(base["input"])
    if label_task:
        same = [str(e["input"]) for e in examples if str(e.get("output", "")) == answer and e is not base]
        if same and rng.random() < 0.7:
            text = _recombine(text, same, rng)

    def new_number(match: re.Match) -> str:
        token = match.group(0)
        if token in answer:
            return token
        if "." in token:
            return f"{rng.uniform(0.5, 2) * float(token):.{len(token.split('.')[1])}f}"
        return str(max(1, int(int(token) * rng.uniform(0.3, 3))))

    text = re.sub(r"\d+(?:\.\d+)?", new_number, text)
    for value in meta.values():
        if value != answer:
            text = restyle(text, value, rng, change_case=label_task)
    record = {k: v for k, v in base.items() if k in ("output", "chosen", "rejected", "reference")}
    record.update(input=text, meta={**meta, "seed_row": str(examples.index(base)), "source": "offline"})
    return record
