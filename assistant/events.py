"""Events the agent yields and the UI draws. Plain dataclasses: no UI, no LLM here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from skills.toolkit import Waiver

DecisionKind = Literal["allow_once", "allow_always", "reject_once", "reject_always"]
DecisionSource = Literal["person", "policy", "yes", "no_approver"]
"""Who decided: the person (app card, `tunesmith approve`, MCP elicitation), a standing rule or policy
file, --yes, or nobody (no approver could be asked, or a person-only call met no person)."""


@dataclass
class Decision:
    """A person's (or policy's) answer to an approval request."""

    kind: DecisionKind
    comment: str | None = None
    """Read by the model next, e.g. why it was rejected or what to change."""
    by: str = "person"
    """Who decided, in words for the log and the card (e.g. `person (tunesmith approve)`, `--yes`)."""
    waive: list[Waiver] = field(default_factory=list)
    """The blocking findings the person waived with this decision (``code: message`` text or a file's
    ``{"code", "message"}`` object given here is read into records)."""
    needs_person: bool = False
    """A rejection because only the person can decide this call and no person was asked
    (--yes, a policy file, a headless run): headless runs stop there with exit 3."""
    source: DecisionSource = "person"
    """Who decided, typed: control flow reads this, never ``by``."""

    def __post_init__(self) -> None:
        self.waive = [Waiver.read(waiver) for waiver in self.waive]

    @property
    def allowed(self) -> bool:
        return self.kind in ("allow_once", "allow_always")

    @property
    def ends_turn(self) -> bool:
        """A rejection after which the agent stops and waits for the person: nobody could approve,
        only the person can decide, or the person rejected without saying what to change."""
        if self.allowed:
            return False
        return self.source == "no_approver" or self.needs_person or (self.source == "person" and not self.comment)


@dataclass
class Event:
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["type"] = type(self).__name__
        return data


@dataclass
class TextDelta(Event):
    """A piece of the assistant's streamed answer."""

    text: str


@dataclass
class AssistantMessage(Event):
    """The assistant's complete message for one model call, once it is recorded: after its TextDelta
    pieces and before its tool calls run. ``content`` is what the log keeps (a tool call the model
    wrote as text is taken out of it), so the app shows what a resumed session replays."""

    content: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ToolCallStarted(Event):
    call_id: str
    tool: str
    arguments: dict[str, Any]


@dataclass
class ApprovalRequested(Event):
    call_id: str
    tool: str
    arguments: dict[str, Any]
    preview: dict[str, Any]
    """A skills.toolkit.Preview as a dict: summary, diff, code, command, estimate, findings."""
    person_only: bool = False
    """Only the person can allow this call; the card offers no "always allow"."""


@dataclass
class DecisionRecorded(Event):
    call_id: str
    tool: str
    decision: str
    comment: str | None
    by: str
    needs_person: bool = False
    """Rejected because only the person can decide it (see Decision.needs_person)."""
    source: DecisionSource = "person"
    """Who decided, typed (see Decision.source)."""


@dataclass
class ToolFinished(Event):
    call_id: str
    tool: str
    content: str
    is_error: bool = False
    files: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Question(Event):
    """The agent asks the person one thing; choices plus free text."""

    text: str
    choices: list[str] = field(default_factory=list)
    allow_free_text: bool = True


@dataclass
class PhaseChanged(Event):
    phase: str


@dataclass
class Usage(Event):
    """Tokens and money spent by the planner so far in this session (and in the current step)."""

    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    cached_prompt_tokens: int = 0
    step: str = ""
    step_tokens: int = 0
    """Prompt plus completion tokens of ``step``."""


@dataclass
class Progress(Event):
    """Progress of long work (generation, training): done/total, rate, ETA, free-form fields."""

    task: str
    done: float
    total: float | None = None
    rate: float | None = None
    eta_s: float | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Notice(Event):
    """Something the person should know that is not the model's words (banner, warning, error)."""

    text: str
    level: Literal["info", "warning", "error"] = "info"


@dataclass
class TurnEnded(Event):
    """The agent stopped and waits for the person."""

    reason: Literal["answer", "question", "limit", "interrupted", "error"] = "answer"
