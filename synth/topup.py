"""Which generated records join the training data, by the quality report's own measures.

A generated record (template, offline expansion, teacher, paraphrase) is added only when it brings
something the data does not have: it is no exact or near copy (MinHash Jaccard at
``quality.near_duplicate_jaccard``) of a record already in training or of any eval record, it shares
no record-specific phrase with the person's held-out rows, and at least ``quality.min_distinct_2`` of
its word pairs are new to the training inputs (so the top-up can never pull distinct-2 under the floor
the report checks). The person's own rows are never judged here: they were deduplicated and split
when they were imported.
"""

from __future__ import annotations

from typing import Any

from specs.data_generation import DataGenerationSpec
from synth.quality import NearCopyIndex, leaking_grams, ngram_set, overlap, word_grams

NEAR_COPY = "near copy of another record"
NEAR_EVAL = "near copy of an eval record"
EVAL_PHRASE = "shares a phrase with your eval rows"
NO_NEW_PAIRS = "too few new word pairs"


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


class TopUp:
    """The training records so far, and the test a generated record must pass to join them."""

    def __init__(self, spec: DataGenerationSpec, person_eval: list[dict[str, Any]], person_all: list[str]):
        q = spec.quality
        self.n, self.floor = q.overlap_ngram, q.min_distinct_2
        self.train_index, self.eval_index = NearCopyIndex(q.near_duplicate_jaccard), NearCopyIndex(q.near_duplicate_jaccard)
        for record in person_eval:
            self.eval_index.add(str(record.get("input", "")))
        boilerplate = set().union(*(ngram_set(x, self.n) for x in person_all)) - leaking_grams(person_all, self.n) \
            if person_all else set()
        self.held_grams = set().union(*(ngram_set(str(r.get("input", "")), self.n) for r in person_eval)) - boilerplate \
            if person_eval else set()
        self.pairs: set[tuple[str, ...]] = set()
        self.seen: set[str] = set()

    def add(self, text: str) -> None:
        self.seen.add(_norm(text))
        self.train_index.add(text)
        self.pairs.update(word_grams(text, 2))

    def reason(self, text: str) -> str | None:
        """Why a generated input does not join training, or None when it does (then it is added)."""
        if _norm(text) in self.seen:
            return "exact duplicate"
        if self.train_index.copy_of(text) is not None:
            return NEAR_COPY
        if self.eval_index.copy_of(text) is not None:
            return NEAR_EVAL
        if self.held_grams and ngram_set(text, self.n) & self.held_grams:
            return EVAL_PHRASE
        pairs = word_grams(text, 2)
        if pairs and sum(1 for p in set(pairs) if p not in self.pairs) < self.floor * len(pairs):
            return NO_NEW_PAIRS
        self.add(text)
        return None


def settle_eval(train: list[dict[str, Any]], evals: list[dict[str, Any]], n: int) -> tuple[list, list, int]:
    """(train, eval, moved): the person's eval rows that share a record-specific phrase with the final training
    data (the report's leakage test, whose threshold grows with the training set) move to training, until none
    does; generated eval rows that leak were dropped before."""
    moved = 0
    while True:
        leaks = set(overlap([str(r["input"]) for r in train], [str(r["input"]) for r in evals], n))
        if not leaks:
            return train, evals, moved
        train = train + [r for k, r in enumerate(evals) if k in leaks]
        evals = [r for k, r in enumerate(evals) if k not in leaks]
        moved += len(leaks)
