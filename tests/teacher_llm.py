"""A small instruct model playing the teacher behind the loopback server (tests/fake_openai.py).

It reads a request the way a model would: the task line, the allowed labels, the JSON schema, the
output pattern and size, the examples it is shown, the axis values, the angle and length asked for,
and the document passage. It writes a record from those: it takes one of the examples shown (or, with
none, what it "knows" of such a task), changes its words and numbers the same way in input and answer,
realizes the style and difficulty asked, and answers with the label asked for. Like a small model at a
low temperature it answers the same request the same way (the random choices are seeded by the
request's content, the order of its examples aside): prompts that do not differ give duplicates.

And it makes the mistakes small models make, on about a third of its replies (``mistakes`` counts
them): a fenced ```json block, prose before the JSON, a trailing comma, a missing answer field, a
label in another case or with a space for its underscore, a reply so long the server cuts it off at
``max_tokens``, an empty reply. A judge request gets a ``SCORE:`` line.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
from collections import Counter
from typing import Any

VOCAB = ("window", "printer", "battery", "invoice", "parcel", "kitchen", "garden", "ticket", "refund", "meeting",
         "schedule", "contract", "device", "update", "password", "address", "weekend", "station", "blanket", "heater",
         "speaker", "camera", "browser", "button", "folder", "receipt", "courier", "warehouse", "holiday", "balcony",
         "breakfast", "shower", "pillow", "elevator", "parking", "reception", "terrace", "laptop", "monitor", "charger",
         "voucher", "coupon", "deposit", "subscription", "warranty", "package", "bottle", "jacket", "sofa", "mattress",
         "lantern", "bicycle", "scooter", "tablet", "router", "modem", "thermostat", "curtain", "carpet", "fridge",
         "oven", "kettle", "toaster", "locker", "badge", "passport", "luggage", "suitcase", "umbrella", "notebook")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PLACES = ("Lyon", "Porto", "Gdansk", "Bergen", "Ghent", "Turin", "Leeds", "Malmo", "Brno", "Cork", "Graz", "Split")
CARRIERS = ("DHL", "UPS", "FedEx", "GLS", "DPD", "PostNL", "Royal Mail", "Chronopost")
STOP = {"the", "and", "for", "with", "that", "this", "from", "have", "has", "was", "were", "are", "you", "your", "our",
        "will", "would", "could", "should", "about", "into", "they", "them", "their", "there", "what", "when", "which",
        "been", "than", "then", "also", "just", "very", "only", "some", "more", "most", "each", "every", "other"}
CONVERSIONS = (("km", "metres", 1000), ("kg", "grams", 1000), ("hours", "minutes", 60), ("metres", "centimetres", 100),
               ("litres", "millilitres", 1000), ("minutes", "seconds", 60), ("days", "hours", 24))
PRIORS = {  # what the model "knows" a record of each task looks like, for when it is shown no example
    "classification": ("Hello, my {a} stopped working after the {b} update last {day}. Can someone look at it?", None),
    "generation": ("We stayed {n} nights. The {a} was lovely but the {b} was noisy at night.",
                   "Thank you so much for staying with us! We are glad you enjoyed the {a}, and we are sorry about the "
                   "{b}: we will look into it before your next visit."),
    "summarization": ("When I save the {a} twice, the {b} list shows two copies. It happens every {day}. Steps: open "
                      "the {a}, press save two times. Expected one entry, got two.",
                      "Saving the {a} twice makes two copies in the {b} list.\nIt happens every time; expected one entry."),
    "rewriting": ("The {a} holder shall indemnify the {b} provider against all claims arising hereunder within {n} days.",
                  "The {a} holder pays the {b} provider back for any claims caused by this agreement, within {n} days."),
    "question_answering": ("How long does the {a} take to arrive?", "It takes {n} working days."),
}


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z']+", text)


class SmallTeacher:
    """``responder`` for FakeOpenAI: ``SmallTeacher()(messages) -> str``; thread safe."""

    def __init__(self, mistakes: float = 0.35, math_slips: float = 0.2):
        self.rate = mistakes
        self.math_slips = math_slips
        """The share of math answers written wrong (the real Qwen2.5-Coder-1.5B teacher: about half)."""
        self.mistakes: Counter = Counter()
        """Mistake -> how many replies made it."""
        self.requests = 0
        self._lock = threading.Lock()

    def __call__(self, messages: list[dict[str, Any]]) -> str:
        prompt = str(messages[-1].get("content", ""))
        system = str(messages[0].get("content", "")) if messages else ""
        with self._lock:
            self.requests += 1
        if "SCORE" in system:
            return "The answer follows the rubric closely.\nSCORE: 4"
        read = Request(prompt)
        read.slip_rate = self.math_slips
        rng = random.Random(hashlib.sha256(read.content_key().encode()).hexdigest())
        many = re.search(r"Write (\d+) diverse examples as a JSON list", prompt)
        if many:
            records = [read.record(rng, k) for k in range(int(many.group(1)))]
            return self._list_reply(records, read, rng)
        if "Write ONE new example" not in prompt:
            return "I am not sure what you would like me to write."
        record = read.record(rng, 0)
        if read.slips:
            self._count("wrong arithmetic")
        return self._one_reply(record, read, rng)

    def _count(self, mistake: str) -> None:
        with self._lock:
            self.mistakes[mistake] += 1

    def _one_reply(self, record: dict[str, Any], read: "Request", rng: random.Random) -> str:
        if rng.random() >= self.rate:
            return json.dumps(record, ensure_ascii=False)
        mistake = rng.choice(["fence", "prose", "trailing comma", "missing field", "label spelling", "cut off", "empty"])
        if mistake == "label spelling" and not read.labels:
            mistake = "fence"
        self._count(mistake)
        text = json.dumps(record, ensure_ascii=False)
        if mistake == "fence":
            return "```json\n" + json.dumps(record, ensure_ascii=False, indent=2) + "\n```"
        if mistake == "prose":
            return "Sure! Here is a new example that is different from the ones above:\n" + text
        if mistake == "trailing comma":
            return text[:-1] + ",}"
        if mistake == "missing field":
            answer = "chosen" if "chosen" in record else "output"
            return json.dumps({k: v for k, v in record.items() if k != answer}, ensure_ascii=False)
        if mistake == "label spelling":
            wrong = str(record["output"]).replace("_", " ")
            record = {**record, "output": wrong.upper() if wrong == record["output"] else wrong.title()}
            return json.dumps(record, ensure_ascii=False)
        if mistake == "cut off":  # it goes on and on: the server cuts the answer at max_tokens
            filler = " ".join(rng.choice(VOCAB) for _ in range(900))
            return '{"input": "' + record["input"] + " " + filler + '", "output": "...'
        return ""

    def _list_reply(self, records: list[dict[str, Any]], read: "Request", rng: random.Random) -> str:
        self._count("prose")
        if len(records) > 2:
            self._count("missing field")
            answer = "chosen" if "chosen" in records[1] else "output"
            records[1] = {k: v for k, v in records[1].items() if k != answer}
        if read.labels and len(records) > 3:
            self._count("label spelling")
            records[2] = {**records[2], "output": str(records[2].get("output", "")).upper()}
        body = json.dumps(records, ensure_ascii=False, indent=1)
        self._count("trailing comma")
        body = body[:-1].rstrip() + ",\n]"
        return "Here are the examples you asked for:\n```json\n" + body + "\n```\nLet me know if you need more."


class Request:
    """What one teacher prompt asks for."""

    def __init__(self, prompt: str):
        self.prompt = prompt
        self.slips = 0
        self.slip_rate = 0.2
        """Math answers written wrong on purpose (the expression stays right)."""
        task = re.search(r"^Task: (.*) \((\w+)\)\. Problem: (.*)$", prompt, re.MULTILINE)
        self.task = task.group(2) if task else "generation"
        self.problem = task.group(3) if task else ""
        self.input_description = _line(prompt, r"^Input: (.*)$")
        self.output_description = _line(prompt, r"^Output: (.*)$")
        labels = _line(prompt, r"^Allowed outputs \(exact spelling\): (.*)$")
        self.labels = [x.strip() for x in labels.split(",")] if labels else []
        schema = _line(prompt, r"^Output is JSON valid against: (\{.*\})$")
        self.schema = json.loads(schema) if schema else None
        self.regex = _line(prompt, r"^Output must match this regular expression in full: (.*)$")
        size = _line(prompt, r"^Output is at most (\d+) characters\.$")
        self.max_chars = int(size) if size else None
        self.preference = '"chosen": ...' in prompt
        self.examples = [json.loads(x) for x in re.findall(r"^(\{\"input\".*\})$", prompt, re.MULTILINE)]
        axes = _line(prompt, r"^This example must have: (.*)$")
        self.axes = dict(part.split(" = ", 1) for part in axes.split("; ")) if axes else {}
        self.angle = _line(prompt, r"^Give it (.*); its input is about")
        length = _line(prompt, r"its input is about (\d+) words long")
        self.length = int(length) if length else None
        self.passage = _line(prompt, r"^This example is about this part of the document: (.*)$")
        document = re.search(r"<document>\n(.*?)\n</document>", prompt, re.DOTALL)
        self.document = document.group(1) if document else ""
        columns = re.search(r"\(([\w\s,]+)\)", self.input_description)
        self.protected = {w.lower() for w in _words(self.input_description)} | {w.lower() for w in self.labels}
        self.columns = [c.strip() for c in columns.group(1).split(",")] if columns else []

    def content_key(self) -> str:
        """The request's content, the order of its example lines aside."""
        lines = self.prompt.splitlines()
        return "\n".join(sorted(lines))

    # -- writing a record ---------------------------------------------------------------------------

    def pool(self) -> list[str]:
        text = " ".join([self.problem, self.input_description, self.passage or "",
                         *(str(e.get("input", "")) for e in self.examples)])
        own = sorted({w.lower() for w in _words(text) if len(w) >= 4 and w.lower() not in STOP})
        return own + list(VOCAB)

    def record(self, rng: random.Random, k: int) -> dict[str, Any]:
        if self.task == "math":
            record = self._math(rng)
        elif self.schema is not None:
            record = self._structured(rng)
        elif self.task == "text_to_sql":
            record = self._sql(rng)
        elif self.task == "question_answering" and self.document:
            record = self._grounded(rng)
        else:
            record = self._rewritten(rng, k)
        record["input"] = self._styled(record["input"], rng)
        if self.preference:
            chosen = record.pop("output")
            record = {"input": record["input"], "chosen": chosen,
                      "rejected": rng.choice(["Noted.", "OK, thanks.", "We have received your message.", "Fine."])
                      + f" Ref {rng.randint(100, 999)}."}
        return record

    def _label(self, rng: random.Random, k: int) -> str:
        wanted = next((v for v in self.axes.values() if v in self.labels), None)
        return wanted or self.labels[k % len(self.labels)]

    def _base(self, rng: random.Random, label: str | None) -> tuple[str, str | None]:
        shown = [e for e in self.examples if label is None or e.get("output") == label] or self.examples
        if shown:
            base = rng.choice(shown)
            return str(base["input"]), (None if label else str(base.get("output", base.get("chosen", ""))))
        text, answer = PRIORS.get(self.task, PRIORS["classification"])
        fill = {"a": rng.choice(VOCAB), "b": rng.choice(VOCAB), "day": rng.choice(WEEKDAYS), "n": rng.randint(2, 9)}
        return text.format(**fill), (answer.format(**fill) if answer else None)

    def _rewritten(self, rng: random.Random, k: int) -> dict[str, Any]:
        """An example shown (or a prior), its words and numbers changed alike in input and answer."""
        label = self._label(rng, k) if self.labels else None
        text, answer = self._base(rng, label)
        pool = self.pool()
        swap: dict[str, str] = {}
        for word in _words(text):
            low = word.lower()
            if len(low) >= 4 and low not in STOP and low not in self.protected and low not in swap and rng.random() < 0.6:
                swap[low] = rng.choice(pool)
        numbers = {n: str(max(1, int(int(n) * rng.uniform(0.3, 3)))) for n in re.findall(r"\b\d+\b", text)}

        def change(value: str) -> str:
            value = re.sub(r"[A-Za-z][A-Za-z']+", lambda m: _cased(swap.get(m.group(0).lower(), m.group(0)), m.group(0)),
                           value)
            return re.sub(r"\b\d+\b", lambda m: numbers.get(m.group(0), m.group(0)), value)

        source = change(text)
        source = self._sized(source, rng, pool)
        if label is not None:
            return {"input": source, "output": label}
        output = change(answer or "")
        if not output.strip():
            output = "Thank you for your message about the " + rng.choice(pool) + "."
        if self.max_chars:
            output = output[: self.max_chars].rstrip()
        return {"input": source, "output": output}

    def _sized(self, text: str, rng: random.Random, pool: list[str]) -> str:
        """Longer or shorter, toward the length asked for; the angle asked for shows in the text."""
        words = text.split()
        if self.angle and "detail" in self.angle:
            words += [f"(ref {rng.choice(pool)}-{rng.randint(10, 999)}, {rng.choice(WEEKDAYS)})"]
        elif self.angle and "context" in self.angle:
            words += ["This", "started", "after", "the", rng.choice(pool), "and", "the", rng.choice(pool), "changed."]
        elif self.angle and "unusual" in self.angle:
            words = ["Odd", "one:"] + words
        target = self.length or len(words)
        while len(words) < target:
            words += [rng.choice(["also", "and", "then", "but"]), "the", rng.choice(pool), rng.choice(
                ["is", "was", "seems", "looks"]), rng.choice(["late", "broken", "fine", "missing", "new", "odd"]) + ","]
        if len(words) > target * 1.6 and target >= 4:
            words = words[: int(target * 1.3)]
        return " ".join(words).rstrip(",") + ("" if words[-1].endswith((".", "?", "!")) else ".")

    def _styled(self, text: str, rng: random.Random) -> str:
        styles = " ".join(self.axes.values()).lower()
        if "formal" in styles and "informal" not in styles:
            text = f"{rng.choice(['Dear team,', 'Good morning,', 'Hello,'])} {text} {rng.choice(['Kind regards.', 'Thank you.'])}"
        elif "casual" in styles:
            text = text[:1].lower() + text[1:].rstrip(".") + " " + rng.choice(["thx", "cheers", "ty!"])
        elif "terse" in styles:
            text = " ".join(w for w in text.split() if w.lower() not in {"the", "a", "please", "hello,", "very"})
        if "hard" in styles:
            text += f" Not sure if it matters, but the {rng.choice(VOCAB)} was changed too."
        return text

    def _math(self, rng: random.Random) -> dict[str, Any]:
        units = [c for c in CONVERSIONS if any(c[0] in str(e.get("input", "")) for e in self.examples)] or list(CONVERSIONS)
        source, target, factor = rng.choice(units)
        n = rng.randint(2, 900) if "hard" in " ".join(self.axes.values()) else rng.randint(2, 60)
        subject = rng.choice(self.pool())
        text = f"The {subject} trip is {n} {source}. How many {target} is that?"
        value = n * factor
        answer_line = "Answer:" in (self.regex or "") + self.output_description
        if rng.random() < self.slip_rate:  # small models slip at arithmetic: the answer is off, the expression right
            value = value + rng.choice([-10, -1, 1, 2, 10]) if rng.random() < 0.5 else value * 10
            self.slips += 1
        output = f"{n} {source} x {factor} = {value} {target}.\nAnswer: {value}" if answer_line else str(value)
        record = {"input": text, "output": output}
        if '"expression"' in self.prompt:  # asked for the arithmetic behind the answer
            record["expression"] = f"{n} * {factor}" if rng.random() < 0.5 else f"{n} x {factor}"
        return record

    def _value(self, name: str, schema: dict[str, Any], rng: random.Random) -> Any:
        kind = schema.get("type")
        kind = next((t for t in kind if t != "null"), "string") if isinstance(kind, list) else kind
        if "enum" in schema:
            return rng.choice(schema["enum"])
        if kind == "object":
            return {key: self._value(key, sub, rng) for key, sub in (schema.get("properties") or {}).items()}
        if kind == "array":
            items = schema.get("items") or {}
            choices = items.get("enum")
            if choices:
                return sorted(rng.sample(choices, rng.randint(1, min(2, len(choices)))), key=choices.index)
            return [self._value(name, items, rng)]
        if kind in ("number", "integer"):
            return round(rng.uniform(0.2, 40), 1) if kind == "number" else rng.randint(1, 500)
        low = name.lower()
        if "date" in low:
            return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if "carrier" in low:
            return rng.choice(CARRIERS)
        if "number" in low or low.endswith("id"):
            return f"{rng.choice('ABCDEFGHJK')}{rng.choice('LMNPQRSTUVWXYZ')}{rng.randint(100000, 999999)}"
        if any(w in low for w in ("origin", "destination", "city", "place")):
            return rng.choice(PLACES)
        return rng.choice(self.pool())

    def _structured(self, rng: random.Random) -> dict[str, Any]:
        value = self._value("output", self.schema or {}, rng)
        facts = []
        for key, item in (value.items() if isinstance(value, dict) else []):
            shown = ", ".join(map(str, item)) if isinstance(item, list) else str(item)
            facts.append(f"{key.replace('_', ' ')} {shown}")
        base, _ = self._base(rng, None) if self.examples else ("", None)
        words = [w for w in _words(base) if len(w) >= 4][:6]
        opener = " ".join(rng.sample(words, len(words))) if words else rng.choice(self.pool())
        text = f"{opener[:1].upper()}{opener[1:]}: " + "; ".join(facts) + f". Sent {rng.choice(WEEKDAYS)}."
        return {"input": text, "output": value}

    def _sql(self, rng: random.Random) -> dict[str, Any]:
        columns = self.columns or ["id", "total"]
        table = (re.search(r"the (\w+) table", self.input_description) or re.search(r"(\w+)", "orders")).group(1)
        number = next((c for c in columns if c in ("total", "amount", "price", "quantity")), columns[-1])
        shown = rng.choice([c for c in columns if c != number] or columns)
        n, month = rng.randint(5, 900), rng.randint(1, 12)
        text = f"Which {shown} values have a {number} above {n} in month {month}?"
        dated = next((c for c in columns if "date" in c or c.endswith("_on") or c.endswith("_at")), None)
        where = f"{number} > {n}" + (f" AND strftime('%m', {dated}) = '{month:02d}'" if dated else "")
        return {"input": text, "output": f"SELECT {shown} FROM {table} WHERE {where};"}

    def _grounded(self, rng: random.Random) -> dict[str, Any]:
        lines = [x.strip().lstrip("-*# ").strip() for x in self.document.splitlines()]
        lines = [x for x in lines if len(x.split()) >= 4]
        passage = self.passage if self.passage else rng.choice(lines)
        words = [w for w in _words(passage) if len(w) >= 4 and w.lower() not in STOP]
        topic = " ".join(rng.sample(words, min(2, len(words)))).lower() if words else "this"
        asks = ["What is the rule on {t}?", "Can you tell me about {t}?", "How does {t} work for me?",
                "Quick question about {t}: what applies?", "I need to know about {t}, what do you say?"]
        return {"input": rng.choice(asks).format(t=topic), "output": passage}


def _line(prompt: str, pattern: str) -> str:
    match = re.search(pattern, prompt, re.MULTILINE)
    return match.group(1).strip() if match else ""


def _cased(new: str, old: str) -> str:
    return new.upper() if old.isupper() and len(old) > 1 else new.capitalize() if old[:1].isupper() else new
