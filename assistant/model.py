"""The planner's models behind one protocol, and the litellm-backed one.

A model turns OpenAI-format messages plus tool schemas into a stream: ``TextDelta`` events while
the answer arrives (and ``Notice`` events the person should see, such as a retry), then exactly
one ``ModelReply`` (the full text, the tool calls in OpenAI shape with ids and JSON argument
strings, and the usage of this call). Failures the person must know about raise ``ModelError``
with a plain message; the agent shows it and keeps the session.

This is the only planner module that imports litellm, lazily, inside ``LitellmModel``.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Protocol

from assistant.config import DEFAULT_TIMEOUT_S
from assistant.events import Notice, TextDelta

KEY_ENV_HINT = "OPENAI_API_KEY, ANTHROPIC_API_KEY, AWS_* for Bedrock, ..."


@dataclass
class ModelReply:
    """One complete answer of the model."""

    content: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    """OpenAI shape: {"id", "type": "function", "function": {"name", "arguments": "<json>"}}."""
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    """Prompt tokens served from the provider's or server's prompt cache."""
    completion_tokens: int = 0
    cost_usd: float = 0.0
    phase: str | None = None
    """Set only by the offline planner when it moved on to another step."""
    cut_off: bool = False
    """The answer reached ``max_tokens`` (finish_reason ``length``) and was cut off."""


class ModelError(Exception):
    """A model failure with a message written for the person (no traceback, no secrets)."""


class ContextTooLong(ModelError):
    """The request is longer than the model's context window; the agent shortens the history and retries."""


class UnreadableReply(ModelError):
    """The server could not turn the model's answer into a tool call and answered with an error instead (llama.cpp's
    server: "The model produced output that does not match the expected ... format", when the model names a tool
    the request does not offer). The same request gives the same answer again, so it is not retried as it is; the
    agent asks again with the answer started differently."""


class Model(Protocol):
    name: str

    def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncIterator[TextDelta | Notice | ModelReply]:
        """Yield TextDelta pieces (and Notices, e.g. about a retry), then one ModelReply."""
        ...


def _litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm  # heavy (~2 s): imported only when an LLM is really used

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    return litellm


class _Retry(Exception):
    def __init__(self, reason: str, wait_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s


class LitellmModel:
    """Any litellm model string: openai/gpt-4.1, anthropic/..., bedrock/..., ollama/..., or
    ``openai/<name>`` with ``api_base`` for a local OpenAI-compatible server.

    Retries rate limits (honouring retry-after), server errors and refused or dropped connections
    with exponential backoff, as long as nothing of the answer was streamed yet. A request that timed
    out is not sent again: the server may still be working on it (a local server answers one request
    at a time, so a second copy would only queue behind the first). ``timeout_s`` bounds the wait for
    each piece of the answer, not the whole answer: a model that keeps streaming is never cut off.
    """

    def __init__(
        self,
        model: str,
        api_base: str | None = None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_retries: int = 4,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        temperature: float | None = None,
        max_tokens: int | None = None,
        extra: dict[str, Any] | None = None,
        call_prefix: str | None = None,
        named_call_prefix: str | None = None,
        on_this_machine: bool = False,
    ) -> None:
        self.model = model
        self.name = model
        self.api_base = api_base
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.temperature = temperature
        self.max_tokens = max_tokens
        """Cap on one answer's tokens (None: the provider's); a small model that loops would otherwise write on."""
        self.extra = dict(extra or {})
        self.call_prefix = call_prefix
        """The text a tool call of this model starts with, sent as the start of its answer (an assistant prefill)
        when the agent insists on a call (Agent.insist_on_call); None: never prefilled."""
        self.named_call_prefix = named_call_prefix
        self.on_this_machine = on_this_machine
        """Served on this machine (loopback api_base, Ollama): the system prompt stays the same through a step and
        what changes goes at the end of the request, so the server's prompt cache is reused (assistant.prompts)."""
        """The same with the tool's name in it (a format string with ``{name}``): the agent starts the call its hint
        names after a call that failed or changed nothing; the model writes the arguments."""
        self.retries_done = 0
        """How many retries this model made in total (tests and the status bar read it)."""

    async def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncIterator[TextDelta | ModelReply]:
        attempt = 0
        while True:
            streamed = False
            try:
                async for item in self._once(messages, tools):
                    streamed = streamed or isinstance(item, TextDelta)
                    yield item
                return
            except _Retry as retry:
                if streamed:
                    raise ModelError(f"The model's answer broke off ({retry.reason}). Send your message again.") from None
                if attempt >= self.max_retries:
                    raise ModelError(f"{retry.reason}; gave up after {attempt + 1} attempts. Try again later.") from None
                delay = min(self.max_backoff_s, self.backoff_s * 2**attempt) * (0.75 + random.random() / 2)
                if retry.wait_s is not None and retry.wait_s >= 0:
                    delay = min(max(delay, retry.wait_s), max(self.max_backoff_s, retry.wait_s))
                attempt += 1
                self.retries_done += 1
                yield Notice(f"{retry.reason[:1].upper()}{retry.reason[1:]}; retrying in {delay:.1f} s "
                             f"(attempt {attempt + 1} of {self.max_retries + 1}).", "warning")
                await asyncio.sleep(delay)

    async def _once(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncIterator[TextDelta | ModelReply]:
        litellm = _litellm()
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "timeout": self.timeout_s,
            "num_retries": 0,
            "max_retries": 0,
            **self.extra,
        }
        if tools:
            kwargs["tools"] = tools
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        if self.max_tokens is not None:
            kwargs["max_tokens"] = self.max_tokens
        text: list[str] = []
        reasons: set[str] = set()
        calls: dict[int, dict[str, Any]] = {}
        chunks: list[Any] = []
        usage: Any = None
        finished = False
        try:
            response = await litellm.acompletion(**kwargs)
            async for chunk in response:
                chunks.append(chunk)
                usage = getattr(chunk, "usage", None) or usage
                for choice in getattr(chunk, "choices", None) or []:
                    finished = finished or bool(getattr(choice, "finish_reason", None))
                    if getattr(choice, "finish_reason", None):
                        reasons.add(str(choice.finish_reason))
                    delta = choice.delta
                    if getattr(delta, "content", None):
                        text.append(delta.content)
                        yield TextDelta(delta.content)
                    for call in getattr(delta, "tool_calls", None) or []:
                        _merge_call(calls, call)
        except Exception as exc:  # noqa: BLE001 (classified below; unknown errors become ModelError)
            raise _classify(litellm, exc, self.model, self.timeout_s) from None
        if not finished:
            raise _Retry("the stream ended before the answer was complete")
        reply = ModelReply(content="".join(text), tool_calls=[_finish_call(calls[i], i) for i in sorted(calls)],
                           cut_off="length" in reasons)
        if usage is not None:
            reply.prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
            reply.completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
            reply.cached_prompt_tokens = _cached_tokens(usage)
        reply.cost_usd = _cost(litellm, chunks, messages)
        yield reply


def _merge_call(calls: dict[int, dict[str, Any]], delta: Any) -> None:
    index = getattr(delta, "index", None)
    index = len(calls) if index is None else index
    entry = calls.setdefault(index, {"id": None, "name": "", "arguments": ""})
    if getattr(delta, "id", None):
        entry["id"] = delta.id
    function = getattr(delta, "function", None)
    if function is not None:
        if getattr(function, "name", None):
            entry["name"] = function.name
        if getattr(function, "arguments", None):
            entry["arguments"] += function.arguments


def _finish_call(entry: dict[str, Any], index: int) -> dict[str, Any]:
    return {
        "id": entry["id"] or f"call_{index}",
        "type": "function",
        "function": {"name": entry["name"], "arguments": entry["arguments"] or "{}"},
    }


def _cached_tokens(usage: Any) -> int:
    """Cached prompt tokens as OpenAI-compatible servers (``prompt_tokens_details.cached_tokens``) or
    Anthropic (``cache_read_input_tokens``) report them."""
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) if details is not None else None
    if cached is None and isinstance(details, dict):
        cached = details.get("cached_tokens")
    if not cached:
        cached = getattr(usage, "cache_read_input_tokens", None)
    try:
        return int(cached or 0)
    except (TypeError, ValueError):
        return 0


def _cost(litellm: Any, chunks: list[Any], messages: list[dict[str, Any]]) -> float:
    """Money spent on this call by litellm's price list; 0 for models it does not price (local)."""
    try:
        built = litellm.stream_chunk_builder(chunks, messages=messages)
        return float(litellm.completion_cost(completion_response=built) or 0.0)
    except Exception:  # noqa: BLE001 (unknown or local models have no price)
        return 0.0


_CONTEXT_WORDS = re.compile(r"context (length|size|window)|exceeds? the available context|too many tokens|n_ctx", re.I)
"""How local servers (llama.cpp, vLLM, Ollama) word a request longer than their context."""

_SECRET = re.compile(r"(sk-[A-Za-z0-9_\-]{6,}|Bearer\s+\S+|key=[^&\s]+)")


def redact(text: str) -> str:
    """Remove API keys from a message: values of *_KEY / *_TOKEN env vars and key-like strings."""
    for name, value in os.environ.items():
        if value and len(value) >= 6 and re.search(r"(KEY|TOKEN|SECRET)", name, re.I):
            text = text.replace(value, "[redacted]")
    return _SECRET.sub("[redacted]", text)


def _short(exc: Exception, limit: int = 300) -> str:
    message = str(getattr(exc, "message", None) or exc).replace("\n", " ")
    message = re.sub(r"^litellm\.\w+:\s*", "", message)
    message = redact(message)
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _retry_after(exc: Exception) -> float | None:
    """Seconds the provider asked us to wait (retry-after header), when it said so."""
    for source in (getattr(exc, "litellm_response_headers", None), getattr(getattr(exc, "response", None), "headers", None),
                   getattr(exc, "headers", None)):
        value = source.get("retry-after") if source is not None and hasattr(source, "get") else None
        if value is not None:
            try:
                return float(value)
            except ValueError:
                return None
    return None


def _timed_out(model: str, timeout_s: float) -> ModelError:
    return ModelError(
        f"{model!r} sent nothing for {timeout_s:g} s, so tunesmith stopped waiting. It may still be working on "
        f"the request, so it was not sent again. Say 'continue' to ask again, or allow more time with --timeout "
        f"or TUNESMITH_TIMEOUT (a small model on a CPU can need minutes before its first word).")


_UNREADABLE = re.compile(r"output that does not match the expected|failed to parse (?:the )?tool call", re.I)


def _classify(litellm: Any, exc: Exception, model: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> Exception:
    """Turn a provider failure into a retry or a ModelError with a message a person can act on."""
    if isinstance(exc, (_Retry, ModelError)):
        return exc
    if isinstance(exc, litellm.AuthenticationError):
        return ModelError(
            f"The provider refused the credentials for {model!r}. Set the API key in the environment "
            f"({KEY_ENV_HINT}) and start again. ({_short(exc)})"
        )
    if isinstance(exc, litellm.ContextWindowExceededError) or (
            isinstance(exc, litellm.BadRequestError) and _CONTEXT_WORDS.search(str(exc))):
        return ContextTooLong(
            f"The conversation is longer than {model!r} can read. Start a new session, or pick a model "
            f"with a longer context (--model). ({_short(exc)})"
        )
    if isinstance(exc, litellm.RateLimitError):
        return _Retry(f"rate limited by the provider ({_short(exc, 120)})", _retry_after(exc))
    if isinstance(exc, litellm.Timeout) or isinstance(exc, asyncio.TimeoutError):
        if _never_sent(exc):
            return _Retry("could not connect to the model in time")
        return _timed_out(model, timeout_s)
    if _UNREADABLE.search(str(exc)):
        return UnreadableReply(f"The server could not read the model's answer as a tool call ({_short(exc, 160)})")
    if isinstance(exc, (litellm.APIConnectionError, litellm.InternalServerError, litellm.ServiceUnavailableError, litellm.BadGatewayError)):
        return _Retry(f"could not reach the model ({_short(exc, 160)})")
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status >= 500:
        return _Retry(f"the provider had an error ({status})")
    if isinstance(exc, (litellm.NotFoundError, litellm.BadRequestError, litellm.PermissionDeniedError)):
        return ModelError(f"The provider rejected the request for {model!r}: {_short(exc)}")
    name = type(exc).__name__
    if "Timeout" in name and not _never_sent(exc):
        return _timed_out(model, timeout_s)
    if "Connect" in name or "Timeout" in name or "RemoteProtocol" in name or "ReadError" in name:
        return _Retry(f"the connection failed ({name})")
    return ModelError(f"The model call failed: {name}: {_short(exc)}")


def _never_sent(exc: BaseException) -> bool:
    """True when the timeout came while connecting, so the server never got the request."""
    seen = 0
    while exc is not None and seen < 8:
        if type(exc).__name__ in ("ConnectTimeout", "ConnectTimeoutError"):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1  # type: ignore[assignment]
    return False
