"""`tunesmith run SESSION`: replay an approved session headless (--yes or a policy file)."""

from __future__ import annotations

import argparse

HELP = "replay an approved session without the terminal app (needs --yes or --policy-file)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", help="the session to run (see `tunesmith sessions`)")
    parser.add_argument("--from", dest="from_step", metavar="STEP",
                        help="start again at this step (use_case, data, train, evaluate, export); later steps rerun too")
    parser.add_argument("--until", metavar="STEP", default="done",
                        help="stop when the session reaches this step (default: done, after export)")
    parser.add_argument("--max-turns", type=int, default=120, help="give up after this many turns (default 120)")


def main(args: argparse.Namespace) -> int:
    import asyncio

    from assistant.approvals import PolicyFileError
    from assistant.config import Settings
    from assistant.headless import Printer, drive
    from assistant.runtime import build_agent
    from assistant.session import SessionError, Workspace
    from skills.catalog import ORDER

    settings = Settings.from_args(args)
    try:
        session = Workspace(settings.workspace).open(args.session)
    except SessionError as exc:
        print(f"tunesmith run: {exc}")
        return 2
    try:
        session.lock()  # one writer: a second run (or the app) on this session is refused
        session.check_writable()
    except SessionError as exc:
        print(f"tunesmith run: {exc}")
        return 1
    for step in (args.from_step, args.until):
        if step and step not in ORDER and step != "done":
            print(f"tunesmith run: unknown step {step!r}; steps are {', '.join(ORDER)} (and 'done' for --until)")
            return 2
    if not settings.yes and not settings.policy_file:
        print("tunesmith run: no approvals are possible headless without --yes or --policy-file; "
              "calls that need approval will be rejected and the run stops there.")
    if args.from_step:
        session.meta.phase = args.from_step
        session.save_meta()
    printer = Printer()
    printer.line(f"session {session.name} at step {session.meta.phase} ({session.dir})")
    for problem in session.problems:
        printer.line(f"warning: {problem}")
    try:
        agent = build_agent(settings, session)
    except PolicyFileError as exc:
        print(f"tunesmith run: {exc}")
        return 2
    code = asyncio.run(drive(agent, None, printer=printer, goal_phase=args.until, max_turns=args.max_turns))
    printer.line(f"finished at step {session.meta.phase} with exit code {code}")
    return code
