"""JobRunner with a tiny real job script: events, exit status, cancel, reattach after a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant.jobs import Job, JobRunner, JobState

JOB = textwrap.dedent(
    """
    import argparse, json, os, signal, subprocess, sys, time
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--exit", type=int, default=0)
    p.add_argument("--ignore-term", action="store_true")
    p.add_argument("--child-pid-file")
    p.add_argument("--events", required=True)
    a = p.parse_args()
    if a.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if a.child_pid_file:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open(a.child_pid_file, "w").write(str(child.pid))
    print("job starting", os.environ.get("TUNESMITH_JOB_ID"), flush=True)
    with open(a.events, "a") as ev:
        for step in range(1, a.steps + 1):
            ev.write(json.dumps({"type": "progress", "step": step, "total": a.steps}) + "\\n")
            ev.flush()
            time.sleep(a.sleep)
    print("job done", flush=True)
    sys.exit(a.exit)
    """
)


@pytest.fixture
def script(tmp_path) -> Path:
    path = tmp_path / "job.py"
    path.write_text(JOB)
    return path


@pytest.fixture
def runner(tmp_path) -> JobRunner:
    return JobRunner(tmp_path / "session")


def _gone(pid: int, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z":
            return True  # a zombie waiting for its reaper: already dead
        time.sleep(0.05)
    return False


def test_job_runs_streams_events_and_finishes(runner, script):
    job = runner.start("train", [sys.executable, str(script), "--steps", "4"])
    seen: list[dict] = []
    assert job.wait(poll_cb=seen.extend, interval_s=0.05, timeout_s=30) == "finished"
    seen += job.events()
    assert [e["step"] for e in seen] == [1, 2, 3, 4]
    assert job.exit_code == 0 and job.events() == []
    state = json.loads((runner.jobs_dir / f"{job.id}.json").read_text())
    assert state["status"] == "finished" and state["pid"] and state["ended"]
    assert state["argv"][-2:] == ["--events", job.state.events]
    assert {"started", "log", "events"} <= set(state)
    assert "job starting " + job.id in job.log_tail() and "job done" in job.log_tail()


def test_failing_job_is_failed_with_its_exit_code(runner, script):
    job = runner.start("evaluate", [sys.executable, str(script), "--exit", "3"])
    assert job.wait(interval_s=0.05, timeout_s=30) == "failed"
    assert job.exit_code == 3 and "code 3" in job.state.reason


def test_missing_program_fails_cleanly(runner, tmp_path):
    job = runner.start("nope", [str(tmp_path / "no-such-program")])
    assert job.wait(interval_s=0.05, timeout_s=30) == "failed"
    assert "could not start job" in job.log_tail()


def test_events_returns_only_complete_new_lines(runner, script):
    job = runner.start("train", [sys.executable, str(script), "--steps", "1"])
    job.wait(interval_s=0.05, timeout_s=30)
    assert [e["step"] for e in job.events()] == [1]
    with open(job.events_path, "a") as handle:
        handle.write('{"type": "progress", "st')
    assert job.events() == []
    with open(job.events_path, "a") as handle:
        handle.write('ep": 2}\nnot json\n')
    assert job.events() == [{"type": "progress", "step": 2}, {"type": "unparsed", "text": "not json"}]


def test_cancel_stops_the_whole_process_group(runner, script, tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    job = runner.start("train", [sys.executable, str(script), "--steps", "1000", "--sleep", "0.05",
                                 "--child-pid-file", str(pid_file)])
    deadline = time.monotonic() + 20
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    assert job.status() == "running"
    assert job.cancel(grace_s=5) == "cancelled"
    assert _gone(grandchild), "the job's own child survived the cancel"
    assert runner.get(job.id).status() == "cancelled"
    assert JobRunner(runner.session_dir).get(job.id).state.status == "cancelled"


def test_cancel_escalates_to_sigkill(runner, script):
    job = runner.start("stubborn", [sys.executable, str(script), "--steps", "1000", "--sleep", "0.05", "--ignore-term"])
    deadline = time.monotonic() + 20
    while not job.events() and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    assert job.cancel(grace_s=0.5) == "cancelled"
    assert time.monotonic() - started < 5
    assert _gone(job.state.pid)


def _start_from_another_app(session_dir: Path, argv: list[str]) -> str:
    """Start a job from a separate process that then exits, as a closed app would."""
    code = (
        "import sys, json; from assistant.jobs import JobRunner; "
        "job = JobRunner(sys.argv[1]).start('train', json.loads(sys.argv[2])); print(job.id)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(session_dir), json.dumps(argv)],
                         check=True, capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


def test_reattach_finds_a_job_started_by_an_app_that_exited(tmp_path, script):
    session_dir = tmp_path / "session"
    job_id = _start_from_another_app(session_dir, [sys.executable, str(script), "--steps", "6", "--sleep", "0.3"])
    running = JobRunner(session_dir).reattach()
    assert [job.id for job in running] == [job_id]
    job = running[0]
    assert job.wait(interval_s=0.05, timeout_s=30) == "finished"
    assert job.exit_code == 0
    assert [e["step"] for e in JobRunner(session_dir).get(job_id).events()] == [1, 2, 3, 4, 5, 6]
    assert JobRunner(session_dir).reattach() == []


def test_reattach_marks_a_killed_job_failed(tmp_path, script):
    session_dir = tmp_path / "session"
    job_id = _start_from_another_app(session_dir, [sys.executable, str(script), "--steps", "1000", "--sleep", "0.05"])
    job = JobRunner(session_dir).get(job_id)
    os.killpg(job.state.pid, signal.SIGKILL)  # the whole tree dies: no exit marker is written
    assert _gone(job.state.pid)
    assert JobRunner(session_dir).reattach() == []
    state = JobRunner(session_dir).get(job_id).state
    assert state.status == "failed" and "without an exit record" in state.reason


def test_reattach_ignores_a_reused_pid(tmp_path):
    runner = JobRunner(tmp_path / "session")
    runner.jobs_dir.mkdir(parents=True)
    base = runner.jobs_dir / "old-job"
    state = JobState(id="old-job", name="train", argv=["x"], pid=os.getpid(), started="2026-11-22T00:00:00+00:00",
                     log=f"{base}.log", events=f"{base}.events.jsonl", exit_marker=f"{base}.exit")
    Job(Path(f"{base}.json"), state)._save()
    (runner.jobs_dir / "garbage.json").write_text("{")
    assert runner.reattach() == []  # this pytest process is alive, but it is not that job
    assert runner.get("old-job").state.status == "failed"


def test_reattach_reads_the_exit_marker_of_a_job_that_ended_while_away(tmp_path):
    runner = JobRunner(tmp_path / "session")
    runner.jobs_dir.mkdir(parents=True)
    base = runner.jobs_dir / "done-job"
    Path(f"{base}.exit").write_text(json.dumps({"exit_code": 0, "ended": time.time()}))
    state = JobState(id="done-job", name="train", argv=["x"], pid=999_999_999, started="2026-11-22T00:00:00+00:00",
                     log=f"{base}.log", events=f"{base}.events.jsonl", exit_marker=f"{base}.exit")
    Job(Path(f"{base}.json"), state)._save()
    assert runner.reattach() == []
    assert runner.get("done-job").state.status == "finished"
    assert [job.id for job in runner.list()] == ["done-job"]


def test_existing_events_flag_is_kept(runner, script, tmp_path):
    own = tmp_path / "own-events.jsonl"
    job = runner.start("train", [sys.executable, str(script), "--steps", "1", "--events", str(own)])
    job.wait(interval_s=0.05, timeout_s=30)
    assert job.state.argv.count("--events") == 1 and own.read_text().count("\n") == 1
