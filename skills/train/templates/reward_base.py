"""Verifiable reward templates. Standard library only (jsonschema is used when importable).

``score(payload)`` takes {"completions": [str], "references": [str|None], "prompts": [str]} and
returns one {"scores": {component name: value in [0, 1]}} per completion, for every component in
COMPONENTS whose kind is not "judge" (judge components are scored by an LLM outside this file).
Edit a function to change how a sub-score is computed; the weights live in reward.yaml.
"""

import json
import re

COMPONENTS = []  # filled in from reward.yaml when reward.py is generated

def _clean(text):
    text = str(text or "").strip()
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text)
    return text.strip().strip("\"'`").strip()


def _norm_label(text):
    return re.sub(r"[\s.!,;:]+$", "", _clean(text)).lower()


def exact_match(answer, reference, params):
    if reference is None:
        return 0.0
    if params.get("case_sensitive"):
        return 1.0 if _clean(answer) == _clean(reference) else 0.0
    return 1.0 if " ".join(_clean(answer).lower().split()) == " ".join(_clean(reference).lower().split()) else 0.0


def label_match(answer, reference, params):
    """1 for the right label alone; 0.5 when the right label appears among other words; else 0."""
    labels = [str(l).lower() for l in params.get("labels") or []]
    got = _norm_label(answer)
    if reference is None:
        return 1.0 if got in labels else 0.0
    want = _norm_label(reference)
    if got == want:
        return 1.0
    words = re.findall(r"[a-z0-9_&/-]+", _clean(answer).lower())
    if want in words and not any(w in words for w in labels if w != want):
        return 0.5
    return 0.0


def regex(answer, reference, params):
    pattern = params.get("pattern")
    if not pattern:
        return 0.0
    return 1.0 if re.fullmatch(pattern, _clean(answer)) else 0.0


# ANSWER READER: synth/answers.py is pasted here when reward.py is generated (the metric reads answers with it too)


def numeric_tolerance(answer, reference, params):
    got, want = final_number(answer), final_number(reference)
    if got is None or want is None:
        return 0.0
    tolerance = float(params.get("tolerance", 1e-6))
    if params.get("relative"):
        tolerance *= max(1.0, abs(want))
    return 1.0 if abs(got - want) <= tolerance else 0.0


def json_schema(answer, reference, params):
    """0.5 for valid JSON, 1 when it also satisfies the schema."""
    try:
        value = json.loads(_clean(answer))
    except (ValueError, TypeError):
        return 0.0
    schema = params.get("schema") or {}
    if not schema:
        return 1.0
    try:
        import jsonschema
    except ImportError:
        wanted = schema.get("type")
        kinds = {"object": dict, "array": list, "string": str, "number": (int, float), "integer": int, "boolean": bool}
        ok = wanted is None or isinstance(value, kinds.get(wanted, object))
        required = schema.get("required") or []
        ok = ok and (not required or (isinstance(value, dict) and all(k in value for k in required)))
        return 1.0 if ok else 0.5
    try:
        jsonschema.validate(value, schema)
        return 1.0
    except jsonschema.ValidationError:
        return 0.5


def length_penalty(answer, reference, params):
    """1 up to max_chars, falling linearly to 0 at twice that length."""
    limit = int(params.get("max_chars") or 200)
    size = len(str(answer or "").strip())
    if size <= limit:
        return 1.0
    return max(0.0, 1.0 - (size - limit) / limit)


TEMPLATES = {
    "exact_match": exact_match,
    "label_match": label_match,
    "regex": regex,
    "numeric_tolerance": numeric_tolerance,
    "json_schema": json_schema,
    "length_penalty": length_penalty,
}


def score(payload):
    completions = payload["completions"]
    references = payload.get("references") or [None] * len(completions)
    out = []
    for answer, reference in zip(completions, references):
        scores = {}
        for component in COMPONENTS:
            if component["kind"] == "judge":
                continue
            value = TEMPLATES[component["kind"]](answer, reference, component.get("params") or {})
            scores[component["name"]] = max(0.0, min(1.0, float(value)))
        out.append({"scores": scores})
    return out
