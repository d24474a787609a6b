"""The offline use-case planner, driven turn by turn with GuideState and the real tools."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from skills.catalog import get
from skills.common_tools import COMMON_TOOLS
from skills.guiding import GuideState, LastTool, Turn
from skills.toolkit import ToolContext
from skills.use_case import base_models
from skills.use_case.guide import next_turn
from specs.use_case import UseCaseSpec
from specs.yamlio import load_spec

TOOLS = {t.name: t for t in [*COMMON_TOOLS, *get("use_case").tools()]}


class Driver:
    """A tiny stand-in for the engine: runs the guide's tool calls, approving or rejecting `ask` tools."""

    def __init__(self, session_dir: Path, reject: dict[str, str | None] | None = None):
        self.dir = session_dir
        self.ctx = ToolContext(session_dir=session_dir)
        self.messages: list[dict] = []
        self.reject = dict(reject or {})
        """Tool name -> the person's comment when they reject its next call (None: no comment)."""
        self.calls: list[str] = []
        self.questions: list[dict] = []
        self.phase: str | None = None

    def say(self, text: str) -> dict | str | None:
        """The person speaks; run until the guide asks, answers in text, or finishes. Returns what it ended on."""
        self.messages.append({"role": "user", "content": text})
        return self.run()

    def run(self, last_tool: LastTool | None = None) -> dict | str | None:
        asked_before = len(self.questions)
        for _ in range(10):
            last_user = self.messages[-1]["content"] if self.messages and self.messages[-1]["role"] == "user" else None
            turn = next_turn(GuideState(self.dir, copy.deepcopy(self.messages), last_user, last_tool))
            if turn is None:
                return None
            assert isinstance(turn, Turn)
            if turn.tool is None:
                self.messages.append({"role": "assistant", "content": turn.text})
                return turn.text
            call_id = f"call_{len(self.messages)}"
            self.messages.append({"role": "assistant", "content": turn.text, "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": turn.tool, "arguments": json.dumps(turn.arguments)}}]})
            tool = TOOLS[turn.tool]
            args = tool.validate(turn.arguments)
            self.calls.append(turn.tool)
            if tool.permission == "ask" and turn.tool in self.reject:
                comment = self.reject.pop(turn.tool)
                why = f" Their comment: {comment}" if comment else " They gave no reason; ask what to change."
                content, is_error, data, ends = f"Not run: person rejected this call.{why}", True, {}, comment is None
            else:
                result = tool.run(self.ctx, args)
                content, is_error, data, ends = result.content, result.is_error, result.data, result.ends_turn
                self.phase = result.phase or self.phase
            self.messages.append({"role": "tool", "tool_call_id": call_id, "content": content})
            last_tool = LastTool(turn.tool, content, is_error, data)
            if ends and not data:  # a rejection without a comment ends the turn, as the engine does
                return "ended"
            if ends:
                self.questions.append(data)
                assert len(self.questions) == asked_before + 1, "one question per turn"
                return data
        raise AssertionError("the guide did not stop within 10 steps")

    def spec(self) -> UseCaseSpec:
        return load_spec(self.dir / "use_case.yaml", UseCaseSpec)


@pytest.fixture
def driver(tmp_path):
    session = tmp_path / "session"
    session.mkdir()
    return Driver(session)


def slots(questions: list[dict]) -> list[str]:
    names = []
    for q in questions:
        text = q["question"]
        for slot, mark in [("task", "What should the model do"), ("users", "Who will use"), ("labels", "Which labels"),
                           ("fields", "Which fields"), ("tenets", "success tenets"), ("base", "Which base model"),
                           ("review", "Approve use_case.yaml"), ("revise", "before writing it"), ("broken", "has problems")]:
            if mark in text:
                names.append(slot)
                break
        else:
            names.append("?")
    return names


def test_bank_transactions_end_to_end(driver):
    q = driver.say("I need a model that categorizes bank transactions into our 12 categories.")
    assert slots([q]) == ["users"], "the task type is inferred, not asked"
    q = driver.say("2")
    assert slots([q]) == ["labels"] and "12 categories" in q["question"]
    assert q["choices"][0].startswith("Use these 12:")
    q = driver.say("groceries, dining, transport, rent, utilities, entertainment, shopping, health, travel, income, "
                   "transfers, fees")
    assert slots([q]) == ["tenets"] and q["choices"][0] == "Use these three tenets"
    q = driver.say("Use these three tenets")
    assert slots([q]) == ["base"] and "propose_base_model" in driver.calls
    assert q["choices"][0].startswith(base_models.EMBEDDED)
    q = driver.say("1")
    assert slots([q]) == ["review"] and driver.calls[-2:] == ["write_use_case", "ask_user"]
    spec = driver.spec()
    assert spec.status == "draft" and spec.task_type == "classification"
    assert len(spec.contract.labels) == 12 and spec.contract.output_format == "label"
    assert spec.primary_users == "A team that reviews the answers before using them"
    assert [t.metric for t in spec.success_tenets] == ["label_match", "regex", None]
    assert spec.success_tenets[2].measured_by == "judge" and spec.success_tenets[2].rubric
    assert "fees" in spec.contract.system_prompt
    assert driver.messages[-1]["role"] == "tool"
    shown = driver.messages[-2]["content"]
    assert "```yaml" in shown and "name: Bank transaction categorizer" in shown, "the spec is shown"

    q = driver.say("rename tenet label_only to exact_label; add label savings")
    assert driver.calls[-2] == "update_use_case" and slots([q]) == ["review"]
    spec = driver.spec()
    assert spec.success_tenets[1].name == "exact_label"
    assert spec.contract.labels[-1] == "savings" and "savings" in spec.contract.system_prompt
    assert "savings" in spec.success_tenets[1].params["pattern"], "the label regex follows the labels"

    assert driver.say("looks good") is None
    assert driver.calls[-1] == "approve_use_case" and driver.phase == "data"
    assert driver.spec().status == "approved"
    assert slots(driver.questions) == ["users", "labels", "tenets", "base", "review", "review"]


def test_invoice_extraction_with_fields_and_users_in_the_text_asks_two_questions(driver):
    q = driver.say("Extract the invoice number, date and total from our supplier invoices as JSON "
                   "for our accounts payable team.")
    assert slots([q]) == ["tenets"]
    assert "valid_json" in q["question"]
    driver.say("1")
    q = driver.say("1")
    assert slots([q]) == ["review"]
    assert slots(driver.questions) == ["tenets", "base", "review"]
    spec = driver.spec()
    assert spec.task_type == "extraction" and spec.contract.output_format == "json"
    assert spec.contract.output_schema["required"] == ["invoice_number", "date", "total"]
    assert spec.contract.output_schema["properties"]["total"]["type"] == ["number", "null"]
    assert spec.primary_users == "our accounts payable team"
    assert [t.metric for t in spec.success_tenets] == ["json_schema", "f1", None]


def test_invoice_field_extraction_asks_for_the_fields_with_a_proposal(driver):
    q = driver.say("Invoice field extraction for our accounts payable team")
    assert slots([q]) == ["fields"]
    assert q["choices"] and "invoice_number" in q["choices"][0]
    q = driver.say("1")
    assert slots([q]) == ["tenets"]
    driver.say("1")
    driver.say("1")
    assert driver.spec().contract.output_schema["required"][0] == "invoice_number"


def test_support_reply_drafting_keeps_the_length_limit_as_code(driver):
    q = driver.say("Draft replies to customer support emails for our support agents. "
                   "Replies must be under 120 words and never promise refunds.")
    assert slots([q]) == ["tenets"]
    q = driver.say("Swap tenet 3 for: When the input lacks information the reply asks for it instead of guessing.")
    assert slots([q]) == ["base"]
    driver.say("default")
    spec = driver.spec()
    assert spec.task_type == "generation" and spec.primary_users == "our support agents"
    assert spec.constraints == ["Replies must be under 120 words and never promise refunds."]
    assert spec.contract.max_output_chars == 840
    assert [t.name for t in spec.success_tenets] == ["addresses_request", "no_false_promises", "asks_when_unclear"]
    assert len(driver.questions) == 3


def test_arithmetic_word_problems_get_code_measured_tenets(driver):
    q = driver.say("Solve arithmetic word problems")
    assert slots([q]) == ["users"]
    driver.say("Students practising for exams")
    q = driver.say("1")
    assert slots([q]) == ["base"]
    driver.say(base_models.EMBEDDED)
    spec = driver.spec()
    assert spec.task_type == "math" and spec.primary_users == "Students practising for exams"
    assert [t.metric for t in spec.success_tenets] == ["numeric_tolerance", "regex", None]
    assert "Answer:" in spec.contract.system_prompt


def test_an_unclear_description_asks_the_task_first(driver):
    q = driver.say("Hi, I want to build a model for my shop.")
    assert slots([q]) == ["task"] and len(q["choices"]) == 9
    q = driver.say("1")
    assert slots([q]) == ["users"]


def test_no_description_yet_asks_for_one_in_text(driver):
    turn = next_turn(GuideState(driver.dir, [], None, None))
    assert turn.tool is None and "Describe what you want" in turn.text


def test_a_free_text_tenet_with_a_length_becomes_a_code_check(driver):
    driver.say("Summarize meeting transcripts for the sales team")
    driver.say("Summaries must be at most 80 words")
    driver.say("1")
    tenets = driver.spec().success_tenets
    assert tenets[2].metric == "length_bounds" and tenets[2].params == {"max_chars": 560}


def test_a_base_model_that_does_not_fit_is_asked_again_with_the_reason(driver):
    driver.say("Classify product reviews as positive, negative or neutral for our app")
    driver.say("1")
    q = driver.say("Qwen/Qwen2.5-7B-Instruct")
    assert slots([q]) == ["base"] and "cannot be used" in q["question"] and "not reachable" in q["question"]
    assert not (driver.dir / "use_case.yaml").exists()
    driver.say("1")
    assert driver.spec().base_model == base_models.EMBEDDED


def test_a_rejected_write_without_a_comment_takes_the_next_words_as_changes(tmp_path):
    driver = Driver(tmp_path, reject={"write_use_case": None})
    driver.say("Classify support tickets into billing, technical issue, account access or other for the help desk team")
    driver.say("1")
    assert driver.say("1") == "ended"
    assert not (tmp_path / "use_case.yaml").exists()
    q = driver.say("rename tenet handles_unclear_inputs to sensible_fallback")
    assert slots([q]) == ["review"]
    assert [t.name for t in driver.spec().success_tenets][2] == "sensible_fallback"


def test_a_rejected_write_with_a_comment_is_rewritten_with_the_change(tmp_path):
    driver = Driver(tmp_path, reject={"write_use_case": "add label refund"})
    driver.say("Classify support tickets into billing, technical issue, account access or other for the help desk team")
    driver.say("1")
    q = driver.say("1")
    assert slots([q]) == ["review"] and driver.calls.count("write_use_case") == 2
    assert driver.spec().contract.labels[-1] == "refund"


def test_a_rejected_write_with_an_unclear_comment_asks_what_to_change(tmp_path):
    driver = Driver(tmp_path, reject={"write_use_case": "not like this"})
    driver.say("Classify support tickets into billing, technical issue, account access or other for the help desk team")
    driver.say("1")
    q = driver.say("1")
    assert slots([q]) == ["revise"] and "not like this" in driver.messages[-2]["content"]
    q = driver.say("set users to the tier-2 support team")
    assert slots([q]) == ["review"] and driver.spec().primary_users == "the tier-2 support team"


def test_a_rejected_approval_with_a_comment_applies_the_change(tmp_path):
    driver = Driver(tmp_path, reject={"approve_use_case": "rename tenet label_only to strict_label"})
    driver.say("Classify product reviews as positive, negative or neutral for our app")
    driver.say("1")
    driver.say("1")
    q = driver.say("approve")
    assert slots([q]) == ["review"] and driver.calls[-2] == "update_use_case"
    assert driver.spec().success_tenets[1].name == "strict_label" and driver.spec().status == "draft"


def test_an_edit_it_does_not_understand_is_asked_about_again(driver):
    driver.say("Classify product reviews as positive, negative or neutral for our app")
    driver.say("1")
    driver.say("1")
    before = (driver.dir / "use_case.yaml").read_text()
    q = driver.say("hmm, make it better somehow")
    assert slots([q]) == ["review"] and "could not turn that into a change" in driver.messages[-2]["content"]
    q = driver.say("rename tenet nonexistent to x")
    assert "no tenet called" in driver.messages[-2]["content"]
    assert (driver.dir / "use_case.yaml").read_text() == before
    assert "update_use_case" not in driver.calls and "approve_use_case" not in driver.calls


def test_the_person_can_edit_the_file_then_review_it(driver):
    driver.say("Classify product reviews as positive, negative or neutral for our app")
    driver.say("1")
    driver.say("1")
    text = driver.say("I will edit use_case.yaml myself")
    assert isinstance(text, str) and "Tell me when you are done" in text
    path = driver.dir / "use_case.yaml"
    path.write_text(path.read_text().replace("name: Product review categorizer", "name: Review triage"))
    q = driver.say("done")
    assert slots([q]) == ["review"] and "name: Review triage" in driver.messages[-2]["content"]
    assert driver.say("approve") is None
    assert driver.spec().name == "Review triage" and driver.spec().status == "approved"


def test_a_broken_file_is_reported_and_can_be_rewritten(driver):
    driver.say("Classify product reviews as positive, negative or neutral for our app")
    driver.say("1")
    driver.say("1")
    path = driver.dir / "use_case.yaml"
    path.write_text(path.read_text().replace("task_type: classification", "task_type: poetry"))
    q = driver.say("approve")
    assert slots([q]) == ["broken"] and "task_type" in q["question"]
    assert "approve_use_case" not in driver.calls
    q = driver.say("Rewrite it from our conversation")
    assert slots([q]) == ["review"] and driver.spec().task_type == "classification"


def test_approval_happens_only_on_the_persons_yes(driver):
    driver.say("Classify product reviews as positive, negative or neutral for our app")
    driver.say("1")
    driver.say("1")
    driver.say("yes but rename tenet label_only to strict_label")
    assert "approve_use_case" not in driver.calls and driver.spec().status == "draft"
    assert driver.say("yes") is None and driver.spec().status == "approved"


def test_a_rejected_approval_keeps_the_draft_and_asks_again(tmp_path):
    driver = Driver(tmp_path, reject={"approve_use_case": "not yet"})
    driver.say("Classify product reviews as positive, negative or neutral for our app")
    driver.say("1")
    driver.say("1")
    q = driver.say("approve")
    assert slots([q]) == ["review"] and driver.spec().status == "draft"


def test_the_guide_resumes_from_the_conversation_and_is_deterministic(driver):
    driver.say("I need a model that categorizes bank transactions into our 12 categories.")
    driver.say("A team that reviews the answers before using them")
    # a restart just after the person's answer: a fresh state from the saved messages gives the same question
    saved = copy.deepcopy(driver.messages[:-2])
    state = GuideState(driver.dir, saved, saved[-1]["content"], None)
    first, second = next_turn(state), next_turn(state)
    assert first == second and first.tool == "ask_user"
    assert first.arguments["question"] == driver.questions[-1]["question"]
    # a restart while the question waits: the answer is read as the answer to that question
    resumed = Driver(driver.dir)
    resumed.messages = copy.deepcopy(driver.messages)
    q = resumed.say("food, rent, travel")
    assert slots([q]) == ["tenets"]
    assert "labels food, rent, travel" in resumed.messages[-2]["content"]
    assert "you mentioned 12 categories and listed 3" in resumed.messages[-2]["content"]


def test_after_approval_the_step_is_done(driver):
    driver.say("Classify product reviews as positive, negative or neutral for our app")
    driver.say("1")
    driver.say("1")
    driver.say("approve")
    assert next_turn(GuideState(driver.dir, driver.messages, "anything else?", None)) is None


def test_a_base_model_named_in_the_description_is_used_when_it_fits(driver, tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"hidden_size": 64, "num_hidden_layers": 2, "vocab_size": 1000}))
    driver.say(f"Use {folder} to classify product reviews as positive, negative or neutral for our app")
    q = driver.say("1")
    assert slots([q]) == ["review"] and "propose_base_model" not in driver.calls
    assert driver.spec().base_model == str(folder)


def test_a_base_model_named_in_the_description_that_cannot_be_used_is_asked_about(driver):
    driver.say("Fine-tune Qwen/Qwen2.5-7B-Instruct to classify product reviews as positive, negative or neutral for our app")
    q = driver.say("1")
    assert slots([q]) == ["base"] and "You named Qwen/Qwen2.5-7B-Instruct" in q["question"]


def test_a_change_that_would_be_refused_is_explained_before_any_approval(driver):
    driver.say("Classify product reviews as positive, negative or neutral for our app")
    driver.say("1")
    driver.say("1")
    q = driver.say("use model Qwen/Qwen2.5-7B-Instruct")
    assert slots([q]) == ["review"] and "cannot make that change" in driver.messages[-2]["content"]
    q = driver.say("remove labels positive, negative, neutral")
    assert "cannot make that change" in driver.messages[-2]["content"] and "labels" in driver.messages[-2]["content"]
    assert "update_use_case" not in driver.calls


def test_the_bundled_demo_description_needs_three_answers_and_an_approval(driver):
    """`tunesmith demo` answers every question with its first choice."""
    from assistant.demo_cmd import DESCRIPTION

    q = driver.say(DESCRIPTION)
    while q is not None:
        q = driver.say(q["choices"][0])
    assert slots(driver.questions) == ["users", "tenets", "base", "review"]
    spec = driver.spec()
    assert spec.status == "approved" and len(spec.contract.labels) == 12
    assert spec.contract.input_description == "One transaction line with the merchant and the amount."


def test_an_edit_in_the_apps_editor_is_re_read_and_shown(driver):
    driver.say("Classify product reviews as positive, negative or neutral for our app")
    driver.say("1")
    driver.say("1")
    path = driver.dir / "use_case.yaml"
    path.write_text(path.read_text().replace("- neutral", "- mixed"))
    q = driver.say("I edited use_case.yaml in the app (+1 -1 lines). Please re-read it and take my changes into "
                   "account:\n```diff\n-    - neutral\n+    - mixed\n```")
    assert slots([q]) == ["review"] and "I re-read your edits" in driver.messages[-2]["content"]
    assert "- mixed" in driver.messages[-2]["content"] and "update_use_case" not in driver.calls
