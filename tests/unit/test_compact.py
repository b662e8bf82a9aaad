"""A turn's replies compacted for WhatsApp and SMS (bot.model.outbound.compact): nothing said
is lost, buttons end up in one list, and the turn costs one message (two with a file)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.model.outbound import Attachment, Button, OutboundMessage, compact

RECEIPT = Attachment("https://x/receipt.pdf", "receipt.pdf", "application/pdf")

buttons = st.lists(
    st.builds(
        Button,
        title=st.sampled_from(["Yes", "No", "Menu"]),
        payload=st.sampled_from(["/a", "/b", "/c"]),
    ),
    max_size=3,
)
messages = st.builds(
    OutboundMessage,
    text=st.text(min_size=1, max_size=20).filter(str.strip),
    buttons=buttons.map(tuple),
    attachment=st.none() | st.just(RECEIPT),
)


@given(st.lists(messages, max_size=6))
def test_compacting_keeps_every_text_and_button_in_fewer_messages(
    replies: list[OutboundMessage],
) -> None:
    compacted = compact(replies)
    files = sum(1 for r in replies if r.attachment)
    assert len(compacted) <= files + 1
    joined = "\n\n".join(m.text for m in compacted if m.text)
    position = 0
    for reply in replies:  # every text, in its order
        position = joined.index(reply.text, position)
    payloads = list(dict.fromkeys(b.payload for r in replies for b in r.buttons))
    assert [b.payload for b in compacted[-1].buttons] == payloads if payloads else True
    assert all(not m.buttons for m in compacted[:-1])  # one list, on the last message


def test_the_bill_and_its_question_become_one_message_with_its_options() -> None:
    yes_no = (Button("Yes, pay ₹1,234.00", "/affirm"), Button("Not now", "/deny"))
    compacted = compact([OutboundMessage("🧾 JVVNL bill"), OutboundMessage("Pay it?", yes_no)])
    assert compacted == [OutboundMessage("🧾 JVVNL bill\n\nPay it?", yes_no)]


def test_a_picture_carries_the_words_before_it_and_the_question_follows() -> None:
    sample = Attachment("https://x/static/sample-bills/electricity.png", "s.png", "image/png")
    replies = [
        OutboundMessage("The K Number is printed under your name."),
        OutboundMessage("", attachment=sample),
        OutboundMessage("Please type your K Number."),
    ]
    assert compact(replies) == [
        OutboundMessage("The K Number is printed under your name.", attachment=sample),
        OutboundMessage("Please type your K Number."),
    ]
