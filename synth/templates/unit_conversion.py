"""Shipped programmatic template: unit-conversion word problems with a checkable numeric answer.

Self-contained (standard library only), the same interface as ``arithmetic``: each record keeps its
expression in ``meta.expression`` and ``verify(record)`` recomputes it, so every record is provably right.
Only exact whole-number factors are used (km -> m, kg -> g, h -> min, ...), so answers stay integers.
Difficulty (axis ``difficulty``): easy converts one amount; medium converts a mixed amount (2 m 45 cm);
hard adds two mixed amounts. Every fourth context is held out for the eval split.

payload: {"start": int, "n": int, "seed": int, "split": str, "axes": {...}, "answer_line": bool}
"""

import ast
import operator
import random
import re

# (big unit, small unit, factor, what is measured, contexts)
UNITS = [
    ("kilometers", "meters", 1000, "long", ["delivery route", "hiking trail", "conveyor line", "fence", "cable run"]),
    ("meters", "centimeters", 100, "long", ["shelf", "rope", "pallet rack", "roll of tape", "window"]),
    ("kilograms", "grams", 1000, "heavy", ["parcel", "bag of flour", "box of screws", "crate of apples", "suitcase"]),
    ("liters", "milliliters", 1000, "in volume", ["water tank", "paint can", "bottle of oil", "jug of juice", "bucket"]),
    ("hours", "minutes", 60, "long", ["shift", "delivery run", "training session", "flight", "meeting"]),
    ("minutes", "seconds", 60, "long", ["machine cycle", "video", "phone call", "oven timer", "race"]),
    ("days", "hours", 24, "long", ["shipping window", "holiday", "test run", "inventory count", "trip"]),
    ("weeks", "days", 7, "long", ["project", "course", "rental", "trial period", "sprint"]),
    ("dozen", "items", 12, "in count", ["order of eggs", "batch of rolls", "pack of pens", "box of cups", "tray of muffins"]),
]
_OPS = {ast.Add: operator.add, ast.Mult: operator.mul}
VERBS = {"long": "is %s long", "heavy": "weighs %s", "in volume": "holds %s", "in count": "is %s"}


def _amount(k, unit):
    """``1 kilogram``, ``2 kilograms``, ``3 dozen``."""
    return "%d %s" % (k, unit[:-1] if k == 1 and unit.endswith("s") else unit)


def _contexts(split):
    """Every fourth (unit, context) pair is held out for the eval split, so eval problems share no context with training."""
    pairs = [(u, c) for u in UNITS for c in u[4]]
    return [p for k, p in enumerate(pairs) if (k % 4 == 3) == (split == "eval")]


def _eval(node):
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_eval(node.left), _eval(node.right))
    raise ValueError("unsupported expression")


def _mixed(rng, big, small, factor, top):
    whole, part = rng.randint(1, top), rng.randint(1, factor - 1)
    return "%s and %s" % (_amount(whole, big), _amount(part, small)), "(%d * %d + %d)" % (whole, factor, part), \
        whole * factor + part


def generate(payload):
    start, n, seed = int(payload.get("start", 0)), int(payload["n"]), payload.get("seed", 0)
    split = payload.get("split", "train")
    axes = payload.get("axes") or {}
    pool = _contexts(split)
    out = []
    for i in range(start, start + n):
        rng = random.Random("%s:%s:%d" % (seed, split, i))
        meta = {name: rng.choices([v for v, _ in vals], [w for _, w in vals])[0] for name, vals in axes.items()}
        level = meta.get("difficulty", rng.choice(["easy", "medium", "hard"]))
        (big, small, factor, measured, _), context = rng.choice(pool)
        top = {"easy": 9, "medium": 20, "hard": 60}.get(level, 20)
        if level == "easy":
            amount = rng.randint(2, top)
            expression, value = "(%d * %d)" % (amount, factor), amount * factor
            question = "The %s %s. How many %s is that?" % (context, VERBS[measured] % _amount(amount, big), small)
            worked = ["%s x %d = %s." % (_amount(amount, big), factor, _amount(value, small))]
        elif level == "hard":
            text_a, expr_a, value_a = _mixed(rng, big, small, factor, top)
            text_b, expr_b, value_b = _mixed(rng, big, small, factor, top)
            expression, value = "(%s + %s)" % (expr_a, expr_b), value_a + value_b
            question = ("One %s is %s, a second one is %s. How many %s is that in total?"
                        % (context, text_a, text_b, small))
            worked = ["%s = %s." % (text_a, _amount(value_a, small)), "%s = %s." % (text_b, _amount(value_b, small)),
                      "%d + %d = %d." % (value_a, value_b, value)]
        else:
            text, expression, value = _mixed(rng, big, small, factor, top)
            question = "The %s %s. How many %s is that?" % (context, VERBS[measured] % text, small)
            worked = ["%s = %s." % (text, _amount(value, small))]
        meta["expression"] = expression
        answer = " ".join(worked) + "\nAnswer: %d" % value if payload.get("answer_line") else str(value)
        out.append({"i": i, "input": question, "output": answer, "meta": meta})
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
