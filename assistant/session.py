"""Sessions on disk: one folder per session under ``<workspace>/sessions/<name>/``.

``conversation.jsonl`` is append-only: one JSON record per line, flushed and fsynced per record,
so a crash at any instant keeps every record written before it. ``session.json`` (SessionMeta)
and artifacts are written atomically (temp file + rename). Reading never loses what was written:
a last record that is complete but lacks its newline is kept (the newline is added before the
next append); a torn last line, which only a crash in the middle of a write can leave, is
ignored, reported in ``Session.problems`` and moved to ``conversation.jsonl.torn-<time>`` before
the next append; a malformed record (not JSON, or a message of the wrong shape such as a tool
call whose ``function`` is null) is skipped with a problem naming its line. An unreadable or
wrongly typed ``session.json`` is moved aside to ``session.json.corrupt-<time>`` and reported;
the fields that still validate are kept in the new one. A session folder that was renamed or
deleted under an open session is never recreated by it, and one writer at a time holds the
session (``Session.lock``): the app, ``tunesmith run``, ``sessions rename`` and ``delete``.

A record is a dict with a ``"type"``. Message-like records carry the OpenAI-format message:

    {"type": "user",      "message": {"role": "user", "content": "..."}}
    {"type": "assistant", "message": {"role": "assistant", "content": "...", "tool_calls": [...]}}
    {"type": "tool",      "message": {"role": "tool", "tool_call_id": "...", "name": "...", "content": "..."}}

Other records (``decision``, ``event``, ``notice``, ...) carry their own fields next to ``type``
and are skipped by ``messages()``. ``append`` adds ``"ts"`` (UTC ISO time) when missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.records import (MESSAGE_TYPES, assistant_record, parse_line, record_problem,  # noqa: F401 (re-exported)
                               tool_record, user_record)
from specs.io import atomic_write_bytes, atomic_write_text

CONVERSATION = "conversation.jsonl"
META = "session.json"
LOCK = ".lock"
SESSIONS = "sessions"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


class SessionError(Exception):
    """A session operation a person asked for cannot be done; the message says why."""


class SessionWriteError(SessionError, OSError):
    """Writing to the session failed (disk full, read-only, ...); nothing already written was harmed."""


def now() -> datetime:
    return datetime.now(timezone.utc)


def validate_name(name: str) -> str:
    """Return ``name`` when it can be a session folder name, else raise SessionError."""
    if not isinstance(name, str) or not _NAME.match(name) or name.endswith(".tmp"):
        raise SessionError(
            f"invalid session name {name!r}: use letters, digits, '-', '_' or '.', "
            "start with a letter or digit, at most 80 characters, no slashes"
        )
    return name


def slugify(text: str, limit: int = 40) -> str:
    """``"Bank Categorizer!"`` -> ``"bank-categorizer"`` (may be empty)."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-")


class StepUsage(BaseModel):
    """Tokens and money the planner spent in one step of the journey."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)

    prompt_tokens: int = 0
    """Prompt tokens sent to the planner model (cached ones included)."""
    cached_prompt_tokens: int = 0
    """Prompt tokens the provider or server served from its prompt cache."""
    completion_tokens: int = 0
    """Tokens the planner model answered with."""
    cost_usd: float = 0.0
    """Estimated cost in US dollars (0 for local or unknown models)."""
    requests: int = 0
    """Planner requests made."""
    largest_request: int = 0
    """Prompt tokens of the longest request."""

    def add(self, prompt: int, cached: int, completion: int, cost: float) -> None:
        self.prompt_tokens += prompt
        self.cached_prompt_tokens += cached
        self.completion_tokens += completion
        self.cost_usd += cost
        self.requests += 1
        self.largest_request = max(self.largest_request, prompt)


class Usage(StepUsage):
    """Tokens and money the planner model spent in this session, in all and per step."""

    by_step: dict[str, StepUsage] = Field(default_factory=dict)
    """The same counts for each step (use_case, data, train, evaluate, export, done)."""

    def add_step(self, step: str, prompt: int, cached: int, completion: int, cost: float) -> StepUsage:
        """Count one planner reply in the totals and in ``step``; return that step's counts."""
        self.add(prompt, cached, completion, cost)
        self.by_step.setdefault(step, StepUsage()).add(prompt, cached, completion, cost)
        return self.by_step[step]

    def report(self) -> list[str]:
        """One line per step and one for the whole session (the final report of a run)."""
        def line(name: str, u: StepUsage) -> str:
            return (f"{name}: {u.requests} requests, {u.prompt_tokens:,} prompt tokens ({u.cached_prompt_tokens:,} cached), "
                    f"{u.completion_tokens:,} completion, largest request {u.largest_request:,}, ${u.cost_usd:.4f}")
        return [line(step, usage) for step, usage in self.by_step.items()] + [line("all steps", self)]


class SessionMeta(BaseModel):
    """What ``session.json`` holds. Unknown keys are kept so newer fields survive older code."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True, validate_assignment=True)

    name: str
    """Session name, equal to its folder name."""
    created: datetime = Field(default_factory=now)
    """When the session was created (UTC)."""
    updated: datetime = Field(default_factory=now)
    """When session.json was last saved (UTC)."""
    phase: str = "use_case"
    """Current step of the journey: a skill name (use_case, data, train, evaluate, export) or done."""
    title: str | None = None
    """A short description of the use case, when known."""
    planner_model: str | None = None
    """The litellm model string of the planner, or None for the offline guided planner."""
    pending_approval: dict[str, Any] | None = None
    """The tool call waiting for the person's decision, re-asked on resume."""
    usage: Usage = Field(default_factory=Usage)
    """Planner tokens and cost so far."""
    approval_rules: dict[str, Literal["allow", "reject"]] = Field(default_factory=dict)
    """The person's standing "always allow / always reject" decisions, by tool name."""


class Session:
    """One session folder. Not safe for two writers at once (one app per session)."""

    def __init__(self, folder: Path, meta: SessionMeta):
        self.dir = Path(folder)
        self.meta = meta
        self.problems: list[str] = []
        """What reading found wrong (a torn last line, an unreadable line), for the UI to show."""
        self._records: list[dict[str, Any]] = []
        self._torn_at: int | None = None
        self._unterminated = False
        """The log's last record is complete but has no newline: add one before the next append."""
        self.meta_damaged = False
        """session.json could not be read and could not be moved aside: never overwrite it."""
        self._handle: Any = None
        self._lock_fd: int | None = None
        self._load_records()

    @property
    def name(self) -> str:
        return self.dir.name

    @property
    def conversation_path(self) -> Path:
        return self.dir / CONVERSATION

    @property
    def meta_path(self) -> Path:
        return self.dir / META

    def __repr__(self) -> str:
        return f"Session({str(self.dir)!r})"

    # -- conversation -----------------------------------------------------------------------
    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Append one record (a dict with ``type``) as one line; flushed and fsynced before return."""
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            raise ValueError("a record is a dict with a string 'type'")
        if "ts" not in record:
            record = {**record, "ts": now().isoformat()}
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        handle = self._open_for_append()
        data = line.encode("utf-8")
        size_before = os.fstat(handle).st_size
        try:
            if self._unterminated:
                data = b"\n" + data
            written = 0
            while written < len(data):
                written += os.write(handle, data[written:])
            os.fsync(handle)
        except OSError as exc:
            self._cut_back(size_before)
            raise SessionWriteError(
                f"could not save to {self.conversation_path}: {exc.strerror or exc}; "
                "the record was not saved and the log still ends with the previous one"
            ) from exc
        self._unterminated = False
        self._records.append(record)
        return record

    def check_writable(self) -> None:
        """Raise SessionWriteError (one sentence) unless the folder and the log can be written."""
        if not self.dir.is_dir():
            raise SessionWriteError(f"the session folder {self.dir} no longer exists (renamed or deleted elsewhere)")
        try:
            fd = os.open(self.conversation_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.close(fd)
            probe = self.dir / f".write-check-{os.getpid()}.tmp"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            where = exc.filename or self.dir
            raise SessionWriteError(f"cannot write to {where}: {exc.strerror or exc}; "
                                    "nothing was changed (make the session folder writable)") from None

    def records(self) -> list[dict[str, Any]]:
        """Every complete record, oldest first (a copy of the list; the dicts are shared)."""
        return list(self._records)

    def messages(self, close_dangling: bool = False, this_step: bool = False) -> list[dict[str, Any]]:
        """OpenAI-format messages rebuilt from the records, in order.

        With ``close_dangling``, an assistant tool call that has no tool result (the app stopped
        before it finished) gets a tool message saying so, which chat APIs require.
        With ``this_step``, only the person's first message and what came since the session last entered its step
        (a small local model: the files say what earlier steps made, and a server on a CPU reads every token of a
        request that changed near its start again).
        """
        out: list[dict[str, Any]] = []
        open_calls: dict[str, str] = {}
        first: dict[str, Any] | None = None
        calls: set[str] = set()
        for record in self._records:
            if this_step and record.get("type") == "phase":
                if close_dangling:
                    open_calls.clear()
                out, calls = ([dict(first)] if first is not None else []), set()
                continue
            message = record.get("message")
            if record.get("type") not in MESSAGE_TYPES or not isinstance(message, dict):
                continue
            if first is None and message.get("role") == "user" and not record.get("hidden"):
                first = message
            if this_step:
                if message.get("role") == "assistant":
                    calls.update(str(call.get("id", "")) for call in message.get("tool_calls") or [])
                elif message.get("role") == "tool" and str(message.get("tool_call_id", "")) not in calls:
                    continue  # its call was made before the step began
            if message.get("role") != "tool" and close_dangling:
                out.extend(_closing_messages(open_calls))
                open_calls.clear()
            if message.get("role") == "assistant":
                for call in message.get("tool_calls") or []:
                    open_calls[call.get("id", "")] = call.get("function", {}).get("name", "")
            elif message.get("role") == "tool":
                open_calls.pop(message.get("tool_call_id", ""), None)
            out.append(dict(message))
        if close_dangling:
            out.extend(_closing_messages(open_calls))
        return out

    def lock(self) -> None:
        """Claim the session for this process (one writer per session); the claim ends with the
        process, even a killed one. Raises SessionError when another process holds it."""
        if self._lock_fd is not None:
            return
        self._lock_fd = claim(self.dir)

    @property
    def holds_lock(self) -> bool:
        """True while this object holds the session's one-writer lock."""
        return self._lock_fd is not None

    def close(self) -> None:
        """Close the log and give up the lock; the object can still append (it reopens)."""
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:  # noqa: BLE001 - best effort while the interpreter shuts down
            pass

    # -- meta and files -----------------------------------------------------------------------
    def save_meta(self) -> None:
        """Write session.json atomically, stamping ``updated``."""
        if self.meta_damaged:
            raise SessionWriteError(f"{self.meta_path} is damaged and could not be moved aside; "
                                    "it is not overwritten (move it away or fix it by hand)")
        self.meta.updated = now()
        self.meta.name = self.name
        self._write_whole(self.meta_path, self.meta.model_dump_json(indent=2) + "\n")

    def path(self, relative: str | Path) -> Path:
        """A path inside the session folder; refuses absolute paths and ``..``."""
        rel = Path(relative)
        if rel.is_absolute() or ".." in rel.parts:
            raise SessionError(f"{str(relative)!r} is not a path inside the session folder")
        return self.dir / rel

    def write_text(self, relative: str | Path, text: str) -> Path:
        """Write an artifact inside the session folder atomically."""
        return self._write_whole(self.path(relative), text)

    def _write_whole(self, path: Path, text: str) -> Path:
        if not self.dir.is_dir():
            raise SessionWriteError(f"could not save {path}: the session folder no longer exists "
                                    "(renamed or deleted elsewhere); it is not recreated")
        try:
            return atomic_write_text(path, text)
        except OSError as exc:
            raise SessionWriteError(f"could not save {path}: {exc.strerror or exc}; "
                                    "the previous version of the file is kept") from exc

    # -- internals --------------------------------------------------------------------------
    def _load_records(self) -> None:
        try:
            data = self.conversation_path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            self.problems.append(f"{CONVERSATION}: cannot be read ({exc.strerror or exc}); no records shown")
            return
        lines = data.split(b"\n")
        tail = lines.pop()  # b"" when the file ends with a newline
        if tail:
            if record_problem(parse_line(tail)) is None:
                lines.append(tail)  # a whole record that only lacks its newline: keep it
                self._unterminated = True
            else:
                self._torn_at = len(data) - len(tail)
                self.problems.append(
                    f"{CONVERSATION}:{len(lines) + 1}: the last line was cut off by a crash ({len(tail)} bytes); "
                    f"it is ignored, moved to {CONVERSATION}.torn-<time> before the next record is saved, "
                    "and every earlier record is kept"
                )
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            record = parse_line(raw)
            problem = record_problem(record)
            if problem is not None:
                self.problems.append(f"{CONVERSATION}:{number}: {problem}; line skipped")
                continue
            self._records.append(record)

    def _cut_back(self, size: int) -> None:
        """Remove a partly written record so the log keeps ending on a whole line."""
        try:
            os.ftruncate(self._handle, size)
        except OSError:
            self._torn_at = size  # cut it on the next append, or ignore it on the next read
            self.close()

    def _open_for_append(self) -> int:
        if self._handle is None:
            if not self.dir.is_dir():  # never recreate a folder renamed or deleted elsewhere
                raise SessionWriteError(f"could not save to {self.conversation_path}: the session folder no longer "
                                        "exists (renamed or deleted elsewhere); it is not recreated")
            try:
                if self._torn_at is not None:
                    self._set_torn_tail_aside()
                self._handle = os.open(self.conversation_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except OSError as exc:
                raise SessionWriteError(f"could not save to {self.conversation_path}: {exc.strerror or exc}; "
                                        "nothing was written") from None
        return self._handle

    def _set_torn_tail_aside(self) -> None:
        """Copy the cut-off last line to a side file, then cut it so the next record starts on its own line."""
        assert self._torn_at is not None
        with open(self.conversation_path, "r+b") as handle:
            handle.seek(self._torn_at)
            tail = handle.read()
            if tail:
                atomic_write_bytes(self.dir / f"{CONVERSATION}.torn-{_stamp()}", tail)
            handle.truncate(self._torn_at)
            os.fsync(handle.fileno())
        self._torn_at = None


def _stamp() -> str:
    return now().strftime("%Y%m%dT%H%M%S.%fZ")


def claim(folder: Path) -> int:
    """Take the one-writer lock of a session folder; returns the lock's file descriptor (close it to
    let go). Raises SessionError when another process holds it, SessionWriteError when the folder
    cannot hold a lock file."""
    import fcntl

    try:
        fd = os.open(Path(folder) / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise SessionWriteError(f"cannot write to the session folder {folder}: {exc.strerror or exc}; "
                                "nothing was changed") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise SessionError(f"session {Path(folder).name!r} is open in another tunesmith (pid {holder}); "
                           "close it there first") from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
    except OSError:
        pass  # the lock holds; only the pid note for others is missing
    return fd


def _closing_messages(open_calls: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "role": "tool",
            "tool_call_id": call_id,
            "name": name,
            "content": "No result: the session stopped before this tool call finished.",
        }
        for call_id, name in open_calls.items()
    ]


class Workspace:
    """The folder that holds all sessions: ``<root>/sessions/<name>/``."""

    def __init__(self, root: str | os.PathLike[str] | None = None):
        self.root = Path(root) if root is not None else default_root()

    @property
    def sessions_dir(self) -> Path:
        return self.root / SESSIONS

    def create(self, name: str | None = None, *, title: str | None = None, planner_model: str | None = None) -> Session:
        """Create a session. Without ``name``: ``<date>-<slug of title>`` or ``session-N``."""
        self.sessions_dir.mkdir(parents=True, exist_ok=True)
        if name is not None:
            folder = self.sessions_dir / validate_name(name)
            try:
                folder.mkdir()
            except FileExistsError:
                raise SessionError(f"a session named {name!r} already exists in {self.sessions_dir}") from None
        else:
            folder = self._make_unique_folder(title)
        session = Session(folder, SessionMeta(name=folder.name, title=title, planner_model=planner_model))
        session.save_meta()
        return session

    def list(self) -> list[SessionMeta]:
        """Every session's meta, most recently active first."""
        if not self.sessions_dir.is_dir():
            return []
        metas: list[tuple[datetime, SessionMeta]] = []
        for folder in self.sessions_dir.iterdir():
            if not folder.is_dir() or folder.name.startswith("."):
                continue
            meta = _read_meta(folder)
            session_mtime = _mtime(folder / CONVERSATION) or meta.updated
            metas.append((max(session_mtime, meta.updated), meta))
        metas.sort(key=lambda item: item[0], reverse=True)
        return [meta for _, meta in metas]

    def names(self) -> list[str]:
        return [meta.name for meta in self.list()]

    def exists(self, name: str) -> bool:
        return _NAME.match(name or "") is not None and (self.sessions_dir / name / META).is_file()

    def open(self, name: str) -> Session:
        """Open an existing session (reads its meta and conversation).

        A missing session.json is rebuilt; an unreadable or wrongly typed one is moved aside to
        ``session.json.corrupt-<time>`` (never overwritten), what still validates is kept, and
        ``Session.problems`` says so."""
        validate_name(name)
        folder = self.sessions_dir / name
        if not folder.is_dir():
            known = ", ".join(self.names()[:10]) or "none yet"
            raise SessionError(f"no session named {name!r} in {self.sessions_dir} (sessions: {known})")
        meta, problem = _read_meta_checked(folder)
        session = Session(folder, meta)
        if problem is None:
            return session
        if meta.phase == "unknown":  # the log records every step change: the last one is the step
            phases = [r["phase"] for r in session.records() if r.get("type") == "phase" and isinstance(r.get("phase"), str)]
            meta.phase = phases[-1] if phases else "use_case"
        if (folder / META).exists():
            aside = folder / f"{META}.corrupt-{_stamp()}"
            try:
                os.rename(folder / META, aside)
            except OSError as exc:
                session.meta_damaged = True
                session.problems.append(f"{problem}; it could not be moved aside ({exc.strerror or exc}), "
                                        "so it is left as it is and not overwritten")
                return session
            problem += f"; the original is kept as {aside.name}"
        try:
            session.save_meta()
        except SessionWriteError as exc:
            problem += f"; a new {META} could not be written ({exc})"
        session.problems.append(problem)
        return session

    def rename(self, old: str, new: str) -> Session:
        """Rename a session folder (and the name in its session.json); refused while the session is
        open in another tunesmith."""
        validate_name(old)
        validate_name(new)
        source, target = self.sessions_dir / old, self.sessions_dir / new
        if not source.is_dir():
            raise SessionError(f"no session named {old!r} in {self.sessions_dir}")
        if target.exists():
            raise SessionError(f"a session named {new!r} already exists")
        fd = claim(source)
        try:
            os.rename(source, target)
        finally:
            os.close(fd)
        session = self.open(new)
        session.save_meta()
        return session

    def delete(self, name: str, held: Session | None = None) -> None:
        """Delete a session folder and everything in it (the CLI asks first). Refused while another
        tunesmith has it open; ``held`` is this process's own locked Session of it, if any."""
        validate_name(name)
        folder = self.sessions_dir / name
        if not folder.is_dir():
            raise SessionError(f"no session named {name!r} in {self.sessions_dir}")
        own = held is not None and held.holds_lock
        fd = None if own else claim(folder)
        # Move it out of sight first so a crash mid-delete never leaves a half session listed.
        doomed = self.sessions_dir / f".deleting-{name}-{uuid.uuid4().hex[:8]}"
        try:
            os.rename(folder, doomed)
        finally:
            if fd is not None:
                os.close(fd)
            if held is not None:
                held.close()
        shutil.rmtree(doomed, ignore_errors=True)

    def _make_unique_folder(self, title: str | None) -> Path:
        slug = slugify(title or "")
        if slug:
            base = f"{date.today().isoformat()}-{slug}"
            candidates = [base] + [f"{base}-{n}" for n in range(2, 1000)]
        else:
            taken = {p.name for p in self.sessions_dir.iterdir()}
            start = 1 + max((int(m.group(1)) for t in taken if (m := re.match(r"^session-(\d+)$", t))), default=0)
            candidates = [f"session-{n}" for n in range(start, start + 1000)]
        for candidate in candidates:
            try:
                (self.sessions_dir / candidate).mkdir()
                return self.sessions_dir / candidate
            except FileExistsError:
                continue
        raise SessionError("could not find a free session name")  # pragma: no cover


def default_root(env: dict[str, str] | None = None) -> Path:
    """``$TUNESMITH_HOME`` when set, else ``./tunesmith`` under the current directory."""
    env = os.environ if env is None else env
    home = env.get("TUNESMITH_HOME")
    return Path(home).expanduser() if home else Path.cwd() / "tunesmith"


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    except OSError:
        return None


def _read_meta(folder: Path) -> SessionMeta:
    return _read_meta_checked(folder)[0]


def _read_meta_checked(folder: Path) -> tuple[SessionMeta, str | None]:
    """The folder's meta and what was wrong with it, never an error. A missing or unreadable
    session.json gives a stand-in meta (phase ``unknown``); a JSON object with wrongly typed
    fields keeps every field that validates."""
    try:
        text = (folder / META).read_text(encoding="utf-8")
    except FileNotFoundError:
        return _stand_in(folder), f"{META} was missing; it was rebuilt"
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        return _stand_in(folder), f"{META} could not be read ({reason})"
    try:
        data = json.loads(text)
    except ValueError as exc:
        return _stand_in(folder), f"{META} is not valid JSON ({exc})"
    if not isinstance(data, dict):
        return _stand_in(folder), f"{META} is not a JSON object"
    meta, dropped = _salvage(data, folder)
    if meta.name != folder.name:
        meta.name = folder.name
    if dropped:
        return meta, f"{META} had wrongly typed fields ({', '.join(dropped)}); they were reset, the rest is kept"
    return meta, None


def _stand_in(folder: Path) -> SessionMeta:
    stamp = _mtime(folder) or now()
    return SessionMeta(name=folder.name, created=stamp, updated=stamp, phase="unknown")


def _salvage(data: dict[str, Any], folder: Path) -> tuple[SessionMeta, list[str]]:
    """Validate ``data``, dropping the top-level fields that fail until the rest validates."""
    data = {**data, "name": folder.name}
    dropped: list[str] = []
    for _ in range(len(data) + 1):
        try:
            meta = SessionMeta.model_validate(data)
            if "phase" in dropped:
                meta.phase = "unknown"
            return meta, dropped
        except ValidationError as exc:
            keys = {str(error["loc"][0]) for error in exc.errors() if error.get("loc")}
            keys.discard("name")
            if not keys:
                break
            dropped += sorted(keys)
            data = {k: v for k, v in data.items() if k not in keys}
    return _stand_in(folder), dropped or ["all"]
