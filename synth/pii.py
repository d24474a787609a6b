"""Find personal data and toxic words in text (regular expressions and a small word list).

PII kinds: email, phone, card number (Luhn-checked), IBAN (mod-97 checked), US SSN.
Toxicity is a small English word list: it catches obvious slurs and profanity only, never
subtle toxicity; the report says so.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
PHONE = re.compile(r"(?<![\w.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\d{2,4}[\s.-])\d{3,4}[\s.-]?\d{3,4}(?![\w.])")
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){13,19}(?!\d)")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
SSN = re.compile(r"(?<!\d)(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?!\d)")
DECIMAL = re.compile(r"^\d+\.\d+$")
"""One point and nothing else between digits: a number such as 907.184753 (2000 pounds in kilograms), not a phone."""
DATE_LIKE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")

TOXIC_WORDS = frozenset("""
fuck fucking fucker shit shitty bitch bastard asshole dickhead cunt motherfucker wanker twat prick
slut whore retard retarded faggot fag nigger nigga kike spic chink tranny dyke idiot moron stupid
""".split())
"""A deliberately small list: profanity, slurs and common insults (English only)."""


def luhn_ok(digits: str) -> bool:
    total, double = 0, False
    for ch in reversed(digits):
        d = int(ch)
        if double:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        double = not double
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in moved))
    except ValueError:
        return False
    return number % 97 == 1


def find_pii(text: str) -> list[str]:
    """Kinds of PII found in the text (each kind once)."""
    found: list[str] = []
    if EMAIL.search(text):
        found.append("email")
    for match in CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1:
            found.append("card_number")
            text = text.replace(match.group(0), " ")
            break
    for match in IBAN.finditer(text):
        if iban_ok(match.group(0)):
            found.append("iban")
            text = text.replace(match.group(0), " ")
            break
    if SSN.search(text):
        found.append("ssn")
    for match in PHONE.finditer(text):
        token = match.group(0).strip()
        digits = re.sub(r"\D", "", token)
        if 9 <= len(digits) <= 15 and not DATE_LIKE.match(token) and not DECIMAL.match(token):
            found.append("phone")
            break
    return found


def find_toxic(text: str) -> list[str]:
    words = re.findall(r"[a-z]+", text.lower())
    return sorted({w for w in words if w in TOXIC_WORDS})
