"""The status bar: session, model, phase, tokens, cost, and whether the agent is busy."""

from __future__ import annotations

from textual.markup import escape
from textual.reactive import reactive
from textual.widgets import Static


class StatusBar(Static):
    session_name = reactive("")
    model = reactive("")
    phase = reactive("")
    prompt_tokens = reactive(0)
    completion_tokens = reactive(0)
    cost_usd = reactive(0.0)
    cached_tokens = reactive(0)
    step = reactive("")
    step_tokens = reactive(0)
    busy = reactive("")

    def render(self) -> str:
        tokens = self.prompt_tokens + self.completion_tokens
        parts = [
            f"session [b]{escape(self.session_name or '-')}[/b]",
            f"model {escape(self.model or '-')}",
            f"phase {escape(self.phase or '-')}",
            f"tokens {tokens:,}" + self._detail(),
            f"cost ${self.cost_usd:.4f}",
        ]
        if self.busy:
            parts.append(f"[i]{self.busy}[/i]")
        return "  │  ".join(parts)

    def _detail(self) -> str:
        """`` (data 2,345; cached 1,000)`` once the planner spent tokens in this step."""
        parts = [f"{escape(self.step)} {self.step_tokens:,}"] if self.step and self.step_tokens else []
        if self.cached_tokens:
            parts.append(f"cached {self.cached_tokens:,}")
        return f" ({'; '.join(parts)})" if parts else ""

    def set_usage(self, prompt_tokens: int, completion_tokens: int, cost_usd: float, cached_tokens: int = 0,
                  step: str = "", step_tokens: int = 0) -> None:
        self.prompt_tokens = int(prompt_tokens or 0)
        self.completion_tokens = int(completion_tokens or 0)
        self.cost_usd = float(cost_usd or 0.0)
        self.cached_tokens = int(cached_tokens or 0)
        self.step, self.step_tokens = step, int(step_tokens or 0)
