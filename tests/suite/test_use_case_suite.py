"""The public use-case suite: ten task families, each driven headless from a plain description and a small
data file through use_case -> data -> training plan with the offline guided planner (no training).

Each family runs once (two at a time): `tunesmith run --describe TEXT --data FILE --until evaluate --policy-file P`,
where P allows everything but timing and starting training (and the reward dry run), so a run ends at
the quality gate (exit 1: regenerating gives the same data), where the data step cannot go on
(exit 1, saying why), or with the plan written (exit 3: timing the training needs an approval). Then it checks what the person gave is kept (labels, fields),
the data (distinct-2 and embedding spread above the floors, no eval input in train), the gate's
outcome with its reason, and the recommended technique. The data files are tests/suite/data/*
(rebuilt by tests/suite/make_data.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
DISTINCT_2_FLOOR = 0.1
"""Share of distinct word pairs among the training inputs below which the data repeats itself."""
SPREAD_FLOOR = 0.3
"""Mean pairwise cosine distance of the inputs' MiniLM embeddings below which they say the same thing."""
POLICY = "default: allow\ntools:\n  measure_training_speed: ask\n  start_training: ask\n  dry_run_reward: ask\n"
"""`ask` with nobody to ask rejects the call and ends the run with exit 3: the plan is written, nothing trains."""
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Family:
    name: str
    description: str
    data: str
    task: str
    labels: list[str] | None = None
    fields: list[str] | None = None
    facets: dict[str, list[str]] | None = None
    kind: str = "unknown"
    outcome: str = "plan"
    """`plan`: the training plan is written; `gate`: the gate blocks with `gate`; `stuck`: the data step stops, saying `says`."""
    gate: set[str] = field(default_factory=set)
    """For `gate`: the findings that may block it (seen on this family); at least one does."""
    says: str = ""
    technique: str | None = "sft"
    gaps: dict[str, str] = field(default_factory=dict)
    """check -> why this family does not pass it today (the check runs and is expected to fail: xfail, strict)."""


FAMILIES = [
    Family("support_routing", "Route incoming support emails to one of five queues: Billing, Technical, Shipping, Returns, "
           "Account. We have about 80 routed emails from last year.", "support_emails.csv", "classification",
           labels=["Billing", "Technical", "Shipping", "Returns", "Account"], kind="labeled_examples"),
    Family("review_tags", "Tag product reviews with a sentiment (positive, neutral, negative) and topics like price, quality, "
           "delivery. We have tagged reviews.", "product_reviews.jsonl", "classification",
           facets={"sentiment": ["positive", "neutral", "negative"], "topics": ["price", "quality", "delivery"]},
           kind="labeled_examples"),
    Family("shipment_fields", "Extract the shipment fields from logistics emails as JSON: tracking_number, carrier, origin, "
           "destination, ship_date, weight_kg. We have labeled examples.", "shipment_emails.jsonl", "extraction",
           fields=["tracking_number", "carrier", "origin", "destination", "ship_date", "weight_kg"], kind="labeled_examples"),
    Family("unit_conversion", "Solve unit-conversion word problems and answer with just the number. We have solved problems.",
           "unit_problems.csv", "math", kind="input_output_pairs"),
    Family("hotel_replies", "Write friendly replies to hotel guest reviews for our front-desk team. Make them sound warm and "
           "human. We have pairs of replies where one is preferred over the other.", "hotel_reply_pairs.jsonl",
           "generation", kind="preference_pairs", technique="dpo"),
    Family("bug_summaries", "Summarize bug reports in two lines for our engineers. We have past reports with summaries.",
           "bug_reports.jsonl", "summarization", kind="input_output_pairs"),
    Family("legal_plain_english", "Rewrite legal clauses in plain English so our customers understand them. We have examples "
           "of clauses with rewrites.", "legal_clauses.jsonl", "rewriting", kind="input_output_pairs"),
    Family("smart_home_intents", "Detect the intent of smart-home voice commands: turn_on, turn_off, set_temperature, "
           "play_music, lock_door. We have labeled commands.", "smart_home_commands.csv", "classification",
           labels=["turn_on", "turn_off", "set_temperature", "play_music", "lock_door"], kind="labeled_examples"),
    Family("short_answer_grading", "Grade students' short answers on a scale from 1 to 5 for our teachers. We have graded "
           "answers.", "short_answer_grades.csv", "classification", labels=["1", "2", "3", "4", "5"], kind="labeled_examples"),
    Family("faq_answers", "A bot that answers customer questions using only our FAQ document, for our support team.",
           "faq.md", "question_answering", kind="reference_document", outcome="stuck",
           says="I cannot draft seed examples offline", technique=None,
           gaps={"data": "offline, a question-answering task cannot be drafted from a document alone: it needs a few real "
                         "examples or a teacher model", "technique": "no training data without a teacher"}),
]


@dataclass
class Journey:
    code: int
    out: str
    session: Path


JOURNEY_TIMEOUT_S = 1200
"""One family's run takes well under a minute on an idle machine; much longer when many jobs share the CPUs."""
JOURNEY_WORKERS = max(1, min(2, os.cpu_count() or 1))
"""Families run this many at a time: a run is one busy process at a time (the planner, then its embedding
subprocess), so two keep both cores of a small machine busy while each run's checks stay the same."""


def run_journey(family: Family, folder: Path) -> Journey:
    """The family's headless run in ``folder``."""
    (folder / "policy.yaml").write_text(POLICY)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNESMITH_QUALITY_EMBEDDINGS": "1"}
    env.pop("TUNESMITH_YES", None)
    argv = [sys.executable, "-m", "assistant.cli", "--workspace", str(folder / "ws"), "run", "--describe",
            family.description, "--data", str(DATA / family.data), "--until", "evaluate",
            "--policy-file", str(folder / "policy.yaml"), "--session-name", family.name]
    session = folder / "ws" / "sessions" / family.name
    try:
        run = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=JOURNEY_TIMEOUT_S)
        return Journey(run.returncode, run.stdout + run.stderr, session)
    except subprocess.TimeoutExpired as exc:  # every check of the family fails on it; none runs it again
        return Journey(-1, f"timed out after {JOURNEY_TIMEOUT_S} s\n{exc.stdout or ''}", session)


class Journeys:
    """Each family's run, once per test session: the families the selected checks cover start together
    (``JOURNEY_WORKERS`` at a time) and every check of a family waits for and reads its run."""

    def __init__(self, families: list[Family], tmp_path_factory):
        self.tmp_path_factory = tmp_path_factory
        self.pool = ThreadPoolExecutor(JOURNEY_WORKERS)
        self.runs: dict[str, Future] = {}
        for family in families:
            self._start(family)

    def _start(self, family: Family) -> Future:
        if family.name not in self.runs:
            self.runs[family.name] = self.pool.submit(run_journey, family, self.tmp_path_factory.mktemp(family.name))
        return self.runs[family.name]

    def __call__(self, family: Family) -> Journey:
        return self._start(family).result()


@pytest.fixture(scope="module")
def journeys(request, tmp_path_factory):
    here = Path(__file__).resolve()
    selected = [item.callspec.params["family"] for item in request.session.items
                if Path(item.path).resolve() == here and "family" in getattr(getattr(item, "callspec", None), "params", {})]
    runs = Journeys(list({f.name: f for f in selected}.values()), tmp_path_factory)
    yield runs
    runs.pool.shutdown(wait=True, cancel_futures=True)


def cases(check: str) -> list:
    return [pytest.param(f, id=f.name, marks=[pytest.mark.xfail(reason=f.gaps[check], strict=True)] if check in f.gaps else [])
            for f in FAMILIES]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def user_input(record: dict) -> str:
    prompt = record.get("prompt")
    if isinstance(prompt, list):
        return next((m["content"] for m in prompt if m.get("role") == "user"), "")
    return str(prompt if prompt is not None else record.get("input", ""))


@pytest.mark.parametrize("family", cases("interview"))
def test_the_interview_keeps_what_the_person_gave(family, journeys):
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec

    run = journeys(family)
    assert "Traceback" not in run.out, run.out[-3000:]
    spec = load_spec(run.session / "use_case.yaml", UseCaseSpec)
    assert spec.status == "approved" and spec.task_type == family.task
    contract = spec.contract
    if family.labels:
        assert contract.labels == family.labels, "labels are kept exactly as the description wrote them"
    if family.fields:
        assert list(contract.output_schema["properties"]) == family.fields
    if family.facets:
        props = contract.output_schema["properties"]
        assert props["sentiment"]["enum"] == family.facets["sentiment"]
        assert props["topics"]["items"]["enum"] == family.facets["topics"]
    assert spec.own_data is not None and spec.own_data.has_data and spec.own_data.kind == family.kind
    assert spec.own_data.path == str(DATA / family.data)


@pytest.mark.parametrize("family", cases("data"))
def test_the_data_is_varied_and_its_eval_split_is_held_out(family, journeys):
    run = journeys(family)
    train, evals = run.session / "data" / "train.jsonl", run.session / "data" / "eval.jsonl"
    assert train.exists() and evals.exists(), run.out[-2000:]
    metrics = json.loads((run.session / "data" / "quality.json").read_text())["metrics"]
    assert metrics["distinct"]["distinct_2"] >= DISTINCT_2_FLOOR, metrics["distinct"]
    assert metrics["embedding"].get("spread", 0) >= SPREAD_FLOOR, metrics["embedding"]
    train_inputs = {user_input(r) for r in read_jsonl(train)}
    eval_inputs = {user_input(r) for r in read_jsonl(evals)}
    assert eval_inputs, "there are eval records"
    assert not train_inputs & eval_inputs, "no eval record shares its input with training"
    sources = metrics.get("sources", {}).get("train", {})
    assert sources.get("person"), f"the person's rows are in the training data: {sources}"


@pytest.mark.parametrize("family", cases("gate"))
def test_the_gate_outcome_and_its_reason(family, journeys):
    run = journeys(family)
    quality = run.session / "data" / "quality.json"
    findings = json.loads(quality.read_text())["findings"] if quality.exists() else []
    blocking = {f["code"] for f in findings if f["severity"] == "high" and not f.get("waived")}
    if family.outcome == "gate":
        assert blocking and blocking <= family.gate, f"blocking findings: {sorted(blocking)}, known: {sorted(family.gate)}"
    else:
        assert not blocking, f"blocking findings: {sorted(blocking)}"
    if family.outcome == "gate":
        assert run.code == 1 and "stopped: step data would repeat" in run.out and "generate_data" in run.out, run.out[-2000:]
        for code in blocking:
            assert f"- {code}:" in run.out, "the reason is printed"
        assert not (run.session / "training.yaml").exists()
    elif family.outcome == "stuck":
        assert run.code == 1 and "stopped: step data would repeat" in run.out and family.says in run.out, run.out[-2000:]
    else:
        assert run.code == 3 and "needs approval: measure_training_speed" in run.out, run.out[-2000:]
        assert (run.session / "training.yaml").exists()


@pytest.mark.parametrize("family", cases("technique"))
def test_the_recommended_technique(family, journeys):
    from skills.train.datafacts import inspect_data
    from skills.train.recommend import recommend
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec

    run = journeys(family)
    data = run.session / "data"
    assert (data / "train.jsonl").exists(), "there is training data to recommend from"
    use_case = load_spec(run.session / "use_case.yaml", UseCaseSpec)
    technique = recommend(use_case, inspect_data(data / "train.jsonl", data / "eval.jsonl")).technique
    assert technique == family.technique
    plan = run.session / "training.yaml"
    if plan.exists():
        assert f"technique: {family.technique}" in plan.read_text(), "the plan uses the recommended technique"
