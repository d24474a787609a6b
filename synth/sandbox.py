"""Run untrusted Python (generated generators, verifiers, reward code) in a separate process.

``run_python(source_or_path, function, payload, timeout_s=..., memory_mb=..., cwd=...)`` loads the
code in a fresh interpreter, calls ``function(payload)`` and returns its JSON-able value. Limits:
address space (RLIMIT_AS) and CPU time (RLIMIT_CPU) per process, a wall-clock timeout that kills
the whole process group, and file size (RLIMIT_FSIZE). When ``unshare -rn`` works on this machine
the process also runs without network in its own user namespace; ``isolation()`` says which.
The working folder is ``cwd`` (a fresh temp folder by default), so relative writes land there; with
``confine`` (the default) an audit hook refuses writes outside it, new processes and ctypes calls,
so a write elsewhere fails with a PermissionError that comes back in ``error``.
With ``map_items=True`` the function is called once per item of ``payload`` (a list) in the same
process, and the value is the list of results (an exception in one item becomes
``{"__error__": "..."}`` for that item), which keeps per-record verification cheap.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

_RUNNER = r'''
import io, json, os, sys, traceback, contextlib
def _confine(folder):
    """Refuse writes outside ``folder``, new processes and raw C calls (an audit hook: it stays)."""
    home = os.path.realpath(folder)
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    path_events = {"os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1), "os.symlink": (1,),
                   "os.link": (1,), "os.chmod": (0,), "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,),
                   "os.mkfifo": (0,), "os.mknod": (0,), "shutil.rmtree": (0,), "shutil.move": (0, 1)}
    banned = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
              "os.kill", "os.killpg", "pty.spawn", "ctypes.dlsym", "ctypes.call_function")
    def inside(path):
        if isinstance(path, int) or path is None:
            return True
        try:
            full = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return full == home or full.startswith(home + os.sep) or full == os.devnull
    def refuse(what, path=None):
        where = f" {os.fsdecode(path)!r}" if isinstance(path, (str, bytes, os.PathLike)) else ""
        raise PermissionError(f"sandbox: {what}{where} refused: generated code may only write inside its "
                              f"folder {home} and may not start processes or call C functions")
    def hook(event, args):
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, 0))[:3]
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool((flags or 0) & write_flags)
            if writes and not inside(path):
                refuse("writing", path)
        elif event in path_events:
            for index in path_events[event]:
                if index < len(args) and not inside(args[index]):
                    refuse(event, args[index])
        elif event.startswith(banned):
            refuse(event)
    sys.addaudithook(hook)
def _main():
    job = json.loads(sys.stdin.read())
    if job.get("confine"):
        _confine(os.getcwd())
    out = {"ok": False, "value": None, "error": None, "stdout": ""}
    buf = io.StringIO()
    try:
        namespace = {"__name__": "sandboxed"}
        with contextlib.redirect_stdout(buf):
            exec(compile(job["source"], job["filename"], "exec"), namespace)
            fn = namespace.get(job["function"])
            if not callable(fn):
                raise NameError("the code defines no function %r" % job["function"])
            if job.get("map_items"):
                value = []
                for item in job["payload"]:
                    try:
                        value.append(fn(item))
                    except Exception as exc:
                        value.append({"__error__": "%s: %s" % (type(exc).__name__, exc)})
            else:
                value = fn(job["payload"])
        json.dumps(value)
        out.update(ok=True, value=value)
    except MemoryError:
        out["error"] = "MemoryError: the code ran out of its memory limit"
    except BaseException as exc:
        tb = traceback.format_exc(limit=6)
        out["error"] = "%s: %s\n%s" % (type(exc).__name__, exc, tb)
    out["stdout"] = buf.getvalue()[-20000:]
    sys.__stdout__.write("\n@@SANDBOX_RESULT@@" + json.dumps(out, default=str))
    sys.__stdout__.flush()
_main()
'''

_MARKER = "@@SANDBOX_RESULT@@"


@dataclass
class SandboxResult:
    """What came back from sandboxed code."""

    ok: bool
    value: Any = None
    error: str | None = None
    """Exception text, or why the process died (timeout, memory, signal)."""
    stdout: str = ""
    stderr: str = ""
    killed: bool = False
    """True when the wall-clock timeout or a limit killed the process."""
    isolation: list[str] = field(default_factory=list)
    """Which protections applied: rlimits, no-network, temp-cwd."""


@lru_cache(maxsize=1)
def unshare_works() -> bool:
    """Probe once whether ``unshare -rn`` can start a process here (user + network namespace)."""
    exe = shutil.which("unshare")
    if not exe:
        return False
    try:
        probe = subprocess.run([exe, "-rn", sys.executable, "-c", "print(1)"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0 and probe.stdout.strip() == b"1"


def isolation(cwd_given: bool = False) -> list[str]:
    """The protections sandboxed code gets on this machine."""
    found = ["separate-process", "rlimit-memory", "rlimit-cpu", "rlimit-file-size", "wall-clock-timeout",
             "writes-confined-to-cwd (audit hook)"]
    if unshare_works():
        found.append("no-network (unshare -rn)")
    found.append("cwd" if cwd_given else "temp-cwd")
    return found


def _limits(memory_mb: int, cpu_s: int, fsize_mb: int):
    def apply() -> None:
        import resource

        mem = int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
        fs = int(fsize_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (fs, fs))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def run_python(
    source_or_path: str | os.PathLike,
    function: str,
    payload: Any,
    *,
    timeout_s: float = 30.0,
    memory_mb: int = 1024,
    cwd: str | os.PathLike | None = None,
    map_items: bool = False,
    network: bool = False,
    max_file_mb: int = 256,
    confine: bool = True,
) -> SandboxResult:
    """Call ``function(payload)`` from the given code in a limited subprocess; never raises for the code's faults."""
    source, filename = _load(source_or_path)
    job = json.dumps({"source": source, "filename": filename, "function": function, "payload": payload,
                      "map_items": map_items, "confine": confine}, default=str)
    temp = None
    if cwd is None:
        temp = tempfile.mkdtemp(prefix="tunesmith-sandbox-")
        workdir = temp
    else:
        workdir = str(cwd)
        Path(workdir).mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-I", "-c", _RUNNER]
    if not network and unshare_works():
        argv = [shutil.which("unshare") or "unshare", "-rn", *argv]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": workdir, "TMPDIR": workdir,
           "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1", "LANG": "C.UTF-8"}
    cpu_s = max(1, int(timeout_s) + 1)
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=workdir, env=env, start_new_session=True,
                                preexec_fn=_limits(memory_mb, cpu_s, max_file_mb))
    except OSError as exc:
        _cleanup(temp)
        return SandboxResult(ok=False, error=f"could not start the sandbox: {exc}")
    killed = False
    try:
        out, err = proc.communicate(job.encode(), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        killed = True
        _kill(proc)
        out, err = proc.communicate()
    finally:
        _cleanup(temp)
    result = _parse(out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), proc.returncode, killed,
                    timeout_s, memory_mb)
    result.isolation = isolation(cwd is not None)
    return result


def _load(source_or_path: str | os.PathLike) -> tuple[str, str]:
    if isinstance(source_or_path, os.PathLike):
        path = Path(source_or_path)
        return path.read_text(encoding="utf-8"), str(path)
    text = str(source_or_path)
    if "\n" not in text and text.endswith(".py") and Path(text).is_file():
        return Path(text).read_text(encoding="utf-8"), text
    return text, "<generated>"


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def _cleanup(temp: str | None) -> None:
    if temp:
        shutil.rmtree(temp, ignore_errors=True)


def _parse(out: str, err: str, code: int | None, killed: bool, timeout_s: float, memory_mb: int) -> SandboxResult:
    stderr = err[-20000:]
    if killed:
        return SandboxResult(ok=False, error=f"timed out after {timeout_s:g} s and was killed", stdout=out[-20000:],
                             stderr=stderr, killed=True)
    head, sep, tail = out.rpartition(_MARKER)
    if not sep:
        reason = f"the process ended without a result (exit code {code})"
        if code is not None and code < 0:
            sig = -code
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            reason = f"killed by {name}"
            if sig in (signal.SIGXCPU, signal.SIGKILL):
                reason += " (CPU time limit)" if sig == signal.SIGXCPU else ""
        if "MemoryError" in err:
            reason = f"ran out of its {memory_mb} MiB memory limit"
        return SandboxResult(ok=False, error=reason, stdout=out[-20000:], stderr=stderr, killed=code is not None and code < 0)
    try:
        data = json.loads(tail)
    except json.JSONDecodeError:
        return SandboxResult(ok=False, error="the sandbox result was unreadable", stdout=head, stderr=stderr)
    return SandboxResult(ok=bool(data.get("ok")), value=data.get("value"), error=data.get("error"),
                         stdout=(head.removesuffix("\n") + data.get("stdout", ""))[-20000:], stderr=stderr)
