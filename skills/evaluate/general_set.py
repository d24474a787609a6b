"""Write tunesmith's general set (general_set.jsonl): items any chat model should answer, checked by code.

    python -m skills.evaluate.general_set          # rewrites skills/evaluate/general_set.jsonl

Every evaluation scores the base model and each tuned run on these items, so that a tuned model
that lost its general abilities (forgetting) shows it. Four kinds of item, all answerable offline:
arithmetic, short factual questions, instruction following and format obedience. The file is
generated from the seeded templates below and committed; the order interleaves the kinds, so the
first N items (the evaluation's default subset) hold every kind in equal measure.

One line per item: ``{"id", "category", "prompt", "check": {"kind": ..., ...}, "max_new_tokens"}``;
skills.evaluate.forgetting scores an answer against its ``check``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("general_set.jsonl")
SEED = 16

CAPITALS = [
    ("France", "Paris"), ("Japan", "Tokyo"), ("Italy", "Rome"), ("Germany", "Berlin"), ("Spain", "Madrid"),
    ("the United Kingdom", "London"), ("Russia", "Moscow"), ("China", "Beijing"), ("Egypt", "Cairo"),
    ("Canada", "Ottawa"), ("Greece", "Athens"), ("Portugal", "Lisbon"), ("Ireland", "Dublin"),
    ("Austria", "Vienna"), ("Norway", "Oslo"), ("Sweden", "Stockholm"), ("Poland", "Warsaw"),
    ("Thailand", "Bangkok"), ("South Korea", "Seoul"), ("Argentina", "Buenos Aires"), ("Peru", "Lima"),
    ("Kenya", "Nairobi"), ("Cuba", "Havana"), ("Hungary", "Budapest"), ("Denmark", "Copenhagen"),
    ("Finland", "Helsinki"), ("the Netherlands", "Amsterdam"), ("Belgium", "Brussels"), ("India", "New Delhi"),
    ("Mexico", "Mexico City"),
]
FACTS = [
    ("How many days are there in a week?", ["7", "seven"]),
    ("How many months are there in a year?", ["12", "twelve"]),
    ("How many hours are there in a day?", ["24", "twenty-four", "twenty four"]),
    ("How many minutes are there in an hour?", ["60", "sixty"]),
    ("How many legs does a spider have?", ["8", "eight"]),
    ("How many legs does a dog have?", ["4", "four"]),
    ("How many sides does a triangle have?", ["3", "three"]),
    ("How many sides does a square have?", ["4", "four"]),
    ("How many continents are there on Earth?", ["7", "seven"]),
    ("What color is the sky on a clear day?", ["blue"]),
    ("What color is grass?", ["green"]),
    ("What color are ripe bananas?", ["yellow"]),
    ("What color is snow?", ["white"]),
    ("What is the chemical formula of water?", ["H2O"]),
    ("What gas do plants take in from the air to make food?", ["carbon dioxide", "CO2"]),
    ("What is the largest planet in our solar system?", ["Jupiter"]),
    ("Which planet is closest to the Sun?", ["Mercury"]),
    ("Which planet is known as the Red Planet?", ["Mars"]),
    ("What is the largest ocean on Earth?", ["Pacific"]),
    ("What is the opposite of hot?", ["cold"]),
    ("What is the opposite of up?", ["down"]),
    ("What is the opposite of day?", ["night"]),
    ("What is the opposite of big?", ["small", "little"]),
    ("What animal says 'moo'?", ["cow"]),
    ("What animal barks?", ["dog"]),
    ("What do bees make?", ["honey"]),
    ("What is frozen water called?", ["ice"]),
    ("In which season does snow usually fall?", ["winter"]),
    ("What is the first month of the year?", ["January"]),
    ("What is the last month of the year?", ["December"]),
    ("What day comes after Monday?", ["Tuesday"]),
    ("What day comes before Sunday?", ["Saturday"]),
    ("What star is at the center of our solar system?", ["Sun"]),
    ("What do we call a baby cat?", ["kitten"]),
    ("What do we call a baby dog?", ["puppy"]),
    ("At what temperature in degrees Celsius does water freeze?", ["0", "zero"]),
    ("At what temperature in degrees Celsius does water boil at sea level?", ["100"]),
    ("What language is mainly spoken in Brazil?", ["Portuguese"]),
    ("Who wrote the play Romeo and Juliet?", ["Shakespeare"]),
    ("What is the tallest animal in the world?", ["giraffe"]),
]
WORDS = ["apple", "river", "window", "garden", "pencil", "yellow", "music", "orange", "silver", "planet",
         "forest", "candle", "bridge", "summer", "rocket", "butter", "island", "coffee", "shadow", "ticket"]
NAMES = ["Ana", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Leo"]
THINGS = [("colors", "colors"), ("fruits", "fruits"), ("animals", "animals"), ("countries", "countries"),
          ("vegetables", "vegetables"), ("sports", "sports"), ("musical instruments", "instruments"),
          ("kitchen tools", "tools")]
YES_NO = [("Is fire hot?", "yes"), ("Is ice cold?", "yes"), ("Can fish fly like birds?", "no"),
          ("Is the Sun a star?", "yes"), ("Do cats bark?", "no"), ("Is water wet?", "yes"),
          ("Is the Moon larger than the Earth?", "no"), ("Do birds have feathers?", "yes"),
          ("Is two bigger than five?", "no"), ("Is Paris in France?", "yes"), ("Is snow hot?", "no"),
          ("Do plants need water?", "yes"), ("Is a week longer than a day?", "yes"), ("Can a rock swim?", "no")]
TOPICS = ["the sea", "a rainy day", "your favorite food", "a morning walk", "a busy city", "a quiet library",
          "a birthday party", "a mountain", "a train ride", "a garden in spring"]


def _item(category: str, prompt: str, check: dict[str, Any], max_new_tokens: int) -> dict[str, Any]:
    return {"category": category, "prompt": prompt, "check": check, "max_new_tokens": max_new_tokens}


def arithmetic(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Sums, differences, products and one-step word problems with small numbers."""
    items, seen = [], set()
    while len(items) < count:
        kind = rng.choice(["add", "sub", "mul", "story"])
        if kind == "add":
            a, b = rng.randint(2, 60), rng.randint(2, 40)
            prompt, value = f"What is {a} + {b}? Answer with the number only.", a + b
        elif kind == "sub":
            a = rng.randint(10, 90)
            b = rng.randint(1, a - 1)
            prompt, value = f"What is {a} - {b}? Answer with the number only.", a - b
        elif kind == "mul":
            a, b = rng.randint(2, 12), rng.randint(2, 10)
            prompt, value = f"What is {a} times {b}? Answer with the number only.", a * b
        else:
            name = rng.choice(NAMES)
            a, b = rng.randint(2, 15), rng.randint(1, 9)
            thing = rng.choice(["apples", "books", "pens", "coins", "stickers", "cookies"])
            prompt = f"{name} has {a} {thing} and gets {b} more. How many {thing} does {name} have now? Answer with the number only."
            value = a + b
        if prompt not in seen:
            seen.add(prompt)
            items.append(_item("arithmetic", prompt, {"kind": "number", "value": value}, 12))
    return items


def factual(rng: random.Random) -> list[dict[str, Any]]:
    """Capitals and everyday facts, answered briefly."""
    items = [_item("factual", f"What is the capital of {country}? Answer in a few words.",
                   {"kind": "contains", "any": [city]}, 16) for country, city in CAPITALS]
    items += [_item("factual", f"{question} Answer briefly.", {"kind": "contains", "any": answers}, 16)
              for question, answers in FACTS]
    rng.shuffle(items)
    return items


def instructions(rng: random.Random) -> list[dict[str, Any]]:
    """Do exactly what is asked: one word, a repeat, a case change, yes or no."""
    items = []
    for word in WORDS:
        items.append(_item("instruction", f"Reply with only the word '{word}' and nothing else.",
                           {"kind": "exact", "any": [word]}, 8))
        items.append(_item("instruction", f"Write the word '{word}' in capital letters.",
                           {"kind": "contains", "any": [word.upper()], "case": True}, 8))
    for question, answer in YES_NO:
        items.append(_item("instruction", f"Answer with yes or no only. {question}", {"kind": "exact", "any": [answer]}, 6))
    for name in NAMES:
        sentence = f"{name} likes to read in the evening."
        items.append(_item("instruction", f"Repeat this sentence exactly: {sentence}",
                           {"kind": "contains", "any": [sentence.rstrip('.')]}, 24))
    rng.shuffle(items)
    return items


def formats(rng: random.Random) -> list[dict[str, Any]]:
    """Answer in the asked shape: JSON, a bulleted list, lowercase, a set number of words, an ending."""
    items = []
    for name in NAMES:
        items.append(_item("format", f'Return only a JSON object with the key "name" set to "{name}".',
                           {"kind": "json", "equals": {"name": name}}, 24))
        age = rng.randint(20, 70)
        items.append(_item("format", f'Return only a JSON object with the keys "name" and "age" for {name}, who is {age} years old.',
                           {"kind": "json", "equals": {"name": name, "age": age}}, 32))
    for plural, _short in THINGS:
        for n in (2, 3):
            items.append(_item("format", f"List {n} {plural}, one per line, each line starting with '- '. Nothing else.",
                               {"kind": "bullets", "count": n}, 40))
    for country, city in CAPITALS[:12]:
        items.append(_item("format", f"Answer in lowercase letters only: what is the capital of {country}?",
                           {"kind": "lower", "contains": city.lower()}, 16))
    for topic in TOPICS:
        items.append(_item("format", f"Write one short sentence about {topic} that ends with an exclamation mark.",
                           {"kind": "ends_with", "suffix": "!", "max_words": 30}, 40))
        items.append(_item("format", f"Describe {topic} in at most five words.",
                           {"kind": "words", "min": 1, "max": 5}, 16))
    rng.shuffle(items)
    return items


def build() -> list[dict[str, Any]]:
    """The whole set, interleaved by category (so any prefix is balanced), each with a stable id."""
    rng = random.Random(SEED)
    groups = [arithmetic(rng, 100), factual(rng), instructions(rng), formats(rng)]
    out: list[dict[str, Any]] = []
    for i in range(max(len(g) for g in groups)):
        out += [g[i] for g in groups if i < len(g)]
    counters: dict[str, int] = {}
    for item in out:
        counters[item["category"]] = counters.get(item["category"], 0) + 1
        item["id"] = f"{item['category']}-{counters[item['category']]:03d}"
    return [{"id": item.pop("id"), **item} for item in out]


def render(items: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)


if __name__ == "__main__":
    PATH.write_text(render(build()), encoding="utf-8")
    print(f"wrote {PATH} ({len(build())} items)")
