"""Rewards: templates, compilation from tenets, sandboxed scoring with sub-scores, dry-run flags."""

from __future__ import annotations

import pytest

from skills.train import scoring
from skills.train.dryrun import analyze
from skills.train.rewards import compile_reward, render_reward_code
from specs.reward import RewardComponent, RewardSpec
from specs.use_case import UseCaseSpec
from specs.yamlio import save_spec
from test_train_fixtures import make_session


def _rendered():
    """reward.py as generated (the template with synth/answers.py pasted in), as a module."""
    import types

    code = render_reward_code(RewardSpec(components=[RewardComponent(name="e", kind="exact_match")]))
    module = types.ModuleType("reward")
    exec(compile(code, "reward.py", "exec"), module.__dict__)
    return module


def test_templates():
    T = _rendered()
    labels = {"labels": ["food", "rent"]}
    assert T.label_match("food", "food", labels) == 1.0
    assert T.label_match(" Food.", "food", labels) == 1.0
    assert T.label_match("I think this is food", "food", labels) == 0.5
    assert T.label_match("food or rent", "food", labels) == 0.0
    assert T.label_match("rent", "food", labels) == 0.0
    assert T.exact_match("Paris ", "paris", {}) == 1.0 and T.exact_match("Lyon", "Paris", {}) == 0.0
    assert T.numeric_tolerance("The answer is 42.", "42", {}) == 1.0
    assert T.numeric_tolerance("41.9", "42", {"tolerance": 0.2}) == 1.0
    assert T.numeric_tolerance("no number", "42", {}) == 0.0
    assert T.regex("2024-01-05", None, {"pattern": r"\d{4}-\d\d-\d\d"}) == 1.0
    assert T.regex("Jan 5", None, {"pattern": r"\d{4}-\d\d-\d\d"}) == 0.0
    schema = {"type": "object", "required": ["total"], "properties": {"total": {"type": "number"}}}
    assert T.json_schema('{"total": 3}', None, {"schema": schema}) == 1.0
    assert T.json_schema('```json\n{"x": 3}\n```', None, {"schema": schema}) == 0.5
    assert T.json_schema("not json", None, {"schema": schema}) == 0.0
    assert T.length_penalty("x" * 10, None, {"max_chars": 10}) == 1.0
    assert T.length_penalty("x" * 15, None, {"max_chars": 10}) == 0.5


def _use_case(tenets, **contract):
    return UseCaseSpec(name="t", business_problem="p", primary_users="u", task_type="math",
                       contract={"input_description": "i", "output_description": "o", **contract}, success_tenets=tenets)


def test_compile_from_tenets():
    uc = _use_case([{"name": "answer", "description": "d", "metric": "numeric_tolerance", "params": {"tolerance": 0.01}},
                    {"name": "shows_work", "description": "d", "measured_by": "judge", "rubric": "1 if steps shown"},
                    {"name": "overlap", "description": "d", "metric": "rouge_l"}])
    spec, notes = compile_reward(uc, "rlvr")
    kinds = {c.name: c.kind for c in spec.components}
    assert kinds == {"answer": "numeric_tolerance", "brevity": "length_penalty"}
    assert any("shows_work" in n for n in notes) and any("overlap" in n for n in notes)
    assert next(c for c in spec.components if c.name == "brevity").log_only
    spec, _ = compile_reward(uc, "rlaif", judge_model="openai/judge")
    assert {c.kind for c in spec.components} >= {"judge", "numeric_tolerance"}
    with pytest.raises(ValueError):
        compile_reward(_use_case([{"name": "j", "description": "d", "metric": "f1"}]), "rlvr")


def test_reward_py_in_sandbox_returns_total_and_subscores(tmp_path):
    session = make_session(tmp_path, n_train=10)
    from specs.yamlio import load_spec

    uc = load_spec(session / "use_case.yaml", UseCaseSpec)
    spec, _ = compile_reward(uc, "rlvr")
    save_spec(session / "reward.yaml", spec)
    (session / "reward.py").write_text(render_reward_code(spec))
    out = scoring.score(session, spec, ["a", "b", "c"], ["dining", "It is dining!", "x" * 80], ["dining"] * 3)
    assert out[0].total == pytest.approx(1.0)
    assert 0 < out[1].total < out[0].total
    assert out[2].total == 0.0 and out[2].scores["brevity"] < 1.0, "log-only brevity is logged but not counted"
    assert set(out[0].scores) == {"correct_category", "valid_label_only", "brevity"}


def test_sandbox_limits_a_runaway_reward(tmp_path):
    spec = RewardSpec(components=[RewardComponent(name="x", kind="exact_match")], timeout_s=2)
    (tmp_path / "reward.py").write_text("def score(payload):\n    while True:\n        pass\n")
    with pytest.raises(scoring.RewardError, match="timed out"):
        scoring.score(tmp_path, spec, ["p"], ["a"], ["a"])


def test_trl_reward_functions_share_one_scoring(tmp_path):
    session = make_session(tmp_path, n_train=10)
    from specs.yamlio import load_spec

    spec, _ = compile_reward(load_spec(session / "use_case.yaml", UseCaseSpec), "rlvr")
    save_spec(session / "reward.yaml", spec)
    (session / "reward.py").write_text(render_reward_code(spec))
    funcs, weights = scoring.trl_reward_functions(session, "reward.yaml")
    assert [f.__name__ for f in funcs] == ["correct_category", "valid_label_only", "brevity"]
    assert weights[-1] == 0 and sum(weights) == pytest.approx(1.0)
    prompts = [[{"role": "user", "content": "x"}]] * 2
    completions = [[{"role": "assistant", "content": "dining"}], [{"role": "assistant", "content": "nope"}]]
    assert funcs[0](prompts, completions, reference=["dining", "dining"]) == [1.0, 0.0]


class _Fixed:
    def __init__(self, total, scores=None):
        self.total, self.scores = total, scores or {"c": total}


def test_dry_run_flags_constant_and_ignoring_rewards():
    prompts, answers, refs = ["p"] * 4, ["a", "b", "c", "d"], ["w", "x", "y", "z"]
    constant = analyze(prompts, answers, refs, lambda p, c, r: [_Fixed(0.5) for _ in c])
    assert not constant.ok and any("constant" in f for f in constant.flags)
    length_only = analyze(prompts, answers, refs, lambda p, c, r: [_Fixed(1.0 if x else 0.0) for x in c])
    assert any("correctness" in f for f in length_only.flags)
    good = analyze(prompts, answers, refs, lambda p, c, r: [_Fixed(1.0 if x == y else 0.0) for x, y in zip(c, r)])
    assert good.ok and good.gold_mean == 1.0 and good.shuffled_mean == 0.0
    assert any("constant on base answers" in f for f in good.flags)
    assert "Distribution" in good.text()


def test_judge_component_scores_through_a_real_openai_compatible_server(tmp_path, monkeypatch):
    from tests.loopback import LoopbackServer, Reply

    spec = RewardSpec(components=[RewardComponent(name="exact", kind="exact_match", weight=1.0),
                                  RewardComponent(name="polite", kind="judge", weight=1.0, params={"rubric": "1 if polite"})],
                      judge_model="openai/judge")
    (tmp_path / "reward.py").write_text(render_reward_code(spec))
    with LoopbackServer([Reply(text="Polite and warm.\nSCORE: 5"), Reply(text="Rude.\nScore: 2/5")]) as server:
        monkeypatch.setenv("TUNESMITH_JUDGE_API_BASE", server.api_base)
        out = scoring.score(tmp_path, spec, ["say hi", "say hi"], ["hi", "go away"], ["hi", "hi"])
        asked = [r["messages"][0]["content"] for r in server.requests]
    assert sorted(s.scores["polite"] for s in out) == [0.25, 1.0]
    assert all("1 if polite" in a and "SCORE: <n>" in a for a in asked)
    by_answer = {s.scores["exact"]: s for s in out}
    assert by_answer[1.0].total == pytest.approx((1.0 + by_answer[1.0].scores["polite"]) / 2)
