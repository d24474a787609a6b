"""Offline data for any label set: the bank vocabulary only for bank transactions, one merchant per label."""

from __future__ import annotations

import re

from synth.templates import classification as C


def _pools(labels, split="train"):
    taken = {C.category_for(label) for label in labels} - {None}
    return {label: set(C.merchants(C.category_for(label), split, taken)) for label in labels}


def test_the_demo_labels_are_distinct_categories_and_share_no_merchant():
    from assistant.demo_cmd import DESCRIPTION

    labels = [w.strip(" .") for w in DESCRIPTION.split(":", 1)[1].split(".")[0].split(",")]
    assert len(labels) == 12
    categories = [C.category_for(label) for label in labels]
    assert None not in categories and len(set(categories)) == 12, dict(zip(labels, categories))
    pools = _pools(labels)
    for a in labels:
        for b in labels:
            if a < b:
                assert not pools[a] & pools[b], (a, b, pools[a] & pools[b])


def test_transport_and_fuel_as_two_labels_draw_disjoint_merchants_and_transport_alone_keeps_fuel():
    both = _pools(["transport", "fuel"])
    assert both["transport"] and both["fuel"] and not both["transport"] & both["fuel"]
    alone = _pools(["transport", "groceries"])
    assert "SHELL" in alone["transport"] and "SHELL" not in both["transport"]
    records = C.generate({"labels": ["transport", "fuel"], "n": 200, "seed": 1, "split": "train", "axes": {}})
    for record in records:
        assert record["meta"]["merchant"] in both[record["output"]]
        assert C.verify(record) is True


def test_one_dataset_uses_one_currency_and_seeds_use_no_made_up_names():
    for currency in ("$", "£", "€"):
        records = C.generate({"labels": ["groceries", "dining", "travel"], "n": 150, "seed": 2, "split": "seed",
                              "axes": {}, "currency": currency})
        signs = {s for r in records for s in re.findall(r"[$£€]", r["input"])}
        codes = {c for r in records for c in re.findall(r"\b(USD|GBP|EUR)\b", r["input"])}
        assert signs <= {currency} and codes <= {C.CURRENCIES[currency]}
        real = {m for cat in C.VOCAB.values() for m in cat["merchants"]}
        assert all(r["meta"]["merchant"] in real for r in records)


def test_a_label_never_appears_inside_its_own_input():
    records = C.generate({"labels": ["income", "rent", "fees"], "n": 300, "seed": 3, "split": "train", "axes": {}})
    assert records and not any(C.label_in_text(r["output"], r["input"]) for r in records)
    assert C.verify({"input": "GREEN ACCOUNT ACCESS 301.92", "output": "account access", "meta": {}}) \
        == "label written in the input"


# -- any label set, any family: from the person's examples, or a plain word about what is needed ---------

import pytest  # noqa: E402

from families import FAMILIES  # noqa: E402
from specs.use_case import UseCaseSpec  # noqa: E402
from synth import seeds  # noqa: E402

NEWS = UseCaseSpec.model_validate({
    "name": "News topics", "business_problem": "Sort news articles into travel, health, sports or politics.",
    "primary_users": "editors", "task_type": "classification",
    "contract": {"input_description": "One news article.", "output_description": "The topic.", "output_format": "label",
                 "labels": ["travel", "health", "sports", "politics"]},
    "success_tenets": [{"name": "correct_label", "description": "right topic", "measured_by": "code",
                        "metric": "label_match"}]})
NEWS_EXAMPLES = [
    {"input": "Airlines add winter routes to the Canary Islands. Hotels there report early bookings.", "output": "travel"},
    {"input": "Rail passes for Europe get cheaper this summer. Hostels expect a busy season.", "output": "travel"},
    {"input": "A new study links daily walks to better sleep. Doctors advise thirty minutes a day.", "output": "health"},
    {"input": "The clinic opens a flu vaccine drive on Monday. Nurses will visit schools too.", "output": "health"},
    {"input": "The home side won the derby in extra time. Fans filled the square after the match.", "output": "sports"},
    {"input": "The marathon record fell by two seconds on Sunday. The winner trained at altitude.", "output": "sports"},
    {"input": "Parliament passed the budget after a late vote. The opposition promised to appeal.", "output": "politics"},
    {"input": "The mayor called an early election. Two parties announced candidates the same day.", "output": "politics"},
]
BANK_WORDS = {"POS", "DEBIT", "CONTACTLESS", "DELTA AIR LINES", "USD", "GBP", "EUR"}


def test_news_topics_get_no_bank_vocabulary_and_say_what_is_needed_without_examples():
    with pytest.raises(seeds.NeedsData) as raised:
        seeds.draft_offline(NEWS)
    text = str(raised.value)
    assert "real examples" in text and "data file" in text and "teacher" in text
    from synth.plan import pick_generator

    assert pick_generator(NEWS).kind == "offline"


def test_news_records_come_from_the_persons_examples_with_right_labels(tmp_path):
    from synth.generate import generate_dataset
    from synth.plan import default_spec

    seeds.save(tmp_path, NEWS_EXAMPLES)
    spec = default_spec(NEWS).model_copy(update={"train_count": 60, "eval_count": 12})
    assert [a.name for a in spec.diversity_axes] == ["category", "writing_style"]  # no axis it cannot realize
    report = generate_dataset(tmp_path, NEWS, spec)
    assert report["status"] == "done" and report["train_records"] > 20, report
    from synth.records import from_training_row, read_jsonl

    rows = [from_training_row(r) for r in read_jsonl(tmp_path / "data/train.jsonl")]
    vocabulary = {w.lower().strip(".,") for e in NEWS_EXAMPLES for w in e["input"].split()}
    for row in rows:
        assert row["output"] in NEWS.contract.labels
        assert not any(word in row["input"] for word in BANK_WORDS), row["input"]
        assert row["meta"]["source"] == "offline"
        example_words = {w.lower().strip(".,") for e in NEWS_EXAMPLES if e["output"] == row["output"]
                         for w in e["input"].split()}
        content = {w.lower().strip(".,!?") for w in row["input"].split()} - set(
            "hello good morning dear team hi there thank you kind regards many thanks in advance thx cheers any help "
            "appreciated ty".split())
        assert content - vocabulary <= set(), content - vocabulary  # nothing made up
        assert content & example_words  # its content comes from its own label's examples


@pytest.mark.parametrize("family", ["hotel_replies", "bug_summaries", "legal_rewrites", "faq_bot", "text_to_sql",
                                    "support_queues", "home_intents", "answer_grades"])
def test_open_ended_and_unknown_label_families_say_plainly_what_is_needed(family, tmp_path):
    from synth.generate import GenerationError, generate_dataset
    from synth.plan import default_spec

    use_case, fmt = FAMILIES[family]
    with pytest.raises(seeds.NeedsData, match="a few real examples.*a data file.*a teacher model"):
        seeds.draft_offline(use_case, fmt=fmt)
    with pytest.raises(GenerationError, match="real examples"):
        generate_dataset(tmp_path, use_case, default_spec(use_case, fmt=fmt))


@pytest.mark.parametrize("family", ["shipment_fields", "unit_problems"])
def test_families_with_a_shipped_template_draft_offline(family):
    use_case, fmt = FAMILIES[family]
    rows = seeds.draft_offline(use_case, fmt=fmt)
    assert len(rows) >= 5 and not any(seeds.placeholder(r["input"]) or seeds.placeholder(r["output"]) for r in rows)


def test_placeholder_text_never_passes_the_seed_step_or_verification(tmp_path):
    from synth.plan import default_spec
    from synth.verify import Verifier

    use_case, _ = FAMILIES["bug_summaries"]
    for text in ("[draft 1: write an input here] One bug report.", "lorem ipsum dolor", "Reply to <input>"):
        with pytest.raises(seeds.SeedError, match="placeholder"):
            seeds.add_row(tmp_path, {"input": text, "output": "A summary."})
    verifier = Verifier(use_case, default_spec(use_case))
    assert verifier.check({"input": "The app crashes on save.", "output": "[draft 2: write the ideal answer] Two lines."}) \
        == "placeholder text"
    assert verifier.check({"input": "The app crashes on save.", "output": "Saving crashes the app."}) is None


def test_writing_style_changes_the_content_and_coverage_is_measured_on_it():
    from specs.data_generation import DataGenerationSpec
    from synth.expand import expand_seed
    from synth.quality import content_coverage

    spec = DataGenerationSpec.model_validate({"diversity_axes": [
        {"name": "writing_style", "values": [{"value": "formal"}, {"value": "casual"}, {"value": "terse"}]},
        {"name": "difficulty", "values": [{"value": "easy"}, {"value": "hard"}]}]})
    examples = [{"input": "I can't log in to my account since the update. Please help me reset it.", "output": "account"},
                {"input": "The invoice shows the wrong amount. I don't know who to ask.", "output": "billing"}]
    records = [expand_seed(spec, "train", k, examples, ["account", "billing"]) for k in range(60)]
    by_style: dict[str, set[str]] = {}
    for record in records:
        by_style.setdefault(record["meta"]["writing_style"], set()).add(record["input"])
    formal, casual = " ".join(by_style["formal"]), " ".join(by_style["casual"])
    assert "cannot" in formal and "can't" not in formal and ("can't" in casual or "don't" in casual)
    coverage = content_coverage(records, spec, [])
    assert coverage["writing_style"]["covered"] == 1.0
    # difficulty is tagged on every record but the expansion cannot realize it: no content shows it
    assert all(coverage["difficulty"]["counts"].values())
    assert coverage["difficulty"]["covered"] < 1.0


def test_training_names_carry_every_cue_word_and_the_held_out_merchants_stay_held_out():
    """Training composes every training prefix with every keyword of its category, so each cue word is seen
    under many names; the eval split's merchants (every fifth brand, the names on held-out prefixes) are
    the same as ever and none of them is a training merchant."""
    for category, entry in C.VOCAB.items():
        train = set(C.merchants(category, "train", taken={category}))
        held = C.merchants(category, "eval", taken={category})
        assert not train & set(held)
        brands = [m for k, m in enumerate(entry["merchants"]) if k % 5 == 4]
        composed = [p + " " + entry["keywords"][k % len(entry["keywords"])] for k, p in enumerate(C._PREFIXES) if k % 4 == 3]
        assert held[:len(brands) + len(composed)] == brands + composed
        for keyword in entry["keywords"]:
            assert any(m.endswith(" " + keyword) for m in train), (category, keyword)


def test_expansion_keeps_structured_inputs_whole_and_answers_true():
    """A label task's record keeps its layout and the context its label is judged in (a student's answer is
    never moved under another question); an open-ended record changes a number the answer repeats in both, and
    never replaces a sentence the answer draws on; identifiers (`CO2`) keep their digits."""
    from specs.data_generation import DataGenerationSpec
    from synth.expand import expand_seed

    spec = DataGenerationSpec.model_validate({"diversity_axes": [{"name": "category", "values": [
        {"value": "5"}, {"value": "1"}]}]})
    questions = {"Why do we have seasons?": ("The axis is tilted.", ["The tilt of the axis.", "Because of the weather."]),
                 "What gas do plants take in?": ("CO2.", ["They take in CO2.", "Oxygen, I guess."])}
    examples = [{"input": f"Question: {q}\nReference: {ref}\nStudent ({name}): {answers[k]} {hedge}",
                 "output": ["5", "1"][k]}
                for q, (ref, answers) in questions.items() for k in range(2)
                for name, hedge in (("Ana", "I think."), ("Ben", "Maybe."), ("Eva", "Sure."))]
    known = {(e["input"].split("\n")[0], e["input"].split("\n")[1], e["output"]) for e in examples}
    for k in range(40):
        record = expand_seed(spec, "train", k, examples, ["5", "1"])
        lines = record["input"].split("\n")
        assert len(lines) == 3 and lines[2].startswith("Student (") and record["input"].count("Student") == 1
        answer = lines[2].split("): ", 1)[1]
        assert (lines[0], lines[1], record["output"]) in known
        assert any(e["input"].startswith("\n".join(lines[:2])) and answer.split(".")[0] in e["input"]
                   and e["output"] == record["output"] for e in examples), record["input"]
        assert "CO2" in record["input"] or "plants" not in record["input"]

    spec = DataGenerationSpec.model_validate({"diversity_axes": []})
    pairs = [{"input": f"Stayed {n} nights in {city}. The {thing} was great. {mood}",
              "chosen": f"Thank you for your {n} nights with us; we are glad the {thing} was great.",
              "rejected": "Thanks for the feedback."}
             for n, city, thing, mood in ((2, "Porto", "breakfast", "Mixed feelings."), (3, "Lyon", "spa", "Might come back."),
                                         (5, "Turin", "view", "Overall fine."))]
    changed = 0
    for k in range(30):
        record = expand_seed(spec, "train", k, pairs)
        nights = re.search(r"Stayed (\d+) nights", record["input"]).group(1)
        assert f"your {nights} nights" in record["chosen"], record
        thing = re.search(r"glad the (\w+) was", record["chosen"]).group(1)
        assert f"The {thing} was great." in record["input"]
        changed += record["input"] not in {p["input"] for p in pairs}
    assert changed > 20


def test_a_classification_answer_is_never_moved_under_another_answers_sentences():
    """Tags in a JSON object judge the whole review: a sentence comes only from a review with the same tags."""
    import json

    from specs.data_generation import DataGenerationSpec
    from synth.expand import expand_seed

    spec = DataGenerationSpec.model_validate({"diversity_axes": []})
    tags = {"Great buy.": {"sentiment": "positive"}, "Love it.": {"sentiment": "positive"},
            "Not good.": {"sentiment": "negative"}, "Disappointed.": {"sentiment": "negative"}}
    pairs = [("lamp", "Great buy."), ("lamp", "Not good."), ("kettle", "Love it."), ("kettle", "Disappointed."),
             ("chair", "Great buy."), ("chair", "Disappointed."), ("desk", "Love it."), ("desk", "Not good.")]
    examples = [{"input": f"The {thing} arrived on time. {verdict}", "output": json.dumps(tags[verdict])}
                for thing, verdict in pairs]
    swapped = 0
    for k in range(60):
        record = expand_seed(spec, "train", k, examples, None, classify=True)
        verdict = record["input"].split(". ", 1)[1]
        assert tags[verdict] == json.loads(record["output"]), record
        swapped += record["input"] not in {e["input"] for e in examples}
    assert swapped > 10
