"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests, scripted per request.

Each request to ``/v1/chat/completions`` takes the next ``Reply`` from the script. A reply is
text and/or tool calls, streamed as server-sent events when the request asks for ``stream``,
or a single JSON body otherwise. A reply may instead inject a fault: ``"429"`` (with a
``retry-after`` header), ``"500"``, ``"401"``, ``"context"`` (a context-length 400), ``"hang"``
(no answer for longer than the client waits), ``"truncate"`` (the stream stops half way, no
``[DONE]``). Malformed tool-call JSON is just a tool call whose ``arguments`` string is not JSON.
``closed_port()`` gives a port nobody listens on, for refused connections. A ``responder`` answers
some requests itself (e.g. the teacher's and the judge's, told apart by their model name) so one
server can play every LLM of a journey while the planner's replies stay a script.

    with LoopbackServer([Reply(text="hi")]) as server:
        model = LitellmModel("openai/test", api_base=server.api_base, ...)
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class ToolCallSpec:
    name: str
    arguments: str | dict[str, Any] = field(default_factory=dict)
    """A dict is sent as JSON; a string is sent as is (so it may be malformed)."""
    id: str | None = None


@dataclass
class Reply:
    text: str = ""
    tool_calls: list[ToolCallSpec] = field(default_factory=list)
    fault: str | None = None
    """None, "429", "500", "401", "context", "hang" or "truncate"."""
    retry_after: float = 0
    hang_s: float = 5.0
    prompt_tokens: int = 11
    completion_tokens: int = 7
    cached_tokens: int = 0
    """Reported as ``prompt_tokens_details.cached_tokens`` when not 0."""
    chunk_delay_s: float = 0.0
    """Pause before each streamed chunk (a slow model that keeps generating)."""
    finish_reason: str | None = None
    """Sent as the answer's finish_reason instead of stop/tool_calls (e.g. "length": max_tokens cut it off)."""


class LoopbackServer:
    """Serves scripted replies; records every request body and its headers."""

    def __init__(self, replies: list[Reply] | None = None,
                 responder: Callable[[dict[str, Any]], Reply | None] | None = None) -> None:
        self.replies: list[Reply] = list(replies or [])
        self.responder = responder
        """Called first with each request body; a Reply it returns answers the request, None falls to the script."""
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def add(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def __enter__(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next(self, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
        answer = self.responder(body) if self.responder is not None else None
        if answer is None:
            with self._lock:
                if not self.replies:
                    return Reply(fault="500", text="loopback script is empty")
                answer = self.replies.pop(0)
        return _continued(answer, body)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # http.server's naming
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                reply = server._next(body, {k.lower(): v for k, v in self.headers.items()})
                try:
                    self._answer(reply, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _answer(self, reply: Reply, body: dict[str, Any]) -> None:
                if reply.fault == "hang":
                    server._stop.wait(reply.hang_s)
                    self.close_connection = True
                    return
                if reply.fault == "429":
                    headers = {"retry-after": str(reply.retry_after)}
                    self._json(429, _error("Rate limit reached, slow down.", "rate_limit_exceeded"), headers)
                    return
                if reply.fault == "500":
                    self._json(500, _error(reply.text or "The server had an error.", "server_error"))
                    return
                if reply.fault == "401":
                    # Echo the key like careless providers do, so tests can check it is redacted.
                    key = self.headers.get("authorization", "").removeprefix("Bearer ")
                    self._json(401, _error(f"Incorrect API key provided: {key}.", "invalid_api_key"))
                    return
                if reply.fault == "context":
                    message = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens."
                    self._json(400, _error(message, "context_length_exceeded"))
                    return
                if body.get("stream"):
                    self._stream(reply, body)
                else:
                    self._json(200, _completion(reply, body))

            def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

            def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                chunks = _chunks(reply, body)
                if reply.fault == "truncate":
                    chunks = chunks[: max(2, len(chunks) // 2)]
                for chunk in chunks:
                    if reply.chunk_delay_s:
                        server._stop.wait(reply.chunk_delay_s)
                    self._chunk(f"data: {json.dumps(chunk)}\n\n".encode())
                if reply.fault == "truncate":
                    # Drop the connection mid-stream: no final chunk, no [DONE], no chunked terminator.
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self._chunk(b"data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up early (timeouts, retries) are part of the tests


def _continued(reply: Reply, body: dict[str, Any]) -> Reply:
    """As llama.cpp's server does with a request that ends with an assistant message (a prefill): the answer
    continues that text, so a scripted answer that starts with it is sent without it."""
    messages = body.get("messages") or [{}]
    last = messages[-1] if isinstance(messages[-1], dict) else {}
    start = last.get("content") if last.get("role") == "assistant" else None
    if isinstance(start, str) and start and reply.text.startswith(start):
        reply = dataclasses.replace(reply, text=reply.text[len(start):])
    if isinstance(start, str) and start.startswith("<tool_call>") and body.get("tools"):
        # llama.cpp's server parses a started call with the offered tools' grammar: a tool it does not offer fails
        offered = {t.get("function", {}).get("name") for t in body["tools"]}
        named = re.search(r'"name"\s*:\s*"([A-Za-z_][\w.-]*)"', start + reply.text)
        if named and named.group(1) not in offered and reply.fault is None:
            return Reply(fault="500", text="The model produced output that does not match the expected peg-native format")
    return reply


def closed_port() -> int:
    """A localhost port with nobody listening (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _error(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}


def _tool_calls(reply: Reply, start: int) -> list[dict[str, Any]]:
    calls = []
    for index, call in enumerate(reply.tool_calls):
        arguments = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
        calls.append({
            "index": index,
            "id": call.id or f"call_{start + index}",
            "type": "function",
            "function": {"name": call.name, "arguments": arguments},
        })
    return calls


def _usage(reply: Reply) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }
    if reply.cached_tokens:
        usage["prompt_tokens_details"] = {"cached_tokens": reply.cached_tokens}
    return usage


def _completion(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    calls = _tool_calls(reply, int(time.time() * 1000) % 100000)
    if calls:
        message["tool_calls"] = [{k: v for k, v in call.items() if k != "index"} for call in calls]
    return {
        "id": "chatcmpl-loopback",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "loopback"),
        "choices": [{"index": 0, "message": message,
                     "finish_reason": reply.finish_reason or ("tool_calls" if calls else "stop")}],
        "usage": _usage(reply),
    }


def _chunks(reply: Reply, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The reply as OpenAI stream chunks: text in small pieces, each tool call's arguments split in two."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-loopback",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "loopback"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    out = [chunk({"role": "assistant", "content": ""})]
    text = reply.text
    for start in range(0, len(text), 8):
        out.append(chunk({"content": text[start : start + 8]}))
    for call in _tool_calls(reply, len(body.get("messages", [])) * 10):
        arguments = call["function"]["arguments"]
        half = len(arguments) // 2
        out.append(chunk({"tool_calls": [{
            "index": call["index"], "id": call["id"], "type": "function",
            "function": {"name": call["function"]["name"], "arguments": arguments[:half]},
        }]}))
        out.append(chunk({"tool_calls": [{"index": call["index"], "function": {"arguments": arguments[half:]}}]}))
    out.append(chunk({}, reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")))
    if (body.get("stream_options") or {}).get("include_usage"):
        final = chunk({})
        final["choices"] = []
        final["usage"] = _usage(reply)
        out.append(final)
    return out
