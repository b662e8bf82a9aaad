"""SMS: short plain text, Hindi in UCS-2 segments, numbered options, STOP and START."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.model.outbound import Attachment, Button, OutboundMessage
from bot.model.residents import Channel, Language
from channels.sms import MAX_MESSAGES, MAX_SEGMENTS, encoding, render_sms, segments, split_sms
from tests.channels.harness import RAMESH_MOBILE, SMS_FROM, Gateway, sms_form, whatsapp_form

HINDI_BILL = (
    "आपका बिजली बिल ₹3,107.50 है। अंतिम तिथि 20 जनवरी है। "
    "भुगतान के लिए नीचे दिए गए लिंक पर जाएं या नजदीकी ई-मित्र केंद्र पर जमा करें। "
    "देर से भुगतान पर अधिभार लग सकता है। धन्यवाद।"
)


def test_devanagari_forces_ucs2_with_70_then_67_characters_a_segment() -> None:
    assert encoding("Your bill is due") == "gsm7"
    assert encoding("बिल") == "ucs2"
    assert segments("क" * 70) == 1
    assert segments("क" * 71) == 2
    assert segments("क" * 134) == 2
    assert segments("क" * 135) == 3
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2  # escape: two septets


def test_a_long_hindi_text_is_split_at_sentences_into_few_segment_parts() -> None:
    parts = split_sms(HINDI_BILL, max_segments=2)

    assert len(parts) > 1
    assert all(segments(p) <= 2 for p in parts)
    assert all(p.endswith("।") for p in parts[:-1])  # cut after a sentence, not mid-word


def test_an_sms_has_numbered_options_and_a_receipt_becomes_its_link() -> None:
    message = OutboundMessage(
        text="Payment received.",
        buttons=(Button("Payment history", "/payment_history"),),
        attachment=Attachment("https://bot.example.in/r/1.pdf", "r.pdf", "application/pdf"),
    )
    (text,) = render_sms(message, Language.EN)

    assert text == (
        "Payment received.\n\n1. Payment history\nReply with a number.\n"
        "Receipt: https://bot.example.in/r/1.pdf"
    )


def test_english_sms_stays_gsm_7_without_emoji_bullets_or_the_rupee_sign() -> None:
    """One emoji, ₹ or masking bullet would make an English SMS UCS-2: 70 characters a
    segment instead of 160."""
    message = OutboundMessage(
        text="🧾 JVVNL bill of Ra*** Ku***\nConsumer no.: ••••8912\nTotal due: ₹1,234.00 🎉",
        buttons=(Button("⚡ JVVNL ••••8912", "/x"), Button("💧 Water", "/y")),
    )
    (text,) = render_sms(message, Language.EN)

    assert encoding(text) == "gsm7"
    assert "Consumer no.: ****8912" in text and "Rs.1,234.00" in text
    assert "1. JVVNL ****8912\n2. Water" in text
    assert segments(text) == 1


def test_hindi_sms_loses_its_emoji_but_keeps_its_script() -> None:
    (text,) = render_sms(OutboundMessage(text="हो गया! ✅ यह चैट ••••0001 से जुड़ गई है।"), Language.HI)

    assert text == "हो गया! यह चैट ****0001 से जुड़ गई है।"


def test_a_very_long_hindi_reply_is_capped_at_a_few_messages() -> None:
    parts = render_sms(OutboundMessage(text=HINDI_BILL * 6), Language.HI)

    assert len(parts) == MAX_MESSAGES
    assert all(segments(p) <= MAX_SEGMENTS for p in parts)
    assert parts[-1].endswith("…")


words = st.text(
    alphabet=st.sampled_from("abcdefghij कखगघबिलजमा।.?!0123456789€"), min_size=1, max_size=30
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(words, st.sampled_from([" ", " ", " ", "\n", "\n\n"])), min_size=0, max_size=80
    ),
    st.integers(min_value=1, max_value=4),
)
def test_splitting_keeps_every_character_and_every_part_within_its_segments(
    chunks: list[tuple[str, str]], max_segments: int
) -> None:
    text = "".join(word + gap for word, gap in chunks)
    parts = split_sms(text, max_segments)

    assert all(segments(p) <= max_segments for p in parts)
    assert all(p and p == p.strip() for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())
    # A word shorter than a part is never cut in two.
    capacity = 67 * max_segments if encoding(text) == "ucs2" else 153 * max_segments
    for word in text.split():
        if len(word) * 2 < capacity:
            assert any(word in p.split() for p in parts) or len(parts) == 1


pytestmark_async = pytest.mark.asyncio


@pytest.mark.asyncio
async def test_an_sms_is_answered_from_the_sms_number(gateway: Gateway) -> None:
    assert (await gateway.sms(sms_form("hi"))).status_code == 200
    await gateway.settle()

    (sent,) = gateway.providers.twilio()
    assert sent["To"] == RAMESH_MOBILE and sent["From"] == SMS_FROM
    assert "1. Check my bill" in sent["Body"]


@pytest.mark.asyncio
async def test_a_badly_signed_sms_is_403(gateway: Gateway) -> None:
    assert (await gateway.sms(sms_form("hi"), signature="AAAA")).status_code == 403


@pytest.mark.asyncio
async def test_stop_in_hindi_opts_out_of_pushes_and_start_opts_back_in(gateway: Gateway) -> None:
    c = gateway.container
    await gateway.sms(sms_form("नमस्ते"))  # Hindi from the first word
    await gateway.settle()
    await gateway.sms(sms_form("रोको"))
    await gateway.settle()
    confirmation = gateway.providers.twilio()[-1]["Body"]
    assert "START" in confirmation and "रसीद" in confirmation

    conversation = await c.conversations.open(Channel.SMS, RAMESH_MOBILE)
    async with c.uow() as tx:
        await tx.outbox.push(
            conversation.conversation_id, OutboundMessage("Reminder"), c.clock.now()
        )
        await tx.commit()
    await gateway.settle()
    assert all(m["Body"] != "Reminder" for m in gateway.providers.twilio())

    await gateway.sms(sms_form("START"))
    await gateway.settle()
    async with c.uow() as tx:
        await tx.outbox.push(
            conversation.conversation_id, OutboundMessage("Reminder 2"), c.clock.now()
        )
        await tx.commit()
    await gateway.settle()
    assert gateway.providers.twilio()[-1]["Body"] == "Reminder 2"
    assert [t for _, t, _ in gateway.dialogue.turns] == ["नमस्ते"]  # keywords never reach it


@pytest.mark.asyncio
async def test_stop_in_the_middle_of_a_question_stops_the_question_not_the_pushes(
    gateway: Gateway,
) -> None:
    """A resident asked for their SSO ID who answers STOP means "stop this"; opting out of
    receipts and reminders stays one more STOP away, and the reply says so."""
    c = gateway.container
    await gateway.sms(sms_form("hi"))
    await gateway.settle()
    conversation = await c.conversations.open(Channel.SMS, RAMESH_MOBILE)
    gateway.dialogue.asking.add(conversation.conversation_id)

    await gateway.sms(sms_form("STOP"))
    await gateway.settle()

    assert [t for _, t, _ in gateway.dialogue.turns] == ["hi", "STOP"]  # the dialogue cancels
    assert "reply STOP again" in gateway.providers.twilio()[-1]["Body"]
    gateway.dialogue.asking.clear()
    await gateway.sms(sms_form("STOP"))
    await gateway.settle()
    assert "Reply START" in gateway.providers.twilio()[-1]["Body"]  # now the opt-out


@pytest.mark.asyncio
async def test_band_karo_on_whatsapp_opts_out_too(gateway: Gateway) -> None:
    await gateway.whatsapp(whatsapp_form("Band karo!"))
    await gateway.settle()

    assert gateway.dialogue.turns == []
    assert "START" in gateway.providers.twilio()[-1]["Body"]
