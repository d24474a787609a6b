"""The teacher/judge client (synth/llm.py) against the loopback server failing in each way it can.

The planner's client is covered by tests/assistant/test_model_litellm.py (same faults, streaming);
tests/synth/test_llm.py covers the cache, 429 retries and the concurrency bound. Here: refused
connection, 429 with retry-after, 500, a hang, a response cut off mid-body, a 401 (no retry, key
not echoed to disk), and malformed JSON records from the teacher, which generation drops and counts.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading

import pytest

from synth.llm import LLMClient, LLMError
from tests.loopback import LoopbackServer, Reply, closed_port

MESSAGES = [{"role": "user", "content": "write one record"}]


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def fake_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-teacher-secret-4242")


def client(api_base, **kwargs):
    options = dict(timeout_s=1.0, max_retries=2, backoff_s=0.01, max_backoff_s=0.5)
    options.update(kwargs)
    return LLMClient("openai/teacher", api_base=api_base, **options)


def complete(llm):
    return asyncio.run(llm.complete(MESSAGES))


def test_rate_limit_waits_the_retry_after_and_succeeds(server):
    server.add(Reply(fault="429", retry_after=0.3), Reply(text="fine"))
    llm = client(server.api_base)
    assert complete(llm).text == "fine"
    assert llm.usage.retries == 1 and llm.usage.calls == 1 and len(server.requests) == 2


def test_server_error_is_retried(server):
    server.add(Reply(fault="500"), Reply(text="recovered"))
    llm = client(server.api_base, timeout_s=0.5)
    assert complete(llm).text == "recovered"
    assert llm.usage.retries == 1 and llm.usage.failures == 0


def test_a_hang_is_not_sent_again(server):
    """The server may still be working on it: a second copy would queue behind the first."""
    server.add(Reply(fault="hang", hang_s=3.0), Reply(text="never asked"))
    llm = client(server.api_base, timeout_s=0.5)
    with pytest.raises(LLMError, match="sent nothing for 0.5 s"):
        complete(llm)
    assert llm.usage.retries == 0 and len(server.requests) == 1


def test_persistent_failure_gives_up_with_a_clear_error(server):
    server.add(*[Reply(fault="500", text="overloaded")] * 3)
    llm = client(server.api_base)
    with pytest.raises(LLMError) as caught:
        complete(llm)
    assert "HTTP 500" in str(caught.value) and "after 3 attempts" in str(caught.value)
    assert llm.usage.retries == 2 and llm.usage.failures == 1 and len(server.requests) == 3


def test_refused_connection_gives_up_after_retries():
    llm = client(f"http://127.0.0.1:{closed_port()}/v1")
    with pytest.raises(LLMError) as caught:
        complete(llm)
    assert "Connection" in str(caught.value)
    assert llm.usage.retries == 2 and llm.usage.failures == 1


def test_authentication_error_is_not_retried(server):
    server.add(Reply(fault="401"), Reply(text="never reached"))
    llm = client(server.api_base)
    with pytest.raises(LLMError) as caught:
        complete(llm)
    assert "AuthenticationError" in str(caught.value)
    assert llm.usage.retries == 0 and len(server.requests) == 1


class CutOffServer:
    """Answers every request with headers promising a long JSON body, sends part of it and hangs up."""

    def __init__(self, good_after: int = 1):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.count, self.good_after = 0, good_after
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def api_base(self):
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, rest = data.partition(b"\r\n\r\n")
                length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
                while len(rest) < length:
                    rest += conn.recv(65536)
                self.count += 1
                body = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "teacher",
                                   "choices": [{"index": 0, "finish_reason": "stop",
                                                "message": {"role": "assistant", "content": "whole answer"}}],
                                   "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}).encode()
                cut = self.count <= self.good_after
                sent = body[: len(body) // 2] if cut else body
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + sent)

    def close(self):
        self.sock.close()


def test_a_response_cut_off_mid_body_is_retried_not_taken_as_an_answer():
    cut = CutOffServer(good_after=1)
    try:
        llm = client(cut.api_base)
        result = complete(llm)
    finally:
        cut.close()
    assert result.text == "whole answer" and cut.count == 2 and llm.usage.retries == 1


def test_malformed_teacher_records_are_dropped_counted_and_never_fatal(bank_session, bank_specs):
    """A teacher that answers half the time with broken JSON: generation finishes, drops and counts them."""
    from tests.fake_openai import FakeOpenAI
    from synth.generate import generate_dataset

    use_case, spec = bank_specs
    counter = iter(range(10**6))
    served = {"broken": 0, "whole": 0}

    def responder(messages):
        n = next(counter)
        if n % 2:
            served["broken"] += 1
            return '{"input": "CARD 12 TESCO", "output": '  # cut-off JSON
        served["whole"] += 1
        prompt = messages[-1]["content"]
        label = prompt.split("category = ")[1].split(";")[0].strip() if "category = " in prompt else "groceries"
        return json.dumps({"input": f"CARD PURCHASE {n * 7919} {label.upper()} STORE", "output": label})

    with FakeOpenAI(delay_s=0.0, responder=responder) as fake:
        gen = spec.generator.model_copy(update={"kind": "teacher", "model": "openai/fake", "api_base": fake.api_base,
                                                "concurrency": 4})
        small = spec.model_copy(update={"generator": gen, "train_count": 30, "eval_count": 6})
        report = generate_dataset(bank_session, use_case, small)
    assert report["status"] == "done"
    # the first pass sends 36 requests; fewer kept than asked, the top-up rounds ask again for the shortfall
    assert served["broken"] >= 18
    assert report["dropped"].get("teacher reply not JSON", 0) == served["broken"]
    assert report["top_up_rounds"], "half the records lost: the teacher is asked again"
    assert report["train_records"] + report["eval_records"] <= served["whole"]
    # top-up records fill the shortfall and no more; held-out rows that share a phrase with training move there
    moved = report["dropped"].get("held-out row moved to training (shares a phrase with it)", 0)
    assert report["train_records"] - moved <= 30 and report["eval_records"] <= 6
    for path in bank_session.rglob("*"):
        if path.is_file():
            assert b"sk-teacher-secret-4242" not in path.read_bytes()
