"""Shipped programmatic template: arithmetic word problems with a checkable numeric answer.

Self-contained (standard library only). Each record keeps its expression in ``meta.expression``;
``verify(record)`` recomputes it and compares with the answer, so every record is provably right.
Difficulty (axis ``difficulty``: easy/medium/hard) sets the number of steps and operand sizes.
With ``answer_line`` (the use case asks for a final line ``Answer: <number>``) the gold answer is
the worked steps and that line; without it, the bare number.

payload: {"start": int, "n": int, "seed": int, "split": str, "axes": {...}, "answer_line": bool}
"""

import ast
import operator
import random
import re

NAMES = ["Ana", "Ben", "Chen", "Dara", "Eva", "Farid", "Grace", "Hugo", "Isla", "Jonas", "Kavya", "Liam", "Mara",
         "Nils", "Omar", "Priya"]
ITEMS = ["apples", "books", "marbles", "stickers", "pencils", "cookies", "stamps", "shells", "coins", "cards",
         "beads", "buttons", "crayons", "lemons", "tickets", "puzzles"]


def _pool(values, split):
    """Every fourth value is held out for the eval split, so eval problems share no phrase with training."""
    return [v for k, v in enumerate(values) if (k % 4 == 3) == (split == "eval")]
STEPS = {
    "+": "{name} gets {b} more {item}",
    "-": "{name} gives away {b} {item}",
    "*": "{name} ends up with {b} times as many {item}",
}
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


def _eval(node):
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_eval(node.left), _eval(node.right))
    raise ValueError("unsupported expression")


def generate(payload):
    start, n, seed = int(payload.get("start", 0)), int(payload["n"]), payload.get("seed", 0)
    split = payload.get("split", "train")
    axes = payload.get("axes") or {}
    out = []
    for i in range(start, start + n):
        rng = random.Random("%s:%s:%d" % (seed, split, i))
        meta = {name: rng.choices([v for v, _ in vals], [w for _, w in vals])[0] for name, vals in axes.items()}
        level = meta.get("difficulty", rng.choice(["easy", "medium", "hard"]))
        steps, top = {"easy": (1, 20), "medium": (2, 60), "hard": (3, 200)}.get(level, (2, 60))
        name, item = rng.choice(_pool(NAMES, split)), rng.choice(_pool(ITEMS, split))
        value = rng.randint(2, top)
        expression = str(value)
        sentences = ["%s has %d %s." % (name, value, item)]
        worked = ["%s starts with %d %s." % (name, value, item)]
        for _ in range(steps):
            op = rng.choice(["+", "-", "*"] if value < 50 else ["+", "-"])
            b = rng.randint(2, 4) if op == "*" else rng.randint(1, top)
            if op == "-" and b > value:
                op = "+"
            before = value
            value = {"+": value + b, "-": value - b, "*": value * b}[op]
            expression = "(%s %s %d)" % (expression, op, b)
            sentences.append(STEPS[op].format(name=name, b=b, item=item) + ".")
            worked.append("%d %s %d = %d." % (before, {"*": "x"}.get(op, op), b, value))
        sentences.append("How many %s does %s have now?" % (item, name))
        meta["expression"] = expression
        answer = " ".join(worked) + "\nAnswer: %d" % value if payload.get("answer_line") else str(value)
        out.append({"i": i, "input": " ".join(sentences), "output": answer, "meta": meta})
    return out


def final_answer(text):
    """The number of the last `Answer:` line, else the whole answer as a number (None when neither)."""
    lines = re.findall(r"^\W*answer\W*[:=]\s*(-?[\d,]*\.?\d+)", str(text), re.IGNORECASE | re.MULTILINE)
    try:
        return float((lines[-1] if lines else str(text).strip()).replace(",", ""))
    except ValueError:
        return None


def verify(record):
    expression = (record.get("meta") or {}).get("expression")
    if not expression:
        return "no expression to check"
    try:
        expected = _eval(ast.parse(expression, mode="eval"))
    except (ValueError, SyntaxError):
        return "expression cannot be evaluated"
    got = final_answer(record.get("output", ""))
    if got is None:
        return "answer is not a number"
    return True if abs(got - expected) < 1e-9 else "answer %s != %s" % (got, expected)
