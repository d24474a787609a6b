"""The comparison report: bootstrap interval, win/tie/loss, regressions, markdown, offline naming."""

import json

import pytest

from skills.evaluate import report as rep
from skills.evaluate.examples import BASE
from specs.evaluation import EvaluationSpec, JudgeRubric, MetricSpec


def rows_from(base_scores, tuned_scores, key="correct_label"):
    rows = []
    for i, (b, t) in enumerate(zip(base_scores, tuned_scores)):
        rows.append({"index": i, "prompt": f"input {i}", "reference": "ref",
                     "outputs": {BASE: f"base answer {i}", "run:r1": f"tuned answer {i}"},
                     "scores": {BASE: {key: b}, "run:r1": {key: t}}})
    return rows


def test_win_tie_loss_counts():
    assert rep.win_tie_loss([(0, 1), (1, 1), (1, 0), (0.5, 0.75), (0.2, 0.2)]) == (2, 2, 1)


def test_bootstrap_ci_is_seeded_and_brackets_the_mean():
    diffs = [1, 0, 0, 1, 1, 0, 1, 1, 0, 1] * 3
    a = rep.bootstrap_ci(diffs, samples=500, seed=7)
    b = rep.bootstrap_ci(diffs, samples=500, seed=7)
    assert a == b
    assert a[0] < sum(diffs) / len(diffs) < a[1]
    assert 0.3 < a[0] and a[1] < 0.9
    assert rep.bootstrap_ci([0.0] * 10) == (0.0, 0.0)
    assert rep.bootstrap_ci([]) is None


def test_compare_on_known_data():
    # 10 examples: 5 better, 4 equal, 1 worse
    base = [0, 0, 0, 0, 0, 1, 1, 0, 0, 1]
    tuned = [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]
    result = rep.compare(rows_from(base, tuned), "correct_label", "run:r1", samples=200)
    assert (result["win"], result["tie"], result["loss"]) == (5, 4, 1)
    assert result["better"] == 0.5 and result["equal"] == 0.4 and result["worse"] == 0.1
    assert result["diff"] == pytest.approx(0.4)
    assert result["ci_low"] <= 0.4 <= result["ci_high"]
    assert result["mean_before"] == pytest.approx(0.3) and result["mean_after"] == pytest.approx(0.7)
    [worst] = result["regressions"]
    assert worst["index"] == 9 and worst["before_output"] == "base answer 9" and worst["after_output"] == "tuned answer 9"
    assert rep.shares_sentence(result) == "better on 50%, equal on 40%, worse on 10% (of 10 examples)"


def test_the_tuned_share_has_its_own_interval_in_the_report_and_the_summary(tmp_path):
    # 40 examples, the tuned model right on 26 (0.65): its own interval brackets 0.65 and is wider than zero,
    # and the summary line shows it next to the mean, so "at least 0.6" can be checked against the lower end.
    tuned = [1] * 26 + [0] * 14
    rows = rows_from([0] * 40, tuned)
    result = rep.compare(rows, "correct_label", "run:r1", samples=500)
    assert result["after_ci_low"] < 0.65 < result["after_ci_high"]
    assert 0.45 < result["after_ci_low"] and result["after_ci_high"] < 0.85
    columns = [c for c in rep.metric_columns(spec_with_judge()) if c["key"] == "correct_label"]
    report = rep.build_report(rows, columns, [BASE, "run:r1"], eval_id="e1", samples=500)
    own = f"[{result['after_ci_low']:.3f}, {result['after_ci_high']:.3f}]"
    assert f"run:r1 0.650 {own} (+0.650" in rep.summary(report)
    _, md = rep.write_report(tmp_path, report)
    assert f"| 0.000 | 0.650 {own} |" in md.read_text() and "run:r1 [95% CI]" in md.read_text()
    # a variant always right has a point interval; no paired example, no interval
    assert rep.compare(rows_from([0, 1], [1, 1]), "correct_label", "run:r1")["after_ci_low"] == 1.0
    assert rep.compare(rows_from([None], [1]), "correct_label", "run:r1")["after_ci_low"] is None


def test_examples_without_a_score_are_left_out_of_the_pairs():
    rows = rows_from([1, None, 0], [1, 1, None])
    result = rep.compare(rows, "correct_label", "run:r1")
    assert result["n"] == 1


def spec_with_judge():
    rubric = JudgeRubric(prompt="Rate {output} for {prompt} against {reference}")
    return EvaluationSpec(metrics=[
        MetricSpec(name="correct_label", tenet="correct_label", code="label_match"),
        MetricSpec(name="polite", tenet="polite", judge=rubric),
        MetricSpec(name="grounded", tenet="grounded", code="f1", judge=rubric),
    ])


def test_columns_split_code_and_judge():
    columns = rep.metric_columns(spec_with_judge())
    assert [(c["key"], c["kind"]) for c in columns] == [
        ("correct_label", "code"), ("polite", "judge"), ("grounded", "code"), ("grounded.judge", "judge")]


def test_report_renders_table_shares_regressions_and_not_judged(tmp_path):
    columns = [c for c in rep.metric_columns(spec_with_judge()) if c["key"] == "correct_label"]
    rows = rows_from([0, 0, 1, 1], [1, 1, 1, 0])
    report = rep.build_report(rows, columns, [BASE, "run:r1"], eval_id="e1", samples=200,
                              not_judged=["polite", "grounded"], meta={"base_model": "embedded:x", "judge_model": None})
    json_path, md_path = rep.write_report(tmp_path, report)
    text = md_path.read_text()
    assert "| correct_label |" in text
    assert "better on 50%, equal on 25%, worse on 25% (of 4 examples)" in text
    assert "## Not judged" in text and "`grounded`, `polite`" in text
    assert "## Largest regressions" in text and "tuned answer 3" in text
    assert "judge: none configured" in text
    assert json.loads(json_path.read_text())["not_judged"] == ["grounded", "polite"]
    assert "correct_label: base 0.500 → run:r1 0.750" in rep.summary(report)


def test_agreement_sentence():
    text = rep.agreement_sentence({"rated": 20, "compared": 20, "agree": 15, "exact": 9, "rate": 0.75})
    assert "agrees with you on 15 of 20 rated answers (75%" in text
