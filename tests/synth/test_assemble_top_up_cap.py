"""Top-up rounds fill the shortfall and no more: generated records written past the count asked (indices at or
above train_count / eval_count) are kept only up to that count; the rest are counted as spare_records."""

from __future__ import annotations

import random

from synth.generate import assemble
from synth.records import PartialWriter

WORDS = ("amber basil cedar delta ember fjord garnet harbor indigo juniper kestrel lumen marble nectar onyx pebble "
         "quartz raven saffron tundra umber velvet willow xenon yarrow zephyr").split()


def _records(count: int, labels: list[str], seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        words = rng.sample(WORDS, 4)
        out.append({"input": f"{' '.join(w.upper() for w in words)} {rng.randint(100, 999)}.{i:02d} ref {seed}-{i}",
                    "output": labels[i % len(labels)]})
    return out


def _write(path, records, start: int = 0) -> PartialWriter:
    writer = PartialWriter(path)
    for k, record in enumerate(records):
        writer.add(start + k, record)
    writer.close()
    return writer


def _assemble(session, use_case, spec, train_rows, eval_rows):
    partial = session / "data" / ".partial"
    writers = {"train": _write(partial / "train.jsonl", train_rows), "eval": _write(partial / "eval.jsonl", eval_rows)}
    return assemble(session, use_case, spec, writers)


def test_records_past_the_count_asked_are_spare_not_trained_on(bank_session, bank_specs):
    use_case, spec = bank_specs
    spec = spec.model_copy(update={"train_count": 40, "eval_count": 10})
    labels = list(use_case.contract.labels)
    report = _assemble(bank_session, use_case, spec, _records(70, labels, 1), _records(16, labels, 2))
    assert report["dropped"] == {}, report  # every record is valid and new: only the cap can hold them back
    assert (report["train_records"], report["eval_records"]) == (40, 10)
    assert report["spare_records"] == (70 - 40) + (16 - 10)
    assert report["sources"] == {"train": {"template": 40}, "eval": {"template": 10}}
    trained = (bank_session / "data" / "train.jsonl").read_text()
    assert "ref 1-39" in trained.replace("\\", "") and "ref 1-40" not in trained, "the first 40 asked are the ones kept"


def test_records_within_the_count_are_all_kept_and_none_is_spare(bank_session, bank_specs):
    use_case, spec = bank_specs
    spec = spec.model_copy(update={"train_count": 40, "eval_count": 10})
    labels = list(use_case.contract.labels)
    report = _assemble(bank_session, use_case, spec, _records(40, labels, 3), _records(10, labels, 4))
    assert "spare_records" not in report and report["dropped"] == {}, report
    assert (report["train_records"], report["eval_records"]) == (40, 10)
