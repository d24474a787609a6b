"""Use cases of every task family (a sample of each, built by hand so the tests do not hang on the interview)."""

from __future__ import annotations

from typing import Any

from specs.use_case import UseCaseSpec

QUEUES = ["billing", "technical", "account", "shipping", "other"]
INTENTS = ["lights_on", "lights_off", "set_temperature", "play_music", "lock_door"]
TAGS_SCHEMA = {"type": "object", "required": ["sentiment", "topics"], "additionalProperties": False,
               "properties": {"sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
                              "topics": {"type": "array", "items": {"type": "string",
                                                                    "enum": ["price", "quality", "delivery", "support"]}}}}
SHIPMENT_SCHEMA = {"type": "object", "required": ["tracking_number", "carrier", "weight_kg"],
                   "properties": {"tracking_number": {"type": ["string", "null"]}, "carrier": {"type": ["string", "null"]},
                                  "weight_kg": {"type": ["number", "null"]}}}


def _judge(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "description": text, "measured_by": "judge", "rubric": f"Score 5 when: {text}"}


def _code(name: str, metric: str, text: str = "checked by code", **params: Any) -> dict[str, Any]:
    return {"name": name, "description": text, "measured_by": "code", "metric": metric, "params": params}


def _uc(name: str, task: str, problem: str, contract: dict[str, Any], tenets: list[dict[str, Any]]) -> UseCaseSpec:
    return UseCaseSpec.model_validate({"name": name, "business_problem": problem, "primary_users": "the team",
                                       "task_type": task, "contract": contract, "success_tenets": tenets})


FAMILIES: dict[str, tuple[UseCaseSpec, str]] = {
    "support_queues": (_uc("Support router", "classification", "Route support emails to one of five queues.",
                           {"input_description": "One support email.", "output_description": "The queue.",
                            "output_format": "label", "labels": QUEUES},
                           [_code("correct_label", "label_match"), _judge("unclear", "Unclear emails go to other.")]), "sft"),
    "review_tags": (_uc("Review tagger", "classification", "Tag product reviews with sentiment and topics.",
                        {"input_description": "One product review.", "output_description": "A JSON object of tags.",
                         "output_format": "json", "output_schema": TAGS_SCHEMA},
                        [_code("valid_tags", "json_schema")]), "sft"),
    "shipment_fields": (_uc("Shipment extractor", "extraction", "Extract shipment fields from logistics emails as JSON.",
                            {"input_description": "One logistics email.", "output_description": "The fields as JSON.",
                             "output_format": "json", "output_schema": SHIPMENT_SCHEMA},
                            [_code("valid_json", "json_schema")]), "sft"),
    "unit_problems": (_uc("Unit conversions", "math", "Answer unit-conversion word problems with a number.",
                          {"input_description": "A word problem.",
                           "output_description": "A short worked solution ending with a line `Answer: <number>`.",
                           "output_regex": r"(?s).*Answer:\s*-?[\d,]*\.?\d+\s*$"},
                          [_code("correct_answer", "numeric_tolerance", tolerance=1e-6)]), "sft"),
    "hotel_replies": (_uc("Hotel replies", "generation", "Friendly replies to hotel reviews.",
                          {"input_description": "One guest review.", "output_description": "A warm reply.",
                           "max_output_chars": 600},
                          [_judge("warm", "The reply sounds warm and human.")]), "preference"),
    "bug_summaries": (_uc("Bug summaries", "summarization", "Two-line summaries of bug reports.",
                          {"input_description": "One bug report.", "output_description": "Two lines.",
                           "max_output_chars": 300},
                          [_code("rouge", "rouge_l"), _judge("faithful", "Only what the report says.")]), "sft"),
    "legal_rewrites": (_uc("Plain legal clauses", "rewriting", "Plain-English rewrites of legal clauses.",
                           {"input_description": "One legal clause.", "output_description": "The clause in plain English."},
                           [_judge("keeps_meaning", "The rewrite keeps the clause's meaning.")]), "sft"),
    "home_intents": (_uc("Smart-home intents", "classification", "Intents of smart-home commands.",
                         {"input_description": "One spoken command.", "output_description": "The intent.",
                          "output_format": "label", "labels": INTENTS},
                         [_code("correct_label", "label_match")]), "sft"),
    "answer_grades": (_uc("Answer grader", "classification", "Grade short answers on a scale from 1 to 5.",
                          {"input_description": "A question and a student's short answer.", "output_description": "A grade.",
                           "output_format": "label", "labels": ["1", "2", "3", "4", "5"]},
                          [_code("within_one_point", "numeric_tolerance", tolerance=1)]), "sft"),
    "faq_bot": (_uc("FAQ bot", "question_answering", "Answer customer questions from our FAQ document.",
                    {"input_description": "A customer question.", "output_description": "An answer from the FAQ."},
                    [_code("f1", "f1"), _judge("grounded", "Every claim is in the FAQ.")]), "sft"),
    "text_to_sql": (_uc("Orders SQL", "text_to_sql", "Turn questions about orders into SQLite queries.",
                        {"input_description": "A question about the orders table (id, customer, total, placed_on).",
                         "output_description": "One SQLite SELECT statement."},
                        [_code("exact", "exact_match")]), "sft"),
}
FAQ = ("Returns: items can be returned within 30 days with the receipt.\n"
       "Shipping: standard delivery takes 3 to 5 working days.\n"
       "Opening hours: the shop opens at 9 and closes at 18, Monday to Saturday.\n")
