"""The one LLM client of the data engine (teacher generation, judge calls), over litellm.

- async ``complete()`` with bounded concurrency (a semaphore), retries with exponential backoff on
  rate limits, server errors and dropped connections (honouring ``Retry-After``); a request that
  timed out is not sent again, since the server may still be working on it;
- the wait for an answer is the app's ``--timeout`` setting (``TUNESMITH_TIMEOUT``, default
  600 s), the same for teacher, judge and planner;
- a disk cache keyed by the hash of the request, so a re-run or a resume never pays twice
  (``cache_key`` lets callers ask for distinct samples of the same prompt);
- usage accounting: calls, cache hits, tokens, cost in USD (from litellm's local price list).

litellm is imported lazily, with ``LITELLM_LOCAL_MODEL_COST_MAP=True`` so no price list is fetched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Sequence

from specs.io import atomic_write_text
from synth.records import request_hash

_LOCK = threading.Lock()
DEFAULT_TIMEOUT_S = 600.0
TIMEOUT_ENV = "TUNESMITH_TIMEOUT"


def configured_timeout() -> float:
    """The ``--timeout`` setting as the app exports it (``TUNESMITH_TIMEOUT``), else the default."""
    try:
        value = float(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT_S)
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if value > 0 else DEFAULT_TIMEOUT_S


def _litellm():
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    return litellm


class LLMError(Exception):
    """A request failed for good (after retries, or an error retrying cannot fix)."""


class LLMStopped(LLMError):
    """The model cannot answer this batch: the other requests of the batch are not tried either, so a
    step fails at once with this message and keeps what it made."""


class LLMUnreachable(LLMStopped):
    """The model's server could not be reached (after retries)."""


class LLMTooSlow(LLMStopped):
    """The model sent no answer within the timeout (the request is not sent again: it may still be working)."""


@dataclass
class Completion:
    text: str
    cached: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    finish_reason: str | None = None
    """Why the model stopped writing: `stop`, or `length` when ``max_tokens`` cut the answer off."""


@dataclass
class Usage:
    """What the client spent (cache hits cost nothing)."""

    calls: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cost_known: bool = True
    """False when the model has no price in litellm's list (cost then reads 0)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RETRYABLE = ("RateLimitError", "InternalServerError", "ServiceUnavailableError", "APIConnectionError", "Timeout",
             "BadGatewayError", "APIError", "RouterRateLimitError")
FATAL = ("AuthenticationError", "PermissionDeniedError", "ContextWindowExceededError", "BadRequestError",
         "NotFoundError", "ContentPolicyViolationError", "UnsupportedParamsError", "PaymentRequiredError")


def _kind(exc: BaseException) -> str:
    if _timed_out(exc):
        return "fatal"  # the server may still be working on it: sending it again would queue a second copy
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and (status >= 500 or status == 429):
        return "retry"  # litellm may label a provider's 5xx by its error body (e.g. BadRequestError)
    names = [cls.__name__ for cls in type(exc).__mro__]
    for name in FATAL:
        if name in names:
            return "fatal"
    for name in RETRYABLE:
        if name in names:
            return "retry"
    if isinstance(exc, (asyncio.TimeoutError, ConnectionError, TimeoutError)):
        return "retry"
    return "fatal"


def _timed_out(exc: BaseException) -> bool:
    """A read timeout (the request reached the server); a connect timeout is safe to retry."""
    chain, current = [], exc
    while current is not None and len(chain) < 8:
        chain.append(type(current).__name__)
        current = current.__cause__ or current.__context__
    if any(name in ("ConnectTimeout", "ConnectTimeoutError") for name in chain):
        return False
    return any("Timeout" in name for name in chain) or isinstance(exc, (asyncio.TimeoutError, TimeoutError))


def _unreachable(exc: BaseException) -> bool:
    """Refused or failed connections (nobody answers at that address), not a server's error reply."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status != 500:  # litellm gives connection errors status 500
        return False
    chain, current = [], exc
    while current is not None and len(chain) < 8:
        chain.append(type(current).__name__)
        current = current.__cause__ or current.__context__
    return any(name in ("APIConnectionError", "ConnectError", "ConnectionRefusedError", "ConnectionError") for name in chain) \
        and not any("Timeout" in name for name in chain)


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        value = headers.get("retry-after") or headers.get("Retry-After")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


async def _unless_cancelled(call: Awaitable[Completion], cancel: threading.Event | None,
                            poll_s: float = 0.2) -> Completion:
    """Await ``call``; when ``cancel`` is set first, abandon the request in flight and raise "cancelled".
    A slow teacher (a local model takes tens of seconds a record) must not hold a stop for that long."""
    if cancel is None:
        return await call
    task = asyncio.ensure_future(call)
    while not task.done():
        await asyncio.wait({task}, timeout=poll_s)
        if cancel.is_set() and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            raise LLMError("cancelled")
    return task.result()


class LLMClient:
    """Async chat completions for one model with a cache, a concurrency bound and retries."""

    def __init__(self, model: str, *, api_base: str | None = None, api_key: str | None = None,
                 cache_dir: str | os.PathLike | None = None, concurrency: int = 8, max_retries: int = 4,
                 timeout_s: float | None = None, backoff_s: float = 0.5, max_backoff_s: float = 30.0):
        self.model = model
        self.api_base = api_base
        self._api_key = api_key
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.concurrency = max(1, int(concurrency))
        self.max_retries = max(0, int(max_retries))
        self.timeout_s = configured_timeout() if timeout_s is None else timeout_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.usage = Usage()
        self._sem: asyncio.Semaphore | None = None
        self._sem_loop: Any = None

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._sem is None or self._sem_loop is not loop:
            self._sem = asyncio.Semaphore(self.concurrency)
            self._sem_loop = loop
        return self._sem

    def key(self, messages: Sequence[dict[str, Any]], **params: Any) -> str:
        """Cache key of a request: model, messages and the parameters that change the answer."""
        return request_hash({"model": self.model, "messages": list(messages), **params})

    def _cache_path(self, key: str) -> Path | None:
        return self.cache_dir / key[:2] / f"{key}.json" if self.cache_dir else None

    def cached(self, key: str) -> Completion | None:
        path = self._cache_path(key)
        if path is None or not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        return Completion(text=data["text"], cached=True, prompt_tokens=data.get("prompt_tokens", 0),
                          completion_tokens=data.get("completion_tokens", 0), cost_usd=0.0,
                          finish_reason=data.get("finish_reason"))

    async def complete(self, messages: Sequence[dict[str, Any]], *, temperature: float = 0.7,
                       max_tokens: int = 512, cache_key: Any = None, response_format: dict | None = None,
                       cancel: threading.Event | None = None, stopped: list[LLMStopped] | None = None) -> Completion:
        """One chat completion; served from the cache when this exact request was answered before.
        ``stopped`` (map's) holds the reason the batch stopped once one request found the model gone."""
        params: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens}
        if response_format:
            params["response_format"] = response_format
        key = self.key(messages, **params, sample=cache_key)
        hit = self.cached(key)
        if hit is not None:
            with _LOCK:
                self.usage.cache_hits += 1
            return hit
        async with self._semaphore():
            if cancel is not None and cancel.is_set():
                raise LLMError("cancelled")
            if stopped:
                raise type(stopped[0])(str(stopped[0]))
            result = await _unless_cancelled(self._call_with_retries(list(messages), params), cancel)
        path = self._cache_path(key)
        if path is not None:
            atomic_write_text(path, json.dumps(asdict(result)))
        return result

    async def _call_with_retries(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion:
        litellm = _litellm()
        attempt = 0
        while True:
            try:
                response = await litellm.acompletion(
                    model=self.model, messages=messages, api_base=self.api_base, api_key=self._key(),
                    timeout=self.timeout_s, num_retries=0, max_retries=0, **params)  # retries are ours alone
                return self._account(litellm, response)
            except Exception as exc:  # classified below
                if _kind(exc) == "fatal" or attempt >= self.max_retries:
                    with _LOCK:
                        self.usage.failures += 1
                    status = getattr(exc, "status_code", None)
                    where = f" (HTTP {status})" if isinstance(status, int) else ""
                    tries = f" after {attempt + 1} attempts" if attempt else ""
                    if _unreachable(exc):
                        raise LLMUnreachable(f"{self.model} could not be reached at {self.api_base or 'its provider'} "
                                             f"after {attempt + 1} attempts ({str(exc)[:120]})") from exc
                    if _timed_out(exc):
                        raise LLMTooSlow(f"{self.model} sent nothing for {self.timeout_s:g} s (not sent again: it may still "
                                       f"be working; allow more with --timeout or {TIMEOUT_ENV})") from exc
                    raise LLMError(f"{type(exc).__name__}{where}{tries}: {str(exc)[:300]}") from exc
                attempt += 1
                with _LOCK:
                    self.usage.retries += 1
                wait = _retry_after(exc)
                if wait is None:
                    wait = min(self.max_backoff_s, self.backoff_s * (2 ** (attempt - 1)))
                    wait *= 0.5 + random.random()
                await asyncio.sleep(min(wait, self.max_backoff_s))

    def _key(self) -> str | None:
        if self._api_key:
            return self._api_key
        if self.api_base and self.model.startswith("openai/") and not os.environ.get("OPENAI_API_KEY"):
            return "not-needed"  # local OpenAI-compatible servers take any key
        return None

    def _account(self, litellm: Any, response: Any) -> Completion:
        choice = response.choices[0]
        text = choice.message.content or ""
        finish = getattr(choice, "finish_reason", None)
        usage = getattr(response, "usage", None)
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion = int(getattr(usage, "completion_tokens", 0) or 0)
        hidden = getattr(response, "_hidden_params", None) or {}
        cost, known = hidden.get("response_cost"), True
        if cost is None:  # litellm found no price for this model
            cost, known = 0.0, False
        cost = float(cost)
        with _LOCK:
            self.usage.calls += 1
            self.usage.prompt_tokens += prompt
            self.usage.completion_tokens += completion
            self.usage.cost_usd += cost
            self.usage.cost_known = self.usage.cost_known and known
        return Completion(text=text, prompt_tokens=prompt, completion_tokens=completion, cost_usd=cost,
                          finish_reason=str(finish) if finish else None)

    async def map(self, requests: Sequence[dict[str, Any]],
                  on_done: Callable[[int, Completion | BaseException], Awaitable[None] | None] | None = None,
                  cancel: threading.Event | None = None) -> list[Completion | BaseException]:
        """Run many ``complete(**request)`` at once (bounded by ``concurrency``); failures come back as exceptions."""
        results: list[Completion | BaseException] = [LLMError("not run")] * len(requests)
        gone: list[LLMStopped] = []

        async def one(i: int, request: dict[str, Any]) -> None:
            if cancel is not None and cancel.is_set():
                results[i] = LLMError("cancelled")
                return
            try:
                results[i] = await self.complete(**request, cancel=cancel, stopped=gone)  # gone: not tried again
            except LLMStopped as exc:
                gone.append(exc)
                results[i] = exc
            except Exception as exc:  # noqa: BLE001 - returned to the caller
                results[i] = exc
            if on_done is not None:
                maybe = on_done(i, results[i])
                if asyncio.iscoroutine(maybe):
                    await maybe

        await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
        return results


def run_sync(coro: Awaitable[Any]) -> Any:
    """Run a coroutine from sync code, also when an event loop already runs in this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)  # type: ignore[arg-type]
    box: dict[str, Any] = {}

    def worker() -> None:
        try:
            box["value"] = asyncio.run(coro)  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box["error"] = exc

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def rough_tokens(text: str) -> int:
    """A rough token count (about 4 characters a token) for estimates before any call."""
    return max(1, len(text) // 4)


def estimate_cost(model: str, calls: int, prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    """Estimated tokens and money for ``calls`` requests; ``cost_usd`` is None when the model has no price."""
    total_in, total_out = calls * prompt_tokens, calls * completion_tokens
    cost: float | None = None
    try:
        litellm = _litellm()
        p_cost, c_cost = litellm.cost_per_token(model=model, prompt_tokens=total_in, completion_tokens=total_out)
        cost = float(p_cost + c_cost)
    except Exception:  # noqa: BLE001 - unknown model, local server
        cost = None
    return {"calls": calls, "prompt_tokens": total_in, "completion_tokens": total_out, "tokens": total_in + total_out,
            "cost_usd": cost}
