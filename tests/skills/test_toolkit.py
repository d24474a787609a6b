"""skills/toolkit.py: waivers read as records."""

from __future__ import annotations

from pathlib import Path

from skills.toolkit import ToolContext


def test_waivers_are_records_read_from_the_card_text():
    from skills.toolkit import Waiver

    assert Waiver.parse("pii: 3 records contain an email address") == Waiver("pii", "3 records contain an email address")
    assert Waiver.parse("no_quality_report") == Waiver("no_quality_report")
    assert Waiver.parse(Waiver("dup", "a: b").text()) == Waiver("dup", "a: b")
    ctx = ToolContext(session_dir=Path("."), approved_waivers=["pii: 3 records contain an email address", "stale_report"])
    assert ctx.waived("pii", "3 records contain an email address") and not ctx.waived("pii", "9 records contain a phone number")
    assert ctx.waived("stale_report", "any words") and ctx.waived("pii") and not ctx.waived("toxicity")
