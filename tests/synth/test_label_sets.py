"""Offline data for any label set: the bank vocabulary only for bank transactions, one merchant per label."""

from __future__ import annotations

import re

from synth.templates import classification as C


def _pools(labels, split="train"):
    taken = {C.category_for(label) for label in labels} - {None}
    return {label: set(C.merchants(C.category_for(label), split, taken)) for label in labels}


def test_the_demo_labels_are_distinct_categories_and_share_no_merchant():
    from assistant.demo_cmd import DESCRIPTION

    labels = [w.strip(" .") for w in DESCRIPTION.split(":", 1)[1].split(".")[0].split(",")]
    assert len(labels) == 12
    categories = [C.category_for(label) for label in labels]
    assert None not in categories and len(set(categories)) == 12, dict(zip(labels, categories))
    pools = _pools(labels)
    for a in labels:
        for b in labels:
            if a < b:
                assert not pools[a] & pools[b], (a, b, pools[a] & pools[b])


def test_transport_and_fuel_as_two_labels_draw_disjoint_merchants_and_transport_alone_keeps_fuel():
    both = _pools(["transport", "fuel"])
    assert both["transport"] and both["fuel"] and not both["transport"] & both["fuel"]
    alone = _pools(["transport", "groceries"])
    assert "SHELL" in alone["transport"] and "SHELL" not in both["transport"]
    records = C.generate({"labels": ["transport", "fuel"], "n": 200, "seed": 1, "split": "train", "axes": {}})
    for record in records:
        assert record["meta"]["merchant"] in both[record["output"]]
        assert C.verify(record) is True


def test_one_dataset_uses_one_currency_and_seeds_use_no_made_up_names():
    for currency in ("$", "£", "€"):
        records = C.generate({"labels": ["groceries", "dining", "travel"], "n": 150, "seed": 2, "split": "seed",
                              "axes": {}, "currency": currency})
        signs = {s for r in records for s in re.findall(r"[$£€]", r["input"])}
        codes = {c for r in records for c in re.findall(r"\b(USD|GBP|EUR)\b", r["input"])}
        assert signs <= {currency} and codes <= {C.CURRENCIES[currency]}
        real = {m for cat in C.VOCAB.values() for m in cat["merchants"]}
        assert all(r["meta"]["merchant"] in real for r in records)


def test_a_label_never_appears_inside_its_own_input():
    records = C.generate({"labels": ["income", "rent", "fees"], "n": 300, "seed": 3, "split": "train", "axes": {}})
    assert records and not any(C.label_in_text(r["output"], r["input"]) for r in records)
    assert C.verify({"input": "GREEN ACCOUNT ACCESS 301.92", "output": "account access", "meta": {}}) \
        == "label written in the input"
