"""One judge scale and one answer reading, everywhere they are used."""

from __future__ import annotations

import pytest

from synth import scale
from synth.answers import final_number

FORMS = [  # every form the prompts allow, and the usual variants of it
    ("The answer misses the tenet.\nSCORE: 1", 0.0),
    ("Fully meets it.\nSCORE: 5", 1.0),
    ("Partly.\nSCORE: 3", 0.5),
    ("Score: 4/5", 0.75),
    ("**Score:** 2", 0.25),
    ("score = 4 out of 5", 0.75),
    ("Reasoning first.\n4", 0.75),
    ("SCORE: 4.5", 0.875),
    ("SCORE: 3\nOn reflection...\nSCORE: 5", 1.0),
]
OFF_SCALE = ["SCORE: 0.5", "SCORE: 0", "SCORE: 7", "Score: 8/10", "no idea", "", "The answer has 3 steps."]


@pytest.mark.parametrize("reply,expected", FORMS)
def test_every_allowed_form_reads_as_meant_in_the_evaluation_judge_and_the_reward(reply, expected):
    from skills.evaluate import judge
    from skills.train import scoring
    from specs.evaluation import JudgeRubric

    assert scale.read_verdict(reply) == pytest.approx(expected)
    assert judge.parse_verdict(reply, JudgeRubric(prompt="{output}")) == pytest.approx(expected)
    assert scoring.parse_judge(reply) == pytest.approx(expected)


@pytest.mark.parametrize("reply", OFF_SCALE)
def test_a_reply_off_the_scale_is_no_score(reply):
    from skills.evaluate import judge
    from skills.train import scoring
    from specs.evaluation import JudgeRubric

    assert scale.read_verdict(reply) is None
    assert judge.parse_verdict(reply, JudgeRubric(prompt="{output}")) is None
    assert scoring.parse_judge(reply) == 0.0  # a reward needs a number: no score earns nothing


def test_normalize_is_the_one_mapping():
    assert [scale.normalize(n) for n in range(1, 6)] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_every_prompt_and_rubric_states_the_same_scale():
    from skills.evaluate import judge
    from skills.evaluate.plan import judge_rubric
    from skills.train.scoring import JUDGE_PROMPT
    from skills.use_case.drafting import tenet_options
    from specs.evaluation import JudgeRubric
    from specs.use_case import Tenet

    _, alternatives = tenet_options("generation")
    judged = [t for group in tenet_options("summarization") for t in group if t["measured_by"] == "judge"]
    judged += [t for t in alternatives if t["measured_by"] == "judge"]
    assert judged
    for tenet in judged:  # the use case's rubrics speak the 1..5 scale, never 0..1
        assert "Score 5" in tenet["rubric"] and "Score 1 " in tenet["rubric"] and "0.0" not in tenet["rubric"]
    rubric = judge_rubric(Tenet(**judged[0]))
    system = judge.judge_messages(JudgeRubric(prompt=rubric.prompt), prompt="p", reference=None, output="o")
    assert scale.SCALE_TEXT in rubric.prompt and scale.SCALE_TEXT in system[0]["content"]
    assert scale.SCALE_TEXT in JUDGE_PROMPT and "SCORE: <n>" in JUDGE_PROMPT
    assert "0 and 1" not in JUDGE_PROMPT


def test_judge_through_a_real_openai_compatible_server_scores_as_the_rubric_means(tmp_path):
    from skills.evaluate import judge
    from specs.evaluation import JudgeRubric
    from synth.llm import LLMClient, run_sync
    from tests.loopback import LoopbackServer, Reply

    replies = [Reply(text=text) for text, _ in FORMS[:5]]
    items = [{"prompt": "p", "reference": "r", "output": f"answer {k}"} for k in range(len(replies))]
    with LoopbackServer(replies) as server:
        client = LLMClient("openai/judge", api_base=server.api_base, concurrency=1)
        got = run_sync(judge.judge_many(client, JudgeRubric(prompt="Judge: {output}"), items))
    assert sorted(score for score, _ in got) == sorted(expected for _, expected in FORMS[:5])


# -- one reading of numeric answers: the metric, the reward, the template's gold answers --------------

ANSWERS = [("3 + 5 = 8\nAnswer: 8", 8.0), ("Answer: 1,200", 1200.0), ("I think 7, no, 9", 9.0),
           ("Answer: 12\nCheck: 12 - 4 = 8", 12.0), ("no number", None), ("answer = -3.5", -3.5)]


@pytest.mark.parametrize("text,expected", ANSWERS)
def test_metric_and_reward_read_a_numeric_answer_the_same_way(text, expected):
    from skills.common.metrics import numeric_tolerance
    from skills.train.rewards import render_reward_code
    from specs.reward import RewardComponent, RewardSpec

    assert final_number(text) == expected
    code = render_reward_code(RewardSpec(components=[RewardComponent(name="n", kind="numeric_tolerance")]))
    namespace: dict = {}
    exec(compile(code, "reward.py", "exec"), namespace)
    for reference in ("8", "Answer: 9", "1200", "-3.5", "12"):
        metric = numeric_tolerance(text, reference, {"tolerance": 1e-6})
        reward = namespace["score"]({"completions": [text], "references": [reference]})[0]["scores"]["n"]
        assert metric == reward, (text, reference)


def test_math_template_gold_answers_satisfy_the_contract_they_are_made_for(tmp_path):
    import re

    from skills.common.metrics import score
    from skills.use_case.drafting import tenet_options
    from specs.use_case import UseCaseSpec
    from synth.seeds import draft_offline
    from synth.templates import arithmetic

    tenets, _ = tenet_options("math")
    use_case = UseCaseSpec(name="Word problems", business_problem="Solve arithmetic word problems", primary_users="pupils",
                           task_type="math", success_tenets=tenets,
                           contract={"input_description": "a word problem",
                                     "output_description": "A short worked solution ending with a line `Answer: <number>`."})
    rows = draft_offline(use_case, 12)
    assert rows
    for row in rows:
        for tenet in use_case.success_tenets:
            if tenet.measured_by == "code":
                assert score(tenet.metric, row["output"], row["output"], tenet.params) == 1.0, (tenet.name, row["output"])
        assert re.search(r"Answer: -?\d+$", row["output"])
    made = arithmetic.generate({"n": 30, "seed": 3, "split": "train", "answer_line": True})
    assert all(arithmetic.verify(r) is True for r in made)
    wrong = dict(made[0], output=made[0]["output"].rsplit("Answer:", 1)[0] + "Answer: 99999")
    assert arithmetic.verify(wrong) is not True
    bare = arithmetic.generate({"n": 5, "seed": 3, "split": "train"})
    assert all(re.fullmatch(r"-?\d+", r["output"]) and arithmetic.verify(r) is True for r in bare)


def test_the_evaluation_report_says_the_judge_scale_it_shows():
    from skills.evaluate.report import render_markdown

    report = {"eval_id": "e1", "examples": 2, "variants": ["base"], "judge_model": "openai/j",
              "metrics": [{"key": "warm", "metric": "warm", "tenet": "warm", "kind": "judge", "method": "judge (numeric)",
                           "means": {"base": 0.75}, "comparisons": []}]}
    text = render_markdown(report)
    assert scale.SCALE_TEXT in text and "1 -> 0, 3 -> 0.5, 5 -> 1" in text


def test_a_unit_conversion_task_gets_unit_conversion_problems_not_counting_ones(tmp_path):
    # a real 1.5B planner's session, offline seeds for "unit-conversion word problems ... no data": "Grace has 179 books.
    # Grace gets 8 more books..." came from the counting template
    import re

    from skills.use_case.drafting import tenet_options
    from specs.use_case import UseCaseSpec
    from synth.plan import default_spec, math_template
    from synth.seeds import draft_offline
    from synth.templates import unit_conversion

    tenets, _ = tenet_options("math")
    units = UseCaseSpec(name="Unit-conversion word problem solver", primary_users="warehouse staff", task_type="math",
                        business_problem="Solve unit-conversion word problems and answer with just the number.",
                        success_tenets=tenets, contract={"input_description": "a word problem about units",
                                                         "output_description": "just the number"})
    counting = units.model_copy(update={"name": "Word problems", "business_problem": "Solve arithmetic word problems",
                                        "contract": units.contract.model_copy(update={"input_description": "a word problem"})})
    assert math_template(units) == "unit_conversion" and math_template(counting) == "arithmetic"
    assert default_spec(units).generator.template == "unit_conversion"
    rows = draft_offline(units, 12)
    assert len(rows) == 12 and all(unit_conversion.final_answer(r["output"]) is not None for r in rows)
    unit_words = ("meters", "grams", "minutes", "seconds", "hours", "days", "milliliters", "items", "centimeters")
    assert all(any(word in r["input"] for word in unit_words) for r in rows), [r["input"] for r in rows]
    assert not any(" gets " in r["input"] or "gives away" in r["input"] for r in rows)
    made = unit_conversion.generate({"n": 60, "seed": 3, "split": "train", "answer_line": True,
                                     "axes": {"difficulty": [["easy", 1], ["medium", 2], ["hard", 1]]}})
    assert all(unit_conversion.verify(r) is True and re.search(r"Answer: \d+$", r["output"]) for r in made)
    assert {r["meta"]["difficulty"] for r in made} == {"easy", "medium", "hard"}
    wrong = dict(made[0], output=made[0]["output"].rsplit("Answer:", 1)[0] + "Answer: 7")
    assert unit_conversion.verify(wrong) is not True
    held = unit_conversion.generate({"n": 60, "seed": 3, "split": "eval"})

    def contexts(records):
        return {r["input"].split(" is ")[0].split(" weighs ")[0].split(" holds ")[0] for r in records}

    assert not contexts(held) & contexts(made)  # eval problems are about other things than training ones


def _math_use_case(problem: str, inputs: str, output: str):
    from skills.use_case.drafting import tenet_options
    from skills.use_case.infer import infer
    from specs.use_case import UseCaseSpec

    tenets, _ = tenet_options("math", facts=infer(problem, "math"))
    return UseCaseSpec(name="Math helper", primary_users="staff", task_type="math", business_problem=problem,
                       success_tenets=tenets, contract={"input_description": inputs, "output_description": output})


def test_a_money_or_percentage_task_gets_money_problems_in_its_currency_not_counting_ones():
    import re

    from synth.plan import default_spec, math_template, math_topics
    from synth.seeds import draft_offline
    from synth.templates import money

    percent = _math_use_case("Work out discounts, tips and sales tax for our cashiers in euros; answer with just the "
                             "number.", "a question about a discount, a tip or tax", "just the number")
    change = _math_use_case("Help shop staff work out the change and totals when customers buy several items.",
                            "a shopping question", "A short worked solution ending with a line `Answer: <number>`.")
    assert math_template(percent) == math_template(change) == "money"
    assert math_topics(percent) == ["percent", "money"] and math_topics(change) == ["money"]
    assert default_spec(percent).generator.template == "money"
    rows = draft_offline(percent, 12)
    assert len(rows) == 12 and all(re.fullmatch(r"\d+", r["output"]) for r in rows), [r["output"] for r in rows]
    assert all("€" in r["input"] or "%" in r["input"] for r in rows) and not any("$" in r["input"] for r in rows)
    assert not any(" gets " in r["input"] or "gives away" in r["input"] for r in rows)
    shop = draft_offline(change, 12)
    assert all(re.search(r"\nAnswer: \d+$", r["output"]) for r in shop) and not any("%" in r["input"] for r in shop)
    axes = {"difficulty": [["easy", 1], ["medium", 2], ["hard", 1]]}
    for topics in (["percent"], ["money"]):
        made = money.generate({"n": 200, "seed": 5, "split": "train", "answer_line": True, "axes": axes, "topics": topics})
        assert all(money.verify(r) is True for r in made), [(r, money.verify(r)) for r in made if money.verify(r) is not True]
        assert all(money.final_answer(r["output"]) > 0 for r in made)
        assert len({r["input"] for r in made}) >= 190
        held = money.generate({"n": 200, "seed": 5, "split": "eval", "axes": axes, "topics": topics})

        def frames(records):  # the wording around the numbers and names
            return {re.sub(r"[$£€]?\d+%?|[A-Z][a-z]+", "#", r["input"])[:25] for r in records}

        assert len(frames(held) & frames(made)) < len(frames(held)) / 2  # eval is mostly phrased unlike training
    wrong = dict(made[0], output=made[0]["output"].rsplit("Answer:", 1)[0] + "Answer: 7777")
    assert money.verify(wrong) is not True


def test_math_that_no_shipped_template_computes_says_what_it_needs_offline_instead_of_counting_problems():
    import re

    import pytest

    from specs.data_generation import DataGenerationSpec
    from synth.expand import expand_seed
    from synth.plan import default_spec, math_template
    from synth.seeds import NeedsData, draft_offline, offline_gap

    algebra = _math_use_case("Solve simple algebra equations for students; give the value of x.", "a linear equation",
                             "just the number")
    geometry = _math_use_case("Compute the area and perimeter of floor plans", "a room's measurements", "just the number")
    for use_case in (algebra, geometry):
        assert math_template(use_case) is None and offline_gap(use_case)
        assert default_spec(use_case).generator.kind == "offline"
        with pytest.raises(NeedsData, match="a teacher model"):
            draft_offline(use_case, 8)
    # expanding the person's own math examples offline keeps every number and sentence, so the answers stay right
    examples = [{"input": "Solve for x: 3x + 4 = 19. Give x.", "output": "5"},
                {"input": "Solve for x: 2x - 6 = 10. Give x.", "output": "8"}]
    spec = DataGenerationSpec(train_count=10, eval_count=2, generator={"kind": "offline"},
                              diversity_axes=[{"name": "writing_style", "values": [{"value": "casual"}, {"value": "formal"}]}])
    for i in range(10):
        made = expand_seed(spec, "train", i, examples, keep_numbers=True)
        base = next(e for e in examples if e["output"] == made["output"])
        assert sorted(re.findall(r"\d+", made["input"])) == sorted(re.findall(r"\d+", base["input"]))
