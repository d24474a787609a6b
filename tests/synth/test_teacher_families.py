"""A teacher for every family: through a real OpenAI-compatible server (litellm talks to it over HTTP),
a scripted teacher answers each family from what the prompt tells it, and every record passes its verifier."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from families import FAMILIES, FAQ
from specs.data_generation import GroundingDocument
from specs.yamlio import save_spec
from tests.fake_openai import FakeOpenAI
from synth.generate import generate_dataset, grounding_texts
from synth.llm import LLMClient
from synth.plan import default_spec
from synth.records import from_training_row, read_jsonl
from synth.seeds import draft_with_teacher
from synth.verify import Verifier

INPUTS = {  # short (under 8 words), so records of a scripted teacher share no 8-word phrase
    "classification": "Note {k} about their request",
    "extraction": "Parcel {k}: DHL, TRK{k}, {k}.5 kg.",
    "math": "Road of {k} km: how many metres?",
    "generation": "Review {k}: breakfast was cold.",
    "summarization": "Bug {k}: double save duplicates invoices.",
    "rewriting": "Clause {k}: lessee indemnifies lessor hereunder.",
    "question_answering": "Question {k}: delivery time?",
    "text_to_sql": "Orders above {k} euros in May?",
}


WORDS = ["amber", "birch", "cobalt", "dune", "ember", "fjord", "garnet", "harbor", "indigo", "juniper", "kelp",
         "lagoon", "meadow", "nectar", "onyx", "prairie", "quartz", "russet", "saffron", "tundra", "umber", "violet"]


def _instance(schema: dict, k: int):
    kind = schema.get("type")
    kind = next((t for t in kind if t != "null"), "string") if isinstance(kind, list) else kind
    if "enum" in schema:
        return schema["enum"][k % len(schema["enum"])]
    if kind == "object":
        return {name: _instance(sub, k) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_instance(schema.get("items") or {}, k)]
    if kind in ("number", "integer"):
        return k
    return f"value {k}"


def _answer(prompt: str, k: int) -> dict | None:
    """One record for the family the prompt describes, built only from what the prompt says."""
    task = re.search(r"^Task: .* \((\w+)\)\. Problem:", prompt, re.MULTILINE).group(1)
    labels = re.search(r"Allowed outputs \(exact spelling\): (.+)", prompt)
    schema = re.search(r"Output is JSON valid against: (\{.+\})", prompt)
    wanted = re.search(r"category = ([^;\n]+)", prompt)
    label = wanted.group(1).strip() if wanted else (labels.group(1).split(", ")[k % 3] if labels else "")
    record = {"input": INPUTS.get(task, INPUTS["generation"]).format(k=k, label="their request")
              + f" ({WORDS[k % len(WORDS)]} {WORDS[k * 7 % len(WORDS)]})"}  # no two records nearly copy each other
    if schema:
        record["output"] = _instance(json.loads(schema.group(1)), k)
    elif labels:
        record["output"] = label
    elif task == "math":
        if "Answer: <number>" not in prompt:
            return None  # the prompt did not say how to end: a teacher would guess
        record["output"] = f"{k} km x 1000 = {k * 1000} m.\nAnswer: {k * 1000}"
    elif task == "question_answering":
        document = re.search(r"<document>\n(.+?)\n</document>", prompt, re.DOTALL)
        if not document:
            return None  # no document in the prompt: nothing to answer from
        record["output"] = document.group(1).splitlines()[1]
    elif task == "text_to_sql":
        record["output"] = f"SELECT id FROM orders WHERE total > {k} AND strftime('%m', placed_on) = '05';"
    else:
        record["output"] = f"Thanks for writing, answer {k}. We are on it."
    if '"chosen": ...' in prompt:
        record = {"input": record["input"], "chosen": record["output"], "rejected": f"Noted ({k})."}
    return record


def responder(counter):
    def reply(messages) -> str:
        prompt = messages[-1]["content"]
        many = re.search(r"Write (\d+) diverse examples as a JSON list", prompt)
        if many:
            return json.dumps([_answer(prompt, next(counter)) for _ in range(int(many.group(1)))])
        record = _answer(prompt, next(counter))
        return "I cannot do that without more to go on." if record is None else "```json\n" + json.dumps(record) + "\n```"
    return reply


@pytest.fixture(scope="module")
def teacher():
    with FakeOpenAI(delay_s=0.0, responder=responder(itertools.count(1))) as server:
        yield server


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_gets_teacher_records_that_pass_its_verifier(family, teacher, tmp_path):
    use_case, fmt = FAMILIES[family]
    session = tmp_path / family
    (session / "data").mkdir(parents=True)
    save_spec(session / "use_case.yaml", use_case)
    spec = default_spec(use_case, teacher_model="openai/teacher", api_base=teacher.api_base, fmt=fmt)
    spec = spec.model_copy(update={"train_count": 8, "eval_count": 3})
    if family == "faq_bot":
        (session / "faq.md").write_text(FAQ)
        spec = spec.model_copy(update={"grounding_documents": [GroundingDocument(path="faq.md", description="our FAQ")]})
    assert spec.generator.kind == "teacher"
    client = LLMClient("openai/teacher", api_base=teacher.api_base, cache_dir=tmp_path / "cache", concurrency=4)
    seed_rows = draft_with_teacher(use_case, client, 6, fmt, grounding_texts(session, spec))
    assert len(seed_rows) == 6
    from synth import seeds

    seeds.save(session, seed_rows)
    report = generate_dataset(session, use_case, spec, client=client)
    assert report["status"] == "done" and report["dropped"] == {}, report
    assert (report["train_records"], report["eval_records"]) == (8, 3)
    assert report["sources"] == {"train": {"teacher": 8}, "eval": {"teacher": 3}}
    verifier = Verifier(use_case, spec, session)
    for split in ("train", "eval"):
        records = [from_training_row(r) for r in read_jsonl(session / "data" / f"{split}.jsonl")]
        assert all(verifier.check(r) is None for r in records)
    if family == "faq_bot":
        assert all(r["output"] in FAQ for r in records)
