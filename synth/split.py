"""The held-out split of the person's rows: eval rows that no training row nearly copies or leaks into.

``stratified_split(records, share, by_label)`` holds out about ``share`` of the rows, the same share of
each label, so that the quality report's leakage test holds by construction: no eval row is a near copy
(MinHash Jaccard at the report's threshold) of a training row, and every word n-gram of an eval row is
either in no training row or in so many (``leaking_grams``' threshold) that it says nothing about any
one record (a greeting, a template's frame). Rows are held out as small groups first: a row, its near
copies, and the rows that must come along so that a phrase they share is not left in one or two training
rows. Where rows are chained by shared phrases (templated data), a row is held out by setting aside the
few rows that share its phrases (neither trained on nor evaluated; at most ``ASIDE_SHARE`` of the rows).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

NGRAM = 8
"""The report's default overlap n-gram (``quality.overlap_ngram``)."""
NEAR = 0.85
"""The report's default near-duplicate threshold (``quality.near_duplicate_jaccard``)."""


def common_count(train_size: int) -> int:
    """How many training records a phrase must be in to say nothing about any one of them (``leaking_grams``)."""
    return max(3, int(train_size * 0.01))


def _near_neighbours(texts: list[str], threshold: float) -> list[list[int]]:
    from datasketch import MinHash, MinHashLSH

    from synth.quality import _shingles

    lsh = MinHashLSH(threshold=threshold, num_perm=64)
    hashes = MinHash.bulk([_shingles(t) for t in texts], num_perm=64, seed=1)
    for k, m in enumerate(hashes):
        lsh.insert(str(k), m, check_duplication=False)
    return [[int(h) for h in lsh.query(m) if int(h) != k] for k, m in enumerate(hashes)]


class _Holdout:
    """The split being built: held-out rows, rows set aside, and how many training rows hold each n-gram."""

    def __init__(self, texts: list[str], n: int, threshold: float, common: int):
        from synth.quality import ngram_set

        self.grams = [ngram_set(t, n) for t in texts]
        self.rows_of: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for k, grams in enumerate(self.grams):
            for gram in grams:
                self.rows_of[gram].append(k)
        self.in_train = Counter({gram: len(rows) for gram, rows in self.rows_of.items()})
        self.near = _near_neighbours(texts, threshold) if len(texts) > 1 else [[] for _ in texts]
        self.common, self.held, self.aside = common, set(), set()
        self.held_grams: set[tuple[str, ...]] = set()

    def _out(self, k: int) -> bool:
        return k in self.held or k in self.aside

    def _thin(self, removed: set[int], held: set[int]) -> list[int]:
        """Training rows left holding a phrase of a held-out row (``held`` or one held before) that fewer than
        ``common`` training rows would have once ``removed`` leave training (the report would call that phrase
        record-specific: a leak)."""
        inside = Counter(gram for k in removed for gram in self.grams[k])
        found: dict[int, None] = {}
        for gram, count in inside.items():
            if 0 < self.in_train[gram] - count < self.common and \
                    (gram in self.held_grams or any(gram in self.grams[k] for k in held)):
                found.update((j, None) for j in self.rows_of[gram] if j not in removed and not self._out(j))
        return list(found)

    def group(self, seed: int, cap: int) -> set[int] | None:
        """``seed`` with its near copies and every row that must be held out with them so that no phrase of the
        group stays in one or two training rows; None past ``cap`` rows."""
        group, todo = {seed}, [seed]
        while todo:
            for k in todo:
                group.update(j for j in self.near[k] if not self._out(j))
            todo = self._thin(group, group)
            group.update(todo)
            if len(group) > cap:
                return None
        return group

    def cost(self, seed: int, cap: int) -> set[int] | None:
        """The training rows to set aside (neither trained on nor evaluated) so that ``seed`` and its near copies
        can be held out alone; None past ``cap`` rows."""
        group = {seed} | {j for j in self.near[seed] if not self._out(j)}
        aside: set[int] = set()
        while True:
            more = [j for j in self._thin(group | aside, group) if j not in aside]
            if not more:
                return aside
            aside.update(more)
            if len(aside) > cap:
                return None

    def take(self, held: set[int], aside: set[int] = frozenset()) -> None:
        self.held |= held
        self.aside |= aside
        self.held_grams.update(gram for k in held for gram in self.grams[k])
        for k in held | aside:
            for gram in self.grams[k]:
                self.in_train[gram] -= 1


@dataclass
class Split:
    train: list[dict[str, Any]]
    eval: list[dict[str, Any]]
    aside: list[dict[str, Any]]
    """Rows neither trained on nor evaluated: each shares a phrase with a held-out row that too few other
    training rows have (holding them out too would have taken a chain of rows)."""


ASIDE_SHARE = 0.1
"""At most this share of the rows is set aside to make room for held-out rows."""


def stratified_split(records: list[dict[str, Any]], share: float, by_label: bool, seed: int = 0, most: int = 500,
                     n: int = NGRAM, threshold: float = NEAR) -> Split:
    """About ``share`` of the rows held out (at most ``most``), the same share of each label, with no near copy
    and no record-specific phrase of an eval row in training (see the module docstring). Rows that are free
    to hold out (alone or in small groups) go first; then rows that need a few others set aside, within
    ``ASIDE_SHARE`` of the rows."""
    labels = [str(r.get("output", "")) if by_label else "" for r in records]
    wanted = min(most, round(len(records) * share))
    members = Counter(labels)
    need = {label: round(count * wanted / max(1, len(records))) for label, count in members.items() if count >= 2}
    holdout = _Holdout([str(r.get("input", "")) for r in records], n, threshold, common_count(len(records) - wanted))
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    taken: Counter = Counter()  # held out, per label
    gone: Counter = Counter()  # held out or set aside, per label

    def room(rows: set[int], aside: set[int] = frozenset()) -> bool:
        """Holding ``rows`` out (and setting ``aside`` aside) overfills no label and leaves each a training row."""
        held, out = Counter(labels[j] for j in rows), Counter(labels[j] for j in rows | aside)
        return all(taken[lab] + c <= need.get(lab, 0) + (len(rows) > 1) for lab, c in held.items()) and \
            all(gone[lab] + c < members[lab] for lab, c in out.items())

    def take(rows: set[int], aside: set[int] = frozenset()) -> None:
        holdout.take(rows, aside)
        taken.update(labels[j] for j in rows)
        gone.update(labels[j] for j in rows | aside)

    def open_seeds() -> list[int]:
        return [k for k in order if not holdout._out(k) and taken[labels[k]] < need.get(labels[k], 0)]

    size = 1
    while open_seeds() and size <= max(need.values(), default=0) * 2:
        for k in open_seeds():
            group = holdout.group(k, cap=size)
            if group is not None and room(group):
                take(group)
        size *= 2
    budget = int(len(records) * ASIDE_SHARE)
    for cap in range(1, budget + 1):
        for k in open_seeds():
            left = budget - len(holdout.aside)
            aside = holdout.cost(k, cap=min(cap, left)) if left > 0 else None
            group = {k} | {j for j in holdout.near[k] if not holdout._out(j)}
            if aside is not None and room(group, aside):
                take(group, aside)
    pick = [holdout.held, holdout.aside]
    return Split([r for k, r in enumerate(records) if not holdout._out(k)],
                 [r for k, r in enumerate(records) if k in pick[0]], [r for k, r in enumerate(records) if k in pick[1]])
