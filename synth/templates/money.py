"""Shipped programmatic template: money and percentage word problems with a checkable numeric answer.

Self-contained (standard library only), the same interface as ``arithmetic``: each record keeps its
expression in ``meta.expression`` and ``verify(record)`` recomputes it, so every record is provably right.
Amounts are chosen so that every answer is a whole number (prices in steps of 20 for percentages,
principals in hundreds, bills that split evenly).

Topics (payload ``topics``, from the person's words): ``percent`` (discounts, sale prices, tips and tax,
percent change, simple interest) and ``money`` (totals, change, splitting a bill, what is left of a budget);
both when none is given. Difficulty (axis ``difficulty``) picks one-step (easy), two-step (medium) or
multi-step (hard) problems. Every fourth item and name is held out for the eval split.

payload: {"start": int, "n": int, "seed": int, "split": str, "axes": {...}, "answer_line": bool,
          "currency": "$" | "£" | "€", "topics": ["percent", "money"]}
"""

import ast
import operator
import random
import re

NAMES = ["Ana", "Ben", "Chen", "Dara", "Eva", "Farid", "Grace", "Hugo", "Isla", "Jonas", "Kavya", "Liam", "Mara",
         "Nils", "Omar", "Priya", "Rosa", "Sami", "Tariq", "Uma", "Viktor", "Wen", "Yara", "Zoe"]
GOODS = ["jacket", "lamp", "bicycle", "printer", "desk chair", "kettle", "backpack", "tent", "monitor", "coffee grinder",
         "rug", "pair of boots", "blender", "bookshelf", "phone case", "toolbox", "sofa", "camera", "watch", "guitar",
         "microwave", "scooter", "mattress", "drill", "vacuum cleaner", "winter coat", "tablet", "suitcase"]
UNIT_GOODS = ["notebooks", "mugs", "tickets", "sandwiches", "light bulbs", "plants", "towels", "cables", "candles",
              "pens", "bags of rice", "ink cartridges", "t-shirts", "batteries", "coffees", "posters", "folders", "cupcakes",
              "bottles of water", "socks", "stamps", "chairs", "flower pots", "keyrings"]
BILLS = ["dinner bill", "taxi fare", "hotel bill", "repair invoice", "catering order", "grocery bill", "salon bill",
         "delivery order", "bar tab", "lunch bill", "moving van rental", "boat tour"]
PERCENTS = [5, 10, 15, 20, 25, 30, 40, 50]
# Several wordings per kind of problem; every fourth is held out for eval (see _pool), so eval problems are
# not phrased like training ones. Fields: {c} currency, {n} name, {g} item, {p} percent, {price} amount.
DISCOUNT = ["A {g} costs {c}{price} and is {p}% off. How much money does the discount take off?",
            "{n} sees a {g} priced at {c}{price} with a {p}% discount. How much is the discount worth?",
            "The shop takes {p}% off a {c}{price} {g}. By how much does the price drop?",
            "How much does {n} save on a {c}{price} {g} marked {p}% off?",
            "A {p}% coupon is used on a {g} that costs {c}{price}. How much does the coupon save?"]
PERCENT_OF = ["{n} spends {p}% of a {c}{price} budget on a {g}. How much is that?",
              "What is {p}% of {c}{price}?",
              "{n} sets aside {p}% of {c}{price} for a new {g}. How much money is set aside?",
              "A deposit of {p}% is due on a {g} that costs {c}{price}. How large is the deposit?",
              "{p}% of the {c}{price} raised goes to a {g}. How much money is that?"]
SALE = ["A {g} costs {c}{price}. It is on sale for {p}% off. What is the sale price?",
        "{n} buys a {g} listed at {c}{price} with {p}% off. What does {n} pay?",
        "After a {p}% markdown, what does a {c}{price} {g} cost?",
        "The {c}{price} {g} is reduced by {p}%. What is its new price?",
        "With a {p}% member discount, how much is a {g} that normally costs {c}{price}?"]
TIP = ["The {b} comes to {c}{price} and {n} adds a {p}% tip. What is the total?",
       "{n} pays a {b} of {c}{price} plus a {p}% tip. How much is paid in all?",
       "A {p}% service charge is added to a {b} of {c}{price}. What is the amount due?",
       "What is the total of a {c}{price} {b} with a {p}% tip on top?",
       "{n} leaves {p}% extra on a {b} of {c}{price}. How much does {n} hand over?"]
RISE = ["The price of a {g} went up from {c}{old} to {c}{new}. By what percent did it rise?",
        "A {g} that cost {c}{old} last year costs {c}{new} now. What is the percent increase?",
        "{n}'s {g} was {c}{old}; the new price is {c}{new}. By how many percent did the price go up?",
        "From {c}{old} to {c}{new}: what percent increase is that for a {g}?",
        "The supplier raised the {c}{old} price of a {g} to {c}{new}. What percent was the rise?"]
INTEREST = ["{n} puts {c}{amount} in a savings account that pays {r}% simple interest a year. How much interest has it "
            "earned after {y} years?",
            "A loan of {c}{amount} charges {r}% simple interest per year. How much interest is owed after {y} years?",
            "How much simple interest does {c}{amount} earn in {y} years at {r}% a year?",
            "{n} lends {c}{amount} at {r}% simple yearly interest for {y} years. What is the interest?",
            "A bond of {c}{amount} pays {r}% simple interest each year. What does it pay over {y} years?"]
SALE_TAX = ["A {g} costs {c}{price}. It is {p}% off, and {t}% sales tax is added to the sale price. What does {n} pay?",
            "{n} buys a {c}{price} {g} at {p}% off; then {t}% tax is charged on the reduced price. What is the total?",
            "With {p}% off and {t}% tax on the discounted amount, what does a {c}{price} {g} cost?",
            "The {g} is {c}{price} before a {p}% discount. Tax of {t}% is added after the discount. How much is due?",
            "Take {p}% off {c}{price}, then add {t}% tax. What does the {g} come to?"]
TOTAL = ["{n} buys {q} {g} at {c}{u} each. How much does {n} pay?",
         "What do {q} {g} cost at {c}{u} apiece?",
         "{n} orders {q} {g}; each one is {c}{u}. What is the bill?",
         "The team needs {q} {g} priced at {c}{u} each. How much will they spend?",
         "At {c}{u} a piece, how much are {q} {g}?"]
CHANGE = ["{n} buys {q} {g} at {c}{u} each and pays with a {c}{note} note. How much change does {n} get back?",
          "{q} {g} at {c}{u} each are paid for with {c}{note}. What change is due?",
          "A customer hands over {c}{note} for {q} {g} costing {c}{u} each. How much change should the cashier give?",
          "{n} has a {c}{note} note and buys {q} {g} at {c}{u} each. How much is given back?",
          "What change comes back from {c}{note} after buying {q} {g} at {c}{u} each?"]
SPLIT = ["A {b} of {c}{amount} is split evenly between {k} people. How much does each person pay?",
         "{k} friends share a {c}{amount} {b} equally. What is each share?",
         "{n} and friends, {k} in all, divide a {b} of {c}{amount} evenly. How much does each pay?",
         "Split {c}{amount} equally {k} ways: how much is one share of the {b}?",
         "A {c}{amount} {b} is shared by {k} colleagues in equal parts. How much does one colleague pay?"]
LEFT = ["{n} has {c}{budget}. {n} buys {q} {g} at {c}{u} each and {q2} more items at {c}{u2} each. How much money is left?",
        "With a budget of {c}{budget}, {n} orders {q} {g} at {c}{u} each and {q2} others at {c}{u2} each. What remains?",
        "{n} starts with {c}{budget}, spends {c}{u} on each of {q} {g} and {c}{u2} on each of {q2} other items. How much "
        "is left over?",
        "After buying {q} {g} for {c}{u} each and {q2} items for {c}{u2} each, how much of {c}{budget} does {n} have?",
        "A {c}{budget} allowance pays for {q} {g} at {c}{u} each and {q2} more things at {c}{u2} each. What is left?"]
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _pool(values, split):
    """Every fourth value is held out for the eval split, so eval problems share no item or name with training."""
    return [v for k, v in enumerate(values) if (k % 4 == 3) == (split == "eval")]


def _eval(node):
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_eval(node.left), _eval(node.right))
    raise ValueError("unsupported expression")


def _percent_problem(rng, level, c, name, good, bill, split):
    p = rng.choice(PERCENTS)
    price = 20 * rng.randint(1, {"easy": 10, "medium": 25, "hard": 50}.get(level, 25))
    cut = price * p // 100
    if level == "easy":
        kind = rng.choice(["discount", "percent_of"])
        frames = _pool(DISCOUNT if kind == "discount" else PERCENT_OF, split)
        question = rng.choice(frames).format(c=c, n=name, g=good, p=p, price=price)
        return question, "(%d * %d / 100)" % (price, p), cut, ["%d%% of %s%d = %s%d." % (p, c, price, c, cut)]
    if level == "medium":
        kind = rng.choice(["sale", "tip"])
        if kind == "sale":
            question = rng.choice(_pool(SALE, split)).format(c=c, n=name, g=good, p=p, price=price)
            return question, "(%d - %d * %d / 100)" % (price, price, p), price - cut, \
                ["%d%% of %s%d = %s%d." % (p, c, price, c, cut), "%d - %d = %d." % (price, cut, price - cut)]
        p = rng.choice([10, 15, 20, 25])
        cut = price * p // 100
        question = rng.choice(_pool(TIP, split)).format(c=c, n=name, b=bill, p=p, price=price)
        return question, "(%d + %d * %d / 100)" % (price, price, p), price + cut, \
            ["%d%% of %s%d = %s%d." % (p, c, price, c, cut), "%d + %d = %d." % (price, cut, price + cut)]
    kind = rng.choice(["change", "interest", "sale_tax"])
    if kind == "change":
        new = price + cut
        question = rng.choice(_pool(RISE, split)).format(c=c, n=name, g=good, old=price, new=new)
        return question, "((%d - %d) * 100 / %d)" % (new, price, price), p, \
            ["%d - %d = %d." % (new, price, cut), "%d / %d x 100 = %d%%." % (cut, price, p)]
    if kind == "interest":
        principal, rate, years = 100 * rng.randint(2, 60), rng.randint(1, 9), rng.randint(2, 6)
        interest = principal * rate * years // 100
        question = rng.choice(_pool(INTEREST, split)).format(c=c, n=name, amount=principal, r=rate, y=years)
        return question, "(%d * %d * %d / 100)" % (principal, rate, years), interest, \
            ["%d%% of %s%d = %s%d a year." % (rate, c, principal, c, principal * rate // 100),
             "%d x %d = %d." % (principal * rate // 100, years, interest)]
    tax = rng.choice([10, 20])
    while (price - cut) * tax % 100:  # the tax on the sale price must come out whole
        price += 20
        cut = price * p // 100
    sale = price - cut
    total = sale + sale * tax // 100
    question = rng.choice(_pool(SALE_TAX, split)).format(c=c, n=name, g=good, price=price, p=p, t=tax)
    return question, "((%d - %d * %d / 100) * (100 + %d) / 100)" % (price, price, p, tax), total, \
        ["%d%% off %s%d = %s%d." % (p, c, price, c, sale), "%d + %d%% tax = %d." % (sale, tax, total)]


def _money_problem(rng, level, c, name, goods, bill, split):
    q, unit = rng.randint(2, {"easy": 9, "medium": 12, "hard": 20}.get(level, 12)), rng.randint(2, 30)
    total = q * unit
    if level == "easy":
        question = rng.choice(_pool(TOTAL, split)).format(c=c, n=name, g=goods, q=q, u=unit)
        return question, "(%d * %d)" % (q, unit), total, ["%d x %s%d = %s%d." % (q, c, unit, c, total)]
    if level == "medium":
        if rng.random() < 0.5:
            note = next(v for v in (20, 50, 100, 200, 500, 1000) if v > total)
            question = rng.choice(_pool(CHANGE, split)).format(c=c, n=name, g=goods, q=q, u=unit, note=note)
            return question, "(%d - %d * %d)" % (note, q, unit), note - total, \
                ["%d x %s%d = %s%d." % (q, c, unit, c, total), "%d - %d = %d." % (note, total, note - total)]
        people = rng.randint(2, 8)
        share = rng.randint(5, 60)
        question = rng.choice(_pool(SPLIT, split)).format(c=c, n=name, b=bill, amount=share * people, k=people)
        return question, "(%d / %d)" % (share * people, people), share, \
            ["%s%d / %d = %s%d." % (c, share * people, people, c, share)]
    q2, unit2 = rng.randint(2, 10), rng.randint(2, 40)
    spent = total + q2 * unit2
    budget = 50 * ((spent // 50) + rng.randint(1, 4))
    question = rng.choice(_pool(LEFT, split)).format(c=c, n=name, g=goods, q=q, u=unit, q2=q2, u2=unit2, budget=budget)
    return question, "(%d - %d * %d - %d * %d)" % (budget, q, unit, q2, unit2), budget - spent, \
        ["%d x %d = %d." % (q, unit, total), "%d x %d = %d." % (q2, unit2, q2 * unit2),
         "%d - %d - %d = %d." % (budget, total, q2 * unit2, budget - spent)]


def generate(payload):
    start, n, seed = int(payload.get("start", 0)), int(payload["n"]), payload.get("seed", 0)
    split = payload.get("split", "train")
    axes = payload.get("axes") or {}
    c = payload.get("currency") or "$"
    topics = [t for t in (payload.get("topics") or []) if t in ("percent", "money")] or ["percent", "money"]
    out = []
    for i in range(start, start + n):
        rng = random.Random("%s:%s:%d" % (seed, split, i))
        meta = {name: rng.choices([v for v, _ in vals], [w for _, w in vals])[0] for name, vals in axes.items()}
        level = meta.get("difficulty", rng.choice(["easy", "medium", "hard"]))
        name = rng.choice(_pool(NAMES, split))
        if topics[i % len(topics)] == "percent":
            question, expression, value, worked = _percent_problem(
                rng, level, c, name, rng.choice(_pool(GOODS, split)), rng.choice(_pool(BILLS, split)), split)
        else:
            question, expression, value, worked = _money_problem(
                rng, level, c, name, rng.choice(_pool(UNIT_GOODS, split)), rng.choice(_pool(BILLS, split)), split)
        meta["expression"] = expression
        answer = " ".join(worked) + "\nAnswer: %d" % value if payload.get("answer_line") else str(value)
        out.append({"i": i, "input": question, "output": answer, "meta": meta})
    return out


def final_answer(text):
    """The number of the last `Answer:` line, else the whole answer as a number (None when neither)."""
    lines = re.findall(r"^\W*answer\W*[:=]\s*[$£€]?\s*(-?[\d,]*\.?\d+)", str(text), re.IGNORECASE | re.MULTILINE)
    try:
        return float((lines[-1] if lines else str(text).strip().lstrip("$£€").rstrip("%")).replace(",", ""))
    except ValueError:
        return None


def verify(record):
    expression = (record.get("meta") or {}).get("expression")
    if not expression:
        return "no expression to check"
    try:
        expected = _eval(ast.parse(expression, mode="eval"))
    except (ValueError, SyntaxError, ZeroDivisionError):
        return "expression cannot be evaluated"
    got = final_answer(record.get("output", ""))
    if got is None:
        return "answer is not a number"
    return True if abs(got - expected) < 1e-9 else "answer %s != %s" % (got, expected)
