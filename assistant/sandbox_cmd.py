"""`tunesmith sandbox`: what confines generated code on this machine, and the person's typed approval
of unconfined runs for one session where the kernel cannot confine it.

``tunesmith sandbox`` prints the layers that apply (or what the kernel lacks) and the start-up cost
of a confined run. ``tunesmith sandbox allow-unconfined SESSION`` is the only way generated code runs
without kernel confinement: it needs a terminal and the phrase typed by hand (no --yes, no policy
file), and it holds only for the kernel feature missing now. ``revoke`` takes it back.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

PHRASE = "run unconfined"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", default="status", choices=["status", "allow-unconfined", "revoke"],
                        help="status (default); allow-unconfined or revoke for one session")
    parser.add_argument("session", nargs="?", help="session name (for allow-unconfined and revoke)")


def status_text() -> str:
    from synth.sandbox import kernel_support

    support = kernel_support()
    if support.ok:
        layers = "\n".join(f"  - {layer}" for layer in support.applied)
        return (f"Generated code runs confined by the kernel on this machine:\n{layers}\n"
                f"Start-up cost of a confined run: {support.startup_s * 1000:.0f} ms.")
    return (f"This machine cannot confine generated code: {support.missing}.\n"
            "Generated code (generators, verifiers, rewards, custom scorers) is not run unless the person approves "
            "unconfined runs for a session: tunesmith sandbox allow-unconfined SESSION")


def allow_unconfined(session_dir: Path, *, ask: Callable[[str], str] = input, interactive: bool | None = None) -> int:
    """Ask the person, at a terminal, to type the phrase; record the approval in the session. Returns the exit code."""
    from specs.io import atomic_write_text
    from synth.sandbox import APPROVAL_FILE, kernel_support

    support = kernel_support()
    if support.ok:
        print("Not needed: this machine confines generated code with the kernel; nothing was recorded.")
        return 0
    if not (sys.stdin.isatty() if interactive is None else interactive):
        print("tunesmith sandbox allow-unconfined needs a terminal: the person types the approval by hand.",
              file=sys.stderr)
        return 2
    print(f"This machine cannot confine generated code: {support.missing}.\n"
          f"Approving lets code that a model wrote run in {session_dir.name} without Landlock and seccomp: only time, "
          "memory and process limits hold (and, when tunesmith runs as root, a user of its own). It could read and "
          "change the files its user can reach and use the network.")
    answer = ask(f"Type '{PHRASE}' to approve, anything else to cancel: ").strip()
    if answer != PHRASE:
        print("Not approved; generated code stays refused.")
        return 1
    record = {"decided_by": "person", "missing": support.missing, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    atomic_write_text(session_dir / APPROVAL_FILE, json.dumps(record, indent=2) + "\n")
    print(f"Approved for {session_dir.name} while this machine lacks: {support.missing}.")
    return 0


def main(args: argparse.Namespace) -> int:
    if args.action == "status":
        print(status_text())
        return 0
    if not args.session:
        print(f"tunesmith sandbox {args.action} needs a SESSION", file=sys.stderr)
        return 2
    from assistant.config import Settings
    from assistant.session import Workspace
    from synth.sandbox import APPROVAL_FILE

    session = Workspace(Settings.from_args(args).workspace).open(args.session)
    if args.action == "revoke":
        (session.dir / APPROVAL_FILE).unlink(missing_ok=True)
        print(f"Unconfined runs are no longer approved for {session.name}.")
        return 0
    return allow_unconfined(session.dir)
