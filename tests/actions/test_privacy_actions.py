"""What "what do you know about me" fills into its response: masked, in the resident's language."""

from __future__ import annotations

from datetime import datetime, timezone

from actions.privacy import describe
from bot.model.privacy import Consent, DataHeld, HeldAccount
from bot.model.residents import Channel, Language

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def test_a_linked_residents_data_is_listed_masked_with_ist_times() -> None:
    held = DataHeld(
        linked=True,
        masked_sso_id="••••umar",
        masked_name="Ra*** Ku***",
        masked_mobile="••••0001",
        linked_at=NOW,
        chats=((Channel.WEBCHAT, "••••ab12"), (Channel.WHATSAPP, "••••0001")),
        accounts=(HeldAccount("JVVNL0000RAJ01", "••••8912"),),
        payments=2,
        consent=Consent("c1", "2026-11", NOW, NOW),
    )

    values = describe(held, Language.EN)

    assert values["chats"] == "web chat ••••ab12, WhatsApp ••••0001"
    assert values["accounts"] == "JVVNL0000RAJ01 ••••8912"
    assert values["linked_on"] == "24 Nov 2026, 15:30 IST"
    assert values["consent"] == "2026-11, 24 Nov 2026, 15:30 IST"
    assert values["payments"] == "2"


def test_an_unlinked_chat_says_none_in_hindi() -> None:
    values = describe(DataHeld(linked=False, chats=((Channel.SMS, "••••0005"),)), Language.HI)
    assert values["accounts"] == "कोई नहीं" and values["chats"] == "SMS ••••0005"
    assert values["consent"] == "-"
