"""Understand the person's reply to a written spec: approval, or changes in a few common phrasings.

`parse_edits` turns words like "rename tenet label_only to exact_label; add label savings" into the
`changes` argument of update_use_case (dotted field path -> new value), read against the current spec.
"""

from __future__ import annotations

import json
import re
from typing import Any

from skills.use_case.drafting import classification_prompt, custom_tenet
from skills.use_case.infer import label_pattern, singular, split_items

_APPROVE = re.compile(r"\b(approve[ds]?|yes|yep|yeah|looks good|look good|lgtm|ok|okay|ship it|go ahead|sounds good|"
                      r"perfect|great|good to go|all good|fine|confirm(ed)?)\b", re.I)
_NOT = re.compile(r"\b(not|no|don't|dont|but|change|except|however|rename|add|remove|drop|delete|set|wait|instead)\b|n't", re.I)
DONE_EDITING = re.compile(r"^\s*(done|i'?m done|edited|finished|saved|i fixed it|"
                          r"i (have )?(edited|changed|fixed) (it|the file|[\w.-]+\.yaml))\b", re.I)
"""The person says they changed the file themselves (the app also says so after an edit in its editor)."""
SELF_EDIT = re.compile(r"\b(edit|change) (it|the file|use_case\.yaml) (myself|by hand|in (the|my) editor)\b|\bmyself\b", re.I)


def is_approval(text: str) -> bool:
    """A plain yes: approval words and no words asking for a change."""
    return bool(_APPROVE.search(text)) and not _NOT.search(text)


def _clauses(text: str) -> list[str]:
    parts = re.split(r"[;\n]+|\.\s+|,\s*(?:and\s+)?(?=(?:rename|add|remove|drop|delete|set|change|use|name|call)\b)|"
                     r"\s+and\s+(?=(?:rename|add|remove|drop|delete|set|change|use|name|call)\b)", text.strip(), flags=re.I)
    return [p.strip().rstrip(".") for p in parts if p and p.strip().rstrip(".")]


def find_tenet(tenets: list[dict], ref: str) -> int | None:
    """Index of the tenet named ``ref`` (its name, its number from 1, or a unique part of its name)."""
    ref = ref.strip().strip("`'\"").lower()
    if ref.isdigit() and 1 <= int(ref) <= len(tenets):
        return int(ref) - 1
    key = re.sub(r"[^a-z0-9]+", "_", ref).strip("_")
    names = [str(t.get("name", "")).lower() for t in tenets]
    if key in names:
        return names.index(key)
    partial = [i for i, name in enumerate(names) if key and key in name]
    return partial[0] if len(partial) == 1 else None


def _value(text: str) -> Any:
    """A value as typed: JSON when it parses (numbers, true/false, lists, objects), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_edits(text: str, spec: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Changes for update_use_case read from ``text`` against ``spec`` (a spec dict); and clauses not understood."""
    changes: dict[str, Any] = {}
    unknown: list[str] = []
    contract = dict(spec.get("contract") or {})
    tenets = [dict(t) for t in spec.get("success_tenets") or []]
    labels = list(contract.get("labels") or [])
    old_labels = list(labels)
    constraints = list(spec.get("constraints") or [])
    touched_tenets: set[int] = set()

    for clause in _clauses(text):
        m = re.match(r"(?:please\s+)?rename (?:the )?(?:tenet|success tenet) [`'\"]?(.+?)[`'\"]? (?:to|as|into) [`'\"]?(.+?)[`'\"]?$", clause, re.I)
        if m:
            index = find_tenet(tenets, m.group(1))
            if index is None:
                unknown.append(f"{clause} (no tenet called {m.group(1)!r}; tenets: {', '.join(t['name'] for t in tenets)})")
                continue
            tenets[index]["name"] = re.sub(r"[^A-Za-z0-9_]+", "_", m.group(2).strip()).strip("_")
            touched_tenets.add(index)
            continue
        m = re.match(r"(?:please\s+)?rename (?:the )?label [`'\"]?(.+?)[`'\"]? (?:to|as|into) [`'\"]?(.+?)[`'\"]?$", clause, re.I)
        if m:
            if m.group(1) not in labels:
                unknown.append(f"{clause} (no label {m.group(1)!r}; labels: {', '.join(labels)})")
                continue
            labels[labels.index(m.group(1))] = m.group(2).strip()
            continue
        m = re.match(r"(?:please\s+)?(?:add|include) (?:the |a |an |new )?labels? :?\s*(.+)$", clause, re.I)
        if m:
            labels += [item for item in split_items(m.group(1)) if item not in labels]
            continue
        m = re.match(r"(?:please\s+)?(?:remove|drop|delete) (?:the )?labels? :?\s*(.+)$", clause, re.I)
        if m:
            gone = split_items(m.group(1))
            missing = [g for g in gone if g not in labels]
            if missing:
                unknown.append(f"{clause} (no label {', '.join(missing)}; labels: {', '.join(labels)})")
                continue
            labels = [label for label in labels if label not in gone]
            continue
        m = re.match(r"(?:please\s+)?(?:remove|drop|delete) (?:the )?(?:success )?tenet [`'\"]?(.+?)[`'\"]?$", clause, re.I)
        if m:
            index = find_tenet(tenets, m.group(1))
            if index is None:
                unknown.append(f"{clause} (no tenet called {m.group(1)!r})")
                continue
            tenets[index] = {}
            touched_tenets.add(index)
            continue
        m = re.match(r"(?:please\s+)?add (?:a |another )?(?:success )?tenet:?\s*(.+)$", clause, re.I)
        if m:
            tenets.append(custom_tenet(m.group(1)))
            touched_tenets.add(len(tenets) - 1)
            continue
        m = re.match(r"(?:please\s+)?(?:describe|change) (?:the )?tenet [`'\"]?(.+?)[`'\"]? (?:as|to)\s*:?\s*(.+)$", clause, re.I)
        if m and find_tenet(tenets, m.group(1)) is not None:
            index = find_tenet(tenets, m.group(1))
            tenets[index]["description"] = m.group(2).strip()
            touched_tenets.add(index)
            continue
        m = re.match(r"(?:please\s+)?(?:set |change )?(?:the )?(?:primary )?users? (?:to|are|is|should be|=|:)\s*(.+)$", clause, re.I)
        if m:
            changes["primary_users"] = m.group(1).strip()
            continue
        m = re.match(r"(?:please\s+)?(?:(?:set |change )?(?:the )?base model (?:to|=|:)?|use (?:the )?(?:model )?)\s*`?([\w:./~-]+)`?$", clause, re.I)
        if m and ("/" in m.group(1) or ":" in m.group(1) or "base model" in clause.lower()):
            changes["base_model"] = m.group(1)
            continue
        m = re.match(r"(?:please\s+)?(?:rename (?:it|the use case)|name it|call it|(?:set |change )?(?:the )?name) (?:to |as |=\s*|:\s*)?[`'\"]?(.+?)[`'\"]?$", clause, re.I)
        if m:
            changes["name"] = m.group(1).strip()
            continue
        m = re.match(r"(?:please\s+)?add (?:a )?constraint:?\s*(.+)$", clause, re.I)
        if m:
            constraints.append(m.group(1).strip())
            changes["constraints"] = constraints
            continue
        m = re.match(r"(?:set |change )?(?:the )?max(?:imum)? (?:output )?(?:length|chars|characters)(?: to| =|:)?\s*(\d+)", clause, re.I)
        if m:
            changes["contract.max_output_chars"] = int(m.group(1))
            continue
        m = re.match(r"(?:set|change) `?([A-Za-z_][\w.\[\]+]*)`? (?:to|=|:)\s*(.+)$", clause, re.I)
        if m and re.match(r"[a-z_]+(\.|\[|$)", m.group(1)):
            changes[m.group(1)] = _value(m.group(2).strip())
            continue
        unknown.append(clause)

    if labels != old_labels:
        changes["contract.labels"] = labels
        prompt = contract.get("system_prompt")
        if prompt and old_labels and ", ".join(old_labels) in prompt:
            changes["contract.system_prompt"] = prompt.replace(", ".join(old_labels), ", ".join(labels))
        elif prompt is None and contract.get("output_format") == "label":
            changes["contract.system_prompt"] = classification_prompt(singular("input"), labels)
        for index, tenet in enumerate(tenets):
            params = tenet.get("params") or {}
            if tenet.get("metric") == "regex" and old_labels and params.get("pattern") == label_pattern(old_labels):
                tenets[index] = {**tenet, "params": {**params, "pattern": label_pattern(labels)}}
                touched_tenets.add(index)
    if touched_tenets:
        changes["success_tenets"] = [t for t in tenets if t]
    return changes, unknown
