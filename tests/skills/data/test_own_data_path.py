"""The person's own rows through import, top-up and the quality gate, for several task families.

Each case imports a small file of the person's (about 70 rows, built here, unlike the suite's files), writes
the default data_generation.yaml, generates with what works offline (the offline expansion, the extraction
template, the arithmetic template) and scores. Checked for every family: the eval split is the person's rows
and shares no near copy and no record-specific phrase with training, no generated record nearly copies
another record or an eval record, distinct-2 stays above the report's floor, the report says how many
records the top-up added and why not more, and the gate passes. An empty eval split blocks the gate.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from skills.data import tools as data_tools
from skills.settings import ToolSettings
from skills.toolkit import ToolContext
from specs.data_generation import DataGenerationSpec
from specs.yamlio import load_spec, save_spec
from synth.quality import distinct_n, load_report, near_duplicates, overlap, score_records, why_no_eval
from synth.records import from_training_row, read_jsonl

from tests.synth.families import FAMILIES

FAST = ToolSettings(quality_embeddings=False)


def _intents(r: random.Random) -> list[dict]:
    phrases = {"lights_on": ["brighten up the {room}", "I need light in the {room}", "{room} lamps on at {n} percent"],
               "lights_off": ["darken the {room}", "no more light in the {room} tonight", "the {room} lamps can go off"],
               "set_temperature": ["warm the {room} up to {t}", "I'd like {t} degrees in the {room}", "cool the {room} to {t}"],
               "play_music": ["put some {genre} on in the {room}", "I want to hear {genre}", "queue {genre} tracks for the {room}"],
               "lock_door": ["bolt the {door} door", "make sure the {door} door is locked", "lock up the {door} entrance"]}
    rows = []
    for k in range(70):
        intent = list(phrases)[k % 5]
        text = r.choice(phrases[intent]).format(room=r.choice(["study", "nursery", "attic", "porch", "den", "pantry", "loft"]),
                                                n=r.randint(10, 90), t=r.randint(15, 27),
                                                genre=r.choice(["bossa nova", "techno", "folk", "opera", "reggae", "blues"]),
                                                door=r.choice(["cellar", "patio", "shed", "balcony"]))
        rows.append({"utterance": r.choice(["", "ok house, ", "hey, ", "quick one: "]) + text, "intent": intent})
    return rows


def _waybills(r: random.Random) -> list[dict]:
    carriers, rows = ["Maersk", "Aramex", "TNT", "Yodel", "Evri", "Purolator"], []
    for _ in range(70):
        fields = {"tracking_number": f"{r.choice(['AX', 'QP', 'ZZ'])}-{r.randint(10**6, 10**7 - 1)}",
                  "carrier": r.choice(carriers), "weight_kg": round(r.uniform(1, 400), 2)}
        shape = r.randint(0, 2)
        if shape == 0:
            text = f"Consignment {fields['tracking_number']} handed to {fields['carrier']} today, it weighs {fields['weight_kg']} kg."
        elif shape == 1:
            text = f"{fields['carrier']} collected our crate ({fields['weight_kg']} kg). Waybill: {fields['tracking_number']}."
        else:
            text = (f"Re: delivery {r.randint(100, 999)}. Courier {fields['carrier']}, consignment note "
                    f"{fields['tracking_number']}, scale says {fields['weight_kg']} kg.")
        rows.append({"message": text, "extracted": fields})
    return rows


def _reply_pairs(r: random.Random) -> list[dict]:
    liked = ["the rooftop bar", "the quiet courtyard", "the homemade jam", "the concierge tips", "the rain shower"]
    disliked = ["the lift was slow", "the pillows were flat", "parking was hard to find", "the minibar was empty"]
    rows = []
    for _ in range(70):
        good, bad, guest = r.choice(liked), r.choice(disliked), r.choice(["Ada", "Bo", "Cleo", "Dev", "Emil", "Fay"])
        stay = r.choice(["a weekend", "our honeymoon", "a work trip", "a family visit"])
        rows.append({"prompt": f"{guest} wrote: We came for {stay}. Loved {good}; sadly {bad}. Room {r.randint(100, 499)}.",
                     "good_reply": f"Hi {guest}, how lovely that {good} made {stay} special! You're right that {bad}; "
                                   "we've told the team and it's on our list. Come back soon!",
                     "bad_reply": "Thank you for your review. We have noted your comments."})
    return rows


def _problems(r: random.Random) -> list[dict]:
    rows = []
    for k in range(70):
        grams = r.randint(50, 5000)
        rows.append({"question": f"A parcel for shop {k} weighs {grams} grams. How many kilograms is that?",
                     "answer": str(grams / 1000)})
    return rows


CASES = {  # family of tests/synth/families.py -> (rows, mapping)
    "home_intents": (_intents, {"input": "utterance", "output": "intent"}),
    "shipment_fields": (_waybills, {"input": "message", "output": "extracted"}),
    "hotel_replies": (_reply_pairs, {"input": "prompt", "chosen": "good_reply", "rejected": "bad_reply"}),
}


def _session(tmp_path: Path, family: str) -> tuple[Path, ToolContext]:
    session = tmp_path / "s"
    (session / "data").mkdir(parents=True)
    save_spec(session / "use_case.yaml", FAMILIES[family][0])
    return session, ToolContext(session_dir=session, settings=FAST)


def _call(tool, ctx, **args):
    result = tool.run(ctx, tool.validate(args))
    assert not result.is_error, result.content
    return result


def _write(path: Path, rows: list[dict]) -> Path:
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _records(session: Path, split: str) -> list[dict]:
    return [from_training_row(r) for r in read_jsonl(session / "data" / f"{split}.jsonl")]


@pytest.mark.parametrize("family", list(CASES))
def test_the_top_up_adds_only_distinct_records_and_the_eval_split_stays_apart(tmp_path, family):
    make, mapping = CASES[family]
    session, ctx = _session(tmp_path, family)
    source = _write(tmp_path / ("rows.csv" if family == "home_intents" else "rows.jsonl"), make(random.Random(7)))
    imported = _call(data_tools.import_data, ctx, path=str(source), mapping=mapping)
    assert imported.data["eval"] >= 5, imported.content
    _call(data_tools.write_data_generation_spec, ctx)
    spec = load_spec(session / "data_generation.yaml", DataGenerationSpec)
    assert spec.quality.min_records == 30, "the record floor fits a person's data set of 60-100 rows"
    generated = _call(data_tools.generate_data, ctx)
    train, evals = _records(session, "train"), _records(session, "eval")
    assert evals and all(r["meta"]["source"] == "person" for r in evals)
    train_inputs, eval_inputs = [r["input"] for r in train], [r["input"] for r in evals]
    assert overlap(train_inputs, eval_inputs, spec.quality.overlap_ngram) == [], "no eval row leaks into training"
    copies = near_duplicates(eval_inputs + train_inputs, spec.quality.near_duplicate_jaccard)[len(evals):]
    made = [k for k, r in enumerate(train) if r["meta"]["source"] != "person"]
    assert not [k for k in made if copies[k] is not None], "a generated record nearly copies another or an eval record"
    assert distinct_n(train_inputs, 2) >= spec.quality.min_distinct_2
    top_up = generated.data["top_up"]
    assert top_up["added"] == len(made) and top_up["person"] == len(train) - len(made) >= 40
    assert top_up["added"] < top_up["asked"] and top_up["not_added"], "the report says why not more were added"
    report = load_report(session)
    finding = next(f for f in report.findings if f.code == "top_up")
    assert finding.severity == "info" and f"with {top_up['added']} of the {top_up['asked']}" in finding.message
    assert report.blocking() == [], [f"{f.code}: {f.message}" for f in report.blocking()]


def test_numeric_answers_are_kept_in_the_contracts_form_and_part_is_held_out(tmp_path):
    session, ctx = _session(tmp_path, "unit_problems")  # its contract asks for a last line `Answer: <number>`
    source = _write(tmp_path / "problems.csv", _problems(random.Random(3)) + [{"question": "How heavy?", "answer": "heavy"}])
    imported = _call(data_tools.import_data, ctx, path=str(source), mapping={"input": "question", "output": "answer"})
    assert imported.data["dropped"] == {"regex mismatch": 1}, imported.content  # the row with no number
    _call(data_tools.write_data_generation_spec, ctx)
    _call(data_tools.generate_data, ctx)
    train, evals = _records(session, "train"), _records(session, "eval")
    person = [r for r in train if r["meta"]["source"] == "person"]
    assert len(person) >= 40 and len(evals) >= 8 and all(r["meta"]["source"] == "person" for r in evals)
    first = next(r for r in person if r["meta"]["line"] == "1")
    assert first["output"] == f"Answer: {float(_problems(random.Random(3))[0]['answer'])}"
    assert all(r["output"].startswith("Answer: ") for r in person + evals)
    assert load_report(session).blocking() == []


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_an_empty_eval_split_blocks_the_gate_and_says_why(family):
    use_case, fmt = FAMILIES[family]
    spec = DataGenerationSpec(format=fmt)
    answers = use_case.contract.labels or ["Answer: 4"]
    train = [{"input": f"row {k} about the {word}", "output": answers[k % len(answers)], "meta": {}}
             for k, word in enumerate(["tea", "rope", "lamp", "owl", "kiln", "moss"] * 10)]
    generation = {"imported_eval_records": 14, "generated": {"eval": 0},
                  "dropped_by_split": {"eval": {"answer has no number": 14}}}
    report = score_records(train, [], use_case, spec, embeddings=False, tokenizer=False, eval_gap=why_no_eval(generation))
    finding = next(f for f in report.blocking() if f.code == "no_eval_records")
    assert "14 of your held-out rows went in and none passed: answer has no number (14)" in finding.message
    assert "held out no rows" in why_no_eval({"imported_eval_records": 0, "generated": {"eval": 0}})
    kept = score_records(train, train[:3], use_case, spec, embeddings=False, tokenizer=False)
    assert "no_eval_records" not in {f.code for f in kept.findings}
