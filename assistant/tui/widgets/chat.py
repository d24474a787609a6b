"""The chat pane: the person's words, the assistant's streamed markdown, notices, cards."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Markdown, Static


class UserMessage(Static):
    """What the person said."""

    def __init__(self, text: str) -> None:
        super().__init__(text, markup=False, classes="user-message")
        self.text = text


class AssistantMessage(Markdown):
    """The assistant's words; grows while the answer streams in."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text, classes="assistant-message")
        self.text = text


class NoticeBanner(Static):
    """A notice that is not the model's words: info, warning or error."""

    def __init__(self, text: str, level: str = "info") -> None:
        super().__init__(text, markup=False, classes=f"notice notice-{level}")
        self.text = text
        self.level = level


class ChatView(VerticalScroll):
    """Scrolls the conversation; keeps to the bottom while the person has not scrolled up."""

    DEFAULT_CSS = """
    ChatView { height: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._streaming: AssistantMessage | None = None
        self._stream_text = ""
        self._shown = 0
        """How much of _stream_text the Markdown widget has been given."""
        self._flush_pending = False

    async def add(self, widget: Widget) -> Widget:
        follow = self.is_vertical_scroll_end or self.max_scroll_y == 0
        await self.mount(widget)
        if follow:
            self.scroll_end(animate=False)
        return widget

    async def add_user(self, text: str) -> None:
        await self.end_stream()
        await self.add(UserMessage(text))

    async def add_notice(self, text: str, level: str = "info") -> None:
        await self.add(NoticeBanner(text, level))

    async def add_assistant(self, text: str) -> None:
        """A complete assistant message (history or a non-streamed answer)."""
        if self._streaming is not None:
            await self.end_stream(text)
            return
        if text.strip():
            await self.add(AssistantMessage(text))

    async def append_delta(self, text: str) -> None:
        """Stream text into the current assistant message; redraws are throttled to ~20/s."""
        if self._streaming is None:
            self._streaming = AssistantMessage("")
            self._stream_text = ""
            self._shown = 0
            await self.add(self._streaming)
        self._stream_text += text
        if not self._flush_pending:
            self._flush_pending = True
            self.set_timer(0.05, self._flush)

    async def _flush(self) -> None:
        """Give the widget what arrived since the last flush (Markdown.append re-parses only the tail)."""
        self._flush_pending = False
        widget = self._streaming
        if widget is not None and self._shown < len(self._stream_text):
            follow = self.is_vertical_scroll_end
            fresh, self._shown = self._stream_text[self._shown:], len(self._stream_text)
            widget.text = self._stream_text
            await widget.append(fresh)
            if follow:
                self.scroll_end(animate=False)

    async def end_stream(self, final_text: str | None = None) -> None:
        """Finish the streamed message, replacing it with the complete text when given."""
        widget = self._streaming
        if widget is None:
            return
        self._streaming = None
        text = final_text if final_text is not None else self._stream_text
        self._stream_text = ""
        if not text.strip():
            await widget.remove()
            return
        widget.text = text
        if text.startswith(widget.source) and widget.source:
            await widget.append(text[len(widget.source):])
        else:
            await widget.update(text)
        self.scroll_end(animate=False)

    def transcript(self) -> list[tuple[str, str]]:
        """(kind, text) of every entry: for tests and copy-out."""
        out: list[tuple[str, str]] = []
        for child in self.children:
            if isinstance(child, UserMessage):
                out.append(("user", child.text))
            elif isinstance(child, AssistantMessage):
                out.append(("assistant", child.text))
            elif isinstance(child, NoticeBanner):
                out.append((f"notice-{child.level}", child.text))
            elif hasattr(child, "transcript_entry"):
                out.append(child.transcript_entry())
        return out
