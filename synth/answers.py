"""How a numeric answer is read: the last `Answer:` line, else the last number in the text.

Standard library only: the evaluation metric imports it, and reward.py (which runs in the
sandbox) gets this file's text pasted in, so the reward and the metric of the same tenet read
an answer the same way. The shipped arithmetic template writes its gold answers to satisfy it.
"""

import re

ANSWER_LINE = re.compile(r"^\W*answer\W*[:=]\s*(.+)$", re.IGNORECASE | re.MULTILINE)
NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?")


def _numbers(text):
    return [float(n.replace(",", "")) for n in NUMBER.findall(text)]


def final_number(text):
    """The number of the last `Answer:` line (its first number), else the last number, else None."""
    text = str(text or "")
    lines = ANSWER_LINE.findall(text)
    if lines:
        found = _numbers(lines[-1])
        if found:
            return found[0]
    found = _numbers(text)
    return found[-1] if found else None
