"""Storage faults a session must survive, each run through the real `tunesmith` command.

Every case damages a session on disk (or takes the disk away, or opens the session twice), runs
the command a person would run next, and checks that nothing written before is lost, that the
command says what happened in one line instead of a traceback, and which exit code it gives.
tests/faults/test_storage_faults.py runs each case as a test; run this module to print the table
and the figure the README quotes:

    .venv/bin/python -m tests.faults.storage_faults

Read-only files and folders are real: a read-only bind mount in a private mount namespace
(``unshare -rm``), so they hold for root too. Cases that need it are skipped where the kernel
does not allow unprivileged namespaces.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
FIRST = "I need a model that categorizes bank transactions into our 6 categories."


class Skip(Exception):
    """The case cannot run on this machine (the reason is the message)."""


def tunesmith(ws: Path, *args: str, read_only: tuple[Path, ...] = (), tty: bool = False, env: dict | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real command; ``read_only`` paths are bind-mounted read-only for it; ``tty`` gives it a terminal."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    for name in ("TUNESMITH_YES", "TUNESMITH_POLICY_FILE", "TUNESMITH_MODEL"):
        environ.pop(name, None)
    argv = [sys.executable, "-m", "assistant.cli", "--workspace", str(ws), *args]
    if read_only:
        if not namespaces_work():
            raise Skip("unprivileged mount namespaces are not available (unshare -rm)")
        mounts = " && ".join(f"mount --bind '{p}' '{p}' && mount -o remount,bind,ro '{p}' '{p}'" for p in read_only)
        argv = ["unshare", "-rm", "sh", "-c", f'{mounts} && exec "$@"', "sh", *argv]
    if not tty:
        return subprocess.run(argv, cwd=ROOT, env=environ, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)
    master, slave = pty.openpty()
    try:
        child = subprocess.Popen(argv, cwd=ROOT, env=environ, stdin=slave, stdout=slave, stderr=subprocess.PIPE)
        os.close(slave)
        slave = -1
        try:
            _, err = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            _, err = child.communicate()
        return subprocess.CompletedProcess(argv, child.returncode, "", err.decode(errors="replace"))
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


_NAMESPACES: bool | None = None


def namespaces_work() -> bool:
    global _NAMESPACES
    if _NAMESPACES is None:
        unshare = shutil.which("unshare")
        with tempfile.TemporaryDirectory() as probe:
            _NAMESPACES = bool(unshare) and subprocess.run(
                [unshare or "unshare", "-rm", "sh", "-c", f"mount --bind '{probe}' '{probe}' && mount -o remount,bind,ro '{probe}' '{probe}'"],
                capture_output=True, timeout=20).returncode == 0
    return _NAMESPACES


def make_session(ws: Path, name: str = "s") -> Path:
    """A session with the person's first words, waiting for the planner (so `run` writes)."""
    from assistant.session import Workspace, user_record

    session = Workspace(ws).create(name, title="Bank categorizer")
    session.append(user_record(FIRST))
    session.meta.usage.prompt_tokens = 1234
    session.meta.approval_rules = {"write_use_case": "allow"}
    session.save_meta()
    session.close()
    return session.dir


def records(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "conversation.jsonl").read_text().splitlines() if line.strip()]


def one_line_error(out: subprocess.CompletedProcess, code: int, *needles: str) -> None:
    text = out.stdout + out.stderr
    assert out.returncode == code, f"exit {out.returncode}, expected {code}: {text}"
    assert "Traceback" not in text, text
    for needle in needles:
        assert needle in text, f"{needle!r} not in: {text}"


# -- the cases -----------------------------------------------------------------------------------

def complete_last_record_without_newline(tmp: Path) -> None:
    folder = make_session(tmp / "ws")
    log = folder / "conversation.jsonl"
    log.write_bytes(log.read_bytes().rstrip(b"\n"))
    out = tunesmith(tmp / "ws", "run", "s", "--until", "use_case")
    one_line_error(out, 0)
    kept = records(folder)
    assert kept[0]["message"]["content"] == FIRST and len(kept) > 1, "the record is kept and the run went on after it"
    assert "cut off" not in out.stdout


def torn_last_line(tmp: Path) -> None:
    folder = make_session(tmp / "ws")
    with open(folder / "conversation.jsonl", "ab") as handle:
        handle.write(b'{"type": "assistant", "message": {"role": "assis')
    out = tunesmith(tmp / "ws", "run", "s", "--until", "use_case")
    one_line_error(out, 0, "conversation.jsonl:2: the last line was cut off")
    assert records(folder)[0]["message"]["content"] == FIRST
    torn = list(folder.glob("conversation.jsonl.torn-*"))
    assert len(torn) == 1 and torn[0].read_bytes().startswith(b'{"type": "assistant"'), "the torn bytes are kept aside"


def malformed_tool_call(tmp: Path) -> None:
    folder = make_session(tmp / "ws")
    bad = {"type": "assistant", "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "function": None}]}}
    with open(folder / "conversation.jsonl", "a") as handle:
        handle.write(json.dumps(bad) + "\n")
        handle.write(json.dumps({"type": "user", "message": {"role": "user", "content": "go on"}}) + "\n")
    out = tunesmith(tmp / "ws", "run", "s", "--until", "use_case")
    one_line_error(out, 0, "conversation.jsonl:2: tool call 1 has no `function` object (it is None); line skipped")
    assert len(records(folder)) > 3, "the run went on"


def session_json_not_json(tmp: Path) -> None:
    folder = make_session(tmp / "ws")
    (folder / "session.json").write_text('{"name": "s", "title": "Bank categ')
    out = tunesmith(tmp / "ws", "run", "s", "--until", "use_case")
    one_line_error(out, 0, "session.json is not valid JSON", "session.json.corrupt-")
    aside = list(folder.glob("session.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == '{"name": "s", "title": "Bank categ', "the original is kept"
    assert json.loads((folder / "session.json").read_text())["name"] == "s"


def session_json_wrongly_typed(tmp: Path) -> None:
    folder = make_session(tmp / "ws")
    meta = json.loads((folder / "session.json").read_text())
    meta["usage"] = "a lot"
    meta["pending_approval"] = ["not", "a", "mapping"]
    (folder / "session.json").write_text(json.dumps(meta))
    out = tunesmith(tmp / "ws", "run", "s", "--until", "use_case")
    one_line_error(out, 0, "wrongly typed fields (pending_approval, usage)", "session.json.corrupt-")
    now = json.loads((folder / "session.json").read_text())
    assert now["title"] == "Bank categorizer" and now["approval_rules"] == {"write_use_case": "allow"}, now
    assert json.loads(next(folder.glob("session.json.corrupt-*")).read_text())["usage"] == "a lot"


def session_json_unreadable_folder_read_only(tmp: Path) -> None:
    folder = make_session(tmp / "ws")
    (folder / "session.json").write_text("[1, 2")
    out = tunesmith(tmp / "ws", "run", "s", read_only=(folder,))
    one_line_error(out, 1, "Read-only file system")
    assert (folder / "session.json").read_text() == "[1, 2", "never overwritten by a stand-in"


def read_only_log_run(tmp: Path) -> None:
    folder = make_session(tmp / "ws")
    before = (folder / "conversation.jsonl").read_bytes()
    out = tunesmith(tmp / "ws", "run", "s", "--yes", read_only=(folder / "conversation.jsonl",))
    one_line_error(out, 1, "cannot write to", "conversation.jsonl", "Read-only file system")
    assert (folder / "conversation.jsonl").read_bytes() == before


def read_only_folder_run(tmp: Path) -> None:
    folder = make_session(tmp / "ws")
    out = tunesmith(tmp / "ws", "run", "s", "--yes", read_only=(folder,))
    one_line_error(out, 1, "Read-only file system")


def read_only_log_app(tmp: Path) -> None:
    folder = make_session(tmp / "ws")
    out = tunesmith(tmp / "ws", "resume", "s", read_only=(folder / "conversation.jsonl",), tty=True, timeout=60)
    one_line_error(out, 1, "cannot write to", "Read-only file system")
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def read_only_folder_app(tmp: Path) -> None:
    folder = make_session(tmp / "ws")
    out = tunesmith(tmp / "ws", "resume", "s", read_only=(folder,), tty=True, timeout=60)
    one_line_error(out, 1, "Read-only file system")
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def _blocked_run(tmp: Path, action: Callable[[Path], None]) -> None:
    """A real `tunesmith run` that waits on its planner (a loopback LLM that does not answer) while
    ``action`` runs against the same session."""
    from tests.loopback import LoopbackServer, Reply

    folder = make_session(tmp / "ws")
    with LoopbackServer([Reply(fault="hang", hang_s=60)] * 3) as server:
        environ = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-loopback-not-a-real-key"}
        first = subprocess.Popen([sys.executable, "-m", "assistant.cli", "--workspace", str(tmp / "ws"), "run", "s", "--yes",
                                  "--model", "openai/loopback", "--api-base", server.api_base],
                                 cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not server.requests and first.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert server.requests, "the first run never reached its planner"
            action(folder)
        finally:
            first.kill()
            first.wait()


def two_runs_at_once(tmp: Path) -> None:
    def second(folder: Path) -> None:
        before = (folder / "conversation.jsonl").read_bytes()
        out = tunesmith(tmp / "ws", "run", "s", "--yes")
        one_line_error(out, 1, "open in another tunesmith")
        assert (folder / "conversation.jsonl").read_bytes() == before, "the second run wrote nothing"

    _blocked_run(tmp, second)


def rename_and_delete_while_open(tmp: Path) -> None:
    def others(folder: Path) -> None:
        renamed = tunesmith(tmp / "ws", "sessions", "rename", "s", "t")
        one_line_error(renamed, 1, "open in another tunesmith")
        deleted = tunesmith(tmp / "ws", "sessions", "delete", "s", "--yes")
        one_line_error(deleted, 1, "open in another tunesmith")
        assert folder.is_dir() and not (folder.parent / "t").exists()

    _blocked_run(tmp, others)


def lineage_truncated(tmp: Path) -> None:
    folder = make_session(tmp / "ws")
    (folder / "use_case.yaml").write_text("name: x\n")
    from specs import lineage

    lineage.record(folder, "use_case", "use_case.yaml")
    text = (folder / "lineage.jsonl").read_text()
    (folder / "lineage.jsonl").write_text(text[: len(text) // 2])
    out = tunesmith(tmp / "ws", "lineage", "s")
    one_line_error(out, 1, "lineage.jsonl is damaged", "lineage.jsonl:1: cut off")
    assert "no lineage recorded yet" not in out.stdout


def lineage_path_outside(tmp: Path) -> None:
    folder = make_session(tmp / "ws")
    outside = tmp / "secret.txt"
    outside.write_text("not the session's")
    entry = {"kind": "export", "path": "../../../secret.txt", "sha256": None, "inputs": {"/etc/hostname": "0" * 64}}
    (folder / "lineage.jsonl").write_text(json.dumps(entry) + "\n")
    out = tunesmith(tmp / "ws", "lineage", "s")
    one_line_error(out, 1, "../../../secret.txt is not inside the session folder", "input /etc/hostname is not inside")


def resume_without_terminal(tmp: Path) -> None:
    make_session(tmp / "ws")
    started = time.monotonic()
    out = tunesmith(tmp / "ws", "resume", "s", timeout=60)
    one_line_error(out, 2, "needs a terminal", "tunesmith run")
    assert time.monotonic() - started < 30


CASES: dict[str, Callable[[Path], None]] = {
    "complete last record without its newline is kept": complete_last_record_without_newline,
    "torn last line is set aside, earlier records kept": torn_last_line,
    "tool call with function null is skipped, line named": malformed_tool_call,
    "session.json not JSON: moved aside, reported": session_json_not_json,
    "session.json wrongly typed: moved aside, valid fields kept": session_json_wrongly_typed,
    "damaged session.json in a read-only folder is never overwritten": session_json_unreadable_folder_read_only,
    "read-only conversation.jsonl: run exits 1 in one line": read_only_log_run,
    "read-only session folder: run exits 1 in one line": read_only_folder_run,
    "read-only conversation.jsonl: app exits 1 in one line": read_only_log_app,
    "read-only session folder: app exits 1 in one line": read_only_folder_app,
    "a second run while one runs is refused and writes nothing": two_runs_at_once,
    "rename and delete of an open session are refused": rename_and_delete_while_open,
    "truncated lineage.jsonl is reported damaged (exit 1)": lineage_truncated,
    "lineage paths outside the session are not read (exit 1)": lineage_path_outside,
    "resume without a terminal says so and exits 2": resume_without_terminal,
}


def main() -> int:
    survived, skipped, failed = 0, 0, 0
    for title, case in CASES.items():
        with tempfile.TemporaryDirectory() as folder:
            started = time.monotonic()
            try:
                case(Path(folder))
            except Skip as why:
                skipped += 1
                print(f"skip  {title}: {why}")
                continue
            except Exception as exc:  # noqa: BLE001 - the table reports each failure and goes on
                failed += 1
                print(f"FAIL  {title}: {type(exc).__name__}: {str(exc)[:300]}")
                continue
            survived += 1
            print(f"ok    {title} ({time.monotonic() - started:.1f} s)")
    tried = survived + failed
    print(f"\nstorage faults survived: {survived} of {tried}" + (f" ({skipped} skipped)" if skipped else ""))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
