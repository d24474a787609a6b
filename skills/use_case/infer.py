"""Heuristics of the offline use-case planner: what a plain description says, and the draft it leads to.

Everything here is deterministic text work: keywords give the task type, lists in the text give
labels or fields, phrases like "for our support agents" give the users. What cannot be read from the
text is left as None so the guide asks for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

TASK_PATTERNS: list[tuple[str, str]] = [
    ("extraction", r"\b(extract\w*|pull\w* out|parse[sd]?|parsing)\b|\bfield extraction\b"),
    ("math", r"\b(arithmetic|math\w*|word problems?|calculat\w*|equations?)\b"),
    ("classification", r"\b(categori[sz]\w*|classif\w*|label(s|ing|led)?\b|tag(s|ging)?\b|triage\w*|sort\w*\b.{0,40}?\binto\b|route\w*|sentiment|spam)"),
    ("summarization", r"\b(summar\w*|tl;?dr|condens\w*|digest)\b"),
    ("rewriting", r"\b(rewrit\w*|rephras\w*|paraphras\w*|translat\w*|simplif\w*|proofread\w*|polish\w*)\b"),
    ("question_answering", r"\b(answer\w* (\w+ )?questions|q&a|faq|question answering)\b"),
    ("generation", r"\b(draft\w*|writ(e|es|ing)\b|generat\w*|compos\w*|repl(y|ies)|respon[sd]\w*)"),
    ("chat", r"\b(chat\w*|conversation\w*)\b"),
]
"""Task type from keywords, first match wins (extraction before classification: 'extract labels')."""

TASK_ROLE = {
    "classification": "categorizer", "extraction": "extractor", "generation": "writer",
    "question_answering": "answerer", "summarization": "summarizer", "rewriting": "rewriter",
    "math": "solver", "chat": "assistant",
}

NOUNS = (
    "transaction", "invoice", "receipt", "email", "e-mail", "ticket", "review", "message", "request",
    "document", "article", "contract", "word problem", "problem", "question", "tweet", "post",
    "resume", "cv", "order", "note", "report", "comment", "claim", "log", "chat", "call",
    "transcript", "description", "listing", "form", "statement", "complaint", "inquiry", "inquiries", "query", "queries",
    "expense", "payment", "purchase", "product", "record", "entry", "entries", "case",
)
"""Singular stems of things people customize models for; the subject is the first one named."""
STOP = {"our", "the", "a", "an", "my", "their", "your", "all", "each", "every", "incoming", "of", "into", "from",
        "to", "for", "and", "that", "which", "these", "those", "some", "any", "new", "model", "in", "on", "with",
        "categorizes", "categorize", "classify", "classifies", "extract", "extracts", "draft", "drafts", "solve",
        "solves", "summarize", "summarizes", "answer", "answers", "rewrite", "rewrites", "write", "writes",
        "label", "labels", "tag", "tags", "sort", "sorts", "triage", "route", "routes", "need", "want", "i", "we",
        "translate", "translates", "pull", "pulls", "out", "help", "helps", "read", "reads", "check", "checks"}

NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_COUNT = re.compile(r"\b(\d{1,3}|" + "|".join(NUMBER_WORDS) + r")\s+(?:\w+\s+)?(categories|classes|labels|buckets|types|groups|tags)\b", re.I)
_LIST_INTRO = re.compile(r"\b(?:into|as(?: either)?|labels?:|categories:|classes:|buckets:|one of:?|either)\s+", re.I)
_FIELDS_INTRO = re.compile(
    r"\b(?:extract\w*|pull\w* out|fields?:?|capture)\s+(?:the\s+|their\s+|its\s+)?(?:fields?\s*:?\s*)?(.+?)"
    r"(?:\s+(?:from|out of|in)\s+|[.;!?](?:\s|$)|$)", re.I)
_USERS = re.compile(
    r"\b(?:for|used by|by|helps?|so that|so|to help)\s+((?:(?:our|the|my|their)\s+)?(?:[\w-]+\s+){0,3}?"
    r"(?:team|teams|agents|staff|analysts|accountants|engineers|reviewers|customers|users|clerks|department|"
    r"app|application|pipeline|system|service|bot|students|teachers|lawyers|doctors|nurses|managers|operators|"
    r"employees|members|visitors|readers|patients|clients|partners|developers|editors|writers|auditors))\b", re.I)
_CONSTRAINT = re.compile(r"\b(must|never|always|should not|shouldn't|don't|do not|no more than|at most|within|"
                         r"under \d+|only in|in (english|german|french|spanish))\b", re.I)
_INPUT = re.compile(r"\b(?:each|every|an?|the|one)\s+input\s+(?:is|will be)\s+([^;.]+)", re.I)
_OUTPUT = re.compile(r"\b(?:each|every|an?|the|one)\s+(?:answer|output|reply)\s+(?:is|should be|must be)\s+([^;.]+)", re.I)
_LENGTH = re.compile(r"\b(?:under|at most|no more than|max(?:imum)?|within)\s+(\d+)\s*(words|characters|chars|sentences)\b", re.I)

SUGGESTED_LABELS: dict[str, list[str]] = {
    "transaction": ["groceries", "dining", "transport", "rent", "utilities", "entertainment", "shopping",
                    "health", "travel", "income", "transfers", "fees"],
    "ticket": ["billing", "technical issue", "account access", "feature request", "cancellation", "other"],
    "email": ["urgent", "needs reply", "fyi", "spam"],
    "review": ["positive", "neutral", "negative"],
    "message": ["question", "complaint", "praise", "other"],
}
SUGGESTED_FIELDS: dict[str, list[str]] = {
    "invoice": ["invoice_number", "invoice_date", "vendor_name", "total_amount", "currency", "due_date"],
    "receipt": ["merchant", "date", "total_amount", "currency", "payment_method"],
    "resume": ["name", "email", "phone", "current_title", "years_experience", "skills"],
    "email": ["sender", "date", "subject", "request", "deadline"],
    "contract": ["parties", "effective_date", "term", "governing_law", "termination_notice"],
    "order": ["order_id", "customer_name", "items", "total_amount", "shipping_address"],
}
_NUMERIC_FIELD = re.compile(r"(amount|total|price|cost|sum|quantity|qty|count|years|number_of)", re.I)


@dataclass
class Facts:
    """What the description says, as far as the heuristics can tell (None = not said)."""

    description: str
    task_type: str | None = None
    subject: str = "input"
    labels: list[str] | None = None
    label_count: int | None = None
    fields: list[str] | None = None
    primary_users: str | None = None
    base_model: str | None = None
    constraints: list[str] = field(default_factory=list)
    max_chars: int | None = None
    input_hint: str | None = None
    """What one input is, when the description says ("each input is one transaction line ...")."""
    output_hint: str | None = None
    """What one answer is, when the description says ("the answer is just the category")."""


def infer_task(text: str) -> str | None:
    for task, pattern in TASK_PATTERNS:
        if re.search(pattern, text, re.I):
            return task
    return None


def split_items(text: str) -> list[str]:
    """'food, travel and rent' / '1. food\\n2. travel' -> ['food', 'travel', 'rent'] (order kept, no repeats)."""
    text = re.sub(r"\s+(?:and|or|&)\s+", ",", text.strip())
    items = []
    for raw in re.split(r"[,;\n/|]+", text):
        item = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", raw).strip().strip("\"'`“”.:()[]").strip()
        item = re.sub(r"^(?:and|or)\s+", "", item)
        if item and item.lower() not in [i.lower() for i in items]:
            items.append(item)
    return items


def _labels_from(text: str) -> list[str] | None:
    for match in _LIST_INTRO.finditer(text):
        rest = re.split(r"[.;!?](?:\s|$)", text[match.end():], maxsplit=1)[0]
        rest = re.sub(r"^(?:the\s+)?(?:categories|classes|labels|buckets)\s*:?\s*", "", rest, flags=re.I)
        body = re.split(r"\s+(?:for|so|because|based on|using|with|from|by|to)\s+", rest, maxsplit=1)[0]
        if re.match(r"(our|their|my|the|your|a|an)\b|\d+\b", body.strip(), re.I):
            continue
        items = split_items(body)
        if len(items) >= 2 and all(len(i.split()) <= 3 for i in items):
            return items
    return None


def _fields_from(text: str) -> list[str] | None:
    for match in _FIELDS_INTRO.finditer(text):
        items = [snake(i) for i in split_items(match.group(1))]
        items = [i for i in items if i and i not in ("fields", "data", "information", "info", "json", "details")]
        if len(items) >= 2 and all(len(i.split("_")) <= 4 for i in items):
            return items
    return None


def snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60]


def singular(phrase: str) -> str:
    words = phrase.split()
    if not words:
        return phrase
    last = words[-1]
    if last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith(("sses", "xes", "ches")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    return " ".join([*words[:-1], last])


def _subject(text: str) -> str:
    lowered = text.lower()
    best = None
    for noun in NOUNS:
        match = re.search(r"\b" + re.escape(noun) + r"(s|es)?\b", lowered)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), match.group(0))
    if best is None:
        return "input"
    after = re.match(r"\s+([a-z-]+)", lowered[best[0] + len(best[1]):])
    if after and any(re.fullmatch(re.escape(noun) + r"(s|es)?", after.group(1)) for noun in NOUNS):
        best = (best[0], f"{best[1]} {after.group(1)}")  # "payment emails": the last noun names the thing
    before = [w for w in re.findall(r"[a-z][a-z-]*", lowered[: best[0]])][-2:]
    while before and before[0] in STOP:
        before = before[1:]
    if before and before[-1] in STOP:
        before = []
    return " ".join([*before, best[1]])


def infer(description: str) -> Facts:
    """Read what the person's description says."""
    text = " ".join(description.split())
    facts = Facts(description=text, task_type=infer_task(text), subject=_subject(text))
    if facts.task_type == "classification":
        facts.labels = _labels_from(text)
    count = _COUNT.search(text)
    if count:
        word = count.group(1).lower()
        facts.label_count = int(word) if word.isdigit() else NUMBER_WORDS.get(word)
    if facts.task_type == "extraction":
        facts.fields = _fields_from(text)
    users = _USERS.search(text)
    if users:
        facts.primary_users = users.group(1)
    model = re.search(r"(?:^|\s)((?:~|\.{1,2})?/[\w.~/-]*[\w-])|(embedded:[\w.-]+|\b[\w.-]+/[\w.-]*\d[\w.-]*\b)", text)
    if model:
        facts.base_model = model.group(1) or model.group(2)
    sentences = re.split(r"(?<=[.!?])\s+", text)
    facts.constraints = [s.strip() for s in sentences[1:] if _CONSTRAINT.search(s)]
    length = _LENGTH.search(text)
    if length:
        n, unit = int(length.group(1)), length.group(2).lower()
        facts.max_chars = n * {"words": 7, "sentences": 150}.get(unit, 1)
    for pattern, name in ((_INPUT, "input_hint"), (_OUTPUT, "output_hint")):
        found = pattern.search(text)
        if found:
            phrase = found.group(1).strip()
            setattr(facts, name, phrase[:1].upper() + phrase[1:] + ".")
    return facts


def suggested(table: dict[str, list[str]], subject: str) -> list[str] | None:
    for key, values in table.items():
        if key in subject:
            return values
    return None


def label_pattern(labels: list[str]) -> str:
    return "^(?:" + "|".join(re.escape(label) for label in labels) + ")$"


# -- tenets -------------------------------------------------------------------------------------


def _code(name: str, description: str, metric: str, **params: Any) -> dict[str, Any]:
    return {"name": name, "description": description, "measured_by": "code", "metric": metric, "params": params}


def _judge(name: str, description: str) -> dict[str, Any]:
    from synth.scale import rubric_for

    rubric = rubric_for(description) + " Judge only this tenet."
    return {"name": name, "description": description, "measured_by": "judge", "rubric": rubric}


def tenet_options(task: str, labels: list[str] | None = None, max_chars: int | None = None) -> tuple[list[dict], list[dict]]:
    """Three proposed tenets for a task type, and two alternatives for the third."""
    labels = labels or []
    limit = max_chars
    if task == "classification":
        short = max((len(l) for l in labels), default=30)
        return ([_code("correct_label", "The answer is the right label for the input.", "label_match"),
                 _code("label_only", "The answer is exactly one of the allowed labels, with no other words.",
                       "regex", pattern=label_pattern(labels) if labels else "^\\S.*$"),
                 _judge("handles_unclear_inputs", "For unclear, abbreviated or unusual inputs the answer is the most "
                        "plausible label rather than a default one.")],
                [_code("short_answer", f"The answer is at most {short} characters long.", "length_bounds", max_chars=short),
                 _judge("consistent_with_rules", "Inputs covered by the team's categorization rules get the label those rules give.")])
    if task == "extraction":
        return ([_code("valid_json", "The answer is a JSON object that matches the field schema.", "json_schema"),
                 _code("correct_fields", "Each field holds the value written in the input.", "f1", over="fields"),
                 _judge("no_invented_values", "A field missing from the input is null; no value is invented.")],
                [_code("json_only", "The answer contains the JSON object and nothing else.", "regex", pattern="^\\s*\\{[\\s\\S]*\\}\\s*$"),
                 _judge("normalized_values", "Dates are ISO 8601 (YYYY-MM-DD) and amounts are plain numbers without currency signs.")])
    if task == "math":
        return ([_code("correct_answer", "The final number equals the right answer.", "numeric_tolerance", tolerance=1e-6),
                 _code("answer_format", "The answer ends with a line `Answer: <number>`.", "regex",
                       pattern="(?s).*Answer:\\s*-?[\\d,]*\\.?\\d+\\s*$"),
                 _judge("clear_steps", "The steps leading to the answer are shown, short and correct.")],
                [_code("concise", "The whole answer is at most 600 characters.", "length_bounds", max_chars=600),
                 _judge("units_right", "Units and quantities are carried correctly through every step.")])
    if task == "summarization":
        return ([_judge("faithful", "Every statement in the summary is supported by the input."),
                 _code("covers_key_points", "The summary covers the key points of the reference summary.", "rouge_l"),
                 _code("short_enough", f"The summary is at most {limit or 600} characters.", "length_bounds", max_chars=limit or 600)],
                [_judge("neutral_tone", "The summary keeps a neutral tone and adds no opinion."),
                 _code("bullet_points", "The summary is a list of bullet points starting with '- '.", "regex", pattern="^(- .+\\n?)+$")])
    if task == "question_answering":
        return ([_code("correct_answer", "The answer matches the reference answer.", "f1"),
                 _judge("grounded", "The answer uses only facts from the input and says so when it does not know."),
                 _code("concise", f"The answer is at most {limit or 600} characters.", "length_bounds", max_chars=limit or 600)],
                [_code("exact_answer", "The answer is exactly the reference answer.", "exact_match"),
                 _judge("cites_source", "The answer names the part of the input it relies on.")])
    if task == "rewriting":
        return ([_judge("keeps_meaning", "The rewrite says the same thing as the input; nothing is added or lost."),
                 _judge("target_style", "The rewrite reads in the requested style and register."),
                 _code("length_kept", f"The rewrite is at most {limit or 1500} characters.", "length_bounds", max_chars=limit or 1500)],
                [_judge("correct_grammar", "The rewrite has no spelling or grammar mistakes."),
                 _code("no_preamble", "The answer is only the rewrite, without an introduction like 'Here is'.", "regex",
                       pattern="^(?!\\s*(Here is|Sure|Certainly)).*")])
    writer = "reply" if task == "generation" else "answer"
    return ([_judge("addresses_request", f"The {writer} addresses what the input asks and gives a clear next step."),
             _judge("right_tone", f"The {writer} is polite and professional, in the voice of the team."),
             _code("length_ok", f"The {writer} is between 40 and {limit or 1200} characters.", "length_bounds",
                   min_chars=40, max_chars=limit or 1200)],
            [_judge("no_false_promises", f"The {writer} never promises refunds, dates or actions the team has not confirmed."),
             _judge("asks_when_unclear", f"When the input lacks information the {writer} asks for it instead of guessing.")])


def custom_tenet(text: str) -> dict[str, Any]:
    """A tenet from the person's own words: a length rule becomes a code check, anything else a judge rubric."""
    text = " ".join(text.split()).rstrip(".")
    length = _LENGTH.search(text)
    if length:
        n, unit = int(length.group(1)), length.group(2).lower()
        limit = n * {"words": 7, "sentences": 150}.get(unit, 1)
        return _code("length_limit", text + ".", "length_bounds", max_chars=limit)
    if re.search(r"\bvalid json\b", text, re.I):
        return _code("valid_json", text + ".", "json_valid")
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP][:4]
    return _judge("_".join(words) or "custom_tenet", text + ".")


# -- the draft ----------------------------------------------------------------------------------


def contract_for(task: str, subject: str, labels: list[str] | None, fields: list[str] | None,
                 max_chars: int | None, input_hint: str | None = None, output_hint: str | None = None) -> dict[str, Any]:
    item = singular(subject) if subject != "input" else "input"
    contract: dict[str, Any] = {"input_description": input_hint or f"One {item} as plain text."}
    if task == "classification":
        labels = labels or []
        contract.update(output_description="Exactly one label from the list, spelled as listed.", output_format="label",
                        labels=labels, system_prompt=classification_prompt(item, labels))
    elif task == "extraction":
        fields = fields or []
        contract.update(
            output_description="A JSON object with the fields " + ", ".join(fields) + "; null for a field not in the input.",
            output_format="json", output_schema=json_schema_for(fields),
            system_prompt=f"Extract these fields from the {item}: {', '.join(fields)}. Answer with one JSON object "
                          "and nothing else; use null for a field that is not in the text.")
    elif task == "math":
        contract.update(output_description="A short worked solution ending with a line `Answer: <number>`.",
                        system_prompt="Solve the problem step by step, briefly. End with a line `Answer: <number>`.")
    else:
        verb = {"generation": "A reply to the input", "summarization": "A summary of the input",
                "question_answering": "An answer to the question", "rewriting": "The input rewritten",
                "chat": "A helpful answer"}[task]
        contract.update(output_description=output_hint or f"{verb}, in plain text.",
                        system_prompt={"generation": f"Write a reply to this {item}.",
                                       "summarization": f"Summarize this {item}.",
                                       "question_answering": "Answer the question using the text given.",
                                       "rewriting": f"Rewrite this {item} as requested.",
                                       "chat": "You are a helpful assistant."}[task])
        if max_chars:
            contract["max_output_chars"] = max_chars
    return contract


def classification_prompt(item: str, labels: list[str]) -> str:
    return f"Categorize the {item}. Answer with exactly one of: {', '.join(labels)}."


def json_schema_for(fields: list[str]) -> dict[str, Any]:
    props = {f: {"type": ["number", "null"] if _NUMERIC_FIELD.search(f) else ["string", "null"]} for f in fields}
    return {"type": "object", "properties": props, "required": list(fields), "additionalProperties": False}


def use_case_name(task: str, subject: str, description: str) -> str:
    role = TASK_ROLE.get(task, "model")
    if task == "generation" and re.search(r"\brepl(y|ies)\b", description, re.I):
        role = "reply drafter"
    name = f"{singular(subject)} {role}" if subject != "input" else f"{task.replace('_', ' ')} model"
    return (name[:1].upper() + name[1:])[:80]
