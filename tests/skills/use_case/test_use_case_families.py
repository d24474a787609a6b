"""The interview infers what a description states, for many task families, and asks only what is missing.

Each description is answered the way a headless run answers (first choice, approve at the review), so
these tests also show that no family asks the same thing twice or borrows another use case's labels.
"""

from __future__ import annotations

import pytest

from skills.common.metrics import sql_valid
from skills.use_case.infer import BANK_LABELS, infer
from test_use_case_guide import Driver, slots

BANK_WORDS = {label.lower() for label in BANK_LABELS} | {"merchant", "transaction"}


def interview(tmp_path, description: str):
    session = tmp_path / "session"
    session.mkdir()
    driver = Driver(session)
    q = driver.say(description)
    for _ in range(10):
        if q is None:
            break
        q = driver.say("Approve it" if slots([q]) == ["review"] else (q["choices"][0] if q["choices"] else "continue"))
    assert q is None, f"the interview did not finish: {slots(driver.questions)}"
    asked = slots(driver.questions)
    assert len(asked) == len(set(asked) - {"review"}) + asked.count("review"), "no question is asked twice"
    return driver.spec(), asked


FAMILIES = [
    ("Route incoming support emails to one of five queues: Billing, Technical, Shipping, Returns, Account. "
     "We have about 2,000 routed emails from last year.",
     dict(task="classification", labels=["Billing", "Technical", "Shipping", "Returns", "Account"], data="labeled_examples")),
    ("I need a model that puts bank transaction memos into one of our 8 categories: GROCERIES, DINING, TRANSPORT, RENT, "
     "UTILITIES, SHOPPING, HEALTH, FEES. We have a few thousand labeled memos.",
     dict(task="classification", labels=["GROCERIES", "DINING", "TRANSPORT", "RENT", "UTILITIES", "SHOPPING", "HEALTH", "FEES"],
          data="labeled_examples")),
    ("Label user comments as Toxic, Neutral or Supportive for our moderators.",
     dict(task="classification", labels=["Toxic", "Neutral", "Supportive"], users="our moderators")),
    ("Sort tickets into these categories:\n1. Login problem\n2. Payment failed\n3. Bug report\nThe answer is just the category.",
     dict(task="classification", labels=["Login problem", "Payment failed", "Bug report"])),
    ("Detect the intent of smart-home voice commands: turn_on, turn_off, set_temperature, play_music, lock_door.",
     dict(task="classification", labels=["turn_on", "turn_off", "set_temperature", "play_music", "lock_door"])),
    ("Grade students' short answers on a scale from 1 to 5 for our teachers.",
     dict(task="classification", labels=["1", "2", "3", "4", "5"], tenet="within_one_point")),
    ("Tag product reviews with a sentiment (positive, neutral, negative) and topics like price, quality, delivery.",
     dict(task="classification", facets={"sentiment": ["positive", "neutral", "negative"], "topics": ["price", "quality", "delivery"]})),
    ("Extract the shipment fields from logistics emails as JSON: tracking_number, carrier, origin, destination, ship_date.",
     dict(task="extraction", fields=["tracking_number", "carrier", "origin", "destination", "ship_date"])),
    ("Solve unit-conversion word problems and answer with just the number.",
     dict(task="math", tenet="number_only")),
    ("Write friendly replies to hotel guest reviews for our front-desk team. Make them sound warm and human. "
     "We have pairs of replies where one is preferred over the other.",
     dict(task="generation", tenet="warm_human_friendly", data="preference_pairs", users="our front-desk team")),
    ("Make our support chatbot sound warm and human. We have pairs of replies where one sounds human and one sounds like an AI.",
     dict(task="generation", tenet="warm_human", data="preference_pairs")),
    ("Summarize bug reports in two lines for our engineers.", dict(task="summarization", tenet="2_lines")),
    ("Rewrite legal clauses in plain English so our customers understand them.", dict(task="rewriting", tenet="plain_english")),
    ("A bot that answers customer questions using only our FAQ document, which I have as faq.md.",
     dict(task="question_answering", data="reference_document", path="faq.md")),
    ("Turn questions from our analysts into SQL queries over our sales database.", dict(task="text_to_sql", tenet="sql_parses")),
    ("Call the right tool with the right arguments for user requests in our calendar app (create_event, list_events, delete_event).",
     dict(task="tool_calling", tools=["create_event", "list_events", "delete_event"])),
]


@pytest.mark.parametrize(("description", "want"), FAMILIES, ids=[w["task"] + str(i) for i, (_, w) in enumerate(FAMILIES)])
def test_each_family_keeps_what_the_description_states(tmp_path, description, want):
    spec, asked = interview(tmp_path, description)
    contract = spec.contract
    assert spec.task_type == want["task"]
    assert "task" not in asked and "labels" not in asked and "fields" not in asked, f"it asked what it was told: {asked}"
    if "labels" in want:
        assert contract.labels == want["labels"], "labels are kept exactly as written"
        assert all(label in contract.system_prompt for label in want["labels"])
    if "facets" in want:
        props = contract.output_schema["properties"]
        assert props["sentiment"]["enum"] == want["facets"]["sentiment"]
        assert props["topics"]["items"]["enum"] == want["facets"]["topics"]
    if "fields" in want:
        assert list(contract.output_schema["properties"]) == want["fields"]
    if "tools" in want:
        assert contract.output_schema["properties"]["tool"]["enum"] == want["tools"]
    if "tenet" in want:
        assert want["tenet"] in [t.name for t in spec.success_tenets]
    if "users" in want:
        assert spec.primary_users == want["users"] and "users" not in asked
    if "data" in want:
        assert spec.own_data is not None and spec.own_data.has_data and spec.own_data.kind == want["data"]
        assert spec.own_data.path == want.get("path")
    else:
        assert spec.own_data is None
    tenet_text = " ".join(t.description for t in spec.success_tenets).lower()
    assert "polite and professional" not in tenet_text, "no tone the person did not ask for"
    if not {"bank", "transaction"} & set(description.lower().split()):
        words = set(contract.system_prompt.lower().replace(",", " ").split()) | {w.lower() for w in contract.labels or []}
        assert not (words & BANK_WORDS - {w.lower() for w in want.get("labels", [])}), "no demo vocabulary outside its domain"


def test_missing_labels_are_asked_once_without_another_use_cases_proposal(tmp_path):
    session = tmp_path / "s"
    session.mkdir()
    driver = Driver(session)
    q = driver.say("Route incoming support emails to our queues for the support team.")
    assert slots([q]) == ["labels"] and q["choices"] == [], "nothing is proposed from another use case"
    q = driver.say("Billing, Tech Support, Refunds")
    assert slots([q]) == ["tenets"]
    q = driver.say("Categorize bank transactions into our 12 categories for the finance team")
    session2 = tmp_path / "s2"
    session2.mkdir()
    bank = Driver(session2)
    q = bank.say("Categorize bank transactions into our 12 categories for the finance team")
    assert slots([q]) == ["labels"] and q["choices"][0].startswith("Use these 12:"), "the bank task may get the demo's labels"


def test_a_tool_calling_task_without_tool_names_asks_for_them(tmp_path):
    session = tmp_path / "s"
    session.mkdir()
    driver = Driver(session)
    q = driver.say("Pick the right tool for requests in our smart-home app, for our app.")
    assert "Which tools can the model call?" in q["question"]
    q = driver.say("set_light, read_sensor")
    assert slots([q]) == ["tenets"]


def test_data_on_hand_is_read_from_the_words_or_a_named_file():
    assert infer("Classify tickets into a, b. We don't have any data yet.").own_data["has_data"] is False
    found = infer("Classify tickets into a, b for the team.\n\nMy data file: /tmp/tickets.csv").own_data
    assert found["has_data"] and found["path"] == "/tmp/tickets.csv"
    assert infer("Classify tickets into a, b for the team.\n\nMy data file: /tmp/tickets.csv").base_model is None
    assert infer("Summarize reports. Here are 300 examples with summaries in data/reports.jsonl.").own_data["path"] == "data/reports.jsonl"
    assert infer("Summarize reports for the ops team.").own_data is None


def test_sql_valid_uses_the_sqlite_parser():
    schema = "CREATE TABLE sales(region TEXT, amount REAL); INSERT INTO sales VALUES ('north', 3), ('south', 5);"
    assert sql_valid("SELECT region FROM sales WHERE amount > 4", None) == 1.0
    assert sql_valid("SELEC region FROM sales", None) == 0.0
    assert sql_valid("SELECT 1; DROP TABLE sales", None) == 0.0
    assert sql_valid("SELECT nope FROM sales", None, {"schema": schema}) == 0.0
    same = {"schema": schema, "compare_results": True}
    assert sql_valid("select region from sales where amount=5", "SELECT 'south'", same) == 1.0
    assert sql_valid("select region from sales", "SELECT 'south'", same) == 0.0
