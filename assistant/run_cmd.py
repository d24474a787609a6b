"""`tunesmith run SESSION`: replay an approved session headless (--yes or a policy file).
`tunesmith run --describe TEXT [--data FILE]`: start a new session headless from a description."""

from __future__ import annotations

import argparse

HELP = "replay an approved session without the terminal app (needs --yes or --policy-file)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", nargs="?", help="the session to run (see `tunesmith sessions`); omit with --describe")
    parser.add_argument("--describe", metavar="TEXT",
                        help="start a new session from this description of the task (instead of a session name)")
    parser.add_argument("--data", metavar="FILE", help="with --describe: the person's own data file or folder")
    parser.add_argument("--session-name", metavar="NAME", help="with --describe: name of the new session")
    parser.add_argument("--from", dest="from_step", metavar="STEP",
                        help="start again at this step (use_case, data, train, evaluate, export); later steps rerun too")
    parser.add_argument("--until", metavar="STEP", default="done",
                        help="stop when the session reaches this step (default: done, after export)")
    parser.add_argument("--max-turns", type=int, default=120, help="give up after this many turns (default 120)")


def main(args: argparse.Namespace) -> int:
    import asyncio

    from assistant.approvals import PolicyFileError, load_policy_file
    from assistant.config import Settings
    from assistant.headless import Printer, drive
    from assistant.runtime import build_agent
    from assistant.session import SessionError, Workspace

    problem = _usage_problem(args)
    if problem:
        print(f"tunesmith run: {problem}")
        return 2
    settings = Settings.from_args(args)
    if args.describe is not None and settings.policy_file:
        try:  # checked before a new session is made for nothing
            load_policy_file(settings.policy_file)
        except PolicyFileError as exc:
            print(f"tunesmith run: {exc}")
            return 2
    first_message = None
    try:
        if args.describe is not None:
            session, first_message = _new_session(Workspace(settings.workspace), args, settings)
        else:
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
    if first_message:
        printer.line(f"person: {first_message}")
    if not settings.offline:  # headless, nobody reads an LLM planner's words: each answer is a call
        from assistant.next_call import next_call

        agent.calls_only = True
        agent.hint = lambda s: next_call(s.dir, s.meta.phase)
    from assistant.headless import first_choice, first_choice_or_decide, go_on_for

    code = asyncio.run(drive(agent, first_message, printer=printer, goal_phase=args.until, max_turns=args.max_turns,
                             go_on="continue" if settings.offline else go_on_for,
                             answer=first_choice if settings.offline else first_choice_or_decide))
    printer.line(f"finished at step {session.meta.phase} with exit code {code}")
    if session.meta.usage.prompt_tokens:  # an LLM planner ran (the offline one spends no tokens)
        printer.line("planner usage:")
        for line in session.meta.usage.report():
            printer.line(f"  {line}")
    return code


def _usage_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the command line, before anything is created."""
    from pathlib import Path

    from skills.catalog import ORDER

    if args.describe is not None and args.session:
        return (f"give a session name ({args.session!r}) or --describe, not both: --describe starts a new session, "
                "a name replays an existing one")
    if args.describe is None and not args.session:
        return "name a session to replay (see `tunesmith sessions`), or start a new one with --describe TEXT"
    if args.describe is not None and not args.describe.strip():
        return "--describe needs a description of the task, e.g. --describe \"classify tickets into billing, bug, other\""
    if args.describe is None and (args.data or args.session_name or getattr(args, "name", None)):
        return "--data and --session-name (or --name) go with --describe (a new session); an existing session has its data already"
    if args.describe is not None and args.from_step:
        return "--from restarts a step of an existing session; a new session starts at the first step"
    if args.data and not Path(args.data).expanduser().exists():
        return f"--data {args.data}: no such file or folder"
    for step in (args.from_step, args.until):
        if step and step not in ORDER and step != "done":
            return f"unknown step {step!r}; steps are {', '.join(ORDER)} (and 'done' for --until)"
    return None


def _new_session(workspace, args: argparse.Namespace, settings) -> tuple:
    """A new session for the description, and the person's first message (naming the data file, if any)."""
    from pathlib import Path

    name = args.session_name or getattr(args, "name", None)  # `tunesmith --name N run --describe ...` names it too
    session = workspace.create(name, title=" ".join(args.describe.split())[:60], planner_model=settings.model)
    message = args.describe.strip()
    if args.data:
        message += f"\n\nMy data file: {Path(args.data).expanduser().resolve()}"
    return session, message

