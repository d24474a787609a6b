"""Train a tiny LoRA adapter on a few records for a few steps (run as a script by the slow evaluation test).

    python tests/skills/eval_adapter.py TRAIN_JSONL OUT_DIR [STEPS]
"""

import json
import sys


def main(train_path: str, out_dir: str, steps: int = 4) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from skills.common.basemodel import resolve_model_path

    torch.manual_seed(0)
    torch.set_num_threads(2)
    folder = resolve_model_path("embedded:SmolLM2-135M-Instruct")
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    rows = [json.loads(line) for line in open(train_path) if line.strip()]
    texts = [tokenizer.apply_chat_template(r["prompt"] + r["completion"], tokenize=False) for r in rows]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-3)
    model.train()
    for step in range(steps):
        batch = tokenizer(texts[step % len(texts):][:4] or texts[:4], return_tensors="pt", padding=True)
        loss = model(**batch, labels=batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        print(f"step {step} loss {loss.item():.3f}", flush=True)
    model.save_pretrained(out_dir)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 4)
