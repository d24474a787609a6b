"""A scripted LLM planner for journey tests: its replies, written for these tests (not taken from the
guided planner), and the loopback responders that play the teacher and the judge.

The planner speaks through real litellm streaming from tests/loopback.py; the teacher and the judge
are the same server, told apart by their model names.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.loopback import Reply, ToolCallSpec

PLANNER, TEACHER, JUDGE = "openai/planner", "openai/teacher", "openai/judge"
LABELS = ["billing", "bug", "feature_request", "other"]
DESCRIPTION = "I need a model that sorts our customer support emails into billing, bug, feature_request or other."

USE_CASE = {
    "name": "Support email router",
    "business_problem": "Support emails arrive in one inbox; a triage bot must route each to the right queue.",
    "primary_users": "The triage bot of the support team",
    "task_type": "classification",
    "contract": {
        "input_description": "One customer support email: subject and body",
        "output_description": "The queue the email belongs to",
        "output_format": "label",
        "labels": LABELS,
        "system_prompt": "Route the support email. Answer with one of: billing, bug, feature_request, other.",
    },
    "success_tenets": [
        {"name": "right_queue", "description": "The answer is the queue a support lead would choose.",
         "measured_by": "code", "metric": "label_match"},
        {"name": "label_only", "description": "The answer is exactly one queue name and nothing else.",
         "measured_by": "code", "metric": "regex", "params": {"pattern": "^(billing|bug|feature_request|other)$"}},
        {"name": "sensible_for_unclear", "description": "Unclear emails go to other rather than a guess.",
         "measured_by": "judge", "rubric": "Score 1 when an email that fits no queue is routed to other, 0 when "
                                           "the answer guesses a queue the email does not support."},
    ],
    "constraints": ["English emails only"],
}

WRONG_TYPES = {**USE_CASE, "task_type": "sorting", "success_tenets": "right queue, label only, sensible"}
MISSING_CONTRACT = {key: value for key, value in USE_CASE.items() if key != "contract"}


def say(text: str, **kwargs: Any) -> Reply:
    return Reply(text=text, **kwargs)


def call(name: str, arguments: dict[str, Any] | str | None = None, text: str = "", **kwargs: Any) -> Reply:
    return Reply(text=text, tool_calls=[ToolCallSpec(name, arguments if arguments is not None else {})], **kwargs)


def written_call(name: str, arguments: dict[str, Any]) -> Reply:
    """A tool call written as fenced JSON in the message text, as small local models do."""
    return Reply(text=f"I will ask that.\n```json\n{json.dumps({'name': name, 'arguments': arguments})}\n```")


def use_case_with_mistakes() -> list[tuple[str | None, list[Reply]]]:
    """(what the person says, the planner's replies until its turn ends) for the use-case step, with the
    mistakes real models make: no tool call when one was needed, a later step's tool, an unknown tool, a
    call written in the text, wrong argument types, a missing argument, the same failing call again."""
    return [
        (DESCRIPTION, [say("Thanks! I will now write the use case spec for you.")]),  # no call when one was needed
        ("Go ahead.", [
            call("start_training", {}, text="Let me start training right away."),      # a later step's tool
            call("classify_emails", {"labels": LABELS}),                             # no such tool
            written_call("ask_user", {"question": "Who uses the routed emails?",
                                      "choices": ["A triage bot", "Support agents"]}),  # JSON in the content
        ]),
        ("A triage bot.", [
            call("write_use_case", WRONG_TYPES),                                     # wrong argument types
            call("write_use_case", MISSING_CONTRACT),                                # a missing required argument
            call("write_use_case", MISSING_CONTRACT),                                # the same failing call again
            call("write_use_case", USE_CASE, text="Writing use_case.yaml."),
            say("use_case.yaml is written: four queues and three tenets. Approve it, or tell me what to change."),
        ]),
        ("I approve it.", [call("approve_use_case", {}), say("Approved. Next: seed examples and the data spec.")]),
    ]


def data_step(train_count: int = 60, eval_count: int = 12) -> list[tuple[str | None, list[Reply]]]:
    """Seeds, the data spec with the teacher, generation as a job, the quality gate."""
    changes = {"train_count": train_count, "eval_count": eval_count, "generator.kind": "teacher",
               "generator.model": TEACHER, "generator.concurrency": 2}
    return [
        ("Go on with the data.", [
            call("draft_seed_examples", {"count": 8, "use_teacher": True}, text="Drafting seed examples with the teacher."),
            call("write_data_generation_spec", {"changes": changes}),
            call("generate_data", {}, text="Generating the data with the teacher."),
            call("wait_for_data_generation", {}),
            call("finish_data_step", {}),
            say("The data passed the quality gate. Next: the training plan."),
        ]),
    ]


TOPICS = {
    "billing": ["charged twice", "refund for my invoice", "wrong VAT on the bill", "card declined at renewal",
                "cancel my subscription payment", "price went up without notice", "receipt missing"],
    "bug": ["app crashes when saving", "login page shows a blank screen", "export button does nothing",
            "sync deletes my notes", "notifications arrive twice", "search returns an error", "upload stuck at 99%"],
    "feature_request": ["please add dark mode", "could you support calendar sync", "we want bulk editing",
                        "add an API for reports", "offline mode would help", "let us pick a custom theme", "add two-factor login"],
    "other": ["question about your office hours", "where is your head office", "do you have a job opening",
              "thanks for the great support", "press inquiry for an article", "partnership proposal", "wrong department, sorry"],
}
PEOPLE = ["Ana", "Bilal", "Chen", "Dara", "Emeka", "Fatima", "Goran", "Hana", "Ivo", "Jun", "Kofi", "Lena", "Mateo"]
DETAILS = ["since Monday", "on my phone", "on the web version", "for our whole team", "after the last update",
           "every morning", "in the Berlin office", "on two accounts", "this week", "for the third time",
           "with the premium plan", "during the trial", "on a Windows laptop", "in the mobile app"]
ASKS = ["Can you help?", "Please advise.", "What should I do?", "Thanks in advance.", "Any news?", "Urgent, please.",
        "Looking forward to your answer.", "Kind regards."]


def _record(label: str | None) -> dict[str, str]:
    teacher_and_judge.count += 1
    n = teacher_and_judge.count
    label = label or LABELS[n % len(LABELS)]
    pick = lambda pool, k: pool[(n * k + n // len(pool)) % len(pool)]  # noqa: E731 (varied, deterministic)
    topic, person, detail, ask = pick(TOPICS[label], 3), pick(PEOPLE, 5), pick(DETAILS, 7), pick(ASKS, 11)
    # a number every few words: records never share long word sequences (the gate checks train/eval overlap)
    text = (f"Subject: {topic} #{n}\nHi, I am {person} from account {n * 37}. {topic.capitalize()} (order "
            f"{n * 31}) {detail}, case {n * 7919}. {ask} Ref {n * 13}.")
    return {"input": text, "output": label}


def train_evaluate_export(steps: int = 2) -> list[tuple[str | None, list[Reply]]]:
    """Technique, reward and its dry run, a few training steps, evaluation with the judge, export; with
    a wrong argument type and a later step's tool on the way."""
    return [
        ("Go on with training.", [
            call("recommend_technique", {}, text="First, which technique fits."),
            call("write_training_plan", {"technique": "rlvr", "adapter": "lora", "max_steps": "two"}),  # wrong type
            call("write_training_plan", {"technique": "rlvr", "adapter": "lora", "max_steps": steps, "batch_size": 2}),
            call("write_reward", {}, text="The reward comes from the tenets."),
            call("dry_run_reward", {"samples": 4}),
            # the base model earns no reward yet (it never answers with a queue name): RL would get no
            # signal, so SFT teaches the format first
            call("write_training_plan", {"technique": "sft", "adapter": "lora", "max_steps": steps, "batch_size": 2},
                 text="The base model gets no reward yet, so RL would learn nothing: SFT first."),
            say("training.yaml: SFT with LoRA, a few steps. Shall I start the training run?"),
        ]),
        ("Yes, start it.", [
            call("start_training", {}),
            call("wait_for_training", {}),
            say("Training finished. Next: evaluation against the base model."),
        ]),
        ("Evaluate it.", [
            call("export_model", {}, text="Exporting now."),                               # a later step's tool
            call("write_evaluation_spec", {"include_prompt_baseline": False, "max_examples": 4,
                                            "general_items": "8"}),  # a number as a string, as models write it
            call("run_evaluation", {}),
            call("wait_for_evaluation", {}),
            say("The evaluation report is ready: base and tuned per tenet. Shall I go on to the export?"),
        ]),
        ("Yes, export it.", [
            call("finish_evaluation", {}),
            call("write_export_spec", {"formats": ["hf_merged", "ollama", "vllm"]}),
            call("export_model", {}),
            say("Exported: the merged model folder, an Ollama Modelfile and a vLLM command, linked to the spec."),
        ]),
    ]


_LABEL = re.compile(r"\b(" + "|".join(LABELS) + r")\b")


def teacher_and_judge(body: dict[str, Any]) -> Reply | None:
    """Answers for the teacher (a JSON record for the label its prompt names) and the judge (a score);
    None for the planner, whose replies are the script."""
    model = str(body.get("model", ""))
    prompt = str((body.get("messages") or [{}])[-1].get("content", ""))
    if model.endswith("teacher"):
        many = re.search(r"Write (\d+) diverse examples as a JSON list", prompt)
        if many:  # seed examples: a list
            return Reply(text=json.dumps([_record(LABELS[i % len(LABELS)]) for i in range(int(many.group(1)))]))
        wanted = [line for line in prompt.splitlines() if line.startswith("This example must have:")]
        found = _LABEL.findall(wanted[0]) if wanted else []
        return Reply(text=json.dumps(_record(found[0] if found else None)), prompt_tokens=120, completion_tokens=40)
    if model.endswith("judge"):
        return Reply(text="The email is routed as the rubric asks.\nSCORE: 5", prompt_tokens=200, completion_tokens=12)
    return None


teacher_and_judge.count = 0  # type: ignore[attr-defined]
