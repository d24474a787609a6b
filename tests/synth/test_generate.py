import itertools
import json
import threading
from collections import defaultdict

import pytest

from tests.fake_openai import FakeOpenAI
from synth.generate import GenerationError, generate_dataset, sample_check
from synth.records import from_training_row, read_jsonl


def _records(session, split):
    return [from_training_row(r) for r in read_jsonl(session / "data" / f"{split}.jsonl")]


def test_programmatic_bank_data_is_broad_and_eval_merchants_are_held_out(bank_session, bank_specs):
    use_case, spec = bank_specs
    check = sample_check(bank_session, use_case, spec)
    assert check["ok"] and check["pass_rate"] == 1.0
    report = generate_dataset(bank_session, use_case, spec)
    assert report["status"] == "done" and report["train_records"] == spec.train_count
    train, evals = _records(bank_session, "train"), _records(bank_session, "eval")
    merchants = defaultdict(set)
    for record in train:
        merchants[record["output"]].add(record["meta"]["merchant"])
    assert set(merchants) == set(use_case.contract.labels)
    assert min(len(m) for m in merchants.values()) >= 10, "every label needs many distinct merchants"
    eval_merchants = {r["meta"]["merchant"] for r in evals}
    train_merchants = set().union(*merchants.values())
    assert not eval_merchants & train_merchants, "eval must test merchants never seen in training"
    row = read_jsonl(bank_session / "data" / "train.jsonl")[0]
    assert row["prompt"][0]["role"] == "system" and row["completion"][0]["role"] == "assistant"


def test_cancel_and_resume_without_duplicates(bank_session, bank_specs):
    use_case, spec = bank_specs
    spec = spec.model_copy(update={"generator": spec.generator.model_copy(update={"kind": "offline"})})
    cancel = threading.Event()
    events = []

    def emit(event):
        events.append(event)
        if event["done"] >= 100:
            cancel.set()

    first = generate_dataset(bank_session, use_case, spec, emit=emit, cancel=cancel)
    assert first["status"] == "cancelled" and not (bank_session / "data" / "train.jsonl").exists()
    done_before = sum(first["generated"].values())
    assert 0 < done_before < spec.train_count + spec.eval_count
    second = generate_dataset(bank_session, use_case, spec)
    assert second["status"] == "done" and second["resumed_records"] == done_before
    partial = read_jsonl(bank_session / "data" / ".partial" / "train.jsonl")
    indices = [row["i"] for row in partial]
    assert len(indices) == len(set(indices)) == spec.train_count
    assert all({"done", "total", "rate", "eta_s"} <= set(e) for e in events)


def test_changed_spec_starts_afresh(bank_session, bank_specs):
    use_case, spec = bank_specs
    generate_dataset(bank_session, use_case, spec)
    changed = spec.model_copy(update={"seed": spec.seed + 1})
    report = generate_dataset(bank_session, use_case, changed)
    assert report["resumed_records"] == 0


_COUNTER = itertools.count()


def _teacher_responder(messages):
    prompt = messages[-1]["content"]
    wanted = prompt.split("category = ")[1].split(";")[0].strip() if "category = " in prompt else "groceries"
    return json.dumps({"input": f"CARD PURCHASE {next(_COUNTER) * 7919} {wanted.upper()} STORE", "output": wanted})


def test_teacher_generation_resumes_from_cache(bank_session, bank_specs, tmp_path):
    use_case, spec = bank_specs
    with FakeOpenAI(delay_s=0.0, responder=_teacher_responder) as server:
        gen = spec.generator.model_copy(update={"kind": "teacher", "model": "openai/fake", "api_base": server.api_base,
                                                "concurrency": 8})
        small = spec.model_copy(update={"generator": gen, "train_count": 60, "eval_count": 12})
        workspace = tmp_path / "ws"
        report = generate_dataset(bank_session, use_case, small, workspace=workspace)
        assert report["status"] == "done" and report["usage"]["calls"] == 72
        assert report["train_records"] >= 55, report
        # a fresh session with the same spec pays nothing: every answer comes from the workspace cache
        import shutil
        other = tmp_path / "other"
        shutil.copytree(bank_session, other, ignore=shutil.ignore_patterns("data"))
        again = generate_dataset(other, use_case, small, workspace=workspace)
        assert again["usage"]["calls"] == 0 and again["usage"]["cache_hits"] == 72
        assert server.requests == 72


def test_offline_without_template_needs_seeds(bank_session, bank_specs):
    use_case, spec = bank_specs
    generic = use_case.model_copy(update={"contract": use_case.contract.model_copy(
        update={"labels": ["alpha", "beta"], "output_regex": None, "system_prompt": None})})
    offline = spec.model_copy(update={"generator": spec.generator.model_copy(update={"kind": "offline"}),
                                      "diversity_axes": []})
    with pytest.raises(GenerationError):
        generate_dataset(bank_session, generic, offline)
    from synth import seeds
    seeds.save(bank_session, [{"input": "order 12 widgets from alpha corp", "output": "alpha"},
                              {"input": "beta invoice 99.50 due", "output": "beta"}])
    report = generate_dataset(bank_session, generic, offline.model_copy(update={"train_count": 40, "eval_count": 5}))
    assert report["status"] == "done" and report["train_records"] > 2


def test_custom_generator_code_runs_in_sandbox_and_is_verified(bank_session, bank_specs):
    use_case, spec = bank_specs
    (bank_session / "generator.py").write_text(
        "def generate(p):\n"
        "    out = []\n"
        "    for i in range(p['start'], p['start'] + p['n']):\n"
        "        label = p['labels'][i % len(p['labels'])] if i % 10 else 'not-a-label'\n"
        "        out.append({'i': i, 'input': 'TXN %d at SHOP %d' % (i, i * 7), 'output': label, 'meta': {}})\n"
        "    return out\n")
    gen = spec.generator.model_copy(update={"template": None, "code_path": "generator.py"})
    custom = spec.model_copy(update={"generator": gen, "train_count": 100, "eval_count": 20})
    report = generate_dataset(bank_session, use_case, custom)
    assert report["dropped"]["label not in set"] == 12
    assert report["train_records"] == 90


def test_one_generation_at_a_time(bank_session, bank_specs):
    from synth.generate import generation_lock, generation_running

    use_case, spec = bank_specs
    assert not generation_running(bank_session)
    with generation_lock(bank_session):
        assert generation_running(bank_session)
        with pytest.raises(GenerationError, match="already running"):
            generate_dataset(bank_session, use_case, spec)
    assert not generation_running(bank_session)
