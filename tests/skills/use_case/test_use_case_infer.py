"""What the offline planner reads from a description, and how it reads requested changes."""

from __future__ import annotations

from typing import get_args

import pytest

from skills.toolkit import ToolError
from skills.use_case.edits import is_approval, parse_edits
from skills.use_case.drafting import contract_for, custom_tenet, tenet_options
from skills.use_case.infer import infer, label_pattern
from skills.use_case.specfile import apply_changes, split_path
from specs.use_case import IOContract, TaskType, Tenet


@pytest.mark.parametrize(
    ("description", "labels"),
    [
        ("Sort incoming customer messages into one of these queues: REFUND, SHIPPING_DELAY, COMPLAINT, OTHER",
         ["REFUND", "SHIPPING_DELAY", "COMPLAINT", "OTHER"]),
        ("Sort incoming customer messages into one of these queues: REFUND, SHIPPING_DELAY, COMPLAINT, OTHER.",
         ["REFUND", "SHIPPING_DELAY", "COMPLAINT", "OTHER"]),
        ("Classify tweets by sentiment (positive, negative, neutral)", ["positive", "negative", "neutral"]),
        ("Route emails to billing, tech support, sales, and hr queues", ["billing", "tech support", "sales", "hr"]),
        ("Categories: Billing; Technical; Sales; Other. Classify our support chats.",
         ["Billing", "Technical", "Sales", "Other"]),
        ("Recognize intents of smart-home commands like turn_on_light, set_thermostat, lock_door",
         ["turn_on_light", "set_thermostat", "lock_door"]),
        ("Tell me whether each review is Positive or Negative", ["Positive", "Negative"]),
        ("Decide whether an incoming email is spam or not", ["spam", "not spam"]),
        ("classify card payments into 'Food & Drink', 'Travel', 'Bills & Utilities' or 'Other'",
         ["Food & Drink", "Travel", "Bills & Utilities", "Other"]),
        ("Put bug reports into crash, ui or docs; we have 300 of them in a CSV", ["crash", "ui", "docs"]),
        ("Route our IT helpdesk tickets to NETWORK, HARDWARE, SOFTWARE, ACCESS or OTHER. We have a CSV of them.",
         ["NETWORK", "HARDWARE", "SOFTWARE", "ACCESS", "OTHER"]),
        ("Send each ticket to the right team: billing, shipping, returns", ["billing", "shipping", "returns"]),
        ("Assign tickets to one of Billing, Shipping, Returns", ["Billing", "Shipping", "Returns"]),
        ("Map each message to refund, exchange or other", ["refund", "exchange", "other"]),
    ],
)
def test_labels_named_in_the_many_ways_people_write_them(description, labels):
    facts = infer(description)
    assert facts.task_type == "classification" and facts.labels == labels


def test_whether_in_a_reply_task_is_no_label_list():
    facts = infer("Draft friendly replies to hotel reviews, whether the guest is happy or upset")
    assert facts.task_type == "generation" and facts.labels is None


@pytest.mark.parametrize(
    ("description", "task", "labels", "count", "users"),
    [
        ("I need a model that categorizes bank transactions into our 12 categories.", "classification", None, 12, None),
        ("Sort my expenses into food, travel, rent.", "classification", ["food", "travel", "rent"], None, None),
        ("Classify support tickets into billing, technical issue, account access or other.", "classification",
         ["billing", "technical issue", "account access", "other"], None, None),
        ("Tag customer messages as question, complaint or praise so the support team can route them",
         "classification", ["question", "complaint", "praise"], None, "the support team"),
        ("Label product reviews with one of our five sentiment labels", "classification", None, 5, None),
        ("Extract the invoice number, date and total from our supplier invoices", "extraction", None, None, None),
        ("Draft replies to customer support emails for our support agents.", "generation", None, None, "our support agents"),
        ("Solve arithmetic word problems", "math", None, None, None),
        ("Summarize meeting transcripts for the sales team", "summarization", None, None, "the sales team"),
        ("Answer questions about our HR policy for employees", "question_answering", None, None, "employees"),
        ("Rewrite product descriptions in a friendly tone", "rewriting", None, None, None),
        ("A chatbot for our website visitors", "chat", None, None, "our website visitors"),
        ("Something for my shop", None, None, None, None),
    ],
)
def test_infer_reads_task_labels_and_users(description, task, labels, count, users):
    facts = infer(description)
    assert (facts.task_type, facts.labels, facts.label_count, facts.primary_users) == (task, labels, count, users)


def test_infer_reads_fields_models_lengths_and_constraints():
    facts = infer("Extract the sender, date and amount from payment emails. Never guess a missing amount.")
    assert facts.fields == ["sender", "date", "amount"] and facts.subject == "payment emails"
    assert facts.constraints == ["Never guess a missing amount."]
    facts = infer("Fine-tune Qwen/Qwen2.5-0.5B-Instruct to summarize contracts in under 100 words")
    assert facts.base_model == "Qwen/Qwen2.5-0.5B-Instruct" and facts.max_chars == 700


@pytest.mark.parametrize("task", get_args(TaskType))
def test_every_task_type_gets_three_valid_tenets_and_two_alternatives(task):
    labels = ["a", "b"] if task == "classification" else None
    proposed, alternatives = tenet_options(task, labels)
    tenets = [Tenet.model_validate(t) for t in proposed + alternatives]
    assert len(proposed) == 3 and len(alternatives) == 2
    assert len({t.name for t in tenets}) == 5
    assert any(t.measured_by == "code" for t in tenets[:3]), "at least one tenet is measured by code"
    fields = ["total", "date"] if task == "extraction" else None
    IOContract.model_validate(contract_for(task, "bank transactions", labels, fields, None))


def test_classification_contract_and_label_regex():
    contract = contract_for("classification", "bank transactions", ["food", "rent"], None, None)
    assert contract["system_prompt"] == "Categorize the bank transaction. Answer with exactly one of: food, rent."
    assert label_pattern(["a.b", "c"]) == "^(?:a\\.b|c)$"


def test_custom_tenets_from_the_persons_words():
    assert custom_tenet("Replies must be under 50 words")["params"] == {"max_chars": 350}
    assert custom_tenet("Always valid JSON")["metric"] == "json_valid"
    judged = custom_tenet("Mentions the order number when one is given")
    assert judged["measured_by"] == "judge" and judged["name"] == "mentions_order_number_when"
    Tenet.model_validate(judged)


SPEC = {
    "name": "Categorizer",
    "primary_users": "app",
    "contract": {"labels": ["food", "rent"], "output_format": "label",
                 "system_prompt": "Categorize the bank transaction. Answer with exactly one of: food, rent."},
    "constraints": [],
    "success_tenets": [
        {"name": "correct_label", "metric": "label_match"},
        {"name": "label_only", "metric": "regex", "params": {"pattern": "^(?:food|rent)$"}},
        {"name": "handles_unclear_inputs", "measured_by": "judge"},
    ],
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rename tenet label_only to exact_label", {"success_tenets[1].name": "exact_label"}),
        ("rename tenet 3 to fallback", {"success_tenets[2].name": "fallback"}),
        ("add label travel", {"contract.labels": ["food", "rent", "travel"]}),
        ("add labels travel and fees", {"contract.labels": ["food", "rent", "travel", "fees"]}),
        ("remove label rent", {"contract.labels": ["food"]}),
        ("rename label food to groceries", {"contract.labels": ["groceries", "rent"]}),
        ("set users to the finance team", {"primary_users": "the finance team"}),
        ("use model ./models/my-model", {"base_model": "./models/my-model"}),
        ("set base model to embedded:SmolLM2-135M-Instruct", {"base_model": "embedded:SmolLM2-135M-Instruct"}),
        ("name it Expense triage", {"name": "Expense triage"}),
        ("add constraint: answer in English", {"constraints": ["answer in English"]}),
        ("set max length to 40", {"contract.max_output_chars": 40}),
        ("set contract.output_regex to ^\\w+$", {"contract.output_regex": "^\\w+$"}),
    ],
)
def test_parse_edits_reads_common_phrasings(text, expected):
    changes, unknown = parse_edits(text, SPEC)
    assert not unknown
    data = apply_changes(SPEC, changes)
    for path, value in expected.items():
        target = data
        for part in split_path(path):
            target = target[part]
        assert target == value


def test_label_changes_keep_the_prompt_and_the_label_regex_in_step():
    changes, _ = parse_edits("add label travel; remove tenet handles_unclear_inputs", SPEC)
    assert changes["contract.system_prompt"].endswith("food, rent, travel.")
    assert changes["success_tenets"][1]["params"]["pattern"] == "^(?:food|rent|travel)$"
    assert [t["name"] for t in changes["success_tenets"]] == ["correct_label", "label_only"]


def test_parse_edits_reports_what_it_could_not_apply():
    changes, unknown = parse_edits("rename tenet nope to x; make it nicer", SPEC)
    assert changes == {}
    assert "no tenet called 'nope'" in unknown[0] and unknown[1] == "make it nicer"
    assert "no label" in parse_edits("remove label travel", SPEC)[1][0]


@pytest.mark.parametrize(("text", "approved"), [
    ("approve", True), ("Yes", True), ("looks good!", True), ("LGTM", True), ("Approve it", True),
    ("yes but rename tenet 1 to x", False), ("not yet", False), ("no", False), ("change the labels", False),
])
def test_only_a_plain_yes_is_an_approval(text, approved):
    assert is_approval(text) is approved


def test_field_paths():
    assert split_path("success_tenets[1].name") == ["success_tenets", 1, "name"]
    assert split_path("success_tenets.1.name") == ["success_tenets", 1, "name"]
    assert apply_changes({"a": [1]}, {"a[+]": 2, "b.c": 3}) == {"a": [1, 2], "b": {"c": 3}}
    with pytest.raises(ToolError, match="out of range"):
        apply_changes({"a": [1]}, {"a[5]": 2})
    with pytest.raises(ToolError, match="not like"):
        split_path("a.b-c")


@pytest.mark.parametrize(("description", "task", "fields", "number_only"), [
    ("Pull the order number, order date and total amount out of customer emails and return them as JSON.",
     "extraction", ["order_number", "order_date", "total_amount"], False),
    ("Get the sender name and invoice total out of supplier emails", "extraction", ["sender_name", "invoice_total"], False),
    ("Turn shipping notices into JSON with carrier and tracking number", "extraction", ["carrier", "tracking_number"], False),
    ("Help shop staff work out the change and totals for customers. Reply with the final answer only.", "math", None, True),
    ("Percentage word problems for a finance course. Show short working and end with the answer.", "math", None, False),
    ("Work out discounts, tips and sales tax for our cashiers; just the answer, no working.", "math", None, True),
])
def test_infer_reads_fields_pulled_out_of_a_text_and_money_math_with_its_answer_form(description, task, fields,
                                                                                        number_only):
    facts = infer(description)
    assert (facts.task_type, facts.fields, facts.number_only) == (task, fields, number_only)
