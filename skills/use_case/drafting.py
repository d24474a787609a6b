"""The use-case draft the offline planner proposes: the contract, three measurable tenets, a name.

The tenets follow the person's words: a tone they named ("warm and human") becomes the tone tenet, a
line count ("two-line summaries") a code check, "answered with a number" a number-only format, SQL a
check that SQLite parses it, tool calling a JSON call against the named tools.
"""

from __future__ import annotations

import re
from typing import Any

from skills.use_case.infer import _LENGTH, STOP, Facts, label_pattern, singular

TASK_ROLE = {
    "classification": "categorizer", "extraction": "extractor", "generation": "writer",
    "question_answering": "answerer", "summarization": "summarizer", "rewriting": "rewriter",
    "math": "solver", "chat": "assistant", "text_to_sql": "SQL writer", "tool_calling": "tool caller",
}
_NUMERIC_FIELD = re.compile(r"(amount|total|price|cost|sum|quantity|qty|count|years|number_of|weight|_kg$|_lb$)", re.I)
NUMBER_PATTERN = "-?[\\d,]*\\.?\\d+"


def _code(name: str, description: str, metric: str, **params: Any) -> dict[str, Any]:
    return {"name": name, "description": description, "measured_by": "code", "metric": metric, "params": params}


def _judge(name: str, description: str) -> dict[str, Any]:
    from synth.scale import rubric_for

    rubric = rubric_for(description) + " Judge only this tenet."
    return {"name": name, "description": description, "measured_by": "judge", "rubric": rubric}


def _said(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def tone_tenet(facts: Facts | None, writer: str) -> dict[str, Any] | None:
    """A judge tenet in the person's own words for the voice of the answers, or None when they named none."""
    words = list(facts.tone) if facts is not None else []
    if not words:
        return None
    said = _said(words)
    if {"warm", "human"} & set(words):
        detail = ("it speaks to the reader like a caring person on the team would, acknowledges what they said, "
                  "and never reads like a template or a bot")
    elif {"plain english", "plain language", "simple"} & set(words):
        detail = "short sentences and everyday words a reader without special training understands, no jargon"
    else:
        detail = f"the reader would describe it as {said}"
    name = "_".join(re.sub(r"[^a-z]+", "_", w) for w in words[:3])[:60]
    return _judge(name, f"The {writer} sounds {said}: {detail}.")


def lines_tenet(lines: int, writer: str) -> dict[str, Any]:
    line = "[^\\n]*\\S[^\\n]*"
    pattern = f"^(?:{line}\\n){{{lines - 1}}}{line}$" if lines > 1 else f"^{line}$"
    return _code(f"{lines}_lines" if lines > 1 else "one_line", f"The {writer} is exactly {lines} line{'s' if lines > 1 else ''}.",
                 "regex", pattern=pattern)


def tenet_options(task: str, labels: list[str] | None = None, max_chars: int | None = None,
                  facts: Facts | None = None) -> tuple[list[dict], list[dict]]:
    """Three proposed tenets for a task type, and two alternatives for the third."""
    labels = labels or []
    limit = max_chars
    if task == "classification" and facts is not None and facts.facets:
        names = ", ".join(facts.facets)
        return ([_code("valid_tags", f"The answer is a JSON object with {names}, each from its allowed values.", "json_schema"),
                 _code("correct_tags", "Every value equals the reference's.", "exact_match", json=True),
                 _judge("tags_fit_the_text", "Each tag is supported by what the text says; no tag is missing or invented.")],
                [_code("json_only", "The answer contains the JSON object and nothing else.", "regex", pattern="^\\s*\\{[\\s\\S]*\\}\\s*$"),
                 _judge("handles_mixed_texts", "Texts that mix several topics or feelings get every tag that applies.")])
    if task == "classification":
        short = max((len(l) for l in labels), default=30)
        third = _judge("handles_unclear_inputs", "For unclear, abbreviated or unusual inputs the answer is the most "
                       "plausible label rather than a default one.")
        if labels and all(l.isdigit() for l in labels):  # a grading scale: being one point off is closer than two
            third = _code("within_one_point", "The grade is at most one point from the reference grade.",
                          "numeric_tolerance", tolerance=1)
        return ([_code("correct_label", "The answer is the right label for the input.", "label_match"),
                 _code("label_only", "The answer is exactly one of the allowed labels, with no other words.",
                       "regex", pattern=label_pattern(labels) if labels else "^\\S.*$"), third],
                [_code("short_answer", f"The answer is at most {short} characters long.", "length_bounds", max_chars=short),
                 _judge("consistent_with_rules", "Inputs covered by the team's rules get the label those rules give.")])
    if task == "extraction":
        return ([_code("valid_json", "The answer is a JSON object that matches the field schema.", "json_schema"),
                 _code("correct_fields", "Each field holds the value written in the input.", "f1", over="fields"),
                 _judge("no_invented_values", "A field missing from the input is null; no value is invented.")],
                [_code("json_only", "The answer contains the JSON object and nothing else.", "regex", pattern="^\\s*\\{[\\s\\S]*\\}\\s*$"),
                 _judge("normalized_values", "Dates are ISO 8601 (YYYY-MM-DD) and amounts are plain numbers without currency signs.")])
    if task == "tool_calling":
        return ([_code("valid_call", "The answer is one JSON tool call: a `tool` from the list and its `arguments`.", "json_schema"),
                 _code("right_call", "The tool and its arguments equal the reference call.", "exact_match", json=True),
                 _judge("right_arguments", "The arguments hold the values the request gives, and none it does not.")],
                [_code("json_only", "The answer contains the JSON call and nothing else.", "regex", pattern="^\\s*\\{[\\s\\S]*\\}\\s*$"),
                 _judge("asks_when_missing", "When the request lacks a required value the call leaves it out instead of inventing it.")])
    if task == "text_to_sql":
        return ([_code("sql_parses", "The answer is one SQL statement that SQLite parses.", "sql_valid"),
                 _code("matches_reference", "The query equals the reference query (ignoring case and spacing).", "exact_match"),
                 _judge("answers_the_question", "The query returns what the question asks for, using only tables and "
                        "columns of the schema.")],
                [_code("sql_only", "The answer is the SQL alone, with no explanation around it.", "regex",
                       pattern="(?is)^\\s*(```sql\\s*)?(select|with|insert|update|delete)\\b.*$"),
                 _judge("read_only", "The query only reads data (SELECT); it never changes or deletes rows.")])
    if task == "math" and facts is not None and facts.number_only:
        return ([_code("correct_answer", "The number equals the right answer.", "numeric_tolerance", tolerance=1e-6),
                 _code("number_only", "The answer is just the number, with no words or units.", "regex", pattern=f"^{NUMBER_PATTERN}$"),
                 _judge("units_as_asked", "The number is given in the unit the question asks for.")],
                [_code("near_answer", "The number is within 1% of the right answer.", "numeric_tolerance", relative=0.01),
                 _code("short_answer", "The answer is at most 20 characters.", "length_bounds", max_chars=20)])
    if task == "math":
        return ([_code("correct_answer", "The final number equals the right answer.", "numeric_tolerance", tolerance=1e-6),
                 _code("answer_format", "The answer ends with a line `Answer: <number>`.", "regex",
                       pattern="(?s).*Answer:\\s*-?[\\d,]*\\.?\\d+\\s*$"),
                 _judge("clear_steps", "The steps leading to the answer are shown, short and correct.")],
                [_code("concise", "The whole answer is at most 600 characters.", "length_bounds", max_chars=600),
                 _judge("units_right", "Units and quantities are carried correctly through every step.")])
    if task == "summarization":
        third = lines_tenet(facts.lines, "summary") if facts is not None and facts.lines else \
            _code("short_enough", f"The summary is at most {limit or 600} characters.", "length_bounds", max_chars=limit or 600)
        return ([_judge("faithful", "Every statement in the summary is supported by the input."),
                 _code("covers_key_points", "The summary covers the key points of the reference summary.", "rouge_l"), third],
                [_judge("neutral_tone", "The summary keeps a neutral tone and adds no opinion."),
                 _code("bullet_points", "The summary is a list of bullet points starting with '- '.", "regex", pattern="^(- .+\\n?)+$")])
    if task == "question_answering":
        return ([_code("correct_answer", "The answer matches the reference answer.", "f1"),
                 _judge("grounded", "The answer uses only facts from the given text and says so when it does not know."),
                 _code("concise", f"The answer is at most {limit or 600} characters.", "length_bounds", max_chars=limit or 600)],
                [_code("exact_answer", "The answer is exactly the reference answer.", "exact_match"),
                 _judge("cites_source", "The answer names the part of the text it relies on.")])
    if task == "rewriting":
        style = tone_tenet(facts, "rewrite") or _judge("target_style", "The rewrite reads in the requested style and register.")
        return ([_judge("keeps_meaning", "The rewrite says the same thing as the input; nothing is added or lost."), style,
                 _code("length_kept", f"The rewrite is at most {limit or 1500} characters.", "length_bounds", max_chars=limit or 1500)],
                [_judge("correct_grammar", "The rewrite has no spelling or grammar mistakes."),
                 _code("no_preamble", "The answer is only the rewrite, without an introduction like 'Here is'.", "regex",
                       pattern="^(?!\\s*(Here is|Sure|Certainly)).*")])
    writer = "reply" if task == "generation" else "answer"
    tone = tone_tenet(facts, writer) or _judge(
        "no_false_promises", f"The {writer} never promises refunds, dates or actions the team has not confirmed.")
    third = lines_tenet(facts.lines, writer) if facts is not None and facts.lines else \
        _code("length_ok", f"The {writer} is between 40 and {limit or 1200} characters.", "length_bounds",
              min_chars=40, max_chars=limit or 1200)
    alternatives = [_judge("asks_when_unclear", f"When the input lacks information the {writer} asks for it instead of guessing."),
                    _judge("specific_to_input", f"The {writer} refers to the details of this input, not generic phrases.")]
    if tone["name"] != "no_false_promises":
        alternatives[1] = _judge("no_false_promises", f"The {writer} never promises refunds, dates or actions the team has not confirmed.")
    return ([_judge("addresses_request", f"The {writer} addresses what the input says or asks."), tone, third], alternatives)


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


# -- the contract -------------------------------------------------------------------------------


def contract_for(task: str, subject: str, labels: list[str] | None, fields: list[str] | None,
                 max_chars: int | None, input_hint: str | None = None, output_hint: str | None = None,
                 facts: Facts | None = None) -> dict[str, Any]:
    item = singular(subject) if subject != "input" else "input"
    contract: dict[str, Any] = {"input_description": input_hint or f"One {item} as plain text."}
    if item.endswith("chatbot"):  # the model is the bot: its input is what people write to it
        item = "message"
        contract["input_description"] = input_hint or f"One message a person writes to the {singular(subject)}."
    if task == "classification" and facts is not None and facts.facets:
        names = ", ".join(f"{name} ({'one or more of' if _many(name) else 'one of'} {', '.join(values)})"
                          for name, values in facts.facets.items())
        contract.update(output_description=f"A JSON object with {names}.", output_format="json",
                        output_schema=facet_schema(facts.facets),
                        system_prompt=f"Tag the {item}. Answer with one JSON object and nothing else: {names}.")
    elif task == "classification":
        labels = labels or []
        graded = bool(labels) and all(l.isdigit() for l in labels)
        if graded and not input_hint:
            contract["input_description"] = "A question, the reference answer and the short answer to grade."
        contract.update(output_description="Exactly one label from the list, spelled as listed." if not graded else
                        f"One grade from {labels[0]} to {labels[-1]}, the number alone.", output_format="label",
                        labels=labels, system_prompt=classification_prompt(item, labels))
    elif task == "extraction":
        fields = fields or []
        contract.update(
            output_description="A JSON object with the fields " + ", ".join(fields) + "; null for a field not in the input.",
            output_format="json", output_schema=json_schema_for(fields),
            system_prompt=f"Extract these fields from the {item}: {', '.join(fields)}. Answer with one JSON object "
                          "and nothing else; use null for a field that is not in the text.")
    elif task == "tool_calling":
        tools = (facts.tools if facts is not None else None) or []
        contract.update(input_description=input_hint or "One request from a user, in their words.",
                        output_description="One JSON tool call: {\"tool\": <name>, \"arguments\": {...}}; tools: " + ", ".join(tools) + ".",
                        output_format="json", output_schema=tool_schema(tools),
                        system_prompt="Answer with one JSON object {\"tool\": ..., \"arguments\": {...}} calling one of: "
                                      + ", ".join(tools) + ". No other text.")
    elif task == "text_to_sql":
        contract.update(input_description=input_hint or "One question in plain words (with the database schema when it varies).",
                        output_description="One SQL query that answers the question, and nothing else.",
                        system_prompt="Write one SQL query that answers the question. Answer with the SQL only.")
    elif task == "math" and facts is not None and facts.number_only:
        contract.update(output_description="Only the number, with no words or units.", output_regex=NUMBER_PATTERN,
                        system_prompt="Solve the problem. Answer with the number only.")
    elif task == "math":
        contract.update(output_description="A short worked solution ending with a line `Answer: <number>`.",
                        system_prompt="Solve the problem step by step, briefly. End with a line `Answer: <number>`.")
    else:
        tone = f" Sound {_said(facts.tone)}." if facts is not None and facts.tone else ""
        lines = f" Use exactly {facts.lines} lines." if facts is not None and facts.lines else ""
        verb = {"generation": "A reply to the input", "summarization": "A summary of the input",
                "question_answering": "An answer to the question", "rewriting": "The input rewritten",
                "chat": "A helpful answer"}[task]
        contract.update(output_description=output_hint or f"{verb}, in plain text.",
                        system_prompt={"generation": f"Write a reply to this {item}.",
                                       "summarization": f"Summarize this {item}.",
                                       "question_answering": "Answer the question using the text given.",
                                       "rewriting": f"Rewrite this {item} as requested.",
                                       "chat": "You are a helpful assistant."}[task] + tone + lines)
        if task == "rewriting" and facts is not None and {"plain english", "plain language"} & set(facts.tone):
            contract["system_prompt"] = f"Rewrite this {item} in plain English that anyone can understand; keep its meaning."
        if max_chars:
            contract["max_output_chars"] = max_chars
    return contract


def _many(name: str) -> bool:
    return name.endswith("s") and not name.endswith("ss")


def classification_prompt(item: str, labels: list[str]) -> str:
    if labels and all(l.isdigit() for l in labels):
        return f"Grade the answer from {labels[0]} to {labels[-1]}. Answer with the grade only: one of {', '.join(labels)}."
    return f"Categorize the {item}. Answer with exactly one of: {', '.join(labels)}."


def json_schema_for(fields: list[str]) -> dict[str, Any]:
    props = {f: {"type": ["number", "null"] if _NUMERIC_FIELD.search(f) else ["string", "null"]} for f in fields}
    return {"type": "object", "properties": props, "required": list(fields), "additionalProperties": False}


def facet_schema(facets: dict[str, list[str]]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name, values in facets.items():
        one = {"type": "string", "enum": list(values)}
        props[name] = {"type": "array", "items": one, "minItems": 1, "uniqueItems": True} if _many(name) else one
    return {"type": "object", "properties": props, "required": list(facets), "additionalProperties": False}


def tool_schema(tools: list[str]) -> dict[str, Any]:
    tool: dict[str, Any] = {"type": "string", "enum": list(tools)} if tools else {"type": "string"}
    return {"type": "object", "properties": {"tool": tool, "arguments": {"type": "object"}},
            "required": ["tool", "arguments"], "additionalProperties": False}


def use_case_name(task: str, subject: str, description: str) -> str:
    role = TASK_ROLE.get(task, "model")
    if task in ("generation", "chat") and re.search(r"\brepl(y|ies)\b", description, re.I):
        role = "reply drafter"
    if task == "classification" and re.search(r"\bgrad(e|es|ing)\b", description, re.I):
        role = "grader"
    name = f"{singular(subject)} {role}" if subject != "input" else f"{task.replace('_', ' ')} model"
    return (name[:1].upper() + name[1:])[:80]
