"""A tiny OpenAI-compatible chat server on loopback, for benchmarks and tests of the teacher client.

``FakeOpenAI(delay_s=0.2, responder=fn, fail_first=n)`` answers ``POST .../chat/completions``
(non-streaming) after ``delay_s``; ``responder(messages) -> str`` writes the answer; the first
``fail_first`` requests get 429 with ``Retry-After: 0``. An answer longer than the request's
``max_tokens`` (about 4 characters a token) is cut there with ``finish_reason: length``, as a real
server does. Use as a context manager; ``.api_base`` is the URL to give litellm with model ``openai/<anything>``.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


def echo_responder(messages: list[dict[str, Any]]) -> str:
    return "echo: " + str(messages[-1].get("content", ""))[:200]


class FakeOpenAI:
    def __init__(self, delay_s: float = 0.2, responder: Callable[[list[dict[str, Any]]], str] = echo_responder,
                 fail_first: int = 0):
        self.delay_s = delay_s
        self.responder = responder
        self.fail_first = fail_first
        self.requests = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def api_base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> "FakeOpenAI":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:  # http.server's naming
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with owner._lock:
                    owner.requests += 1
                    number = owner.requests
                if number <= owner.fail_first:
                    self._send(429, {"error": {"message": "rate limited", "type": "rate_limit"}}, {"Retry-After": "0"})
                    return
                time.sleep(owner.delay_s)
                text = owner.responder(body.get("messages") or [])
                finish, limit = "stop", body.get("max_tokens")
                if isinstance(limit, int) and len(text) > limit * 4:
                    text, finish = text[:limit * 4], "length"
                prompt_tokens = sum(len(str(m.get("content", ""))) // 4 + 1 for m in body.get("messages") or [])
                reply = {
                    "id": f"chatcmpl-{number}", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [{"index": 0, "finish_reason": finish,
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text) // 4 + 1,
                              "total_tokens": prompt_tokens + len(text) // 4 + 1},
                }
                self._send(200, reply)

            def _send(self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
