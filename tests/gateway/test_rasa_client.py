"""RasaDialogueEngine against a real HTTP double of Rasa on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.errors import DialogueUnavailable
from bot.model.outbound import Attachment, Button, OutboundMessage
from bot.model.residents import Channel, Language
from integrations.rasa import client as rasa_client
from integrations.rasa.client import RasaDialogueEngine
from tests.gateway.rasa_double import RasaDouble, free_port

pytestmark = pytest.mark.asyncio

EVENTS = "/conversations/c1/tracker/events"
WEBHOOK = "/webhooks/gateway/webhook"


@pytest.fixture
def rasa() -> Iterator[RasaDouble]:
    double = RasaDouble().start()
    yield double
    double.stop()


@pytest.fixture
async def engine(rasa: RasaDouble) -> AsyncIterator[RasaDialogueEngine]:
    engine = RasaDialogueEngine(rasa.url, rasa.token, timeout_s=2.0)
    yield engine
    await engine.close()


async def test_a_turn_sets_the_language_slot_then_sends_the_message(
    rasa: RasaDouble, engine: RasaDialogueEngine
) -> None:
    replies = await engine.converse("c1", "namaste", Language.HI)

    assert rasa.paths() == [EVENTS, WEBHOOK]
    slot, turn = rasa.requests
    assert slot["json"] == {"event": "slot", "name": "language", "value": "hi"}
    assert slot["query"]["token"] == rasa.token
    assert turn["json"] == {"sender": "c1", "message": "namaste", "channel": "webchat"}
    assert replies == [OutboundMessage(text="hello")]


async def test_a_turn_names_the_residents_channel_for_rasa_to_pick_its_texts(
    rasa: RasaDouble, engine: RasaDialogueEngine
) -> None:
    await engine.converse("c1", "bill", Language.EN, Channel.SMS)

    assert rasa.requests[-1]["json"]["channel"] == "sms"


async def test_the_slot_is_set_again_only_when_the_language_changes(
    rasa: RasaDouble, engine: RasaDialogueEngine
) -> None:
    await engine.converse("c1", "hi", Language.EN)
    await engine.converse("c1", "bill", Language.EN)
    await engine.converse("c1", "बिल", Language.HI)

    assert rasa.paths() == [EVENTS, WEBHOOK, WEBHOOK, EVENTS, WEBHOOK]
    assert rasa.requests[3]["json"]["value"] == "hi"


async def test_after_a_restart_the_slot_is_set_once_more(rasa: RasaDouble) -> None:
    for _ in range(2):  # two processes, one after the other
        engine = RasaDialogueEngine(rasa.url, rasa.token, timeout_s=2.0)
        await engine.converse("c1", "hi", Language.EN)
        await engine.converse("c1", "hi", Language.EN)
        await engine.close()

    assert rasa.paths().count(EVENTS) == 2


async def test_the_remembered_languages_are_bounded(
    rasa: RasaDouble, engine: RasaDialogueEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rasa_client, "LANGUAGE_CACHE_SIZE", 2)
    for conversation in ("c1", "c2", "c3", "c1"):
        await engine.converse(conversation, "hi", Language.EN)

    slot_events = [r["path"] for r in rasa.requests if r["path"].endswith("/tracker/events")]
    assert slot_events == [
        EVENTS,
        "/conversations/c2/tracker/events",
        "/conversations/c3/tracker/events",
        EVENTS,
    ]


async def test_replies_keep_buttons_and_attachments(
    rasa: RasaDouble, engine: RasaDialogueEngine
) -> None:
    rasa.replies = [
        {
            "recipient_id": "c1",
            "text": "Which utility?",
            "buttons": [{"title": "Electricity", "payload": '/inform{"utility": "electricity"}'}],
        },
        {
            "recipient_id": "c1",
            "custom": {
                "text": "Your receipt",
                "attachment": {
                    "url": "http://x/r/RJB1.pdf?sig=1",
                    "filename": "receipt-RJB1.pdf",
                    "mime": "application/pdf",
                },
            },
        },
        {"recipient_id": "c1", "attachment": "http://x/files/tariff%202026.pdf"},
        {"recipient_id": "c1", "image": "http://x/img/qr.png"},
        {"recipient_id": "c1", "custom": {"unknown": True}},  # nothing a channel can show
    ]

    replies = await engine.converse("c1", "bill", Language.EN)

    assert replies == [
        OutboundMessage(
            text="Which utility?",
            buttons=(Button("Electricity", '/inform{"utility": "electricity"}'),),
        ),
        OutboundMessage(
            text="Your receipt",
            attachment=Attachment(
                "http://x/r/RJB1.pdf?sig=1", "receipt-RJB1.pdf", "application/pdf"
            ),
        ),
        OutboundMessage(
            text="",
            attachment=Attachment(
                "http://x/files/tariff%202026.pdf", "tariff 2026.pdf", "application/pdf"
            ),
        ),
        OutboundMessage(
            text="", attachment=Attachment("http://x/img/qr.png", "qr.png", "image/png")
        ),
    ]


async def test_a_rasa_error_is_dialogue_unavailable_without_the_token(
    rasa: RasaDouble, engine: RasaDialogueEngine
) -> None:
    rasa.webhook_status = 500
    with pytest.raises(DialogueUnavailable) as caught:
        await engine.converse("c1", "hi", Language.EN)
    assert "500" in str(caught.value)
    assert rasa.token not in str(caught.value)


async def test_the_message_key_travels_in_the_rest_channel_metadata(
    rasa: RasaDouble, engine: RasaDialogueEngine
) -> None:
    await engine.converse("c1", "hi", Language.EN, Channel.WHATSAPP, message_key="whatsapp:SM1")

    turn = rasa.requests[-1]
    assert turn["json"] == {
        "sender": "c1",
        "message": "hi",
        "channel": "whatsapp",
        "metadata": {"message_key": "whatsapp:SM1"},
    }


async def test_an_empty_answer_is_not_taken_for_a_finished_turn(
    rasa: RasaDouble, engine: RasaDialogueEngine
) -> None:
    """Rasa's stock REST channel answers 200 with no messages when a turn fails (its lock
    store or tracker store down): the message must stay to be answered again."""
    rasa.replies = []
    with pytest.raises(DialogueUnavailable, match="no messages"):
        await engine.converse("c1", "hi", Language.EN)


async def test_a_turn_rasa_could_not_complete_is_dialogue_unavailable(
    rasa: RasaDouble, engine: RasaDialogueEngine
) -> None:
    rasa.webhook_status = 503  # our REST channel's answer for a failed turn
    with pytest.raises(DialogueUnavailable, match="503"):
        await engine.converse("c1", "hi", Language.EN)


async def test_a_refused_slot_event_is_retried_on_the_next_turn(
    rasa: RasaDouble, engine: RasaDialogueEngine
) -> None:
    rasa.events_status = 500
    with pytest.raises(DialogueUnavailable):
        await engine.converse("c1", "hi", Language.EN)
    rasa.events_status = 200
    await engine.converse("c1", "hi", Language.EN)

    assert rasa.paths() == [EVENTS, EVENTS, WEBHOOK]


async def test_a_slow_rasa_times_out_as_dialogue_unavailable(rasa: RasaDouble) -> None:
    rasa.delay_s = 1.0
    engine = RasaDialogueEngine(rasa.url, rasa.token, timeout_s=0.2)
    try:
        with pytest.raises(DialogueUnavailable, match="timed out"):
            await engine.converse("c1", "hi", Language.EN)
    finally:
        await engine.close()


async def test_a_stopped_rasa_is_dialogue_unavailable() -> None:
    engine = RasaDialogueEngine(f"http://127.0.0.1:{free_port()}", "t", timeout_s=1.0)
    try:
        with pytest.raises(DialogueUnavailable, match="unreachable"):
            await engine.converse("c1", "hi", Language.EN)
        assert await engine.status() is False
    finally:
        await engine.close()


async def test_status_is_true_only_with_a_loaded_model(
    rasa: RasaDouble, engine: RasaDialogueEngine
) -> None:
    assert await engine.status() is True
    assert rasa.requests[-1]["query"]["token"] == rasa.token

    rasa.status_body = {"model_id": None, "model_file": None, "num_active_training_jobs": 0}
    assert await engine.status() is False


async def test_status_is_false_with_a_wrong_token(rasa: RasaDouble) -> None:
    engine = RasaDialogueEngine(rasa.url, "wrong-token", timeout_s=1.0)
    try:
        assert await engine.status() is False
    finally:
        await engine.close()


async def test_erasing_a_history_replaces_the_tracker_with_no_events(
    rasa: RasaDouble, engine: RasaDialogueEngine
) -> None:
    await engine.converse("c1", "hi", Language.HI)
    await engine.erase_history("c1")
    await engine.converse("c1", "hi", Language.HI)

    erase = rasa.requests[2]
    assert (erase["method"], erase["path"], erase["json"]) == ("PUT", EVENTS, [])
    assert erase["query"]["token"] == rasa.token
    # the fresh tracker has no language slot: it is set again before the next turn
    assert rasa.paths()[3:] == [EVENTS, WEBHOOK]
    assert rasa.requests[3]["method"] == "POST"


async def test_an_erasure_rasa_refuses_is_reported(
    rasa: RasaDouble, engine: RasaDialogueEngine
) -> None:
    rasa.events_status = 500
    with pytest.raises(DialogueUnavailable):
        await engine.erase_history("c1")


async def test_each_conversation_sticks_to_one_of_several_servers() -> None:
    first, second = RasaDouble().start(), RasaDouble().start()
    engine = RasaDialogueEngine([first.url, second.url], first.token, timeout_s=2.0)
    try:
        for conversation in ("a", "b", "c", "d", "e", "f"):
            for _ in range(3):
                await engine.converse(conversation, "hi", Language.EN)
        senders = [
            {r["json"]["sender"] for r in double.requests if r["path"] == WEBHOOK}
            for double in (first, second)
        ]
        assert senders[0] and senders[1]  # both servers get conversations
        assert not senders[0] & senders[1]  # but never the same one
    finally:
        await engine.close()
        first.stop()
        second.stop()


async def test_a_restarting_server_s_conversations_move_to_another_one() -> None:
    """A server refusing connections (restarting) never received the turn, so sending it to
    the next server cannot answer the resident twice."""
    alive = RasaDouble().start()
    restarting = f"http://127.0.0.1:{free_port()}"
    engine = RasaDialogueEngine([restarting, alive.url], alive.token, timeout_s=2.0)
    try:
        for conversation in ("a", "b", "c", "d"):
            assert await engine.converse(conversation, "hi", Language.EN) == [
                OutboundMessage(text="hello")
            ]
        assert len([r for r in alive.requests if r["path"] == WEBHOOK]) == 4
        assert await engine.status() is True  # one server with a model is enough to serve
    finally:
        await engine.close()
        alive.stop()


async def test_an_erasure_reaches_every_server_and_survives_one_being_down() -> None:
    first, second = RasaDouble().start(), RasaDouble().start()
    down = f"http://127.0.0.1:{free_port()}"
    engine = RasaDialogueEngine([first.url, down, second.url], first.token, timeout_s=2.0)
    try:
        await engine.erase_history("c1")
        for double in (first, second):
            assert [(r["method"], r["path"]) for r in double.requests] == [("PUT", EVENTS)]
    finally:
        await engine.close()
        first.stop()
        second.stop()
