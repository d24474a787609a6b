"""The one judge scale: every rubric, judge prompt, parser, report and RLAIF reward uses it.

A judge answers an integer from 1 (fails the tenet) to 5 (fully meets it), on a final line
``SCORE: <n>``. ``normalize`` maps it to 0..1 (1 -> 0.0, 3 -> 0.5, 5 -> 1.0), the only place
where that happens. ``read_score`` accepts every form the prompt allows and the usual variants
(``SCORE: 4``, ``Score: 4/5``, ``**Score:** 5``, a bare ``4`` on the last line); a number off the
scale (``0.5``, ``7``) is no score, never a guess.
"""

from __future__ import annotations

import re

LOW, HIGH = 1, 5
SCALE_TEXT = f"an integer from {LOW} (fails it) to {HIGH} (fully meets it), 3 when it partly does"
"""How the scale is said to the judge, in every prompt."""
FINAL_LINE = f"End your answer with a final line `SCORE: <n>` where <n> is {SCALE_TEXT}."

_LABELLED = re.compile(r"score\W{0,6}[:=]\W{0,3}(-?\d+(?:\.\d+)?)(?:\s*(?:/|out of)\s*(\d+))?", re.IGNORECASE)
_BARE = re.compile(r"^\W*(-?\d+(?:\.\d+)?)(?:\s*(?:/|out of)\s*(\d+))?\W*$")


def rubric_for(description: str) -> str:
    """A rubric on the scale for a tenet described in plain words."""
    text = description.strip().rstrip(".")
    return (f"Score {HIGH} when the answer fully meets this: {text}. Score 3 when it partly does. "
            f"Score {LOW} when it clearly does not.")


def normalize(score: float) -> float:
    """A score on the judge scale as 0..1."""
    return (float(score) - LOW) / (HIGH - LOW)


def _on_scale(value: str, out_of: str | None) -> float | None:
    number = float(value)
    if out_of and int(out_of) != HIGH:
        return None
    return number if LOW <= number <= HIGH else None


def read_score(text: str) -> float | None:
    """The judge's score on the 1..5 scale (the last `SCORE:` line, else a bare last line), or None."""
    text = text or ""
    labelled = _LABELLED.findall(text)
    if labelled:
        return _on_scale(*labelled[-1])
    lines = [line for line in text.strip().splitlines() if line.strip()]
    match = _BARE.match(lines[-1]) if lines else None
    return _on_scale(match.group(1), match.group(2)) if match else None


def read_verdict(text: str) -> float | None:
    """The judge's score as 0..1, or None when it gave none on the scale."""
    score = read_score(text)
    return None if score is None else normalize(score)
