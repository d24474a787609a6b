"""Code metrics (skills/common/metrics.py, used by the evaluation and by sweeps), on answers whose scores are known."""

import pytest

from skills.common import metrics


def test_exact_match_normalizes_case_punctuation_and_articles():
    assert metrics.exact_match("The Groceries.", "groceries") == 1.0
    assert metrics.exact_match("Groceries", "Travel") == 0.0
    assert metrics.exact_match(" Groceries ", "groceries", {"normalize": False}) == 0.0
    assert metrics.exact_match("x", None) is None
    assert metrics.exact_match('{"b": 2, "a": 1}', '{"a": 1, "b": 2}', {"json": True}) == 1.0
    assert metrics.exact_match('{"a": 2}', '{"a": 1}', {"json": True}) == 0.0


def test_f1_counts_token_overlap():
    assert metrics.f1("paris france", "paris") == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert metrics.f1("the cat sat", "cat sat") == 1.0
    assert metrics.f1("dog", "cat") == 0.0
    assert metrics.f1("", "") == 1.0


def test_rouge_l_uses_the_longest_common_subsequence():
    # tokens: a b c d e vs a c e -> LCS 3; precision 3/5, recall 3/3
    assert metrics.rouge_l("x b c d e", "x c e") == pytest.approx(2 * 0.6 * 1.0 / 1.6)
    assert metrics.rouge_l("one two", "three four") == 0.0
    assert metrics.rouge_l("same words", "same words") == 1.0


def test_regex_full_match_and_search():
    assert metrics.regex("INV-123", None, {"pattern": r"INV-\d+"}) == 1.0
    assert metrics.regex("see INV-123", None, {"pattern": r"INV-\d+"}) == 0.0
    assert metrics.regex("see INV-123", None, {"pattern": r"INV-\d+", "search": True}) == 1.0
    with pytest.raises(ValueError):
        metrics.regex("x", None, {})


def test_json_valid_and_schema():
    schema = {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "number"}}}
    assert metrics.json_valid('{"a": 1}', None) == 1.0
    assert metrics.json_valid("```json\n{\"a\": 1}\n```", None) == 1.0
    assert metrics.json_valid("{a: 1}", None) == 0.0
    assert metrics.json_schema('{"amount": 3.5}', None, {"schema": schema}) == 1.0
    assert metrics.json_schema('{"amount": "3.5"}', None, {"schema": schema}) == 0.0
    assert metrics.json_schema("nope", None, {"schema": schema}) == 0.0


def test_label_match_finds_the_label_in_the_answer():
    labels = ["Groceries", "Travel", "Dining out"]
    assert metrics.label_match("Groceries", "groceries", {"labels": labels}) == 1.0
    assert metrics.label_match("Category: Dining out.", "Dining out", {"labels": labels}) == 1.0
    assert metrics.label_match("Travel, not groceries", "Groceries", {"labels": labels}) == 0.0
    assert metrics.label_match("Category: Travel", "Travel", {"labels": labels, "strict": True}) == 0.0
    assert metrics.accuracy("travel", "Travel", {"labels": labels}) == 1.0


def test_numeric_tolerance():
    assert metrics.numeric_tolerance("The total is 1,234.5 EUR", "1234.5") == 1.0
    assert metrics.numeric_tolerance("12.04", "12", {"tolerance": 0.05}) == 1.0
    assert metrics.numeric_tolerance("13", "12", {"tolerance": 0.05}) == 0.0
    assert metrics.numeric_tolerance("105", "100", {"relative": 0.1}) == 1.0
    assert metrics.numeric_tolerance("no number", "12") == 0.0


def test_length_bounds():
    assert metrics.length_bounds("short", None, {"max_chars": 10}) == 1.0
    assert metrics.length_bounds("far too long an answer", None, {"max_chars": 10}) == 0.0
    assert metrics.length_bounds("two words", None, {"min_words": 2, "max_words": 3}) == 1.0


def test_unknown_metric_names_the_known_ones():
    with pytest.raises(ValueError, match="exact_match"):
        metrics.score("bleu", "a", "b")


def test_custom_scorer_runs_in_the_sandbox(tmp_path):
    scorer = tmp_path / "scorer.py"
    scorer.write_text("def score(prompt, output, reference):\n    return 1.0 if output.startswith(prompt) else 0.25\n")
    items = [{"prompt": "ab", "output": "abc", "reference": None}, {"prompt": "x", "output": "yz", "reference": None}]
    assert metrics.score_custom(str(scorer), items) == [1.0, 0.25]
    bad = tmp_path / "bad.py"
    bad.write_text("def score(prompt, output, reference):\n    raise RuntimeError('boom')\n")
    with pytest.raises(RuntimeError, match="boom"):
        metrics.score_custom(str(bad), items)
