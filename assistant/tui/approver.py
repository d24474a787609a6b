"""The bridge from the agent's Approver protocol to the approval modal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.events import ApprovalRequested, Decision

if TYPE_CHECKING:
    from textual.app import App


class TuiApprover:
    """Awaits the person's decision in the approval modal; fails closed if the modal cannot answer.

    ``decide`` runs inside the agent's Textual worker, where ``push_screen_wait`` is allowed.
    """

    asks_person = True

    def __init__(self, app: "App") -> None:
        self.app = app

    async def decide(self, request: ApprovalRequested) -> Decision:
        from assistant.tui.screens.approval import ApprovalScreen

        decision = await self.app.push_screen_wait(ApprovalScreen(request))
        if not isinstance(decision, Decision):
            return Decision(kind="reject_once", comment="The approval card closed without a decision.", by="person")
        return decision
