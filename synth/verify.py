"""Check every record against the use-case contract and the data generation spec's rules.

``Verifier(use_case, data_spec, session_dir).check_all(records)`` returns the records that pass and
the dropped ones counted by reason. Reasons are short stable strings such as ``label not in set``,
``invalid JSON``, ``schema: ...``, ``regex mismatch``, ``input too short``, ``verifier: ...``.
A verifier file (``verification.verifier_path`` or a template's ``verify``) runs in the sandbox,
once per batch, never in this process.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specs.data_generation import DataGenerationSpec
from specs.use_case import UseCaseSpec
from synth.answers import final_number
from synth.records import answer_text, placeholder
from synth.sandbox import run_python, unconfined_approved

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@dataclass
class VerifyOutcome:
    kept: list[dict[str, Any]] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    reasons: list[str | None] = field(default_factory=list)
    """Per input record: None when kept, else the reason it was dropped."""

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1


_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
          ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos}
EXPRESSION_KEYS = ("expression", "calculation", "formula", "equation")
"""Where a teacher's reply to a math task puts the arithmetic that gives its answer."""


def expression_value(text: str) -> float | None:
    """The value of an arithmetic expression (numbers, + - * / ** and parentheses; `x` and `×` for times, `÷` for
    divided by, thousands commas; a trailing `= ...` is ignored), or None when it is not one."""
    text = str(text or "").split("=")[0].strip().replace("×", "*").replace("÷", "/").replace("^", "**")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"(?<=[\d)\s])[xX](?=[\s\d(])", "*", text)
    if not text or len(text) > 200 or not re.fullmatch(r"[\d\s.+\-*/()]+", text):
        return None

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _ARITH:
            return _ARITH[type(node.op)](value(node.operand))
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 12:
                raise ValueError("exponent too large")
            return _ARITH[type(node.op)](left, right)
        raise ValueError("not arithmetic")

    try:
        result = value(ast.parse(text, mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError, TypeError):
        return None
    return result if result == result and abs(result) < 1e15 else None


def expression_mismatch(answer: str, expression: str) -> str | None:
    """Why a math answer disagrees with the expression said to give it (None when they agree; the answer may round
    to two decimals)."""
    expected = expression_value(expression)
    if expected is None:
        return "expression cannot be evaluated"
    got = final_number(answer)
    if got is None:
        return "answer has no number"
    return None if abs(got - expected) <= max(0.006, 1e-6 * abs(expected)) else "answer does not equal its expression"


def template_path(name: str) -> Path:
    path = TEMPLATES_DIR / f"{name}.py"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in TEMPLATES_DIR.glob("*.py") if p.stem != "__init__"))
        raise ValueError(f"no shipped template {name!r}; known: {known}")
    return path


class Verifier:
    def __init__(self, use_case: UseCaseSpec, spec: DataGenerationSpec, session_dir: str | Path | None = None,
                 code_verifier: str | Path | None = None):
        self.use_case = use_case
        self.spec = spec
        contract = use_case.contract
        rules = spec.verification
        self.labels = set(contract.labels or []) if rules.check_label_set and contract.labels else None
        self.schema = contract.output_schema if rules.check_json_schema and contract.output_format == "json" else None
        pattern = rules.output_regex or contract.output_regex
        self.regex = re.compile(pattern) if pattern else None
        self.max_output = rules.max_output_chars or contract.max_output_chars
        self.session_dir = Path(session_dir) if session_dir else None
        self.numeric = use_case.task_type == "math"
        self.code_verifier: Path | None = None
        self.generator_verifier = False
        """The code verifier is the generator's own (a template's ``verify``): it checks what the generator made
        (its expression, its merchant), so the person's rows, which it did not make, are checked against the
        contract only. A verifier file of the spec (``verification.verifier_path``) checks every record."""
        if rules.verifier_path and self.session_dir is not None:
            self.code_verifier = self.session_dir / rules.verifier_path
        elif code_verifier is not None:
            self.code_verifier = Path(code_verifier)
            self.generator_verifier = True
        self._schema_validator = None

    def _validator(self):
        if self._schema_validator is None and self.schema is not None:
            import jsonschema

            self._schema_validator = jsonschema.Draft202012Validator(self.schema)
        return self._schema_validator

    def check_answer(self, answer: str, what: str = "output") -> str | None:
        """The reason an answer breaks the contract, or None."""
        text = answer.strip()
        if not text:
            return f"empty {what}"
        if self.labels is not None and text not in self.labels:
            return "label not in set"
        if self.schema is not None:
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                return "invalid JSON"
            errors = sorted(self._validator().iter_errors(value), key=lambda e: list(e.path))
            if errors:
                return "schema: " + errors[0].message[:80]
        if self.regex is not None and not self.regex.fullmatch(text):
            return "regex mismatch"
        if self.numeric and final_number(text) is None:
            return "answer has no number"
        if self.max_output is not None and len(text) > self.max_output:
            return f"{what} too long"
        return None

    def check(self, record: dict[str, Any]) -> str | None:
        """Contract checks of one record (no sandbox); the reason it fails, or None."""
        rules = self.spec.verification
        text = str(record.get("input", "") or "")
        if len(text.strip()) < max(1, rules.min_input_chars):
            return "input too short"
        if len(text) > rules.max_input_chars:
            return "input too long"
        if any(placeholder(str(record.get(k) or "")) for k in ("input", "output", "chosen", "rejected", "reference")):
            return "placeholder text"
        fmt = self.spec.format
        if fmt == "preference":
            chosen = record.get("chosen", record.get("output"))
            rejected = record.get("rejected")
            if chosen is None or rejected is None:
                return "missing chosen or rejected"
            if str(chosen).strip() == str(rejected).strip():
                return "chosen equals rejected"
            return self.check_answer(str(chosen), "chosen")
        answer = answer_text(record)
        problem = self.check_answer(answer)
        meta = record.get("meta") or {}
        if problem is None and self.numeric and meta.get("source") == "teacher" and not self.generator_verifier:
            # a teacher's math answer counts only when the arithmetic it gave for it gives that answer
            if not meta.get("expression"):
                return "math answer without an expression to check"
            return expression_mismatch(answer, str(meta["expression"]))
        return problem

    def check_all(self, records: list[dict[str, Any]], batch: int = 2000) -> VerifyOutcome:
        out = VerifyOutcome()
        reasons: list[str | None] = [self.check(r) for r in records]
        if self.code_verifier is not None:
            todo = [k for k, reason in enumerate(reasons) if reason is None and not
                    (self.generator_verifier and (records[k].get("meta") or {}).get("source") == "person")]
            for start in range(0, len(todo), batch):
                chunk = todo[start:start + batch]
                verdicts = self.run_code_verifier([records[k] for k in chunk])
                for k, verdict in zip(chunk, verdicts):
                    reasons[k] = verdict
        for record, reason in zip(records, reasons):
            if reason is None:
                out.kept.append(record)
            else:
                out.drop(reason)
        out.reasons = reasons
        return out

    def run_code_verifier(self, records: list[dict[str, Any]]) -> list[str | None]:
        """Run ``verify(record)`` over records in the sandbox; returns None (pass) or a reason per record."""
        assert self.code_verifier is not None
        gen = self.spec.generator
        result = run_python(self.code_verifier, "verify", records, timeout_s=gen.timeout_s, memory_mb=gen.memory_mb,
                            map_items=True, allow_unconfined=unconfined_approved(self.session_dir))
        if not result.ok or not isinstance(result.value, list) or len(result.value) != len(records):
            reason = "verifier failed: " + (result.error or "bad result").splitlines()[0][:80]
            return [reason] * len(records)
        return [verdict_reason(v) for v in result.value]


def verdict_reason(value: Any) -> str | None:
    """Turn a verifier's return value into None (pass) or a reason."""
    if value is True or value is None:
        return None
    if isinstance(value, dict) and "__error__" in value:
        return "verifier error: " + str(value["__error__"])[:80]
    if value is False:
        return "verifier: rejected"
    if isinstance(value, str):
        return "verifier: " + value[:80]
    return None if bool(value) else "verifier: rejected"
