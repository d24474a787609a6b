"""Evaluation step tools and job, without loading a model: outputs are written beforehand, so the
job reuses them and only scores, judges (through a real loopback HTTP server) and reports."""

import json
import shutil
from pathlib import Path

import pytest

from skills.evaluate import guide, job, judge
from skills.evaluate import tools as T
from skills.guiding import GuideState, LastTool
from skills.settings import ToolSettings
from skills.toolkit import ToolContext, Waiver
from specs.evaluation import EvaluationSpec
from specs.reward import RewardComponent, RewardSpec
from specs.training import TrainingPlan
from specs.yamlio import load_spec, save_spec
from tests.loopback import LoopbackServer, Reply

EXAMPLES = Path(__file__).resolve().parents[3] / "specs" / "examples"
RECORDS = [("2026-01-03 REWE SAGT DANKE -23.10 EUR", "groceries"), ("2026-01-04 UBER TRIP -12.00 EUR", "transport"),
           ("2026-01-05 NETFLIX.COM -9.99 EUR", "entertainment"), ("2026-01-06 SALARY ACME +3100.00 EUR", "income")]
OUTPUTS = {"base": ["I think groceries", "Category: travel", "entertainment", "Sure! income."],
           "prompt_baseline": ["groceries", "transport", "shopping", "income"]}


@pytest.fixture
def session(tmp_path):
    folder = tmp_path / "workspace" / "sessions" / "s1"
    (folder / "data").mkdir(parents=True)
    shutil.copy(EXAMPLES / "bank_transactions.use_case.yaml", folder / "use_case.yaml")
    with open(folder / "data" / "eval.jsonl", "w") as handle:
        for text, label in RECORDS:
            row = {"prompt": [{"role": "user", "content": text}], "completion": [{"role": "assistant", "content": label}]}
            handle.write(json.dumps(row) + "\n")
    return folder


def ctx_for(folder, **settings):
    from assistant.jobs import JobRunner

    return ToolContext(session_dir=folder, settings=ToolSettings(**settings), jobs=JobRunner(folder))


def call(tool, ctx, **args):
    return tool.run(ctx, tool.validate(args))


def preview(tool, ctx, **args):
    return tool.describe(ctx, tool.validate(args))


def write_outputs(folder, eval_id):
    out = folder / "evals" / eval_id / "outputs"
    out.mkdir(parents=True)
    for variant, answers in OUTPUTS.items():
        (out / f"{variant}.jsonl").write_text("".join(json.dumps({"index": i, "output": a}) + "\n" for i, a in enumerate(answers)))
    from skills.evaluate.forgetting import load_set

    # the base model's answers to the general set's default 80 items (the forgetting measure), so no model loads
    (out / "general.base.jsonl").write_text("".join(json.dumps({"id": item["id"], "output": "4" if i % 2 else ""}) + "\n"
                                                    for i, item in enumerate(load_set(80))))


def test_spec_from_tenets_with_diff_preview_and_approval(session):
    ctx = ctx_for(session)
    card = preview(T.write_evaluation_spec, ctx)
    assert "+metrics:" in card.diff and "correct_category" in card.diff
    assert card.findings == [] and "not judged: sensible_on_ambiguous" in card.summary
    result = call(T.write_evaluation_spec, ctx)
    assert not result.is_error, result.content
    spec = load_spec(session / "evaluation.yaml", EvaluationSpec)
    assert spec.status == "approved"
    by_name = {m.name: m for m in spec.metrics}
    assert by_name["correct_category"].code == "label_match" and "groceries" in by_name["correct_category"].params["labels"]
    assert by_name["valid_label_only"].code == "regex"
    rubric = by_name["sensible_on_ambiguous"].judge
    assert {"{prompt}", "{reference}", "{output}"} <= {p for p in ("{prompt}", "{reference}", "{output}") if p in rubric.prompt}
    assert spec.include_prompt_baseline and "exactly one of these labels" in spec.baseline_system_prompt
    assert "not judged" in result.content


def write_rlaif(folder, reward_judge):
    save_spec(folder / "reward.yaml", RewardSpec(components=[RewardComponent(name="ok", kind="judge")], judge_model=reward_judge))
    save_spec(folder / "training.yaml", TrainingPlan(technique="rlaif", reward="reward.yaml"))


def test_eval_judge_equal_to_the_rlaif_reward_judge_is_flagged(session):
    write_rlaif(session, "openai/judge-a")
    ctx = ctx_for(session)
    card = preview(T.write_evaluation_spec, ctx, judge_model="openai/judge-a")
    assert any(f.startswith(judge.SAME_JUDGE) for f in card.findings)
    refused = call(T.write_evaluation_spec, ctx, judge_model="judge-a")
    assert refused.is_error and judge.SAME_JUDGE in refused.content and not (session / "evaluation.yaml").exists()
    ctx.approved_waivers = [Waiver.parse(finding) for finding in card.findings]  # the person ticked it and allowed
    result = call(T.write_evaluation_spec, ctx, judge_model="judge-a")
    assert "Warning" in result.content and judge.SAME_JUDGE in result.content
    ctx.approved_waivers = []
    assert call(T.run_evaluation, ctx).is_error  # running it asks again
    card = preview(T.write_evaluation_spec, ctx, judge_model="openai/judge-b")
    assert not any(f.startswith(judge.SAME_JUDGE) for f in card.findings)
    assert judge.judge_conflict(session, "openai/judge-b") is None


def run_job(folder, eval_id, api_base=None):
    argv = ["--session", str(folder), "--eval-id", eval_id, "--events", str(folder / "evals" / eval_id / "events.jsonl"),
            "--no-mlflow"]
    if api_base:
        argv += ["--api-base", api_base]
    return job.main(argv)


def test_offline_report_runs_code_metrics_and_names_unjudged_tenets(session):
    call(T.write_evaluation_spec, ctx_for(session))
    write_outputs(session, "e1")
    assert run_job(session, "e1") == 0
    report = json.loads((session / "evals/e1/report.json").read_text())
    assert report["not_judged"] == ["sensible_on_ambiguous"]
    metric = next(m for m in report["metrics"] if m["key"] == "correct_category")
    assert metric["means"] == {"base": 0.75, "prompt_baseline": 0.75}
    [comparison] = metric["comparisons"]
    assert (comparison["win"], comparison["tie"], comparison["loss"]) == (1, 2, 1)
    regex = next(m for m in report["metrics"] if m["key"] == "valid_label_only")
    assert regex["means"]["base"] == 0.25 and regex["means"]["prompt_baseline"] == 1.0
    text = (session / "evals/e1/report.md").read_text()
    assert "## Not judged" in text and "`sensible_on_ambiguous`" in text
    events = [json.loads(l) for l in (session / "evals/e1/events.jsonl").read_text().splitlines()]
    assert events[0]["type"] == "start" and events[0]["variants"] == ["base", "prompt_baseline"]
    assert events[-1]["type"] == "done"
    rows = [json.loads(l) for l in (session / "evals/e1/results.jsonl").read_text().splitlines()]
    assert rows[1]["outputs"]["base"] == "Category: travel" and rows[1]["reference"] == "transport"
    from specs import lineage

    [entry] = [e for e in lineage.read(session) if e["kind"] == "evaluation"]
    assert entry["path"] == "evals/e1/results.jsonl" and set(entry["inputs"]) == {"evaluation.yaml", "data/eval.jsonl", "use_case.yaml"}
    assert all(link.ok for link in lineage.check(session))
    # the tools read it back
    waited = call(T.wait_for_evaluation, ctx_for(session), eval_id="e1", timeout_s=5)
    assert "Not judged" in waited.content and waited.data["not_judged"] == ["sensible_on_ambiguous"]
    shown = call(T.show_evaluation_report, ctx_for(session))
    assert shown.content.startswith("# Evaluation e1")


def test_judge_through_a_loopback_server_and_agreement_with_ratings(session):
    call(T.write_evaluation_spec, ctx_for(session), judge_model="openai/judge-test")
    write_outputs(session, "e2")
    replies = [Reply(text="The category fits the merchant.\nSCORE: 4")] * 8
    with LoopbackServer(replies) as server:
        assert run_job(session, "e2", api_base=server.api_base) == 0
        assert len(server.requests) == 8
        prompts = [r["messages"][-1]["content"] for r in server.requests]
    assert any("UBER TRIP" in p and "Category: travel" in p and "transport" in p for p in prompts)
    report = json.loads((session / "evals/e2/report.json").read_text())
    assert report["not_judged"] == []
    judged = next(m for m in report["metrics"] if m["key"] == "sensible_on_ambiguous")
    assert judged["means"] == {"base": 0.75, "prompt_baseline": 0.75}
    assert judged["comparisons"][0]["tie"] == 4
    ratings = [{"index": i, "variant": "base", "metric": "sensible_on_ambiguous", "score": s}
               for i, s in enumerate([1.0, 0.75, 0.0, 0.25])]
    result = call(T.rate_answers, ctx_for(session), ratings=ratings, eval_id="e2")
    assert not result.is_error, result.content
    assert result.data["agreement"]["compared"] == 4 and result.data["agreement"]["agree"] == 2
    assert "agrees with you on 2 of 4" in result.content
    assert (session / "evals/e2/ratings.jsonl").exists()
    assert "## Judge agreement with your ratings" in (session / "evals/e2/report.md").read_text()
    assert json.loads((session / "evals/e2/report.json").read_text())["agreement"]["agree"] == 2
    bad = call(T.rate_answers, ctx_for(session), ratings=[{"index": 9, "variant": "base", "metric": "x", "score": 1}], eval_id="e2")
    assert bad.is_error


def test_judge_verdict_parsing():
    from specs.evaluation import JudgeRubric

    numeric = JudgeRubric(prompt="{output}")
    assert judge.parse_verdict("Reasoning...\nSCORE: 5", numeric) == 1.0
    assert judge.parse_verdict("score = 1/5", numeric) == 0.0
    assert judge.parse_verdict("no idea", numeric) is None
    assert judge.parse_verdict("SCORE: 1", numeric) == 0.0
    assert judge.parse_verdict("SCORE: 0.5", numeric) is None  # off the 1..5 scale: no score, not a guess
    categorical = JudgeRubric(prompt="{output}", scale="categorical", categories={"pass": 1.0, "partial": 0.5, "fail": 0.0})
    assert judge.parse_verdict("SCORE: partial", categorical) == 0.5
    assert judge.fill("{prompt}|{reference}|{output}|{x}", prompt="p", reference=None, output="o") == "p|(no reference answer)|o|{x}"


def test_run_evaluation_preview_and_guide_flow(session):
    state = GuideState(session_dir=session, messages=[], last_user="continue", last_tool=None)
    assert guide.next_turn(state).tool == "write_evaluation_spec"
    call(T.write_evaluation_spec, ctx_for(session))
    state.last_tool = LastTool("write_evaluation_spec", "ok", False)
    assert guide.next_turn(state).tool == "run_evaluation"
    card = preview(T.run_evaluation, ctx_for(session))
    assert "base model, then prompt-only baseline" in card.summary and "skills.evaluate.job" in card.command
    assert card.estimate.seconds > 0
    (session / "evals" / "e3").mkdir(parents=True)
    state.last_tool = LastTool("run_evaluation", "started", False, {"eval_id": "e3"})
    turn = guide.next_turn(state)
    assert turn.tool == "wait_for_evaluation" and turn.arguments == {"eval_id": "e3"}
    write_outputs(session, "e4")
    run_job(session, "e4")
    shutil.rmtree(session / "evals" / "e3")
    state.last_tool = LastTool("wait_for_evaluation", "done", False, {"eval_id": "e4"})
    assert guide.next_turn(state).tool == "show_evaluation_report"
    state.last_tool = LastTool("show_evaluation_report", "# report", False)
    assert guide.next_turn(state).tool is None
    state.last_tool, state.last_user = None, "continue"
    assert guide.next_turn(state).tool == "finish_evaluation"
    assert call(T.finish_evaluation, ctx_for(session)).phase == "export"
    state.last_tool = LastTool("finish_evaluation", "done", False)
    assert guide.next_turn(state) is None


def test_rewriting_the_spec_keeps_a_custom_scorer_the_person_added(session):
    from specs.evaluation import MetricSpec

    ctx = ctx_for(session)
    call(T.write_evaluation_spec, ctx, include_prompt_baseline=False)
    spec = load_spec(session / "evaluation.yaml", EvaluationSpec)
    spec.metrics = spec.metrics + [MetricSpec(name="mine", code="custom", params={"scorer_path": "scorer.py"})]
    save_spec(session / "evaluation.yaml", spec)
    (session / "scorer.py").write_text("def score(prompt, output, reference):\n    return 1.0 if output.islower() else 0.0\n")
    call(T.write_evaluation_spec, ctx, include_prompt_baseline=True)
    spec = load_spec(session / "evaluation.yaml", EvaluationSpec)
    assert [m.name for m in spec.metrics][-1] == "mine" and spec.include_prompt_baseline
    write_outputs(session, "e5")
    assert run_job(session, "e5") == 0
    report = json.loads((session / "evals/e5/report.json").read_text())
    mine = next(m for m in report["metrics"] if m["key"] == "mine")
    assert mine["means"] == {"base": 0.25, "prompt_baseline": 1.0}


def test_an_unreachable_judge_leaves_the_code_metrics_and_says_so(session):
    from tests.loopback import closed_port

    call(T.write_evaluation_spec, ctx_for(session), judge_model="openai/judge-test")
    write_outputs(session, "e6")
    assert run_job(session, "e6", api_base=f"http://127.0.0.1:{closed_port()}/v1") == 0
    report = json.loads((session / "evals/e6/report.json").read_text())
    assert report["judge_usage"]["failures"] == 8
    assert next(m for m in report["metrics"] if m["key"] == "correct_category")["means"]["base"] == 0.75
    assert "The judge gave no usable score for 8 of 8 answers" in (session / "evals/e6/report.md").read_text()


def test_run_and_wait_through_the_job_runner(session, monkeypatch):
    from assistant.jobs import JobRunner

    call(T.write_evaluation_spec, ctx_for(session))
    monkeypatch.setattr(T, "_new_eval_id", lambda: "e7")
    write_outputs(session, "e7")  # answers exist: the job only scores, reports and logs
    ctx = ToolContext(session_dir=session, jobs=JobRunner(session))
    started = call(T.run_evaluation, ctx)
    assert not started.is_error, started.content
    assert started.data["eval_id"] == "e7" and (session / "jobs" / f"{started.data['job_id']}.json").exists()
    progress = []
    ctx.emit = progress.append
    waited = call(T.wait_for_evaluation, ctx, eval_id="e7", timeout_s=240)
    assert not waited.is_error, waited.content
    assert "Evaluation e7 finished" in waited.content and waited.data["report_path"] == "evals/e7/report.md"
    assert any(event.get("type") == "progress" for event in progress)
    mlflow_run_id = json.loads((session / "evals/e7/report.json").read_text()).get("mlflow_run_id")
    assert mlflow_run_id
    import mlflow

    from skills.common.tracking import tracking_uri

    artifacts = mlflow.MlflowClient(tracking_uri(session)).get_run(mlflow_run_id).info.artifact_uri
    store = tracking_uri(session)[len("sqlite:///"):]
    assert artifacts.startswith((Path(store).parent / "mlartifacts").resolve().as_uri()), \
        f"the report's artifacts belong beside the store, not in the job's working folder: {artifacts}"


def test_the_shipped_example_spec_runs_with_settings_from_the_contract(session):
    shutil.copy(EXAMPLES / "bank_transactions.evaluation.yaml", session / "evaluation.yaml")
    write_outputs(session, "e8")
    assert run_job(session, "e8") == 0
    report = json.loads((session / "evals/e8/report.json").read_text())
    by_key = {m["key"]: m for m in report["metrics"]}
    assert by_key["accuracy"]["means"]["base"] == 0.75  # labels found inside longer answers
    assert by_key["correct_category"]["means"]["prompt_baseline"] == 0.75


def test_waiting_on_an_evaluation_killed_with_the_app_reports_it_instead_of_waiting(session):
    from assistant.jobs import JobState

    folder = session / "evals" / "e9"
    folder.mkdir(parents=True)
    (folder / "events.jsonl").write_text(json.dumps({"type": "progress", "task": "generate base", "done": 8, "total": 120}) + "\n")
    (folder / "job.json").write_text(json.dumps({"job_id": "j9"}))
    (session / "jobs").mkdir()
    argv = ["python", "-m", "skills.evaluate.job", "--eval-id", "e9", "--events", str(folder / "events.jsonl")]
    base = session / "jobs" / "j9"
    state = JobState(id="j9", name="evaluate", status="running", pid=999999, argv=argv, started="2026-01-01T00:00:00+00:00",
                     log=f"{base}.log", events=str(folder / "events.jsonl"), exit_marker=f"{base}.exit")
    (session / "jobs" / "j9.json").write_text(state.model_dump_json())
    result = call(T.wait_for_evaluation, ctx_for(session), eval_id="e9", timeout_s=30)
    assert result.is_error and "e9 failed without a report" in result.content


def test_guide_starts_a_new_evaluation_when_the_person_says_try_again(session):
    from skills.evaluate.guide import next_turn
    from skills.guiding import GuideState

    call(T.write_evaluation_spec, ctx_for(session))
    (session / "evals" / "e9").mkdir(parents=True)  # started, never reported: the job died
    turn = next_turn(GuideState(session_dir=session, messages=[], last_user="Try again", last_tool=None))
    assert turn.tool == "run_evaluation"


def test_cancel_stops_the_evaluation_job_and_esc_only_stops_waiting(session):
    import sys

    from assistant.jobs import JobRunner

    folder = session / "evals" / "e10"
    folder.mkdir(parents=True)
    runner = JobRunner(session)
    job = runner.start("evaluate", [sys.executable, "-c", "import time; time.sleep(120)", "--eval-id", "e10",
                                    "--events", str(folder / "events.jsonl")])
    (folder / "job.json").write_text(json.dumps({"job_id": job.id}))
    watching = ctx_for(session)
    watching.cancel.set()  # esc: stop waiting, the job goes on
    result = call(T.wait_for_evaluation, watching, eval_id="e10", timeout_s=30)
    assert result.data["running"] is True and "goes on as a job" in result.content
    assert job.is_running()
    cancelling = ctx_for(session)
    cancelling.cancel.set()
    cancelling.cancel_jobs = True  # the progress card's Cancel button
    result = call(T.wait_for_evaluation, cancelling, eval_id="e10", timeout_s=30)
    assert result.data["status"] == "cancelled" and result.content.startswith("Cancelled evaluation e10")
    assert job.wait(timeout_s=30) != "running"


def test_the_general_set_size_is_an_argument_kept_on_rewrite_and_shown_in_the_estimate(session):
    ctx = ctx_for(session)
    with pytest.raises(ValueError, match="general_items"):  # refused before approval, the field named
        T.write_evaluation_spec.validate({"general_items": -3})
    assert not call(T.write_evaluation_spec, ctx, general_items="12").is_error
    assert load_spec(session / "evaluation.yaml", EvaluationSpec).general_items == 12
    assert "12 general-set items x 1 models" in preview(T.run_evaluation, ctx).estimate.note
    assert not call(T.write_evaluation_spec, ctx, judge_model="judge-a").is_error  # a rewrite keeps the count
    assert load_spec(session / "evaluation.yaml", EvaluationSpec).general_items == 12
    call(T.write_evaluation_spec, ctx, general_items=0)
    assert "general-set" not in preview(T.run_evaluation, ctx).estimate.note
