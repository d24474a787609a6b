from synth.codegen import extract_code, write_generator
from tests.fake_openai import FakeOpenAI
from synth.llm import LLMClient

BROKEN = "```python\ndef generate(payload):\n    return [{'i': i, 'input': 'PAYMENT %d' % i, 'output': 'nope'} for i in range(payload['n'])]\n```"
FIXED = """Here it is:
```python
import random

def generate(payload):
    out = []
    for i in range(payload['start'], payload['start'] + payload['n']):
        rng = random.Random('%s:%s:%d' % (payload['seed'], payload['split'], i))
        label = payload['labels'][i % len(payload['labels'])]
        out.append({'i': i, 'input': 'PAYMENT %d TO SHOP %d' % (rng.randint(1, 999), i), 'output': label, 'meta': {}})
    return out

def verify(record):
    return True if record['input'].startswith('PAYMENT') else 'bad input'
```"""


def test_extract_code():
    assert extract_code(FIXED).startswith("import random")


def test_refines_until_the_sample_passes(bank_session, bank_specs, tmp_path):
    use_case, spec = bank_specs
    replies = iter([BROKEN, FIXED])
    with FakeOpenAI(delay_s=0.0, responder=lambda messages: next(replies)) as server:
        client = LLMClient("openai/fake", api_base=server.api_base, cache_dir=tmp_path / "cache")
        result = write_generator(bank_session, use_case, spec, client)
    assert result["ok"] and [r["ok"] for r in result["rounds"]] == [False, True]
    assert "label not in set" in result["rounds"][0]["problem"]
    assert (bank_session / "generator.py").read_text().startswith("import random")
