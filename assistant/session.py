"""Sessions on disk: one folder per session under ``<workspace>/sessions/<name>/``.

``conversation.jsonl`` is append-only: one JSON record per line, flushed and fsynced per record,
so a crash at any instant keeps every record written before it. ``session.json`` (SessionMeta)
and artifacts are written atomically (temp file + rename). A torn last line, which only a crash
in the middle of a write can leave, is ignored when reading, reported in ``Session.problems``,
and cut off before the next append; earlier records are never lost.

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
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from specs.io import atomic_write_text

CONVERSATION = "conversation.jsonl"
META = "session.json"
LOCK = ".lock"
SESSIONS = "sessions"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
MESSAGE_TYPES = ("system", "user", "assistant", "tool")


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


class Usage(BaseModel):
    """Tokens and money the planner model spent in this session."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)

    prompt_tokens: int = 0
    """Prompt tokens sent to the planner model."""
    completion_tokens: int = 0
    """Tokens the planner model answered with."""
    cost_usd: float = 0.0
    """Estimated cost in US dollars (0 for local or unknown models)."""


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


class Session:
    """One session folder. Not safe for two writers at once (one app per session)."""

    def __init__(self, folder: Path, meta: SessionMeta):
        self.dir = Path(folder)
        self.meta = meta
        self.problems: list[str] = []
        """What reading found wrong (a torn last line, an unreadable line), for the UI to show."""
        self._records: list[dict[str, Any]] = []
        self._torn_at: int | None = None
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
        self._records.append(record)
        return record

    def records(self) -> list[dict[str, Any]]:
        """Every complete record, oldest first (a copy of the list; the dicts are shared)."""
        return list(self._records)

    def messages(self, close_dangling: bool = False) -> list[dict[str, Any]]:
        """OpenAI-format messages rebuilt from the records, in order.

        With ``close_dangling``, an assistant tool call that has no tool result (the app stopped
        before it finished) gets a tool message saying so, which chat APIs require.
        """
        out: list[dict[str, Any]] = []
        open_calls: dict[str, str] = {}
        for record in self._records:
            message = record.get("message")
            if record.get("type") not in MESSAGE_TYPES or not isinstance(message, dict):
                continue
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
        """Claim the session for this process (one app per session); the claim ends with the
        process, even a killed one. Raises SessionError when another process holds it."""
        import fcntl

        if self._lock_fd is not None:
            return
        fd = os.open(self.dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise SessionError(f"session {self.name!r} is open in another tunesmith (pid {holder})") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

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
        except Exception:
            pass

    # -- meta and files -----------------------------------------------------------------------
    def save_meta(self) -> None:
        """Write session.json atomically, stamping ``updated``."""
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
        try:
            return atomic_write_text(path, text)
        except OSError as exc:
            raise SessionWriteError(f"could not save {path}: {exc.strerror or exc}; "
                                    "the previous version of the file is kept") from exc

    def last_activity(self) -> datetime:
        """The later of ``meta.updated`` and the conversation's last write."""
        try:
            mtime = datetime.fromtimestamp(self.conversation_path.stat().st_mtime, timezone.utc)
        except OSError:
            return self.meta.updated
        return max(mtime, self.meta.updated)

    # -- internals --------------------------------------------------------------------------
    def _load_records(self) -> None:
        try:
            data = self.conversation_path.read_bytes()
        except FileNotFoundError:
            return
        lines = data.split(b"\n")
        tail = lines.pop()  # b"" when the file ends with a newline
        if tail:
            self._torn_at = len(data) - len(tail)
            self.problems.append(
                f"{CONVERSATION}: the last line was cut off by a crash ({len(tail)} bytes); "
                "it is ignored and every earlier record is kept"
            )
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                self.problems.append(f"{CONVERSATION}:{number}: not valid JSON; line skipped")
                continue
            if not isinstance(record, dict):
                self.problems.append(f"{CONVERSATION}:{number}: not a JSON object; line skipped")
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
            self.dir.mkdir(parents=True, exist_ok=True)
            if self._torn_at is not None:
                # Cut the partial line so the next record starts on its own line.
                with open(self.conversation_path, "r+b") as handle:
                    handle.truncate(self._torn_at)
                    os.fsync(handle.fileno())
                self._torn_at = None
            self._handle = os.open(self.conversation_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        return self._handle


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


# -- record helpers (the shapes other modules write) ---------------------------------------------
def user_record(content: str, **extra: Any) -> dict[str, Any]:
    return {"type": "user", "message": {"role": "user", "content": content}, **extra}


def assistant_record(content: str | None, tool_calls: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content or ""}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {"type": "assistant", "message": message, **extra}


def tool_record(tool_call_id: str, name: str, content: str, **extra: Any) -> dict[str, Any]:
    message = {"role": "tool", "tool_call_id": tool_call_id, "name": name, "content": content}
    return {"type": "tool", "message": message, **extra}


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
        """Open an existing session (reads its meta and conversation)."""
        validate_name(name)
        folder = self.sessions_dir / name
        if not folder.is_dir():
            known = ", ".join(self.names()[:10]) or "none yet"
            raise SessionError(f"no session named {name!r} in {self.sessions_dir} (sessions: {known})")
        meta, problem = _read_meta_checked(folder)
        session = Session(folder, meta)
        if problem:
            session.problems.append(problem)
        if not (folder / META).is_file():
            session.save_meta()
        return session

    def rename(self, old: str, new: str) -> Session:
        """Rename a session folder (and the name in its session.json)."""
        validate_name(old)
        validate_name(new)
        source, target = self.sessions_dir / old, self.sessions_dir / new
        if not source.is_dir():
            raise SessionError(f"no session named {old!r} in {self.sessions_dir}")
        if target.exists():
            raise SessionError(f"a session named {new!r} already exists")
        os.rename(source, target)
        session = self.open(new)
        session.save_meta()
        return session

    def delete(self, name: str) -> None:
        """Delete a session folder and everything in it (the CLI asks first)."""
        validate_name(name)
        folder = self.sessions_dir / name
        if not folder.is_dir():
            raise SessionError(f"no session named {name!r} in {self.sessions_dir}")
        # Move it out of sight first so a crash mid-delete never leaves a half session listed.
        doomed = self.sessions_dir / f".deleting-{name}-{uuid.uuid4().hex[:8]}"
        os.rename(folder, doomed)
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
    """The folder's meta and what was wrong with it; a missing or unreadable session.json gives
    a stand-in meta (phase ``unknown``), never an error."""
    problem = None
    try:
        meta = SessionMeta.model_validate_json((folder / META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        problem = f"{META} was missing; it was rebuilt"
    except (OSError, ValueError) as exc:
        problem = f"{META} could not be read ({type(exc).__name__}); it is left as it is"
    if problem:
        stamp = _mtime(folder) or now()
        meta = SessionMeta(name=folder.name, created=stamp, updated=stamp, phase="unknown")
    if meta.name != folder.name:
        meta.name = folder.name
    return meta, problem
