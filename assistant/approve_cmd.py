"""`tunesmith approve SESSION`: show the pending approval card in the terminal and record the decision.

The decision is the person's: the command needs an interactive terminal (a client's shell tool or a
script has none unless it fakes one) and takes no --yes. It writes the decision where the session's writer (a running
`tunesmith mcp`, or the next one) takes it when the same call comes again, and records it in the log.
"""

from __future__ import annotations

import argparse
import sys

HELP = "show the approval a session waits for (from an MCP client) and decide it in the terminal"

KEYS = {"a": "allow_once", "A": "allow_always", "r": "reject_once", "R": "reject_always"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", help="the session waiting for an approval (see `tunesmith sessions`)")


def _ask(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


def main(args: argparse.Namespace) -> int:
    from assistant.approval_card import DECISION_LABELS, card_text
    from assistant.config import Settings
    from assistant.events import Decision
    from assistant.pending import BY_TERMINAL, person_only, pending_request, take_decision, write_decision
    from assistant.session import SessionError, Workspace
    from skills.toolkit import Waiver

    if getattr(args, "yes", False):
        print("tunesmith approve: --yes cannot decide for the person; run it without --yes", file=sys.stderr)
        return 2
    settings = Settings.from_args(args)
    try:
        session = Workspace(settings.workspace).open(args.session)
    except SessionError as exc:
        print(f"tunesmith approve: {exc}", file=sys.stderr)
        return 2
    request = pending_request(session.meta)
    if request is None:
        print(f"No approval is pending in session {session.name}.")
        return 1
    if not sys.stdin.isatty():
        print("tunesmith approve: the decision is the person's, so it needs an interactive terminal "
              f"(run `tunesmith approve {session.name}` in one)", file=sys.stderr)
        return 2
    only_person = person_only(request)
    print(f"Session {session.name} (step {session.meta.phase}) asks:\n")
    print(card_text(request.tool, request.arguments, request.preview, limit=200_000))
    keys = {key: kind for key, kind in KEYS.items() if not (only_person and kind.endswith("always"))}
    menu = "  ".join(f"[{key}] {DECISION_LABELS[kind]}" for key, kind in keys.items()) + "  [q] Leave it pending"
    print()
    while True:
        answer = _ask(menu + "\n> ")
        if answer is None or answer.strip() in ("q", ""):
            print("Left pending; nothing was decided.")
            return 1
        if answer.strip() in keys:
            kind = keys[answer.strip()]
            break
        print(f"Type one of {', '.join(keys)} or q.")
    waive: list[Waiver] = []
    findings = list(request.preview.get("findings") or [])
    if kind.startswith("allow") and findings:
        for finding in findings:
            if (_ask(f"Waive '{finding}'? [y/N] ") or "").strip().lower() in ("y", "yes"):
                waive.append(Waiver.parse(finding))
        if len(waive) < len(findings):
            print("Not allowed: allowing waives every blocking finding, and not all were waived. Left pending.")
            return 1
    comment = (_ask("Comment for the assistant (optional): ") or "").strip() or None
    take_decision(session.dir, request)  # a newer decision replaces an older one
    write_decision(session.dir, request, Decision(kind, comment, by=BY_TERMINAL, waive=waive))
    print(f"Recorded: {DECISION_LABELS[kind].lower()} for {request.tool}. The client's next call of {request.tool} "
          "with the same arguments takes it (it is written to the conversation log then).")
    return 0
