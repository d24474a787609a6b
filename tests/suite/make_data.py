"""Writes the suite's small data files (tests/suite/data/) from word lists, with a fixed seed.

The files are committed; run `python tests/suite/make_data.py` to rebuild them after changing a list.
Each family gets about 80 rows in the columns a person would export (CSV or JSONL).
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent / "data"
N = 80

NAMES = ["Maria", "Tom", "Aisha", "Kenji", "Lena", "Omar", "Priya", "Jonas", "Chloe", "Diego", "Fatima", "Sven", "Mei",
         "Ravi", "Olga", "Luca", "Nadia", "Ben", "Ines", "Kwame"]
PRODUCTS = ["blender", "desk lamp", "running shoes", "coffee grinder", "yoga mat", "bluetooth speaker", "backpack",
            "air fryer", "phone case", "electric kettle", "office chair", "water bottle", "rain jacket", "monitor stand"]
CITIES = ["Rotterdam", "Lyon", "Gdansk", "Porto", "Leipzig", "Valencia", "Antwerp", "Bologna", "Malmo", "Tallinn",
          "Hamburg", "Seville", "Bruges", "Krakow", "Turin", "Aarhus"]


def rows_routing(r: random.Random) -> list[dict]:
    queues = {
        "Billing": ["I was charged twice for order {n}", "my invoice {n} shows the wrong VAT amount",
                    "the card on file expired and the renewal failed", "please refund the duplicate payment of {m} euros",
                    "why did my monthly plan go up to {m} euros"],
        "Technical": ["the app crashes when I open the {p} settings", "I cannot pair my {p} over bluetooth",
                      "the firmware update stopped at {k} percent", "error code E{n} appears after login",
                      "the website keeps logging me out on my phone"],
        "Shipping": ["my {p} has not arrived after {k} days", "the tracking page for parcel {n} has not moved",
                     "the courier left my package in {c} instead of my address", "can you ship to {c} next week",
                     "the delivery window for order {n} changed twice"],
        "Returns": ["I want to send back the {p}, it is too small", "how do I print the return label for order {n}",
                    "the {p} arrived broken and I would like to return it", "is the return free if I ordered {k} items",
                    "I returned the {p} {k} days ago and heard nothing"],
        "Account": ["I forgot the email address of my account", "please delete my account and my data",
                    "how do I change the name on my profile to {name}", "two-factor codes never reach my phone",
                    "I want to merge my two accounts into one"],
    }
    out = []
    for i in range(N):
        queue = list(queues)[i % 5]
        body = r.choice(queues[queue]).format(n=r.randint(1000, 99999), m=r.randint(5, 400), p=r.choice(PRODUCTS),
                                              k=r.randint(2, 30), c=r.choice(CITIES), name=r.choice(NAMES))
        opener = r.choice(["Hello,", "Hi team,", "Good morning,", "Dear support,", "Hey,", ""])
        closer = r.choice(["Thanks, " + r.choice(NAMES), "Regards, " + r.choice(NAMES), "Please help.", "Best", ""])
        out.append({"email": " ".join(p for p in (opener, body[:1].upper() + body[1:] + ".", closer) if p), "queue": queue})
    return out


def rows_reviews(r: random.Random) -> list[dict]:
    topics = {"price": ["costs {m} euros, which is {pv}", "the price is {pv} for what you get"],
              "quality": ["the build feels {qv}", "after {k} weeks it {qv2}"],
              "delivery": ["it arrived {dv}", "the parcel came {dv} and well packed"]}
    values = {"positive": {"pv": "a bargain", "qv": "solid and well made", "qv2": "still works like new",
                           "dv": "a day early", "word": ["Love it.", "Great buy.", "Very happy."]},
              "negative": {"pv": "far too much", "qv": "cheap and flimsy", "qv2": "already broke",
                           "dv": "a week late", "word": ["Disappointed.", "Would not buy again.", "Not good."]},
              "neutral": {"pv": "about average", "qv": "fine, nothing special", "qv2": "works as expected",
                          "dv": "on the promised day", "word": ["It is okay.", "Does the job.", "Average."]}}
    out = []
    for i in range(N):
        sentiment = ["positive", "negative", "neutral"][i % 3]
        chosen = r.sample(list(topics), r.choice([1, 1, 2]))
        v = values[sentiment]
        parts = [r.choice(topics[t]).format(m=r.randint(9, 300), k=r.randint(1, 12), **{k: v[k] for k in ("pv", "qv", "qv2", "dv")})
                 for t in chosen]
        text = f"The {r.choice(PRODUCTS)}: " + " and ".join(parts) + ". " + r.choice(v["word"])
        out.append({"review": text, "tags": {"sentiment": sentiment, "topics": chosen}})
    return out


def rows_shipment(r: random.Random) -> list[dict]:
    carriers = ["DHL", "UPS", "FedEx", "DPD", "GLS", "PostNL"]
    out = []
    for _ in range(N):
        fields = {"tracking_number": f"{r.choice(['JD', '1Z', 'TR', 'CX'])}{r.randint(10**8, 10**9 - 1)}",
                  "carrier": r.choice(carriers), "origin": r.choice(CITIES), "destination": r.choice(CITIES),
                  "ship_date": f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                  "weight_kg": round(r.uniform(0.4, 900), 1)}
        style = r.randint(0, 2)
        if style == 0:
            text = (f"Hi {r.choice(NAMES)}, your pallet left {fields['origin']} on {fields['ship_date']} with "
                    f"{fields['carrier']} (tracking {fields['tracking_number']}), {fields['weight_kg']} kg, bound for "
                    f"{fields['destination']}.")
        elif style == 1:
            text = (f"Shipment notice. Carrier: {fields['carrier']}. Ref {fields['tracking_number']}. From "
                    f"{fields['origin']} to {fields['destination']}. Dispatched {fields['ship_date']}. Gross weight "
                    f"{fields['weight_kg']} kg.")
        else:
            fields["weight_kg"] = None
            text = (f"FYI the {r.choice(PRODUCTS)} order for {fields['destination']} is booked with {fields['carrier']}, "
                    f"pickup in {fields['origin']} {fields['ship_date']}, AWB {fields['tracking_number']}. Weight to follow.")
        out.append({"email": text, "fields": fields})
    return out


def rows_units(r: random.Random) -> list[dict]:
    kinds = [("km", "miles", 0.621371, "{name} ran {x} km. How many miles is that?"),
             ("kg", "pounds", 2.20462, "A suitcase weighs {x} kg. What is its weight in pounds?"),
             ("liters", "US gallons", 0.264172, "A tank holds {x} liters. How many US gallons is that?"),
             ("meters", "feet", 3.28084, "A wall is {x} meters high. How tall is it in feet?"),
             ("hours", "minutes", 60, "A flight from {city} takes {x} hours. How many minutes is that?"),
             ("cm", "inches", 0.393701, "A screen is {x} cm wide. What is that in inches?")]
    out = []
    for i in range(N):
        _, _, factor, text = kinds[i % len(kinds)]
        x = r.choice([r.randint(2, 400), round(r.uniform(1, 90), 1)])
        out.append({"question": text.format(x=x, name=r.choice(NAMES), city=r.choice(CITIES)),
                    "answer": str(round(x * factor, 2))})
    return out


def rows_hotel(r: random.Random) -> list[dict]:
    praise = ["the breakfast was lovely", "the staff at the desk were so helpful", "our room had a great view",
              "the spa was relaxing", "the location near the old town was perfect"]
    gripes = ["the air conditioning was noisy", "check-in took forty minutes", "the wifi kept dropping",
              "the shower was lukewarm", "street noise kept us awake"]
    out = []
    for _ in range(N):
        name, good, bad = r.choice(NAMES), r.choice(praise), r.choice(gripes)
        nights = r.randint(1, 9)
        review = f"Stayed {nights} nights in {r.choice(CITIES)}. {good.capitalize()}, but {bad}. {r.choice(['Might come back.', 'Mixed feelings.', 'Overall fine.'])}"
        chosen = (f"Dear {name}, thank you so much for staying with us for {nights} nights. We are really glad {good}. "
                  f"I'm sorry {bad}; I have passed it to our team and we are looking into it. We'd love to welcome you back.")
        rejected = ("Dear Guest, thank you for your feedback. We value all reviews. Your comments have been noted. "
                    "We hope to see you again.")
        out.append({"review": review, "chosen": chosen, "rejected": rejected})
    return out


def rows_bugs(r: random.Random) -> list[dict]:
    areas = ["checkout page", "login form", "search results", "PDF export", "settings screen", "image upload",
             "notification service", "dark mode", "CSV import", "calendar sync"]
    effects = ["crashes", "hangs for a minute", "shows a blank page", "throws a 500 error", "duplicates entries",
               "loses the user's input", "shows the wrong totals"]
    out = []
    for _ in range(N):
        area, effect = r.choice(areas), r.choice(effects)
        browser = r.choice(["Firefox 128", "Chrome 126", "Safari 17", "the Android app 4.2", "the iOS app 5.0", "Edge 125"])
        steps = r.randint(2, 5)
        body = (f"Reporter: {r.choice(NAMES)}. Since release {r.randint(1, 9)}.{r.randint(0, 20)}, the {area} {effect} "
                f"on {browser} after {steps} steps: open it, change {r.choice(['the date', 'the filter', 'a field', 'the language'])}, "
                f"then press save. Happens {r.choice(['every time', 'about half the time', 'only for new accounts'])}. "
                f"Logs show {r.choice(['a null pointer', 'a timeout', 'an auth error', 'nothing unusual'])}.")
        summary = f"The {area} {effect} on {browser} after saving a change.\nSeen since the last release; logs attached."
        out.append({"body": body, "summary": summary})
    return out


def rows_legal(r: random.Random) -> list[dict]:
    clauses = [
        ("The Lessee shall indemnify and hold harmless the Lessor from any and all claims arising from the Lessee's use of the {thing}.",
         "If someone makes a claim because of how you used the {thing}, you pay for it, not the owner."),
        ("This Agreement may be terminated by either party upon {n} days' prior written notice to the other party.",
         "Either of us can end this agreement by telling the other in writing {n} days ahead."),
        ("Notwithstanding the foregoing, the Provider shall not be liable for any indirect or consequential damages.",
         "Even so, the provider does not pay for knock-on losses, only direct ones."),
        ("All fees are payable within {n} days of the invoice date, failing which interest shall accrue at {k}% per annum.",
         "Pay each bill within {n} days; after that, {k}% yearly interest is added."),
        ("The Customer hereby grants the Company a non-exclusive licence to use the {thing} for the purposes of this Agreement.",
         "You let the company use the {thing} for this agreement; you can still let others use it too."),
    ]
    things = ["premises", "equipment", "software", "vehicle", "content", "trademark", "data", "workspace"]
    out = []
    for i in range(N):
        clause, plain = clauses[i % len(clauses)]
        values = {"thing": r.choice(things), "n": r.choice([7, 14, 30, 45, 60, 90]), "k": r.choice([2, 4, 5, 8])}
        prefix = r.choice(["", f"Section {r.randint(2, 19)}. ", f"Clause {r.randint(1, 40)}.{r.randint(1, 9)} ", "(a) "])
        out.append({"clause": prefix + clause.format(**values), "rewrite": plain.format(**values)})
    return out


def rows_smarthome(r: random.Random) -> list[dict]:
    intents = {"turn_on": ["switch on the {room} lights", "turn the {dev} on", "power up the {dev} in the {room}"],
               "turn_off": ["turn off the {room} lights", "shut the {dev} down", "kill the {dev} please"],
               "set_temperature": ["set the {room} to {t} degrees", "make it {t} degrees in the {room}", "heat the {room} to {t}"],
               "play_music": ["play some {genre} in the {room}", "put on {genre} music", "start my {genre} playlist"],
               "lock_door": ["lock the {door} door", "is the {door} door locked? lock it", "secure the {door} entrance"]}
    out = []
    for i in range(N):
        intent = list(intents)[i % 5]
        text = r.choice(intents[intent]).format(room=r.choice(["kitchen", "bedroom", "living room", "office", "hallway", "garage"]),
                                                dev=r.choice(["fan", "heater", "TV", "coffee machine", "air purifier"]),
                                                t=r.randint(16, 26), genre=r.choice(["jazz", "rock", "lofi", "classical", "pop"]),
                                                door=r.choice(["front", "back", "garage", "side"]))
        out.append({"command": r.choice(["", "hey home, ", "please ", "could you "]) + text, "intent": intent})
    return out


def rows_grading(r: random.Random) -> list[dict]:
    items = [("Why do we have seasons?", "Earth's axis is tilted, so sunlight hits each hemisphere at different angles during the year.",
              ["Because the axis is tilted and the sun's angle changes over the year.", "The tilt changes how direct the sunlight is.",
               "Earth is closer to the sun in summer.", "Because of the weather.", "I don't know."]),
             ("What does a catalyst do?", "It speeds up a reaction without being used up.",
              ["It makes the reaction faster and is not consumed.", "Speeds up reactions.", "It is a chemical.",
               "It starts a fire.", "No idea."]),
             ("What is photosynthesis?", "Plants turn light, water and CO2 into sugar and oxygen.",
              ["Plants use sunlight, water and carbon dioxide to make glucose and oxygen.", "Plants make food from light.",
               "Plants breathe.", "Something with leaves.", "It is a kind of photo."])]
    grades = ["5", "4", "3", "2", "1"]
    out = []
    for i in range(N):
        question, ref, answers = items[i % len(items)]
        level = i % 5
        answer = answers[level] + r.choice(["", " I think.", " (from the lesson)", " Maybe."])
        out.append({"text": f"Question: {question}\nReference: {ref}\nStudent ({r.choice(NAMES)}): {answer}", "grade": grades[level]})
    return out


FAQ = """# Acme Home Store FAQ

## Orders
- You can change an order within 2 hours of placing it, from "My orders".
- Orders over 50 euros ship free within the EU.

## Delivery
- Standard delivery takes 3 to 5 working days; express takes 1 to 2 working days and costs 9 euros.
- We deliver to the EU, the UK, Norway and Switzerland.

## Returns
- You have 30 days to return an item; returns are free for members and cost 4 euros otherwise.
- Refunds reach your account within 7 days of us receiving the item.

## Payments
- We accept cards, PayPal and bank transfer; bank transfers must arrive within 5 days.

## Warranty
- Electronics have a 2-year warranty; furniture has a 5-year warranty on the frame.
"""


def rows_faq(r: random.Random) -> list[dict]:
    qa = [("Can I change my order?", "Yes, within 2 hours of placing it, from My orders."),
          ("Is shipping free?", "Orders over 50 euros ship free within the EU."),
          ("How long does delivery take?", "Standard delivery takes 3 to 5 working days."),
          ("How much is express delivery?", "Express costs 9 euros and takes 1 to 2 working days."),
          ("Do you ship to Norway?", "Yes, we deliver to Norway."),
          ("How long do I have to return something?", "You have 30 days to return an item."),
          ("Are returns free?", "Returns are free for members and cost 4 euros otherwise."),
          ("When do I get my refund?", "Within 7 days of us receiving the item."),
          ("Can I pay with PayPal?", "Yes, we accept PayPal."),
          ("What is the warranty on a sofa?", "Furniture has a 5-year warranty on the frame."),
          ("How long is the warranty on a TV?", "Electronics have a 2-year warranty.")]
    lead = ["", "Hi, ", "Quick question: ", "Hello! ", "Sorry to bother you, ", "Hey there, "]
    tail = ["", " Thanks!", " I ordered last week.", " It is for a gift.", " I live in {c}."]
    out = []
    for i in range(N):
        question, answer = qa[i % len(qa)]
        q = r.choice(lead) + (question if not r.choice(lead) else question[:1].lower() + question[1:])
        out.append({"question": (q + r.choice(tail).format(c=r.choice(CITIES))).strip(), "answer": answer})
    return out


def write_jsonl(name: str, rows: list[dict]) -> None:
    with open(HERE / name, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def write_csv(name: str, rows: list[dict]) -> None:
    with open(HERE / name, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    HERE.mkdir(exist_ok=True)
    r = random.Random(12)
    write_csv("support_emails.csv", rows_routing(r))
    write_jsonl("product_reviews.jsonl", rows_reviews(r))
    write_jsonl("shipment_emails.jsonl", rows_shipment(r))
    write_csv("unit_problems.csv", rows_units(r))
    write_jsonl("hotel_reply_pairs.jsonl", rows_hotel(r))
    write_jsonl("bug_reports.jsonl", rows_bugs(r))
    write_jsonl("legal_clauses.jsonl", rows_legal(r))
    write_csv("smart_home_commands.csv", rows_smarthome(r))
    write_csv("short_answer_grades.csv", rows_grading(r))
    write_jsonl("faq_questions.jsonl", rows_faq(r))
    (HERE / "faq.md").write_text(FAQ, encoding="utf-8")


if __name__ == "__main__":
    main()
