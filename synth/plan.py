"""Sensible data generation defaults from an approved use case."""

from __future__ import annotations

import re

from specs.data_generation import (AxisValue, DataGenerationSpec, DiversityAxis, GeneratorSpec, QualityThresholds,
                                   VerificationRules)
from specs.use_case import UseCaseSpec
from synth.templates import classification

TRANSACTION_WORDS = ("transaction", "bank", "merchant", "card", "payment", "statement")


def known_label_share(labels: list[str]) -> float:
    """Share of labels the classification template's vocabulary knows."""
    if not labels:
        return 0.0
    return sum(1 for label in labels if classification.category_for(label)) / len(labels)


def wants_answer_line(use_case: UseCaseSpec) -> bool:
    """The use case asks for a final `Answer: <number>` line (in its contract or a tenet's pattern)."""
    contract = use_case.contract
    texts = [contract.output_description, contract.system_prompt or "", contract.output_regex or ""]
    texts += [str(t.params.get("pattern", "")) + t.description for t in use_case.success_tenets]
    return any("answer:" in text.lower() for text in texts)


CURRENCY_SIGNS = {"$": ("$", "usd", "dollar"), "£": ("£", "gbp", "pound", "sterling"), "€": ("€", "eur", "euro")}


def currency_of(use_case: UseCaseSpec, examples: list[dict] | None = None) -> str:
    """The one currency of a money task: the sign the person's words and examples use most ($ when none)."""
    text = " ".join([use_case.business_problem, use_case.contract.input_description, *use_case.constraints,
                     *(str(e.get("input", "")) for e in examples or [])]).lower()
    counts = {sign: sum(len(re.findall(r"(?<![a-z])" + re.escape(w) + r"s?(?![a-z])" if w.isalpha() else re.escape(w), text))
                        for w in words) for sign, words in CURRENCY_SIGNS.items()}
    best = max(counts, key=lambda sign: counts[sign])
    return best if counts[best] else "$"


UNIT_WORDS = ("unit conversion", "unit-conversion", "convert", "conversion", "kilometer", "kilogram", "centimeter",
              "millimeter", "milliliter", "liter", "litre", "metres", "meters", "grams", "ounces", "pounds of")


PERCENT_WORDS = ("percent", "%", "discount", "sale price", "tip", "tax", "vat", "interest", "markup", "mark-up",
                 "margin")
MONEY_WORDS = ("money", "price", "cost", "change", "budget", "bill", "cashier", "shop", "store", "pay", "spend", "dollar",
               "euro", "pound", "$", "£", "€", "invoice", "purchase", "buy")
OTHER_MATH_WORDS = ("algebra", "equation", "geometr", "area", "perimeter", "angle", "triangle", "circle", "radius",
                    "probabilit", "statistic", "mean", "median", "average", "fraction", "decimal", "calculus",
                    "derivative", "integral", "matri", "trigonometr", "prime", "ratio", "proportion", "speed",
                    "distance", "velocity", "physics", "chemistry")


def _math_text(use_case: UseCaseSpec) -> str:
    return " ".join([use_case.name, use_case.business_problem, use_case.contract.input_description]).lower()


def _has(text: str, words: tuple[str, ...]) -> list[str]:
    return [w for w in words if re.search(r"(?<![a-z])" + re.escape(w) if w[0].isalpha() else re.escape(w), text)]


def math_template(use_case: UseCaseSpec) -> str | None:
    """The shipped template for a math task: `unit_conversion` when the person's words are about converting
    units, `money` for money and percentage problems, `arithmetic` (counting word problems) for other word
    problems; None for math none of them makes (algebra, geometry, rates, statistics, ...): offline, those need
    the person's examples or a teacher."""
    text = _math_text(use_case)
    if any(word in text for word in UNIT_WORDS):
        return "unit_conversion"
    if _has(text, PERCENT_WORDS) or _has(text, MONEY_WORDS):
        return "money"
    if _has(text, OTHER_MATH_WORDS):
        return None
    return "arithmetic"


def math_topics(use_case: UseCaseSpec) -> list[str]:
    """The `money` template's topics from the person's words: `percent`, `money` or both."""
    text = _math_text(use_case)
    topics = [t for t, words in (("percent", PERCENT_WORDS), ("money", MONEY_WORDS)) if _has(text, words)]
    return topics or ["percent", "money"]


def is_transaction_task(use_case: UseCaseSpec) -> bool:
    text = " ".join([use_case.business_problem, use_case.contract.input_description, use_case.name]).lower()
    return any(word in text for word in TRANSACTION_WORDS)


def pick_generator(use_case: UseCaseSpec, teacher_model: str | None = None, api_base: str | None = None) -> GeneratorSpec:
    """A configured teacher wins; else a shipped template that fits; else offline expansion of the seeds."""
    if teacher_model:
        return GeneratorSpec(kind="teacher", model=teacher_model, api_base=api_base)
    contract = use_case.contract
    if use_case.task_type == "classification" and contract.labels and known_label_share(contract.labels) >= 0.5 \
            and is_transaction_task(use_case):
        return GeneratorSpec(kind="programmatic", template="classification")
    if use_case.task_type == "extraction" and contract.output_format == "json" and contract.output_schema:
        return GeneratorSpec(kind="programmatic", template="extraction")
    if use_case.task_type == "math" and math_template(use_case):
        return GeneratorSpec(kind="programmatic", template=math_template(use_case))
    return GeneratorSpec(kind="offline")


def _axis(name: str, values: list[str], weights: list[float] | None = None) -> DiversityAxis:
    weights = weights or [1.0] * len(values)
    return DiversityAxis(name=name, values=[AxisValue(value=v, weight=w) for v, w in zip(values, weights)])


def default_axes(use_case: UseCaseSpec, generator: GeneratorSpec | None = None) -> list[DiversityAxis]:
    """Axes the generator really varies: the bank template's input styles, the arithmetic template's
    difficulty, the offline expansion's writing styles (synth.expand), and difficulty only for a teacher."""
    axes: list[DiversityAxis] = []
    labels = use_case.contract.labels
    if use_case.task_type == "classification" and labels:
        axes.append(_axis("category", list(labels)))
    if is_transaction_task(use_case):
        axes.append(_axis("style", list(classification._STYLES), [3, 2, 1, 1, 1]))
    elif use_case.task_type == "math":
        axes.append(_axis("difficulty", ["easy", "medium", "hard"], [1, 2, 1]))
    elif use_case.task_type != "extraction" or generator is None or generator.kind != "programmatic":
        axes.append(_axis("writing_style", ["formal", "casual", "terse"]))
        if generator is not None and generator.kind == "teacher":
            axes.append(_axis("difficulty", ["easy", "medium", "hard"], [1, 2, 1]))
    return axes


OWN_DATA_MIN_RECORDS = 30
"""The fewest training records when the person's own rows are the data: a file of 60-100 rows keeps about 80%
for training once the eval split is held out and near copies are dropped, and a top-up adds only distinct records."""


def default_spec(use_case: UseCaseSpec, teacher_model: str | None = None, api_base: str | None = None,
                 fmt: str = "sft", own_records: int = 0) -> DataGenerationSpec:
    """The data generation spec tunesmith proposes for this use case (with ``own_records`` of the person's
    rows imported, the generated records top them up to the usual size)."""
    generator = pick_generator(use_case, teacher_model, api_base)
    classification_task = use_case.task_type == "classification"
    short = classification_task or use_case.task_type in ("math", "extraction")
    target = 600 if classification_task else 300
    return DataGenerationSpec(
        train_count=max(1, target - own_records),
        eval_count=120 if classification_task else 60,
        format=fmt,  # type: ignore[arg-type]
        diversity_axes=default_axes(use_case, generator),
        generator=generator,
        verification=VerificationRules(min_input_chars=3, max_output_chars=use_case.contract.max_output_chars),
        quality=QualityThresholds(max_tokens=256 if short else 512,
                                  min_records=OWN_DATA_MIN_RECORDS if own_records else QualityThresholds().min_records),
        seed=0,
    )
