"""Who may let a tool run: each tool's default permission, standing rules, and approvers.

The gate fails closed. A tool declares ``always`` (reading, showing), ``ask`` (anything that
spends compute or money, runs generated code, or writes a spec the person must approve) or
``never``. For an ``ask`` tool the ``Policy`` looks for a standing rule (the person chose
"always allow / always reject" for that tool, or a headless policy file says so); without one
the ``Approver`` is asked. No approver means the call is rejected.

Person-only tools (``Tool.person_only``: waiving a quality finding, rating answers) are decided by
the person alone: no remembered rule, policy file ``allow`` or ``--yes`` lets them run; only an
approver that asks a person (``asks_person``) may allow them, and elsewhere they are rejected with
``Decision.needs_person`` so a headless run stops there (exit 3) and names what waits.
A policy file's rule on a tool that needs no approval is applied (``reject`` and ``ask`` work on
``always`` tools); a rule that cannot be applied (``allow`` on a person-only or disabled tool) is
refused with a message when the agent is built.

Approver protocol: ``asks_person: bool`` and ``async def decide(self, request: ApprovalRequested) -> Decision``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal, Protocol

from assistant.events import ApprovalRequested, Decision
from assistant.session import SessionMeta
from skills.toolkit import Tool

Rule = Literal["allow", "reject", "ask"]
RULES = ("allow", "reject", "ask")


class Approver(Protocol):
    asks_person: bool
    """True when ``decide`` shows the call to a person and returns their answer (the app's card)."""

    async def decide(self, request: ApprovalRequested) -> Decision: ...


def asks_person(approver: Approver | None) -> bool:
    """Whether ``approver`` asks a person; an approver that does not say is taken not to (fails closed)."""
    return approver is not None and getattr(approver, "asks_person", False) is True


class YesApprover:
    """``--yes``: allows every ``ask`` tool without asking (never a ``never`` tool, never a person-only one)."""

    asks_person = False

    async def decide(self, request: ApprovalRequested) -> Decision:
        return Decision("allow_once", by="--yes", source="yes")


class PolicyFileError(ValueError):
    """A policy file a person wrote that cannot be used; the message names the file and key."""


@dataclass
class Gate:
    """What the policy says about one call before anyone is asked."""

    action: Literal["run", "ask", "decided"]
    """run: no decision needed (an ``always`` tool); ask: ask the approver; decided: see decision."""
    decision: Decision | None = None


@dataclass
class Policy:
    """Standing approval rules by tool name.

    ``rules`` come from the person's "always" decisions and live in the session meta
    (``approval_rules``); ``file_rules`` come from a headless policy file and win over them.
    """

    rules: dict[str, Rule] = field(default_factory=dict)
    file_rules: dict[str, Rule] = field(default_factory=dict)
    file_default: Rule = "ask"
    source: str = "policy"

    def gate(self, tool: Tool) -> Gate:
        if tool.permission == "never":
            return Gate("decided", Decision("reject_once", f"The tool {tool.name} is disabled and never runs.", by="policy",
                                           source="policy"))
        if tool.permission == "always":
            # Only a rule the policy file names for this very tool applies (its default does not).
            rule = self.file_rules.get(tool.name, "allow")
        else:
            rule = self.file_rules.get(tool.name) or self.rules.get(tool.name) or self.file_default
        if rule == "reject":
            return Gate("decided", Decision("reject_once", f"A standing rule rejects {tool.name}.", by=self.source,
                                                    source="policy"))
        if tool.person_only:
            return Gate("ask")  # no rule can allow it: the person decides each time
        if rule == "allow":
            return Gate("run") if tool.permission == "always" else Gate("decided", Decision("allow_once", by=self.source, source="policy"))
        return Gate("ask")

    def remember(self, tool_name: str, decision: Decision) -> bool:
        """Store an "always" decision as a rule; True when the rules changed."""
        rule: Rule | None = {"allow_always": "allow", "reject_always": "reject"}.get(decision.kind)  # type: ignore[assignment]
        if rule is None or self.rules.get(tool_name) == rule:
            return False
        self.rules[tool_name] = rule
        return True

    @classmethod
    def for_session(cls, meta: SessionMeta | None, policy_file: str | Path | None = None) -> "Policy":
        """The session's remembered rules (none without a session) plus an optional policy file."""
        policy = cls(rules=dict(meta.approval_rules) if meta is not None else {})
        if policy_file:
            policy.file_rules, policy.file_default = load_policy_file(policy_file)
            policy.source = f"policy file {Path(policy_file).name}"
        return policy

    def store(self, meta: SessionMeta) -> None:
        """Write the remembered rules into the session meta (the caller saves it)."""
        meta.approval_rules = dict(self.rules)


def load_policy_file(path: str | Path) -> tuple[dict[str, Rule], Rule]:
    """Read a YAML policy file for headless runs.

    ```yaml
    default: ask          # allow | reject | ask (ask = reject when no one can be asked)
    tools:
      write_use_case: allow
      start_training: reject
    ```
    """
    from ruamel.yaml import YAML  # lazy: only headless runs with a policy file need it

    path = Path(path)
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise PolicyFileError(f"{path}: policy file not found") from None
    except Exception as exc:  # noqa: BLE001 (YAML syntax errors of many kinds)
        raise PolicyFileError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise PolicyFileError(f"{path}: expected a mapping with 'default' and 'tools'")
    unknown = set(data) - {"default", "tools"}
    if unknown:
        raise PolicyFileError(f"{path}: unknown keys {sorted(unknown)}; allowed: default, tools")
    default = data.get("default", "ask")
    if default not in RULES:
        raise PolicyFileError(f"{path}: default: {default!r} is not one of {', '.join(RULES)}")
    tools = data.get("tools") or {}
    if not isinstance(tools, dict):
        raise PolicyFileError(f"{path}: tools: expected a mapping of tool name to allow/reject/ask")
    for name, rule in tools.items():
        if rule not in RULES:
            raise PolicyFileError(f"{path}: tools.{name}: {rule!r} is not one of {', '.join(RULES)}")
    return {str(k): v for k, v in tools.items()}, default


def policy_conflicts(policy: Policy, tools: Iterable[Tool]) -> list[str]:
    """Policy-file rules that cannot be applied: ``allow`` on a person-only tool or a disabled one."""
    problems = []
    for item in tools:
        rule = policy.file_rules.get(item.name)
        if rule != "allow":
            continue
        if item.person_only:
            problems.append(f"tools.{item.name}: allow is refused: only the person can allow {item.name}; "
                            "a policy file may say reject or ask")
        elif item.permission == "never":
            problems.append(f"tools.{item.name}: allow is refused: {item.name} is disabled and never runs")
    return problems


def needs_person(request: ApprovalRequested) -> Decision:
    """The rejection of a person-only call when no person can be asked; names what waits for them."""
    findings = [str(f) for f in request.preview.get("findings") or []]
    what = "; ".join(findings) if findings else str(request.preview.get("summary") or request.tool)
    comment = (f"Only the person can allow {request.tool} ({what}); --yes, policy files and the planner "
               "cannot. It waits for the person in the app (tunesmith resume).")
    return Decision("reject_once", comment, by="person-only", needs_person=True, source="no_approver")


def unknown_tools_in_policy(policy: Policy, tools: Iterable[Tool]) -> list[str]:
    """Tool names a policy file mentions that no skill declares (likely typos)."""
    names = {tool.name for tool in tools}
    return sorted(name for name in policy.file_rules if name not in names)


NO_APPROVER = Decision(
    "reject_once",
    "No one was there to approve this call, so it did not run. Run with --yes or a policy file to allow it headless.",
    by="no-approver",
    source="no_approver",
)
