"""Crash test: a child process writing a session is killed with SIGKILL at many random moments.

After every kill the session reloads; its log is a prefix of what the writer meant to write
(nothing before the kill is lost, nothing is garbled), session.json and the artifact are whole
JSON documents, and the writer's next run continues the same sequence. Seeded, so the kill
delays are the same on every run; it takes a few seconds.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time

from assistant.session import Workspace

ROUNDS = 60
SEED = 20261122
KINDS = ("user", "assistant", "tool", "event")


def expected_record(seq: int) -> dict:
    """The seq-th record the writer appends (sizes vary up to ~64 KB so writes can be cut)."""
    kind = KINDS[seq % len(KINDS)]
    pad = "x" * ((seq * 7919) % 65536 if seq % 5 == 0 else (seq * 31) % 2000)
    if kind == "event":
        return {"type": "event", "seq": seq, "event": "Progress", "pad": pad}
    message = {"role": kind, "content": f"message {seq} {pad}"}
    if kind == "tool":
        message.update(tool_call_id=f"c{seq}", name="probe")
    return {"type": kind, "seq": seq, "message": message}


def writer(root: str, name: str) -> None:
    """Runs in the child: continue the sequence from what is on disk, forever."""
    session = Workspace(root).open(name)
    seq = len(session.records())
    while True:
        session.append(expected_record(seq))
        seq += 1
        if seq % 3 == 0:
            session.meta.usage.prompt_tokens = seq  # "at least this many records were written"
            session.meta.phase = ("use_case", "data", "train")[seq % 3]
            session.save_meta()
        if seq % 4 == 0:
            body = {"seq": seq, "pad": "y" * ((seq * 104729) % 200_000)}
            session.write_text("data/artifact.json", json.dumps(body))


def check_session(workspace: Workspace, name: str) -> tuple[int, list[str]]:
    session = workspace.open(name)
    records = session.records()
    for seq, record in enumerate(records):
        record = {k: v for k, v in record.items() if k != "ts"}
        assert record == expected_record(seq), f"record {seq} differs from what was written"
    meta = json.loads(session.meta_path.read_text())  # whole JSON, never torn
    assert meta["usage"]["prompt_tokens"] <= len(records), "meta claims records the log lost"
    artifact = session.dir / "data" / "artifact.json"
    if artifact.exists():
        body = json.loads(artifact.read_text())
        assert body["seq"] <= len(records)
        assert body["pad"] == "y" * ((body["seq"] * 104729) % 200_000)
    session.close()
    return len(records), session.problems


def _wait_for_growth(log, size_before: int, timeout_s: float = 10.0) -> int:
    """Wait until the child has appended to the log (1), or give up after ``timeout_s`` (0)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if log.exists() and log.stat().st_size > size_before:
            return 1
        time.sleep(0.0005)
    return 0


def test_sigkill_at_random_moments_never_loses_or_tears_anything(tmp_path):
    rng = random.Random(SEED)
    workspace = Workspace(tmp_path / "ws")
    workspace.create("crashy").close()
    counts, torn, grown = [], 0, 0
    log = workspace.sessions_dir / "crashy" / "conversation.jsonl"
    for _ in range(ROUNDS):
        pid = os.fork()
        if pid == 0:  # the child: write until killed
            try:
                writer(str(workspace.root), "crashy")
            finally:
                os._exit(1)
        if rng.random() < 0.8:  # most rounds: let it write something, then kill at a random instant
            grown += _wait_for_growth(log, size_before=log.stat().st_size if log.exists() else 0)
            time.sleep(rng.choice((0.0, rng.uniform(0.0, 0.002), rng.uniform(0.002, 0.02))))
        os.kill(pid, signal.SIGKILL)  # other rounds: kill while it is still starting up
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, "the writer died by itself"
        count, problems = check_session(workspace, "crashy")
        torn += any("cut off" in problem for problem in problems)
        counts.append(count)
    assert counts == sorted(counts), "a reload lost records that an earlier reload had"
    assert grown >= ROUNDS // 2 and counts[-1] >= grown, "the writer barely wrote; the test exercised nothing"
    # The session stays fully usable after all that.
    session = workspace.open("crashy")
    session.append({"type": "notice", "text": "still fine"})
    assert workspace.open("crashy").records()[-1]["text"] == "still fine"
    print(f"{ROUNDS} kills, {counts[-1]} records, {torn} torn last lines repaired")
