"""The forgetting measure: the shipped general set, its code checks, and its section of the report."""

import json

import pytest

from skills.evaluate import forgetting, general_set
from skills.evaluate.report import findings, render_markdown, summary
from skills.train import general as guard


def passing_answer(item):
    """An answer that meets the item's check (built from the check, so every item is answerable)."""
    rule = item["check"]
    kind = rule["kind"]
    if kind == "number":
        return f"{rule['value']}"
    if kind in ("contains", "exact"):
        return rule["any"][0] + ("" if kind == "exact" else " is the answer")
    if kind == "json":
        return json.dumps(rule["equals"])
    if kind == "bullets":
        return "\n".join(f"- thing {i}" for i in range(rule["count"]))
    if kind == "lower":
        return f"it is {rule['contains']}"
    if kind == "ends_with":
        return "What a day" + rule["suffix"]
    if kind == "words":
        return " ".join(["word"] * rule["max"])
    raise AssertionError(kind)


def test_the_committed_set_is_what_the_script_writes_and_holds_a_few_hundred_items():
    assert forgetting.SET_PATH.read_text(encoding="utf-8") == general_set.render(general_set.build())
    items = forgetting.load_set()
    assert 250 <= len(items) <= 500
    assert len({item["id"] for item in items}) == len(items)
    assert {item["category"] for item in items} == {"arithmetic", "factual", "instruction", "format"}


def test_every_prefix_of_the_default_size_holds_every_kind_evenly():
    first = forgetting.load_set(80)
    counts = {c: sum(1 for item in first if item["category"] == c) for c in {i["category"] for i in first}}
    assert set(counts.values()) == {20}


def test_every_item_is_answerable_and_an_empty_answer_fails_it():
    for item in forgetting.load_set():
        assert forgetting.check(item, passing_answer(item)) == 1.0, item
        assert forgetting.check(item, "") == 0.0, item


def test_no_general_item_is_a_prompt_the_forgetting_guard_trains_on():
    trained = {p.strip().lower() for p in guard.prompts()}
    assert not trained & {item["prompt"].strip().lower() for item in forgetting.load_set()}


@pytest.mark.parametrize("check,answer,expected", [
    ({"kind": "number", "value": 81}, "9 times 9 is 81.", 1.0),  # the last number decides
    ({"kind": "number", "value": 81}, "81, or 80", 0.0),
    ({"kind": "number", "value": 1200}, "1,200", 1.0),
    ({"kind": "contains", "any": ["Paris"]}, "The capital of France is Paris.", 1.0),
    ({"kind": "contains", "any": ["Rome"]}, "Romeo", 0.0),
    ({"kind": "contains", "any": ["APPLE"], "case": True}, "apple", 0.0),
    ({"kind": "exact", "any": ["yes"]}, "Yes.", 1.0),
    ({"kind": "exact", "any": ["yes"]}, "Yes, fire is hot.", 0.0),
    ({"kind": "json", "equals": {"name": "Ana"}}, '```json\n{"name": "Ana"}\n```', 1.0),
    ({"kind": "json", "equals": {"name": "Ana"}}, '{"name": "Ben"}', 0.0),
    ({"kind": "bullets", "count": 2}, "- red\n- blue", 1.0),
    ({"kind": "bullets", "count": 2}, "1. red\n2. blue", 0.0),
    ({"kind": "lower", "contains": "paris"}, "Paris", 0.0),
    ({"kind": "ends_with", "suffix": "!", "max_words": 30}, "The sea is wide.", 0.0),
    ({"kind": "words", "min": 1, "max": 5}, "a calm blue sea at dawn", 0.0),
])
def test_checks(check, answer, expected):
    assert forgetting.check({"id": "x", "check": check}, answer) == expected


def test_an_unknown_check_names_the_item():
    with pytest.raises(ValueError, match="item q1: unknown check kind 'rhyme'"):
        forgetting.check({"id": "q1", "check": {"kind": "rhyme"}}, "moon")


def _section(base_right: int, run_right: int, n: int = 40, threshold: float = 0.05):
    items = forgetting.load_set(n)
    base = [passing_answer(item) if i < base_right else "" for i, item in enumerate(items)]
    run = [passing_answer(item) if i < run_right else "" for i, item in enumerate(items)]
    rows = forgetting.rows_for(items, {"base": base, "run:r1": run})
    return forgetting.build_section(rows, ["base", "run:r1"], threshold=threshold, total=308, samples=200)


def test_a_drop_beyond_the_threshold_is_a_finding_with_its_interval():
    section = _section(base_right=36, run_right=12)
    [comparison] = section["comparisons"]
    assert comparison["diff"] == pytest.approx(-24 / 40)
    assert comparison["ci_high"] < 0 < comparison["ci_high"] + 1
    assert set(comparison["categories"]) == set(section["categories"])
    [finding] = section["findings"]
    assert finding.startswith("forgetting: run:r1 scores 0.30 on the general set against the base model's 0.90 (-0.60")


def test_one_ability_lost_while_the_whole_set_holds_is_a_finding_that_names_it():
    # a real tuned unit-conversion model: general set 0.31 -> 0.23 (interval crossing zero, no finding), but its
    # arithmetic fell 0.30 -> 0.05 [-0.45, -0.10] and the report said nothing
    items = forgetting.load_set(80)
    categories = {item["category"] for item in items}
    assert {"arithmetic", "format"} <= categories
    base = [passing_answer(item) if item["category"] != "format" else "" for item in items]
    run = [passing_answer(item) if item["category"] != "arithmetic" else "" for item in items]
    rows = forgetting.rows_for(items, {"base": base, "run:r1": run})
    section = forgetting.build_section(rows, ["base", "run:r1"], threshold=0.05, total=308, samples=200)
    [comparison] = section["comparisons"]
    assert comparison["ci_high"] >= 0  # the whole set: no clear drop
    [finding] = section["findings"]
    assert finding.startswith("forgetting: run:r1 lost arithmetic on the general set: 0.00 against the base model's 1.00")
    assert "format" not in finding  # it got better there


def test_no_finding_when_the_tuned_run_keeps_its_general_score():
    assert _section(base_right=30, run_right=30)["findings"] == []
    assert _section(base_right=30, run_right=29, threshold=0.05)["findings"] == []  # -0.025: inside the threshold


def test_report_md_and_summary_show_the_change_and_the_finding():
    section = _section(base_right=36, run_right=12)
    report = {"eval_id": "e1", "examples": 0, "variants": ["base", "run:r1"], "metrics": [], "forgetting": section}
    text = render_markdown(report)
    assert "## General abilities (forgetting)" in text
    assert "| **all** | 0.900 | 0.300 | -0.600 [" in text
    assert "**Finding:** forgetting: run:r1" in text
    assert findings(report) == section["findings"]
    assert "general set (forgetting): base 0.900 → run:r1 0.300 (-0.600, 95% CI [" in summary(report)
