"""Human handoff on WhatsApp: while an agent holds the chat the resident's messages reach
the agent and not the bot, and the agent's reply goes out through Twilio like any push."""

from __future__ import annotations

import pytest

from bot.model.residents import Channel
from tests.channels.harness import RAMESH_MOBILE, Gateway, whatsapp_form

pytestmark = pytest.mark.asyncio


async def test_an_agent_reply_reaches_the_resident_on_whatsapp_and_the_bot_stays_silent(
    gateway: Gateway,
) -> None:
    await gateway.whatsapp(whatsapp_form("hi"))
    await gateway.settle()
    conversation = await gateway.container.conversations.open(Channel.WHATSAPP, RAMESH_MOBILE)
    requested = await gateway.container.handoff.request(conversation.conversation_id)
    # Finding 9 of issue 13: residents see the display name, never the login's username.
    agent = await gateway.container.agents.add("agent1", "correct horse battery", "Asha")
    turns_before = len(gateway.dialogue.turns)

    await gateway.whatsapp(whatsapp_form("my money was deducted twice"))
    await gateway.settle()
    await gateway.container.handoff.take(requested.handoff.handoff_id, agent)
    await gateway.container.handoff.reply(
        requested.handoff.handoff_id, agent, "Sorry about that, I am checking."
    )
    await gateway.settle()

    assert len(gateway.dialogue.turns) == turns_before  # the bot never saw it
    bodies = [m["Body"] for m in gateway.providers.twilio() if "Body" in m]
    assert bodies[-2:] == [
        "Asha from the help desk has joined the chat.",
        "Asha (help desk): Sorry about that, I am checking.",
    ]
    assert not any("agent1" in body for body in bodies)
    assert all(m["To"] == f"whatsapp:{RAMESH_MOBILE}" for m in gateway.providers.twilio())
    [queued] = await gateway.container.handoff.queue()
    assert [line.text for line in queued.transcript] == [
        "my money was deducted twice",
        "Sorry about that, I am checking.",
    ]

    await gateway.container.handoff.release(requested.handoff.handoff_id, agent)
    await gateway.whatsapp(whatsapp_form("thanks"))
    await gateway.settle()
    assert gateway.dialogue.turns[-1][1] == "thanks"
