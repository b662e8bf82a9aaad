"""Action server faults inside the Rasa server: down, 5xx or hanging, the resident gets the
"nothing was changed, try again" answer in their language instead of silence; a form's
rejection still reaches Rasa. A real HTTP action server double on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from integrations.rasa.engine import server_tuning
from tests.engine.conftest import free_port

pytestmark = pytest.mark.slow  # imports Rasa

UNAVAILABLE_EN = "Something went wrong on our side. Nothing was changed."
UNAVAILABLE_HI = "हमारी तरफ़ से कुछ गड़बड़ हुई।"


class ActionServerDouble:
    def __init__(self) -> None:
        self.status = 200
        self.body: dict[str, Any] = {"events": [], "responses": []}
        self.delay_s = 0.0
        self.calls = 0
        self.clients: set[tuple[str, int]] = set()  # one per TCP connection
        self.received: list[Any] = []  # each call's body, parsed
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps connections open, as Sanic does

            def do_POST(self) -> None:
                double.received.append(
                    json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                )
                double.calls += 1
                double.clients.add(self.client_address)
                time.sleep(double.delay_s)
                payload = json.dumps(double.body).encode()
                self.send_response(double.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def action_server() -> Iterator[ActionServerDouble]:
    double = ActionServerDouble()
    yield double
    double.server.shutdown()


def run_action(url: str, language: str = "en") -> list[Any]:
    import asyncio

    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    server_tuning.apply()
    domain = Domain.from_dict(
        {
            "slots": {"language": {"type": "text", "mappings": [{"type": "custom"}]}},
            "responses": {
                "utter_service_unavailable": [
                    {"text": UNAVAILABLE_EN + " Please try again in a few minutes."},
                    {
                        "condition": [{"type": "slot", "name": "language", "value": "hi"}],
                        "text": UNAVAILABLE_HI,
                    },
                ]
            },
            "actions": ["action_show_bill"],
        }
    )
    tracker = DialogueStateTracker.from_events(
        "faults", [SlotSet("language", language)], slots=domain.slots
    )
    endpoint = EndpointConfig(url=url)
    action = RemoteAction("action_show_bill", endpoint)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)

    async def run() -> list[Any]:
        try:
            return await action.run(CollectingOutputChannel(), nlg, tracker, domain)
        finally:
            await close_kept_session(endpoint)

    return asyncio.run(run())


async def close_kept_session(endpoint: Any) -> None:
    """The session server_tuning keeps open for the Rasa server's life; a test's ends here."""
    async with endpoint.session() as session:
        await session.close()


def texts(events: list[Any]) -> list[str]:
    return [event.text for event in events if hasattr(event, "text")]


def test_an_action_server_that_is_down_gets_a_try_again_answer() -> None:
    events = run_action(f"http://127.0.0.1:{free_port()}/webhook")
    assert len(texts(events)) == 1 and texts(events)[0].startswith(UNAVAILABLE_EN)


def test_the_answer_is_in_the_residents_language() -> None:
    events = run_action(f"http://127.0.0.1:{free_port()}/webhook", language="hi")
    assert texts(events) == [UNAVAILABLE_HI]


def test_an_action_server_error_gets_the_same_answer(action_server: ActionServerDouble) -> None:
    action_server.status = 500
    assert texts(run_action(action_server.url))[0].startswith(UNAVAILABLE_EN)
    assert action_server.calls == 1  # not retried: the action may have done its work


def test_a_hanging_action_server_times_out_with_the_same_answer(
    action_server: ActionServerDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rasa.core.actions.action as rasa_actions

    server_tuning.apply()
    assert rasa_actions.DEFAULT_REQUEST_TIMEOUT == server_tuning.ACTION_TIMEOUT_S
    monkeypatch.setattr(rasa_actions, "DEFAULT_REQUEST_TIMEOUT", 0.3)
    action_server.delay_s = 1.0
    started = time.monotonic()
    events = run_action(action_server.url)
    assert time.monotonic() - started < 1.0
    assert texts(events)[0].startswith(UNAVAILABLE_EN)


def test_a_working_action_server_is_untouched(action_server: ActionServerDouble) -> None:
    action_server.body = {"events": [], "responses": [{"text": "Your bill is ₹3,107.50"}]}
    assert texts(run_action(action_server.url)) == ["Your bill is ₹3,107.50"]


def test_calls_to_the_action_server_share_one_connection(
    action_server: ActionServerDouble,
) -> None:
    import asyncio

    from rasa.utils.endpoints import EndpointConfig

    server_tuning.apply()
    endpoint = EndpointConfig(url=action_server.url)

    async def three_calls() -> None:
        for _ in range(3):
            await endpoint.request(json={"next_action": "action_show_bill"}, method="post")
        await close_kept_session(endpoint)

    asyncio.run(three_calls())
    assert action_server.calls == 3 and len(action_server.clients) == 1


def test_a_forms_rejection_still_reaches_rasa(action_server: ActionServerDouble) -> None:
    from rasa.core.actions.action import ActionExecutionRejection

    action_server.status = 400
    action_server.body = {"action_name": "action_show_bill", "error": "not for me"}
    with pytest.raises(ActionExecutionRejection):
        run_action(action_server.url)


def test_only_form_validation_actions_are_sent_the_domain_and_only_what_they_read() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    server_tuning.apply()
    domain = Domain.from_dict(
        {
            "slots": {"sso_id": {"type": "text", "mappings": [{"type": "from_text"}]}},
            "forms": {"link_form": {"required_slots": ["sso_id"]}},
            "responses": {"utter_ask_sso_id": [{"text": "Your SSO ID?"}]},
            "actions": ["action_show_bill", {"action_needs_all": {"send_domain": True}}],
        }
    )
    tracker = DialogueStateTracker.from_events("domain", [])
    endpoint = EndpointConfig(url="http://127.0.0.1:1/webhook")

    def call(action: str) -> dict:
        return RemoteAction(action, endpoint)._action_call_format(tracker, domain)

    validate, other, flagged = (
        call("validate_link_form"),
        call("action_show_bill"),
        call("action_needs_all"),
    )
    assert validate["domain"]["forms"] == {"link_form": {"required_slots": ["sso_id"]}}
    assert set(validate["domain"]) == {"slots", "forms"}  # no responses: 70 KB of them
    assert validate["domain"]["slots"]["sso_id"]["mappings"] == [{"type": "from_text"}]
    assert "domain" not in other and other["tracker"]["sender_id"] == "domain"
    assert "utter_ask_sso_id" in flagged["domain"]["responses"]


def test_the_call_carries_what_the_stdlib_encoder_would_have_written(
    action_server: ActionServerDouble,
) -> None:
    """The call is written by ujson (server_tuning.action_call_json): the action server gets
    the same values, Hindi, floats and all, as from Rasa's own encoder."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    run_action(action_server.url, language="hi")
    (received,) = action_server.received
    assert received["next_action"] == "action_show_bill"
    assert received["tracker"]["slots"]["language"] == "hi"

    domain = Domain.from_dict({"slots": {"language": {"type": "text", "mappings": []}}})
    said = UserUttered(
        'मेरा बिल / my bill \\ "quoted" 😀',
        {"name": "check_bill", "confidence": 0.987654321},
        [{"entity": "amount", "value": 1234.5, "start": 0, "end": 4}],
    )
    tracker = DialogueStateTracker.from_events(
        "json", [SlotSet("language", "hi"), said], slots=domain.slots
    )
    call = RemoteAction("action_show_bill", None)._action_call_format(tracker, domain)
    assert json.loads(server_tuning.action_call_json(call)) == json.loads(json.dumps(call))
