"""Evaluation job: base model first, then the prompt-only baseline, then each tuned run; score; report.

    python -m skills.evaluate.job --spec evaluation.yaml --session DIR --eval-id ID --events PATH [--run-id RUN ...]

Reads evaluation.yaml (and use_case.yaml for the system prompt and the base model), generates
greedy answers in batches, scores them with the code metrics and (when a judge model is set) the
judge rubrics, scores base and each run on tunesmith's general set (the forgetting measure,
skills.evaluate.forgetting), writes evals/<id>/results.jsonl, general.jsonl, report.json and report.md,
and logs the report to MLflow beside the training run. Progress goes to --events as JSON lines.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from skills.common.events import ProgressEvents
from skills.evaluate import examples as ex
from skills.evaluate import forgetting
from skills.evaluate import judge as judging
from skills.common import metrics as code_metrics
from skills.evaluate.plan import judged_tenets
from skills.evaluate.report import agreement_sentence, build_report, metric_columns, summary, write_report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m skills.evaluate.job", description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="evaluation.yaml", help="evaluation spec, relative to the session")
    parser.add_argument("--session", required=True, help="the session folder")
    parser.add_argument("--eval-id", required=True, help="name of the folder under evals/")
    parser.add_argument("--events", default=None, help="JSONL progress events file")
    parser.add_argument("--run-id", action="append", default=[], help="a training run to evaluate (repeatable)")
    parser.add_argument("--api-base", default=os.environ.get("TUNESMITH_JUDGE_API_BASE"), help="judge API base URL")
    parser.add_argument("--no-mlflow", action="store_true", help="do not log to MLflow")
    return parser.parse_args(argv)


def variants_to_run(spec: Any, system_prompt: str | None, run_ids: list[str], session: Path | None = None) -> list[dict[str, Any]]:
    """Base first, then the prompt-only baseline, then each run (asked with the system prompt it was trained
    with, skills.common.prompt.run_system_prompt, when ``session`` is given)."""
    from skills.common.prompt import run_system_prompt

    plan = [{"name": ex.BASE, "run": None, "system": system_prompt, "replace": False}]
    if spec.include_prompt_baseline and spec.baseline_system_prompt:
        plan.append({"name": ex.PROMPT_BASELINE, "run": None, "system": spec.baseline_system_prompt, "replace": True})
    for run_id in run_ids:
        system = run_system_prompt(session / "runs" / run_id, system_prompt) if session is not None else system_prompt
        plan.append({"name": ex.run_variant(run_id), "run": run_id, "system": system, "replace": system != system_prompt})
    return plan


_BASE_CACHE: dict[str, Any] = {}


def _cached_outputs(path: Path, count: int) -> list[str] | None:
    """The answers a previous attempt finished (outputs/<variant>.jsonl), when it holds all of them."""
    if path.exists():
        previous = [row["output"] for row in ex.read_jsonl(path)]
        if len(previous) == count:
            return previous
    return None


def _variant_model(variant: dict[str, Any], base_model: str, session: Path, emit: ProgressEvents) -> tuple[Any, Any]:
    """(model, tokenizer) of a variant; the base model stays loaded for the prompt-only baseline."""
    from skills.evaluate import generation

    run = generation.run_model_dir(session, variant["run"]) if variant["run"] else None
    if run is None and _BASE_CACHE:
        return _BASE_CACHE["base"]
    _BASE_CACHE.clear()  # one model in memory at a time
    emit("status", message=f"loading {variant['name']}")
    model, tokenizer = generation.load(base_model, run=run)
    if run is None:
        _BASE_CACHE["base"] = (model, tokenizer)
    return model, tokenizer


def generate_variant(variant: dict[str, Any], items: list[dict[str, Any]], spec: Any, base_model: str,
                     session: Path, folder: Path, emit: ProgressEvents,
                     general_items: list[dict[str, Any]] | None = None) -> tuple[list[str], list[str] | None]:
    """Answers of one variant to the evaluation records and (when given) to the general set's items.

    Reuses outputs/<variant>.jsonl and outputs/general.<variant>.jsonl when a previous attempt finished them.
    """
    from skills.evaluate import generation

    stem = variant["name"].replace(":", "_")
    out_path, general_path = folder / "outputs" / f"{stem}.jsonl", folder / "outputs" / f"general.{stem}.jsonl"
    answers = _cached_outputs(out_path, len(items))
    general_answers = _cached_outputs(general_path, len(general_items)) if general_items else None
    if answers is not None:
        emit("progress", task=f"generate {variant['name']}", done=len(items), total=len(items), reused=True)
    if answers is not None and (not general_items or general_answers is not None):
        return answers, general_answers
    model, tokenizer = _variant_model(variant, base_model, session, emit)
    started = time.time()

    def progress(task: str):
        def report(done: int, total: int) -> None:
            rate = done / max(time.time() - started, 1e-6)
            emit("progress", task=task, done=done, total=total, rate=round(rate, 3),
                 eta_s=round((total - done) / rate, 1) if rate else None)
        return report

    if answers is None:
        conversations = [ex.with_system(item["messages"], variant["system"], replace=variant["replace"]) for item in items]
        answers = generation.generate_all(model, tokenizer, conversations, batch_size=spec.batch_size,
                                          max_new_tokens=spec.max_new_tokens, on_batch=progress(f"generate {variant['name']}"))
        ex.write_jsonl(out_path, [{"index": item["index"], "output": text} for item, text in zip(items, answers)])
    if general_items and general_answers is None:
        started = time.time()
        general_answers = generate_general(model, tokenizer, general_items, spec.batch_size,
                                           progress(f"general set {variant['name']}"))
        ex.write_jsonl(general_path, [{"id": item["id"], "output": text} for item, text in zip(general_items, general_answers)])
    return answers, general_answers


def generate_general(model: Any, tokenizer: Any, items: list[dict[str, Any]], batch_size: int, on_batch: Any) -> list[str]:
    """Answers to the general set's items, as a person would ask them: no task system prompt, each
    item's own answer length (items of one length are generated together)."""
    from skills.evaluate import generation

    answers: list[str] = [""] * len(items)
    done = 0
    for length in sorted({item["max_new_tokens"] for item in items}):
        chosen = [i for i, item in enumerate(items) if item["max_new_tokens"] == length]
        texts = generation.generate_all(model, tokenizer, [[{"role": "user", "content": items[i]["prompt"]}] for i in chosen],
                                        batch_size=batch_size, max_new_tokens=length)
        for i, text in zip(chosen, texts):
            answers[i] = text
        done += len(chosen)
        on_batch(done, len(items))
    return answers


def score_code(rows: list[dict[str, Any]], spec: Any, variants: list[str], session: Path, use_case: Any = None) -> None:
    """Code metrics; settings a metric leaves out (labels, schema, pattern, length) come from the contract."""
    from skills.common.usecase_metrics import contract_params

    for metric in spec.metrics:
        if metric.code is None:
            continue
        params = {**(contract_params(use_case, metric.code) if use_case else {}), **metric.params}
        key = metric.name  # a code column is always named after its metric (see report.metric_columns)
        for variant in variants:
            if metric.code == "custom":
                scorer = metric.params.get("scorer_path")
                if not scorer:
                    raise ValueError(f"metric {metric.name}: `custom` needs params.scorer_path (a .py file in the session)")
                items = [{"prompt": r["prompt"], "output": r["outputs"][variant], "reference": r["reference"]} for r in rows]
                values = code_metrics.score_custom(str((session / scorer).resolve()), items,
                                                   function=metric.params.get("function", "score"),
                                                   session_dir=str(session))
            else:
                values = [code_metrics.score(metric.code, r["outputs"][variant], r["reference"], params) for r in rows]
            for row, value in zip(rows, values):
                row["scores"][variant][key] = value


def score_judges(rows: list[dict[str, Any]], spec: Any, variants: list[str], session: Path, api_base: str | None,
                 emit: ProgressEvents) -> dict[str, Any]:
    """Judge every answer on every rubric; returns usage and failure counts. A judge nobody answers, or
    one slower than the timeout, stops the judging at once: the answers not judged score None, and
    ``stopped`` says why (the report shows it; the verdicts given are cached for the next evaluation)."""
    from synth.llm import LLMUnreachable, run_sync

    client = judging.make_client(spec.judge_model, api_base=api_base, cache_dir=session / ".cache" / "judge")
    judge_columns = [c for c in metric_columns(spec) if c["kind"] == "judge"]
    rubrics = {m.name: m.judge for m in spec.metrics if m.judge is not None}
    failures, total, done, stopped = 0, len(judge_columns) * len(variants) * len(rows), 0, []
    for column in judge_columns:
        for variant in variants:
            items = [{"prompt": r["prompt"], "reference": r["reference"], "output": r["outputs"][variant]} for r in rows]
            if stopped:
                verdicts = [(None, f"not judged: {stopped[0]}")] * len(items)
            else:
                verdicts = run_sync(judging.judge_many(client, rubrics[column["metric"]], items, stopped=stopped))
            for row, (value, text) in zip(rows, verdicts):
                row["scores"][variant][column["key"]] = value
                row.setdefault("judge_notes", {}).setdefault(variant, {})[column["key"]] = text[-600:]
                failures += value is None
            done += len(items)
            emit("progress", task="judge", done=done, total=total)
    calls = client.usage.to_dict()
    usage = {**calls, "failed_calls": calls["failures"], "failures": failures, "judged": total}  # failures: answers
    if stopped:
        what = "unreachable" if isinstance(stopped[0], LLMUnreachable) else "too slow"
        usage["stopped"] = f"the judge is {what}: {stopped[0]}"
        emit("warning", message=f"Judging stopped: {usage['stopped']}")
    return usage


def log_mlflow(session: Path, eval_id: str, report: dict[str, Any], folder: Path, run_ids: list[str]) -> str | None:
    """Log the report to MLflow in the training run's experiment, tagged with the training run id."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    from skills.common.tracking import EXPERIMENT, ensure_experiment, tracking_uri

    uri = tracking_uri(session)
    mlflow.set_tracking_uri(uri)
    ensure_experiment(mlflow, uri)  # artifacts beside the store, never in the working folder
    training = _training_run(mlflow, run_ids)
    experiment_id = training.info.experiment_id if training else mlflow.set_experiment(EXPERIMENT).experiment_id
    tags = {"tunesmith.kind": "evaluation", "tunesmith.eval_id": eval_id, "tunesmith.session": session.name}
    if run_ids:
        tags["tunesmith.train_run_id"] = run_ids[-1]
    if training:
        tags["tunesmith.train_mlflow_run_id"] = training.info.run_id
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"eval-{eval_id}", tags=tags) as run:
        mlflow.log_params({"examples": report["examples"], "variants": ",".join(report["variants"]),
                           "judge_model": report.get("judge_model") or "none"})
        for metric in report["metrics"]:
            safe = metric["key"].replace(":", "_").replace(" ", "_")
            for variant, value in metric["means"].items():
                if value is not None:
                    mlflow.log_metric(f"{safe}.{variant.replace(':', '_')}", value)
            for comparison in metric["comparisons"]:
                if comparison["diff"] is not None:
                    name = f"{safe}.diff.{comparison['variant'].replace(':', '_')}"
                    mlflow.log_metric(name, comparison["diff"])
                    mlflow.log_metric(name + ".win_share", comparison["better"])
        forgetting_section = report.get("forgetting") or {}
        for variant, value in forgetting_section.get("means", {}).items():
            if value is not None:
                mlflow.log_metric(f"general.{variant.replace(':', '_')}", value)
        for comparison in forgetting_section.get("comparisons", []):
            if comparison["diff"] is not None:
                mlflow.log_metric(f"general.diff.{comparison['variant'].replace(':', '_')}", comparison["diff"])
        mlflow.log_artifact(str(folder / "report.md"))
        mlflow.log_artifact(str(folder / "report.json"))
        return run.info.run_id


def _training_run(mlflow: Any, run_ids: list[str]) -> Any | None:
    """The MLflow run of the (last) training run, found by its tag or its name, if it was logged."""
    for run_id in reversed(run_ids):
        for query in (f"tags.`tunesmith.run_id` = '{run_id}'", f"attributes.run_name = '{run_id}'"):
            try:
                found = mlflow.search_runs(search_all_experiments=True, filter_string=query, max_results=1,
                                           output_format="list")
            except Exception:  # noqa: BLE001 - an empty store has no tables yet
                found = []
            if found:
                return found[0]
    return None


def _lineage(session: Path, rel: Path, spec: Any, args: argparse.Namespace, report: dict[str, Any]) -> None:
    """Record the evaluation in lineage.jsonl: its results, made from the spec, the held-out data and the runs."""
    try:
        from specs import lineage

        inputs = [args.spec, spec.eval_path, "use_case.yaml"] + [f"runs/{r}/final" for r in args.run_id]
        lineage.record(session, "evaluation", str(rel / "results.jsonl"), inputs=[p for p in inputs if (session / p).exists()],
                       eval_id=args.eval_id, judge_model=spec.judge_model, run_ids=list(args.run_id) or None,
                       mlflow_run_id=report.get("mlflow_run_id"), base_model=report.get("base_model"))
    except Exception:  # noqa: BLE001 - lineage must not fail a finished evaluation
        pass


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    emit = ProgressEvents(args.events)
    try:
        evaluate(args, emit)
    except Exception as exc:  # noqa: BLE001 - reported as an event, then a non-zero exit
        traceback.print_exc()
        emit("error", message=f"{type(exc).__name__}: {exc}")
        return 1
    return 0


def evaluate(args: argparse.Namespace, emit: ProgressEvents) -> dict[str, Any]:
    from specs.evaluation import EvaluationSpec
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec

    session = Path(args.session).resolve()
    spec = load_spec(session / args.spec, EvaluationSpec)
    use_case = ex.load_optional(session / "use_case.yaml", UseCaseSpec, strict=True)
    base_model = use_case.base_model if use_case else "embedded:SmolLM2-135M-Instruct"
    system_prompt = use_case.contract.system_prompt if use_case else None
    folder = ex.eval_dir(session, args.eval_id)
    folder.mkdir(parents=True, exist_ok=True)
    items = ex.load_examples(session / spec.eval_path, spec.max_examples)
    if not items:
        raise ValueError(f"{spec.eval_path} holds no records to evaluate")
    plan = variants_to_run(spec, system_prompt, args.run_id, session)
    names = [v["name"] for v in plan]
    emit("start", eval_id=args.eval_id, examples=len(items), variants=names, base_model=base_model)

    general_items = forgetting.load_set(spec.general_items) if spec.general_items != 0 else []
    answers, general_answers = {}, {}
    for variant in plan:
        wanted = general_items if variant["name"] != ex.PROMPT_BASELINE else None  # the general set has no task prompt
        answers[variant["name"]], general = generate_variant(variant, items, spec, base_model, session, folder, emit, wanted)
        if general is not None:
            general_answers[variant["name"]] = general
    rows = [{"index": item["index"], "prompt": item["prompt"], "reference": item["reference"],
             "outputs": {name: answers[name][i] for name in names}, "scores": {name: {} for name in names}}
            for i, item in enumerate(items)]

    emit("status", message="scoring")
    score_code(rows, spec, names, session, use_case)
    judge_usage, not_judged = None, []
    if any(m.judge is not None for m in spec.metrics):
        if spec.judge_model:
            judge_usage = score_judges(rows, spec, names, session, args.api_base, emit)
        else:
            not_judged = judged_tenets(spec)
    ex.write_jsonl(folder / "results.jsonl", rows)

    ratings = judging.load_ratings(folder)
    meta = {"base_model": base_model, "judge_model": spec.judge_model, "run_ids": list(args.run_id),
            "judge_usage": judge_usage, "judge_warning": judging.judge_conflict(session, spec.judge_model)}
    if ratings:
        meta["agreement"] = judging.agreement(ratings, rows)
    if general_items:
        general_rows = forgetting.rows_for(general_items, general_answers)
        ex.write_jsonl(folder / "general.jsonl", general_rows)
        meta["forgetting"] = forgetting.build_section(general_rows, list(general_answers), total=len(forgetting.load_set()),
                                                      threshold=spec.forgetting_threshold, samples=spec.bootstrap_samples)
    report = build_report(rows, metric_columns(spec), names, eval_id=args.eval_id,
                          samples=spec.bootstrap_samples, not_judged=not_judged, meta=meta)
    write_report(folder, report)
    if not args.no_mlflow:
        try:
            report["mlflow_run_id"] = log_mlflow(session, args.eval_id, report, folder, list(args.run_id))
            write_report(folder, report)
        except Exception as exc:  # noqa: BLE001 - the report stands without tracking
            emit("warning", message=f"MLflow logging failed: {type(exc).__name__}: {exc}")
    rel = folder.relative_to(session)
    _lineage(session, rel, spec, args, report)
    emit("done", eval_id=args.eval_id, report=str(rel / "report.md"), summary=summary(report),
         files=[str(rel / n) for n in ("results.jsonl", "general.jsonl", "report.json", "report.md") if (folder / n).exists()])
    if meta.get("agreement"):
        print(agreement_sentence(meta["agreement"]))
    return report


if __name__ == "__main__":
    sys.exit(main())
