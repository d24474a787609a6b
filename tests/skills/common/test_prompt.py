"""The shortened system prompt: what a `short` plan trains with, and that every place that asks the run's
model (evaluation, playground, export's GGUF check) asks it with those same words."""

import json

from skills.evaluate.job import variants_to_run
from skills.export import gguf
from skills.train.datafacts import DataFacts
from skills.train.plan import size_plan
from skills.common.prompt import run_system_prompt, short_prompt, shorten_rows
from specs.evaluation import EvaluationSpec, MetricSpec

CONTRACT = "Categorize the bank transaction. Answer with exactly one of: groceries, dining, rent."


def test_the_short_prompt_is_the_first_sentence_of_any_task_prompt():
    assert short_prompt(CONTRACT) == "Categorize the bank transaction."
    assert short_prompt("Extract these fields from the invoice: total, date. Answer with one JSON object.") == \
        "Extract these fields from the invoice: total, date."
    assert short_prompt('Answer with one JSON object {"tool": ..., "arguments": {...}} calling one of: a, b. No other text.') \
        == 'Answer with one JSON object {"tool": ..., "arguments": {...}} calling one of: a, b.'
    assert short_prompt("You are a helpful assistant.") == "You are a helpful assistant."
    assert short_prompt(None) is None and short_prompt("") == ""


def test_rows_are_shortened_and_rows_without_a_system_prompt_stay_as_they_are():
    rows = [{"prompt": [{"role": "system", "content": CONTRACT}, {"role": "user", "content": "TESCO 4.20"}],
             "completion": [{"role": "assistant", "content": "groceries"}]},
            {"prompt": [{"role": "user", "content": "Name a planet."}], "completion": [{"role": "assistant", "content": "Mars"}]}]
    out, used = shorten_rows(rows)
    assert used == "Categorize the bank transaction."
    assert out[0]["prompt"] == [{"role": "system", "content": used}, {"role": "user", "content": "TESCO 4.20"}]
    assert out[0]["completion"] == rows[0]["completion"] and out[1] == rows[1]
    assert rows[0]["prompt"][0]["content"] == CONTRACT  # the input rows are not changed in place


def test_a_run_is_asked_as_it_was_trained(tmp_path):
    session = tmp_path
    (session / "runs" / "short").mkdir(parents=True)
    (session / "runs" / "short" / "run.json").write_text(json.dumps({"system_prompt": "Categorize the bank transaction."}))
    (session / "runs" / "full").mkdir(parents=True)
    (session / "runs" / "full" / "run.json").write_text(json.dumps({"status": "finished"}))
    assert run_system_prompt(session / "runs" / "short", CONTRACT) == "Categorize the bank transaction."
    assert run_system_prompt(session / "runs" / "full", CONTRACT) == CONTRACT
    assert run_system_prompt(session / "runs" / "missing", CONTRACT) == CONTRACT
    spec = EvaluationSpec(metrics=[MetricSpec(name="correct_label", code="label_match")])
    plan = variants_to_run(spec, CONTRACT, ["short", "full"], session)
    by_run = {v["run"]: v for v in plan}
    assert by_run[None]["system"] == CONTRACT and not by_run[None]["replace"]  # the base model keeps the contract's words
    assert by_run["short"]["system"] == "Categorize the bank transaction." and by_run["short"]["replace"]
    assert by_run["full"]["system"] == CONTRACT and not by_run["full"]["replace"]
    record = [{"role": "system", "content": CONTRACT}, {"role": "user", "content": "TESCO 4.20"}]
    assert gguf.with_system(record, "Categorize the bank transaction.", replace=True)[0]["content"] == \
        "Categorize the bank transaction."
    assert gguf.with_system(record, "other")[0]["content"] == CONTRACT


def test_sft_plans_train_with_the_short_prompt_and_rl_plans_keep_the_full_one():
    facts = DataFacts(path="data/train.jsonl", records=600, format="sft", has_gold=True, prompt_tokens=[40] * 600,
                      answer_tokens=[2] * 600)
    sft, notes = size_plan("sft", "full", "embedded:SmolLM2-135M-Instruct", facts, gpu=False)
    assert sft.data.system_prompt == "short" and any("system_prompt short" in n for n in notes)
    assert sft.hyperparameters.answer_only_head
    rl, _ = size_plan("rlvr", "lora", "embedded:SmolLM2-135M-Instruct", facts, gpu=False, reward="reward.yaml")
    assert rl.data.system_prompt == "full"
