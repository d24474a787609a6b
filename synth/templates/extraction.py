"""Shipped programmatic template: extraction of fields from text into JSON.

Self-contained (standard library only). The fields come from the use case's JSON schema
(``properties``). With examples (the person's rows or the seeds) whose answer values appear in their
input, each record takes the shape of one example and puts new values where the example's values are:
a number changes its size (same decimals), a date or an identifier keeps its form with new digits, and
text takes a value the same field has in another example (else one from the field's pool). Without such
examples the values are woven into one of several sentence shapes. The answer is the JSON object of the
values. ``verify(record)`` checks the answer parses and every string/number value appears in the input.

payload: {"schema": {...}, "start": int, "n": int, "seed": int, "split": str, "axes": {...}, "examples": [...]}
"""

import json
import random
import re

POOLS = {
    "name": ["Ana Lopez", "Ben Carter", "Chen Wei", "Dara Okafor", "Eva Novak", "Farid Haddad", "Grace Kim",
             "Hugo Martin", "Isla Brown", "Jonas Berg", "Kavya Rao", "Liam Walsh", "Mia Rossi", "Noah Fischer"],
    "company": ["Acme Ltd", "Brightwave", "Northwind", "Globex", "Initech", "Umbrella Foods", "Stark Tools",
                "Blue Harbor", "Pine & Co", "Vertex Labs", "Orbit Freight", "Redwood Bank"],
    "city": ["Lisbon", "Austin", "Leeds", "Osaka", "Lagos", "Denver", "Krakow", "Toronto", "Dublin", "Pune"],
    "product": ["standing desk", "espresso machine", "laptop stand", "wireless mouse", "office chair",
                "USB-C hub", "monitor arm", "desk lamp", "paper shredder", "label printer"],
    "date": None,
    "amount": None,
    "quantity": None,
    "text": ["urgent", "routine", "follow-up", "complaint", "renewal", "inquiry"],
}
SHAPES = [
    "{pairs}.",
    "Please note: {pairs}.",
    "Record received - {pairs}.",
    "Hi team, quick update: {pairs}. Thanks!",
    "{pairs_semicolon}",
]


def _pool_for(field, spec):
    name = field.lower()
    kind = (spec or {}).get("type", "string")
    if isinstance(kind, list):  # ["number", "null"]: the field's own type, null aside
        kind = next((k for k in kind if k != "null"), "string")
    if "enum" in (spec or {}):
        return "enum"
    if kind in ("number", "integer"):
        return "quantity" if ("qty" in name or "quant" in name or "count" in name or kind == "integer") else "amount"
    if "currency" in name:
        return "currency"
    if "number" in name or name.endswith("id") or "code" in name or "reference" in name:
        return "identifier"
    if "supplier" in name or "vendor" in name or "customer" in name:
        return "company"
    for key in ("name", "company", "city", "product", "date", "amount"):
        if key in name:
            return key
    if "vendor" in name or "merchant" in name or "org" in name:
        return "company"
    if "item" in name:
        return "product"
    if "price" in name or "total" in name or "cost" in name:
        return "amount"
    return "text"


def _value(rng, pool, spec):
    if pool == "enum":
        return rng.choice(spec["enum"])
    if pool == "date":
        return "%04d-%02d-%02d" % (rng.randint(2023, 2026), rng.randint(1, 12), rng.randint(1, 28))
    if pool == "currency":
        return rng.choice(["USD", "EUR", "GBP", "JPY", "CHF"])
    if pool == "identifier":
        return "%s-%05d" % (rng.choice(["INV", "PO", "REF", "A"]), rng.randint(1, 99999))
    if pool == "amount":
        return round(rng.uniform(5, 5000), 2)
    if pool == "quantity":
        return rng.randint(1, 250)
    return rng.choice(POOLS[pool])


def _slots(example):
    """(spans, answer): where each of the example's answer values sits in its input, as (start, end, field)
    spans that do not overlap; None when the answer is no JSON object or a value is not in the input."""
    try:
        answer = json.loads(str(example.get("output") or ""))
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    text, spans = str(example.get("input", "")), []
    for field, value in answer.items():
        if value is None or isinstance(value, (bool, dict, list)):
            continue
        token = str(value)
        found = [m.start() for m in re.finditer(r"(?<![\w.])" + re.escape(token) + r"(?![\w])", text)] or \
            [m.start() for m in re.finditer(re.escape(token), text)]
        free = [k for k in found if all(k >= end or k + len(token) <= start for start, end, _ in spans)]
        if not free:
            return None
        spans.append((free[0], free[0] + len(token), field))
    return (sorted(spans), answer) if spans else None


def _digits(rng, text):
    """The same form with new digits (a run keeps its first digit non-zero when it was)."""
    out, first = [], True
    for ch in text:
        if ch.isdigit():
            out.append(str(rng.randint(1 if first and ch != "0" else 0, 9)))
            first = False
        else:
            out.append(ch)
            first = True
    return "".join(out)


def _new_value(rng, field, value, spec, seen):
    """A new value of the example's kind for ``field`` (see the module docstring)."""
    if isinstance(value, int):
        return max(1 if value > 0 else 0, int(round(value * rng.uniform(0.3, 3))))
    if isinstance(value, float):
        decimals = len(repr(value).split(".")[1]) if "." in repr(value) else 0
        return round(value * rng.uniform(0.3, 3), min(decimals, 6))
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return "%04d-%02d-%02d" % (int(text[:4]) + rng.randint(-1, 1), rng.randint(1, 12), rng.randint(1, 28))
    if re.search(r"\d", text):
        return _digits(rng, text)
    others = [v for v in seen.get(field, []) if v != text]
    if others:
        return rng.choice(others)
    pool = POOLS.get(_pool_for(field, spec))
    return rng.choice(pool) if pool else text


def shaped_examples(examples):
    """The examples a record can take its shape from, with their value spans and the values each field takes."""
    usable, seen = [], {}
    for example in examples:
        slots = _slots(example)
        if slots is None:
            continue
        usable.append((str(example.get("input", "")), slots[0], slots[1]))
        for field, value in slots[1].items():
            if isinstance(value, str) and value not in seen.setdefault(field, []):
                seen[field].append(value)
    return usable, seen


def from_example(rng, shaped, seen, props):
    """(input, answer): one example's text with new values where its values were."""
    text, spans, answer = shaped
    answer, parts, last = dict(answer), [], 0
    for start, end, field in spans:
        value = _new_value(rng, field, answer[field], props.get(field) or {}, seen)
        answer[field] = value
        parts += [text[last:start], str(value)]
        last = end
    return "".join(parts + [text[last:]]), answer


def generate(payload):
    schema = payload.get("schema") or {"type": "object", "properties": {"name": {"type": "string"},
                                                                       "city": {"type": "string"}}}
    props = schema.get("properties") or {}
    start, n, seed = int(payload.get("start", 0)), int(payload["n"]), payload.get("seed", 0)
    split = payload.get("split", "train")
    axes = payload.get("axes") or {}
    usable, seen = shaped_examples(payload.get("examples") or [])
    out = []
    for i in range(start, start + n):
        rng = random.Random("%s:%s:%d" % (seed, split, i))
        meta = {name: rng.choices([v for v, _ in vals], [w for _, w in vals])[0] for name, vals in axes.items()}
        if usable:
            k = rng.randrange(len(usable))
            text, answer = from_example(rng, usable[k], seen, props)
            meta.update(shape="example", example=str(k))
            out.append({"i": i, "input": text, "output": json.dumps(answer, ensure_ascii=False), "meta": meta})
            continue
        answer = {field: _value(rng, _pool_for(field, spec), spec) for field, spec in props.items()}
        pairs = ["%s %s" % (field.replace("_", " "), value) for field, value in answer.items()]
        rng.shuffle(pairs)
        text = rng.choice(SHAPES).format(pairs=", ".join(pairs), pairs_semicolon="; ".join(pairs))
        out.append({"i": i, "input": text, "output": json.dumps(answer, ensure_ascii=False), "meta": meta})
    return out


def verify(record):
    try:
        answer = json.loads(record.get("output", ""))
    except ValueError:
        return "answer is not JSON"
    if not isinstance(answer, dict):
        return "answer is not a JSON object"
    for field, value in answer.items():
        if isinstance(value, (str, int, float)) and str(value) not in record.get("input", ""):
            return "value of %s not found in the input" % field
    return True
