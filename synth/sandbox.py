"""Run generated Python (generators, verifiers, reward code, custom scorers) confined by the kernel.

``run_python(source_or_path, function, payload, timeout_s=..., memory_mb=..., cwd=...)`` starts a
bare interpreter running ``synth/sandbox_runner.py``, which confines itself (an unprivileged user of
its own when tunesmith runs as root, rlimits, one task, Landlock for files, seccomp for exec, fork,
sockets and executable mappings) before it loads the code and calls ``function(payload)``; see
synth/SANDBOX.md for what each layer stops and why. The code gets a fresh folder of its own (a copy
of ``cwd`` when given, whose files are copied back afterwards); it may read the Python standard
library and that folder, and write only there.

This side bounds everything that comes back: stdout and stderr are read in chunks and only their
last characters are kept (a run that prints more than ``max_output_mb`` is killed), the result
comes on its own descriptor behind a per-run nonce that printed text cannot forge, and the process
group is killed when the run ends. With ``map_items=True`` the function is called once per item of
``payload`` (a list) in the same process; an exception in one item becomes ``{"__error__": ...}``.

Where the kernel lacks Landlock or seccomp, ``kernel_support()`` says which, and code runs only
when the caller passes ``allow_unconfined=True``, which callers do only after the person typed an
explicit approval (``unconfined_approved(session_dir)``; see assistant/sandbox_cmd.py).
"""

from __future__ import annotations

import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

RUNNER = Path(__file__).with_name("sandbox_runner.py")
APPROVAL_FILE = "sandbox-unconfined.json"
"""The person's typed approval of unconfined runs for one session (written by `tunesmith sandbox`)."""
KEEP_CHARS = 20000
UID_BASE, UID_SPAN = 0x60000000, 1 << 24
"""Root runs the code as a fresh uid from this range, owned by no account, so RLIMIT_NPROC is its own."""


@dataclass
class SandboxResult:
    """What came back from sandboxed code."""

    ok: bool
    value: Any = None
    error: str | None = None
    """Exception text, or why the process died (timeout, memory, signal, refused)."""
    stdout: str = ""
    stderr: str = ""
    killed: bool = False
    """True when the wall-clock timeout, the output cap or a limit killed the process."""
    refused: bool = False
    """True when the code did not run: confinement was missing or could not be applied."""
    isolation: list[str] = field(default_factory=list)
    """Which protections applied to this run."""
    wall_s: float = 0.0
    uid: int | None = None
    """The user the code ran as when tunesmith runs as root (one of its own); None: tunesmith's user."""


@dataclass(frozen=True)
class KernelSupport:
    """Whether this machine can confine generated code, measured by confining a trivial run."""

    ok: bool
    missing: str | None
    """What the kernel lacks (or what failed), in words; None when everything applied."""
    applied: tuple[str, ...]
    startup_s: float
    """Wall time of that trivial confined run: the start-up cost every run pays."""


def _interpreter() -> str:
    return getattr(sys, "_base_executable", None) or sys.executable


@lru_cache(maxsize=1)
def _runner_source() -> str:
    return RUNNER.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def kernel_support() -> KernelSupport:
    """Probe once per process: confine a run that does nothing and report what applied.

    ``TUNESMITH_SANDBOX_PRETEND_MISSING=<feature>`` makes this machine report that feature missing
    (to try the refusal and the approval on a kernel that has everything); it can only take away.
    """
    pretend = os.environ.get("TUNESMITH_SANDBOX_PRETEND_MISSING")
    if pretend:
        return KernelSupport(False, f"{pretend} is reported missing (TUNESMITH_SANDBOX_PRETEND_MISSING)", (), 0.0)
    started = time.perf_counter()
    result = _run({"probe": True, "confine": True, "source": "", "filename": "<probe>", "function": "",
                   "payload": None}, timeout_s=30, memory_mb=512, cpu_s=30, file_mb=1, cwd=None)
    elapsed = time.perf_counter() - started
    if result.refused or not result.ok:
        return KernelSupport(False, result.error or "the confined probe run failed", tuple(result.isolation), elapsed)
    return KernelSupport(True, None, tuple(result.isolation), elapsed)


def unconfined_approved(session_dir: str | os.PathLike | None) -> bool:
    """True when the person approved unconfined runs for this session, for what this kernel lacks now."""
    if session_dir is None:
        return False
    try:
        data = json.loads((Path(session_dir) / APPROVAL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    support = kernel_support()
    return (isinstance(data, dict) and data.get("decided_by") == "person" and not support.ok
            and data.get("missing") == support.missing)


def isolation(cwd_given: bool = False) -> list[str]:
    """The protections sandboxed code gets on this machine."""
    support = kernel_support()
    if support.ok:
        return _base(cwd_given) + list(support.applied)
    return _base(cwd_given) + [f"NOT CONFINED: {support.missing}"]


def _base(cwd_given: bool) -> list[str]:
    return ["separate process", "own folder (copy of cwd)" if cwd_given else "own temp folder", "wall-clock timeout",
            "bounded output", "result channel with nonce", "process group killed"]


def run_python(
    source_or_path: str | os.PathLike,
    function: str,
    payload: Any,
    *,
    timeout_s: float = 30.0,
    memory_mb: int = 1024,
    cwd: str | os.PathLike | None = None,
    map_items: bool = False,
    max_file_mb: int = 256,
    max_output_mb: int = 16,
    allow_unconfined: bool = False,
) -> SandboxResult:
    """Call ``function(payload)`` from the given code in a confined subprocess; never raises for the code's faults."""
    support = kernel_support()
    if not support.ok and not allow_unconfined:
        return SandboxResult(ok=False, refused=True, isolation=isolation(cwd is not None),
                             error=f"generated code was not run: this machine cannot confine it ({support.missing}). "
                                   "tunesmith runs generated code only inside the kernel sandbox; the person can "
                                   "approve unconfined runs for a session with `tunesmith sandbox allow-unconfined "
                                   "SESSION` (typed at a terminal).")
    source, filename = _load(source_or_path)
    job = {"source": source, "filename": filename, "function": function, "payload": payload,
           "map_items": map_items, "confine": support.ok}
    result = _run(job, timeout_s=timeout_s, memory_mb=memory_mb, cpu_s=max(1, int(timeout_s) + 1),
                  file_mb=max_file_mb, cwd=cwd, max_output_mb=max_output_mb)
    if support.ok and not result.isolation:  # no result came back: the layers were those of every run
        result.isolation = [f"user {result.uid} (not root)" if item.startswith("user ") else item
                            for item in support.applied]
    result.isolation = _base(cwd is not None) + result.isolation
    if not support.ok:
        result.isolation.append(f"NOT CONFINED: {support.missing}")
    return result


def _run(job: dict[str, Any], *, timeout_s: float, memory_mb: int, cpu_s: int, file_mb: int,
         cwd: str | os.PathLike | None, max_output_mb: int = 16, max_result_mb: int = 64) -> SandboxResult:
    nonce = secrets.token_hex(16)
    work = tempfile.mkdtemp(prefix="tunesmith-sandbox-")
    uid = UID_BASE + secrets.randbelow(UID_SPAN) if os.geteuid() == 0 else None
    opened: list[Any] = []
    started = time.perf_counter()
    try:
        if cwd is not None:
            _copy_tree(Path(cwd), Path(work))
        if uid is not None:
            _chown_tree(work, uid)
        folder_fd = os.open(work, os.O_RDONLY | os.O_DIRECTORY)
        result_file = tempfile.TemporaryFile()
        job_file = tempfile.TemporaryFile()
        opened += [result_file, job_file]
        job_file.write(json.dumps({**job, "nonce": nonce, "uid": uid, "folder_fd": folder_fd,
                                   "result_fd": result_file.fileno(),
                                   "limits": {"memory_mb": memory_mb, "cpu_s": cpu_s, "file_mb": file_mb}},
                                  default=str).encode())
        job_file.seek(0)
        env = {"PATH": "/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1"}
        try:
            proc = subprocess.Popen([_interpreter(), "-I", "-S", "-c", _runner_source()], stdin=job_file,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/", env=env,
                                    pass_fds=(folder_fd, result_file.fileno()), start_new_session=True)
        except OSError as exc:
            return SandboxResult(ok=False, refused=True, error=f"could not start the sandbox: {exc}")
        finally:
            os.close(folder_fd)
        out, err, killed, why = _collect(proc, timeout_s, max_output_mb * 1024 * 1024, uid)
        result_file.seek(0)
        raw = result_file.read(max_result_mb * 1024 * 1024 + 1)
        result = _parse(raw, nonce, out, err, proc.returncode, killed, why, timeout_s, memory_mb, max_result_mb)
        if cwd is not None and not result.refused:
            _copy_tree(Path(work), Path(cwd))
        result.wall_s, result.uid = time.perf_counter() - started, uid
        return result
    finally:
        for handle in opened:
            handle.close()
        shutil.rmtree(work, ignore_errors=True)


def _collect(proc: subprocess.Popen, timeout_s: float, max_output: int,
             uid: int | None) -> tuple[str, str, bool, str | None]:
    """Read stdout and stderr in chunks until both close or a limit hits. When the runner has exited
    (or a limit hits), kill its process group and, as root, every process of its uid, then reap it."""
    tails = {proc.stdout: bytearray(), proc.stderr: bytearray()}
    total, killed, why, cleared = 0, False, None, False
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as selector:
        for stream in tails:
            selector.register(stream, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                killed, why = True, "timeout"
                break
            for key, _ in selector.select(timeout=min(left, 0.2)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                total += len(chunk)
                tail = tails[key.fileobj]
                tail += chunk
                del tail[:-KEEP_CHARS * 2]
            if total > max_output:
                killed, why = True, f"printed more than {max_output // (1024 * 1024)} MiB"
                break
            if not cleared and _exited(proc):  # whatever still holds the pipes must go too
                _clear(proc, uid)
                cleared = True
                deadline = min(deadline, time.monotonic() + 2.0)
    _clear(proc, uid)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    for stream in tails:
        stream.close()
    return _decode(tails[proc.stdout]), _decode(tails[proc.stderr]), killed, why


def _exited(proc: subprocess.Popen) -> bool:
    """Whether the runner has exited, without reaping it (its pid and group id stay reserved)."""
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _clear(proc: subprocess.Popen, uid: int | None) -> None:
    _kill_group(proc)
    if uid is not None:
        _kill_user(uid)


def _decode(tail: bytearray) -> str:
    return bytes(tail).decode("utf-8", "replace")[-KEEP_CHARS:]


def _kill_group(proc: subprocess.Popen) -> None:
    for kill in (lambda: os.killpg(proc.pid, signal.SIGKILL), proc.kill):
        try:
            kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass


def _kill_user(uid: int) -> None:
    """SIGKILL every process still running as the run's own uid (a second layer: seccomp already
    refuses to create them), so not even a child in a session of its own outlives the run."""
    for _ in range(3):
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.stat(f"/proc/{entry}").st_uid == uid:
                        found.append(int(entry))
                except OSError:
                    continue
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)


def _copy_tree(src: Path, dst: Path) -> None:
    """Copy regular files and folders (never symlinks or devices) from src into dst."""
    for root, _dirs, files in os.walk(src, followlinks=False):
        rel = Path(root).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for name in files:
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                target = dst / rel / name
                if target.is_symlink():
                    target.unlink()
                shutil.copyfile(path, target)


def _chown_tree(top: str, uid: int) -> None:
    for root, _dirs, files in os.walk(top):
        os.chown(root, uid, uid, follow_symlinks=False)
        for name in files:
            os.chown(os.path.join(root, name), uid, uid, follow_symlinks=False)


def _load(source_or_path: str | os.PathLike) -> tuple[str, str]:
    if isinstance(source_or_path, os.PathLike):
        path = Path(source_or_path)
        return path.read_text(encoding="utf-8"), str(path)
    text = str(source_or_path)
    if "\n" not in text and text.endswith(".py") and Path(text).is_file():
        return Path(text).read_text(encoding="utf-8"), text
    return text, "<generated>"


def _signal_reason(code: int | None, memory_mb: int, err: str) -> str:
    if "MemoryError" in err:
        return f"ran out of its {memory_mb} MiB memory limit"
    if code is not None and code < 0:
        sig = -code
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        extra = {signal.SIGXCPU: " (CPU time limit)", signal.SIGXFSZ: " (file size limit)",
                 signal.SIGSYS: " by the kernel: it tried a forbidden system call (starting a program or a "
                                        "process, ptrace, mount, namespaces or similar)"}.get(sig, "")
        return f"killed by {name}{extra}"
    return f"the process ended without a result (exit code {code})"


def _parse(raw: bytes, nonce: str, out: str, err: str, code: int | None, killed: bool, why: str | None,
           timeout_s: float, memory_mb: int, max_result_mb: int) -> SandboxResult:
    if killed:
        reason = f"timed out after {timeout_s:g} s and was killed" if why == "timeout" else f"{why}; killed"
        return SandboxResult(ok=False, error=reason, stdout=out, stderr=err, killed=True)
    head, sep, body = raw.partition(b"\n")
    if head.decode("ascii", "replace") != nonce or not sep:
        return SandboxResult(ok=False, error=_signal_reason(code, memory_mb, err), stdout=out, stderr=err,
                             killed=code is not None and code < 0)
    if len(raw) > max_result_mb * 1024 * 1024:
        return SandboxResult(ok=False, error=f"the result is larger than {max_result_mb} MiB", stdout=out, stderr=err)
    try:
        data = json.loads(body)
    except ValueError:
        return SandboxResult(ok=False, error="the sandbox result was unreadable", stdout=out, stderr=err)
    applied = [str(a) for a in data.get("applied") or []]
    if data.get("refused"):
        return SandboxResult(ok=False, refused=True, error=f"confinement failed: {data['refused']}", stdout=out,
                             stderr=err, isolation=applied)
    printed = str(data.get("stdout") or "")
    return SandboxResult(ok=bool(data.get("ok")), value=data.get("value"), error=data.get("error"),
                         stdout=(out + printed)[-KEEP_CHARS:], stderr=err, isolation=applied)
