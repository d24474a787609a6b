"""`tunesmith lineage [SESSION]`: print the chain from spec to export and check every hash."""

from __future__ import annotations

import argparse

HELP = "print a session's lineage (spec -> data -> run -> evaluation -> export) and check its hashes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", nargs="?", help="session name (default: the most recently updated)")
    parser.add_argument("--json", action="store_true", help="print the records as JSON lines")


def main(args: argparse.Namespace) -> int:
    import json

    from assistant.config import Settings
    from assistant.session import Workspace
    from specs import lineage

    settings = Settings.from_args(args)
    workspace = Workspace(settings.workspace)
    if args.session:
        session = workspace.open(args.session)
    else:
        metas = workspace.list()
        if not metas:
            print(f"No sessions in {workspace.root}.")
            return 1
        session = workspace.open(max(metas, key=lambda m: m.updated).name)
    for problem in session.problems:
        print(f"warning: {problem}")
    links = lineage.check(session.dir)
    damage = lineage.read_checked(session.dir)[1]
    if args.json:
        for link in links:
            print(json.dumps({"kind": link.kind, "path": link.path, "ok": link.ok, "problems": link.problems, **link.entry}))
        for problem in damage:
            print(json.dumps({"kind": "damaged", "ok": False, "problems": [problem]}))
        return 0 if all(l.ok for l in links) and not damage else 1
    if damage:
        print(f"{session.name}: {lineage.LINEAGE_FILE} is damaged:")
        for problem in damage:
            print(f"  ! {problem}")
    if not links:
        print(f"{session.name}: no lineage recorded yet." if not damage else "No whole lineage record could be read.")
        return 1 if damage else 0
    print(f"Lineage of {session.name} ({session.dir})")
    for link in links:
        facts = {k: v for k, v in link.entry.items() if k not in ("kind", "path", "sha256", "inputs", "time")}
        detail = ", ".join(f"{k}={v}" for k, v in facts.items())
        mark = "ok " if link.ok else "BAD"
        print(f"  {mark} {link.kind:<11} {link.path:<24} sha256 {str(link.entry.get('sha256'))[:12]}  {detail}")
        for problem in link.problems:
            print(f"        ! {problem}")
    bad = [l for l in links if not l.ok]
    if bad:
        print(f"{len(bad)} link(s) do not match their files.")
    elif damage:
        print(f"The readable links check out, but {lineage.LINEAGE_FILE} is damaged ({len(damage)} line(s)).")
    else:
        print("All links check out.")
    return 0 if not bad and not damage else 1
