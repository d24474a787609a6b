"""Each training format, read by datasets.load_dataset("json"), trains one step in the real TRL trainer
on the embedded SmolLM2 model (converted to a cached HF folder by skills/common/basemodel.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_folder():
    basemodel = pytest.importorskip("skills.common.basemodel", reason="skills/common/basemodel.py (shared step code) is missing")
    return str(basemodel.resolve_model_path("embedded:SmolLM2-135M-Instruct"))


def _dataset(bank_session, bank_specs, fmt):
    import datasets

    from synth.generate import generate_dataset

    use_case, spec = bank_specs
    gen = spec.generator.model_copy(update={"kind": "offline"})
    spec = spec.model_copy(update={"format": fmt, "generator": gen, "train_count": 8, "eval_count": 2})
    report = generate_dataset(bank_session, use_case, spec)
    assert report["train_records"] == 8
    return datasets.load_dataset("json", data_files=str(bank_session / "data" / "train.jsonl"), split="train")


def _common(tmp_path):
    return dict(output_dir=str(tmp_path / "out"), max_steps=1, per_device_train_batch_size=2, learning_rate=1e-4,
                use_cpu=True, bf16=False, report_to=[], save_strategy="no", logging_steps=1,
                gradient_checkpointing=False, dataloader_num_workers=0)


def _model(folder):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)


def test_sft_prompt_completion(model_folder, bank_session, bank_specs, tmp_path):
    from trl import SFTConfig, SFTTrainer

    data = _dataset(bank_session, bank_specs, "sft")
    assert set(data.column_names) == {"prompt", "completion", "meta"}
    model, tokenizer = _model(model_folder)
    trainer = SFTTrainer(model=model, args=SFTConfig(max_length=128, **_common(tmp_path)), train_dataset=data,
                         processing_class=tokenizer)
    out = trainer.train()
    assert out.global_step == 1 and out.training_loss > 0


def test_dpo_preference(model_folder, bank_session, bank_specs, tmp_path):
    from trl import DPOConfig, DPOTrainer

    data = _dataset(bank_session, bank_specs, "preference")
    assert {"prompt", "chosen", "rejected"} <= set(data.column_names)
    model, tokenizer = _model(model_folder)
    trainer = DPOTrainer(model=model, args=DPOConfig(max_length=128, **_common(tmp_path)), train_dataset=data,
                         processing_class=tokenizer)
    assert trainer.train().global_step == 1


def test_grpo_prompt_only_passes_reference_to_the_reward(model_folder, bank_session, bank_specs, tmp_path):
    from trl import GRPOConfig, GRPOTrainer

    data = _dataset(bank_session, bank_specs, "prompt_only")
    assert {"prompt", "reference"} <= set(data.column_names)
    seen = []

    def label_match(completions, reference, **kwargs):
        seen.extend(reference)
        return [1.0 if c[0]["content"].strip() == r else 0.0 for c, r in zip(completions, reference)]

    model, tokenizer = _model(model_folder)
    config = GRPOConfig(num_generations=2, max_completion_length=8, **_common(tmp_path))
    trainer = GRPOTrainer(model=model, reward_funcs=label_match, args=config, train_dataset=data,
                          processing_class=tokenizer)
    assert trainer.train().global_step == 1
    assert seen and set(seen) <= set(bank_specs[0].contract.labels)


def test_paraphrase_job_adds_verified_records(model_folder, bank_session, bank_specs):
    import json
    import subprocess
    import sys

    from specs.yamlio import save_spec

    use_case, spec = bank_specs
    gen = spec.generator.model_copy(update={"kind": "offline", "paraphrase": True})
    small = spec.model_copy(update={"generator": gen, "train_count": 12, "eval_count": 2,
                                    "extra": {"paraphrase_share": 0.25}})
    save_spec(bank_session / "data_generation.yaml", small)
    events = bank_session / "events.jsonl"
    done = subprocess.run([sys.executable, "-m", "skills.data.job", "--session", str(bank_session), "--events",
                           str(events), "--no-embeddings"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    kinds = [json.loads(line)["type"] for line in events.read_text().splitlines()]
    assert "paraphrase" in kinds and kinds[-1] == "done"
    report = json.loads((bank_session / "data" / "generation.json").read_text())
    attempted = len((bank_session / "data" / ".partial" / "paraphrase.jsonl").read_text().splitlines())
    assert attempted == 3
    assert report["train_records"] <= 12 + report["paraphrased_records"]
