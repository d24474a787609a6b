"""The ``tunesmith`` command. Parsing imports nothing heavy, so ``tunesmith --help`` is instant;
each command imports what it needs when it runs.

More commands plug in through ``EXTRA_COMMANDS``: a module with ``add_arguments(parser)`` and
``main(args) -> int``. A command is listed only when its module exists, and its module is imported
only when that command is on the command line.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from typing import Any, Sequence

from assistant import __version__

EXTRA_COMMANDS: list[tuple[str, str, str]] = [
    ("run", "assistant.run_cmd", "replay an approved session headless (policy file or --yes)"),
    ("demo", "assistant.demo_cmd", "run the bundled bank-transaction demo end to end, headless"),
    ("lineage", "assistant.lineage_cmd", "print a session's lineage and check every hash"),
    ("mlflow", "assistant.mlflow_cmd", "start the MLflow UI on the workspace's tracking store"),
    ("mcp", "assistant.mcp_server", "serve a session to a coding agent (Claude Code, Cursor) over MCP on stdio"),
    ("approve", "assistant.approve_cmd", "decide the approval a session waits for, in the terminal"),
    ("sandbox", "assistant.sandbox_cmd", "how generated code is confined here; approve unconfined runs by hand"),
]
"""(command, module, one-line help). The module defines add_arguments(parser) and main(args) -> int."""

DESCRIPTION = """\
Agent-guided model customization: describe what a model should do; tunesmith writes the spec,
generates and checks data, trains, evaluates and exports, asking before anything costly."""

EPILOG = """\
With no command, tunesmith opens a new session in the terminal app.
LLM: --model openai/gpt-4.1 (or TUNESMITH_MODEL); keys come from the environment (OPENAI_API_KEY, ...).
Without a model, the offline guided planner runs."""


def _common_options() -> argparse.ArgumentParser:
    """Options every command accepts. Defaults are suppressed so a subcommand never hides a value
    given before it (``tunesmith --model X sessions`` and ``tunesmith sessions --model X`` agree)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("settings (flags win over environment variables)")
    add = group.add_argument
    add("--workspace", metavar="DIR", default=argparse.SUPPRESS,
        help="folder holding the sessions (env TUNESMITH_HOME; default ./tunesmith)")
    add("--model", metavar="MODEL", default=argparse.SUPPRESS,
        help="litellm model of the planner, e.g. openai/gpt-4.1, anthropic/..., ollama/... (env TUNESMITH_MODEL)")
    add("--api-base", metavar="URL", default=argparse.SUPPRESS,
        help="base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (env TUNESMITH_API_BASE)")
    add("--teacher-model", metavar="MODEL", default=argparse.SUPPRESS,
        help="model that writes training data (env TUNESMITH_TEACHER_MODEL; default: --model)")
    add("--judge-model", metavar="MODEL", default=argparse.SUPPRESS,
        help="model that judges outputs (env TUNESMITH_JUDGE_MODEL; default: --model)")
    add("--policy-file", metavar="FILE", default=argparse.SUPPRESS,
        help="standing approval rules for headless runs (env TUNESMITH_POLICY_FILE)")
    add("--train-minutes", metavar="MIN", type=float, default=argparse.SUPPRESS,
        help="cap each training run's planned time; steps are cut to fit (env TUNESMITH_TRAIN_MINUTES)")
    add("--train-min-steps", metavar="N", type=int, default=argparse.SUPPRESS,
        help="fewest steps a cut to --train-minutes may leave, however slow the machine is "
             "(env TUNESMITH_TRAIN_MIN_STEPS)")
    add("--teacher-minutes", metavar="MIN", type=float, default=argparse.SUPPRESS,
        help="minutes of data generation for a teacher served on this machine (loopback --api-base): one request "
             "is timed and the record counts fit that (env TUNESMITH_TEACHER_MINUTES; default 30)")
    add("--timeout", metavar="SECONDS", type=float, default=argparse.SUPPRESS,
        help="seconds to wait for a model's answer (planner, teacher, judge) before giving up on that request "
             "(env TUNESMITH_TIMEOUT; default 600, for local models on a CPU)")
    add("--no-quality-embeddings", dest="quality_embeddings", action="store_const", const=False,
        default=argparse.SUPPRESS,
        help="skip the embedding spread (a MiniLM subprocess) in the data quality report "
             "(env TUNESMITH_QUALITY_EMBEDDINGS=0)")
    add("--yes", "-y", action="store_true", default=argparse.SUPPRESS,
        help="allow every approval without asking (headless) / skip confirmations")
    return common


def _selected_extra(argv: Sequence[str]) -> str | None:
    names = {name for name, _, _ in EXTRA_COMMANDS}
    return next((token for token in argv if token in names), None)


def _module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The full parser. ``argv`` decides which extra command (if any) gets its arguments loaded."""
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="tunesmith",
        description=DESCRIPTION,
        epilog=EPILOG,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tunesmith {__version__}")
    parser.add_argument("--name", default=None, help="name of the new session (default: chosen for you)")
    parser.set_defaults(handler=_cmd_new)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    resume = commands.add_parser("resume", parents=[common], help="reopen a session where it stopped",
                                 description="Reopen a session: conversation, phase, pending approval and running jobs.")
    resume.add_argument("session", nargs="?", help="session name (default: pick one from a list)")
    resume.set_defaults(handler=_cmd_resume)

    sessions = commands.add_parser("sessions", parents=[common], help="list, rename or delete sessions",
                                   description="Without an action: a table of sessions, most recent first.")
    sessions.set_defaults(handler=_cmd_sessions_list)
    actions = sessions.add_subparsers(title="actions", metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help="table of sessions (the default)")
    listing.set_defaults(handler=_cmd_sessions_list)
    rename = actions.add_parser("rename", parents=[common], help="rename a session")
    rename.add_argument("old", help="current name")
    rename.add_argument("new", help="new name")
    rename.set_defaults(handler=_cmd_sessions_rename)
    delete = actions.add_parser("delete", parents=[common], help="delete a session and all its files (asks first)")
    delete.add_argument("session", help="session name")
    delete.set_defaults(handler=_cmd_sessions_delete)

    validate = commands.add_parser("validate", parents=[common], help="check spec files and report each problem",
                                   description="Check spec files (YAML syntax and schema). Exit 1 when any has a problem.")
    validate.add_argument("files", nargs="+", metavar="FILE", help="spec files, e.g. use_case.yaml")
    validate.set_defaults(handler=_cmd_validate)

    selected = _selected_extra(argv)
    for name, module, help_text in EXTRA_COMMANDS:
        if not _module_exists(module):
            continue
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(handler=_cmd_extra, extra_module=module)
        if name == selected:
            importlib.import_module(module).add_arguments(sub)
    return parser


QUIET_DEFAULTS = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # else importing litellm fetches a price list (slow offline)
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "TOKENIZERS_PARALLELISM": "false",
}
"""Environment defaults for the app and the jobs it starts; a value already set wins."""


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for name, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(name, value)
    args = build_parser(argv).parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `tunesmith run ... | head`: the reader left; the session on disk is intact
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as exc:  # a person gets a sentence, not a traceback
        from assistant.config import SettingsError
        from assistant.session import SessionError

        if isinstance(exc, SettingsError):
            print(f"tunesmith: {exc}", file=sys.stderr)
            return 2
        if isinstance(exc, SessionError):
            print(f"tunesmith: {exc}", file=sys.stderr)
            return 1
        raise


# -- commands ------------------------------------------------------------------------------
def _settings(args: argparse.Namespace) -> Any:
    from assistant.config import settings_from_args

    return settings_from_args(args)


def _workspace(args: argparse.Namespace) -> Any:
    from assistant.session import Workspace

    return Workspace(_settings(args).workspace)


def launch_app(settings: Any, session: Any, resume: bool) -> Any:
    """Start the terminal app (textual loads here, never at import)."""
    from assistant.tui.app import run_app

    return run_app(settings, session, resume=resume)


def has_terminal() -> bool:
    """Whether the app can draw and read keys here (stdin and stdout are a terminal)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


NO_TERMINAL = ("the terminal app needs a terminal (stdin and stdout are not one here); "
               "for a headless run use `tunesmith run NAME` with --yes or --policy-file")


def _run_app(settings: Any, session: Any, resume: bool) -> int:
    try:
        if session is not None:
            session.lock()  # one writer per session: a second app or run would interleave the log
            session.check_writable()
        return int(launch_app(settings, session, resume) or 0)
    finally:
        if session is not None:
            session.close()


def _cmd_new(args: argparse.Namespace) -> int:
    from assistant.session import Workspace

    settings = _settings(args)
    if not has_terminal():
        print(f"tunesmith: {NO_TERMINAL}", file=sys.stderr)
        return 2
    session = Workspace(settings.workspace).create(args.name, planner_model=settings.model)
    return _run_app(settings, session, resume=False)


def _cmd_resume(args: argparse.Namespace) -> int:
    from assistant.session import Workspace

    settings = _settings(args)
    workspace = Workspace(settings.workspace)
    if args.session:
        session = workspace.open(args.session)
        if not has_terminal():
            print(f"tunesmith resume: {NO_TERMINAL}", file=sys.stderr)
            return 2
        return _run_app(settings, session, resume=True)
    metas = workspace.list()
    if not metas:
        print(f"No sessions in {workspace.sessions_dir}. Start one with: tunesmith", file=sys.stderr)
        return 1
    if not has_terminal():
        print(_table(metas))
        print("\nNo terminal to pick in: run `tunesmith resume NAME` with one of the names above.", file=sys.stderr)
        return 2
    return _run_app(settings, None, resume=True)


def _cmd_sessions_list(args: argparse.Namespace) -> int:
    workspace = _workspace(args)
    metas = workspace.list()
    if not metas:
        print(f"No sessions in {workspace.sessions_dir}. Start one with: tunesmith")
        return 0
    print(_table(metas))
    return 0


def _cmd_sessions_rename(args: argparse.Namespace) -> int:
    session = _workspace(args).rename(args.old, args.new)
    print(f"Renamed {args.old} -> {session.name}")
    return 0


def _cmd_sessions_delete(args: argparse.Namespace) -> int:
    workspace = _workspace(args)
    session = workspace.open(args.session)
    session.lock()  # refuses while an app has the session open
    if not getattr(args, "yes", False):
        prompt = f"Delete session {session.name} and every file in {session.dir}? [y/N] "
        try:
            answer = input(prompt)
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("Kept it.")
            return 1
    workspace.delete(session.name, held=session)
    print(f"Deleted {session.name}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from specs.validate import validate_paths

    return validate_paths(list(args.files))


def _cmd_extra(args: argparse.Namespace) -> int:
    return int(importlib.import_module(args.extra_module).main(args) or 0)


def _table(metas: list[Any]) -> str:
    rows = [("NAME", "PHASE", "UPDATED", "MODEL")]
    for meta in metas:
        updated = meta.updated.astimezone().strftime("%Y-%m-%d %H:%M")
        rows.append((meta.name, meta.phase, updated, meta.planner_model or "guided (offline)"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
