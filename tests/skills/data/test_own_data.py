"""The person's data first: read, detect the format, map, validate, dedupe, hold out, recommend from it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from skills.data import guide
from skills.data import tools as data_tools
from skills.guiding import GuideState, LastTool
from skills.toolkit import ToolContext
from skills.settings import ToolSettings
from specs.yamlio import save_spec
from synth import importing
from tests.synth.families import FAMILIES, QUEUES

FAST = ToolSettings(quality_embeddings=False)
EMAILS = {
    "billing": ["I was charged twice for March.", "My invoice shows the wrong VAT number.", "Please refund the duplicate payment.",
                "Why did my plan price go up?", "The receipt for order 5521 is missing."],
    "technical": ["The app crashes when I open settings.", "Sync stopped working after the update.", "I get error 503 on login.",
                  "Exports come out as empty files.", "The dashboard never finishes loading."],
    "account": ["How do I change the email on my account?", "Please close my account.", "I cannot reset my password.",
                "Add a second admin to our team.", "My account was locked after three tries."],
    "shipping": ["My parcel has not arrived after ten days.", "The tracking page shows no update.", "Can you ship to Norway?",
                 "The box arrived damaged.", "I need to change the delivery address."],
    "other": ["Do you have a student discount?", "Who can I talk to about a partnership?", "Great service, thanks!",
              "Is there a public roadmap?", "Where are your offices?"],
}


def _session(tmp_path: Path, family: str) -> Path:
    session = tmp_path / "s"
    (session / "data").mkdir(parents=True)
    save_spec(session / "use_case.yaml", FAMILIES[family][0])
    return session


def _call(tool, ctx, **args):
    return tool.run(ctx, tool.validate(args))


def _write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _emails() -> list[dict]:
    rows = [{"email_text": f"{text} (ticket {k})", "queue": queue} for queue, texts in EMAILS.items()
            for k, text in enumerate(texts)]
    return rows + [rows[0], {"email_text": "Hello?", "queue": "sales"}]  # a duplicate and a label off the contract


def test_every_format_is_detected_from_names_and_contents(tmp_path):
    import datasets

    cases = {
        "labels.csv": ([{"email_text": "a b c", "queue": q} for q in QUEUES * 4], "text_label",
                       {"input": "email_text", "output": "queue"}),
        "fields.jsonl": ([{"email": f"ship {k}", "fields": {"carrier": "DHL", "weight_kg": k}} for k in range(8)],
                         "input_json", {"input": "email", "output": "fields"}),
        "problems.parquet": ([{"question": f"{k} km in m?", "answer": str(k * 1000)} for k in range(8)],
                             "prompt_reference", {"input": "question", "output": "answer"}),
        "pairs.jsonl": ([{"review": f"r{k}", "human_reply": f"Thanks {k}!", "ai_reply": "We value feedback."}
                         for k in range(8)], "preference_pairs",
                        {"input": "review", "chosen": "human_reply", "rejected": "ai_reply"}),
        "chats": ([{"messages": [{"role": "user", "content": f"hi {k}"}, {"role": "assistant", "content": f"hello {k}"}]}
                   for k in range(8)], "conversations", {"messages": "messages"}),
    }
    for name, (rows, kind, mapping) in cases.items():
        path = tmp_path / name
        if name.endswith(".csv"):
            _write_csv(path, rows)
        elif name.endswith(".parquet"):
            datasets.Dataset.from_list(rows).to_parquet(str(path))
        elif name.endswith(".jsonl"):
            path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        else:
            datasets.Dataset.from_list(rows).save_to_disk(str(path))
        proposal = importing.propose(importing.read_table(path))
        assert (proposal.kind, proposal.mapping) == (kind, mapping), name
    chats = importing.map_rows(importing.read_table(tmp_path / "chats"), {"messages": "messages"})
    assert chats[0]["input"] == "hi 0" and chats[0]["output"] == "hello 0"


def test_a_broken_file_names_the_file_and_the_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok", "label": "billing"}\n{"text": oops}\n')
    with pytest.raises(importing.DataFileError, match=r"bad.jsonl, line 2"):
        importing.read_table(bad)


def test_import_validates_dedupes_and_holds_out_a_stratified_split(tmp_path):
    session = _session(tmp_path, "support_queues")
    source = _write_csv(tmp_path / "emails.csv", _emails())
    ctx = ToolContext(session_dir=session, settings=FAST)
    info = _call(data_tools.inspect_data_file, ctx, path=str(source))
    assert info.data["kind"] == "text_label" and info.data["mapping"] == {"input": "email_text", "output": "queue"}
    assert "sales" in info.content  # a label the use case does not have is shown before importing
    result = _call(data_tools.import_data, ctx, path=str(source), mapping=info.data["mapping"])
    assert not result.is_error, result.content
    assert result.data["dropped"] == {"label not in set": 1, "duplicate input": 1}
    assert "emails.csv, line 27: label not in set" in result.content and "line 26: duplicate input" in result.content
    train, held = importing.load_imported(session)
    assert {r["output"] for r in held} == set(QUEUES)  # every label is represented in the eval split
    assert not {r["input"] for r in train} & {r["input"] for r in held}
    assert all(r["meta"]["source"] == "person" for r in train + held)


def test_the_persons_eval_file_is_used_instead_of_a_split(tmp_path):
    session = _session(tmp_path, "support_queues")
    rows = _emails()[:25]
    source = _write_csv(tmp_path / "train.csv", rows[:20])
    evals = _write_csv(tmp_path / "eval.csv", rows[20:] + rows[:1])  # one eval row repeats a train row
    ctx = ToolContext(session_dir=session, settings=FAST)
    result = _call(data_tools.import_data, ctx, path=str(source), mapping={"input": "email_text", "output": "queue"},
                   eval_path=str(evals))
    assert not result.is_error and result.data["train"] == 20 and result.data["eval"] == 5
    assert result.data["dropped"] == {"eval: duplicate input": 1}


def test_the_data_step_asks_for_the_persons_data_first_and_imports_it(tmp_path):
    from specs.use_case import OwnData

    session = _session(tmp_path, "support_queues")
    source = _write_csv(tmp_path / "emails.csv", _emails())
    use_case = FAMILIES["support_queues"][0].model_copy(update={"own_data": OwnData(has_data=True,
                                                                                    described_as="a few hundred emails")})
    save_spec(session / "use_case.yaml", use_case)
    def state(**kw):
        return GuideState(session_dir=session, messages=[], last_user=kw.get("user"), last_tool=kw.get("tool"))

    first = guide.next_turn(state())
    assert first.tool == "ask_user" and first.arguments["choices"][0] == guide.OWN_DATA
    assert "a few hundred emails" in first.text
    turn = guide.next_turn(state(user=f"It is in {source}"))
    assert turn.tool == "inspect_data_file" and turn.arguments["path"] == str(source.resolve())
    ctx = ToolContext(session_dir=session, settings=FAST)
    info = _call(data_tools.inspect_data_file, ctx, **turn.arguments)
    turn = guide.next_turn(state(tool=LastTool("inspect_data_file", info.content, False, info.data)))
    assert turn.tool == "ask_user" and turn.arguments["choices"][0] == guide.IMPORT_YES
    assert "text + label" in turn.text
    turn = guide.next_turn(state(user=guide.CHANGE_MAPPING))
    assert "email_text" in turn.text and turn.tool is None
    turn = guide.next_turn(state(user="input=email_text, output=queue"))
    assert turn.tool == "import_data" and turn.arguments["mapping"] == {"input": "email_text", "output": "queue"}
    assert not _call(data_tools.import_data, ctx, **turn.arguments).is_error
    turn = guide.next_turn(state(tool=LastTool("import_data", "ok", False)))
    assert turn.tool == "write_data_generation_spec"


def test_a_path_given_with_the_description_is_read_without_asking(tmp_path):
    from specs.use_case import OwnData

    session = _session(tmp_path, "support_queues")
    source = _write_csv(tmp_path / "emails.csv", _emails())
    use_case = FAMILIES["support_queues"][0].model_copy(update={"own_data": OwnData(has_data=True, path=str(source))})
    save_spec(session / "use_case.yaml", use_case)
    turn = guide.next_turn(GuideState(session_dir=session, messages=[], last_user="continue", last_tool=None))
    assert turn.tool == "inspect_data_file" and turn.arguments == {"path": str(source)}


def test_without_data_offers_the_persons_data_and_never_drafts_placeholders(tmp_path):
    session = _session(tmp_path, "legal_rewrites")
    turn = guide.next_turn(GuideState(session_dir=session, messages=[], last_user="continue", last_tool=None))
    assert turn.tool == "ask_user" and guide.OWN_DATA in turn.arguments["choices"]
    assert "a teacher model" in turn.text and "a data file" in turn.text
    with_teacher = GuideState(session_dir=session, messages=[], last_user="continue", last_tool=None,
                              settings=ToolSettings(teacher_model="openai/t"))
    assert guide.next_turn(with_teacher).arguments == {"count": 12, "use_teacher": True}


def _generate_and_recommend(session: Path, ctx: ToolContext) -> tuple[dict, object]:
    from skills.train.datafacts import inspect_data
    from skills.train.recommend import recommend
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec

    assert not _call(data_tools.write_data_generation_spec, ctx).is_error
    generated = _call(data_tools.generate_data, ctx)
    assert not generated.is_error, generated.content
    facts = inspect_data(session / "data/train.jsonl", session / "data/eval.jsonl")
    use_case = load_spec(session / "use_case.yaml", UseCaseSpec)
    return generated.data, recommend(use_case, facts, n_params=135_000_000, available_bytes=16 * 2**30)


def test_preference_pairs_make_dpo_the_first_choice_and_the_report_says_where_records_came_from(tmp_path):
    session = _session(tmp_path, "hotel_replies")
    rows = [{"review": f"The {room} room was {feel} and the {thing} was {state}.",
             "human_reply": f"Thank you so much for staying with us! We're sorry the {thing} let you down and we'll fix it.",
             "ai_reply": "We appreciate your feedback. Your satisfaction is important to us."}
            for room in ("sea-view", "garden", "corner", "attic", "family", "twin", "single", "double")
            for feel, thing, state in (("quiet", "breakfast", "cold"), ("cosy", "shower", "weak"),
                                       ("bright", "wifi", "slow"), ("spacious", "lift", "broken"),
                                       ("clean", "bar", "closed"), ("warm", "pool", "crowded"),
                                       ("tidy", "parking", "full"), ("lovely", "heating", "noisy"))]
    source = tmp_path / "pairs.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ctx = ToolContext(session_dir=session, settings=FAST)
    info = _call(data_tools.inspect_data_file, ctx, path=str(source))
    assert info.data["kind"] == "preference_pairs" and info.data["format"] == "preference"
    assert not _call(data_tools.import_data, ctx, path=str(source), mapping=info.data["mapping"]).is_error
    report, rec = _generate_and_recommend(session, ctx)
    assert rec.technique == "dpo", rec.text()
    assert report["sources"]["train"]["person"] > 40 and report["sources"]["train"].get("offline", 0) > 0
    assert set(report["sources"]["eval"]) == {"person"}  # the held-out rows are the person's, never generated
    from synth.quality import load_report, summary

    text = summary(load_report(session))
    assert "your data" in text and "offline expansion" in text


def test_checkable_reference_answers_make_rlvr_possible(tmp_path):
    session = _session(tmp_path, "unit_problems")
    rows = [{"question": f"A rope is {k} metres long. How many centimetres is that?",
             "answer": f"{k} m x 100 = {k * 100} cm.\nAnswer: {k * 100}"} for k in range(2, 90)]
    source = tmp_path / "problems.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ctx = ToolContext(session_dir=session, settings=FAST)
    info = _call(data_tools.inspect_data_file, ctx, path=str(source))
    assert info.data["kind"] == "prompt_reference"
    assert not _call(data_tools.import_data, ctx, path=str(source), mapping=info.data["mapping"]).is_error
    _, rec = _generate_and_recommend(session, ctx)
    ranked = {o.technique: o.score for o in rec.ranked}
    assert ranked["rlvr"] > ranked["rlaif"] and ranked["rlvr"] >= 3.0, rec.text()


def test_a_reference_document_grounds_the_teacher_instead_of_being_imported_as_rows(tmp_path):
    from specs.data_generation import DataGenerationSpec
    from specs.use_case import OwnData
    from specs.yamlio import load_spec
    from tests.synth.families import FAQ

    session = _session(tmp_path, "faq_bot")
    document = tmp_path / "faq.md"
    document.write_text(FAQ)
    use_case = FAMILIES["faq_bot"][0].model_copy(update={"own_data": OwnData(has_data=True, kind="reference_document",
                                                                             path=str(document))})
    save_spec(session / "use_case.yaml", use_case)
    settings = FAST.model_copy(update={"teacher_model": "openai/t"})
    state = GuideState(session_dir=session, messages=[], last_user="continue", last_tool=None, settings=settings)
    turn = guide.next_turn(state)
    assert turn.tool == "attach_document" and turn.arguments["path"] == str(document)
    assert not _call(data_tools.attach_document, ToolContext(session_dir=session, settings=settings),
                     **turn.arguments).is_error
    spec = load_spec(session / "data_generation.yaml", DataGenerationSpec)
    assert [d.path for d in spec.grounding_documents] == ["documents/faq.md"]
    assert (session / "documents/faq.md").read_text() == FAQ
    turn = guide.next_turn(GuideState(session_dir=session, messages=[], last_user=None,
                                      last_tool=LastTool("attach_document", "ok", False), settings=settings))
    assert turn.tool == "draft_seed_examples" and turn.arguments["use_teacher"] is True


def test_rows_that_share_a_specific_phrase_stay_on_one_side_of_the_split():
    from synth.quality import overlap
    from synth.split import stratified_split

    bodies = [f"The parcel number {k} was left with neighbour {k} instead of the locker at the station" for k in range(30)]
    rows = [{"input": f"{greeting} {body}", "output": "shipping", "meta": {"source": "person", "line": str(k)}}
            for k, body in enumerate(bodies) for greeting in ("Hi,", "Dear support,")]
    rows += [{"input": f"Please refund invoice {k} which was charged twice by mistake last month", "output": "billing",
              "meta": {"source": "person", "line": str(100 + k)}} for k in range(30)]
    split = stratified_split(rows, 0.2, by_label=True)
    train, held = split.train, split.eval
    assert held and {r["output"] for r in held} == {"shipping", "billing"}
    assert overlap([r["input"] for r in train], [r["input"] for r in held], 8) == []


def test_offline_top_up_drops_near_copies_so_the_persons_data_is_not_drowned(tmp_path):
    session = _session(tmp_path, "support_queues")
    source = _write_csv(tmp_path / "emails.csv", _emails())
    ctx = ToolContext(session_dir=session, settings=FAST)
    assert not _call(data_tools.import_data, ctx, path=str(source), mapping={"input": "email_text", "output": "queue"}).is_error
    assert not _call(data_tools.write_data_generation_spec, ctx).is_error
    result = _call(data_tools.generate_data, ctx)
    assert not result.is_error, result.content
    from synth.quality import load_report

    report = load_report(session)
    assert report.metrics["duplicates"]["near"] == 0 and result.data["dropped"].get("near copy of another record", 0) > 0


def test_an_eval_file_that_does_not_exist_is_refused_with_how_to_leave_it_out(tmp_path):
    # a small planner copied a file name it had made up earlier into eval_path
    session = _session(tmp_path, "support_queues")
    source = _write_csv(tmp_path / "train.csv", _emails()[:25])
    ctx = ToolContext(session_dir=session, settings=FAST)
    result = _call(data_tools.import_data, ctx, path=str(source), mapping={"input": "email_text", "output": "queue"},
                   eval_path=str(tmp_path / "train_processed_approved.csv"))
    assert result.is_error and "eval_path" in result.content and "Leave eval_path out" in result.content
    assert not (session / importing.IMPORTED).exists() and not (session / importing.IMPORTED_EVAL).exists()


def test_the_training_file_given_again_as_its_own_eval_file_is_refused(tmp_path):
    # a small planner passed eval_path equal to path: every eval row repeats a training row, 0 left to evaluate on
    session = _session(tmp_path, "support_queues")
    source = _write_csv(tmp_path / "emails.csv", _emails()[:25])
    ctx = ToolContext(session_dir=session, settings=FAST)
    same = _call(data_tools.import_data, ctx, path=str(source), mapping={"input": "email_text", "output": "queue"},
                 eval_path=str(source))
    assert same.is_error and "itself" in same.content and "Leave eval_path out" in same.content
    copy = _write_csv(tmp_path / "copy.csv", _emails()[:25])  # another file with the same rows
    again = _call(data_tools.import_data, ctx, path=str(source), mapping={"input": "email_text", "output": "queue"},
                  eval_path=str(copy))
    assert again.is_error and "no row of the eval file" in again.content
    assert not (session / importing.IMPORTED).exists()
