"""Shipped programmatic template: extraction of fields from text into JSON.

Self-contained (standard library only). The fields come from the use case's JSON schema
(``properties``); each field gets a value from a pool chosen by its name and type, the values are
woven into one of several sentence shapes, and the answer is the JSON object of those values.
``verify(record)`` checks the answer parses and every string/number value appears in the input.

payload: {"schema": {...}, "start": int, "n": int, "seed": int, "split": str, "axes": {...}}
"""

import json
import random

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


def generate(payload):
    schema = payload.get("schema") or {"type": "object", "properties": {"name": {"type": "string"},
                                                                       "city": {"type": "string"}}}
    props = schema.get("properties") or {}
    start, n, seed = int(payload.get("start", 0)), int(payload["n"]), payload.get("seed", 0)
    split = payload.get("split", "train")
    axes = payload.get("axes") or {}
    out = []
    for i in range(start, start + n):
        rng = random.Random("%s:%s:%d" % (seed, split, i))
        meta = {name: rng.choices([v for v, _ in vals], [w for _, w in vals])[0] for name, vals in axes.items()}
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
