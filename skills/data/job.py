"""Data generation as a background job: generate (resuming), verify, score; JSONL progress events.

    python -m skills.data.job --session DIR --events PATH [--teacher-model M] [--api-base URL] [--workspace W]

With ``generator.paraphrase`` on, a share of the training inputs (``extra.paraphrase_share``, 0.25)
is then reworded by the embedded model (skills/data/paraphrase.py) and verified like the rest.
SIGTERM/SIGINT stop it between records; what was made stays in data/.partial/ and a rerun resumes.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from skills.common.events import ProgressEvents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--session", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--teacher-model")
    parser.add_argument("--api-base")
    parser.add_argument("--workspace")
    parser.add_argument("--no-paraphrase", action="store_true", help="skip the paraphrase stage")
    parser.add_argument("--no-embeddings", action="store_true", help="skip the MiniLM spread in the report")
    args = parser.parse_args(argv)

    from specs.data_generation import DataGenerationSpec
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec
    from synth.generate import GenerationError, generate_dataset
    from synth.quality import score_dataset, summary

    session = Path(args.session)
    emit = ProgressEvents(args.events, echo=False).write

    cancel = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: cancel.set())
    use_case = load_spec(session / "use_case.yaml", UseCaseSpec)
    spec = load_spec(session / "data_generation.yaml", DataGenerationSpec)
    teacher = {"teacher_model": args.teacher_model, "api_base": args.api_base, "workspace": args.workspace}
    try:
        report = generate_dataset(session, use_case, spec, emit=emit, cancel=cancel, **teacher)
        if report["status"] == "done" and spec.generator.paraphrase and not args.no_paraphrase:
            from skills.data.paraphrase import paraphrase_records

            emit({"type": "paraphrase", **paraphrase_records(session, use_case, spec, emit=emit, cancel=cancel)})
            if not cancel.is_set():
                report = generate_dataset(session, use_case, spec, emit=emit, cancel=cancel, **teacher)
    except GenerationError as exc:  # e.g. the teacher is unreachable: what was made stays in data/.partial
        emit({"type": "failed", "message": str(exc)})
        return 1
    if report["status"] == "done" and not cancel.is_set():
        quality = score_dataset(session, use_case, spec, emit=emit, embeddings=not args.no_embeddings)
        emit({"type": "done", "summary": summary(quality), "blocking": [f.code for f in quality.blocking()]})
    else:
        emit({"type": "cancelled", "generated": report["generated"]})
    return 0 if report["status"] == "done" else 3


if __name__ == "__main__":
    raise SystemExit(main())
