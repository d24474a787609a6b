import json

import pytest

from specs.data_generation import DataGenerationSpec, VerificationRules
from specs.use_case import UseCaseSpec
from synth.quality import blocking_findings, load_report, score_dataset, score_records, summary, waive
from synth.records import to_training_row, write_jsonl
from synth.verify import Verifier


def _json_use_case():
    return UseCaseSpec.model_validate({
        "name": "Invoice fields", "business_problem": "p", "primary_users": "u", "task_type": "extraction",
        "contract": {"input_description": "an invoice", "output_description": "json", "output_format": "json",
                     "output_schema": {"type": "object", "required": ["total"],
                                       "properties": {"total": {"type": "number"}}}},
        "success_tenets": [{"name": "valid", "description": "d", "metric": "json_valid"}]})


def test_contract_checks(bank_specs):
    use_case, spec = bank_specs
    verifier = Verifier(use_case, spec)
    assert verifier.check({"input": "TESCO STORES 12.00 GBP", "output": "groceries"}) is None
    assert verifier.check({"input": "TESCO STORES 12.00 GBP", "output": "Groceries!"}) == "label not in set"
    assert verifier.check({"input": "hi", "output": "groceries"}) == "input too short"
    assert verifier.check({"input": "x" * 500, "output": "groceries"}) == "input too long"
    json_verifier = Verifier(_json_use_case(), DataGenerationSpec())
    assert json_verifier.check({"input": "invoice", "output": '{"total": 3.5}'}) is None
    assert json_verifier.check({"input": "invoice", "output": "{total: 3"}) == "invalid JSON"
    assert json_verifier.check({"input": "invoice", "output": '{"total": "3"}'}).startswith("schema:")
    pref = DataGenerationSpec(format="preference")
    assert Verifier(use_case, pref).check({"input": "TESCO 1.00", "chosen": "groceries", "rejected": "groceries"}) \
        == "chosen equals rejected"


def test_regex_and_code_verifier_in_sandbox(bank_session, bank_specs):
    use_case, spec = bank_specs
    (bank_session / "verify.py").write_text(
        "def verify(record):\n    return True if 'TESCO' in record['input'] else 'no tesco'\n")
    spec = spec.model_copy(update={"verification": VerificationRules(verifier_path="verify.py",
                                                                     output_regex="^[a-z]+$")})
    outcome = Verifier(use_case, spec, bank_session).check_all([
        {"input": "TESCO 12.00", "output": "groceries"},
        {"input": "ALDI 3.00", "output": "groceries"},
        {"input": "TESCO 9.00", "output": "fees_and_charges"},
    ])
    assert len(outcome.kept) == 1
    assert outcome.dropped == {"verifier: no tesco": 1, "regex mismatch": 1}


def _write(session, train, evals, use_case):
    system = use_case.contract.system_prompt
    write_jsonl(session / "data" / "train.jsonl", [to_training_row(r, "sft", system) for r in train])
    write_jsonl(session / "data" / "eval.jsonl", [to_training_row(r, "sft", system) for r in evals])


def _rec(i, label="groceries", text=None):
    return {"input": text or f"POS MERCHANT{i} STORE {i * 37 % 1000}.{i % 100:02d} item number {i}", "output": label,
            "meta": {"category": label}}


def test_clean_data_has_no_blocking_findings(bank_session, bank_specs):
    use_case, spec = bank_specs
    labels = use_case.contract.labels
    train = [_rec(i, labels[i % len(labels)]) for i in range(120)]
    evals = [_rec(1000 + i, labels[i % len(labels)], f"completely different eval line {i} shop") for i in range(12)]
    _write(bank_session, train, evals, use_case)
    report = score_dataset(bank_session, use_case, spec, embeddings=False)
    assert report.blocking() == [], summary(report)
    assert blocking_findings(bank_session) == []
    assert report.metrics["tokens"]["method"] in ("tokenizer",) or "estimate" in report.metrics["tokens"]["method"]
    assert report.metrics["labels"]["imbalance"] == pytest.approx(1.0)
    assert json.loads((bank_session / "data" / "quality.json").read_text())["train_records"] == 120


def test_blocking_findings_and_waiver(bank_session, bank_specs):
    use_case, spec = bank_specs
    train = [_rec(i) for i in range(30)] + [_rec(0) for _ in range(5)] + [_rec(99, "dining")]
    train.append({"input": "refund to customer card", "output": "groceries a.b@example.com", "meta": {}})
    evals = [_rec(3)]
    _write(bank_session, train, evals, use_case)
    report = score_dataset(bank_session, use_case, spec, embeddings=False, tokenizer=False)
    codes = {f.code for f in report.blocking()}
    assert {"duplicates", "too_few_records", "label_imbalance", "train_eval_overlap", "pii_in_outputs"} <= codes
    assert "estimate" in report.metrics["tokens"]["method"]
    assert any("exact duplicate" in r for reasons in report.row_reasons.values() for r in reasons)
    waived = waive(bank_session, ["label_imbalance"], "we only care about groceries for now")
    assert [f.code for f in waived] == ["label_imbalance"]
    assert "label_imbalance" not in {f.code for f in blocking_findings(bank_session)}
    assert load_report(bank_session).findings[0].waived in (True, False)
    with pytest.raises(ValueError):
        waive(bank_session, ["nope"], "x")
    # the waiver survives rescoring of unchanged data, and changed data makes the report stale
    score_dataset(bank_session, use_case, spec, embeddings=False, tokenizer=False)
    assert "label_imbalance" not in {f.code for f in blocking_findings(bank_session)}
    with (bank_session / "data" / "train.jsonl").open("a") as handle:
        handle.write(json.dumps(to_training_row(_rec(500), "sft")) + "\n")
    assert "stale_quality_report" in {f.code for f in blocking_findings(bank_session)}


def test_missing_report_blocks(tmp_path):
    assert [f.code for f in blocking_findings(tmp_path)] == ["no_quality_report"]


def test_near_duplicates_and_pii_in_inputs(bank_specs):
    use_case, spec = bank_specs
    base = "CARD PURCHASE AT THE CORNER GROCERY MARKET ON MAIN STREET AUSTIN TX"
    train = [_rec(i) for i in range(60)] + [{"input": base + f" {i}", "output": "groceries", "meta": {}}
                                             for i in range(10)]
    train.append({"input": "call me on +1 415 555 0134 re TESCO", "output": "groceries", "meta": {}})
    report = score_records(train, [], use_case, spec, embeddings=False, tokenizer=False)
    assert report.metrics["duplicates"]["near"] >= 8
    assert report.metrics["pii"]["inputs"] == {"phone": 1}
    assert "pii_in_inputs" in {f.code for f in report.findings}


@pytest.mark.slow
def test_embedding_spread_with_minilm(bank_specs):
    use_case, spec = bank_specs
    train = [_rec(i, use_case.contract.labels[i % 12]) for i in range(60)]
    report = score_records(train, [], use_case, spec, embeddings=True, tokenizer=False)
    assert 0 < report.metrics["embedding"]["spread"] <= 2, report.metrics["embedding"]


def test_a_long_decimal_answer_is_not_a_phone_number_but_phone_numbers_still_are():
    # a real teacher's unit conversion ("Convert 2000 pounds to kilograms" -> 907.184753) blocked the gate as PII
    from synth.pii import find_pii

    assert find_pii("907.184753") == [] and find_pii("The answer is 1609.344 m, or 0.62137119 mi.") == []
    for phone in ("555.123.4567", "(555) 123-4567", "+44 20 7946 0958", "030 1234 5678", "555-123-4567"):
        assert find_pii(f"Call {phone} today") == ["phone"], phone
