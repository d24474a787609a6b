"""Shipped programmatic template: classification (bank-transaction style by default).

Self-contained (standard library only) so it runs in the sandbox as is.
``generate(payload)`` makes records for indices ``start .. start+n-1``; each index gets its own
random stream, so a batch, a resume or a re-run produces the same record for the same index.
Breadth matters more than volume for a small model (it memorizes merchant -> label), so every
category carries many merchants and keywords, training records also use names composed from
keyword parts (seeds never do), and the eval split draws from merchants held out of training.
A category that ``includes`` another (transport includes fuel) draws its merchants too, unless the
label set has that category as a label of its own: no merchant ever belongs to two labels.
One dataset uses one currency (``currency``: "$", "£" or "€") and cities of that currency's region.
A label the vocabulary does not know takes its merchants from its examples only.
``verify(record)`` checks that the merchant really belongs to the label's category and that the
label itself is not written in the input.

payload: {"labels": [...], "start": int, "n": int, "seed": int, "split": "train"|"eval"|"seed",
          "axes": {name: [[value, weight], ...]}, "examples": [{"input", "output"}, ...], "currency": "$"}
"""

import random
import re

VOCAB = {
    "groceries": {
        "aliases": ["grocery", "groceries", "supermarket", "food shopping", "food"],
        "keywords": ["GROCERY", "MARKET", "SUPERMARKET", "FOODS", "FRESH", "MART", "GROCER", "PRODUCE"],
        "merchants": ["TESCO", "SAINSBURYS", "WHOLE FOODS", "TRADER JOES", "ALDI", "LIDL", "KROGER", "SAFEWAY",
                      "PUBLIX", "WEGMANS", "ASDA", "MORRISONS", "CARREFOUR", "REWE", "EDEKA", "ALBERT HEIJN",
                      "SPROUTS", "FOOD LION", "GIANT EAGLE", "HEB", "MEIJER", "WAITROSE", "COSTCO WHOLESALE",
                      "SHOPRITE", "STOP SHOP", "HANNAFORD", "WINCO FOODS", "INSTACART", "OCADO", "CO-OP FOOD"],
    },
    "dining": {
        "aliases": ["dining", "restaurant", "restaurants", "eating out", "food and drink", "food & drink", "cafe"],
        "keywords": ["CAFE", "RESTAURANT", "GRILL", "PIZZA", "BISTRO", "DINER", "BAKERY", "COFFEE", "SUSHI", "TACO"],
        "merchants": ["STARBUCKS", "MCDONALDS", "CHIPOTLE", "SUBWAY", "PRET A MANGER", "NANDOS", "DOMINOS",
                      "PIZZA HUT", "BURGER KING", "KFC", "TACO BELL", "DUNKIN", "PANERA BREAD", "SHAKE SHACK",
                      "FIVE GUYS", "WENDYS", "COSTA COFFEE", "GREGGS", "WAGAMAMA", "DELIVEROO", "UBER EATS",
                      "DOORDASH", "GRUBHUB", "JUST EAT", "OLIVE GARDEN", "APPLEBEES", "IHOP", "PANDA EXPRESS",
                      "TIM HORTONS", "BLUE BOTTLE COFFEE"],
    },
    "transport": {
        "aliases": ["transport", "transportation", "travel local", "commute", "auto", "car"],
        "keywords": ["PARKING", "TRANSIT", "TAXI", "RAIL", "METRO", "TOLL", "BUS", "TRAIN"],
        "merchants": ["UBER TRIP", "LYFT RIDE", "TFL TRAVEL", "MTA METROCARD", "BART CLIPPER", "AMTRAK", "TRAINLINE",
                      "NATIONAL RAIL", "GREYHOUND", "BOLT RIDE", "FREE NOW", "PARKMOBILE", "SPOTHERO", "EZPASS",
                      "LIME SCOOTER", "CITI BIKE", "ZIPCAR", "DB BAHN", "SNCF", "MEGABUS", "FLIXBUS", "EUROSTAR",
                      "CALTRAIN", "NJ TRANSIT", "SEPTA", "WMATA METRORAIL", "ADDISON LEE", "CURB TAXI",
                      "BIRD SCOOTER", "NCP PARKING"],
        "includes": "fuel",
    },
    "fuel": {
        "aliases": ["fuel", "gas", "petrol", "gas station", "gas stations", "fuel stations", "diesel"],
        "keywords": ["FUEL", "GAS", "PETROL", "SERVICE STATION", "FILLING STN"],
        "merchants": ["SHELL", "BP", "EXXONMOBIL", "CHEVRON", "TEXACO", "ESSO", "SUNOCO", "VALERO", "CIRCLE K FUEL",
                      "ARCO", "CITGO", "MARATHON PETRO", "PHILLIPS 66", "SPEEDWAY", "QUIKTRIP", "MURPHY USA",
                      "PILOT FLYING J", "LOVES TRAVEL STOP", "TOTALENERGIES", "ARAL", "AGIP ENI", "REPSOL",
                      "GULF OIL", "CONOCO", "MOBIL"],
    },
    "utilities": {
        "aliases": ["utilities", "utility", "bills", "energy", "electricity", "water", "internet", "phone"],
        "keywords": ["ENERGY", "ELECTRIC", "WATER", "GAS BILL", "POWER", "BROADBAND", "TELECOM", "UTILITY"],
        "merchants": ["PG&E", "CON EDISON", "DUKE ENERGY", "BRITISH GAS", "EDF ENERGY", "OCTOPUS ENERGY",
                      "THAMES WATER", "COMCAST XFINITY", "VERIZON", "AT&T", "T-MOBILE", "VODAFONE", "BT GROUP",
                      "SKY BROADBAND", "VIRGIN MEDIA", "SPECTRUM", "COX COMMUNICATIONS", "NATIONAL GRID",
                      "SOUTHERN CALIFORNIA EDISON", "DOMINION ENERGY", "XCEL ENERGY", "EON", "OVO ENERGY",
                      "SEVERN TRENT", "AMERICAN WATER", "CENTURYLINK", "FRONTIER COMM", "EE LIMITED",
                      "THREE UK", "GIFFGAFF"],
    },
    "housing": {
        "aliases": ["rent", "housing", "mortgage", "home", "rent/mortgage", "rent & mortgage"],
        "keywords": ["RENT", "MORTGAGE", "PROPERTY MGMT", "LETTINGS", "APARTMENTS", "HOA", "LANDLORD"],
        "merchants": ["GREYSTAR PROPERTY", "EQUITY RESIDENTIAL", "AVALONBAY", "WELLS FARGO HOME MTG",
                      "ROCKET MORTGAGE", "NATIONWIDE MORTGAGE", "FOXTONS LETTINGS", "OPENRENT", "ZILLOW RENT",
                      "APARTMENTS.COM", "CAMDEN PROPERTY", "MAA APARTMENTS", "HALIFAX MORTGAGE",
                      "SANTANDER MORTGAGE", "CHASE HOME LENDING", "OAKWOOD HOA", "RIVERSIDE APARTMENTS",
                      "PARKVIEW LETTINGS", "MR COOPER", "QUICKEN LOANS", "BARRATT HOMES", "LINCOLN PROPERTY",
                      "ESSEX PROPERTY", "INVITATION HOMES", "TRICON RESIDENTIAL"],
    },
    "shopping": {
        "aliases": ["shopping", "retail", "general merchandise", "clothing", "online shopping", "merchandise"],
        "keywords": ["STORE", "SHOP", "OUTLET", "BOUTIQUE", "RETAIL", "APPAREL", "ONLINE"],
        "merchants": ["AMAZON MKTPLACE", "AMZN", "EBAY", "TARGET", "WALMART", "ZARA", "H&M", "UNIQLO", "IKEA",
                      "BEST BUY", "APPLE STORE", "NIKE", "ADIDAS", "PRIMARK", "MARKS SPENCER", "JOHN LEWIS",
                      "ETSY", "SHEIN", "ASOS", "HOME DEPOT", "LOWES", "ARGOS", "CURRYS", "NORDSTROM", "MACYS",
                      "GAP", "TJ MAXX", "WAYFAIR", "SEPHORA", "ULTA BEAUTY"],
    },
    "entertainment": {
        "aliases": ["entertainment", "leisure", "fun", "recreation", "hobbies"],
        "keywords": ["CINEMA", "THEATRE", "TICKETS", "GAMES", "CONCERT", "BOWLING", "MUSEUM", "ARCADE"],
        "merchants": ["AMC THEATRES", "CINEWORLD", "ODEON", "VUE CINEMA", "REGAL CINEMAS", "TICKETMASTER",
                      "LIVE NATION", "EVENTBRITE", "STEAM GAMES", "PLAYSTATION STORE", "XBOX", "NINTENDO ESHOP",
                      "EPIC GAMES", "DAVE BUSTERS", "TOPGOLF", "BOWLERO", "SIX FLAGS", "DISNEY PARKS",
                      "STUBHUB", "SEATGEEK", "FANDANGO", "MERLIN ATTRACTIONS", "LEGOLAND", "ROUND ONE",
                      "ALAMO DRAFTHOUSE", "NATIONAL THEATRE", "ROYAL ALBERT HALL", "TWITCH", "ROBLOX", "AXS"],
    },
    "subscriptions": {
        "aliases": ["subscriptions", "subscription", "streaming", "software", "memberships", "digital services"],
        "keywords": ["SUBSCRIPTION", "MONTHLY", "MEMBERSHIP", "PREMIUM", "PLUS", "STREAMING"],
        "merchants": ["NETFLIX", "SPOTIFY", "HULU", "DISNEY PLUS", "HBO MAX", "APPLE ICLOUD", "GOOGLE ONE",
                      "YOUTUBE PREMIUM", "AMAZON PRIME", "DROPBOX", "ADOBE CREATIVE CLOUD", "MICROSOFT 365",
                      "AUDIBLE", "PATREON", "NYTIMES DIGITAL", "THE ECONOMIST", "PARAMOUNT PLUS", "PEACOCK",
                      "CRUNCHYROLL", "DUOLINGO PLUS", "NOTION LABS", "GITHUB", "OPENAI CHATGPT", "CANVA PRO",
                      "LINKEDIN PREMIUM", "TIDAL", "DEEZER", "SIRIUSXM", "KINDLE UNLIMITED", "APPLE MUSIC"],
    },
    "health": {
        "aliases": ["health", "healthcare", "medical", "pharmacy", "health & fitness", "fitness", "wellness"],
        "keywords": ["PHARMACY", "CLINIC", "DENTAL", "MEDICAL", "HEALTH", "OPTICAL", "GYM", "FITNESS"],
        "merchants": ["CVS PHARMACY", "WALGREENS", "BOOTS", "RITE AID", "LLOYDS PHARMACY", "SUPERDRUG",
                      "KAISER PERMANENTE", "ONE MEDICAL", "LABCORP", "QUEST DIAGNOSTICS", "SPECSAVERS",
                      "VISION EXPRESS", "BUPA DENTAL", "ASPEN DENTAL", "PLANET FITNESS", "PURE GYM",
                      "EQUINOX", "ANYTIME FITNESS", "24 HOUR FITNESS", "PELOTON", "CLASSPASS", "ORANGETHEORY",
                      "DAVID LLOYD", "NUFFIELD HEALTH", "TELADOC", "ZOCDOC", "GOODRX", "MINUTECLINIC",
                      "CITYMD URGENT CARE", "HOLLAND BARRETT"],
    },
    "travel": {
        "aliases": ["travel", "trips", "holidays", "vacation", "flights", "hotels", "lodging"],
        "keywords": ["AIRLINES", "AIRWAYS", "HOTEL", "RESORT", "INN", "FLIGHT", "TRAVEL", "HOSTEL"],
        "merchants": ["DELTA AIR LINES", "UNITED AIRLINES", "AMERICAN AIRLINES", "SOUTHWEST AIR", "BRITISH AIRWAYS",
                      "EASYJET", "RYANAIR", "LUFTHANSA", "AIR FRANCE", "KLM", "EMIRATES", "JETBLUE",
                      "MARRIOTT", "HILTON", "HYATT", "IHG HOTELS", "PREMIER INN", "TRAVELODGE", "AIRBNB",
                      "BOOKING.COM", "EXPEDIA", "HOTELS.COM", "VRBO", "HERTZ", "AVIS", "ENTERPRISE RENT",
                      "SIXT", "TRIPADVISOR", "KAYAK", "AGODA"],
    },
    "income": {
        "aliases": ["income", "salary", "payroll", "wages", "deposit", "deposits", "paycheck", "earnings"],
        "keywords": ["PAYROLL", "SALARY", "DIRECT DEP", "WAGES", "DIVIDEND", "INTEREST PAID", "REFUND"],
        "merchants": ["ACME CORP PAYROLL", "ADP PAYROLL", "GUSTO PAY", "PAYCHEX", "INTUIT PAYROLL",
                      "HMRC TAX REFUND", "IRS TREAS TAX REF", "STRIPE PAYOUT", "PAYPAL TRANSFER IN",
                      "UPWORK ESCROW", "FIVERR PAYOUT", "ETSY DEPOSIT", "SHOPIFY PAYOUT", "VANGUARD DIVIDEND",
                      "FIDELITY DIVIDEND", "SAVINGS INTEREST", "EMPLOYER SALARY", "NHS PAYROLL",
                      "STATE PAYROLL", "UNIVERSITY PAYROLL", "DELIVEROO RIDER PAY", "UBER DRIVER PAYOUT",
                      "DOORDASH DASHER PAY", "AIRBNB HOST PAYOUT", "RENTAL INCOME"],
    },
    "transfers": {
        "aliases": ["transfers", "transfer", "p2p", "peer to peer", "savings", "internal transfer"],
        "keywords": ["TRANSFER", "XFER", "TO SAVINGS", "FROM CHECKING", "P2P", "SEND MONEY"],
        "merchants": ["VENMO", "ZELLE", "CASH APP", "PAYPAL", "WISE TRANSFER", "REVOLUT", "MONZO POT",
                      "WESTERN UNION", "MONEYGRAM", "REMITLY", "APPLE CASH", "GOOGLE PAY SEND", "STARLING SPACE",
                      "CHASE QUICKPAY", "BANK TRANSFER", "STANDING ORDER", "FASTER PAYMENT", "ONLINE TRANSFER",
                      "SAVINGS ACCOUNT", "BROKERAGE TRANSFER", "ROBINHOOD DEPOSIT", "COINBASE", "ACORNS INVEST",
                      "BETTERMENT", "WEALTHFRONT"],
    },
    "fees": {
        "aliases": ["fees", "bank fees", "charges", "fees & charges", "interest", "penalties"],
        "keywords": ["FEE", "CHARGE", "OVERDRAFT", "INTEREST CHARGE", "LATE FEE", "SERVICE CHARGE", "ATM FEE"],
        "merchants": ["MONTHLY MAINTENANCE FEE", "OVERDRAFT FEE", "ATM WITHDRAWAL FEE", "FOREIGN TRANSACTION FEE",
                      "WIRE TRANSFER FEE", "LATE PAYMENT FEE", "RETURNED ITEM FEE", "CARD REPLACEMENT FEE",
                      "INTEREST CHARGE ON PURCHASES", "ANNUAL CARD FEE", "STOP PAYMENT FEE", "PAPER STATEMENT FEE",
                      "CASH ADVANCE FEE", "NSF FEE", "ACCOUNT SERVICE CHARGE", "BALANCE TRANSFER FEE",
                      "EXCESS WITHDRAWAL FEE", "INACTIVITY FEE", "CHEQUE PROCESSING FEE", "ARRANGED OVERDRAFT INT"],
    },
    "insurance": {
        "aliases": ["insurance", "insurances", "premiums", "cover"],
        "keywords": ["INSURANCE", "ASSURANCE", "PREMIUM", "MUTUAL", "COVER", "POLICY"],
        "merchants": ["GEICO", "STATE FARM", "PROGRESSIVE", "ALLSTATE", "LIBERTY MUTUAL", "AVIVA", "DIRECT LINE",
                      "ADMIRAL", "AXA", "ALLIANZ", "NATIONWIDE INS", "FARMERS INS", "USAA", "METLIFE",
                      "PRUDENTIAL", "LEMONADE", "AFLAC", "CIGNA", "AETNA", "BLUE CROSS", "HISCOX", "CHUBB",
                      "ZURICH", "LEGAL GENERAL", "ROOT INSURANCE"],
    },
    "education": {
        "aliases": ["education", "school", "tuition", "learning", "courses", "books"],
        "keywords": ["UNIVERSITY", "COLLEGE", "SCHOOL", "TUITION", "ACADEMY", "COURSE", "BOOKSTORE"],
        "merchants": ["COURSERA", "UDEMY", "EDX", "KHAN ACADEMY", "MASTERCLASS", "SKILLSHARE", "CHEGG",
                      "PEARSON", "BARNES NOBLE", "WATERSTONES", "STUDENT LOAN SERVICING", "NAVIENT", "SALLIE MAE",
                      "STATE UNIVERSITY BURSAR", "CITY COLLEGE FEES", "OPEN UNIVERSITY", "PLURALSIGHT",
                      "DATACAMP", "BRILLIANT ORG", "KUMON", "SYLVAN LEARNING", "BERLITZ", "ROSETTA STONE",
                      "MCGRAW HILL", "SCHOLASTIC"],
    },
    "charity": {
        "aliases": ["charity", "donations", "giving", "gifts & donations", "donation"],
        "keywords": ["DONATION", "FOUNDATION", "CHARITY", "TRUST", "RELIEF", "FUND"],
        "merchants": ["RED CROSS", "UNICEF", "OXFAM", "SAVE THE CHILDREN", "WWF", "DOCTORS WITHOUT BORDERS",
                      "GOFUNDME", "JUSTGIVING", "UNITED WAY", "SALVATION ARMY", "HABITAT FOR HUMANITY",
                      "CANCER RESEARCH UK", "BRITISH HEART FOUNDATION", "AMNESTY INTL", "WIKIMEDIA",
                      "FEEDING AMERICA", "ST JUDE CHILDRENS", "MACMILLAN CANCER", "RSPCA", "ASPCA"],
    },
}

_PREFIXES = ["SUNRISE", "CORNER", "CITY", "NORTHSIDE", "GREEN", "MAPLE", "HARBOR", "UNION", "OAK", "RIVERSIDE",
             "METRO", "GOLDEN", "PARK", "LAKEVIEW", "HILLTOP", "MAIN ST", "EASTGATE", "PIONEER", "SILVER", "BLUE SKY"]
_CITIES = {"$": ["AUSTIN TX", "NEW YORK NY", "SEATTLE WA", "CHICAGO IL", "DENVER CO", "BOSTON MA", "MIAMI FL",
                  "PORTLAND OR", "ATLANTA GA", "PHOENIX AZ"],
           "£": ["LONDON GB", "MANCHESTER GB", "LEEDS GB", "BRISTOL GB", "GLASGOW GB", "BIRMINGHAM GB", "CARDIFF GB"],
           "€": ["BERLIN DE", "PARIS FR", "DUBLIN IE", "MADRID ES", "AMSTERDAM NL", "MUNICH DE", "LYON FR", "MILAN IT"]}
CURRENCIES = {"$": "USD", "£": "GBP", "€": "EUR"}
_STYLES = {
    "bank_statement": "{date} {channel} {merchant} {store} {city} {sign}{amount}",
    "card_notification": "You spent {cur}{amount} at {merchant} on {date}",
    "csv_line": "{date},{merchant_title},{sign}{amount},{cur_code}",
    "terse": "{merchant} {sign}{amount}",
    "mobile_app": "{merchant_title} · {cur}{amount} · {date_words}",
}
_INFLOW = ("income", "transfers")
_AMOUNTS = {"groceries": (3, 260), "dining": (2, 120), "transport": (2, 95), "utilities": (15, 320),
            "housing": (600, 3200), "shopping": (5, 600), "entertainment": (5, 180), "subscriptions": (1, 60),
            "health": (5, 300), "travel": (40, 1800), "income": (50, 6000), "transfers": (10, 2500),
            "fees": (1, 45), "insurance": (15, 400), "education": (10, 2500), "charity": (5, 250)}


def category_for(label):
    """The vocabulary category a label means, or None when the template does not know it."""
    text = label.strip().lower().replace("_", " ")
    for name, entry in VOCAB.items():
        if text == name or text in entry["aliases"]:
            return name
    for name, entry in VOCAB.items():
        words = set(re.split(r"[^a-z]+", text))
        if name in words or any(alias in words for alias in entry["aliases"] if " " not in alias):
            return name
    return None


def merchants(category, split, taken=()):
    """Merchants of a category for a split: every fifth is held out for eval; composed names join training
    and eval records (never seeds); an included category joins unless it is in ``taken`` (a label of its own)."""
    entry = VOCAB[category]
    included = entry.get("includes")
    extra = merchants(included, split, taken) if included and included not in taken else []
    base = entry["merchants"]
    held = [m for k, m in enumerate(base) if k % 5 == 4]
    kept = [m for k, m in enumerate(base) if k % 5 != 4]
    if split == "seed":
        return kept + [m for m in extra if m in VOCAB[included]["merchants"]]
    keywords = entry["keywords"]
    held_composed = [p + " " + keywords[k % len(keywords)] for k, p in enumerate(_PREFIXES) if k % 4 == 3]
    # training composes every training prefix with every keyword: each cue word is seen under many names,
    # so a name never seen (an eval merchant: a held-out prefix) is still read through its cue word
    kept_composed = [p + " " + keyword for k, p in enumerate(_PREFIXES) if k % 4 != 3 for keyword in keywords]
    return (held + held_composed if split == "eval" else kept + kept_composed) + extra


def _pick(rng, weighted):
    values = [v for v, _ in weighted]
    weights = [float(w) for _, w in weighted]
    return rng.choices(values, weights=weights, k=1)[0]


def _unknown_merchants(label, examples):
    """For a label the vocabulary lacks: the merchants seen in its examples (none are made up)."""
    found = []
    for ex in examples:
        if str(ex.get("output", "")).strip() == label:
            words = re.findall(r"[A-Za-z][A-Za-z&'.]+", str(ex.get("input", "")))
            words = [w for w in words if w.upper() not in ("POS", "CARD", "DEBIT", "ACH", "ONLINE", "DD", "DEP")]
            if words and " ".join(words[:3]).upper() not in found:
                found.append(" ".join(words[:3]).upper())
    return found


def missing_labels(labels, examples):
    """Labels with no vocabulary category and no example to take merchants from."""
    return [label for label in labels if not category_for(label) and not _unknown_merchants(label, examples)]


def resolve_style(rng, meta):
    """Map free-form axis values (e.g. "truncated upper-case bank text") to an input style and options."""
    options = {"prefix": "", "truncate": False, "amount": None}
    style = None
    for value in meta.values():
        text = str(value).lower()
        if text in _STYLES:
            style = text
        elif "processor" in text or "sq *" in text or "paypal" in text:
            options["prefix"] = rng.choice(["SQ *", "PAYPAL *", "TST* ", "SP * ", "GOOGLE *"])
        elif "truncat" in text or "upper" in text or "raw" in text:
            style, options["truncate"] = "bank_statement", "truncat" in text
        elif "clean" in text or "notification" in text:
            style = rng.choice(["card_notification", "mobile_app"])
        elif "csv" in text:
            style = "csv_line"
        numbers = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)]
        if numbers and ("under" in text or "below" in text or "less" in text):
            options["amount"] = (0.5, numbers[0])
        elif len(numbers) >= 2 and ("to" in text or "-" in text):
            options["amount"] = (numbers[0], numbers[1])
        elif numbers and ("over" in text or "above" in text or "more" in text):
            options["amount"] = (numbers[0], numbers[0] * 8)
    return style or rng.choice(list(_STYLES)), options


def make_input(rng, merchant, category, style, options=None):
    options = options or {}
    inflow = category in _INFLOW and rng.random() < 0.7
    low, high = options.get("amount") or _AMOUNTS.get(category, (2, 400))
    amount = rng.uniform(low, high)
    if options.get("truncate") and len(merchant) > 12:
        merchant = merchant[: rng.randint(9, 12)].rstrip()
    merchant = options.get("prefix", "") + merchant
    year, month, day = rng.choice([2024, 2025, 2026]), rng.randint(1, 12), rng.randint(1, 28)
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    cur = options.get("currency") or "$"
    code = CURRENCIES.get(cur, "USD")
    fields = {
        "date": rng.choice(["%04d-%02d-%02d" % (year, month, day), "%02d/%02d/%04d" % (month, day, year),
                            "%02d %s" % (day, months[month - 1].upper())]),
        "date_words": "%s %d" % (months[month - 1], day),
        "channel": "DEP" if inflow else rng.choice(["POS", "CARD", "DEBIT", "ACH", "ONLINE", "CONTACTLESS", "DD"]),
        "merchant": merchant,
        "merchant_title": merchant.title(),
        "store": rng.choice(["", "#%d" % rng.randint(10, 9999), "*%s" % rng.choice(["ONLINE", "APP", "WEB"])]),
        "city": rng.choice(_CITIES.get(cur, _CITIES["$"]) + [""]),
        "sign": "+" if inflow else rng.choice(["-", ""]),
        "amount": "%.2f" % amount,
        "cur": cur,
        "cur_code": code,
    }
    template = _STYLES.get(style) or _STYLES["bank_statement"]
    if style == "card_notification" and inflow:
        template = "You received {cur}{amount} from {merchant_title} on {date}"
    return re.sub(r"\s+", " ", template.format(**fields)).strip()


def label_in_text(label, text):
    """The label's words appear in the text as a phrase (an input that gives its answer away)."""
    words = re.sub(r"[^a-z0-9]+", " ", str(label).lower()).strip()
    spaced = " " + re.sub(r"[^a-z0-9]+", " ", str(text).lower()).strip() + " "
    return bool(words) and (" " + words + " ") in spaced


def generate(payload):
    labels = list(payload["labels"])
    start, n, seed = int(payload.get("start", 0)), int(payload["n"]), payload.get("seed", 0)
    split = payload.get("split", "train")
    axes = payload.get("axes") or {}
    examples = payload.get("examples") or []
    label_axis = next((name for name, vals in axes.items() if {v for v, _ in vals} <= set(labels)), None)
    currency = payload.get("currency") or "$"
    taken = {category_for(label) for label in labels} - {None}
    pools = {}
    for label in labels:
        cat = category_for(label)
        pool = merchants(cat, split, taken) if cat else _unknown_merchants(label, examples)
        pool = [m for m in pool if not label_in_text(label, m)]
        if not pool:
            raise ValueError("no merchants for the label %r: give an example transaction of it" % label)
        pools[label] = (cat, pool)
    out = []
    for i in range(start, start + n):
        rng = random.Random("%s:%s:%d" % (seed, split, i))
        meta = {name: _pick(rng, vals) for name, vals in axes.items()}
        label = meta[label_axis] if label_axis else labels[i % len(labels)]
        cat, pool = pools[label]
        merchant = rng.choice(pool)
        style, options = resolve_style(rng, meta)
        options["currency"] = currency
        text = make_input(rng, merchant, cat, style, options)
        meta["merchant"] = merchant
        out.append({"i": i, "input": text, "output": label, "meta": meta})
    return out


def verify(record):
    """The merchant must belong to the label's category (known categories only)."""
    merchant = (record.get("meta") or {}).get("merchant")
    if not str(record.get("input", "")).strip():
        return "empty input"
    head = str(merchant or "")[:9].upper()
    if merchant and head not in str(record.get("input", "")).upper():
        return "merchant missing from input"
    label = str(record.get("output", ""))
    if label_in_text(label, str(record.get("input", ""))):
        return "label written in the input"
    cat = category_for(label)
    if cat and merchant:
        known = set(VOCAB[cat]["merchants"]) | set(merchants(cat, "train")) | set(merchants(cat, "eval"))
        if merchant not in known:
            return "merchant not in the label's category"
    return True
