"""The writer side of tests/faults/test_disk_full.py: fill the disk under a session, try to write,
then report as JSON what failed, how, and what the session looks like when reopened.

    python -m tests.faults.diskfull_child WORKSPACE MODE     (MODE: tmpfs | rlimit)

``tmpfs``: WORKSPACE is a small tmpfs (the test mounts it); a filler file takes the free space.
``rlimit``: RLIMIT_FSIZE drops to 1 byte, so every write past the first byte fails (EFBIG).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import sys
from pathlib import Path

from assistant.agent import Agent
from assistant.session import Workspace, user_record
from specs.use_case import UseCaseSpec
from specs.yamlio import load_spec, save_spec
from tests.fakes import ScriptedModel, say

EXAMPLE = Path(__file__).resolve().parents[2] / "specs" / "examples" / "bank_transactions.use_case.yaml"


def fill(root: Path, mode: str) -> Path | None:
    if mode == "rlimit":
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1, hard))
        return None
    filler = root / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 512)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def unfill(filler: Path | None) -> None:
    if filler is None:
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    else:
        filler.unlink()


def attempt(fn) -> dict:
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - reported to the test
        return {"error": type(exc).__name__, "message": str(exc), "mro": [c.__name__ for c in type(exc).__mro__]}
    return {"error": None}


def main(root: str, mode: str) -> None:
    root_path = Path(root)
    workspace = Workspace(root_path / "ws")
    session = workspace.create("full")
    for text in ("first", "second", "third"):
        session.append(user_record(text))
    session.meta.phase = "data"
    session.save_meta()
    spec = load_spec(EXAMPLE, UseCaseSpec)
    save_spec(session.dir / "use_case.yaml", spec)
    before = {"meta": session.meta_path.read_text(), "spec": (session.dir / "use_case.yaml").read_text(),
              "log": session.conversation_path.read_text()}

    filler = fill(root_path, mode)
    out: dict = {}
    out["append"] = attempt(lambda: session.append(user_record("a long message " * 400)))

    def meta():
        session.meta.phase = "train"
        session.save_meta()

    out["save_meta"] = attempt(meta)
    changed = spec.model_copy(update={"name": "Renamed while the disk was full"})
    out["save_spec"] = attempt(lambda: save_spec(session.dir / "use_case.yaml", changed))
    agent = Agent(session, ScriptedModel([say("hello " * 300)]), [])

    async def turn():
        async for _ in agent.send("are you there? " * 400):
            pass

    out["agent_turn"] = attempt(lambda: asyncio.run(turn()))

    reopened = workspace.open("full")
    out["after"] = {"records": [r["message"]["content"] for r in reopened.records() if r.get("message")],
                    "problems": reopened.problems,
                    "meta_same": session.meta_path.read_text() == before["meta"],
                    "spec_same": (session.dir / "use_case.yaml").read_text() == before["spec"],
                    "log_same": session.conversation_path.read_text() == before["log"],
                    "leftovers": sorted(p.name for p in session.dir.iterdir() if p.name.endswith(".tmp"))}
    unfill(filler)
    session.append(user_record("after the disk was freed"))
    out["recovered"] = [r["message"]["content"] for r in workspace.open("full").records() if r.get("message")]
    print("RESULT=" + json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
