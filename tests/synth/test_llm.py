import asyncio
import json
import threading
import time

from tests.fake_openai import FakeOpenAI
from synth.llm import LLMClient, estimate_cost


def _requests(n):
    return [{"messages": [{"role": "user", "content": f"q{i}"}], "cache_key": i} for i in range(n)]


def test_cache_means_a_rerun_never_pays_twice(tmp_path):
    with FakeOpenAI(delay_s=0.01) as server:
        client = LLMClient("openai/fake", api_base=server.api_base, cache_dir=tmp_path, concurrency=4)
        first = asyncio.run(client.map(_requests(6)))
        assert [r.text for r in first] == [f"echo: q{i}" for i in range(6)]
        assert server.requests == 6 and client.usage.calls == 6
        again = LLMClient("openai/fake", api_base=server.api_base, cache_dir=tmp_path)
        second = asyncio.run(again.map(_requests(6)))
        assert server.requests == 6 and again.usage.cache_hits == 6 and all(r.cached for r in second)
        assert client.usage.prompt_tokens > 0 and client.usage.completion_tokens > 0


def test_retries_rate_limits(tmp_path):
    with FakeOpenAI(delay_s=0.0, fail_first=2) as server:
        client = LLMClient("openai/fake", api_base=server.api_base, cache_dir=tmp_path, backoff_s=0.01, max_retries=3)
        result = asyncio.run(client.complete([{"role": "user", "content": "hi"}]))
        assert result.text == "echo: hi" and client.usage.retries == 2 and server.requests == 3


def test_concurrency_is_bounded():
    active, peak, lock = [0], [0], threading.Lock()

    def responder(messages):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return "ok"

    with FakeOpenAI(delay_s=0.0, responder=responder) as server:
        client = LLMClient("openai/fake", api_base=server.api_base, concurrency=3)
        asyncio.run(client.map(_requests(12)))
    assert 1 < peak[0] <= 3


def test_estimate_known_and_unknown_price():
    known = estimate_cost("openai/gpt-4.1-mini", 10, 100, 50)
    assert known["tokens"] == 1500 and known["cost_usd"] and known["cost_usd"] > 0
    assert estimate_cost("openai/no-such-local-model", 10, 100, 50)["cost_usd"] is None
    json.dumps(known)


def test_a_timed_out_teacher_request_is_not_sent_again_and_the_setting_is_shared(tmp_path, monkeypatch):
    import pytest

    from synth.llm import DEFAULT_TIMEOUT_S, LLMError
    from tests.loopback import LoopbackServer, Reply

    monkeypatch.delenv("TUNESMITH_TIMEOUT", raising=False)
    assert LLMClient("openai/x").timeout_s == DEFAULT_TIMEOUT_S == 600
    monkeypatch.setenv("TUNESMITH_TIMEOUT", "0.5")  # what `--timeout 0.5` exports for the teacher and the judge
    with LoopbackServer([Reply(fault="hang", hang_s=3), Reply(text="never asked")]) as server:
        client = LLMClient("openai/loopback", api_base=server.api_base, max_retries=3, backoff_s=0.01)
        assert client.timeout_s == 0.5
        with pytest.raises(LLMError, match=r"sent nothing for 0.5 s .*TUNESMITH_TIMEOUT"):
            asyncio.run(client.complete([{"role": "user", "content": "hi"}]))
        assert len(server.requests) == 1 and client.usage.retries == 0
