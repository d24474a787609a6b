"""Builders for train-step tests: a session folder with a use case and generated classification data."""

from __future__ import annotations

import json
from pathlib import Path

from synth.records import to_training_row
from synth.templates import classification

REPO = Path(__file__).resolve().parents[3]
LABELS = ["groceries", "dining", "transport", "utilities", "housing", "healthcare"]
SYSTEM = "Category of this transaction? One of: groceries, dining, transport, utilities, housing, healthcare."


def make_session(root: Path, n_train: int = 120, n_eval: int = 30, fmt: str = "sft", labels=LABELS) -> Path:
    """A session folder under ``root/sessions/s`` with the bank use case (6 labels) and data."""
    session = root / "sessions" / "s"
    (session / "data").mkdir(parents=True, exist_ok=True)
    text = (REPO / "specs/examples/bank_transactions.use_case.yaml").read_text(encoding="utf-8")
    from specs.use_case import UseCaseSpec
    from specs.yamlio import loads_spec, save_spec

    spec = loads_spec(text, UseCaseSpec)
    pattern = "^(" + "|".join(labels) + ")$"
    tenets = [t.model_copy(update={"params": {"pattern": pattern}}) if t.metric == "regex" else t for t in spec.success_tenets]
    spec = spec.model_copy(update={"success_tenets": tenets, "contract": spec.contract.model_copy(update={"labels": list(labels), "system_prompt": SYSTEM})})
    save_spec(session / "use_case.yaml", spec)
    train = classification.generate({"labels": list(labels), "n": n_train, "seed": 1, "split": "train"})
    held = classification.generate({"labels": list(labels), "n": n_eval, "seed": 2, "split": "eval"})
    for name, rows in (("train", train), ("eval", held)):
        out = []
        for r in rows:
            if fmt == "preference":
                wrong = labels[(labels.index(r["output"]) + 1) % len(labels)]
                r = {**r, "chosen": r["output"], "rejected": f"This looks like {wrong} to me."}
            out.append(to_training_row(r, fmt, SYSTEM))
        (session / "data" / f"{name}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in out), encoding="utf-8")
    return session


def tool_ctx(session: Path, **kw):
    """The ToolContext the app gives a tool (assistant.agent): the session's engine JobRunner as ``jobs``."""
    from assistant.jobs import JobRunner
    from skills.toolkit import ToolContext

    kw.setdefault("jobs", JobRunner(session))
    return ToolContext(session_dir=session, **kw)


def call(tool, ctx, **args):
    return tool.run(ctx, tool.validate(args))
