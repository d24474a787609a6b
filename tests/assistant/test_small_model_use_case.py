"""A small local model drives the use-case step through the real `tunesmith run --describe`. Headless, every answer
of a planner served on this machine is started as a tool call (an assistant prefill, which llama.cpp continues, as
the loopback server does): the model names the tool and writes its arguments in the text, as Qwen2.5-Coder-1.5B under
llama.cpp does. It leaves out the labels the first time, leans on draft_use_case instead of filling write_use_case's
typed contract, writes "Approve." where a call belongs and a <tool_response> of its own. The session still ends the
step with the person's labels as written and an approved spec. Text calls in the other forms small models write
(Python-style, fenced JSON) are tests/assistant/test_textcalls.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
import pytest

from specs.use_case import UseCaseSpec
from specs.yamlio import load_spec
from assistant.runtime import LOCAL_CALL_PREFIX as PREFIX
from tests.loopback import LoopbackServer, Reply

ROOT = Path(__file__).resolve().parents[2]

DESCRIPTION = ("Sort the refill requests our pharmacy gets by phone and web so the pharmacists see the urgent ones "
               "first. We have no data yet.")
LABELS = ["URGENT", "ROUTINE", "TRANSFER", "QUESTION"]


def started(name: str, arguments: dict) -> str:
    """A call as the model writes it when its answer was started with PREFIX (the server sends what follows it)."""
    return PREFIX + name + '", "arguments": ' + json.dumps(arguments) + "}\n</tool_call>"


def _small_model_replies() -> list[Reply]:
    ask_task = {"question": "What should the model do with each request?",
                "choices": [f"Put it in one of these queues: {', '.join(LABELS)}", "Write a reply"], "allow_free_text": True}
    ask_approval = {"question": "I drafted use_case.yaml. Do you approve it?", "choices": ["Approve it", "Change the tenets"]}
    return [
        # the description, shortened: "sort" alone does not say which task, and the tool says to ask
        Reply(text=started("draft_use_case", {"description": "Sort pharmacy refill requests so urgent ones come first."})),
        Reply(text=started("ask_user", ask_task)),
        Reply(text=started("draft_use_case", {"description": f"{DESCRIPTION} Put it in one of these queues: "
                                                             f"{', '.join(LABELS)}. Used by the pharmacists."})),
        Reply(text=started("ask_user", ask_approval)),
        Reply(text="Approve."),  # started as a call, it wrote no tool name: dropped, and the next answer is free
        Reply(text="Approve."),  # ends the turn with neither a question nor a call
        Reply(text=started("approve_use_case", {})),
    ]


def _run_headless(tmp_path, replies, description, name):
    """The real `tunesmith run --describe` against the loopback server; returns the run and the requests sent."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-loopback-not-a-real-key",
           "TUNESMITH_QUALITY_EMBEDDINGS": "0"}
    for key in ("TUNESMITH_YES", "TUNESMITH_POLICY_FILE", "TUNESMITH_MODEL"):
        env.pop(key, None)
    with LoopbackServer(replies) as server:
        run = subprocess.run([sys.executable, "-m", "assistant.cli", "--workspace", str(tmp_path / "ws"), "run",
                              "--describe", description, "--until", "data", "--yes", "--session-name", name,
                              "--model", "openai/local", "--api-base", server.api_base],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        return run, server.requests


def test_a_small_model_writing_calls_as_text_gets_an_approved_use_case_with_the_labels_as_written(tmp_path):
    run, sent = _run_headless(tmp_path, _small_model_replies(), DESCRIPTION, "rx")
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "Traceback" not in out, out[-3000:]
    session = tmp_path / "ws" / "sessions" / "rx"
    spec = load_spec(session / "use_case.yaml", UseCaseSpec)
    assert spec.status == "approved" and spec.task_type == "classification"
    assert spec.contract.labels == LABELS and "pharmacists" in spec.primary_users.lower()
    records = [json.loads(line) for line in (session / "conversation.jsonl").read_text().splitlines()]
    calls = [c["function"]["name"] for r in records if r["type"] == "assistant" for c in r["message"].get("tool_calls") or []]
    assert calls == ["draft_use_case", "ask_user", "draft_use_case", "ask_user", "approve_use_case"]
    assert sum(1 for r in records if r.get("recovered_from_text")) == 5
    # the first draft failed and said why; the model saw that message in its next request
    tool_replies = [m for m in sent[1]["messages"] if m["role"] == "tool"]
    assert "does not say what kind of task" in tool_replies[-1]["content"]
    assert not (session / "use_case.yaml").read_text().count("generation")
    assert "draft_use_case" in {t["function"]["name"] for t in sent[0]["tools"]}
    # every answer was started as a call, except the one after the started call it did not finish
    assert [i for i, body in enumerate(sent) if body["messages"][-1] != {"role": "assistant", "content": PREFIX}] == [1, 5]
    # after the failed draft, the answer was started on the call its error named: ask the person what the task is
    assert sent[1]["messages"][-1]["content"].startswith(PREFIX + 'ask_user", "arguments": {"question": "What should')
    assert "began a tool call but it could not be read" in sent[5]["messages"][-1]["content"]
    # after "Approve." alone, the headless run tells the model nobody will answer and names the call
    last_user = [m for m in sent[6]["messages"] if m["role"] == "user"][-1]["content"]
    assert last_user.startswith("continue. Nobody is at the keyboard") and "Call this next: approve_use_case()" in last_user


def test_draft_use_case_reads_the_persons_own_words_when_the_models_paraphrase_lost_the_labels(tmp_path):
    # Qwen2.5-Coder-1.5B passed "Draft a use_case.yaml for the task of reading the CSV file and routing tickets to
    # the appropriate queue": no labels. The person's message in the session has them, and they win.
    from assistant.records import user_record
    from assistant.session import Workspace
    from skills.toolkit import ToolContext
    from skills.use_case.tools import draft_use_case

    session = Workspace(tmp_path / "ws").create("it")
    session.append(user_record("Route our IT helpdesk tickets to one of five queues: hardware, software, network, "
                               "access, other. Our service desk agents use it."))
    session.append(user_record("continue. Nobody is at the keyboard in this headless run, so do not wait for me: "
                               "call the next tool of this step."))
    ctx = ToolContext(session_dir=session.dir)
    paraphrase = ("Draft a use_case.yaml for the task of reading the CSV file and routing tickets to the appropriate "
                  "queue based on the ticket type.")
    result = draft_use_case.run(ctx, draft_use_case.validate({"description": paraphrase}))
    assert not result.is_error, result.content
    spec = load_spec(session.dir / "use_case.yaml", UseCaseSpec)
    assert spec.task_type == "classification" and spec.contract.labels == ["hardware", "software", "network", "access", "other"]
    assert "IT helpdesk ticket" in spec.name and spec.task_type != "tool_calling"  # the nudge's words are not read


COMMENTS = ("Label the comments people leave on our recipe site as PRAISE, COMPLAINT or QUESTION, so the editors "
            "answer questions first. We have no data yet.")


def test_a_model_that_writes_the_persons_reply_itself_is_told_to_call_a_tool_and_gets_the_ending_tool_named(tmp_path):
    # Qwen2.5-Coder-1.5B under llama.cpp, after a draft, wrote the template's tool-result block itself with a made-up
    # approval in it, then a bare "Approve.". Neither may count: the made-up reply is dropped, the model is told that
    # only tunesmith writes tool results, and the headless nudge names the call to make.
    replies = [
        Reply(text=started("draft_use_case", {"description": COMMENTS})),
        Reply(text='<tool_response>\nThe person replied: "Approve it".\n</tool_response>'),
        Reply(text=started("ask_user", {"question": "Do you approve use_case.yaml?",
                                        "choices": ["Approve it", "Change the labels"]})),
        Reply(text=started("approve_use_case", {})),
    ]
    run, sent = _run_headless(tmp_path, replies, COMMENTS, "recipes")
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "Traceback" not in out, out[-3000:]
    session = tmp_path / "ws" / "sessions" / "recipes"
    spec = load_spec(session / "use_case.yaml", UseCaseSpec)
    assert spec.status == "approved" and spec.contract.labels == ["PRAISE", "COMPLAINT", "QUESTION"]
    records = [json.loads(line) for line in (session / "conversation.jsonl").read_text().splitlines()]
    said = [r["message"].get("content") or "" for r in records if r["type"] == "assistant"]
    assert not any("The person replied" in text for text in said)  # the made-up approval is not in the log
    told = [m["content"] for m in sent[2]["messages"] if m["role"] == "user"][-1]
    assert "<tool_response> itself" in told and "approve_use_case" in told
    assert not any("The person replied" in (m.get("content") or "") for m in sent[2]["messages"])
    assert all(body["messages"][-1] == {"role": "assistant", "content": PREFIX} for body in sent)
    calls = [c["function"]["name"] for r in records if r["type"] == "assistant" for c in r["message"].get("tool_calls") or []]
    assert calls == ["draft_use_case", "ask_user", "approve_use_case"]
    assert [r.get("prefilled") for r in records if r["type"] == "assistant"] == [PREFIX] * 3
    # served on this machine: the system prompt stays the same through the step (the server reuses its cache) and
    # the session's files, which the draft changed, travel at the end of the request
    assert sent[0]["messages"][0] == sent[1]["messages"][0] == sent[3]["messages"][0]
    assert "Files in the session folder" not in sent[1]["messages"][0]["content"]
    last = [m for m in sent[1]["messages"] if m["role"] in ("user", "tool")][-1]["content"]
    assert last.endswith("(tunesmith) Files in the session folder now:\n- use_case.yaml")
    first = [m for m in sent[0]["messages"] if m["role"] == "user"][-1]["content"]
    assert first.startswith(COMMENTS) and first.endswith("Files in the session folder now:\n(none yet)")
    logged = [r["message"]["content"] for r in records if r["type"] == "user"]
    assert not any("Files in the session folder" in text for text in logged)  # the note is not logged


def _one_turn(replies, prefix=PREFIX):
    """One turn of a real Agent with the litellm model against the loopback server (not headless: answers are free
    unless the agent insists); returns the events and the requests sent."""
    import asyncio
    import tempfile

    from assistant.agent import Agent
    from assistant.model import LitellmModel
    from assistant.session import Workspace
    from skills.common_tools import ask_user

    os.environ.setdefault("OPENAI_API_KEY", "sk-loopback-not-a-real-key")
    with LoopbackServer(replies) as server, tempfile.TemporaryDirectory() as folder:
        session = Workspace(Path(folder)).create("x")
        agent = Agent(session, LitellmModel("openai/local", api_base=server.api_base, max_retries=0, call_prefix=prefix),
                      [ask_user])

        async def turn():
            return [event async for event in agent.send("Sort the comments on our recipe site.")]

        return asyncio.run(turn()), server.requests


def test_a_model_that_ends_its_turn_empty_is_started_on_a_tool_call_and_a_hosted_one_never_is(tmp_path):
    # Qwen2.5-Coder-1.5B under llama.cpp, told the data step was not open yet, answered with nothing (one token, end
    # of turn), and again when told to call a tool. Started as a tool call it named one and wrote its arguments.
    ask = {"question": "Which labels should the comments get?", "choices": ["PRAISE, COMPLAINT, QUESTION"]}
    events, sent = _one_turn([Reply(text=""), Reply(text=started("ask_user", ask))])
    assert sent[0]["messages"][-1]["role"] == "user"  # a free answer first
    told = [m["content"] for m in sent[1]["messages"] if m["role"] == "user"][-1]
    assert "Your last reply was empty" in told and sent[1]["messages"][-1] == {"role": "assistant", "content": PREFIX}
    assert [e.text for e in events if type(e).__name__ == "Question"] == [ask["question"]]
    # a model with no call prefix is sent the same request again, unstarted
    events, sent = _one_turn([Reply(text=""), Reply(text="Which labels should the comments get?")], prefix=None)
    assert [body["messages"][-1]["role"] for body in sent] == ["user", "user"]
    # a hosted planner (no api_base on this machine) is never prefilled: its provider's API has no such turn
    from assistant.config import Settings
    from assistant.runtime import build_model
    from assistant.session import Workspace

    session = Workspace(tmp_path / "hosted").create("h")
    assert build_model(Settings(workspace=tmp_path / "hosted", model="openai/gpt-4.1"), session).call_prefix is None
    assert build_model(Settings(workspace=tmp_path / "hosted", model="openai/qwen",
                                api_base="http://127.0.0.1:8080/v1"), session).call_prefix == PREFIX


def test_a_started_call_the_model_does_not_finish_is_dropped_with_a_hint_and_not_started_again():
    replies = [Reply(text=""), Reply(text="sorry, I need more information"), Reply(text="What should I do next?")]
    events, sent = _one_turn(replies)
    assert len(sent) == 3 and [body["messages"][-1]["role"] for body in sent] == ["user", "assistant", "user"]
    told = [m["content"] for m in sent[2]["messages"] if m["role"] == "user"][-1]
    assert "began a tool call but it could not be read" in told
    assert events[-1].reason == "answer"


def test_a_model_going_back_and_forth_between_steps_is_stopped_on_the_third_refusal_in_the_turn(tmp_path):
    # Qwen2.5-Coder-1.5B after its draft: go_to_step("data") (refused: the step is not open), go_to_step("use_case")
    # (already there: it changes nothing), and again, never ending its turn. The repeat guard counts the same failing
    # call across the turn, not only back to back.
    import asyncio
    import io

    from assistant.config import Settings
    from assistant.headless import EXIT_FAILED, Printer, drive
    from assistant.runtime import build_agent
    from assistant.session import Workspace
    from tests.loopback import ToolCallSpec

    replies = [Reply(tool_calls=[ToolCallSpec("draft_use_case", {"description": COMMENTS})])]
    for _ in range(4):
        replies += [Reply(tool_calls=[ToolCallSpec("go_to_step", {"step": "data"})]),
                    Reply(tool_calls=[ToolCallSpec("go_to_step", {"step": "use_case"})])]
    os.environ.setdefault("OPENAI_API_KEY", "sk-loopback-not-a-real-key")
    with LoopbackServer(replies) as server:
        settings = Settings.load({}, workspace=str(tmp_path / "ws"), model="openai/local", api_base=server.api_base,
                                 yes=True, timeout=30)
        agent = build_agent(settings, Workspace(tmp_path / "ws").create("back_and_forth"))
        out = io.StringIO()
        code = asyncio.run(drive(agent, COMMENTS, printer=Printer(out), goal_phase="data", max_turns=4))
        sent = server.requests
    assert code == EXIT_FAILED and "same failing call to go_to_step 3 times in one turn" in out.getvalue(), out.getvalue()
    tool_replies = [m["content"] for m in sent[-1]["messages"] if m["role"] == "tool"]
    assert "not open yet" in tool_replies[-2] and "changed nothing" in tool_replies[-1]
    assert len(sent) == 1 + 5  # the third refusal was not run and ended the turn; the rest of the script was unused


@pytest.mark.parametrize("wrote", ["", "}"], ids=["name_only", "closing_brace"])
def test_after_a_refused_call_the_hinted_call_is_started_and_its_arguments_mended_and_broken_ones_never_resent(tmp_path, wrote):
    # Qwen2.5-Coder-1.5B under llama.cpp: after a refused go_to_step, its answer is started as the call the session's
    # files point to (ask_user for the approval). llama.cpp takes the tool's name from that start but the arguments
    # only from what the model wrote after it, without the opening brace the start holds; and once one call with
    # arguments that are no JSON object is in the history, llama.cpp refuses every request (HTTP 500).
    from tests.loopback import ToolCallSpec

    def llama_cpp_history_check(body):
        for message in body.get("messages", []):
            for call in message.get("tool_calls") or []:
                try:
                    json.loads(call["function"]["arguments"])
                except ValueError:
                    return Reply(fault="500", text="Failed to parse tool call arguments as JSON")
        return None

    question = "Do you approve use_case.yaml as it is now?"
    replies = [
        Reply(text=started("draft_use_case", {"description": COMMENTS})),
        Reply(text=started("go_to_step", {"step": "data"})),
        # started with the hint's own arguments, closed, the model ended the call: llama.cpp streams the name alone
        # (seen with Qwen2.5-Coder-1.5B), or what the model wrote after the start (a stray closing brace)
        Reply(tool_calls=[ToolCallSpec("ask_user", wrote)]),
        Reply(tool_calls=[ToolCallSpec("approve_use_case", "}")]),  # no JSON object: refused, and kept in the log
        Reply(tool_calls=[ToolCallSpec("approve_use_case", {})]),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-loopback-not-a-real-key",
           "TUNESMITH_QUALITY_EMBEDDINGS": "0"}
    for key in ("TUNESMITH_YES", "TUNESMITH_POLICY_FILE", "TUNESMITH_MODEL"):
        env.pop(key, None)
    with LoopbackServer(replies, responder=llama_cpp_history_check) as server:
        run = subprocess.run([sys.executable, "-m", "assistant.cli", "--workspace", str(tmp_path / "ws"), "run",
                              "--describe", COMMENTS, "--until", "data", "--yes", "--session-name", "steer",
                              "--model", "openai/local", "--api-base", server.api_base],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        sent = server.requests
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "Traceback" not in out and "Failed to parse" not in out, out[-3000:]
    named = ('<tool_call>\n{"name": "ask_user", "arguments": {'
             f'"question": "{question}", "choices": ["Approve it", "Change something"]}}')
    refused = [m["content"] for m in sent[2]["messages"] if m["role"] == "tool"][-1]
    assert "not open yet" in refused and f'Call this next: ask_user(question="{question}"' in refused
    assert sent[2]["messages"][-1] == {"role": "assistant", "content": named}  # the hinted call, started
    assert sent[3]["messages"][-1] == {"role": "assistant", "content": PREFIX}  # a question answered: a free call
    # the hinted tool's own call failed: the model mends it, its answer is not started as another call
    assert sent[4]["messages"][-1] == {"role": "assistant", "content": PREFIX}
    broken = [c for m in sent[4]["messages"] for c in m.get("tool_calls") or [] if c["function"]["name"] == "approve_use_case"]
    assert broken and broken[-1]["function"]["arguments"] == "{}"  # sent as an object
    kept = [json.loads(line) for line in (tmp_path / "ws" / "sessions" / "steer" / "conversation.jsonl").read_text().splitlines()]
    assert any(c["function"]["arguments"] == "}" for r in kept if r["type"] == "assistant"
               for c in r["message"].get("tool_calls") or [])  # the log keeps what it wrote
    session = tmp_path / "ws" / "sessions" / "steer"
    questions = [json.loads(line) for line in (session / "conversation.jsonl").read_text().splitlines()]
    assert [q["text"] for q in questions if q["type"] == "question"] == [question]
    assert load_spec(session / "use_case.yaml", UseCaseSpec).status == "approved"


def test_a_call_started_with_the_hints_arguments_that_the_server_cannot_read_is_started_again_by_name_only(tmp_path):
    # Qwen2.5-Coder-1.5B, its answer started as write_data_generation_spec with {"changes": {"train_count": 120},
    # went on with '"}}' and llama.cpp answered HTTP 500 ("unparsed peg-native output"); the same start again
    # would give the same answer, so the call is started again by name only and the model writes the arguments
    from tests.loopback import ToolCallSpec

    question = "Do you approve use_case.yaml as it is now?"

    def unreadable_after_the_arguments(body):
        last = body.get("messages", [{}])[-1]
        if last.get("role") == "assistant" and '"question":' in str(last.get("content")):
            return Reply(fault="500", text="The model produced output that does not match the expected peg-native format")
        return None

    replies = [
        Reply(text=started("draft_use_case", {"description": COMMENTS})),
        Reply(text=started("go_to_step", {"step": "data"})),
        Reply(tool_calls=[ToolCallSpec("ask_user", f' "question": "{question}", "choices": ["Approve it", "Change it"] }}')]),
        Reply(tool_calls=[ToolCallSpec("approve_use_case", {})]),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-loopback-not-a-real-key",
           "TUNESMITH_QUALITY_EMBEDDINGS": "0"}
    for key in ("TUNESMITH_YES", "TUNESMITH_POLICY_FILE", "TUNESMITH_MODEL"):
        env.pop(key, None)
    with LoopbackServer(replies, responder=unreadable_after_the_arguments) as server:
        run = subprocess.run([sys.executable, "-m", "assistant.cli", "--workspace", str(tmp_path / "ws"), "run",
                              "--describe", COMMENTS, "--until", "data", "--yes", "--session-name", "args",
                              "--model", "openai/local", "--api-base", server.api_base],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        sent = server.requests
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "Traceback" not in out, out[-3000:]
    named = '<tool_call>\n{"name": "ask_user", "arguments": {'
    assert sent[2]["messages"][-1]["content"].startswith(named + f'"question": "{question}"')  # refused by the server
    assert sent[3]["messages"][-1] == {"role": "assistant", "content": named}  # the same call, by name only
    assert "starting the call ask_user" in out
    session = tmp_path / "ws" / "sessions" / "args"
    records = [json.loads(line) for line in (session / "conversation.jsonl").read_text().splitlines()]
    assert [r["text"] for r in records if r["type"] == "question"] == [question]
    assert load_spec(session / "use_case.yaml", UseCaseSpec).status == "approved"


def test_a_tool_of_another_step_that_the_server_cannot_read_is_asked_again_with_the_files_next_call_started(tmp_path):
    # Qwen2.5-Coder-1.5B under llama.cpp wrote go_to_step when that tool was not in the request; the server answered
    # HTTP 500 "The model produced output that does not match the expected peg-native format", and five identical
    # retries gave five identical failures (exit 1). The loopback server fails the same way for a tool not offered.
    named = '<tool_call>\n{"name": "draft_use_case", "arguments": {'
    replies = [
        Reply(text=started("recommend_technique", {})),  # a train-step tool in the use-case step: the server fails
        Reply(text=named + '"description": ' + json.dumps(COMMENTS) + "}}\n</tool_call>"),
        Reply(text=started("ask_user", {"question": "Do you approve use_case.yaml?", "choices": ["Approve it", "Change it"]})),
        Reply(text=started("approve_use_case", {})),
    ]
    run, sent = _run_headless(tmp_path, replies, COMMENTS, "unread")
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "Traceback" not in out and "gave up" not in out, out[-3000:]
    assert "could not read its answer; asking again, starting the call draft_use_case" in out
    assert sent[0]["messages"][-1] == {"role": "assistant", "content": PREFIX}
    assert sent[1]["messages"][-1] == {"role": "assistant", "content": named}  # the same request, started by name
    session = tmp_path / "ws" / "sessions" / "unread"
    assert load_spec(session / "use_case.yaml", UseCaseSpec).status == "approved"
    records = [json.loads(line) for line in (session / "conversation.jsonl").read_text().splitlines()]
    calls = [c["function"]["name"] for r in records if r["type"] == "assistant" for c in r["message"].get("tool_calls") or []]
    assert calls == ["draft_use_case", "ask_user", "approve_use_case"]


def test_refusals_with_progress_between_them_are_no_loop(tmp_path):
    # The real 1.5B planner in the data step: go_to_step("train") (refused) between generate_data, the wait and the
    # quality report, three times in one turn, and the repeat guard stopped a run that was getting somewhere. A call
    # that writes a file starts the count again; refusals with nothing done between still stop (the test above).
    import asyncio
    import io

    from assistant.config import Settings
    from assistant.headless import EXIT_OK, Printer, drive
    from assistant.runtime import build_agent
    from assistant.session import Workspace
    from tests.loopback import ToolCallSpec

    from assistant.headless import EXIT_FAILED

    refused = Reply(tool_calls=[ToolCallSpec("go_to_step", {"step": "data"})])

    draft = Reply(tool_calls=[ToolCallSpec("draft_use_case", {"description": COMMENTS})])

    def update(users):  # another change each time: another spec, another result
        return Reply(tool_calls=[ToolCallSpec("update_use_case", {"changes": {"primary_users": users}})])

    approve = [Reply(tool_calls=[ToolCallSpec("ask_user", {"question": "Approve use_case.yaml?", "choices": ["Approve it"]})]),
               Reply(tool_calls=[ToolCallSpec("approve_use_case", {})])]

    def run(replies, name):
        os.environ.setdefault("OPENAI_API_KEY", "sk-loopback-not-a-real-key")
        with LoopbackServer(replies) as server:
            settings = Settings.load({}, workspace=str(tmp_path / "ws"), model="openai/local", api_base=server.api_base,
                                     yes=True, timeout=30)
            agent = build_agent(settings, Workspace(tmp_path / "ws").create(name))
            out = io.StringIO()
            return asyncio.run(drive(agent, COMMENTS, printer=Printer(out), goal_phase="data", max_turns=4)), out.getvalue()

    code, out = run([draft, refused, update("the editors"), refused, update("the moderators"),
                     refused, *approve], "progress")
    assert code == EXIT_OK and "same failing call" not in out, out
    assert out.count("not open yet") == 3
    # the same draft again and again writes the same file with the same result: no progress; the third refusal stops
    code, out = run([draft, refused, draft, refused, draft, refused, *approve], "same")
    assert code == EXIT_FAILED and "same failing call to go_to_step 3 times in one turn" in out, out


def test_a_local_planner_reads_only_the_persons_first_words_and_its_step_after_the_step_changes(tmp_path):
    # a model served on this machine: llama.cpp reads again every token after the first one that changed, and the
    # system prompt (the step's playbook) changes at the top with each step: the real Qwen2.5-Coder-1.5B planner
    # waited up to 5 minutes on the first request of a step (8,400 tokens of earlier steps at 30 tokens/s); the
    # files say what those steps made, and the log keeps all of it
    import asyncio
    import io

    from assistant.config import Settings
    from assistant.headless import Printer, drive
    from assistant.runtime import build_agent
    from assistant.session import Workspace
    from tests.loopback import ToolCallSpec

    question = "Do you approve use_case.yaml as it is now?"
    replies = [Reply(tool_calls=[ToolCallSpec("draft_use_case", {"description": COMMENTS})]),
               Reply(tool_calls=[ToolCallSpec("ask_user", {"question": question, "choices": ["Approve it", "Change it"]})]),
               Reply(tool_calls=[ToolCallSpec("approve_use_case", {})]),
               Reply(tool_calls=[ToolCallSpec("go_to_step", {"step": "train"})])]
    os.environ.setdefault("OPENAI_API_KEY", "sk-loopback-not-a-real-key")
    with LoopbackServer(replies) as server:
        settings = Settings.load({}, workspace=str(tmp_path / "ws"), model="openai/local", api_base=server.api_base,
                                 yes=True, timeout=30)
        session = Workspace(tmp_path / "ws").create("steps")
        agent = build_agent(settings, session)
        asyncio.run(drive(agent, COMMENTS, printer=Printer(io.StringIO()), goal_phase="train", max_turns=3))
        sent = server.requests
    in_use_case, in_data = sent[2]["messages"], sent[3]["messages"]
    assert [m["role"] for m in in_use_case[1:]][:3] == ["user", "assistant", "tool"]  # its own step: all of it
    assert "Data" in in_data[0]["content"] or "data" in in_data[0]["content"]
    assert [m["role"] for m in in_data[1:]] == ["user"]  # the person's words; no call or result of the use_case step
    assert in_data[1]["content"].startswith(COMMENTS) and "Files in the session folder now" in in_data[1]["content"]
    assert "use_case.yaml" in in_data[1]["content"]
    after = sent[4]["messages"]
    assert [m["role"] for m in after[1:]] == ["user", "assistant", "tool"]  # then this step's own calls
    assert after[1]["content"] == COMMENTS and after[2]["tool_calls"][0]["function"]["name"] == "go_to_step"
    log = session.messages()
    assert [m["role"] for m in log].count("tool") >= 4  # the log keeps every step
