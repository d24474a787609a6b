"""The approval card as text: what a tool call will do (summary, estimate, diff, code, command,
arguments, blocking findings). The terminal app draws it as a modal; `tunesmith approve` prints it
and an MCP client shows it in its elicitation form."""

from __future__ import annotations

import json
from typing import Any

DECISION_LABELS = {
    "allow_once": "Allow once",
    "allow_always": "Allow always",
    "reject_once": "Reject once",
    "reject_always": "Reject always",
}
"""Decision kind -> what the person reads."""


def format_estimate(estimate: dict[str, Any] | None) -> str:
    """'≈ 2 min · 12,000 tokens · 40 calls · $0.0300 · note' (empty when nothing is known)."""
    if not estimate:
        return ""
    parts = []
    seconds = estimate.get("seconds")
    if seconds is not None:
        parts.append(f"≈ {seconds:.0f} s" if seconds < 120 else f"≈ {seconds / 60:.0f} min")
    if estimate.get("tokens") is not None:
        parts.append(f"{estimate['tokens']:,} tokens")
    if estimate.get("calls") is not None:
        parts.append(f"{estimate['calls']:,} calls")
    if estimate.get("cost_usd") is not None:
        parts.append(f"${estimate['cost_usd']:.4f}")
    if estimate.get("note"):
        parts.append(str(estimate["note"]))
    return " · ".join(parts)


def arguments_text(arguments: dict[str, Any]) -> str:
    try:
        return json.dumps(arguments, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(arguments)


def card_text(tool: str, arguments: dict[str, Any], preview: dict[str, Any], *, limit: int = 12_000) -> str:
    """The card as plain text with fenced blocks; each block is cut at ``limit`` characters."""
    lines = [f"Approve {tool}?", str(preview.get("summary") or tool)]
    estimate = format_estimate(preview.get("estimate"))
    if estimate:
        lines.append(f"Estimate: {estimate}")
    blocks = [("Changes", "diff", preview.get("diff")), ("Code it will run", "python", preview.get("code")),
              ("Command", "bash", preview.get("command"))]
    if not any(text for _, _, text in blocks) and arguments:
        blocks.append(("Arguments", "json", arguments_text(arguments)))
    for title, fence, text in blocks:
        if not text:
            continue
        text = str(text)
        cut = f"\n(first {limit} of {len(text)} characters)" if len(text) > limit else ""
        lines += ["", f"{title}:", f"```{fence}", text[:limit].rstrip(), "```" + cut]
    findings = list(preview.get("findings") or [])
    if findings:
        lines += ["", "Blocking findings (allowing waives them):"] + [f"- {finding}" for finding in findings]
    return "\n".join(lines)
